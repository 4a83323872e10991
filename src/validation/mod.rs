//! Offline checks of Harmony TOML configuration against the Harmony DSL schemas
//! (feature `validation`).
//!
//! The Runbeam Cloud checks a pushed configuration against the same schemas and answers
//! 422 otherwise; checking first, locally and synchronously, lets a `build.rs` or CI job
//! fail early and a gateway refuse a broken change before it reports `applied`.
//!
//! ```
//! use runbeam_sdk_blocking::validation::{validate_config_toml, ValidationError};
//!
//! let config = "[proxy]\nid = \"edge-1\"\n\n[network.default.tcp_config]\nbind_address = \"0.0.0.0\"\nbind_port = 70000\n";
//! let err = validate_config_toml(config).unwrap_err();
//! assert!(matches!(&err, ValidationError::OutOfRange { field_path, .. }
//!     if field_path == "network.default.tcp_config.bind_port"));
//! assert_eq!(err.to_string(),
//!     "network.default.tcp_config.bind_port is out of range: must be between 1 and 65535");
//! ```
//!
//! Every failure is collected, not just the first ([`ValidationError::Multiple`]), each
//! naming its dotted path. [`ValidationError::report`] gives a bounded one-line summary.
//!
//! ## Bundled schemas
//!
//! [`validate_config_toml`] and [`validate_pipeline_toml`] use the schemas of the
//! `harmony-dsl` crate **1.9.0**, schema version **1.8.0** ([`BUNDLED_SCHEMA_VERSION`]),
//! each parsed once per process. Harmony documents newer schemas (newer protocol values
//! such as `h3`, provider and mesh tables) than that release holds; a configuration written
//! for one of them may be refused by the bundled schema (an unknown `enum` value, an
//! [unknown table](ValidationError::UnexpectedTable)). Pass the newer schema's text to
//! [`validate_toml`], or parse it once with [`Schema::parse`] and hand it to
//! [`Schemas::new`] for validated apply and push.
//!
//! ## How the schema is read
//!
//! Upstream's validator (the async `runbeam-sdk`) left some cases open; this one decides:
//!
//! - **Unknown keys.** Inside a table the schema describes, keys it does not list are
//!   accepted (a newer Harmony's options). Outside every described table, a key is an
//!   [`UnexpectedTable`](ValidationError::UnexpectedTable) error, reported once at the
//!   highest unknown key (upstream reported each value inside it, and let an empty unknown
//!   table through). There is no "strict mode" rejecting unknown keys inside described
//!   tables: upstream only promised one in a comment, and with schemas that lag Harmony it
//!   would refuse valid configurations.
//! - **`required_if`** replaces `required` (the schemas write both, meaning "required
//!   when"). Conditions are `key exists`, `key`, `key == literal` and `key != literal`, the
//!   key relative to the table, dotted keys allowed; `true`/`false` equal only booleans,
//!   integers only integers, quoted or bare words only strings. An absent key differs from
//!   every literal. A condition of another shape is a schema error (upstream read it as a
//!   key that never exists).
//! - **`default`** does not make a required field optional (as upstream, and as the server
//!   checks); it must have the field's type.
//! - **Types**: `float` accepts integers; `datetime` is a type of its own. An unknown type
//!   name is a schema error (upstream refused every value).
//! - **`enum` and `pattern_constraint`** apply to a string, and to each string item of an
//!   array (upstream skipped arrays, so the bundled `services.*.type` enum was never
//!   checked). Patterns are searched, not anchored: schemas anchor with `^…$`.
//! - **`min`/`max`** apply to integers and floats (upstream: integers only); NaN is never
//!   in range.
//! - **Dotted field names** reach into sub-tables, and through arrays of tables item by
//!   item (`middleware.x.options.rules[0].allow`).
//! - **Tables**: an exact name wins over a pattern; among patterns, the first in schema
//!   order (upstream's choice depended on hash order). `*` stands for one key; a table
//!   name with `*` needs `pattern = true` and the other way round; the
//!   `pattern_constraint` is checked against every wildcard key. A `required` pattern table
//!   needs at least one instance; a `required` dotted table name is looked up by its path
//!   (upstream looked for a key with a dot in it). Described tables nested in described
//!   tables are checked too.
//! - A table or field defined twice, `min` above `max` and `min_items` above `max_items`
//!   are schema errors (upstream kept the last definition).
//!
//! ## Limits
//!
//! Hostile input gets a typed error in bounded time and memory: documents over
//! [`MAX_DOCUMENT_BYTES`] and schemas over [`MAX_SCHEMA_BYTES`] are refused, TOML nesting is
//! capped by the parser, at most [`MAX_ERRORS`] failures are kept (the rest counted in
//! [`ValidationError::TooManyErrors`]), and a `pattern_constraint` is at most
//! [`MAX_PATTERN_BYTES`] long, limited in compiled size and nesting, and matched in time
//! linear in the input. A 1 MiB gateway configuration (about 2,700 networks and as many
//! peers) checks in about 0.2 s in a release build (parsing is most of it).

mod apply;
mod bundled;
mod check;
mod error;
mod push;
mod schema;

use std::sync::Arc;

