//! Known-value and edge-case tests of column profiles. Expected numbers were computed
//! independently with numpy 2.4 (`np.quantile(..., method="inverted_cdf")`, `np.var`).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    ListArray, StringArray, StructArray, Time64MicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Fields, Int32Type, Schema};
use arrow::record_batch::RecordBatch;
use proptest::prelude::*;

use super::*;

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}

fn profile_of(batches: &[RecordBatch]) -> TableProfile {
    profile_batches(batches[0].schema(), batches, &ProfileOptions::default()).unwrap()
}

fn numeric<'a>(profile: &'a TableProfile, name: &str) -> &'a NumericStats {
    match &profile.column(name).unwrap().stats {
        ColumnStats::Numeric(stats) => stats,
        other => panic!("{name} is not numeric: {other:?}"),
    }
}

/// The float column of the numpy reference: nulls at i % 97 == 0, NaN at i % 101 == 0, +inf at
/// i == 5, -inf at i == 7, otherwise ((i * 7919) % 10007) / 7 − 300.
fn reference_floats() -> Float64Array {
    (0..20_000i64)
        .map(|i| {
            if i % 97 == 0 {
                None
            } else if i % 101 == 0 {
                Some(f64::NAN)
            } else if i == 5 {
                Some(f64::INFINITY)
            } else if i == 7 {
                Some(f64::NEG_INFINITY)
            } else {
                Some(((i * 7919) % 10007) as f64 / 7.0 - 300.0)
            }
        })
        .collect()
}

fn reference_ints() -> Int64Array {
    (0..20_000i64)
        .map(|i| Some((i * 31337) % 1_000_003 - 500_000))
        .collect()
}

fn reference_batches() -> Vec<RecordBatch> {
    let x: ArrayRef = Arc::new(reference_floats());
    let y: ArrayRef = Arc::new(reference_ints());
    let whole = batch(vec![("x", x), ("y", y)]);
    // Uneven batches, as a reader would deliver them.
    vec![
        whole.slice(0, 7000),
        whole.slice(7000, 8192),
        whole.slice(15192, 4808),
    ]
}

#[test]
fn float_counts_match_numpy() {
    let profile = profile_of(&reference_batches());
    let x = numeric(&profile, "x");
    assert_eq!(profile.rows, 20_000);
    assert_eq!(profile.column("x").unwrap().nulls, 207);
    assert_eq!(x.nan, 196);
    assert_eq!(x.pos_inf, 1);
    assert_eq!(x.neg_inf, 1);
    assert_eq!(x.finite, 19_595);
}

#[test]
fn float_moments_match_numpy() {
    let profile = profile_of(&reference_batches());
    let x = numeric(&profile, "x");
    assert_eq!(x.moments.min, Some(-300.0));
    assert!((x.moments.max.unwrap() - 1129.4285714285713).abs() < 1e-9);
    assert!((x.moments.sum.unwrap() - 8131025.857142857).abs() < 1e-6);
    assert!((x.moments.mean.unwrap() - 414.9541136587322).abs() < 1e-9);
    assert!((x.variance().unwrap() - 170320.08494913796).abs() < 1e-6);
    assert!((x.sample_variance().unwrap() - 170328.777410348).abs() < 1e-6);
}

#[test]
fn float_quantiles_within_sketch_error() {
    let profile = profile_of(&reference_batches());
    let x = numeric(&profile, "x");
    // Values are spread over ~1430 units, so 0.5 % rank error is about 7 units.
    for (q, expected) in [
        (0.01, -285.42857142857144),
        (0.1, -156.71428571428572),
        (0.25, 57.28571428571428),
        (0.5, 414.8571428571429),
        (0.75, 772.5714285714287),
        (0.9, 986.8571428571429),
        (0.99, 1115.5714285714287),
    ] {
        let estimate = x.sketch.quantile(q).unwrap();
        assert!(
            (estimate - expected).abs() < 10.0,
            "q={q}: {estimate} vs {expected}"
        );
    }
    for (edge, expected) in [
        (-250.0, 0.035008930849706556),
        (0.0, 0.2099004848175555),
        (500.0, 0.5594794590456749),
        (1000.0, 0.9092625669813728),
    ] {
        let estimate = x.sketch.cdf(edge);
        assert!(
            (estimate - expected).abs() < 0.005,
            "cdf({edge}): {estimate} vs {expected}"
        );
    }
}

