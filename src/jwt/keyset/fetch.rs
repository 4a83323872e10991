//! The one network call of the verifier: GET a JWKS document.

use std::time::Duration;

use ureq::tls::Certificate;

use super::freshness::{Freshness, Validators};
use crate::http::{build_agent, Agents, Timeouts};
use crate::jwt::error::JwtError;
use crate::jwt::jwks::{parse_jwks_with_policy, JwkSet};
use crate::jwt::rs256::KeyPolicy;

/// Largest JWKS response body read, in bytes.
pub(crate) const MAX_JWKS_BYTES: u64 = 256 * 1024;
/// Timeouts of a JWKS request.
pub(crate) const FETCH_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    global: Duration::from_secs(10),
};

/// The agents key sets are fetched with: remote issuers through the proxy the environment
/// names (as the API client does), loopback ones directly. TLS trusts `roots` when given,
/// else the bundled roots. Reads the proxy environment once, now.
pub(crate) fn fetch_agents(roots: Option<&[Certificate<'static>]>) -> Agents {
    Agents::new(true, |proxy| build_agent(FETCH_TIMEOUTS, proxy, roots))
}

/// A key set as the server sent it, parsed.
pub(crate) struct NewSet {
    pub set: JwkSet,
    /// The exact body, for the persistent cache.
    pub raw: Vec<u8>,
    pub validators: Validators,
    pub freshness: Freshness,
}

/// What a (conditional) key-set request gave.
pub(crate) enum Fetched {
    /// `200` with a valid key set.
    New(Box<NewSet>),
    /// `304`: the set revalidated with `known` is still current.
    NotModified(Freshness),
}

/// Fetches and parses the key set at `url` within `timeout`: redirects refused, status 200
/// only (or 304 when `known` validators were sent), body capped. These are set per request,
/// so they hold for a caller's agent too.
pub(crate) fn fetch_jwks(
    agent: &ureq::Agent,
    url: &str,
    policy: &KeyPolicy,
    known: Option<&Validators>,
    timeout: Duration,
) -> Result<Fetched, JwtError> {
    let mut request = agent
        .get(url)
        .config()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .header("Accept", "application/json, application/jwk-set+json");
    let known = known.filter(|known| !known.is_empty());
    if let Some(known) = known {
        if let Some(etag) = &known.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(date) = &known.last_modified {
            request = request.header("If-Modified-Since", date);
        }
    }
    let mut response = request.call().map_err(|err| transport_error(url, err))?;
    let headers = response.headers();
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let freshness = Freshness::from_cache_control(
        headers
            .get_all("cache-control")
            .iter()
            .filter_map(|value| value.to_str().ok()),
    )
    .aged(header("age"));
    let validators = Validators {
        etag: Validators::header_value(header("etag")),
        last_modified: Validators::header_value(header("last-modified")),
    };
    let status = response.status().as_u16();
    match status {
        // A 304 only answers a conditional request; otherwise it is a server error.
        304 if known.is_some() => return Ok(Fetched::NotModified(freshness)),
        200 => {}
        _ => {
            return Err(JwtError::JwksStatus {
                url: url.to_owned(),
                status,
            })
        }
    }
    let raw = response
        .body_mut()
        .with_config()
        .limit(MAX_JWKS_BYTES)
        .read_to_vec()
        .map_err(|err| transport_error(url, err))?;
    let set = parse_jwks_with_policy(&raw, policy)?;
    Ok(Fetched::New(Box::new(NewSet {
        set,
        raw,
        validators,
        freshness,
    })))
}

fn transport_error(url: &str, err: ureq::Error) -> JwtError {
    match err {
        ureq::Error::Timeout(_) => JwtError::JwksTimeout(url.to_owned()),
        ureq::Error::BodyExceedsLimit(_) => JwtError::JwksTooLarge(url.to_owned()),
        other => JwtError::JwksFetch {
            url: url.to_owned(),
            cause: crate::NetworkCause::of(&other),
            error: std::sync::Arc::new(other),
        },
    }
}
