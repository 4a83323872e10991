//! [`ChangePoller`]: the blocking change loop of a gateway.

mod handed;
mod report;

use std::collections::HashSet;
use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Change, PageIter};
use crate::clock::Clock;
use crate::{MachineToken, RunbeamClient, RunbeamError};
use handed::{Handed, Outcome, Owed};
pub use report::{PollError, PollReport, PollStage, RunSummary, StopReason, KEPT_ERRORS};

/// Renews a machine token that [needs renewal](MachineToken::needs_renewal), e.g. by
/// [`RunbeamClient::renew_machine_token`] with a stored user token, and saving the result.
type RenewHook = Box<dyn FnMut(&MachineToken) -> Result<MachineToken, RunbeamError> + Send>;

/// The shortest wait between polls, and after an error: faster polling only loads the
/// server (and a zero interval would spin).
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Most changes one poll hands over unless told otherwise.
pub const DEFAULT_MAX_CHANGES_PER_POLL: usize = 100;

/// Polls a gateway's changes and applies them, blocking.
///
/// One poll:
/// 1. renews the machine token through the [hook](Self::on_renewal) when it needs renewal;
/// 2. reports an outcome the server did not take last time, before any new work;
/// 3. lists the pending changes — of the calling gateway, or of
///    [one gateway](Self::for_gateway) — a page at a time;
/// 4. acknowledges each page's new changes in one call;
/// 5. hands each acknowledged change to the caller's closure, in order, and reports it
///    applied (`Ok`) or failed with the closure's error text (`Err`).
///
/// What it promises:
/// - **At most once.** A change is handed over at most once per listing, and never again
///   while the poller remembers it (the last 100,000 ids), whatever the server lists again —
///   the same id twice on a page, on two pages, or still `pending` after its report.
/// - **Outcomes are never dropped.** An outcome the server refuses (an error status, a
///   timeout) is kept and reported again before anything else, with back-off, until the
///   server takes it; meanwhile nothing new is handed over. [`RunSummary::unreported`] and
///   [`unreported`](Self::unreported) say what is still owed.
/// - **Bounded memory.** One page of the listing is held at a time (each page is capped by
///   the client's [`body_limit`](crate::RunbeamClientBuilder::body_limit)), and one poll hands
///   over at most [`max_changes_per_poll`](Self::max_changes_per_poll) changes; the rest
///   are handed over by the next poll, which [`run`](Self::run) starts at once.
/// - **On time.** [`run`](Self::run) checks its stop flag and deadline before each poll,
///   before each hand-over and at least every 50 ms while waiting; listing and acknowledging
///   are cut short at the deadline. Outcomes of changes already handed over are still
///   reported, so `run` may end after the deadline by those reports.
/// - **No spinning.** Polls are at least [`MIN_INTERVAL`] apart after a poll that found no
///   more work, and the back-off after errors (doubling, with jitter, up to
///   [`max_backoff`](Self::max_backoff)) never waits less.
///
/// ```no_run
/// use std::sync::atomic::AtomicBool;
/// use runbeam_sdk_blocking::api::ChangePoller;
/// use runbeam_sdk_blocking::{load_token, MachineToken, RunbeamClient};
///
/// # fn main() -> Result<(), runbeam_sdk_blocking::RunbeamError> {
/// let client = RunbeamClient::new("https://api.runbeam.io");
/// let token = load_token::<MachineToken>("my-gateway")?.expect("authorized before");
/// let stop = AtomicBool::new(false); // set from a signal handler
/// let mut poller = ChangePoller::new(client, token);
/// let summary = poller.run(&stop, None, |change| {
///     println!("applying {} ({})", change.id, change.resource_type);
///     Ok::<(), String>(())
/// });
/// println!("{summary}");
/// # Ok(()) }
/// ```
pub struct ChangePoller {
    client: RunbeamClient,
    token: MachineToken,
    gateway_id: Option<String>,
    interval: Duration,
    max_backoff: Duration,
    max_changes: usize,
    renew: Option<RenewHook>,
    handed: Handed,
    owed: Option<Owed>,
    jitter: u64,
}

