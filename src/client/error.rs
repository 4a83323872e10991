//! [`ApiError`]: why an API call failed, and the parsers for Laravel error bodies.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::server_text::{Redaction, TextBudget};
use crate::network::NetworkCause;

/// Why a Runbeam API call failed. Never contains the bearer token: any text the server sent
/// (message, validation errors, body excerpt, redirect origin) has the request's token — and
/// the secret half of a Sanctum token — replaced by `[redacted]`, and is cut to a few KiB.
///
/// Match on the variant (or use [`ApiError::status`], [`ApiError::is_unauthorized`],
/// [`ApiError::is_forbidden`], [`ApiError::is_not_found`]) rather than on the text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The server answered with a non-success status. The Laravel body, when there was one,
    /// is parsed into [`ErrorBody`].
    #[error("HTTP {status}{}", .body.summary())]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The parsed error body (`message`, and `errors` for 422).
        body: Box<ErrorBody>,
    },
    /// The server answered with a redirect. The client never follows redirects, so a bearer
    /// token can never travel to another origin.
    #[error("HTTP {status}: the server redirected to {}; redirects are not followed", .location_origin.as_deref().unwrap_or("an unknown location"))]
    Redirected {
        /// The 3xx status code.
        status: u16,
        /// The origin (scheme, host, port) of the `Location` header, never its path or query.
        location_origin: Option<String>,
    },
    /// The request did not complete in time (connect or whole-request timeout).
    #[error("the request to the Runbeam API timed out")]
    Timeout,
    /// No connection could be made (refused, unreachable, DNS failure); the message says
    /// which ([`network_cause`](Self::network_cause) tells a program).
    #[error("could not connect to the Runbeam API: {}", crate::network::reason(.0))]
    Connect(Box<ureq::Error>),
    /// The connection was closed or reset after it was made, before the whole response
    /// arrived. An idempotent request meeting this on a reused keep-alive connection has
    /// already been retried once on a fresh one.
    #[error("the connection to the Runbeam API was lost before the response was complete")]
    ConnectionLost(#[source] Box<ureq::Error>),
    /// The TLS handshake failed: most often the server's certificate is not trusted
    /// (self-signed, another CA, expired, another host). See
    /// [`RunbeamClientBuilder::root_certificates`](crate::RunbeamClientBuilder::root_certificates).
    #[error("TLS handshake with the Runbeam API failed{}", tls_reason(.0))]
    Tls(#[source] Box<ureq::Error>),
    /// Any other transport failure (protocol, I/O after connecting).
    #[error("the request to the Runbeam API failed: {0}")]
    Transport(Box<ureq::Error>),
    /// The response body was larger than the client's cap.
    #[error("the response body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// A success response whose body is not the expected JSON.
    #[error("the response (HTTP {status}) is not the expected JSON; it reads: {excerpt}")]
    Parse {
        /// The HTTP status of the response.
        status: u16,
        /// The first bytes of the body with anything token-like replaced by `[redacted]`.
        excerpt: String,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
    /// The client's base URL is not usable. Reported by the first call of a client made with
    /// [`RunbeamClient::new`](crate::RunbeamClient::new).
    #[error("invalid Runbeam API base URL: {0}")]
    InvalidBaseUrl(crate::client::BaseUrlError),
    /// The token cannot be sent in a header (it contains a newline or a control character).
    #[error("the token contains characters not allowed in an HTTP header")]
    InvalidToken,
    /// The token starts with `Bearer `: pass the token alone, the client adds the scheme
    /// (see [`extract_bearer_token`](crate::extract_bearer_token) for a header value).
    #[error("the token starts with \"Bearer \"; pass the token alone, the client adds the scheme")]
    BearerPrefix,
    /// A request body could not be serialised to JSON (a caller's type whose `Serialize`
    /// fails, e.g. a map with non-string keys). Nothing was sent.
    #[error("the request body could not be serialised to JSON: {0}")]
    Serialize(serde_json::Error),
    /// The device-login endpoint answered 2xx with something the login protocol does not
    /// allow (an unknown `status`, or `authenticated` without a token).
    #[error("the device login answer breaks the protocol: {0}")]
    LoginProtocol(&'static str),
    /// An id or other path parameter was empty, which would silently address another route.
    #[error("a path parameter is empty")]
    EmptyPathSegment,
    /// A list named more pages than the page cap (see
    /// [`PageIter::max_pages`](super::paging::PageIter::max_pages)): the server keeps naming a
    /// next page, which a real list never does.
    #[error("the list has more than {limit} pages; stopped there")]
    TooManyPages {
        /// The cap that was reached.
        limit: u32,
    },
    /// The base URL the server supplied ([`RunbeamClient::discover_base_url`]) breaks the
    /// base-URL rule (not HTTPS to a host that is not loopback, a path other than `/api`, ...);
    /// no client was made for it.
    ///
    /// [`RunbeamClient::discover_base_url`]: crate::RunbeamClient::discover_base_url
    #[error("the server-supplied base URL {url:?} was refused: {reason}")]
    DiscoveredUrlRefused {
        /// The URL as the server sent it (secrets redacted, cut to 120 characters).
        url: String,
        /// Why it was refused.
        reason: Box<crate::client::BaseUrlError>,
    },
    /// A resource reference does not parse; nothing was sent.
    #[error("invalid resource reference: {0}")]
    InvalidReference(crate::reference::ReferenceError),
    /// A device login was not approved before the waiting deadline.
    #[error("the login was not approved before the deadline")]
    LoginTimedOut,
    /// The device login expired before it was approved (HTTP 410).
    #[error("the login request expired")]
    LoginExpired,
    /// The device token is unknown to the server (HTTP 404).
    #[error("the login request is invalid or unknown")]
    LoginInvalid,
}

/// `": <why>"` for a TLS failure whose cause this crate can name (an untrusted certificate);
/// otherwise nothing, and the rustls error (the `source()`) says why.
fn tls_reason(error: &ureq::Error) -> String {
    match NetworkCause::of(error) {
        NetworkCause::CertificateNotTrusted => format!(": {}", NetworkCause::CertificateNotTrusted),
        _ => String::new(),
    }
}

impl ApiError {
    /// Why the request failed below HTTP (refused, host not found, timed out, certificate
    /// not trusted, ...), for the transport variants; `None` for the others.
    pub fn network_cause(&self) -> Option<NetworkCause> {
        match self {
            ApiError::Timeout => Some(NetworkCause::TimedOut),
            ApiError::Connect(e)
            | ApiError::ConnectionLost(e)
            | ApiError::Tls(e)
            | ApiError::Transport(e) => Some(NetworkCause::of(e)),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered with an error status or a redirect.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } | ApiError::Redirected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for HTTP 401: the token is missing, malformed, expired or revoked.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// True for HTTP 403: the token is valid but not allowed to do this.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// True for HTTP 404: the resource does not exist (or is not visible to this token).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// For HTTP 422: each invalid field with its messages. Empty otherwise.
    pub fn validation_errors(&self) -> Option<&BTreeMap<String, Vec<String>>> {
        match self {
            ApiError::Status { body, .. } if !body.errors.is_empty() => Some(&body.errors),
            _ => None,
        }
    }
}

/// A Laravel error body: `{"message": "...", "errors": {"field": ["..."]}}`.
///
/// Every field is optional: a body that is not JSON gives an empty `ErrorBody`. In an
/// [`ApiError`], the text is the server's with the request's secrets redacted and at most a
/// few KiB kept ([`truncated`](Self::truncated) tells when something was cut).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ErrorBody {
    /// The human-readable message.
    #[serde(default)]
    pub message: Option<String>,
    /// A short error code some endpoints add (`{"error": "...", "message": "..."}`).
    #[serde(default)]
    pub error: Option<String>,
    /// For 422 validation failures: field name → messages.
    #[serde(default)]
    pub errors: BTreeMap<String, Vec<String>>,
    /// True when some of the server's text was cut to keep the error small.
    #[serde(skip)]
    pub truncated: bool,
}

impl ErrorBody {
    /// `": <error>: <message>"` with the parts the server sent (either body kind), or
    /// nothing. Used in [`ApiError`]'s `Display`.
    fn summary(&self) -> String {
        let parts = [self.error.as_deref(), self.message.as_deref()];
        parts
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .fold(String::new(), |out, part| format!("{out}: {part}"))
    }

    /// Parses an error body; anything unparsable gives an empty body (the status still tells
    /// the caller what happened). Pure: called by the client, tests and the fuzz target.
    pub(crate) fn parse(bytes: &[u8]) -> ErrorBody {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    /// Parses an error body for an [`ApiError`]: secrets redacted, text bounded.
    pub(crate) fn from_server(bytes: &[u8], redaction: &Redaction) -> ErrorBody {
        let raw = Self::parse(bytes);
        let mut budget = TextBudget::new(redaction);
        let message = raw.message.and_then(|m| budget.take(&m));
        let error = raw.error.and_then(|e| budget.take(&e));
        let errors = budget.take_map(raw.errors);
        ErrorBody {
            message,
            error,
            errors,
            truncated: budget.truncated(),
        }
    }
}

/// Longest excerpt of a body kept in a [`ApiError::Parse`].
const EXCERPT_CHARS: usize = 120;
/// Runs of token-like characters at least this long are redacted from excerpts: JWTs,
/// Sanctum and machine tokens are all much longer, ordinary words and JSON keys shorter.
const TOKENISH_RUN: usize = 20;

/// A short, printable excerpt of a response body with the request's secrets and anything else
/// that could be a token replaced by `[redacted]`. Pure.
pub(crate) fn excerpt(bytes: &[u8], redaction: &Redaction) -> String {
    // Only the start is shown, but a token may straddle the cut: redact a little beyond it.
    let head = &bytes[..bytes.len().min(EXCERPT_CHARS * 8)];
    let text = redaction.redact(&String::from_utf8_lossy(head));
    let short: String = text.chars().take(EXCERPT_CHARS).collect();
    let mut out = String::with_capacity(short.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= TOKENISH_RUN {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in short.chars() {
        if c.is_ascii_alphanumeric() || "-_.|+/=~".contains(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(if c.is_control() { ' ' } else { c });
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_laravel_422_body() {
        let body = ErrorBody::parse(
            br#"{"message":"The name field is required.","errors":{"name":["The name field is required."]}}"#,
        );
        assert_eq!(body.message.as_deref(), Some("The name field is required."));
        assert_eq!(body.errors["name"], vec!["The name field is required."]);
    }

    #[test]
    fn the_display_shows_both_the_error_and_the_message_of_the_newer_body() {
        let status = |body: &[u8]| ApiError::Status {
            status: 403,
            body: Box::new(ErrorBody::parse(body)),
        };
        let both =
            br#"{"error":"Forbidden","message":"This gateway does not belong to your team"}"#;
        assert_eq!(
            status(both).to_string(),
            "HTTP 403: Forbidden: This gateway does not belong to your team"
        );
        let alone = br#"{"error":"Gateway does not have egress rights in this mesh"}"#;
        assert_eq!(
            status(alone).to_string(),
            "HTTP 403: Gateway does not have egress rights in this mesh"
        );
        assert_eq!(
            status(br#"{"message":"Nope."}"#).to_string(),
            "HTTP 403: Nope."
        );
        assert_eq!(status(b"<html>").to_string(), "HTTP 403");
    }

    #[test]
    fn non_json_error_body_is_empty_not_an_error() {
        assert_eq!(ErrorBody::parse(b"<html>502</html>"), ErrorBody::default());
    }

    #[test]
    fn excerpt_redacts_token_like_runs_and_is_short() {
        let body = format!(
            r#"{{"machine_token":"{}","note":"hello"}}{}"#,
            "a".repeat(64),
            "x ".repeat(500)
        );
        let e = excerpt(body.as_bytes(), &Redaction::default());
        assert!(!e.contains("aaaaaaaaaaaaaaaaaaaa"), "{e}");
        assert!(e.contains("[redacted]") && e.contains("hello"), "{e}");
        assert!(e.chars().count() <= EXCERPT_CHARS + 10);
    }

    #[test]
    fn status_helpers_tell_401_403_404_apart() {
        let err = |status| ApiError::Status {
            status,
            body: Box::default(),
        };
        assert!(err(401).is_unauthorized() && !err(401).is_forbidden());
        assert!(err(403).is_forbidden() && !err(403).is_not_found());
        assert!(err(404).is_not_found() && !err(404).is_unauthorized());
    }
}
