//! The HTTP plumbing shared by the API client and the JWKS fetcher: one ureq agent
//! configuration, built in one place.

use std::time::Duration;

use ureq::tls::Certificate;

use crate::error::ConfigError;

/// `User-Agent` sent on every request.
pub(crate) const USER_AGENT: &str = concat!("runbeam-sdk-blocking/", env!("CARGO_PKG_VERSION"));

/// Connection timeouts of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// Time allowed to open the TCP (and TLS) connection.
    pub connect: Duration,
    /// Time allowed for a whole request, from sending to the last body byte.
    pub global: Duration,
}

/// Builds an agent: keep-alive pool, the given timeouts, our User-Agent, statuses returned
/// (not turned into errors, so error bodies can be read), no proxy from the environment
/// unless `use_env_proxy`, and TLS trusting `roots` when given (else the bundled roots).
pub(crate) fn build_agent(
    timeouts: Timeouts,
    use_env_proxy: bool,
    roots: Option<&[Certificate<'static>]>,
) -> ureq::Agent {
    agent_config(timeouts, use_env_proxy)
        .tls_config(tls_config(roots, false))
        .build()
        .into()
}

/// TLS settings: only `roots` as trust anchors when given (else the bundled Mozilla roots);
/// no verification at all with `accept_invalid` (the caller has logged the danger).
pub(crate) fn tls_config(
    roots: Option<&[Certificate<'static>]>,
    accept_invalid: bool,
) -> ureq::tls::TlsConfig {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(roots) = roots {
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(roots));
    }
    if accept_invalid {
        tls = tls.disable_verification(true);
    }
    tls.build()
}

/// The certificates of `pem` (one or more PEM `CERTIFICATE` blocks, e.g. a company CA), for
/// [`tls_config`]. A private key among them is ignored, never used.
pub(crate) fn parse_root_certificates(
    pem: &[u8],
    option: &'static str,
) -> Result<Vec<Certificate<'static>>, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidOption {
        option,
        reason: reason.into(),
    };
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        let item = item.map_err(|_| invalid("a PEM block does not parse"))?;
        if let ureq::tls::PemItem::Certificate(cert) = item {
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        return Err(invalid("no PEM CERTIFICATE block found"));
    }
    Ok(certs)
}

/// The configuration [`build_agent`] uses, for callers that add settings (the API client
/// turns redirects off).
pub(crate) fn agent_config(
    timeouts: Timeouts,
    use_env_proxy: bool,
) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    let mut config = ureq::Agent::config_builder()
        .timeout_connect(Some(timeouts.connect))
        .timeout_global(Some(timeouts.global))
        .user_agent(USER_AGENT)
        .http_status_as_error(false);
    if !use_env_proxy {
        config = config.proxy(None);
    }
    config
}
