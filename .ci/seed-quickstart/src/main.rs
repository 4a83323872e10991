// The seed README's quick start, blocking: `.await` and `#[tokio::main]` dropped, `?` kept.
use runbeam_sdk::{
    RunbeamClient,
    validate_jwt_token,
    save_token,
    load_token,
    MachineToken,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Validate user JWT token
    let user_token = "eyJhbGci...";
    let claims = validate_jwt_token(user_token, 24)?;

    // Create API client
    let client = RunbeamClient::new(claims.api_base_url());

    // Authorize gateway and get machine token
    let response = client.authorize_gateway(
        user_token,
        "gateway-123",
        None,
        None
    )?;

    // Save machine token securely
    let instance_id = "my-gateway";
    let machine_token = MachineToken::new(
        response.machine_token,
        response.expires_at,
        response.gateway.id,
        response.gateway.code,
        response.abilities,
    );
    save_token(instance_id, &machine_token)?;
    let _loaded: Option<MachineToken> = load_token(instance_id)?;

    Ok(())
}
