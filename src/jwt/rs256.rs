//! RSA public keys built once under a key policy, and RS256 (PKCS#1 v1.5, SHA-256) verification.

use std::fmt;

use rsa::traits::PublicKeyParts as _;
use rsa::BoxedUint;
use sha2::Sha256;

use super::error::JwtError;

/// The smallest modulus ever accepted, in bits; no option lowers it.
pub const MIN_KEY_BITS: usize = 2048;
/// The default largest modulus, in bits.
pub const DEFAULT_MAX_KEY_BITS: usize = 4096;
/// The largest modulus any option allows, in bits (bigger keys cost quadratically more CPU).
pub const MAX_KEY_BITS_LIMIT: usize = 8192;
const STANDARD_EXPONENT: u64 = 65_537;

/// Which RSA public keys are acceptable. Checked once, when a key set is loaded. The
/// default is 2048..=4096 bits with e = 65537; a validator builds its policy from
/// [`JwtValidationOptions`](crate::JwtValidationOptions), and [`parse_jwks_with_policy`]
/// callers build one with the methods below.
///
/// [`parse_jwks_with_policy`]: super::parse_jwks_with_policy
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Largest modulus in bits, within `MIN_KEY_BITS..=MAX_KEY_BITS_LIMIT`.
    pub(crate) max_bits: usize,
    /// Accept any odd exponent in `3..2^32`, not only 65537.
    pub(crate) any_odd_exponent: bool,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            max_bits: DEFAULT_MAX_KEY_BITS,
            any_odd_exponent: false,
        }
    }
}

impl KeyPolicy {
    /// Largest RSA modulus accepted, in bits, clamped to 2048..=8192.
    pub fn with_max_bits(mut self, bits: usize) -> Self {
        self.max_bits = bits.clamp(MIN_KEY_BITS, MAX_KEY_BITS_LIMIT);
        self
    }

    /// Accept any odd public exponent in `3..2^32`, not only 65537.
    ///
    /// # Security
    /// Small exponents are legal but unusual; only for an issuer known to use one.
    pub fn dangerous_allow_any_odd_exponent(mut self) -> Self {
        self.any_odd_exponent = true;
        self
    }
}

/// An RSA public key that passed the [`KeyPolicy`], ready for RS256 verification.
/// `Debug` shows only its size.
#[derive(Clone)]
pub struct VerifyingKey {
    key: rsa::PublicKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({} bits)", self.key.size() * 8)
    }
}

impl VerifyingKey {
    /// Builds a key from big-endian modulus and exponent bytes (leading zero bytes allowed).
    ///
    /// # Errors
    /// [`JwtError::KeyRejected`] when the modulus is outside `2048..=policy max` bits or
    /// even, or the exponent is not 65537 (or, when allowed, not an odd value in `3..2^32`).
    pub fn from_components(n: &[u8], e: &[u8], policy: &KeyPolicy) -> Result<Self, JwtError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = bit_length(n);
        if bits < MIN_KEY_BITS {
            return Err(JwtError::KeyRejected("modulus smaller than 2048 bits"));
        }
        if bits > policy.max_bits {
            return Err(JwtError::KeyRejected("modulus larger than allowed"));
        }
        if n.last().is_some_and(|b| b & 1 == 0) {
            return Err(JwtError::KeyRejected("modulus is even"));
        }
        let exponent = exponent_value(e)?;
        let exponent_ok = if policy.any_odd_exponent {
            exponent >= 3 && exponent & 1 == 1
        } else {
            exponent == STANDARD_EXPONENT
        };
        if !exponent_ok {
            return Err(JwtError::KeyRejected("public exponent not allowed"));
        }
        let key = rsa::PublicKey::new_with_size_limits(
            BoxedUint::from_be_slice_vartime(n),
            BoxedUint::from(exponent),
            MIN_KEY_BITS..=policy.max_bits,
        )
        .map_err(|_| JwtError::KeyRejected("invalid RSA public key"))?;
        Ok(Self { key })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        bit_length(strip_leading_zeros(&self.key.n_bytes()))
    }

    /// Verifies an RS256 signature over `signing_input`.
    ///
    /// # Errors
    /// [`JwtError::BadSignature`] for any failure (wrong length, not below the modulus,
    /// wrong padding or digest): one variant, so the failure leaks nothing.
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), JwtError> {
        self.key
            .pkcs1v15_verify::<Sha256>(signing_input, signature)
            .map_err(|_| JwtError::BadSignature)
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn bit_length(be: &[u8]) -> usize {
    match be.first() {
        None => 0,
        Some(&top) => (be.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}

/// The exponent as a number; anything of 2^32 or more is refused outright.
fn exponent_value(e: &[u8]) -> Result<u64, JwtError> {
    if e.is_empty() || e.len() > 4 {
        return Err(JwtError::KeyRejected("public exponent not allowed"));
    }
    Ok(e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_from_the_top_set_bit() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(strip_leading_zeros(&[0, 0, 5]), &[5]);
    }

    #[test]
    fn exponent_limits() {
        assert!(exponent_value(&[1, 0, 1]).is_ok_and(|e| e == 65_537));
        assert!(exponent_value(&[1, 0, 0, 0, 1]).is_err());
        assert!(exponent_value(&[]).is_err());
    }
}
