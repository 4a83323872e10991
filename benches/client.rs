//! `get_gateway` against the fake Runbeam server versus the same request made with bare
//! `ureq`, in the same run. Also proves that 1,000 sequential calls use one connection.
//!
//! ```sh
//! cargo bench --bench client --no-default-features --features testing
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use runbeam_sdk_blocking::testing::FakeRunbeam;
use runbeam_sdk_blocking::RunbeamClient;

const CALLS: u32 = 1_000;
/// Alternating measurement pairs.
const PAIRS: usize = 21;
/// Calls per timed round inside a pair (`per_call` times 7 rounds after a warm-up).
const PAIR_CALLS: u32 = 100;

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
    let bare_call = || {
        let mut response = agent
            .get(&url)
            .header("Accept", "application/json")
            .header("Authorization", &bearer)
            .call()
            .expect("bare ureq");
        let body = response.body_mut().read_to_vec().expect("body");
        let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert!(value["data"]["id"].is_string());
    };
    let sdk_call = || {
        let gateway = client.get_gateway(&token, &id).expect("get_gateway");
        assert!(gateway.id.is_some());
    };
    // The machine is shared, so single measurements swing by ±40 %. Measure in short
    // alternating pairs (order flipped every pair) and compare the median paired ratio.
    let (mut bare_runs, mut sdk_runs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..PAIRS {
        server.clear_requests();
        let (bare, sdk) = if pair % 2 == 0 {
            let b = common::per_call(PAIR_CALLS, bare_call);
            (b, common::per_call(PAIR_CALLS, sdk_call))
        } else {
            let s = common::per_call(PAIR_CALLS, sdk_call);
            (common::per_call(PAIR_CALLS, bare_call), s)
        };
        ratios.push(sdk.as_secs_f64() / bare.as_secs_f64());
        bare_runs.push(bare);
        sdk_runs.push(sdk);
    }
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    let bare = median(bare_runs);
    let sdk = median(sdk_runs);
    common::report("bare ureq GET /api/gateways/{id}", bare, bare);
    common::report("RunbeamClient::get_gateway", sdk, bare);
    println!(
        "median paired per-call ratio sdk / bare ureq over {PAIRS} pairs: {ratio:.3} (limit 1.15)"
    );
    assert!(ratio <= 1.15, "get_gateway is {ratio:.3}× bare ureq");
}
