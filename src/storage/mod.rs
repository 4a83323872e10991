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

pub(crate) mod backend;
mod config;
pub(crate) mod error;
pub(crate) mod functions;
mod limits;
mod memory;
mod name;
mod newest;
mod store;

#[cfg(feature = "encrypted-files")]
mod file;
#[cfg(feature = "encrypted-files")]
pub(crate) mod key;
#[cfg(feature = "keyring")]
mod keyring;
#[cfg(all(
    feature = "keyring",
    any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")
))]
mod secret_service;

pub use crate::private_files::Insecurity;
pub use crate::token::TokenSlot;
pub(crate) use backend::TokenStorage;
pub use config::StoreConfig;
pub(crate) use error::StorageError;
#[cfg(feature = "encrypted-files")]
pub use file::EncryptedFileStorage;
#[cfg(feature = "encrypted-files")]
pub(crate) use key::EncryptionKey;
#[cfg(feature = "keyring")]
pub use keyring::{keyring_available, KeyringStorage};
pub use memory::MemoryStorage;
pub use name::{validate_instance_id, validate_slot};
pub use store::TokenStore;

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
