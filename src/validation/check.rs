//! The checker: one walk over a parsed configuration, collecting every failure.
//!
//! Its recursion follows the schema, never the document: it descends only into keys that a
//! schema table or a dotted field name leads to, so a deeply nested document costs no stack.

use toml::{Table, Value};

use super::error::ValidationError;
use super::schema::{FieldDef, Kind, Number, Requirement, Schema, Segment, TableDef, Test};
use super::{describe_toml_error, MAX_DOCUMENT_BYTES, MAX_ERRORS};

/// Keys longer than this are shortened in paths, so an error's size does not grow with the
/// document.
const MAX_KEY_IN_PATH: usize = 64;

/// Checks `content` against `schema`.
pub(super) fn check(schema: &Schema, content: &str) -> Result<(), ValidationError> {
    if content.len() > MAX_DOCUMENT_BYTES {
        return Err(ValidationError::TomlParseError(format!(
            "the document is larger than {MAX_DOCUMENT_BYTES} bytes"
        )));
    }
    let document: Table = toml::from_str(content)
        .map_err(|e| ValidationError::TomlParseError(describe_toml_error(&e, content)))?;
    let mut checker = Checker {
        schema,
        errors: Vec::new(),
        omitted: 0,
        seen: vec![false; schema.tables.len()],
    };
    let mut keys = Vec::new();
    let mut path = Path::default();
    checker.walk(&document, &mut keys, &mut path, false);
    checker.required_tables();
    checker.finish()
}

struct Checker<'s> {
    schema: &'s Schema,
    errors: Vec<ValidationError>,
    omitted: usize,
    /// Which schema tables matched a key of the document.
    seen: Vec<bool>,
}

impl Checker<'_> {
    fn fail(&mut self, error: impl FnOnce() -> ValidationError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(error());
        } else {
            self.omitted += 1;
        }
    }

    fn finish(mut self) -> Result<(), ValidationError> {
        if self.omitted > 0 {
            self.errors.push(ValidationError::TooManyErrors {
                omitted: self.omitted,
            });
        }
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(self.errors.remove(0)),
            _ => Err(ValidationError::Multiple(self.errors)),
        }
    }

    /// Checks each key of `table` (at `keys`) that the schema knows. `inside` says whether
    /// `table` is itself a described table, where unknown keys are accepted (a newer
    /// Harmony's options); outside every described table an unknown key is an error.
    fn walk<'d>(
        &mut self,
        table: &'d Table,
        keys: &mut Vec<&'d str>,
        path: &mut Path,
        inside: bool,
    ) {
        for (key, value) in table {
            keys.push(key);
            path.push_key(key);
            let schema = self.schema;
            if let Some(index) = schema.table_for(keys) {
                self.seen[index] = true;
                self.check_table(&schema.tables[index], value, keys, path);
            } else if schema.leads_to_table(keys) {
                match value.as_table() {
                    Some(inner) => self.walk(inner, keys, path, inside),
                    None => self.fail(|| invalid_type(path, Kind::Table, value)),
                }
            } else if !inside {
                self.fail(|| ValidationError::UnexpectedTable {
                    table_path: path.to_string(),
                });
            }
            path.pop();
            keys.pop();
        }
    }

    fn check_table<'d>(
        &mut self,
        def: &TableDef,
        value: &'d Value,
        keys: &mut Vec<&'d str>,
        path: &mut Path,
    ) {
        let Some(table) = value.as_table() else {
            self.fail(|| invalid_type(path, Kind::Table, value));
            return;
        };
        if let Some(constraint) = &def.constraint {
            let wildcards = def.segments.iter().zip(keys.iter());
            for (_, key) in wildcards.filter(|(s, _)| **s == Segment::Wildcard) {
                if !constraint.regex.is_match(key) {
                    self.fail(|| ValidationError::PatternMismatch {
                        field_path: path.to_string(),
                        pattern: constraint.source().to_string(),
                    });
                }
            }
        }
        for field in &def.fields {
            let required = match &field.requirement {
                Requirement::Optional => None,
                Requirement::Always => Some(None),
                Requirement::If(condition) => {
                    let found = lookup(table, &condition.path);
                    let holds = match &condition.test {
                        Test::Exists => found.is_some(),
                        Test::Equals(literal) => found.is_some_and(|v| literal.equals(v)),
                        Test::Differs(literal) => !found.is_some_and(|v| literal.equals(v)),
                    };
                    holds.then_some(Some(condition.text.as_str()))
                }
            };
            self.visit_field(field, table, &field.path, path, required);
        }
        // Described tables inside this one (`a.b` beside `a`).
        self.walk(table, keys, path, true);
    }

    /// Finds the field's value along `rest` (through tables, and through arrays of tables
    /// item by item) and checks it; reports it missing when `required` (with the condition
    /// that requires it, if any).
    fn visit_field(
        &mut self,
        field: &FieldDef,
        table: &Table,
        rest: &[String],
        path: &mut Path,
        required: Option<Option<&str>>,
    ) {
        let Some((key, rest)) = rest.split_first() else {
            return;
        };
        path.push_key(key);
        match (table.get(key), rest.is_empty()) {
            (None, _) => {
                if let Some(condition) = required {
                    for k in rest {
                        path.push_key(k);
                    }
                    self.fail(|| missing(path, condition));
                    for _ in rest {
                        path.pop();
                    }
                }
            }
            (Some(value), true) => self.check_value(field, value, path),
            (Some(Value::Table(inner)), false) => {
                self.visit_field(field, inner, rest, path, required)
            }
            (Some(Value::Array(items)), false) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Table(inner) = item {
                        path.push_index(i);
                        self.visit_field(field, inner, rest, path, required);
                        path.pop();
                    }
                }
            }
            // A scalar where a table should be: the field that names it reports its type.
            (Some(_), false) => {}
        }
        path.pop();
    }

    fn check_value(&mut self, field: &FieldDef, value: &Value, path: &mut Path) {
        if !field.kind.accepts(value) {
            self.fail(|| invalid_type(path, field.kind, value));
            return;
        }
        self.check_scalar(field, value, path);
        if let Value::Array(items) = value {
            let length = items.len();
            let short = field.min_items.is_some_and(|n| length < n);
            let long = field.max_items.is_some_and(|n| length > n);
            if short || long {
                self.fail(|| ValidationError::InvalidArrayLength {
                    field_path: path.to_string(),
                    length,
                    min: field.min_items,
                    max: field.max_items,
                });
            }
            for (i, item) in items.iter().enumerate() {
                path.push_index(i);
                match field.item_kind {
                    Some(kind) if !kind.accepts(item) => {
                        self.fail(|| invalid_type(path, kind, item));
                    }
                    _ => self.check_scalar(field, item, path),
                }
                path.pop();
            }
        }
    }

    /// The rules that apply to a single value: `enum` and `pattern_constraint` to strings
    /// (the field's, or each string item of an array field), `min`/`max` to numbers.
    fn check_scalar(&mut self, field: &FieldDef, value: &Value, path: &Path) {
        match value {
            Value::String(s) => {
                if let Some(allowed) = &field.allowed {
                    if !allowed.iter().any(|a| a == s) {
                        self.fail(|| ValidationError::InvalidEnumValue {
                            field_path: path.to_string(),
                            value: s.clone(),
                            allowed: allowed.clone(),
                        });
                    }
                }
                if let Some(pattern) = &field.pattern {
                    if !pattern.regex.is_match(s) {
                        self.fail(|| ValidationError::PatternMismatch {
                            field_path: path.to_string(),
                            pattern: pattern.source().to_string(),
                        });
                    }
                }
            }
            Value::Integer(i) => self.check_range(field, Number::Integer(*i), path),
            Value::Float(f) => self.check_range(field, Number::Float(*f), path),
            _ => {}
        }
    }

    fn check_range(&mut self, field: &FieldDef, n: Number, path: &Path) {
        let below = field.min.is_some_and(|min| !at_least(n, min));
        let above = field.max.is_some_and(|max| !at_least(max, n));
        if below || above {
            self.fail(|| ValidationError::OutOfRange {
                field_path: path.to_string(),
                value: n.to_string(),
                min: field.min.map(|m| m.to_string()),
                max: field.max.map(|m| m.to_string()),
            });
        }
    }

    /// Reports required tables that no key of the document matched: a plain table by its
    /// name, a pattern table (`required = true`: at least one instance) by its pattern.
    fn required_tables(&mut self) {
        let schema = self.schema;
        for (def, seen) in schema.tables.iter().zip(self.seen.clone()) {
            if def.required && !seen {
                self.fail(|| ValidationError::MissingRequiredField {
                    field_path: def.name.clone(),
                });
            }
        }
    }
}

