//! The one error type of the crate and its `Config` family.
//!
//! [`RunbeamError`] has one variant per layer. Each layer's own enum says *why* something
//! failed, so callers match on the kind, never on text:
//!
//! ```
//! use runbeam_sdk_blocking::{JwtError, RunbeamError};
//!
//! fn describe(err: &RunbeamError) -> &'static str {
//!     match err {
//!         RunbeamError::Jwt(JwtError::Expired) => "the token has expired",
//!         RunbeamError::Jwt(_) => "token rejected",
//!         RunbeamError::Api(_) => "the API call failed",
//!         RunbeamError::Storage(_) => "token storage failed",
//!         _ => "other",
//!     }
//! }
//! # let _ = describe;
//! ```
//!
//! No error message ever contains a token, a signature or key material.

use crate::{ApiError, JwtError, StorageError};

/// Every error the SDK returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunbeamError {
    /// A JWT was rejected or could not be checked.
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// A Runbeam API call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Reading or writing a stored token failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The SDK was configured wrongly (options, environment variables).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A Harmony configuration failed its schema check (boxed: the failures are large and
    /// rare, and `RunbeamError` stays small).
    #[cfg(feature = "validation")]
    #[cfg_attr(docsrs, doc(cfg(feature = "validation")))]
    #[error(transparent)]
    Validation(Box<crate::validation::ValidationError>),
}

#[cfg(feature = "validation")]
impl From<crate::validation::ValidationError> for RunbeamError {
    fn from(error: crate::validation::ValidationError) -> Self {
        RunbeamError::Validation(Box::new(error))
    }
}

/// A configuration value the SDK cannot use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An environment variable is set but its value cannot be used.
    #[error("environment variable {name} is invalid: {reason}")]
    InvalidEnv {
        /// The variable's name, e.g. `RUNBEAM_TRUSTED_ISSUERS`.
        name: &'static str,
        /// Why the value was refused (never the value itself when it is a secret).
        reason: String,
    },
    /// A URL given to the SDK is not usable (wrong scheme, no host, credentials in it, ...).
    #[error("invalid URL: {0}")]
    InvalidUrl(crate::origin::OriginError),
    /// An argument of a checked constructor (e.g.
    /// [`MachineToken::try_new`](crate::MachineToken::try_new)) is unusable.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The argument's name, e.g. `expires_at`.
        field: &'static str,
        /// Why it was refused (never the value).
        reason: &'static str,
    },
    /// A builder option is out of its allowed range or conflicts with another.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option's name, e.g. `leeway_seconds`.
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl From<crate::origin::OriginError> for ConfigError {
    fn from(error: crate::origin::OriginError) -> Self {
        ConfigError::InvalidUrl(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn error_is_send_sync_and_small() {
        assert_send_sync::<RunbeamError>();
        // Keep `Result<T, RunbeamError>` cheap to move around.
        assert!(std::mem::size_of::<RunbeamError>() <= 64);
    }
}
