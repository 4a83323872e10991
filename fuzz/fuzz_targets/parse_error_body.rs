//! Laravel error bodies come from the network: parsing must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = runbeam_sdk_blocking::api::ErrorBody::parse(data);
});
