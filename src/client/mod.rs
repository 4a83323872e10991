//! [`RunbeamClient`]: the blocking Runbeam API client.
//!
//! One shared `ureq` agent (keep-alive pool, timeouts); every method builds its request from
//! the internal operation table, sends the token as
//! `Authorization: Bearer`, reads at most the body cap, and maps the status to a typed error.

mod builder;
mod change_routes;
pub(crate) mod de;
pub(crate) mod error;
#[cfg(test)]
mod hostile_numbers;
pub(crate) mod operations;
pub(crate) mod paging;
mod retry;
pub(crate) mod server_text;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;

#[cfg(any(test, fuzzing))]
pub(crate) use builder::normalize_base_url;
pub use builder::{BaseUrlError, RunbeamClientBuilder};
#[cfg(any(test, fuzzing))]
pub(crate) use retry::parse_retry_after;
pub use retry::RetryPolicy;

use crate::clock::Clock;
use crate::http::Agents;
use crate::network::NetworkCause;
use crate::origin::Origin;
use crate::ApiError;
use crate::RunbeamError;
pub use change_routes::ChangeRoutes;
use error::excerpt;
pub use error::ErrorBody;
use operations::Operation;
use paging::PaginatedResponse;
pub(crate) use server_text::Redaction;

/// A blocking client for the Runbeam Cloud API.
///
/// ```no_run
/// use runbeam_sdk_blocking::RunbeamClient;
///
/// let client = RunbeamClient::new("https://runbeam.io");
/// let gateways = client.list_gateways("12|sanctum-token")?;
/// for gateway in gateways.data {
///     println!("{:?}", gateway.code);
/// }
/// # Ok::<(), runbeam_sdk_blocking::RunbeamError>(())
/// ```
///
/// Every method blocks the calling thread, takes the bearer token first (a user JWT, a
/// Sanctum `{id}|{token}` or a machine token, sent as is) and returns
/// `Result<_, RunbeamError>`. The client is `Clone + Send + Sync`; clones share one connection
/// pool. Redirects are never followed ([`ApiError::Redirected`]), so a token never leaves the
/// configured origin.
#[derive(Clone)]
pub struct RunbeamClient {
    inner: Arc<Inner>,
    /// A wall-clock deadline for every call of this handle (see [`RunbeamClient::until`]).
    deadline: Option<Instant>,
}

struct Inner {
    /// `<origin>/api`, or why the URL was refused (reported by each call).
    base: Result<String, BaseUrlError>,
    /// Chosen per call by the base URL's host: a loopback API (tests, the fake server, a
    /// local tunnel) is never reached through the environment's proxy, also after
    /// [`RunbeamClient::discover_base_url`] moved the client there.
    agent: Agents,
    /// A caller's agent may follow redirects or turn statuses into errors; such requests get
    /// our settings per request.
    custom_agent: bool,
    body_limit: u64,
    retry: Option<RetryPolicy>,
    max_pages: u32,
    /// Kept so a client derived from this one ([`RunbeamClient::discover_base_url`]) applies
    /// the same scheme rule.
    allow_plain_http: bool,
    change_routes: ChangeRoutes,
    /// What every wait and deadline of this client (and of a poller on it) is read from.
    clock: Clock,
}

impl std::fmt::Debug for RunbeamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunbeamClient")
            .field("base_url", &self.inner.base)
            .field("body_limit", &self.inner.body_limit)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// A single resource as Laravel wraps it: `{"data": T}`.
#[derive(serde::Deserialize)]
pub(crate) struct Envelope<T> {
    pub(crate) data: T,
}

/// One request to send: the operation, its parameters, and what must stay out of errors.
pub(crate) struct Call<'a> {
    op: &'a Operation,
    token: Option<&'a str>,
    params: &'a [&'a str],
    body: Option<Vec<u8>>,
    page: Option<u32>,
    /// Query parameters (name, raw value); values are percent-encoded when the URL is built.
    query: &'a [(&'a str, &'a str)],
    /// The path is under the origin itself, not under `<origin>/api` (upstream's fallback
    /// routes).
    origin_root: bool,
    /// Path parameters that are secrets (a device-login token), redacted like the token.
    secret_params: bool,
    /// A wall-clock deadline: each attempt's timeout is cut to what is left of it.
    deadline: Option<Instant>,
}

