//! Backend servers.

use serde::{Deserialize, Serialize};

use super::{crud_methods, de, list_methods};

/// A backend as the API returns it. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Backend {
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
    /// The service it belongs to.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub service_id: Option<String>,
    /// The upstream URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The upstream timeout.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
    /// A reference to the target it sends to (upstream 0.8+).
    #[serde(default)]
    pub target_ref: Option<String>,
    /// Retries towards the target (upstream 0.8+).
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub max_retries: Option<u32>,
    /// How to reach it (upstream 0.8+).
    #[serde(default)]
    pub connection: Option<super::ConnectionConfig>,
    /// A reference to its authentication (upstream 0.8+).
    #[serde(default)]
    pub authentication: Option<String>,
    /// Options (any JSON; upstream 0.8+).
    #[serde(default)]
    pub options: Option<serde_json::Value>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Body of `create_backend` / `update_backend`. `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackendRequest {
    /// The name (required).
    pub name: String,
}

list_methods!(
    Backend,
    "backends",
    BACKENDS_INDEX,
    list_backends,
    backend_pages,
);
crud_methods!(
    Backend,
    BackendRequest,
    "a backend",
    BACKENDS_SHOW,
    BACKENDS_STORE,
    BACKENDS_UPDATE,
    BACKENDS_DESTROY,
    get_backend,
    create_backend,
    update_backend,
    delete_backend
);
