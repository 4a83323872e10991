//! [`MessageResponse`]: the `{"message": ...}` answer of deletes and revocations.

use serde::{Deserialize, Serialize};

/// A `{"message": "..."}` answer (deletes, revoke).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageResponse {
    /// The server's message, e.g. `"Gateway deleted successfully"`.
    #[serde(default)]
    pub message: Option<String>,
}
