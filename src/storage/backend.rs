//! [`TokenStorage`]: the one trait every backend implements.

use std::sync::Arc;

use super::{BackendKind, StorageError};
use crate::secret::Secret;

/// A place to keep token bytes, bound to one instance id.
///
/// Blocking, `Send + Sync` and object-safe, so callers may hold a `Box<dyn TokenStorage>`
/// and share it between threads. `slot` names one entry (`auth`, `user_auth`, ...); backends
/// validate it with [`validate_slot`](super::validate_slot).
pub trait TokenStorage: Send + Sync {
    /// Stores `data` under `slot`, replacing any previous value. Either the old or the new
    /// value is stored afterwards, never a mix.
    ///
    /// # Errors
    /// [`StorageError::NoStorageAccess`] when the backend cannot be reached (a caller may try
    /// another), or the backend's reason.
    fn write(&self, slot: &str, data: &[u8]) -> Result<(), StorageError>;

    /// The value stored under `slot`, or `None` when there is none.
    ///
    /// # Errors
    /// As [`write`](Self::write); [`StorageError::Corrupt`] and the like for a stored value that cannot be read.
    fn read(&self, slot: &str) -> Result<Option<Secret<Vec<u8>>>, StorageError>;

    /// Removes `slot`. Removing a missing entry is not an error.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    fn delete(&self, slot: &str) -> Result<(), StorageError>;

    /// True when something is stored under `slot` (without decrypting it).
    ///
    /// # Errors
    /// As [`write`](Self::write).
    fn exists(&self, slot: &str) -> Result<bool, StorageError>;

    /// What kind of backend this is. Defaults to [`BackendKind::Other`].
    fn kind(&self) -> BackendKind {
        BackendKind::Other
    }
}

/// Implements [`TokenStorage`] for a smart pointer by forwarding every call to what it
/// points to.
macro_rules! forward_token_storage {
    ($(#[$doc:meta])* $pointer:ident) => {
        $(#[$doc])*
        impl<S: TokenStorage + ?Sized> TokenStorage for $pointer<S> {
            fn write(&self, slot: &str, data: &[u8]) -> Result<(), StorageError> {
                (**self).write(slot, data)
            }
            fn read(&self, slot: &str) -> Result<Option<Secret<Vec<u8>>>, StorageError> {
                (**self).read(slot)
            }
            fn delete(&self, slot: &str) -> Result<(), StorageError> {
                (**self).delete(slot)
            }
            fn exists(&self, slot: &str) -> Result<bool, StorageError> {
                (**self).exists(slot)
            }
            fn kind(&self) -> BackendKind {
                (**self).kind()
            }
        }
    };
}

forward_token_storage!(
    /// Forwards to the inner storage, so a caller can keep a handle to a backend it gave a
    /// store.
    Arc
);
forward_token_storage!(
    /// Forwards to the boxed storage.
    Box
);
