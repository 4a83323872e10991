//! RS256 JWT verification with a JWKS cache. (Being built: issue 2.)

mod error;

pub use error::JwtError;
