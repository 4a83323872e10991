//! Routing pipelines.

use serde::{Deserialize, Serialize};

use super::{crud_methods, de, list_methods};

/// A pipeline as the API returns it. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Pipeline {
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
    /// A description (nullable).
    #[serde(default)]
    pub description: Option<String>,
    /// The owning team.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub team_id: Option<String>,
    /// The gateway it belongs to.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub gateway_id: Option<String>,
    /// Networks it listens on.
    #[serde(default)]
    pub networks: Option<Vec<String>>,
    /// Endpoints (object or empty array).
    #[serde(default)]
    pub endpoints: Option<serde_json::Value>,
    /// Backends (object or empty array).
    #[serde(default)]
    pub backends: Option<serde_json::Value>,
    /// Middleware (object or empty array).
    #[serde(default)]
    pub middleware: Option<serde_json::Value>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Body of `create_pipeline` / `update_pipeline`. `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PipelineRequest {
    /// The name (required).
    pub name: String,
    /// The associated service (must exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
}

list_methods!(
    Pipeline,
    "pipelines",
    PIPELINES_INDEX,
    list_pipelines,
    pipeline_pages,
);
crud_methods!(
    Pipeline,
    PipelineRequest,
    "a pipeline",
    PIPELINES_SHOW,
    PIPELINES_STORE,
    PIPELINES_UPDATE,
    PIPELINES_DESTROY,
    get_pipeline,
    create_pipeline,
    update_pipeline,
    delete_pipeline
);
