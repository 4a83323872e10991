//! The HTTP plumbing shared by the API client and the JWKS fetcher: one ureq agent
//! configuration, built in one place.

use std::time::Duration;

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
/// unless `use_env_proxy`.
pub(crate) fn build_agent(timeouts: Timeouts, use_env_proxy: bool) -> ureq::Agent {
    agent_config(timeouts, use_env_proxy).build().into()
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