#[test]
fn float_distinct_within_bound() {
    let profile = profile_of(&reference_batches());
    let x = numeric(&profile, "x");
    assert!(!x.distinct.exact);
    let error = (x.distinct.estimate as f64 - 10_003.0).abs() / 10_003.0;
    assert!(error < 0.065, "estimate {}", x.distinct.estimate);
}

#[test]
fn integer_exact_stats_match_numpy() {
    let profile = profile_of(&reference_batches());
    let y = numeric(&profile, "y");
    let exact = y.exact.as_ref().unwrap();
    assert_eq!(exact.min, "-500000");
    assert_eq!(exact.max, "499937");
    assert_eq!(exact.sum.as_deref(), Some("-5141219"));
    assert!((y.moments.mean.unwrap() - -257.06095).abs() < 1e-6);
    assert!((y.variance().unwrap() - 83314031802.51614).abs() / 83314031802.5 < 1e-12);
    assert_eq!(y.unit, ValueUnit::Plain);
    // 20 000 distinct values; the estimate is within 4 standard errors.
    assert!((y.distinct.estimate as f64 - 20_000.0).abs() / 20_000.0 < 0.065);
    let median = y.sketch.quantile(0.5).unwrap();
    assert!(
        (median - -298.0).abs() < 0.005 * 1_000_000.0,
        "median {median}"
    );
}

#[test]
fn large_integers_keep_exact_range() {
    let values: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, i64::MAX - 1, i64::MIN]));
    let profile = profile_of(&[batch(vec![("big", values)])]);
    let stats = numeric(&profile, "big");
    let exact = stats.exact.as_ref().unwrap();
    assert_eq!(exact.max, i64::MAX.to_string());
    assert_eq!(exact.min, i64::MIN.to_string());
    // i64::MAX + (i64::MAX − 1) + i64::MIN = i64::MAX − 2, computed in 128 bits.
    assert_eq!(
        exact.sum.as_deref(),
        Some((i64::MAX - 2).to_string().as_str())
    );
    assert_eq!(
        stats.distinct,
        Distinct {
            estimate: 3,
            exact: true
        }
    );
}

#[test]
fn empty_table_profiles_to_empty_columns() {
    let values: ArrayRef = Arc::new(Float64Array::from(Vec::<f64>::new()));
    let names: ArrayRef = Arc::new(StringArray::from(Vec::<&str>::new()));
    let profile = profile_of(&[batch(vec![("v", values), ("s", names)])]);
    assert_eq!(profile.rows, 0);
    let v = numeric(&profile, "v");
    assert_eq!(v.finite, 0);
    assert_eq!(v.moments, MomentsSummary::default());
    assert_eq!(v.sketch.n, 0);
    assert_eq!(v.sketch.quantile(0.5), None);
    let json = serde_json::to_string(&profile).unwrap();
    assert!(!json.contains("NaN"));
}

#[test]
fn all_null_column() {
    let values: ArrayRef = Arc::new(Float64Array::from(vec![None, None, None]));
    let profile = profile_of(&[batch(vec![("v", values)])]);
    let column = profile.column("v").unwrap();
    assert_eq!(column.nulls, 3);
    let v = numeric(&profile, "v");
    assert_eq!(v.finite, 0);
    assert_eq!(v.moments.mean, None);
    assert_eq!(
        v.distinct,
        Distinct {
            estimate: 0,
            exact: true
        }
    );
}

