//! `golden` evidence: a golden query and its result table, read from a file or from the standard
//! output of a declared command run with a timeout. The table is normalized to Parquet so `diff`
//! reads one format; key columns and numeric tolerances travel with it.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use parquet::arrow::ArrowWriter;
use serde::{Deserialize, Serialize};

use super::schema::{FieldRecord, fields_of};
use super::{CaptureContext, Error, ExtraBlob, RECORD_FORMAT, display_path};
use crate::process_group::kill_group;
use crate::profile::read::{CsvOptions, ReadError, TableFormat, TableSource};

/// Name of the result blob in [`Captured::extra_blobs`](super::Captured) and in the record.
pub const RESULT_BLOB: &str = "result.parquet";

/// Absolute and relative tolerance for comparing numeric cells: values `a` (base) and `b` match
/// when `|a − b| ≤ absolute` or `|a − b| ≤ relative × |a|`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tolerance {
    pub absolute: f64,
    pub relative: f64,
}

/// Options of a `golden` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GoldenOptions {
    /// The query text, stored verbatim.
    pub query: Option<String>,
    /// A file holding the query text, relative to the workspace.
    pub query_file: Option<String>,
    /// Shell command (`sh -c`, run in the workspace) whose standard output is the result table.
    /// Without it, the item's single matched file is the result table.
    pub command: Option<String>,
    /// Result format; by default from the file extension, and CSV for command output.
    pub format: Option<TableFormat>,
    pub csv: CsvOptions,
    /// Seconds before the command's process group is killed.
    pub timeout_secs: u64,
    /// Store a failing command (non-zero exit, signal, timeout) as evidence instead of failing.
    pub allow_failed: bool,
    /// Columns that identify a row, for row matching in diffs.
    pub key_columns: Vec<String>,
    /// Default tolerance for numeric columns.
    pub tolerance: Tolerance,
    /// Per-column tolerances, overriding the default.
    pub column_tolerances: BTreeMap<String, Tolerance>,
    /// Largest command output accepted, in bytes.
    pub max_output_bytes: u64,
    /// Standard error kept in the record, in bytes (the rest is counted).
    pub max_stderr_bytes: usize,
}

impl Default for GoldenOptions {
    fn default() -> Self {
        GoldenOptions {
            query: None,
            query_file: None,
            command: None,
            format: None,
            csv: CsvOptions::default(),
            timeout_secs: 300,
            allow_failed: false,
            key_columns: Vec::new(),
            tolerance: Tolerance::default(),
            column_tolerances: BTreeMap::new(),
            max_output_bytes: 256 << 20,
            max_stderr_bytes: 64 << 10,
        }
    }
}

/// Origin of the result table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GoldenSource {
    File {
        path: String,
    },
    Command {
        command: String,
        /// Exit code; `None` when a signal ended the process.
        exit_code: Option<i32>,
        signal: Option<i32>,
        timed_out: bool,
        /// Leading part of standard error (lossy UTF-8).
        stderr: String,
        /// Total bytes written to standard error.
        stderr_bytes: u64,
    },
}

/// The normalized result table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultTable {
    /// Name of the Parquet blob stored beside the record.
    pub blob: String,
    pub rows: u64,
    pub schema: Vec<FieldRecord>,
    /// BLAKE3 of the Parquet bytes, hex.
    pub blake3: String,
    /// Store object holding the Parquet bytes (a blob or a chunked file index); set by the
    /// snapshot builder when it stores the blob, `None` in a freshly captured record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_id: Option<crate::id::ObjectId>,
}

/// Tolerances as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tolerances {
    pub default: Tolerance,
    pub columns: BTreeMap<String, Tolerance>,
}

impl Tolerances {
    /// Returns the tolerance of one column.
    pub fn for_column(&self, column: &str) -> Tolerance {
        self.columns.get(column).copied().unwrap_or(self.default)
    }
}

/// Stored golden query result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenRecord {
    pub format: u32,
    pub query: Option<String>,
    pub query_file: Option<String>,
    pub source: GoldenSource,
    /// True when the command failed and `allow_failed` stored the failure.
    pub failed: bool,
    /// `None` only for a stored failure.
    pub result: Option<ResultTable>,
    pub key_columns: Vec<String>,
    pub tolerance: Tolerances,
}

/// Errors of running a golden command.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    #[error("golden command `{command}` timed out after {seconds} s; its process group was killed")]
    Timeout { command: String, seconds: u64 },
    #[error("golden command `{command}` failed ({status}); stderr: {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("golden command `{command}` wrote more than {limit} bytes")]
    OutputTooLarge { command: String, limit: u64 },
    #[error("cannot run golden command `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "golden command `{command}` printed an invalid {format} table on standard output: {detail}"
    )]
    BadOutput {
        command: String,
        format: TableFormat,
        /// The reader's error with the temporary file that held the output left out.
        detail: String,
        /// The reader's error as returned. It names the temporary file, which is gone by the
        /// time a user reads it, so it is not the `#[source]` that error reports print.
        reader_error: Box<Error>,
    },
    #[error(
        "{path}: column name {name:?} contains control characters or invalid UTF-8, so the \
         first line is not a header row"
    )]
    BadColumnName { path: PathBuf, name: String },
    #[error("cannot write the result table as Parquet: {0}")]
    Write(#[from] parquet::errors::ParquetError),
    #[error("key column `{column}` is not in the result table")]
    KeyColumnMissing { column: String },
    #[error("tolerance of `{column}` must be finite and not negative")]
    BadTolerance { column: String },
}

