//! Helpers shared by the test binaries; one file per area.
pub mod jwt;
// The client helpers need the fake server.
#[cfg(feature = "testing")]
pub mod client;
