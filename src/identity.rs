//! Who a token belongs to: the user and team records shared by JWT claims, the device login
//! answer and stored user tokens.

use serde::{Deserialize, Serialize};

/// A Runbeam user as carried in JWT claims, login responses and stored user tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The user's id (a string; Runbeam ids are ULIDs or numbers rendered as text).
    pub id: String,
    /// The user's e-mail address.
    pub email: String,
    /// The user's display name.
    pub name: String,
}

/// A Runbeam team as carried in JWT claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamInfo {
    /// The team's id.
    pub id: String,
    /// The team's name.
    pub name: String,
}