impl<'a> Call<'a> {
    /// A call of `op` with no token, parameters or body.
    pub(crate) fn new(op: &'a Operation) -> Self {
        Self {
            op,
            token: None,
            params: &[],
            body: None,
            page: None,
            query: &[],
            origin_root: false,
            secret_params: false,
            deadline: None,
        }
    }

    /// Fills the path's `{placeholders}` with `params`, in order.
    pub(crate) fn params(self, params: &'a [&'a str]) -> Self {
        Self { params, ..self }
    }

    /// Sends the bearer token.
    pub(crate) fn token(self, token: &'a str) -> Self {
        Self {
            token: Some(token),
            ..self
        }
    }

    /// Adds query parameters (name, raw value).
    pub(crate) fn query(self, query: &'a [(&'a str, &'a str)]) -> Self {
        Self { query, ..self }
    }

    /// Addresses the path under the origin instead of `<origin>/api`.
    pub(crate) fn at_origin_root(self) -> Self {
        Self {
            origin_root: true,
            ..self
        }
    }

    /// The URL of this call under `base` (`<origin>/api`). Pure.
    fn url(&self, base: &str) -> String {
        let base = match self.origin_root {
            true => base.strip_suffix("/api").unwrap_or(base),
            false => base,
        };
        let mut url = format!("{base}{}", self.op.fill_path(self.params));
        let page = self.page.map(|p| p.to_string());
        let page = page.as_deref().map(|p| ("page", p));
        for (i, (name, value)) in self.query.iter().copied().chain(page).enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            operations::encode_segment_into(name, &mut url);
            url.push('=');
            operations::encode_segment_into(value, &mut url);
        }
        url
    }

    /// Treats the path parameters as secrets in errors.
    pub(crate) fn secret_params(self) -> Self {
        Self {
            secret_params: true,
            ..self
        }
    }

    /// Gives up when `deadline` passes ([`ApiError::Timeout`]).
    pub(crate) fn deadline(self, deadline: Instant) -> Self {
        Self {
            deadline: Some(deadline),
            ..self
        }
    }

    fn redaction(&self) -> Redaction {
        let secret_params = if self.secret_params { self.params } else { &[] };
        Redaction::new(self.token, secret_params)
    }
}

/// A response as read off the wire: status and (capped) body, and the secrets of the request
/// that produced it, kept out of any error built from it.
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    retry_after: Option<Duration>,
    location: Option<String>,
    redaction: Redaction,
}

impl RawResponse {
    /// Parses a 2xx body as JSON; an empty body parses as `{}`.
    pub(crate) fn into_json<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        let bytes: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(bytes).map_err(|source| ApiError::Parse {
            status: self.status,
            excerpt: excerpt(&self.body, &self.redaction),
            source,
        })
    }

    /// Turns a non-2xx response into its error.
    pub(crate) fn into_error(self) -> ApiError {
        if (300..400).contains(&self.status) {
            let location_origin = self
                .location
                .as_deref()
                .and_then(|l| crate::origin::Origin::parse(l).ok())
                .map(|o| self.redaction.redact(&o.to_string()));
            return ApiError::Redirected {
                status: self.status,
                location_origin,
            };
        }
        ApiError::Status {
            status: self.status,
            body: Box::new(ErrorBody::from_server(&self.body, &self.redaction)),
        }
    }
}

