//! Keyed diff of two result tables (golden query results) held as Arrow record batches.
//!
//! Rows are matched on declared key columns by sort-merge: each side's key columns are encoded
//! with Arrow's row format (byte-comparable), row indices are sorted by those bytes, and the two
//! sorted index lists are walked together. Memory is the two tables in columnar form, the encoded
//! keys and one `u32` index per row; nothing is built per cell.
//!
//! Columns present on both sides are compared after an explicit cast to a common type
//! ([`common_type`]); a column whose types cannot be reconciled is reported as not compared instead
//! of turning every row into removed plus added. Without keys the diff falls back to whole-row
//! matching (multiset semantics on all comparable shared columns, exact values, no tolerance).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, DynComparator, Float64Array, Int64Array, RecordBatch,
    TimestampNanosecondArray, make_comparator,
};
use arrow::compute::{SortOptions, cast, concat_batches};
use arrow::datatypes::{DataType, Float64Type, Int64Type, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::row::{RowConverter, Rows, SortField};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::Serialize;

/// Absolute and relative tolerance for numeric cells. A change Δ = new − old is within tolerance
/// when |Δ| ≤ `abs` or |Δ| ≤ `rel`·|old|.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Tolerance {
    #[serde(default)]
    pub abs: f64,
    #[serde(default)]
    pub rel: f64,
}

impl Tolerance {
    /// Whether a change from `old` by `delta` is within this tolerance.
    pub fn accepts(&self, old: f64, delta: f64) -> bool {
        let d = delta.abs();
        d <= self.abs || d <= self.rel * old.abs()
    }
}

/// Options of a table diff.
#[derive(Clone, Debug, Default)]
pub struct TableOptions {
    /// Key columns; empty means whole-row matching.
    pub keys: Vec<String>,
    /// Tolerance for numeric columns without their own.
    pub tolerance: Tolerance,
    /// Per-column tolerance, by column name.
    pub column_tolerance: BTreeMap<String, Tolerance>,
    /// Maximum number of changed, added or removed rows listed in detail (counts are always
    /// complete).
    pub max_examples: usize,
}

/// Why a table diff failed.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("key column {column:?} is missing from the {side} table")]
    KeyMissing { column: String, side: &'static str },
    #[error("key column {column:?} changed type from {old} to {new}, which cannot be compared")]
    KeyIncompatible {
        column: String,
        old: String,
        new: String,
    },
    #[error("the {side} table has the column name {column:?} more than once")]
    DuplicateColumn { column: String, side: &'static str },
    #[error("table has {rows} rows, more than the {max} a table diff supports")]
    TooManyRows { rows: usize, max: usize },
    #[error("Arrow failed while comparing tables: {0}")]
    Arrow(#[from] ArrowError),
    #[error("invalid Parquet data: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
}

/// How rows were matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Matching {
    /// On the declared key columns.
    Keyed { keys: Vec<String> },
    /// On the whole row, because no keys were declared; a changed row shows as removed plus added.
    WholeRow,
}

/// A shared column compared after casting both sides to one type.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnCast {
    pub column: String,
    pub base_type: String,
    pub candidate_type: String,
    /// The common type both sides were cast to, or `None` when the column was not compared.
    pub compared_as: Option<String>,
    pub note: String,
}

/// Counts of cell differences in one column.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ColumnChanges {
    /// Cells outside tolerance.
    pub changed: u64,
    /// Cells that differ but within tolerance.
    pub within_tolerance: u64,
    /// Largest |Δ| among changed numeric cells.
    pub max_abs_delta: Option<f64>,
    /// Largest |Δ|/|old| among changed numeric cells with old ≠ 0.
    pub max_rel_delta: Option<f64>,
}

/// One changed cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellChange {
    pub column: String,
    /// Display form of the value, `null` for a null.
    pub old: String,
    pub new: String,
    /// new − old for numeric cells.
    pub abs_delta: Option<f64>,
    /// (new − old)/|old| for numeric cells with old ≠ 0.
    pub rel_delta: Option<f64>,
}

/// Status of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Added,
    Removed,
    Changed,
}

