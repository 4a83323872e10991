//! Gateway change management: the base URL and the change queue (`/api/gateway/...`).

use serde::{Deserialize, Serialize};

use super::{de, list_methods, ops};
use crate::{RunbeamClient, RunbeamError};

/// A configuration change for a gateway.
///
/// Accepts both the 0.4.0 shape (`operation`, `resourceType`, `resource_id`, `payload`,
/// `error`) and the later one (`pipeline_id`, `toml_config`, `metadata`, `*_at`,
/// `error_message`, `error_details`); every field but `id` is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Change {
    /// The change's id.
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    /// The JSON `type`.
    #[serde(default, rename = "type")]
    pub resource_type: Option<String>,
    /// The gateway it is for.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub gateway_id: Option<String>,
    /// `pending` → `acknowledged` → `applied` | `failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// (0.4.0) `create`, `update` or `delete`.
    #[serde(default)]
    pub operation: Option<String>,
    /// (0.4.0) The kind of resource changed (JSON `resourceType`).
    #[serde(default, rename = "resourceType")]
    pub change_resource_type: Option<String>,
    /// (0.4.0) The id of the resource changed.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub resource_id: Option<String>,
    /// (0.4.0) The new state of the resource.
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
    /// (0.4.0) Why applying failed.
    #[serde(default)]
    pub error: Option<String>,
    /// (later) The pipeline it is for.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub pipeline_id: Option<String>,
    /// (later) The TOML configuration to apply.
    #[serde(default)]
    pub toml_config: Option<String>,
    /// (later) Free-form metadata.
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// (later) Why applying failed.
    #[serde(default)]
    pub error_message: Option<String>,
    /// (later) Details of the failure.
    #[serde(default)]
    pub error_details: Option<serde_json::Value>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// (later) When it was acknowledged.
    #[serde(default)]
    pub acknowledged_at: Option<String>,
    /// (later) When it was applied.
    #[serde(default)]
    pub applied_at: Option<String>,
    /// (later) When it failed.
    #[serde(default)]
    pub failed_at: Option<String>,
}

/// The answer to [`RunbeamClient::get_base_url`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BaseUrlResponse {
    /// The API base URL the gateway should use.
    pub base_url: String,
    /// Path of the change routes (newer servers).
    #[serde(default)]
    pub changes_path: Option<String>,
    /// Full URL of the change routes (newer servers).
    #[serde(default)]
    pub full_url: Option<String>,
}

/// The answer to [`RunbeamClient::acknowledge_changes`]. Older servers only send a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AcknowledgeChangesResponse {
    /// Ids acknowledged.
    #[serde(default)]
    pub acknowledged: Vec<String>,
    /// Ids that could not be acknowledged.
    #[serde(default)]
    pub failed: Vec<String>,
    /// A message.
    #[serde(default)]
    pub message: Option<String>,
}

/// The answer to [`RunbeamClient::mark_change_applied`] / [`RunbeamClient::mark_change_failed`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChangeStatusResponse {
    /// Whether the server recorded it.
    #[serde(default)]
    pub success: Option<bool>,
    /// A message.
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Serialize)]
struct AcknowledgeRequest {
    change_ids: Vec<String>,
}

#[derive(Serialize)]
struct FailedRequest {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Vec<String>>,
}

list_methods!(
    Change,
    "changes",
    CHANGES_INDEX,
    list_changes,
    list_changes_page,
    list_all_changes,
    change_pages
);

impl RunbeamClient {
    /// The base URL a gateway should use (`GET /api/gateway/base-url`).
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the reason.
    pub fn get_base_url(&self, token: &str) -> Result<BaseUrlResponse, RunbeamError> {
        self.call(&ops::GATEWAY_BASE_URL, token, &[], None::<&()>)
    }

    /// One change (`GET /api/gateway/changes/{change}`).
    ///
    /// # Errors
    /// [`RunbeamError::Api`]; `is_not_found()` for an unknown id.
    pub fn get_change(&self, token: &str, id: &str) -> Result<Change, RunbeamError> {
        self.call_data(&ops::CHANGES_SHOW, token, &[id], None::<&()>)
    }

    /// Acknowledges changes (`POST /api/gateway/changes/acknowledge`).
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the reason.
    pub fn acknowledge_changes(
        &self,
        token: &str,
        change_ids: Vec<String>,
    ) -> Result<AcknowledgeChangesResponse, RunbeamError> {
        let body = AcknowledgeRequest { change_ids };
        self.call(&ops::CHANGES_ACKNOWLEDGE, token, &[], Some(&body))
    }

    /// Reports a change as applied (`POST /api/gateway/changes/{change}/applied`).
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the reason.
    pub fn mark_change_applied(
        &self,
        token: &str,
        id: &str,
    ) -> Result<ChangeStatusResponse, RunbeamError> {
        self.call(&ops::CHANGES_APPLIED, token, &[id], None::<&()>)
    }

    /// Reports a change as failed (`POST /api/gateway/changes/{change}/failed`); `details`
    /// is left out of the body when `None`.
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the reason.
    pub fn mark_change_failed(
        &self,
        token: &str,
        id: &str,
        error: impl Into<String>,
        details: Option<Vec<String>>,
    ) -> Result<ChangeStatusResponse, RunbeamError> {
        let body = FailedRequest {
            error: error.into(),
            details,
        };
        self.call(&ops::CHANGES_FAILED, token, &[id], Some(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_0_4_0_change_shape() {
        let c: Change = serde_json::from_str(
            r#"{"id":"c1","type":"change","gateway_id":"g1","status":"pending","operation":"update",
                "resourceType":"pipeline","resource_id":"p1","payload":{"a":1},"error":null,
                "created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(c.change_resource_type.as_deref(), Some("pipeline"));
        assert_eq!(c.operation.as_deref(), Some("update"));
    }

    #[test]
    fn accepts_the_later_change_shape_with_numeric_ids() {
        let c: Change = serde_json::from_str(
            r#"{"id":7,"status":"failed","type":"pipeline","gateway_id":3,"pipeline_id":"p",
                "toml_config":"[x]","metadata":null,"created_at":"t","failed_at":"t",
                "error_message":"boom","error_details":["a"]}"#,
        )
        .unwrap();
        assert_eq!(c.id, "7");
        assert_eq!(c.gateway_id.as_deref(), Some("3"));
        assert_eq!(c.error_message.as_deref(), Some("boom"));
    }
}
