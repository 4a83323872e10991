//! The API client against hostile servers on 127.0.0.1: numbers meant to overflow, lists that
//! never end, stalls, echoed secrets, megabytes of text, dropped connections. Every test
//! bounds its own time, and every error is checked for the token in `Display` and `Debug`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::error::Error as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::chain::assert_says;
use common::hostile::{json, page_of, Hostile, Reply};
use runbeam_sdk_blocking::api::{ChangePoller, PollStage, StopReason};
use runbeam_sdk_blocking::api::{GatewayRequest, DEFAULT_MAX_PAGES};
use runbeam_sdk_blocking::{ApiError, NetworkCause};
use runbeam_sdk_blocking::{
    MachineToken, RetryPolicy, RunbeamClient, RunbeamClientBuilder, RunbeamError,
};

/// A Sanctum token; servers below echo it, or its secret half, back.
const TOKEN: &str = "7|Zq3xV9sSecretHalfOfASanctumToken0123456789";
const SECRET_HALF: &str = "Zq3xV9sSecretHalfOfASanctumToken0123456789";
const GATEWAY: &str = r#"{"data":{"id":"g1","code":"gw","name":"Gateway"}}"#;

fn client(server: &Hostile) -> RunbeamClient {
    RunbeamClient::builder(server.url())
        .timeout(Duration::from_secs(5))
        .use_env_proxy(false)
        .build()
        .unwrap()
}

fn retrying(server: &Hostile) -> RunbeamClient {
    RunbeamClient::builder(server.url())
        .timeout(Duration::from_secs(5))
        .use_env_proxy(false)
        .retry(RetryPolicy::new().max_retries(3))
        .build()
        .unwrap()
}

fn api(err: RunbeamError) -> ApiError {
    match err {
        RunbeamError::Api(e) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// `Display`, `Debug` and every source of `err`, in one string.
fn all_text(err: &RunbeamError) -> String {
    let mut text = format!("{err} | {err:?}");
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(&format!(" | {s} | {s:?}"));
        source = s.source();
    }
    text
}

fn assert_secret_free(err: &RunbeamError, secrets: &[&str]) {
    let text = all_text(err);
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} leaked into: {text}");
    }
}

/// Runs `f`, failing if it takes `limit` or longer.
fn within<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    assert!(started.elapsed() < limit, "took {:?}", started.elapsed());
    out
}

