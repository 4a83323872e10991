//! Parsing a compact JWS from untrusted input, before anything is verified. Pure; fuzzed.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use super::error::{escape_untrusted, JwtError};
use super::json::{parse_claims, parse_header, HeaderFields, ObjectError, RawClaims};

/// The default cap on a token's length in bytes (16 KiB).
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The largest cap a caller may configure (64 KiB).
pub const MAX_TOKEN_BYTES_LIMIT: usize = 64 * 1024;
/// Longest `kid` accepted, in bytes.
const MAX_KID_BYTES: usize = 256;

/// A compact JWS whose structure and header were checked but whose signature was **not**.
///
/// Everything read from it is attacker-controlled until the signature is verified with a
/// trusted key; hence the `unverified_` names. Its `Debug` shows no token content.
pub struct UnverifiedToken<'a> {
    kid: Option<String>,
    typ: Option<String>,
    signing_input: &'a [u8],
    signature: Vec<u8>,
    claims: RawClaims,
}

impl fmt::Debug for UnverifiedToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnverifiedToken([redacted])")
    }
}

impl<'a> UnverifiedToken<'a> {
    /// Parses `token` with the default size cap (16 KiB).
    ///
    /// # Errors
    /// See [`UnverifiedToken::parse_with_limit`].
    pub fn parse(token: &'a str) -> Result<Self, JwtError> {
        Self::parse_with_limit(token, DEFAULT_MAX_TOKEN_BYTES)
    }

    /// Parses `token`: size cap first, exactly three non-empty segments, strict base64url
    /// (no padding, no `+`/`/`, canonical trailing bits), header and claims JSON objects
    /// with no duplicate top-level members, `alg` exactly `RS256`, no `crit`/`b64`, and a
    /// `kid`, when present, that is a string of 1..=256 bytes. A token *without* `kid` parses
    /// ([`unverified_kid`](Self::unverified_kid) is `None`); the validator rejects it with
    /// [`JwtError::MissingKid`] unless its options allow a kid-less token. Header fields other
    /// than `alg`, `kid`, `crit` and `b64` — notably `jku`, `x5u`, `jwk`, `x5c` — are ignored
    /// and never used to find a key.
    ///
    /// # Errors
    /// [`JwtError::TooLarge`], [`JwtError::Malformed`], [`JwtError::DuplicateMember`],
    /// [`JwtError::UnsupportedAlg`], [`JwtError::UnsupportedCrit`], and
    /// [`JwtError::MissingKid`] for a `kid` that is present but not a string of 1..=256 bytes
    /// (`null`, `""`, a number, too long).
    pub fn parse_with_limit(token: &'a str, max_bytes: usize) -> Result<Self, JwtError> {
        if token.len() > max_bytes {
            return Err(JwtError::TooLarge {
                len: token.len(),
                max: max_bytes,
            });
        }
        let bytes = token.as_bytes();
        let (first, second) = dots(bytes)?;
        let header_b64 = &bytes[..first];
        let claims_b64 = &bytes[first + 1..second];
        let signature_b64 = &bytes[second + 1..];
        if header_b64.is_empty() || claims_b64.is_empty() || signature_b64.is_empty() {
            return Err(JwtError::Malformed("empty segment"));
        }

        let header = URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|_| JwtError::Malformed("header is not strict base64url"))?;
        let mut header = parse_header(&header).map_err(|err| match err {
            ObjectError::Duplicate => JwtError::DuplicateMember("header"),
            ObjectError::Invalid => JwtError::Malformed("header is not a JSON object"),
        })?;
        let typ = match header.typ.take() {
            Some(Value::String(typ)) => Some(typ),
            _ => None,
        };
        let kid = check_header(header)?;
        let claims = URL_SAFE_NO_PAD
            .decode(claims_b64)
            .map_err(|_| JwtError::Malformed("claims are not strict base64url"))?;
        let claims = parse_claims(&claims).map_err(|err| match err {
            ObjectError::Duplicate => JwtError::DuplicateMember("claims"),
            ObjectError::Invalid => JwtError::Malformed("claims are not a JSON object"),
        })?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| JwtError::Malformed("signature is not strict base64url"))?;
        Ok(Self {
            kid,
            typ,
            signing_input: &bytes[..second],
            signature,
            claims,
        })
    }

    /// The header's `kid`, used only as an exact key into the configured key set; `None` when
    /// the header has no `kid` member.
    pub fn unverified_kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The header's `typ` when it is a string; `None` when absent or of another JSON type.
    pub fn unverified_typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// A claim by name, not yet verified.
    pub fn unverified_claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// The `iss` claim when it is a string; read before verification only to pick among
    /// configured issuers.
    pub fn unverified_issuer(&self) -> Option<&str> {
        self.claims.iss.as_ref().and_then(Value::as_str)
    }

    /// `header.payload`: the exact bytes the signature covers.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input
    }

    /// The decoded signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// All claims, not yet verified; for checks that can only reject.
    pub(crate) fn unverified_claims(&self) -> &RawClaims {
        &self.claims
    }

    /// Hands out the claims once the signature has been verified.
    pub(crate) fn into_claims(self) -> RawClaims {
        self.claims
    }
}

/// A `typ` media type in comparable form (RFC 7515 §4.1.9, RFC 8725 §3.11): ASCII
/// lowercase, with the `application/` prefix dropped when the rest has no other `/`, so
/// `JWT`, `jwt` and `application/jwt` are one type.
pub(crate) fn normalize_typ(typ: &str) -> String {
    let lower = typ.trim().to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) if !rest.contains('/') => rest.to_owned(),
        _ => lower,
    }
}

/// Finds the two dots of a compact JWS in one pass; any other count is malformed.
fn dots(bytes: &[u8]) -> Result<(usize, usize), JwtError> {
    let mut found = [0usize; 2];
    let mut count = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'.' {
            if count == 2 {
                return Err(JwtError::Malformed("more than three segments"));
            }
            found[count] = index;
            count += 1;
        }
    }
    if count != 2 {
        return Err(JwtError::Malformed("not three segments"));
    }
    Ok((found[0], found[1]))
}

/// Checks the header and returns its `kid`, `None` when absent. A `kid` that is present but
/// unusable is an error here, whatever the validator's options: only absence can be allowed.
fn check_header(header: HeaderFields) -> Result<Option<String>, JwtError> {
    match &header.alg {
        Some(Value::String(alg)) if alg == "RS256" => {}
        Some(Value::String(alg)) => return Err(JwtError::UnsupportedAlg(escape_untrusted(alg))),
        Some(_) => return Err(JwtError::UnsupportedAlg("(not a string)".into())),
        None => return Err(JwtError::UnsupportedAlg("(missing)".into())),
    }
    if header.crit_or_b64 {
        return Err(JwtError::UnsupportedCrit);
    }
    match header.kid {
        None => Ok(None),
        Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= MAX_KID_BYTES => Ok(Some(kid)),
        Some(_) => Err(JwtError::MissingKid),
    }
}