#[test]
fn constant_column_has_zero_variance() {
    let values: ArrayRef = Arc::new(Float64Array::from(vec![2.5; 5000]));
    let profile = profile_of(&[batch(vec![("c", values)])]);
    let c = numeric(&profile, "c");
    assert_eq!(c.variance(), Some(0.0));
    assert_eq!(
        c.distinct,
        Distinct {
            estimate: 1,
            exact: true
        }
    );
    assert_eq!(c.sketch.quantile(0.1), Some(2.5));
    assert_eq!(c.sketch.quantile(0.9), Some(2.5));
}

#[test]
fn only_non_finite_values_serialize_without_nan() {
    let values: ArrayRef = Arc::new(Float64Array::from(vec![
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        f64::MAX,
    ]));
    let profile = profile_of(&[batch(vec![("v", values)])]);
    let v = numeric(&profile, "v");
    assert_eq!((v.nan, v.pos_inf, v.neg_inf, v.finite), (1, 1, 1, 2));
    // The sum overflows f64 and is therefore not stored.
    assert_eq!(v.moments.sum, None);
    let json = serde_json::to_string(&profile).unwrap();
    assert_eq!(v.moments.max, Some(f64::MAX));
    let back: TableProfile = serde_json::from_str(&json).unwrap();
    assert_eq!(back, profile);
}

#[test]
fn decimal_exact_at_scale() {
    let values = Decimal128Array::from(vec![Some(12345), Some(-50), None, Some(1)])
        .with_precision_and_scale(10, 2)
        .unwrap();
    let profile = profile_of(&[batch(vec![("d", Arc::new(values) as ArrayRef)])]);
    let d = numeric(&profile, "d");
    assert_eq!(
        d.unit,
        ValueUnit::Decimal {
            precision: 10,
            scale: 2
        }
    );
    let exact = d.exact.as_ref().unwrap();
    assert_eq!(exact.min, "-0.50");
    assert_eq!(exact.max, "123.45");
    assert_eq!(exact.sum.as_deref(), Some("122.96"));
    assert!((d.moments.mean.unwrap() - 122.96 / 3.0).abs() < 1e-9);
    assert_eq!(
        profile.column("d").unwrap().logical_type,
        "decimal128(10, 2)"
    );
}

#[test]
fn temporal_values_in_fixed_units() {
    // 2024-03-01 is day 19783 after the epoch; 2024-03-01T12:00:00Z is 1709294400 s.
    let dates: ArrayRef = Arc::new(Date32Array::from(vec![19783, 19784]));
    let millis: ArrayRef = Arc::new(
        TimestampMillisecondArray::from(vec![1_709_294_400_000, 1_709_294_400_001])
            .with_timezone("UTC"),
    );
    let nanos: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![
        1_709_294_400_000_001_999,
        -1_500,
    ]));
    let times: ArrayRef = Arc::new(Time64MicrosecondArray::from(vec![3_600_000_000, 0]));
    let profile = profile_of(&[batch(vec![
        ("day", dates),
        ("at_utc", millis),
        ("at_local", nanos),
        ("time", times),
    ])]);
    let day = numeric(&profile, "day");
    assert_eq!(day.unit, ValueUnit::DaysSinceEpoch);
    assert_eq!(day.exact.as_ref().unwrap().min, "19783");
    let utc = numeric(&profile, "at_utc");
    assert_eq!(
        utc.unit,
        ValueUnit::MicrosSinceEpoch {
            timezone: Some("UTC".into())
        }
    );
    assert_eq!(utc.exact.as_ref().unwrap().max, "1709294400001000");
    assert_eq!(
        profile.column("at_utc").unwrap().logical_type,
        "timestamp[ms, UTC]"
    );
    let local = numeric(&profile, "at_local");
    assert_eq!(local.unit, ValueUnit::MicrosSinceEpoch { timezone: None });
    // Nanoseconds are floored to microseconds, also before the epoch.
    assert_eq!(local.exact.as_ref().unwrap().max, "1709294400000001");
    assert_eq!(local.exact.as_ref().unwrap().min, "-2");
    let time = numeric(&profile, "time");
    assert_eq!(time.unit, ValueUnit::MicrosSinceMidnight);
    assert_eq!(time.moments.max, Some(3_600_000_000.0));
}

