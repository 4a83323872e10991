//! Authentication configurations.

use serde::{Deserialize, Serialize};

use super::{crud_methods, de, list_methods};

/// An authentication as the API returns it. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Authentication {
    /// The id (a ULID in practice).
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<String>,
    /// The JSON `type`.
    #[serde(default, rename = "type")]
    pub resource_type: Option<String>,
    /// The code.
    #[serde(default)]
    pub code: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The owning team.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub team_id: Option<String>,
    /// The gateway it belongs to.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub gateway_id: Option<String>,
    /// The authentication method (newer servers).
    #[serde(default)]
    pub method: Option<String>,
    /// Options (a string in spec v1.2, an object later).
    #[serde(default)]
    pub options: Option<serde_json::Value>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Body of `create_authentication` / `update_authentication`. `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuthenticationRequest {
    /// The name (required).
    pub name: String,
}

list_methods!(
    Authentication,
    "authentications",
    AUTHENTICATIONS_INDEX,
    list_authentications,
    authentication_pages,
);
crud_methods!(
    Authentication,
    AuthenticationRequest,
    "an authentication",
    AUTHENTICATIONS_SHOW,
    AUTHENTICATIONS_STORE,
    AUTHENTICATIONS_UPDATE,
    AUTHENTICATIONS_DESTROY,
    get_authentication,
    create_authentication,
    update_authentication,
    delete_authentication
);
