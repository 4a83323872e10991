//! [`TokenStore`]: typed tokens over one or more backends, and [`StoreConfig`], which picks
//! the backends (keyring first, files as fallback) from explicit settings or the environment.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::name::validate_slot;
use super::newest::newest;
use super::{BackendKind, StorageError, TokenStorage};
use crate::error::RunbeamError;
use crate::secret::Secret;
use crate::token::{decode, TokenSlot};
use crate::{ConfigError, MachineToken};

/// Where and how tokens of one instance are kept.
///
/// One slot holds one token, whatever backend it is in:
///
/// - A save goes to the first backend (or the next one when it answers
///   [`StorageError::NoStorageAccess`] or [`StorageError::TooLarge`]), then removes the slot
///   from every other backend, so an older copy cannot come back later. A backend that
///   cannot be reached for that removal (or that already answered `NoStorageAccess` to the
///   write, and is not asked twice) does not fail the save (the new token is stored); a
///   `log::warn!` line says so, and the next load sorts it out.
/// - A load reads every backend. When several hold a copy, the newest by `issued_at` wins
///   (the earlier backend on a tie), and the store repairs itself: the newest is written to
///   the first backend that answered and the older copies are deleted (a copy equal to the
///   newest is left in place, so a process that cannot use the first backend, e.g. one
///   without keyring access, still finds it). Values without `issued_at` (any type given to
///   [`save_as`](Self::save_as)) cannot be ordered: when such copies differ, the first
///   backend's copy is returned, nothing is repaired and a warning is logged.
/// - A backend that cannot be reached during a load may hold a newer copy: the load returns
///   the newest copy it could read and logs a warning (the next load with that backend back
///   repairs it). When no reachable backend holds a copy, the load fails with
///   [`StorageError::NoStorageAccess`] rather than answer "no token".
/// - A clear removes the slot from every backend it can reach and fails with
///   [`StorageError::PartialClear`] naming the ones it could not.
///
/// Build one directly over any [`TokenStorage`], or let [`StoreConfig::open`](super::StoreConfig::open) choose.
pub struct TokenStore {
    backends: Vec<Box<dyn TokenStorage>>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<_> = self.backends.iter().map(|b| b.kind()).collect();
        f.debug_struct("TokenStore")
            .field("backends", &kinds)
            .finish()
    }
}

impl TokenStore {
    /// A store that saves to and loads from `storage` only.
    pub fn new(storage: impl TokenStorage + 'static) -> Self {
        Self {
            backends: vec![Box::new(storage)],
        }
    }

    /// A store over `backends`, in order (what [`StoreConfig::open`](super::StoreConfig::open) picked).
    pub(super) fn over(backends: Vec<Box<dyn TokenStorage>>) -> Self {
        Self { backends }
    }

    /// Also loads from (and clears) `fallback`, after the backends already present.
    pub fn with_fallback(mut self, fallback: impl TokenStorage + 'static) -> Self {
        self.backends.push(Box::new(fallback));
        self
    }

    /// The backend saves go to.
    pub fn backend(&self) -> BackendKind {
        self.backends
            .first()
            .map_or(BackendKind::Other, |backend| backend.kind())
    }

    /// All backends in the order loads try them.
    pub fn backends(&self) -> Vec<BackendKind> {
        self.backends.iter().map(|b| b.kind()).collect()
    }

    /// Saves `token` in its slot ([`TokenSlot::SLOT`]).
    ///
    /// # Errors
    /// As [`save_as`](Self::save_as).
    pub fn save<T: TokenSlot>(&self, token: &T) -> Result<(), RunbeamError> {
        self.save_as(T::SLOT, token)
    }

    /// Loads the token in `T`'s slot; `None` when no backend has one.
    ///
    /// # Errors
    /// As [`load_as`](Self::load_as).
    pub fn load<T: TokenSlot>(&self) -> Result<Option<T>, RunbeamError> {
        self.load_as(T::SLOT)
    }

    /// Removes the token in `T`'s slot from every backend.
    ///
    /// # Errors
    /// As [`clear_slot`](Self::clear_slot).
    pub fn clear<T: TokenSlot>(&self) -> Result<(), RunbeamError> {
        self.clear_slot(T::SLOT)
    }

