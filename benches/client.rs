//! `get_gateway` against the fake Runbeam server versus the same request made with bare
//! `ureq`, in the same run. Also proves that 1,000 sequential calls use one connection.
//!
//! ```sh
//! cargo bench --bench client --no-default-features --features testing
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use runbeam_sdk::testing::FakeRunbeam;
use runbeam_sdk::RunbeamClient;

const CALLS: u32 = 1_000;
/// Alternating measurement rounds; the median of each side is reported.
const ROUNDS: usize = 5;

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    let server = FakeRunbeam::start().expect("fake server");
    let token = server.user_token();
    let id = server
        .insert_resource(
            "gateways",
            serde_json::json!({"name": "bench", "code": "bench", "enabled": true}),
        )
        .expect("gateway");

    let client = RunbeamClient::builder(server.url())
        .use_env_proxy(false)
        .build()
        .expect("client");

    // Connection reuse: 1,000 sequential calls, one TCP connection.
    server.clear_requests();
    for _ in 0..CALLS {
        client.get_gateway(&token, &id).expect("get_gateway");
    }
    let connections = server.connection_count();
    println!("{CALLS} sequential get_gateway calls used {connections} connection(s)");
    assert_eq!(connections, 1, "keep-alive must reuse one connection");

    // Baseline: bare ureq, same URL, same headers, body read and parsed as JSON.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(30)))
        .proxy(None)
        .build()
        .into();
    let url = format!("{}/gateways/{id}", server.api_url());
    let bearer = format!("Bearer {token}");
    let mut bare_runs = Vec::new();
    let mut sdk_runs = Vec::new();
    // Alternate the two measurements so machine noise and server state hit both alike.
    for _ in 0..ROUNDS {
        server.clear_requests();
        bare_runs.push(common::per_call(CALLS, || {
            let mut response = agent
                .get(&url)
                .header("Accept", "application/json")
                .header("Authorization", &bearer)
                .call()
                .expect("bare ureq");
            let body = response.body_mut().read_to_vec().expect("body");
            let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
            assert!(value["data"]["id"].is_string());
        }));
        server.clear_requests();
        sdk_runs.push(common::per_call(CALLS, || {
            let gateway = client.get_gateway(&token, &id).expect("get_gateway");
            assert!(gateway.id.is_some());
        }));
    }
    let bare = median(bare_runs);
    let sdk = median(sdk_runs);
    common::report("bare ureq GET /api/gateways/{id}", bare, bare);
    common::report("RunbeamClient::get_gateway", sdk, bare);
    let ratio = sdk.as_secs_f64() / bare.as_secs_f64();
    println!("per-call time ratio sdk / bare ureq: {ratio:.3} (limit 1.15)");
    assert!(ratio <= 1.15, "get_gateway is {ratio:.3}× bare ureq");
}