/// One row listed in detail.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowChange {
    pub status: RowStatus,
    /// Key column values (all compared columns in whole-row mode), display form.
    pub key: Vec<String>,
    /// Cells outside tolerance; empty for added and removed rows.
    pub cells: Vec<CellChange>,
}

/// The result of a table diff.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableDiff {
    pub matching: Matching,
    pub base_rows: u64,
    pub candidate_rows: u64,
    pub rows_added: u64,
    pub rows_removed: u64,
    /// Matched rows with at least one cell outside tolerance.
    pub rows_changed: u64,
    /// Matched rows whose differing cells are all within tolerance.
    pub rows_within_tolerance: u64,
    pub rows_unchanged: u64,
    /// Key values that occur more than once on a side (base + candidate). Duplicates are paired
    /// in their sorted order, so the counts stay meaningful but the pairing is arbitrary.
    pub duplicate_keys: u64,
    /// Columns compared on both sides, in base order.
    pub compared_columns: Vec<String>,
    pub base_only_columns: Vec<String>,
    pub candidate_only_columns: Vec<String>,
    /// Shared columns whose type changed, with the cast applied.
    pub casts: Vec<ColumnCast>,
    /// Per compared non-key column, cell changes.
    pub columns: BTreeMap<String, ColumnChanges>,
    /// The first rows that differ in key order, at most `max_examples`.
    pub examples: Vec<RowChange>,
}

impl TableDiff {
    /// Whether any row or compared cell differs beyond tolerance.
    pub fn has_changes(&self) -> bool {
        self.rows_added + self.rows_removed + self.rows_changed > 0
    }
}

/// Largest table a diff accepts, so that row indices fit in `u32`.
pub const MAX_ROWS: usize = u32::MAX as usize;

fn is_integer(t: &DataType) -> bool {
    t.is_integer()
}

fn is_numeric(t: &DataType) -> bool {
    t.is_integer()
        || t.is_floating()
        || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..))
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn value_type(t: &DataType) -> &DataType {
    match t {
        DataType::Dictionary(_, value) => value,
        other => other,
    }
}

/// The type both sides of a shared column are compared as, with a note on precision, or `None`
/// when the types cannot be compared (string against number, boolean against number, nested
/// against scalar, ...).
///
/// Rules: equal types stay; dictionaries compare as their value type; integers of any width
/// compare as Int64 (UInt64 as Float64, since it may exceed Int64); any other numeric mix
/// (integer, float, decimal) compares as Float64, exact below 2^53; string types compare as Utf8;
/// timestamps of any unit compare as UTC nanoseconds (a value without time zone is taken as UTC);
/// dates compare as Date64.
pub fn common_type(base: &DataType, candidate: &DataType) -> Option<(DataType, &'static str)> {
    let (b, c) = (value_type(base), value_type(candidate));
    if b == c {
        return Some((b.clone(), ""));
    }
    if is_integer(b) && is_integer(c) {
        if matches!(b, DataType::UInt64) || matches!(c, DataType::UInt64) {
            return Some((DataType::Float64, "compared as Float64; exact below 2^53"));
        }
        return Some((DataType::Int64, "compared as Int64"));
    }
    if is_numeric(b) && is_numeric(c) {
        return Some((DataType::Float64, "compared as Float64; exact below 2^53"));
    }
    if is_string(b) && is_string(c) {
        return Some((DataType::Utf8, "compared as Utf8"));
    }
    match (b, c) {
        (DataType::Timestamp(_, tz_b), DataType::Timestamp(_, tz_c)) => {
            let note = if tz_b.is_some() != tz_c.is_some() {
                "compared as UTC instants in nanoseconds; the value without time zone is taken as UTC"
            } else {
                "compared as UTC instants in nanoseconds"
            };
            Some((DataType::Timestamp(TimeUnit::Nanosecond, None), note))
        }
        (DataType::Date32 | DataType::Date64, DataType::Date32 | DataType::Date64) => {
            Some((DataType::Date64, "compared as Date64"))
        }
        _ => None,
    }
}

