//! Gateway change management: the base URL and the change queue, on the live
//! `/api/harmony/...` routes or the spec's `/api/gateway/...` ones ([`ChangeRoutes`]).

use serde::{Deserialize, Serialize};

use super::{de, ops, ChangeRoutes, PageIter, PaginatedResponse};
use crate::client::Call;
use crate::client::Redaction;
use crate::{ApiError, RunbeamClient, RunbeamError};

/// A configuration change for a gateway.
///
/// The live shape is primary: `id`, `type`, `gateway_id` and `created_at` always, the
/// configuration in `toml_config`, progress in `status` and the `*_at` times. The 0.4.0
/// shape (`operation`, `resourceType`, `resource_id`, `payload`, `error`) still loads; a
/// field it lacks reads as empty. Ids may be JSON strings or numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Change {
    /// The change's id.
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    /// What the change configures (JSON `type`): `gateway`, `pipeline`, `transform` or
    /// `mesh` on the live API; Harmony dispatches on it.
    #[serde(default, rename = "type")]
    pub resource_type: String,
    /// The gateway it is for.
    #[serde(default, deserialize_with = "de::id_or_empty")]
    pub gateway_id: String,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// `pending`, `acknowledged`, `queued`, `applied` or `failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// The pipeline it is for.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub pipeline_id: Option<String>,
    /// The TOML configuration to apply.
    #[serde(default)]
    pub toml_config: Option<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// When it was acknowledged.
    #[serde(default)]
    pub acknowledged_at: Option<String>,
    /// When it was applied.
    #[serde(default)]
    pub applied_at: Option<String>,
    /// When it failed.
    #[serde(default)]
    pub failed_at: Option<String>,
    /// Why applying failed.
    #[serde(default)]
    pub error_message: Option<String>,
    /// Details of the failure.
    #[serde(default)]
    pub error_details: Option<serde_json::Value>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<String>,
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

impl BaseUrlResponse {
    /// The base URL [`RunbeamClient::discover_base_url`] uses: `full_url` minus its
    /// `changes_path` suffix, else `full_url`, else `base_url`. Pure.
    pub fn discovered_url(&self) -> &str {
        let Some(full) = self.full_url.as_deref().filter(|f| !f.is_empty()) else {
            return &self.base_url;
        };
        self.changes_path
            .as_deref()
            .filter(|p| !p.is_empty())
            .and_then(|p| full.strip_suffix(p))
            .unwrap_or(full)
    }
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

impl RunbeamClient {
    /// The base URL a gateway should use: `GET /api/harmony/base-url`, and on 404
    /// `GET <origin>/harmony/base-url` as upstream does (with [`ChangeRoutes::SpecV1_2`]:
    /// `GET /api/gateway/base-url`, no fallback).
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the reason (the fallback's, when it was tried).
    pub fn get_base_url(&self, token: &str) -> Result<BaseUrlResponse, RunbeamError> {
        let routes = self.change_routes();
        let first = self.call(routes.ops().base_url, token, &[], None::<&()>);
        match first {
            Err(RunbeamError::Api(e)) if e.is_not_found() && routes == ChangeRoutes::Harmony => {
                let call = Call::new(&ops::LIVE_BASE_URL).token(token).at_origin_root();
                self.call_json(call, None::<&()>)
            }
            other => other,
        }
    }

    /// Asks the server which base URL to use ([`get_base_url`](Self::get_base_url)) and
    /// returns a client on it that keeps this client's settings: agent and connection pool,
    /// timeouts, retries, body and page caps, change routes. The URL is `full_url` with its
    /// `changes_path` suffix taken off (the live server sends
    /// `{"base_url":"https://api.runbeam.io","changes_path":"/api/changes","full_url":"https://api.runbeam.io/api/changes"}`),
    /// else `full_url`, else `base_url`.
    ///
    /// # Security
    /// The new client sends your tokens to the host the server named. That URL passes the
    /// same rule as any base URL: HTTPS, or plain HTTP only to a loopback host (or when this
    /// client was built with `dangerous_allow_plain_http`).
    ///
    /// # Errors
    /// As [`get_base_url`](Self::get_base_url);
    /// [`ApiError::DiscoveredUrlRefused`](crate::ApiError::DiscoveredUrlRefused) naming the
    /// refused URL and why.
    pub fn discover_base_url(&self, token: &str) -> Result<RunbeamClient, RunbeamError> {
        let answer = self.get_base_url(token)?;
        let url = answer.discovered_url();
        self.with_base_url(url).map_err(|reason| {
            // Server text may echo the token, in the URL and so in the refused part: the
            // rule is run again on the redacted URL for an error that cannot hold it (a
            // token cut at the error's length limit would escape redaction afterwards).
            let shown = Redaction::new(Some(token), &[]).redact(url);
            let reason = match self.with_base_url(&shown) {
                Err(redacted) => redacted,
                Ok(_) => reason,
            };
            RunbeamError::from(ApiError::DiscoveredUrlRefused {
                url: shown.chars().take(120).collect(),
                reason: Box::new(reason),
            })
        })
    }

    /// Lists the changes of the calling gateway (the first page; `GET /api/harmony/changes`).
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the reason.
    pub fn list_changes(&self, token: &str) -> Result<PaginatedResponse<Change>, RunbeamError> {
        self.list_page(self.change_routes().ops().index, token, &[], None)
    }

    /// Iterates over the pages of the calling gateway's changes (see [`PageIter`]:
    /// `starting_at(n)` for page N, `collect_all()` for every change).
    pub fn change_pages<'a>(&'a self, token: &'a str) -> PageIter<'a, Change> {
        PageIter::new(self, self.change_routes().ops().index, token, None)
    }

    /// Lists the changes of gateway `gateway_id` (the first page;
    /// `GET /api/harmony/changes/{gateway_id}`). The spec has no such route, so this is the
    /// live route whatever [`ChangeRoutes`] says.
    ///
    /// # Errors
    /// [`RunbeamError::Api`]; `is_forbidden()` when the gateway belongs to another team.
    pub fn list_changes_for_gateway(
        &self,
        token: &str,
        gateway_id: &str,
    ) -> Result<PaginatedResponse<Change>, RunbeamError> {
        self.list_page(&ops::LIVE_CHANGES_FOR_GATEWAY, token, &[gateway_id], None)
    }

    /// Iterates over the pages of gateway `gateway_id`'s changes (see [`PageIter`]).
    pub fn change_pages_for_gateway<'a>(
        &'a self,
        token: &'a str,
        gateway_id: &'a str,
    ) -> PageIter<'a, Change> {
        PageIter::new(
            self,
            &ops::LIVE_CHANGES_FOR_GATEWAY,
            token,
            Some(gateway_id),
        )
    }

