//! The stored machine-token decoder (JSON shape + RFC 3339 expiry) on arbitrary bytes: it
//! returns a token or the typed `Corrupt` error, never panics.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runbeam_sdk_blocking::fuzzing::stored_token(data);
});
