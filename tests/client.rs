//! The API client against the fake Runbeam server: every operation, paging, each error kind,
//! timeouts, body cap, redirects, retries, device login; and the spec coverage check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::time::Duration;

use common::child::passes_behind_proxy;
use common::client::{assert_sent, client, client_on, path_matches, server};
use common::hostile::{json as hostile_json, Hostile, Reply};
use common::tls::{fixture_ca, fixture_leaf, tls_server, NOT_X509_PEM};
use runbeam_sdk_blocking::api::{
    AuthenticationRequest, BackendRequest, ChangeRoutes, ConfigAction, ConfigType, EndpointRequest,
    GatewayRequest, LoginState, MiddlewareRequest, NetworkRequest, PipelineRequest, PolicyRequest,
    ServiceRequest, TransformRequest,
};
use runbeam_sdk_blocking::api::{ChangePoller, MeshTokenClaims, PollStage, StopReason};
use runbeam_sdk_blocking::api::{TeamInfo, UserInfo};
use runbeam_sdk_blocking::testing::{FakeRunbeam, ManualClock, Scripted};
use runbeam_sdk_blocking::{ApiError, JwtError, JwtValidator};
use runbeam_sdk_blocking::{ConfigError, MachineToken, RetryPolicy, RunbeamClient, RunbeamError};
use serde_json::{json, Value};

fn api(err: RunbeamError) -> ApiError {
    match err {
        RunbeamError::Api(e) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn user() -> UserInfo {
    serde_json::from_value(json!({"id": "u1", "email": "ada@example.test", "name": "Ada"})).unwrap()
}

fn team() -> TeamInfo {
    serde_json::from_value(json!({"id": "t1", "name": "Team"})).unwrap()
}

// ---------------------------------------------------------------- spec coverage

fn spec_operations() -> BTreeSet<(String, String, String)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/runbeam-openapi.json"
    ))
    .unwrap();
    let spec: Value = serde_json::from_str(&text).unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                let id = op["operationId"].as_str().unwrap_or_default().to_string();
                ops.insert((method.to_uppercase(), path.clone(), id));
            }
        }
    }
    ops
}

// ---------------------------------------------------------------- every operation

/// Runs create / list / get / update / delete for one family and checks each request.
macro_rules! crud_cycle {
    ($server:expr, $client:expr, $token:expr, $plural:literal, $req:expr, $upd:expr,
     $create:ident, $list:expr, $get:ident, $update:ident, $delete:ident) => {{
        let (server, client, token): (&FakeRunbeam, &RunbeamClient, &str) =
            ($server, $client, $token);
        let created = client.$create(token, &$req).unwrap();
        let id = created.id.clone().expect("created resource has an id");
        let req = server.last_request().unwrap();
        assert_sent(&req, "POST", concat!("/api/", $plural), Some(token));
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.json(), serde_json::to_value(&$req).unwrap());

        let list: Option<fn(&RunbeamClient, &str) -> usize> = $list;
        if let Some(list) = list {
            assert_eq!(list(client, token), 1);
            assert_sent(
                &server.last_request().unwrap(),
                "GET",
                concat!("/api/", $plural),
                Some(token),
            );
        }

        let got = client.$get(token, &id).unwrap();
        assert_eq!(got.id.as_deref(), Some(id.as_str()));
        let path = format!("/api/{}/{}", $plural, id);
        assert_sent(&server.last_request().unwrap(), "GET", &path, Some(token));

        let updated = client.$update(token, &id, &$upd).unwrap();
        assert_eq!(updated.id.as_deref(), Some(id.as_str()));
        let req = server.last_request().unwrap();
        assert_sent(&req, "PUT", &path, Some(token));
        assert_eq!(req.json(), serde_json::to_value(&$upd).unwrap());

        let deleted = client.$delete(token, &id).unwrap();
        assert!(deleted.message.unwrap().contains("deleted"));
        assert_sent(
            &server.last_request().unwrap(),
            "DELETE",
            &path,
            Some(token),
        );
        assert!(api(client.$get(token, &id).unwrap_err()).is_not_found());
        (created, updated)
    }};
}

#[test]
fn every_operation_sends_the_spec_method_path_headers_and_body() {
    let server = server();
    let client = client(&server);
    let token = server.user_token();
    let t = token.as_str();
    let s = &server;
    let c = &client;

    let (g, g2) = crud_cycle!(
        s,
        c,
        t,
        "gateways",
        GatewayRequest {
            name: "gw-a".into(),
            enabled: Some(true),
            dns: Some(vec!["1.1.1.1".into()]),
            ..Default::default()
        },
        GatewayRequest {
            name: "gw-a".into(),
            enabled: Some(false),
            ..Default::default()
        },
        create_gateway,
        Some(|c, t| c.list_gateways(t).unwrap().data.len()),
        get_gateway,
        update_gateway,
        delete_gateway
    );
    assert_eq!((g.enabled, g2.enabled), (Some(true), Some(false)));
    crud_cycle!(
        s,
        c,
        t,
        "services",
        ServiceRequest { name: "svc".into() },
        ServiceRequest {
            name: "svc2".into()
        },
        create_service,
        Some(|c, t| c.list_services(t).unwrap().data.len()),
        get_service,
        update_service,
        delete_service
    );
    crud_cycle!(
        s,
        c,
        t,
        "endpoints",
        EndpointRequest {
            name: "ep".into(),
            service_id: Some("s1".into())
        },
        EndpointRequest {
            name: "ep".into(),
            service_id: None
        },
        create_endpoint,
        Some(|c, t| c.list_endpoints(t).unwrap().data.len()),
        get_endpoint,
        update_endpoint,
        delete_endpoint
    );
    crud_cycle!(
        s,
        c,
        t,
        "backends",
        BackendRequest { name: "be".into() },
        BackendRequest { name: "be2".into() },
        create_backend,
        Some(|c, t| c.list_backends(t).unwrap().data.len()),
        get_backend,
        update_backend,
        delete_backend
    );
    crud_cycle!(
        s,
        c,
        t,
        "pipelines",
        PipelineRequest {
            name: "pl".into(),
            service_id: None
        },
        PipelineRequest {
            name: "pl2".into(),
            service_id: Some("7".into())
        },
        create_pipeline,
        Some(|c, t| c.list_pipelines(t).unwrap().data.len()),
        get_pipeline,
        update_pipeline,
        delete_pipeline
    );
    crud_cycle!(
        s,
        c,
        t,
        "middlewares",
        MiddlewareRequest { name: "mw".into() },
        MiddlewareRequest { name: "mw2".into() },
        create_middleware,
        Some(|c, t| c.list_middlewares(t).unwrap().data.len()),
        get_middleware,
        update_middleware,
        delete_middleware
    );
    let (tr, _) = crud_cycle!(
        s,
        c,
        t,
        "transforms",
        TransformRequest {
            name: "tr".into(),
            instructions: Some("upper".into())
        },
        TransformRequest {
            name: "tr".into(),
            instructions: None
        },
        create_transform,
        Some(|c, t| c.list_transforms(t).unwrap().data.len()),
        get_transform,
        update_transform,
        delete_transform
    );
    assert_eq!(tr.options.unwrap().instructions.as_deref(), Some("upper"));
    let (po, _) = crud_cycle!(
        s,
        c,
        t,
        "policies",
        PolicyRequest {
            name: "po".into(),
            enabled: Some(true)
        },
        PolicyRequest {
            name: "po".into(),
            enabled: Some(false)
        },
        create_policy,
        Some(|c, t| c.list_policies(t).unwrap().data.len()),
        get_policy,
        update_policy,
        delete_policy
    );
    assert_eq!(
        po.enabled,
        Some(true),
        "the API sends 1; the client reads a bool"
    );
    let (nw, _) = crud_cycle!(
        s,
        c,
        t,
        "networks",
        NetworkRequest {
            name: "net".into(),
            enable_wireguard: true,
            interface: None,
            bind_address: "0.0.0.0".into(),
            bind_port: 8080
        },
        NetworkRequest {
            name: "net".into(),
            enable_wireguard: false,
            interface: Some("eth0".into()),
            bind_address: "127.0.0.1".into(),
            bind_port: 9090
        },
        create_network,
        None,
        get_network,
        update_network,
        delete_network
    );
    assert_eq!(nw.http.unwrap().bind_port, Some(8080));
    crud_cycle!(
        s,
        c,
        t,
        "authentications",
        AuthenticationRequest { name: "au".into() },
        AuthenticationRequest { name: "au2".into() },
        create_authentication,
        Some(|c, t| c.list_authentications(t).unwrap().data.len()),
        get_authentication,
        update_authentication,
        delete_authentication
    );

    // Harmony, changes (on the spec's routes), login, JWKS.
    let auth = client.authorize_gateway(t, "gw-code", None, None).unwrap();
    let machine = auth.machine_token.expose().clone();
    let client = spec_client(&server);
    let base = client.get_base_url(&machine).unwrap();
    assert_eq!(base.base_url, server.api_url());
    let change = server.add_change(&auth.gateway.id, json!({"toml_config": "[x]"}));
    assert_eq!(client.list_changes(&machine).unwrap().data.len(), 1);
    assert_eq!(client.get_change(&machine, &change).unwrap().id, change);
    client
        .acknowledge_changes(&machine, vec![change.clone()])
        .unwrap();
    client.mark_change_applied(&machine, &change).unwrap();
    client
        .mark_change_failed(&machine, &change, "boom", None)
        .unwrap();
    client.revoke_gateway(t, "gw-code").unwrap();
    let login = client.start_login().unwrap();
    client.check_login(login.device_token.expose()).unwrap();
    client.get_jwks().unwrap();

    // Every operation of the spec was sent, as the spec writes it (the crate's own test
    // checks that its route table is exactly the spec).
    let log = server.requests();
    let spec = spec_operations();
    assert_eq!(spec.len(), 60);
    for (method, path, id) in spec {
        assert!(
            log.iter()
                .any(|r| r.method == method && path_matches(&path, &r.path)),
            "{method} {path} ({id}) was never called"
        );
    }
}

