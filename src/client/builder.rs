//! [`RunbeamClientBuilder`] and the base URL rule.

use std::sync::Arc;
use std::time::Duration;

use super::ChangeRoutes;
use super::{Inner, RetryPolicy, RunbeamClient};
use crate::clock::Clock;
use crate::http::{self, Agents, Timeouts};
use crate::origin::{parse_url, Origin, OriginError};
use crate::ApiError;
use crate::RunbeamError;

/// Why a base URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseUrlError {
    /// The scheme, host or port is not usable.
    #[error(transparent)]
    Origin(#[from] OriginError),
    /// The URL has a path other than `/` or `/api`, or a query or fragment.
    #[error("the base URL must be an origin, optionally followed by /api; remove {extra:?}")]
    Path {
        /// What follows the origin and must go (cut to 64 characters; shown escaped).
        extra: String,
    },
    /// Plain `http` to a host that is not loopback: bearer tokens would cross the network in
    /// clear text. Allowed only through [`RunbeamClientBuilder::dangerous_allow_plain_http`].
    #[error("the base URL must use https (plain http is allowed only for loopback hosts)")]
    InsecureScheme,
}

/// Normalises a base URL to `<origin>/api`.
///
/// The one rule: the URL is an origin (`https://runbeam.io`) optionally followed by `/api`,
/// with or without a trailing slash. Anything else is refused. Pure.
pub(crate) fn normalize_base_url(url: &str) -> Result<String, BaseUrlError> {
    let parsed = parse_url(url.trim())?;
    match parsed.rest {
        "" | "/" | "/api" | "/api/" => Ok(format!("{}/api", parsed.origin)),
        rest => {
            let extra = rest
                .strip_prefix("/api")
                .filter(|r| r.starts_with(['/', '?', '#']))
                .unwrap_or(rest);
            Err(BaseUrlError::Path {
                extra: extra.chars().take(64).collect(),
            })
        }
    }
}

/// [`normalize_base_url`] plus the scheme rule: HTTPS, or plain HTTP to a loopback host
/// (any host with `allow_plain_http`, logged as a warning).
pub(super) fn checked_base_url(url: &str, allow_plain_http: bool) -> Result<String, BaseUrlError> {
    let base = normalize_base_url(url)?;
    let origin = Origin::parse(&base)?;
    if !origin.is_secure_or_loopback() {
        if !allow_plain_http {
            return Err(BaseUrlError::InsecureScheme);
        }
        log::warn!("Runbeam client: plain http to {origin} (dangerous_allow_plain_http); bearer tokens travel unencrypted");
    }
    Ok(base)
}

/// Default time to open a connection.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time for a whole request.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default cap on a response body.
const DEFAULT_BODY_LIMIT: u64 = 10 * 1024 * 1024;

/// Builds a [`RunbeamClient`] with non-default options. Every option has a default; see each
/// setter.
#[derive(Debug, Clone)]
pub struct RunbeamClientBuilder {
    url: String,
    connect_timeout: Duration,
    timeout: Duration,
    body_limit: u64,
    retry: Option<RetryPolicy>,
    agent: Option<ureq::Agent>,
    use_env_proxy: bool,
    allow_plain_http: bool,
    max_pages: u32,
    change_routes: ChangeRoutes,
    accept_invalid_certs: bool,
    /// PEM text as given; parsed by [`build`](Self::build).
    root_certs: Option<Vec<u8>>,
    clock: Clock,
}

impl RunbeamClientBuilder {
    pub(super) fn new(url: String) -> Self {
        RunbeamClientBuilder {
            url,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            body_limit: DEFAULT_BODY_LIMIT,
            retry: None,
            agent: None,
            use_env_proxy: true,
            allow_plain_http: false,
            max_pages: super::paging::DEFAULT_MAX_PAGES,
            change_routes: ChangeRoutes::Harmony,
            accept_invalid_certs: false,
            root_certs: None,
            clock: Clock::Real,
        }
    }

    /// Trusts only the certificates in `pem` (one or more PEM `CERTIFICATE` blocks, e.g. a
    /// company CA) as roots for the API's TLS certificate, instead of the bundled Mozilla
    /// roots (or the operating system's store with the `platform-verifier` feature).
    /// Verification stays on. Defaults to those roots.
    ///
    /// [`build`](Self::build) refuses, with
    /// [`ConfigError::InvalidOption`](crate::ConfigError::InvalidOption), a `pem` without a
    /// certificate, with a block that does not parse or that is no X.509 certificate, and
    /// these roots together with [`agent`](Self::agent) (give that agent the roots) or
    /// [`dangerous_accept_invalid_certs`](Self::dangerous_accept_invalid_certs).
    pub fn root_certificates(mut self, pem: &[u8]) -> Self {
        self.root_certs = Some(pem.to_vec());
        self
    }

