//! Arbitrary keys and signatures through the RS256 step and through `rsa`'s own verify: the
//! verdicts and the `s^e mod n` values must agree, and nothing may panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runbeam_sdk_blocking::fuzzing::rs256_verify(data);
});
