//! The product's quick start, end to end and offline: a fake Runbeam Cloud runs on 127.0.0.1.
//!
//! ```sh
//! cargo run --example quickstart --features testing
//! ```
//!
//! 1. mint a user JWT (as the device login would hand one out),
//! 2. validate it with `validate_jwt_token` — trusting only the issuer named in `RUNBEAM_API_URL`,
//! 3. authorize a gateway and receive a 30-day machine token,
//! 4. save the machine token in secure storage and load it back,
//! 5. list gateways with the machine token.
//!
//! The demo points `HOME` at a temporary directory and sets `RUNBEAM_DISABLE_KEYRING`, so it never
//! touches your real keyring or `~/.runbeam`. Against Runbeam Cloud, drop the fake server and
//! those two variables; `RUNBEAM_API_URL` then names the real API.

use std::time::Duration;

use runbeam_sdk_blocking::api::{TeamInfo, UserInfo};
use runbeam_sdk_blocking::storage::StoreConfig;
use runbeam_sdk_blocking::testing::FakeRunbeam;
use runbeam_sdk_blocking::{
    load_token, save_token, validate_jwt_token, MachineToken, RunbeamClient,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cloud = FakeRunbeam::start()?;
    let home = tempfile::tempdir()?;
    // Set before any other thread runs: these are read by the SDK, not by the fake server.
    std::env::set_var("HOME", home.path());
    std::env::set_var("RUNBEAM_DISABLE_KEYRING", "1");
    std::env::set_var("RUNBEAM_API_URL", cloud.url());
    println!("fake Runbeam Cloud at {}", cloud.url());

    // 1. A user JWT, RS256-signed by the fake cloud's key (served at its JWKS endpoint).
    let user = UserInfo {
        id: "01JDEMO".into(),
        email: "ada@example.com".into(),
        name: "Ada".into(),
    };
    let team = TeamInfo {
        id: "01JTEAM".into(),
        name: "Demo team".into(),
    };
    let user_token = cloud.mint_user_jwt(&user, &team, Duration::from_secs(3600));

    // 2. The seed quick start, blocking: validate, then talk to the API the token came from.
    let claims = validate_jwt_token(&user_token, 24)?;
    println!(
        "validated JWT for {} (sub {}), issuer origin {}",
        claims.user.as_ref().map_or("?", |u| u.email.as_str()),
        claims.sub,
        claims.api_base_url()
    );
    let client = RunbeamClient::new(claims.api_base_url());

    // 3. Authorize a gateway: a machine token for autonomous calls.
    let response = client.authorize_gateway(&user_token, "gateway-123", None, None)?;
    println!(
        "authorized gateway {} ({}), machine token expires {}",
        response.gateway.code, response.gateway.id, response.expires_at
    );

    // 4. Save it securely and read it back.
    let instance_id = "my-gateway";
    let machine_token = MachineToken::new(
        response.machine_token,
        response.expires_at,
        response.gateway.id,
        response.gateway.code,
        response.abilities,
    );
    save_token(instance_id, &machine_token)?;
    let backend = StoreConfig::from_env()?.open(instance_id)?.backend();
    let loaded: Option<MachineToken> = load_token(instance_id)?;
    let loaded = loaded.ok_or("the saved token did not load")?;
    println!(
        "saved and reloaded the machine token ({backend:?} backend); valid: {}, needs renewal: {}",
        loaded.is_valid(),
        loaded.needs_renewal()
    );

    // 5. Use the machine token as the bearer token.
    let gateways = client.list_gateways(loaded.machine_token.expose())?;
    for gateway in &gateways.data {
        println!(
            "gateway: {} ({})",
            gateway.name.as_deref().unwrap_or("-"),
            gateway.code.as_deref().unwrap_or("-")
        );
    }
    println!(
        "done: {} request(s) reached the fake cloud",
        cloud.requests().len()
    );
    Ok(())
}
