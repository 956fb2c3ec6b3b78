//! Typed evidence capture: each kind reads its workspace input and returns a serde record that
//! the snapshot builder stores as a `Record` object beside the raw files.
//!
//! Kinds: `model` (artifacts, safetensors tensor tables, metadata), `schema` (Parquet, CSV or
//! JSON schema), `golden` (a query and its result table), `sample` (column profiles, optionally
//! per slice) and `metrics` (flattened numbers). Anything else is plain evidence: content hash and
//! size only, handled by the store. Capture never writes to the store and never prints.

pub mod flat;
pub mod golden;
pub mod metrics;
pub mod model;
pub mod recorder;
pub mod render;
pub mod sample;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use golden::{GoldenOptions, GoldenRecord};
pub use metrics::{MetricsOptions, MetricsRecord};
pub use model::{ModelOptions, ModelRecord};
pub use sample::{SampleOptions, SampleRecord};
pub use schema::{SchemaOptions, SchemaRecord};

/// Version of every record layout below; bump it when a field changes meaning.
pub const RECORD_FORMAT: u32 = 1;

/// Keys of an evidence item's table that belong to the manifest, not to the kind's options.
/// [`capture`] ignores them; any other unknown key is an error naming it.
pub const MANIFEST_KEYS: &[&str] = &["kind", "path", "paths", "description", "name", "optional"];

/// Evidence kinds with typed capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Model,
    Schema,
    Golden,
    Sample,
    Metrics,
}

impl Kind {
    /// Parses a manifest `kind` value; `None` for plain evidence (`file`, unknown names are the
    /// manifest parser's concern).
    pub fn parse(name: &str) -> Option<Kind> {
        match name {
            "model" => Some(Kind::Model),
            "schema" => Some(Kind::Schema),
            "golden" => Some(Kind::Golden),
            "sample" => Some(Kind::Sample),
            "metrics" => Some(Kind::Metrics),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Model => "model",
            Kind::Schema => "schema",
            Kind::Golden => "golden",
            Kind::Sample => "sample",
            Kind::Metrics => "metrics",
        }
    }
}

/// A stored typed record, tagged by kind (`{"kind": "sample", "format": 1, ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceRecord {
    Model(ModelRecord),
    Schema(SchemaRecord),
    Golden(GoldenRecord),
    Sample(SampleRecord),
    Metrics(MetricsRecord),
}

impl EvidenceRecord {
    pub fn kind(&self) -> Kind {
        match self {
            EvidenceRecord::Model(_) => Kind::Model,
            EvidenceRecord::Schema(_) => Kind::Schema,
            EvidenceRecord::Golden(_) => Kind::Golden,
            EvidenceRecord::Sample(_) => Kind::Sample,
            EvidenceRecord::Metrics(_) => Kind::Metrics,
        }
    }
}

/// Environment of one capture.
#[derive(Debug)]
pub struct CaptureContext<'a> {
    /// Set by a signal handler; long reads stop with [`Error::Interrupted`].
    pub interrupt: &'a AtomicBool,
    /// Allow a failing golden command and store the failure as evidence (`--allow-failed`).
    pub allow_failed: bool,
    /// Overrides every golden command's `timeout_secs`.
    pub timeout: Option<Duration>,
    /// Key for `redact` in hash mode, when the caller has a repository secret; otherwise the
    /// environment variable named by the item's `redact_key_env` is read.
    pub redact_key: Option<Vec<u8>>,
}

