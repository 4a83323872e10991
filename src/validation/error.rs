//! [`ValidationError`]: why a configuration (or a schema) was refused.

use std::fmt;

/// Why a Harmony configuration, or the schema it was checked against, was refused.
///
/// Every variant that concerns the configuration names the field's dotted path
/// (`network.default.tcp_config.bind_port`, array items as `networks[0]`); keys that are not
/// bare TOML keys are quoted (`network."my net"`) and very long keys are shortened. When more
/// than one rule fails, the result is [`Multiple`](Self::Multiple), holding every failure in
/// document order (up to [`MAX_ERRORS`](super::MAX_ERRORS)).
///
/// `Display` says the path and the rule, never a value found in the configuration (a secret
/// put in the wrong field stays out of logs and reports); the `value` fields keep it for
/// the caller.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// A required field or table is absent.
    #[error("{field_path} is required but missing")]
    MissingRequiredField {
        /// The absent field's path; a required pattern table without any instance is
        /// named by its pattern (`network.*`).
        field_path: String,
    },
    /// A value has another TOML type than the schema says.
    #[error("{field_path} must be {}, found {}", article(expected), article(found))]
    InvalidType {
        /// The value's path.
        field_path: String,
        /// The schema's type: `string`, `integer`, `float`, `boolean`, `array`, `table` or
        /// `datetime`.
        expected: String,
        /// The type found.
        found: String,
    },
    /// A string is not one of the schema's `enum` values.
    #[error("{field_path} must be one of {}", allowed.join(", "))]
    InvalidEnumValue {
        /// The value's path.
        field_path: String,
        /// The value found (never shown by `Display`).
        value: String,
        /// The allowed values.
        allowed: Vec<String>,
    },
    /// A number is below `min` or above `max`.
    #[error("{field_path} is out of range: {}", range("must be", min.as_deref(), max.as_deref()))]
    OutOfRange {
        /// The value's path.
        field_path: String,
        /// The value found (never shown by `Display`).
        value: String,
        /// The schema's `min`, if any.
        min: Option<String>,
        /// The schema's `max`, if any.
        max: Option<String>,
    },
    /// An array has fewer than `min_items` or more than `max_items` items.
    #[error(
        "{field_path} has {length} item{}, {}",
        if *length == 1 { "" } else { "s" },
        range("needs", min.map(|n| n.to_string()).as_deref(), max.map(|n| n.to_string()).as_deref())
    )]
    InvalidArrayLength {
        /// The array's path.
        field_path: String,
        /// Its length.
        length: usize,
        /// The schema's `min_items`, if any.
        min: Option<usize>,
        /// The schema's `max_items`, if any.
        max: Option<usize>,
    },
    /// A string (or a pattern table's name) does not match the schema's
    /// `pattern_constraint`.
    #[error("{field_path} does not match the pattern {pattern}")]
    PatternMismatch {
        /// The value's path; for a pattern table, the table's path, whose wildcard part is
        /// what was checked.
        field_path: String,
        /// The regular expression.
        pattern: String,
    },
    /// A field that a `required_if` condition requires is absent.
    #[error("{field_path} is required when {condition} but missing")]
    ConditionalRequirementFailed {
        /// The absent field's path.
        field_path: String,
        /// The condition, as the schema writes it (`enabled == true`).
        condition: String,
    },
    /// A table or value the schema has no place for, outside every table it describes
    /// (a misspelt `[proxxy]`, or a table of a newer schema: pass that schema to
    /// [`validate_toml`](super::validate_toml)). Unknown keys *inside* a described table are
    /// accepted.
    #[error("{table_path} is not part of the schema")]
    UnexpectedTable {
        /// The path of the unknown key, as high up as it is unknown.
        table_path: String,
    },
    /// The schema itself is unusable; the text says where and why.
    #[error("invalid schema: {0}")]
    SchemaParseError(String),
    /// The configuration is not TOML (or exceeds the size or nesting limits); the text
    /// says where (line and column) and why, without quoting the document.
    #[error("invalid TOML: {0}")]
    TomlParseError(String),
    /// More than one rule failed; every failure, in document order.
    #[error("{}", ListDisplay(.0))]
    Multiple(Vec<ValidationError>),
    /// The last entry of [`Multiple`](Self::Multiple) when more than
    /// [`MAX_ERRORS`](super::MAX_ERRORS) rules failed: how many were not kept.
    #[error("{omitted} more error{} not listed", if *omitted == 1 { "" } else { "s" })]
    TooManyErrors {
        /// Failures found but not kept.
        omitted: usize,
    },
}

