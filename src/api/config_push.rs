//! Pushing configuration to Runbeam: `POST /api/harmony/update`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ops;
use crate::{RunbeamClient, RunbeamError};

/// What a pushed configuration describes; lower-case on the wire (`"gateway"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ConfigType {
    /// A whole gateway's configuration.
    Gateway,
    /// One pipeline.
    Pipeline,
    /// One transform.
    Transform,
    /// One mesh.
    Mesh,
}

impl ConfigType {
    /// Every type, in declaration order.
    pub const ALL: [ConfigType; 4] = [
        ConfigType::Gateway,
        ConfigType::Pipeline,
        ConfigType::Transform,
        ConfigType::Mesh,
    ];

    /// The wire name, e.g. `"gateway"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::Gateway => "gateway",
            ConfigType::Pipeline => "pipeline",
            ConfigType::Transform => "transform",
            ConfigType::Mesh => "mesh",
        }
    }
}

impl fmt::Display for ConfigType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a [`ConfigType`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown configuration type (expected gateway, pipeline, transform or mesh)")]
#[non_exhaustive]
pub struct UnknownConfigType;

impl FromStr for ConfigType {
    type Err = UnknownConfigType;

    /// Parses the wire name exactly (lower case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConfigType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or(UnknownConfigType)
    }
}

/// What the server did with a pushed configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum ConfigAction {
    /// A new resource was made.
    Created,
    /// An existing resource was changed.
    Updated,
    /// A value this crate does not know yet, kept as sent.
    Other(String),
}

impl From<String> for ConfigAction {
    fn from(s: String) -> Self {
        match s.as_str() {
            "created" => ConfigAction::Created,
            "updated" => ConfigAction::Updated,
            _ => ConfigAction::Other(s),
        }
    }
}

impl From<ConfigAction> for String {
    fn from(a: ConfigAction) -> Self {
        match a {
            ConfigAction::Created => "created".into(),
            ConfigAction::Updated => "updated".into(),
            ConfigAction::Other(s) => s,
        }
    }
}

/// The answer to [`RunbeamClient::store_config`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoreConfigResponse {
    /// Whether the server stored it.
    #[serde(default)]
    pub success: bool,
    /// A message, e.g. `"Gateway configuration updated successfully"`.
    #[serde(default)]
    pub message: Option<String>,
    /// The stored resource.
    pub data: StoredConfig,
}

/// The resource a configuration push created or updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredConfig {
    /// Its id.
    #[serde(deserialize_with = "super::de::id")]
    pub id: String,
    /// Its type (JSON `type`), kept as sent.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Created or updated.
    pub action: ConfigAction,
}

#[derive(Serialize)]
struct StoreConfigRequest<'a> {
    #[serde(rename = "type")]
    config_type: ConfigType,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    config: &'a str,
}

impl RunbeamClient {
    /// Pushes a Harmony TOML configuration (`POST /api/harmony/update`): with `id`, updates
    /// that resource; without, the server creates one. `id` is left out of the body when
    /// `None`.
    ///
    /// # Errors
    /// [`RunbeamError::Api`]; `is_not_found()` for an unknown id, a 422
    /// (`validation_errors()`) for a refused configuration.
    pub fn store_config(
        &self,
        token: &str,
        config_type: ConfigType,
        id: Option<&str>,
        config: &str,
    ) -> Result<StoreConfigResponse, RunbeamError> {
        let body = StoreConfigRequest {
            config_type,
            id,
            config,
        };
        self.call(&ops::LIVE_STORE_CONFIG, token, &[], Some(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_types_round_trip_through_their_lower_case_names() {
        for t in ConfigType::ALL {
            assert_eq!(t.to_string().parse::<ConfigType>(), Ok(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!("Gateway".parse::<ConfigType>(), Err(UnknownConfigType));
        assert_eq!("".parse::<ConfigType>(), Err(UnknownConfigType));
    }

    #[test]
    fn an_unknown_action_is_kept() {
        let r: StoreConfigResponse = serde_json::from_str(
            r#"{"success":true,"message":"ok","data":{"id":7,"type":"mesh","action":"merged"}}"#,
        )
        .unwrap();
        assert_eq!(r.data.action, ConfigAction::Other("merged".into()));
        assert_eq!(r.data.id, "7");
        let fixture = r#"{"success": true, "message": "Gateway configuration updated successfully", "data": {"id": "01k9npa4tatmwddk66xxpcr2r0", "type": "gateway", "action": "updated"}}"#;
        let r: StoreConfigResponse = serde_json::from_str(fixture).unwrap();
        assert_eq!(
            (r.data.kind.as_str(), r.data.action),
            ("gateway", ConfigAction::Updated)
        );
    }
}
