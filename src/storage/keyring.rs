//! [`KeyringStorage`]: the OS keyring (Secret Service over libdbus on Linux, the macOS
//! keychain, the Windows credential manager) through the `keyring` crate, with its platform
//! stores compiled in — never its non-persistent mock store.

use std::sync::OnceLock;
use std::time::Duration;

use super::name::{validate_instance_id, validate_slot};
use super::{BackendKind, StorageError, TokenStorage};
use crate::secret::Secret;

/// The keyring service name, shared with upstream.
pub const SERVICE: &str = "runbeam";
const BACKEND: BackendKind = BackendKind::Keyring;

/// Tokens in the OS keyring: service `runbeam`, account `{instance}/runbeam/{slot}.json`.
///
/// Upstream used the account `runbeam/{slot}.json` with no instance id. A read that finds
/// nothing under the new account looks there, and moves a token it finds to the new account;
/// [`delete`](TokenStorage::delete) removes both.
///
/// # A locked keyring
/// On Linux and the BSDs (the Secret Service) every call first reads whether the default
/// collection is locked. A locked one answers [`StorageError::NoStorageAccess`] at once, so
/// [`TokenStore`](super::TokenStore) goes on to the files: no call waits for an unlock
/// prompt nobody may answer, unless [`with_unlock_prompt`](Self::with_unlock_prompt) allows
/// it. A Secret Service that owns its bus name but never answers costs about 2 s (one D-Bus
/// call timeout) before the same error. The check and the keyring's own calls are separate
/// requests: a keyring locked in between can still make that one call prompt.
#[derive(Debug, Clone)]
pub struct KeyringStorage {
    instance: String,
    unlock_prompt: Option<Duration>,
}

impl KeyringStorage {
    /// Keyring storage for `instance_id`. Contacts the keyring only when used.
    ///
    /// # Errors
    /// [`StorageError::InvalidName`] for an instance id that is not allowed.
    pub fn new(instance_id: &str) -> Result<Self, StorageError> {
        validate_instance_id(instance_id)?;
        Ok(Self {
            instance: instance_id.to_owned(),
            unlock_prompt: None,
        })
    }

    /// Lets a call that finds the keyring locked ask the desktop to unlock it, and wait up to
    /// `wait` for the user (plus at most 2 s per D-Bus call around it); a prompt dismissed
    /// or not answered in time gives [`StorageError::NoStorageAccess`]. An unanswered prompt
    /// stays on screen, and answering it later unlocks the keyring for the next call. For
    /// interactive programs only: each call on a still-locked keyring waits again. A zero
    /// `wait` turns prompts off.
    ///
    /// Only the Secret Service (Linux, BSD) is asked for its lock state; elsewhere this
    /// setting changes nothing and the platform decides. Defaults to no prompt.
    pub fn with_unlock_prompt(self, wait: Duration) -> Self {
        Self {
            unlock_prompt: (!wait.is_zero()).then_some(wait),
            ..self
        }
    }

    /// The account for `slot`, once the keyring may be used without an unexpected prompt.
    fn account(&self, slot: &str) -> Result<String, StorageError> {
        validate_slot(slot)?;
        ensure_unlocked(self.unlock_prompt)?;
        Ok(format!("{}/runbeam/{slot}.json", self.instance))
    }
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
use super::secret_service::ensure_unlocked;

/// The other platform stores have no lock state to ask ahead of a call.
#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")))]
fn ensure_unlocked(_prompt: Option<Duration>) -> Result<(), StorageError> {
    Ok(())
}

/// The one place keyring errors become [`StorageError`]s. `NoEntry` is handled by callers
/// (it means "absent", not failure).
fn map_error(error: keyring::Error) -> StorageError {
    use keyring::Error as E;
    match error {
        // Locked, unreachable or missing platform store: the caller may fall back to files.
        E::NoStorageAccess(reason) | E::PlatformFailure(reason) => StorageError::NoStorageAccess {
            backend: BACKEND,
            reason: Some(reason),
        },
        E::NoEntry => StorageError::NoStorageAccess {
            backend: BACKEND,
            reason: None,
        },
        // BadEncoding carries the secret bytes: drop them.
        E::BadEncoding(_) => StorageError::corrupt("keyring entry", "not valid UTF-8"),
        // The platform store's limit on the secret itself (Windows: 2,560 bytes; keyring
        // names it "secret", or "password encoded as UTF-16"): not a naming problem, and the
        // token fits in the next backend.
        E::TooLong(attribute, limit)
            if attribute == "secret" || attribute.starts_with("password") =>
        {
            StorageError::TooLarge {
                backend: BACKEND,
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            }
        }
        E::TooLong(..) | E::Invalid(..) => StorageError::InvalidName {
            what: "keyring account",
            reason: "refused by the platform keyring",
        },
        E::Ambiguous(_) => StorageError::corrupt("keyring entry", "several entries match"),
        other => StorageError::Platform {
            backend: BACKEND,
            error: Box::new(other),
        },
    }
}

fn entry(account: &str) -> Result<keyring::Entry, StorageError> {
    keyring::Entry::new(SERVICE, account).map_err(map_error)
}

fn get(account: &str) -> Result<Option<Vec<u8>>, StorageError> {
    match entry(account)?.get_secret() {
        Ok(bytes) => Ok(Some(bytes)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(map_error(e)),
    }
}

/// Reads an upstream account. Upstream stored its JSON with `set_password`, which the Windows
/// store keeps as UTF-16LE (the others as UTF-8), so it is read back as a password, not as raw
/// bytes.
fn get_legacy(account: &str) -> Result<Option<Vec<u8>>, StorageError> {
    match entry(account)?.get_password() {
        Ok(text) => Ok(Some(text.into_bytes())),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(map_error(e)),
    }
}

fn remove(account: &str) -> Result<(), StorageError> {
    match entry(account)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(map_error(e)),
    }
}

impl TokenStorage for KeyringStorage {
    fn write(&self, slot: &str, data: &[u8]) -> Result<(), StorageError> {
        let account = self.account(slot)?;
        entry(&account)?.set_secret(data).map_err(map_error)
    }

