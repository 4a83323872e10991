//! What a poll and a whole run tell the caller: [`PollReport`], [`PollError`], [`RunSummary`].

use std::fmt;

use crate::RunbeamError;

/// The step of a poll that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollStage {
    /// The renewal hook failed; the current machine token was kept.
    Renewal,
    /// Listing the pending changes failed.
    Listing,
    /// Acknowledging the listed changes failed; none of them was handed over.
    Acknowledging,
    /// Reporting the outcome of this change failed; the poller keeps the outcome and reports
    /// it before any new work.
    Reporting {
        /// The change whose outcome is still owed.
        change_id: String,
    },
}

impl fmt::Display for PollStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PollStage::Renewal => f.write_str("renewing the machine token"),
            PollStage::Listing => f.write_str("listing the pending changes"),
            PollStage::Acknowledging => f.write_str("acknowledging changes"),
            PollStage::Reporting { change_id } => {
                write!(f, "reporting the outcome of change {change_id:?}")
            }
        }
    }
}

/// Why a poll stopped early: the step and the SDK error.
///
/// `Display` says both (`listing the pending changes failed: HTTP 503: …`); `source()` is
/// the SDK error's own cause, so a chain printed whole repeats nothing.
#[derive(Debug)]
pub struct PollError {
    stage: PollStage,
    error: RunbeamError,
}

impl PollError {
    pub(super) fn new(stage: PollStage, error: RunbeamError) -> PollError {
        PollError { stage, error }
    }

    /// The step that failed.
    pub fn stage(&self) -> &PollStage {
        &self.stage
    }

    /// The SDK error, to match on its kind.
    pub fn error(&self) -> &RunbeamError {
        &self.error
    }

    /// The SDK error, owned.
    pub fn into_error(self) -> RunbeamError {
        self.error
    }
}

impl fmt::Display for PollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.stage, self.error)
    }
}

impl std::error::Error for PollError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // `Display` already says the SDK error's text; its cause comes next.
        self.error.source()
    }
}

/// What one poll did. A poll never fails as a whole: it says what it handed over and
/// reported, and in [`error`](Self::error) what cut it short.
#[derive(Debug, Default)]
#[non_exhaustive]
#[must_use = "a poll's error is only in its report"]
pub struct PollReport {
    /// Changes the closure applied, reported applied.
    pub applied: Vec<String>,
    /// Changes the closure refused, reported failed.
    pub failed: Vec<String>,
    /// The change whose outcome the server has not taken (at most one: the poller hands
    /// nothing over while an outcome is owed). It is reported before any new work and never
    /// handed over again.
    pub unreported: Vec<String>,
    /// The poll stopped at its bound of changes with more listed: the next poll goes on
    /// (`run` starts it at once).
    pub more: bool,
    /// What stopped the poll early, if anything.
    pub error: Option<PollError>,
}

impl PollReport {
    /// `Ok(self)` without an error, else the error (the changes handed over before it are
    /// reported to the server all the same).
    ///
    /// # Errors
    /// The [`PollError`] that cut the poll short.
    pub fn into_result(mut self) -> Result<PollReport, PollError> {
        match self.error.take() {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }
}

/// Why [`ChangePoller::run`](super::ChangePoller::run) returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The stop flag was set.
    Stopped,
    /// The deadline passed.
    Deadline,
}

/// How many of a run's errors its summary keeps (the most recent); all are counted.
pub const KEPT_ERRORS: usize = 32;

/// What a whole [`ChangePoller::run`](super::ChangePoller::run) did. `Display` prints a
/// one-line account with the last error, for a program without a logger.
#[derive(Debug)]
#[non_exhaustive]
pub struct RunSummary {
    /// Polls that ended without an error.
    pub polls: u64,
    /// Every change applied and reported so, in order.
    pub applied: Vec<String>,
    /// Every change refused by the closure and reported so, in order.
    pub failed: Vec<String>,
    /// Changes whose outcome the server had not taken when `run` returned; the poller keeps
    /// them and reports them first on its next poll
    /// ([`report_owed`](super::ChangePoller::report_owed) tries at once).
    pub unreported: Vec<String>,
    /// Polls that ended with an error (renewal, listing, acknowledging, reporting).
    pub error_count: u64,
    /// The most recent errors, oldest first, at most [`KEPT_ERRORS`].
    pub errors: Vec<PollError>,
    /// Why `run` returned.
    pub stopped: StopReason,
}

impl RunSummary {
    pub(super) fn new() -> RunSummary {
        RunSummary {
            polls: 0,
            applied: Vec::new(),
            failed: Vec::new(),
            unreported: Vec::new(),
            error_count: 0,
            errors: Vec::new(),
            stopped: StopReason::Stopped,
        }
    }

    /// Adds one poll's report.
    pub(super) fn add(&mut self, report: PollReport) {
        self.applied.extend(report.applied);
        self.failed.extend(report.failed);
        self.unreported = report.unreported;
        match report.error {
            None => self.polls += 1,
            Some(error) => {
                self.error_count += 1;
                if self.errors.len() == KEPT_ERRORS {
                    self.errors.remove(0);
                }
                self.errors.push(error);
            }
        }
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let polls = match self.polls {
            1 => "1 poll".to_owned(),
            n => format!("{n} polls"),
        };
        let errors = match self.error_count {
            1 => "1 error".to_owned(),
            n => format!("{n} errors"),
        };
        write!(
            f,
            "{polls}: {} applied, {} failed, {} unreported, {errors}",
            self.applied.len(),
            self.failed.len(),
            self.unreported.len(),
        )?;
        if let Some(last) = self.errors.last() {
            write!(f, " (last: {last})")?;
        }
        match self.stopped {
            StopReason::Stopped => f.write_str("; stopped by the stop flag"),
            StopReason::Deadline => f.write_str("; stopped at the deadline"),
        }
    }
}