    /// Accepts any TLS certificate from the API: self-signed, expired, for another host.
    /// Defaults to off; [`RunbeamClient::new`] turns it on when `RUNBEAM_ACCEPT_INVALID_CERTS`
    /// is exactly `true` (as upstream does), and logs a warning.
    ///
    /// # Security
    /// Anyone on the network path can then pose as the API and read every bearer token the
    /// client sends. Use it only for a local development host (e.g.
    /// `https://runbeam.lndo.site`); for a company CA use
    /// [`root_certificates`](Self::root_certificates) instead.
    pub fn dangerous_accept_invalid_certs(mut self) -> Self {
        self.accept_invalid_certs = true;
        self
    }

    /// Which routes change management (`list_changes`, `get_change`, `acknowledge_changes`,
    /// `mark_change_*`, `get_base_url`) uses. Defaults to [`ChangeRoutes::Harmony`], the live
    /// API; [`ChangeRoutes::SpecV1_2`] for a server that only has the published spec's.
    pub fn change_routes(mut self, routes: ChangeRoutes) -> Self {
        self.change_routes = routes;
        self
    }

    /// Time allowed to open a connection (TCP and TLS). Defaults to 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for a whole request, from sending to the last body byte. Defaults to 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest response body accepted; larger ones fail with [`ApiError::BodyTooLarge`].
    /// Defaults to 10 MiB.
    pub fn body_limit(mut self, bytes: u64) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Retries idempotent requests on 429/502/503/504. Defaults to no retries.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Most pages a page iterator ([`PageIter`](super::paging::PageIter)) fetches before giving up with
    /// [`ApiError::TooManyPages`] (a server that names a next page for ever). Defaults to
    /// 10,000.
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = pages;
        self
    }

    /// Whether proxy settings are read from the environment (`HTTPS_PROXY`, `NO_PROXY`, ...).
    /// Never for a loopback base URL. Defaults to `true`.
    pub fn use_env_proxy(mut self, yes: bool) -> Self {
        self.use_env_proxy = yes;
        self
    }

    /// Allows a plain `http://` base URL for a host that is not loopback (a local development
    /// server such as `http://runbeam.lndo.site`). Defaults to off: such a URL is
    /// [`BaseUrlError::InsecureScheme`].
    ///
    /// # Security
    /// Every request carries a bearer token; over plain HTTP anyone on the path can read and
    /// reuse it. Never enable this for a production API.
    pub fn dangerous_allow_plain_http(mut self) -> Self {
        self.allow_plain_http = true;
        self
    }

    /// Uses `agent` instead of building one (the timeout and proxy options are then the
    /// agent's). The client still refuses redirects and reads error bodies on every request.
    pub fn agent(mut self, agent: ureq::Agent) -> Self {
        self.agent = Some(agent);
        self
    }

    /// Waits and reads deadlines by `clock` (retry back-off, the device-login wait, the change
    /// poller) instead of the real clock, so a test moves time instead of spending it.
    /// Defaults to the real clock.
    #[cfg(feature = "testing")]
    pub fn clock(mut self, clock: &crate::testing::ManualClock) -> Self {
        self.clock = clock.clock();
        self
    }

    /// Builds the client. Every setting is checked here, none at its setter.
    ///
    /// # Errors
    /// [`ApiError::InvalidBaseUrl`] when the URL is not an origin optionally followed by `/api`, or
    /// is plain `http` to a host that is not loopback (see
    /// [`dangerous_allow_plain_http`](Self::dangerous_allow_plain_http));
    /// [`ConfigError::InvalidOption`](crate::ConfigError::InvalidOption) for unusable
    /// [`root_certificates`](Self::root_certificates).
    pub fn build(self) -> Result<RunbeamClient, RunbeamError> {
        let roots = match &self.root_certs {
            None => None,
            Some(_) if self.agent.is_some() || self.accept_invalid_certs => {
                let other = match self.agent.is_some() {
                    true => "conflicts with agent (give that agent the roots)",
                    false => "conflicts with dangerous_accept_invalid_certs, which trusts anything",
                };
                return Err(crate::ConfigError::InvalidOption {
                    option: "root_certificates",
                    reason: other.into(),
                }
                .into());
            }
            Some(pem) => Some(http::parse_root_certificates(pem, "root_certificates")?),
        };
        let client = self.build_with(roots.as_deref());
        if let Err(e) = &client.inner.base {
            return Err(ApiError::InvalidBaseUrl(e.clone()).into());
        }
        Ok(client)
    }

    /// The settings of [`RunbeamClient::new`]: these defaults, and
    /// [`dangerous_accept_invalid_certs`](Self::dangerous_accept_invalid_certs) when
    /// `RUNBEAM_ACCEPT_INVALID_CERTS` is exactly `true`.
    pub(super) fn with_env_settings(self) -> Self {
        match crate::env::accept_invalid_certs() {
            true => self.dangerous_accept_invalid_certs(),
            false => self,
        }
    }

    /// Builds the client, keeping a bad URL's error for the first call.
    pub(super) fn build_lenient(self) -> RunbeamClient {
        self.build_with(None)
    }

    /// Builds the client trusting `roots` (parsed from `root_certs`), keeping a bad URL's
    /// error for the first call.
    fn build_with(self, roots: Option<&[ureq::tls::Certificate<'static>]>) -> RunbeamClient {
        let base = checked_base_url(&self.url, self.allow_plain_http);
        let custom_agent = self.agent.is_some();
        let agent = match self.agent {
            Some(agent) => Agents::caller(agent),
            None => {
                let timeouts = Timeouts {
                    connect: self.connect_timeout,
                    global: self.timeout,
                };
                if self.accept_invalid_certs {
                    log::warn!("Runbeam client: TLS certificates are not verified (dangerous_accept_invalid_certs); bearer tokens can be intercepted");
                }
                let tls = http::tls_config(roots, self.accept_invalid_certs);
                Agents::new(self.use_env_proxy, |proxy| {
                    http::agent_config(timeouts, proxy)
                        .max_redirects(0)
                        .tls_config(tls.clone())
                        .build()
                        .into()
                })
            }
        };
        RunbeamClient {
            deadline: None,
            inner: Arc::new(Inner {
                base,
                agent,
                custom_agent,
                body_limit: self.body_limit,
                retry: self.retry,
                max_pages: self.max_pages,
                allow_plain_http: self.allow_plain_http,
                change_routes: self.change_routes,
                clock: self.clock,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_or_origin_with_api_normalise_to_one_base() {
        for url in [
            "https://runbeam.io",
            "https://runbeam.io/",
            "https://runbeam.io/api",
            "https://runbeam.io/api/",
            "HTTPS://Runbeam.io:443/api",
        ] {
            assert_eq!(
                normalize_base_url(url).unwrap(),
                "https://runbeam.io/api",
                "{url}"
            );
        }
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/api"
        );
    }

    #[test]
    fn a_refused_path_names_the_part_to_remove() {
        let extra = |url| match normalize_base_url(url) {
            Err(BaseUrlError::Path { extra }) => extra,
            other => panic!("{other:?}"),
        };
        assert_eq!(extra("https://x/v2"), "/v2");
        assert_eq!(extra("https://x/api/v1/"), "/v1/");
        assert_eq!(extra("https://x/api?x=1"), "?x=1");
        assert_eq!(extra("https://x/apiv1"), "/apiv1");
        let text = BaseUrlError::Path {
            extra: "/v2".into(),
        }
        .to_string();
        assert!(text.ends_with("remove \"/v2\""), "{text}");
    }

    #[test]
    fn other_paths_queries_and_bad_origins_are_refused() {
        for url in [
            "https://x/v1",
            "https://x/api/v1",
            "https://x/api?x=1",
            "https://x/#f",
        ] {
            assert!(
                matches!(normalize_base_url(url), Err(BaseUrlError::Path { .. })),
                "{url}"
            );
        }
        assert!(matches!(
            normalize_base_url("ftp://x"),
            Err(BaseUrlError::Origin(OriginError::UnsupportedScheme))
        ));
    }

    fn build_error(builder: RunbeamClientBuilder) -> Option<BaseUrlError> {
        match builder.build() {
            Err(RunbeamError::Api(ApiError::InvalidBaseUrl(e))) => Some(e),
            Err(other) => panic!("unexpected error {other:?}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn plain_http_is_refused_unless_loopback_or_explicitly_allowed() {
        let remote = "http://runbeam.lndo.site";
        assert_eq!(
            build_error(RunbeamClientBuilder::new(remote.into())),
            Some(BaseUrlError::InsecureScheme)
        );
        assert_eq!(
            build_error(RunbeamClientBuilder::new(remote.into()).dangerous_allow_plain_http()),
            None
        );
        for ok in [
            "https://api.runbeam.io",
            "http://127.0.0.1:9",
            "http://localhost/api",
        ] {
            assert_eq!(
                build_error(RunbeamClientBuilder::new(ok.into())),
                None,
                "{ok}"
            );
        }
    }
}