#[test]
fn request_bodies_leave_out_none_fields() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    client
        .create_gateway(
            &t,
            &GatewayRequest {
                name: "x".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(server.last_request().unwrap().json(), json!({"name": "x"}));
}

#[test]
fn path_segments_are_percent_encoded() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let err = api(client.get_gateway(&t, "../a/b c?d#e").unwrap_err());
    assert!(err.is_not_found());
    assert_eq!(
        server.last_request().unwrap().path,
        "/api/gateways/..%2Fa%2Fb%20c%3Fd%23e"
    );
    assert!(matches!(
        api(client.get_gateway(&t, "").unwrap_err()),
        ApiError::EmptyPathSegment
    ));
}

// ---------------------------------------------------------------- harmony

#[test]
fn authorize_gateway_sends_the_spec_body_and_returns_a_30_day_machine_token() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let r = client
        .authorize_gateway(
            &t,
            "gateway-123",
            Some("ssh-ed25519 AAAA".into()),
            Some(vec!["a=1".into()]),
        )
        .unwrap();
    let req = server.last_request().unwrap();
    assert_sent(&req, "POST", "/api/harmony/authorize", Some(&t));
    assert_eq!(
        req.json(),
        json!({"token": t, "gateway_code": "gateway-123", "machine_public_key": "ssh-ed25519 AAAA", "metadata": ["a=1"]})
    );
    assert_eq!(r.expires_in, 2_592_000.0);
    assert!(
        r.expires_at.ends_with('Z') && r.expires_at.len() == 20,
        "{}",
        r.expires_at
    );
    assert_eq!(r.gateway.code, "gateway-123");
    assert!(!r.abilities.is_empty());
    assert!(!format!("{r:?}").contains(r.machine_token.expose().as_str()));

    client
        .authorize_gateway(&t, "gateway-123", None, None)
        .unwrap();
    assert_eq!(
        server.last_request().unwrap().json(),
        json!({"token": t, "gateway_code": "gateway-123"})
    );
}

#[test]
fn renew_machine_token_authorizes_the_same_gateway_again() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let first: MachineToken = client
        .authorize_gateway(&t, "gateway-123", None, None)
        .unwrap()
        .into();
    let renewed = client.renew_machine_token(&t, &first).unwrap();
    let req = server.last_request().unwrap();
    assert_sent(&req, "POST", "/api/harmony/authorize", Some(&t));
    assert_eq!(
        req.json(),
        json!({"token": t, "gateway_code": "gateway-123"})
    );
    assert_ne!(renewed.machine_token, first.machine_token);
    assert_eq!(
        (renewed.gateway_id.as_str(), renewed.gateway_code.as_str()),
        (first.gateway_id.as_str(), "gateway-123")
    );
    assert!(renewed.is_valid() && !renewed.needs_renewal());
    assert!(renewed.issued_at.is_some());
}

#[test]
fn renew_machine_token_without_a_gateway_code_is_a_config_error_without_a_request() {
    let server = server();
    let client = client(&server);
    let legacy = MachineToken::new("m".to_string(), "2030-01-01T00:00:00Z", "01J", "", vec![]);
    let err = client
        .renew_machine_token(&server.user_token(), &legacy)
        .unwrap_err();
    assert!(
        matches!(
            err,
            RunbeamError::Config(ConfigError::InvalidOption {
                option: "gateway_code",
                ..
            })
        ),
        "{err:?}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn revoked_machine_token_is_refused_with_401() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let machine = client
        .authorize_gateway(&t, "gw", None, None)
        .unwrap()
        .machine_token;
    client.get_base_url(machine.expose()).unwrap();
    client.revoke_gateway(&t, "gw").unwrap();
    assert_eq!(
        server.last_request().unwrap().json(),
        json!({"token": t, "gateway_code": "gw"})
    );
    let err = api(client.get_base_url(machine.expose()).unwrap_err());
    assert!(err.is_unauthorized() && !err.is_forbidden(), "{err:?}");
}

// ---------------------------------------------------------------- paging

#[test]
fn paging_fetches_page_n_and_collects_all_pages() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    server.set_per_page(2);
    for n in 0..5 {
        server.insert_resource("gateways", json!({"name": format!("g{n}")}));
    }
    let first = client.list_gateways(&t).unwrap();
    assert_eq!(first.data.len(), 2);
    let meta = first.meta.clone().unwrap();
    assert_eq!(
        (meta.total, meta.last_page, meta.current_page),
        (Some(5), Some(3), Some(1))
    );
    assert_eq!(server.last_request().unwrap().query, None);

    let third = client
        .gateway_pages(&t)
        .starting_at(3)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(third.data.len(), 1);
    assert_eq!(
        server.last_request().unwrap().query.as_deref(),
        Some("page=3")
    );
    assert_eq!(third.next_page(), None);

    server.clear_requests();
    let all = client.gateway_pages(&t).collect_all().unwrap();
    assert_eq!(all.len(), 5);
    let queries: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| r.query.unwrap())
        .collect();
    assert_eq!(queries, ["page=1", "page=2", "page=3"]);
}

