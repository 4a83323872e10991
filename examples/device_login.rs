//! What a login CLI does: start a device login, wait while the user approves it in a
//! browser, verify the user JWT, save it. Offline, against the fake Runbeam (which "approves"
//! from another thread), with the token saved in memory.
//!
//! ```sh
//! cargo run --example device_login --features testing
//! ```
//! Against the real service: `RunbeamClient::new("https://api.runbeam.io")`, trust
//! `https://api.runbeam.io`, and `save_token("my-cli", &user)` instead of the memory store.

use std::time::Duration;

use runbeam_sdk_blocking::api::{TeamInfo, UserInfo};
use runbeam_sdk_blocking::storage::{MemoryStorage, TokenStore};
use runbeam_sdk_blocking::testing::FakeRunbeam;
use runbeam_sdk_blocking::{JwtValidationOptions, JwtValidator, RunbeamClient, UserToken};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeRunbeam::start()?;
    let client = RunbeamClient::new(server.url());

    let login = client.start_login()?;
    println!("Open {} to approve this login", login.verification_url);

    // The user approves in the browser a moment later.
    let device = login.device_token.expose().clone();
    let approver = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let user: UserInfo = serde_json::from_value(
            serde_json::json!({"id": "u1", "email": "ada@example.test", "name": "Ada"}),
        )?;
        let team: TeamInfo =
            serde_json::from_value(serde_json::json!({"id": "t1", "name": "Ops"}))?;
        server.approve_login(&device, &user, &team);
        Ok::<FakeRunbeam, serde_json::Error>(server)
    });

    let success = client.wait_for_login(
        login.device_token.expose(),
        Duration::from_millis(100), // poll interval
        Duration::from_secs(10),    // give up after
    )?;
    let server = approver
        .join()
        .map_err(|_| "the approving thread panicked")??;

    // Verify the JWT before trusting anything in it.
    let validator =
        JwtValidator::new(JwtValidationOptions::new().with_trusted_issuers(vec![server.url()]))?;
    let claims = validator.validate(success.token.expose())?;
    println!("logged in as {:?}", claims.user.map(|u| u.email));

    let store = TokenStore::new(MemoryStorage::new());
    store.save(&UserToken::new(
        success.token,
        Some(claims.exp),
        success.user,
    ))?;
    let saved = store
        .load::<UserToken>()?
        .ok_or("the token was not saved")?;
    println!("saved; expired: {}", saved.is_expired());
    Ok(())
}
