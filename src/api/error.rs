//! [`ApiError`]: why an API call failed.

/// Why a Runbeam API call failed. Never contains the bearer token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The server answered with a non-success status.
    #[error("HTTP {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
}
