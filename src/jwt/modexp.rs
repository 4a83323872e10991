//! The RSA public-key operation (RSAVP1, RFC 8017 §5.2.2) and the comparison of its result
//! with the expected encoding: `s^e mod n` by left-to-right square-and-multiply on the
//! [`montgomery`](super::montgomery) kernels.
//!
//! `rsa`'s own exponentiation is constant-time in the exponent (a 16-entry window table, about
//! 35 modular multiplications for e = 65537). Every input of a *verification* is public — the
//! key, the signature and the message — so nothing is gained by hiding the exponent, and a
//! plain bit loop needs 16 squarings and 1 multiplication for e = 65537. Any other odd
//! exponent runs through the same loop over its bits.
//!
//! The signature never enters Montgomery form, and the result never leaves it. Started on
//! `s` itself, the loop yields `z = s^e·R^-(e-1) mod n` (each squaring and each
//! multiplication by `s` divides by `R` once). Rather than multiply `z` by `R^e` to get
//! `s^e` (a full Montgomery multiplication), the check scales the *expected* encoding
//! instead: `s^e ≡ EM` exactly when `z ≡ EM·K` with `K = R^-(e-1) mod n`. `EM` is a prefix
//! fixed by the key followed by the 32-byte digest, so `EM·K ≡ P + Σ h_t·K_t` with
//! `P = prefix·2^256·K` and `K_t = 2^(64t)·K` computed once per key, and the four digest
//! limbs `h_t`: 4 rows of limb products where the multiplication would take a square of
//! them. Both sides are equal mod `n` exactly when their difference is `q·n` for the `q` its
//! two low limbs determine ([`PublicOperation::is_image`]).
//!
//! The moduli of 2048, 3072 and 4096 bits get a copy of the loop compiled for their limb
//! count, on stack arrays; every other size runs the same code on heap buffers.

use super::montgomery::{self, less_than, neg_inverse, Column};

/// The length in bytes of the part of an expected image that varies (a SHA-256 digest).
pub(crate) const SUFFIX_LEN: usize = 32;
const SUFFIX_LIMBS: usize = SUFFIX_LEN / 8;

/// A modulus and exponent prepared for RSAVP1, with the expected images' fixed prefix:
/// everything that depends only on the key.
#[derive(Clone)]
pub(crate) struct PublicOperation {
    /// The modulus, little-endian `u64` limbs; the top limb is not zero.
    n: Box<[u64]>,
    /// The same limbs in reverse order: the kernels read one operand of each column's
    /// products backwards, and read it forwards this way.
    n_rev: Box<[u64]>,
    /// `-n⁻¹ mod 2^64`.
    n0_inv: u64,
    /// `n⁻¹ mod 2^128`.
    n_inv_128: u128,
    exponent: u64,
    /// `prefix·2^256·K mod n`, with `K = R^-(e-1) mod n` and `R = 2^(64·limbs)`.
    prefix_image: Box<[u64]>,
    /// `2^(64t)·K mod n` for `t` in `0..4`: the weight of each limb of the suffix.
    suffix_weights: [Box<[u64]>; SUFFIX_LIMBS],
    /// The modulus length in octets (`k` in RFC 8017).
    len: usize,
}

