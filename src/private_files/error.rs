//! [`FileError`]: why a private file or directory could not be used, and [`Insecurity`]: why
//! one was refused as unsafe. The token storage and the key-set cache map these into their
//! own errors (the storage into `StorageError` variants of the same shape and message).

use std::path::{Path, PathBuf};

/// Why a private file or directory could not be used: the path, and what went wrong there.
#[derive(Debug)]
pub(crate) struct FileError {
    /// The file or directory involved.
    pub(crate) path: PathBuf,
    /// What went wrong there.
    pub(crate) fault: Fault,
}

/// What went wrong at a [`FileError`]'s path.
#[derive(Debug)]
pub(crate) enum Fault {
    /// Another user could change or read it, or a link sits where a file belongs.
    Insecure(Insecurity),
    /// Something other than a regular file (or, for a directory, other than a directory).
    NotAFile,
    /// The operation named (`"read"`, `"create"`, `"rename"`, `"lock"`, ...) failed.
    Io(&'static str, std::io::Error),
}

impl FileError {
    /// The operation `op` on `path` failed with `source`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self {
            path: path.into(),
            fault: Fault::Io(op, source),
        }
    }

    /// `path` is refused as unsafe, for `why`.
    pub(crate) fn insecure(path: &Path, why: Insecurity) -> Self {
        Self {
            path: path.into(),
            fault: Fault::Insecure(why),
        }
    }

    /// `path` is not a regular file (or not a directory where one belongs).
    pub(crate) fn not_a_file(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            fault: Fault::NotAFile,
        }
    }
}

/// The same words as the storage's errors of the same kind, so a log of the key-set cache
/// and a storage error read alike.
impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.fault {
            Fault::Insecure(why) => f.write_str(&insecure_message(&self.path, why)),
            Fault::NotAFile => write!(f, "{path} is not a regular file"),
            Fault::Io(op, error) => write!(f, "could not {op} {path}: {error}"),
        }
    }
}

/// A leaf: its message already says the operating system's reason.
impl std::error::Error for FileError {}

/// Why [`StorageError::InsecurePermissions`](crate::StorageError::InsecurePermissions) refused
/// a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Insecurity {
    /// The path belongs to another user, who could replace what is in it.
    ForeignOwner {
        /// The owner's uid.
        owner: u32,
        /// The effective uid of this process.
        expected: u32,
    },
    /// A directory is writable by its group or by others.
    WritableByOthers {
        /// The permission bits found, e.g. `0o777`.
        mode: u32,
    },
    /// The key file grants some permission to its group or to others.
    KeyExposed {
        /// The permission bits found, e.g. `0o644`.
        mode: u32,
    },
    /// A symbolic link (on Windows, a reparse point) sits where a token, key, lock or temp
    /// file belongs; such links are never followed.
    Link,
    /// The path led to another directory after the one judged was opened: a link on the
    /// way was switched while it was in use.
    Replaced,
}

/// The text of a refusal (`FileError::Insecure`, `StorageError::InsecurePermissions`): what
/// is wrong and the command that fixes it.
pub(crate) fn insecure_message(path: &Path, why: &Insecurity) -> String {
    let path = path.display();
    match why {
        Insecurity::ForeignOwner { owner, expected } => format!(
            "{path} is owned by uid {owner}, not by this process's uid {expected}: if it is \
             yours, run `chown {expected} {path}`; otherwise move it away"
        ),
        Insecurity::WritableByOthers { mode } => format!(
            "{path} is writable by other users (mode {mode:04o}): run \
             `chmod 700 {path}`"
        ),
        Insecurity::KeyExposed { mode } => format!(
            "key file {path} is accessible to other users (mode {mode:04o}): run \
             `chmod 600 {path}`, and replace the key if someone may have read it"
        ),
        Insecurity::Link => {
            format!("{path} is a symbolic link, which token storage never follows: remove it")
        }
        Insecurity::Replaced => format!(
            "{path} led to another directory while it was in use: check who can change \
             the links on the way to it"
        ),
    }
}
