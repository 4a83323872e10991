//! Token storage: the [`TokenStorage`] trait, its backends, and [`TokenStore`], which picks
//! a backend automatically.
//!
//! | backend | feature | where |
//! |---|---|---|
//! | `KeyringStorage` | `keyring` | OS keyring, service `runbeam`, account `{instance}/runbeam/{slot}.json` |
//! | `EncryptedFileStorage` | `encrypted-files` | `<base>/<instance>/runbeam/<slot>.json`, age X25519 |
//! | [`MemoryStorage`] | always | this process only |
//!
//! Every backend value is bound to one instance id; trait methods take the token *slot*
//! (`auth`, `user_auth`, ...). All calls block.

// Private files (0700 directories, 0600 files, atomic writes, ownership checks) are not
// tied to a backend: the file backend and the verifier's key-set cache both use them.
pub(crate) mod atomic;
mod error;
mod limits;
mod memory;
mod name;
mod newest;
pub(crate) mod nofollow;
mod replace;
mod store;
pub(crate) mod trust;

#[cfg(feature = "encrypted-files")]
mod file;
#[cfg(feature = "encrypted-files")]
mod key;
#[cfg(feature = "keyring")]
mod keyring;

pub use error::{Insecurity, StorageError};
#[cfg(feature = "encrypted-files")]
pub use file::EncryptedFileStorage;
#[cfg(feature = "encrypted-files")]
pub use key::EncryptionKey;
#[cfg(feature = "keyring")]
pub use keyring::{keyring_available, KeyringStorage};
pub use memory::{InjectedFailure, MemoryStorage};
pub use name::{validate_instance_id, validate_slot};
pub(crate) use store::decode;
pub use store::{StoreConfig, TokenStore};

use crate::secret::Secret;

/// Which kind of backend a [`TokenStorage`] is; see [`TokenStore::backend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendKind {
    /// The OS keyring (`KeyringStorage`).
    Keyring,
    /// age-encrypted files (`EncryptedFileStorage`).
    EncryptedFile,
    /// Process memory ([`MemoryStorage`]).
    Memory,
    /// A backend defined outside this crate.
    Other,
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Keyring => "OS keyring",
            Self::EncryptedFile => "encrypted files",
            Self::Memory => "memory storage",
            Self::Other => "other backend",
        })
    }
}

/// A place to keep token bytes, bound to one instance id.
///
/// Blocking, `Send + Sync` and object-safe, so callers may hold a `Box<dyn TokenStorage>`
/// and share it between threads. `slot` names one entry (`auth`, `user_auth`, ...); backends
/// validate it with [`validate_slot`].
pub trait TokenStorage: Send + Sync {
    /// Stores `data` under `slot`, replacing any previous value. Either the old or the new
    /// value is stored afterwards, never a mix.
    fn write(&self, slot: &str, data: &[u8]) -> Result<(), StorageError>;

    /// The value stored under `slot`, or `None` when there is none.
    fn read(&self, slot: &str) -> Result<Option<Secret<Vec<u8>>>, StorageError>;

    /// Removes `slot`. Removing a missing entry is not an error.
    fn delete(&self, slot: &str) -> Result<(), StorageError>;

    /// True when something is stored under `slot` (without decrypting it).
    fn exists(&self, slot: &str) -> Result<bool, StorageError>;

    /// What kind of backend this is. Defaults to [`BackendKind::Other`].
    fn kind(&self) -> BackendKind {
        BackendKind::Other
    }
}

/// Forwards to the inner storage, so a caller can keep a handle to a backend it gave a store.
impl<S: TokenStorage + ?Sized> TokenStorage for std::sync::Arc<S> {
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

/// Forwards to the boxed storage.
impl<S: TokenStorage + ?Sized> TokenStorage for Box<S> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn storage_types_are_send_sync_and_object_safe() {
        assert_send_sync::<Box<dyn TokenStorage>>();
        assert_send_sync::<MemoryStorage>();
        assert_send_sync::<TokenStore>();
        assert_send_sync::<StorageError>();
        #[cfg(feature = "encrypted-files")]
        assert_send_sync::<EncryptedFileStorage>();
        #[cfg(feature = "keyring")]
        assert_send_sync::<KeyringStorage>();
    }
}