/// `a >= b`, exactly for two integers; NaN is never in range.
fn at_least(a: Number, b: Number) -> bool {
    match (a, b) {
        (Number::Integer(a), Number::Integer(b)) => a >= b,
        _ => a.as_f64() >= b.as_f64(),
    }
}

/// The value at the dotted `path` inside `table`, through tables only.
fn lookup<'d>(table: &'d Table, path: &[String]) -> Option<&'d Value> {
    let (last, parents) = path.split_last()?;
    let mut table = table;
    for key in parents {
        table = table.get(key)?.as_table()?;
    }
    table.get(last)
}

fn invalid_type(path: &Path, expected: Kind, found: &Value) -> ValidationError {
    ValidationError::InvalidType {
        field_path: path.to_string(),
        expected: expected.name().to_string(),
        found: Kind::of(found).name().to_string(),
    }
}

fn missing(path: &Path, condition: Option<&str>) -> ValidationError {
    match condition {
        None => ValidationError::MissingRequiredField {
            field_path: path.to_string(),
        },
        Some(condition) => ValidationError::ConditionalRequirementFailed {
            field_path: path.to_string(),
            condition: condition.to_string(),
        },
    }
}

/// A dotted path being built during the walk: keys joined by `.`, array items as `[i]`;
/// a key that is not a bare TOML key is quoted, a very long one shortened.
#[derive(Default)]
struct Path {
    text: String,
    /// Length of `text` before each pushed part.
    marks: Vec<usize>,
}

impl Path {
    fn push_key(&mut self, key: &str) {
        self.marks.push(self.text.len());
        if !self.text.is_empty() {
            self.text.push('.');
        }
        let bare = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let short = if key.len() > MAX_KEY_IN_PATH {
            let mut end = MAX_KEY_IN_PATH;
            while !key.is_char_boundary(end) {
                end -= 1;
            }
            Some(&key[..end])
        } else {
            None
        };
        match (bare, short) {
            (true, None) => self.text.push_str(key),
            (true, Some(start)) => {
                self.text.push_str(start);
                self.text.push('…');
            }
            (false, None) => self.text.push_str(&format!("{key:?}")),
            (false, Some(start)) => self.text.push_str(&format!("{:?}", format!("{start}…"))),
        }
    }

    fn push_index(&mut self, i: usize) {
        self.marks.push(self.text.len());
        self.text.push_str(&format!("[{i}]"));
    }

    fn pop(&mut self) {
        if let Some(mark) = self.marks.pop() {
            self.text.truncate(mark);
        }
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}