    fn read(&self, slot: &str) -> Result<Option<Secret<Vec<u8>>>, StorageError> {
        let account = self.account(slot)?;
        if let Some(bytes) = get(&account)? {
            return Ok(Some(Secret::new(bytes)));
        }
        let legacy = format!("runbeam/{slot}.json");
        let Some(bytes) = get_legacy(&legacy)? else {
            return Ok(None);
        };
        // Migrate: copy first, then remove the old entry, so a failure loses nothing.
        entry(&account)?.set_secret(&bytes).map_err(map_error)?;
        remove(&legacy)?;
        Ok(Some(Secret::new(bytes)))
    }

    fn delete(&self, slot: &str) -> Result<(), StorageError> {
        let account = self.account(slot)?;
        remove(&account)?;
        remove(&format!("runbeam/{slot}.json"))
    }

    fn exists(&self, slot: &str) -> Result<bool, StorageError> {
        let account = self.account(slot)?;
        Ok(get(&account)?.is_some() || get_legacy(&format!("runbeam/{slot}.json"))?.is_some())
    }

    fn kind(&self) -> BackendKind {
        BackendKind::Keyring
    }
}

/// True when the OS keyring really stores secrets: a canary entry is written, read back,
/// compared and deleted. Decided once per process and cached (the first call may block for a
/// moment while the platform store answers: about 2 s at most for a Secret Service that never
/// answers). A locked Secret Service counts as unavailable; no unlock prompt is shown.
pub fn keyring_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(probe)
}

/// As [`keyring_available`], but a keyring that is locked is first unlocked through the
/// desktop's prompt, waiting up to `wait` for the user. Not cached: the answer can change
/// with the lock.
pub(crate) fn keyring_available_with_prompt(wait: Duration) -> bool {
    keyring_available() || (ensure_unlocked(Some(wait)).is_ok() && probe())
}

/// One canary round trip. A store that accepts the write but returns nothing (a mock store,
/// keyutils without a session keyring) counts as unavailable, and so does a locked one.
pub(crate) fn probe() -> bool {
    let account = format!("runbeam-probe/{}.canary", std::process::id());
    let canary = b"runbeam keyring probe";
    let round_trip = || -> Result<bool, StorageError> {
        ensure_unlocked(None)?;
        let entry = entry(&account)?;
        entry.set_secret(canary).map_err(map_error)?;
        let back = get(&account)?;
        remove(&account)?;
        Ok(back.as_deref() == Some(canary.as_slice()))
    };
    round_trip().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_over_the_platform_limit_is_too_large_not_a_bad_name() {
        // What keyring's Windows store answers for a secret over 2,560 bytes.
        for attribute in ["secret", "password encoded as UTF-16"] {
            assert!(
                matches!(
                    map_error(keyring::Error::TooLong(attribute.into(), 2560)),
                    StorageError::TooLarge {
                        backend: BackendKind::Keyring,
                        limit: 2560
                    }
                ),
                "{attribute}"
            );
        }
        // A name over its limit is still refused as a name.
        for attribute in ["user", "target"] {
            assert!(
                matches!(
                    map_error(keyring::Error::TooLong(attribute.into(), 32767)),
                    StorageError::InvalidName { .. }
                ),
                "{attribute}"
            );
        }
    }
}