#[test]
fn page_iteration_stops_on_a_repeated_or_missing_next() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let looping = json!({"data": [{"id": "a"}], "links": {"next": format!("{}/api/gateways?page=1", server.url())}});
    server.script(
        "/api/gateways",
        1,
        Scripted::status(200, looping.to_string()),
    );
    assert_eq!(client.gateway_pages(&t).collect_all().unwrap().len(), 1);
    assert_eq!(server.requests().len(), 1, "page 1 is not fetched twice");

    server.script(
        "/api/gateways",
        1,
        Scripted::status(200, r#"{"data":[{"id":1},{"id":2}]}"#),
    );
    let all = client.gateway_pages(&t).collect_all().unwrap();
    assert_eq!(
        all.iter()
            .map(|g| g.id.clone().unwrap())
            .collect::<Vec<_>>(),
        ["1", "2"]
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn next_links_to_another_origin_are_followed_only_by_page_number() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let page1 = json!({"data": [], "links": {"next": "https://evil.example/steal?page=2"}});
    server.script("/api/gateways", 1, Scripted::status(200, page1.to_string()));
    let pages: Vec<_> = client.gateway_pages(&t).collect();
    assert_eq!(pages.len(), 2);
    let last = server.last_request().unwrap();
    assert_eq!(
        (last.path.as_str(), last.query.as_deref()),
        ("/api/gateways", Some("page=2"))
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn statuses_map_to_distinguishable_errors_with_the_laravel_body() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();

    let e401 = api(client.list_gateways("1|not-issued").unwrap_err());
    assert!(e401.is_unauthorized(), "{e401:?}");
    server.script(
        "/api/gateways",
        1,
        Scripted::status(403, r#"{"message":"This action is unauthorized."}"#),
    );
    let e403 = api(client.list_gateways(&t).unwrap_err());
    assert!(e403.is_forbidden());
    assert_eq!(e403.to_string(), "HTTP 403: This action is unauthorized.");
    let e404 = api(client.get_service(&t, "nope").unwrap_err());
    assert!(e404.is_not_found());

    let e422 = api(client
        .create_backend(&t, &BackendRequest::default())
        .unwrap_err());
    assert_eq!(e422.status(), Some(422));
    assert_eq!(
        e422.validation_errors().unwrap()["name"],
        ["The name field is required."]
    );

    server.script(
        "/api/gateways",
        1,
        Scripted::status(500, "<html>oops</html>"),
    );
    match api(client.list_gateways(&t).unwrap_err()) {
        ApiError::Status { status: 500, body } => assert_eq!(body.message, None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_non_json_success_body_is_a_parse_error_with_a_token_free_excerpt() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let secret = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl";
    server.script(
        "/api/gateways",
        1,
        Scripted::malformed(format!("<html>token={secret}</html>")),
    );
    let err = api(client.list_gateways(&t).unwrap_err());
    let ApiError::Parse {
        status, excerpt, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 200);
    assert!(
        excerpt.contains("<html>") && !excerpt.contains("eyJ"),
        "{excerpt}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(secret) && !shown.contains(&t), "{shown}");
}

#[test]
fn a_stalling_server_gives_a_timeout() {
    let server = server();
    let client = RunbeamClient::builder(server.url())
        .timeout(Duration::from_millis(300))
        .use_env_proxy(false)
        .build()
        .unwrap();
    server.script("/api/gateways", 1, Scripted::delay(Duration::from_secs(3)));
    let err = api(client.list_gateways(&server.user_token()).unwrap_err());
    assert!(matches!(err, ApiError::Timeout), "{err:?}");
}

#[test]
fn a_closed_port_gives_a_connect_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = RunbeamClient::builder(format!("http://127.0.0.1:{port}"))
        .use_env_proxy(false)
        .build()
        .unwrap();
    let err = api(client.list_gateways("t").unwrap_err());
    assert!(matches!(err, ApiError::Connect(_)), "{err:?}");
}

#[test]
fn a_body_over_the_cap_is_refused() {
    let server = server();
    let client = RunbeamClient::builder(server.url())
        .body_limit(1024)
        .use_env_proxy(false)
        .build()
        .unwrap();
    let big = format!(r#"{{"data":[],"pad":"{}"}}"#, "x".repeat(4096));
    server.script("/api/gateways", 1, Scripted::status(200, big));
    let err = api(client.list_gateways(&server.user_token()).unwrap_err());
    assert!(
        matches!(err, ApiError::BodyTooLarge { limit: 1024 }),
        "{err:?}"
    );
}

#[test]
fn a_cross_origin_redirect_is_refused_and_the_token_never_reaches_the_other_origin() {
    let a = server();
    let b = server();
    let client = client(&a);
    let t = a.user_token();
    for status in [301, 302, 307, 308] {
        a.script(
            "/api/gateways",
            1,
            Scripted::redirect(status, &format!("{}/api/gateways?x=1", b.url())),
        );
        let err = api(client.list_gateways(&t).unwrap_err());
        match err {
            ApiError::Redirected {
                status: s,
                location_origin,
            } => {
                assert_eq!(s, status);
                assert_eq!(location_origin, Some(b.url()));
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        b.requests().is_empty(),
        "nothing may reach the other origin"
    );
}

#[test]
fn a_custom_agent_still_refuses_redirects() {
    let a = server();
    let b = server();
    let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
    let client = RunbeamClient::builder(a.url())
        .agent(agent)
        .build()
        .unwrap();
    a.script(
        "/api/gateways",
        1,
        Scripted::redirect(302, &format!("{}/api/gateways", b.url())),
    );
    let err = api(client.list_gateways(&a.user_token()).unwrap_err());
    assert!(
        matches!(err, ApiError::Redirected { status: 302, .. }),
        "{err:?}"
    );
    assert!(b.requests().is_empty());
}

#[test]
fn invalid_base_url_is_a_typed_error_on_first_call() {
    let client = RunbeamClient::new("ftp://runbeam.io");
    assert!(matches!(
        api(client.list_gateways("t").unwrap_err()),
        ApiError::InvalidBaseUrl(_)
    ));
}

#[test]
fn base_url_with_api_and_trailing_slash_reaches_the_same_paths() {
    let server = server();
    let client = RunbeamClient::new(format!("{}/", server.api_url()));
    client.list_gateways(&server.user_token()).unwrap();
    assert_eq!(server.last_request().unwrap().path, "/api/gateways");
}

// ---------------------------------------------------------------- retries

fn retrying(server: &FakeRunbeam, policy: RetryPolicy) -> RunbeamClient {
    RunbeamClient::builder(server.url())
        .retry(policy)
        .use_env_proxy(false)
        .build()
        .unwrap()
}

#[test]
fn no_retries_by_default() {
    let server = server();
    let client = client(&server);
    server.script(
        "/api/gateways",
        1,
        Scripted::status(503, "{}").header("Retry-After", "0"),
    );
    assert_eq!(
        api(client.list_gateways(&server.user_token()).unwrap_err()).status(),
        Some(503)
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn idempotent_requests_are_retried_on_429_502_503_504_honouring_retry_after() {
    let server = server();
    let client = retrying(&server, RetryPolicy::new().max_retries(5));
    for status in [429, 502, 503, 504] {
        server.script(
            "/api/gateways",
            1,
            Scripted::status(status, "{}").header("Retry-After", "0"),
        );
    }
    client.list_gateways(&server.user_token()).unwrap();
    assert_eq!(server.requests().len(), 5);
}

#[test]
fn retries_are_bounded_in_count() {
    let server = server();
    let client = retrying(&server, RetryPolicy::new().max_retries(2));
    server.script(
        "/api/gateways",
        10,
        Scripted::status(503, "{}").header("Retry-After", "0"),
    );
    assert_eq!(
        api(client.list_gateways(&server.user_token()).unwrap_err()).status(),
        Some(503)
    );
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn retries_are_bounded_in_time_a_long_retry_after_is_not_waited_for() {
    let server = server();
    let client = retrying(
        &server,
        RetryPolicy::new().max_total_wait(Duration::from_secs(1)),
    );
    server.script(
        "/api/gateways",
        1,
        Scripted::status(429, "{}").header("Retry-After", "3600"),
    );
    assert_eq!(
        api(client.list_gateways(&server.user_token()).unwrap_err()).status(),
        Some(429)
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn post_is_never_retried() {
    let server = server();
    let client = retrying(&server, RetryPolicy::new());
    server.script(
        "/api/harmony/authorize",
        1,
        Scripted::status(503, "{}").header("Retry-After", "0"),
    );
    let err = api(client
        .authorize_gateway(&server.user_token(), "g", None, None)
        .unwrap_err());
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.requests().len(), 1);
}

// ---------------------------------------------------------------- changes

/// A client on `server` with the spec v1-2 change routes.
fn spec_client(server: &FakeRunbeam) -> RunbeamClient {
    RunbeamClient::builder(server.url())
        .use_env_proxy(false)
        .change_routes(ChangeRoutes::SpecV1_2)
        .build()
        .unwrap()
}

#[test]
fn change_routes_spec_v1_2_uses_the_gateway_routes() {
    let server = server();
    let client = spec_client(&server);
    let t = server.user_token();
    let c1 = server.add_change(
        "g1",
        json!({"operation": "update", "resourceType": "pipeline"}),
    );
    let c2 = server.add_change("g1", json!({"toml_config": "[pipeline]"}));

    let list = client.list_changes(&t).unwrap();
    assert_sent(
        &server.last_request().unwrap(),
        "GET",
        "/api/gateway/changes",
        Some(&t),
    );
    assert_eq!(list.data.len(), 2);
    assert_eq!(
        list.data[0].change_resource_type.as_deref(),
        Some("pipeline")
    );
    assert_eq!(
        client.get_change(&t, &c2).unwrap().toml_config.as_deref(),
        Some("[pipeline]")
    );

    let ack = client
        .acknowledge_changes(&t, vec![c1.clone(), "missing".into()])
        .unwrap();
    assert_eq!(
        (ack.acknowledged, ack.failed),
        (vec![c1.clone()], vec!["missing".to_string()])
    );
    let req = server.last_request().unwrap();
    assert_sent(&req, "POST", "/api/gateway/changes/acknowledge", Some(&t));
    assert_eq!(req.json(), json!({"change_ids": [c1, "missing"]}));

    assert_eq!(
        client.mark_change_applied(&t, &c1).unwrap().success,
        Some(true)
    );
    let req = server.last_request().unwrap();
    assert_sent(
        &req,
        "POST",
        &format!("/api/gateway/changes/{c1}/applied"),
        Some(&t),
    );
    assert_eq!(req.body, "");
    assert_eq!(server.change(&c1).unwrap()["status"], "applied");

    client
        .mark_change_failed(&t, &c2, "bad toml", Some(vec!["line 1".into()]))
        .unwrap();
    let req = server.last_request().unwrap();
    assert_sent(
        &req,
        "POST",
        &format!("/api/gateway/changes/{c2}/failed"),
        Some(&t),
    );
    assert_eq!(
        req.json(),
        json!({"error": "bad toml", "details": ["line 1"]})
    );
    client.mark_change_failed(&t, &c2, "again", None).unwrap();
    assert_eq!(
        server.last_request().unwrap().json(),
        json!({"error": "again"})
    );
    assert_eq!(server.change(&c2).unwrap()["error_message"], "again");
}

#[test]
fn change_management_uses_the_live_harmony_routes_by_default() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let c1 = server.add_change("g1", json!({"toml_config": "[proxy]"}));
    let c2 = server.add_change("g1", json!({"type": "pipeline", "pipeline_id": "p1"}));

    let list = client.list_changes(&t).unwrap();
    assert_sent(
        &server.last_request().unwrap(),
        "GET",
        "/api/harmony/changes",
        Some(&t),
    );
    assert_eq!(list.data.len(), 2);
    assert_eq!(list.data[0].resource_type, "gateway");
    assert_eq!(list.data[0].gateway_id, "g1");
    assert!(!list.data[0].created_at.is_empty());

    let one = client.get_change(&t, &c2).unwrap();
    assert_sent(
        &server.last_request().unwrap(),
        "GET",
        &format!("/api/harmony/change/{c2}"),
        Some(&t),
    );
    assert_eq!(one.pipeline_id.as_deref(), Some("p1"));
    assert_eq!(one.status.as_deref(), Some("pending"));

    client.acknowledge_changes(&t, vec![c1.clone()]).unwrap();
    let req = server.last_request().unwrap();
    assert_sent(&req, "POST", "/api/harmony/changes/acknowledge", Some(&t));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.json(), json!({"change_ids": [c1]}));
    assert_eq!(server.change(&c1).unwrap()["status"], "acknowledged");

    client.mark_change_applied(&t, &c1).unwrap();
    let req = server.last_request().unwrap();
    assert_sent(
        &req,
        "POST",
        &format!("/api/harmony/change/{c1}/applied"),
        Some(&t),
    );
    assert_eq!(req.body, "");
    assert_eq!(server.change(&c1).unwrap()["status"], "applied");

    client.mark_change_failed(&t, &c2, "bad", None).unwrap();
    let req = server.last_request().unwrap();
    assert_sent(
        &req,
        "POST",
        &format!("/api/harmony/change/{c2}/failed"),
        Some(&t),
    );
    assert_eq!(req.json(), json!({"error": "bad"}));
    assert_eq!(server.change(&c2).unwrap()["status"], "failed");

    client.get_base_url(&t).unwrap();
    assert_sent(
        &server.last_request().unwrap(),
        "GET",
        "/api/harmony/base-url",
        Some(&t),
    );
}

#[test]
fn documented_change_error_bodies_surface_in_the_api_error() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let c = server.add_change("g1", json!({}));

    // Laravel's `required` refuses an empty list, as the live server does.
    let e = api(client.acknowledge_changes(&t, vec![]).unwrap_err());
    assert_eq!(
        e.validation_errors().unwrap()["change_ids"],
        vec!["The change_ids field is required."]
    );

    let e = api(client.mark_change_failed(&t, &c, "", None).unwrap_err());
    assert_eq!(e.status(), Some(422));

    server.script(
        &format!("/api/harmony/change/{c}/applied"),
        1,
        Scripted::status(
            403,
            r#"{"error":"Forbidden","message":"This change does not belong to your gateway"}"#,
        ),
    );
    let e = api(client.mark_change_applied(&t, &c).unwrap_err());
    assert!(e.is_forbidden());
    assert_eq!(
        e.to_string(),
        "HTTP 403: Forbidden: This change does not belong to your gateway"
    );
    assert!(api(client.get_change(&t, "nope").unwrap_err()).is_not_found());
}

#[test]
fn a_machine_token_sees_and_reports_only_its_own_gateway_changes() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let auth = client.authorize_gateway(&t, "gw-a", None, None).unwrap();
    let machine = auth.machine_token.expose().clone();
    let mine = server.add_change(&auth.gateway.id, json!({}));
    let other = server.add_change("someone-else", json!({}));

    let ids: Vec<String> = (client.list_changes(&machine).unwrap().data)
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, vec![mine.clone()]);
    let e = api(client.mark_change_applied(&machine, &other).unwrap_err());
    assert!(e.is_forbidden(), "{e}");
    assert_eq!(server.change(&other).unwrap()["status"], "pending");
    client.mark_change_applied(&machine, &mine).unwrap();
    assert_eq!(server.change(&mine).unwrap()["status"], "applied");
}

#[test]
fn list_changes_for_gateway_sends_the_encoded_gateway_id_and_pages() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    server.set_per_page(2);
    for _ in 0..3 {
        server.add_change("g/1", json!({}));
    }
    server.add_change("g2", json!({}));

    let first = client.list_changes_for_gateway(&t, "g/1").unwrap();
    assert_sent(
        &server.last_request().unwrap(),
        "GET",
        "/api/harmony/changes/g%2F1",
        Some(&t),
    );
    assert_eq!(first.data.len(), 2);
    let second = client
        .change_pages_for_gateway(&t, "g/1")
        .starting_at(2)
        .next()
        .unwrap()
        .unwrap();
    let req = server.last_request().unwrap();
    assert_eq!(
        (req.path.as_str(), req.query.as_deref()),
        ("/api/harmony/changes/g%2F1", Some("page=2"))
    );
    assert_eq!(second.data.len(), 1);
    let all = client
        .change_pages_for_gateway(&t, "g/1")
        .collect_all()
        .unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|c| c.gateway_id == "g/1"));
    assert!(matches!(
        api(client.list_changes_for_gateway(&t, "").unwrap_err()),
        ApiError::EmptyPathSegment
    ));
}

#[test]
fn list_changes_for_a_gateway_of_another_team_is_forbidden_with_the_error_text() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let foreign = server
        .insert_resource(
            "gateways",
            json!({"name": "x", "code": "x", "team_id": "other"}),
        )
        .unwrap();
    let e = api(client.list_changes_for_gateway(&t, &foreign).unwrap_err());
    assert!(e.is_forbidden());
    assert!(
        e.to_string()
            .ends_with("Forbidden: This gateway does not belong to your team"),
        "{e}"
    );
}

#[test]
fn get_base_url_falls_back_to_the_origin_root_on_404() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    server.script(
        "/api/harmony/base-url",
        1,
        Scripted::status(404, r#"{"message":"Not found."}"#),
    );
    let base = client.get_base_url(&t).unwrap();
    assert_eq!(base.base_url, server.url());
    let log = server.requests();
    assert_eq!(log.len(), 2);
    assert_sent(&log[1], "GET", "/harmony/base-url", Some(&t));

    // Other errors are not retried elsewhere, and the spec routes have no fallback.
    server.clear_requests();
    server.script("/api/harmony/base-url", 1, Scripted::status(500, "{}"));
    assert_eq!(
        api(client.get_base_url(&t).unwrap_err()).status(),
        Some(500)
    );
    assert_eq!(server.requests().len(), 1);
    server.clear_requests();
    server.script("/api/gateway/base-url", 1, Scripted::status(404, "{}"));
    let e = api(spec_client(&server).get_base_url(&t).unwrap_err());
    assert!(e.is_not_found());
    assert_eq!(server.requests().len(), 1);
}

// ---------------------------------------------------------------- discovery

#[test]
fn discover_base_url_gives_a_client_on_the_server_named_base_keeping_settings() {
    let server = server();
    let client = RunbeamClient::builder(server.url())
        .use_env_proxy(false)
        .change_routes(ChangeRoutes::SpecV1_2)
        .build()
        .unwrap();
    let t = server.user_token();
    let discovered = client.discover_base_url(&t).unwrap();
    assert_eq!(discovered.base_url().unwrap(), server.api_url());
    // The spec routes were kept, and so was the agent: one connection for both clients.
    server.add_change("g1", json!({}));
    discovered.list_changes(&t).unwrap();
    assert_sent(
        &server.last_request().unwrap(),
        "GET",
        "/api/gateway/changes",
        Some(&t),
    );
    assert_eq!(server.connection_count(), 1);
}

#[test]
fn discover_base_url_refuses_a_server_supplied_url_that_breaks_the_base_url_rule() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    for (body, shown) in [
        (
            r#"{"base_url":"http://evil.example"}"#,
            "http://evil.example",
        ),
        (
            r#"{"base_url":"https://x.example","full_url":"https://x.example/v2/changes"}"#,
            "https://x.example/v2/changes",
        ),
    ] {
        server.script("/api/harmony/base-url", 1, Scripted::status(200, body));
        match api(client.discover_base_url(&t).unwrap_err()) {
            ApiError::DiscoveredUrlRefused { url, .. } => assert_eq!(url, shown),
            other => panic!("{other:?}"),
        }
    }
    server.clear_requests();
    // The token echoed past the refused part's length limit, so a cut would split it.
    let pad = "p".repeat(40);
    let token_echo = format!(r#"{{"base_url":"http://evil.example/{pad}{t}"}}"#);
    server.script(
        "/api/harmony/base-url",
        1,
        Scripted::status(200, token_echo),
    );
    let e = api(client.discover_base_url(&t).unwrap_err());
    let secret_half = t.split_once('|').unwrap().1;
    assert!(!format!("{e} {e:?}").contains(&secret_half[..12]), "{e:?}");
    assert_eq!(
        server.requests().len(),
        1,
        "nothing was sent to the refused URL"
    );
}

/// The child's token for the fake server, set by its parent.
const CHILD_TOKEN: &str = "RUNBEAM_TEST_CHILD_TOKEN";

#[test]
fn a_client_discovered_on_a_loopback_url_never_calls_through_the_environment_proxy() {
    let server = server();
    let api_url = server.api_url();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    // A CONNECT proxy that plays the remote API inside its tunnel: discovery names the
    // loopback fake server.
    let proxy = Hostile::start(move |request| {
        log.lock().unwrap().push(request.target.clone());
        let body = json!({ "base_url": api_url }).to_string();
        match request.method.as_str() {
            "CONNECT" => Reply::Bytes(b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec()),
            _ => Reply::Bytes(hostile_json(200, &[], &body)),
        }
    });
    let env = [(CHILD_TOKEN, server.user_token())];
    let passed = passes_behind_proxy("child_discovers_a_loopback_api", &proxy.url(), &env);
    assert!(passed, "the child's checks failed");
    assert_eq!(
        *seen.lock().unwrap(),
        ["runbeam.example:80", "/api/harmony/base-url"],
        "only the remote API went through the proxy"
    );
    assert_eq!(server.last_request().unwrap().path, "/api/gateways");
}

/// Child mode of the discovery proxy test; runs only with the environment its parent sets.
#[test]
#[ignore = "child process of a_client_discovered_on_a_loopback_url_never_calls_through_the_environment_proxy"]
fn child_discovers_a_loopback_api() {
    let token = std::env::var(CHILD_TOKEN).unwrap();
    let remote = RunbeamClient::builder("http://runbeam.example")
        .dangerous_allow_plain_http()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let discovered = remote.discover_base_url(&token).unwrap();
    assert!(discovered
        .base_url()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    discovered.list_gateways(&token).unwrap();
}

// ---------------------------------------------------------------- config push

#[test]
fn store_config_posts_type_id_and_config_and_reads_the_action() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let toml = "[transform]\nname = \"test\"\n";
    let created = client
        .store_config(&t, ConfigType::Transform, None, toml)
        .unwrap();
    let req = server.last_request().unwrap();
    assert_sent(&req, "POST", "/api/harmony/update", Some(&t));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.json(), json!({"type": "transform", "config": toml}));
    assert!(created.success);
    assert_eq!(created.data.action, ConfigAction::Created);
    assert_eq!(created.data.kind, "transform");

    let id = created.data.id.clone();
    let updated = client
        .store_config(&t, ConfigType::Transform, Some(&id), "[transform]")
        .unwrap();
    assert_eq!(
        server.last_request().unwrap().json(),
        json!({"type": "transform", "id": id, "config": "[transform]"})
    );
    assert_eq!(updated.data.action, ConfigAction::Updated);
    let pushes = server.config_pushes();
    assert_eq!(pushes.len(), 2);
    assert_eq!(pushes[1]["config"], "[transform]");
}

#[test]
fn store_config_errors_are_typed_404_and_422() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let e = api(client
        .store_config(&t, ConfigType::Gateway, Some("nope"), "[proxy]")
        .unwrap_err());
    assert!(e.is_not_found(), "{e}");
    let e = api(client
        .store_config(&t, ConfigType::Mesh, None, "")
        .unwrap_err());
    assert_eq!(e.validation_errors().unwrap()["config"].len(), 1);
    assert!(server.config_pushes().is_empty());
}

// ---------------------------------------------------------------- mesh tokens

/// A fake server with mesh `mesh-healthcare` and a gateway's machine token.
fn mesh_server() -> (FakeRunbeam, RunbeamClient, String) {
    let server = server();
    let client = client(&server);
    server.add_mesh("mesh-healthcare", &["https://partner.example.com"]);
    let auth = client
        .authorize_gateway(&server.user_token(), "gw-mesh", None, None)
        .unwrap();
    let machine = auth.machine_token.expose().clone();
    (server, client, machine)
}

const DEST: &str = "https://partner.example.com:8443/fhir/r4?x=1";

#[test]
fn request_mesh_token_posts_the_mesh_and_the_verbatim_url_and_the_receiver_verifies_it() {
    let (server, client, machine) = mesh_server();
    let url = "https://partner.example.com/fhir/r4?x=1&y=%20";
    let answer = client
        .request_mesh_token(&machine, "mesh-healthcare", url)
        .unwrap();
    let req = server.last_request().unwrap();
    assert_sent(&req, "POST", "/api/harmony/mesh/token", Some(&machine));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.json(),
        json!({"mesh_id": "mesh-healthcare", "destination_url": url})
    );
    assert_eq!(answer.mesh_id, "mesh-healthcare");
    assert!(!format!("{answer:?}").contains(answer.token.expose().as_str()));

    let options = MeshTokenClaims::validation_options(&server.url(), "mesh-healthcare");
    let validator = JwtValidator::new(options).unwrap();
    let claims =
        MeshTokenClaims::verify(&validator, answer.token.expose(), "mesh-healthcare", url).unwrap();
    assert_eq!(claims.dest_url, url);
    assert!(claims.source.starts_with("gateway:"));
    assert_eq!(claims.claims.exp - claims.claims.iat.unwrap(), 300);
}

