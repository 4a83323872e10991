//! RS256 JWT verification with a JWKS cache.
//!
//! Trust is a constructor argument: a [`JwtValidator`](crate::JwtValidator) cannot be built without trusted
//! issuers or a JWKS URI, and keys are only ever fetched from configured places.
//!
//! ```no_run
//! use runbeam_sdk_blocking::{JwtValidationOptions, JwtValidator};
//!
//! # fn main() -> Result<(), runbeam_sdk_blocking::RunbeamError> {
//! let validator = JwtValidator::new(
//!     JwtValidationOptions::new().with_trusted_issuers(vec!["https://api.runbeam.io".into()]),
//! )?;
//! let claims = validator.validate("eyJhbGciOiJSUzI1NiIs...")?;
//! println!("{} (team {:?})", claims.sub, claims.team.map(|t| t.name));
//! # Ok(())
//! # }
//! ```
//!
//! How a token is checked, cheapest and most hostile-input-facing first:
//!
//! 1. [`UnverifiedToken::parse`] (pure, fuzzed): size cap, three segments, strict base64url,
//!    JSON objects without duplicate members, `alg` exactly `RS256`, no `crit`/`b64`, a
//!    well-formed `kid` if any. `jku`, `x5u`, `jwk` and `x5c` are never read. A token without
//!    `kid` is refused next, unless
//!    [`dangerous_allow_missing_kid_if_single_key`](crate::JwtValidationOptions::dangerous_allow_missing_kid_if_single_key)
//!    is set. With [`with_expected_typ`](crate::JwtValidationOptions::with_expected_typ), the header
//!    `typ` must be that media type.
//! 2. The unverified `iss` is matched against the trusted issuers by parsed origin (or exactly,
//!    for an issuer configured with a path). An untrusted issuer stops here, before any I/O.
//! 3. The key for `kid` (or, when allowed for a kid-less token, the set's only usable key)
//!    comes from a static set ([`with_jwks_json`](crate::JwtValidationOptions::with_jwks_json))
//!    or from the validator's cache of the configured JWKS URL, fetched at most once per TTL
//!    (the server's `max-age` within bounds; revalidated with `ETag` / `Last-Modified`),
//!    once per cooldown for an unknown `kid`, one request for many waiters; with
//!    [`with_jwks_cache_dir`](crate::JwtValidationOptions::with_jwks_cache_dir) a cold cache
//!    starts from the copy an earlier process left on disk.
//!    [`parse_jwks`] (pure, fuzzed) keeps only RSA signing keys that pass the [`KeyPolicy`].
//! 4. RSA PKCS#1 v1.5 SHA-256 over the exact signing input. When it fails with a fetched key
//!    (and the token names a `kid` and its dates hold), the issuer may have replaced that
//!    key under the same `kid`: the set is fetched again, under the unknown-`kid` cooldown and
//!    never when the server sent or confirmed it within the cooldown, and the signature
//!    checked once more with the key now published. A token that still fails is
//!    [`JwtError::BadSignature`](crate::JwtError::BadSignature).
//! 5. Claims from the verified payload: `exp` (required), `nbf`, `iat`, leeway, the optional
//!    max age and minimum remaining lifetime, `sub`,
//!    audience and required claims.
//!
//! With [`with_verified_token_cache`](crate::JwtValidationOptions::with_verified_token_cache), the
//! exact bytes of a token accepted before skip steps 1, 2 and 4: step 3 must still hand out
//! the very key that verified it, and the dates of step 5 are checked again.

pub(crate) mod claims;
pub(crate) mod error;
pub(crate) mod json;
mod jwks;
mod keyset;
pub(crate) mod modexp;
mod montgomery;
pub(crate) mod options;
mod rs256;
mod unverified;
pub(crate) mod validator;
mod verified;

pub use claims::Audience;
pub use jwks::{parse_jwks, parse_jwks_with_policy, JwkSet};
pub use rs256::{KeyPolicy, VerifyingKey};
// The limits are documented on the options and types they bound.
pub use keyset::stats::ValidatorStats;
#[cfg(any(test, fuzzing))]
pub(crate) use rs256::{DEFAULT_MAX_KEY_BITS, MIN_KEY_BITS};
pub use unverified::UnverifiedToken;
