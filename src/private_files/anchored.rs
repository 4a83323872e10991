//! A directory judged once and then used through what was judged. Checking a directory by
//! path and then opening `path/name` resolves the path twice: a local user who controls a
//! link on the way can switch it in between, so that the check passes on one directory and
//! the files come from (or go to) another. Here the directory is opened once (following
//! links: a linked directory is judged by its target), judged on that descriptor, and its
//! entries are reached through the descriptor:
//!
//! - on Linux, as `/proc/self/fd/<fd>/<name>`, which the kernel resolves through the open
//!   descriptor, whatever the path leads to by then;
//! - on other Unix systems, or where `/proc` is not mounted, through the path, with the
//!   directory at the path compared (device and inode) with the opened one after each use
//!   ([`AnchoredDir::confirm`]). A switch that stays is caught; one undone before the
//!   comparison is not, so the guarantee there is weaker. `std` has no `openat`, and this
//!   crate forbids the `unsafe` that calling it directly needs;
//! - on Windows `std` cannot open a directory as a file: the directory is judged by path.
//!
//! A directory inside an anchored one is opened through it ([`AnchoredDir::child`]), so a
//! chain of directories is judged link by link, each on its own descriptor. Errors name
//! entries by the path the caller gave, never by `/proc/self/fd/<fd>`.

use std::fs::{File, Metadata, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::lock::DirLock;
use super::trust::User;
#[cfg(unix)]
use super::Insecurity;
use super::{atomic, open, FileError};

/// An opened directory that was ours and writable by nobody else when opened.
#[derive(Debug)]
pub(crate) struct AnchoredDir {
    /// What entries are joined to: `/proc/self/fd/<fd>`, or the path in the fallback.
    base: PathBuf,
    /// The path as the caller named it, for messages.
    shown: PathBuf,
    #[cfg(unix)]
    fallback: Fallback,
}

/// What the Unix fallback needs to re-check the path, and the descriptor that keeps the
/// directory (and the number `/proc/self/fd` names) open.
#[cfg(unix)]
#[derive(Debug)]
struct Fallback {
    _opened: std::fs::File,
    /// The path given, when entries are reached through it.
    path: Option<PathBuf>,
    /// Device and inode of the opened directory.
    id: (u64, u64),
}

impl AnchoredDir {
    /// Opens the directory at `path` and judges the opened directory as
    /// `User::check_dir` does; `Ok(None)` when nothing is at the path. Never waits on what
    /// is there (a FIFO at the path is opened non-blocking, then refused as not a directory).
    pub(crate) fn open(path: &Path, user: &User) -> Result<Option<Self>, FileError> {
        Self::open_with(path, path, user, BY_DESCRIPTOR)
    }

    /// The directory `name` in this one, opened through this one and judged as
    /// [`open`](Self::open) judges; created 0700 first when `create` is set and nothing is
    /// there. `Ok(None)` when nothing is there (and `create` is not set).
    #[cfg(feature = "encrypted-files")]
    pub(crate) fn child(
        &self,
        name: &str,
        user: &User,
        create: bool,
    ) -> Result<Option<Self>, FileError> {
        let at = self.entry(name);
        let shown = self.shown.join(name);
        if create {
            atomic::create_dir(&at).map_err(|e| self.named(e))?;
        }
        let child = Self::open_with(&at, &shown, user, BY_DESCRIPTOR);
        self.used(child)
    }

    /// Opens the directory at `path`, named `shown` in messages; `by_descriptor` allows
    /// reaching entries through `/proc/self/fd` (tests turn it off to exercise the fallback).
    #[cfg(unix)]
    fn open_with(
        path: &Path,
        shown: &Path,
        user: &User,
        by_descriptor: bool,
    ) -> Result<Option<Self>, FileError> {
        use std::fs;
        use std::io::ErrorKind;
        use std::os::fd::AsRawFd as _;
        use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};

        let opened = match OpenOptions::new()
            .read(true)
            .custom_flags(super::flags::NON_BLOCK)
            .open(path)
        {
            Ok(opened) => opened,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FileError::io("open directory", shown, e)),
        };
        let meta = opened
            .metadata()
            .map_err(|e| FileError::io("inspect", shown, e))?;
        user.check_dir_meta(shown, &meta)?;
        let id = (meta.dev(), meta.ino());
        let by_fd = PathBuf::from(format!("/proc/self/fd/{}", opened.as_raw_fd()));
        // `/proc` may be missing or something else (a chroot, another OS): use it only when
        // it leads to the very directory that was opened.
        let through_fd =
            by_descriptor && fs::metadata(&by_fd).is_ok_and(|here| (here.dev(), here.ino()) == id);
        let (base, path) = if through_fd {
            (by_fd, None)
        } else {
            (path.to_path_buf(), Some(path.to_path_buf()))
        };
        Ok(Some(Self {
            base,
            shown: shown.to_path_buf(),
            fallback: Fallback {
                _opened: opened,
                path,
                id,
            },
        }))
    }

    #[cfg(not(unix))]
    fn open_with(
        path: &Path,
        shown: &Path,
        user: &User,
        _: bool,
    ) -> Result<Option<Self>, FileError> {
        let judged = user.check_dir(path).map_err(|e| renamed(e, path, shown))?;
        Ok(judged.then(|| Self {
            base: path.to_path_buf(),
            shown: shown.to_path_buf(),
        }))
    }

    /// Opens the regular file `name` in this directory as [`open::file`] does.
    pub(crate) fn open_file(
        &self,
        name: &str,
        options: &OpenOptions,
        op: &'static str,
    ) -> Result<Option<(File, Metadata)>, FileError> {
        self.used(open::file(&self.entry(name), options, op))
    }

    /// Whether the regular file `name` is in this directory, as [`open::regular_file_at`].
    #[cfg(feature = "encrypted-files")]
    pub(crate) fn has_file(&self, name: &str) -> Result<bool, FileError> {
        self.used(open::regular_file_at(&self.entry(name)))
    }

    /// Takes the lock file `name` in this directory, as [`DirLock::acquire_within`].
    pub(crate) fn lock_within(
        &self,
        name: &str,
        wait: Duration,
    ) -> Result<Option<(DirLock, bool)>, FileError> {
        self.used(DirLock::acquire_within(&self.entry(name), wait))
    }

    /// Replaces the file `name` in this directory with `data`, as [`atomic::write_atomic`];
    /// the caller holds the directory's lock.
    pub(crate) fn write(&self, name: &str, data: &[u8]) -> Result<(), FileError> {
        self.used(atomic::write_atomic(&self.base, name, data))
    }

    /// Removes the file `name` from this directory, as [`atomic::remove`].
    #[cfg(feature = "encrypted-files")]
    pub(crate) fn remove(&self, name: &str) -> Result<(), FileError> {
        self.used(atomic::remove(&self.base, name))
    }

    /// The path as the caller named it.
    pub(crate) fn shown(&self) -> &Path {
        &self.shown
    }

    /// The path of `name` in this directory, for one open, creation or rename; follow the
    /// use with [`confirm`](Self::confirm).
    fn entry(&self, name: &str) -> PathBuf {
        self.base.join(name)
    }

    /// The outcome of one use of an entry: an error names the path as the caller knows it,
    /// and a success is [`confirm`](Self::confirm)ed.
    fn used<T>(&self, result: Result<T, FileError>) -> Result<T, FileError> {
        let value = result.map_err(|e| self.named(e))?;
        self.confirm()?;
        Ok(value)
    }

    /// `e` naming what it names in this directory by the caller's path.
    fn named(&self, e: FileError) -> FileError {
        renamed(e, &self.base, &self.shown)
    }

    /// After a use of [`entry`](Self::entry): where entries are reached through the path,
    /// checks that the path still leads to the opened directory, or
    /// [`Insecurity::Replaced`]. Nothing to check otherwise.
    pub(crate) fn confirm(&self) -> Result<(), FileError> {
        #[cfg(unix)]
        if let Some(path) = &self.fallback.path {
            use std::os::unix::fs::MetadataExt as _;
            let here = std::fs::metadata(path).map_err(|e| FileError::io("inspect", path, e))?;
            if (here.dev(), here.ino()) != self.fallback.id {
                return Err(FileError::insecure(path, Insecurity::Replaced));
            }
        }
        Ok(())
    }
}

