//! Validated push: a Harmony configuration directory checked as a whole, then pushed one
//! file per `store_config`, as Harmony does on start-up (`RUNBEAM_PUSH_CONFIG_ON_STARTUP`).

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{Schemas, ValidationError, MAX_DOCUMENT_BYTES};
use crate::api::{ConfigType, StoreConfigResponse};
use crate::{RunbeamClient, RunbeamError};

/// Most files taken from one directory (pipelines, transforms or meshes).
pub const MAX_FILES_PER_DIR: usize = 1000;

/// A Harmony configuration directory to push, checked first.
///
/// The files, in this order:
/// - the gateway configuration, `config.toml` ([`gateway_file`](Self::gateway_file));
/// - each `*.toml` in the pipelines directory: the gateway configuration's
///   `proxy.pipelines_path`, `pipelines` by default;
/// - each `*.toml` and `*.json` in the transforms directory: `proxy.transforms_path`,
///   `transforms` by default;
/// - each `*.toml` in the meshes directory, `meshes` ([`mesh_dir`](Self::mesh_dir)).
///
/// Relative directories are taken from the configuration directory; a directory that does
/// not exist holds no files. Files are taken in name order, at most [`MAX_FILES_PER_DIR`]
/// per directory, each at most [`MAX_DOCUMENT_BYTES`].
///
/// The gateway file is checked against the gateway schema and pipelines against the
/// pipeline schema ([`Schemas`], bundled by default); transforms and meshes have no schema.
/// [`run`](Self::run) pushes nothing when any file is invalid or unreadable, unless
/// [`push_invalid`](Self::push_invalid) says so.
///
/// ```no_run
/// use runbeam_sdk_blocking::validation::ConfigPush;
/// use runbeam_sdk_blocking::RunbeamClient;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = RunbeamClient::new("https://api.runbeam.io");
/// let report = ConfigPush::new("/etc/harmony").run(&client, "machine-token");
/// println!("{report}");
/// if !report.is_success() {
///     return Err("configuration not pushed".into());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ConfigPush {
    dir: PathBuf,
    gateway_file: PathBuf,
    mesh_dir: PathBuf,
    schemas: Schemas,
    push_invalid: bool,
    gateway_id: Option<String>,
}

impl ConfigPush {
    /// The configuration directory `dir`, with the defaults below.
    pub fn new(dir: impl Into<PathBuf>) -> ConfigPush {
        ConfigPush {
            dir: dir.into(),
            gateway_file: PathBuf::from("config.toml"),
            mesh_dir: PathBuf::from("meshes"),
            schemas: Schemas::bundled(),
            push_invalid: false,
            gateway_id: None,
        }
    }