fn status_of(err: RunbeamError) -> u16 {
    match api(err) {
        ApiError::Status { status, .. } => status,
        other => panic!("expected a status error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- server-controlled numbers

#[test]
fn a_huge_retry_after_after_a_small_one_is_not_waited_for_and_does_not_panic() {
    let server = Hostile::start(|seen| {
        let after = if seen.index == 0 {
            "1"
        } else {
            "18446744073709551615"
        };
        Reply::Bytes(json(503, &[("Retry-After", after)], "{}"))
    });
    let err = within(Duration::from_secs(3), || {
        retrying(&server).get_gateway(TOKEN, "g1").unwrap_err()
    });
    assert_eq!(status_of(err), 503);
    assert_eq!(
        server.requests(),
        2,
        "one retry, then the huge wait is refused"
    );
}

#[test]
fn hostile_retry_after_values_end_quickly_with_a_typed_answer() {
    for value in [
        "-1",
        "1.5",
        "18446744073709551616",
        "99999999999999999999999999",
        "-9223372036854775808",
        "1e308",
        "NaN",
        "soon",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Fri, 31 Dec 9999 23:59:60 GMT",
        "Thu, 01 Jan 1970 00:00:00 UTC",
    ] {
        let server = Hostile::start(move |seen| match seen.index {
            0 => Reply::Bytes(json(503, &[("Retry-After", value)], "{}")),
            _ => Reply::Bytes(json(200, &[], GATEWAY)),
        });
        let policy = RetryPolicy::new()
            .delay(Duration::from_millis(10))
            .max_total_wait(Duration::from_secs(1));
        let client = RunbeamClient::builder(server.url())
            .use_env_proxy(false)
            .retry(policy)
            .build()
            .unwrap();
        let result = within(Duration::from_secs(3), || client.get_gateway(TOKEN, "g1"));
        match result {
            // Unparsable values fall back to the policy's own short delay.
            Ok(gateway) => assert_eq!(gateway.id.as_deref(), Some("g1"), "{value}"),
            // A date far ahead is a wait past the budget: the 503 is the answer.
            Err(e) => assert_eq!(status_of(e), 503, "{value}"),
        }
    }
}

#[test]
fn a_retry_after_date_in_the_past_retries_at_once() {
    let server = Hostile::start(|seen| match seen.index {
        0 => Reply::Bytes(json(
            429,
            &[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")],
            "{}",
        )),
        _ => Reply::Bytes(json(200, &[], GATEWAY)),
    });
    let gateway = within(Duration::from_secs(2), || {
        retrying(&server).get_gateway(TOKEN, "g1").unwrap()
    });
    assert_eq!(gateway.id.as_deref(), Some("g1"));
    assert_eq!(server.requests(), 2);
}

#[test]
fn a_retry_after_date_far_ahead_is_not_waited_for() {
    let server = Hostile::start(|_| {
        Reply::Bytes(json(
            503,
            &[("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")],
            "{}",
        ))
    });
    let err = within(Duration::from_secs(2), || {
        retrying(&server).get_gateway(TOKEN, "g1").unwrap_err()
    });
    assert_eq!(status_of(err), 503);
    assert_eq!(server.requests(), 1);
}

#[test]
fn hostile_content_lengths_are_typed_errors() {
    for (length, body) in [
        ("18446744073709551615", "{}"),
        ("18446744073709551616", "{}"),
        ("-1", "{}"),
        ("1e308", "{}"),
        ("NaN", "{}"),
        ("99999999", "{}"),
    ] {
        let raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n{body}");
        let server = Hostile::start(move |_| Reply::BytesThenClose(raw.clone().into_bytes()));
        let client = RunbeamClient::builder(server.url())
            .use_env_proxy(false)
            .body_limit(1024 * 1024)
            .build()
            .unwrap();
        let err = within(Duration::from_secs(3), || {
            client.get_gateway(TOKEN, "g1").unwrap_err()
        });
        assert!(
            matches!(
                api(err),
                ApiError::BodyTooLarge { .. }
                    | ApiError::Transport(_)
                    | ApiError::ConnectionLost(_)
            ),
            "{length}"
        );
    }
}

fn endless_pages(meta: &'static str) -> Hostile {
    Hostile::start(move |seen| {
        let page = page_of(&seen.target);
        let body = format!(
            r#"{{"data":[{{"id":{page}}}],"links":{{"next":"http://x/api/gateways?page={}"}},"meta":{meta}}}"#,
            page + 1
        );
        Reply::Bytes(json(200, &[], &body))
    })
}

#[test]
fn endless_next_links_stop_at_the_page_cap_with_a_typed_error() {
    let server = endless_pages("{}");
    let client = RunbeamClient::builder(server.url())
        .use_env_proxy(false)
        .max_pages(25)
        .build()
        .unwrap();
    let err = within(Duration::from_secs(10), || {
        client.gateway_pages(TOKEN).collect_all().unwrap_err()
    });
    assert!(matches!(api(err), ApiError::TooManyPages { limit: 25 }));
    assert_eq!(server.requests(), 25);

    let pages: Vec<_> = client.gateway_pages(TOKEN).max_pages(3).collect();
    assert_eq!(pages.len(), 4, "three pages, then the error, then the end");
    assert!(pages[..3].iter().all(Result::is_ok));
    assert!(matches!(
        &pages[3],
        Err(RunbeamError::Api(ApiError::TooManyPages { limit: 3 }))
    ));
    assert_eq!(DEFAULT_MAX_PAGES, 10_000);
}

#[test]
fn meta_last_page_ends_the_list_even_when_next_goes_on() {
    let server = endless_pages(r#"{"last_page":3}"#);
    let all = within(Duration::from_secs(5), || {
        client(&server).gateway_pages(TOKEN).collect_all().unwrap()
    });
    assert_eq!(all.len(), 3);
    assert_eq!(server.requests(), 3);
}

#[test]
fn hostile_paging_meta_numbers_never_fail_the_page() {
    for value in [
        "-1",
        "0.5",
        "1e308",
        "-1e308",
        "18446744073709551615",
        "-9223372036854775808",
        r#""NaN""#,
        r#""x""#,
        "[]",
    ] {
        let meta = format!(
            r#"{{"current_page":{value},"last_page":{value},"per_page":{value},"total":{value},"from":{value},"to":{value}}}"#
        );
        let server = Hostile::start(move |seen| {
            let page = page_of(&seen.target);
            let next = if page < 2 {
                r#""http://x/api/gateways?page=2""#
            } else {
                "null"
            };
            let body =
                format!(r#"{{"data":[{{"id":{page}}}],"links":{{"next":{next}}},"meta":{meta}}}"#);
            Reply::Bytes(json(200, &[], &body))
        });
        let all = within(Duration::from_secs(5), || {
            client(&server).gateway_pages(TOKEN).collect_all().unwrap()
        });
        assert_eq!(all.len(), 2, "{value}");
    }
}

#[test]
fn hostile_page_numbers_in_next_links_end_the_list() {
    for next in [
        "0",
        "-1",
        "1",
        "4294967296",
        "18446744073709551615",
        "1e308",
        "NaN",
    ] {
        let server = Hostile::start(move |_| {
            let body =
                format!(r#"{{"data":[{{"id":1}}],"links":{{"next":"http://x/?page={next}"}}}}"#);
            Reply::Bytes(json(200, &[], &body))
        });
        let all = within(Duration::from_secs(5), || {
            client(&server).gateway_pages(TOKEN).collect_all().unwrap()
        });
        assert_eq!((all.len(), server.requests()), (1, 1), "{next}");
    }
}

#[test]
fn hostile_expires_in_from_check_login_reads_as_absent() {
    for value in ["-1", "1.5", "1e308", r#""NaN""#, "18446744073709551616"] {
        let body = format!(r#"{{"status":"authenticated","token":"jwt","expires_in":{value}}}"#);
        let server = Hostile::start(move |_| Reply::Bytes(json(200, &[], &body)));
        let success = client(&server)
            .wait_for_login("device", Duration::from_millis(10), Duration::from_secs(2))
            .unwrap();
        assert_eq!(success.expires_in, None, "{value}");
    }
}

// ---------------------------------------------------------------- login deadline

#[test]
fn wait_for_login_counts_slow_polls_against_the_deadline() {
    let pending = json(200, &[], r#"{"status":"pending"}"#);
    let server = Hostile::start(move |_| Reply::After(Duration::from_secs(1), pending.clone()));
    let started = Instant::now();
    let err = client(&server)
        .wait_for_login("device", Duration::from_millis(100), Duration::from_secs(2))
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(api(err), ApiError::LoginTimedOut));
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_millis(2800),
        "{took:?}"
    );
}

#[test]
fn wait_for_login_against_a_stalled_server_returns_at_the_deadline() {
    let pending = json(200, &[], r#"{"status":"pending"}"#);
    let server = Hostile::start(move |_| Reply::After(Duration::from_secs(20), pending.clone()));
    let err = within(Duration::from_millis(1800), || {
        client(&server)
            .wait_for_login("device", Duration::from_secs(1), Duration::from_secs(1))
            .unwrap_err()
    });
    assert!(matches!(api(err), ApiError::LoginTimedOut));
}

// ---------------------------------------------------------------- secrets and size of server text

fn answering(
    status: u16,
    headers: &'static [(&'static str, &'static str)],
    body: String,
) -> Hostile {
    Hostile::start(move |_| Reply::Bytes(json(status, headers, &body)))
}

#[test]
fn a_token_echoed_in_a_401_message_is_redacted_in_display_and_debug() {
    for echoed in [TOKEN, SECRET_HALF] {
        let server = answering(
            401,
            &[],
            format!(r#"{{"message":"Token {echoed} is not valid","error":"bad {echoed}"}}"#),
        );
        let err = client(&server).list_gateways(TOKEN).unwrap_err();
        assert_secret_free(&err, &[SECRET_HALF]);
        let text = err.to_string();
        assert!(text.contains("Token [redacted] is not valid"), "{text}");
    }
}

#[test]
fn a_token_echoed_in_a_422_errors_map_is_redacted() {
    let server = answering(
        422,
        &[],
        format!(
            r#"{{"message":"invalid","errors":{{"{TOKEN}":["{TOKEN}"],"name":["got {SECRET_HALF}"]}}}}"#
        ),
    );
    let err = client(&server)
        .create_gateway(TOKEN, &GatewayRequest::default())
        .unwrap_err();
    assert_secret_free(&err, &[SECRET_HALF]);
    let errors = api(err).validation_errors().cloned().unwrap();
    assert_eq!(errors["name"], ["got [redacted]"]);
}

#[test]
fn a_token_echoed_in_an_unparsable_body_is_redacted_from_the_excerpt() {
    let server = answering(200, &[], format!("oops {TOKEN} 7|{SECRET_HALF}"));
    let err = client(&server).get_gateway(TOKEN, "g1").unwrap_err();
    assert_secret_free(&err, &[SECRET_HALF]);
    assert!(matches!(api(err), ApiError::Parse { .. }));
    // A token too short to look like one, and one escaped as PHP's json_encode writes it.
    for (token, echoed) in [("sh0rt-t0ken", "sh0rt-t0ken"), ("ab/cd/ef", r"ab\/cd\/ef")] {
        let server = answering(200, &[], format!("oops {echoed} oops"));
        let err = client(&server).get_gateway(token, "g1").unwrap_err();
        assert_secret_free(&err, &[echoed, token]);
    }
}

#[test]
fn a_token_in_a_redirect_location_never_reaches_the_error() {
    const MACHINE: &str = "m4ch1net0kenabcdef0123456789";
    let location = format!("https://{MACHINE}.evil.example/x");
    let server =
        Hostile::start(move |_| Reply::Bytes(json(302, &[("Location", location.as_str())], "{}")));
    let err = client(&server).list_gateways(MACHINE).unwrap_err();
    assert_secret_free(&err, &[MACHINE]);
    assert!(matches!(api(err), ApiError::Redirected { .. }));
}

#[test]
fn a_device_token_echoed_by_check_login_is_redacted() {
    const DEVICE: &str = "dev1ce-t0ken-0123456789abcdef";
    for (status, body) in [
        (500, format!(r#"{{"message":"device {DEVICE} broke"}}"#)),
        (200, format!("not json {DEVICE}")),
    ] {
        let server = answering(status, &[], body);
        let err = client(&server).check_login(DEVICE).unwrap_err();
        assert_secret_free(&err, &[DEVICE]);
    }
}

#[test]
fn a_9_mib_message_is_cut_to_a_few_kib_and_marked_truncated() {
    let server = answering(
        500,
        &[],
        format!(r#"{{"message":"{}{TOKEN}"}}"#, "m".repeat(9 * 1024 * 1024)),
    );
    let client = RunbeamClient::builder(server.url())
        .use_env_proxy(false)
        .body_limit(16 * 1024 * 1024)
        .build()
        .unwrap();
    let err = client.list_gateways(TOKEN).unwrap_err();
    assert!(
        err.to_string().len() < 6 * 1024,
        "{}",
        err.to_string().len()
    );
    assert!(format!("{err:?}").len() < 6 * 1024);
    match api(err) {
        ApiError::Status { body, .. } => {
            assert!(body.truncated);
            assert!(body.message.unwrap().ends_with("[truncated]"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_huge_validation_errors_map_is_bounded() {
    let fields: Vec<String> = (0..50_000)
        .map(|i| format!(r#""f{i}":["{}"]"#, "e".repeat(100)))
        .collect();
    let server = answering(
        422,
        &[],
        format!(r#"{{"errors":{{{}}}}}"#, fields.join(",")),
    );
    let err = client(&server)
        .create_gateway(TOKEN, &GatewayRequest::default())
        .unwrap_err();
    assert!(format!("{err:?}").len() < 16 * 1024);
    let ApiError::Status { body, .. } = api(err) else {
        panic!("expected a status error")
    };
    assert!(body.truncated && body.errors.len() < 100);
}

// ---------------------------------------------------------------- connections

#[test]
fn a_stale_keep_alive_connection_is_retried_once_on_a_fresh_one() {
    // The first connection answers once, then drops the next request unanswered, as a server
    // that closed an idle keep-alive connection does.
    let server = Hostile::start(|seen| match (seen.index, seen.on_connection) {
        (0, _) | (_, 0) => Reply::Bytes(json(200, &[], GATEWAY)),
        _ => Reply::Close,
    });
    let client = client(&server);
    client.get_gateway(TOKEN, "g1").unwrap();
    let again = client.get_gateway(TOKEN, "g1").unwrap();
    assert_eq!(again.id.as_deref(), Some("g1"));
    assert_eq!((server.connections(), server.requests()), (2, 3));
}

#[test]
fn a_connection_dropped_after_connecting_is_connection_lost_not_connect() {
    let server = Hostile::start(|_| Reply::Close);
    let client = client(&server);
    let err = client.get_gateway(TOKEN, "g1").unwrap_err();
    assert!(matches!(api(err), ApiError::ConnectionLost(_)));
    assert_eq!(
        server.requests(),
        2,
        "an idempotent request is retried once"
    );

    let err = client
        .create_gateway(TOKEN, &GatewayRequest::default())
        .unwrap_err();
    assert!(matches!(api(err), ApiError::ConnectionLost(_)));
    assert_eq!(server.requests(), 3, "a POST is never sent twice");
}

#[test]
fn an_unknown_host_is_a_connect_error() {
    let client = RunbeamClient::builder("https://runbeam-sdk-test.invalid")
        .use_env_proxy(false)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let err = api(client.list_gateways(TOKEN).unwrap_err());
    assert!(matches!(err, ApiError::Connect(_)), "{err:?}");
}

// ---------------------------------------------------------------- the key-set fetch

#[test]
fn a_hostile_key_set_server_gets_a_short_typed_error_and_never_a_panic() {
    use common::jwt::{claims, Signer};
    use runbeam_sdk_blocking::{JwtError, JwtValidationOptions, JwtValidator};

    let junk = "x".repeat(256 * 1024);
    let replies = [
        format!("HTTP/1.1 200 {junk}\r\n\r\n"),
        format!("HTTP/1.1 200 OK\r\nX-Junk: {junk}\r\nContent-Length: 2\r\n\r\n{{}}"),
        "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n{}".to_owned(),
        format!("garbage {junk}"),
    ];
    let token = Signer::main().token(&claims());
    for reply in replies {
        let server = Hostile::start(move |_| Reply::BytesThenClose(reply.clone().into_bytes()));
        let options = JwtValidationOptions::new().with_jwks_uri(format!("{}/jwks", server.url()));
        let err = within(Duration::from_secs(5), || {
            JwtValidator::new(options)
                .unwrap()
                .validate(&token)
                .unwrap_err()
        });
        assert!(
            matches!(
                &err,
                RunbeamError::Jwt(
                    JwtError::JwksFetch { .. }
                        | JwtError::JwksTooLarge(_)
                        | JwtError::JwksInvalid(_)
                )
            ),
            "{err:?}"
        );
        assert!(all_text(&err).len() < 2048, "{}", all_text(&err).len());
    }
}

// ---------------------------------------------------------------- the change loop

/// A Runbeam whose change listing is `pages(page)` (ids, and whether a next page follows),
/// which acknowledges whatever it is asked to, and answers the `report`-th outcome report
/// (0-based) with `report(n)`. It logs every request target in order.
struct Changes {
    server: Hostile,
    log: Arc<Mutex<Vec<String>>>,
}

type Pages = dyn Fn(u64) -> (Vec<String>, bool) + Send + Sync;
type Reports = dyn Fn(usize) -> Reply + Send + Sync;

impl Changes {
    fn start(
        pages: impl Fn(u64) -> (Vec<String>, bool) + Send + Sync + 'static,
        report: impl Fn(usize) -> Reply + Send + Sync + 'static,
    ) -> Changes {
        let log = Arc::new(Mutex::new(Vec::new()));
        let reports = AtomicUsize::new(0);
        let (pages, report): (Box<Pages>, Box<Reports>) = (Box::new(pages), Box::new(report));
        let seen_log = Arc::clone(&log);
        let server = Hostile::start(move |seen| {
            seen_log.lock().unwrap().push(seen.target.clone());
            let path = seen.target.split('?').next().unwrap_or_default();
            if path == "/api/harmony/changes" {
                let page = page_of(&seen.target);
                let (ids, more) = pages(page);
                let data: Vec<_> = ids
                    .iter()
                    .map(|id| serde_json::json!({"id": id, "type": "gateway", "status": "pending"}))
                    .collect();
                let next = more.then(|| format!("http://x/api/harmony/changes?page={}", page + 1));
                let body = serde_json::json!({"data": data, "links": {"next": next}});
                Reply::Bytes(json(200, &[], &body.to_string()))
            } else if path == "/api/harmony/changes/acknowledge" {
                let asked: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
                let body = serde_json::json!({"acknowledged": asked["change_ids"]});
                Reply::Bytes(json(200, &[], &body.to_string()))
            } else {
                report(reports.fetch_add(1, Ordering::SeqCst))
            }
        });
        Changes { server, log }
    }

    fn poller(&self) -> ChangePoller {
        self.poller_with(|builder| builder)
    }

    /// A poller whose client `configure` adjusts.
    fn poller_with(
        &self,
        configure: impl FnOnce(RunbeamClientBuilder) -> RunbeamClientBuilder,
    ) -> ChangePoller {
        let builder = RunbeamClient::builder(self.server.url())
            .timeout(Duration::from_secs(1))
            .use_env_proxy(false);
        let client = configure(builder).build().unwrap();
        let token = MachineToken::new(TOKEN.to_owned(), "2999-01-01T00:00:00Z", "g1", "gw", vec![]);
        ChangePoller::new(client, token)
    }

    /// The targets requested so far whose path starts with `prefix`.
    fn requests(&self, prefix: &str) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|t| t.starts_with(prefix))
            .cloned()
            .collect()
    }
}

fn ok_report(_: usize) -> Reply {
    Reply::Bytes(json(200, &[], r#"{"success":true}"#))
}

fn ids(range: std::ops::Range<u64>) -> Vec<String> {
    range.map(|i| format!("c{i}")).collect()
}

#[test]
fn a_change_listed_twice_on_a_page_or_on_two_pages_is_handed_over_once() {
    let server = Changes::start(
        |page| match page {
            1 => (vec!["a".into(), "b".into(), "a".into()], true),
            _ => (vec!["b".into(), "c".into(), "a".into()], false),
        },
        ok_report,
    );
    let mut poller = server.poller();
    let mut handed = Vec::new();
    let report = poller.poll_once(|c| {
        handed.push(c.id.clone());
        Ok::<(), String>(())
    });
    assert!(report.error.is_none(), "{report:?}");
    assert_eq!(handed, ["a", "b", "c"]);
    assert_eq!(report.applied, ["a", "b", "c"]);
    // The server lists them all again as pending: nothing is handed over a second time.
    let again = poller.poll_once(|c| Err(format!("{} handed over again", c.id)));
    assert!(
        again.error.is_none() && again.failed.is_empty(),
        "{again:?}"
    );
    assert_eq!(server.requests("/api/harmony/change/").len(), 3);
}

#[test]
fn an_endless_listing_is_streamed_and_one_poll_hands_over_a_bounded_number() {
    // Every page names a next one with 50 new changes: collecting them all never ends.
    let server = Changes::start(|page| (ids(page * 50..page * 50 + 50), true), ok_report);
    let mut poller = server.poller().max_changes_per_poll(120);
    let mut pages_seen_at_first_apply = None;
    let mut handed = 0;
    let report = within(Duration::from_secs(10), || {
        poller.poll_once(|_| {
            pages_seen_at_first_apply
                .get_or_insert_with(|| server.requests("/api/harmony/changes?").len());
            handed += 1;
            Ok::<(), String>(())
        })
    });
    assert!(report.error.is_none(), "{report:?}");
    assert_eq!(
        (handed, report.applied.len(), report.more),
        (120, 120, true)
    );
    // Streamed: the first change is applied before the second page is fetched, and the
    // poll stops fetching once its bound is reached.
    assert_eq!(pages_seen_at_first_apply, Some(1));
    assert_eq!(server.requests("/api/harmony/changes?").len(), 3);
}

#[test]
fn a_refused_report_is_kept_retried_first_and_the_change_never_handed_over_again() {
    // The first three reports fail (500, 429, a stall past the 1 s timeout), then the
    // server takes them.
    let server = Changes::start(
        |_| (vec!["a".into(), "b".into()], false),
        |n| match n {
            0 => Reply::Bytes(json(500, &[], "{}")),
            1 => Reply::Bytes(json(429, &[], "{}")),
            2 => Reply::After(Duration::from_secs(3), json(200, &[], "{}")),
            _ => ok_report(n),
        },
    );
    let mut poller = server.poller();
    let mut handed = Vec::new();
    let mut apply = |c: &runbeam_sdk_blocking::api::Change| {
        handed.push(c.id.clone());
        Ok::<(), String>(())
    };
    let first = poller.poll_once(&mut apply);
    assert_eq!(first.unreported, ["a"]);
    assert!(first.applied.is_empty());
    let stage = first.error.as_ref().map(|e| e.stage().clone());
    assert_eq!(
        stage,
        Some(PollStage::Reporting {
            change_id: "a".into()
        })
    );
    // While the outcome is owed, nothing is listed and nothing new is handed over.
    for _ in 0..2 {
        let owed = poller.poll_once(&mut apply);
        assert_eq!(owed.unreported, ["a"], "{owed:?}");
        assert!(owed.error.is_some());
    }
    assert_eq!(server.requests("/api/harmony/changes?").len(), 1);
    assert_eq!(poller.unreported(), ["a"]);
    // The server takes it; `a`, still listed as pending, is not handed over again.
    let settled = poller.poll_once(&mut apply);
    assert!(settled.error.is_none(), "{settled:?}");
    assert!(settled.unreported.is_empty() && poller.unreported().is_empty());
    assert_eq!(settled.applied, ["b"]);
    assert_eq!(handed, ["a", "b"]);
    let reports = server.requests("/api/harmony/change/");
    assert_eq!(reports.len(), 5, "{reports:?}");
    assert!(reports[..4]
        .iter()
        .all(|r| r == "/api/harmony/change/a/applied"));
}

#[test]
fn run_hands_nothing_over_after_its_deadline_and_reports_what_it_handed_over() {
    let server = Changes::start(|_| (ids(0..100), false), ok_report);
    let mut poller = server.poller();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let deadline = started + Duration::from_millis(500);
    let mut handed = 0;
    let summary = poller.run(&stop, Some(deadline), |_| {
        handed += 1;
        std::thread::sleep(Duration::from_millis(50));
        Ok::<(), String>(())
    });
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert!((5..=12).contains(&handed), "{handed} handed over");
    assert_eq!(summary.applied.len(), handed);
    assert_eq!(server.requests("/api/harmony/change/").len(), handed);
    assert_eq!(summary.stopped, StopReason::Deadline);
}

#[test]
#[cfg(feature = "testing")]
fn a_zero_interval_polls_at_most_once_a_second() {
    let clock = runbeam_sdk_blocking::testing::ManualClock::new();
    let server = Changes::start(|_| (Vec::new(), false), ok_report);
    let mut poller = server
        .poller_with(|builder| builder.clock(&clock))
        .interval(Duration::ZERO);
    let deadline = clock.now() + Duration::from_secs(600);
    // A spinning loop never moves the test's clock: bounded, so it fails instead of hanging.
    let run = move || {
        poller.run(&AtomicBool::new(false), Some(deadline), |_| {
            Ok::<(), String>(())
        })
    };
    let summary = common::bounded::within(Duration::from_secs(30), "a zero-interval run", run);
    let listings = server.requests("/api/harmony/changes?").len();
    // Ten minutes on the test's clock, one poll a second (the last second ends at the
    // deadline): 600, where a spinning loop would make thousands.
    assert_eq!(listings, 600);
    assert_eq!(summary.polls as usize, listings);
}

// ---------------------------------------------------------------- what a user reads

/// A loopback URL on which nothing listens.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// A server that answers nothing for 5 s.
fn stalling() -> Hostile {
    Hostile::start(|_| Reply::After(Duration::from_secs(5), json(200, &[], "{}")))
}

fn api_error_on(url: &str, timeout: Duration) -> RunbeamError {
    let client = RunbeamClient::builder(url)
        .use_env_proxy(false)
        .timeout(timeout)
        .build()
        .unwrap();
    let err = within(Duration::from_secs(8), || {
        client.list_gateways(TOKEN).unwrap_err()
    });
    assert_secret_free(&err, &[TOKEN, SECRET_HALF]);
    err
}

#[test]
fn an_api_that_refuses_the_connection_says_so() {
    let err = api_error_on(&refused_url(), Duration::from_secs(5));
    assert_says(
        &err,
        &["could not connect to the Runbeam API", "connection refused"],
    );
    assert_eq!(api(err).network_cause(), Some(NetworkCause::Refused));
}

#[test]
fn an_api_host_that_does_not_resolve_says_host_not_found() {
    let err = api_error_on("https://runbeam-sdk-test.invalid", Duration::from_secs(5));
    assert_says(
        &err,
        &["could not connect to the Runbeam API", "host not found"],
    );
    assert_eq!(api(err).network_cause(), Some(NetworkCause::HostNotFound));
}

#[test]
fn an_api_that_stalls_says_it_timed_out() {
    let server = stalling();
    let err = api_error_on(&server.url(), Duration::from_millis(300));
    assert_says(&err, &["Runbeam API", "timed out"]);
}

#[test]
fn an_api_certificate_nobody_trusts_says_it_is_not_trusted() {
    let url = common::tls::tls_server(r#"{"data":[]}"#);
    let err = api_error_on(&url, Duration::from_secs(5));
    assert_says(&err, &["TLS handshake", "certificate is not trusted"]);
    assert_eq!(
        api(err).network_cause(),
        Some(NetworkCause::CertificateNotTrusted)
    );
}

#[test]
fn plain_http_to_a_remote_host_says_https_is_required() {
    let err = RunbeamClient::builder("http://api.runbeam.io")
        .build()
        .unwrap_err();
    assert_says(&err, &["base URL", "must use https"]);
}

#[test]
fn an_error_status_says_the_status_and_the_servers_message_once() {
    let server =
        Hostile::start(|_| Reply::Bytes(json(503, &[], r#"{"message":"Down for maintenance"}"#)));
    let err = api_error_on(&server.url(), Duration::from_secs(5));
    assert_says(&err, &["HTTP 503", "Down for maintenance"]);
}

/// The key-set fetch's error for `jwks_url`, through a validator that trusts only it.
fn key_set_error(jwks_url: &str) -> RunbeamError {
    use common::jwt::{claims, Signer};
    use runbeam_sdk_blocking::{JwtValidationOptions, JwtValidator};
    let options = JwtValidationOptions::new()
        .with_jwks_uri(jwks_url.to_owned())
        .with_jwks_timeout(Duration::from_millis(500));
    let token = Signer::main().token(&claims());
    let err = within(Duration::from_secs(8), || {
        JwtValidator::new(options)
            .unwrap()
            .validate(&token)
            .unwrap_err()
    });
    let signature = token.rsplit('.').next().unwrap();
    assert_secret_free(&err, &[signature]);
    err
}

#[test]
fn a_key_set_that_cannot_be_fetched_says_why() {
    let refused = key_set_error(&format!("{}/jwks", refused_url()));
    assert_says(
        &refused,
        &["fetching the key set from", "connection refused"],
    );
    let unresolved = key_set_error("https://runbeam-sdk-test.invalid/jwks");
    assert_says(
        &unresolved,
        &["fetching the key set from", "host not found"],
    );
    let untrusted = key_set_error(&format!("{}/jwks", common::tls::tls_server("{}")));
    assert_says(
        &untrusted,
        &["fetching the key set from", "certificate is not trusted"],
    );
    match &untrusted {
        RunbeamError::Jwt(runbeam_sdk_blocking::JwtError::JwksFetch { cause, .. }) => {
            assert_eq!(*cause, NetworkCause::CertificateNotTrusted)
        }
        other => panic!("{other:?}"),
    }
    let server = stalling();
    let slow = key_set_error(&format!("{}/jwks", server.url()));
    assert_says(&slow, &["key set", "timed out"]);
}

#[test]
fn an_untrusted_issuer_is_told_what_this_validator_trusts_and_never_how_to_trust_it() {
    use common::jwt::{claims, Signer};
    use runbeam_sdk_blocking::{JwtValidationOptions, JwtValidator};
    let options =
        JwtValidationOptions::new().with_trusted_issuers(vec!["https://issuer.example".into()]);
    let token = Signer::main().token(&claims());
    let err = JwtValidator::new(options)
        .unwrap()
        .validate(&token)
        .unwrap_err();
    assert_says(
        &err,
        &[
            "token issuer \"https://api.runbeam.io/",
            "is not trusted (this validator trusts https://issuer.example)",
        ],
    );
    let text = err.to_string();
    assert!(
        !text.contains("RUNBEAM_") && !text.contains("to trust it"),
        "{text}"
    );
}

#[test]
fn a_poller_whose_api_is_down_says_why_without_a_logger() {
    let client = RunbeamClient::builder(refused_url())
        .use_env_proxy(false)
        .build()
        .unwrap();
    let token = MachineToken::new(TOKEN.to_owned(), "2999-01-01T00:00:00Z", "g1", "gw", vec![]);
    let mut poller = ChangePoller::new(client, token);
    let deadline = Instant::now() + Duration::from_millis(300);
    let summary = poller.run(&AtomicBool::new(false), Some(deadline), |_| {
        Ok::<(), String>(())
    });
    let text = summary.to_string();
    assert!(
        text.contains("listing the pending changes failed: could not connect to the Runbeam API: connection refused")
            && text.contains("stopped at the deadline"),
        "{text}"
    );
    assert_says(&summary.errors[0], &["connection refused"]);
    assert!(!text.contains(SECRET_HALF));
}

/// One error of every variant of the API, verifier and configuration families.
fn one_of_each() -> Vec<RunbeamError> {
    use runbeam_sdk_blocking::api::{BaseUrlError, ResourceReference};
    use runbeam_sdk_blocking::{ConfigError, JwtError, OriginError};
    let serde = || serde_json::from_str::<u32>("x").unwrap_err();
    let ureq_error = |e| Box::new(e);
    let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    let untrusted = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
    let api = vec![
        ApiError::Status {
            status: 500,
            body: Box::default(),
        },
        ApiError::Redirected {
            status: 302,
            location_origin: Some("https://elsewhere.example".into()),
        },
        ApiError::Timeout,
        ApiError::Connect(ureq_error(ureq::Error::ConnectionFailed)),
        ApiError::ConnectionLost(ureq_error(ureq::Error::Io(reset))),
        ApiError::Tls(ureq_error(ureq::Error::Rustls(untrusted))),
        ApiError::Transport(ureq_error(ureq::Error::BadUri("x".into()))),
        ApiError::BodyTooLarge { limit: 10 },
        ApiError::Parse {
            status: 200,
            excerpt: "x".into(),
            source: serde(),
        },
        ApiError::InvalidBaseUrl(BaseUrlError::InsecureScheme),
        ApiError::InvalidBaseUrl(BaseUrlError::Origin(OriginError::Credentials)),
        ApiError::InvalidToken,
        ApiError::BearerPrefix,
        ApiError::Serialize(serde()),
        ApiError::LoginProtocol("no token"),
        ApiError::EmptyPathSegment,
        ApiError::TooManyPages { limit: 3 },
        ApiError::DiscoveredUrlRefused {
            url: "http://evil.example".into(),
            reason: Box::new(BaseUrlError::InsecureScheme),
        },
        ApiError::InvalidReference(ResourceReference::parse("a.b").unwrap_err()),
        ApiError::LoginTimedOut,
        ApiError::LoginExpired,
        ApiError::LoginInvalid,
    ];
    let jwt = vec![
        JwtError::TooLarge { len: 1, max: 1 },
        JwtError::Malformed("m"),
        JwtError::DuplicateMember("claims"),
        JwtError::UnsupportedAlg("\"HS256\"".into()),
        JwtError::UnsupportedCrit,
        JwtError::MissingKid,
        JwtError::UnexpectedType("\"x\"".into()),
        JwtError::UnknownKey("k".into()),
        JwtError::AmbiguousKey("k".into()),
        JwtError::KeyRejected("r"),
        JwtError::BadSignature,
        JwtError::Expired,
        JwtError::NotYetValid,
        JwtError::IssuedInFuture,
        JwtError::TooOld,
        JwtError::ExpiresTooSoon,
        JwtError::MissingClaim("c".into()),
        JwtError::ClaimFormat("c"),
        JwtError::UntrustedIssuer {
            issuer: "\"i\"".into(),
            trusted: "this validator trusts https://x".into(),
        },
        JwtError::ClaimMismatch("mesh_id"),
        JwtError::AudienceMismatch,
        JwtError::BadAuthorizationHeader("h"),
        JwtError::JwksFetch {
            url: "u".into(),
            cause: NetworkCause::Refused,
            error: Arc::new(ureq::Error::ConnectionFailed),
        },
        JwtError::JwksStatus {
            url: "u".into(),
            status: 500,
        },
        JwtError::JwksTimeout("u".into()),
        JwtError::JwksTooLarge("u".into()),
        JwtError::JwksInvalid("i"),
    ];
    let config = vec![
        ConfigError::InvalidEnv {
            name: "RUNBEAM_API_URL",
            reason: "r".into(),
        },
        ConfigError::InvalidUrl(OriginError::MissingHost),
        ConfigError::InvalidField {
            field: "expires_at",
            reason: "r",
        },
        ConfigError::InvalidOption {
            option: "o",
            reason: "r".into(),
        },
    ];
    let storage = {
        use runbeam_sdk_blocking::storage::{BackendKind, Insecurity};
        use runbeam_sdk_blocking::StorageError as S;
        let denied = || std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let locked = || S::NoStorageAccess {
            backend: BackendKind::Keyring,
            reason: Some(Box::new(denied())),
        };
        vec![
            locked(),
            S::NoStorageAccess {
                backend: BackendKind::Keyring,
                reason: None,
            },
            S::TooLarge {
                backend: BackendKind::Keyring,
                limit: 2560,
            },
            S::Platform {
                backend: BackendKind::Keyring,
                error: Box::new(denied()),
            },
            S::InvalidName {
                what: "instance id",
                reason: "contains a path separator",
            },
            S::Corrupt {
                name: "auth".into(),
                reason: "not an age file",
            },
            S::WrongKey {
                name: "auth".into(),
            },
            S::PassphraseEncrypted {
                name: "auth".into(),
            },
            S::MissingKey {
                path: "/home/u/.runbeam/inst/encryption.key".into(),
            },
            S::InvalidKey {
                origin: "RUNBEAM_ENCRYPTION_KEY",
                reason: "not an age X25519 secret key",
            },
            S::InsecurePermissions {
                path: "/home/u/.runbeam".into(),
                why: Insecurity::WritableByOthers { mode: 0o777 },
            },
            S::InsecurePermissions {
                path: "/home/u/.runbeam/inst".into(),
                why: Insecurity::ForeignOwner {
                    owner: 1001,
                    expected: 1000,
                },
            },
            S::InsecurePermissions {
                path: "/home/u/.runbeam/inst/auth.json".into(),
                why: Insecurity::Link,
            },
            S::Unloadable {
                name: "auth".into(),
                reason: "larger than 1 MiB",
            },
            S::Locked {
                path: "/home/u/.runbeam/inst/.lock".into(),
                waited: std::time::Duration::from_secs(5),
            },
            S::NotAFile {
                path: "/home/u/.runbeam/inst/auth.json".into(),
            },
            S::Io {
                op: "read",
                path: "/home/u/.runbeam/inst/auth.json".into(),
                error: denied(),
            },
            S::Encode {
                name: "auth".into(),
            },
            S::Encrypt,
            S::NoBackend {
                reason: "no persistent backend compiled in",
            },
            S::PartialClear {
                name: "auth".into(),
                remaining: vec![BackendKind::Keyring],
                cause: Box::new(locked()),
            },
        ]
    };
    let api = api.into_iter().map(RunbeamError::from);
    let jwt = jwt.into_iter().map(RunbeamError::from);
    let all = api
        .chain(jwt)
        .chain(config.into_iter().map(RunbeamError::from))
        .chain(storage.into_iter().map(RunbeamError::from));
    #[cfg(feature = "validation")]
    let all = all.chain(validation_samples().into_iter().map(RunbeamError::from));
    all.collect()
}

#[cfg(feature = "validation")]
fn validation_samples() -> Vec<runbeam_sdk_blocking::validation::ValidationError> {
    use runbeam_sdk_blocking::validation::ValidationError as V;
    let path = || "network.default.tcp_config.bind_port".to_string();
    let single = vec![
        V::MissingRequiredField { field_path: path() },
        V::InvalidType {
            field_path: path(),
            expected: "integer".into(),
            found: "string".into(),
        },
        V::InvalidEnumValue {
            field_path: path(),
            value: "h3".into(),
            allowed: vec!["http".into(), "https".into()],
        },
        V::OutOfRange {
            field_path: path(),
            value: "0".into(),
            min: Some("1".into()),
            max: Some("65535".into()),
        },
        V::InvalidArrayLength {
            field_path: path(),
            length: 0,
            min: Some(1),
            max: None,
        },
        V::PatternMismatch {
            field_path: path(),
            pattern: "^[a-z]+$".into(),
        },
        V::ConditionalRequirementFailed {
            field_path: path(),
            condition: "tcp_config exists".into(),
        },
        V::UnexpectedTable {
            table_path: "proxxy".into(),
        },
        V::SchemaParseError("no [schema] table with a version".into()),
        V::TomlParseError("line 1, column 5: invalid string".into()),
        V::TooManyErrors { omitted: 3 },
    ];
    let mut all = single.clone();
    all.push(V::Multiple(single));
    all
}

#[test]
fn no_error_chain_says_a_phrase_twice() {
    for err in one_of_each() {
        assert!(!err.to_string().is_empty(), "{err:?}");
        assert_eq!(
            common::chain::repeated_phrase(&err),
            None,
            "in: {}",
            common::chain::printed(&err)
        );
    }
}
