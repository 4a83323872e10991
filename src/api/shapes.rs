//! Shapes without an endpoint: configuration types the async upstream exports (0.8–0.11) that
//! no method of this client takes or returns — peers and targets, rules, the Runbeam resource,
//! TCP settings, a whole gateway's configuration and Harmony's
//! `[provider.runbeam]` table. They exist so ported code that builds, parses or stores them
//! keeps compiling (they are re-exported at the crate root, as upstream has them). Lenient
//! like the rest: unknown fields ignored, ids as strings or numbers.

use serde::{Deserialize, Serialize};

use super::{
    de, Authentication, Backend, ConnectionConfig, Endpoint, Gateway, Middleware, Network,
    Pipeline, Policy, Service, Transform,
};

/// Where a [`Network`] listens (JSON `tcp_config`; older servers send `http`).
pub type TcpConfig = super::NetworkHttp;

/// A peer (who calls a gateway) or a [`Target`] (whom a gateway calls): one shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Peer {
    /// The JSON `type`.
    #[serde(default, rename = "type")]
    pub resource_type: String,
    /// The id.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<String>,
    /// The code.
    #[serde(default)]
    pub code: String,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The owning team.
    #[serde(default, deserialize_with = "de::id_or_empty")]
    pub team_id: String,
    /// The gateway it belongs to.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub gateway_id: Option<String>,
    /// How to reach it.
    #[serde(default)]
    pub connection: Option<ConnectionConfig>,
    /// Protocol.
    #[serde(default)]
    pub protocol: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether it is on.
    #[serde(default, deserialize_with = "de::opt_flag")]
    pub enabled: Option<bool>,
    /// A reference to its authentication.
    #[serde(default)]
    pub authentication: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Timeout in seconds.
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub timeout_secs: Option<u32>,
    /// Retries.
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub max_retries: Option<u32>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Whom a gateway calls: the same shape as a [`Peer`].
pub type Target = Peer;

/// A policy rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rule {
    /// The JSON `type`.
    #[serde(default, rename = "type")]
    pub resource_type: String,
    /// The id.
    #[serde(default, deserialize_with = "de::id_or_empty")]
    pub id: String,
    /// The code.
    #[serde(default)]
    pub code: String,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// What the rule does, e.g. `rate_limit`.
    #[serde(default)]
    pub rule_type: String,
    /// The owning team.
    #[serde(default, deserialize_with = "de::id_or_empty")]
    pub team_id: String,
    /// The gateway it belongs to.
    #[serde(default, deserialize_with = "de::id_or_empty")]
    pub gateway_id: String,
    /// Its weight among rules.
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub weight: Option<u32>,
    /// Whether it is on.
    #[serde(default, deserialize_with = "de::opt_flag")]
    pub enabled: Option<bool>,
    /// Options (any JSON).
    #[serde(default)]
    pub options: Option<serde_json::Value>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// The Runbeam resource of a gateway: how it talks to Runbeam Cloud.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Runbeam {
    /// The JSON `type`.
    #[serde(default, rename = "type")]
    pub resource_type: String,
    /// The id.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<String>,
    /// The code.
    #[serde(default)]
    pub code: String,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The owning team.
    #[serde(default, deserialize_with = "de::id_or_empty")]
    pub team_id: String,
    /// The gateway it belongs to.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub gateway_id: Option<String>,
    /// Whether it is on.
    #[serde(default, deserialize_with = "de::opt_flag")]
    pub enabled: Option<bool>,
    /// The Cloud API base URL.
    #[serde(default)]
    pub cloud_api_base_url: Option<String>,
    /// Seconds between polls.
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub poll_interval_secs: Option<u32>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A whole gateway's configuration: the gateway and every family (each empty when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GatewayConfiguration {
    /// The gateway.
    pub gateway: Gateway,
    /// Its peers.
    #[serde(default)]
    pub peers: Vec<Peer>,
    /// Its targets.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// Its services.
    #[serde(default)]
    pub services: Vec<Service>,
    /// Its endpoints.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Its backends.
    #[serde(default)]
    pub backends: Vec<Backend>,
    /// Its pipelines.
    #[serde(default)]
    pub pipelines: Vec<Pipeline>,
    /// Its middlewares.
    #[serde(default)]
    pub middlewares: Vec<Middleware>,
    /// Its transforms.
    #[serde(default)]
    pub transforms: Vec<Transform>,
    /// Its policies.
    #[serde(default)]
    pub policies: Vec<Policy>,
    /// Its rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Its networks.
    #[serde(default)]
    pub networks: Vec<Network>,
    /// Its authentications.
    #[serde(default)]
    pub authentications: Vec<Authentication>,
    /// Its Runbeam resource.
    #[serde(default)]
    pub runbeam: Option<Runbeam>,
}

