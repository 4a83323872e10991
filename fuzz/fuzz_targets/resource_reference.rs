//! Resource references come from configuration files and the API: parsing must never panic,
//! and whatever parses must print back to itself.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runbeam_sdk_blocking::fuzzing::resource_reference(data);
});
