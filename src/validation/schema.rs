//! The schema language: [`Schema`], parsed once from Harmony DSL text.
//!
//! ```toml
//! [schema]
//! version = "1.8.0"
//!
//! [[table]]
//! name = "network.*"            # `*` stands for one key; needs `pattern = true`
//! pattern = true
//! pattern_constraint = "^[a-z0-9_-]+$"   # checked against each wildcard key
//!
//! [[table.field]]
//! name = "tcp_config.bind_port" # dotted: a key inside a sub-table
//! type = "integer"
//! required_if = "tcp_config exists"
//! min = 1
//! max = 65535
//! ```

use serde::Deserialize;

use super::error::ValidationError;
use super::{describe_toml_error, MAX_PATTERN_BYTES, MAX_SCHEMA_BYTES};

/// Most tables and fields a schema may define: the bundled schemas have 14 tables and a few
/// hundred fields, and the checker's work grows with both.
const MAX_TABLES: usize = 1_000;
const MAX_FIELDS: usize = 10_000;

/// The compiled size a `pattern_constraint` may take (regex-lite's NFA bytes). Matching time
/// is linear in the input but grows with the pattern's size: at this limit the costliest
/// patterns (`a{100}$`, `(.*a){20}$`) take about 1.6 s per MiB of strings checked, the
/// bundled ones 60 ms. Enough for identifier and e-mail patterns; a bounded repetition like
/// `{1,50}` is too large (use `+`).
const PATTERN_SIZE_LIMIT: usize = 4 * 1024;
/// How deeply a `pattern_constraint` may nest groups.
const PATTERN_NEST_LIMIT: u32 = 16;

/// A parsed Harmony DSL schema, ready to check configurations with
/// [`validate`](Self::validate). Parsing compiles every `pattern_constraint` once.
///
/// Cheap to share: check many documents with one `Schema`; the bundled ones are
/// [`Schema::config`] and [`Schema::pipeline`].
#[derive(Debug, Clone)]
pub struct Schema {
    pub(super) version: String,
    pub(super) description: String,
    pub(super) tables: Vec<TableDef>,
}

#[derive(Debug, Clone)]
pub(super) struct TableDef {
    /// The name as written (`network.*`).
    pub(super) name: String,
    pub(super) segments: Vec<Segment>,
    pub(super) required: bool,
    /// Checked against each wildcard key of a pattern table.
    pub(super) constraint: Option<Pattern>,
    pub(super) fields: Vec<FieldDef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    Key(String),
    Wildcard,
}

#[derive(Debug, Clone)]
pub(super) struct FieldDef {
    /// The dotted name split into keys.
    pub(super) path: Vec<String>,
    pub(super) kind: Kind,
    pub(super) requirement: Requirement,
    pub(super) allowed: Option<Vec<String>>,
    pub(super) min: Option<Number>,
    pub(super) max: Option<Number>,
    pub(super) min_items: Option<usize>,
    pub(super) max_items: Option<usize>,
    pub(super) item_kind: Option<Kind>,
    pub(super) pattern: Option<Pattern>,
}

/// When a field must be present. A `required_if` replaces `required` (the bundled schemas
/// write `required = true` beside every `required_if`, meaning "required when").
#[derive(Debug, Clone)]
pub(super) enum Requirement {
    Optional,
    Always,
    If(Condition),
}

/// A `required_if` expression: `key exists`, `key`, `key == literal`, `key != literal`.
#[derive(Debug, Clone)]
pub(super) struct Condition {
    /// As the schema writes it, for the error.
    pub(super) text: String,
    /// The key (dotted), relative to the table the field belongs to.
    pub(super) path: Vec<String>,
    pub(super) test: Test,
}

#[derive(Debug, Clone)]
pub(super) enum Test {
    Exists,
    Equals(Literal),
    Differs(Literal),
}

