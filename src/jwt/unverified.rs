//! Parsing a compact JWS from untrusted input, before anything is verified. Pure; fuzzed.

use std::fmt;
use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::error::{escape_untrusted, JwtError};
use super::json::{
    parse_claims, parse_header, parse_object, HeaderFields, ObjectError, RawClaims, Sent,
};

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
    /// The decoded header, claims and signature, one after the other: one allocation.
    decoded: Vec<u8>,
    /// Where the claims start in `decoded`.
    claims_at: usize,
    /// Where the signature starts in `decoded`.
    signature_at: usize,
    claims: RawClaims,
    /// Every claim as a [`Value`], parsed from the decoded claims when first asked for.
    every_claim: OnceLock<Map<String, Value>>,
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
        let (first, second) = dots(token)?;
        let bytes = token.as_bytes();
        let header_b64 = &bytes[..first];
        let claims_b64 = &bytes[first + 1..second];
        let signature_b64 = &bytes[second + 1..];
        if header_b64.is_empty() || claims_b64.is_empty() || signature_b64.is_empty() {
            return Err(JwtError::Malformed("empty segment"));
        }

        // One buffer for all three segments, decoded and checked in order.
        let header_len = decoded_len(header_b64);
        let claims_len = decoded_len(claims_b64);
        let mut decoded = vec![0; header_len + claims_len + decoded_len(signature_b64)];
        let (header, rest) = decoded.split_at_mut(header_len);
        decode(header_b64, header, "header is not strict base64url")?;
        let (kid, typ) = read_header(header)?;
        let (claims, signature) = rest.split_at_mut(claims_len);
        decode(claims_b64, claims, "claims are not strict base64url")?;
        let claims = parse_claims(claims).map_err(|err| match err {
            ObjectError::Duplicate => JwtError::DuplicateMember("claims"),
            ObjectError::Invalid => JwtError::Malformed("claims are not a JSON object"),
        })?;
        decode(
            signature_b64,
            signature,
            "signature is not strict base64url",
        )?;
        Ok(Self {
            kid,
            typ,
            signing_input: &bytes[..second],
            decoded,
            claims_at: header_len,
            signature_at: header_len + claims_len,
            claims,
            every_claim: OnceLock::new(),
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
        self.every_claim
            .get_or_init(|| {
                // These bytes parsed into `claims` already, so they parse again.
                parse_object(&self.decoded[self.claims_at..self.signature_at]).unwrap_or_default()
            })
            .get(name)
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
        &self.decoded[self.signature_at..]
    }

    /// All claims, not yet verified; for checks that can only reject.
    pub(crate) fn unverified_claims(&self) -> &RawClaims {
        &self.claims
    }

    /// Hands out the claims, and the `kid` they were verified under, once the signature has
    /// been verified.
    pub(crate) fn into_claims(self) -> (RawClaims, Option<String>) {
        (self.claims, self.kid)
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
fn dots(token: &str) -> Result<(usize, usize), JwtError> {
    let not_three = || JwtError::Malformed("not three segments");
    let first = token.find('.').ok_or_else(not_three)?;
    let second = first + 1 + token[first + 1..].find('.').ok_or_else(not_three)?;
    if token[second + 1..].contains('.') {
        return Err(JwtError::Malformed("more than three segments"));
    }
    Ok((first, second))
}

/// The exact decoded length of an unpadded base64url segment (a length that no encoding
/// has, `4n + 1`, fails to decode anyway).
fn decoded_len(segment: &[u8]) -> usize {
    segment.len() / 4 * 3 + [0, 0, 1, 2][segment.len() % 4]
}

/// Decodes a strict base64url segment into `out`, which is exactly its decoded length.
fn decode(segment: &[u8], out: &mut [u8], malformed: &'static str) -> Result<(), JwtError> {
    match URL_SAFE_NO_PAD.decode_slice(segment, out) {
        Ok(len) if len == out.len() => Ok(()),
        _ => Err(JwtError::Malformed(malformed)),
    }
}

/// Parses and checks the decoded header; returns its `kid` (`None` when absent) and `typ`
/// (when a string).
fn read_header(header: &[u8]) -> Result<(Option<String>, Option<String>), JwtError> {
    let header = parse_header(header).map_err(|err| match err {
        ObjectError::Duplicate => JwtError::DuplicateMember("header"),
        ObjectError::Invalid => JwtError::Malformed("header is not a JSON object"),
    })?;
    let typ = match &header.typ {
        Some(Sent::Text(typ)) => Some(typ.as_ref().to_owned()),
        _ => None,
    };
    Ok((check_header(header)?, typ))
}

/// Checks the header and returns its `kid`, `None` when absent. A `kid` that is present but
/// unusable is an error here, whatever the validator's options: only absence can be allowed.
fn check_header(header: HeaderFields<'_>) -> Result<Option<String>, JwtError> {
    match &header.alg {
        Some(Sent::Text(alg)) if alg == "RS256" => {}
        Some(Sent::Text(alg)) => return Err(JwtError::UnsupportedAlg(escape_untrusted(alg))),
        Some(_) => return Err(JwtError::UnsupportedAlg("(not a string)".into())),
        None => return Err(JwtError::UnsupportedAlg("(missing)".into())),
    }
    if header.crit_or_b64 {
        return Err(JwtError::UnsupportedCrit);
    }
    match header.kid {
        None => Ok(None),
        Some(Sent::Text(kid)) if !kid.is_empty() && kid.len() <= MAX_KID_BYTES => {
            Ok(Some(kid.into_owned()))
        }
        Some(_) => Err(JwtError::MissingKid),
    }
}
