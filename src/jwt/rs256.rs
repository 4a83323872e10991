//! RSA public keys built once under a key policy, and RS256 (PKCS#1 v1.5, SHA-256) verification.

use std::fmt;

use rsa::traits::PublicKeyParts as _;
use rsa::BoxedUint;
use sha2::{Digest as _, Sha256};

use super::error::JwtError;
use super::modexp;

/// The smallest modulus ever accepted, in bits; no option lowers it.
pub const MIN_KEY_BITS: usize = 2048;
/// The default largest modulus, in bits.
pub const DEFAULT_MAX_KEY_BITS: usize = 4096;
/// The largest modulus any option allows, in bits (bigger keys cost quadratically more CPU).
pub const MAX_KEY_BITS_LIMIT: usize = 8192;
const STANDARD_EXPONENT: u64 = 65_537;
/// DER of the SHA-256 `DigestInfo` up to the digest itself (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
const SHA256_LEN: usize = 32;

/// Which RSA public keys are acceptable. Checked once, when a key set is loaded. The
/// default is 2048..=4096 bits with e = 65537; a validator builds its policy from
/// [`JwtValidationOptions`](crate::JwtValidationOptions), and [`parse_jwks_with_policy`]
/// callers build one with [`KeyPolicy::new`].
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
    /// A policy accepting RSA moduli of 2048 bits up to `max_bits`, e = 65537.
    ///
    /// # Errors
    /// [`ConfigError::InvalidOption`](crate::ConfigError::InvalidOption) when `max_bits` is
    /// outside 2048..=8192 (never clamped: a policy is what its maker asked for, or nothing).
    pub fn new(max_bits: usize) -> Result<KeyPolicy, crate::ConfigError> {
        if !(MIN_KEY_BITS..=MAX_KEY_BITS_LIMIT).contains(&max_bits) {
            return Err(crate::ConfigError::InvalidOption {
                option: "max_bits",
                reason: format!("{max_bits} bits is outside 2048..=8192"),
            });
        }
        Ok(KeyPolicy {
            max_bits,
            any_odd_exponent: false,
        })
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
///
/// Everything a verification needs from the key is computed once, when it is built: the
/// modulus's Montgomery constants and the expected encoding up to the digest.
#[derive(Clone)]
pub struct VerifyingKey {
    key: rsa::PublicKey,
    exponent: u64,
    /// The modulus, the exponent and the expected encoding up to the digest
    /// (`00 01 FF… 00 ‖ DigestInfo(SHA-256)`), prepared for the public-key operation.
    operation: modexp::PublicOperation,
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
        let operation = modexp::PublicOperation::new(n, exponent, &encoded_prefix(key.size()))
            .ok_or(JwtError::KeyRejected("invalid RSA public key"))?;
        Ok(Self {
            key,
            exponent,
            operation,
        })
    }

    /// The prepared public-key operation, for the fuzz target's comparison with `rsa`.
    #[cfg(any(fuzzing, test))]
    pub(crate) fn operation(&self) -> &modexp::PublicOperation {
        &self.operation
    }

    /// Whether `other` is the same public key (modulus and exponent), however it was built.
    pub(crate) fn same_key(&self, other: &Self) -> bool {
        self.exponent == other.exponent && self.key == other.key
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        bit_length(strip_leading_zeros(&self.key.n_bytes()))
    }

    /// Verifies an RS256 signature over `signing_input` (RSASSA-PKCS1-v1_5 with SHA-256,
    /// RFC 8017 §8.2.2): the signature must be exactly as long as the modulus and below it,
    /// and its public-key image must equal the one valid encoding of the digest (compared
    /// as numbers below the modulus, which is comparing every byte). Runs in time that depends only on public values.
    ///
    /// # Errors
    /// [`JwtError::BadSignature`] for any failure (wrong length, not below the modulus,
    /// wrong padding or digest): one variant, so the failure leaks nothing.
    // Not part of the API (a bare signature check skips every claim and trust rule a caller
    // needs): public only for the benchmarks, the fuzz targets and the Wycheproof vectors.
    #[doc(hidden)]
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), JwtError> {
        let digest: [u8; SHA256_LEN] = Sha256::digest(signing_input).into();
        if self.operation.is_image(signature, &digest) {
            Ok(())
        } else {
            Err(JwtError::BadSignature)
        }
    }
}

/// The EMSA-PKCS1-v1_5 encoding of a SHA-256 digest for a `len`-byte modulus, without the
/// digest: `00 01`, `len - 54` bytes of `FF`, `00`, the `DigestInfo` header.
fn encoded_prefix(len: usize) -> Box<[u8]> {
    // A key is at least 2048 bits (256 bytes), far above the 62 bytes the encoding needs
    // (8 bytes of padding at least); saturating only keeps a misuse from panicking, and a
    // too-short prefix can then never match.
    let padding = len.saturating_sub(3 + SHA256_DIGEST_INFO.len() + SHA256_LEN);
    let mut prefix = Vec::with_capacity(len.saturating_sub(SHA256_LEN));
    prefix.extend_from_slice(&[0x00, 0x01]);
    prefix.resize(2 + padding, 0xff);
    prefix.push(0x00);
    prefix.extend_from_slice(&SHA256_DIGEST_INFO);
    prefix.into_boxed_slice()
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
    fn a_policy_outside_its_range_is_refused_not_clamped() {
        for bits in [0, 1024, 2047, 8193, usize::MAX] {
            assert!(KeyPolicy::new(bits).is_err(), "{bits}");
        }
        assert_eq!(KeyPolicy::new(8192).unwrap().max_bits, 8192);
        assert_eq!(KeyPolicy::new(2048).unwrap().max_bits, 2048);
    }

    #[test]
    fn bit_length_counts_from_the_top_set_bit() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(strip_leading_zeros(&[0, 0, 5]), &[5]);
    }

    #[test]
    fn encoded_prefix_is_the_pkcs1_v1_5_layout() {
        let prefix = encoded_prefix(256);
        assert_eq!(prefix.len(), 256 - SHA256_LEN);
        assert_eq!(&prefix[..2], &[0x00, 0x01]);
        assert!(prefix[2..256 - 52].iter().all(|&b| b == 0xff));
        assert_eq!(prefix[256 - 52], 0x00);
        assert_eq!(&prefix[256 - 51..], &SHA256_DIGEST_INFO);
    }

    #[test]
    fn exponent_limits() {
        assert!(exponent_value(&[1, 0, 1]).is_ok_and(|e| e == 65_537));
        assert!(exponent_value(&[1, 0, 0, 0, 1]).is_err());
        assert!(exponent_value(&[]).is_err());
    }
}
