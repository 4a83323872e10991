//! A quick reader for the shape nearly every header and claims set has: one object of
//! members whose values are plain strings (no escapes) or unsigned integers, with `user` and
//! `team` objects of plain strings. It gives up (`None`) on anything else — escapes, other
//! value types, a repeated name, a number `serde_json` would read as a float, invalid UTF-8 —
//! and the caller then parses with `serde_json`. What it does read, it reads exactly as
//! `serde_json` does, so which of the two parsed never changes a verdict.

use std::borrow::Cow;

use serde_json::Value;

use super::{HeaderFields, RawClaims, Record, Sent};

/// Most header members read here; a longer header goes to `serde_json`.
const MAX_HEADER_MEMBERS: usize = 8;

/// A position in a UTF-8 text.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn new(bytes: &'a [u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        Some(Self { text, at: 0 })
    }

    /// The next byte after JSON whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.at) {
            self.at += 1;
        }
        bytes.get(self.at).copied()
    }

    /// Consumes `byte`, after whitespace.
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string without escapes or control characters, after whitespace.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let length = self.text.as_bytes()[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        self.at = start + length;
        // Right here, not after whitespace: a raw tab inside a string is refused.
        if self.text.as_bytes()[self.at] != b'"' {
            return None;
        }
        self.at += 1;
        Some(&self.text[start..start + length])
    }

    /// An unsigned integer that `serde_json` reads as a `u64`: no sign, no leading zero, no
    /// fraction or exponent, not above `u64::MAX`.
    fn unsigned(&mut self) -> Option<u64> {
        let digits = self.text.as_bytes()[self.at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let number = &self.text[self.at..self.at + digits];
        if digits == 0 || (digits > 1 && number.starts_with('0')) {
            return None;
        }
        self.at += digits;
        if matches!(self.text.as_bytes().get(self.at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        number.parse().ok()
    }

    /// A string or an unsigned integer, as a [`Value`].
    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => self.string().map(|text| Value::String(text.to_owned())),
            _ => self.unsigned().map(Value::from),
        }
    }

    /// An object, handing each member's name to `member`, which reads its value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let name = self.string()?;
            self.eat(b':')?;
            member(self, name)?;
            if self.eat(b'}').is_some() {
                return Some(());
            }
            self.eat(b',')?;
        }
    }

    /// An object of exactly `T`'s members, each a string once.
    fn record<T: Record>(&mut self) -> Option<T> {
        let mut slots = T::Slots::default();
        self.object(|scanner, name| {
            let index = T::NAMES.iter().position(|wanted| *wanted == name)?;
            let slot = slots
                .as_mut()
                .get_mut(index)
                .filter(|slot| slot.is_none())?;
            *slot = Some(scanner.string()?.to_owned());
            Some(())
        })?;
        T::build(slots).ok()
    }

    /// `user` or `team`: the record, or a string or integer as sent.
    fn record_or_value<T: Record>(&mut self) -> Option<Result<T, Value>> {
        match self.peek()? {
            b'{' => self.record().map(Ok),
            _ => self.value().map(Err),
        }
    }

    /// Nothing but whitespace is left.
    fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }
}

/// The header, when it is an object of plain strings and integers without `crit` or `b64`.
pub(super) fn header(bytes: &[u8]) -> Option<HeaderFields<'_>> {
    let mut scanner = Scanner::new(bytes)?;
    let mut fields = HeaderFields::default();
    let mut names = [""; MAX_HEADER_MEMBERS];
    let mut count = 0;
    scanner.object(|scanner, name| {
        if names[..count].contains(&name) {
            return None;
        }
        *names.get_mut(count)? = name;
        count += 1;
        let slot = match name {
            "alg" => &mut fields.alg,
            "kid" => &mut fields.kid,
            "typ" => &mut fields.typ,
            "crit" | "b64" => return None,
            _ => return scanner.value().map(drop),
        };
        *slot = Some(Sent::Text(Cow::Borrowed(scanner.string()?)));
        Some(())
    })?;
    scanner.end()?;
    Some(fields)
}

/// The claims, when they are an object of plain strings and integers, with `user` and
/// `team` records.
pub(super) fn claims(bytes: &[u8]) -> Option<RawClaims> {
    let mut scanner = Scanner::new(bytes)?;
    let mut claims = RawClaims::default();
    scanner.object(|scanner, name| {
        let fresh = match name {
            "user" => claims.user.replace(scanner.record_or_value()?).is_none(),
            "team" => claims.team.replace(scanner.record_or_value()?).is_none(),
            _ => {
                let value = scanner.value()?;
                match claims.slot(name) {
                    Some(slot) => slot.replace(value).is_none(),
                    None => claims.extra.insert(name.to_owned(), value).is_none(),
                }
            }
        };
        fresh.then_some(())
    })?;
    scanner.end()?;
    Some(claims)
}

