//! Helpers shared by the test binaries; one file per area. Each binary includes all of them
//! but uses only its own area's, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod bounded;
pub mod chain;
pub mod child;
pub mod hostile;
pub mod jwt;
#[cfg(feature = "keyring")]
pub mod secret_service;
// The client helpers need the fake server.
#[cfg(feature = "testing")]
pub mod client;
#[cfg(feature = "encrypted-files")]
pub mod storage;
pub mod switchable;
pub mod tls;
#[cfg(unix)]
pub mod users;
