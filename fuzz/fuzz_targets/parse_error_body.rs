//! Laravel error bodies come from the network: parsing must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runbeam_sdk_blocking::fuzzing::parse_error_body(data);
});
