//! [`JwtError`]: why a token was rejected.

/// Why a JWT was rejected. Never contains the token, its signature or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// The token is not a well-formed compact JWS.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
}
