//! A gateway agent, as the Harmony gateway talks to Runbeam, run offline against the fake
//! server: authorize and store the machine token, discover the API base, push a config,
//! poll and apply changes (each checked against the Harmony schemas first), get a mesh token and verify it as the receiving gateway would,
//! and resolve a resource reference. Exits by itself.
//!
//! ```sh
//! cargo run --example gateway_agent --features testing,validation
//! ```

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use runbeam_sdk_blocking::api::{ChangePoller, ConfigType, MeshTokenClaims, ResourceReference};
use runbeam_sdk_blocking::storage::{MemoryStorage, TokenStore};
use runbeam_sdk_blocking::testing::FakeRunbeam;
use runbeam_sdk_blocking::validation::validated;
use runbeam_sdk_blocking::{JwtValidator, MachineToken, RunbeamClient};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeRunbeam::start()?;
    let client = RunbeamClient::new(server.url());

    // Authorize once with a user token; keep the machine token (here: in memory).
    let store = TokenStore::new(MemoryStorage::new());
    let auth = client.authorize_gateway(&server.user_token(), "edge-1", None, None)?;
    store.save(&MachineToken::from(auth))?;
    let token = store.load::<MachineToken>()?.ok_or("no stored token")?;
    let machine = token.machine_token.expose().clone();

    // Ask Runbeam where to talk to; keep the current client when that fails (as Harmony).
    let client = client.discover_base_url(&machine).unwrap_or(client);
    println!("API base: {}", client.base_url()?);

    // Push this gateway's configuration.
    let pushed = client.store_config(
        &machine,
        ConfigType::Gateway,
        None,
        "[proxy]\nid = \"edge-1\"\n",
    )?;
    println!("config {}: {:?}", pushed.data.id, pushed.data.action);

    // Someone changes the gateway in Runbeam; the agent applies it.
    server.add_change(
        &token.gateway_id,
        json!({"toml_config": "[proxy]\nid = \"edge-1\"\n"}),
    );
    // A pipeline without backends: refused by its schema check, reported `failed` with
    // the report, never applied.
    let broken = server.add_change(
        &token.gateway_id,
        json!({"type": "pipeline", "toml_config": "[pipelines.api]\nnetworks = [\"default\"]\nendpoints = [\"in\"]\n"}),
    );
    let stop = AtomicBool::new(false);
    let deadline = Instant::now() + Duration::from_millis(300);
    let mut poller = ChangePoller::new(client.clone(), token).interval(Duration::from_secs(1));
    let summary = poller.run(
        &stop,
        Some(deadline),
        validated(|change| {
            // Write the checked configuration where Harmony reads it (here: nowhere).
            println!("applying {} change {}", change.resource_type, change.id);
            Ok::<(), std::io::Error>(())
        }),
    );
    println!("changes: {summary}");
    if let Some(reason) = server
        .change(&broken)
        .and_then(|c| c["error_message"].as_str().map(String::from))
    {
        println!("change {broken} failed: {reason}");
    }

    // Call a partner gateway in a mesh; the partner verifies the token.
    let destination = "https://partner.example.com/fhir/r4";
    server.add_mesh("mesh-healthcare", &["https://partner.example.com/"]);
    let mesh = client.request_mesh_token(&machine, "mesh-healthcare", destination)?;
    let options = MeshTokenClaims::validation_options(&server.url(), "mesh-healthcare");
    let validator = JwtValidator::new(options)?;
    let claims = MeshTokenClaims::verify(
        &validator,
        mesh.token.expose(),
        "mesh-healthcare",
        destination,
    )?;
    println!(
        "mesh token from {} accepted at {}",
        claims.source, claims.dest_url
    );

    // Resolve a reference from the gateway's configuration.
    server.insert_resource(
        "pipelines",
        json!({"name": "patient_api", "code": "patient_api"}),
    );
    let reference = "runbeam.team-1.pipeline.name.patient_api";
    if ResourceReference::parse(reference)?.is_local() {
        return Err("a local reference is resolved by the gateway itself".into());
    }
    let resolved = client.resolve_reference(&machine, reference)?;
    println!("{reference} is {} {}", resolved.data.kind, resolved.data.id);

    if summary.applied.len() != 1 || summary.failed.len() != 1 {
        return Err("the fake server's changes were not all handled".into());
    }
    Ok(())
}
