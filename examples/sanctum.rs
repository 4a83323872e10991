//! Drive the API with a Sanctum personal access token (`{id}|{token}`), offline against the
//! fake Runbeam server: create a gateway, list gateways page by page, update, delete.
//!
//! ```sh
//! cargo run --example sanctum --features testing
//! ```
//! Against the real service, replace the fake server with `RunbeamClient::new(url)` and a token
//! from your Runbeam account settings.

use runbeam_sdk_blocking::api::GatewayRequest;
use runbeam_sdk_blocking::testing::FakeRunbeam;
use runbeam_sdk_blocking::RunbeamClient;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeRunbeam::start()?;
    let client = RunbeamClient::builder(server.url()).build()?;

    // Any token kind is sent as is: a Sanctum `{id}|{token}` here.
    let token = runbeam_sdk_blocking::Secret::new(server.user_token());

    let created = client.create_gateway(
        token.expose(),
        &GatewayRequest {
            name: "edge-eu-1".into(),
            enabled: Some(true),
            ..GatewayRequest::default()
        },
    )?;
    let id = created.id.clone().unwrap_or_default();
    println!("created gateway {id} ({:?})", created.name);

    for n in 0..20 {
        server.insert_resource("gateways", serde_json::json!({"name": format!("gw-{n}")}));
    }
    let all = client.gateway_pages(token.expose()).collect_all()?;
    println!("{} gateways over several pages", all.len());

    let updated = client.update_gateway(
        token.expose(),
        &id,
        &GatewayRequest {
            name: "edge-eu-1".into(),
            enabled: Some(false),
            ..GatewayRequest::default()
        },
    )?;
    println!("enabled after update: {:?}", updated.enabled);

    let deleted = client.delete_gateway(token.expose(), &id)?;
    println!("{}", deleted.message.unwrap_or_default());

    match client.get_gateway(token.expose(), &id) {
        Err(runbeam_sdk_blocking::RunbeamError::Api(e)) if e.is_not_found() => {
            println!("gone: {e}")
        }
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}