/// Casts a column to the common type; timestamps are rescaled to nanoseconds without applying
/// any time-zone conversion, because Arrow stores zoned timestamps as UTC already.
fn cast_to(array: &ArrayRef, target: &DataType) -> Result<ArrayRef, ArrowError> {
    let source = array.data_type();
    if source == target {
        return Ok(array.clone());
    }
    if let (DataType::Timestamp(unit, _), DataType::Timestamp(TimeUnit::Nanosecond, None)) =
        (source, target)
    {
        let factor: i64 = match unit {
            TimeUnit::Second => 1_000_000_000,
            TimeUnit::Millisecond => 1_000_000,
            TimeUnit::Microsecond => 1_000,
            TimeUnit::Nanosecond => 1,
        };
        let raw = cast(array, &DataType::Int64)?;
        let raw = raw.as_primitive::<Int64Type>();
        // An overflowing rescale becomes null rather than a wrong instant.
        let values: TimestampNanosecondArray = raw
            .iter()
            .map(|v| v.and_then(|v| v.checked_mul(factor)))
            .collect();
        return Ok(Arc::new(values));
    }
    cast(array, target)
}

/// Reads a whole Parquet file held in memory into one record batch.
pub fn read_parquet(bytes: Vec<u8>) -> Result<RecordBatch, TableError> {
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        bytes::Bytes::from(bytes),
    )?;
    let schema: SchemaRef = builder.schema().clone();
    let reader = builder.with_batch_size(64 * 1024).build()?;
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    Ok(concat_batches(&schema, &batches)?)
}

fn check_unique(schema: &Schema, side: &'static str) -> Result<(), TableError> {
    let mut seen = std::collections::BTreeSet::new();
    for field in schema.fields() {
        if !seen.insert(field.name().as_str()) {
            return Err(TableError::DuplicateColumn {
                column: field.name().clone(),
                side,
            });
        }
    }
    Ok(())
}

/// A per-column cell comparison between matched rows.
enum CellCompare {
    Float(Float64Array, Float64Array, Tolerance),
    Int(Int64Array, Int64Array, Tolerance),
    Exact(DynComparator),
}

enum CellOutcome {
    Equal,
    WithinTolerance,
    Changed {
        abs_delta: Option<f64>,
        rel_delta: Option<f64>,
    },
}

fn numeric_outcome(old: f64, new: f64, tolerance: &Tolerance) -> CellOutcome {
    // NaN equals NaN here: a golden value that stays NaN has not changed.
    if old == new || (old.is_nan() && new.is_nan()) {
        return CellOutcome::Equal;
    }
    let delta = new - old;
    if delta.is_finite() && tolerance.accepts(old, delta) {
        return CellOutcome::WithinTolerance;
    }
    let rel = (old != 0.0 && old.is_finite()).then(|| delta / old.abs());
    CellOutcome::Changed {
        abs_delta: delta.is_finite().then_some(delta),
        rel_delta: rel.filter(|r| r.is_finite()),
    }
}

impl CellCompare {
    fn compare(&self, i: usize, j: usize) -> CellOutcome {
        match self {
            CellCompare::Float(a, b, tol) => match (a.is_valid(i), b.is_valid(j)) {
                (false, false) => CellOutcome::Equal,
                (true, true) => numeric_outcome(a.value(i), b.value(j), tol),
                _ => CellOutcome::Changed {
                    abs_delta: None,
                    rel_delta: None,
                },
            },
            CellCompare::Int(a, b, tol) => match (a.is_valid(i), b.is_valid(j)) {
                (false, false) => CellOutcome::Equal,
                (true, true) => {
                    let (old, new) = (a.value(i), b.value(j));
                    if old == new {
                        return CellOutcome::Equal;
                    }
                    // i128 keeps the difference exact before it is reported as f64.
                    let delta = (new as i128 - old as i128) as f64;
                    if tol.accepts(old as f64, delta) {
                        return CellOutcome::WithinTolerance;
                    }
                    CellOutcome::Changed {
                        abs_delta: Some(delta),
                        rel_delta: (old != 0).then(|| delta / (old as f64).abs()),
                    }
                }
                _ => CellOutcome::Changed {
                    abs_delta: None,
                    rel_delta: None,
                },
            },
            CellCompare::Exact(cmp) => match cmp(i, j) {
                Ordering::Equal => CellOutcome::Equal,
                _ => CellOutcome::Changed {
                    abs_delta: None,
                    rel_delta: None,
                },
            },
        }
    }
}

