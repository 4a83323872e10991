//! JSON objects parsed with duplicate member names rejected: any object ([`parse_object`]),
//! and the JOSE header and JWT claims, read in one pass into the fields the verifier uses.
//!
//! `serde_json::Value` keeps the last of two equal member names; a verifier and another
//! consumer of the same token could then disagree about a claim. These parsers refuse them.

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::SeqAccessDeserializer;
use serde::de::{self, Deserialize as _, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::identity::{TeamInfo, UserInfo};

mod scan;

#[cfg(any(test, fuzzing))]
pub(crate) use scan::read_as_serde_json_reads;

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

/// A member name, borrowed from the input unless it had escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(name)))
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(name.to_owned())))
            }
            fn visit_string<E: de::Error>(self, name: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(name)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// An object of string members that a claim holds when it has its usual shape (`user`,
/// `team`): read into its type directly, without building a [`Value`] first.
pub(crate) trait Record: Sized {
    /// The member names, in the order of [`Record::Slots`].
    const NAMES: &'static [&'static str];
    /// One slot per name.
    type Slots: Default + AsMut<[Option<String>]> + IntoIterator<Item = Option<String>>;
    /// The record, when every slot is filled; else the slots back.
    fn build(slots: Self::Slots) -> Result<Self, Self::Slots>;
}

impl Record for UserInfo {
    const NAMES: &'static [&'static str] = &["id", "email", "name"];
    type Slots = [Option<String>; 3];
    fn build(slots: Self::Slots) -> Result<Self, Self::Slots> {
        match slots {
            [Some(id), Some(email), Some(name)] => Ok(Self { id, email, name }),
            slots => Err(slots),
        }
    }
}

impl Record for TeamInfo {
    const NAMES: &'static [&'static str] = &["id", "name"];
    type Slots = [Option<String>; 2];
    fn build(slots: Self::Slots) -> Result<Self, Self::Slots> {
        match slots {
            [Some(id), Some(name)] => Ok(Self { id, name }),
            slots => Err(slots),
        }
    }
}

/// A value is never a header record.
impl Record for Infallible {
    const NAMES: &'static [&'static str] = &[];
    type Slots = [Option<String>; 0];
    fn build(slots: Self::Slots) -> Result<Self, Self::Slots> {
        Err(slots)
    }
}

/// One JSON value as sent, read in a single pass: a string (borrowed from the input unless
/// it had escapes), a `T` when it is an object of exactly `T`'s string members, or else the
/// [`Value`] that `serde_json` itself would build (same nesting limit, same last-wins inner
/// members), so every verdict is the one a [`Value`] would give.
pub(crate) enum Sent<'de, T> {
    Text(Cow<'de, str>),
    Record(T),
    Other(Value),
}

impl<T> Sent<'_, T> {
    /// The record, or the value as sent when it is not one.
    pub fn into_record(self) -> Result<T, Value> {
        match self {
            Sent::Record(record) => Ok(record),
            Sent::Text(text) => Err(Value::String(text.into_owned())),
            Sent::Other(value) => Err(value),
        }
    }
}

impl<'de, T: Record> de::Deserialize<'de> for Sent<'de, T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SentVisitor(PhantomData))
    }
}

struct SentVisitor<T>(PhantomData<T>);

