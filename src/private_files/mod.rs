//! Private files: directories 0700 and files 0600 that belong to the current user, opened
//! without following a link or waiting on what sits at the path, judged on the opened
//! descriptor, written atomically under a lock, and reached through the directory that was
//! judged. Neither the token storage nor the key-set cache owns this: both use it, and it
//! knows neither. Errors are [`FileError`]; each user maps them into its own.
//!
//! | module | job |
//! |---|---|
//! | `flags` | `open(2)` flags `std` does not name |
//! | `open` | opening a regular file without following a link or blocking |
//! | `trust` | the current user, and whether a directory or file is theirs alone |
//! | `anchored` | a directory opened once, judged, and used through that descriptor: the way in for every file |
//! | `atomic` | creating private directories, replacing and removing files atomically |
//! | `lock` | the lock file that serialises a directory's writers |
//! | `replace` | the rename that replaces a file (retried briefly on Windows) |

mod anchored;
mod atomic;
mod error;
mod flags;
mod lock;
pub(crate) mod open;
mod replace;
mod trust;

pub(crate) use anchored::AnchoredDir;
pub(crate) use atomic::create_private_dir;
pub(crate) use error::{insecure_message, Fault, FileError};
// Public: `storage` re-exports it as the reason in `StorageError::InsecurePermissions`.
pub use error::Insecurity;
pub(crate) use lock::DirLock;
pub(crate) use trust::User;
