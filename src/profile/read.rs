//! Streaming table readers for Parquet, CSV and JSON lines, yielding Arrow record batches.
//!
//! Parquet decoding runs inside `catch_unwind`, so a reader panic on a hostile file becomes a
//! typed error, and the decoded row count is checked against the footer. CSV input may start
//! with a UTF-8 byte-order mark (skipped) and may contain quoted newlines; ragged rows are
//! rejected. Column types of CSV and JSON lines are inferred over the whole first file, then
//! pinned for every other file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow::datatypes::DataType;
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::Encoding;
use parquet::file::metadata::ParquetMetaData;
use serde::{Deserialize, Serialize};

use super::column::flatten_fields;
use super::types::parse_logical_type;

/// Rows per decoded batch; bounds memory per column independently of the file size.
pub const BATCH_SIZE: usize = 8192;

/// Supported table formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableFormat {
    Parquet,
    Csv,
    #[serde(alias = "jsonl", alias = "ndjson")]
    JsonLines,
}

impl TableFormat {
    /// Guesses the format from a file extension.
    pub fn from_path(path: &Path) -> Option<TableFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Some(TableFormat::Parquet),
            "csv" | "tsv" => Some(TableFormat::Csv),
            "jsonl" | "ndjson" => Some(TableFormat::JsonLines),
            _ => None,
        }
    }
}

impl std::fmt::Display for TableFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TableFormat::Parquet => "Parquet",
            TableFormat::Csv => "CSV",
            TableFormat::JsonLines => "JSON lines",
        })
    }
}

/// How to read CSV files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsvOptions {
    /// Field delimiter, one ASCII character.
    pub delimiter: char,
    /// Pinned types by column name (see [`parse_logical_type`]); other columns are inferred.
    pub types: BTreeMap<String, String>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: ',',
            types: BTreeMap::new(),
        }
    }
}

/// Errors of reading a table; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid Parquet file {path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("invalid Parquet file {path}: the reader failed on corrupt data ({message})")]
    ParquetPanic { path: PathBuf, message: String },
    #[error("{path} is an encrypted Parquet file, which ev cannot read")]
    Encrypted { path: PathBuf },
    #[error("{path}: decoded {decoded} rows but the Parquet footer declares {footer}")]
    RowCountMismatch {
        path: PathBuf,
        footer: u64,
        decoded: u64,
    },
    #[error("invalid CSV file {path}: {message}")]
    Csv { path: PathBuf, message: String },
    #[error("{path}: CSV file has no header row")]
    CsvEmpty { path: PathBuf },
    #[error("{path}: pinned type `{type_name}` of column `{column}` is not a known type")]
    UnknownType {
        path: PathBuf,
        column: String,
        type_name: String,
    },
    #[error("{path}: pinned column `{column}` is not in the file")]
    PinnedColumnMissing { path: PathBuf, column: String },
    #[error("invalid JSON lines file {path}: {message}")]
    Json { path: PathBuf, message: String },
    #[error("{path}: duplicate column name `{column}`")]
    DuplicateColumn { path: PathBuf, column: String },
    #[error("{path}: schema differs from the first file {first}: {detail}")]
    SchemaMismatch {
        path: PathBuf,
        first: PathBuf,
        detail: String,
    },
    #[error(
        "{path}: cannot tell the table format from the file name, which does not end in .parquet, \
         .pq, .csv, .tsv, .jsonl or .ndjson"
    )]
    UnknownFormat { path: PathBuf },
    #[error("{path}: column `{column}` not found")]
    ColumnNotFound { path: PathBuf, column: String },
    #[error("no input files")]
    NoFiles,
    #[error("interrupted")]
    Interrupted,
}

/// One or more files of the same table.
#[derive(Debug, Clone)]
pub struct TableSource {
    pub files: Vec<PathBuf>,
    pub format: TableFormat,
    pub csv: CsvOptions,
}

/// Decoded Parquet batches that may wait for the profiler.
const DECODE_AHEAD: usize = 2;

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic without message".to_string()
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ReadError + '_ {
    move |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Rejects files whose footer magic says "encrypted footer" before the reader sees them.
