//! Column profiles of tables: one streaming pass over Arrow record batches computes, per column,
//! counts, moments, a quantile sketch, a distinct-count estimate and frequent values, so drift can
//! later be measured without the raw data.
//!
//! Every type here serializes deterministically (sorted maps, no NaN or infinity: non-finite
//! values are counted, never stored as numbers), so the same input gives byte-identical JSON.

pub mod column;
mod csv_message;
pub mod hll;
pub mod kll;
pub mod moments;
pub mod read;
pub mod slice;
pub mod topk;
pub mod types;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use column::{ColumnAccumulator, flatten_fields};
pub use hll::Distinct;
pub use kll::KllSketch;
pub use moments::MomentsSummary;
pub use topk::{TopValues, ValueCount};

/// Knobs of profiling; the defaults suit drift detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileOptions {
    /// KLL accuracy parameter (≥ 8). 1024 keeps the rank error under 0.3 %.
    pub sketch_k: u32,
    /// Number of most frequent values stored per string, binary or boolean column.
    pub top_values: usize,
    /// Distinct values counted exactly before frequent-value counts become estimates.
    pub top_values_tracking: usize,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            sketch_k: kll::DEFAULT_K,
            top_values: 100,
            top_values_tracking: 10_000,
        }
    }
}

/// Profile of a whole table (or of one slice of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableProfile {
    pub rows: u64,
    /// Columns in schema order; children of struct columns follow their parent as `parent.child`.
    pub columns: Vec<ColumnProfile>,
}

impl TableProfile {
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// Column name; nested struct fields are joined with `.`.
    pub name: String,
    /// Canonical logical type name, see [`types::logical_type_name`].
    pub logical_type: String,
    pub nullable: bool,
    /// Rows seen (equals the table's rows).
    pub rows: u64,
    /// Null values (for struct children: null in the child or in any enclosing struct).
    pub nulls: u64,
    pub stats: ColumnStats,
}

/// Type-specific statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum ColumnStats {
    /// Integers, floats, decimals, dates, times, timestamps and durations.
    Numeric(NumericStats),
    Boolean(BooleanStats),
    /// Strings and binary values (binary shown as lowercase hex).
    Categorical(CategoricalStats),
    /// Lists, large lists, fixed-size lists and maps: the profile of the entry lengths of non-null
    /// rows. Element values are not profiled.
    List(ListStats),
    /// Struct column itself; its fields are profiled as separate `parent.child` columns.
    Struct {
        fields: usize,
    },
    /// Column of Arrow's `Null` type: every value is null.
    Null,
    /// A type without statistics (unions, intervals, run-end encoded arrays); only nulls counted.
    Unsupported {
        reason: String,
    },
}

/// What a numeric value means, so diffs and renderers compare like with like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", rename_all = "snake_case")]
pub enum ValueUnit {
    /// A plain integer or float.
    Plain,
    /// A decimal with `scale` digits after the point; the sketch holds `unscaled / 10^scale`.
    Decimal { precision: u8, scale: i8 },
    /// Days since 1970-01-01 (dates).
    DaysSinceEpoch,
    /// Microseconds since 1970-01-01T00:00:00 UTC (timestamps; nanoseconds are floored).
    /// `timezone` is the column's zone; without one the wall-clock time is read as if UTC.
    MicrosSinceEpoch { timezone: Option<String> },
    /// Microseconds since midnight (times of day).
    MicrosSinceMidnight,
    /// Microseconds (durations).
    Micros,
}

/// Statistics of a numeric column. Moments, sketch and distinct count cover finite values only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    #[serde(flatten)]
    pub unit: ValueUnit,
    /// Non-null finite values.
    pub finite: u64,
    pub nan: u64,
    pub pos_inf: u64,
    pub neg_inf: u64,
    /// Min, max, sum, mean and M2 of finite values as `f64`.
    pub moments: MomentsSummary,
    /// Exact range and sum for integers, decimals and temporal values, as decimal strings in the
    /// unit above (decimals at their scale, e.g. `"-12.50"`). `sum` is `None` on overflow of the
    /// 128-bit (256-bit for `decimal256`) accumulator.
    pub exact: Option<ExactRange>,
    pub distinct: Distinct,
    /// Quantile sketch of finite values.
    pub sketch: KllSketch,
}

impl NumericStats {
    /// Population variance of the finite values (M2 / n).
    pub fn variance(&self) -> Option<f64> {
        let m2 = self.moments.m2?;
        (self.finite > 0).then(|| m2 / self.finite as f64)
    }

