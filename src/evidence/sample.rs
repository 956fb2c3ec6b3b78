//! `sample` evidence: column profiles of a Parquet, CSV or JSON lines sample (one file, a folder
//! or a glob), optionally per slice, with sensitive columns dropped or replaced by keyed hashes
//! before anything is profiled.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

use super::schema::{FieldRecord, fields_of};
use super::{CaptureContext, Error, RECORD_FORMAT, display_path};
use crate::profile::read::{CsvOptions, TableFormat, TableSource};
use crate::profile::slice::{SliceCounter, SliceProfiles, SlicedProfiler};
use crate::profile::{ProfileOptions, TableProfile, TableProfiler};

/// Redaction applied to the `redact` columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactMode {
    /// Replace each non-null value by the first 16 bytes (32 hex digits) of its keyed BLAKE3
    /// hash; nulls stay null, so counts, distinct estimates and frequencies remain comparable.
    #[default]
    Hash,
    /// Remove the column before profiling; only its name is recorded.
    Drop,
}

impl std::fmt::Display for RedactMode {
    /// Writes the mode as `redact_mode` spells it in evidence.toml.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RedactMode::Hash => "hash",
            RedactMode::Drop => "drop",
        })
    }
}

/// Options of a `sample` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SampleOptions {
    /// Table format; by default from the first file's extension.
    pub format: Option<TableFormat>,
    pub csv: CsvOptions,
    /// Top-level columns to profile per value.
    pub slice_by: Vec<String>,
    /// Largest slices profiled per slice column; the remaining values form one "other" slice.
    pub max_slices: usize,
    /// Columns to redact before profiling.
    pub redact: Vec<String>,
    pub redact_mode: RedactMode,
    /// Environment variable holding the redaction key (used when no repository secret is given).
    pub redact_key_env: String,
    /// KLL accuracy parameter.
    pub sketch_k: u32,
    /// Frequent values stored per string, binary or boolean column.
    pub top_values: usize,
    /// Distinct values counted exactly before frequent-value counts become estimates.
    pub top_values_tracking: usize,
}

impl Default for SampleOptions {
    fn default() -> Self {
        let profile = ProfileOptions::default();
        SampleOptions {
            format: None,
            csv: CsvOptions::default(),
            slice_by: Vec::new(),
            max_slices: 20,
            redact: Vec::new(),
            redact_mode: RedactMode::Hash,
            redact_key_env: "EV_REDACT_KEY".into(),
            sketch_k: profile.sketch_k,
            top_values: profile.top_values,
            top_values_tracking: profile.top_values_tracking,
        }
    }
}

/// Largest accepted `sketch_k`: level 0 then holds up to 4 · 65536 values (2 MiB) per numeric
/// column while profiling.
const MAX_SKETCH_K: u32 = 65_536;

impl SampleOptions {
    /// Rejects option values that would silently profile something other than requested.
    fn validate(&self) -> Result<(), Error> {
        let invalid = |message: String| {
            Err(Error::Options {
                kind: "sample",
                message,
            })
        };
        if !(8..=MAX_SKETCH_K).contains(&self.sketch_k) {
            return invalid(format!(
                "sketch_k = {} is outside 8..={MAX_SKETCH_K}; the default 1024 keeps the rank \
                 error under 0.3 %",
                self.sketch_k
            ));
        }
        if self.max_slices == 0 && !self.slice_by.is_empty() {
            return invalid(
                "max_slices = 0 leaves no slice to profile; give at least 1, or drop slice_by"
                    .into(),
            );
        }
        Ok(())
    }

    pub fn profile_options(&self) -> ProfileOptions {
        ProfileOptions {
            sketch_k: self.sketch_k,
            top_values: self.top_values,
            top_values_tracking: self.top_values_tracking,
        }
    }
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Path relative to the workspace.
    pub path: String,
    pub bytes: u64,
}

/// Redaction settings stored in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    pub mode: RedactMode,
    pub columns: Vec<String>,
    /// First 16 hex digits of a BLAKE3 key derivation of the key (hash mode only), so snapshots
    /// hashed with different keys can be distinguished. It does not reveal the key.
    pub key_fingerprint: Option<String>,
}

/// Stored profile of a sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    pub format: u32,
    pub table_format: TableFormat,
    pub files: Vec<SourceFile>,
    /// Schema as profiled (after redaction), with pinned logical types.
    pub schema: Vec<FieldRecord>,
    /// Quantile sketch family and parameter.
    pub sketch: SketchInfo,
    pub profile: TableProfile,
    pub slices: Vec<SliceProfiles>,
    pub redaction: Option<Redaction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SketchInfo {
    /// Always `"kll"` in format 1.
    pub kind: String,
    pub k: u32,
}

