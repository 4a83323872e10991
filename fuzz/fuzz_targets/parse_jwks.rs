//! Arbitrary bytes through the JWKS parser: it must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = runbeam_sdk_blocking::jwt::parse_jwks(data);
});
