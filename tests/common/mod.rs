//! Helpers shared by the test binaries; one file per area.
// The client helpers need the fake server.
#[cfg(feature = "testing")]
pub mod client;
