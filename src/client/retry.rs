//! [`RetryPolicy`]: opt-in retries of idempotent requests on 429/502/503/504.

use std::time::Duration;

/// Retries of idempotent requests (`GET`, `PUT`, `DELETE`; never `POST`) answered with 429,
/// 502, 503 or 504. Off by default. A `Retry-After` header (seconds or an HTTP date) sets the
/// wait; otherwise the wait is [`RetryPolicy::delay`], doubled each time. A retry is skipped
/// when its wait would exceed what is left of [`RetryPolicy::max_total_wait`]: the last answer
/// is then returned as the error. Whatever number a server sends, the arithmetic saturates:
/// a huge `Retry-After` simply means "no retry".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    delay: Duration,
    max_total_wait: Duration,
}

impl Default for RetryPolicy {
    /// 3 retries, 500 ms first delay, 10 s total wait.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            delay: Duration::from_millis(500),
            max_total_wait: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The default policy (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `n` retries after the first attempt. Defaults to 3.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The first wait when the server sends no `Retry-After`. Defaults to 500 ms.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The most time spent waiting between attempts, in total. Defaults to 10 s.
    pub fn max_total_wait(mut self, limit: Duration) -> Self {
        self.max_total_wait = limit;
        self
    }

    /// Whether `status` is worth retrying.
    pub(crate) fn retries_status(status: u16) -> bool {
        matches!(status, 429 | 502 | 503 | 504)
    }

    /// The wait before retry number `attempt` (0-based), or `None` to stop. Pure.
    pub(crate) fn wait(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        waited: Duration,
    ) -> Option<Duration> {
        if attempt >= self.max_retries {
            return None;
        }
        let wait = retry_after.unwrap_or_else(|| self.delay.saturating_mul(1 << attempt.min(16)));
        (waited.saturating_add(wait) <= self.max_total_wait).then_some(wait)
    }
}

/// Parses `Retry-After` (RFC 9110 10.2.3): delta-seconds, or an IMF-fixdate turned into the
/// time left until then as of `now` (Unix seconds; a date in the past means "now"). Anything
/// else is `None`, and the policy's own delay applies. Pure.
pub(crate) fn parse_retry_after(value: &str, now: i64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still "a very long time", not garbage.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = parse_http_date(value)?;
    Some(Duration::from_secs(
        u64::try_from(at.saturating_sub(now)).unwrap_or(0),
    ))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds. The two obsolete date
/// forms are not accepted (RFC 9110 asks senders to use this one).
fn parse_http_date(value: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut parts = value.split(' ');
    let weekday = parts.next()?.strip_suffix(',')?;
    let (day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() || !DAYS.contains(&weekday) || zone != "GMT" {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    if day.len() != 2 || year.len() != 4 || time.len() != 8 {
        return None;
    }
    // The RFC 3339 parser checks digits, ranges and the calendar.
    crate::time::parse(&format!("{year}-{month:02}-{day}T{time}Z")).map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_after_max_retries_and_at_the_time_budget() {
        let p = RetryPolicy::new()
            .max_retries(2)
            .delay(Duration::from_millis(100))
            .max_total_wait(Duration::from_millis(250));
        assert_eq!(
            p.wait(0, None, Duration::ZERO),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            p.wait(1, None, Duration::from_millis(100)),
            None,
            "200 ms more would pass the 250 ms budget"
        );
        assert_eq!(p.wait(2, Some(Duration::ZERO), Duration::ZERO), None);
        assert_eq!(
            p.wait(0, Some(Duration::from_secs(1)), Duration::ZERO),
            None
        );
    }

    /// 2015-10-21T07:28:00Z.
    const OCT_21_2015: i64 = 1_445_412_480;

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        assert_eq!(parse_retry_after(" 3 ", 0), Some(Duration::from_secs(3)));
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(
            parse_retry_after(date, OCT_21_2015 - 90),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after(date, OCT_21_2015 + 5),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert!(RetryPolicy::retries_status(503) && !RetryPolicy::retries_status(500));
    }

    #[test]
    fn hostile_retry_after_values_never_panic_and_huge_ones_mean_no_retry() {
        let policy = RetryPolicy::new();
        for value in [
            "0",
            "-1",
            "1.5",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999999999",
            "-9223372036854775808",
            "1e308",
            "NaN",
            "inf",
            "soon",
            "",
            "Wed, 21 Oct 2015 07:28:00 UTC",
            "Xyz, 21 Oct 2015 07:28:00 GMT",
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 9999 23:59:59 GMT",
            "Wed, 21 Oct 0000 00:00:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMT extra",
            "Wed,  21 Oct 2015 07:28:00 GMT",
        ] {
            for now in [i64::MIN, -1, 0, OCT_21_2015, i64::MAX] {
                let parsed = parse_retry_after(value, now);
                for waited in [Duration::ZERO, Duration::from_secs(9), Duration::MAX] {
                    // Must not panic; a wait past the budget is refused.
                    if let Some(wait) = policy.wait(0, parsed, waited) {
                        assert!(wait <= Duration::from_secs(10), "{value:?} gave {wait:?}");
                    }
                }
            }
        }
        for garbage in ["-1", "1.5", "1e308", "NaN", "soon", ""] {
            assert_eq!(parse_retry_after(garbage, 0), None, "{garbage:?}");
        }
        assert_eq!(
            parse_retry_after("18446744073709551616", 0),
            Some(Duration::from_secs(u64::MAX))
        );
    }
}