impl RunbeamClient {
    /// A client for the API at `url`: an origin (`https://runbeam.io`) or the origin plus
    /// `/api`, trailing slash optional. Default options: 10 s
    /// connect timeout, 30 s per request, 10 MiB body cap, no retries.
    ///
    /// Never fails: a bad URL is reported as [`ApiError::InvalidBaseUrl`] by the first call.
    /// Use [`RunbeamClient::builder`] to get that error at once.
    ///
    /// # Security
    /// With `RUNBEAM_ACCEPT_INVALID_CERTS` set to exactly `true`, TLS certificates are not
    /// verified (see [`RunbeamClientBuilder::dangerous_accept_invalid_certs`]); the builder
    /// never reads that variable.
    pub fn new(url: impl Into<String>) -> RunbeamClient {
        RunbeamClientBuilder::new(url.into())
            .with_env_settings()
            .build_lenient()
    }

    /// A builder for a client with non-default options.
    pub fn builder(url: impl Into<String>) -> RunbeamClientBuilder {
        RunbeamClientBuilder::new(url.into())
    }

    /// The normalised base URL (`<origin>/api`), or why the given URL was refused.
    ///
    /// # Errors
    /// [`ApiError::InvalidBaseUrl`].
    pub fn base_url(&self) -> Result<&str, ApiError> {
        self.inner
            .base
            .as_deref()
            .map_err(|e| ApiError::InvalidBaseUrl(e.clone()))
    }

    /// The routes change management uses.
    pub(crate) fn change_routes(&self) -> ChangeRoutes {
        self.inner.change_routes
    }

    /// A client with this one's settings and agent (connection pool, timeouts, retries,
    /// caps, routes) on another base URL, which passes the same rule as the builder's.
    pub(crate) fn with_base_url(&self, url: &str) -> Result<RunbeamClient, BaseUrlError> {
        let base = builder::checked_base_url(url, self.inner.allow_plain_http)?;
        let inner = &self.inner;
        Ok(RunbeamClient {
            deadline: self.deadline,
            inner: Arc::new(Inner {
                base: Ok(base),
                agent: inner.agent.clone(),
                custom_agent: inner.custom_agent,
                body_limit: inner.body_limit,
                retry: inner.retry,
                max_pages: inner.max_pages,
                allow_plain_http: inner.allow_plain_http,
                change_routes: inner.change_routes,
                clock: inner.clock.clone(),
            }),
        })
    }

    /// This client (same pool and settings) with every call cut to end by `deadline`: an
    /// attempt's timeout shrinks to what is left, and a call made after it fails at once with
    /// [`ApiError::Timeout`].
    pub(crate) fn until(&self, deadline: Option<Instant>) -> RunbeamClient {
        RunbeamClient {
            inner: Arc::clone(&self.inner),
            deadline: earliest(self.deadline, deadline),
        }
    }

    /// The clock this client waits and reads deadlines by.
    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Most pages a page iterator of this client fetches.
    pub(crate) fn max_pages(&self) -> u32 {
        self.inner.max_pages
    }

    /// Sends one request and reads its body, retrying per the policy, and once more for an
    /// idempotent request whose connection was lost (a stale keep-alive connection). Statuses
    /// are returned, not mapped: callers decide.
    pub(crate) fn send(&self, call: Call<'_>) -> Result<RawResponse, ApiError> {
        let call = Call {
            deadline: earliest(call.deadline, self.deadline),
            ..call
        };
        let base = self.base_url()?;
        if call.params.iter().any(|p| p.is_empty()) {
            return Err(ApiError::EmptyPathSegment);
        }
        let url = call.url(base);
        let idempotent = call.op.method.is_idempotent();
        let retry = self.inner.retry.filter(|_| idempotent);
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        let mut reconnected = false;
        loop {
            let started = Instant::now();
            let result = self.send_once(&call, &url);
            // The path template, never the filled path: a parameter may be a secret.
            let (method, path) = (call.op.method.as_str(), call.op.path);
            let response = match result {
                Ok(response) => {
                    log::debug!(
                        "{method} {path}: HTTP {} in {:?}",
                        response.status,
                        started.elapsed()
                    );
                    response
                }
                Err(ApiError::ConnectionLost(_)) if idempotent && !reconnected => {
                    log::debug!("{method} {path}: connection lost, retrying on a new one");
                    reconnected = true;
                    continue;
                }
                Err(e) => {
                    log::debug!("{method} {path}: {e} after {:?}", started.elapsed());
                    return Err(e);
                }
            };
            let wait = match retry {
                Some(policy) if RetryPolicy::retries_status(response.status) => {
                    policy.wait(attempt, response.retry_after, waited)
                }
                _ => None,
            }
            .filter(|wait| {
                call.deadline
                    .is_none_or(|d| self.clock().now().checked_add(*wait).is_some_and(|t| t < d))
            });
            match wait {
                Some(wait) => {
                    log::debug!(
                        "{} {}: HTTP {}, retry {} in {wait:?}",
                        call.op.method.as_str(),
                        call.op.path,
                        response.status,
                        attempt + 1
                    );
                    self.clock().sleep(wait);
                    waited = waited.saturating_add(wait);
                    attempt += 1;
                }
                None => return Ok(response),
            }
        }
    }

