//! Montgomery multiplication and squaring over little-endian `u64` limbs, for the RSA
//! public-key step.
//!
//! Both run in product-scanning order (Koç's FIPS): each output column sums every limb
//! product that lands in it, the multiplication's and the reduction's together, into a
//! three-word accumulator, so no partial product is ever written back to memory and the
//! carries form short chains the processor overlaps. Squaring computes each off-diagonal
//! product once and doubles it: `N(N+1)/2` products where a multiplication needs `N²`, on top
//! of the `N²` of the reduction.
//!
//! Nothing here is constant-time: the final subtraction happens only when it is needed.
//! That is sound for a signature check, where every input (key, signature, message) is public.
//!
//! A column pairs `x[j]` with `y[i-j]`: one operand runs backwards. The callers hand that
//! operand over with its limbs reversed, so every inner loop is a plain forward dot product
//! the compiler turns into five instructions a product; and where a loop sums two dot
//! products side by side, each feeds an accumulator of its own, so two carry chains run in
//! parallel instead of one twice as long.
//!
//! The functions take slices and are `#[inline(always)]`, so a caller working on `[u64; N]`
//! arrays gets a copy specialised to its `N`, with the loop bounds known at compile time.

/// A three-word column accumulator: `low` holds the bottom 128 bits, `high` what overflows.
/// One value has one representation, so equal accumulators hold equal sums.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    low: u128,
    high: u64,
}

impl Column {
    pub(crate) const ZERO: Column = Column { low: 0, high: 0 };

    /// Adds `a·b`; the sum of a column's products cannot overflow: at most `2·128` products
    /// of less than `2^128` each, far below `2^192`.
    #[inline(always)]
    pub(crate) fn add_product(&mut self, a: u64, b: u64) {
        self.add_wide(u128::from(a) * u128::from(b));
    }

    /// Adds one word.
    #[inline(always)]
    pub(crate) fn add_word(&mut self, word: u64) {
        self.add_wide(u128::from(word));
    }

    #[inline(always)]
    fn add_wide(&mut self, value: u128) {
        let (low, carry) = self.low.overflowing_add(value);
        self.low = low;
        self.high += u64::from(carry);
    }

    #[inline(always)]
    fn add(&mut self, other: Column) {
        let (low, carry) = self.low.overflowing_add(other.low);
        self.low = low;
        self.high += other.high + u64::from(carry);
    }

    #[inline(always)]
    fn doubled(self) -> Column {
        Column {
            low: self.low << 1,
            high: (self.high << 1) | (self.low >> 127) as u64,
        }
    }

    /// The bottom word, and the accumulator moved down one word for the next column.
    #[inline(always)]
    pub(crate) fn shift(&mut self) -> u64 {
        let word = self.low as u64;
        self.low = (self.low >> 64) | (u128::from(self.high) << 64);
        self.high = 0;
        word
    }
}

/// `-n⁻¹ mod 2^64` for an odd `n0` (the lowest limb of the modulus), by Newton's iteration:
/// each step doubles the number of correct low bits, starting from 1 (`n0` is its own
/// inverse mod 2).
pub(crate) fn neg_inverse(n0: u64) -> u64 {
    let mut inverse: u64 = 1;
    for _ in 0..6 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(n0.wrapping_mul(inverse)));
    }
    inverse.wrapping_neg()
}

/// `out = a·b·R⁻¹ mod n` with `R = 2^(64·len)`, for `a, b < n`; `b_rev` and `n_rev` are `b`
/// and `n` with their limbs in reverse order, and `n0_inv` is [`neg_inverse`] of `n[0]`. All
/// slices have the modulus's length.
#[inline(always)]
pub(crate) fn mul(
    out: &mut [u64],
    a: &[u64],
    b_rev: &[u64],
    n: &[u64],
    n_rev: &[u64],
    n0_inv: u64,
) {
    let len = n.len();
    let (a, b_rev, n_rev, out) = (&a[..len], &b_rev[..len], &n_rev[..len], &mut out[..len]);
    let mut acc = Column::ZERO;
    // Columns 0..len: `out[i]` holds the reduction factor `m_i` until column `i + len`,
    // the last one that reads it, writes the result word in its place.
    for i in 0..len {
        let top = len - 1 - i;
        dot2_into(
            &mut acc,
            &a[..i],
            &b_rev[top..len - 1],
            &out[..i],
            &n_rev[top..len - 1],
        );
        acc.add_product(a[i], b_rev[len - 1]);
        let m = (acc.low as u64).wrapping_mul(n0_inv);
        acc.add_product(m, n[0]);
        out[i] = m;
        acc.shift(); // zero by the choice of m
    }
    for i in len..2 * len {
        let from = i + 1 - len;
        dot2_into(
            &mut acc,
            &a[from..],
            &b_rev[..len - from],
            &out[from..],
            &n_rev[..len - from],
        );
        out[i - len] = acc.shift();
    }
    finish(out, acc.shift(), n);
}

