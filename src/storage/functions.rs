//! The free token functions ([`save_token`], [`load_token`], [`clear_token`] and their `_as`
//! and `_with_key` forms) and headless pre-provisioning. Each builds a [`TokenStore`] from the
//! environment ([`StoreConfig::from_env`]) for the given instance; build a [`StoreConfig`]
//! yourself to pick the directory, key or backend explicitly (tests do, so they never touch
//! the real home).
//!
//! With `--no-default-features` no persistent backend exists: the functions return
//! [`StorageError::NoBackend`](crate::StorageError::NoBackend) instead of silently keeping tokens in memory (upstream's
//! mock-keyring bug lost tokens exactly that way). Use `TokenStore::new(MemoryStorage::new())`
//! when memory is what you want.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{StoreConfig, TokenSlot, TokenStore};
use crate::{MachineToken, RunbeamError};

fn store(instance_id: &str) -> Result<TokenStore, RunbeamError> {
    StoreConfig::from_env()?.open(instance_id)
}

/// Saves `token` for `instance_id` in its slot, in the automatically chosen backend (OS
/// keyring when it answers, else encrypted files). Blocks.
///
/// # Errors
/// [`RunbeamError::Storage`] when no backend can store it (see [`StorageError`](crate::StorageError));
/// [`RunbeamError::Config`] for an invalid `RUNBEAM_ENCRYPTION_KEY`.
pub fn save_token<T: TokenSlot>(instance_id: &str, token: &T) -> Result<(), RunbeamError> {
    store(instance_id)?.save(token)
}

/// Loads the token of type `T` for `instance_id` from the keyring or the files; `None` when
/// neither has one. Never creates a key.
///
/// # Errors
/// As [`save_token`]; also [`StorageError::Corrupt`](crate::StorageError::Corrupt), [`StorageError::WrongKey`](crate::StorageError::WrongKey) or
/// [`StorageError::MissingKey`](crate::StorageError::MissingKey) for a stored token that cannot be read.
pub fn load_token<T: TokenSlot>(instance_id: &str) -> Result<Option<T>, RunbeamError> {
    store(instance_id)?.load()
}

/// Removes the token of type `T` for `instance_id` from the keyring and the files.
///
/// # Errors
/// As [`save_token`]; [`StorageError::PartialClear`](crate::StorageError::PartialClear) when a backend could not be reached.
pub fn clear_token<T: TokenSlot>(instance_id: &str) -> Result<(), RunbeamError> {
    store(instance_id)?.clear::<T>()
}

/// Saves any serialisable value in an explicit slot (e.g. `"custom"`).
///
/// # Errors
/// As [`save_token`]; [`StorageError::InvalidName`](crate::StorageError::InvalidName) for a bad slot name.
pub fn save_token_as<T: Serialize + ?Sized>(
    instance_id: &str,
    slot: &str,
    value: &T,
) -> Result<(), RunbeamError> {
    store(instance_id)?.save_as(slot, value)
}

/// Loads a value saved with [`save_token_as`].
///
/// # Errors
/// As [`load_token`].
pub fn load_token_as<T: DeserializeOwned>(
    instance_id: &str,
    slot: &str,
) -> Result<Option<T>, RunbeamError> {
    store(instance_id)?.load_as(slot)
}

/// Removes a value saved with [`save_token_as`].
///
/// # Errors
/// As [`clear_token`].
pub fn clear_token_as(instance_id: &str, slot: &str) -> Result<(), RunbeamError> {
    store(instance_id)?.clear_slot(slot)
}

#[cfg(feature = "encrypted-files")]
fn keyed_store(instance_id: &str, encryption_key: &str) -> Result<TokenStore, RunbeamError> {
    let key = super::EncryptionKey::parse(encryption_key)?;
    let base = crate::env::home_dir()
        .map(|home| home.join(".runbeam"))
        .ok_or(crate::StorageError::NoBackend {
            reason: "no home directory (HOME) for encrypted files",
        })?;
    StoreConfig::in_dir(base).with_key(key).open(instance_id)
}

/// Saves a machine token to the encrypted file of `instance_id`, encrypted with
/// `encryption_key` (any form [`EncryptionKey::parse`](super::EncryptionKey::parse)
/// accepts). Always the file, never the keyring: giving a key asks for the file backend
/// (upstream ignored the key when a keyring existed). Read it back with
/// [`load_token_with_key`].
///
/// # Errors
/// [`StorageError::InvalidKey`](crate::StorageError::InvalidKey) for a key that does not parse; otherwise as [`save_token`].
#[cfg(feature = "encrypted-files")]
pub fn save_token_with_key(
    instance_id: &str,
    token: &MachineToken,
    encryption_key: &str,
) -> Result<(), RunbeamError> {
    keyed_store(instance_id, encryption_key)?.save(token)
}

/// Loads a machine token saved with [`save_token_with_key`] using the same key.
///
/// # Errors
/// As [`save_token_with_key`] and [`load_token`].
#[cfg(feature = "encrypted-files")]
pub fn load_token_with_key(
    instance_id: &str,
    encryption_key: &str,
) -> Result<Option<MachineToken>, RunbeamError> {
    keyed_store(instance_id, encryption_key)?.load()
}

/// Headless pre-provisioning: when `RUNBEAM_MACHINE_TOKEN` holds a machine token's JSON,
/// checks it has not expired, stores it for `instance_id` (backend and key as
/// [`StoreConfig::from_env`] picks them — set `RUNBEAM_ENCRYPTION_KEY` so it survives
/// restarts on a host without a keyring) and returns it. `Ok(None)` when the variable is unset.
///
/// # Errors
/// [`ConfigError::InvalidEnv`](crate::ConfigError::InvalidEnv) when the JSON is malformed or the token has expired.
pub fn provision_machine_token(instance_id: &str) -> Result<Option<MachineToken>, RunbeamError> {
    store(instance_id)?.provision_from_env()
}

#[cfg(all(test, not(any(feature = "keyring", feature = "encrypted-files"))))]
mod no_backend_tests {
    use super::*;

    #[test]
    fn without_persistent_backends_the_free_functions_say_so() {
        let err = load_token::<MachineToken>("inst").unwrap_err();
        assert!(
            matches!(
                err,
                RunbeamError::Storage(crate::StorageError::NoBackend { .. })
            ),
            "{err:?}"
        );
    }
}
