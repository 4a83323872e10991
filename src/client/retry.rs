//! [`RetryPolicy`]: opt-in retries of idempotent requests on 429/502/503/504.

use std::time::Duration;

/// Retries of idempotent requests (`GET`, `PUT`, `DELETE`; never `POST`) answered with 429,
/// 502, 503 or 504. Off by default. A `Retry-After: <seconds>` header sets the wait;
/// otherwise the wait is [`RetryPolicy::delay`], doubled each time. A retry is skipped when
/// its wait would exceed what is left of [`RetryPolicy::max_total_wait`]: the last answer is
/// then returned as the error.
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
        (waited + wait <= self.max_total_wait).then_some(wait)
    }
}

/// Parses `Retry-After` in its delta-seconds form; HTTP dates are ignored (the policy's own
/// delay applies). Pure.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
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

    #[test]
    fn retry_after_seconds_parse_and_dates_do_not() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert!(RetryPolicy::retries_status(503) && !RetryPolicy::retries_status(500));
    }
}
