//! Helpers for `tests/client.rs`: a fake server, a client on it, request assertions.

use std::time::Duration;

use runbeam_sdk_blocking::testing::{FakeRunbeam, LoggedRequest, ManualClock};
use runbeam_sdk_blocking::RunbeamClient;

/// A fresh fake server.
pub fn server() -> FakeRunbeam {
    FakeRunbeam::start().expect("fake Runbeam starts")
}

/// A client on `server` with short timeouts.
pub fn client(server: &FakeRunbeam) -> RunbeamClient {
    RunbeamClient::builder(server.url())
        .timeout(Duration::from_secs(10))
        .use_env_proxy(false)
        .build()
        .expect("valid URL")
}

/// A client on `server` whose waits move `clock` instead of spending real time.
pub fn client_on(server: &FakeRunbeam, clock: &ManualClock) -> RunbeamClient {
    RunbeamClient::builder(server.url())
        .timeout(Duration::from_secs(10))
        .use_env_proxy(false)
        .clock(clock)
        .build()
        .expect("valid URL")
}

/// Asserts the request's method and path, and the headers every call sends.
pub fn assert_sent(req: &LoggedRequest, method: &str, path: &str, token: Option<&str>) {
    assert_eq!((req.method.as_str(), req.path.as_str()), (method, path));
    assert_eq!(req.header("accept"), Some("application/json"), "{path}");
    let ua = concat!("runbeam-sdk-blocking/", env!("CARGO_PKG_VERSION"));
    assert_eq!(req.header("user-agent"), Some(ua), "{path}");
    match token {
        Some(t) => assert_eq!(
            req.header("authorization"),
            Some(format!("Bearer {t}").as_str())
        ),
        None => assert_eq!(
            req.header("authorization"),
            None,
            "{path} must not send a token"
        ),
    }
}

/// True when a logged path (`/api/gateways/01F...`) matches a spec template
/// (`/gateways/{gateway}`).
pub fn path_matches(template: &str, logged: &str) -> bool {
    let Some(logged) = logged.strip_prefix("/api") else {
        return false;
    };
    let t: Vec<&str> = template.split('/').collect();
    let l: Vec<&str> = logged.split('/').collect();
    t.len() == l.len()
        && t.iter()
            .zip(&l)
            .all(|(t, l)| (t.starts_with('{') && !l.is_empty()) || t == l)
}
