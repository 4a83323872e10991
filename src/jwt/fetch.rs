//! The one network call of the verifier: GET a JWKS document.

use super::error::JwtError;
use super::jwks::{parse_jwks_with_policy, JwkSet};
use super::rs256::KeyPolicy;

/// Largest JWKS response body read, in bytes.
pub(crate) const MAX_JWKS_BYTES: u64 = 256 * 1024;

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
            reason: other.to_string(),
        },
    }
}
