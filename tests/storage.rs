//! Token storage, as a specification: the conformance suite on every backend, the file
//! layout, hostile files, age CLI interop, a real Secret Service, crash safety.
//!
//! Keyring tests need a session bus with an unlocked Secret Service (see README, "Headless
//! keyring"); without one they print SKIPPED — unless `CI=true`, where they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::storage::*;
use runbeam_sdk::storage::{InjectedFailure, StorageError};
use runbeam_sdk::{
    BackendKind, ConfigError, EncryptedFileStorage, EncryptionKey, MachineToken, MemoryStorage,
    RunbeamError, StoreConfig, TokenStorage, TokenStore, UserToken,
};

// ---------------------------------------------------------------- conformance suite

/// The contract every backend keeps.
fn round_trip<S: TokenStorage>(s: S) {
    let slot = "conformance";
    let other = "conformance_other";
    assert!(s.read(slot).unwrap().is_none(), "absent reads as None");
    assert!(!s.exists(slot).unwrap());
    s.delete(slot).unwrap(); // deleting nothing is fine

    s.write(slot, b"first").unwrap();
    assert_eq!(s.read(slot).unwrap().unwrap().expose(), b"first");
    assert!(s.exists(slot).unwrap());
    s.write(slot, b"second, longer than the first").unwrap();
    assert_eq!(
        s.read(slot).unwrap().unwrap().expose(),
        b"second, longer than the first"
    );

    s.write(other, b"other").unwrap();
    s.delete(slot).unwrap();
    assert!(s.read(slot).unwrap().is_none());
    assert!(!s.exists(slot).unwrap());
    s.delete(slot).unwrap();
    assert_eq!(s.read(other).unwrap().unwrap().expose(), b"other");
    s.delete(other).unwrap();

    for bad in ["../escape", "a/b", "", ".hidden", "nul\0"] {
        assert!(
            matches!(s.write(bad, b"x"), Err(StorageError::InvalidName { .. })),
            "{bad:?}"
        );
        assert!(
            matches!(s.read(bad), Err(StorageError::InvalidName { .. })),
            "{bad:?}"
        );
        assert!(
            matches!(s.delete(bad), Err(StorageError::InvalidName { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn conformance_memory() {
    round_trip(MemoryStorage::new());
}

#[test]
fn conformance_file_with_instance_key_file() {
    let base = temp_base();
    round_trip(file_backend(base.path(), "inst"));
}

#[test]
fn conformance_file_with_given_key() {
    let base = temp_base();
    round_trip(file_backend(base.path(), "inst").with_key(key()));
}

#[test]
fn conformance_boxed_trait_object() {
    let boxed: Box<dyn TokenStorage> = Box::new(MemoryStorage::new());
    round_trip(boxed);
}

#[cfg(feature = "keyring")]
#[test]
fn conformance_keyring_against_a_real_secret_service() {
    if let Some(k) = keyring_backend("conformance") {
        round_trip(k);
    }
}

// ---------------------------------------------------------------- memory

#[test]
fn memory_injected_failure_fails_exactly_one_call() {
    let m = MemoryStorage::new();
    m.write("auth", b"x").unwrap();
    m.fail_next(InjectedFailure::NoAccess);
    assert!(matches!(
        m.read("auth"),
        Err(StorageError::NoStorageAccess { .. })
    ));
    assert_eq!(m.read("auth").unwrap().unwrap().expose(), b"x");
    m.fail_next(InjectedFailure::Injected);
    assert!(matches!(m.write("auth", b"y"), Err(StorageError::Injected)));
    assert_eq!(m.read("auth").unwrap().unwrap().expose(), b"x");
}

// ---------------------------------------------------------------- TokenStore

#[test]
fn machine_and_user_tokens_live_in_their_own_slots() {
    let base = temp_base();
    let store = file_store(base.path(), "runbeam-cli");
    let machine = machine_token("1");
    let user = UserToken::new("user-jwt".to_string(), Some(4_102_444_800), None);
    store.save(&machine).unwrap();
    store.save(&user).unwrap();
    assert_eq!(store.load::<MachineToken>().unwrap().unwrap(), machine);
    assert_eq!(store.load::<UserToken>().unwrap().unwrap(), user);
    let dir = base.path().join("runbeam-cli/runbeam");
    assert!(dir.join("auth.json").is_file() && dir.join("user_auth.json").is_file());

    store.clear::<MachineToken>().unwrap();
    assert!(store.load::<MachineToken>().unwrap().is_none());
    assert_eq!(store.load::<UserToken>().unwrap().unwrap(), user);
    store.clear::<MachineToken>().unwrap(); // clearing twice is fine
}

#[test]
fn explicit_slots_take_any_serde_type() {
    let base = temp_base();
    let store = file_store(base.path(), "inst");
    let value = std::collections::BTreeMap::from([("k".to_string(), vec![1u32, 2, 3])]);
    store.save_as("custom", &value).unwrap();
    let back: std::collections::BTreeMap<String, Vec<u32>> =
        store.load_as("custom").unwrap().unwrap();
    assert_eq!(back, value);
    // Loading as the wrong type is a typed error, not a panic.
    let wrong: Result<Option<MachineToken>, _> = store.load_as("custom");
    assert!(matches!(
        wrong,
        Err(RunbeamError::Storage(StorageError::Corrupt { .. }))
    ));
    store.clear_slot("custom").unwrap();
    assert!(store
        .load_as::<serde_json::Value>("custom")
        .unwrap()
        .is_none());
    assert!(matches!(
        store.save_as("../up", &1),
        Err(RunbeamError::Storage(StorageError::InvalidName { .. }))
    ));
}

#[test]
fn store_loads_from_the_fallback_and_clears_every_backend() {
    let base = temp_base();
    let files = file_backend(base.path(), "inst");
    let old = machine_token("in-file");
    TokenStore::new(file_backend(base.path(), "inst"))
        .save(&old)
        .unwrap();

    let store = TokenStore::new(MemoryStorage::new()).with_fallback(files);
    assert_eq!(store.backend(), BackendKind::Memory);
    assert_eq!(
        store.backends(),
        [BackendKind::Memory, BackendKind::EncryptedFile]
    );
    assert_eq!(store.load::<MachineToken>().unwrap().unwrap(), old);

    let new = machine_token("in-memory");
    store.save(&new).unwrap();
    assert_eq!(
        store.load::<MachineToken>().unwrap().unwrap(),
        new,
        "primary first"
    );

    store.clear::<MachineToken>().unwrap();
    assert!(store.load::<MachineToken>().unwrap().is_none());
    assert!(!base.path().join("inst/runbeam/auth.json").exists());
}

#[test]
fn a_failing_backend_error_keeps_its_kind() {
    let memory = MemoryStorage::new();
    memory.fail_next(InjectedFailure::Injected);
    let store = TokenStore::new(memory);
    assert!(matches!(
        store.save(&machine_token("x")),
        Err(RunbeamError::Storage(StorageError::Injected))
    ));
    store.save(&machine_token("x")).unwrap();
}

#[test]
fn an_unreachable_primary_passes_saves_and_loads_to_the_fallback() {
    let primary = std::sync::Arc::new(MemoryStorage::new());
    let fallback = std::sync::Arc::new(MemoryStorage::new());
    let store = TokenStore::new(primary.clone()).with_fallback(fallback.clone());
    primary.fail_next(InjectedFailure::NoAccess);
    store.save(&machine_token("1")).unwrap();
    assert!(!primary.exists("auth").unwrap());
    assert!(fallback.exists("auth").unwrap());
    primary.fail_next(InjectedFailure::NoAccess);
    assert_eq!(
        store.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-1"
    );
    // Any other failure is not a reason to write elsewhere.
    primary.fail_next(InjectedFailure::Injected);
    assert!(matches!(
        store.save(&machine_token("2")),
        Err(RunbeamError::Storage(StorageError::Injected))
    ));
}

#[test]
fn a_replaced_key_file_is_noticed_by_the_next_load() {
    let base = temp_base();
    let store = file_store(base.path(), "inst");
    store.save(&machine_token("1")).unwrap();
    fs::remove_file(base.path().join("inst/encryption.key")).unwrap();
    // The same store value writes a new key file instead of reusing a key nobody can find.
    store.save(&machine_token("2")).unwrap();
    let fresh = file_store(base.path(), "inst");
    assert_eq!(
        fresh.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-2"
    );
}

#[test]
fn store_config_in_dir_uses_encrypted_files_and_says_so() {
    let base = temp_base();
    let store = StoreConfig::in_dir(base.path()).open("inst").unwrap();
    assert_eq!(store.backend(), BackendKind::EncryptedFile);
    for bad in ["..", "../etc", "a/b", "", "x\0y"] {
        assert!(
            matches!(
                StoreConfig::in_dir(base.path()).open(bad),
                Err(StorageError::InvalidName {
                    what: "instance id",
                    ..
                })
            ),
            "{bad:?}"
        );
        assert!(matches!(
            EncryptedFileStorage::new(base.path(), bad),
            Err(StorageError::InvalidName { .. })
        ));
    }
    assert_eq!(
        fs::read_dir(base.path()).unwrap().count(),
        0,
        "nothing created"
    );
}

#[test]
fn instances_are_isolated() {
    let base = temp_base();
    let a = file_store(base.path(), "gateway-a");
    let b = file_store(base.path(), "gateway-b");
    a.save(&machine_token("a")).unwrap();
    assert!(b.load::<MachineToken>().unwrap().is_none());
    b.save(&machine_token("b")).unwrap();
    assert_eq!(
        a.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-a"
    );
    assert_ne!(
        fs::read(base.path().join("gateway-a/encryption.key")).unwrap(),
        fs::read(base.path().join("gateway-b/encryption.key")).unwrap(),
        "each instance has its own key"
    );
}

// ---------------------------------------------------------------- file layout and keys

#[test]
fn file_layout_and_key_format_match_upstream() {
    use base64::Engine as _;
    let base = temp_base();
    file_store(base.path(), "inst")
        .save(&machine_token("1"))
        .unwrap();
    let token_file = base.path().join("inst/runbeam/auth.json");
    let bytes = fs::read(&token_file).unwrap();
    assert!(
        bytes.starts_with(b"age-encryption.org/v1\n-> X25519 "),
        "binary age file"
    );
    assert!(!String::from_utf8_lossy(&bytes).contains("token-1"));

    let key_text = fs::read_to_string(base.path().join("inst/encryption.key")).unwrap();
    assert!(!key_text.ends_with('\n'));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&key_text)
        .unwrap();
    assert!(decoded.starts_with(b"AGE-SECRET-KEY-1"));
    // No temp or stray files next to the token.
    let names: Vec<_> = fs::read_dir(token_file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["auth.json"]);
}

#[cfg(unix)]
#[test]
fn files_are_0600_and_directories_0700() {
    use std::os::unix::fs::PermissionsExt;
    let base = temp_base();
    file_store(base.path(), "inst")
        .save(&machine_token("1"))
        .unwrap();
    let mode = |p: &str| {
        fs::metadata(base.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("inst"), 0o700);
    assert_eq!(mode("inst/runbeam"), 0o700);
    assert_eq!(mode("inst/runbeam/auth.json"), 0o600);
    assert_eq!(mode("inst/encryption.key"), 0o600);
    assert_eq!(mode("inst/.lock"), 0o600);
}

#[test]
fn loading_never_creates_a_key_or_a_directory() {
    let base = temp_base();
    let store = file_store(base.path(), "inst");
    assert!(store.load::<MachineToken>().unwrap().is_none());
    store.clear::<MachineToken>().unwrap();
    assert!(!base.path().join("inst").exists());
}

#[test]
fn loading_a_token_without_its_key_is_missing_key() {
    let base = temp_base();
    file_store(base.path(), "inst")
        .save(&machine_token("1"))
        .unwrap();
    fs::remove_file(base.path().join("inst/encryption.key")).unwrap();
    let err = file_store(base.path(), "inst")
        .load::<MachineToken>()
        .unwrap_err();
    assert!(
        matches!(err, RunbeamError::Storage(StorageError::MissingKey { .. })),
        "{err:?}"
    );
    assert!(
        !base.path().join("inst/encryption.key").exists(),
        "load made no key"
    );
}

#[test]
fn a_given_key_never_touches_the_key_file_and_reads_back() {
    let base = temp_base();
    let k = key();
    let store = StoreConfig::in_dir(base.path())
        .with_key(k.clone())
        .open("inst")
        .unwrap();
    store.save(&machine_token("1")).unwrap();
    assert!(!base.path().join("inst/encryption.key").exists());
    let again = StoreConfig::in_dir(base.path())
        .with_key(k)
        .open("inst")
        .unwrap();
    assert_eq!(
        again.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-1"
    );

    let other = StoreConfig::in_dir(base.path())
        .with_key(key())
        .open("inst")
        .unwrap();
    assert!(matches!(
        other.load::<MachineToken>(),
        Err(RunbeamError::Storage(StorageError::WrongKey { .. }))
    ));
    // Without a key at all: a clear error, not a new key.
    assert!(matches!(
        file_store(base.path(), "inst").load::<MachineToken>(),
        Err(RunbeamError::Storage(StorageError::MissingKey { .. }))
    ));
}

#[test]
fn a_damaged_key_file_is_invalid_key() {
    let base = temp_base();
    file_store(base.path(), "inst")
        .save(&machine_token("1"))
        .unwrap();
    fs::write(base.path().join("inst/encryption.key"), "not a key").unwrap();
    assert!(matches!(
        file_store(base.path(), "inst").load::<MachineToken>(),
        Err(RunbeamError::Storage(StorageError::InvalidKey {
            origin: "key file",
            ..
        }))
    ));
}

#[test]
fn an_age_keygen_style_key_file_is_accepted() {
    let base = temp_base();
    let k = key();
    fs::create_dir_all(base.path().join("inst")).unwrap();
    let keygen = format!(
        "# created: 2026-01-01T00:00:00Z\n# public key: {}\n{}\n",
        k.public_key(),
        k.to_age_secret().expose()
    );
    fs::write(base.path().join("inst/encryption.key"), keygen).unwrap();
    file_store(base.path(), "inst")
        .save(&machine_token("1"))
        .unwrap();
    let with_key = StoreConfig::in_dir(base.path())
        .with_key(k)
        .open("inst")
        .unwrap();
    assert!(with_key.load::<MachineToken>().unwrap().is_some());
}

// ---------------------------------------------------------------- upstream JSON

#[test]
fn upstream_and_provisioned_json_shapes_load() {
    for (name, issued) in [
        ("accept_upstream_0_4_auth.json", true),
        ("accept_provisioned_without_issued_at.json", false),
        ("accept_0_11_without_gateway_code.json", true),
    ] {
        let json = String::from_utf8(fixture(name)).unwrap();
        let t = MachineToken::from_json(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.machine_token.expose(), "fixture-machine-token");
        assert_eq!(t.issued_at.is_some(), issued, "{name}");
        assert!(t.is_valid(), "{name}");
    }
    let t = MachineToken::from_json(
        &String::from_utf8(fixture("accept_0_11_without_gateway_code.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(t.gateway_code, "");
}

#[test]
fn malformed_token_json_is_corrupt_and_quotes_nothing() {
    for name in [
        "reject_missing_expires_at.json",
        "reject_token_not_a_string.json",
    ] {
        let json = String::from_utf8(fixture(name)).unwrap();
        let err = MachineToken::from_json(&json).unwrap_err();
        assert!(
            matches!(err, StorageError::Corrupt { .. }),
            "{name}: {err:?}"
        );
        let text = format!("{err} {err:?}");
        assert!(
            !text.contains("12345") && !text.contains("fixture-machine-token"),
            "{text}"
        );
    }
}

#[test]
fn saved_json_has_the_upstream_field_names() {
    let store = TokenStore::new(MemoryStorage::new());
    store.save(&machine_token("1")).unwrap();
    let value: serde_json::Value = store.load_as("auth").unwrap().unwrap();
    let keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
    for field in [
        "machine_token",
        "expires_at",
        "gateway_id",
        "gateway_code",
        "abilities",
        "issued_at",
    ] {
        assert!(keys.iter().any(|k| k == field), "{field} in {keys:?}");
    }
}

// ---------------------------------------------------------------- pre-provisioning

#[test]
fn provisioning_stores_a_valid_token_and_fills_issued_at() {
    let base = temp_base();
    let k = key();
    let store = StoreConfig::in_dir(base.path())
        .with_key(k.clone())
        .open("edge")
        .unwrap();
    let json = String::from_utf8(fixture("accept_provisioned_without_issued_at.json")).unwrap();
    let t = store.provision_from_json(&json).unwrap();
    assert!(t.issued_at.is_some());
    // A restart with the same key (RUNBEAM_ENCRYPTION_KEY) finds it.
    let again = StoreConfig::in_dir(base.path())
        .with_key(k)
        .open("edge")
        .unwrap();
    assert_eq!(again.load::<MachineToken>().unwrap().unwrap(), t);
}

#[test]
fn provisioning_rejects_expired_and_malformed_tokens() {
    let store = TokenStore::new(MemoryStorage::new());
    let expired = r#"{"machine_token":"sekrit","expires_at":"2001-01-01T00:00:00Z","gateway_id":"g","gateway_code":"c"}"#;
    let bad_time =
        r#"{"machine_token":"sekrit","expires_at":"soon","gateway_id":"g","gateway_code":"c"}"#;
    for json in [
        expired,
        bad_time,
        "{\"machine_token\":\"sekrit\"}",
        "sekrit",
    ] {
        let err = store.provision_from_json(json).unwrap_err();
        assert!(
            matches!(
                err,
                RunbeamError::Config(ConfigError::InvalidEnv {
                    name: "RUNBEAM_MACHINE_TOKEN",
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(!err.to_string().contains("sekrit"));
    }
    assert!(
        store.load::<MachineToken>().unwrap().is_none(),
        "nothing stored"
    );
}

// ---------------------------------------------------------------- hostile files

/// Writes `bytes` where instance `inst`'s `auth` token belongs (key file made by a save).
fn plant(base: &Path, bytes: &[u8]) -> TokenStore {
    let store = file_store(base, "inst");
    store.save(&machine_token("real")).unwrap();
    fs::write(base.join("inst/runbeam/auth.json"), bytes).unwrap();
    store
}

fn load_err(store: &TokenStore) -> StorageError {
    match store.load::<MachineToken>() {
        Err(RunbeamError::Storage(e)) => e,
        other => panic!("expected a storage error, got {other:?}"),
    }
}

#[test]
fn an_empty_file_is_corrupt() {
    let base = temp_base();
    let store = plant(base.path(), b"");
    assert!(matches!(load_err(&store), StorageError::Corrupt { .. }));
}

#[test]
fn a_file_truncated_at_every_length_is_corrupt() {
    let base = temp_base();
    let store = file_store(base.path(), "inst");
    store.save(&machine_token("real")).unwrap();
    let path = base.path().join("inst/runbeam/auth.json");
    let whole = fs::read(&path).unwrap();
    for len in 0..whole.len() {
        fs::write(&path, &whole[..len]).unwrap();
        let err = load_err(&store);
        assert!(
            matches!(err, StorageError::Corrupt { .. }),
            "length {len}: {err:?}"
        );
    }
}

#[test]
fn a_bit_flip_anywhere_is_detected() {
    let base = temp_base();
    let store = file_store(base.path(), "inst");
    store.save(&machine_token("real")).unwrap();
    let path = base.path().join("inst/runbeam/auth.json");
    let whole = fs::read(&path).unwrap();
    for i in 0..whole.len() {
        let mut damaged = whole.clone();
        damaged[i] ^= 1 << (i % 8);
        fs::write(&path, &damaged).unwrap();
        // A flip inside the recipient stanza makes it someone else's file; elsewhere the
        // header MAC or the payload AEAD fails.
        let err = load_err(&store);
        assert!(
            matches!(
                err,
                StorageError::Corrupt { .. } | StorageError::WrongKey { .. }
            ),
            "byte {i}: {err:?}"
        );
    }
}

#[test]
fn a_passphrase_encrypted_file_is_reported_as_such() {
    let base = temp_base();
    let store = plant(base.path(), &fixture("reject_passphrase.age"));
    assert!(matches!(
        load_err(&store),
        StorageError::PassphraseEncrypted { .. }
    ));
}

#[test]
fn a_file_for_another_recipient_is_wrong_key() {
    let base = temp_base();
    let store = plant(base.path(), &fixture("reject_other_recipient.age"));
    assert!(matches!(load_err(&store), StorageError::WrongKey { .. }));
}

#[test]
fn plaintext_json_where_an_age_file_belongs_is_corrupt() {
    let base = temp_base();
    let store = plant(base.path(), &fixture("accept_upstream_0_4_auth.json"));
    assert!(matches!(load_err(&store), StorageError::Corrupt { .. }));
}

#[test]
fn an_oversized_file_is_corrupt() {
    let base = temp_base();
    let store = plant(base.path(), &vec![b'a'; 2 * 1024 * 1024]);
    assert!(matches!(load_err(&store), StorageError::Corrupt { .. }));
}

#[test]
fn a_directory_where_the_token_belongs_is_not_a_file() {
    let base = temp_base();
    let store = file_store(base.path(), "inst");
    store.save(&machine_token("real")).unwrap();
    let path = base.path().join("inst/runbeam/auth.json");
    fs::remove_file(&path).unwrap();
    fs::create_dir(&path).unwrap();
    assert!(matches!(load_err(&store), StorageError::NotAFile { .. }));
    let backend = file_backend(base.path(), "inst");
    assert!(matches!(
        backend.exists("auth"),
        Err(StorageError::NotAFile { .. })
    ));
    assert!(matches!(
        store.save(&machine_token("new")),
        Err(RunbeamError::Storage(StorageError::NotAFile { .. }))
    ));
    assert!(matches!(
        store.clear::<MachineToken>(),
        Err(RunbeamError::Storage(StorageError::NotAFile { .. }))
    ));
}

// ---------------------------------------------------------------- age CLI interop

fn age_cli_or_skip() -> Option<std::path::PathBuf> {
    let cli = age_cli();
    require(cli.is_some(), "the `age` command-line tool").then(|| cli.unwrap())
}

#[test]
#[cfg_attr(
    windows,
    ignore = "needs an age.exe, which CI does not install for Wine"
)]
fn the_age_cli_decrypts_our_files_with_our_key() {
    let Some(age) = age_cli_or_skip() else { return };
    let base = temp_base();
    let k = key();
    let store = StoreConfig::in_dir(base.path())
        .with_key(k.clone())
        .open("inst")
        .unwrap();
    store.save(&machine_token("cli")).unwrap();
    let identity = base.path().join("identity.txt");
    fs::write(&identity, format!("{}\n", k.to_age_secret().expose())).unwrap();
    let out = Command::new(age)
        .arg("--decrypt")
        .arg("-i")
        .arg(&identity)
        .arg(base.path().join("inst/runbeam/auth.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = MachineToken::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert_eq!(t.gateway_id, "gw-cli");
}

#[test]
#[cfg_attr(
    windows,
    ignore = "needs an age.exe, which CI does not install for Wine"
)]
fn a_file_the_age_cli_encrypts_to_our_public_key_loads() {
    let Some(age) = age_cli_or_skip() else { return };
    let base = temp_base();
    let store = file_store(base.path(), "inst");
    store.save(&machine_token("placeholder")).unwrap(); // creates the instance key
    let key_file = fs::read_to_string(base.path().join("inst/encryption.key")).unwrap();
    let recipient = EncryptionKey::parse(&key_file).unwrap().public_key();
    let plain = base.path().join("plain.json");
    fs::write(&plain, fixture("accept_upstream_0_4_auth.json")).unwrap();
    let out = Command::new(age)
        .arg("-r")
        .arg(&recipient)
        .arg("-o")
        .arg(base.path().join("inst/runbeam/auth.json"))
        .arg(&plain)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = store.load::<MachineToken>().unwrap().unwrap();
    assert_eq!(t.gateway_id, "01JBXYZGATEWAY");
}

// ---------------------------------------------------------------- concurrency and crashes

#[test]
fn threads_saving_at_once_never_tear_a_file() {
    let base = temp_base();
    let store = std::sync::Arc::new(file_store(base.path(), "inst"));
    let handles: Vec<_> = (0..6)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..15 {
                    store.save(&machine_token(&format!("{t}-{i}"))).unwrap();
                    let back = store.load::<MachineToken>().unwrap().unwrap();
                    assert_eq!(
                        back.machine_token.expose(),
                        &format!("token-{}", &back.gateway_id[3..])
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

const CHILD_DIR: &str = "RUNBEAM_TEST_CHILD_DIR";
const CHILD_START: &str = "RUNBEAM_TEST_CHILD_START";
const CHILD_WRITER: &str = "RUNBEAM_TEST_CHILD_WRITER";

/// Re-runs this test binary as a child running only `test_name`.
fn child(test_name: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "--nocapture",
        "--test-threads=1",
        test_name,
    ])
    .env(CHILD_DIR, dir)
    .stdin(Stdio::null());
    cmd
}

/// A token is coherent when its token and gateway id carry the same tag.
fn tag_of(t: &MachineToken) -> u64 {
    let tag = t.gateway_id.strip_prefix("gw-").unwrap();
    assert_eq!(
        t.machine_token.expose(),
        &format!("token-{tag}"),
        "torn token"
    );
    tag.parse().unwrap()
}

/// Child mode: saves versions start, start+1, ... forever, printing each one saved.
#[test]
#[ignore = "child process of sigkill_while_saving_leaves_the_old_or_the_new_token"]
fn child_saver_loop() {
    use std::io::Write;
    let dir = std::env::var_os(CHILD_DIR).expect("run by the parent test");
    let start: u64 = std::env::var(CHILD_START).unwrap().parse().unwrap();
    let store = file_store(Path::new(&dir), "crash");
    let mut out = std::io::stdout();
    for version in start.. {
        store.save(&machine_token(&version.to_string())).unwrap();
        writeln!(out, "saved {version}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_while_saving_leaves_the_old_or_the_new_token() {
    let base = temp_base();
    let store = file_store(base.path(), "crash");
    let mut rng = Rng::seeded();
    let mut last = 0;
    // A process start costs about 0.25 s under Wine, where 50 rounds keep the test under 15 s.
    let rounds = if cfg!(windows) { 50 } else { 200 };
    for round in 0..rounds {
        let mut saver = child("child_saver_loop", base.path())
            .env(CHILD_START, (last + 1).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait for the first save, so the kill lands inside the save loop.
        let mut lines = BufReader::new(saver.stdout.take().unwrap()).lines();
        while !lines.next().unwrap().unwrap().starts_with("saved ") {}
        std::thread::sleep(std::time::Duration::from_micros(rng.below(4000)));
        saver.kill().unwrap(); // SIGKILL on Unix
        saver.wait().unwrap();
        let t = store
            .load::<MachineToken>()
            .unwrap_or_else(|e| panic!("round {round} (seed {}): {e:?}", rng.seed))
            .expect("a token survives");
        let version = tag_of(&t);
        assert!(
            version > last,
            "round {round}: went back from {last} to {version}"
        );
        last = version;
    }
}

/// Child mode: saves 500 versions tagged with its writer number, loading after each save.
#[test]
#[ignore = "child process of two_processes_saving_alternately_always_load"]
fn child_alternate_writer() {
    let dir = std::env::var_os(CHILD_DIR).expect("run by the parent test");
    let writer: u64 = std::env::var(CHILD_WRITER).unwrap().parse().unwrap();
    let store = file_store(Path::new(&dir), "shared");
    for i in 0..500 {
        store
            .save(&machine_token(&(writer * 1000 + i).to_string()))
            .unwrap();
        let t = store.load::<MachineToken>().unwrap().expect("a token");
        tag_of(&t);
    }
}

#[test]
fn two_processes_saving_alternately_always_load() {
    let base = temp_base();
    let writers: Vec<_> = [1, 2]
        .iter()
        .map(|w| {
            child("child_alternate_writer", base.path())
                .env(CHILD_WRITER, w.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for w in writers {
        let out = w.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let t = file_store(base.path(), "shared")
        .load::<MachineToken>()
        .unwrap()
        .unwrap();
    assert!(
        [1499, 2499].contains(&tag_of(&t)),
        "the last complete write wins"
    );
}

/// xorshift64*, seeded from the clock; the seed is printed on failure.
struct Rng {
    seed: u64,
    state: u64,
}

impl Rng {
    fn seeded() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        Self { seed, state: seed }
    }

    fn below(&mut self, n: u64) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

// ---------------------------------------------------------------- real Secret Service

#[cfg(feature = "keyring")]
use keyring_tests::keyring_backend;

#[cfg(feature = "keyring")]
mod keyring_tests {
    use super::*;

    /// A keyring backend for a unique instance, when a real keyring answers; skips otherwise
    /// (fails under CI=true).
    pub(super) fn keyring_backend(test: &str) -> Option<runbeam_sdk::KeyringStorage> {
        let available = runbeam_sdk::storage::keyring_available();
        if !require(available, "a real OS keyring (Secret Service)") {
            return None;
        }
        let instance = format!("test-{test}-{}", std::process::id());
        Some(runbeam_sdk::KeyringStorage::new(&instance).unwrap())
    }

    /// Deletes the named `runbeam` keyring accounts when dropped, so a test that fails
    /// half-way leaves nothing behind in the keyring. Only these exact accounts: a user's real
    /// upstream token (`runbeam/auth.json`) is never touched.
    struct Cleanup(Vec<String>);

    impl Drop for Cleanup {
        fn drop(&mut self) {
            for account in &self.0 {
                if let Ok(entry) = keyring::Entry::new("runbeam", account) {
                    let _ = entry.delete_credential();
                }
            }
        }
    }

    #[test]
    fn keyring_names_include_the_instance() {
        let (Some(a), Some(b)) = (keyring_backend("iso-a"), keyring_backend("iso-b")) else {
            return;
        };
        let account = format!("test-iso-a-{}/runbeam/auth.json", std::process::id());
        // The guard deletes; `a.delete("auth")` would also remove a real upstream
        // `runbeam/auth.json` from the developer's keyring.
        let _cleanup = Cleanup(vec![account.clone()]);
        a.write("auth", b"for a").unwrap();
        assert!(b.read("auth").unwrap().is_none());
        let entry = keyring::Entry::new("runbeam", &account).unwrap();
        assert_eq!(entry.get_secret().unwrap(), b"for a");
    }

    #[test]
    fn keyring_reads_the_upstream_account_and_migrates_it() {
        let Some(k) = keyring_backend("legacy") else {
            return;
        };
        let slot = format!("legacy_{}", std::process::id());
        let _cleanup = Cleanup(vec![
            format!("runbeam/{slot}.json"),
            format!("test-legacy-{}/runbeam/{slot}.json", std::process::id()),
        ]);
        // Upstream wrote a password (UTF-16LE in the Windows store), never raw bytes.
        let legacy = keyring::Entry::new("runbeam", &format!("runbeam/{slot}.json")).unwrap();
        legacy.set_password("{\"old\":true}").unwrap();
        assert_eq!(k.read(&slot).unwrap().unwrap().expose(), b"{\"old\":true}");
        assert!(
            matches!(legacy.get_password(), Err(keyring::Error::NoEntry)),
            "moved"
        );
        assert!(k.exists(&slot).unwrap());
        k.delete(&slot).unwrap();
        assert!(k.read(&slot).unwrap().is_none());
    }

    #[test]
    fn automatic_selection_prefers_a_working_keyring_and_keeps_files_as_fallback() {
        if keyring_backend("auto").is_none() {
            return;
        }
        let base = temp_base();
        let instance = format!("test-auto-{}", std::process::id());
        // A token saved earlier to files still loads when the keyring becomes primary.
        file_store(base.path(), &instance)
            .save(&machine_token("file"))
            .unwrap();
        let store = StoreConfig::in_dir(base.path())
            .with_keyring(true)
            .open(&instance)
            .unwrap();
        assert_eq!(store.backend(), BackendKind::Keyring);
        assert_eq!(
            store.load::<MachineToken>().unwrap().unwrap().gateway_id,
            "gw-file"
        );
        store.save(&machine_token("ring")).unwrap();
        assert_eq!(
            store.load::<MachineToken>().unwrap().unwrap().gateway_id,
            "gw-ring"
        );
        store.clear::<MachineToken>().unwrap();
        assert!(
            store.load::<MachineToken>().unwrap().is_none(),
            "cleared from both"
        );
    }
}

// ---------------------------------------------------------------- free functions + environment

const CHILD_MODE: &str = "RUNBEAM_TEST_CHILD_MODE";

/// Child mode: the free functions, configured only by the environment the parent set
/// (`HOME`, `RUNBEAM_*`), so no test mutates its own process environment.
#[test]
#[ignore = "child process of free_functions_follow_the_environment"]
fn child_free_functions() {
    use runbeam_sdk::*;
    let mode = std::env::var(CHILD_MODE).expect("run by the parent test");
    if mode == "bad_key" {
        let err = load_token::<MachineToken>("edge").unwrap_err();
        assert!(
            matches!(
                err,
                RunbeamError::Storage(StorageError::InvalidKey {
                    origin: "RUNBEAM_ENCRYPTION_KEY",
                    ..
                })
            ),
            "{err:?}"
        );
        return;
    }
    let provisioned = provision_machine_token("edge").unwrap().unwrap();
    assert_eq!(
        load_token::<MachineToken>("edge").unwrap().unwrap(),
        provisioned
    );
    assert_eq!(
        StoreConfig::from_env()
            .unwrap()
            .open("edge")
            .unwrap()
            .backend(),
        BackendKind::EncryptedFile
    );

    save_token_as("edge", "custom", &vec![1, 2, 3]).unwrap();
    assert_eq!(
        load_token_as::<Vec<u8>>("edge", "custom").unwrap().unwrap(),
        [1, 2, 3]
    );
    clear_token_as("edge", "custom").unwrap();
    assert!(load_token_as::<Vec<u8>>("edge", "custom")
        .unwrap()
        .is_none());

    let user = UserToken::new("u".to_string(), None, None);
    save_token("edge", &user).unwrap();
    clear_token::<MachineToken>("edge").unwrap();
    assert!(load_token::<MachineToken>("edge").unwrap().is_none());
    assert_eq!(load_token::<UserToken>("edge").unwrap().unwrap(), user);

    let key = EncryptionKey::generate();
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(key.to_age_secret().expose())
    };
    save_token_with_key("keyed", &provisioned, &b64).unwrap();
    assert_eq!(
        load_token_with_key("keyed", &b64).unwrap().unwrap(),
        provisioned
    );
    let other = EncryptionKey::generate().to_age_secret().expose().clone();
    assert!(matches!(
        load_token_with_key("keyed", &other),
        Err(RunbeamError::Storage(StorageError::WrongKey { .. }))
    ));
}

fn run_free_functions_child(home: &Path, mode: &str, key: &str) {
    let out = child("child_free_functions", home)
        .env(CHILD_MODE, mode)
        .env("HOME", home)
        .env("USERPROFILE", home)
        .env("RUNBEAM_ENCRYPTION_KEY", key)
        .env("RUNBEAM_DISABLE_KEYRING", "")
        .env(
            "RUNBEAM_MACHINE_TOKEN",
            String::from_utf8(fixture("accept_provisioned_without_issued_at.json")).unwrap(),
        )
        .output()
        .unwrap();
    assert_child_passed(&out);
}

/// The child exited 0 *and* really ran its one test (a renamed test would run none).
fn assert_child_passed(out: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn free_functions_follow_the_environment() {
    let home = temp_base();
    let k = key();
    // age-keygen output, comments and trailing newline included.
    let keygen = format!(
        "# created: 2026-01-01T00:00:00Z\n# public key: {}\n{}\n",
        k.public_key(),
        k.to_age_secret().expose()
    );
    run_free_functions_child(home.path(), "ok", &keygen);
    let edge = home.path().join(".runbeam/edge");
    assert!(
        !edge.join("encryption.key").exists(),
        "the env key was used"
    );
    assert!(!edge.join("runbeam/auth.json").exists(), "cleared");
    assert!(home
        .path()
        .join(".runbeam/keyed/runbeam/auth.json")
        .is_file());
    // The user token left behind decrypts with the env key.
    let store = StoreConfig::in_dir(home.path().join(".runbeam"))
        .with_key(k)
        .open("edge")
        .unwrap();
    assert!(store.load::<UserToken>().unwrap().is_some());

    run_free_functions_child(home.path(), "bad_key", "AGE-SECRET-KEY-1NOTAKEY");
}
