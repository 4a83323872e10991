//! RS256 JWT verification with a JWKS cache.
//!
//! Trust is a constructor argument: a [`JwtValidator`] cannot be built without trusted
//! issuers or a JWKS URI, and keys are only ever fetched from configured places. See the
//! crate's security model for the full list of defences.

mod claims;
mod error;
mod fetch;
mod json;
mod jwks;
mod options;
mod rs256;
mod token;
mod validator;

pub use claims::{Audience, JwtClaims};
pub use error::JwtError;
pub use jwks::{parse_jwks, parse_jwks_with_policy, JwkSet, MAX_JWKS_KEYS};
pub use options::JwtValidationOptions;
pub use rs256::{KeyPolicy, VerifyingKey, DEFAULT_MAX_KEY_BITS, MAX_KEY_BITS_LIMIT, MIN_KEY_BITS};
pub use token::{UnverifiedToken, DEFAULT_MAX_TOKEN_BYTES, MAX_TOKEN_BYTES_LIMIT};
pub use validator::{
    extract_bearer_token, validate_jwt_token, validate_jwt_token_with_options, JwtValidator,
};
