//! Transforms.

use serde::{Deserialize, Serialize};

use super::{crud_methods, de, list_methods};

/// A transform as the API returns it. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transform {
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
    /// Its options.
    #[serde(default)]
    pub options: Option<TransformOptions>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Body of `create_transform` / `update_transform`. `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransformRequest {
    /// The name (required).
    pub name: String,
    /// The transform instructions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

list_methods!(
    Transform,
    "transforms",
    TRANSFORMS_INDEX,
    list_transforms,
    transform_pages,
);
crud_methods!(
    Transform,
    TransformRequest,
    "a transform",
    TRANSFORMS_SHOW,
    TRANSFORMS_STORE,
    TRANSFORMS_UPDATE,
    TRANSFORMS_DESTROY,
    get_transform,
    create_transform,
    update_transform,
    delete_transform
);

/// `options` of a [`Transform`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransformOptions {
    /// The transform instructions.
    #[serde(default)]
    pub instructions: Option<String>,
}