#[test]
fn a_mesh_token_is_refused_at_another_url_in_another_mesh_or_from_another_issuer() {
    let (server, client, machine) = mesh_server();
    server.add_mesh("other-mesh", &["https://partner.example.com/"]);
    let token = client
        .request_mesh_token(&machine, "mesh-healthcare", DEST)
        .unwrap()
        .token;
    let token = token.expose();
    let jwt = |e: RunbeamError| match e {
        RunbeamError::Jwt(e) => e,
        other => panic!("{other:?}"),
    };
    let validator =
        |mesh| JwtValidator::new(MeshTokenClaims::validation_options(&server.url(), mesh)).unwrap();
    let healthcare = validator("mesh-healthcare");
    let e = jwt(MeshTokenClaims::verify(
        &healthcare,
        token,
        "mesh-healthcare",
        "https://partner.example.com:8443/fhir/r4",
    )
    .unwrap_err());
    assert!(matches!(e, JwtError::ClaimMismatch("dest_url")), "{e:?}");
    let e = jwt(
        MeshTokenClaims::verify(&validator("other-mesh"), token, "other-mesh", DEST).unwrap_err(),
    );
    assert!(matches!(e, JwtError::AudienceMismatch), "{e:?}");
    // A validator built for another mesh still cannot pass a token of this one as its own.
    let e = jwt(MeshTokenClaims::verify(&healthcare, token, "other-mesh", DEST).unwrap_err());
    assert!(matches!(e, JwtError::AudienceMismatch), "{e:?}");
    let elsewhere = JwtValidator::new(MeshTokenClaims::validation_options(
        "https://api.runbeam.io",
        "mesh-healthcare",
    ))
    .unwrap();
    let e = jwt(MeshTokenClaims::verify(&elsewhere, token, "mesh-healthcare", DEST).unwrap_err());
    assert!(matches!(e, JwtError::UntrustedIssuer { .. }), "{e:?}");
}