/// A file produced by capture that the caller stores as a blob next to the record (for golden
/// items: the result table normalized to Parquet).
#[derive(Debug)]
pub struct ExtraBlob {
    /// Name the record uses to refer to it, e.g. `result.parquet`.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Result of capturing one item.
#[derive(Debug)]
pub struct Captured {
    pub record: EvidenceRecord,
    pub extra_blobs: Vec<ExtraBlob>,
}

/// Errors of typed capture. Each variant names the file (and column) concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid options for {kind} evidence: {message}")]
    Options { kind: &'static str, message: String },
    #[error("invalid option `{key}` for {kind} evidence: {message}")]
    OptionValue {
        kind: &'static str,
        /// The key path from the item's table, e.g. `timeout_secs` or `csv.types.age`.
        key: String,
        message: String,
    },
    #[error("{kind} evidence needs {expected}, but {found} files matched")]
    FileCount {
        kind: &'static str,
        expected: &'static str,
        found: usize,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Read(#[from] crate::profile::read::ReadError),
    #[error("{path}: {source}")]
    Profile {
        path: PathBuf,
        #[source]
        source: crate::profile::ProfileError,
    },
    #[error("{path}: {source}")]
    Slice {
        path: PathBuf,
        #[source]
        source: crate::profile::slice::SliceError,
    },
    #[error("{path}: invalid {format}: {message}")]
    Parse {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    #[error("{path}: invalid safetensors file: {message}")]
    Safetensors { path: PathBuf, message: String },
    #[error("{path}: invalid JSON schema: {message}")]
    JsonSchema { path: PathBuf, message: String },
    #[error("redact key missing: set the environment variable {env} or a repository secret")]
    RedactKeyMissing { env: String },
    #[error("redacted column `{column}` is not in {path}")]
    RedactColumnMissing { path: PathBuf, column: String },
    #[error(transparent)]
    Golden(#[from] golden::GoldenError),
    #[error("interrupted")]
    Interrupted,
}

/// Deserializes a kind's options from the item's table, ignoring [`MANIFEST_KEYS`].
pub fn parse_options<T: serde::de::DeserializeOwned>(
    kind: Kind,
    table: &toml::Table,
) -> Result<T, Error> {
    let mut options = table.clone();
    for key in MANIFEST_KEYS {
        options.remove(*key);
    }
    // In toml 1.2, `de::Error::message()` drops the key path and only `Display` appends it, in a
    // free-form line. serde_path_to_error tracks the path while deserializing instead.
    serde_path_to_error::deserialize(toml::Value::Table(options)).map_err(|e| {
        let key = e.path().to_string();
        let message = e.inner().message().trim().to_owned();
        // The path is "." when the error concerns the table as a whole, e.g. a missing field.
        if key == "." {
            Error::Options {
                kind: kind.as_str(),
                message,
            }
        } else {
            Error::OptionValue {
                kind: kind.as_str(),
                key,
                message,
            }
        }
    })
}

/// Captures one typed evidence item.
///
/// `table` is the item's table from `evidence.toml`; `matched_files` are the workspace files the
/// item's `path` matched (absolute or relative to `workspace`), sorted by the caller for a
/// deterministic result.
pub fn capture(
    kind: Kind,
    table: &toml::Table,
    workspace: &Path,
    matched_files: &[PathBuf],
    ctx: &CaptureContext<'_>,
) -> Result<Captured, Error> {
    let files: Vec<PathBuf> = matched_files
        .iter()
        .map(|p| {
            if p.is_absolute() {
                p.clone()
            } else {
                workspace.join(p)
            }
        })
        .collect();
    let no_blobs = |record| Captured {
        record,
        extra_blobs: Vec::new(),
    };
    match kind {
        Kind::Model => {
            let options: ModelOptions = parse_options(kind, table)?;
            model::capture(&options, workspace, &files, ctx)
                .map(|r| no_blobs(EvidenceRecord::Model(r)))
        }
        Kind::Schema => {
            let options: SchemaOptions = parse_options(kind, table)?;
            schema::capture(&options, workspace, &files)
                .map(|r| no_blobs(EvidenceRecord::Schema(r)))
        }
        Kind::Golden => {
            let options: GoldenOptions = parse_options(kind, table)?;
            let (record, blobs) = golden::capture(&options, workspace, &files, ctx)?;
            Ok(Captured {
                record: EvidenceRecord::Golden(record),
                extra_blobs: blobs,
            })
        }
        Kind::Sample => {
            let options: SampleOptions = parse_options(kind, table)?;
            sample::capture(&options, workspace, &files, ctx)
                .map(|r| no_blobs(EvidenceRecord::Sample(r)))
        }
        Kind::Metrics => {
            let options: MetricsOptions = parse_options(kind, table)?;
            metrics::capture(&options, workspace, &files)
                .map(|r| no_blobs(EvidenceRecord::Metrics(r)))
        }
    }
}

/// Returns `path` relative to `workspace` with `/` separators, for storing in records.
pub(crate) fn display_path(workspace: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(workspace).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