fn check_parquet_magic(path: &Path) -> Result<(), ReadError> {
    let mut file = File::open(path).map_err(io_error(path))?;
    let len = file.metadata().map_err(io_error(path))?.len();
    if len >= 8 {
        file.seek(std::io::SeekFrom::End(-4))
            .map_err(io_error(path))?;
        let mut magic = [0u8; 4];
        file.read_exact(&mut magic).map_err(io_error(path))?;
        if &magic == b"PARE" {
            return Err(ReadError::Encrypted {
                path: path.to_path_buf(),
            });
        }
    }
    Ok(())
}

fn parquet_builder(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>, ReadError> {
    check_parquet_magic(path)?;
    let file = File::open(path).map_err(io_error(path))?;
    let result = catch_unwind(AssertUnwindSafe(|| {
        ParquetRecordBatchReaderBuilder::try_new(file)
    }));
    match result {
        Ok(Ok(builder)) => Ok(builder),
        Ok(Err(source)) => Err(ReadError::Parquet {
            path: path.to_path_buf(),
            source,
        }),
        Err(payload) => Err(ReadError::ParquetPanic {
            path: path.to_path_buf(),
            message: panic_message(payload),
        }),
    }
}

/// Returns the schema with every eligible top-level string or binary field turned into a
/// dictionary of the same value type, or `None` when no field is eligible. A field is eligible when every
/// row group stores it with a dictionary page and only dictionary-encoded data pages. The
/// writer records that in the page encoding statistics, so a chunk without them is not
/// eligible. For a dictionary that overflowed into plain pages (typical of ID-like columns),
/// the parquet crate re-encodes the plain values by hashing each one, which costs more than
/// decoding plain strings.
fn dictionary_schema(
    schema: &SchemaRef,
    metadata: &ParquetMetaData,
    keep_plain: &[String],
) -> Option<SchemaRef> {
    let descriptor = metadata.file_metadata().schema_descr();
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let plain = field.as_ref().clone();
            if !matches!(
                field.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary
            ) || keep_plain.contains(field.name())
            {
                return plain;
            }
            let mut leaves = (0..descriptor.num_columns())
                .filter(|&leaf| descriptor.get_column_root_idx(leaf) == index);
            let (Some(leaf), None) = (leaves.next(), leaves.next()) else {
                return plain;
            };
            let all_dictionary = metadata.row_groups().iter().all(|group| {
                let column = group.column(leaf);
                column.dictionary_page_offset().is_some()
                    && column.page_encoding_stats_mask().is_some_and(|mask| {
                        mask.is_only(Encoding::RLE_DICTIONARY)
                            || mask.is_only(Encoding::PLAIN_DICTIONARY)
                    })
            });
            if !all_dictionary || metadata.row_groups().is_empty() {
                return plain;
            }
            changed = true;
            plain.with_data_type(DataType::Dictionary(
                Box::new(DataType::Int32),
                Box::new(field.data_type().clone()),
            ))
        })
        .collect();
    changed.then(|| Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())))
}

/// Creates a reader builder that decodes with the `hinted` schema (see [`dictionary_schema`]).
fn dictionary_builder(
    path: &Path,
    metadata: Arc<ParquetMetaData>,
    hinted: SchemaRef,
) -> Result<ParquetRecordBatchReaderBuilder<File>, ReadError> {
    let file = File::open(path).map_err(io_error(path))?;
    let options = ArrowReaderOptions::new().with_schema(hinted);
    match catch_unwind(AssertUnwindSafe(|| {
        ArrowReaderMetadata::try_new(metadata, options)
    })) {
        Ok(Ok(metadata)) => Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(
            file, metadata,
        )),
        Ok(Err(source)) => Err(ReadError::Parquet {
            path: path.to_path_buf(),
            source,
        }),
        Err(payload) => Err(ReadError::ParquetPanic {
            path: path.to_path_buf(),
            message: panic_message(payload),
        }),
    }
}