#[test]
fn boolean_counts() {
    let flags: ArrayRef = Arc::new(BooleanArray::from(vec![
        Some(true),
        Some(false),
        None,
        Some(true),
    ]));
    let profile = profile_of(&[batch(vec![("flag", flags)])]);
    let column = profile.column("flag").unwrap();
    assert_eq!(column.nulls, 1);
    assert_eq!(
        column.stats,
        ColumnStats::Boolean(BooleanStats {
            true_count: 2,
            false_count: 1
        })
    );
}

#[test]
fn nested_list_and_struct_columns() {
    let lists: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2), Some(3)]),
        None,
        Some(vec![]),
        Some(vec![Some(4)]),
    ]));
    let a: ArrayRef = Arc::new(Int32Array::from(vec![Some(10), Some(20), None, Some(40)]));
    let b: ArrayRef = Arc::new(StringArray::from(vec!["x", "y", "z", "w"]));
    let fields = Fields::from(vec![
        Field::new("a", DataType::Int32, true),
        Field::new("b", DataType::Utf8, false),
    ]);
    // The struct itself is null in row 1, which hides a = 20 and b = "y".
    let structs: ArrayRef = Arc::new(StructArray::new(
        fields,
        vec![a, b],
        Some(vec![true, false, true, true].into()),
    ));
    let profile = profile_of(&[batch(vec![("l", lists), ("s", structs)])]);
    let names: Vec<&str> = profile.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["l", "s", "s.a", "s.b"]);
    let ColumnStats::List(list) = &profile.column("l").unwrap().stats else {
        panic!("list stats expected");
    };
    assert_eq!(list.lengths.finite, 3);
    assert_eq!(list.lengths.moments.sum, Some(4.0));
    assert_eq!(list.lengths.moments.max, Some(3.0));
    assert_eq!(profile.column("l").unwrap().nulls, 1);
    assert_eq!(
        profile.column("s").unwrap().stats,
        ColumnStats::Struct { fields: 2 }
    );
    assert_eq!(profile.column("s.a").unwrap().nulls, 2);
    assert_eq!(numeric(&profile, "s.a").moments.sum, Some(50.0));
    let b = profile.column("s.b").unwrap();
    assert_eq!(b.nulls, 1);
    assert!(b.nullable, "a child of a nullable struct is nullable");
    let ColumnStats::Categorical(cat) = &b.stats else {
        panic!("categorical expected");
    };
    assert_eq!(cat.distinct.estimate, 3);
    assert!(!cat.top.values.iter().any(|v| v.value == "y"));
}

#[test]
fn duplicate_column_names_rejected() {
    let a: ArrayRef = Arc::new(Int32Array::from(vec![1]));
    let b: ArrayRef = Arc::new(Int32Array::from(vec![2]));
    let schema = Arc::new(Schema::new(vec![
        Field::new("v", DataType::Int32, true),
        Field::new("v", DataType::Int32, true),
    ]));
    let batch = RecordBatch::try_new(schema.clone(), vec![a, b]).unwrap();
    let error = profile_batches(schema, &[batch], &ProfileOptions::default()).unwrap_err();
    assert!(matches!(error, ProfileError::DuplicateColumn { ref column } if column == "v"));
}