    fn send_once(&self, call: &Call<'_>, url: &str) -> Result<RawResponse, ApiError> {
        let mut request = ureq::http::Request::builder()
            .method(call.op.method.as_str())
            .uri(url)
            .header("Accept", "application/json");
        if let Some(token) = call.token {
            request = request.header("Authorization", format!("Bearer {}", sendable(token)?));
        }
        if call.body.is_some() {
            request = request.header("Content-Type", "application/json");
        }
        let request = request
            .body(call.body.as_deref().unwrap_or_default())
            .map_err(|e| ApiError::Transport(Box::new(ureq::Error::Http(e))))?;
        let loopback = Origin::parse(url).is_ok_and(|o| o.is_loopback());
        let agent = self.inner.agent.for_host(loopback);
        let time_left = match call.deadline {
            Some(deadline) => match deadline.checked_duration_since(self.clock().now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Err(ApiError::Timeout),
            },
            None => None,
        };
        let result = if self.inner.custom_agent || time_left.is_some() {
            let mut config = agent.configure_request(request);
            if self.inner.custom_agent {
                config = config.max_redirects(0).http_status_as_error(false);
            }
            if let Some(left) = time_left {
                let own = agent.config().timeouts().global;
                config = config.timeout_global(Some(own.map_or(left, |own| own.min(left))));
            }
            agent.run(config.build())
        } else {
            agent.run(request)
        };
        let mut response = result.map_err(map_transport)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after =
            header("retry-after").and_then(|v| retry::parse_retry_after(&v, crate::time::now().0));
        let location = header("location");
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.inner.body_limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(limit) => ApiError::BodyTooLarge { limit },
                other => map_transport(other),
            })?;
        Ok(RawResponse {
            status,
            body,
            retry_after,
            location,
            redaction: call.redaction(),
        })
    }

    /// Sends a request and parses a 2xx body as `T`; other statuses become errors.
    pub(crate) fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        op: &Operation,
        token: &str,
        params: &[&str],
        body: Option<&B>,
    ) -> Result<T, RunbeamError> {
        let call = Call {
            token: Some(token),
            ..Call::new(op).params(params)
        };
        self.call_json(call, body)
    }

    /// As [`call`](Self::call) without an `Authorization` header.
    pub(crate) fn call_anonymous<B: Serialize, T: DeserializeOwned>(
        &self,
        op: &Operation,
        params: &[&str],
        body: Option<&B>,
    ) -> Result<T, RunbeamError> {
        self.call_json(Call::new(op).params(params), body)
    }

    /// As [`call`](Self::call) for a `{"data": T}` body.
    pub(crate) fn call_data<B: Serialize, T: DeserializeOwned>(
        &self,
        op: &Operation,
        token: &str,
        params: &[&str],
        body: Option<&B>,
    ) -> Result<T, RunbeamError> {
        self.call::<B, Envelope<T>>(op, token, params, body)
            .map(|envelope| envelope.data)
    }

    /// One page of a list operation; `None` asks for the server's default (first) page.
    pub(crate) fn list_page<T: DeserializeOwned>(
        &self,
        op: &Operation,
        token: &str,
        params: &[&str],
        page: Option<u32>,
    ) -> Result<PaginatedResponse<T>, RunbeamError> {
        let call = Call {
            page,
            ..Call::new(op).token(token).params(params)
        };
        self.call_json(call, None::<&()>)
    }

    /// Sends `call` with `body` as JSON and parses a 2xx answer; other statuses are errors.
    pub(crate) fn call_json<B: Serialize, T: DeserializeOwned>(
        &self,
        call: Call<'_>,
        body: Option<&B>,
    ) -> Result<T, RunbeamError> {
        let body = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(ApiError::Serialize)?),
            None => None,
        };
        let raw = self.send(Call { body, ..call })?;
        if !(200..300).contains(&raw.status) {
            return Err(raw.into_error().into());
        }
        Ok(raw.into_json()?)
    }
}