    /// The gateway configuration file. Defaults to `config.toml` in the directory.
    pub fn gateway_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.gateway_file = path.into();
        self
    }

    /// The meshes directory. Defaults to `meshes` in the directory.
    pub fn mesh_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.mesh_dir = path.into();
        self
    }

    /// The schemas to check with, e.g. a newer Harmony's. Defaults to the bundled ones.
    pub fn schemas(mut self, schemas: Schemas) -> Self {
        self.schemas = schemas;
        self
    }

    /// Push invalid files too (the server then answers for them, with a 422 for what it
    /// refuses); unreadable files are never pushed. Defaults to `false`: nothing is pushed
    /// when any file is invalid or unreadable.
    pub fn push_invalid(mut self, yes: bool) -> Self {
        self.push_invalid = yes;
        self
    }

    /// The gateway's id, sent with the gateway file so the server updates that gateway.
    /// Defaults to none (the server decides); the other files are always sent without id.
    pub fn gateway_id(mut self, id: impl Into<String>) -> Self {
        self.gateway_id = Some(id.into());
        self
    }

    /// Reads and checks every file, without any request: each file's outcome is
    /// [`Valid`](FileOutcome::Valid), [`Unchecked`](FileOutcome::Unchecked) (transforms,
    /// meshes), [`Invalid`](FileOutcome::Invalid) or
    /// [`Unreadable`](FileOutcome::Unreadable).
    pub fn check(&self) -> PushReport {
        let files = self.collect();
        PushReport {
            files: files.into_iter().map(|(file, _)| file).collect(),
        }
    }

    /// Checks every file, then — when all are readable and valid, or invalid ones may be
    /// pushed — pushes each with one [`store_config`](RunbeamClient::store_config), in the
    /// order above, carrying on after a refused one. Blocks for the reads and requests.
    pub fn run(&self, client: &RunbeamClient, token: &str) -> PushReport {
        let mut files = self.collect();
        let blocked = files.iter().any(|(f, _)| match f.outcome {
            FileOutcome::Unreadable(_) => true,
            FileOutcome::Invalid(_) => !self.push_invalid,
            _ => false,
        });
        for (file, content) in &mut files {
            let Some(content) = content else { continue };
            if blocked {
                if !matches!(file.outcome, FileOutcome::Invalid(_)) {
                    file.outcome = FileOutcome::Held;
                }
                continue;
            }
            let id = match file.config_type {
                ConfigType::Gateway => self.gateway_id.as_deref(),
                _ => None,
            };
            file.outcome = match client.store_config(token, file.config_type, id, content) {
                Ok(response) => FileOutcome::Pushed(response),
                Err(error) => FileOutcome::Refused(error),
            };
        }
        PushReport {
            files: files.into_iter().map(|(file, _)| file).collect(),
        }
    }

    /// Every file with its check outcome and, when readable, its text.
    fn collect(&self) -> Vec<(PushedFile, Option<String>)> {
        let mut out = Vec::new();
        let gateway_path = self.dir.join(&self.gateway_file);
        let gateway = read_limited(&gateway_path);
        let (mut pipelines, mut transforms) =
            (PathBuf::from("pipelines"), PathBuf::from("transforms"));
        if let Ok(text) = &gateway {
            if let Ok(doc) = toml::from_str::<toml::Table>(text) {
                let proxy = doc.get("proxy").and_then(toml::Value::as_table);
                let path = |key: &str| proxy?.get(key)?.as_str().map(PathBuf::from);
                pipelines = path("pipelines_path").unwrap_or(pipelines);
                transforms = path("transforms_path").unwrap_or(transforms);
            }
        }
        out.push(self.checked(gateway_path, ConfigType::Gateway, gateway));
        let dirs = [
            (pipelines, ConfigType::Pipeline, &["toml"][..]),
            (transforms, ConfigType::Transform, &["toml", "json"][..]),
            (self.mesh_dir.clone(), ConfigType::Mesh, &["toml"][..]),
        ];
        for (dir, config_type, extensions) in dirs {
            let dir = self.dir.join(dir);
            match list(&dir, extensions) {
                Ok(paths) => {
                    for path in paths {
                        let text = read_limited(&path);
                        out.push(self.checked(path, config_type, text));
                    }
                }
                Err(error) => out.push((
                    PushedFile {
                        path: dir,
                        config_type,
                        outcome: FileOutcome::Unreadable(error),
                    },
                    None,
                )),
            }
        }
        out
    }

    fn checked(
        &self,
        path: PathBuf,
        config_type: ConfigType,
        text: io::Result<String>,
    ) -> (PushedFile, Option<String>) {
        let (outcome, text) = match text {
            Err(error) => (FileOutcome::Unreadable(error), None),
            Ok(text) => {
                let outcome = match self.schemas.for_type(config_type) {
                    None => FileOutcome::Unchecked,
                    Some(schema) => match schema.validate(&text) {
                        Ok(()) => FileOutcome::Valid,
                        Err(error) => FileOutcome::Invalid(error),
                    },
                };
                (outcome, Some(text))
            }
        };
        let file = PushedFile {
            path,
            config_type,
            outcome,
        };
        (file, text)
    }
}

