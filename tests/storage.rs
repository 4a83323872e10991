//! Token storage, as a specification: the conformance suite on every backend, the file
//! layout, hostile files, age CLI interop, a real Secret Service, crash safety.
//!
//! Tests that need a Secret Service (a session bus with an unlocked keyring: see
//! CONTRIBUTING.md), the age CLI or root are `#[ignore]`d with the reason; run by name, each
//! fails without what it needs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::storage::*;
use common::switchable::Switchable;
use runbeam_sdk_blocking::storage::{
    BackendKind, EncryptedFileStorage, MemoryStorage, StoreConfig, TokenStore,
};
use runbeam_sdk_blocking::StorageError;
use runbeam_sdk_blocking::{
    ConfigError, EncryptionKey, MachineToken, RunbeamError, TokenStorage, UserToken,
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
#[cfg_attr(
    not(windows),
    ignore = "needs a Secret Service; CI runs this with --ignored in a gnome-keyring session"
)]
fn conformance_keyring_against_a_real_secret_service() {
    round_trip(keyring_backend("conformance"));
}

// ---------------------------------------------------------------- memory

#[test]
fn memory_injected_failure_fails_exactly_one_call() {
    let m = MemoryStorage::new();
    m.write("auth", b"x").unwrap();
    m.fail_next(no_access());
    assert!(matches!(
        m.read("auth"),
        Err(StorageError::NoStorageAccess { .. })
    ));
    assert_eq!(m.read("auth").unwrap().unwrap().expose(), b"x");
    m.fail_next(injected());
    assert!(matches!(m.write("auth", b"y"), Err(StorageError::Encrypt)));
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
    memory.fail_next(injected());
    let store = TokenStore::new(memory);
    assert!(matches!(
        store.save(&machine_token("x")),
        Err(RunbeamError::Storage(StorageError::Encrypt))
    ));
    store.save(&machine_token("x")).unwrap();
}

