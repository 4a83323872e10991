//! Headless pre-provisioning: a gateway host with no keyring and no browser gets its machine
//! token from the environment and keeps it encrypted on disk.
//!
//! ```sh
//! # once, on an admin machine: a key for the host
//! age-keygen -o host.key                      # prints the public key; keep host.key secret
//! export RUNBEAM_ENCRYPTION_KEY="$(cat host.key)"   # raw, base64 or age-keygen output all work
//! export RUNBEAM_DISABLE_KEYRING=1                  # headless: files only
//! export RUNBEAM_MACHINE_TOKEN='{"machine_token":"…","expires_at":"2030-01-01T00:00:00Z",
//!   "gateway_id":"01J…","gateway_code":"gateway-123","abilities":["harmony:send"]}'
//! cargo run --example headless_provisioning -- my-gateway
//! ```
//!
//! Without the variables set, it provisions a sample token into a temporary directory
//! instead, so it runs anywhere and never touches `~/.runbeam`.

use runbeam_sdk_blocking::storage::StoreConfig;
use runbeam_sdk_blocking::{EncryptionKey, MachineToken, RunbeamError};

fn main() -> Result<(), RunbeamError> {
    let instance = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "my-gateway".into());

    if std::env::var_os("RUNBEAM_MACHINE_TOKEN").is_some() {
        // The real thing: backend and key from the environment, as `save_token` uses them.
        let store = StoreConfig::from_env()?.open(&instance)?;
        if let Some(token) = store.provision_from_env()? {
            println!(
                "stored the machine token of gateway {} (expires {}) in {:?}",
                token.gateway_id,
                token.expires_at,
                store.backend()
            );
        }
        return Ok(());
    }

    // Demo mode: a temporary directory and a fresh key.
    let dir = std::env::temp_dir().join(format!("runbeam-example-{}", std::process::id()));
    let key = EncryptionKey::generate();
    let store = StoreConfig::in_dir(&dir)
        .with_key(key.clone())
        .open(&instance)?;
    let token = store.provision_from_json(
        r#"{"machine_token":"example-token","expires_at":"2999-01-01T00:00:00Z",
            "gateway_id":"01JEXAMPLE","gateway_code":"gateway-123","abilities":["harmony:send"]}"#,
    )?;
    println!(
        "provisioned gateway {} into {:?} under {}",
        token.gateway_id,
        store.backend(),
        dir.display()
    );

    // After a restart: same key, same directory.
    let restarted = StoreConfig::in_dir(&dir).with_key(key).open(&instance)?;
    let loaded: Option<MachineToken> = restarted.load()?;
    println!(
        "after restart: found {}, needs renewal: {}",
        loaded.as_ref().map_or("nothing", |t| t.gateway_id.as_str()),
        loaded.as_ref().is_some_and(MachineToken::needs_renewal)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