impl std::fmt::Debug for ChangePoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePoller")
            .field("gateway_id", &self.gateway_id)
            .field("interval", &self.interval)
            .field("handed", &self.handed.len())
            .field("owed", &self.owed.as_ref().map(|o| &o.id))
            .finish_non_exhaustive()
    }
}

/// Statuses a change is handed over in (anything else is done or someone else's).
const OPEN: [&str; 3] = ["pending", "queued", "acknowledged"];

/// When a poll must stop handing changes over: the deadline (on the client's clock), the
/// stop flag.
#[derive(Clone, Copy)]
struct Bounds<'a> {
    deadline: Option<Instant>,
    stop: Option<&'a AtomicBool>,
    clock: &'a Clock,
}

impl Bounds<'_> {
    fn reached(&self) -> Option<StopReason> {
        if self.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            return Some(StopReason::Stopped);
        }
        self.deadline
            .filter(|d| self.clock.now() >= *d)
            .map(|_| StopReason::Deadline)
    }
}

impl ChangePoller {
    /// A poller for the gateway of `token`. Defaults: every 30 s, back-off up to 5 min,
    /// [`DEFAULT_MAX_CHANGES_PER_POLL`] changes per poll, no renewal hook.
    pub fn new(client: RunbeamClient, token: MachineToken) -> ChangePoller {
        let seed = crate::time::now();
        ChangePoller {
            client,
            token,
            gateway_id: None,
            interval: Duration::from_secs(30),
            max_backoff: Duration::from_secs(300),
            max_changes: DEFAULT_MAX_CHANGES_PER_POLL,
            renew: None,
            handed: Handed::default(),
            owed: None,
            // Any non-zero start works for xorshift; the clock differs per process.
            jitter: (seed.0 as u64 ^ u64::from(seed.1)) | 1,
        }
    }

    /// Lists the changes of `gateway_id` (`list_changes_for_gateway`) instead of the calling
    /// gateway's (`list_changes`).
    pub fn for_gateway(mut self, gateway_id: impl Into<String>) -> Self {
        self.gateway_id = Some(gateway_id.into());
        self
    }