/// Opens a file for CSV reading with a leading UTF-8 byte-order mark skipped.
fn open_csv(path: &Path) -> Result<BufReader<File>, ReadError> {
    let file = File::open(path).map_err(io_error(path))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let has_bom = reader
        .fill_buf()
        .map_err(io_error(path))?
        .starts_with(b"\xEF\xBB\xBF");
    if has_bom {
        reader.consume(3);
    }
    Ok(reader)
}

/// Wraps a CSV reader error. `schema` is the file's full schema when it is known, so that a value
/// that fails to parse is reported with its column's name.
fn csv_error(path: &Path, error: arrow::error::ArrowError, schema: Option<&Schema>) -> ReadError {
    ReadError::Csv {
        path: path.to_path_buf(),
        message: super::csv_message::describe(&error, schema),
    }
}

fn csv_format(options: &CsvOptions) -> arrow::csv::reader::Format {
    arrow::csv::reader::Format::default()
        .with_header(true)
        .with_delimiter(options.delimiter as u8)
}

fn check_duplicates(path: &Path, schema: &Schema) -> Result<(), ReadError> {
    let mut seen = BTreeSet::new();
    for field in flatten_fields(schema.fields()) {
        if !seen.insert(field.name.clone()) {
            return Err(ReadError::DuplicateColumn {
                path: path.to_path_buf(),
                column: field.name,
            });
        }
    }
    Ok(())
}

