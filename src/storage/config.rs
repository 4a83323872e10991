//! [`StoreConfig`]: which backends a [`TokenStore`] uses, read from the environment or set.

use std::path::PathBuf;
use std::time::Duration;

use super::name::validate_instance_id;
use super::{StorageError, TokenStorage, TokenStore};
use crate::error::RunbeamError;

/// Settings that pick the backends for [`TokenStore`]s: whether to try the OS keyring, the
/// base directory for encrypted files, and an explicit encryption key.
///
/// [`from_env`](Self::from_env) is what `save_token`/`load_token`/`clear_token` use; tests
/// and embedders build one with [`in_dir`](Self::in_dir) and never touch the real home.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    base_dir: Option<PathBuf>,
    use_keyring: bool,
    keyring_unlock_prompt: Option<Duration>,
    #[cfg(feature = "encrypted-files")]
    key: Option<super::EncryptionKey>,
}

impl StoreConfig {
    /// Files under `base_dir` (`<base_dir>/<instance>/…`), keyring off, key from each
    /// instance's key file.
    pub fn in_dir(base_dir: impl Into<PathBuf>) -> Self {
        Self {
            base_dir: Some(base_dir.into()),
            use_keyring: false,
            keyring_unlock_prompt: None,
            #[cfg(feature = "encrypted-files")]
            key: None,
        }
    }

    /// The defaults from the environment: keyring on unless `RUNBEAM_DISABLE_KEYRING` is set,
    /// no unlock prompt unless `RUNBEAM_KEYRING_UNLOCK_PROMPT` gives its wait in seconds,
    /// files under `~/.runbeam`, key from `RUNBEAM_ENCRYPTION_KEY` when set (an invalid value
    /// is an error, never ignored).
    ///
    /// # Errors
    /// [`RunbeamError::Config`] when a variable is set but unusable (a `RUNBEAM_ENCRYPTION_KEY`
    /// that does not parse, a prompt wait that is not a number of seconds from 1 to 600, a
    /// value that is not Unicode).
    pub fn from_env() -> Result<Self, RunbeamError> {
        let config = Self {
            base_dir: crate::env::home_dir().map(|home| home.join(".runbeam")),
            use_keyring: !crate::env::keyring_disabled(),
            keyring_unlock_prompt: crate::env::keyring_unlock_prompt()?,
            #[cfg(feature = "encrypted-files")]
            key: None,
        };
        #[cfg(feature = "encrypted-files")]
        if let Some(text) = crate::env::encryption_key()? {
            let key = super::EncryptionKey::parse_from(text.expose(), crate::env::ENCRYPTION_KEY)?;
            return Ok(config.with_key(key));
        }
        Ok(config)
    }

    /// Whether to try the OS keyring first (it is used only if a canary round trip works).
    /// Defaults to off for [`in_dir`](Self::in_dir).
    pub fn with_keyring(self, use_keyring: bool) -> Self {
        Self {
            use_keyring,
            ..self
        }
    }

    /// Lets a locked OS keyring be unlocked through the desktop's prompt, waiting up to `wait`
    /// for the user, when the store is opened and on each call that finds it locked (see
    /// `KeyringStorage::with_unlock_prompt`).
    /// For interactive programs: a process nobody watches (a `build.rs`, a daemon) must
    /// leave it off. Without it a locked keyring is skipped at once and the files are used.
    /// A zero `wait` turns prompts off. Defaults to off.
    pub fn with_keyring_unlock_prompt(self, wait: Duration) -> Self {
        Self {
            keyring_unlock_prompt: (!wait.is_zero()).then_some(wait),
            ..self
        }
    }

    /// Encrypts files with `key` instead of the instance key file. Defaults to none.
    #[cfg(feature = "encrypted-files")]
    pub fn with_key(self, key: super::EncryptionKey) -> Self {
        Self {
            key: Some(key),
            ..self
        }
    }

    /// Opens the store for `instance_id`: keyring first when enabled and answering (files
    /// then stay a read/clear fallback), otherwise encrypted files.
    ///
    /// # Errors
    /// [`StorageError::InvalidName`] for a bad instance id; [`StorageError::NoBackend`] when
    /// no compiled-in backend can be used (e.g. `--no-default-features`, or keyring only and
    /// it does not answer).
    pub fn open(&self, instance_id: &str) -> Result<TokenStore, RunbeamError> {
        validate_instance_id(instance_id)?;
        // Without persistent backends nothing is pushed below.
        #[cfg_attr(
            not(any(feature = "keyring", feature = "encrypted-files")),
            allow(unused_mut)
        )]
        let mut backends: Vec<Box<dyn TokenStorage>> = Vec::new();
        #[cfg(feature = "keyring")]
        if self.use_keyring {
            let usable = match self.keyring_unlock_prompt {
                None => super::keyring_available(),
                Some(wait) => super::keyring::keyring_available_with_prompt(wait),
            };
            if usable {
                let mut keyring = super::KeyringStorage::new(instance_id)?;
                if let Some(wait) = self.keyring_unlock_prompt {
                    keyring = keyring.with_unlock_prompt(wait);
                }
                backends.push(Box::new(keyring));
            }
        }
        #[cfg(feature = "encrypted-files")]
        if let Some(base) = &self.base_dir {
            let mut files = super::EncryptedFileStorage::new(base, instance_id)?;
            if let Some(key) = &self.key {
                files = files.with_key(key.clone());
            }
            backends.push(Box::new(files));
        }
        let _ = (&self.base_dir, self.use_keyring, self.keyring_unlock_prompt);
        if backends.is_empty() {
            return Err(StorageError::NoBackend {
                reason: if cfg!(any(feature = "keyring", feature = "encrypted-files")) {
                    "the OS keyring does not answer and no file directory (home) is known"
                } else {
                    "built without the `keyring` and `encrypted-files` features"
                },
            }
            .into());
        }
        Ok(TokenStore::over(backends))
    }
}
