//! [`MemoryStorage`]: tokens kept in process memory, for tests and embedding.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{name::validate_slot, BackendKind, StorageError, TokenStorage};
use crate::secret::Secret;

/// Tokens in a `Mutex<HashMap>`; gone when the value is dropped.
///
/// [`fail_next`](Self::fail_next) makes the next call fail once with any [`StorageError`], so
/// tests can check how callers handle a failing backend.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, Secret<Vec<u8>>>,
    fail_next: Option<StorageError>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next call (any method) fail with `error`; later calls work again. For
    /// example `StorageError::NoStorageAccess { backend: BackendKind::Memory, reason: None }`
    /// acts like a locked keyring.
    pub fn fail_next(&self, error: StorageError) {
        self.lock().fail_next = Some(error);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the map half-updated (each method does
        // one HashMap call), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn enter(&self, slot: &str) -> Result<MutexGuard<'_, State>, StorageError> {
        validate_slot(slot)?;
        let mut state = self.lock();
        match state.fail_next.take() {
            None => Ok(state),
            Some(error) => Err(error),
        }
    }
}

impl TokenStorage for MemoryStorage {
    fn write(&self, slot: &str, data: &[u8]) -> Result<(), StorageError> {
        let mut state = self.enter(slot)?;
        state
            .entries
            .insert(slot.to_owned(), Secret::new(data.to_vec()));
        Ok(())
    }

    fn read(&self, slot: &str) -> Result<Option<Secret<Vec<u8>>>, StorageError> {
        Ok(self.enter(slot)?.entries.get(slot).cloned())
    }

    fn delete(&self, slot: &str) -> Result<(), StorageError> {
        self.enter(slot)?.entries.remove(slot);
        Ok(())
    }

    fn exists(&self, slot: &str) -> Result<bool, StorageError> {
        Ok(self.enter(slot)?.entries.contains_key(slot))
    }

    fn kind(&self) -> BackendKind {
        BackendKind::Memory
    }
}
