//! Replays every checked-in fuzz seed through the same entry points as the fuzz targets, so
//! a plain `cargo test` catches a regression on any input the fuzzers found interesting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use runbeam_sdk::jwt::{parse_jwks, UnverifiedToken};

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

/// `fuzz/fuzz_targets/parse_token.rs`.
fn parse_token_target(data: &[u8]) -> Option<bool> {
    std::str::from_utf8(data)
        .ok()
        .map(|text| UnverifiedToken::parse(text).is_ok())
}

/// `fuzz/fuzz_targets/parse_jwks.rs`.
fn parse_jwks_target(data: &[u8]) -> bool {
    parse_jwks(data).is_ok()
}

#[test]
fn parse_token_seeds_replay_without_panics() {
    let seeds = seeds("parse_token");
    assert!(seeds.len() >= 10);
    for (name, data) in &seeds {
        let parsed = parse_token_target(data);
        // Seeds named accept_* are well-formed RS256 tokens and must parse.
        if name.starts_with("accept_") {
            assert_eq!(parsed, Some(true), "{name}");
        }
    }
}

#[test]
fn parse_jwks_seeds_replay_without_panics() {
    let seeds = seeds("parse_jwks");
    assert!(seeds.len() >= 5);
    for (name, data) in &seeds {
        let parsed = parse_jwks_target(data);
        if name == "rfc7517_a1.json" || name == "fixture_jwks.json" {
            assert!(parsed, "{name}");
        }
    }
}