#[test]
fn id_like_strings() {
    let ids: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..50_000).map(|i| format!("user-{i:08}")),
    ));
    let profile = profile_of(&[batch(vec![("id", ids)])]);
    let ColumnStats::Categorical(cat) = &profile.column("id").unwrap().stats else {
        panic!("categorical expected");
    };
    assert!(!cat.distinct.exact);
    assert!((cat.distinct.estimate as f64 - 50_000.0).abs() / 50_000.0 < 0.065);
    assert!(!cat.top.exact);
    let listed: u64 = cat.top.values.iter().map(|v| v.count).sum();
    assert_eq!(listed + cat.top.other, 50_000);
    assert!(cat.top.values.len() <= 100);
    assert_eq!(cat.lengths.mean, Some(13.0));
}

#[test]
fn categorical_top_values_exact() {
    let carriers: ArrayRef = Arc::new(StringArray::from(vec![
        Some("UA"),
        Some("AA"),
        Some("UA"),
        None,
        Some("DL"),
        Some("UA"),
    ]));
    let profile = profile_of(&[batch(vec![("carrier", carriers)])]);
    let ColumnStats::Categorical(cat) = &profile.column("carrier").unwrap().stats else {
        panic!("categorical expected");
    };
    assert_eq!(
        cat.distinct,
        Distinct {
            estimate: 3,
            exact: true
        }
    );
    assert!(cat.top.exact);
    assert_eq!(
        cat.top.values[0],
        ValueCount {
            value: "UA".into(),
            count: 3
        }
    );
    assert_eq!(
        cat.top.values[1],
        ValueCount {
            value: "AA".into(),
            count: 1
        }
    );
    assert_eq!(cat.top.other, 0);
}

#[test]
fn same_input_gives_identical_json() {
    let first = serde_json::to_vec(&profile_of(&reference_batches())).unwrap();
    let second = serde_json::to_vec(&profile_of(&reference_batches())).unwrap();
    assert_eq!(first, second);
}

/// Many batches exercise the bulk sketch path and its compactions: the profile's sketch must
/// equal a sketch fed one value at a time, and repeated runs must give identical bytes.
#[test]
fn batched_sketch_equals_single_updates_and_is_deterministic() {
    let values: Vec<Option<f64>> = (0..200_000u64)
        .map(|i| match i % 50 {
            0 => None,
            1 => Some(f64::NAN),
            _ => Some(((i * 2654435761) % 1_000_003) as f64 / 3.0 - 1e5),
        })
        .collect();
    let batches: Vec<RecordBatch> = values
        .chunks(8192)
        .map(|chunk| {
            let array: ArrayRef = Arc::new(Float64Array::from(chunk.to_vec()));
            batch(vec![("v", array)])
        })
        .collect();
    let profile = profile_of(&batches);
    let ColumnStats::Numeric(stats) = &profile.columns[0].stats else {
        panic!("numeric column expected");
    };
    let mut expected = kll::KllSketch::new(kll::DEFAULT_K);
    values.iter().flatten().for_each(|&v| expected.update(v));
    expected.finish();
    assert_eq!(stats.sketch, expected);
    assert_eq!(stats.sketch.n, 200_000 - 4000 - 4000);
    let again = profile_of(&batches);
    assert_eq!(
        serde_json::to_vec(&profile).unwrap(),
        serde_json::to_vec(&again).unwrap()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Profiling two parts and merging equals profiling the whole: counts, exact ranges and
    /// distinct counts exactly, moments to rounding, sketches within their error.
    #[test]
    fn merged_profiles_equal_whole(
        values in proptest::collection::vec(proptest::option::of(-1e6f64..1e6), 1..3000),
        split in 0usize..3000,
    ) {
        let split = split.min(values.len());
        let array: ArrayRef = Arc::new(Float64Array::from(values.clone()));
        let ints: ArrayRef = Arc::new(Int64Array::from(
            values.iter().map(|v| v.map(|v| v as i64)).collect::<Vec<_>>(),
        ));
        let whole = batch(vec![("v", array), ("i", ints)]);
        let options = ProfileOptions::default();
        let mut left = TableProfiler::new(whole.schema(), &options).unwrap();
        left.update(&whole.slice(0, split)).unwrap();
        let mut right = TableProfiler::new(whole.schema(), &options).unwrap();
        right.update(&whole.slice(split, values.len() - split)).unwrap();
        left.merge(&right).unwrap();
        let merged = left.finish();
        let direct = profile_batches(whole.schema(), &[whole], &options).unwrap();
        prop_assert_eq!(merged.rows, direct.rows);
        for name in ["v", "i"] {
            let (m, d) = (numeric(&merged, name), numeric(&direct, name));
            prop_assert_eq!(merged.column(name).unwrap().nulls, direct.column(name).unwrap().nulls);
            prop_assert_eq!(m.finite, d.finite);
            prop_assert_eq!(&m.exact, &d.exact);
            prop_assert_eq!(m.distinct, d.distinct);
            prop_assert_eq!(m.moments.min, d.moments.min);
            prop_assert_eq!(m.moments.max, d.moments.max);
            if let (Some(a), Some(b)) = (m.moments.mean, d.moments.mean) {
                prop_assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()));
            }
            if let (Some(a), Some(b)) = (m.moments.m2, d.moments.m2) {
                prop_assert!((a - b).abs() <= 1e-7 * (1.0 + b.abs()));
            }
            prop_assert_eq!(m.sketch.n, d.sketch.n);
            for edge in [-5e5, 0.0, 5e5] {
                prop_assert!((m.sketch.cdf(edge) - d.sketch.cdf(edge)).abs() < 0.01);
            }
        }
    }
}

