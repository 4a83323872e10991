//! [`Clock`]: the one clock the crate waits and times out by — the real one, or (for tests,
//! with the `testing` feature) a manual one that moves only when told or slept on.
//!
//! Everything that waits, expires or backs off (request deadlines, retries, the device-login
//! wait, the change poller) reads `now` and sleeps through a `Clock`, so a test drives time
//! instead of spending it.

use std::time::{Duration, Instant};

/// The real clock, or a manual one shared by whoever holds a copy.
#[derive(Debug, Clone, Default)]
pub(crate) enum Clock {
    /// `Instant::now()` and `std::thread::sleep`.
    #[default]
    Real,
    /// Time that passes only by [`Clock::sleep`] or [`ManualTime::advance`].
    #[cfg(any(test, feature = "testing"))]
    Manual(std::sync::Arc<ManualTime>),
}

/// Two clocks are equal when both are real or both share one manual time.
impl PartialEq for Clock {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Clock::Real, Clock::Real) => true,
            #[cfg(any(test, feature = "testing"))]
            (Clock::Manual(a), Clock::Manual(b)) => std::sync::Arc::ptr_eq(a, b),
            #[cfg(any(test, feature = "testing"))]
            _ => false,
        }
    }
}

impl Eq for Clock {}

impl Clock {
    /// The current instant.
    pub(crate) fn now(&self) -> Instant {
        match self {
            Clock::Real => Instant::now(),
            #[cfg(any(test, feature = "testing"))]
            Clock::Manual(time) => time.now(),
        }
    }

    /// Waits `duration` (a manual clock moves forward at once instead).
    pub(crate) fn sleep(&self, duration: Duration) {
        match self {
            Clock::Real => std::thread::sleep(duration),
            #[cfg(any(test, feature = "testing"))]
            Clock::Manual(time) => time.advance(duration),
        }
    }

    /// Time left until `deadline`, zero once it has passed.
    pub(crate) fn until(&self, deadline: Instant) -> Duration {
        deadline.saturating_duration_since(self.now())
    }
}

/// The state of a manual clock: the instant it started at and how far it has moved.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug)]
pub(crate) struct ManualTime {
    start: Instant,
    moved: std::sync::Mutex<Duration>,
}

#[cfg(any(test, feature = "testing"))]
impl ManualTime {
    /// A clock standing at the real instant of its creation.
    pub(crate) fn new() -> ManualTime {
        ManualTime {
            start: Instant::now(),
            moved: std::sync::Mutex::new(Duration::ZERO),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        let moved = *self.moved.lock().unwrap_or_else(|p| p.into_inner());
        // Far past any test's horizon; saturate rather than panic.
        self.start.checked_add(moved).unwrap_or(self.start)
    }

    pub(crate) fn advance(&self, by: Duration) {
        let mut moved = self.moved.lock().unwrap_or_else(|p| p.into_inner());
        *moved = moved.saturating_add(by);
    }

    pub(crate) fn moved(&self) -> Duration {
        *self.moved.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_slept_on_or_advanced() {
        let time = std::sync::Arc::new(ManualTime::new());
        let clock = Clock::Manual(time.clone());
        let start = clock.now();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(clock.now(), start);
        clock.sleep(Duration::from_secs(3600));
        time.advance(Duration::from_secs(1));
        assert_eq!(clock.now() - start, Duration::from_secs(3601));
        assert_eq!(clock.until(start), Duration::ZERO);
        assert_eq!(time.moved(), Duration::from_secs(3601));
    }
}
