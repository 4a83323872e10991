//! A backend that can be switched off, as a killed or locked keyring is: while off, every
//! call fails with `NoStorageAccess` (a `MemoryStorage` failure lasts one call only).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use runbeam_sdk_blocking::storage::{BackendKind, MemoryStorage};
use runbeam_sdk_blocking::StorageError;
use runbeam_sdk_blocking::{Secret, TokenStorage};

/// Memory storage that reports `kind` and can be switched off.
pub struct Switchable {
    inner: MemoryStorage,
    off: AtomicBool,
    limit: AtomicUsize,
    kind: BackendKind,
}

impl Switchable {
    /// A switched-on, empty backend reporting `kind`.
    pub fn new(kind: BackendKind) -> Arc<Self> {
        Arc::new(Self {
            inner: MemoryStorage::new(),
            off: AtomicBool::new(false),
            limit: AtomicUsize::new(usize::MAX),
            kind,
        })
    }

    /// Switches the backend off (`true`) or on again.
    pub fn set_off(&self, off: bool) {
        self.off.store(off, Ordering::SeqCst);
    }

    /// From now on refuses values over `limit` bytes with `TooLarge`, as the Windows
    /// Credential Manager refuses a secret over 2,560 bytes.
    pub fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::SeqCst);
    }

    fn on(&self) -> Result<&MemoryStorage, StorageError> {
        if self.off.load(Ordering::SeqCst) {
            return Err(StorageError::NoStorageAccess {
                backend: runbeam_sdk_blocking::storage::BackendKind::Other,
                reason: None,
            });
        }
        Ok(&self.inner)
    }
}

impl TokenStorage for Switchable {
    fn write(&self, slot: &str, data: &[u8]) -> Result<(), StorageError> {
        let limit = self.limit.load(Ordering::SeqCst);
        if data.len() > limit {
            return Err(StorageError::TooLarge {
                backend: self.kind,
                limit,
            });
        }
        self.on()?.write(slot, data)
    }
    fn read(&self, slot: &str) -> Result<Option<Secret<Vec<u8>>>, StorageError> {
        self.on()?.read(slot)
    }
    fn delete(&self, slot: &str) -> Result<(), StorageError> {
        self.on()?.delete(slot)
    }
    fn exists(&self, slot: &str) -> Result<bool, StorageError> {
        self.on()?.exists(slot)
    }
    fn kind(&self) -> BackendKind {
        self.kind
    }
}
