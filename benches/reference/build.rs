//! Turns on the aws-lc-rs row of the shared `benches/jwt.rs`, and tells its helpers where
//! the SDK's fixtures are.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(aws_lc_reference)");
    println!("cargo::rustc-cfg=aws_lc_reference");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let root = std::path::Path::new(&manifest_dir).join("../..");
    println!("cargo::rustc-env=RUNBEAM_SDK_ROOT={}", root.display());
}