impl<'de, T: Record> Visitor<'de> for SentVisitor<T> {
    type Value = Sent<'de, T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Sent::Text(Cow::Borrowed(text)))
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Sent::Text(Cow::Owned(text.to_owned())))
    }
    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Sent::Text(Cow::Owned(text)))
    }
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Sent::Other(Value::Bool(value)))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Sent::Other(Value::from(value)))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Sent::Other(Value::from(value)))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Sent::Other(Value::from(value)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Sent::Other(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Sent::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut slots = T::Slots::default();
        while let Some(Name(name)) = access.next_key()? {
            let value: Sent<'de, Infallible> = access.next_value()?;
            let slot = T::NAMES
                .iter()
                .position(|wanted| *wanted == name)
                .and_then(|index| slots.as_mut().get_mut(index))
                .filter(|slot| slot.is_none());
            match (slot, value) {
                (Some(slot), Sent::Text(text)) => *slot = Some(text.into_owned()),
                // Not the record's shape: the rest is read as `Value` reads it.
                (_, value) => {
                    let mut object = filled(T::NAMES, slots);
                    object.insert(name.into_owned(), value.into_value());
                    while let Some((name, value)) = access.next_entry::<String, Value>()? {
                        object.insert(name, value);
                    }
                    return Ok(Sent::Other(Value::Object(object)));
                }
            }
        }
        Ok(match T::build(slots) {
            Ok(record) => Sent::Record(record),
            Err(slots) => Sent::Other(Value::Object(filled(T::NAMES, slots))),
        })
    }
}

/// The members read so far into the slots of a record, as an object.
fn filled<S: IntoIterator<Item = Option<String>>>(names: &[&str], slots: S) -> Map<String, Value> {
    names
        .iter()
        .zip(slots)
        .filter_map(|(name, slot)| Some(((*name).to_owned(), Value::String(slot?))))
        .collect()
}

/// A header member the verifier reads: a string, or another JSON value.
pub(crate) type HeaderValue<'de> = Sent<'de, Infallible>;

impl HeaderValue<'_> {
    /// The value as `serde_json` would have built it.
    fn into_value(self) -> Value {
        match self.into_record() {
            Ok(never) => match never {},
            Err(value) => value,
        }
    }
}

/// The header members the verifier reads, borrowed from the decoded header; every other
/// member is checked for syntax and duplicates, then ignored (notably `jku`, `x5u`, `jwk`,
/// `x5c`: never used to find a key).
#[derive(Default)]
pub(crate) struct HeaderFields<'de> {
    /// `alg`, whatever its JSON type.
    pub alg: Option<HeaderValue<'de>>,
    /// `kid`, whatever its JSON type.
    pub kid: Option<HeaderValue<'de>>,
    /// `typ`, whatever its JSON type.
    pub typ: Option<HeaderValue<'de>>,
    /// `crit` or `b64` is present.
    pub crit_or_b64: bool,
}

impl<'de> de::Deserialize<'de> for HeaderFields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeaderVisitor;
        impl<'de> Visitor<'de> for HeaderVisitor {
            type Value = HeaderFields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut fields = HeaderFields::default();
                let (mut crit, mut b64) = (false, false);
                // Other names are rare: kept only to refuse their duplicates.
                let mut others: Vec<Cow<'de, str>> = Vec::new();
                while let Some(Name(name)) = access.next_key()? {
                    match name.as_ref() {
                        "alg" => read_once(&mut fields.alg, &mut access)?,
                        "kid" => read_once(&mut fields.kid, &mut access)?,
                        "typ" => read_once(&mut fields.typ, &mut access)?,
                        "crit" => skip_once(&mut crit, &mut access)?,
                        "b64" => skip_once(&mut b64, &mut access)?,
                        _ => {
                            let mut seen = others.contains(&name);
                            skip_once(&mut seen, &mut access)?;
                            others.push(name);
                        }
                    }
                }
                fields.crit_or_b64 = crit || b64;
                Ok(fields)
            }
        }
        deserializer.deserialize_map(HeaderVisitor)
    }
}

/// Reads a header member's value into its slot; a second one is a duplicate.
fn read_once<'de, A: MapAccess<'de>>(
    slot: &mut Option<HeaderValue<'de>>,
    access: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::custom(DUPLICATE));
    }
    *slot = Some(access.next_value()?);
    Ok(())
}