/// The regular files of `dir` with one of `extensions`, in name order; none when `dir`
/// does not exist.
fn list(dir: &Path, extensions: &[&str]) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        other => other?,
    };
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e));
        if wanted && fs::metadata(&path)?.is_file() {
            if paths.len() == MAX_FILES_PER_DIR {
                return Err(io::Error::other(format!(
                    "more than {MAX_FILES_PER_DIR} files"
                )));
            }
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// The file's text, refused past [`MAX_DOCUMENT_BYTES`] before it is read.
fn read_limited(path: &Path) -> io::Result<String> {
    use std::io::Read;
    let file = fs::File::open(path)?;
    let mut text = String::new();
    let limit = MAX_DOCUMENT_BYTES as u64;
    file.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(io::Error::other(format!(
            "larger than {MAX_DOCUMENT_BYTES} bytes"
        )));
    }
    Ok(text)
}

/// What [`ConfigPush`] did with every file.
#[derive(Debug)]
#[non_exhaustive]
pub struct PushReport {
    /// Every file, in push order (a directory that could not be listed is an
    /// [`Unreadable`](FileOutcome::Unreadable) entry of its own).
    pub files: Vec<PushedFile>,
}

impl PushReport {
    /// Whether nothing is invalid, unreadable, held back or refused.
    pub fn is_success(&self) -> bool {
        self.files.iter().all(|f| {
            matches!(
                f.outcome,
                FileOutcome::Valid | FileOutcome::Unchecked | FileOutcome::Pushed(_)
            )
        })
    }

    /// The files the server took.
    pub fn pushed(&self) -> impl Iterator<Item = &PushedFile> {
        (self.files.iter()).filter(|f| matches!(f.outcome, FileOutcome::Pushed(_)))
    }
}

impl fmt::Display for PushReport {
    /// One line per file: its path, type and outcome.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, file) in self.files.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{file}")?;
        }
        Ok(())
    }
}

/// One file of a [`PushReport`].
#[derive(Debug)]
#[non_exhaustive]
pub struct PushedFile {
    /// The file (or the directory that could not be listed).
    pub path: PathBuf,
    /// What it was pushed as.
    pub config_type: ConfigType,
    /// What happened to it.
    pub outcome: FileOutcome,
}

impl fmt::Display for PushedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (path, kind) = (self.path.display(), self.config_type);
        match &self.outcome {
            FileOutcome::Valid => write!(f, "{path} ({kind}): valid"),
            FileOutcome::Unchecked => write!(f, "{path} ({kind}): readable, no schema to check"),
            FileOutcome::Invalid(e) => {
                write!(
                    f,
                    "{path} ({kind}): invalid: {}",
                    e.report(super::apply::REPORT_LIMIT)
                )
            }
            FileOutcome::Unreadable(e) => write!(f, "{path} ({kind}): unreadable: {e}"),
            FileOutcome::Held => write!(f, "{path} ({kind}): not pushed, another file failed"),
            FileOutcome::Pushed(r) => {
                write!(
                    f,
                    "{path} ({kind}): pushed as {} ({:?})",
                    r.data.id, r.data.action
                )
            }
            FileOutcome::Refused(e) => write!(f, "{path} ({kind}): push failed: {e}"),
        }
    }
}

/// What happened to one file.
#[derive(Debug)]
#[non_exhaustive]
pub enum FileOutcome {
    /// Checked and valid (not pushed: [`ConfigPush::check`]).
    Valid,
    /// A transform or mesh: read, with no schema to check it against (not pushed:
    /// [`ConfigPush::check`]).
    Unchecked,
    /// It breaks its schema; not pushed unless [`ConfigPush::push_invalid`].
    Invalid(ValidationError),
    /// It (or its directory) could not be read; never pushed.
    Unreadable(io::Error),
    /// Valid, but not pushed because another file is invalid or unreadable.
    Held,
    /// The server took it.
    Pushed(StoreConfigResponse),
    /// The push failed (a 422 for what the server refuses, a network error, ...).
    Refused(RunbeamError),
}