/// Whether the scanner reads `bytes` — as a claims set, as a header, or both — and when it
/// does, that `serde_json` reads exactly the same (it panics otherwise: the scanner must never
/// change a verdict). For the tests and the `token_json` fuzz target.
#[cfg(any(test, fuzzing))]
pub(crate) fn read_as_serde_json_reads(bytes: &[u8]) -> bool {
    let shown = || String::from_utf8_lossy(bytes).into_owned();
    let fast_claims = claims(bytes);
    if let Some(fast) = &fast_claims {
        let slow = serde_json::from_slice::<RawClaims>(bytes);
        assert_eq!(slow.ok().as_ref(), Some(fast), "{}", shown());
    }
    let Some(fast) = header(bytes) else {
        return fast_claims.is_some();
    };
    let slow = serde_json::from_slice::<HeaderFields<'_>>(bytes);
    let slow = slow.unwrap_or_else(|err| panic!("{err} on {}", shown()));
    assert_eq!(fast.crit_or_b64, slow.crit_or_b64, "{}", shown());
    let value = |sent: Option<super::HeaderValue<'_>>| sent.map(super::HeaderValue::into_value);
    assert_eq!(value(fast.alg), value(slow.alg), "{}", shown());
    assert_eq!(value(fast.kid), value(slow.kid), "{}", shown());
    assert_eq!(value(fast.typ), value(slow.typ), "{}", shown());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::json::tests::hostile_values;

    const HEADER: &str = r#"{"alg":"RS256","typ":"JWT","kid":"rust-main"}"#;
    const CLAIMS: &str = r#"{"exp":1800003600,"iat":1800000000,"iss":"https://api.runbeam.io/x","sub":"user-1","user":{"email":"ada@example.com","id":"1","name":"Ada"},"team":{"id":"t","name":"T"},"scope":"a b"}"#;

    /// Inputs near the common shape: each hostile value in each member, whitespace, and
    /// many small mutations (bytes that matter to JSON put in, taken out or replaced).
    fn inputs(base: &str, names: &[&str]) -> Vec<Vec<u8>> {
        let mut inputs = vec![base.as_bytes().to_vec()];
        for name in names {
            for value in hostile_values() {
                let head = format!(r#"{{"{name}":"#).into_bytes();
                inputs.push([&head[..], &value, b"}"].concat());
                let replaced = base.replacen(&format!(r#""{name}":"#), "\"_\":", 1);
                inputs.push([&head[..], &value, b",", &replaced.as_bytes()[1..]].concat());
            }
        }
        inputs.push(
            base.replace(',', " ,\n\t")
                .replace(':', "\r: ")
                .into_bytes(),
        );
        const BYTES: &[u8] = b"\"\\\t\n {}[],:.eE-+0159aZ\x00\x1f\x7f\xc3\xa9\xff";
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut input = base.as_bytes().to_vec();
            for _ in 0..1 + state % 3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state >> 8) as usize % input.len();
                let byte = BYTES[(state >> 40) as usize % BYTES.len()];
                match state % 3 {
                    0 => input[at] = byte,
                    1 => input.insert(at, byte),
                    _ => drop(input.remove(at)),
                }
            }
            inputs.push(input);
        }
        inputs
    }

    /// `sample` is read here (`reads`), and so are some of its variations but not all; on every
    /// variation this reader agrees with `serde_json`.
    fn assert_reads_as_serde_json(sample: &str, names: &[&str], reads: fn(&[u8]) -> bool) {
        assert!(reads(sample.as_bytes()), "the common shape is read here");
        let (mut read, mut total) = (0, 0);
        for input in inputs(sample, names) {
            total += 1;
            read += usize::from(reads(&input));
            read_as_serde_json_reads(&input);
        }
        assert!(read > 100 && read < total, "{read} of {total}");
    }

    #[test]
    fn claims_read_here_are_the_claims_serde_json_reads() {
        assert_reads_as_serde_json(CLAIMS, &["exp", "iss", "user", "team", "scope"], |input| {
            claims(input).is_some()
        });
    }

    #[test]
    fn headers_read_here_are_the_headers_serde_json_reads() {
        assert_reads_as_serde_json(HEADER, &["alg", "kid", "typ", "crit", "jku"], |input| {
            header(input).is_some()
        });
    }
}
