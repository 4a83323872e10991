//! # runbeam-sdk-blocking
//!
//! A blocking Rust SDK for the Runbeam Cloud API: an API client on `ureq`, an RS256 JWT
//! verifier with a JWKS cache, and secure token storage (OS keyring or age-encrypted files).
//! No async runtime: every call blocks the calling thread and returns.
//!
//! It is a port of the async [`runbeam-sdk`](https://crates.io/crates/runbeam-sdk) crate,
//! called *upstream* throughout these docs: upstream's token files and keyring entries load
//! here, and its quick start compiles with `.await` and `#[tokio::main]` dropped when this
//! crate is renamed in `Cargo.toml`:
//! `runbeam-sdk = { package = "runbeam-sdk-blocking", version = "0.1" }`.
//!
//! ## Quick start
//!
//! Validate a user's JWT, authorize a gateway, keep its machine token safe:
//!
//! ```no_run
//! use runbeam_sdk_blocking::{load_token, save_token, validate_jwt_token, MachineToken, RunbeamClient};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let user_token = "eyJhbGci...";
//!     let claims = validate_jwt_token(user_token, 24)?;
//!
//!     let client = RunbeamClient::new(claims.api_base_url());
//!     let response = client.authorize_gateway(user_token, "gateway-123", None, None)?;
//!
//!     let instance_id = "my-gateway";
//!     let machine_token = MachineToken::new(
//!         response.machine_token,
//!         response.expires_at,
//!         response.gateway.id,
//!         response.gateway.code,
//!         response.abilities,
//!     );
//!     save_token(instance_id, &machine_token)?;
//!     let loaded: Option<MachineToken> = load_token(instance_id)?;
//!     assert!(loaded.is_some());
//!     Ok(())
//! }
//! ```
//!
//! `examples/quickstart.rs` runs exactly this flow offline against the fake server of the
//! `testing` feature.
//!
//! ## The client
//!
//! [`RunbeamClient`] covers every operation of the Runbeam API. Each method blocks, takes the
//! bearer token first (a user JWT, a Sanctum `{id}|{token}` or a machine token, sent as is) and
//! returns `Result<_, RunbeamError>`. One keep-alive agent is shared by all clones; timeouts and
//! a response size cap are on by default; redirects are never followed, so a token cannot leak
//! to another origin. See [`RunbeamClient`] for the base-URL rule, paging, retries and device login.
//!
//! ## Verifying JWTs
//!
//! [`JwtValidator`] checks RS256 tokens from the issuers you name (trust is a constructor
//! argument); [`validate_jwt_token`] trusts only `RUNBEAM_TRUSTED_ISSUERS` and the origin of
//! `RUNBEAM_API_URL`. Keys are fetched only from configured places, cached per JWKS URL, and
//! parsed once. See the [`jwt`] module for every check and its order.
//!
//! ## Token storage
//!
//! [`save_token`], [`load_token`] and [`clear_token`] keep a [`MachineToken`] (slot `auth`) or a
//! [`UserToken`] (slot `user_auth`) per instance id, in the OS keyring when one answers a real
//! round trip, otherwise in age-encrypted files under `~/.runbeam/<instance>/` (0600 files,
//! atomic writes, directories and key file refused when another user owns or can change
//! them). [`storage::StoreConfig`] and [`storage::TokenStore`] give explicit control; every backend
//! implements [`TokenStorage`]. See [`storage`].
//!
//! No token call waits on a person: a locked keyring (Secret Service) is skipped for the files
//! at once instead of showing an unlock prompt, unless the program opts in to the prompt with a
//! bound on the wait (`StoreConfig::with_keyring_unlock_prompt`, `RUNBEAM_KEYRING_UNLOCK_PROMPT`);
//! a token too large for the platform store (the Windows Credential Manager's 2,560 bytes) goes
//! to the files too.
//!
//! ## Errors
//!
//! Everything returns [`RunbeamError`], whose families ([`JwtError`], [`ApiError`],
//! [`StorageError`], [`ConfigError`], and with the `validation` feature
//! `validation::ValidationError`) say *why* something failed, so callers match on kinds,
//! never on text. No error, `Debug` or log record of this crate contains a token or key:
//! secrets travel in [`Secret`], whose `Debug` prints `[redacted]`.
//!
//! **Logs of the HTTP crates.** At `trace` level the logger targets `ureq_proto::*` dump
//! every request and response raw (bearer tokens, machine and mesh tokens in responses), and
//! `ureq::*` shows request paths (a device token in `check_login`'s) and redirect locations.
//! This crate cannot switch that off: keep the targets `ureq` and `ureq_proto` at `debug` or
//! quieter (e.g. `RUST_LOG=trace,ureq=info,ureq_proto=info`); at `debug` ureq redacts paths
//! and sensitive headers itself.
//!
//! `ureq` is a public dependency: its `Error` is the `source()` of transport failures
//! ([`ApiError::Connect`], [`ApiError::ConnectionLost`], [`ApiError::Transport`],
//! [`JwtError::JwksFetch`]) and [`RunbeamClientBuilder::agent`] takes a `ureq::Agent`, so a
//! breaking ureq release is a breaking release of this crate.
//!
//! ## Environment
//!
//! Every environment variable the SDK reads is read in one place:
//!
//! | variable | read by | meaning |
//! |---|---|---|
//! | `RUNBEAM_API_URL` | [`validate_jwt_token`] | its origin is a trusted JWT issuer |
//! | `RUNBEAM_TRUSTED_ISSUERS` | [`validate_jwt_token`] | comma-separated trusted issuers (origins, or exact URLs with a path) |
//! | `RUNBEAM_ENCRYPTION_KEY` | encrypted file storage | age X25519 identity: `AGE-SECRET-KEY-1…`, its base64, or `age-keygen` output |
//! | `RUNBEAM_DISABLE_KEYRING` | automatic storage selection | any value (even empty): never use the OS keyring |
//! | `RUNBEAM_KEYRING_UNLOCK_PROMPT` | automatic storage selection | whole seconds, 1 to 600: a locked OS keyring (Secret Service) may show the desktop's unlock prompt and be waited for that long; unset, a locked keyring is skipped at once for the files |
//! | `RUNBEAM_MACHINE_TOKEN` | headless pre-provisioning | machine token JSON (`issued_at` optional) |
//! | `RUNBEAM_ACCEPT_INVALID_CERTS` | [`RunbeamClient::new`] only | exactly `true`: TLS certificates of the API are not verified (development hosts; anything else, non-Unicode included, keeps verification on) |
//! | `HOME` (`USERPROFILE` on Windows) | file storage | default directory `~/.runbeam/<instance>/` |
//!
//! A variable that is set but not valid Unicode is an error, never silently ignored.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `keyring` | yes | `KeyringStorage` (Secret Service, Keychain, Credential Manager) |
//! | `encrypted-files` | yes | `EncryptedFileStorage` (age X25519) |
//! | `platform-verifier` | no | TLS trust from the operating system's store instead of the bundled Mozilla roots |
//! | `testing` | no | `testing::FakeRunbeam`, a fake Runbeam server on 127.0.0.1 for your tests |
//! | `validation` | no | `validation`: offline checks of Harmony TOML against the Harmony DSL schemas, validated change apply and configuration push |
//!
//! With `--no-default-features` the crate is the client, the verifier and [`storage::MemoryStorage`].
//!
//! ## Security model
//!
//! Nothing in a token is trusted until its signature checks, except the issuer, which only
//! selects among issuers *you* configured — keys are never fetched from a host a token names.
//! Only RS256 with 2048..=4096-bit keys; strict parsing with size and depth caps. HTTPS is
//! required for key fetches except on loopback. Stored tokens are encrypted or in the OS
//! keyring, never world-readable, and never lost to a torn write.

