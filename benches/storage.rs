//! Token storage costs: encrypted-file save + load round trip (atomic write with fsync, lock,
//! age X25519), and the OS keyring round trip when one answers.
//!
//! Run: `cargo bench --bench storage` (under `dbus-run-session` with an unlocked
//! gnome-keyring to include the keyring line).

// A failing call aborts the benchmark run with its message; nothing to recover.
#![allow(clippy::expect_used)]

mod common;

use std::hint::black_box;

use runbeam_sdk_blocking::storage::{MemoryStorage, StoreConfig, TokenStore};
use runbeam_sdk_blocking::{EncryptionKey, MachineToken};

fn token() -> MachineToken {
    MachineToken::new(
        "bench-token-0123456789abcdef0123456789abcdef".to_string(),
        "2999-01-01T00:00:00Z",
        "01JBENCHGATEWAY",
        "gateway-123",
        vec!["harmony:send".into()],
    )
}

fn round_trip(store: &TokenStore, t: &MachineToken) {
    store.save(t).expect("save");
    let back: Option<MachineToken> = store.load().expect("load");
    black_box(back);
}

fn main() {
    let t = token();
    let memory = TokenStore::new(MemoryStorage::new());
    let baseline = common::per_call(2000, || round_trip(&memory, &t));
    common::report("memory save+load (JSON only)", baseline, baseline);

    let dir = std::env::temp_dir().join(format!("runbeam-bench-{}", std::process::id()));
    let files = StoreConfig::in_dir(&dir).open("bench").expect("open");
    let file_rt = common::per_call(50, || round_trip(&files, &t));
    common::report("encrypted file save+load (key file)", file_rt, baseline);

    let keyed = StoreConfig::in_dir(&dir)
        .with_key(EncryptionKey::generate())
        .open("bench-keyed")
        .expect("open");
    let keyed_rt = common::per_call(50, || round_trip(&keyed, &t));
    common::report("encrypted file save+load (given key)", keyed_rt, baseline);

    let load_only = common::per_call(200, || {
        black_box(files.load::<MachineToken>().expect("load"));
    });
    common::report("encrypted file load only", load_only, baseline);
    let _ = std::fs::remove_dir_all(&dir);

    #[cfg(feature = "keyring")]
    if runbeam_sdk_blocking::storage::keyring_available() {
        let ring = TokenStore::new(
            runbeam_sdk_blocking::storage::KeyringStorage::new(&format!(
                "bench-{}",
                std::process::id()
            ))
            .expect("keyring"),
        );
        let ring_rt = common::per_call(20, || round_trip(&ring, &t));
        common::report("OS keyring save+load", ring_rt, baseline);
        ring.clear::<MachineToken>().expect("clear");
    } else {
        println!("OS keyring: not available here (skipped)");
    }
}
