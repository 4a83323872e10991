//! The stored machine-token decoder (JSON shape + RFC 3339 expiry) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runbeam_sdk_blocking::MachineToken;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(token) = MachineToken::from_json(text) {
            let _ = (token.expires_at_unix(), token.is_expired(), token.needs_renewal());
        }
    }
});
