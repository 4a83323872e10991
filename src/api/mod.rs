//! The Runbeam API resources and operations. (Being built: issue 3.)

mod error;

pub use error::ApiError;