struct Side<'a> {
    columns: &'a [ArrayRef],
    formatters: Vec<ArrayFormatter<'a>>,
}

fn make_side<'a>(
    columns: &'a [ArrayRef],
    format: &'a FormatOptions<'a>,
) -> Result<Side<'a>, ArrowError> {
    let formatters = columns
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), format))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Side {
        columns,
        formatters,
    })
}

fn display(formatter: &ArrayFormatter<'_>, array: &ArrayRef, row: usize) -> String {
    if array.is_null(row) {
        "null".to_owned()
    } else {
        formatter.value(row).to_string()
    }
}

/// Sorted row order by encoded key, and the number of rows whose key equals the previous one.
fn sorted_order(rows: &Rows) -> (Vec<u32>, u64) {
    let mut order: Vec<u32> = (0..rows.num_rows() as u32).collect();
    // Ties broken by row index, so duplicate keys keep their table order and pair
    // deterministically without the extra memory of a stable sort.
    order.sort_unstable_by(|a, b| {
        rows.row(*a as usize)
            .cmp(&rows.row(*b as usize))
            .then(a.cmp(b))
    });
    let duplicates = order
        .windows(2)
        .filter(|w| rows.row(w[0] as usize) == rows.row(w[1] as usize))
        .count() as u64;
    (order, duplicates)
}

