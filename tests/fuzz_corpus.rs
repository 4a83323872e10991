//! Replays every checked-in fuzz seed through the same entry points as the fuzz targets, so
//! a plain `cargo test` catches a regression on any input the fuzzers found interesting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

// ---- stored_token (storage, issue 4) ----

/// `fuzz/fuzz_targets/stored_token.rs`: `Some(decoded?)` for UTF-8 input.
fn stored_token_target(data: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(data).ok()?;
    Some(match runbeam_sdk::MachineToken::from_json(text) {
        Ok(token) => {
            let _ = (
                token.expires_at_unix(),
                token.is_expired(),
                token.needs_renewal(),
            );
            true
        }
        Err(e) => {
            assert!(
                matches!(e, runbeam_sdk::StorageError::Corrupt { .. }),
                "{e:?}"
            );
            false
        }
    })
}

#[test]
fn stored_token_seeds_replay_without_panics() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/stored_token");
    let mut seeds: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 10);
    for path in seeds {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let decoded = stored_token_target(&std::fs::read(&path).unwrap());
        // Seed names state the outcome: accept_* decode, reject_* are typed errors.
        if name.starts_with("accept_") {
            assert_eq!(decoded, Some(true), "{name}");
        } else if name.starts_with("reject_") {
            assert_ne!(decoded, Some(true), "{name}");
        }
    }
}
