//! [`JwtError`]: why a token was rejected.

/// Why a JWT was rejected or could not be checked.
///
/// Never contains the token, its signature, claim values or key material. Strings that come
/// from an attacker (`kid`, `alg`, `iss`) are escaped and cut to 64 characters before they are
/// stored here.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// The token is larger than the configured maximum; nothing was decoded.
    #[error("token is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// The token's length in bytes.
        len: usize,
        /// The maximum allowed.
        max: usize,
    },
    /// The token is not a well-formed compact JWS (segments, base64url, JSON).
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// A JSON member name appears twice at the top level of the header or the claims.
    #[error("duplicate member in the token {0}")]
    DuplicateMember(&'static str),
    /// The header's `alg` is not exactly `RS256`.
    #[error("unsupported algorithm {0} (only RS256 is accepted)")]
    UnsupportedAlg(String),
    /// The header carries `crit` or `b64`, which this verifier never accepts.
    #[error("the token header uses `crit` or `b64`, which are not supported")]
    UnsupportedCrit,
    /// The header has no usable `kid`.
    #[error("the token header has no `kid` (key id)")]
    MissingKid,
    /// The header's `typ` is not the one the options expect (or is missing).
    #[error("unexpected token type {0}")]
    UnexpectedType(String),
    /// No usable key with the token's `kid` is in the key set (after at most one refresh).
    #[error("no usable key with kid {0} in the key set")]
    UnknownKey(String),
    /// Two usable keys in the key set share the token's `kid`; neither is used.
    #[error("the key set has more than one key with kid {0}")]
    AmbiguousKey(String),
    /// A key was refused by the key policy (size, exponent, type, encoding).
    #[error("key rejected: {0}")]
    KeyRejected(&'static str),
    /// The RS256 signature does not verify. All cryptographic failures collapse here.
    #[error("the token signature is invalid")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("the token was issued in the future (iat)")]
    IssuedInFuture,
    /// `iat` is older than the configured maximum age (beyond the leeway); see
    /// [`with_max_age`](crate::JwtValidationOptions::with_max_age).
    #[error("the token was issued too long ago (iat)")]
    TooOld,
    /// `exp` is sooner than the configured minimum remaining lifetime; see
    /// [`with_min_remaining`](crate::JwtValidationOptions::with_min_remaining).
    #[error("the token expires too soon")]
    ExpiresTooSoon,
    /// A required claim is absent or null.
    #[error("the token has no `{0}` claim")]
    MissingClaim(String),
    /// A claim has the wrong JSON type or an out-of-range value.
    #[error("the `{0}` claim has the wrong type or value")]
    ClaimFormat(&'static str),
    /// The token's `iss` is not one of the trusted issuers. No key was fetched for it. The
    /// message says what *is* trusted, never how to trust the token's issuer: a token naming
    /// an issuer is no reason to trust it.
    #[error("token issuer {issuer} is not trusted ({trusted})")]
    UntrustedIssuer {
        /// The token's `iss`, escaped and cut to 64 characters.
        issuer: String,
        /// What the validator trusts, as a phrase: `this validator trusts https://…`, or for
        /// [`validate_jwt_token`](crate::validate_jwt_token) the environment variables and
        /// their origins (issuers are configuration, never secrets).
        trusted: String,
    },
    /// A claim the receiver compares holds another value than expected (a mesh token's
    /// `mesh_id` or `dest_url`). The values are not shown.
    #[error("the `{0}` claim does not match what this receiver expects")]
    ClaimMismatch(&'static str),
    /// The token's `aud` does not contain any configured audience.
    #[error("the token audience does not match")]
    AudienceMismatch,
    /// The authorization header is not `Bearer <token>`.
    #[error("{0}")]
    BadAuthorizationHeader(&'static str),
    /// The key-set request failed before an HTTP answer (refused, host not found,
    /// certificate not trusted, ...): the message says which.
    #[error(
        "fetching the key set from {url} failed: {}",
        crate::network::reason(error)
    )]
    JwksFetch {
        /// The key-set URL.
        url: String,
        /// Why, classified.
        cause: crate::NetworkCause,
        /// What went wrong, as ureq reports it (`ureq` is a public dependency of this crate).
        error: std::sync::Arc<ureq::Error>,
    },
    /// The JWKS endpoint answered with a status other than 200 (redirects are not followed).
    #[error("the key-set endpoint {url} answered HTTP {status}")]
    JwksStatus {
        /// The JWKS URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The JWKS request timed out.
    #[error("fetching the key set from {0} timed out")]
    JwksTimeout(String),
    /// The JWKS response is larger than the cap.
    #[error("the key set from {0} is too large")]
    JwksTooLarge(String),
    /// The JWKS document is not a valid key set.
    #[error("the key set is invalid: {0}")]
    JwksInvalid(&'static str),
}

/// Makes an attacker-supplied string safe to show: control and non-ASCII characters escaped,
/// cut to 64 characters, quoted.
pub(crate) fn escape_untrusted(text: &str) -> String {
    const MAX: usize = 64;
    let mut out = String::from("\"");
    for (count, c) in text.chars().enumerate() {
        if count == MAX {
            out.push('…');
            break;
        }
        out.extend(c.escape_default());
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_escaped_and_truncated() {
        assert_eq!(escape_untrusted("a\nb"), "\"a\\nb\"");
        let long = "x".repeat(500);
        assert!(escape_untrusted(&long).chars().count() < 70);
    }
}