// docs.rs builds show which feature each gated item needs.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Tests may unwrap: a panic there is a test failure with a location.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

// Declared first, so RunbeamClient's docs open with `new`, `builder` and the base URL.
mod client;
mod clock;

pub mod api;

// Every README code block compiles (and the runnable ones run) as a doctest.
#[cfg(all(
    doctest,
    feature = "testing",
    feature = "keyring",
    feature = "encrypted-files",
    feature = "validation"
))]
#[doc = include_str!("../README.md")]
mod readme {}
mod env;
mod error;
#[cfg(fuzzing)]
pub mod fuzzing;
#[cfg(all(test, not(fuzzing)))]
mod fuzzing;
mod http;
mod identity;
pub mod jwt;
mod network;
mod origin;
mod private_files;
mod reference;
mod secret;
pub mod storage;
#[cfg(test)]
mod test_rng;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
mod token;
#[cfg(feature = "validation")]
#[cfg_attr(docsrs, doc(cfg(feature = "validation")))]
pub mod validation;

pub use client::error::ApiError;
pub use client::{RetryPolicy, RunbeamClient, RunbeamClientBuilder};
pub use error::{ConfigError, RunbeamError};
pub use jwt::claims::JwtClaims;
pub use jwt::error::JwtError;
pub use jwt::options::JwtValidationOptions;
pub use jwt::validator::{
    extract_bearer_token, validate_jwt_token, validate_jwt_token_with_options, JwtValidator,
};
pub use network::NetworkCause;
pub use origin::OriginError;
pub use secret::Secret;
pub use storage::backend::TokenStorage;
pub use storage::error::StorageError;
pub use storage::functions::{
    clear_token, clear_token_as, load_token, load_token_as, provision_machine_token, save_token,
    save_token_as,
};
#[cfg(feature = "encrypted-files")]
pub use storage::functions::{load_token_with_key, save_token_with_key};
#[cfg(feature = "encrypted-files")]
pub use storage::key::EncryptionKey;
pub use token::{MachineToken, UserToken};

// The async upstream exports its resource and identity types at its root; so does this crate,
// so ported code keeps compiling. Each has one definition, under `api`.
#[doc(no_inline)]
pub use api::shapes::{
    GatewayConfiguration, Peer, ProviderConfig, Rule, Runbeam, Target, TcpConfig,
};
#[doc(no_inline)]
pub use api::{
    AcknowledgeChangesResponse, Authentication, AuthorizeResponse, AuthorizedBy, Backend,
    BaseUrlResponse, Change, ChangeStatusResponse, ConfigType, ConnectionConfig, Endpoint, Gateway,
    GatewayInfo, LookupBy, MeshEgressInfo, MeshInfo, MeshIngressInfo, MeshTokenResponse,
    Middleware, Network, PaginatedResponse, PaginationLinks, PaginationMeta, Pipeline, Policy,
    ResolveResourceResponse, ResolvedResource, ResourceReference, ResourceType, Service,
    StoreConfigResponse, TeamInfo, Transform, UserInfo,
};
