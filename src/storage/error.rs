//! [`StorageError`]: why a token could not be stored or loaded.

use std::path::PathBuf;

use crate::private_files::{insecure_message, Fault, FileError, Insecurity};

/// Why a token could not be stored or loaded.
///
/// Variants say what a caller can act on: [`NoStorageAccess`](Self::NoStorageAccess) means
/// "try another backend", [`MissingKey`](Self::MissingKey) and [`WrongKey`](Self::WrongKey)
/// mean "configure the right key", [`Corrupt`](Self::Corrupt) means "the stored bytes are
/// damaged or foreign". No variant ever contains a token, a stored value or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The backend cannot be reached or is locked (no Secret Service, locked keychain, ...).
    /// Automatic selection falls back to the next backend on this error.
    #[error("the {backend} cannot be accessed{}", because(.reason))]
    NoStorageAccess {
        /// Which backend.
        backend: super::BackendKind,
        /// The platform's reason, when it gave one (shown in the message).
        reason: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The value is larger than the backend can hold: the Windows Credential Manager takes
    /// at most 2,560 bytes. [`TokenStore`](super::TokenStore) saves it to the next backend
    /// instead (and removes the older copy from this one), as on
    /// [`NoStorageAccess`](Self::NoStorageAccess).
    #[error("the token is too large for the {backend} (at most {limit} bytes)")]
    TooLarge {
        /// Which backend.
        backend: super::BackendKind,
        /// The largest value it takes, in bytes.
        limit: usize,
    },
    /// The backend answered but the operation failed for a platform reason.
    #[error("the {backend} failed: {error}")]
    Platform {
        /// Which backend.
        backend: super::BackendKind,
        /// The platform's error (shown in the message).
        error: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An instance id or token slot name is not allowed (separators, `..`, NUL, too long, ...).
    #[error("invalid {what} name: {reason}")]
    InvalidName {
        /// `"instance id"` or `"token slot"`.
        what: &'static str,
        /// Why the name was refused.
        reason: &'static str,
    },
    /// A stored entry exists but cannot be read back: truncated, tampered with, not an age
    /// file, not valid JSON for the expected type, or too large.
    #[error("stored token {name:?} is corrupt: {reason}")]
    Corrupt {
        /// The token slot, e.g. `"auth"`.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A stored file is encrypted to another age recipient than the configured key.
    #[error("stored token {name:?} is encrypted to a different key")]
    WrongKey {
        /// The token slot, e.g. `"auth"`.
        name: String,
    },
    /// A stored file is passphrase-encrypted (age scrypt); tokens are encrypted to X25519 keys.
    #[error("stored token {name:?} is passphrase-encrypted, not encrypted to an X25519 key")]
    PassphraseEncrypted {
        /// The token slot, e.g. `"auth"`.
        name: String,
    },
    /// A token exists but no decryption key is configured (no `RUNBEAM_ENCRYPTION_KEY`, no
    /// key file). Loading never creates a key.
    #[error("no encryption key: {path} does not exist and RUNBEAM_ENCRYPTION_KEY is not set")]
    MissingKey {
        /// The key file that was looked for.
        path: PathBuf,
    },
    /// An encryption key could not be parsed.
    #[error("invalid encryption key from {origin}: {reason}")]
    InvalidKey {
        /// Where the key came from: `"RUNBEAM_ENCRYPTION_KEY"`, `"key file"`, `"argument"`.
        origin: &'static str,
        /// Why it was refused (never the key itself).
        reason: &'static str,
    },
    /// A directory or file of the file backend could be changed or read by another user, or a
    /// link sits where a token, key, lock or temp file belongs. Nothing was read or written;
    /// the message says what to fix.
    #[error("{}", insecure_message(.path, .why))]
    InsecurePermissions {
        /// The directory or file that was refused.
        path: PathBuf,
        /// What is wrong with it.
        why: Insecurity,
    },
    /// A save was refused because the value could not be loaded back (a load-side limit);
    /// the previously stored value is unchanged.
    #[error("token {name:?} was not saved, it could not be loaded back: {reason}")]
    Unloadable {
        /// The token slot, e.g. `"auth"`.
        name: String,
        /// Which limit it exceeds.
        reason: &'static str,
    },
    /// Another writer kept the lock file of the file backend for longer than a save or a
    /// removal waits (any process of the same user can take it); nothing was changed. Try
    /// again once that writer lets go.
    #[error("{path} stayed locked by another writer for {waited:?}: nothing was changed")]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// How long the call waited.
        waited: std::time::Duration,
    },
    /// Something other than a regular file sits where a token, key or lock file belongs.
    #[error("{path} is not a regular file")]
    NotAFile {
        /// The offending path.
        path: PathBuf,
    },
    /// A filesystem operation failed.
    #[error("could not {op} {path}: {error}")]
    Io {
        /// What was being done: `"read"`, `"create"`, `"rename"`, `"lock"`, ...
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error (shown in the message).
        error: std::io::Error,
    },
    /// A token could not be encoded as JSON (a `Serialize` impl failed).
    #[error("token {name:?} could not be encoded as JSON")]
    Encode {
        /// The token slot, e.g. `"auth"`.
        name: String,
    },
    /// Encryption failed inside the age library.
    #[error("encryption failed")]
    Encrypt,
    /// No persistent backend is compiled in (both `keyring` and `encrypted-files` features
    /// are off) or none can be used; build a `TokenStore` with a `MemoryStorage` instead.
    #[error("no persistent token storage is available: {reason}")]
    NoBackend {
        /// Why.
        reason: &'static str,
    },
    /// A clear removed the token from the backends it could reach, but not from these: a
    /// copy may still be stored there. Clear again once they answer.
    #[error("token {name:?} was not removed from {}: {cause}", kinds(.remaining))]
    PartialClear {
        /// The token slot, e.g. `"auth"`.
        name: String,
        /// The backends the token may remain in, in the store's order.
        remaining: Vec<super::BackendKind>,
        /// Why the first of them failed (shown in the message).
        cause: Box<StorageError>,
    },
}

/// `": <reason>"` when the platform gave one, for an error message.
fn because(reason: &Option<Box<dyn std::error::Error + Send + Sync>>) -> String {
    reason
        .as_ref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default()
}

/// `OS keyring, encrypted files` for an error message.
fn kinds(kinds: &[super::BackendKind]) -> String {
    let names: Vec<String> = kinds.iter().map(ToString::to_string).collect();
    names.join(", ")
}

impl StorageError {
    /// Shorthand for [`StorageError::Io`]. Only the file backend does I/O.
    #[cfg_attr(not(feature = "encrypted-files"), allow(dead_code))]
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            error,
        }
    }

    /// Shorthand for [`StorageError::Corrupt`].
    pub(crate) fn corrupt(name: &str, reason: &'static str) -> Self {
        Self::Corrupt {
            name: name.to_owned(),
            reason,
        }
    }
}

