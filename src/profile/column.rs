//! Per-column accumulators: one typed update loop per Arrow type family.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, FixedSizeListArray, GenericListArray, MapArray,
    OffsetSizeTrait, PrimitiveArray, StructArray, make_array,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Date64Type, Decimal128Type, Decimal256Type,
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Field, Fields, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type, i256,
};
use arrow::record_batch::RecordBatch;

use super::hll::{Distinct, DistinctSketch, hash_bytes, hash_u64};
use super::kll::KllSketch;
use super::moments::{IntMoments, Moments};
use super::topk::TopValuesTracker;
use super::types::logical_type_name;
use super::{
    BooleanStats, CategoricalStats, ColumnProfile, ColumnStats, ExactRange, ListStats,
    NumericStats, ProfileError, ProfileOptions, ValueUnit,
};

/// A column of the flattened schema: a top-level field or a (nested) struct child.
#[derive(Debug, Clone)]
pub struct FlatField {
    /// Dotted name (`parent.child`).
    pub name: String,
    /// Child indices from the batch's top-level column down to this field.
    pub path: Vec<usize>,
    pub field: Arc<Field>,
    /// True when this field or any enclosing struct is nullable.
    pub nullable: bool,
}

/// Lists every field, with struct children after their parent.
pub fn flatten_fields(fields: &Fields) -> Vec<FlatField> {
    fn walk(
        fields: &Fields,
        prefix: &str,
        path: &[usize],
        nullable: bool,
        out: &mut Vec<FlatField>,
    ) {
        for (index, field) in fields.iter().enumerate() {
            let name = if prefix.is_empty() {
                field.name().clone()
            } else {
                format!("{prefix}.{}", field.name())
            };
            let mut child_path = path.to_vec();
            child_path.push(index);
            let child_nullable = nullable || field.is_nullable();
            out.push(FlatField {
                name: name.clone(),
                path: child_path.clone(),
                field: field.clone(),
                nullable: child_nullable,
            });
            if let DataType::Struct(children) = field.data_type() {
                walk(children, &name, &child_path, child_nullable, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(fields, "", &[], false, &mut out);
    out
}

/// Returns the array of a flattened field, with the nulls of every enclosing struct applied.
fn resolve(batch: &RecordBatch, path: &[usize]) -> Result<ArrayRef, arrow::error::ArrowError> {
    let mut array = batch.column(path[0]).clone();
    for &index in &path[1..] {
        let parent: &StructArray = array.as_struct();
        let child = parent.column(index).clone();
        let nulls = NullBuffer::union(parent.nulls(), child.nulls());
        array = if nulls.as_ref() == child.nulls() {
            child
        } else {
            make_array(child.to_data().into_builder().nulls(nulls).build()?)
        };
    }
    Ok(array)
}

/// Accumulates the statistics of one flattened column.
#[derive(Debug, Clone)]
pub struct ColumnAccumulator {
    field: FlatField,
    nulls: u64,
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    Numeric(Box<NumericAccumulator>),
    Boolean { true_count: u64, false_count: u64 },
    Categorical(Box<CategoricalAccumulator>),
    List(Box<NumericAccumulator>),
    Struct(usize),
    Null,
    Unsupported(String),
}

impl ColumnAccumulator {
    pub fn new(field: FlatField, options: &ProfileOptions) -> Self {
        let state = initial_state(field.field.data_type(), options);
        ColumnAccumulator {
            field,
            nulls: 0,
            state,
        }
    }

    pub fn update(&mut self, batch: &RecordBatch) -> Result<(), ProfileError> {
        let array = resolve(batch, &self.field.path).map_err(|source| ProfileError::Arrow {
            column: self.field.name.clone(),
            source,
        })?;
        self.update_array(&array)
            .map_err(|source| ProfileError::Arrow {
                column: self.field.name.clone(),
                source,
            })
    }

    fn update_array(&mut self, array: &ArrayRef) -> Result<(), arrow::error::ArrowError> {
        self.nulls += array.logical_null_count() as u64;
        match &mut self.state {
            State::Numeric(acc) => acc.update(array)?,
            State::Boolean {
                true_count,
                false_count,
            } => {
                let array: &BooleanArray = array.as_boolean();
                let trues = array.true_count() as u64;
                *true_count += trues;
                *false_count += (array.len() - array.null_count()) as u64 - trues;
            }
            State::Categorical(acc) => acc.update(array)?,
            State::List(acc) => update_list_lengths(acc, array),
            State::Struct(_) | State::Null | State::Unsupported(_) => {}
        }
        Ok(())
    }

    pub fn merge(&mut self, other: &ColumnAccumulator) {
        self.nulls += other.nulls;
        match (&mut self.state, &other.state) {
            (State::Numeric(a), State::Numeric(b)) | (State::List(a), State::List(b)) => a.merge(b),
            (
                State::Boolean {
                    true_count,
                    false_count,
                },
                State::Boolean {
                    true_count: t,
                    false_count: f,
                },
            ) => {
                *true_count += t;
                *false_count += f;
            }
            (State::Categorical(a), State::Categorical(b)) => a.merge(b),
            _ => {}
        }
    }

    pub fn finish(&self, rows: u64, options: &ProfileOptions) -> ColumnProfile {
        let stats = match &self.state {
            State::Numeric(acc) => ColumnStats::Numeric(acc.finish()),
            State::Boolean {
                true_count,
                false_count,
            } => ColumnStats::Boolean(BooleanStats {
                true_count: *true_count,
                false_count: *false_count,
            }),
            State::Categorical(acc) => ColumnStats::Categorical(CategoricalStats {
                distinct: at_most(acc.distinct.distinct(), rows.saturating_sub(self.nulls)),
                top: acc.top.finish(options.top_values),
                lengths: acc.lengths.summary(),
            }),
            State::List(acc) => ColumnStats::List(ListStats {
                lengths: Box::new(acc.finish()),
            }),
            State::Struct(fields) => ColumnStats::Struct { fields: *fields },
            State::Null => ColumnStats::Null,
            State::Unsupported(reason) => ColumnStats::Unsupported {
                reason: reason.clone(),
            },
        };
        ColumnProfile {
            name: self.field.name.clone(),
            logical_type: logical_type_name(self.field.field.data_type()),
            nullable: self.field.nullable,
            rows,
            nulls: self.nulls,
            stats,
        }
    }
}

fn initial_state(data_type: &DataType, options: &ProfileOptions) -> State {
    use DataType::*;
    let numeric = |unit| State::Numeric(Box::new(NumericAccumulator::new(unit, options)));
    match data_type {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float16 | Float32
        | Float64 => numeric(ValueUnit::Plain),
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) | Decimal256(p, s) => {
            numeric(ValueUnit::Decimal {
                precision: *p,
                scale: *s,
            })
        }
        Date32 | Date64 => numeric(ValueUnit::DaysSinceEpoch),
        Timestamp(_, tz) => numeric(ValueUnit::MicrosSinceEpoch {
            timezone: tz.as_ref().map(|tz| tz.to_string()),
        }),
        Time32(_) | Time64(_) => numeric(ValueUnit::MicrosSinceMidnight),
        Duration(_) => numeric(ValueUnit::Micros),
        Boolean => State::Boolean {
            true_count: 0,
            false_count: 0,
        },
        Utf8 | LargeUtf8 | Utf8View | Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => {
            State::Categorical(Box::new(CategoricalAccumulator::new(options)))
        }
        Dictionary(_, value) => match initial_state(value, options) {
            state @ (State::Numeric(_) | State::Categorical(_) | State::Boolean { .. }) => state,
            _ => State::Unsupported(format!(
                "dictionary of {} is not profiled",
                logical_type_name(value)
            )),
        },
        List(_) | LargeList(_) | FixedSizeList(_, _) | Map(_, _) => {
            State::List(Box::new(NumericAccumulator::new(ValueUnit::Plain, options)))
        }
        Struct(fields) => State::Struct(fields.len()),
        Null => State::Null,
        other => State::Unsupported(format!(
            "{} values are not profiled",
            logical_type_name(other)
        )),
    }
}

/// Exact integer accumulator for integers, decimals and temporal values.
#[derive(Debug, Clone)]
enum Exact {
    None,
    Small {
        min: i128,
        max: i128,
        sum: Option<i128>,
    },
    Wide {
        min: i256,
        max: i256,
        sum: Option<i256>,
    },
}

#[derive(Debug, Clone)]
pub struct NumericAccumulator {
    unit: ValueUnit,
    moments: Moments,
    nan: u64,
    pos_inf: u64,
    neg_inf: u64,
    sketch: KllSketch,
    distinct: DistinctSketch,
    exact: Exact,
    /// Finite values of the array being added, fed to the moments and the sketch at once.
    buffer: Vec<f64>,
    /// Hashes of the exact integers of the array being added (floats are hashed from `buffer`).
    hashes: Vec<u64>,
}

impl NumericAccumulator {
    fn new(unit: ValueUnit, options: &ProfileOptions) -> Self {
        NumericAccumulator {
            unit,
            moments: Moments::default(),
            nan: 0,
            pos_inf: 0,
            neg_inf: 0,
            sketch: KllSketch::new(options.sketch_k),
            distinct: DistinctSketch::new(),
            exact: Exact::None,
            buffer: Vec::new(),
            hashes: Vec::new(),
        }
    }

    /// Feeds the buffered finite values to the moments and the sketch, in arrival order.
    fn flush(&mut self) {
        if self.hashes.is_empty() {
            // Floats: hash the bits of each buffered value (zero is already normalized).
            // Integers leave one hash per buffered value, so they never reach this branch.
            self.distinct
                .insert_hashes(self.buffer.iter().map(|x| hash_u64(x.to_bits())));
        } else {
            self.distinct.insert_hashes(self.hashes.iter().copied());
            self.hashes.clear();
        }
        self.moments.update_slice(&self.buffer);
        self.sketch.update_many(&self.buffer);
        self.buffer.clear();
    }

    #[inline]
    fn push_float(&mut self, x: f64) {
        if x.is_nan() {
            self.nan += 1;
        } else if x == f64::INFINITY {
            self.pos_inf += 1;
        } else if x == f64::NEG_INFINITY {
            self.neg_inf += 1;
        } else {
            let x = if x == 0.0 { 0.0 } else { x };
            self.buffer.push(x);
        }
    }

    /// Adds an exact integer value `v` whose `f64` reading is `x`, updating the exact range with
    /// overflow checks (decimals and list lengths).
    #[inline]
    fn push_int(&mut self, v: i128, x: f64) {
        self.buffer.push(x);
        self.hashes.push(hash_int(v));
        let mut range = BatchRange::new(v);
        range.sum = v;
        self.add_range(&range);
    }

    /// Adds an integer of at most 84 bits (a 64-bit value times at most 10^6). The caller
    /// accumulates its range in a [`BatchRange`].
    #[inline]
    fn push_small_int(&mut self, v: i128) {
        self.buffer.push(int_to_f64(v));
        self.hashes.push(hash_int(v));
    }

    /// Folds one array's exact range into the running one; the sum becomes `None` on overflow.
    fn add_range(&mut self, range: &BatchRange) {
        if !range.seen {
            return;
        }
        match &mut self.exact {
            Exact::Small { min, max, sum } => {
                *min = (*min).min(range.min);
                *max = (*max).max(range.max);
                *sum = sum.and_then(|s| s.checked_add(range.sum));
            }
            _ => {
                self.exact = Exact::Small {
                    min: range.min,
                    max: range.max,
                    sum: Some(range.sum),
                }
            }
        }
    }

    fn push_wide(&mut self, v: i256, x: f64) {
        // Decimal256 values are rare: feed them one by one.
        self.moments.update(x);
        self.sketch.update(x);
        self.distinct.insert_hash(hash_bytes(&v.to_le_bytes()));
        match &mut self.exact {
            Exact::Wide { min, max, sum } => {
                *min = (*min).min(v);
                *max = (*max).max(v);
                *sum = sum.and_then(|s| s.checked_add(v));
            }
            _ => {
                self.exact = Exact::Wide {
                    min: v,
                    max: v,
                    sum: Some(v),
                }
            }
        }
    }

    fn update(&mut self, array: &ArrayRef) -> Result<(), arrow::error::ArrowError> {
        let result = self.update_values(array);
        self.flush();
        result
    }

    fn update_values(&mut self, array: &ArrayRef) -> Result<(), arrow::error::ArrowError> {
        use DataType::*;
        // Integer types of at most 64 bits, converted by a factor of at most 10^6, so every
        // value has at most 84 bits and the unchecked batch sum in `BatchRange` is exact.
        macro_rules! ints {
            ($t:ty, $convert:expr) => {{
                let convert = $convert;
                let mut range = BatchRange::default();
                for_each_value(array.as_primitive::<$t>(), |v| {
                    let v: i128 = convert(v as i128);
                    range.add(v);
                    self.push_small_int(v)
                });
                self.add_range(&range);
            }};
        }
        macro_rules! floats {
            ($t:ty, $convert:expr) => {{
                let convert = $convert;
                for_each_value(array.as_primitive::<$t>(), |v| self.push_float(convert(v)))
            }};
        }
        let identity = |v: i128| v;
        match array.data_type() {
            Int8 => ints!(Int8Type, identity),
            Int16 => ints!(Int16Type, identity),
            Int32 => ints!(Int32Type, identity),
            Int64 => ints!(Int64Type, identity),
            UInt8 => ints!(UInt8Type, identity),
            UInt16 => ints!(UInt16Type, identity),
            UInt32 => ints!(UInt32Type, identity),
            UInt64 => ints!(UInt64Type, identity),
            Float16 => {
                let widened = arrow::compute::cast(array, &Float64)?;
                for_each_value(widened.as_primitive::<Float64Type>(), |v| {
                    self.push_float(v)
                })
            }
            Float32 => floats!(Float32Type, |v: f32| v as f64),
            Float64 => floats!(Float64Type, |v: f64| v),
            Decimal32(_, s) => {
                self.decimal_small(array.as_primitive::<arrow::datatypes::Decimal32Type>(), *s)
            }
            Decimal64(_, s) => {
                self.decimal_small(array.as_primitive::<arrow::datatypes::Decimal64Type>(), *s)
            }
            Decimal128(_, s) => self.decimal_small(array.as_primitive::<Decimal128Type>(), *s),
            Decimal256(_, s) => {
                let scale = 10f64.powi(*s as i32);
                for_each_value(array.as_primitive::<Decimal256Type>(), |v| {
                    let x = v.to_string().parse::<f64>().unwrap_or(f64::NAN) / scale;
                    self.push_wide(v, x)
                })
            }
            Date32 => ints!(Date32Type, identity),
            Date64 => ints!(Date64Type, |v: i128| v.div_euclid(86_400_000)),
            Timestamp(unit, _) => match unit {
                TimeUnit::Second => ints!(TimestampSecondType, |v: i128| v * 1_000_000),
                TimeUnit::Millisecond => ints!(TimestampMillisecondType, |v: i128| v * 1_000),
                TimeUnit::Microsecond => ints!(TimestampMicrosecondType, identity),
                TimeUnit::Nanosecond => {
                    ints!(TimestampNanosecondType, |v: i128| v.div_euclid(1_000))
                }
            },
            Time32(TimeUnit::Second) => ints!(Time32SecondType, |v: i128| v * 1_000_000),
            Time32(_) => ints!(Time32MillisecondType, |v: i128| v * 1_000),
            Time64(TimeUnit::Nanosecond) => {
                ints!(Time64NanosecondType, |v: i128| v.div_euclid(1_000))
            }
            Time64(_) => ints!(Time64MicrosecondType, identity),
            Duration(unit) => match unit {
                TimeUnit::Second => ints!(DurationSecondType, |v: i128| v * 1_000_000),
                TimeUnit::Millisecond => ints!(DurationMillisecondType, |v: i128| v * 1_000),
                TimeUnit::Microsecond => ints!(DurationMicrosecondType, identity),
                TimeUnit::Nanosecond => {
                    ints!(DurationNanosecondType, |v: i128| v.div_euclid(1_000))
                }
            },
            Dictionary(_, value_type) => {
                let values = arrow::compute::cast(array, value_type)?;
                self.update_values(&values)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn decimal_small<T>(&mut self, array: &PrimitiveArray<T>, scale: i8)
    where
        T: ArrowPrimitiveType,
        T::Native: Into<i128>,
    {
        let divisor = 10f64.powi(scale as i32);
        for_each_value(array, |v| {
            let v: i128 = v.into();
            self.push_int(v, int_to_f64(v) / divisor)
        })
    }

    fn merge(&mut self, other: &NumericAccumulator) {
        self.moments.merge(&other.moments);
        self.nan += other.nan;
        self.pos_inf += other.pos_inf;
        self.neg_inf += other.neg_inf;
        self.sketch.merge(&other.sketch);
        self.distinct.merge(&other.distinct);
        self.exact = match (&self.exact, &other.exact) {
            (Exact::None, e) | (e, Exact::None) => e.clone(),
            (
                Exact::Small { min, max, sum },
                Exact::Small {
                    min: a,
                    max: b,
                    sum: c,
                },
            ) => Exact::Small {
                min: (*min).min(*a),
                max: (*max).max(*b),
                sum: sum.zip(*c).and_then(|(x, y)| x.checked_add(y)),
            },
            (
                Exact::Wide { min, max, sum },
                Exact::Wide {
                    min: a,
                    max: b,
                    sum: c,
                },
            ) => Exact::Wide {
                min: (*min).min(*a),
                max: (*max).max(*b),
                sum: sum.zip(*c).and_then(|(x, y)| x.checked_add(y)),
            },
            (mine, _) => mine.clone(),
        };
    }

    fn finish(&self) -> NumericStats {
        let scale = match self.unit {
            ValueUnit::Decimal { scale, .. } => scale,
            _ => 0,
        };
        let exact = match &self.exact {
            Exact::None => None,
            Exact::Small { min, max, sum } => Some(ExactRange {
                min: format_scaled(&min.to_string(), scale),
                max: format_scaled(&max.to_string(), scale),
                sum: sum.map(|s| format_scaled(&s.to_string(), scale)),
            }),
            Exact::Wide { min, max, sum } => Some(ExactRange {
                min: format_scaled(&min.to_string(), scale),
                max: format_scaled(&max.to_string(), scale),
                sum: sum.map(|s| format_scaled(&s.to_string(), scale)),
            }),
        };
        let mut sketch = self.sketch.clone();
        sketch.finish();
        NumericStats {
            unit: self.unit.clone(),
            finite: self.moments.count,
            nan: self.nan,
            pos_inf: self.pos_inf,
            neg_inf: self.neg_inf,
            moments: self.moments.summary(),
            exact,
            distinct: at_most(self.distinct.distinct(), self.moments.count),
            sketch,
        }
    }
}

/// Caps a distinct-count estimate at the number of values counted: the HyperLogLog estimate
/// can overshoot by its error (about 1.6 %), but never more values can be distinct than exist.
fn at_most(mut distinct: Distinct, values: u64) -> Distinct {
    distinct.estimate = distinct.estimate.min(values);
    distinct
}

/// Exact minimum, maximum and wrapping sum of the integers of one array. The sum is exact
/// while no partial sum leaves the `i128` range: true for fewer than 2^43 values of at most
/// 84 bits.
#[derive(Debug, Clone, Copy, Default)]
struct BatchRange {
    min: i128,
    max: i128,
    sum: i128,
    seen: bool,
}

impl BatchRange {
    fn new(v: i128) -> Self {
        BatchRange {
            min: v,
            max: v,
            sum: 0,
            seen: true,
        }
    }

    #[inline]
    fn add(&mut self, v: i128) {
        if !self.seen {
            *self = BatchRange::new(v);
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum = self.sum.wrapping_add(v);
    }
}

/// Hashes an exact integer: the 64-bit mixer when it fits `i64`, else its 16 bytes.
#[inline]
fn hash_int(v: i128) -> u64 {
    let small = v as i64;
    if small as i128 == v {
        hash_u64(small as u64)
    } else {
        hash_bytes(&v.to_le_bytes())
    }
}

/// Converts an integer to the nearest `f64`. Values that fit `i64` (nearly all) take the
/// hardware conversion; `i128 as f64` is a slow library call. Both round to nearest, so the
/// result is the same either way.
#[inline]
fn int_to_f64(v: i128) -> f64 {
    // The wide conversion sits behind a call the optimizer cannot see through; otherwise it
    // proves both branches equal and keeps only the slow one.
    #[cold]
    #[inline(never)]
    fn wide(v: i128) -> f64 {
        v as f64
    }
    let small = v as i64;
    if small as i128 == v {
        small as f64
    } else {
        wide(v)
    }
}

/// Calls `f` on every non-null value, skipping the validity check when there are no nulls.
#[inline]
fn for_each_value<T: ArrowPrimitiveType>(array: &PrimitiveArray<T>, mut f: impl FnMut(T::Native)) {
    match array.nulls() {
        Some(nulls) if nulls.null_count() > 0 => {
            for (value, valid) in array.values().iter().zip(nulls.iter()) {
                if valid {
                    f(*value);
                }
            }
        }
        _ => {
            for value in array.values().iter() {
                f(*value);
            }
        }
    }
}

/// Places the decimal point `scale` digits from the right of an integer string.
pub fn format_scaled(digits: &str, scale: i8) -> String {
    if scale <= 0 {
        if digits == "0" || scale == 0 {
            return digits.to_string();
        }
        return format!("{digits}{}", "0".repeat((-scale) as usize));
    }
    let (sign, magnitude) = match digits.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", digits),
    };
    let scale = scale as usize;
    let padded = format!("{magnitude:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

#[derive(Debug, Clone)]
pub struct CategoricalAccumulator {
    distinct: DistinctSketch,
    top: TopValuesTracker,
    /// Byte lengths of the non-null values.
    lengths: IntMoments,
    /// Per-key counts of the dictionary array being added; reused between arrays.
    key_counts: Vec<u64>,
}

/// A value of a string or binary array, as the profile renders it.
trait ProfiledValue {
    fn bytes(&self) -> &[u8];
    fn text(&self) -> Box<str>;
}

impl ProfiledValue for &str {
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
    fn text(&self) -> Box<str> {
        (*self).into()
    }
}

impl ProfiledValue for &[u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn text(&self) -> Box<str> {
        hex::encode(self).into()
    }
}

impl CategoricalAccumulator {
    fn new(options: &ProfileOptions) -> Self {
        CategoricalAccumulator {
            distinct: DistinctSketch::new(),
            top: TopValuesTracker::new(options.top_values_tracking.max(options.top_values)),
            lengths: IntMoments::default(),
            key_counts: Vec::new(),
        }
    }

    #[inline]
    fn push<V: ProfiledValue>(&mut self, value: V) {
        let bytes = value.bytes();
        let hash = hash_bytes(bytes);
        self.distinct.insert_hash(hash);
        self.top.insert_hashed(hash, 1, || value.text());
        self.lengths.add(bytes.len() as u64, 1);
    }

    fn update(&mut self, array: &ArrayRef) -> Result<(), arrow::error::ArrowError> {
        use DataType::*;
        match array.data_type() {
            Utf8 => array
                .as_string::<i32>()
                .iter()
                .flatten()
                .for_each(|v| self.push(v)),
            LargeUtf8 => array
                .as_string::<i64>()
                .iter()
                .flatten()
                .for_each(|v| self.push(v)),
            Utf8View => array
                .as_string_view()
                .iter()
                .flatten()
                .for_each(|v| self.push(v)),
            Binary => array
                .as_binary::<i32>()
                .iter()
                .flatten()
                .for_each(|v| self.push(v)),
            LargeBinary => array
                .as_binary::<i64>()
                .iter()
                .flatten()
                .for_each(|v| self.push(v)),
            BinaryView => array
                .as_binary_view()
                .iter()
                .flatten()
                .for_each(|v| self.push(v)),
            FixedSizeBinary(_) => array
                .as_fixed_size_binary()
                .iter()
                .flatten()
                .for_each(|v| self.push(v)),
            Dictionary(_, value_type) => {
                let dictionary = array.as_any_dictionary();
                let values = dictionary.values();
                // Counting by key pays off when the dictionary is not larger than the array,
                // because a huge shared dictionary costs more to scan than the rows themselves.
                match value_type.as_ref() {
                    Utf8 if values.len() <= array.len().max(64) => {
                        self.update_keys(array, values.as_string::<i32>())?
                    }
                    LargeUtf8 if values.len() <= array.len().max(64) => {
                        self.update_keys(array, values.as_string::<i64>())?
                    }
                    Binary if values.len() <= array.len().max(64) => {
                        self.update_keys(array, values.as_binary::<i32>())?
                    }
                    LargeBinary if values.len() <= array.len().max(64) => {
                        self.update_keys(array, values.as_binary::<i64>())?
                    }
                    _ => {
                        let values = arrow::compute::cast(array, value_type)?;
                        self.update(&values)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Adds a dictionary array by counting its keys, then visiting each used dictionary value
    /// once. The result equals that of the value-by-value path. Distinct counting and the
    /// integer length moments do not depend on order. Frequent values are added as counts only
    /// while their counts are exact and stay exact after this array. Otherwise values go to
    /// the tracker one by one in row order, with each value's hash computed once.
    fn update_keys<'a, A>(
        &mut self,
        array: &ArrayRef,
        values: A,
    ) -> Result<(), arrow::error::ArrowError>
    where
        A: arrow::array::ArrayAccessor + Copy,
        A::Item: ProfiledValue + 'a,
    {
        let dictionary = array.as_any_dictionary();
        let keys = dictionary.normalized_keys();
        let nulls = array.logical_nulls();
        let valid = |row: usize| nulls.as_ref().is_none_or(|n| n.is_valid(row));

        self.key_counts.clear();
        self.key_counts.resize(values.len(), 0);
        for (row, &key) in keys.iter().enumerate() {
            if !valid(row) {
                continue;
            }
            // The parquet crate skips its key bounds check when the dictionary is empty, so a
            // corrupt file could still carry a key beyond it.
            let Some(count) = self.key_counts.get_mut(key) else {
                return Err(arrow::error::ArrowError::InvalidArgumentError(format!(
                    "dictionary key {key} is beyond the dictionary of {} values",
                    values.len()
                )));
            };
            *count += 1;
        }

        let used = self.key_counts.iter().filter(|&&c| c > 0).count();
        let counted = self.top.stays_exact_with(used);
        let mut hashes = vec![0u64; if counted { 0 } else { values.len() }];
        for (key, &count) in self.key_counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let value = values.value(key);
            let bytes = value.bytes();
            let hash = hash_bytes(bytes);
            self.distinct.insert_hash(hash);
            self.lengths.add(bytes.len() as u64, count);
            if counted {
                self.top.insert_hashed(hash, count, || value.text());
            } else {
                hashes[key] = hash;
            }
        }

        if !counted {
            for (row, &key) in keys.iter().enumerate() {
                if valid(row) {
                    self.top
                        .insert_hashed(hashes[key], 1, || values.value(key).text());
                }
            }
        }
        Ok(())
    }

    fn merge(&mut self, other: &CategoricalAccumulator) {
        self.distinct.merge(&other.distinct);
        self.top.merge(&other.top);
        self.lengths.merge(&other.lengths);
    }
}

fn update_list_lengths(acc: &mut NumericAccumulator, array: &ArrayRef) {
    update_list_length_values(acc, array);
    acc.flush();
}

fn update_list_length_values(acc: &mut NumericAccumulator, array: &ArrayRef) {
    fn offsets<O: OffsetSizeTrait>(acc: &mut NumericAccumulator, list: &GenericListArray<O>) {
        for (i, window) in list.value_offsets().windows(2).enumerate() {
            if list.is_valid(i) {
                let length = (window[1] - window[0]).as_usize() as i128;
                acc.push_int(length, length as f64);
            }
        }
    }
    match array.data_type() {
        DataType::List(_) => offsets(acc, array.as_list::<i32>()),
        DataType::LargeList(_) => offsets(acc, array.as_list::<i64>()),
        DataType::FixedSizeList(_, size) => {
            let list: &FixedSizeListArray = array.as_fixed_size_list();
            for i in 0..list.len() {
                if list.is_valid(i) {
                    acc.push_int(*size as i128, *size as f64);
                }
            }
        }
        DataType::Map(_, _) => {
            let map: &MapArray = array.as_map();
            for (i, window) in map.value_offsets().windows(2).enumerate() {
                if map.is_valid(i) {
                    let length = (window[1] - window[0]) as i128;
                    acc.push_int(length, length as f64);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_decimal_strings() {
        assert_eq!(format_scaled("12345", 2), "123.45");
        assert_eq!(format_scaled("-5", 3), "-0.005");
        assert_eq!(format_scaled("0", 2), "0.00");
        assert_eq!(format_scaled("7", -2), "700");
        assert_eq!(format_scaled("-120", 0), "-120");
    }
}
