//! Replays every checked-in fuzz seed through the same entry points as the fuzz targets, so
//! a plain `cargo test` catches a regression on any input the fuzzers found interesting.
//! Seed names state the outcome: `accept_*` must parse; `reject_*` must be refused by the parser
//! itself, except for `parse_token`, whose `reject_*` seeds are well-formed tokens that the
//! *validator* refuses (named after the test that uses them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use runbeam_sdk_blocking::api::ErrorBody;
use runbeam_sdk_blocking::client::normalize_base_url;
use runbeam_sdk_blocking::jwt::{parse_jwks, UnverifiedToken};
use runbeam_sdk_blocking::{MachineToken, StorageError};

/// Every seed of one target as (file name, bytes), sorted by name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(path).unwrap())
        })
        .collect();
    seeds.sort();
    seeds
}

/// Whether a target's `reject_*` seeds must fail to parse.
#[derive(PartialEq)]
enum Rejects {
    RefusedByParser,
    RefusedLater,
}

/// Runs `target` over every seed and checks the outcome its name states.
fn replay(target: &str, min_seeds: usize, rejects: Rejects, parses: impl Fn(&[u8]) -> bool) {
    let seeds = seeds(target);
    assert!(
        seeds.len() >= min_seeds,
        "{target}: only {} seeds",
        seeds.len()
    );
    for (name, data) in &seeds {
        let parsed = parses(data);
        if name.starts_with("accept_") {
            assert!(parsed, "{target}/{name} should parse");
        } else if name.starts_with("reject_") && rejects == Rejects::RefusedByParser {
            assert!(!parsed, "{target}/{name} should be refused");
        }
    }
}

/// `fuzz/fuzz_targets/parse_token.rs`.
#[test]
fn parse_token_seeds_replay_without_panics() {
    replay("parse_token", 10, Rejects::RefusedLater, |data| {
        std::str::from_utf8(data).is_ok_and(|text| UnverifiedToken::parse(text).is_ok())
    });
}

/// `fuzz/fuzz_targets/parse_jwks.rs`.
#[test]
fn parse_jwks_seeds_replay_without_panics() {
    replay("parse_jwks", 5, Rejects::RefusedByParser, |data| {
        parse_jwks(data).is_ok()
    });
}

/// `fuzz/fuzz_targets/stored_token.rs`: failures are always the typed `Corrupt` error.
#[test]
fn stored_token_seeds_replay_without_panics() {
    replay("stored_token", 10, Rejects::RefusedByParser, |data| {
        let Ok(text) = std::str::from_utf8(data) else {
            return false;
        };
        match MachineToken::from_json(text) {
            Ok(token) => {
                let _ = (
                    token.expires_at_unix(),
                    token.is_expired(),
                    token.needs_renewal(),
                );
                true
            }
            Err(e) => {
                assert!(matches!(e, StorageError::Corrupt { .. }), "{e:?}");
                false
            }
        }
    });
}

/// `fuzz/fuzz_targets/parse_error_body.rs`: unparsable bodies give an empty `ErrorBody`.
#[test]
fn parse_error_body_seeds_replay_without_panics() {
    replay("parse_error_body", 5, Rejects::RefusedByParser, |data| {
        ErrorBody::parse(data).message.is_some()
    });
}

/// `fuzz/fuzz_targets/normalize_base_url.rs`.
#[test]
fn normalize_base_url_seeds_replay_without_panics() {
    replay("normalize_base_url", 6, Rejects::RefusedByParser, |data| {
        std::str::from_utf8(data)
            .ok()
            .and_then(|text| normalize_base_url(text).ok())
            .is_some_and(|base| base.ends_with("/api"))
    });
}