    /// One change (`GET /api/harmony/change/{id}`, singular).
    ///
    /// # Errors
    /// [`RunbeamError::Api`]; `is_not_found()` for an unknown id.
    pub fn get_change(&self, token: &str, id: &str) -> Result<Change, RunbeamError> {
        self.call_data(self.change_routes().ops().show, token, &[id], None::<&()>)
    }

    /// Acknowledges changes (`POST /api/harmony/changes/acknowledge`).
    ///
    /// # Errors
    /// [`RunbeamError::Api`]; a 422 (`validation_errors()`) when the list is refused.
    pub fn acknowledge_changes(
        &self,
        token: &str,
        change_ids: Vec<String>,
    ) -> Result<AcknowledgeChangesResponse, RunbeamError> {
        let body = AcknowledgeRequest { change_ids };
        let op = self.change_routes().ops().acknowledge;
        self.call(op, token, &[], Some(&body))
    }

    /// Reports a change as applied (`POST /api/harmony/change/{id}/applied`, no body).
    ///
    /// # Errors
    /// [`RunbeamError::Api`]; `is_forbidden()` for a change of another gateway.
    pub fn mark_change_applied(
        &self,
        token: &str,
        id: &str,
    ) -> Result<ChangeStatusResponse, RunbeamError> {
        let op = self.change_routes().ops().applied;
        self.call(op, token, &[id], None::<&()>)
    }

    /// Reports a change as failed (`POST /api/harmony/change/{id}/failed`); `details`
    /// is left out of the body when `None`.
    ///
    /// # Errors
    /// [`RunbeamError::Api`]; a 422 when `error` is empty.
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
        let op = self.change_routes().ops().failed;
        self.call(op, token, &[id], Some(&body))
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
    fn reads_the_live_change_shape() {
        let c: Change = serde_json::from_str(
            r#"{"id":"01k9","status":"queued","type":"gateway","gateway_id":"01k8",
                "toml_config":"[proxy]\nid = \"test\"\n","metadata":{"version":"1.0","author":"admin"},
                "created_at":"2025-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(
            (c.resource_type.as_str(), c.gateway_id.as_str()),
            ("gateway", "01k8")
        );
        assert_eq!(c.created_at, "2025-01-01T00:00:00Z");
        assert_eq!(c.toml_config.as_deref(), Some("[proxy]\nid = \"test\"\n"));
        assert_eq!(c.metadata.unwrap()["author"], "admin");
    }

    #[test]
    fn the_discovered_url_is_full_url_without_the_changes_path_else_base_url() {
        let answer = |full: Option<&str>, path: Option<&str>| BaseUrlResponse {
            base_url: "https://b.example".into(),
            changes_path: path.map(Into::into),
            full_url: full.map(Into::into),
        };
        let live = answer(
            Some("https://api.runbeam.io/api/changes"),
            Some("/api/changes"),
        );
        assert_eq!(live.discovered_url(), "https://api.runbeam.io");
        let other = answer(Some("https://f.example/api"), Some("/elsewhere"));
        assert_eq!(other.discovered_url(), "https://f.example/api");
        assert_eq!(
            answer(None, Some("/x")).discovered_url(),
            "https://b.example"
        );
        assert_eq!(answer(Some(""), None).discovered_url(), "https://b.example");
    }

    #[test]
    fn a_change_without_the_live_fields_still_loads() {
        let c: Change = serde_json::from_str(r#"{"id":1,"gateway_id":null}"#).unwrap();
        assert_eq!(
            (c.resource_type, c.gateway_id, c.created_at),
            Default::default()
        );
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
        assert_eq!(c.gateway_id, "3");
        assert_eq!(c.error_message.as_deref(), Some("boom"));
    }
}
