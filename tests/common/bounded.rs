//! Running a call that a regression would make wait for ever with a bound, so the test fails
//! instead of hanging, and planting the FIFO that makes a naive `open` wait.

use std::sync::mpsc;
use std::time::Duration;

/// The result of `call`, run on its own thread; fails the test when it takes longer than
/// `limit`, saying that `what` waited without bound. (The stuck thread is left behind: the
/// test process ends soon after.)
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    call: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(call());
    });
    match result.recv_timeout(limit) {
        Ok(value) => value,
        Err(_) => panic!("{what} waited without bound (more than {limit:?})"),
    }
}

/// Makes a FIFO at `path` (mode 0600, so only a type check can refuse it), as a local user
/// would plant one: opening it to read waits until someone opens it to write.
#[cfg(unix)]
pub fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}
