//! Base URLs come from configuration and the environment: normalising must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runbeam_sdk_blocking::fuzzing::normalize_base_url(data);
});
