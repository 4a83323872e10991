//! Resolving a [`ResourceReference`] through Runbeam (`GET /api/harmony/resources/resolve`).

use serde::{Deserialize, Serialize};

use super::{de, ops};
use crate::client::Call;
use crate::reference::ResourceReference;
use crate::{ApiError, RunbeamClient, RunbeamError};

/// The answer to [`RunbeamClient::resolve_reference`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResolveResourceResponse {
    /// The resource.
    pub data: ResolvedResource,
    /// Who resolved it, when.
    #[serde(default)]
    pub meta: Option<ResolveMeta>,
}

/// `meta` of a [`ResolveResourceResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResolveMeta {
    /// The provider that answered.
    #[serde(default)]
    pub provider: Option<String>,
    /// When (RFC 3339).
    #[serde(default)]
    pub resolved_at: Option<String>,
}

/// A resource a reference resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResolvedResource {
    /// Its type (JSON `type`), kept as sent.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether it is on. Defaults to `true`.
    #[serde(default = "super::de::yes")]
    pub enabled: bool,
    /// Its URLs.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Its team.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub team_id: Option<String>,
    /// Its gateway.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub gateway_id: Option<String>,
    /// Its pipeline.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub pipeline_id: Option<String>,
    /// Its mesh.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub mesh_id: Option<String>,
    /// Its protocol.
    #[serde(default)]
    pub protocol: Option<String>,
    /// `default` or `mesh`.
    #[serde(default)]
    pub mode: Option<String>,
    /// Its backend.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub backend_id: Option<String>,
    /// Its service.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub service_id: Option<String>,
    /// Its endpoint.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub endpoint_id: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// Its provider.
    #[serde(default)]
    pub provider: Option<String>,
    /// How it authenticates.
    #[serde(default)]
    pub auth_type: Option<String>,
}

impl RunbeamClient {
    /// Resolves a reference through Runbeam
    /// (`GET /api/harmony/resources/resolve?ref=<reference>`, percent-encoded). The
    /// reference is parsed first and sent as given; a bad one is an error without I/O.
    ///
    /// # Errors
    /// [`ApiError::InvalidReference`] for a reference that does not parse; otherwise
    /// [`RunbeamError::Api`], `is_not_found()` for an unknown resource, `is_forbidden()` for
    /// another team's.
    pub fn resolve_reference(
        &self,
        token: &str,
        reference: &str,
    ) -> Result<ResolveResourceResponse, RunbeamError> {
        ResourceReference::parse(reference).map_err(ApiError::InvalidReference)?;
        let query = [("ref", reference)];
        let call = Call::new(&ops::LIVE_RESOLVE).token(token).query(&query);
        self.call_json(call, None::<&()>)
    }
}