/// Skips a header member's value after marking it `seen`; one already seen is a duplicate.
fn skip_once<'de, A: MapAccess<'de>>(seen: &mut bool, access: &mut A) -> Result<(), A::Error> {
    if std::mem::replace(seen, true) {
        return Err(de::Error::custom(DUPLICATE));
    }
    access.next_value::<de::IgnoredAny>()?;
    Ok(())
}

/// JWT claims as parsed before verification: the registered claims the verifier types sit in
/// fixed slots (no map insertions on the hot path), `user` and `team` already typed when they
/// have their usual shape, every other claim in `extra`. Duplicate names are refused across
/// all of them.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RawClaims {
    pub iss: Option<Value>,
    pub sub: Option<Value>,
    pub aud: Option<Value>,
    pub exp: Option<Value>,
    pub nbf: Option<Value>,
    pub iat: Option<Value>,
    /// The record, or the value as sent when it is not a `user` object.
    pub user: Option<Result<UserInfo, Value>>,
    /// The record, or the value as sent when it is not a `team` object.
    pub team: Option<Result<TeamInfo, Value>>,
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
            _ => return None,
        })
    }

    /// Whether the claim `name` is present and not `null`.
    pub fn is_set(&self, name: &str) -> bool {
        let value = match name {
            "iss" => self.iss.as_ref(),
            "sub" => self.sub.as_ref(),
            "aud" => self.aud.as_ref(),
            "exp" => self.exp.as_ref(),
            "nbf" => self.nbf.as_ref(),
            "iat" => self.iat.as_ref(),
            "user" => return record_is_set(&self.user),
            "team" => return record_is_set(&self.team),
            _ => self.extra.get(name),
        };
        value.is_some_and(|value| !value.is_null())
    }
}