impl PublicOperation {
    /// Prepares big-endian modulus `n` (no leading zero byte) and `exponent ≥ 1` for checking
    /// images of the form `prefix ‖ suffix`, with `prefix` of `n.len() - 32` bytes whose value
    /// (followed by 32 zero bytes) is below `n` — any prefix starting with a zero byte is.
    /// `None` when `n` is even, empty, 1 or has a leading zero byte, the exponent is 0, or
    /// the prefix does not fit: a key policy has refused all of these keys already.
    pub(crate) fn new(n: &[u8], exponent: u64, prefix: &[u8]) -> Option<Self> {
        if n.first().is_none_or(|&top| top == 0) || n.last().is_some_and(|&low| low & 1 == 0) {
            return None;
        }
        if exponent == 0 || n == [1] || prefix.len() + SUFFIX_LEN != n.len() {
            return None;
        }
        let len = n.len();
        let limbs = to_limbs(n, len.div_ceil(8))?;
        let n_inv = neg_inverse(limbs[0]).wrapping_neg();
        let n_low = u128::from(limbs[0]) | limbs.get(1).map_or(0, |&l| u128::from(l) << 64);
        // One Newton step doubles the correct low bits of an inverse, 64 to 128.
        let n_inv = u128::from(n_inv);
        let n_inv_128 = n_inv.wrapping_mul(2u128.wrapping_sub(n_low.wrapping_mul(n_inv)));
        let mut op = PublicOperation {
            n0_inv: neg_inverse(limbs[0]),
            n_inv_128,
            n_rev: limbs.iter().rev().copied().collect(),
            n: limbs,
            exponent,
            prefix_image: Box::default(),
            suffix_weights: Default::default(),
            len,
        };
        // K: the loop run on 1 leaves 1^e·R^-(e-1).
        let mut one = vec![0u64; op.n.len()];
        one[0] = 1;
        let k = op.power(&one);
        let mut weight = k.clone();
        for t in 0..SUFFIX_LIMBS {
            if t > 0 {
                for _ in 0..64 {
                    op.double(&mut weight);
                }
            }
            op.suffix_weights[t] = weight.clone().into_boxed_slice();
        }
        let mut unscaled = prefix.to_vec();
        unscaled.resize(len, 0);
        let unscaled = to_limbs(&unscaled, op.n.len())?;
        if !less_than(&unscaled, &op.n) {
            return None;
        }
        // (prefix·2^256·K·R⁻¹)·R²·R⁻¹ = prefix·2^256·K.
        let scaled = op.mul(&unscaled, &k);
        op.prefix_image = op.mul(&scaled, &op.r_squared()).into_boxed_slice();
        Some(op)
    }

    /// Whether `signature^e mod n` is `prefix ‖ suffix` (RFC 8017 §8.2.2 steps 2 and 4, the
    /// comparison done on the scaled values described in the module documentation).
    ///
    /// `false` as well when the signature is not exactly as long as the modulus or its value
    /// is not below it (steps 1 and 2.b): such a signature is refused, never reduced.
    pub(crate) fn is_image(&self, signature: &[u8], suffix: &[u8; SUFFIX_LEN]) -> bool {
        let Some(z) = self.reduced_power(signature) else {
            return false;
        };
        let mut h = [0u64; SUFFIX_LIMBS];
        for (limb, chunk) in h.iter_mut().zip(suffix.rchunks(8)) {
            *limb = be_word(chunk);
        }
        // v = prefix_image + Σ h_t·weight_t < n·(1 + 4·2^64), summed a column of limb
        // products at a time, as the Montgomery kernels do; nothing is stored.
        let v_column = |acc: &mut Column, k: usize| {
            acc.add_word(self.prefix_image[k]);
            for (&h_t, weight) in h.iter().zip(&self.suffix_weights) {
                acc.add_product(h_t, weight[k]);
            }
        };
        // v ≡ z (mod n) with 0 <= z < n: exactly when v = z + q·n for some q < 2^128
        // (v < 2^67·n); such a q is (v - z)·n⁻¹ mod 2^128, found from the two low limbs.
        let mut low = Column::ZERO;
        v_column(&mut low, 0);
        let v0 = low.shift();
        v_column(&mut low, 1);
        let v_low = u128::from(v0) | (u128::from(low.shift()) << 64);
        let z_low = u128::from(z[0]) | (u128::from(z[1]) << 64);
        let q = v_low.wrapping_sub(z_low).wrapping_mul(self.n_inv_128);
        let (q0, q1) = (q as u64, (q >> 64) as u64);
        // Both sides a limb at a time: equal when every limb is, and what is left above the
        // modulus's length.
        let (mut v, mut rhs) = (Column::ZERO, Column::ZERO);
        let mut n_below = 0; // n[k - 1]
        for (k, (&z_k, &n_k)) in z.iter().zip(self.n.iter()).enumerate() {
            v_column(&mut v, k);
            rhs.add_word(z_k);
            rhs.add_product(q0, n_k);
            rhs.add_product(q1, n_below);
            n_below = n_k;
            if v.shift() != rhs.shift() {
                return false;
            }
        }
        rhs.add_product(q1, n_below);
        v == rhs
    }