/// Harmony's `[provider.runbeam]` table: where and how often a gateway asks Runbeam.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// The API URL; the gateway's configured one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// Whether the provider is used. Defaults to `true`.
    #[serde(default = "de::yes")]
    pub enabled: bool,
    /// Seconds between polls. Defaults to 30.
    #[serde(default = "default_poll_interval")]
    pub poll_interval_secs: u32,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            api: None,
            enabled: true,
            poll_interval_secs: default_poll_interval(),
        }
    }
}

fn default_poll_interval() -> u32 {
    30
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn peers_rules_and_the_runbeam_resource_read_the_reference_shapes() {
        let peer: Target = serde_json::from_value(json!({"type": "target", "id": 5,
            "code": "lab", "name": "Lab", "team_id": "t1",
            "connection": {"host": "lab.example", "port": "8443", "protocol": "https", "base_path": "/fhir"},
            "authentication": "runbeam.t1.id.A1", "tags": ["x"], "timeout_secs": 30,
            "max_retries": 3, "enabled": 1, "surprise": true}))
        .unwrap();
        assert_eq!(peer.id.as_deref(), Some("5"));
        let conn = peer.connection.unwrap();
        assert_eq!(
            (conn.host.as_deref(), conn.port),
            (Some("lab.example"), Some(8443))
        );
        assert_eq!((peer.enabled, peer.max_retries), (Some(true), Some(3)));

        let rule: Rule = serde_json::from_value(json!({"type": "rule", "id": "r1",
            "code": "rate_limit_rule_1", "rule_type": "rate_limit", "team_id": "t1",
            "gateway_id": 9, "weight": 10, "options": {"per_minute": 60}}))
        .unwrap();
        assert_eq!((rule.gateway_id.as_str(), rule.weight), ("9", Some(10)));

        let runbeam: Runbeam = serde_json::from_value(json!({"type": "runbeam", "code": "rb",
            "name": "Runbeam", "team_id": "t1", "cloud_api_base_url": "https://api.runbeam.io",
            "poll_interval_secs": 30}))
        .unwrap();
        assert_eq!(runbeam.poll_interval_secs, Some(30));
    }

    #[test]
    fn a_gateway_configuration_fills_absent_families_and_reads_new_fields() {
        let config: GatewayConfiguration = serde_json::from_value(json!({
            "gateway": {"id": 1, "code": "edge-1", "name": "Edge"},
            "endpoints": [{"id": "e1", "peer_ref": "lab", "connection": {"port": 443},
                           "authentication": "jwt_auth", "options": {"a": 1}}],
            "backends": [{"id": "b1", "target_ref": "lab", "max_retries": 2}],
            "middlewares": [{"id": "m1", "authentication": "jwt_auth"}],
            "policies": [{"id": "p1", "rules": ["rate_limit_rule_1", "rate_limit_rule_2"]}],
            "networks": [{"id": "n1", "tcp_config": {"bind_address": "0.0.0.0", "bind_port": 8080}},
                         {"id": "n2", "http": {"bind_port": 9090}}],
            "authentications": [{"id": "a1", "method": "jwt",
                                 "options": {"issuer": "https://auth.example.com"}}],
            "runbeam": {"code": "rb", "name": "Runbeam", "team_id": "t1"}
        }))
        .unwrap();
        assert_eq!(config.gateway.code.as_deref(), Some("edge-1"));
        assert!(config.peers.is_empty() && config.rules.is_empty() && config.services.is_empty());
        assert_eq!(config.endpoints[0].peer_ref.as_deref(), Some("lab"));
        assert_eq!(
            config.endpoints[0].connection.as_ref().unwrap().port,
            Some(443)
        );
        assert_eq!(config.backends[0].max_retries, Some(2));
        assert_eq!(
            config.middlewares[0].authentication.as_deref(),
            Some("jwt_auth")
        );
        assert_eq!(
            config.policies[0].rule_refs(),
            ["rate_limit_rule_1", "rate_limit_rule_2"]
        );
        let ports: Vec<_> = config
            .networks
            .iter()
            .map(|n| n.http.as_ref().unwrap().bind_port)
            .collect();
        assert_eq!(ports, [Some(8080), Some(9090)]);
        assert_eq!(config.authentications[0].method.as_deref(), Some("jwt"));
        assert_eq!(
            config.authentications[0].options.as_ref().unwrap()["issuer"],
            "https://auth.example.com"
        );
        // Round trip: what it writes reads back the same.
        let again: GatewayConfiguration =
            serde_json::from_value(serde_json::to_value(&config).unwrap()).unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn provider_config_defaults() {
        let c: ProviderConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, ProviderConfig::default());
        assert_eq!((c.enabled, c.poll_interval_secs, c.api), (true, 30, None));
    }
}