/// Expands folders into the table files below them (sorted); plain files pass through.
fn expand_files(files: &[PathBuf], format: Option<TableFormat>) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for path in files {
        if path.is_dir() {
            let mut found = Vec::new();
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                let entry = entry.map_err(|e| Error::Io {
                    path: path.clone(),
                    source: e.into(),
                })?;
                let matches = match format {
                    Some(format) => TableFormat::from_path(entry.path()) == Some(format),
                    None => TableFormat::from_path(entry.path()).is_some(),
                };
                if entry.file_type().is_file() && matches {
                    found.push(entry.into_path());
                }
            }
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    // Several inputs (a folder's files, a glob) may include READMEs and the like: keep tables.
    if out.len() > 1 {
        out.retain(|p| match format {
            Some(format) => TableFormat::from_path(p) == Some(format),
            None => TableFormat::from_path(p).is_some(),
        });
    }
    Ok(out)
}

/// Applies redaction to batches and schemas.
struct Redactor {
    mode: RedactMode,
    columns: Vec<String>,
    key: [u8; 32],
    fingerprint: Option<String>,
}

impl Redactor {
    fn new(
        options: &SampleOptions,
        ctx: &CaptureContext<'_>,
        schema: &Schema,
        path: &Path,
    ) -> Result<Option<Redactor>, Error> {
        if options.redact.is_empty() {
            return Ok(None);
        }
        for column in &options.redact {
            if schema.index_of(column).is_err() {
                return Err(Error::RedactColumnMissing {
                    path: path.to_path_buf(),
                    column: column.clone(),
                });
            }
        }
        let (key, fingerprint) = match options.redact_mode {
            RedactMode::Drop => ([0u8; 32], None),
            RedactMode::Hash => {
                let material = match &ctx.redact_key {
                    Some(key) => key.clone(),
                    None => std::env::var_os(&options.redact_key_env)
                        .filter(|v| !v.is_empty())
                        .map(|v| v.to_string_lossy().into_owned().into_bytes())
                        .ok_or_else(|| Error::RedactKeyMissing {
                            env: options.redact_key_env.clone(),
                        })?,
                };
                let key = blake3::derive_key("ev 2026 sample redaction key", &material);
                let fingerprint =
                    blake3::derive_key("ev 2026 sample redaction fingerprint", &material);
                (key, Some(hex::encode(&fingerprint[..8])))
            }
        };
        Ok(Some(Redactor {
            mode: options.redact_mode,
            columns: options.redact.clone(),
            key,
            fingerprint,
        }))
    }

