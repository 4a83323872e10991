//! HTTP caching of key sets (pure): what `Cache-Control` and `Age` allow, and the
//! validators (`ETag`, `Last-Modified`) a later request revalidates with.

use std::time::Duration;

/// Longest validator value kept; a longer one is dropped (the next request is then
/// unconditional).
const MAX_VALIDATOR_BYTES: usize = 256;

/// What the server said about caching one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Freshness {
    /// Seconds the response stays fresh from when it arrived: `max-age` less the `Age` it
    /// already had in caches on the way; `no-cache` counts as 0.
    pub max_age: Option<u64>,
    /// `no-store`: keep the set only as long as the minimum cache duration, never on disk.
    pub no_store: bool,
}

impl Freshness {
    /// Reads every `Cache-Control` header value. Unknown directives are ignored; a malformed
    /// `max-age` is as if absent (RFC 9111 5.2.2.1 allows treating it as stale; the
    /// configured bounds decide instead).
    pub(crate) fn from_cache_control<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut freshness = Self::default();
        for directive in values.into_iter().flat_map(|value| value.split(',')) {
            let (name, argument) = match directive.split_once('=') {
                Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
                None => (directive.trim(), None),
            };
            if name.eq_ignore_ascii_case("no-store") {
                freshness.no_store = true;
            } else if name.eq_ignore_ascii_case("no-cache") {
                freshness.max_age = Some(0);
            } else if name.eq_ignore_ascii_case("max-age") {
                if let Some(seconds) = argument.and_then(|a| a.parse::<u64>().ok()) {
                    // With several, the smallest is the safe reading.
                    freshness.max_age = Some(freshness.max_age.map_or(seconds, |m| m.min(seconds)));
                }
            }
        }
        freshness
    }

    /// Takes off the time the response already spent in caches on the way (an `Age` header
    /// of delta-seconds). A value too large to represent counts as older than any
    /// `max-age`; a malformed one is ignored.
    #[must_use]
    pub(crate) fn aged(mut self, age: Option<&str>) -> Self {
        let Some(age) = age.map(str::trim) else {
            return self;
        };
        if age.is_empty() || !age.bytes().all(|b| b.is_ascii_digit()) {
            return self;
        }
        let age = age.parse::<u64>().unwrap_or(u64::MAX);
        self.max_age = self.max_age.map(|max_age| max_age.saturating_sub(age));
        self
    }

    /// How long a set with this freshness is used: `max-age` clamped to `min..=max`, `max`
    /// without one, `min` under `no-store`. `min` is capped by `max`.
    pub(crate) fn ttl(&self, min: Duration, max: Duration) -> Duration {
        let min = min.min(max);
        if self.no_store {
            return min;
        }
        match self.max_age {
            Some(seconds) => Duration::from_secs(seconds).clamp(min, max),
            None => max,
        }
    }
}

/// The validators of a stored response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    /// Keeps a header value only if it can be sent back as is: visible ASCII or spaces, at
    /// most 256 bytes.
    pub(crate) fn header_value(value: Option<&str>) -> Option<String> {
        let value = value?.trim();
        let sendable = !value.is_empty()
            && value.len() <= MAX_VALIDATOR_BYTES
            && value.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
        sendable.then(|| value.to_owned())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(300);
    const MAX: Duration = Duration::from_secs(86_400);

    fn ttl(values: &[&str]) -> u64 {
        Freshness::from_cache_control(values.iter().copied())
            .ttl(MIN, MAX)
            .as_secs()
    }

    #[test]
    fn max_age_is_clamped_to_the_bounds_and_no_store_gets_the_minimum() {
        assert_eq!(ttl(&[]), 86_400);
        assert_eq!(ttl(&["public, max-age=3600"]), 3600);
        assert_eq!(ttl(&["MAX-AGE=\"3600\""]), 3600);
        assert_eq!(ttl(&["max-age=10"]), 300);
        assert_eq!(ttl(&["max-age=999999999"]), 86_400);
        assert_eq!(ttl(&["no-cache"]), 300);
        assert_eq!(ttl(&["max-age=3600", "no-store"]), 300);
        assert_eq!(ttl(&["max-age=7200, max-age=3600"]), 3600);
        assert_eq!(ttl(&["max-age=-5", "max-age=abc"]), 86_400);
        // The minimum never exceeds the maximum.
        let short = Freshness::default().ttl(MIN, Duration::from_secs(60));
        assert_eq!(short, Duration::from_secs(60));
    }

    #[test]
    fn age_shortens_max_age_and_hostile_ages_cannot_lengthen_it() {
        let aged = |cache_control: &str, age: Option<&str>| {
            Freshness::from_cache_control([cache_control])
                .aged(age)
                .max_age
        };
        assert_eq!(aged("max-age=3600", Some("600")), Some(3000));
        assert_eq!(aged("max-age=3600", Some(" 600 ")), Some(3000));
        assert_eq!(aged("max-age=3600", Some("7200")), Some(0));
        assert_eq!(
            aged("max-age=3600", Some("99999999999999999999999")),
            Some(0)
        );
        assert_eq!(aged("max-age=3600", None), Some(3600));
        for malformed in ["", "-600", "600.5", "1e3", "six hundred", "+600"] {
            assert_eq!(
                aged("max-age=3600", Some(malformed)),
                Some(3600),
                "{malformed:?}"
            );
        }
        // Without max-age the configured cache duration decides; Age changes nothing.
        assert_eq!(aged("public", Some("600")), None);
        // An aged-out response is kept for the minimum only.
        let stale = Freshness::from_cache_control(["max-age=3600"]).aged(Some("3600"));
        assert_eq!(stale.ttl(MIN, MAX), MIN);
    }

    #[test]
    fn only_sendable_validators_are_kept() {
        assert_eq!(
            Validators::header_value(Some(" \"v1\" ")).as_deref(),
            Some("\"v1\"")
        );
        assert_eq!(Validators::header_value(Some("a\r\nX-Evil: 1")), None);
        assert_eq!(Validators::header_value(Some(&"x".repeat(257))), None);
        assert_eq!(Validators::header_value(Some("")), None);
        assert_eq!(Validators::header_value(None), None);
    }
}
