//! Storage test helpers: temp dirs, sample tokens, and the "is a real keyring / age CLI
//! here?" checks that fail a test run without them (root: `users.rs`).

use std::path::{Path, PathBuf};

use runbeam_sdk_blocking::storage::{EncryptedFileStorage, StoreConfig, TokenStore};
use runbeam_sdk_blocking::{EncryptionKey, MachineToken};

/// A fresh temp dir standing in for the home `~/.runbeam` directory.
pub fn temp_base() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("runbeam-storage-")
        .tempdir()
        .expect("temp dir")
}

/// A file store for `instance` under `base`, keyed by the instance key file.
pub fn file_store(base: &Path, instance: &str) -> TokenStore {
    StoreConfig::in_dir(base)
        .open(instance)
        .expect("open store")
}

/// A file backend for `instance` under `base`.
pub fn file_backend(base: &Path, instance: &str) -> EncryptedFileStorage {
    EncryptedFileStorage::new(base, instance).expect("file storage")
}

/// A machine token valid far into the future, tagged so tests can tell versions apart.
pub fn machine_token(tag: &str) -> MachineToken {
    MachineToken::new(
        format!("token-{tag}"),
        "2999-01-01T00:00:00Z",
        format!("gw-{tag}"),
        "gateway-123",
        vec!["harmony:send".into()],
    )
}

/// A fresh key.
pub fn key() -> EncryptionKey {
    EncryptionKey::generate()
}

/// Fails the test when `what` is missing. Tests that need something a machine may lack are
/// `#[ignore]`d with the reason; one that is run anyway must not pass without it.
pub fn require(available: bool, what: &str) {
    assert!(
        available,
        "this test needs {what}, which is not available here"
    );
}

/// The `age` command-line tool, when installed.
pub fn age_cli() -> Option<PathBuf> {
    let found = std::process::Command::new("age")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    found.then(|| PathBuf::from("age"))
}

/// A fixture under `tests/fixtures/storage/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/storage")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Gives `path` mode 0600 (0700 for a directory), as the file backend requires; no-op off Unix.
pub fn make_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Sets `path`'s permission bits to `mode`.
#[cfg(unix)]
pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The permission bits of `path` (following links).
#[cfg(unix)]
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// Every path under `root`, relative and sorted: what a refused call must not have changed.
pub fn tree(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if std::fs::symlink_metadata(&path).expect("lstat").is_dir() {
                todo.push(path.clone());
            }
            found.push(path.strip_prefix(root).expect("under root").to_path_buf());
        }
    }
    found.sort();
    found
}

/// The error a locked keyring gives, for `MemoryStorage::fail_next`.
pub fn no_access() -> runbeam_sdk_blocking::StorageError {
    runbeam_sdk_blocking::StorageError::NoStorageAccess {
        backend: runbeam_sdk_blocking::storage::BackendKind::Memory,
        reason: None,
    }
}

/// A failure that is not "no access" (stands for any other backend error), for
/// `MemoryStorage::fail_next`.
pub fn injected() -> runbeam_sdk_blocking::StorageError {
    runbeam_sdk_blocking::StorageError::Encrypt
}
