//! A JSON object parsed with duplicate member names rejected.
//!
//! `serde_json::Value` keeps the last of two equal member names; a verifier and another
//! consumer of the same token could then disagree about a claim. [`parse_object`] refuses them.

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

/// Parses `bytes` as exactly one JSON object (no BOM, no trailing data, serde_json's nesting
/// limit of 128), refusing duplicate top-level member names.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ObjectError> {
    match serde_json::from_slice::<Strict>(bytes) {
        Ok(Strict(map)) => Ok(map),
        Err(err) if err.is_data() && err.to_string().starts_with(DUPLICATE) => {
            Err(ObjectError::Duplicate)
        }
        Err(_) => Err(ObjectError::Invalid),
    }
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
