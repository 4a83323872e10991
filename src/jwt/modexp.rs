//! The RSA public-key operation (RSAVP1, RFC 8017 §5.2.2): `s^e mod n` by left-to-right
//! square-and-multiply on a key's precomputed Montgomery parameters.
//!
//! `rsa`'s own exponentiation is constant-time in the exponent (a 16-entry window table, about
//! 35 modular multiplications for e = 65537). Every input of a *verification* is public — the
//! key, the signature and the message — so nothing is gained by hiding the exponent, and a
//! plain bit loop needs 16 squarings and 1 multiplication for e = 65537. Any other odd
//! exponent runs through the same loop over its bits. The arithmetic itself is crypto-bigint's,
//! the crate `rsa` is built on, with the parameters `rsa` computed when the key was built.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, MontyForm, MontyMultiplier};

/// `s^exponent mod n` for the big-endian signature `signature`, as exactly `len` big-endian
/// bytes (`len` is the modulus length in octets, `k` in RFC 8017).
///
/// `None` when the signature is not exactly `len` bytes long or its value is not below the
/// modulus (RFC 8017 §8.2.2 steps 1 and 2.b): such a signature is refused, never reduced.
pub(crate) fn rsavp1(
    params: &BoxedMontyParams,
    exponent: u64,
    signature: &[u8],
    len: usize,
) -> Option<Vec<u8>> {
    if signature.len() != len {
        return None;
    }
    let modulus: &BoxedUint = params.modulus().as_ref();
    let s = BoxedUint::from_be_slice(signature, params.bits_precision()).ok()?;
    if s >= *modulus {
        return None;
    }
    let base = BoxedMontyForm::new(s, params);
    let mut acc = base.clone();
    let mut multiplier = <BoxedMontyForm as MontyForm>::Multiplier::from(params);
    // The top bit is `acc` itself; each lower bit costs a squaring, and a set bit one more
    // multiplication. An exponent of 0 cannot come from a key policy; it would give `s`.
    let top = u64::BITS.saturating_sub(exponent.leading_zeros() + 1);
    for bit in (0..top).rev() {
        multiplier.square_assign(&mut acc);
        if (exponent >> bit) & 1 == 1 {
            multiplier.mul_assign(&mut acc, &base);
        }
    }
    let bytes = acc.retrieve().to_be_bytes();
    // The result is below the modulus, which fits in `len` bytes: the limb padding in front
    // is zero and is dropped.
    let skip = bytes.len().checked_sub(len)?;
    Some(bytes[skip..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_bigint::Odd;

    use crate::test_rng::XorShift;

    fn params_for(n: &[u8]) -> BoxedMontyParams {
        let n = BoxedUint::from_be_slice_vartime(n);
        BoxedMontyParams::new(Odd::new(n).into_option().unwrap())
    }

    /// A random odd modulus of exactly `len` bytes with its top bit set.
    fn modulus(rng: &mut XorShift, len: usize) -> Vec<u8> {
        let mut n = rng.bytes(len);
        n[0] |= 0x80;
        n[len - 1] |= 1;
        n
    }

    /// The same value through crypto-bigint's general (windowed) exponentiation, which is
    /// what `rsa` itself runs.
    fn reference(params: &BoxedMontyParams, exponent: u64, signature: &[u8]) -> Vec<u8> {
        let s = BoxedUint::from_be_slice(signature, params.bits_precision()).unwrap();
        let e = BoxedUint::from(exponent);
        let out = BoxedMontyForm::new(s, params)
            .pow_bounded_exp(&e, 64)
            .retrieve()
            .to_be_bytes();
        out[out.len() - signature.len()..].to_vec()
    }

    #[test]
    fn square_and_multiply_matches_the_windowed_exponentiation() {
        let mut rng = XorShift(0x5eed_2048_0001);
        for len in [256, 384, 512] {
            for exponent in [65_537, 3, 17, 0xffff_ffff, 0x8000_0001, 1] {
                let n = modulus(&mut rng, len);
                let params = params_for(&n);
                let mut s = rng.bytes(len);
                s[0] &= 0x7f; // below n, whose top bit is set
                assert_eq!(
                    rsavp1(&params, exponent, &s, len),
                    Some(reference(&params, exponent, &s)),
                    "len {len}, e {exponent}"
                );
            }
        }
    }

    #[test]
    fn small_signature_values_are_exact() {
        let mut rng = XorShift(7);
        let n = modulus(&mut rng, 256);
        let params = params_for(&n);
        let mut two = vec![0u8; 256];
        two[255] = 2;
        let mut expected = vec![0u8; 256];
        expected[255 - 2] = 2; // 2^17 = 0x02_00_00
        assert_eq!(rsavp1(&params, 17, &two, 256), Some(expected));
        let zero = vec![0u8; 256];
        assert_eq!(rsavp1(&params, 65_537, &zero, 256), Some(zero.clone()));
    }

    #[test]
    fn refuses_a_signature_not_below_the_modulus() {
        let mut rng = XorShift(11);
        let mut n = modulus(&mut rng, 256);
        n[255] &= 0xfd; // still odd, and room to add 2 without a carry
        let params = params_for(&n);
        assert_eq!(rsavp1(&params, 65_537, &n, 256), None);
        let mut above = n.clone();
        above[255] += 2;
        assert_eq!(rsavp1(&params, 65_537, &above, 256), None);
        assert_eq!(rsavp1(&params, 65_537, &[0xff; 256], 256), None);
        let mut below = n;
        below[255] -= 1;
        assert!(rsavp1(&params, 65_537, &below, 256).is_some());
    }

    #[test]
    fn refuses_a_signature_of_another_length() {
        let mut rng = XorShift(13);
        let n = modulus(&mut rng, 256);
        let params = params_for(&n);
        let s = vec![1u8; 255];
        assert_eq!(rsavp1(&params, 65_537, &s, 256), None);
        let mut long = vec![0u8; 257];
        long[256] = 1;
        assert_eq!(rsavp1(&params, 65_537, &long, 256), None);
    }
}
