//! Serde helpers for the server's loose typing: ids as numbers or strings, counts that may
//! be anything, 0/1 flags. Every resource type parses through these.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An optional id given as a string or a number; kept as a string.
pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// An id given as a string or a number, empty when absent or `null` (fields older
/// shapes lack).
pub(crate) fn id_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_id(d)?.unwrap_or_default())
}

/// A required id given as a string or a number; kept as a string.
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_id(d)?.ok_or_else(|| serde::de::Error::custom("id must be a string or a number"))
}

/// An optional count or number of seconds (page numbers, totals, `expires_in`): a JSON
/// integer or an integer string that fits `T`. Anything else (negative, fractional, huge,
/// `1e308`, text) reads as absent, so one odd number from a server never fails a whole
/// response and never reaches arithmetic.
pub(crate) fn opt_uint<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    let number = match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    Ok(number.and_then(|n| T::try_from(n).ok()))
}

/// `true`: the serde default of flags that are on unless the server says otherwise.
pub(crate) fn yes() -> bool {
    true
}

/// An optional boolean given as `true`/`false` or `0`/`1`.
pub(crate) fn opt_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::Number(n)) => Some(n.as_i64() != Some(0)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn hostile_counts_read_as_absent_never_as_errors() {
        #[derive(Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "opt_uint")]
            n: Option<u32>,
        }
        let n = |json: &str| serde_json::from_str::<T>(&format!(r#"{{"n":{json}}}"#)).map(|t| t.n);
        assert_eq!(n("7").unwrap(), Some(7));
        assert_eq!(n(r#"" 7 ""#).unwrap(), Some(7));
        assert_eq!(n("4294967295").unwrap(), Some(u32::MAX));
        for hostile in [
            "0.5",
            "-1",
            "4294967296",
            "18446744073709551615",
            "-9223372036854775808",
            "1e308",
            "-1e308",
            r#""NaN""#,
            r#""many""#,
            "null",
            "true",
            "[1]",
            r#"{"a":1}"#,
        ] {
            assert_eq!(n(hostile).unwrap(), None, "{hostile}");
        }
        assert_eq!(n("0").unwrap(), Some(0));
    }

    #[test]
    fn ids_may_be_numbers_or_strings() {
        #[derive(Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "opt_id")]
            id: Option<String>,
        }
        let a: T = serde_json::from_str(r#"{"id":42}"#).unwrap();
        let b: T = serde_json::from_str(r#"{"id":"01HZ"}"#).unwrap();
        let c: T = serde_json::from_str(r#"{"id":null}"#).unwrap();
        assert_eq!(
            (a.id.as_deref(), b.id.as_deref(), c.id),
            (Some("42"), Some("01HZ"), None)
        );
    }
}