#[test]
fn the_fake_server_refuses_mesh_tokens_as_runbeam_does() {
    let (server, client, machine) = mesh_server();
    let status = |token: &str, mesh: &str, url: &str| {
        let e = api(client.request_mesh_token(token, mesh, url).unwrap_err());
        (e.status().unwrap(), e.to_string())
    };
    let user = server.user_token();
    assert_eq!(
        status(&user, "mesh-healthcare", DEST),
        (
            401,
            "HTTP 401: Unauthenticated: This endpoint requires gateway authentication.".into()
        )
    );
    assert_eq!(
        status(&machine, "nope", DEST),
        (
            404,
            "HTTP 404: Mesh not found: The specified mesh does not exist.".into()
        )
    );
    assert_eq!(
        status(&machine, "mesh-healthcare", "https://other.example/"),
        (403, "HTTP 403: No ingress matches destination URL".into())
    );
    assert!(server.set_mesh_enabled("mesh-healthcare", false));
    assert_eq!(
        status(&machine, "mesh-healthcare", DEST),
        (400, "HTTP 400: Mesh is disabled".into())
    );
}

#[test]
fn every_documented_mesh_token_error_body_surfaces_in_the_api_error() {
    let (server, client, machine) = mesh_server();
    for (code, body) in [
        (400, r#"{"error":"Mesh is disabled"}"#),
        (
            400,
            r#"{"error":"Mesh provider must be 'runbeam' for API token requests"}"#,
        ),
        (
            401,
            r#"{"error":"Unauthenticated","message":"This endpoint requires gateway authentication."}"#,
        ),
        (
            403,
            r#"{"error":"Gateway does not have egress rights in this mesh"}"#,
        ),
        (403, r#"{"error":"No ingress matches destination URL"}"#),
        (
            404,
            r#"{"error":"Mesh not found","message":"The specified mesh does not exist."}"#,
        ),
        (
            500,
            r#"{"error":"Token signing failed","message":"Internal error during JWT generation"}"#,
        ),
    ] {
        server.script("/api/harmony/mesh/token", 1, Scripted::status(code, body));
        let e = api(client
            .request_mesh_token(&machine, "mesh-healthcare", DEST)
            .unwrap_err());
        let sent: Value = serde_json::from_str(body).unwrap();
        let ApiError::Status { status, body } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(*status, code);
        assert_eq!(body.error.as_deref(), sent["error"].as_str());
        assert_eq!(body.message.as_deref(), sent["message"].as_str());
        let text = e.to_string();
        assert!(text.contains(sent["error"].as_str().unwrap()), "{text}");
        if let Some(m) = sent["message"].as_str() {
            assert!(text.contains(m), "{text}");
        }
    }
}

// ---------------------------------------------------------------- references

#[test]
fn resolve_reference_sends_the_reference_percent_encoded_in_the_query() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let id = server
        .insert_resource("pipelines", json!({"name": "patient api&x=1", "code": "p"}))
        .unwrap();
    let reference = "runbeam.team-1.pipeline.name.patient api&x=1";
    let resolved = client.resolve_reference(&t, reference).unwrap();
    let req = server.last_request().unwrap();
    assert_sent(&req, "GET", "/api/harmony/resources/resolve", Some(&t));
    assert_eq!(
        req.query.as_deref(),
        Some("ref=runbeam.team-1.pipeline.name.patient%20api%26x%3D1")
    );
    assert_eq!(req.body, "");
    assert_eq!(
        (resolved.data.id.as_str(), resolved.data.kind.as_str()),
        (id.as_str(), "pipeline")
    );
    assert!(resolved.data.enabled && resolved.data.urls.is_empty());
    assert_eq!(resolved.meta.unwrap().provider.as_deref(), Some("runbeam"));

    let by_id = client
        .resolve_reference(&t, &format!("runbeam.id.{id}"))
        .unwrap();
    assert_eq!(by_id.data.name, "patient api&x=1");
}

#[test]
fn a_bad_reference_is_a_typed_error_without_a_request() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    for bad in ["a.b", "runbeam..id.x", "runbeam.team.invalid.name.x", ""] {
        match api(client.resolve_reference(&t, bad).unwrap_err()) {
            ApiError::InvalidReference(_) => {}
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert!(server.requests().is_empty());
}

#[test]
fn resolving_an_unknown_or_foreign_resource_is_404_or_403() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let e = api(client
        .resolve_reference(&t, "runbeam.name.nothing")
        .unwrap_err());
    assert!(e.is_not_found());
    assert_eq!(e.to_string(), "HTTP 404: Resource not found");
    let e = api(client
        .resolve_reference(&t, "runbeam.other.id.x")
        .unwrap_err());
    assert!(e.is_forbidden(), "{e}");
}

// ---------------------------------------------------------------- change poller

/// A fake server, a client on it and a machine token for gateway `gw-poll`.
fn gateway(server: &FakeRunbeam) -> (RunbeamClient, MachineToken) {
    let client = client(server);
    let auth = client
        .authorize_gateway(&server.user_token(), "gw-poll", None, None)
        .unwrap();
    (client, auth.into())
}

#[test]
fn change_poller_acknowledges_applies_and_reports_each_change_once() {
    let server = server();
    let (client, token) = gateway(&server);
    let gid = token.gateway_id.clone();
    let good = server.add_change(&gid, json!({"toml_config": "[proxy]"}));
    let bad = server.add_change(&gid, json!({"toml_config": "nonsense"}));
    let done = server.add_change(&gid, json!({"status": "applied"}));
    let mut poller = ChangePoller::new(client, token);
    let mut seen = Vec::new();
    let report = poller
        .poll_once(|c| {
            seen.push(c.id.clone());
            match c.toml_config.as_deref() {
                Some("[proxy]") => Ok(()),
                _ => Err("invalid TOML at line 1"),
            }
        })
        .into_result()
        .unwrap();
    assert_eq!(seen, vec![good.clone(), bad.clone()]);
    assert_eq!(
        (report.applied, report.failed),
        (vec![good.clone()], vec![bad.clone()])
    );
    assert_eq!(server.change(&good).unwrap()["status"], "applied");
    let failed = server.change(&bad).unwrap();
    assert_eq!(
        (failed["status"].as_str(), failed["error_message"].as_str()),
        (Some("failed"), Some("invalid TOML at line 1"))
    );
    assert_eq!(server.change(&done).unwrap()["status"], "applied");
    let ack = server
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/harmony/changes/acknowledge")
        .unwrap();
    assert_eq!(ack.json(), json!({"change_ids": [good, bad]}));

    // Listed again as pending (a server that lost the report), a change is not handed over
    // twice.
    let relisted = json!({"data": [{"id": good, "type": "gateway", "gateway_id": gid,
                                     "created_at": "2025-01-01T00:00:00Z", "status": "pending"}]});
    server.script(
        "/api/harmony/changes",
        1,
        Scripted::status(200, relisted.to_string()),
    );
    let again = poller
        .poll_once(|c| Err(format!("{} handed over again", c.id)))
        .into_result()
        .unwrap();
    assert!(
        again.applied.is_empty() && again.failed.is_empty(),
        "{again:?}"
    );
}

#[test]
fn change_poller_renews_the_machine_token_through_the_hook() {
    let server = server();
    let (client, token) = gateway(&server);
    let soon = MachineToken::new(
        token.machine_token.clone(),
        "2000-01-01T00:00:00Z",
        token.gateway_id.clone(),
        token.gateway_code.clone(),
        vec![],
    );
    let (user, renewer) = (server.user_token(), client.clone());
    let mut poller = ChangePoller::new(client, soon)
        .on_renewal(move |current| renewer.renew_machine_token(&user, current));
    let report = poller.poll_once(|_| Ok::<(), String>(()));
    assert!(report.error.is_none(), "{report:?}");
    assert!(!poller.token().needs_renewal());
    assert_ne!(poller.token().machine_token, token.machine_token);
    let list = server.last_request().unwrap();
    assert_eq!(
        list.header("authorization"),
        Some(format!("Bearer {}", poller.token().machine_token.expose()).as_str())
    );
}

#[test]
fn change_poller_backs_off_on_errors_keeps_them_and_stops_at_the_deadline() {
    let (server, clock) = (server(), ManualClock::new());
    let (_, token) = gateway(&server);
    server.script("/api/harmony/changes", 100, Scripted::status(503, "{}"));
    let mut poller = ChangePoller::new(client_on(&server, &clock), token)
        .interval(Duration::from_secs(1))
        .max_backoff(Duration::from_secs(8));
    let stop = std::sync::atomic::AtomicBool::new(false);
    let deadline = clock.now() + Duration::from_secs(60);
    let summary = poller.run(&stop, Some(deadline), |_| Ok::<(), String>(()));
    assert_eq!(clock.elapsed(), Duration::from_secs(60));
    // Waits doubling from 1-2 s to 4-8 s (jitter halves at most): between 8 and 17 tries in
    // a minute, never a tight loop.
    assert!((8..=17).contains(&summary.error_count), "{summary:?}");
    assert_eq!(summary.polls, 0);
    assert_eq!(summary.stopped, StopReason::Deadline);
    assert_eq!(summary.errors.len() as u64, summary.error_count);
    for error in &summary.errors {
        assert_eq!(error.stage(), &PollStage::Listing);
        assert!(matches!(
            error.error(),
            RunbeamError::Api(ApiError::Status { status: 503, .. })
        ));
    }
    let text = summary.to_string();
    assert!(
        text.contains("listing the pending changes failed: HTTP 503")
            && text.contains("stopped at the deadline"),
        "{text}"
    );
}

#[test]
fn change_poller_cuts_a_stalled_listing_short_at_the_deadline() {
    let server = server();
    let (client, token) = gateway(&server);
    server.script(
        "/api/harmony/changes",
        1,
        Scripted::delay(Duration::from_secs(6)),
    );
    let mut poller = ChangePoller::new(client, token);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let started = std::time::Instant::now();
    let deadline = started + Duration::from_millis(800);
    let summary = poller.run(&stop, Some(deadline), |_| Ok::<(), String>(()));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!((summary.polls, summary.error_count), (0, 1), "{summary:?}");
}

#[test]
fn change_poller_stops_on_the_stop_flag() {
    let server = server();
    let (client, token) = gateway(&server);
    let gid = token.gateway_id.clone();
    server.add_change(&gid, json!({}));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut poller = ChangePoller::new(client, token).interval(Duration::from_secs(60));
    let flag = std::sync::Arc::clone(&stop);
    let started = std::time::Instant::now();
    let summary = poller.run(&stop, None, move |_| {
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok::<(), String>(())
    });
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!((summary.polls, summary.applied.len()), (1, 1));
    assert_eq!(summary.stopped, StopReason::Stopped);
}

// ---------------------------------------------------------------- hosts with several addresses

/// Resolves every name to `[::1]:port` first (nothing listens there), then `127.0.0.1:port`:
/// a host whose IPv6 address cannot be reached.
#[derive(Debug)]
struct V6ThenV4(u16);

impl ureq::unversioned::resolver::Resolver for V6ThenV4 {
    fn resolve(
        &self,
        _: &ureq::http::Uri,
        _: &ureq::config::Config,
        _: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let mut addresses = self.empty();
        addresses.push(std::net::SocketAddr::from((
            std::net::Ipv6Addr::LOCALHOST,
            self.0,
        )));
        addresses.push(std::net::SocketAddr::from((
            std::net::Ipv4Addr::LOCALHOST,
            self.0,
        )));
        Ok(addresses)
    }
}

#[test]
fn a_host_whose_first_address_refuses_is_reached_on_the_next() {
    let server = server();
    let port: u16 = server.url().rsplit(':').next().unwrap().parse().unwrap();
    // Nothing may listen on the IPv6 twin of the server's port, or the test proves nothing.
    let v6 = std::net::TcpStream::connect((std::net::Ipv6Addr::LOCALHOST, port));
    assert!(v6.is_err(), "something listens on [::1]:{port}");
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(5)))
        .proxy(None)
        .build();
    let connector = ureq::unversioned::transport::DefaultConnector::new();
    let agent = ureq::Agent::with_parts(config, connector, V6ThenV4(port));
    let client = RunbeamClient::builder(format!("http://localhost:{port}"))
        .agent(agent)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    client.list_gateways(&server.user_token()).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

