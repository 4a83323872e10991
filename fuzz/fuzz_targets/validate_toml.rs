//! A caller's schema and a configuration are both untrusted here: checking must never
//! panic, and every error stays bounded (kept failures, report length).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runbeam_sdk_blocking::fuzzing::validate_toml(data);
});