/// Compares two tables given as record batches of their whole content.
pub fn diff_tables(
    base: &RecordBatch,
    candidate: &RecordBatch,
    options: &TableOptions,
) -> Result<TableDiff, TableError> {
    let (bs, cs) = (base.schema(), candidate.schema());
    check_unique(&bs, "base")?;
    check_unique(&cs, "candidate")?;
    for (batch, _) in [(base, "base"), (candidate, "candidate")] {
        if batch.num_rows() > MAX_ROWS {
            return Err(TableError::TooManyRows {
                rows: batch.num_rows(),
                max: MAX_ROWS,
            });
        }
    }

    let mut compared: Vec<String> = Vec::new();
    let mut casts: Vec<ColumnCast> = Vec::new();
    let mut base_cols: Vec<ArrayRef> = Vec::new();
    let mut cand_cols: Vec<ArrayRef> = Vec::new();
    let mut base_only = Vec::new();
    for (idx, field) in bs.fields().iter().enumerate() {
        let Ok(cidx) = cs.index_of(field.name()) else {
            base_only.push(field.name().clone());
            continue;
        };
        let (bt, ct) = (field.data_type(), cs.field(cidx).data_type());
        let common = common_type(bt, ct);
        if bt != ct {
            casts.push(ColumnCast {
                column: field.name().clone(),
                base_type: bt.to_string(),
                candidate_type: ct.to_string(),
                compared_as: common.as_ref().map(|(t, _)| t.to_string()),
                note: match &common {
                    Some((_, note)) => (*note).to_owned(),
                    None => "types cannot be compared; column left out of the row diff".to_owned(),
                },
            });
        }
        let Some((target, _)) = common else {
            if options.keys.contains(field.name()) {
                return Err(TableError::KeyIncompatible {
                    column: field.name().clone(),
                    old: bt.to_string(),
                    new: ct.to_string(),
                });
            }
            continue;
        };
        base_cols.push(cast_to(base.column(idx), &target)?);
        cand_cols.push(cast_to(candidate.column(cidx), &target)?);
        compared.push(field.name().clone());
    }
    let candidate_only: Vec<String> = cs
        .fields()
        .iter()
        .filter(|f| bs.index_of(f.name()).is_err())
        .map(|f| f.name().clone())
        .collect();

    // Key columns first (declared order), then the other compared columns.
    let key_positions: Vec<usize> = if options.keys.is_empty() {
        (0..compared.len()).collect()
    } else {
        let mut out = Vec::new();
        for key in &options.keys {
            match compared.iter().position(|c| c == key) {
                Some(p) => out.push(p),
                None => {
                    let side = if bs.index_of(key).is_err() {
                        "base"
                    } else {
                        "candidate"
                    };
                    return Err(TableError::KeyMissing {
                        column: key.clone(),
                        side,
                    });
                }
            }
        }
        out
    };
    let matching = if options.keys.is_empty() {
        Matching::WholeRow
    } else {
        Matching::Keyed {
            keys: options.keys.clone(),
        }
    };

    let fields: Vec<SortField> = key_positions
        .iter()
        .map(|p| SortField::new(base_cols[*p].data_type().clone()))
        .collect();
    let converter = RowConverter::new(fields)?;
    let pick = |cols: &[ArrayRef]| -> Vec<ArrayRef> {
        key_positions.iter().map(|p| cols[*p].clone()).collect()
    };
    let base_keys = converter.convert_columns(&pick(&base_cols))?;
    let cand_keys = converter.convert_columns(&pick(&cand_cols))?;
    let ((base_order, base_dups), (cand_order, cand_dups)) =
        rayon::join(|| sorted_order(&base_keys), || sorted_order(&cand_keys));

    let value_positions: Vec<usize> = (0..compared.len())
        .filter(|p| !key_positions.contains(p))
        .collect();
    let mut comparers: Vec<CellCompare> = Vec::with_capacity(value_positions.len());
    for p in &value_positions {
        let (a, b) = (&base_cols[*p], &cand_cols[*p]);
        let tol = options
            .column_tolerance
            .get(&compared[*p])
            .copied()
            .unwrap_or(options.tolerance);
        let cmp = match a.data_type() {
            DataType::Float64 => CellCompare::Float(
                a.as_primitive::<Float64Type>().clone(),
                b.as_primitive::<Float64Type>().clone(),
                tol,
            ),
            DataType::Float16 | DataType::Float32 => CellCompare::Float(
                cast(a, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone(),
                cast(b, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone(),
                tol,
            ),
            t if t.is_integer() && !matches!(t, DataType::UInt64) => CellCompare::Int(
                cast(a, &DataType::Int64)?
                    .as_primitive::<Int64Type>()
                    .clone(),
                cast(b, &DataType::Int64)?
                    .as_primitive::<Int64Type>()
                    .clone(),
                tol,
            ),
            DataType::UInt64 | DataType::Decimal128(..) | DataType::Decimal256(..) => {
                CellCompare::Float(
                    cast(a, &DataType::Float64)?
                        .as_primitive::<Float64Type>()
                        .clone(),
                    cast(b, &DataType::Float64)?
                        .as_primitive::<Float64Type>()
                        .clone(),
                    tol,
                )
            }
            _ => CellCompare::Exact(make_comparator(
                a.as_ref(),
                b.as_ref(),
                SortOptions::default(),
            )?),
        };
        comparers.push(cmp);
    }

    let format = FormatOptions::default().with_null("null");
    let base_side = make_side(&base_cols, &format)?;
    let cand_side = make_side(&cand_cols, &format)?;
    let key_display = |side: &Side<'_>, row: usize| -> Vec<String> {
        key_positions
            .iter()
            .map(|p| display(&side.formatters[*p], &side.columns[*p], row))
            .collect()
    };

    let mut diff = TableDiff {
        matching,
        base_rows: base.num_rows() as u64,
        candidate_rows: candidate.num_rows() as u64,
        rows_added: 0,
        rows_removed: 0,
        rows_changed: 0,
        rows_within_tolerance: 0,
        rows_unchanged: 0,
        duplicate_keys: base_dups + cand_dups,
        compared_columns: compared.clone(),
        base_only_columns: base_only,
        candidate_only_columns: candidate_only,
        casts,
        columns: value_positions
            .iter()
            .map(|p| (compared[*p].clone(), ColumnChanges::default()))
            .collect(),
        examples: Vec::new(),
    };

    let (mut i, mut j) = (0usize, 0usize);
    while i < base_order.len() || j < cand_order.len() {
        let ord = match (base_order.get(i), cand_order.get(j)) {
            (Some(a), Some(b)) => base_keys.row(*a as usize).cmp(&cand_keys.row(*b as usize)),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        match ord {
            Ordering::Less => {
                let row = base_order[i] as usize;
                diff.rows_removed += 1;
                if diff.examples.len() < options.max_examples {
                    diff.examples.push(RowChange {
                        status: RowStatus::Removed,
                        key: key_display(&base_side, row),
                        cells: Vec::new(),
                    });
                }
                i += 1;
            }
            Ordering::Greater => {
                let row = cand_order[j] as usize;
                diff.rows_added += 1;
                if diff.examples.len() < options.max_examples {
                    diff.examples.push(RowChange {
                        status: RowStatus::Added,
                        key: key_display(&cand_side, row),
                        cells: Vec::new(),
                    });
                }
                j += 1;
            }
            Ordering::Equal => {
                let (bi, cj) = (base_order[i] as usize, cand_order[j] as usize);
                let mut changed_cells: Vec<CellChange> = Vec::new();
                let mut changed = false;
                let mut within = false;
                for (k, cmp) in comparers.iter().enumerate() {
                    let name = &compared[value_positions[k]];
                    match cmp.compare(bi, cj) {
                        CellOutcome::Equal => {}
                        CellOutcome::WithinTolerance => {
                            within = true;
                            if let Some(c) = diff.columns.get_mut(name) {
                                c.within_tolerance += 1;
                            }
                        }
                        CellOutcome::Changed {
                            abs_delta,
                            rel_delta,
                        } => {
                            changed = true;
                            if let Some(c) = diff.columns.get_mut(name) {
                                c.changed += 1;
                                if let Some(d) = abs_delta {
                                    c.max_abs_delta =
                                        Some(c.max_abs_delta.map_or(d.abs(), |m| m.max(d.abs())));
                                }
                                if let Some(r) = rel_delta {
                                    c.max_rel_delta =
                                        Some(c.max_rel_delta.map_or(r.abs(), |m| m.max(r.abs())));
                                }
                            }
                            if diff.examples.len() < options.max_examples {
                                let p = value_positions[k];
                                changed_cells.push(CellChange {
                                    column: name.clone(),
                                    old: display(
                                        &base_side.formatters[p],
                                        &base_side.columns[p],
                                        bi,
                                    ),
                                    new: display(
                                        &cand_side.formatters[p],
                                        &cand_side.columns[p],
                                        cj,
                                    ),
                                    abs_delta,
                                    rel_delta,
                                });
                            }
                        }
                    }
                }
                if changed {
                    diff.rows_changed += 1;
                    if diff.examples.len() < options.max_examples {
                        diff.examples.push(RowChange {
                            status: RowStatus::Changed,
                            key: key_display(&base_side, bi),
                            cells: changed_cells,
                        });
                    }
                } else if within {
                    diff.rows_within_tolerance += 1;
                } else {
                    diff.rows_unchanged += 1;
                }
                i += 1;
                j += 1;
            }
        }
    }
    Ok(diff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float32Array, Int32Array, StringArray};
    use arrow::datatypes::Field;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap()
    }

    fn keyed(keys: &[&str]) -> TableOptions {
        TableOptions {
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            max_examples: 100,
            ..TableOptions::default()
        }
    }

    fn ids(v: &[i32]) -> ArrayRef {
        Arc::new(Int32Array::from(v.to_vec()))
    }

    fn floats(v: &[Option<f64>]) -> ArrayRef {
        Arc::new(Float64Array::from(v.to_vec()))
    }

    #[test]
    fn keyed_rows_added_removed_changed() {
        let base = batch(vec![
            ("id", ids(&[1, 2, 3, 4])),
            ("v", floats(&[Some(1.0), Some(2.0), Some(3.0), None])),
        ]);
        let cand = batch(vec![
            ("id", ids(&[4, 3, 2, 5])),
            ("v", floats(&[None, Some(3.5), Some(2.0), Some(9.0)])),
        ]);
        let d = diff_tables(&base, &cand, &keyed(&["id"])).unwrap();
        assert_eq!(d.rows_removed, 1);
        assert_eq!(d.rows_added, 1);
        assert_eq!(d.rows_changed, 1);
        assert_eq!(d.rows_unchanged, 2);
        assert_eq!(d.examples.len(), 3);
        assert_eq!(d.examples[0].status, RowStatus::Removed);
        assert_eq!(d.examples[0].key, vec!["1"]);
        let changed = &d.examples[1];
        assert_eq!(changed.status, RowStatus::Changed);
        assert_eq!(changed.cells[0].old, "3.0");
        assert_eq!(changed.cells[0].new, "3.5");
        assert_eq!(changed.cells[0].abs_delta, Some(0.5));
        assert!((changed.cells[0].rel_delta.unwrap() - 0.5 / 3.0).abs() < 1e-12);
        assert_eq!(d.examples[2].status, RowStatus::Added);
    }

    #[test]
    fn tolerance_abs_or_rel() {
        let base = batch(vec![
            ("id", ids(&[1, 2, 3])),
            ("v", floats(&[Some(100.0), Some(0.0), Some(10.0)])),
        ]);
        let cand = batch(vec![
            ("id", ids(&[1, 2, 3])),
            ("v", floats(&[Some(100.5), Some(0.001), Some(11.0)])),
        ]);
        let mut opts = keyed(&["id"]);
        // 0.5 ≤ 0.01·100 (relative) and 0.001 ≤ 0.01 (absolute); 1.0 exceeds both.
        opts.tolerance = Tolerance {
            abs: 0.01,
            rel: 0.01,
        };
        let d = diff_tables(&base, &cand, &opts).unwrap();
        assert_eq!(d.rows_within_tolerance, 2);
        assert_eq!(d.rows_changed, 1);
        assert_eq!(d.columns["v"].within_tolerance, 2);
        assert_eq!(d.columns["v"].max_abs_delta, Some(1.0));
        opts.column_tolerance
            .insert("v".into(), Tolerance { abs: 2.0, rel: 0.0 });
        let d = diff_tables(&base, &cand, &opts).unwrap();
        assert_eq!(d.rows_changed, 0);
        assert!(!d.has_changes());
    }

    #[test]
    fn schema_change_keeps_rows_matched() {
        // id widens Int32 -> Int64, v changes Float64 -> Float32, `s` goes string -> int and
        // `extra` appears: rows must still match on id and only the real change be reported.
        let base = batch(vec![
            ("id", ids(&[1, 2, 3])),
            ("v", floats(&[Some(1.5), Some(2.5), Some(3.5)])),
            ("s", Arc::new(StringArray::from(vec!["a", "b", "c"]))),
        ]);
        let cand = batch(vec![
            ("id", Arc::new(Int64Array::from(vec![1i64, 2, 3]))),
            ("v", Arc::new(Float32Array::from(vec![1.5f32, 2.5, 4.5]))),
            ("s", ids(&[1, 2, 3])),
            ("extra", ids(&[0, 0, 0])),
        ]);
        let d = diff_tables(&base, &cand, &keyed(&["id"])).unwrap();
        assert_eq!(d.rows_added, 0);
        assert_eq!(d.rows_removed, 0);
        assert_eq!(d.rows_changed, 1);
        assert_eq!(d.rows_unchanged, 2);
        assert_eq!(d.candidate_only_columns, vec!["extra"]);
        assert_eq!(d.compared_columns, vec!["id", "v"]);
        let s = d.casts.iter().find(|c| c.column == "s").unwrap();
        assert_eq!(s.compared_as, None);
        let id = d.casts.iter().find(|c| c.column == "id").unwrap();
        assert_eq!(id.compared_as.as_deref(), Some("Int64"));
    }

    #[test]
    fn whole_row_fallback_is_multiset() {
        let base = batch(vec![("a", ids(&[1, 1, 2])), ("b", ids(&[5, 5, 6]))]);
        let cand = batch(vec![("a", ids(&[1, 2, 2])), ("b", ids(&[5, 6, 7]))]);
        let d = diff_tables(&base, &cand, &keyed(&[])).unwrap();
        assert_eq!(d.matching, Matching::WholeRow);
        // (1,5) appears twice in base, once in candidate; (2,7) is new.
        assert_eq!(d.rows_removed, 1);
        assert_eq!(d.rows_added, 1);
        assert_eq!(d.rows_unchanged, 2);
        assert_eq!(d.duplicate_keys, 1);
    }

    #[test]
    fn missing_key_is_an_error() {
        let base = batch(vec![("id", ids(&[1]))]);
        let cand = batch(vec![("other", ids(&[1]))]);
        let err = diff_tables(&base, &cand, &keyed(&["id"])).unwrap_err();
        assert!(matches!(
            err,
            TableError::KeyMissing {
                side: "candidate",
                ..
            }
        ));
    }

    #[test]
    fn duplicate_column_is_an_error() {
        let base = batch(vec![("id", ids(&[1])), ("id", ids(&[2]))]);
        let err = diff_tables(&base, &base, &keyed(&["id"])).unwrap_err();
        assert!(matches!(err, TableError::DuplicateColumn { .. }));
    }

    #[test]
    fn empty_tables_and_nan() {
        let empty = batch(vec![("id", ids(&[])), ("v", floats(&[]))]);
        let d = diff_tables(&empty, &empty, &keyed(&["id"])).unwrap();
        assert!(!d.has_changes());
        let nan = batch(vec![("id", ids(&[1])), ("v", floats(&[Some(f64::NAN)]))]);
        let d = diff_tables(&nan, &nan, &keyed(&["id"])).unwrap();
        assert_eq!(d.rows_unchanged, 1);
        let inf = batch(vec![
            ("id", ids(&[1])),
            ("v", floats(&[Some(f64::INFINITY)])),
        ]);
        let d = diff_tables(&nan, &inf, &keyed(&["id"])).unwrap();
        assert_eq!(d.rows_changed, 1);
        assert_eq!(d.examples[0].cells[0].abs_delta, None);
        let d = diff_tables(&empty, &nan, &keyed(&["id"])).unwrap();
        assert_eq!(d.rows_added, 1);
    }

    #[test]
    fn common_type_rules() {
        use DataType::*;
        assert_eq!(common_type(&Int32, &Int64).unwrap().0, Int64);
        assert_eq!(common_type(&Int64, &Float64).unwrap().0, Float64);
        assert_eq!(common_type(&UInt64, &Int8).unwrap().0, Float64);
        assert_eq!(common_type(&Utf8, &LargeUtf8).unwrap().0, Utf8);
        assert!(common_type(&Utf8, &Int64).is_none());
        assert!(common_type(&Boolean, &Int64).is_none());
        let ts = common_type(
            &Timestamp(TimeUnit::Millisecond, None),
            &Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        )
        .unwrap();
        assert_eq!(ts.0, Timestamp(TimeUnit::Nanosecond, None));
    }

    #[test]
    fn timestamps_rescale_to_nanoseconds() {
        use arrow::array::{TimestampMicrosecondArray, TimestampMillisecondArray};
        let base = batch(vec![
            ("id", ids(&[1])),
            (
                "t",
                Arc::new(TimestampMillisecondArray::from(vec![1_000i64])),
            ),
        ]);
        let cand = batch(vec![
            ("id", ids(&[1])),
            (
                "t",
                Arc::new(TimestampMicrosecondArray::from(vec![1_000_000i64]).with_timezone("UTC")),
            ),
        ]);
        let d = diff_tables(&base, &cand, &keyed(&["id"])).unwrap();
        assert_eq!(d.rows_unchanged, 1);
    }

    #[test]
    fn parquet_round_trip() {
        let base = batch(vec![
            ("id", ids(&[1, 2])),
            ("v", floats(&[Some(1.0), None])),
        ]);
        let mut buf = Vec::new();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(&mut buf, base.schema(), None).unwrap();
        writer.write(&base).unwrap();
        writer.close().unwrap();
        let back = read_parquet(buf).unwrap();
        assert_eq!(back, base);
        assert!(read_parquet(b"not parquet".to_vec()).is_err());
    }
}