struct CommandOutcome {
    stdout: tempfile::NamedTempFile,
    exit_code: Option<i32>,
    signal: Option<i32>,
    timed_out: bool,
    stderr: String,
    stderr_bytes: u64,
}

impl CommandOutcome {
    fn failed(&self) -> bool {
        self.timed_out || self.exit_code != Some(0)
    }

    fn status(&self) -> String {
        match (self.exit_code, self.signal) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "unknown status".into(),
        }
    }
}

fn run_command(
    command: &str,
    workspace: &Path,
    timeout: Duration,
    options: &GoldenOptions,
    ctx: &CaptureContext<'_>,
) -> Result<CommandOutcome, Error> {
    let spawn_error = |source| GoldenError::Spawn {
        command: command.to_string(),
        source,
    };
    let stdout = tempfile::NamedTempFile::new().map_err(spawn_error)?;
    let stdout_file = stdout.reopen().map_err(spawn_error)?;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(workspace)
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout_file))
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(spawn_error)?;
    let pid = child.id();
    let mut stderr_pipe = child.stderr.take().expect("stderr was requested as a pipe");
    let keep = options.max_stderr_bytes;
    // Standard error is drained on a thread so a chatty command cannot block on a full pipe.
    let stderr_thread = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut total = 0u64;
        let mut buffer = [0u8; 8192];
        while let Ok(n) = stderr_pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            total += n as u64;
            let room = keep.saturating_sub(kept.len());
            kept.extend_from_slice(&buffer[..n.min(room)]);
        }
        (kept, total)
    });
    let started = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(spawn_error)? {
            break status;
        }
        let interrupted = ctx.interrupt.load(Ordering::Relaxed);
        let too_large = stdout
            .as_file()
            .metadata()
            .map(|m| m.len() > options.max_output_bytes)
            .unwrap_or(false);
        if started.elapsed() >= timeout || interrupted || too_large {
            kill_group(pid);
            let _ = child.wait();
            if interrupted {
                return Err(Error::Interrupted);
            }
            if too_large {
                return Err(GoldenError::OutputTooLarge {
                    command: command.to_string(),
                    limit: options.max_output_bytes,
                }
                .into());
            }
            timed_out = true;
            break child.wait().map_err(spawn_error)?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Grandchildren may still hold the pipe open; they belong to the group, which is killed.
    kill_group(pid);
    let (kept, stderr_bytes) = stderr_thread.join().unwrap_or_default();
    Ok(CommandOutcome {
        stdout,
        exit_code: if timed_out { None } else { status.code() },
        signal: if timed_out {
            Some(nix::sys::signal::Signal::SIGKILL as i32)
        } else {
            status.signal()
        },
        timed_out,
        stderr: String::from_utf8_lossy(&kept).into_owned(),
        stderr_bytes,
    })
}

/// Reads a table and writes it as Parquet bytes; returns the bytes, rows and schema.
fn normalize(
    path: &Path,
    format: TableFormat,
    csv: &CsvOptions,
    ctx: &CaptureContext<'_>,
) -> Result<(Vec<u8>, u64, Vec<FieldRecord>), Error> {
    let source = TableSource::new(vec![path.to_path_buf()], Some(format), csv.clone())?;
    let schema = source.schema()?;
    // Binary noise read as CSV becomes a table whose header is the noise. Control characters
    // or replaced invalid UTF-8 in a column name give it away.
    if let Some(field) = schema
        .fields()
        .iter()
        .find(|f| f.name().chars().any(|c| c.is_control() || c == '\u{FFFD}'))
    {
        return Err(GoldenError::BadColumnName {
            path: path.to_path_buf(),
            name: field.name().clone(),
        }
        .into());
    }
    let mut writer =
        ArrowWriter::try_new(Vec::new(), schema.clone(), None).map_err(GoldenError::Write)?;
    let mut rows = 0u64;
    source.for_each_batch(&schema, None, ctx.interrupt, |_, batch| {
        rows += batch.num_rows() as u64;
        writer.write(&batch).map_err(GoldenError::Write)?;
        Ok::<(), Error>(())
    })?;
    let bytes = writer.into_inner().map_err(GoldenError::Write)?;
    Ok((bytes, rows, fields_of(&schema)))
}

