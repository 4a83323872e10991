//! Base URLs come from configuration and the environment: normalising must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &str| {
    if let Ok(base) = runbeam_sdk_blocking::client::normalize_base_url(data) {
        assert!(base.ends_with("/api"));
    }
});
