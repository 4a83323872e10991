//! [`StorageError`]: why a token could not be stored or loaded.

/// Why a token could not be stored or loaded. Never contains the token or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A filesystem operation failed.
    #[error("storage I/O failed")]
    Io(#[source] std::io::Error),
}