    fn schema(&self, schema: &Schema) -> SchemaRef {
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .filter_map(|f| {
                if !self.columns.contains(f.name()) {
                    Some(f.as_ref().clone())
                } else if self.mode == RedactMode::Hash {
                    Some(Field::new(f.name(), DataType::Utf8, true))
                } else {
                    None
                }
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    fn hash_column(&self, array: &ArrayRef) -> Result<ArrayRef, arrow::error::ArrowError> {
        let text = if array.data_type().is_nested() {
            return Err(arrow::error::ArrowError::CastError(format!(
                "cannot redact a {} column by hashing; use redact_mode = \"drop\"",
                crate::profile::types::logical_type_name(array.data_type())
            )));
        } else {
            arrow::compute::cast(array, &DataType::Utf8)?
        };
        let hashed: StringArray = text
            .as_string::<i32>()
            .iter()
            .map(|v| {
                v.map(|v| {
                    let hash = blake3::keyed_hash(&self.key, v.as_bytes());
                    hex::encode(&hash.as_bytes()[..16])
                })
            })
            .collect();
        Ok(Arc::new(hashed))
    }

    fn apply(
        &self,
        batch: RecordBatch,
        schema: &SchemaRef,
    ) -> Result<RecordBatch, arrow::error::ArrowError> {
        let input = batch.schema();
        let mut columns = Vec::with_capacity(schema.fields().len());
        let mut fields = Vec::with_capacity(schema.fields().len());
        for (field, array) in input.fields().iter().zip(batch.columns()) {
            let array = if !self.columns.contains(field.name()) {
                array.clone()
            } else if self.mode == RedactMode::Hash {
                self.hash_column(array)?
            } else {
                continue;
            };
            // The target field, with the array's own type: a kept column may arrive
            // dictionary-encoded.
            let target = schema
                .field_with_name(field.name())
                .map(|f| f.as_ref().clone())
                .unwrap_or_else(|_| field.as_ref().clone());
            fields.push(target.with_data_type(array.data_type().clone()));
            columns.push(array);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
    }
}

pub(crate) fn capture(
    options: &SampleOptions,
    workspace: &Path,
    files: &[PathBuf],
    ctx: &CaptureContext<'_>,
) -> Result<SampleRecord, Error> {
    options.validate()?;
    let files = expand_files(files, options.format)?;
    if files.is_empty() {
        return Err(Error::FileCount {
            kind: "sample",
            expected: "at least one Parquet, CSV or JSON lines file",
            found: 0,
        });
    }
    let source = TableSource::new(files.clone(), options.format, options.csv.clone())?;
    let raw_schema = source.schema()?;
    let first = &files[0];
    let redactor = Redactor::new(options, ctx, &raw_schema, first)?;
    let schema = match &redactor {
        Some(r) => r.schema(&raw_schema),
        None => raw_schema.clone(),
    };
    let profile_options = options.profile_options();
    let profile_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Profile { path, source }
    };
    let redact = |path: &Path, batch: RecordBatch, target: &SchemaRef| match &redactor {
        Some(r) => r.apply(batch, target).map_err(|source| Error::Profile {
            path: path.to_path_buf(),
            source: crate::profile::ProfileError::Arrow {
                column: r.columns.join(", "),
                source,
            },
        }),
        None => Ok(batch),
    };

    // Pass 1 (only with slices): exact counts per slice value, reading only the slice columns.
    let mut sliced = Vec::new();
    if !options.slice_by.is_empty() {
        for column in &options.slice_by {
            if redactor
                .as_ref()
                .is_some_and(|r| r.mode == RedactMode::Drop && r.columns.contains(column))
            {
                return Err(Error::Options {
                    kind: "sample",
                    message: format!("slice column `{column}` is dropped by `redact`"),
                });
            }
        }
        let mut counters: Vec<SliceCounter> = options
            .slice_by
            .iter()
            .map(|c| SliceCounter::new(c))
            .collect();
        let projected = Arc::new(Schema::new(
            options
                .slice_by
                .iter()
                .map(|c| {
                    schema.field_with_name(c).cloned().map_err(|_| {
                        Error::Read(crate::profile::read::ReadError::ColumnNotFound {
                            path: first.clone(),
                            column: c.clone(),
                        })
                    })
                })
                .collect::<Result<Vec<Field>, Error>>()?,
        ));
        source.for_each_batch_encoded(
            &raw_schema,
            Some(&options.slice_by),
            &options.redact,
            ctx.interrupt,
            |path, batch| {
                let batch = redact(path, batch, &projected)?;
                for counter in &mut counters {
                    counter.update(&batch).map_err(|source| Error::Slice {
                        path: path.to_path_buf(),
                        source,
                    })?;
                }
                Ok::<(), Error>(())
            },
        )?;
        for counter in counters {
            let plan = counter.into_plan(options.max_slices);
            sliced.push(
                SlicedProfiler::new(plan, schema.clone(), &profile_options).map_err(|source| {
                    Error::Slice {
                        path: first.clone(),
                        source,
                    }
                })?,
            );
        }
    }

    // Pass 2: the whole table, and every slice.
    let mut profiler =
        TableProfiler::new(schema.clone(), &profile_options).map_err(profile_error(first))?;
    // Dictionary-encoded string columns arrive as dictionary arrays, which the profiler counts
    // by key; redacted columns stay plain because redaction rewrites their values.
    source.for_each_batch_encoded(
        &raw_schema,
        None,
        &options.redact,
        ctx.interrupt,
        |path, batch| {
            let batch = redact(path, batch, &schema)?;
            profiler.update(&batch).map_err(profile_error(path))?;
            for slices in &mut sliced {
                slices.update(&batch).map_err(|source| Error::Slice {
                    path: path.to_path_buf(),
                    source,
                })?;
            }
            Ok::<(), Error>(())
        },
    )?;

    let mut sources = Vec::new();
    for path in &files {
        let bytes = std::fs::metadata(path)
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?
            .len();
        sources.push(SourceFile {
            path: display_path(workspace, path),
            bytes,
        });
    }
    Ok(SampleRecord {
        format: RECORD_FORMAT,
        table_format: source.format,
        files: sources,
        schema: fields_of(&schema),
        sketch: SketchInfo {
            kind: "kll".into(),
            k: profile_options.sketch_k.max(8),
        },
        profile: profiler.finish(),
        slices: sliced.iter().map(SlicedProfiler::finish).collect(),
        redaction: redactor.map(|r| Redaction {
            mode: r.mode,
            columns: r.columns,
            key_fingerprint: r.fingerprint,
        }),
    })
}

/// Profiles a table source without slicing or redaction (used by tests and benchmarks).
pub fn profile_source(
    source: &TableSource,
    options: &ProfileOptions,
    interrupt: &std::sync::atomic::AtomicBool,
) -> Result<TableProfile, Error> {
    let schema = source.schema()?;
    let first = source.files[0].clone();
    let mut profiler =
        TableProfiler::new(schema.clone(), options).map_err(|source| Error::Profile {
            path: first.clone(),
            source,
        })?;
    source.for_each_batch_encoded(&schema, None, &[], interrupt, |path, batch| {
        profiler.update(&batch).map_err(|source| Error::Profile {
            path: path.to_path_buf(),
            source,
        })
    })?;
    Ok(profiler.finish())
}
