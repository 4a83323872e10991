//! Validated apply: check a change's TOML before the caller's closure applies it, so a
//! [`ChangePoller`](crate::api::ChangePoller) reports a broken change `failed` instead of
//! `applied`.

use std::fmt;

use super::{Schemas, ValidationError};
use crate::api::{Change, ConfigType};

/// The most bytes of a [`ChangeRefused`]'s text: a `failed` report stays a few KiB
/// however many rules failed.
pub const REPORT_LIMIT: usize = 4096;

/// A change whose configuration failed its schema check; nothing was applied.
///
/// `Display` is the report the poller sends with `failed`: the configuration type, the
/// schema version and the failures (paths and rules, never values), at most
/// [`REPORT_LIMIT`] bytes. `source()` is the [`ValidationError`].
#[derive(Debug, Clone)]
pub struct ChangeRefused {
    config_type: ConfigType,
    schema_version: String,
    error: Box<ValidationError>,
}

impl ChangeRefused {
    /// The change's configuration type.
    pub fn config_type(&self) -> ConfigType {
        self.config_type
    }

    /// The version of the schema it was checked against.
    pub fn schema_version(&self) -> &str {
        &self.schema_version
    }

    /// Every failure.
    pub fn error(&self) -> &ValidationError {
        &self.error
    }
}

impl fmt::Display for ChangeRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = format!(
            "{} configuration refused by Harmony schema {}: ",
            self.config_type, self.schema_version
        );
        let report = self.error.report(REPORT_LIMIT.saturating_sub(head.len()));
        write!(f, "{head}{report}")
    }
}

impl std::error::Error for ChangeRefused {}

/// What a [validated](validated) apply closure returns: the change was refused by its
/// schema check, or the caller's closure failed.
///
/// `Display` is the refusal's report or the closure's own text, so the poller's `failed`
/// report says exactly that.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApplyError<E> {
    /// The configuration failed its schema check; the closure was not called.
    Refused(ChangeRefused),
    /// The closure failed.
    Apply(E),
}

impl<E: fmt::Display> fmt::Display for ApplyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::Refused(refused) => refused.fmt(f),
            ApplyError::Apply(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ApplyError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // Each variant shows its own text; what lies below is the inner error's cause.
        match self {
            ApplyError::Refused(_) => None,
            ApplyError::Apply(e) => e.source(),
        }
    }
}

impl Schemas {
    /// Checks a change's `toml_config` against the schema of its type (`gateway`,
    /// `pipeline`). Changes of other types (transforms, meshes, a type this crate does not
    /// know) and changes without configuration pass unchecked.
    ///
    /// # Errors
    /// [`ChangeRefused`] with every failure when the configuration breaks its schema (or is
    /// not TOML).
    pub fn check_change(&self, change: &Change) -> Result<(), ChangeRefused> {
        let kind = if change.resource_type.is_empty() {
            change.change_resource_type.as_deref().unwrap_or_default()
        } else {
            change.resource_type.as_str()
        };
        let (Ok(config_type), Some(toml)) = (kind.parse::<ConfigType>(), &change.toml_config)
        else {
            return Ok(());
        };
        let Some(schema) = self.for_type(config_type) else {
            return Ok(());
        };
        schema.validate(toml).map_err(|error| ChangeRefused {
            config_type,
            schema_version: schema.version().to_string(),
            error: Box::new(error),
        })
    }

    /// Wraps an apply closure for [`ChangePoller::run`](crate::api::ChangePoller::run) (or
    /// `poll_once`): each change is [checked](Self::check_change) first, and a refused one
    /// is reported `failed` with the validation report, without calling `apply`.
    pub fn validated<E, F>(&self, mut apply: F) -> impl FnMut(&Change) -> Result<(), ApplyError<E>>
    where
        F: FnMut(&Change) -> Result<(), E>,
    {
        let schemas = self.clone();
        move |change| {
            schemas.check_change(change).map_err(ApplyError::Refused)?;
            apply(change).map_err(ApplyError::Apply)
        }
    }
}

/// [`Schemas::validated`] with the bundled schemas: wraps an apply closure so that a change
/// whose gateway or pipeline TOML breaks its schema is reported `failed` with the
/// validation report instead of being applied.
///
/// ```no_run
/// use std::sync::atomic::AtomicBool;
/// use runbeam_sdk_blocking::api::ChangePoller;
/// use runbeam_sdk_blocking::validation::validated;
/// use runbeam_sdk_blocking::{load_token, MachineToken, RunbeamClient};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = RunbeamClient::new("https://api.runbeam.io");
/// let token = load_token::<MachineToken>("my-gateway")?.ok_or("not authorized")?;
/// let stop = AtomicBool::new(false);
/// let mut poller = ChangePoller::new(client, token);
/// poller.run(&stop, None, validated(|change| {
///     // Only changes whose configuration passed its schema check get here.
///     std::fs::write("config.toml", change.toml_config.as_deref().unwrap_or_default())
/// }));
/// # Ok(()) }
/// ```
pub fn validated<E, F>(apply: F) -> impl FnMut(&Change) -> Result<(), ApplyError<E>>
where
    F: FnMut(&Change) -> Result<(), E>,
{
    Schemas::bundled().validated(apply)
}
