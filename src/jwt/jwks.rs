//! JWK Sets: [`parse_jwks`] (pure, fuzzed) into a [`JwkSet`] of usable keys by `kid`. The
//! cache that keeps sets by URL is `keyset::cache`.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::error::{escape_untrusted, JwtError};
use super::json::{parse_object, ObjectError};
use super::rs256::{KeyPolicy, VerifyingKey};

/// Most keys a JWKS may hold; bigger documents are refused whole.
pub const MAX_JWKS_KEYS: usize = 100;

/// Members that only private keys have; a JWK carrying any of them is skipped.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

#[derive(Debug, Clone)]
enum Slot {
    Usable(Arc<VerifyingKey>),
    /// Two usable keys share this `kid`; neither may be used.
    Ambiguous,
}

/// The usable keys of a JWKS, parsed once, by `kid`.
#[derive(Debug, Clone, Default)]
pub struct JwkSet {
    /// Ordered rather than hashed: a set holds a few keys, and comparing a `kid` with them
    /// costs less than hashing it.
    keys: BTreeMap<String, Slot>,
    skipped: usize,
}

impl JwkSet {
    /// Number of distinct `kid`s with a usable key (ambiguous ones excluded).
    pub fn len(&self) -> usize {
        self.keys
            .values()
            .filter(|s| matches!(s, Slot::Usable(_)))
            .count()
    }

    /// True when no key is usable.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many JWKs were skipped (wrong type/use/alg, private, refused by the key policy).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The key for `kid`.
    ///
    /// # Errors
    /// [`JwtError::UnknownKey`] or [`JwtError::AmbiguousKey`].
    pub fn get(&self, kid: &str) -> Result<&Arc<VerifyingKey>, JwtError> {
        match self.keys.get(kid) {
            Some(Slot::Usable(key)) => Ok(key),
            Some(Slot::Ambiguous) => Err(JwtError::AmbiguousKey(escape_untrusted(kid))),
            None => Err(JwtError::UnknownKey(escape_untrusted(kid))),
        }
    }

    /// The set's one usable key, when it holds exactly one JWK that passed the filter. Two
    /// keys under one `kid` count as two, so an ambiguous `kid` gives `None`.
    fn only_key(&self) -> Option<&Arc<VerifyingKey>> {
        match self.keys.values().next() {
            Some(Slot::Usable(key)) if self.keys.len() == 1 => Some(key),
            _ => None,
        }
    }

    /// The key `selector` asks for.
    pub(crate) fn select(&self, selector: KeySelector<'_>) -> Result<&Arc<VerifyingKey>, JwtError> {
        match selector {
            KeySelector::Kid(kid) => self.get(kid),
            KeySelector::OnlyKey => self.only_key().ok_or(JwtError::MissingKid),
        }
    }
}

/// Which key of a set a token needs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeySelector<'a> {
    /// The key published under the token's `kid`. Missing from a fresh set, it may trigger
    /// one refetch per cooldown.
    Kid(&'a str),
    /// The set's only usable key, for a token without `kid` when the validator allows it
    /// (`dangerous_allow_missing_kid_if_single_key`). Never triggers a refetch of its own:
    /// with no key or several it is [`JwtError::MissingKid`].
    OnlyKey,
}

impl KeySelector<'_> {
    /// The error when the set has no key for this selector.
    pub(crate) fn not_found(self) -> JwtError {
        match self {
            Self::Kid(kid) => JwtError::UnknownKey(escape_untrusted(kid)),
            Self::OnlyKey => JwtError::MissingKid,
        }
    }
}

/// Parses a JWKS document with the default [`KeyPolicy`] (2048..=4096 bits, e = 65537).
///
/// # Errors
/// See [`parse_jwks_with_policy`].
pub fn parse_jwks(bytes: &[u8]) -> Result<JwkSet, JwtError> {
    parse_jwks_with_policy(bytes, &KeyPolicy::default())
}

