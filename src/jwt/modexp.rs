//! The RSA public-key operation (RSAVP1, RFC 8017 §5.2.2): `s^e mod n` by left-to-right
//! square-and-multiply on the [`montgomery`](super::montgomery) kernels.
//!
//! `rsa`'s own exponentiation is constant-time in the exponent (a 16-entry window table, about
//! 35 modular multiplications for e = 65537). Every input of a *verification* is public — the
//! key, the signature and the message — so nothing is gained by hiding the exponent, and a
//! plain bit loop needs 16 squarings and 1 multiplication for e = 65537. Any other odd
//! exponent runs through the same loop over its bits.
//!
//! The signature never enters Montgomery form. Started on `s` itself, the loop yields
//! `s^e·R^-(e-1)` (each squaring and each multiplication by `s` divides by `R` once), and one
//! multiplication by `R^e mod n`, computed when the key is built, gives `s^e mod n`: one
//! multiplication where a conversion in and out would cost one and a half.
//!
//! The moduli of 2048, 3072 and 4096 bits get a copy of the loop compiled for their limb
//! count, on stack arrays; every other size runs the same code on heap buffers.

use super::montgomery::{self, less_than, neg_inverse};

/// A modulus and exponent prepared for RSAVP1: everything that depends only on the key.
#[derive(Clone)]
pub(crate) struct PublicOperation {
    /// The modulus, little-endian `u64` limbs; the top limb is not zero.
    n: Box<[u64]>,
    /// The same limbs in reverse order: the kernels read one operand of each column's
    /// products backwards, and read it forwards this way.
    n_rev: Box<[u64]>,
    /// `-n⁻¹ mod 2^64`.
    n0_inv: u64,
    exponent: u64,
    /// `R^e mod n` with `R = 2^(64·limbs)`, limbs in reverse order: undoes the `R^-(e-1)`
    /// the loop leaves, and the `R⁻¹` of the multiplication that applies it.
    correction_rev: Box<[u64]>,
    /// The modulus length in octets (`k` in RFC 8017).
    len: usize,
}

impl PublicOperation {
    /// Prepares big-endian modulus `n` (no leading zero byte) and `exponent ≥ 1`. `None` when
    /// `n` is even, empty or has a leading zero byte, or the exponent is 0: a key policy has
    /// refused all of these already.
    pub(crate) fn new(n: &[u8], exponent: u64) -> Option<Self> {
        if n.first().is_none_or(|&top| top == 0) || n.last().is_some_and(|&low| low & 1 == 0) {
            return None;
        }
        if exponent == 0 || n == [1] {
            return None;
        }
        let len = n.len();
        let limbs = to_limbs(n, len.div_ceil(8))?;
        let mut op = PublicOperation {
            n0_inv: neg_inverse(limbs[0]),
            n_rev: limbs.iter().rev().copied().collect(),
            n: limbs,
            exponent,
            correction_rev: Box::default(),
            len,
        };
        op.correction_rev = op.r_to_the_exponent().iter().rev().copied().collect();
        Some(op)
    }

    /// `s^exponent mod n` for the big-endian signature `signature`, as exactly `len` big-endian
    /// bytes.
    ///
    /// `None` when the signature is not exactly `len` bytes long or its value is not below the
    /// modulus (RFC 8017 §8.2.2 steps 1 and 2.b): such a signature is refused, never reduced.
    pub(crate) fn rsavp1(&self, signature: &[u8]) -> Option<Vec<u8>> {
        if signature.len() != self.len {
            return None;
        }
        let s = to_limbs(signature, self.n.len())?;
        if !less_than(&s, &self.n) {
            return None;
        }
        let mut out = vec![0u64; self.n.len()];
        match self.n.len() {
            32 => self.power_fixed::<32>(&s, &self.correction_rev, &mut out),
            48 => self.power_fixed::<48>(&s, &self.correction_rev, &mut out),
            64 => self.power_fixed::<64>(&s, &self.correction_rev, &mut out),
            _ => self.power_any(&s, &self.correction_rev, &mut out),
        }
        Some(to_bytes(&out, self.len))
    }

    /// `R^e mod n`. Run on `R² mod n`, the loop gives `R^(2e)·R^-(e-1) = R^(e+1)`, and a
    /// multiplication by 1 divides by `R` once more.
    fn r_to_the_exponent(&self) -> Box<[u64]> {
        let mut one_rev = vec![0u64; self.n.len()];
        one_rev[self.n.len() - 1] = 1;
        let mut out = vec![0u64; self.n.len()];
        self.power_any(&self.r_squared(), &one_rev, &mut out);
        out.into_boxed_slice()
    }