    /// Saves any serialisable value as pretty-printed JSON (the upstream format) in `slot`.
    ///
    /// # Errors
    /// [`StorageError::InvalidName`], [`StorageError::Encode`], [`StorageError::Unloadable`],
    /// or the backend's error when no backend can store it.
    pub fn save_as<T: Serialize + ?Sized>(
        &self,
        slot: &str,
        value: &T,
    ) -> Result<(), RunbeamError> {
        validate_slot(slot)?;
        // The JSON holds the token: wiped when it goes out of scope.
        let json =
            Secret::new(
                serde_json::to_vec_pretty(value).map_err(|_| StorageError::Encode {
                    name: slot.to_owned(),
                })?,
            );
        super::limits::check_json_depth(slot, json.expose())?;
        let (written, unreachable) =
            self.first_reachable(|backend| backend.write(slot, json.expose()))?;
        for (at, backend) in self.backends.iter().enumerate() {
            if at == written {
                continue;
            }
            // A backend that just could not be reached is not asked again: a Secret Service
            // that never answers would cost its timeout a second time.
            if unreachable.contains(&at) {
                log::warn!(
                    "token {slot:?} was saved to the {}, but an older copy may remain in the {}, \
                     which cannot be accessed",
                    self.backends[written].kind(),
                    backend.kind(),
                );
                continue;
            }
            if let Err(e) = backend.delete(slot) {
                log::warn!(
                    "token {slot:?} was saved to the {}, but an older copy may remain in the {}: {e}",
                    self.backends[written].kind(),
                    backend.kind(),
                );
            }
        }
        Ok(())
    }

    /// Loads the value in `slot`: the newest copy when several backends hold one (see the
    /// type's documentation for the rules and the repair that follows).
    ///
    /// # Errors
    /// [`StorageError::NoStorageAccess`] when no backend that answered holds a copy but some
    /// backend could not be reached; any other backend error as it is; and
    /// [`StorageError::Corrupt`] when the chosen copy is not valid JSON for `T`.
    pub fn load_as<T: DeserializeOwned>(&self, slot: &str) -> Result<Option<T>, RunbeamError> {
        validate_slot(slot)?;
        let mut copies = Vec::new();
        let mut unreachable = None;
        let mut first_answer = None;
        for (at, backend) in self.backends.iter().enumerate() {
            match backend.read(slot) {
                Ok(copy) => {
                    first_answer.get_or_insert(at);
                    if let Some(bytes) = copy {
                        copies.push((at, bytes));
                    }
                }
                // A keyring locked since selection: look in the other backends.
                Err(e @ StorageError::NoStorageAccess { .. }) => {
                    log::warn!(
                        "token {slot:?}: the {} cannot be accessed and may hold a newer copy",
                        backend.kind()
                    );
                    unreachable.get_or_insert(e);
                }
                Err(e) => return Err(e.into()),
            }
        }
        if copies.is_empty() {
            return match unreachable {
                Some(e) => Err(e.into()),
                None => Ok(None),
            };
        }
        let views: Vec<&[u8]> = copies
            .iter()
            .map(|(_, bytes)| &bytes.expose()[..])
            .collect();
        let Some(chosen) = newest(&views) else {
            log::warn!(
                "token {slot:?} differs between backends and has no issued_at; \
                 using the copy in the {}",
                self.backends[copies[0].0].kind()
            );
            return Ok(Some(decode(slot, views[0])?));
        };
        // Decode before repairing: a copy that is not a `T` must not replace anything.
        let value = decode(slot, views[chosen])?;
        // One copy is in step by definition: it stays where it is.
        if let (Some(home), true) = (first_answer, copies.len() > 1) {
            self.repair(slot, &copies, chosen, home);
        }
        Ok(Some(value))
    }

    /// Makes the backends agree on the newest copy `copies[chosen]`: writes it to `home`
    /// (the first backend that answered) unless it is there already, then deletes every copy
    /// that differs from it. Best effort: a failure is logged and the load still succeeds.
    fn repair(&self, slot: &str, copies: &[(usize, Secret<Vec<u8>>)], chosen: usize, home: usize) {
        let newest = copies[chosen].1.expose();
        let home_copy = copies.iter().find(|(at, _)| *at == home);
        let mut rewritten = false;
        if home_copy.is_none_or(|(_, bytes)| bytes.expose() != newest) {
            match self.backends[home].write(slot, newest) {
                Ok(()) => rewritten = true,
                Err(e) => log::warn!(
                    "token {slot:?}: could not move the newest copy to the {}: {e}",
                    self.backends[home].kind()
                ),
            }
        }
        for (at, bytes) in copies {
            if bytes.expose() == newest || (*at == home && rewritten) {
                continue;
            }
            if let Err(e) = self.backends[*at].delete(slot) {
                log::warn!(
                    "token {slot:?}: could not delete an older copy from the {}: {e}",
                    self.backends[*at].kind()
                );
            }
        }
    }