#[test]
fn an_unreachable_primary_passes_saves_and_loads_to_the_fallback() {
    let primary = std::sync::Arc::new(MemoryStorage::new());
    let fallback = std::sync::Arc::new(MemoryStorage::new());
    let store = TokenStore::new(primary.clone()).with_fallback(fallback.clone());
    primary.fail_next(no_access());
    store.save(&machine_token("1")).unwrap();
    assert!(!primary.exists("auth").unwrap());
    assert!(fallback.exists("auth").unwrap());
    primary.fail_next(no_access());
    assert_eq!(
        store.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-1"
    );
    // Any other failure is not a reason to write elsewhere.
    primary.fail_next(injected());
    assert!(matches!(
        store.save(&machine_token("2")),
        Err(RunbeamError::Storage(StorageError::Encrypt))
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
                Err(RunbeamError::Storage(StorageError::InvalidName {
                    what: "instance id",
                    ..
                }))
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

// ---------------------------------------------------------------- the newest token wins

/// `machine_token(tag)` with an explicit `issued_at`.
fn issued(tag: &str, issued_at: &str) -> MachineToken {
    let mut t = machine_token(tag);
    t.issued_at = Some(issued_at.to_string());
    t
}

const EARLIER: &str = "2026-01-01T00:00:00.000000001+00:00";
const LATER: &str = "2026-01-01T00:00:00.000000002+00:00";

/// Stores `t` straight into one backend, as a save by another process would have.
fn put(backend: &dyn TokenStorage, t: &MachineToken) {
    backend
        .write("auth", &serde_json::to_vec_pretty(t).unwrap())
        .unwrap();
}

/// The gateway id of the machine token `backend` holds, if any.
fn held(backend: &dyn TokenStorage) -> Option<String> {
    let bytes = backend.read("auth").unwrap()?;
    let t: MachineToken = serde_json::from_slice(bytes.expose()).unwrap();
    Some(t.gateway_id)
}

fn two_backends() -> (Arc<Switchable>, Arc<Switchable>, TokenStore) {
    let first = Switchable::new(BackendKind::Keyring);
    let second = Switchable::new(BackendKind::EncryptedFile);
    let store = TokenStore::new(first.clone()).with_fallback(second.clone());
    (first, second, store)
}

#[test]
fn a_save_removes_the_slot_from_every_other_backend() {
    let (a, b, c) = (
        MemoryStorage::new(),
        MemoryStorage::new(),
        MemoryStorage::new(),
    );
    let (a, b, c) = (Arc::new(a), Arc::new(b), Arc::new(c));
    put(&*b, &issued("old-b", EARLIER));
    put(&*c, &issued("old-c", EARLIER));
    let store = TokenStore::new(a.clone())
        .with_fallback(b.clone())
        .with_fallback(c.clone());
    store.save(&machine_token("new")).unwrap();
    assert_eq!(held(&*a).as_deref(), Some("gw-new"));
    assert_eq!((held(&*b), held(&*c)), (None, None));
}

#[test]
fn a_save_that_cannot_remove_an_older_copy_still_succeeds_and_the_newest_wins_later() {
    let (first, second, store) = two_backends();
    put(&*first, &issued("old", EARLIER));
    first.set_off(true);
    store.save(&issued("new", LATER)).unwrap();
    assert_eq!(held(&*second).as_deref(), Some("gw-new"));
    first.set_off(false);
    assert_eq!(
        held(&*first).as_deref(),
        Some("gw-old"),
        "could not be removed"
    );
    assert_eq!(
        store.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-new"
    );
}

/// A machine token too large for the Windows Credential Manager (over 2,560 bytes as JSON).
fn large_machine_token(tag: &str) -> MachineToken {
    let mut t = machine_token(tag);
    t.machine_token = "t".repeat(4000).into();
    t
}

#[test]
fn a_token_too_large_for_the_first_backend_is_saved_to_the_next_and_the_newest_still_wins() {
    let (first, second, store) = two_backends();
    put(&*first, &issued("old", EARLIER));
    first.set_limit(2560);
    let mut large = large_machine_token("large");
    large.issued_at = Some(LATER.to_string());
    store.save(&large).unwrap();
    assert_eq!(held(&*second).as_deref(), Some("gw-large"));
    assert_eq!(held(&*first), None, "the older copy is removed");
    // An older copy another process left in the first backend loses to the larger, newer one.
    put(&*first, &issued("old", EARLIER));
    assert_eq!(
        store.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-large"
    );
    assert_eq!(held(&*first), None, "repaired: the stale copy is gone");
    // A token that fits goes back to the first backend.
    store.save(&machine_token("small")).unwrap();
    assert_eq!(held(&*first).as_deref(), Some("gw-small"));
    assert_eq!(held(&*second), None);
}

#[test]
fn a_load_returns_the_newest_copy_whichever_backend_holds_it() {
    for newest_first in [true, false] {
        let (first, second, store) = two_backends();
        let (older, newer) = (issued("older", EARLIER), issued("newer", LATER));
        if newest_first {
            put(&*first, &newer);
            put(&*second, &older);
        } else {
            put(&*first, &older);
            put(&*second, &newer);
        }
        let loaded = store.load::<MachineToken>().unwrap().unwrap();
        assert_eq!(loaded, newer, "newest first: {newest_first}");
    }
}

#[test]
fn a_load_moves_the_newest_to_the_first_backend_and_deletes_older_copies() {
    // Newest in the fallback: copied to the first backend, and left where it was too (a
    // process without the first backend still finds it).
    let (first, second, store) = two_backends();
    put(&*first, &issued("older", EARLIER));
    put(&*second, &issued("newer", LATER));
    store.load::<MachineToken>().unwrap();
    assert_eq!(held(&*first).as_deref(), Some("gw-newer"));
    assert_eq!(held(&*second).as_deref(), Some("gw-newer"));

    // Newest in the first backend: the older fallback copy goes.
    let (first, second, store) = two_backends();
    put(&*first, &issued("newer", LATER));
    put(&*second, &issued("older", EARLIER));
    store.load::<MachineToken>().unwrap();
    assert_eq!(held(&*first).as_deref(), Some("gw-newer"));
    assert_eq!(held(&*second), None);
}

#[test]
fn a_load_with_the_first_backend_off_moves_nothing_into_it_and_reports_its_copy_later() {
    let (first, second, store) = two_backends();
    put(&*first, &issued("newer", LATER));
    put(&*second, &issued("older", EARLIER));
    first.set_off(true);
    // Only the older copy can be seen: it is returned (with a warning), and kept.
    assert_eq!(
        store.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-older"
    );
    assert_eq!(held(&*second).as_deref(), Some("gw-older"));
    first.set_off(false);
    assert_eq!(
        store.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-newer"
    );
    assert_eq!(
        held(&*second),
        None,
        "the stale copy is gone once both answer"
    );
}

#[test]
fn a_single_copy_in_the_fallback_loads_and_stays_where_it_is() {
    let (first, second, store) = two_backends();
    put(&*second, &issued("only", EARLIER));
    assert_eq!(
        store.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-only"
    );
    assert_eq!(held(&*first), None, "a load copies nothing that is in step");
    assert_eq!(held(&*second).as_deref(), Some("gw-only"));
}

#[test]
fn a_load_with_no_copy_and_an_unreachable_backend_is_no_storage_access_not_none() {
    let (first, _second, store) = two_backends();
    first.set_off(true);
    assert!(matches!(
        store.load::<MachineToken>(),
        Err(RunbeamError::Storage(StorageError::NoStorageAccess { .. }))
    ));
}

#[test]
fn user_tokens_carry_issued_at_so_the_newest_wins() {
    let mut older = UserToken::new("user-old".to_string(), None, None);
    older.issued_at = Some(EARLIER.to_string());
    let newer = UserToken::new("user-new".to_string(), None, None);
    assert!(newer.issued_at.is_some(), "UserToken::new stamps the token");
    let (first, second, store) = two_backends();
    first
        .write("user_auth", &serde_json::to_vec(&older).unwrap())
        .unwrap();
    second
        .write("user_auth", &serde_json::to_vec(&newer).unwrap())
        .unwrap();
    assert_eq!(store.load::<UserToken>().unwrap().unwrap(), newer);
}

#[test]
fn differing_copies_without_issued_at_load_from_the_first_backend_and_are_left_alone() {
    let (first, second, store) = two_backends();
    first.write("custom", b"[1]").unwrap();
    second.write("custom", b"[2]").unwrap();
    assert_eq!(store.load_as::<Vec<u8>>("custom").unwrap().unwrap(), [1]);
    assert_eq!(second.read("custom").unwrap().unwrap().expose(), b"[2]");
    assert_eq!(first.read("custom").unwrap().unwrap().expose(), b"[1]");
}

#[test]
fn a_newest_copy_that_is_not_the_requested_type_repairs_nothing() {
    let (first, second, store) = two_backends();
    put(&*first, &issued("older", EARLIER));
    second
        .write("auth", format!(r#"{{"issued_at":"{LATER}"}}"#).as_bytes())
        .unwrap();
    assert!(matches!(
        store.load::<MachineToken>(),
        Err(RunbeamError::Storage(StorageError::Corrupt { .. }))
    ));
    assert_eq!(
        held(&*first).as_deref(),
        Some("gw-older"),
        "not overwritten"
    );
}

#[test]
fn a_clear_that_cannot_reach_a_backend_is_partial_clear_and_clears_the_rest() {
    let (first, second, store) = two_backends();
    put(&*first, &machine_token("ring"));
    put(&*second, &machine_token("file"));
    first.set_off(true);
    let err = store.clear::<MachineToken>().unwrap_err();
    let RunbeamError::Storage(StorageError::PartialClear {
        name, remaining, ..
    }) = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(
        (name.as_str(), remaining.as_slice()),
        ("auth", &[BackendKind::Keyring][..])
    );
    assert!(err.to_string().contains("OS keyring"), "{err}");
    assert!(
        !format!("{err} {err:?}").contains("token-"),
        "no token in the error"
    );
    assert_eq!(held(&*second), None, "the reachable backend is cleared");
    first.set_off(false);
    assert_eq!(held(&*first).as_deref(), Some("gw-ring"));
    store.clear::<MachineToken>().unwrap();
    assert_eq!(held(&*first), None);
}

#[test]
fn a_clear_on_a_single_backend_keeps_its_error_kind() {
    let memory = MemoryStorage::new();
    memory.fail_next(injected());
    assert!(matches!(
        TokenStore::new(memory).clear::<MachineToken>(),
        Err(RunbeamError::Storage(StorageError::Encrypt))
    ));
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
    make_private(&base.path().join("inst/encryption.key")); // a key others can read is refused
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

fn age_cli_required() -> std::path::PathBuf {
    let cli = age_cli();
    require(cli.is_some(), "the `age` command-line tool");
    cli.unwrap()
}

#[test]
#[ignore = "needs the age CLI; CI installs it and runs this with --ignored (not for Wine: no age.exe)"]
fn the_age_cli_decrypts_our_files_with_our_key() {
    let age = age_cli_required();
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
#[ignore = "needs the age CLI; CI installs it and runs this with --ignored (not for Wine: no age.exe)"]
fn a_file_the_age_cli_encrypts_to_our_public_key_loads() {
    let age = age_cli_required();
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

    /// A keyring backend for a unique instance; the test fails without a real keyring.
    pub(super) fn keyring_backend(test: &str) -> runbeam_sdk_blocking::storage::KeyringStorage {
        let available = runbeam_sdk_blocking::storage::keyring_available();
        require(available, "a real OS keyring (Secret Service)");
        let instance = format!("test-{test}-{}", std::process::id());
        runbeam_sdk_blocking::storage::KeyringStorage::new(&instance).unwrap()
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
    #[cfg_attr(
        not(windows),
        ignore = "needs a Secret Service; CI runs this with --ignored in a gnome-keyring session"
    )]
    fn keyring_names_include_the_instance() {
        let (a, b) = (keyring_backend("iso-a"), keyring_backend("iso-b"));
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
    #[cfg_attr(
        not(windows),
        ignore = "needs a Secret Service; CI runs this with --ignored in a gnome-keyring session"
    )]
    fn keyring_reads_the_upstream_account_and_migrates_it() {
        let k = keyring_backend("legacy");
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
    #[cfg_attr(
        not(windows),
        ignore = "needs a Secret Service; CI runs this with --ignored in a gnome-keyring session"
    )]
    fn automatic_selection_prefers_a_working_keyring_and_keeps_files_as_fallback() {
        keyring_backend("auto");
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

    /// Keyring's Windows store refuses a secret over 2,560 bytes; the token goes to the files,
    /// the older keyring copy is removed, and a stale one left there later loses on load.
    #[cfg(windows)]
    #[test]
    fn a_token_too_large_for_the_credential_manager_is_kept_in_the_files() {
        let ring = keyring_backend("too-large");
        let instance = format!("test-too-large-{}", std::process::id());
        let _cleanup = Cleanup(vec![format!("{instance}/runbeam/auth.json")]);
        let base = temp_base();
        let store = TokenStore::new(keyring_backend("too-large"))
            .with_fallback(file_backend(base.path(), &instance));
        assert!(matches!(
            ring.write("auth", &[b'x'; 2561]),
            Err(StorageError::TooLarge {
                backend: BackendKind::Keyring,
                limit: 2560
            })
        ));
        put(&ring, &issued("old", EARLIER));
        let mut large = large_machine_token("large");
        large.issued_at = Some(LATER.to_string());
        store.save(&large).unwrap();
        let files = file_backend(base.path(), &instance);
        assert_eq!(held(&files).as_deref(), Some("gw-large"));
        assert_eq!(held(&ring), None, "the older keyring copy is removed");
        put(&ring, &issued("old", EARLIER));
        assert_eq!(
            store.load::<MachineToken>().unwrap().unwrap().gateway_id,
            "gw-large"
        );
        assert_eq!(held(&ring), None, "repaired: the stale copy is gone");
        store.save(&machine_token("small")).unwrap();
        assert_eq!(held(&ring).as_deref(), Some("gw-small"), "fits again");
        assert_eq!(held(&files), None);
        store.clear::<MachineToken>().unwrap();
    }

    const CHILD_OP: &str = "RUNBEAM_TEST_CHILD_OP";
    const CHILD_INSTANCE: &str = "RUNBEAM_TEST_CHILD_INSTANCE";

    /// Child mode: one `save:<tag>` or `load` through `StoreConfig::from_env()` (so
    /// `RUNBEAM_DISABLE_KEYRING` decides whether it is a process with keyring access), then
    /// prints `loaded gw-<tag>` / `loaded none` / `saved`.
    #[test]
    #[ignore = "child process of the real_secret_service tests"]
    fn child_store_op() {
        let op = std::env::var(CHILD_OP).expect("run by the parent test");
        let instance = std::env::var(CHILD_INSTANCE).unwrap();
        let store = StoreConfig::from_env().unwrap().open(&instance).unwrap();
        println!("backends {:?}", store.backends());
        if let Some(tag) = op.strip_prefix("save:") {
            store.save(&machine_token(tag)).unwrap();
            println!("saved");
        } else {
            match store.load::<MachineToken>().unwrap() {
                Some(t) => println!("loaded {}", t.gateway_id),
                None => println!("loaded none"),
            }
        }
    }

    /// Scenarios against the real Secret Service of a scratch session: the daemon is killed,
    /// locked and restarted, so `.ci/run` runs them on their own (`--include-ignored`,
    /// one thread). Each asserts what a process with keyring access and one without
    /// (`RUNBEAM_DISABLE_KEYRING`) load, and that nothing blocks on a locked keyring.
    mod real_secret_service {
        use super::*;
        use crate::common::secret_service as service;
        use std::path::PathBuf;
        use std::time::{Duration, Instant};

        /// No keyring call may wait for a prompt: each step must finish well within this.
        const BOUND: Duration = Duration::from_secs(20);

        struct Scene {
            home: tempfile::TempDir,
            instance: String,
        }

        impl Scene {
            /// A scene with the keyring running and unlocked; the test fails without a
            /// controllable Secret Service.
            fn new(name: &str) -> Self {
                require(
                    service::controllable(),
                    "a scratch-session Secret Service (gnome-keyring) to kill and lock",
                );
                // A fresh daemon each time: known state, whatever the last test left.
                service::start_unlocked();
                keyring_backend(name);
                Self {
                    home: temp_base(),
                    instance: format!("test-nt-{name}-{}", std::process::id()),
                }
            }

            fn base(&self) -> PathBuf {
                self.home.path().join(".runbeam")
            }

            fn ring(&self) -> runbeam_sdk_blocking::storage::KeyringStorage {
                runbeam_sdk_blocking::storage::KeyringStorage::new(&self.instance).unwrap()
            }

            fn files(&self) -> EncryptedFileStorage {
                file_backend(&self.base(), &self.instance)
            }

            /// This process, which chose the keyring while it answered and keeps using it.
            fn long_lived(&self) -> TokenStore {
                TokenStore::new(self.ring()).with_fallback(self.files())
            }

            /// Runs `op` in a fresh process, with or without keyring access, within BOUND.
            fn child(&self, keyring: bool, op: &str) -> String {
                self.child_with(keyring, op, &[])
            }

            /// As [`child`](Self::child), with more environment variables set.
            fn child_with(&self, keyring: bool, op: &str, vars: &[(&str, &str)]) -> String {
                let mut cmd =
                    super::super::child("keyring_tests::child_store_op", self.home.path());
                // Only the variables given here opt in to an unlock prompt.
                cmd.env_remove("RUNBEAM_KEYRING_UNLOCK_PROMPT")
                    .envs(vars.iter().copied())
                    .env(CHILD_OP, op)
                    .env(CHILD_INSTANCE, &self.instance)
                    .env("HOME", self.home.path())
                    .env("USERPROFILE", self.home.path())
                    .env_remove("RUNBEAM_ENCRYPTION_KEY")
                    .env_remove("RUNBEAM_MACHINE_TOKEN")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                if keyring {
                    cmd.env_remove("RUNBEAM_DISABLE_KEYRING");
                } else {
                    cmd.env("RUNBEAM_DISABLE_KEYRING", "1");
                }
                let started = Instant::now();
                let mut process = cmd.spawn().unwrap();
                while process.try_wait().unwrap().is_none() {
                    if started.elapsed() > BOUND {
                        process.kill().unwrap();
                        panic!("{op} (keyring {keyring}) still running after {BOUND:?}");
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let out = process.wait_with_output().unwrap();
                assert_child_passed(&out);
                let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                let line = stdout
                    .lines()
                    .find(|l| l.starts_with("loaded ") || *l == "saved")
                    .unwrap_or_else(|| panic!("no result in {stdout}"));
                line.trim_start_matches("loaded ").to_owned()
            }

            fn load_in(&self, keyring: bool) -> String {
                self.child(keyring, "load")
            }

            fn save_in(&self, keyring: bool, tag: &str) {
                assert_eq!(self.child(keyring, &format!("save:{tag}")), "saved");
            }

            fn clean_up(&self) {
                self.long_lived().clear::<MachineToken>().unwrap();
            }
        }

        /// Runs `f` in this process and fails when it takes longer than BOUND.
        fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
            let started = Instant::now();
            let value = f();
            assert!(
                started.elapsed() < BOUND,
                "{what} took {:?}",
                started.elapsed()
            );
            value
        }

        fn gateway(store: &TokenStore) -> String {
            timed("load", || store.load::<MachineToken>())
                .unwrap()
                .map_or("none".into(), |t| t.gateway_id)
        }

        /// The keyring comes back with the copy saved before it went away: every process
        /// still loads the newer token the files took meanwhile, and the store repairs.
        fn newest_survives_the_keyring_coming_back(scene: &Scene, this: &TokenStore) {
            assert_eq!(
                held(&scene.ring()).as_deref(),
                Some("gw-1"),
                "stale copy kept"
            );
            assert_eq!(scene.load_in(false), "gw-2");
            assert_eq!(scene.load_in(true), "gw-2");
            assert_eq!(held(&scene.ring()).as_deref(), Some("gw-2"), "repaired");
            assert_eq!(gateway(this), "gw-2");
            assert_eq!(scene.load_in(false), "gw-2", "the file copy stays");
        }

        /// While the keyring cannot be used, every process loads the token the files took.
        fn files_serve_while_the_keyring_is_away(scene: &Scene, this: &TokenStore) {
            assert_eq!(held(&scene.files()).as_deref(), Some("gw-2"));
            assert_eq!(gateway(this), "gw-2");
            assert_eq!(scene.load_in(true), "gw-2");
            assert_eq!(scene.load_in(false), "gw-2");
        }

        #[test]
        #[ignore = "needs a Secret Service (gnome-keyring); CI runs them with --include-ignored"]
        fn a_save_while_the_daemon_is_dead_wins_once_it_is_back() {
            let scene = Scene::new("killed");
            let this = scene.long_lived();
            timed("save", || this.save(&machine_token("1"))).unwrap();
            assert_eq!(held(&scene.files()), None, "the keyring took it");
            service::kill_daemon();
            timed("save with the daemon dead", || {
                this.save(&machine_token("2"))
            })
            .unwrap();
            // The save's keyring call D-Bus-activated a new daemon, locked.
            assert_eq!(service::is_locked(), Some(true));
            files_serve_while_the_keyring_is_away(&scene, &this);
            service::start_unlocked();
            newest_survives_the_keyring_coming_back(&scene, &this);
            scene.clean_up();
        }

        #[test]
        #[ignore = "needs a Secret Service (gnome-keyring); CI runs them with --include-ignored"]
        fn a_save_while_the_collection_is_locked_wins_once_it_is_unlocked() {
            let scene = Scene::new("locked");
            let this = scene.long_lived();
            timed("save", || this.save(&machine_token("1"))).unwrap();
            service::lock_collection();
            timed("save while locked", || this.save(&machine_token("2"))).unwrap();
            files_serve_while_the_keyring_is_away(&scene, &this);
            service::start_unlocked();
            newest_survives_the_keyring_coming_back(&scene, &this);
            scene.clean_up();
        }

        #[test]
        #[ignore = "needs a Secret Service (gnome-keyring); CI runs them with --include-ignored"]
        fn file_first_then_keyring_never_leaves_the_old_file_token_visible() {
            let scene = Scene::new("file-first");
            scene.save_in(false, "1");
            assert_eq!(held(&scene.files()).as_deref(), Some("gw-1"));
            scene.save_in(true, "2");
            assert_eq!(held(&scene.ring()).as_deref(), Some("gw-2"));
            assert_eq!(held(&scene.files()), None, "the older file copy is removed");
            assert_eq!(scene.load_in(true), "gw-2");
            // Without keyring access the newest cannot be seen; the stale one never is.
            assert_eq!(scene.load_in(false), "none");
            scene.clean_up();
        }

        #[test]
        #[ignore = "needs a Secret Service (gnome-keyring); CI runs them with --include-ignored"]
        fn keyring_first_then_file_loads_the_file_token_everywhere() {
            let scene = Scene::new("ring-first");
            scene.save_in(true, "1");
            assert_eq!(held(&scene.files()), None);
            scene.save_in(false, "2");
            assert_eq!(
                held(&scene.ring()).as_deref(),
                Some("gw-1"),
                "out of its reach"
            );
            assert_eq!(scene.load_in(false), "gw-2");
            assert_eq!(scene.load_in(true), "gw-2");
            assert_eq!(held(&scene.ring()).as_deref(), Some("gw-2"), "repaired");
            assert_eq!(scene.load_in(false), "gw-2");
            assert_eq!(gateway(&scene.long_lived()), "gw-2");
            scene.clean_up();
        }

        /// A call that must not wait on a prompt or a hung service answers within this: a
        /// prompt nobody answers costs the D-Bus default of 25 s per call, a Secret Service
        /// that never answers one 2 s call timeout.
        #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
        const FEW: Duration = Duration::from_secs(5);

        /// Runs `f`, prints how long it took (CI logs keep the figures) and fails when that
        /// is `bound` or more.
        #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
        fn within<T>(what: &str, bound: Duration, f: impl FnOnce() -> T) -> T {
            let started = Instant::now();
            let value = f();
            let took = started.elapsed();
            eprintln!("{what}: {took:?}");
            assert!(took < bound, "{what} took {took:?}, more than {bound:?}");
            value
        }

        #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
        #[test]
        #[ignore = "needs a Secret Service (gnome-keyring); CI runs them with --include-ignored"]
        fn a_locked_keyring_never_waits_on_an_unlock_prompt() {
            let scene = Scene::new("prompt");
            // A desktop left alone: the prompter is there but nobody answers it.
            let prompter = service::Silent::own(service::PROMPTER);
            let this = scene.long_lived();
            within("save", FEW, || this.save(&machine_token("1"))).unwrap();
            service::lock_collection();
            within("save while locked", FEW, || this.save(&machine_token("2"))).unwrap();
            assert_eq!(held(&scene.files()).as_deref(), Some("gw-2"));
            assert_eq!(within("load while locked", FEW, || gateway(&this)), "gw-2");
            // A new process (`save_token`/`load_token`) does not pick the locked keyring.
            assert_eq!(
                within("load in a new process", FEW, || scene.load_in(true)),
                "gw-2"
            );
            within("save in a new process", FEW, || scene.save_in(true, "3"));
            assert_eq!(
                prompter.calls(),
                Vec::<String>::new(),
                "no unlock prompt was started"
            );
            drop(prompter);
            service::start_unlocked();
            assert_eq!(held(&scene.ring()).as_deref(), Some("gw-1"), "stale copy");
            assert_eq!(scene.load_in(true), "gw-3", "the newest wins");
            assert_eq!(held(&scene.ring()).as_deref(), Some("gw-3"), "repaired");
            scene.clean_up();
        }

        #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
        #[test]
        #[ignore = "needs a Secret Service (gnome-keyring); CI runs them with --include-ignored"]
        fn the_unlock_prompt_is_opt_in_and_its_wait_is_bounded() {
            let scene = Scene::new("opt-in");
            let prompter = service::Silent::own(service::PROMPTER);
            scene.long_lived().save(&machine_token("1")).unwrap();
            service::lock_collection();
            let wait = Duration::from_secs(2);
            let asking = scene.ring().with_unlock_prompt(wait);
            let started = Instant::now();
            let read = within("keyring read with a 2 s prompt", wait + FEW, || {
                asking.read("auth")
            });
            assert!(matches!(read, Err(StorageError::NoStorageAccess { .. })));
            assert!(started.elapsed() >= wait, "the prompt was waited for");
            assert!(!prompter.calls().is_empty(), "the prompt was shown");
            // The same opt-in through the environment: a new process waits once, at
            // selection (gnome-keyring queues its unlock behind the prompt on screen), then
            // uses the files.
            let vars = [("RUNBEAM_KEYRING_UNLOCK_PROMPT", "2")];
            let started = Instant::now();
            let load = within(
                "load in a new process with a 2 s prompt",
                wait + FEW,
                || scene.child_with(true, "load", &vars),
            );
            assert_eq!(load, "none");
            assert!(started.elapsed() >= wait, "the prompt was waited for");
            drop(prompter);
            service::start_unlocked();
            scene.clean_up();
        }

        #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
        #[test]
        #[ignore = "needs a Secret Service (gnome-keyring); CI runs them with --include-ignored"]
        fn a_secret_service_that_never_answers_costs_one_short_timeout() {
            let scene = Scene::new("silent");
            // One 2 s D-Bus call timeout per call, never two (a save does not ask a backend
            // that just did not answer to remove its older copy).
            let one_timeout = Duration::from_millis(3500);
            let this = scene.long_lived();
            within("save", one_timeout, || this.save(&machine_token("1"))).unwrap();
            service::kill_daemon();
            // Owning the name also keeps the bus from starting a real daemon.
            let silent = service::Silent::own(service::BUS_NAME);
            assert!(matches!(
                within("keyring read", one_timeout, || scene.ring().read("auth")),
                Err(StorageError::NoStorageAccess { .. })
            ));
            within("save", one_timeout, || this.save(&machine_token("2"))).unwrap();
            assert_eq!(held(&scene.files()).as_deref(), Some("gw-2"));
            assert_eq!(within("load", one_timeout, || gateway(&this)), "gw-2");
            assert_eq!(
                within("load in a new process", one_timeout, || scene.load_in(true)),
                "gw-2"
            );
            drop(silent);
            service::start_unlocked();
            newest_survives_the_keyring_coming_back(&scene, &this);
            scene.clean_up();
        }
    }
}

// ---------------------------------------------------------------- free functions + environment

const CHILD_MODE: &str = "RUNBEAM_TEST_CHILD_MODE";

/// Child mode: the free functions, configured only by the environment the parent set
/// (`HOME`, `RUNBEAM_*`), so no test mutates its own process environment.
#[test]
#[ignore = "child process of free_functions_follow_the_environment"]
fn child_free_functions() {
    use runbeam_sdk_blocking::*;
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

// ---------------------------------------------------------------- what is saved loads back

#[test]
fn a_token_too_large_to_load_is_refused_on_save_and_the_old_one_stays() {
    let base = temp_base();
    let store = file_store(base.path(), "inst");
    store.save(&machine_token("before")).unwrap();
    let token_file = base.path().join("inst/runbeam/auth.json");
    let before = fs::read(&token_file).unwrap();
    let mut huge = machine_token("huge");
    huge.machine_token = runbeam_sdk_blocking::Secret::new("x".repeat(5 * 1024 * 1024));
    let err = store.save(&huge).unwrap_err();
    assert!(
        matches!(&err, RunbeamError::Storage(StorageError::Unloadable { name, .. }) if name == "auth"),
        "{err:?}"
    );
    assert_eq!(fs::read(&token_file).unwrap(), before, "nothing replaced");
    assert_eq!(
        store.load::<MachineToken>().unwrap().unwrap().gateway_id,
        "gw-before"
    );
}

#[test]
fn the_save_limit_is_the_encrypted_size_the_load_limit_reads() {
    const MIB: usize = 1024 * 1024;
    let base = temp_base();
    let backend = file_backend(base.path(), "inst");
    // Fits in 1 MiB once encrypted (age adds under 1 KiB here): saves and loads back.
    let fits = vec![b'x'; MIB - 2048];
    backend.write("auth", &fits).unwrap();
    assert_eq!(backend.read("auth").unwrap().unwrap().expose(), &fits);
    // Under 1 MiB as plaintext, over it encrypted: refused, the previous value stays.
    let err = backend.write("auth", &vec![b'y'; MIB - 16]).unwrap_err();
    assert!(
        matches!(&err, StorageError::Unloadable { name, .. } if name == "auth"),
        "{err:?}"
    );
    assert_eq!(backend.read("auth").unwrap().unwrap().expose(), &fits);
}

#[test]
fn json_nested_deeper_than_loading_accepts_is_refused_on_save() {
    let base = temp_base();
    let store = file_store(base.path(), "inst");
    store.save_as("custom", &serde_json::json!([1])).unwrap();
    let mut deep = serde_json::json!(1);
    for _ in 0..200 {
        deep = serde_json::Value::Array(vec![deep]);
    }
    let err = store.save_as("custom", &deep).unwrap_err();
    assert!(
        matches!(&err, RunbeamError::Storage(StorageError::Unloadable { name, .. }) if name == "custom"),
        "{err:?}"
    );
    let back: serde_json::Value = store.load_as("custom").unwrap().unwrap();
    assert_eq!(back, serde_json::json!([1]));
}

#[test]
fn an_oversized_token_file_is_corrupt_and_names_the_slot() {
    let base = temp_base();
    let store = plant(base.path(), &vec![b'a'; 2 * 1024 * 1024]);
    let err = load_err(&store);
    assert!(
        matches!(&err, StorageError::Corrupt { name, .. } if name == "auth"),
        "{err:?}"
    );
}

#[test]
fn non_portable_instance_ids_and_slots_are_refused() {
    let base = temp_base();
    let store = file_store(base.path(), "inst");
    for bad in ["CON", "nul", "com1.json", "Lpt9", "aux.tar.gz", "a.", "a "] {
        assert!(
            matches!(
                EncryptedFileStorage::new(base.path(), bad),
                Err(StorageError::InvalidName {
                    what: "instance id",
                    ..
                })
            ),
            "{bad:?}"
        );
        assert!(
            matches!(
                StoreConfig::in_dir(base.path()).open(bad),
                Err(RunbeamError::Storage(StorageError::InvalidName {
                    what: "instance id",
                    ..
                }))
            ),
            "{bad:?}"
        );
        assert!(
            matches!(
                store.save_as(bad, &1),
                Err(RunbeamError::Storage(StorageError::InvalidName {
                    what: "token slot",
                    ..
                }))
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        tree(base.path()),
        Vec::<std::path::PathBuf>::new(),
        "nothing created"
    );
}

// ---------------------------------------------------------------- another local user (Unix)

#[cfg(unix)]
mod hostile_local_user {
    use std::os::unix::fs::{symlink, DirBuilderExt};
    use std::path::PathBuf;

    use runbeam_sdk_blocking::storage::Insecurity;

    use super::*;
    use crate::common::users::{chown_foreign, require_root, FOREIGN_UID};

    /// Creates `base/rel` and its missing parents under `base`, each 0700.
    fn private_dirs(base: &Path, rel: &str) -> PathBuf {
        // `join("")` would add a trailing '/', which error messages do not show.
        let dir = if rel.is_empty() {
            base.to_path_buf()
        } else {
            base.join(rel)
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .unwrap();
        dir
    }

    /// The refusal inside `result`, with its path and reason.
    fn refusal<T: std::fmt::Debug>(
        result: Result<T, RunbeamError>,
    ) -> (PathBuf, Insecurity, String) {
        match result {
            Err(RunbeamError::Storage(e @ StorageError::InsecurePermissions { .. })) => {
                let text = e.to_string();
                let StorageError::InsecurePermissions { path, why } = e else {
                    unreachable!()
                };
                (path, why, text)
            }
            other => panic!("expected InsecurePermissions, got {other:?}"),
        }
    }

    fn save(base: &Path, tag: &str) -> Result<(), RunbeamError> {
        file_store(base, "inst").save(&machine_token(tag))
    }

    fn load(base: &Path) -> Result<Option<MachineToken>, RunbeamError> {
        file_store(base, "inst").load::<MachineToken>()
    }

    /// A save under `base` is refused for `dir`, for `why`, with `fix` in its message, and
    /// writes nothing; a load is refused for `dir` too.
    fn assert_dir_refused_and_untouched(base: &Path, dir: &Path, why: &Insecurity, fix: &str) {
        let before = tree(base);
        let (path, found, text) = refusal(save(base, "new"));
        assert_eq!((path.as_path(), &found), (dir, why));
        assert!(text.contains(fix), "{text}");
        assert_eq!(tree(base), before, "nothing written");
        assert_eq!(refusal(load(base)).0, dir);
    }

    #[test]
    fn a_group_or_world_writable_directory_is_refused_before_anything_is_written() {
        for rel in ["", "inst", "inst/runbeam"] {
            for mode in [0o777, 0o770, 0o702] {
                let base = temp_base();
                let dir = private_dirs(base.path(), rel);
                chmod(&dir, mode);
                let fix = format!("chmod 700 {}", dir.display());
                let why = Insecurity::WritableByOthers { mode };
                assert_dir_refused_and_untouched(base.path(), &dir, &why, &fix);
            }
        }
    }

    #[test]
    fn a_saved_token_stays_private_and_unread_when_its_directory_opens_up() {
        let base = temp_base();
        save(base.path(), "old").unwrap();
        let token_file = base.path().join("inst/runbeam/auth.json");
        let old = fs::read(&token_file).unwrap();
        chmod(&base.path().join("inst"), 0o777);
        refusal(save(base.path(), "new"));
        refusal(load(base.path()));
        assert_eq!(fs::read(&token_file).unwrap(), old);
        assert_eq!(mode_of(&token_file), 0o600, "not readable by anyone else");
        assert_eq!(mode_of(&base.path().join("inst/encryption.key")), 0o600);
    }

    #[test]
    fn a_symlinked_instance_dir_is_judged_by_its_target() {
        let base = temp_base();
        let elsewhere = temp_base();
        let good = private_dirs(elsewhere.path(), "good");
        symlink(&good, base.path().join("inst")).unwrap();
        save(base.path(), "linked").unwrap();
        assert_eq!(load(base.path()).unwrap().unwrap().gateway_id, "gw-linked");
        assert!(good.join("runbeam/auth.json").is_file());

        let open = private_dirs(elsewhere.path(), "open");
        chmod(&open, 0o777);
        let link = base.path().join("other");
        symlink(&open, &link).unwrap();
        let result = file_store(base.path(), "other").save(&machine_token("x"));
        let (path, why, _) = refusal(result);
        assert_eq!(path, link);
        assert_eq!(why, Insecurity::WritableByOthers { mode: 0o777 });
        assert!(tree(&open).is_empty(), "nothing written through the link");
    }

    #[test]
    fn a_key_file_others_can_access_is_refused_for_saving_and_loading() {
        for mode in [0o644, 0o640, 0o604, 0o610] {
            let base = temp_base();
            save(base.path(), "old").unwrap();
            let key_file = base.path().join("inst/encryption.key");
            let token_file = base.path().join("inst/runbeam/auth.json");
            let old = fs::read(&token_file).unwrap();
            chmod(&key_file, mode);
            let (path, why, text) = refusal(save(base.path(), "new"));
            assert_eq!(
                (path, why),
                (key_file.clone(), Insecurity::KeyExposed { mode })
            );
            assert!(
                text.contains(&format!("chmod 600 {}", key_file.display())),
                "{text}"
            );
            assert_eq!(fs::read(&token_file).unwrap(), old, "nothing saved");
            assert_eq!(
                refusal(load(base.path())).1,
                Insecurity::KeyExposed { mode }
            );
        }
    }

    #[test]
    #[ignore = "needs root (to chown to another uid); CI runs it with --ignored"]
    fn a_foreign_owned_directory_is_refused() {
        require_root();
        for rel in ["", "inst", "inst/runbeam"] {
            let base = temp_base();
            let dir = private_dirs(base.path(), rel);
            chown_foreign(&dir);
            let fix = format!("chown 0 {}", dir.display());
            let why = Insecurity::ForeignOwner {
                owner: FOREIGN_UID,
                expected: 0,
            };
            assert_dir_refused_and_untouched(base.path(), &dir, &why, &fix);
        }
    }

    #[test]
    #[ignore = "needs root (to chown to another uid) and the age CLI; CI runs it with --ignored"]
    fn a_planted_foreign_key_is_never_used_to_save() {
        let age = age_cli_required();
        require_root();
        let base = temp_base();
        save(base.path(), "before").unwrap();
        let key_file = base.path().join("inst/encryption.key");
        let ours = EncryptionKey::parse(&fs::read_to_string(&key_file).unwrap()).unwrap();
        // Another user's key, as they would plant it: their file, private to them.
        let planted = key();
        fs::remove_file(&key_file).unwrap();
        fs::write(&key_file, planted.to_age_secret().expose()).unwrap();
        chmod(&key_file, 0o600);
        chown_foreign(&key_file);

        let (path, why, _) = refusal(save(base.path(), "after"));
        assert_eq!(path, key_file);
        assert!(matches!(
            why,
            Insecurity::ForeignOwner {
                owner: FOREIGN_UID,
                ..
            }
        ));
        refusal(load(base.path()));

        // The age CLI: the token on disk is still the one from before, for our key only.
        let decrypt = |key: &EncryptionKey, name: &str| {
            let identity = base.path().join(name);
            fs::write(&identity, format!("{}\n", key.to_age_secret().expose())).unwrap();
            Command::new(&age)
                .arg("--decrypt")
                .arg("-i")
                .arg(&identity)
                .arg(base.path().join("inst/runbeam/auth.json"))
                .output()
                .unwrap()
        };
        let with_planted = decrypt(&planted, "planted.txt");
        assert!(
            !with_planted.status.success(),
            "the planted key decrypts the token"
        );
        let with_ours = decrypt(&ours, "ours.txt");
        assert!(with_ours.status.success());
        let t = MachineToken::from_json(std::str::from_utf8(&with_ours.stdout).unwrap()).unwrap();
        assert_eq!(t.gateway_id, "gw-before");
    }

    #[test]
    #[ignore = "needs root (to chown to another uid); CI runs it with --ignored"]
    fn a_foreign_owned_lock_file_is_refused() {
        require_root();
        let base = temp_base();
        save(base.path(), "old").unwrap();
        let lock = base.path().join("inst/.lock");
        chown_foreign(&lock);
        let (path, why, _) = refusal(save(base.path(), "new"));
        assert_eq!(path, lock);
        assert!(matches!(
            why,
            Insecurity::ForeignOwner {
                owner: FOREIGN_UID,
                ..
            }
        ));
        assert_eq!(load(base.path()).unwrap().unwrap().gateway_id, "gw-old");
    }

    /// What a load and a save under `base` do while a FIFO sits at `fifo`, each bounded so
    /// a regression fails instead of hanging.
    fn with_fifo_at(base: &Path, fifo: &Path) -> (StorageError, StorageError) {
        fs::remove_file(fifo).unwrap();
        common::bounded::mkfifo(fifo);
        let storage_error = |result: Result<_, RunbeamError>| match result {
            Err(RunbeamError::Storage(e)) => e,
            other => panic!("expected a storage error, got {other:?}"),
        };
        let at = base.to_path_buf();
        let loaded =
            common::bounded::within(std::time::Duration::from_secs(20), "a load", move || {
                storage_error(load(&at).map(|_| ()))
            });
        let at = base.to_path_buf();
        let saved =
            common::bounded::within(std::time::Duration::from_secs(20), "a save", move || {
                storage_error(save(&at, "new"))
            });
        (loaded, saved)
    }

    #[test]
    fn a_fifo_planted_at_a_token_or_key_file_is_refused_without_waiting() {
        for name in ["inst/runbeam/auth.json", "inst/encryption.key"] {
            let base = temp_base();
            save(base.path(), "old").unwrap();
            let fifo = base.path().join(name);
            let (loaded, saved) = with_fifo_at(base.path(), &fifo);
            assert!(
                matches!(&loaded, StorageError::NotAFile { path } if *path == fifo),
                "{name}: {loaded:?}"
            );
            assert!(
                matches!(&saved, StorageError::NotAFile { path } if *path == fifo),
                "{name}: {saved:?}"
            );
        }
    }

    /// A regular file outside the storage tree, and its bytes.
    fn victim(dir: &Path, bytes: &[u8]) -> PathBuf {
        let path = dir.join("victim");
        fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_symlinked_token_file_is_never_followed() {
        let base = temp_base();
        let elsewhere = temp_base();
        save(base.path(), "real").unwrap();
        let token_file = base.path().join("inst/runbeam/auth.json");
        // The link points to a valid token for our key: following it would "work".
        let target = victim(elsewhere.path(), &fs::read(&token_file).unwrap());
        let original = fs::read(&target).unwrap();
        fs::remove_file(&token_file).unwrap();
        symlink(&target, &token_file).unwrap();

        let (path, why, _) = refusal(load(base.path()));
        assert_eq!((path, why), (token_file.clone(), Insecurity::Link));
        assert_eq!(refusal(save(base.path(), "new")).1, Insecurity::Link);
        assert!(matches!(
            file_backend(base.path(), "inst").exists("auth"),
            Err(StorageError::InsecurePermissions {
                why: Insecurity::Link,
                ..
            })
        ));
        assert_eq!(fs::read(&target).unwrap(), original, "target untouched");
        assert!(fs::symlink_metadata(&token_file).unwrap().is_symlink());
    }

    #[test]
    fn a_symlinked_key_file_is_never_followed() {
        let base = temp_base();
        let elsewhere = temp_base();
        save(base.path(), "real").unwrap();
        let key_file = base.path().join("inst/encryption.key");
        let target = victim(elsewhere.path(), &fs::read(&key_file).unwrap());
        chmod(&target, 0o600);
        let original = fs::read(&target).unwrap();
        fs::remove_file(&key_file).unwrap();
        symlink(&target, &key_file).unwrap();
        assert_eq!(refusal(load(base.path())).0, key_file);
        assert_eq!(refusal(save(base.path(), "new")).1, Insecurity::Link);
        assert_eq!(fs::read(&target).unwrap(), original, "target untouched");

        // A dangling link: a first save must not create the key where it points.
        fs::remove_file(&target).unwrap();
        assert_eq!(refusal(save(base.path(), "new")).1, Insecurity::Link);
        assert!(!target.exists(), "no key written through the link");
    }

    #[test]
    fn a_symlinked_lock_file_is_never_followed() {
        let base = temp_base();
        let elsewhere = temp_base();
        save(base.path(), "real").unwrap();
        let lock_file = base.path().join("inst/.lock");
        fs::remove_file(&lock_file).unwrap();
        // Dangling: opening it for locking (create) through the link would make the target.
        let target = elsewhere.path().join("created-through-link");
        symlink(&target, &lock_file).unwrap();
        let (path, why, _) = refusal(save(base.path(), "new"));
        assert_eq!((path, why), (lock_file.clone(), Insecurity::Link));
        assert!(matches!(
            file_store(base.path(), "inst").clear::<MachineToken>(),
            Err(RunbeamError::Storage(StorageError::InsecurePermissions {
                why: Insecurity::Link,
                ..
            }))
        ));
        assert!(!target.exists(), "nothing created through the link");
        assert_eq!(load(base.path()).unwrap().unwrap().gateway_id, "gw-real");
    }

    #[test]
    fn a_symlinked_temp_file_is_never_followed() {
        let base = temp_base();
        let elsewhere = temp_base();
        save(base.path(), "real").unwrap();
        let target = victim(elsewhere.path(), b"not yours");
        for temp in ["inst/runbeam/.auth.json.tmp", "inst/.encryption.key.tmp"] {
            let temp = base.path().join(temp);
            symlink(&target, &temp).unwrap();
            if temp.ends_with(".encryption.key.tmp") {
                // Only a save without a key file writes the key's temp file.
                fs::remove_file(base.path().join("inst/encryption.key")).unwrap();
            }
            let (path, why, _) = refusal(save(base.path(), "new"));
            assert_eq!((path, why), (temp.clone(), Insecurity::Link));
            assert_eq!(fs::read(&target).unwrap(), b"not yours", "target untouched");
            assert!(fs::symlink_metadata(&temp).unwrap().is_symlink());
        }
    }

    #[test]
    #[ignore = "needs root (to give a directory to another uid); CI runs it with --ignored"]
    fn an_instance_directory_link_switched_while_in_use_never_leads_a_save_elsewhere() {
        use crate::common::users::LinkSwitcher;

        require_root();
        let tmp = temp_base();
        let base = private_dirs(tmp.path(), "base");
        let good = private_dirs(tmp.path(), "good");
        // Another user's instance directory, with a `runbeam/` a writer by path would use.
        let evil = private_dirs(tmp.path(), "evil/runbeam")
            .parent()
            .unwrap()
            .to_path_buf();
        chown_foreign(&evil);
        chown_foreign(&evil.join("runbeam"));
        let planted = tree(&evil);
        let link = base.join("inst");
        symlink(&good, &link).unwrap();
        save(&base, "first").unwrap();
        // That user controls the link and switches it back and forth as fast as they can.
        let switcher = LinkSwitcher::start(&link, &evil, &good);
        let at = base.clone();
        let outcomes = common::bounded::within(
            std::time::Duration::from_secs(120),
            "the saves",
            move || {
                (0..300)
                    .map(|i| save(&at, &format!("n{i}")))
                    .collect::<Vec<_>>()
            },
        );
        switcher.stop();
        assert_eq!(tree(&evil), planted, "a save wrote in the other directory");
        let mut saved = 0;
        for outcome in outcomes {
            match outcome {
                Ok(()) => saved += 1,
                // Judged while the link led to the other directory: refused, as it should be.
                Err(RunbeamError::Storage(StorageError::InsecurePermissions {
                    why: Insecurity::ForeignOwner { .. },
                    ..
                })) => {}
                Err(other) => panic!("a save failed otherwise: {other:?}"),
            }
        }
        assert!(saved > 0, "no save got through: the test proved nothing");
    }

    #[test]
    fn a_lock_held_for_ever_by_another_process_bounds_the_save() {
        let base = temp_base();
        save(base.path(), "old").unwrap();
        let lock = base.path().join("inst/.lock");
        // Another process of this user takes the lock and never lets go: one process (the
        // shell becomes `sleep`), so killing it releases the lock.
        let mut holder = Command::new("sh")
            .args(["-c", r#"exec 9>>"$1" && flock 9 && exec sleep 600"#, "sh"])
            .arg(&lock)
            .spawn()
            .unwrap();
        let probe = fs::OpenOptions::new().write(true).open(&lock).unwrap();
        while probe.try_lock().is_ok() {
            probe.unlock().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let at = base.path().to_path_buf();
        let saved = common::bounded::within(
            std::time::Duration::from_secs(30),
            "a save behind a lock held for ever",
            move || save(&at, "new"),
        );
        holder.kill().unwrap();
        holder.wait().unwrap();
        match saved {
            Err(RunbeamError::Storage(e @ StorageError::Locked { .. })) => {
                let text = e.to_string();
                let StorageError::Locked { path, .. } = e else {
                    unreachable!()
                };
                assert_eq!(path, lock);
                assert!(text.contains("locked by another writer"), "{text}");
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        assert_eq!(load(base.path()).unwrap().unwrap().gateway_id, "gw-old");
        save(base.path(), "after").unwrap();
    }
}
