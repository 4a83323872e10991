//! The schemas shipped in the `harmony-dsl` crate, each parsed once per process.

use std::sync::{Arc, OnceLock};

use super::Schema;

/// The `harmony-dsl` release bundled with this crate.
pub const BUNDLED_HARMONY_DSL: &str = "1.9.0";

/// The `version` of both bundled schemas (gateway configuration and pipeline).
pub const BUNDLED_SCHEMA_VERSION: &str = "1.8.0";

fn parse_bundled(text: &str) -> Arc<Schema> {
    // A test parses both bundled schemas (and the harmony-dsl version is pinned by
    // Cargo.lock), so this never fails in a released build.
    #[allow(clippy::expect_used)]
    Arc::new(Schema::parse(text).expect("the bundled Harmony schema parses"))
}

/// The gateway configuration schema (`config.toml`), parsed on first use.
pub(super) fn config() -> &'static Arc<Schema> {
    static CONFIG: OnceLock<Arc<Schema>> = OnceLock::new();
    CONFIG.get_or_init(|| parse_bundled(harmony_dsl::CONFIG_SCHEMA))
}

/// The pipeline schema (`pipelines/*.toml`), parsed on first use.
pub(super) fn pipeline() -> &'static Arc<Schema> {
    static PIPELINE: OnceLock<Arc<Schema>> = OnceLock::new();
    PIPELINE.get_or_init(|| parse_bundled(harmony_dsl::PIPELINE_SCHEMA))
}
