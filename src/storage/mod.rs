//! Token storage backends. (Being built: issue 4.)

mod error;

pub use error::StorageError;