impl ValidationError {
    /// The single failures: the entries of [`Multiple`](Self::Multiple), or this error alone.
    pub fn errors(&self) -> &[ValidationError] {
        match self {
            ValidationError::Multiple(errors) => errors,
            single => std::slice::from_ref(single),
        }
    }

    /// The path this failure is about (`None` for schema and TOML errors, `Multiple` and
    /// `TooManyErrors`).
    pub fn field_path(&self) -> Option<&str> {
        match self {
            ValidationError::MissingRequiredField { field_path }
            | ValidationError::InvalidType { field_path, .. }
            | ValidationError::InvalidEnumValue { field_path, .. }
            | ValidationError::OutOfRange { field_path, .. }
            | ValidationError::InvalidArrayLength { field_path, .. }
            | ValidationError::PatternMismatch { field_path, .. }
            | ValidationError::ConditionalRequirementFailed { field_path, .. } => Some(field_path),
            ValidationError::UnexpectedTable { table_path } => Some(table_path),
            _ => None,
        }
    }

    /// The failures as one line of at most `max_bytes` bytes (cut at a failure boundary,
    /// with how many were left out): for a change's `failed` report or a log line. Holds
    /// paths and rules only, never values.
    pub fn report(&self, max_bytes: usize) -> String {
        let errors = self.errors();
        let mut out = String::new();
        let mut omitted = 0usize;
        for (i, error) in errors.iter().enumerate() {
            let text = error.to_string();
            let sep = if out.is_empty() { "" } else { "; " };
            // Room for the worst-case tail ("; and N more").
            let tail = 32;
            if out.len() + sep.len() + text.len() + tail > max_bytes && i > 0 {
                omitted = match errors.last() {
                    Some(ValidationError::TooManyErrors { omitted: more }) => {
                        errors.len() - i - 1 + more
                    }
                    _ => errors.len() - i,
                };
                break;
            }
            out.push_str(sep);
            out.push_str(&text);
        }
        if omitted > 0 {
            out.push_str(&format!("; and {omitted} more"));
        }
        truncate_at_char(&mut out, max_bytes);
        out
    }
}

/// Cuts `s` to at most `max` bytes, on a character boundary.
pub(super) fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// `Display` of [`ValidationError::Multiple`]: the count, then every failure.
struct ListDisplay<'a>(&'a [ValidationError]);

impl fmt::Display for ListDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counted = self
            .0
            .iter()
            .map(|e| match e {
                ValidationError::TooManyErrors { omitted } => *omitted,
                _ => 1,
            })
            .sum::<usize>();
        write!(f, "{counted} validation errors")?;
        for (i, error) in self.0.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            write!(f, "{sep}{error}")?;
        }
        Ok(())
    }
}

fn article(type_name: &str) -> String {
    let an = matches!(type_name.chars().next(), Some('a' | 'e' | 'i' | 'o' | 'u'));
    format!("{} {type_name}", if an { "an" } else { "a" })
}

fn range(verb: &str, min: Option<&str>, max: Option<&str>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("{verb} between {min} and {max}"),
        (Some(min), None) => format!("{verb} at least {min}"),
        (None, Some(max)) => format!("{verb} at most {max}"),
        (None, None) => format!("{verb} within range"),
    }
}
