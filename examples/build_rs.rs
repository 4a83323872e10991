//! What a `build.rs` does with the blocking client: fetch configuration at build time, with
//! tight timeouts and bounded retries, and fail the build with a clear message otherwise.
//! Runs offline against the fake Runbeam server:
//!
//! ```sh
//! cargo run --example build_rs --features testing
//! ```
//! In a real `build.rs`, read the URL and token from the environment (`RUNBEAM_API_URL`,
//! your own token variable) and print `cargo:rerun-if-env-changed=...` for both.

use std::time::Duration;

use runbeam_sdk_blocking::testing::{FakeRunbeam, Scripted};
use runbeam_sdk_blocking::{RetryPolicy, RunbeamClient};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeRunbeam::start()?;
    server.insert_resource("pipelines", serde_json::json!({"name": "ingest"}));
    // The first answer is a 503 with Retry-After: the client waits and retries the GET.
    server.script(
        "/api/pipelines",
        1,
        Scripted::status(503, r#"{"message":"maintenance"}"#).header("Retry-After", "0"),
    );

    let client = RunbeamClient::builder(server.url())
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .retry(
            RetryPolicy::new()
                .max_retries(2)
                .max_total_wait(Duration::from_secs(5)),
        )
        .build()?;
    let token = server.user_token();

    let pipelines = client.pipeline_pages(&token).collect_all()?;
    for p in &pipelines {
        println!(
            "cargo:warning=pipeline {}",
            p.name.as_deref().unwrap_or("?")
        );
    }
    println!(
        "fetched {} pipeline(s) in {} request(s)",
        pipelines.len(),
        server.requests().len()
    );
    Ok(())
}
