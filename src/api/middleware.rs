//! Middlewares.

use serde::{Deserialize, Serialize};

use super::{crud_methods, de, list_methods};

/// A middleware as the API returns it. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Middleware {
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
    /// The kind of middleware.
    #[serde(default)]
    pub middleware_type: Option<String>,
    /// Options (array, string or null).
    #[serde(default)]
    pub options: Option<serde_json::Value>,
    /// A reference to its authentication (upstream 0.8+).
    #[serde(default)]
    pub authentication: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Body of `create_middleware` / `update_middleware`. `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MiddlewareRequest {
    /// The name (required).
    pub name: String,
}

list_methods!(
    Middleware,
    "middlewares",
    MIDDLEWARES_INDEX,
    list_middlewares,
    middleware_pages,
);
crud_methods!(
    Middleware,
    MiddlewareRequest,
    "a middleware",
    MIDDLEWARES_SHOW,
    MIDDLEWARES_STORE,
    MIDDLEWARES_UPDATE,
    MIDDLEWARES_DESTROY,
    get_middleware,
    create_middleware,
    update_middleware,
    delete_middleware
);