/// Renders a reader error about a command's standard output without the temporary file's path.
/// Variants with a message of their own give that message. Others give the whole error text with
/// the path removed or replaced by "standard output".
fn describe_output_error(error: &Error, stdout_path: &Path) -> String {
    let text = match error {
        Error::Read(ReadError::Csv { message, .. } | ReadError::Json { message, .. }) => {
            message.clone()
        }
        Error::Read(ReadError::Parquet { source, .. }) => source.to_string(),
        Error::Read(ReadError::ParquetPanic { message, .. }) => {
            format!("the reader failed on corrupt data ({message})")
        }
        other => other.to_string(),
    };
    let path = stdout_path.display().to_string();
    text.replace(&format!("{path}: "), "")
        .replace(&path, "standard output")
}

fn validate(options: &GoldenOptions) -> Result<(), Error> {
    let bad = |t: &Tolerance| {
        !(t.absolute.is_finite()
            && t.relative.is_finite()
            && t.absolute >= 0.0
            && t.relative >= 0.0)
    };
    if bad(&options.tolerance) {
        return Err(GoldenError::BadTolerance {
            column: "(default)".into(),
        }
        .into());
    }
    for (column, tolerance) in &options.column_tolerances {
        if bad(tolerance) {
            return Err(GoldenError::BadTolerance {
                column: column.clone(),
            }
            .into());
        }
    }
    if options.query.is_some() && options.query_file.is_some() {
        return Err(Error::Options {
            kind: "golden",
            message: "set `query` or `query_file`, not both".into(),
        });
    }
    Ok(())
}

pub(crate) fn capture(
    options: &GoldenOptions,
    workspace: &Path,
    files: &[PathBuf],
    ctx: &CaptureContext<'_>,
) -> Result<(GoldenRecord, Vec<ExtraBlob>), Error> {
    validate(options)?;
    let query = match &options.query_file {
        Some(file) => {
            let path = workspace.join(file);
            Some(std::fs::read_to_string(&path).map_err(|source| Error::Io { path, source })?)
        }
        None => options.query.clone(),
    };
    let allow_failed = options.allow_failed || ctx.allow_failed;

    let (source, table) = match &options.command {
        Some(command) => {
            let timeout = ctx
                .timeout
                .unwrap_or(Duration::from_secs(options.timeout_secs));
            let outcome = run_command(command, workspace, timeout, options, ctx)?;
            let source = GoldenSource::Command {
                command: command.clone(),
                exit_code: outcome.exit_code,
                signal: outcome.signal,
                timed_out: outcome.timed_out,
                stderr: outcome.stderr.clone(),
                stderr_bytes: outcome.stderr_bytes,
            };
            if outcome.failed() {
                if !allow_failed {
                    if outcome.timed_out {
                        return Err(GoldenError::Timeout {
                            command: command.clone(),
                            seconds: timeout.as_secs(),
                        }
                        .into());
                    }
                    return Err(GoldenError::Failed {
                        command: command.clone(),
                        status: outcome.status(),
                        stderr: super::flat::bounded_text(outcome.stderr.trim()),
                    }
                    .into());
                }
                (source, None)
            } else {
                let format = options.format.unwrap_or(TableFormat::Csv);
                let table = normalize(outcome.stdout.path(), format, &options.csv, ctx).map_err(
                    |error| match error {
                        Error::Interrupted => Error::Interrupted,
                        other => GoldenError::BadOutput {
                            command: command.clone(),
                            format,
                            detail: describe_output_error(&other, outcome.stdout.path()),
                            reader_error: Box::new(other),
                        }
                        .into(),
                    },
                )?;
                (source, Some(table))
            }
        }
        None => {
            let [path] = files else {
                return Err(Error::FileCount {
                    kind: "golden",
                    expected: "exactly one result file (or a `command`)",
                    found: files.len(),
                });
            };
            let format = match options.format.or_else(|| TableFormat::from_path(path)) {
                Some(format) => format,
                None => return Err(ReadError::UnknownFormat { path: path.clone() }.into()),
            };
            let table = normalize(path, format, &options.csv, ctx)?;
            (
                GoldenSource::File {
                    path: display_path(workspace, path),
                },
                Some(table),
            )
        }
    };

    let mut blobs = Vec::new();
    let result = match table {
        Some((bytes, rows, schema)) => {
            for column in &options.key_columns {
                if !schema.iter().any(|f| &f.name == column) {
                    return Err(GoldenError::KeyColumnMissing {
                        column: column.clone(),
                    }
                    .into());
                }
            }
            let hash = blake3::hash(&bytes).to_hex().to_string();
            blobs.push(ExtraBlob {
                name: RESULT_BLOB.into(),
                bytes,
            });
            Some(ResultTable {
                blob: RESULT_BLOB.into(),
                rows,
                schema,
                blake3: hash,
                blob_id: None,
            })
        }
        None => None,
    };
    let record = GoldenRecord {
        format: RECORD_FORMAT,
        query,
        query_file: options.query_file.clone(),
        failed: result.is_none(),
        source,
        result,
        key_columns: options.key_columns.clone(),
        tolerance: Tolerances {
            default: options.tolerance,
            columns: options.column_tolerances.clone(),
        },
    };
    Ok((record, blobs))
}