    /// `s^exponent mod n` for the big-endian signature `signature`, as exactly `len` big-endian
    /// bytes; `None` as for [`is_image`](Self::is_image). The verifier never computes it (it
    /// compares scaled values instead); the tests and the fuzz target check it against `rsa`.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn rsavp1(&self, signature: &[u8]) -> Option<Vec<u8>> {
        let z = self.reduced_power(signature)?;
        // z·R^(e+1)·R⁻¹ = s^e·R, where the loop run on R² leaves R^(2e)·R^-(e-1) = R^(e+1);
        // a multiplication by 1 divides by R once more.
        let r_e_plus_1 = self.power(&self.r_squared());
        let mut one = vec![0u64; self.n.len()];
        one[0] = 1;
        let image = self.mul(&self.mul(&z, &r_e_plus_1), &one);
        Some(to_bytes(&image, self.len))
    }

    /// `z = s^e·R^-(e-1) mod n` for the signature's value `s`; `None` when the signature is
    /// not `len` bytes long or not below `n`.
    fn reduced_power(&self, signature: &[u8]) -> Option<Vec<u64>> {
        if signature.len() != self.len {
            return None;
        }
        let s = to_limbs(signature, self.n.len())?;
        if !less_than(&s, &self.n) {
            return None;
        }
        Some(self.power(&s))
    }

    /// The loop of [`power`] on `s < n`, on the copy compiled for the modulus's size.
    fn power(&self, s: &[u64]) -> Vec<u64> {
        let mut out = vec![0u64; self.n.len()];
        match self.n.len() {
            32 => self.power_fixed::<32>(s, &mut out),
            48 => self.power_fixed::<48>(s, &mut out),
            64 => self.power_fixed::<64>(s, &mut out),
            _ => self.power_any(s, &mut out),
        }
        out
    }

    /// `a·b·R⁻¹ mod n` for `a, b < n` (outside the verification loop).
    fn mul(&self, a: &[u64], b: &[u64]) -> Vec<u64> {
        let b_rev: Vec<u64> = b.iter().rev().copied().collect();
        let mut out = vec![0u64; self.n.len()];
        montgomery::mul(&mut out, a, &b_rev, &self.n, &self.n_rev, self.n0_inv);
        out
    }

    /// `R² mod n`. `R mod n` comes from `2^(bits-1)` (below `n`) by doubling; then `2^t·R` by
    /// `t` more doublings, where `64·limbs = t·2^j`, and `j` Montgomery squarings, each
    /// doubling the power of two: `(2^t·R)²·R⁻¹ = 2^(2t)·R`, up to `2^(64·limbs)·R = R²`.
    /// A doubling costs a few dozen limb operations, a squaring a thousand limb products:
    /// `t` is kept at 64 or more, so at most a handful of squarings run.
    fn r_squared(&self) -> Vec<u64> {
        let limbs = self.n.len();
        let total = 64 * limbs;
        let top = self.n[limbs - 1];
        let bits = 64 * (limbs - 1) + (64 - top.leading_zeros() as usize);
        let mut x = vec![0u64; limbs];
        x[(bits - 1) / 64] = 1 << ((bits - 1) % 64);
        let (mut squarings, mut t) = (total.trailing_zeros(), total >> total.trailing_zeros());
        while t < 64 && squarings > 0 {
            squarings -= 1;
            t <<= 1;
        }
        for _ in 0..(total - (bits - 1)) + t {
            self.double(&mut x);
        }
        let (mut y, mut scratch) = (vec![0u64; limbs], vec![0u64; limbs]);
        for _ in 0..squarings {
            montgomery::square(&mut y, &x, &mut scratch, &self.n, &self.n_rev, self.n0_inv);
            std::mem::swap(&mut x, &mut y);
        }
        x
    }

    /// `x = 2x mod n`, for `x < n`.
    fn double(&self, x: &mut [u64]) {
        let mut carry = 0;
        for limb in x.iter_mut() {
            let next = *limb >> 63;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if carry != 0 || !less_than(x, &self.n) {
            let mut borrow = false;
            for (limb, &nk) in x.iter_mut().zip(self.n.iter()) {
                let (d, b1) = limb.overflowing_sub(nk);
                let (d, b2) = d.overflowing_sub(u64::from(borrow));
                *limb = d;
                borrow = b1 | b2;
            }
        }
    }

    /// [`power`] on stack arrays of the modulus's limb count, `N`.
    fn power_fixed<const N: usize>(&self, s: &[u64], out: &mut [u64]) {
        // Invariant: called only when the modulus has exactly N limbs, as `s` and `out` do
        // (both are built with the modulus's limb count).
        let as_array = |limbs: &[u64]| -> [u64; N] {
            limbs
                .try_into()
                .unwrap_or_else(|_| unreachable!("operands have the modulus's limb count"))
        };
        let (n, n_rev, s) = (as_array(&self.n), as_array(&self.n_rev), as_array(s));
        let mut buffers = [[0u64; N]; 4];
        let [x, y, s_rev, scratch] = &mut buffers;
        let modulus = Modulus {
            n: &n,
            n_rev: &n_rev,
            n0_inv: self.n0_inv,
        };
        power(x, y, s_rev, scratch, &s, &modulus, self.exponent);
        out.copy_from_slice(x);
    }

    /// [`power`] on heap buffers, for any limb count.
    fn power_any(&self, s: &[u64], out: &mut [u64]) {
        let limbs = self.n.len();
        let (mut y, mut s_rev, mut scratch) = (vec![0; limbs], vec![0; limbs], vec![0; limbs]);
        let modulus = Modulus {
            n: &self.n,
            n_rev: &self.n_rev,
            n0_inv: self.n0_inv,
        };
        power(
            out,
            &mut y,
            &mut s_rev,
            &mut scratch,
            s,
            &modulus,
            self.exponent,
        );
    }
}

