//! Private files done safely: directories 0700 and files 0600 from creation (no chmod
//! window), atomic replacement (temp file in the same directory, fsync, rename, fsync of the
//! directory), and an exclusive lock file that serialises writers across threads and
//! processes.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use super::trust::User;
use super::{nofollow, StorageError};

/// Creates `dir` and any missing parents with mode 0700 (on Unix).
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), StorageError> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| StorageError::io("create directory", dir, e))?;
    if !dir.is_dir() {
        return Err(StorageError::NotAFile { path: dir.into() });
    }
    Ok(())
}

/// Opens (creating) a file through [`nofollow::open`], where "not found" means the directory
/// is gone.
fn create(path: &Path, options: &OpenOptions, op: &'static str) -> Result<File, StorageError> {
    nofollow::open(path, options, op)?
        .map(|(file, _)| file)
        .ok_or_else(|| StorageError::io(op, path, ErrorKind::NotFound.into()))
}

/// Replaces `dir/file_name` with `data` atomically. Callers hold the directory's [`DirLock`],
/// so one fixed temp name per file is enough, and a temp regular file left by a killed writer
/// is simply replaced. A link or directory at either name is refused, never replaced.
pub(crate) fn write_atomic(dir: &Path, file_name: &str, data: &[u8]) -> Result<(), StorageError> {
    let target = dir.join(file_name);
    let temp = dir.join(format!(".{file_name}.tmp"));
    nofollow::regular_file_at(&target)?;
    if nofollow::regular_file_at(&temp)? {
        match fs::remove_file(&temp) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(StorageError::io("remove stale temp file", &temp, e)),
        }
    }
    let result = (|| {
        let mut file = create(
            &temp,
            nofollow::options().write(true).create_new(true),
            "create",
        )?;
        file.write_all(data)
            .map_err(|e| StorageError::io("write", &temp, e))?;
        file.sync_all()
            .map_err(|e| StorageError::io("sync", &temp, e))?;
        drop(file);
        super::replace::replace(&temp, &target).map_err(|e| StorageError::io("rename", &target, e))
    })();
    if result.is_err() {
        // Best effort: a leftover temp file is removed by the next write anyway.
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir)
}

/// Removes `dir/file_name`; a missing file is fine. Only the file backend removes files.
#[cfg(feature = "encrypted-files")]
pub(crate) fn remove(dir: &Path, file_name: &str) -> Result<(), StorageError> {
    let target = dir.join(file_name);
    match fs::remove_file(&target) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(_) if target.is_dir() => Err(StorageError::NotAFile { path: target }),
        Err(e) => Err(StorageError::io("remove", &target, e)),
    }
}

/// Makes a rename or removal in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("sync directory", dir, e))?;
    // Windows cannot open a directory as a file; NTFS journals the rename itself.
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// An exclusive advisory lock on a lock file, held until dropped. The OS releases it when
/// the process dies, so a killed writer never leaves a stale lock.
pub(crate) struct DirLock(File);

impl DirLock {
    /// Blocks until this process holds the lock on `path` (created 0600 when missing; a link,
    /// anything not a regular file, or a file another user owns there is refused). Only for
    /// lock files in a directory nobody else can write: another user cannot open them.
    /// Only the file backend waits without a bound.
    #[cfg(feature = "encrypted-files")]
    pub(crate) fn acquire(path: &Path) -> Result<Self, StorageError> {
        let file = Self::open(path)?;
        file.lock().map_err(|e| StorageError::io("lock", path, e))?;
        Ok(Self(file))
    }

    /// As [`acquire`](Self::acquire), but waits at most `wait`: the lock and whether another
    /// holder had it first, or `None` when another holder kept it that long. For locks a
    /// stuck or hostile holder must not turn into a wait without end.
    pub(crate) fn acquire_within(
        path: &Path,
        wait: Duration,
    ) -> Result<Option<(Self, bool)>, StorageError> {
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
                Err(TryLockError::Error(e)) => return Err(StorageError::io("lock", path, e)),
            }
        }
    }

    /// Opens (creating) the lock file, refusing one another user owns: whoever owns it can
    /// open it, so could hold the lock for ever.
    fn open(path: &Path) -> Result<File, StorageError> {
        let mut options = nofollow::options();
        options.read(true).write(true).create(true).truncate(false);
        let (file, meta) = nofollow::open(path, &options, "open lock file")?
            .ok_or_else(|| StorageError::io("open lock file", path, ErrorKind::NotFound.into()))?;
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn files_are_0600_and_dirs_0700_from_creation() {
        let tmp = std::env::temp_dir().join(format!("runbeam-atomic-{}", std::process::id()));
        let dir = tmp.join("a/b");
        create_private_dir(&dir).unwrap();
        write_atomic(&dir, "x.json", b"data").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&tmp.join("a")), 0o700);
        assert_eq!(mode(&dir.join("x.json")), 0o600);
        assert_eq!(fs::read(dir.join("x.json")).unwrap(), b"data");
        assert!(!dir.join(".x.json.tmp").exists());
        fs::remove_dir_all(&tmp).unwrap();
    }
}
