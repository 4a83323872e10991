//! Numbers a server sends (Retry-After, paging meta, page links): no panic, no wait past the
//! retry budget, no list that fails to advance.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runbeam_sdk_blocking::fuzzing::server_numbers(data);
});
