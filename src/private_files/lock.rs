//! The lock file that serialises the writers of a private directory across threads and
//! processes: an exclusive advisory lock, released by the OS when its holder dies, so a
//! killed writer never leaves a stale lock.

use std::fs::{File, TryLockError};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use super::open;
use super::trust::User;
use super::FileError;

/// An exclusive advisory lock on a lock file, held until dropped. The OS releases it when
/// the process dies, so a killed writer never leaves a stale lock.
pub(crate) struct DirLock(File);

impl DirLock {
    /// Waits at most `wait` until this process holds the lock on `path` (created 0600 when
    /// missing; a link, anything not a regular file, or a file another user owns there is
    /// refused): the lock and whether another holder had it first, or `None` when another
    /// holder kept it that long. Every user bounds the wait: a stuck or hostile holder (any
    /// process of the same user can take the lock) must not turn into a wait without end.
    /// Only for lock files in a directory nobody else can write: another user cannot open
    /// them.
    pub(crate) fn acquire_within(
        path: &Path,
        wait: Duration,
    ) -> Result<Option<(Self, bool)>, FileError> {
        /// How often a waiter tries again.
        const POLL: Duration = Duration::from_millis(10);
        let file = Self::open(path)?;
        let deadline = Instant::now() + wait;
        let mut waited = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some((Self(file), waited))),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    waited = true;
                    std::thread::sleep(POLL);
                }
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Error(e)) => return Err(FileError::io("lock", path, e)),
            }
        }
    }

    /// Opens (creating) the lock file, refusing one another user owns: whoever owns it can
    /// open it, so could hold the lock for ever.
    fn open(path: &Path) -> Result<File, FileError> {
        let mut options = open::options();
        options.read(true).write(true).create(true).truncate(false);
        let (file, meta) = open::file(path, &options, "open lock file")?
            .ok_or_else(|| FileError::io("open lock file", path, ErrorKind::NotFound.into()))?;
        User::current()?.check_owner(path, &meta)?;
        Ok(file)
    }
}

impl DirLock {
    /// The first bytes of the lock file: a note the previous holder left for the next one
    /// (empty when none). Read while holding the lock, so no writer is mid-way.
    pub(crate) fn note(&self) -> std::io::Result<Vec<u8>> {
        /// Notes are a word; a longer file is not one of ours to read in full.
        const MAX_NOTE: u64 = 64;
        let mut file = &self.0;
        file.seek(SeekFrom::Start(0))?;
        let mut note = Vec::new();
        file.take(MAX_NOTE).read_to_end(&mut note)?;
        Ok(note)
    }

    /// Replaces the note for the next holder of the lock.
    pub(crate) fn set_note(&self, note: &[u8]) -> std::io::Result<()> {
        let mut file = &self.0;
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(note)
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Closing the file releases the lock as well; unlocking first just makes it explicit.
        let _ = self.0.unlock();
    }
}