// ---------------------------------------------------------------- TLS

/// What the TLS server answers: an empty list page.
const EMPTY_PAGE: &str = r#"{"data":[]}"#;

fn tls_client(builder: runbeam_sdk_blocking::RunbeamClientBuilder) -> RunbeamClient {
    builder
        .use_env_proxy(false)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[test]
fn a_self_signed_api_certificate_is_refused_by_default_with_a_tls_error() {
    let url = tls_server(EMPTY_PAGE);
    let client = tls_client(RunbeamClient::builder(&url));
    let e = api(client.list_gateways("t").unwrap_err());
    assert!(matches!(e, ApiError::Tls(_)), "{e:?}");
    assert!(e.to_string().contains("certificate"), "{e}");
}

#[test]
fn a_custom_root_certificate_is_trusted_with_verification_on() {
    let url = tls_server(EMPTY_PAGE);
    let client = tls_client(RunbeamClient::builder(&url).root_certificates(&fixture_ca()));
    assert!(client.list_gateways("t").unwrap().data.is_empty());
    // The custom roots replace the bundled ones; the leaf alone is not a root.
    let other = tls_client(RunbeamClient::builder(&url).root_certificates(&fixture_leaf()));
    assert!(matches!(
        api(other.list_gateways("t").unwrap_err()),
        ApiError::Tls(_)
    ));
}

/// The child's TLS server URL and whether its bundle holds the fixture CA.
const CHILD_TLS_URL: &str = "RUNBEAM_TEST_CHILD_TLS_URL";
const CHILD_BUNDLE_HAS_CA: &str = "RUNBEAM_TEST_CHILD_BUNDLE_HAS_CA";

/// Runs the trust-store child with `SSL_CERT_FILE` naming a bundle that holds the fixture CA
/// (or only an unrelated certificate).
fn trust_store_child_passes(with_ca: bool) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.pem");
    // The leaf is a certificate of the right shape that is no CA: trusting it trusts nothing.
    let pem = if with_ca {
        fixture_ca()
    } else {
        fixture_leaf()
    };
    std::fs::write(&bundle, pem).unwrap();
    let env = [
        ("SSL_CERT_FILE", bundle.display().to_string()),
        (CHILD_TLS_URL, tls_server(EMPTY_PAGE)),
        (CHILD_BUNDLE_HAS_CA, with_ca.to_string()),
    ];
    common::child::passes("child_uses_the_trust_store", &env, &["SSL_CERT_DIR"])
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "SSL_CERT_FILE names the OS trust store only on Linux (Windows and macOS keep their own)"
)]
fn the_os_trust_store_is_used_only_with_the_platform_verifier_feature() {
    assert!(trust_store_child_passes(true), "the child's checks failed");
    assert!(trust_store_child_passes(false), "the child's checks failed");
}