    /// Runs `op` on the first backend that is reachable and returns its position, with the
    /// positions of those before it that could not be reached: a backend answering
    /// [`StorageError::NoStorageAccess`] (e.g. a keyring locked after selection) or
    /// [`StorageError::TooLarge`] (a token over the Windows store's limit) passes the call to
    /// the next one; any other error stops.
    fn first_reachable(
        &self,
        op: impl Fn(&dyn TokenStorage) -> Result<(), StorageError>,
    ) -> Result<(usize, Vec<usize>), StorageError> {
        let mut unreachable = Vec::new();
        let mut last = None;
        for (at, backend) in self.backends.iter().enumerate() {
            match op(&**backend) {
                Err(e @ StorageError::NoStorageAccess { .. }) => {
                    unreachable.push(at);
                    last = Some(e);
                }
                Err(e @ StorageError::TooLarge { .. }) => last = Some(e),
                Err(e) => return Err(e),
                Ok(()) => return Ok((at, unreachable)),
            }
        }
        // Invariant: there is at least one backend, so the loop ran and set `last`.
        Err(last.unwrap_or(StorageError::NoBackend {
            reason: "no backend configured",
        }))
    }

    /// Removes `slot` from every backend; a missing entry is not an error.
    ///
    /// # Errors
    /// With one backend, its error. With several, the slot is still removed from every
    /// backend that answers, and [`StorageError::PartialClear`] names those that did not.
    pub fn clear_slot(&self, slot: &str) -> Result<(), RunbeamError> {
        validate_slot(slot)?;
        let mut remaining = Vec::new();
        let mut first_error = None;
        for backend in &self.backends {
            if let Err(e) = backend.delete(slot) {
                remaining.push(backend.kind());
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            None => Ok(()),
            Some(e) if self.backends.len() == 1 => Err(e.into()),
            Some(e) => Err(StorageError::PartialClear {
                name: slot.to_owned(),
                remaining,
                cause: Box::new(e),
            }
            .into()),
        }
    }
}

/// Headless pre-provisioning ([`provision_machine_token`](crate::provision_machine_token)(crate::provision_machine_token)).
impl TokenStore {
    /// [`provision_machine_token`](crate::provision_machine_token) into this store: reads `RUNBEAM_MACHINE_TOKEN`.
    ///
    /// # Errors
    /// As [`provision_machine_token`](crate::provision_machine_token).
    pub fn provision_from_env(&self) -> Result<Option<MachineToken>, RunbeamError> {
        match crate::env::machine_token()? {
            Some(json) => self.provision_from_json(json.expose()).map(Some),
            None => Ok(None),
        }
    }

    /// [`provision_machine_token`](crate::provision_machine_token) with the JSON given directly (errors still name
    /// `RUNBEAM_MACHINE_TOKEN`, where this JSON normally comes from).
    ///
    /// # Errors
    /// As [`provision_machine_token`](crate::provision_machine_token).
    pub fn provision_from_json(&self, json: &str) -> Result<MachineToken, RunbeamError> {
        let invalid = |reason: String| ConfigError::InvalidEnv {
            name: crate::env::MACHINE_TOKEN,
            reason,
        };
        let mut token = MachineToken::from_json(json)
            .map_err(|_| invalid("not a machine token JSON object".into()))?;
        if token.expires_at_unix().is_none() {
            return Err(invalid("expires_at is not an RFC 3339 timestamp".into()).into());
        }
        if token.is_expired() {
            return Err(invalid(format!("the token expired at {}", token.expires_at)).into());
        }
        // Older readers require issued_at; record when it was provisioned.
        token
            .issued_at
            .get_or_insert_with(|| crate::time::format(crate::time::now()));
        self.save(&token)?;
        Ok(token)
    }
}
