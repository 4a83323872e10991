//! Storage test helpers: temp dirs, sample tokens, the "is a real keyring / age CLI here?"
//! checks that skip locally and fail under `CI=true`.

use std::path::{Path, PathBuf};

use runbeam_sdk::{EncryptedFileStorage, EncryptionKey, MachineToken, StoreConfig, TokenStore};

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

/// True when running in CI (`CI=true`), where skipping is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (returns false with a message) or, in CI, fails when `what` is missing.
pub fn require(available: bool, what: &str) -> bool {
    if available {
        return true;
    }
    assert!(
        !in_ci(),
        "{what} is required when CI=true but is not available"
    );
    eprintln!("SKIPPED: {what} is not available here");
    false
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
