//! # runbeam-sdk
//!
//! A blocking Rust SDK for the Runbeam Cloud API: an API client on `ureq`, an RS256 JWT
//! verifier with a JWKS cache, and secure token storage (OS keyring or age-encrypted files).
//! No async runtime: every call blocks the calling thread and returns.
//!
//! (The guided tour grows as the client, verifier and storage land.)
//!
//! ## Verifying JWTs
//!
//! [`JwtValidator`] checks RS256 tokens from the issuers you name (trust is a constructor
//! argument); [`validate_jwt_token`] trusts only `RUNBEAM_TRUSTED_ISSUERS` and the origin of
//! `RUNBEAM_API_URL`. Keys are fetched only from configured places, cached per JWKS URL, and
//! parsed once. See the [`jwt`] module for every check and its order.

// Tests may unwrap: a panic there is a test failure with a location.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod client;
pub mod env;
pub mod error;
mod http;
mod identity;
pub mod jwt;
pub mod origin;
pub mod secret;
pub mod storage;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;

pub use api::{AuthorizeResponse, BearerToken, GatewayInfo, PaginatedResponse};
pub use client::{BaseUrlError, RetryPolicy, RunbeamClient, RunbeamClientBuilder};
pub use error::{ApiError, ConfigError, JwtError, RunbeamError, StorageError};
pub use identity::{TeamInfo, UserInfo};
pub use secret::Secret;

// issue 2: the JWT verifier.
pub use jwt::{
    extract_bearer_token, validate_jwt_token, validate_jwt_token_with_options, Audience, JwtClaims,
    JwtValidationOptions, JwtValidator,
};
// Token storage (issue 4).
#[cfg(feature = "keyring")]
pub use storage::KeyringStorage;
pub use storage::{BackendKind, MemoryStorage, StoreConfig, TokenStorage, TokenStore};
#[cfg(feature = "encrypted-files")]
pub use storage::{EncryptedFileStorage, EncryptionKey};
pub use token::{
    clear_token, clear_token_as, load_token, load_token_as, provision_machine_token, save_token,
    save_token_as, MachineToken, TokenSlot, UserToken,
};
#[cfg(feature = "encrypted-files")]
pub use token::{load_token_with_key, save_token_with_key};