/// The private-file kit's errors are the storage's own variants, with the same messages.
impl From<FileError> for StorageError {
    fn from(e: FileError) -> Self {
        let FileError { path, fault } = e;
        match fault {
            Fault::Insecure(why) => Self::InsecurePermissions { path, why },
            Fault::NotAFile => Self::NotAFile { path },
            Fault::Io(op, error) => Self::Io { op, path, error },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;
    use std::path::Path;

    use super::*;

    /// The storage error `error` becomes, and that it says the same.
    fn mapped(error: FileError) -> StorageError {
        let text = error.to_string();
        let mapped = StorageError::from(error);
        assert_eq!(mapped.to_string(), text);
        mapped
    }

    #[test]
    fn a_private_file_error_becomes_the_storage_variant_of_its_kind_with_the_same_words() {
        let path = Path::new("/home/u/.runbeam/inst/runbeam/auth.json");
        let why = Insecurity::WritableByOthers { mode: 0o777 };
        assert!(matches!(
            mapped(FileError::insecure(path, why)),
            StorageError::InsecurePermissions { path: p, why: w } if p == path && w == why
        ));
        assert!(matches!(
            mapped(FileError::not_a_file(path)),
            StorageError::NotAFile { path: p } if p == path
        ));
        assert!(matches!(
            mapped(FileError::io("read", path, ErrorKind::TimedOut.into())),
            StorageError::Io { op: "read", path: p, error }
                if p == path && error.kind() == ErrorKind::TimedOut
        ));
    }
}
