//! API endpoints.

use serde::{Deserialize, Serialize};

use super::{crud_methods, de, list_methods};

/// An endpoint as the API returns it. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Endpoint {
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
    /// The URL path it serves.
    #[serde(default)]
    pub path: Option<String>,
    /// The HTTP methods it accepts.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// A reference to the peer it serves (upstream 0.8+).
    #[serde(default)]
    pub peer_ref: Option<String>,
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

/// Body of `create_endpoint` / `update_endpoint`. `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EndpointRequest {
    /// The name (required).
    pub name: String,
    /// The associated service (must exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
}

list_methods!(
    Endpoint,
    "endpoints",
    ENDPOINTS_INDEX,
    list_endpoints,
    endpoint_pages,
);
crud_methods!(
    Endpoint,
    EndpointRequest,
    "an endpoint",
    ENDPOINTS_SHOW,
    ENDPOINTS_STORE,
    ENDPOINTS_UPDATE,
    ENDPOINTS_DESTROY,
    get_endpoint,
    create_endpoint,
    update_endpoint,
    delete_endpoint
);

/// How to reach a peer, target, endpoint or backend.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// Host name or address.
    #[serde(default)]
    pub host: Option<String>,
    /// Port.
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub port: Option<u16>,
    /// Protocol, e.g. `https`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Path prefix.
    #[serde(default)]
    pub base_path: Option<String>,
}
