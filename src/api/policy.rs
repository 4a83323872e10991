//! Policies.

use serde::{Deserialize, Serialize};

use super::{crud_methods, de, list_methods};

/// A policy as the API returns it. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Policy {
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
    /// Whether it is enabled (the API sends 0/1).
    #[serde(default, deserialize_with = "de::opt_flag")]
    pub enabled: Option<bool>,
    /// The owning team.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub team_id: Option<String>,
    /// The gateway it belongs to.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub gateway_id: Option<String>,
    /// Its rules: an array, of rule references on newer servers (see
    /// [`rule_refs`](Self::rule_refs)).
    #[serde(default)]
    pub rules: Option<serde_json::Value>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl Policy {
    /// The rule references in [`rules`](Self::rules) (e.g. `["rate_limit_rule_1"]`): its
    /// string entries, in order; empty when it is not an array.
    pub fn rule_refs(&self) -> Vec<&str> {
        match &self.rules {
            Some(serde_json::Value::Array(rules)) => {
                rules.iter().filter_map(serde_json::Value::as_str).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// Body of `create_policy` / `update_policy`. `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicyRequest {
    /// The name (required).
    pub name: String,
    /// Whether it is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

list_methods!(
    Policy,
    "policies",
    POLICIES_INDEX,
    list_policies,
    policy_pages,
);
crud_methods!(
    Policy,
    PolicyRequest,
    "a policy",
    POLICIES_SHOW,
    POLICIES_STORE,
    POLICIES_UPDATE,
    POLICIES_DESTROY,
    get_policy,
    create_policy,
    update_policy,
    delete_policy
);
