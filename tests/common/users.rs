//! Another local user, for the tests that plant what such a user could: only root can give a
//! file to another uid, so those tests are `#[ignore]`d and CI, which runs as root, runs them
//! by name.

use std::path::Path;

/// The uid the root-only tests give files they plant as "another user" (no account is
/// needed for a file to belong to it).
pub const FOREIGN_UID: u32 = 12345;

/// True when this process runs as root (a fresh directory belongs to uid 0).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::metadata(dir.path()).expect("stat").uid() == 0
}

/// Fails the test when not root: only root can `chown` a file to another user. A test that
/// is run anyway must not pass without it.
pub fn require_root() {
    assert!(
        is_root(),
        "this test needs root (to chown files to another uid), which is not available here"
    );
}

/// Gives `path` to [`FOREIGN_UID`] (needs root).
pub fn chown_foreign(path: &Path) {
    std::os::unix::fs::chown(path, Some(FOREIGN_UID), Some(FOREIGN_UID)).expect("chown");
}

/// Another user who controls the link at `link` and points it at one directory, then the
/// other, as fast as they can, until stopped.
pub struct LinkSwitcher {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl LinkSwitcher {
    /// Starts switching `link` between `a` and `b` (`link` is replaced by renaming a new
    /// link over it, so it always exists).
    pub fn start(link: &Path, a: &Path, b: &Path) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (link, targets) = (link.to_path_buf(), [a.to_path_buf(), b.to_path_buf()]);
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let next = link.with_extension("next");
            for to in targets.iter().cycle() {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                std::os::unix::fs::symlink(to, &next).expect("symlink");
                std::fs::rename(&next, &link).expect("rename");
            }
        });
        Self { stop, thread }
    }

    /// Stops switching, leaving the link at whichever directory it points to.
    pub fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().expect("the switcher panicked");
    }
}