    /// `R² mod n`. `R mod n` comes from `2^(bits-1)` (below `n`) by doubling; then `2^t·R` by
    /// `t` more doublings, where `64·limbs = t·2^j`, and `j` Montgomery squarings, each
    /// doubling the power of two: `(2^t·R)²·R⁻¹ = 2^(2t)·R`, up to `2^(64·limbs)·R = R²`.
    fn r_squared(&self) -> Vec<u64> {
        let limbs = self.n.len();
        let total = 64 * limbs;
        let top = self.n[limbs - 1];
        let bits = 64 * (limbs - 1) + (64 - top.leading_zeros() as usize);
        let mut x = vec![0u64; limbs];
        x[(bits - 1) / 64] = 1 << ((bits - 1) % 64);
        let squarings = total.trailing_zeros();
        let t = total >> squarings;
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
    fn power_fixed<const N: usize>(&self, s: &[u64], correction_rev: &[u64], out: &mut [u64]) {
        // Invariant: called only when the modulus has exactly N limbs, as `s`, `correction`
        // and `out` do (all are built with the modulus's limb count).
        let as_array = |limbs: &[u64]| -> [u64; N] {
            limbs
                .try_into()
                .unwrap_or_else(|_| unreachable!("operands have the modulus's limb count"))
        };
        let (n, n_rev) = (as_array(&self.n), as_array(&self.n_rev));
        let (s, correction_rev) = (as_array(s), as_array(correction_rev));
        let mut buffers = [[0u64; N]; 4];
        let [x, y, s_rev, scratch] = &mut buffers;
        let modulus = Modulus {
            n: &n,
            n_rev: &n_rev,
            n0_inv: self.n0_inv,
        };
        power(
            x,
            y,
            s_rev,
            scratch,
            &s,
            &correction_rev,
            &modulus,
            self.exponent,
        );
        out.copy_from_slice(x);
    }

    /// [`power`] on heap buffers, for any limb count.
    fn power_any(&self, s: &[u64], correction_rev: &[u64], out: &mut [u64]) {
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
            correction_rev,
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

/// `x = s^exponent·R^-(exponent-1)·correction·R⁻¹ mod n`, using `y`, `s_rev` and `scratch` as
/// scratch space; all slices have the modulus's length.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // buffers the callers place on the stack or the heap
fn power(
    x: &mut [u64],
    y: &mut [u64],
    s_rev: &mut [u64],
    scratch: &mut [u64],
    s: &[u64],
    correction_rev: &[u64],
    modulus: &Modulus<'_>,
    exponent: u64,
) {
    let Modulus { n, n_rev, n0_inv } = *modulus;
    for (r, &limb) in s_rev.iter_mut().zip(s.iter().rev()) {
        *r = limb;
    }
    let (mut x, mut y) = (x, y);
    // The result alternates between the two buffers; `swapped` says where it ended.
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
    montgomery::mul(y, x, correction_rev, n, n_rev, n0_inv);
    if !swapped {
        // `y` is the caller's `y`: the result goes back into the caller's `x`.
        x.copy_from_slice(y);
    }
}

/// Big-endian bytes as `limbs` little-endian `u64` limbs; `None` when they do not fit.
fn to_limbs(bytes: &[u8], limbs: usize) -> Option<Box<[u64]>> {
    if bytes.len() > 8 * limbs {
        return None;
    }
    let mut out = vec![0u64; limbs];
    for (limb, chunk) in out.iter_mut().zip(bytes.rchunks(8)) {
        *limb = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    }
    Some(out.into_boxed_slice())
}

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

    fn rsavp1(n: &[u8], exponent: u64, signature: &[u8]) -> Option<Vec<u8>> {
        PublicOperation::new(n, exponent).unwrap().rsavp1(signature)
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
            let op = PublicOperation::new(n, exponent).unwrap();
            for s in [&random, &n_minus_one, &small(0), &small(1), &small(2)] {
                assert_eq!(
                    op.rsavp1(s),
                    Some(reference(n, exponent, s)),
                    "{len}-byte n {:02x?}…, e {exponent}",
                    &n[..4]
                );
            }
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
        for len in [1, 2, 7, 8, 9, 16, 17, 24, 31, 33] {
            for _ in 0..4 {
                let mut n = modulus(&mut rng, len);
                if n == [0x81] {
                    n[0] = 0x83;
                }
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
        assert!(PublicOperation::new(&[], 65_537).is_none());
        assert!(PublicOperation::new(&[1], 65_537).is_none());
        assert!(PublicOperation::new(&[0, 0x83], 65_537).is_none());
        assert!(PublicOperation::new(&[0x82], 65_537).is_none());
        assert!(PublicOperation::new(&[0x83], 0).is_none());
    }
}
