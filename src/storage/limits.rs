//! The limits a load enforces, in one place, so a save can refuse what would not load back
//! before it replaces anything.

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::StorageError;

/// Largest token file a load reads (anything larger is not something we wrote); a save whose
/// encrypted file would be larger is refused.
#[cfg(feature = "encrypted-files")]
pub(crate) const MAX_FILE_LEN: u64 = 1024 * 1024;

/// Largest key file a load reads: ours are about 100 bytes, `age-keygen` output about 200.
#[cfg(feature = "encrypted-files")]
pub(crate) const MAX_KEY_FILE_LEN: u64 = 4096;

/// Refuses JSON that loading could not decode because it nests deeper than serde_json's
/// limit of 128 levels (any `Serialize` value can produce such JSON).
pub(crate) fn check_json_depth(slot: &str, json: &[u8]) -> Result<(), StorageError> {
    serde_json::from_slice::<Walk>(json)
        .map(|Walk| ())
        .map_err(|_| StorageError::Unloadable {
            name: slot.to_owned(),
            reason: "its JSON nests deeper than loading accepts (128 levels)",
        })
}

/// Visits any JSON value through `deserialize_any`, so serde_json counts nesting exactly as
/// when decoding a token, without copying its strings (which hold the token).
struct Walk;

impl<'de> Deserialize<'de> for Walk {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WalkVisitor)
    }
}

struct WalkVisitor;

impl<'de> Visitor<'de> for WalkVisitor {
    type Value = Walk;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Walk, E> {
        Ok(Walk)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Walk, E> {
        Ok(Walk)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Walk, E> {
        Ok(Walk)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Walk, E> {
        Ok(Walk)
    }
    fn visit_str<E>(self, _: &str) -> Result<Walk, E> {
        Ok(Walk)
    }
    fn visit_unit<E>(self) -> Result<Walk, E> {
        Ok(Walk)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Walk, A::Error> {
        while seq.next_element::<Walk>()?.is_some() {}
        Ok(Walk)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Walk, A::Error> {
        while map.next_entry::<IgnoredAny, Walk>()?.is_some() {}
        Ok(Walk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn json_depth_matches_what_decoding_accepts() {
        for depth in [1, 127, 128, 129, 500] {
            let json = nested(depth);
            let decodes = serde_json::from_str::<serde_json::Value>(&json).is_ok();
            let checked = check_json_depth("auth", json.as_bytes());
            assert_eq!(checked.is_ok(), decodes, "depth {depth}");
            if !decodes {
                assert!(matches!(checked, Err(StorageError::Unloadable { .. })));
            }
        }
        let object = r#"{"a":{"b":[1,-2,3.5,"s\n",true,null]}}"#;
        assert!(check_json_depth("auth", object.as_bytes()).is_ok());
    }
}