/// Child mode of the trust-store test; runs only with the environment its parent sets.
#[test]
#[ignore = "child process of the_os_trust_store_is_used_only_with_the_platform_verifier_feature"]
fn child_uses_the_trust_store() {
    let url = std::env::var(CHILD_TLS_URL).unwrap();
    let has_ca = std::env::var(CHILD_BUNDLE_HAS_CA).unwrap() == "true";
    let result = tls_client(RunbeamClient::builder(&url)).list_gateways("t");
    if cfg!(feature = "platform-verifier") && has_ca {
        assert!(result.unwrap().data.is_empty());
    } else {
        let e = api(result.unwrap_err());
        assert_eq!(
            e.network_cause(),
            Some(runbeam_sdk_blocking::NetworkCause::CertificateNotTrusted),
            "{e}"
        );
    }
    // Key-set fetches trust the same roots.
    let fake = server();
    let jwks_url = format!("{}/jwks", tls_server(&fake.jwks().to_string()));
    let token = fake.mint_user_jwt(&user(), &team(), Duration::from_secs(600));
    let validator = JwtValidator::new(
        runbeam_sdk_blocking::JwtValidationOptions::new().with_jwks_uri(jwks_url),
    )
    .unwrap();
    let verdict = validator.validate(&token);
    if cfg!(feature = "platform-verifier") && has_ca {
        verdict.unwrap();
    } else {
        match verdict.unwrap_err() {
            RunbeamError::Jwt(JwtError::JwksFetch { cause, .. }) => assert_eq!(
                cause,
                runbeam_sdk_blocking::NetworkCause::CertificateNotTrusted
            ),
            other => panic!("{other:?}"),
        }
    }
    // A company CA given explicitly works with the feature too.
    let explicit = RunbeamClient::builder(&url).root_certificates(&fixture_ca());
    assert!(tls_client(explicit)
        .list_gateways("t")
        .unwrap()
        .data
        .is_empty());
}

#[test]
fn unusable_root_certificates_are_refused_by_build() {
    let refused = |builder: runbeam_sdk_blocking::RunbeamClientBuilder| match builder.build() {
        Err(RunbeamError::Config(ConfigError::InvalidOption { option, reason })) => {
            assert_eq!(option, "root_certificates");
            reason
        }
        other => panic!("{:?}", other.map(|_| ())),
    };
    let builder = || RunbeamClient::builder("https://x.example");
    for pem in [
        &b""[..],
        b"not pem",
        b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        NOT_X509_PEM,
    ] {
        let reason = refused(builder().root_certificates(pem));
        if pem == NOT_X509_PEM {
            assert!(reason.contains("X.509"), "{reason}");
        }
    }
    let with_agent = builder()
        .root_certificates(&fixture_ca())
        .agent(ureq::Agent::new_with_defaults());
    assert!(refused(with_agent).contains("agent"));
    let with_any = builder()
        .root_certificates(&fixture_ca())
        .dangerous_accept_invalid_certs();
    assert!(refused(with_any).contains("dangerous_accept_invalid_certs"));
}

#[test]
fn dangerous_accept_invalid_certs_accepts_the_self_signed_certificate() {
    let url = tls_server(EMPTY_PAGE);
    let client = tls_client(RunbeamClient::builder(&url).dangerous_accept_invalid_certs());
    assert!(client.list_gateways("t").unwrap().data.is_empty());
}

// ---------------------------------------------------------------- login

#[test]
fn device_login_states_404_is_invalid_and_410_is_expired() {
    let server = server();
    let client = client(&server);
    let start = client.start_login().unwrap();
    assert_sent(
        &server.last_request().unwrap(),
        "POST",
        "/api/cli/start-login",
        None,
    );
    let device = start.device_token.expose().clone();
    assert!(!format!("{start:?}").contains(&device));

    assert!(matches!(
        client.check_login(&device).unwrap(),
        LoginState::Pending
    ));
    assert_sent(
        &server.last_request().unwrap(),
        "GET",
        &format!("/api/cli/check-login/{device}"),
        None,
    );
    assert!(server.approve_login(&device, &user(), &team()));
    match client.check_login(&device).unwrap() {
        LoginState::Authenticated(ok) => {
            assert_eq!(ok.user.unwrap().email, "ada@example.test");
            assert_eq!(ok.token.expose().split('.').count(), 3);
            // The JWT is a working bearer token on the fake server.
            client.list_gateways(ok.token.expose()).unwrap();
        }
        other => panic!("{other:?}"),
    }
    assert!(server.expire_login(&device));
    assert!(matches!(
        client.check_login(&device).unwrap(),
        LoginState::Expired
    ));
    assert!(matches!(
        client.check_login("unknown").unwrap(),
        LoginState::Invalid
    ));
}

#[test]
fn wait_for_login_polls_at_the_interval_until_approved() {
    let (server, clock) = (std::sync::Arc::new(server()), ManualClock::new());
    let client = client_on(&server, &clock);
    let device = client.start_login().unwrap().device_token.expose().clone();
    // The user approves once 4 s have passed on the test's clock.
    let (approver, watched, token) = (server.clone(), clock.clone(), device.clone());
    let approval = std::thread::spawn(move || {
        while watched.elapsed() < Duration::from_secs(4) {
            std::thread::yield_now();
        }
        approver.approve_login(&token, &user(), &team())
    });
    let ok = client
        .wait_for_login(&device, Duration::from_secs(2), Duration::from_secs(600))
        .unwrap();
    assert!(approval.join().unwrap());
    assert_eq!(ok.user.unwrap().id, "u1");
    // One poll at the start and one after each 2 s wait.
    let waited = clock.elapsed();
    let polls = server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/cli/check-login/"))
        .count() as u32;
    assert!(waited >= Duration::from_secs(4), "{waited:?}");
    assert_eq!(
        waited,
        Duration::from_secs(2) * (polls - 1),
        "{polls} polls"
    );
}

