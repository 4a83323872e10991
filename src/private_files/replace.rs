//! The rename that replaces a token file: plain on Unix, retried briefly on Windows.
//!
//! On Windows a rename onto a file that another handle holds open without share-delete fails
//! with "access denied" (os error 5) or a sharing violation (32) until that handle closes:
//! our own readers (std opens with read, write and delete sharing by default), antivirus
//! scanners and indexers, FAT/exFAT and SMB volumes, and Wine on any volume. Those handles
//! live for milliseconds, so a short bounded retry turns a spurious failure into a slight
//! delay; a denial that lasts is still reported.

use std::io;
use std::path::Path;
use std::time::Duration;

/// Attempts in all, the first included.
const ATTEMPTS: u32 = 12;
/// The pause after the first failed attempt; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(1);
/// The longest pause; with [`ATTEMPTS`] the total wait stays near half a second.
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// Renames `from` over `to`, replacing `to` when it exists.
///
/// # Errors
/// The rename's error: at once when it cannot be transient, otherwise after the last retry.
pub(crate) fn replace(from: &Path, to: &Path) -> io::Result<()> {
    retry(
        || std::fs::rename(from, to),
        held_open_elsewhere,
        std::thread::sleep,
    )
}

/// True for the errors a Windows rename gives while another handle has the target open.
fn held_open_elsewhere(error: &io::Error) -> bool {
    const ERROR_ACCESS_DENIED: i32 = 5;
    const ERROR_SHARING_VIOLATION: i32 = 32;
    // Unix renames replace open files; there EACCES (also 5) means a real permission problem.
    cfg!(windows)
        && matches!(
            error.raw_os_error(),
            Some(ERROR_ACCESS_DENIED | ERROR_SHARING_VIOLATION)
        )
}

/// Runs `attempt` until it succeeds, fails with an error `transient` refuses, or has run
/// [`ATTEMPTS`] times; `sleep` waits between attempts with a doubling, capped pause.
fn retry(
    mut attempt: impl FnMut() -> io::Result<()>,
    transient: impl Fn(&io::Error) -> bool,
    mut sleep: impl FnMut(Duration),
) -> io::Result<()> {
    let mut pause = FIRST_PAUSE;
    let mut tries = 1;
    loop {
        match attempt() {
            Err(e) if tries < ATTEMPTS && transient(&e) => {
                sleep(pause);
                pause = (pause * 2).min(MAX_PAUSE);
                tries += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied() -> io::Error {
        io::Error::from(io::ErrorKind::PermissionDenied)
    }

    fn is_denied(e: &io::Error) -> bool {
        e.kind() == io::ErrorKind::PermissionDenied
    }

    #[test]
    fn a_transient_denial_is_retried_until_the_rename_succeeds() {
        let mut failures_left = 3;
        let mut pauses = Vec::new();
        let result = retry(
            || {
                if failures_left == 0 {
                    return Ok(());
                }
                failures_left -= 1;
                Err(denied())
            },
            is_denied,
            |d| pauses.push(d),
        );
        assert!(result.is_ok());
        assert_eq!(pauses, [1, 2, 4].map(Duration::from_millis));
    }

    #[test]
    fn a_lasting_denial_gives_up_after_a_bounded_wait_with_the_error() {
        let mut calls = 0;
        let mut waited = Duration::ZERO;
        let result = retry(
            || {
                calls += 1;
                Err(denied())
            },
            is_denied,
            |d| {
                waited += d;
                // Fails here, rather than hanging, if the retry ever loses its bound.
                assert!(waited <= Duration::from_secs(1), "waited {waited:?}");
            },
        );
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(calls, ATTEMPTS);
    }

    #[test]
    fn other_errors_are_returned_without_retrying() {
        let mut calls = 0;
        let result = retry(
            || {
                calls += 1;
                Err(io::Error::from(io::ErrorKind::NotFound))
            },
            is_denied,
            |_| panic!("no pause for a permanent error"),
        );
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(calls, 1);
    }

    #[test]
    fn only_windows_sharing_errors_count_as_transient() {
        let access_denied = io::Error::from_raw_os_error(5);
        let sharing_violation = io::Error::from_raw_os_error(32);
        assert_eq!(held_open_elsewhere(&access_denied), cfg!(windows));
        assert_eq!(held_open_elsewhere(&sharing_violation), cfg!(windows));
        assert!(!held_open_elsewhere(&io::Error::from_raw_os_error(2)));
    }
}
