//! [`ChangePoller`]: the blocking change loop of a gateway.

use std::collections::HashSet;
use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::Change;
use crate::{MachineToken, RunbeamClient, RunbeamError};

/// Renews a machine token that [needs renewal](MachineToken::needs_renewal), e.g. by
/// [`RunbeamClient::renew_machine_token`] with a stored user token, and saving the result.
type RenewHook = Box<dyn FnMut(&MachineToken) -> Result<MachineToken, RunbeamError> + Send>;

/// Polls a gateway's changes and applies them, blocking:
///
/// 1. renews the machine token through the [hook](Self::on_renewal) when it needs renewal;
/// 2. lists the pending changes (every page) — of the calling gateway, or of
///    [one gateway](Self::for_gateway);
/// 3. acknowledges the new ones in one call;
/// 4. hands each acknowledged change to the caller's closure, in order, and reports it
///    applied (`Ok`) or failed with the closure's error text (`Err`).
///
/// A change is handed over at most once in the poller's life, whatever the server lists
/// again. [`run`](Self::run) repeats this every [interval](Self::interval); after an error
/// it waits longer (doubling, with jitter, bounded by [`max_backoff`](Self::max_backoff))
/// and stops when the stop flag is set or the deadline passes.
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
/// poller.run(&stop, None, |change| {
///     println!("applying {} ({})", change.id, change.resource_type);
///     Ok::<(), String>(())
/// });
/// # Ok(()) }
/// ```
pub struct ChangePoller {
    client: RunbeamClient,
    token: MachineToken,
    gateway_id: Option<String>,
    interval: Duration,
    max_backoff: Duration,
    renew: Option<RenewHook>,
    handed: HashSet<String>,
    jitter: u64,
}

impl std::fmt::Debug for ChangePoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePoller")
            .field("gateway_id", &self.gateway_id)
            .field("interval", &self.interval)
            .field("handed", &self.handed.len())
            .finish_non_exhaustive()
    }
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollReport {
    /// Changes the closure applied, reported applied.
    pub applied: Vec<String>,
    /// Changes the closure refused, reported failed.
    pub failed: Vec<String>,
    /// Changes whose outcome could not be reported (the server refused or was unreachable);
    /// they are not handed over again.
    pub unreported: Vec<String>,
}

/// What a whole [`ChangePoller::run`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunSummary {
    /// Polls that completed.
    pub polls: u64,
    /// Polls (or renewals) that failed.
    pub errors: u64,
    /// Every change applied, in order.
    pub applied: Vec<String>,
    /// Every change refused by the closure, in order.
    pub failed: Vec<String>,
}

/// Statuses a change is handed over in (anything else is done or someone else's).
const OPEN: [&str; 3] = ["pending", "queued", "acknowledged"];

