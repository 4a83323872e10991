//! Arbitrary bytes through the quick reader of JWT headers and claims sets and through
//! `serde_json`: wherever the quick reader reads them, both must read the same.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runbeam_sdk_blocking::fuzzing::token_json(data);
});