/// `out = a²·R⁻¹ mod n`, for `a < n`: [`mul`] with each off-diagonal product computed once.
/// `a_rev` is scratch space of the modulus's length.
#[inline(always)]
pub(crate) fn square(
    out: &mut [u64],
    a: &[u64],
    a_rev: &mut [u64],
    n: &[u64],
    n_rev: &[u64],
    n0_inv: u64,
) {
    let len = n.len();
    let (a, a_rev, n_rev, out) = (&a[..len], &mut a_rev[..len], &n_rev[..len], &mut out[..len]);
    for (r, &x) in a_rev.iter_mut().zip(a.iter().rev()) {
        *r = x;
    }
    let a_rev = &*a_rev;
    let mut acc = Column::ZERO;
    for i in 0..len {
        let top = len - 1 - i;
        let half = i.div_ceil(2);
        // The diagonal product first: it is ready at once, and added last it would sit
        // between the column's sums and the reduction factor that waits for them.
        if i % 2 == 0 {
            acc.add_product(a[i / 2], a[i / 2]);
        }
        square_column(
            &mut acc,
            &a[..half],
            &a_rev[top..],
            &out[..i],
            &n_rev[top..len - 1],
        );
        let m = (acc.low as u64).wrapping_mul(n0_inv);
        acc.add_product(m, n[0]);
        out[i] = m;
        acc.shift();
    }
    for i in len..2 * len {
        let from = i + 1 - len;
        let half = i.div_ceil(2).saturating_sub(from);
        if i % 2 == 0 {
            acc.add_product(a[i / 2], a[i / 2]);
        }
        square_column(
            &mut acc,
            &a[from..from + half],
            a_rev,
            &out[from..],
            &n_rev[..len - from],
        );
        out[i - len] = acc.shift();
    }
    finish(out, acc.shift(), n);
}

/// `acc += Σ x[j]·y[j] + Σ u[j]·v[j]`, all four slices of the same length, in one loop: the
/// second sum goes straight into `acc`, the first into an accumulator of its own, so two
/// short carry chains run side by side.
#[inline(always)]
fn dot2_into(acc: &mut Column, x: &[u64], y: &[u64], u: &[u64], v: &[u64]) {
    let mut first = Column::ZERO;
    let len = x.len();
    let (y, u, v) = (&y[..len], &u[..len], &v[..len]);
    for k in 0..len {
        first.add_product(x[k], y[k]);
        acc.add_product(u[k], v[k]);
    }
    acc.add(first);
}

/// `acc += 2·Σ x[j]·y[j] + Σ u[k]·v[k]`, for `x` no longer than `u` (`y` and `v` may be
/// longer than `x` and `u`: their tails are not read). The first `x.len()` terms of both sums
/// share one loop, each sum with a carry chain of its own, and the rest of the second sum
/// follows in a loop of its own.
#[inline(always)]
fn square_column(acc: &mut Column, x: &[u64], y: &[u64], u: &[u64], v: &[u64]) {
    // The shared loop reads slices of exactly its length, cut here: a bounds check left in
    // it costs two instructions an iteration and a register the loop needs (one pointer
    // then lives on the stack), about a tenth of the squaring. The second loop stays written over `u` and `v` as they are: cut the same
    // way, the compiler unrolls it into a slower form.
    let shared = x.len();
    let v = &v[..u.len()];
    let (y, u_shared, v_shared) = (&y[..shared], &u[..shared], &v[..shared]);
    let mut products = Column::ZERO;
    for k in 0..shared {
        products.add_product(x[k], y[k]);
        acc.add_product(u_shared[k], v_shared[k]);
    }
    for k in shared..u.len() {
        acc.add_product(u[k], v[k]);
    }
    acc.add(products.doubled());
}

