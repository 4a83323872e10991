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

/// TLS settings: only `roots` as trust anchors when given; else the operating system's
/// trust store with the `platform-verifier` feature, the bundled Mozilla roots without it;
/// no verification at all with `accept_invalid` (the caller has logged the danger).
pub(crate) fn tls_config(
    roots: Option<&[Certificate<'static>]>,
    accept_invalid: bool,
) -> ureq::tls::TlsConfig {
    let mut tls = ureq::tls::TlsConfig::builder();
    match roots {
        Some(roots) => tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(roots)),
        None if cfg!(feature = "platform-verifier") => {
            tls = tls.root_certs(ureq::tls::RootCerts::PlatformVerifier)
        }
        None => {}
    }
    if accept_invalid {
        tls = tls.disable_verification(true);
    }
    tls.build()
}

/// Two agents with the same settings, one through the proxy the environment names
/// (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, ...) and one direct. The choice is made per
/// URL called: a loopback host is never reached through a proxy. Cheap to clone (agents
/// share their pools).
#[derive(Clone)]
pub(crate) struct Agents {
    proxied: ureq::Agent,
    direct: ureq::Agent,
}

impl Agents {
    /// Agents from `build(use_proxy)`; without `use_env_proxy` both are one direct agent.
    pub(crate) fn new(use_env_proxy: bool, build: impl Fn(bool) -> ureq::Agent) -> Self {
        let direct = build(false);
        let proxied = match use_env_proxy {
            true => build(true),
            false => direct.clone(),
        };
        Agents { proxied, direct }
    }

    /// A caller's agent for every URL (its proxy settings are the caller's).
    pub(crate) fn caller(agent: ureq::Agent) -> Self {
        Agents {
            proxied: agent.clone(),
            direct: agent,
        }
    }

    /// The agent for a URL whose host is loopback (`true`) or not.
    pub(crate) fn for_host(&self, loopback: bool) -> &ureq::Agent {
        match loopback {
            true => &self.direct,
            false => &self.proxied,
        }
    }
}

/// The certificates of `pem` (one or more PEM `CERTIFICATE` blocks, e.g. a company CA), for
/// [`tls_config`], each checked to be an X.509 certificate usable as a trust anchor. A
/// private key among them is ignored, never used.
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
            // Parsed now, as a trust anchor, so a block that is not an X.509 certificate is
            // refused here rather than failing every handshake later.
            let der = rustls::pki_types::CertificateDer::from(cert.der());
            rustls::RootCertStore::empty()
                .add(der)
                .map_err(|_| invalid("a CERTIFICATE block is not an X.509 certificate"))?;
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