pub use apply::{validated, ApplyError, ChangeRefused, REPORT_LIMIT};
pub use bundled::{BUNDLED_HARMONY_DSL, BUNDLED_SCHEMA_VERSION};
pub use error::ValidationError;
pub use push::{ConfigPush, FileOutcome, PushReport, PushedFile, MAX_FILES_PER_DIR};
pub use schema::Schema;

use crate::api::ConfigType;

/// Largest configuration checked: 2 MiB (Harmony configurations are a few KiB).
pub const MAX_DOCUMENT_BYTES: usize = 2 * 1024 * 1024;

/// Largest schema text parsed: 1 MiB (the bundled ones are about 25 KiB).
pub const MAX_SCHEMA_BYTES: usize = 1024 * 1024;

/// Longest `pattern_constraint` source: 1 KiB.
pub const MAX_PATTERN_BYTES: usize = 1024;

/// Most failures one check keeps; the rest are counted in
/// [`ValidationError::TooManyErrors`].
pub const MAX_ERRORS: usize = 1000;

/// Checks a Harmony gateway configuration (`config.toml`) against the bundled
/// configuration schema.
///
/// # Errors
/// [`ValidationError::TomlParseError`] when it is not TOML; otherwise each failed rule
/// ([`Multiple`](ValidationError::Multiple) when more than one).
pub fn validate_config_toml(content: &str) -> Result<(), ValidationError> {
    bundled::config().validate(content)
}

/// Checks a Harmony pipeline file (`pipelines/*.toml`) against the bundled pipeline schema.
///
/// # Errors
/// As [`validate_config_toml`].
pub fn validate_pipeline_toml(content: &str) -> Result<(), ValidationError> {
    bundled::pipeline().validate(content)
}

/// Checks `content` against the schema text `schema` (e.g. a newer Harmony schema). To
/// check many documents, parse the schema once with [`Schema::parse`].
///
/// # Errors
/// [`ValidationError::SchemaParseError`] when the schema is unusable; otherwise as
/// [`validate_config_toml`].
pub fn validate_toml(content: &str, schema: &str) -> Result<(), ValidationError> {
    Schema::parse(schema)?.validate(content)
}

impl Schema {
    /// The bundled gateway configuration schema ([`BUNDLED_SCHEMA_VERSION`]), parsed once.
    pub fn config() -> &'static Schema {
        bundled::config()
    }

    /// The bundled pipeline schema ([`BUNDLED_SCHEMA_VERSION`]), parsed once.
    pub fn pipeline() -> &'static Schema {
        bundled::pipeline()
    }

    /// Checks a TOML document against this schema. Pure and blocking: no I/O.
    ///
    /// # Errors
    /// [`ValidationError::TomlParseError`] when it is not TOML or exceeds
    /// [`MAX_DOCUMENT_BYTES`]; otherwise each failed rule
    /// ([`Multiple`](ValidationError::Multiple) when more than one).
    pub fn validate(&self, content: &str) -> Result<(), ValidationError> {
        check::check(self, content)
    }
}

/// The schema for each kind of configuration: the gateway's and the pipeline's. Transforms
/// and meshes have no schema and are not checked.
///
/// Cheap to clone (shared). Defaults to the bundled schemas.
#[derive(Debug, Clone)]
pub struct Schemas {
    gateway: Arc<Schema>,
    pipeline: Arc<Schema>,
}

impl Default for Schemas {
    fn default() -> Self {
        Schemas::bundled()
    }
}

impl Schemas {
    /// The bundled schemas ([`BUNDLED_SCHEMA_VERSION`]).
    pub fn bundled() -> Schemas {
        Schemas {
            gateway: Arc::clone(bundled::config()),
            pipeline: Arc::clone(bundled::pipeline()),
        }
    }

    /// Other schemas, e.g. a newer Harmony's, parsed with [`Schema::parse`].
    pub fn new(gateway: Schema, pipeline: Schema) -> Schemas {
        Schemas {
            gateway: Arc::new(gateway),
            pipeline: Arc::new(pipeline),
        }
    }

    /// The schema a configuration of `config_type` is checked against; `None` for
    /// transforms and meshes.
    pub fn for_type(&self, config_type: ConfigType) -> Option<&Schema> {
        match config_type {
            ConfigType::Gateway => Some(&self.gateway),
            ConfigType::Pipeline => Some(&self.pipeline),
            _ => None,
        }
    }

    /// Checks `content` as a configuration of `config_type`; transforms and meshes pass
    /// unchecked.
    ///
    /// # Errors
    /// As [`Schema::validate`].
    pub fn validate(&self, config_type: ConfigType, content: &str) -> Result<(), ValidationError> {
        match self.for_type(config_type) {
            Some(schema) => schema.validate(content),
            None => Ok(()),
        }
    }
}

/// A TOML parse error as `line L, column C: reason`, without the parser's excerpt of the
/// document (which could show a secret).
fn describe_toml_error(error: &toml::de::Error, text: &str) -> String {
    let reason = error.message().trim().replace('\n', "; ");
    match error.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let before = text.get(..start).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {reason}")
        }
        None => reason,
    }
}