/// Builds the same rows as plain strings and as a dictionary array whose dictionary also
/// contains an unused value and a null value.
fn plain_and_dictionary(rows: &[Option<String>]) -> (ArrayRef, ArrayRef) {
    use arrow::array::DictionaryArray;
    let plain: ArrayRef = Arc::new(StringArray::from(rows.to_vec()));
    let mut dictionary: Vec<Option<String>> = vec![Some("unused".into()), None];
    let mut keys = Vec::new();
    for row in rows {
        match row {
            // Half of the nulls point at the dictionary's null value, half are null keys.
            None if keys.len() % 2 == 0 => keys.push(Some(1)),
            None => keys.push(None),
            Some(value) => {
                let key = match dictionary.iter().position(|v| v.as_ref() == Some(value)) {
                    Some(key) => key,
                    None => {
                        dictionary.push(Some(value.clone()));
                        dictionary.len() - 1
                    }
                };
                keys.push(Some(key as i32));
            }
        }
    }
    let encoded = DictionaryArray::<Int32Type>::try_new(
        keys.into_iter().collect(),
        Arc::new(StringArray::from(dictionary)),
    )
    .unwrap();
    (plain, Arc::new(encoded))
}

/// Profiles `array` in batches of `rows` (a dictionary array is counted by key only when its
/// dictionary is no larger than the batch).
fn profile_json(array: ArrayRef, rows: usize, options: &ProfileOptions) -> Vec<u8> {
    let logical = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, true)]));
    let mut profiler = TableProfiler::new(logical, options).unwrap();
    for start in (0..array.len()).step_by(rows) {
        let part = array.slice(start, rows.min(array.len() - start));
        let batch = RecordBatch::try_from_iter([("s", part)]).unwrap();
        profiler.update(&batch).unwrap();
    }
    serde_json::to_vec(&profiler.finish()).unwrap()
}

#[test]
fn dictionary_profile_equals_plain() {
    // 40 values with skewed counts: counted by key while the frequent-value counts are exact.
    let rows: Vec<Option<String>> = (0..5000u64)
        .map(|i| (i % 13 != 0).then(|| format!("v{}", (i * i) % 40)))
        .collect();
    let (plain, encoded) = plain_and_dictionary(&rows);
    let options = ProfileOptions::default();
    let json = profile_json(plain, 1000, &options);
    assert_eq!(json, profile_json(encoded, 1000, &options));
    let profile: TableProfile = serde_json::from_slice(&json).unwrap();
    let column = profile.column("s").unwrap();
    assert_eq!(column.nulls, 385); // ceil(5000 / 13)
    let ColumnStats::Categorical(cat) = &column.stats else {
        panic!("categorical expected");
    };
    assert!(cat.top.exact);
}

