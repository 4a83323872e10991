//! Whether another local user could change or read private files: the directories they are
//! kept in must belong to the current user and be writable by nobody else, and a file that
//! holds a secret (a key, a key-set record) must belong to the current user with no group or
//! other permission at all.
//!
//! Only the directories files are kept in are judged, never their parents: a home directory
//! with mode 0755 is fine. A symlinked directory is judged by what it points to.
//!
//! On Windows `std` can read neither owners nor ACLs, so only the directory shape is checked
//! here; the files inherit the ACL of the user's profile.

use std::fs::Metadata;
use std::path::Path;

use super::FileError;
#[cfg(unix)]
use super::Insecurity;

/// The user whose files these must be: the effective uid on Unix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct User {
    #[cfg(unix)]
    uid: u32,
}

impl User {
    /// The current user, looked up on every call so a process that drops privileges is
    /// judged as what it is now.
    pub(crate) fn current() -> Result<Self, FileError> {
        Ok(Self {
            #[cfg(unix)]
            uid: uid::effective()?,
        })
    }

    /// Checks the directory at `dir` by path; `Ok(false)` when it does not exist. Only where
    /// a directory cannot be opened (Windows); elsewhere `anchored` judges the opened one.
    #[cfg(not(unix))]
    pub(crate) fn check_dir(&self, dir: &Path) -> Result<bool, FileError> {
        let meta = match std::fs::metadata(dir) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(FileError::io("inspect", dir, e)),
        };
        self.check_dir_meta(dir, &meta)?;
        Ok(true)
    }

    /// Checks the metadata of the directory at `dir`: a directory, ours, and writable by
    /// nobody else. From an opened descriptor, this judges exactly what will be used.
    pub(crate) fn check_dir_meta(&self, dir: &Path, meta: &Metadata) -> Result<(), FileError> {
        if !meta.is_dir() {
            return Err(FileError::not_a_file(dir));
        }
        self.check_owner(dir, meta)?;
        #[cfg(unix)]
        {
            let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777;
            if mode & 0o022 != 0 {
                return Err(FileError::insecure(
                    dir,
                    Insecurity::WritableByOthers { mode },
                ));
            }
        }
        Ok(())
    }

    /// Checks the opened key file's metadata: ours, and no group or other permission bits
    /// (a key others can read decrypts every token; one others wrote encrypts to them).
    pub(crate) fn check_key_file(&self, path: &Path, meta: &Metadata) -> Result<(), FileError> {
        self.check_owner(path, meta)?;
        #[cfg(unix)]
        {
            let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777;
            if mode & 0o077 != 0 {
                return Err(FileError::insecure(path, Insecurity::KeyExposed { mode }));
            }
        }
        Ok(())
    }

    /// Checks that the current user owns what `meta` describes (on Windows: nothing).
    #[cfg(unix)]
    pub(crate) fn check_owner(&self, path: &Path, meta: &Metadata) -> Result<(), FileError> {
        let owner = std::os::unix::fs::MetadataExt::uid(meta);
        if owner != self.uid {
            return Err(FileError::insecure(
                path,
                Insecurity::ForeignOwner {
                    owner,
                    expected: self.uid,
                },
            ));
        }
        Ok(())
    }

    /// Owners are not visible through `std` on Windows.
    #[cfg(not(unix))]
    pub(crate) fn check_owner(&self, _path: &Path, _meta: &Metadata) -> Result<(), FileError> {
        Ok(())
    }
}

/// The effective uid without `libc` (this crate forbids `unsafe`).
#[cfg(unix)]
pub(crate) mod uid {
    use std::fs::{self, OpenOptions};
    use std::io::ErrorKind;
    use std::os::unix::fs::MetadataExt;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::FileError;

    /// The effective uid: from `/proc/self/status` where there is one, otherwise the owner
    /// of a file this process creates (new files belong to the effective uid).
    pub(crate) fn effective() -> Result<u32, FileError> {
        match from_proc() {
            Some(uid) => Ok(uid),
            None => from_new_file(),
        }
    }

    /// The second field of the `Uid:` line (real, effective, saved, filesystem).
    pub(crate) fn from_proc() -> Option<u32> {
        let status = fs::read_to_string("/proc/self/status").ok()?;
        let fields = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
        fields.split_whitespace().nth(1)?.parse().ok()
    }

    pub(crate) fn from_new_file() -> Result<u32, FileError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir();
        let mut last = None;
        // A name someone else took (the temp dir is shared) is just skipped.
        for _ in 0..8 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".runbeam-uid-{}-{n}-{nanos}", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    let owner = file.metadata().map(|m| m.uid());
                    let _ = fs::remove_file(&path);
                    return owner
                        .map_err(|e| FileError::io("determine the current user from", path, e));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some((path, e)),
                Err(e) => return Err(FileError::io("determine the current user in", path, e)),
            }
        }
        let (path, e) = last.unwrap_or_else(|| (dir, ErrorKind::AlreadyExists.into()));
        Err(FileError::io("determine the current user in", path, e))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::uid;

    #[test]
    fn both_ways_of_finding_the_uid_agree() {
        let from_proc = uid::from_proc();
        let from_file = uid::from_new_file().unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(from_proc, Some(from_file));
        }
        assert_eq!(uid::effective().unwrap(), from_file);
    }
}