/// The result is `carry·R + out < 2n`; brings it below `n`.
#[inline(always)]
fn finish(out: &mut [u64], carry: u64, n: &[u64]) {
    if carry != 0 || !less_than(out, n) {
        let mut borrow = false;
        for (o, &nk) in out.iter_mut().zip(n) {
            let (d, b1) = o.overflowing_sub(nk);
            let (d, b2) = d.overflowing_sub(u64::from(borrow));
            *o = d;
            borrow = b1 | b2;
        }
    }
}

/// `a < b` for little-endian limbs of the same length, from the top limb down.
#[inline(always)]
pub(crate) fn less_than(a: &[u64], b: &[u64]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
    use crypto_bigint::{BoxedUint, Odd};

    use crate::test_rng::XorShift;

    fn to_uint(limbs: &[u64]) -> BoxedUint {
        let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
        BoxedUint::from_le_slice(&bytes, 64 * limbs.len() as u32).unwrap()
    }

    /// `a·b·R⁻¹ mod n` by crypto-bigint, whose `R` is `2^(64·limbs)` as ours.
    fn reference(a: &[u64], b: &[u64], n: &[u64]) -> BoxedUint {
        let params = BoxedMontyParams::new(Odd::new(to_uint(n)).into_option().unwrap());
        let a = BoxedMontyForm::from_montgomery(to_uint(a), &params);
        let b = BoxedMontyForm::from_montgomery(to_uint(b), &params);
        (a * b).as_montgomery().clone()
    }

    /// A value below `n`: random, with the top limb forced below `n`'s.
    fn below(rng: &mut XorShift, n: &[u64]) -> Vec<u64> {
        let mut a: Vec<u64> = n.iter().map(|_| rng.next()).collect();
        let top = n.len() - 1;
        a[top] = if n[top] == 0 { 0 } else { a[top] % n[top] };
        a
    }

    #[test]
    fn neg_inverse_inverts_every_odd_word() {
        let mut rng = XorShift(3);
        for n0 in [1, 3, u64::MAX, 0x8000_0000_0000_0001] {
            assert_eq!(n0.wrapping_mul(neg_inverse(n0)), u64::MAX);
        }
        for _ in 0..1000 {
            let n0 = rng.next() | 1;
            assert_eq!(n0.wrapping_mul(neg_inverse(n0)), u64::MAX, "{n0:#x}");
        }
    }

    #[test]
    fn mul_and_square_match_crypto_bigint() {
        let mut rng = XorShift(0x5eed_3032);
        for len in [1, 2, 3, 4, 5, 8, 31, 32, 33, 48, 64, 128] {
            for kind in 0..6 {
                let mut n: Vec<u64> = (0..len).map(|_| rng.next()).collect();
                match kind {
                    0 => n.fill(u64::MAX),
                    1 => n[len - 1] = 1,
                    2 => n[len - 1] |= 1 << 63,
                    3 => n[len - 1] >>= 40,
                    _ => {}
                }
                n[0] |= 1;
                if n == [1] {
                    n[0] = 3;
                }
                let n0_inv = neg_inverse(n[0]);
                let rev = |x: &[u64]| x.iter().rev().copied().collect::<Vec<u64>>();
                let n_rev = rev(&n);
                let mut scratch = vec![0; len];
                let mut n_minus_one = n.clone();
                n_minus_one[0] -= 1;
                let mut zero = vec![0; len];
                let mut one = zero.clone();
                one[0] = 1;
                let operands = [below(&mut rng, &n), below(&mut rng, &n), n_minus_one, one];
                for a in &operands {
                    for b in &operands {
                        mul(&mut zero, a, &rev(b), &n, &n_rev, n0_inv);
                        assert_eq!(to_uint(&zero), reference(a, b, &n), "{len} limbs, mul");
                    }
                    square(&mut zero, a, &mut scratch, &n, &n_rev, n0_inv);
                    assert_eq!(to_uint(&zero), reference(a, a, &n), "{len} limbs, square");
                }
            }
        }
    }
}
