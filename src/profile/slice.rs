//! Per-slice profiles: the same column profiles computed for the rows sharing one value of a
//! declared slice column, for the largest slices plus one "other" slice.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, AsArray, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

use super::{ProfileError, ProfileOptions, TableProfile, TableProfiler};

/// Distinct values a slice column may have before slicing is rejected; bounds the memory of the
/// counting pass.
pub const MAX_SLICE_VALUES: usize = 1_000_000;

/// Profiles of one slice column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceProfiles {
    pub column: String,
    /// Distinct values of the slice column (nulls count as one value).
    pub distinct_values: u64,
    /// The largest slices, by rows descending then value ascending.
    pub slices: Vec<Slice>,
    /// Rows of every other value together; `None` when no rows are left over.
    pub other: Option<OtherSlice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slice {
    /// The slice value rendered as text; `None` for the null slice.
    pub value: Option<String>,
    pub profile: TableProfile,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherSlice {
    /// Number of distinct slice values folded into this slice.
    pub values: u64,
    pub profile: TableProfile,
}

#[derive(Debug, thiserror::Error)]
pub enum SliceError {
    #[error("slice column `{column}` not found")]
    ColumnNotFound { column: String },
    #[error("slice column `{column}` has type {data_type}, which cannot be sliced")]
    UnsupportedType { column: String, data_type: String },
    #[error("slice column `{column}` has more than {limit} distinct values")]
    TooManyValues { column: String, limit: usize },
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("slice column `{column}`: {source}")]
    Arrow {
        column: String,
        #[source]
        source: arrow::error::ArrowError,
    },
}

/// Renders each row's slice value as text (`None` for null).
fn slice_values(column: &str, array: &ArrayRef) -> Result<Vec<Option<String>>, SliceError> {
    let arrow_error = |source| SliceError::Arrow {
        column: column.to_string(),
        source,
    };
    if array.data_type().is_nested() {
        return Err(SliceError::UnsupportedType {
            column: column.to_string(),
            data_type: super::types::logical_type_name(array.data_type()),
        });
    }
    let text = arrow::compute::cast(array, &DataType::Utf8).map_err(arrow_error)?;
    Ok(text
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// First pass: exact row counts per value of one slice column.
#[derive(Debug, Clone)]
pub struct SliceCounter {
    column: String,
    counts: HashMap<Option<String>, u64>,
}

impl SliceCounter {
    pub fn new(column: &str) -> Self {
        SliceCounter {
            column: column.to_string(),
            counts: HashMap::new(),
        }
    }

    pub fn update(&mut self, batch: &RecordBatch) -> Result<(), SliceError> {
        let array =
            batch
                .column_by_name(&self.column)
                .ok_or_else(|| SliceError::ColumnNotFound {
                    column: self.column.clone(),
                })?;
        for value in slice_values(&self.column, array)? {
            *self.counts.entry(value).or_insert(0) += 1;
        }
        if self.counts.len() > MAX_SLICE_VALUES {
            return Err(SliceError::TooManyValues {
                column: self.column.clone(),
                limit: MAX_SLICE_VALUES,
            });
        }
        Ok(())
    }

    /// Picks the `max_slices` largest values (ties by value, null first).
    pub fn into_plan(self, max_slices: usize) -> SlicePlan {
        let mut counts: Vec<(Option<String>, u64)> = self.counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let distinct = counts.len() as u64;
        counts.truncate(max_slices);
        SlicePlan {
            column: self.column,
            distinct,
            values: counts.into_iter().map(|(value, _)| value).collect(),
        }
    }
}

/// The chosen slices of one column.
#[derive(Debug, Clone)]
pub struct SlicePlan {
    pub column: String,
    pub distinct: u64,
    pub values: Vec<Option<String>>,
}

/// Second pass: one profiler per chosen slice plus one for the rest.
#[derive(Debug)]
pub struct SlicedProfiler {
    plan: SlicePlan,
    index: HashMap<Option<String>, usize>,
    profilers: Vec<TableProfiler>,
}

impl SlicedProfiler {
    pub fn new(
        plan: SlicePlan,
        schema: SchemaRef,
        options: &ProfileOptions,
    ) -> Result<Self, SliceError> {
        let index = plan
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i))
            .collect();
        let profiler = TableProfiler::new(schema, options)?;
        let profilers = vec![profiler; plan.values.len() + 1];
        Ok(SlicedProfiler {
            plan,
            index,
            profilers,
        })
    }

    pub fn update(&mut self, batch: &RecordBatch) -> Result<(), SliceError> {
        let column = &self.plan.column;
        let array = batch
            .column_by_name(column)
            .ok_or_else(|| SliceError::ColumnNotFound {
                column: column.clone(),
            })?;
        let other = self.plan.values.len();
        let mut rows: Vec<Vec<u32>> = vec![Vec::new(); other + 1];
        for (row, value) in slice_values(column, array)?.into_iter().enumerate() {
            let slice = self.index.get(&value).copied().unwrap_or(other);
            rows[slice].push(row as u32);
        }
        for (slice, indices) in rows.into_iter().enumerate() {
            if indices.is_empty() {
                continue;
            }
            let indices = UInt32Array::from(indices);
            let part = take_record_batch(batch, &indices).map_err(|source| SliceError::Arrow {
                column: column.clone(),
                source,
            })?;
            self.profilers[slice].update(&part)?;
        }
        Ok(())
    }

    pub fn finish(&self) -> SliceProfiles {
        let other_profile = self.profilers[self.plan.values.len()].finish();
        let slices = self
            .plan
            .values
            .iter()
            .zip(&self.profilers)
            .map(|(value, profiler)| Slice {
                value: value.clone(),
                profile: profiler.finish(),
            })
            .collect();
        let other_values = self.plan.distinct - self.plan.values.len() as u64;
        SliceProfiles {
            column: self.plan.column.clone(),
            distinct_values: self.plan.distinct,
            slices,
            other: (other_profile.rows > 0).then_some(OtherSlice {
                values: other_values,
                profile: other_profile,
            }),
        }
    }
}
