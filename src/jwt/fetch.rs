//! The one network call of the verifier: GET a JWKS document.

use std::time::Duration;

use super::error::JwtError;
use super::jwks::{parse_jwks_with_policy, JwkSet};
use super::rs256::KeyPolicy;
use crate::http::{build_agent, Timeouts};

/// Largest JWKS response body read, in bytes.
pub(crate) const MAX_JWKS_BYTES: u64 = 256 * 1024;
/// Timeouts of a JWKS request.
pub(crate) const FETCH_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    global: Duration::from_secs(10),
};

/// The agents key sets are fetched with: remote issuers through the proxy the environment
/// names (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, as the API client does), loopback ones
/// directly. Cheap to clone (agents share their pools).
#[derive(Clone)]
pub(crate) struct FetchAgents {
    proxied: ureq::Agent,
    direct: ureq::Agent,
}

impl FetchAgents {
    /// Reads the proxy environment once, now.
    pub(crate) fn new() -> Self {
        Self {
            proxied: build_agent(FETCH_TIMEOUTS, true),
            direct: build_agent(FETCH_TIMEOUTS, false),
        }
    }

    /// The agent for a JWKS URL on a loopback host (`direct`) or not.
    pub(crate) fn get(&self, direct: bool) -> &ureq::Agent {
        if direct {
            &self.direct
        } else {
            &self.proxied
        }
    }
}

/// Fetches and parses the key set at `url`: redirects refused, status 200 only, body capped.
pub(crate) fn fetch_jwks(
    agent: &ureq::Agent,
    url: &str,
    policy: &KeyPolicy,
) -> Result<JwkSet, JwtError> {
    let response = agent
        .get(url)
        .config()
        .max_redirects(0)
        .build()
        .header("Accept", "application/json, application/jwk-set+json")
        .call();
    let mut response = response.map_err(|err| transport_error(url, err))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(JwtError::JwksStatus {
            url: url.to_owned(),
            status,
        });
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_JWKS_BYTES)
        .read_to_vec()
        .map_err(|err| transport_error(url, err))?;
    parse_jwks_with_policy(&body, policy)
}

fn transport_error(url: &str, err: ureq::Error) -> JwtError {
    match err {
        ureq::Error::Timeout(_) => JwtError::JwksTimeout(url.to_owned()),
        ureq::Error::BodyExceedsLimit(_) => JwtError::JwksTooLarge(url.to_owned()),
        other => JwtError::JwksFetch {
            url: url.to_owned(),
            source: std::sync::Arc::new(other),
        },
    }
}
