//! Services on a gateway.

use serde::{Deserialize, Serialize};

use super::{crud_methods, de, list_methods};

/// A service as the API returns it. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Service {
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
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Body of `create_service` / `update_service`. `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceRequest {
    /// The name (required).
    pub name: String,
}

list_methods!(
    Service,
    "services",
    SERVICES_INDEX,
    list_services,
    service_pages,
);
crud_methods!(
    Service,
    ServiceRequest,
    "a service",
    SERVICES_SHOW,
    SERVICES_STORE,
    SERVICES_UPDATE,
    SERVICES_DESTROY,
    get_service,
    create_service,
    update_service,
    delete_service
);