/// A literal in a condition; it equals only a value of its own type.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Literal {
    Bool(bool),
    Integer(i64),
    String(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Number {
    Integer(i64),
    Float(f64),
}

impl Number {
    pub(super) fn as_f64(self) -> f64 {
        match self {
            Number::Integer(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Integer(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// The value types of the DSL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    String,
    Integer,
    /// Integers are accepted where a float is expected (`timeout = 5` for `5.0`).
    Float,
    Boolean,
    Array,
    Table,
    Datetime,
}

impl Kind {
    fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "string" => Kind::String,
            "integer" => Kind::Integer,
            "float" => Kind::Float,
            "boolean" => Kind::Boolean,
            "array" => Kind::Array,
            "table" => Kind::Table,
            "datetime" => Kind::Datetime,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Integer => "integer",
            Kind::Float => "float",
            Kind::Boolean => "boolean",
            Kind::Array => "array",
            Kind::Table => "table",
            Kind::Datetime => "datetime",
        }
    }

    pub(super) fn of(value: &toml::Value) -> Kind {
        match value {
            toml::Value::String(_) => Kind::String,
            toml::Value::Integer(_) => Kind::Integer,
            toml::Value::Float(_) => Kind::Float,
            toml::Value::Boolean(_) => Kind::Boolean,
            toml::Value::Array(_) => Kind::Array,
            toml::Value::Table(_) => Kind::Table,
            toml::Value::Datetime(_) => Kind::Datetime,
        }
    }

    pub(super) fn accepts(self, value: &toml::Value) -> bool {
        let found = Kind::of(value);
        found == self || (self == Kind::Float && found == Kind::Integer)
    }
}

/// A compiled `pattern_constraint`, with its source for errors.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    pub(super) regex: regex_lite::Regex,
}

impl Pattern {
    fn compile(source: &str, whose: &str) -> Result<Pattern, ValidationError> {
        if source.len() > MAX_PATTERN_BYTES {
            return Err(schema_error(format!(
                "pattern_constraint of {whose} is longer than {MAX_PATTERN_BYTES} bytes"
            )));
        }
        let regex = regex_lite::RegexBuilder::new(source)
            .size_limit(PATTERN_SIZE_LIMIT)
            .nest_limit(PATTERN_NEST_LIMIT)
            .build()
            .map_err(|e| {
                let reason = e.to_string().replace('\n', " ");
                schema_error(format!(
                    "pattern_constraint of {whose} is unusable: {reason}"
                ))
            })?;
        Ok(Pattern { regex })
    }

    pub(super) fn source(&self) -> &str {
        self.regex.as_str()
    }
}

fn schema_error(reason: String) -> ValidationError {
    ValidationError::SchemaParseError(reason)
}

// The DSL as written. Keys this crate does not know (a newer DSL's, `description`) are
// ignored, so a newer schema still loads.
#[derive(Deserialize)]
struct RawSchema {
    schema: Option<RawMeta>,
    #[serde(default)]
    table: Vec<RawTable>,
}

#[derive(Deserialize)]
struct RawMeta {
    version: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
struct RawTable {
    name: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    pattern: bool,
    pattern_constraint: Option<String>,
    #[serde(default)]
    field: Vec<RawField>,
}

#[derive(Deserialize)]
struct RawField {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    required: bool,
    required_if: Option<String>,
    default: Option<toml::Value>,
    #[serde(rename = "enum")]
    allowed: Option<Vec<String>>,
    min: Option<toml::Value>,
    max: Option<toml::Value>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    array_item_type: Option<String>,
    pattern_constraint: Option<String>,
}

impl Schema {
    /// Parses and checks a schema written in the Harmony DSL.
    ///
    /// # Errors
    /// [`ValidationError::SchemaParseError`] saying where and why: not TOML, no
    /// `[schema]` table or `version`, an unknown `type`, a malformed `required_if`, a
    /// `pattern_constraint` that does not compile or exceeds the size limits, a `default`
    /// of the wrong type, `min` above `max`, a table or field defined twice, more than
    /// 1,000 tables or 10,000 fields, or a text over 1 MiB.
    pub fn parse(schema_toml: &str) -> Result<Schema, ValidationError> {
        if schema_toml.len() > MAX_SCHEMA_BYTES {
            return Err(schema_error(format!(
                "the schema is larger than {MAX_SCHEMA_BYTES} bytes"
            )));
        }
        let raw: RawSchema = toml::from_str(schema_toml)
            .map_err(|e| schema_error(describe_toml_error(&e, schema_toml)))?;
        let meta = raw
            .schema
            .ok_or_else(|| schema_error("no [schema] table with a version".into()))?;
        if raw.table.len() > MAX_TABLES {
            return Err(schema_error(format!("more than {MAX_TABLES} tables")));
        }
        let field_count: usize = raw.table.iter().map(|t| t.field.len()).sum();
        if field_count > MAX_FIELDS {
            return Err(schema_error(format!("more than {MAX_FIELDS} fields")));
        }
        let mut tables: Vec<TableDef> = Vec::with_capacity(raw.table.len());
        for raw_table in raw.table {
            let table = TableDef::parse(raw_table)?;
            if tables.iter().any(|t| t.segments == table.segments) {
                return Err(schema_error(format!(
                    "table {} is defined twice",
                    table.name
                )));
            }
            tables.push(table);
        }
        Ok(Schema {
            version: meta.version,
            description: meta.description,
            tables,
        })
    }

    /// The schema's `version` (e.g. `"1.8.0"`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The schema's `description` (empty when it has none).
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The table definition for the key path `keys`: an exact name first, then the first
    /// pattern, in schema order, that matches.
    pub(super) fn table_for(&self, keys: &[&str]) -> Option<usize> {
        let exact = self.tables.iter().position(|t| {
            !t.is_pattern() && t.segments.len() == keys.len() && t.matches_prefix(keys)
        });
        exact.or_else(|| {
            self.tables
                .iter()
                .position(|t| t.segments.len() == keys.len() && t.matches_prefix(keys))
        })
    }

    /// Whether `keys` leads to a defined table further down (`network` for `network.*`).
    pub(super) fn leads_to_table(&self, keys: &[&str]) -> bool {
        self.tables
            .iter()
            .any(|t| t.segments.len() > keys.len() && t.matches_prefix(keys))
    }
}

impl TableDef {
    fn parse(raw: RawTable) -> Result<TableDef, ValidationError> {
        let segments: Vec<Segment> = raw
            .name
            .split('.')
            .map(|s| match s {
                "*" => Segment::Wildcard,
                key => Segment::Key(key.to_string()),
            })
            .collect();
        let name = &raw.name;
        if segments.iter().any(|s| *s == Segment::Key(String::new())) {
            return Err(schema_error(format!(
                "table name {name:?} has an empty key"
            )));
        }
        let wildcards = segments.contains(&Segment::Wildcard);
        if wildcards != raw.pattern {
            return Err(schema_error(format!(
                "table {name}: a `*` key and `pattern = true` go together"
            )));
        }
        let constraint = match &raw.pattern_constraint {
            Some(_) if !raw.pattern => {
                return Err(schema_error(format!(
                    "table {name}: pattern_constraint without pattern = true"
                )))
            }
            Some(source) => Some(Pattern::compile(source, &format!("table {name}"))?),
            None => None,
        };
        let mut fields: Vec<FieldDef> = Vec::with_capacity(raw.field.len());
        for raw_field in raw.field {
            let whose = format!("field {} of table {name}", raw_field.name);
            let field = FieldDef::parse(raw_field, &whose)?;
            if fields.iter().any(|f| f.path == field.path) {
                return Err(schema_error(format!("{whose} is defined twice")));
            }
            fields.push(field);
        }
        Ok(TableDef {
            name: raw.name,
            segments,
            required: raw.required,
            constraint,
            fields,
        })
    }

    pub(super) fn is_pattern(&self) -> bool {
        self.segments.contains(&Segment::Wildcard)
    }

    /// Whether the first `keys.len()` segments match `keys`.
    fn matches_prefix(&self, keys: &[&str]) -> bool {
        keys.len() <= self.segments.len()
            && self.segments.iter().zip(keys).all(|(s, k)| match s {
                Segment::Wildcard => true,
                Segment::Key(name) => name == k,
            })
    }
}

impl FieldDef {
    fn parse(raw: RawField, whose: &str) -> Result<FieldDef, ValidationError> {
        let path: Vec<String> = raw.name.split('.').map(str::to_string).collect();
        if path.iter().any(String::is_empty) {
            return Err(schema_error(format!("{whose}: the name has an empty key")));
        }
        let kind = parse_kind(&raw.kind, whose)?;
        let item_kind = match &raw.array_item_type {
            Some(name) if kind == Kind::Array => Some(parse_kind(name, whose)?),
            Some(_) => {
                return Err(schema_error(format!(
                    "{whose}: array_item_type on a field that is not an array"
                )))
            }
            None => None,
        };
        let requirement = match &raw.required_if {
            Some(text) => Requirement::If(Condition::parse(text, whose)?),
            None if raw.required => Requirement::Always,
            None => Requirement::Optional,
        };
        let min = raw
            .min
            .as_ref()
            .map(|v| number(v, whose, "min"))
            .transpose()?;
        let max = raw
            .max
            .as_ref()
            .map(|v| number(v, whose, "max"))
            .transpose()?;
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo.as_f64() > hi.as_f64() {
                return Err(schema_error(format!("{whose}: min is above max")));
            }
        }
        if let (Some(lo), Some(hi)) = (raw.min_items, raw.max_items) {
            if lo > hi {
                return Err(schema_error(format!(
                    "{whose}: min_items is above max_items"
                )));
            }
        }
        if let Some(default) = &raw.default {
            if !kind.accepts(default) {
                return Err(schema_error(format!(
                    "{whose}: the default is not a {}",
                    kind.name()
                )));
            }
        }
        let pattern = raw
            .pattern_constraint
            .as_deref()
            .map(|source| Pattern::compile(source, whose))
            .transpose()?;
        Ok(FieldDef {
            path,
            kind,
            requirement,
            allowed: raw.allowed,
            min,
            max,
            min_items: raw.min_items,
            max_items: raw.max_items,
            item_kind,
            pattern,
        })
    }
}

fn parse_kind(name: &str, whose: &str) -> Result<Kind, ValidationError> {
    Kind::parse(name).ok_or_else(|| {
        schema_error(format!(
            "{whose}: unknown type {name:?} (expected string, integer, float, boolean, array, \
             table or datetime)"
        ))
    })
}

fn number(value: &toml::Value, whose: &str, key: &str) -> Result<Number, ValidationError> {
    match value {
        toml::Value::Integer(i) => Ok(Number::Integer(*i)),
        toml::Value::Float(f) if !f.is_nan() => Ok(Number::Float(*f)),
        _ => Err(schema_error(format!("{whose}: {key} is not a number"))),
    }
}

impl Condition {
    fn parse(text: &str, whose: &str) -> Result<Condition, ValidationError> {
        let bad = || {
            schema_error(format!(
                "{whose}: required_if {text:?} is not `key exists`, `key == value` or \
                 `key != value`"
            ))
        };
        let (key, test) = if let Some((key, value)) = text.split_once("==") {
            (key, Test::Equals(Literal::parse(value).ok_or_else(bad)?))
        } else if let Some((key, value)) = text.split_once("!=") {
            (key, Test::Differs(Literal::parse(value).ok_or_else(bad)?))
        } else {
            let key = text.trim();
            (key.strip_suffix(" exists").unwrap_or(key), Test::Exists)
        };
        let key = key.trim();
        let path: Vec<String> = key.split('.').map(str::to_string).collect();
        let bare = |k: &String| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !path.iter().all(bare) {
            return Err(bad());
        }
        Ok(Condition {
            text: text.trim().to_string(),
            path,
            test,
        })
    }
}

impl Literal {
    /// `true`, `false`, an integer, a quoted string (`'s3'`, `"s3"`) or a bare word.
    fn parse(text: &str) -> Option<Literal> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let quoted = |q: char| {
            (text.len() >= 2 && text.starts_with(q) && text.ends_with(q))
                .then(|| text[1..text.len() - 1].to_string())
        };
        Some(match text {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            _ => match (quoted('"').or_else(|| quoted('\'')), text.parse::<i64>()) {
                (Some(s), _) => Literal::String(s),
                (None, Ok(i)) => Literal::Integer(i),
                (None, Err(_)) if !text.contains(char::is_whitespace) => {
                    Literal::String(text.to_string())
                }
                _ => return None,
            },
        })
    }

    pub(super) fn equals(&self, value: &toml::Value) -> bool {
        match (self, value) {
            (Literal::Bool(a), toml::Value::Boolean(b)) => a == b,
            (Literal::Integer(a), toml::Value::Integer(b)) => a == b,
            (Literal::String(a), toml::Value::String(b)) => a == b,
            _ => false,
        }
    }
}
