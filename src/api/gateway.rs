//! Gateways: Harmony gateway instances.

use serde::{Deserialize, Serialize};

use super::{crud_methods, de, list_methods};

/// A gateway as the API returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Gateway {
    /// The gateway's id (a ULID in practice).
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<String>,
    /// The JSON `type` (`"gateway"`).
    #[serde(default, rename = "type")]
    pub resource_type: Option<String>,
    /// The gateway code used by `authorize_gateway`.
    #[serde(default)]
    pub code: Option<String>,
    /// The gateway's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The owning team.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub team_id: Option<String>,
    /// Whether it is enabled.
    #[serde(default, deserialize_with = "de::opt_flag")]
    pub enabled: Option<bool>,
    /// Harmony DSL pipelines path.
    #[serde(default)]
    pub pipelines_path: Option<String>,
    /// Harmony DSL transforms path.
    #[serde(default)]
    pub transforms_path: Option<String>,
    /// JWKS cache duration in hours (1–168).
    #[serde(default)]
    pub jwks_cache_duration_hours: Option<u32>,
    /// Whether the management API is enabled.
    #[serde(default, deserialize_with = "de::opt_flag")]
    pub management_enabled: Option<bool>,
    /// Base path of the management API.
    #[serde(default)]
    pub management_base_path: Option<String>,
    /// Network serving the management API.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub management_network_id: Option<String>,
    /// DNS servers.
    #[serde(default)]
    pub dns: Option<Vec<String>>,
    /// Free-form settings.
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Body of `create_gateway` / `update_gateway`. `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GatewayRequest {
    /// Lowercase, alphanumeric with hyphens/underscores, unique (required).
    pub name: String,
    /// Whether the gateway is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Harmony DSL pipelines path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipelines_path: Option<String>,
    /// Harmony DSL transforms path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transforms_path: Option<String>,
    /// JWKS cache duration in hours (1–168).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_cache_duration_hours: Option<u32>,
    /// Whether the management API is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_enabled: Option<bool>,
    /// Base path of the management API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_base_path: Option<String>,
    /// Network serving the management API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_network_id: Option<String>,
    /// DNS servers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<Vec<String>>,
    /// Settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<Vec<String>>,
}

list_methods!(
    Gateway,
    "gateways",
    GATEWAYS_INDEX,
    list_gateways,
    gateway_pages,
);
crud_methods!(
    Gateway,
    GatewayRequest,
    "a gateway",
    GATEWAYS_SHOW,
    GATEWAYS_STORE,
    GATEWAYS_UPDATE,
    GATEWAYS_DESTROY,
    get_gateway,
    create_gateway,
    update_gateway,
    delete_gateway
);
