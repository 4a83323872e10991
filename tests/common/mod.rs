//! Helpers shared by the test binaries; one file per area.
pub mod storage;