fn record_is_set<T>(record: &Option<Result<T, Value>>) -> bool {
    match record {
        Some(Ok(_)) => true,
        Some(Err(value)) => !value.is_null(),
        None => false,
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
                while let Some(Name(name)) = access.next_key()? {
                    let duplicate = match name.as_ref() {
                        "user" => claims.user.replace(record(&mut access)?).is_some(),
                        "team" => claims.team.replace(record(&mut access)?).is_some(),
                        _ => {
                            let value: Value = access.next_value()?;
                            match claims.slot(&name) {
                                Some(slot) => slot.replace(value).is_some(),
                                None => claims.extra.insert(name.into_owned(), value).is_some(),
                            }
                        }
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

/// A member's value read as a `T` record, or as sent.
fn record<'de, T: Record, A: MapAccess<'de>>(access: &mut A) -> Result<Result<T, Value>, A::Error> {
    access.next_value::<Sent<'de, T>>().map(Sent::into_record)
}

/// Parses a JWT claims set like [`parse_object`] into [`RawClaims`].
pub(crate) fn parse_claims(bytes: &[u8]) -> Result<RawClaims, ObjectError> {
    match scan::claims(bytes) {
        Some(claims) => Ok(claims),
        None => serde_json::from_slice::<RawClaims>(bytes).map_err(classify),
    }
}

/// Parses a JOSE header like [`parse_object`], keeping only the members the verifier reads.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<HeaderFields<'_>, ObjectError> {
    match scan::header(bytes) {
        Some(header) => Ok(header),
        None => serde_json::from_slice::<HeaderFields<'_>>(bytes).map_err(classify),
    }
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
pub(crate) mod tests {
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
            (claims.iss, claims.extra.get("scope")),
            (Some(Value::from("a")), Some(&Value::from("b")))
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

    /// Hostile JSON for one member's value: nesting, escapes, duplicates, wrong types, huge
    /// numbers, invalid UTF-8 and lone surrogates.
    pub(crate) fn hostile_values() -> Vec<Vec<u8>> {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let mut values: Vec<Vec<u8>> = [
            r#""x""#,
            r#""a\"b\\c\u00e9\ud83d\ude00""#,
            r#""\ud800""#,
            r#""""#,
            "null",
            "true",
            "0",
            "-1",
            "1.5",
            "1e400",
            "18446744073709551616",
            "[]",
            r#"["1","e","n"]"#,
            r#"["1","e"]"#,
            r#"["1","e","n","x"]"#,
            "{}",
            r#"{"id":"1","email":"e","name":"n"}"#,
            r#"{"id":"1","name":"n"}"#,
            r#"{"i\u0064":"1","email":"e","name":"n"}"#,
            r#"{"id":"1","id":"2","email":"e","name":"n"}"#,
            r#"{"id":5,"id":"2","email":"e","name":"n"}"#,
            r#"{"id":"1","email":"e","name":"n","id":7}"#,
            r#"{"id":"1","email":"e","name":"n","extra":{"a":[1,{"b":null}]}}"#,
            r#"{"id":1,"email":"e","name":"n"}"#,
            r#"{"id":"1","email":"e","name":null}"#,
            r#"{"id":"1","email":"e","name":"n","x":"\ud800"}"#,
            r#"{"a":1,"a":2}"#,
        ]
        .iter()
        .map(|value| value.as_bytes().to_vec())
        .collect();
        values.push(deep.clone().into_bytes());
        values.push(format!(r#"{{"id":{deep}}}"#).into_bytes());
        values.push(format!(r#"{{"id":"1","email":"e","name":"n","x":{deep}}}"#).into_bytes());
        values.push(b"\"\xff\"".to_vec());
        values.push(b"{\"id\":\"\xff\",\"email\":\"e\",\"name\":\"n\"}".to_vec());
        values.push(b"{\"id\":\"1\",\"email\":\"e\",\"name\":\"n\",\"x\":\"\xc3\"}".to_vec());
        values
    }

    /// `{"<name>":<value>}` and variants around it: other members, the name twice.
    pub(crate) fn objects_around(name: &str, value: &[u8]) -> Vec<Vec<u8>> {
        let wrap = |before: &str, after: &str| {
            [
                format!(r#"{{{before}"{name}":"#).as_bytes(),
                value,
                format!("{after}}}").as_bytes(),
            ]
            .concat()
        };
        vec![
            wrap("", ""),
            wrap(r#""a":1, "#, r#", "b":[2]"#),
            wrap(&format!(r#""{name}":null,"#), ""),
            wrap("", &format!(r#","{name}":1"#)),
            wrap("", " x"),
        ]
    }

    fn same_verdict<T>(
        old: &Result<T, ObjectError>,
        new: &Result<impl Sized, ObjectError>,
    ) -> bool {
        matches!(
            (old, new),
            (Ok(_), Ok(_))
                | (Err(ObjectError::Invalid), Err(ObjectError::Invalid))
                | (Err(ObjectError::Duplicate), Err(ObjectError::Duplicate))
        )
    }

    #[test]
    fn header_members_read_as_a_value_would_read_them() {
        // Other members are skipped unread, as ever; these three are read as values.
        for name in ["alg", "kid", "typ"] {
            for value in hostile_values() {
                let repeated = format!(r#"{{"{name}":null,"#);
                for header in objects_around(name, &value) {
                    if header.starts_with(repeated.as_bytes()) {
                        // A repeated header member is refused before its value is read.
                        assert!(matches!(parse_header(&header), Err(ObjectError::Duplicate)));
                        continue;
                    }
                    let old = parse_object(&header);
                    let new = parse_header(&header);
                    let shown = String::from_utf8_lossy(&header);
                    assert!(same_verdict(&old, &new), "{shown}");
                    let (Ok(old), Ok(new)) = (old, new) else {
                        continue;
                    };
                    let read = [("alg", new.alg), ("kid", new.kid), ("typ", new.typ)];
                    for (member, sent) in read {
                        let sent = sent.map(HeaderValue::into_value);
                        assert_eq!(sent.as_ref(), old.get(member), "{member} in {shown}");
                    }
                }
            }
        }
    }
}