impl ChangePoller {
    /// A poller for the gateway of `token`. Defaults: every 30 s, back-off up to 5 min, no
    /// renewal hook.
    pub fn new(client: RunbeamClient, token: MachineToken) -> ChangePoller {
        let seed = crate::time::now();
        ChangePoller {
            client,
            token,
            gateway_id: None,
            interval: Duration::from_secs(30),
            max_backoff: Duration::from_secs(300),
            renew: None,
            handed: HashSet::new(),
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

    /// Time between polls. Defaults to 30 s.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Longest wait after errors. Defaults to 5 min.
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// Renews the machine token when it [needs renewal](MachineToken::needs_renewal), before a
    /// poll. A failing hook counts as a poll error; the current token is kept meanwhile.
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

    /// Polls once: renew if needed, list, acknowledge, apply, report.
    ///
    /// # Errors
    /// The renewal hook's, listing's or acknowledging's error; nothing was handed over then.
    /// Failures to report an outcome are not errors: see [`PollReport::unreported`].
    pub fn poll_once<E: Display>(
        &mut self,
        apply: impl FnMut(&Change) -> Result<(), E>,
    ) -> Result<PollReport, RunbeamError> {
        self.poll_until(None, apply)
    }

    /// [`poll_once`](Self::poll_once), with listing and acknowledging cut to end by
    /// `deadline`. Once changes are handed over their outcomes are reported whatever the
    /// time: an applied change left unreported would be handed out again.
    fn poll_until<E: Display>(
        &mut self,
        deadline: Option<Instant>,
        mut apply: impl FnMut(&Change) -> Result<(), E>,
    ) -> Result<PollReport, RunbeamError> {
        if self.token.needs_renewal() {
            if let Some(renew) = self.renew.as_mut() {
                self.token = renew(&self.token)?;
            }
        }
        let token = self.token.machine_token.expose().as_str();
        let bounded = self.client.until(deadline);
        let changes = match &self.gateway_id {
            Some(gateway) => bounded.list_all_changes_for_gateway(token, gateway)?,
            None => bounded.list_all_changes(token)?,
        };
        let new: Vec<Change> = changes
            .into_iter()
            .filter(|c| !self.handed.contains(&c.id))
            .filter(|c| c.status.as_deref().is_none_or(|s| OPEN.contains(&s)))
            .collect();
        let mut report = PollReport::default();
        if new.is_empty() {
            return Ok(report);
        }
        let ids = new.iter().map(|c| c.id.clone()).collect();
        let acknowledged = bounded.acknowledge_changes(token, ids)?.acknowledged;
        for change in new.iter().filter(|c| acknowledged.contains(&c.id)) {
            self.handed.insert(change.id.clone());
            let outcome = match apply(change) {
                Ok(()) => self
                    .client
                    .mark_change_applied(token, &change.id)
                    .map(|_| true),
                Err(e) => (self.client)
                    .mark_change_failed(token, &change.id, e.to_string(), None)
                    .map(|_| false),
            };
            match outcome {
                Ok(true) => report.applied.push(change.id.clone()),
                Ok(false) => report.failed.push(change.id.clone()),
                Err(e) => {
                    log::warn!("change {}: reporting its outcome failed: {e}", change.id);
                    report.unreported.push(change.id.clone());
                }
            }
        }
        Ok(report)
    }

    /// Polls until `stop` is set or `deadline` passes, applying changes with `apply` as
    /// [`poll_once`](Self::poll_once) does. Errors are logged and counted, and lengthen the
    /// wait. Both are checked before each poll and at least every 50 ms while waiting. A poll
    /// under way at the deadline is cut short while it lists and acknowledges (each request's
    /// timeout shrinks to what is left); changes already handed to `apply` are still
    /// reported, so `run` may return after the deadline by those reports.
    pub fn run<E: Display>(
        &mut self,
        stop: &AtomicBool,
        deadline: Option<Instant>,
        mut apply: impl FnMut(&Change) -> Result<(), E>,
    ) -> RunSummary {
        let mut summary = RunSummary::default();
        let mut failures: u32 = 0;
        let done = |stop: &AtomicBool| {
            stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d)
        };
        while !done(stop) {
            let wait = match self.poll_until(deadline, &mut apply) {
                Ok(report) => {
                    summary.polls += 1;
                    summary.applied.extend(report.applied);
                    summary.failed.extend(report.failed);
                    failures = 0;
                    self.interval
                }
                Err(e) => {
                    summary.errors += 1;
                    failures = failures.saturating_add(1);
                    let wait = self.backoff(failures);
                    log::warn!("change poll failed ({e}); next try in {wait:?}");
                    wait
                }
            };
            let until = Instant::now().checked_add(wait);
            while !done(stop) && until.is_some_and(|u| Instant::now() < u) {
                let left = until.map_or(Duration::ZERO, |u| u - Instant::now());
                std::thread::sleep(left.min(Duration::from_millis(50)));
            }
        }
        summary
    }

    /// The wait after `failures` errors in a row: the interval doubled per failure, capped
    /// at `max_backoff`, then between half and all of it (jitter, so a fleet of gateways does
    /// not retry in step).
    fn backoff(&mut self, failures: u32) -> Duration {
        let doubled = self
            .interval
            .max(Duration::from_millis(100))
            .saturating_mul(1u32 << failures.min(16));
        let capped = doubled.min(self.max_backoff);
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let fraction = 0.5 + (self.jitter % 1000) as f64 / 2000.0;
        capped.mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stays_bounded() {
        let token = MachineToken::new(String::from("t"), "2999-01-01T00:00:00Z", "g", "c", vec![]);
        let mut p = ChangePoller::new(RunbeamClient::new("http://127.0.0.1:9"), token)
            .interval(Duration::from_secs(1))
            .max_backoff(Duration::from_secs(10));
        for failures in 1..40 {
            let wait = p.backoff(failures);
            let full = Duration::from_secs(1 << failures.min(16)).min(Duration::from_secs(10));
            assert!(wait >= full / 2 && wait <= full, "{failures}: {wait:?}");
        }
    }
}
