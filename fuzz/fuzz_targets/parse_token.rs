//! Arbitrary bytes through the compact-JWS parser: it must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = runbeam_sdk_blocking::jwt::UnverifiedToken::parse(text);
    }
});
