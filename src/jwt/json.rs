//! A JSON object parsed with duplicate member names rejected.
//!
//! `serde_json::Value` keeps the last of two equal member names; a verifier and another
//! consumer of the same token could then disagree about a claim. [`parse_object`] refuses them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// Why [`parse_object`] refused its input.
pub(crate) enum ObjectError {
    /// Not a single JSON object (syntax, trailing data, too deep, not an object).
    Invalid,
    /// A top-level member name appears twice.
    Duplicate,
}

struct Strict(Map<String, Value>);

const DUPLICATE: &str = "duplicate member";

impl<'de> de::Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Strict;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Strict, A::Error> {
                let mut map = Map::new();
                while let Some(name) = access.next_key::<String>()? {
                    let value: Value = access.next_value()?;
                    if map.insert(name, value).is_some() {
                        return Err(de::Error::custom(DUPLICATE));
                    }
                }
                Ok(Strict(map))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// The header members the verifier reads; every other member is checked for syntax and
/// duplicates, then ignored (notably `jku`, `x5u`, `jwk`, `x5c`: never used to find a key).
pub(crate) struct HeaderFields {
    /// `alg`, whatever its JSON type.
    pub alg: Option<Value>,
    /// `kid`, whatever its JSON type.
    pub kid: Option<Value>,
    /// `typ`, whatever its JSON type.
    pub typ: Option<Value>,
    /// `crit` or `b64` is present.
    pub crit_or_b64: bool,
}

impl<'de> de::Deserialize<'de> for HeaderFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeaderVisitor;
        impl<'de> Visitor<'de> for HeaderVisitor {
            type Value = HeaderFields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<HeaderFields, A::Error> {
                // Headers have a handful of members: a linear duplicate scan beats a map.
                let mut seen: Vec<Cow<'de, str>> = Vec::with_capacity(4);
                let mut fields = HeaderFields {
                    alg: None,
                    kid: None,
                    typ: None,
                    crit_or_b64: false,
                };
                while let Some(name) = access.next_key::<Cow<'de, str>>()? {
                    if seen.contains(&name) {
                        return Err(de::Error::custom(DUPLICATE));
                    }
                    match name.as_ref() {
                        "alg" => fields.alg = Some(access.next_value()?),
                        "kid" => fields.kid = Some(access.next_value()?),
                        "typ" => fields.typ = Some(access.next_value()?),
                        "crit" | "b64" => {
                            fields.crit_or_b64 = true;
                            access.next_value::<de::IgnoredAny>()?;
                        }
                        _ => {
                            access.next_value::<de::IgnoredAny>()?;
                        }
                    }
                    seen.push(name);
                }
                Ok(fields)
            }
        }
        deserializer.deserialize_map(HeaderVisitor)
    }
}

/// JWT claims as parsed before verification: the registered claims the verifier types sit in
/// fixed slots (no map insertions on the hot path), every other claim in `extra`. Duplicate
/// names are refused across both.
#[derive(Debug, Default)]
pub(crate) struct RawClaims {
    pub iss: Option<Value>,
    pub sub: Option<Value>,
    pub aud: Option<Value>,
    pub exp: Option<Value>,
    pub nbf: Option<Value>,
    pub iat: Option<Value>,
    pub user: Option<Value>,
    pub team: Option<Value>,
    pub extra: Map<String, Value>,
}

impl RawClaims {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Value>> {
        Some(match name {
            "iss" => &mut self.iss,
            "sub" => &mut self.sub,
            "aud" => &mut self.aud,
            "exp" => &mut self.exp,
            "nbf" => &mut self.nbf,
            "iat" => &mut self.iat,
            "user" => &mut self.user,
            "team" => &mut self.team,
            _ => return None,
        })
    }

    /// Any claim by name, as sent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match name {
            "iss" => self.iss.as_ref(),
            "sub" => self.sub.as_ref(),
            "aud" => self.aud.as_ref(),
            "exp" => self.exp.as_ref(),
            "nbf" => self.nbf.as_ref(),
            "iat" => self.iat.as_ref(),
            "user" => self.user.as_ref(),
            "team" => self.team.as_ref(),
            _ => self.extra.get(name),
        }
    }
}

impl<'de> de::Deserialize<'de> for RawClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ClaimsVisitor;
        impl<'de> Visitor<'de> for ClaimsVisitor {
            type Value = RawClaims;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<RawClaims, A::Error> {
                let mut claims = RawClaims::default();
                while let Some(name) = access.next_key::<Cow<'de, str>>()? {
                    let value: Value = access.next_value()?;
                    let duplicate = match claims.slot(&name) {
                        Some(slot) => slot.replace(value).is_some(),
                        None => claims.extra.insert(name.into_owned(), value).is_some(),
                    };
                    if duplicate {
                        return Err(de::Error::custom(DUPLICATE));
                    }
                }
                Ok(claims)
            }
        }
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

/// Parses a JWT claims set like [`parse_object`] into [`RawClaims`].
pub(crate) fn parse_claims(bytes: &[u8]) -> Result<RawClaims, ObjectError> {
    serde_json::from_slice::<RawClaims>(bytes).map_err(classify)
}

/// Parses a JOSE header like [`parse_object`], keeping only the members the verifier reads.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<HeaderFields, ObjectError> {
    serde_json::from_slice::<HeaderFields>(bytes).map_err(classify)
}

fn classify(err: serde_json::Error) -> ObjectError {
    if err.is_data() && err.to_string().starts_with(DUPLICATE) {
        ObjectError::Duplicate
    } else {
        ObjectError::Invalid
    }
}

/// Parses `bytes` as exactly one JSON object (no BOM, no trailing data, serde_json's nesting
/// limit of 128), refusing duplicate top-level member names.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ObjectError> {
    serde_json::from_slice::<Strict>(bytes)
        .map(|Strict(map)| map)
        .map_err(classify)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused_and_distinct_names_kept() {
        assert!(matches!(
            parse_object(br#"{"a":1,"a":2}"#),
            Err(ObjectError::Duplicate)
        ));
        for dup in [
            &br#"{"iss":null,"iss":"x"}"#[..],
            br#"{"x":1,"x":1}"#,
            br#"{"sub":1,"s\u0075b":1}"#,
        ] {
            assert!(matches!(parse_claims(dup), Err(ObjectError::Duplicate)));
        }
        let claims = parse_claims(br#"{"iss":"a","scope":"b"}"#)
            .ok()
            .unwrap_or_default();
        assert_eq!(
            (claims.get("iss"), claims.get("scope")),
            (Some(&Value::from("a")), Some(&Value::from("b")))
        );
        assert_eq!(
            parse_object(br#"{"a":1,"b":{"a":2}}"#)
                .ok()
                .map(|m| m.len()),
            Some(2)
        );
        for bad in [&b"[1]"[..], b"{} x", b"\xef\xbb\xbf{}", b"", b"{\"a\":1"] {
            assert!(matches!(parse_object(bad), Err(ObjectError::Invalid)));
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
        assert!(matches!(
            parse_object(deep.as_bytes()),
            Err(ObjectError::Invalid)
        ));
    }
}
