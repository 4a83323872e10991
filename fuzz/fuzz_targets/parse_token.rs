//! Arbitrary bytes through the compact-JWS parser: it must return, never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runbeam_sdk_blocking::fuzzing::parse_token(data);
});