    /// Sample variance of the finite values (M2 / (n − 1)).
    pub fn sample_variance(&self) -> Option<f64> {
        let m2 = self.moments.m2?;
        (self.finite > 1).then(|| m2 / (self.finite - 1) as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExactRange {
    pub min: String,
    pub max: String,
    pub sum: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BooleanStats {
    pub true_count: u64,
    pub false_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalStats {
    pub distinct: Distinct,
    pub top: TopValues,
    /// Byte lengths of non-null values.
    pub lengths: MomentsSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListStats {
    /// Entry counts of non-null lists.
    pub lengths: Box<NumericStats>,
}

/// Errors of profiling a batch.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("duplicate column name `{column}`")]
    DuplicateColumn { column: String },
    #[error("column `{column}`: {source}")]
    Arrow {
        column: String,
        #[source]
        source: arrow::error::ArrowError,
    },
    #[error("batch schema does not match the table schema")]
    SchemaChanged,
}

/// Streaming profiler of one table: feed batches with [`TableProfiler::update`], then call
/// [`TableProfiler::finish`]. Memory grows with columns × sketch sizes, not with rows.
#[derive(Debug, Clone)]
pub struct TableProfiler {
    schema: SchemaRef,
    rows: u64,
    columns: Vec<ColumnAccumulator>,
    options: ProfileOptions,
}

impl TableProfiler {
    /// Creates a profiler; rejects duplicate column names (after flattening struct fields).
    pub fn new(schema: SchemaRef, options: &ProfileOptions) -> Result<Self, ProfileError> {
        let flat = flatten_fields(schema.fields());
        let mut seen = std::collections::BTreeSet::new();
        for field in &flat {
            if !seen.insert(field.name.clone()) {
                return Err(ProfileError::DuplicateColumn {
                    column: field.name.clone(),
                });
            }
        }
        let columns = flat
            .into_iter()
            .map(|f| ColumnAccumulator::new(f, options))
            .collect();
        Ok(TableProfiler {
            schema,
            rows: 0,
            columns,
            options: options.clone(),
        })
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Adds one batch; its schema must have the profiler's fields.
    /// Adds a batch whose columns have the profiler's names and types in order; a column may
    /// also arrive as a dictionary of its type (see
    /// [`read::TableSource::for_each_batch_encoded`]).
    pub fn update(&mut self, batch: &RecordBatch) -> Result<(), ProfileError> {
        if !same_columns(&batch.schema(), &self.schema) {
            return Err(ProfileError::SchemaChanged);
        }
        self.rows += batch.num_rows() as u64;
        // Columns are independent, so they are profiled in parallel; each column still sees its
        // values in order, which keeps the result deterministic.
        self.columns
            .par_iter_mut()
            .try_for_each(|column| column.update(batch))
    }

    /// Merges a profiler of another part of the same table.
    pub fn merge(&mut self, other: &TableProfiler) -> Result<(), ProfileError> {
        if other.schema.fields() != self.schema.fields() {
            return Err(ProfileError::SchemaChanged);
        }
        self.rows += other.rows;
        for (mine, theirs) in self.columns.iter_mut().zip(&other.columns) {
            mine.merge(theirs);
        }
        Ok(())
    }

    pub fn finish(&self) -> TableProfile {
        TableProfile {
            rows: self.rows,
            columns: self
                .columns
                .iter()
                .map(|c| c.finish(self.rows, &self.options))
                .collect(),
        }
    }
}

/// Profiles a complete in-memory table.
/// True when `batch` has the columns of `schema`, each with the same type or as a dictionary of
/// it. Nullability and metadata may differ: they do not change how values are read.
fn same_columns(batch: &SchemaRef, schema: &SchemaRef) -> bool {
    use arrow::datatypes::DataType;
    batch.fields().len() == schema.fields().len()
        && batch.fields().iter().zip(schema.fields()).all(|(b, s)| {
            b.name() == s.name()
                && match (b.data_type(), s.data_type()) {
                    (DataType::Dictionary(_, value), expected)
                        if !matches!(expected, DataType::Dictionary(_, _)) =>
                    {
                        value.as_ref() == expected
                    }
                    (actual, expected) => actual == expected,
                }
        })
}

pub fn profile_batches(
    schema: SchemaRef,
    batches: &[RecordBatch],
    options: &ProfileOptions,
) -> Result<TableProfile, ProfileError> {
    let mut profiler = TableProfiler::new(schema, options)?;
    for batch in batches {
        profiler.update(batch)?;
    }
    Ok(profiler.finish())
}

#[cfg(test)]
mod tests;