#[test]
fn dictionary_estimates_equal_plain() {
    // 3000 distinct values against a tracking limit of 200: counts become estimates, and the
    // dictionary path must feed the tracker in row order to give the same estimates.
    let rows: Vec<Option<String>> = (0..20_000u64)
        .map(|i| (i % 7 != 3).then(|| format!("id-{}", (i * 7919) % 3000)))
        .collect();
    let (plain, encoded) = plain_and_dictionary(&rows);
    let options = ProfileOptions {
        top_values: 20,
        top_values_tracking: 200,
        ..ProfileOptions::default()
    };
    let json = profile_json(plain.clone(), 5000, &options);
    assert_eq!(json, profile_json(encoded.clone(), 5000, &options));
    // Batches smaller than the dictionary take the value-by-value path instead.
    assert_eq!(json, profile_json(encoded, 1000, &options));
    let profile: TableProfile = serde_json::from_slice(&json).unwrap();
    let ColumnStats::Categorical(cat) = &profile.column("s").unwrap().stats else {
        panic!("categorical expected");
    };
    assert!(!cat.top.exact);
    assert_eq!(cat.distinct.estimate, 3000);
}

#[test]
fn string_length_moments_exact() {
    // Lengths 1, 2, 2, 3, 3, 3 (one null skipped): mean 14/6, M2 = Σx² − (Σx)²/n
    // = 36 − 196/6 = 10/3.
    let values: ArrayRef = Arc::new(StringArray::from(vec![
        Some("a"),
        Some("bb"),
        None,
        Some("cc"),
        Some("ddd"),
        Some("eee"),
        Some("fff"),
    ]));
    let profile = profile_of(&[batch(vec![("s", values)])]);
    let ColumnStats::Categorical(cat) = &profile.column("s").unwrap().stats else {
        panic!("categorical expected");
    };
    assert_eq!(cat.lengths.sum, Some(14.0));
    assert_eq!(cat.lengths.mean, Some(14.0 / 6.0));
    assert_eq!(cat.lengths.m2, Some(20.0 / 6.0));
    assert_eq!((cat.lengths.min, cat.lengths.max), (Some(1.0), Some(3.0)));
}

#[test]
fn integer_distinct_count_exact() {
    // The 64-bit mixer is a bijection, so values that differ only in high bits stay distinct.
    let values: ArrayRef = Arc::new(Int64Array::from_iter_values((0..4000i64).map(|i| i << 40)));
    let profile = profile_of(&[batch(vec![("v", values)])]);
    assert_eq!(
        numeric(&profile, "v").distinct,
        Distinct {
            estimate: 4000,
            exact: true
        }
    );
}

#[test]
fn distinct_estimate_capped_at_count() {
    use super::hll::{DistinctSketch, hash_u64};
    // Find a count whose HyperLogLog estimate overshoots (estimates scatter by about 1.6 %
    // either way), then profile exactly those values: the stored estimate must not exceed
    // the number of values.
    let overshooting = (4100..8000u64).find(|&n| {
        let mut sketch = DistinctSketch::new();
        sketch.insert_hashes((0..n).map(hash_u64));
        sketch.distinct().estimate > n
    });
    let n = overshooting.expect("some count between 4100 and 8000 overshoots");
    let values: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n as i64));
    let profile = profile_of(&[batch(vec![("v", values)])]);
    let distinct = numeric(&profile, "v").distinct;
    assert!(!distinct.exact);
    assert_eq!(distinct.estimate, n);
}
