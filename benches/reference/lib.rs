//! Empty: this package only builds `benches/jwt.rs` with aws-lc-rs beside it (see Cargo.toml).