/// `token` if it can be sent as a bearer token: checked before any request is built, so the
/// error names the cause (ureq would refuse control characters too, with a vaguer error).
fn sendable(token: &str) -> Result<&str, ApiError> {
    if token.bytes().any(|b| b.is_ascii_control()) {
        return Err(ApiError::InvalidToken);
    }
    let scheme = token.get(..7);
    if scheme.is_some_and(|s| s.eq_ignore_ascii_case("bearer ")) {
        return Err(ApiError::BearerPrefix);
    }
    Ok(token)
}

/// Maps a ureq failure to its kind. The error keeps ureq's for diagnostics; ureq's messages
/// name the URL, never request headers, so no token can appear in them.
fn map_transport(error: ureq::Error) -> ApiError {
    match error {
        ureq::Error::Timeout(_) => ApiError::Timeout,
        ureq::Error::BodyExceedsLimit(limit) => ApiError::BodyTooLarge { limit },
        ureq::Error::StatusCode(status) => ApiError::Status {
            status,
            body: Box::default(),
        },
        other => match NetworkCause::of(&other) {
            cause if cause.is_tls() => ApiError::Tls(Box::new(other)),
            cause if cause.before_connecting() => ApiError::Connect(Box::new(other)),
            NetworkCause::ConnectionLost => ApiError::ConnectionLost(Box::new(other)),
            _ => ApiError::Transport(Box::new(other)),
        },
    }
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn client_is_send_sync_clone() {
        assert_send_sync_clone::<RunbeamClient>();
    }

    #[test]
    fn invalid_url_is_reported_by_the_first_call_not_new() {
        let client = RunbeamClient::new("not a url");
        let err = client.list_gateways("t").unwrap_err();
        assert!(matches!(
            err,
            RunbeamError::Api(ApiError::InvalidBaseUrl(BaseUrlError::Origin(_)))
        ));
        assert!(matches!(
            RunbeamClient::builder("https://x/v2").build(),
            Err(RunbeamError::Api(ApiError::InvalidBaseUrl(
                BaseUrlError::Path { .. }
            )))
        ));
    }

    #[test]
    fn empty_ids_are_refused_before_sending() {
        let client = RunbeamClient::new("http://127.0.0.1:9");
        assert!(matches!(
            client.get_gateway("t", ""),
            Err(RunbeamError::Api(ApiError::EmptyPathSegment))
        ));
    }

    #[test]
    fn a_token_with_a_bearer_prefix_is_refused_before_sending() {
        let client = RunbeamClient::new("http://127.0.0.1:9");
        for token in ["Bearer abc", "bearer abc", "BEARER abc"] {
            assert!(matches!(
                client.list_gateways(token),
                Err(RunbeamError::Api(ApiError::BearerPrefix))
            ));
        }
        assert_eq!(sendable("Bearerish-token").unwrap(), "Bearerish-token");
    }

    #[test]
    fn a_token_with_a_newline_is_a_typed_error() {
        let client = RunbeamClient::new("http://127.0.0.1:9");
        assert!(matches!(
            client.list_gateways("abc\r\nX-Evil: 1"),
            Err(RunbeamError::Api(ApiError::InvalidToken))
        ));
    }
}
