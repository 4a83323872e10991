//! [`ManualClock`]: time your tests move by hand.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::{Clock, ManualTime};

/// A clock that stands still until moved: every wait of a client built with
/// [`RunbeamClientBuilder::clock`](crate::RunbeamClientBuilder::clock) — retry back-off, the
/// device-login wait, the [change poller](crate::api::ChangePoller)'s interval and back-off —
/// moves it forward at once instead of sleeping, and deadlines are read from it. Requests
/// still take the real time they take (a server that stalls still stalls).
///
/// Clones share one time.
///
/// ```
/// use std::time::Duration;
/// use runbeam_sdk_blocking::testing::ManualClock;
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.now() - start, Duration::from_secs(90));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<ManualTime>);

impl ManualClock {
    /// A clock standing at the real instant it was made.
    pub fn new() -> ManualClock {
        ManualClock(Arc::new(ManualTime::new()))
    }

    /// Its current instant: deadlines for calls on a client using it are measured from here.
    pub fn now(&self) -> Instant {
        self.0.now()
    }

    /// Moves it forward.
    pub fn advance(&self, by: Duration) {
        self.0.advance(by)
    }

    /// How far it has moved since it was made (by waits and by [`advance`](Self::advance)).
    pub fn elapsed(&self) -> Duration {
        self.0.moved()
    }

    pub(crate) fn clock(&self) -> Clock {
        Clock::Manual(Arc::clone(&self.0))
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}