/// Whether entries may be reached through `/proc/self/fd` on this OS.
const BY_DESCRIPTOR: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// `e` with `at` at the start of its path replaced by `shown`.
fn renamed(mut e: FileError, at: &Path, shown: &Path) -> FileError {
    if let Ok(rest) = e.path.strip_prefix(at) {
        e.path = if rest.as_os_str().is_empty() {
            shown.to_path_buf()
        } else {
            shown.join(rest)
        };
    }
    e
}

#[cfg(all(test, unix))]
mod tests {
    use std::fs;
    use std::os::unix::fs::{symlink, DirBuilderExt as _};

    use super::*;
    use crate::private_files::{Fault, Insecurity};

    /// `root/good` and `root/evil` (both ours, 0700) and `root/link` pointing to `good`.
    fn two_dirs_and_a_link(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
        let [good, evil] = ["good", "evil"].map(|name| {
            let dir = root.join(name);
            fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
            dir
        });
        let link = root.join("link");
        symlink(&good, &link).unwrap();
        (good, evil, link)
    }

    /// Points `link` at `to` instead, as another user controlling it would.
    fn switch(link: &Path, to: &Path) {
        fs::remove_file(link).unwrap();
        symlink(to, link).unwrap();
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn entries_stay_in_the_judged_directory_when_a_link_is_switched() {
        let tmp = tempfile::tempdir().unwrap();
        let (good, evil, link) = two_dirs_and_a_link(tmp.path());
        let user = User::current().unwrap();
        let dir = AnchoredDir::open(&link, &user).unwrap().unwrap();
        switch(&link, &evil);
        fs::write(dir.entry("written"), b"x").unwrap();
        dir.confirm().unwrap();
        assert!(good.join("written").is_file());
        assert!(
            !evil.join("written").exists(),
            "written where the link now points"
        );
    }

    #[test]
    fn the_fallback_refuses_a_directory_switched_while_in_use() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, evil, link) = two_dirs_and_a_link(tmp.path());
        let user = User::current().unwrap();
        let dir = AnchoredDir::open_with(&link, &link, &user, false)
            .unwrap()
            .unwrap();
        dir.confirm().unwrap();
        switch(&link, &evil);
        let _ = fs::write(dir.entry("written"), b"x");
        assert!(matches!(
            dir.confirm(),
            Err(FileError {
                fault: Fault::Insecure(Insecurity::Replaced),
                ..
            })
        ));
    }

    #[test]
    fn a_fifo_in_place_of_the_directory_is_refused_without_waiting() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("dir");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (done, opened) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let user = User::current().unwrap();
            let _ = done.send(AnchoredDir::open(&fifo, &user).map(|_| ()));
        });
        let opened = opened
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("opening the FIFO waited without bound");
        assert!(matches!(
            opened,
            Err(FileError {
                fault: Fault::NotAFile,
                ..
            })
        ));
    }
}
