//! Where a validator's keys come from: a key-set URL (fetched and cached) or a static set
//! given in the options.

use std::fmt;
use std::sync::Arc;

use crate::error::{ConfigError, RunbeamError};
use crate::jwt::jwks::{parse_jwks_with_policy, JwkSet};
use crate::jwt::rs256::KeyPolicy;
use crate::origin::Origin;

/// Where a key set comes from, and its key in the cache (computed once, not per token).
#[derive(Debug, Clone)]
pub(crate) struct KeySource {
    pub url: String,
    pub cache_key: String,
    /// On a loopback host: fetched without any proxy.
    pub direct: bool,
}

impl KeySource {
    pub(crate) fn new(url: String, policy: &KeyPolicy) -> Self {
        // Parsed key sets depend on the key policy, so validators with different policies
        // that share the process-wide cache never share entries.
        let cache_key = format!("{url} {}:{}", policy.max_bits, policy.any_odd_exponent);
        let direct = Origin::parse(&url).is_ok_and(|origin| origin.is_loopback());
        Self {
            url,
            cache_key,
            direct,
        }
    }
}

/// The keys a token is checked against: a set fetched from a URL, or one given in the
/// options (never fetched).
#[derive(Clone)]
pub(crate) enum Keys {
    Remote(KeySource),
    Static(Arc<JwkSet>),
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Remote(source) => f.write_str(&source.url),
            Self::Static(set) => write!(f, "static ({} keys)", set.len()),
        }
    }
}

/// A static key set, parsed and filtered by the key policy once, here. A set without a
/// usable key would reject every token, so it is refused now rather than token by token.
pub(crate) fn static_keys(json: &str, policy: &KeyPolicy) -> Result<Arc<JwkSet>, RunbeamError> {
    let invalid = |reason: String| ConfigError::InvalidOption {
        option: "jwks_json",
        reason,
    };
    let set =
        parse_jwks_with_policy(json.as_bytes(), policy).map_err(|err| invalid(err.to_string()))?;
    if set.is_empty() {
        let skipped = set.skipped();
        return Err(invalid(format!(
            "no usable key ({skipped} skipped by type, use, alg or key policy; a kid shared by two keys is unusable)"
        ))
        .into());
    }
    Ok(Arc::new(set))
}