/// The modulus as the kernels take it.
struct Modulus<'a> {
    n: &'a [u64],
    n_rev: &'a [u64],
    n0_inv: u64,
}

/// `x = s^exponent·R^-(exponent-1) mod n`, using `y`, `s_rev` and `scratch` as scratch
/// space; all slices have the modulus's length.
#[inline(always)]
fn power(
    x: &mut [u64],
    y: &mut [u64],
    s_rev: &mut [u64],
    scratch: &mut [u64],
    s: &[u64],
    modulus: &Modulus<'_>,
    exponent: u64,
) {
    let Modulus { n, n_rev, n0_inv } = *modulus;
    for (r, &limb) in s_rev.iter_mut().zip(s.iter().rev()) {
        *r = limb;
    }
    let (mut x, mut y) = (x, y);
    // The result alternates between the two buffers; `swapped` says where it is.
    let mut swapped = false;
    x.copy_from_slice(s);
    // The top bit is `x` itself; each lower bit costs a squaring, and a set bit one more
    // multiplication.
    let top = u64::BITS - 1 - exponent.leading_zeros();
    for bit in (0..top).rev() {
        montgomery::square(y, x, scratch, n, n_rev, n0_inv);
        std::mem::swap(&mut x, &mut y);
        swapped = !swapped;
        if (exponent >> bit) & 1 == 1 {
            montgomery::mul(y, x, s_rev, n, n_rev, n0_inv);
            std::mem::swap(&mut x, &mut y);
            swapped = !swapped;
        }
    }
    if swapped {
        // `x` is the caller's `y`: the result goes back into the caller's `x`.
        y.copy_from_slice(x);
    }
}

/// Big-endian bytes as `limbs` little-endian `u64` limbs; `None` when they do not fit.
fn to_limbs(bytes: &[u8], limbs: usize) -> Option<Box<[u64]>> {
    if bytes.len() > 8 * limbs {
        return None;
    }
    let mut out = vec![0u64; limbs];
    for (limb, chunk) in out.iter_mut().zip(bytes.rchunks(8)) {
        *limb = be_word(chunk);
    }
    Some(out.into_boxed_slice())
}

/// The value of up to 8 big-endian bytes; whole words take one load and a byte swap.
fn be_word(bytes: &[u8]) -> u64 {
    match <[u8; 8]>::try_from(bytes) {
        Ok(word) => u64::from_be_bytes(word),
        Err(_) => bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    }
}