impl TableSource {
    /// Builds a source; with `format` unset, it is taken from the first file's extension.
    pub fn new(
        files: Vec<PathBuf>,
        format: Option<TableFormat>,
        csv: CsvOptions,
    ) -> Result<TableSource, ReadError> {
        let first = files.first().ok_or(ReadError::NoFiles)?;
        let format = match format {
            Some(format) => format,
            None => TableFormat::from_path(first).ok_or_else(|| ReadError::UnknownFormat {
                path: first.clone(),
            })?,
        };
        // `from_path` reads `.tsv` as CSV, so such a file is tab-separated unless the item set
        // another delimiter. NOTE: an explicit "," equals the default, so it reads tabs too.
        let mut csv = csv;
        let is_tsv = first
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| ext.eq_ignore_ascii_case("tsv"));
        if format == TableFormat::Csv && is_tsv && csv.delimiter == ',' {
            csv.delimiter = '\t';
        }
        if !csv.delimiter.is_ascii() {
            return Err(ReadError::Csv {
                path: first.clone(),
                message: format!("delimiter {:?} is not one ASCII character", csv.delimiter),
            });
        }
        Ok(TableSource { files, format, csv })
    }

    /// Reads the table schema: the Parquet file's Arrow schema, or the types inferred from the
    /// first CSV or JSON lines file with pinned CSV types applied.
    pub fn schema(&self) -> Result<SchemaRef, ReadError> {
        let path = &self.files[0];
        let schema = match self.format {
            TableFormat::Parquet => parquet_builder(path)?.schema().clone(),
            TableFormat::Csv => self.csv_schema(path)?,
            TableFormat::JsonLines => {
                let file = File::open(path).map_err(io_error(path))?;
                let (schema, _) = arrow::json::reader::infer_json_schema_from_seekable(
                    BufReader::new(file),
                    None,
                )
                .map_err(|e| ReadError::Json {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                Arc::new(schema)
            }
        };
        check_duplicates(path, &schema)?;
        Ok(schema)
    }

    fn csv_schema(&self, path: &Path) -> Result<SchemaRef, ReadError> {
        let reader = open_csv(path)?;
        let (schema, _) = csv_format(&self.csv)
            .infer_schema(reader, None)
            .map_err(|e| csv_error(path, e, None))?;
        if schema.fields().is_empty() {
            return Err(ReadError::CsvEmpty {
                path: path.to_path_buf(),
            });
        }
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        for (column, type_name) in &self.csv.types {
            let data_type =
                parse_logical_type(type_name).ok_or_else(|| ReadError::UnknownType {
                    path: path.to_path_buf(),
                    column: column.clone(),
                    type_name: type_name.clone(),
                })?;
            let field = fields
                .iter_mut()
                .find(|f| f.name() == column)
                .ok_or_else(|| ReadError::PinnedColumnMissing {
                    path: path.to_path_buf(),
                    column: column.clone(),
                })?;
            *field = Field::new(column, data_type, true);
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    /// Streams every file's batches, in file order, to `visit`. `columns` limits the read to
    /// those top-level columns (Parquet reads only their pages). Checks the interrupt flag
    /// between batches and each Parquet file's decoded row count against its footer.
    pub fn for_each_batch<E: From<ReadError>>(
        &self,
        schema: &SchemaRef,
        columns: Option<&[String]>,
        interrupt: &AtomicBool,
        visit: impl FnMut(&Path, RecordBatch) -> Result<(), E>,
    ) -> Result<(), E> {
        self.stream(schema, columns, None, interrupt, visit)
    }

    /// Like [`TableSource::for_each_batch`], but a top-level string or binary column whose
    /// Parquet pages are all dictionary-encoded arrives as an Arrow dictionary array of the
    /// same value type (`Dictionary(Int32, Utf8)` for `Utf8`), except the columns named in
    /// `keep_plain`. Decoding then skips copying every value, and a profiler can count values
    /// by dictionary key. Only for consumers that accept such arrays in place of the schema's
    /// type; batches of CSV and JSON lines are unchanged.
    pub fn for_each_batch_encoded<E: From<ReadError>>(
        &self,
        schema: &SchemaRef,
        columns: Option<&[String]>,
        keep_plain: &[String],
        interrupt: &AtomicBool,
        visit: impl FnMut(&Path, RecordBatch) -> Result<(), E>,
    ) -> Result<(), E> {
        self.stream(schema, columns, Some(keep_plain), interrupt, visit)
    }

    fn stream<E: From<ReadError>>(
        &self,
        schema: &SchemaRef,
        columns: Option<&[String]>,
        dictionaries: Option<&[String]>,
        interrupt: &AtomicBool,
        mut visit: impl FnMut(&Path, RecordBatch) -> Result<(), E>,
    ) -> Result<(), E> {
        for path in &self.files {
            match self.format {
                TableFormat::Parquet => {
                    self.read_parquet(path, schema, columns, dictionaries, interrupt, &mut visit)?
                }
                TableFormat::Csv | TableFormat::JsonLines => {
                    self.read_text(path, schema, columns, interrupt, &mut visit)?
                }
            }
        }
        Ok(())
    }

    fn projection_indices(
        path: &Path,
        schema: &Schema,
        columns: &[String],
    ) -> Result<Vec<usize>, ReadError> {
        columns
            .iter()
            .map(|name| {
                schema
                    .index_of(name)
                    .map_err(|_| ReadError::ColumnNotFound {
                        path: path.to_path_buf(),
                        column: name.clone(),
                    })
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn read_parquet<E: From<ReadError>>(
        &self,
        path: &Path,
        schema: &SchemaRef,
        columns: Option<&[String]>,
        dictionaries: Option<&[String]>,
        interrupt: &AtomicBool,
        visit: &mut impl FnMut(&Path, RecordBatch) -> Result<(), E>,
    ) -> Result<(), E> {
        let builder = parquet_builder(path)?;
        if builder.schema().fields() != schema.fields() {
            return Err(ReadError::SchemaMismatch {
                path: path.to_path_buf(),
                first: self.files[0].clone(),
                detail: "column names or types differ".into(),
            }
            .into());
        }
        let footer_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        let builder = match dictionaries {
            Some(keep_plain) => match dictionary_schema(schema, builder.metadata(), keep_plain) {
                Some(hinted) => dictionary_builder(path, builder.metadata().clone(), hinted)?,
                None => builder,
            },
            None => builder,
        };
        let mut builder = builder.with_batch_size(BATCH_SIZE);
        if let Some(columns) = columns {
            let indices = Self::projection_indices(path, schema, columns)?;
            let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
            builder = builder.with_projection(mask);
        }
        let mut reader = match catch_unwind(AssertUnwindSafe(|| builder.build())) {
            Ok(Ok(reader)) => reader,
            Ok(Err(source)) => {
                return Err(ReadError::Parquet {
                    path: path.to_path_buf(),
                    source,
                }
                .into());
            }
            Err(payload) => {
                return Err(ReadError::ParquetPanic {
                    path: path.to_path_buf(),
                    message: panic_message(payload),
                }
                .into());
            }
        };
        // Decoding runs on its own thread, one batch ahead of `visit` (at most
        // `DECODE_AHEAD` batches wait in the channel, so memory stays bounded): profiling the
        // columns of one batch then overlaps with decoding the next. Batches arrive in file
        // order, so the result does not depend on the timing.
        let decoded = std::thread::scope(|scope| -> Result<u64, E> {
            let (sender, receiver) =
                std::sync::mpsc::sync_channel::<Result<RecordBatch, ReadError>>(DECODE_AHEAD);
            scope.spawn(move || {
                loop {
                    if interrupt.load(Ordering::Relaxed) {
                        let _ = sender.send(Err(ReadError::Interrupted));
                        return;
                    }
                    let item = match catch_unwind(AssertUnwindSafe(|| reader.next())) {
                        Ok(None) => return,
                        Ok(Some(Ok(batch))) => Ok(batch),
                        Ok(Some(Err(error))) => Err(ReadError::Parquet {
                            path: path.to_path_buf(),
                            source: parquet::errors::ParquetError::External(Box::new(error)),
                        }),
                        Err(payload) => Err(ReadError::ParquetPanic {
                            path: path.to_path_buf(),
                            message: panic_message(payload),
                        }),
                    };
                    let failed = item.is_err();
                    // A closed channel means `visit` failed; stop decoding.
                    if sender.send(item).is_err() || failed {
                        return;
                    }
                }
            });
            // Returning early drops the receiver, which ends the decoding thread before the
            // scope joins it.
            let mut decoded = 0u64;
            for item in receiver {
                let batch = item?;
                decoded += batch.num_rows() as u64;
                visit(path, batch)?;
            }
            Ok(decoded)
        })?;
        if decoded != footer_rows {
            return Err(ReadError::RowCountMismatch {
                path: path.to_path_buf(),
                footer: footer_rows,
                decoded,
            }
            .into());
        }
        Ok(())
    }

    fn read_text<E: From<ReadError>>(
        &self,
        path: &Path,
        schema: &SchemaRef,
        columns: Option<&[String]>,
        interrupt: &AtomicBool,
        visit: &mut impl FnMut(&Path, RecordBatch) -> Result<(), E>,
    ) -> Result<(), E> {
        let projection = match columns {
            Some(columns) => Some(Self::projection_indices(path, schema, columns)?),
            None => None,
        };
        let batches: Box<dyn Iterator<Item = Result<RecordBatch, arrow::error::ArrowError>>> =
            match self.format {
                TableFormat::Csv => {
                    let mut builder = arrow::csv::ReaderBuilder::new(schema.clone())
                        .with_format(csv_format(&self.csv))
                        .with_batch_size(BATCH_SIZE);
                    if let Some(projection) = projection.clone() {
                        builder = builder.with_projection(projection);
                    }
                    Box::new(
                        builder
                            .build(open_csv(path)?)
                            .map_err(|e| csv_error(path, e, Some(schema)))?,
                    )
                }
                _ => {
                    let file = File::open(path).map_err(io_error(path))?;
                    Box::new(
                        // Inference types a field that mixes numbers or booleans with text as
                        // text, so the decoder must turn those values into strings too.
                        arrow::json::ReaderBuilder::new(schema.clone())
                            .with_batch_size(BATCH_SIZE)
                            .with_coerce_primitive(true)
                            .build(BufReader::new(file))
                            .map_err(|e| ReadError::Json {
                                path: path.to_path_buf(),
                                message: e.to_string(),
                            })?,
                    )
                }
            };
        for batch in batches {
            if interrupt.load(Ordering::Relaxed) {
                return Err(ReadError::Interrupted.into());
            }
            let batch = batch.map_err(|e| match self.format {
                TableFormat::Csv => csv_error(path, e, Some(schema)),
                _ => ReadError::Json {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                },
            })?;
            let batch = match (&projection, self.format) {
                (Some(projection), TableFormat::JsonLines) => {
                    batch.project(projection).map_err(|e| ReadError::Json {
                        path: path.to_path_buf(),
                        message: e.to_string(),
                    })?
                }
                _ => batch,
            };
            visit(path, batch)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, AsArray, Int64Array};
    use parquet::arrow::ArrowWriter;

    /// Writes `rows` sequential int64 values, enough for several batches.
    fn write_ints(path: &Path, rows: i64) {
        let array: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows));
        let batch = RecordBatch::try_from_iter([("v", array)]).unwrap();
        let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None)
            .expect("writer");
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    #[test]
    fn tsv_file_reads_tab_separated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("features.tsv");
        std::fs::write(&path, "id\tlabel\n1\tx\n2\ty\n").unwrap();
        let source = TableSource::new(vec![path], None, CsvOptions::default()).unwrap();
        let schema = source.schema().unwrap();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["id", "label"]);
        assert_eq!(schema.field(0).data_type(), &DataType::Int64);
    }

    /// Reads every batch of `path` and returns the error message.
    fn read_error(path: &Path, csv: CsvOptions) -> String {
        let source = TableSource::new(vec![path.to_path_buf()], None, csv).unwrap();
        let result = source.schema().and_then(|schema| {
            source.for_each_batch(&schema, None, &AtomicBool::new(false), |_, _| {
                Ok::<(), ReadError>(())
            })
        });
        result.unwrap_err().to_string()
    }

    #[test]
    fn csv_ragged_row_names_fields_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ragged.csv");
        std::fs::write(&path, "id,age\n1,30\n2\n").unwrap();
        let message = read_error(&path, CsvOptions::default());
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(
            message.contains("line 3 has 1 field, but the header row has 2 fields"),
            "{message}"
        );
        assert!(!message.contains("records"), "{message}");
    }

    #[test]
    fn csv_ragged_later_file_names_line() {
        // Types come from the first file, so the second is only decoded, by another code path.
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.csv");
        let second = dir.path().join("b.csv");
        std::fs::write(&first, "id,age\n1,30\n").unwrap();
        std::fs::write(&second, "id,age\n1,30\n2,31\n3\n").unwrap();
        let source =
            TableSource::new(vec![first, second.clone()], None, CsvOptions::default()).unwrap();
        let schema = source.schema().unwrap();
        let error = source
            .for_each_batch(&schema, None, &AtomicBool::new(false), |_, _| {
                Ok::<(), ReadError>(())
            })
            .unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&second.display().to_string()), "{message}");
        assert!(
            message.contains("line 4 has 1 field, but the header row has 2 fields"),
            "{message}"
        );
    }

    #[test]
    fn csv_pinned_type_names_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ages.csv");
        std::fs::write(&path, "id,age\n1,30\n2,thirty\n").unwrap();
        let csv = CsvOptions {
            types: [("age".to_owned(), "int64".to_owned())].into(),
            ..CsvOptions::default()
        };
        let message = read_error(&path, csv);
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("column `age`"), "{message}");
        assert!(message.contains("\"thirty\""), "{message}");
        assert!(message.contains("line 3"), "{message}");
        assert!(!message.contains("column 1"), "{message}");
        assert!(!message.contains("Row data"), "{message}");
    }

    #[test]
    fn json_lines_mixed_column_reads_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.jsonl");
        std::fs::write(
            &path,
            "{\"a\": 1}\n{\"a\": 2.5}\n{\"a\": \"t\"}\n{\"a\": true}\n",
        )
        .unwrap();
        let source = TableSource::new(vec![path], None, CsvOptions::default()).unwrap();
        let schema = source.schema().unwrap();
        assert_eq!(schema.field(0).data_type(), &DataType::Utf8);

        let mut values = Vec::new();
        source
            .for_each_batch(&schema, None, &AtomicBool::new(false), |_, batch| {
                let column = batch.column(0).as_string::<i32>();
                values.extend(column.iter().map(|v| v.map(str::to_owned)));
                Ok::<(), ReadError>(())
            })
            .unwrap();
        let expected = ["1", "2.5", "t", "true"].map(|v| Some(v.to_owned()));
        assert_eq!(values, expected);
    }

    #[test]
    fn batches_arrive_in_order_and_a_failing_visit_stops_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.parquet");
        let rows = BATCH_SIZE as i64 * 6 + 17;
        write_ints(&path, rows);
        let source = TableSource::new(vec![path], None, CsvOptions::default()).unwrap();
        let schema = source.schema().unwrap();
        let interrupt = AtomicBool::new(false);
        let mut next = 0i64;
        source
            .for_each_batch::<ReadError>(&schema, None, &interrupt, |_, batch| {
                let values = batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap();
                for v in values.values().iter() {
                    assert_eq!(*v, next);
                    next += 1;
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(next, rows);

        // The visitor fails on the first batch while the decoder still has batches to send:
        // the call must return the error instead of waiting for the decoding thread.
        let mut visits = 0;
        let result = source.for_each_batch::<ReadError>(&schema, None, &interrupt, |_, _| {
            visits += 1;
            Err(ReadError::Interrupted)
        });
        assert!(matches!(result, Err(ReadError::Interrupted)));
        assert_eq!(visits, 1);

        interrupt.store(true, Ordering::Relaxed);
        let result = source.for_each_batch::<ReadError>(&schema, None, &interrupt, |_, _| Ok(()));
        assert!(matches!(result, Err(ReadError::Interrupted)));
    }

    /// Writes three string columns: `city` (8 values, dictionary-encoded throughout), `id`
    /// (unique values that overflow a small dictionary page into plain pages) and `note`
    /// (dictionary encoding disabled).
    fn write_strings(path: &Path) {
        use arrow::array::StringArray;
        use parquet::file::properties::WriterProperties;
        use parquet::schema::types::ColumnPath;
        let rows = 30_000;
        let city: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..rows).map(|i| format!("city-{}", i % 8)),
        ));
        let id: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..rows).map(|i| format!("id-{i:08}")),
        ));
        let note: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..rows).map(|i| format!("n{}", i % 3)),
        ));
        let batch =
            RecordBatch::try_from_iter([("city", city), ("id", id), ("note", note)]).unwrap();
        let properties = WriterProperties::builder()
            .set_dictionary_page_size_limit(4096)
            .set_column_dictionary_enabled(ColumnPath::from("note"), false)
            .set_max_row_group_row_count(Some(10_000))
            .build();
        let mut writer = ArrowWriter::try_new(
            File::create(path).unwrap(),
            batch.schema(),
            Some(properties),
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    fn column_types(source: &TableSource, keep_plain: Option<&[String]>) -> Vec<DataType> {
        let schema = source.schema().unwrap();
        let interrupt = AtomicBool::new(false);
        let mut types = Vec::new();
        let mut rows = 0;
        let visit = |_: &Path, batch: RecordBatch| {
            rows += batch.num_rows();
            types = batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.data_type().clone())
                .collect();
            Ok::<(), ReadError>(())
        };
        match keep_plain {
            Some(keep) => source.for_each_batch_encoded(&schema, None, keep, &interrupt, visit),
            None => source.for_each_batch(&schema, None, &interrupt, visit),
        }
        .unwrap();
        assert_eq!(rows, 30_000);
        types
    }

    #[test]
    fn dictionary_reading_needs_dictionary_pages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.parquet");
        write_strings(&path);
        let source = TableSource::new(vec![path], None, CsvOptions::default()).unwrap();
        let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(
            column_types(&source, Some(&[])),
            [dictionary, DataType::Utf8, DataType::Utf8]
        );
        assert_eq!(
            column_types(&source, Some(&["city".to_string()])),
            [DataType::Utf8, DataType::Utf8, DataType::Utf8]
        );
        assert_eq!(
            column_types(&source, None),
            [DataType::Utf8, DataType::Utf8, DataType::Utf8]
        );
    }
}
