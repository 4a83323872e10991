//! Networks (the spec has no list operation).

use serde::{Deserialize, Serialize};

use super::{crud_methods, de};

/// A network as the API returns it. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Network {
    /// The id (a ULID in practice).
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<String>,
    /// The JSON `type`.
    #[serde(default, rename = "type")]
    pub resource_type: Option<String>,
    /// The code (dropped by spec v1.2).
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
    /// Whether WireGuard is enabled.
    #[serde(default, deserialize_with = "de::opt_flag")]
    pub enable_wireguard: Option<bool>,
    /// The network interface.
    #[serde(default)]
    pub interface: Option<String>,
    /// Where it listens.
    #[serde(default, alias = "tcp_config")]
    pub http: Option<NetworkHttp>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Body of `create_network` / `update_network`. `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetworkRequest {
    /// The name (required).
    pub name: String,
    /// Whether WireGuard is enabled (required).
    pub enable_wireguard: bool,
    /// The network interface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// The address to bind (required).
    pub bind_address: String,
    /// The port to bind, 1–65535 (required).
    pub bind_port: u16,
}

crud_methods!(
    Network,
    NetworkRequest,
    "a network",
    NETWORKS_SHOW,
    NETWORKS_STORE,
    NETWORKS_UPDATE,
    NETWORKS_DESTROY,
    get_network,
    create_network,
    update_network,
    delete_network
);

/// Where a [`Network`] listens (`http`, called `tcp_config` by newer servers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NetworkHttp {
    /// The bind address.
    #[serde(default)]
    pub bind_address: Option<String>,
    /// The bind port.
    #[serde(default)]
    pub bind_port: Option<u16>,
}