    /// Time between polls; values below [`MIN_INTERVAL`] (1 s) are raised to it. Defaults
    /// to 30 s.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(MIN_INTERVAL);
        self
    }

    /// Longest wait after errors; values below [`MIN_INTERVAL`] are raised to it. Defaults
    /// to 5 min.
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max.max(MIN_INTERVAL);
        self
    }

    /// Most changes one poll hands over (at least 1); the rest wait for the next poll.
    /// Defaults to [`DEFAULT_MAX_CHANGES_PER_POLL`].
    pub fn max_changes_per_poll(mut self, n: usize) -> Self {
        self.max_changes = n.max(1);
        self
    }

    /// Renews the machine token when it [needs renewal](MachineToken::needs_renewal), before a
    /// poll. A failing hook ends the poll with [`PollStage::Renewal`]; the current token is
    /// kept meanwhile.
    pub fn on_renewal(
        mut self,
        hook: impl FnMut(&MachineToken) -> Result<MachineToken, RunbeamError> + Send + 'static,
    ) -> Self {
        self.renew = Some(Box::new(hook));
        self
    }

    /// The machine token in use (renewed ones included).
    pub fn token(&self) -> &MachineToken {
        &self.token
    }

    /// The changes whose outcome the server has not taken yet (at most one).
    pub fn unreported(&self) -> Vec<String> {
        self.owed.iter().map(|o| o.id.clone()).collect()
    }

    /// Reports an owed outcome now (e.g. once more before the process exits); nothing to do
    /// when none is owed.
    ///
    /// # Errors
    /// The report's error; the outcome stays owed.
    pub fn report_owed(&mut self) -> Result<(), PollError> {
        let client = self.client.clone();
        self.settle(&client)
    }

    /// Reports the owed outcome through `client`, forgetting it once the server takes it.
    fn settle(&mut self, client: &RunbeamClient) -> Result<(), PollError> {
        let Some(owed) = &self.owed else {
            return Ok(());
        };
        let token = self.token.machine_token.expose();
        owed.deliver(client, token).map_err(|e| {
            let change_id = owed.id.clone();
            PollError::new(PollStage::Reporting { change_id }, e)
        })?;
        self.owed = None;
        Ok(())
    }

    /// Polls once: renew if needed, report what is owed, list, acknowledge, apply, report.
    /// Blocks for the requests and the closure's work.
    pub fn poll_once<E: Display>(
        &mut self,
        apply: impl FnMut(&Change) -> Result<(), E>,
    ) -> PollReport {
        let clock = self.client.clock().clone();
        let unbounded = Bounds {
            deadline: None,
            stop: None,
            clock: &clock,
        };
        self.poll(unbounded, apply)
    }

    /// One poll; listing and acknowledging end by `bounds.deadline`, and nothing is handed
    /// over once a bound is reached.
    fn poll<E: Display>(
        &mut self,
        bounds: Bounds<'_>,
        mut apply: impl FnMut(&Change) -> Result<(), E>,
    ) -> PollReport {
        let mut report = PollReport::default();
        let bounded = self.client.until(bounds.deadline);
        let ready = self.renew_if_needed().and_then(|()| self.settle(&bounded));
        if let Err(error) = ready {
            report.unreported = self.unreported();
            report.error = Some(error);
            return report;
        }
        // Owned copies: the page iterator borrows them while `self` changes.
        let (token, gateway) = (self.token.machine_token.clone(), self.gateway_id.clone());
        let pages = match &gateway {
            Some(gateway) => bounded.change_pages_for_gateway(token.expose(), gateway),
            None => bounded.change_pages(token.expose()),
        };
        if let Err(error) = self.hand_over(pages, bounds, &mut report, &mut apply) {
            report.error = Some(error);
        }
        report.unreported = self.unreported();
        report
    }

    /// Streams the listing's pages, handing each new, acknowledged change over once, until
    /// the listing ends, a bound is reached or `max_changes` were handed over.
    fn hand_over<E: Display>(
        &mut self,
        pages: PageIter<'_, Change>,
        bounds: Bounds<'_>,
        report: &mut PollReport,
        apply: &mut impl FnMut(&Change) -> Result<(), E>,
    ) -> Result<(), PollError> {
        let token = self.token.machine_token.clone();
        let mut listed = HashSet::new();
        let mut room = self.max_changes;
        for page in pages {
            let page = page.map_err(|e| PollError::new(PollStage::Listing, e))?;
            let new: Vec<Change> = page
                .data
                .into_iter()
                .filter(|c| c.status.as_deref().is_none_or(|s| OPEN.contains(&s)))
                .filter(|c| !self.handed.contains(&c.id))
                .filter(|c| listed.insert(c.id.clone()))
                .take(room)
                .collect();
            if new.is_empty() {
                continue;
            }
            let ids = new.iter().map(|c| c.id.clone()).collect();
            let acknowledged: HashSet<String> = self
                .client
                .until(bounds.deadline)
                .acknowledge_changes(token.expose(), ids)
                .map_err(|e| PollError::new(PollStage::Acknowledging, e))?
                .acknowledged
                .into_iter()
                .collect();
            for change in new.iter().filter(|c| acknowledged.contains(&c.id)) {
                if bounds.reached().is_some() {
                    return Ok(());
                }
                self.handed.insert(&change.id);
                room = room.saturating_sub(1);
                let outcome = match apply(change) {
                    Ok(()) => Outcome::Applied,
                    Err(e) => Outcome::Failed(e.to_string()),
                };
                let refused = matches!(outcome, Outcome::Failed(_));
                self.owed = Some(Owed {
                    id: change.id.clone(),
                    outcome,
                });
                // Reported whatever the deadline: an applied change left unreported would
                // be listed, and owed, again.
                let client = self.client.clone();
                self.settle(&client)?;
                let done = if refused {
                    &mut report.failed
                } else {
                    &mut report.applied
                };
                done.push(change.id.clone());
            }
            if room == 0 {
                report.more = true;
                return Ok(());
            }
        }
        Ok(())
    }

    fn renew_if_needed(&mut self) -> Result<(), PollError> {
        if self.token.needs_renewal() {
            if let Some(renew) = self.renew.as_mut() {
                self.token =
                    renew(&self.token).map_err(|e| PollError::new(PollStage::Renewal, e))?;
            }
        }
        Ok(())
    }

    /// Polls until `stop` is set or `deadline` passes, applying changes with `apply` as
    /// [`poll_once`](Self::poll_once) does, with the guarantees listed on [`ChangePoller`].
    /// Errors lengthen the wait and are kept in the returned summary (and logged as
    /// warnings).
    pub fn run<E: Display>(
        &mut self,
        stop: &AtomicBool,
        deadline: Option<Instant>,
        mut apply: impl FnMut(&Change) -> Result<(), E>,
    ) -> RunSummary {
        let clock = self.client.clock().clone();
        let bounds = Bounds {
            deadline,
            stop: Some(stop),
            clock: &clock,
        };
        let mut summary = RunSummary::new();
        let mut failures: u32 = 0;
        loop {
            if let Some(reason) = bounds.reached() {
                summary.stopped = reason;
                return summary;
            }
            let report = self.poll(bounds, &mut apply);
            let wait = match &report.error {
                None if report.more => Duration::ZERO,
                None => {
                    failures = 0;
                    self.interval
                }
                Some(e) => {
                    failures = failures.saturating_add(1);
                    let wait = self.backoff(failures);
                    log::warn!("change poll: {e}; next try in {wait:?}");
                    wait
                }
            };
            summary.add(report);
            // Never past the deadline, and in steps short enough to notice the stop flag. A
            // wait beyond the clock's range lasts until the stop flag or the deadline.
            let until = match (clock.now().checked_add(wait), deadline) {
                (Some(end), Some(deadline)) => Some(end.min(deadline)),
                (end, deadline) => end.or(deadline),
            };
            while bounds.reached().is_none() {
                let left = until.map_or(Duration::MAX, |u| clock.until(u));
                if left.is_zero() {
                    break;
                }
                clock.sleep(left.min(Duration::from_millis(50)));
            }
        }
    }

    /// The wait after `failures` errors in a row: the interval doubled per failure, capped
    /// at `max_backoff`, then between half and all of it (jitter, so a fleet of gateways does
    /// not retry in step), and never below [`MIN_INTERVAL`].
    fn backoff(&mut self, failures: u32) -> Duration {
        let doubled = self.interval.saturating_mul(1u32 << failures.min(16));
        let capped = doubled.min(self.max_backoff);
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let fraction = 0.5 + (self.jitter % 1000) as f64 / 2000.0;
        capped.mul_f64(fraction).max(MIN_INTERVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poller() -> ChangePoller {
        let token = MachineToken::new(String::from("t"), "2999-01-01T00:00:00Z", "g", "c", vec![]);
        ChangePoller::new(RunbeamClient::new("http://127.0.0.1:9"), token)
    }

    #[test]
    fn backoff_doubles_with_jitter_and_stays_bounded() {
        let mut p = poller()
            .interval(Duration::from_secs(1))
            .max_backoff(Duration::from_secs(10));
        for failures in 1..40 {
            let wait = p.backoff(failures);
            let full = Duration::from_secs(1 << failures.min(16)).min(Duration::from_secs(10));
            assert!(
                wait >= (full / 2).max(MIN_INTERVAL) && wait <= full,
                "{failures}: {wait:?}"
            );
        }
    }

    #[test]
    fn no_interval_or_backoff_is_below_the_floor() {
        let mut p = poller()
            .interval(Duration::ZERO)
            .max_backoff(Duration::ZERO);
        assert_eq!((p.interval, p.max_backoff), (MIN_INTERVAL, MIN_INTERVAL));
        for failures in 0..20 {
            assert!(p.backoff(failures) >= MIN_INTERVAL);
        }
    }
}