#[cfg(any(test, fuzzing))]
/// Little-endian limbs as exactly `len` big-endian bytes; the value must fit in `len` bytes
/// (a result below the modulus always does), the zero bytes above are dropped.
fn to_bytes(limbs: &[u64], len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = limbs.iter().rev().flat_map(|l| l.to_be_bytes()).collect();
    bytes.drain(..bytes.len() - len);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
    use crypto_bigint::{BoxedUint, Odd};

    use crate::test_rng::XorShift;

    /// A random odd modulus of exactly `len` bytes with its top bit set.
    fn modulus(rng: &mut XorShift, len: usize) -> Vec<u8> {
        let mut n = rng.bytes(len);
        n[0] |= 0x80;
        n[len - 1] |= 1;
        n
    }

    /// The same value through crypto-bigint's general (windowed) exponentiation, which is
    /// what `rsa` itself runs.
    fn reference(n: &[u8], exponent: u64, signature: &[u8]) -> Vec<u8> {
        let n = BoxedUint::from_be_slice_vartime(n);
        let params = BoxedMontyParams::new(Odd::new(n).into_option().unwrap());
        let s = BoxedUint::from_be_slice(signature, params.bits_precision()).unwrap();
        let e = BoxedUint::from(exponent);
        let out = BoxedMontyForm::new(s, &params)
            .pow_bounded_exp(&e, 64)
            .retrieve()
            .to_be_bytes();
        out[out.len() - signature.len()..].to_vec()
    }

    /// An operation whose expected prefix is all zero bytes (any prefix below `n` does).
    fn operation(n: &[u8], exponent: u64) -> PublicOperation {
        PublicOperation::new(n, exponent, &vec![0; n.len() - SUFFIX_LEN]).unwrap()
    }

    fn rsavp1(n: &[u8], exponent: u64, signature: &[u8]) -> Option<Vec<u8>> {
        operation(n, exponent).rsavp1(signature)
    }

    /// Random signatures below `n` and the edge values 0, 1, 2, n - 1, checked against the
    /// reference for each exponent.
    fn check_against_reference(rng: &mut XorShift, n: &[u8], exponents: &[u64]) {
        let len = n.len();
        let mut n_minus_one = n.to_vec();
        n_minus_one[len - 1] -= 1; // n is odd
        let small = |v: u8| {
            let mut s = vec![0u8; len];
            s[len - 1] = v;
            s
        };
        let mut random = rng.bytes(len);
        random[0] %= n[0]; // below n
        for &exponent in exponents {
            let op = operation(n, exponent);
            for s in [&random, &n_minus_one, &small(0), &small(1), &small(2)] {
                let image = reference(n, exponent, s);
                assert_eq!(
                    op.rsavp1(s).as_ref(),
                    Some(&image),
                    "{len}-byte n {:02x?}…, e {exponent}",
                    &n[..4]
                );
                assert_image_check(n, exponent, s, &image);
            }
        }
    }

    /// `is_image` accepts `image` split as prefix and suffix, and refuses it with one bit of
    /// either flipped, or for a neighbouring signature.
    fn assert_image_check(n: &[u8], exponent: u64, s: &[u8], image: &[u8]) {
        let len = n.len();
        let (prefix, suffix) = image.split_at(len - SUFFIX_LEN);
        let suffix: [u8; SUFFIX_LEN] = suffix.try_into().unwrap();
        let op = PublicOperation::new(n, exponent, prefix).unwrap();
        assert!(op.is_image(s, &suffix), "{len}-byte n, e {exponent}");
        for bit in [0, 7, 100, 255] {
            let mut other = suffix;
            other[bit / 8] ^= 1 << (bit % 8);
            assert!(!op.is_image(s, &other), "suffix bit {bit}");
        }
        for at in [prefix.len() - 1, prefix.len() / 2, 0] {
            let mut other = prefix.to_vec();
            other[at] ^= 1;
            if let Some(op) = PublicOperation::new(n, exponent, &other) {
                assert!(!op.is_image(s, &suffix), "prefix byte {at}");
            }
        }
        let mut neighbour = s.to_vec();
        neighbour[len - 1] ^= 1;
        if exponent > 1 && reference(n, exponent, &neighbour) != image {
            assert!(!op.is_image(&neighbour, &suffix), "neighbouring signature");
        }
    }

    #[test]
    fn square_and_multiply_matches_the_windowed_exponentiation() {
        let mut rng = XorShift(0x5eed_2048_0001);
        // 2048, 3072 and 4096 bits run the fixed-size copies, the rest the general one.
        for len in [256, 384, 512, 257, 264, 300, 1024] {
            let n = modulus(&mut rng, len);
            check_against_reference(&mut rng, &n, &[65_537, 3, 17, 0xffff_ffff, 0x8000_0001, 1]);
        }
    }

    #[test]
    fn moduli_at_limb_count_boundaries_match_the_reference() {
        let mut rng = XorShift(0x5eed_0b0d);
        let ones = |len: usize| vec![0xffu8; len];
        let mut cases = vec![ones(256), ones(384), ones(512), ones(1024)];
        // 2^2048 + 1 and a random 2049-bit one: 33 limbs whose top limb is 1.
        let mut top_limb_one = vec![0u8; 257];
        top_limb_one[0] = 1;
        top_limb_one[256] = 1;
        cases.push(top_limb_one.clone());
        let mut random_top_one = modulus(&mut rng, 257);
        random_top_one[0] = 1;
        cases.push(random_top_one);
        // The smallest 2048-bit odd modulus, 2^2047 + 1, and one just below 2^2048.
        let mut smallest = vec![0u8; 256];
        smallest[0] = 0x80;
        smallest[255] = 1;
        cases.push(smallest);
        let mut below = ones(256);
        below[255] = 0xfd;
        below[200] = 0xfe;
        cases.push(below);
        // A full top limb over a nearly empty rest, and 8 bits over 32 full limbs.
        let mut sparse = vec![0u8; 256];
        sparse[..8].fill(0xff);
        sparse[255] = 0x01;
        cases.push(sparse);
        let mut one_byte_more = ones(257);
        one_byte_more[0] = 0x80;
        cases.push(one_byte_more);
        for n in &cases {
            check_against_reference(&mut rng, n, &[65_537, 3]);
        }
    }

    #[test]
    fn small_moduli_match_the_reference() {
        let mut rng = XorShift(0x5eed_0005);
        // The smallest moduli with room for a 32-byte suffix below a prefix.
        for len in [33, 40, 41, 48, 49, 64, 65] {
            for _ in 0..4 {
                let n = modulus(&mut rng, len);
                check_against_reference(&mut rng, &n, &[65_537, 3, 5, 1]);
            }
        }
    }

    #[test]
    fn small_signature_values_are_exact() {
        let mut rng = XorShift(7);
        let n = modulus(&mut rng, 256);
        let mut two = vec![0u8; 256];
        two[255] = 2;
        let mut expected = vec![0u8; 256];
        expected[255 - 2] = 2; // 2^17 = 0x02_00_00
        assert_eq!(rsavp1(&n, 17, &two), Some(expected));
        let zero = vec![0u8; 256];
        assert_eq!(rsavp1(&n, 65_537, &zero), Some(zero.clone()));
    }

    #[test]
    fn refuses_a_signature_not_below_the_modulus() {
        let mut rng = XorShift(11);
        let mut n = modulus(&mut rng, 256);
        n[255] &= 0xfd; // still odd, and room to add 2 without a carry
        assert_eq!(rsavp1(&n, 65_537, &n), None);
        let mut above = n.clone();
        above[255] += 2;
        assert_eq!(rsavp1(&n, 65_537, &above), None);
        assert_eq!(rsavp1(&n, 65_537, &[0xff; 256]), None);
        let mut below = n.clone();
        below[255] -= 1;
        assert!(rsavp1(&n, 65_537, &below).is_some());
    }

    #[test]
    fn refuses_a_signature_of_another_length() {
        let mut rng = XorShift(13);
        let n = modulus(&mut rng, 256);
        let s = vec![1u8; 255];
        assert_eq!(rsavp1(&n, 65_537, &s), None);
        let mut long = vec![0u8; 257];
        long[256] = 1;
        assert_eq!(rsavp1(&n, 65_537, &long), None);
    }

    #[test]
    fn refuses_to_prepare_what_no_policy_accepts() {
        let prefix = [0u8; 224];
        let n = modulus(&mut XorShift(17), 256);
        assert!(PublicOperation::new(&n, 65_537, &prefix).is_some());
        assert!(PublicOperation::new(&[], 65_537, &[]).is_none());
        assert!(PublicOperation::new(&[1], 65_537, &[]).is_none());
        let mut leading_zero = n.clone();
        leading_zero[0] = 0;
        assert!(PublicOperation::new(&leading_zero, 65_537, &prefix).is_none());
        let mut even = n.clone();
        even[255] &= 0xfe;
        assert!(PublicOperation::new(&even, 65_537, &prefix).is_none());
        assert!(PublicOperation::new(&n, 0, &prefix).is_none());
        assert!(PublicOperation::new(&n, 65_537, &prefix[1..]).is_none());
        // A prefix whose value is not below n.
        assert!(PublicOperation::new(&n, 65_537, &[0xff; 224]).is_none());
    }
}