#[test]
fn wait_for_login_stops_at_the_deadline_and_on_expiry() {
    let (server, clock) = (server(), ManualClock::new());
    let client = client_on(&server, &clock);
    let device = client.start_login().unwrap().device_token.expose().clone();
    let err = client
        .wait_for_login(&device, Duration::from_secs(2), Duration::from_secs(5))
        .unwrap_err();
    assert!(matches!(api(err), ApiError::LoginTimedOut));
    // Waits of 2, 2 and the 1 s left: exactly the timeout, never past it.
    assert_eq!(clock.elapsed(), Duration::from_secs(5));

    server.expire_login(&device);
    let err = client
        .wait_for_login(&device, Duration::from_secs(1), Duration::from_secs(5))
        .unwrap_err();
    assert!(matches!(api(err), ApiError::LoginExpired));
    let err = client
        .wait_for_login("nope", Duration::from_secs(1), Duration::from_secs(5))
        .unwrap_err();
    assert!(matches!(api(err), ApiError::LoginInvalid));
}

// ---------------------------------------------------------------- JWKS and JWTs

#[test]
fn jwks_is_served_without_a_token_and_verifies_minted_jwts() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let server = server();
    let client = client(&server);
    let jwks = client.get_jwks().unwrap();
    assert_sent(
        &server.last_request().unwrap(),
        "GET",
        "/api/.well-known/jwks.json",
        None,
    );
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["use"].as_str(),
            key["alg"].as_str(),
            key["e"].as_str()
        ),
        (Some("RSA"), Some("sig"), Some("RS256"), Some("AQAB"))
    );
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len() * 8, 2048);

    let jwt = server.mint_user_jwt(&user(), &team(), Duration::from_secs(600));
    let parts: Vec<&str> = jwt.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(
        (header["alg"].as_str(), header["typ"].as_str()),
        (Some("RS256"), Some("JWT"))
    );
    assert_eq!(header["kid"], key["kid"]);
    assert!(claims["iss"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/api/cli/check-login/", server.url())));
    assert_eq!(claims["aud"], "runbeam-cli");
    assert_eq!(claims["sub"], "u1");
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        600
    );
    assert_eq!(claims["user"]["email"], "ada@example.test");
    assert_eq!(claims["team"]["id"], "t1");

    let public = rsa::PublicKey::new(
        rsa::BoxedUint::from_be_slice_vartime(&n),
        rsa::BoxedUint::from_be_slice_vartime(&URL_SAFE_NO_PAD.decode("AQAB").unwrap()),
    )
    .unwrap();
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let input = format!("{}.{}", parts[0], parts[1]);
    public
        .pkcs1v15_verify::<sha2::Sha256>(input.as_bytes(), &signature)
        .unwrap();
    assert!(public
        .pkcs1v15_verify::<sha2::Sha256>(b"tampered", &signature)
        .is_err());
}

// ---------------------------------------------------------------- properties

#[test]
fn one_connection_is_reused_across_calls_and_clones() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let id = server
        .insert_resource("gateways", json!({"name": "g"}))
        .unwrap();
    let clone = client.clone();
    for _ in 0..20 {
        client.get_gateway(&t, &id).unwrap();
        clone.get_gateway(&t, &id).unwrap();
    }
    assert_eq!(server.connection_count(), 1);
}

#[test]
fn client_is_shared_across_threads() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (client, t) = (client.clone(), t.clone());
            s.spawn(move || client.list_gateways(&t).unwrap());
        }
    });
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn debug_output_never_contains_tokens() {
    let server = server();
    let client = client(&server);
    let t = server.user_token();
    let r = client.authorize_gateway(&t, "g", None, None).unwrap();
    let shown = format!("{client:?} {r:?}");
    assert!(
        !shown.contains(&t) && !shown.contains(r.machine_token.expose().as_str()),
        "{shown}"
    );
}

#[test]
fn unknown_fields_and_numeric_ids_are_accepted() {
    let server = server();
    let client = client(&server);
    server.script(
        "/api/services/5",
        1,
        Scripted::status(
            200,
            r#"{"data":{"id":5,"team_id":9,"name":"s","brand_new":{"x":1}}}"#,
        ),
    );
    let s = client.get_service(&server.user_token(), "5").unwrap();
    assert_eq!(
        (s.id.as_deref(), s.team_id.as_deref()),
        (Some("5"), Some("9"))
    );
}

#[test]
fn retry_after_decides_the_wait_within_the_time_budget() {
    let server = server();
    let client = retrying(
        &server,
        RetryPolicy::new().max_total_wait(Duration::from_secs(1)),
    );
    // 1 s fits the 1 s budget: retried once.
    server.script(
        "/api/gateways",
        1,
        Scripted::status(503, "{}").header("Retry-After", "1"),
    );
    client.list_gateways(&server.user_token()).unwrap();
    assert_eq!(server.requests().len(), 2);
    // 2 s does not: no retry, the 503 is returned.
    server.clear_requests();
    server.script(
        "/api/gateways",
        1,
        Scripted::status(503, "{}").header("Retry-After", "2"),
    );
    assert_eq!(
        api(client.list_gateways(&server.user_token()).unwrap_err()).status(),
        Some(503)
    );
    assert_eq!(server.requests().len(), 1);
}

// ---------------------------------------------------------------- logs

/// Every log record of this test binary, as text, at the levels the README allows in
/// production: everything, except `ureq` and `ureq_proto` above debug.
static RECORDS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
/// The trace records of `ureq` and `ureq_proto`, which the README says may hold requests raw.
static RAW_RECORDS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Whether `ureq` and `ureq_proto` may log at trace (off: as the README advises).
static RAW_ALLOWED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

struct Capture;

/// `ureq`'s and `ureq_proto`'s trace records (ureq also asks whether this level is on to
/// decide if its debug records show request paths).
fn raw(metadata: &log::Metadata<'_>) -> bool {
    let target = metadata.target();
    let http_crate =
        target == "ureq" || target.starts_with("ureq::") || target.starts_with("ureq_proto");
    http_crate && metadata.level() == log::Level::Trace
}

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        !raw(metadata) || RAW_ALLOWED.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        match raw(record.metadata()) {
            true => RAW_RECORDS.lock().unwrap().push(line),
            false => RECORDS.lock().unwrap().push(line),
        }
    }
    fn flush(&self) {}
}

#[test]
fn logs_of_a_whole_flow_tell_what_happened_and_never_a_secret() {
    static CAPTURE: Capture = Capture;
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let server = server();
    let client = client(&server);
    let login = client.start_login().unwrap();
    let device = login.device_token.expose().clone();
    assert!(server.approve_login(&device, &user(), &team()));
    let jwt = client
        .wait_for_login(&device, Duration::from_millis(10), Duration::from_secs(5))
        .unwrap()
        .token
        .expose()
        .clone();
    let validator = runbeam_sdk_blocking::JwtValidator::new(
        runbeam_sdk_blocking::JwtValidationOptions::new().with_jwks_uri(server.jwks_url()),
    )
    .unwrap();
    validator.validate(&jwt).unwrap();
    let authorized = client
        .authorize_gateway(&jwt, "gateway-logs", None, None)
        .unwrap();
    let machine = authorized.machine_token.expose().clone();
    client.list_gateways(&machine).unwrap();
    let sanctum = "31|LogCaptureSanctumSecretHalf0123456789";
    server.script(
        "/api/gateways",
        1,
        Scripted::status(401, format!(r#"{{"message":"bad {sanctum}"}}"#)),
    );
    client.list_gateways(sanctum).unwrap_err();
    let store = runbeam_sdk_blocking::storage::TokenStore::new(
        runbeam_sdk_blocking::storage::MemoryStorage::new(),
    );
    store.save(&MachineToken::from(authorized)).unwrap();
    store.load::<MachineToken>().unwrap().unwrap();

    let records = RECORDS.lock().unwrap().join("\n");
    for expected in [
        "POST /cli/start-login: HTTP 201",
        "GET /cli/check-login/{deviceToken}: HTTP 200",
        "POST /harmony/authorize: HTTP",
        "GET /gateways: HTTP 401",
        "fetched in",
    ] {
        assert!(records.contains(expected), "no {expected:?} in:\n{records}");
    }
    let half = sanctum.split_once('|').unwrap().1;
    for secret in [device.as_str(), jwt.as_str(), machine.as_str(), half] {
        assert!(
            !records.contains(secret),
            "a secret is in the logs:\n{records}"
        );
    }
    // What the README warns of: at trace, ureq_proto dumps requests raw, bearer tokens and
    // all (16 bytes a record, so a token's first bytes stand in one record).
    RAW_ALLOWED.store(true, std::sync::atomic::Ordering::SeqCst);
    client.list_gateways(&machine).unwrap();
    RAW_ALLOWED.store(false, std::sync::atomic::Ordering::SeqCst);
    let raw = RAW_RECORDS.lock().unwrap().join("\n");
    assert!(
        raw.contains("ureq_proto") && raw.contains("Bearer"),
        "ureq_proto's trace records no longer show raw requests: update the README"
    );
}
