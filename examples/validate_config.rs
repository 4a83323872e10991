//! A `build.rs` that fails the build when the checked-in Harmony configuration breaks the
//! Harmony DSL schemas, printing the report; offline, no token needed. Run as an example it
//! checks `examples/harmony/`:
//!
//! ```sh
//! cargo run --example validate_config --features validation
//! ```
//!
//! As a `build.rs`, with `runbeam-sdk-blocking` (feature `validation`) in
//! `[build-dependencies]`, point it at your configuration directory and keep the
//! `rerun-if-changed` line, so the check reruns whenever the directory changes.

use std::path::PathBuf;
use std::process::ExitCode;

use runbeam_sdk_blocking::validation::{ConfigPush, FileOutcome, BUNDLED_SCHEMA_VERSION};

fn main() -> ExitCode {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/harmony"),
        PathBuf::from,
    );
    println!("cargo:rerun-if-changed={}", dir.display());
    let report = ConfigPush::new(&dir).check();
    let mut failed = false;
    for file in &report.files {
        if matches!(
            file.outcome,
            FileOutcome::Invalid(_) | FileOutcome::Unreadable(_)
        ) {
            failed = true;
            // Cargo shows `cargo:warning` lines even when the build script succeeds; the
            // report goes to stderr too, which Cargo prints when it fails.
            println!("cargo:warning={file}");
            eprintln!("{file}");
        }
    }
    if failed {
        eprintln!(
            "Harmony configuration in {} breaks schema {BUNDLED_SCHEMA_VERSION}",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "{} file(s) in {} pass schema {BUNDLED_SCHEMA_VERSION}",
        report.files.len(),
        dir.display()
    );
    ExitCode::SUCCESS
}