/// Parses a JWKS document. Each key is judged on its own: keys that are not RSA, whose `use`
/// is not `sig`, whose `alg` is not `RS256`, whose `key_ops` lack `verify`, that carry private
/// members, have no `kid`, or fail the key policy are skipped; they never fail the set.
///
/// # Errors
/// [`JwtError::JwksInvalid`] when the document is not a JSON object with a `keys` array of at
/// most 100 entries, or has duplicate top-level members.
pub fn parse_jwks_with_policy(bytes: &[u8], policy: &KeyPolicy) -> Result<JwkSet, JwtError> {
    let document = parse_object(bytes).map_err(|err| match err {
        ObjectError::Duplicate => JwtError::JwksInvalid("duplicate member"),
        ObjectError::Invalid => JwtError::JwksInvalid("not a JSON object"),
    })?;
    let Some(Value::Array(entries)) = document.get("keys") else {
        return Err(JwtError::JwksInvalid("no `keys` array"));
    };
    if entries.len() > MAX_JWKS_KEYS {
        return Err(JwtError::JwksInvalid("too many keys"));
    }
    let mut set = JwkSet::default();
    for entry in entries {
        match entry.as_object().and_then(|jwk| usable_key(jwk, policy)) {
            Some((kid, key)) => {
                let slot = set.keys.entry(kid.to_owned());
                slot.and_modify(|s| *s = Slot::Ambiguous)
                    .or_insert_with(|| Slot::Usable(Arc::new(key)));
            }
            None => set.skipped += 1,
        }
    }
    Ok(set)
}

/// The `kid` and key of one JWK, or `None` when the JWK must be skipped.
fn usable_key<'a>(
    jwk: &'a Map<String, Value>,
    policy: &KeyPolicy,
) -> Option<(&'a str, VerifyingKey)> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let absent_or = |name: &str, wanted: &str| match jwk.get(name) {
        None => true,
        Some(value) => value.as_str() == Some(wanted),
    };
    if text("kty") != Some("RSA") || !absent_or("use", "sig") || !absent_or("alg", "RS256") {
        return None;
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops.as_array()?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return None;
        }
    }
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return None;
    }
    let kid = text("kid").filter(|kid| !kid.is_empty() && kid.len() <= 256)?;
    let n = URL_SAFE_NO_PAD.decode(text("n")?).ok()?;
    let e = URL_SAFE_NO_PAD.decode(text("e")?).ok()?;
    let key = VerifyingKey::from_components(&n, &e, policy).ok()?;
    Some((kid, key))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// RFC 7517 Appendix A.1's 2048-bit modulus.
    pub(crate) const A1_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

    #[test]
    fn jwk_filter_skips_unfit_keys_and_flags_duplicate_kids() {
        let key =
            |extra: &str| format!(r#"{{"kty":"RSA","kid":"k","n":"{A1_N}","e":"AQAB"{extra}}}"#);
        for extra in [
            r#","use":"enc""#,
            r#","alg":"RS384""#,
            r#","key_ops":["sign"]"#,
            r#","d":"AQAB""#,
            r#","kid":"""#,
        ] {
            let doc = format!(
                r#"{{"keys":[{}]}}"#,
                key(extra).replace(
                    r#""kid":"k","#,
                    if extra.contains("kid") {
                        ""
                    } else {
                        r#""kid":"k","#
                    }
                )
            );
            let set = parse_jwks(doc.as_bytes()).unwrap();
            assert_eq!((set.len(), set.skipped()), (0, 1), "{extra}");
        }
        let doc = format!(
            r#"{{"keys":[{},{}]}}"#,
            key(""),
            key(r#","key_ops":["verify"]"#)
        );
        let set = parse_jwks(doc.as_bytes()).unwrap();
        assert!(matches!(set.get("k"), Err(JwtError::AmbiguousKey(_))));
        let padded = format!(r#"{{"keys":[{}]}}"#, key("").replace("AQAB", "AQAB=="));
        assert_eq!(parse_jwks(padded.as_bytes()).unwrap().skipped(), 1);
    }
}
