//! End-to-end tests of `compare`, the renderers and `--fail-on` rules on a temporary store.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{Field, Schema};
use chrono::{TimeZone, Utc};

use super::compare::{CompareOptions, compare, score_samples};
use super::drift::{DriftOptions, DriftStatus, Metric};
use super::gate::{evaluate, parse_rules, rule_texts};
use super::render::{NoPaint, render_json, render_markdown, render_stat, render_text};
use super::report::{Category, Severity};
use super::sample::tests::{flights, sample_from_csv};
use crate::evidence::EvidenceRecord as TypedRecord;
use crate::evidence::golden::{GoldenRecord, GoldenSource, ResultTable, Tolerance, Tolerances};
use crate::evidence::metrics::MetricsRecord;
use crate::evidence::schema::FieldRecord;
use crate::id::ObjectId;
use crate::manifest::{EvidenceItem, EvidenceRecord, ItemKind, RECORD_SCHEMA};
use crate::object::{Commit, EntryType, ObjectKind, Provenance, Tree, TreeEntry};
use crate::repo_path::RepoPath;
use crate::store::Store;

struct Repo {
    _dir: tempfile::TempDir,
    store: Store,
}

fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(&dir.path().join("objects")).unwrap();
    Repo { _dir: dir, store }
}

/// Files given as (name, bytes); items as (name, kind, path, record).
fn snapshot(
    store: &Store,
    files: &[(&str, Vec<u8>)],
    items: Vec<(&str, ItemKind, &str, TypedRecord)>,
) -> ObjectId {
    let mut entries: Vec<TreeEntry> = files
        .iter()
        .map(|(name, bytes)| TreeEntry {
            name: (*name).to_owned(),
            entry_type: EntryType::File,
            id: store.write_bytes(ObjectKind::Blob, bytes).unwrap(),
            size: bytes.len() as u64,
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let tree = store
        .write_json(ObjectKind::Tree, &Tree { entries })
        .unwrap();
    let items: Vec<EvidenceItem> = items
        .into_iter()
        .map(|(name, kind, path, record)| EvidenceItem {
            name: name.to_owned(),
            kind,
            paths: vec![RepoPath::new(path).unwrap()],
            record: Some(store.write_json(ObjectKind::Record, &record).unwrap()),
        })
        .collect();
    let manifest = EvidenceRecord {
        schema: RECORD_SCHEMA.to_owned(),
        items,
    };
    let evidence = store.write_json(ObjectKind::Record, &manifest).unwrap();
    let commit = Commit {
        tree,
        parents: Vec::new(),
        author: "test".into(),
        time: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        message: "snapshot".into(),
        labels: BTreeMap::new(),
        provenance: Provenance::default(),
        evidence: Some(evidence),
    };
    store.write_json(ObjectKind::Commit, &commit).unwrap()
}

fn metrics(auc: f64) -> TypedRecord {
    TypedRecord::Metrics(MetricsRecord {
        format: 1,
        files: vec!["metrics.json".into()],
        values: [("auc".to_owned(), auc)].into_iter().collect(),
        non_finite: BTreeMap::new(),
        non_numeric: BTreeMap::new(),
    })
}

fn parquet(ids: &[i64], values: &[f64]) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", arrow::datatypes::DataType::Int64, false),
        Field::new("v", arrow::datatypes::DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.to_vec())),
        Arc::new(Float64Array::from(values.to_vec())),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut buf = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    buf
}

fn golden(bytes: &[u8], rows: u64, blob_id: Option<ObjectId>) -> TypedRecord {
    let field = |name: &str, t: &str| FieldRecord {
        name: name.into(),
        logical_type: t.into(),
        nullable: false,
        children: Vec::new(),
        categories: None,
    };
    TypedRecord::Golden(GoldenRecord {
        format: 1,
        query: None,
        query_file: None,
        source: GoldenSource::File {
            path: "result.parquet".into(),
        },
        failed: false,
        result: Some(ResultTable {
            blob: "result.parquet".into(),
            rows,
            schema: vec![field("id", "int64"), field("v", "float64")],
            blake3: blake3::hash(bytes).to_hex().to_string(),
            blob_id,
        }),
        key_columns: vec!["id".into()],
        tolerance: Tolerances {
            default: Tolerance {
                absolute: 0.01,
                relative: 0.0,
            },
            columns: BTreeMap::new(),
        },
    })
}

/// Two commits: the candidate changes metrics, a file, the golden table and the sample.
fn pair(store: &Store) -> (ObjectId, ObjectId) {
    let base_table = parquet(&[1, 2, 3], &[1.0, 2.0, 3.0]);
    let cand_table = parquet(&[1, 2, 4], &[1.001, 2.5, 4.0]);
    let base_sample = sample_from_csv(&flights(&[("AA", 200, 10.0), ("UA", 100, 12.0)]));
    let cand_sample = sample_from_csv(&flights(&[("AA", 200, 10.0), ("UA", 100, 724.0)]));
    let a = snapshot(
        store,
        &[
            ("notes.txt", b"hello\n".to_vec()),
            ("old.txt", b"same\n".to_vec()),
            ("result.parquet", base_table.clone()),
        ],
        vec![
            ("eval", ItemKind::Metrics, "metrics.json", metrics(0.80)),
            (
                "daily",
                ItemKind::Golden,
                "result.parquet",
                golden(&base_table, 3, None),
            ),
            (
                "flights",
                ItemKind::Sample,
                "flights.csv",
                TypedRecord::Sample(base_sample),
            ),
        ],
    );
    // The candidate's table is found through the stored blob, the base's through the tree.
    let cand_blob = store.write_bytes(ObjectKind::Blob, &cand_table).unwrap();
    let b = snapshot(
        store,
        &[
            ("notes.txt", b"hello, world\n".to_vec()),
            ("renamed.txt", b"same\n".to_vec()),
            ("result.parquet", b"stale".to_vec()),
        ],
        vec![
            ("eval", ItemKind::Metrics, "metrics.json", metrics(0.75)),
            (
                "daily",
                ItemKind::Golden,
                "result.parquet",
                golden(&cand_table, 3, Some(cand_blob)),
            ),
            (
                "flights",
                ItemKind::Sample,
                "flights.csv",
                TypedRecord::Sample(cand_sample),
            ),
        ],
    );
    (a, b)
}

#[test]
fn commit_with_itself_is_empty() {
    let r = repo();
    let (a, _) = pair(&r.store);
    let report = compare(&r.store, &a, &a, &CompareOptions::default()).unwrap();
    assert!(report.is_empty());
    assert!(render_text(&report, &NoPaint).contains("no differences"));
}

#[test]
fn finds_every_category() {
    let r = repo();
    let (a, b) = pair(&r.store);
    let report = compare(&r.store, &a, &b, &CompareOptions::default()).unwrap();
    let has = |cat: Category, kind: &str, path: &str| {
        report
            .changes
            .iter()
            .any(|c| c.category == cat && c.kind == kind && c.path == path)
    };
    assert!(has(Category::File, "modified", "notes.txt"), "{report:#?}");
    assert!(has(Category::File, "renamed", "renamed.txt"));
    assert!(has(Category::Metric, "changed", "auc"));
    assert!(has(Category::Golden, "rows", ""));
    assert!(has(Category::Drift, "drift", "dep_delay"));
    assert!(has(Category::Slice, "mean:dep_delay", "carrier=UA"));
    // Golden: id 3 removed, 4 added, id 2 changed; id 1 within tolerance.
    let golden = report
        .changes
        .iter()
        .find(|c| c.category == Category::Golden)
        .unwrap();
    match &golden.detail {
        super::report::Detail::Golden(t) => {
            assert_eq!((t.rows_added, t.rows_removed, t.rows_changed), (1, 1, 1));
            assert_eq!(t.rows_within_tolerance, 1);
        }
        other => panic!("unexpected detail {other:?}"),
    }
    // Most severe first: golden (high) before drift (medium) before metric (low).
    let severities: Vec<Severity> = report.changes.iter().map(|c| c.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(severities, sorted);
    assert_eq!(report.changes[0].category, Category::Golden);
}

#[test]
fn swapping_sides_swaps_added_and_removed() {
    let r = repo();
    let (a, b) = pair(&r.store);
    let ab = compare(&r.store, &a, &b, &CompareOptions::default()).unwrap();
    let ba = compare(&r.store, &b, &a, &CompareOptions::default()).unwrap();
    let kinds = |rep: &super::report::DiffReport, kind: &str| -> Vec<String> {
        rep.changes
            .iter()
            .filter(|c| c.category == Category::File && c.kind == kind)
            .map(|c| c.path.clone())
            .collect()
    };
    assert_eq!(kinds(&ab, "renamed"), vec!["renamed.txt"]);
    assert_eq!(kinds(&ba, "renamed"), vec!["old.txt"]);
    let golden = |rep: &super::report::DiffReport| match &rep
        .changes
        .iter()
        .find(|c| c.category == Category::Golden)
        .unwrap()
        .detail
    {
        super::report::Detail::Golden(t) => (t.rows_added, t.rows_removed),
        _ => unreachable!("golden changes carry table details"),
    };
    let (added, removed) = golden(&ab);
    assert_eq!(golden(&ba), (removed, added));
    assert_eq!(ab.changes.len(), ba.changes.len());
}

#[test]
fn output_is_byte_identical() {
    let r = repo();
    let (a, b) = pair(&r.store);
    let one = compare(&r.store, &a, &b, &CompareOptions::default()).unwrap();
    let two = compare(&r.store, &a, &b, &CompareOptions::default()).unwrap();
    assert_eq!(render_json(&one), render_json(&two));
    assert_eq!(render_text(&one, &NoPaint), render_text(&two, &NoPaint));
    assert_eq!(render_markdown(&one), render_markdown(&two));
    let json: serde_json::Value = serde_json::from_str(&render_json(&one)).unwrap();
    assert_eq!(json["schema"], "ev.diff/1");
    assert!(render_stat(&one).lines().count() == one.changes.len() + 1);
}

#[test]
fn path_filter_restricts_items() {
    let r = repo();
    let (a, b) = pair(&r.store);
    let options = CompareOptions {
        paths: vec!["eval".into()],
        ..CompareOptions::default()
    };
    let report = compare(&r.store, &a, &b, &options).unwrap();
    assert!(!report.changes.is_empty());
    assert!(
        report.changes.iter().all(|c| c.item == "eval"),
        "{report:#?}"
    );

    let by_path = CompareOptions {
        paths: vec!["notes.txt".into()],
        ..CompareOptions::default()
    };
    let report = compare(&r.store, &a, &b, &by_path).unwrap();
    assert_eq!(report.changes.len(), 1, "{report:#?}");
    assert_eq!(report.changes[0].path, "notes.txt");

    // An item filter keeps the item's own files.
    let by_item = CompareOptions {
        paths: vec!["daily".into()],
        ..CompareOptions::default()
    };
    let report = compare(&r.store, &a, &b, &by_item).unwrap();
    assert!(
        report
            .changes
            .iter()
            .any(|c| c.category == Category::File && c.path == "result.parquet"),
        "{report:#?}"
    );
    assert!(
        report.changes.iter().all(|c| c.item == "daily"),
        "{report:#?}"
    );
}

#[test]
fn fail_on_rules() {
    let r = repo();
    let (a, b) = pair(&r.store);
    let report = compare(&r.store, &a, &b, &CompareOptions::default()).unwrap();
    let run = |text: &str| {
        let rules = parse_rules(text).unwrap();
        evaluate(&rules, &rule_texts(text), &report)
    };
    assert!(!run("golden").is_empty());
    assert!(run("schema").is_empty());
    assert!(!run("drift:psi>0.2").is_empty());
    assert!(!run("drift:flights.dep_delay:ks>=0.2").is_empty());
    assert!(run("drift:flights.carrier:psi>0.2").is_empty());
    // auc 0.80 → 0.75: a drop of 0.05 (6.25%).
    let failures = run("metric:eval.auc<-0.02");
    assert_eq!(failures.len(), 1);
    assert!(failures[0].reason.contains("0.8 → 0.75"), "{failures:?}");
    assert!(run("metric:auc<-0.1").is_empty());
    assert!(!run("metric:auc<-5%").is_empty());
    assert!(run("metric:auc<-7%").is_empty());
}

#[test]
fn fail_on_syntax_errors() {
    assert!(parse_rules("").is_err());
    assert!(parse_rules("bogus").is_err());
    assert!(parse_rules("drift:psi").is_err());
    assert!(parse_rules("drift:foo>1").is_err());
    assert!(parse_rules("metric:auc<abc").is_err());
    assert!(parse_rules("golden:x").is_err());
    assert_eq!(
        parse_rules("schema, golden,drift:psi>0.2").unwrap().len(),
        3
    );
}

#[test]
fn bisect_scores() {
    let r = repo();
    let (a, b) = pair(&r.store);
    let scores = score_samples(&r.store, &a, &b, &[], &DriftOptions::default()).unwrap();
    assert_eq!(scores.len(), 1);
    let flights = &scores[0];
    let delay = flights
        .columns
        .iter()
        .find(|c| c.column == "dep_delay")
        .unwrap();
    assert_eq!(delay.status, DriftStatus::Changed);
    assert!(super::compare::column_score(flights, "dep_delay", Metric::Psi).unwrap() > 0.1);
    let ua = flights
        .slices
        .iter()
        .find(|s| s.slice_value.as_deref() == Some("UA") && s.drift.column == "dep_delay")
        .unwrap();
    assert_eq!(ua.drift.status, DriftStatus::Changed);
    let same = score_samples(&r.store, &a, &a, &[], &DriftOptions::default()).unwrap();
    assert!(
        same[0]
            .columns
            .iter()
            .all(|c| c.status == DriftStatus::Unchanged)
    );
}

#[test]
fn golden_type_change_reported_once() {
    let r = repo();
    let base_table = parquet(&[1, 2, 3], &[1.0, 2.0, 3.0]);
    // The candidate stores v as strings: an incompatible type change on every row.
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", arrow::datatypes::DataType::Int64, false),
        Field::new("v", arrow::datatypes::DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![1i64, 2, 4])),
        Arc::new(arrow::array::StringArray::from(vec!["1", "2", "4"])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut cand_table = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut cand_table, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();

    let mut cand_record = golden(&cand_table, 3, None);
    if let TypedRecord::Golden(g) = &mut cand_record
        && let Some(result) = &mut g.result
    {
        result.schema[1].logical_type = "utf8".into();
    }
    let a = snapshot(
        &r.store,
        &[("result.parquet", base_table.clone())],
        vec![(
            "daily",
            ItemKind::Golden,
            "result.parquet",
            golden(&base_table, 3, None),
        )],
    );
    let b = snapshot(
        &r.store,
        &[("result.parquet", cand_table)],
        vec![("daily", ItemKind::Golden, "result.parquet", cand_record)],
    );
    let report = compare(&r.store, &a, &b, &CompareOptions::default()).unwrap();

    let schema_changes: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.category == Category::Schema)
        .collect();
    assert_eq!(schema_changes.len(), 1, "{report:#?}");
    assert_eq!(schema_changes[0].kind, "type_changed");
    assert_eq!(schema_changes[0].severity, Severity::Breaking);

    let golden = report
        .changes
        .iter()
        .find(|c| c.category == Category::Golden)
        .unwrap();
    match &golden.detail {
        super::report::Detail::Golden(t) => {
            // Only key 3 → 4 differs; rows 1 and 2 still match on the shared key column.
            assert_eq!((t.rows_added, t.rows_removed, t.rows_changed), (1, 1, 0));
            assert_eq!(t.rows_unchanged, 2);
            assert_eq!(t.compared_columns, vec!["id"]);
        }
        other => panic!("unexpected detail {other:?}"),
    }
}

#[test]
fn tensor_text_shows_plain_shape() {
    use super::compare::tensor_text;

    assert_eq!(tensor_text("F64", Some(&[3])), "F64 [3]");
    assert_eq!(tensor_text("F32", Some(&[2, 3])), "F32 [2, 3]");
    assert_eq!(tensor_text("F32", Some(&[])), "F32 []");
    assert_eq!(tensor_text("I64", None), "I64");
}

#[test]
fn unknown_path_filter_is_error() {
    let r = repo();
    let (a, b) = pair(&r.store);
    let misspelled = CompareOptions {
        paths: vec!["notes.txtt".into()],
        ..CompareOptions::default()
    };
    let error = compare(&r.store, &a, &b, &misspelled).expect_err("no such path or item");
    assert!(
        matches!(&error, super::compare::DiffError::UnknownPath { path, .. } if path == "notes.txtt"),
        "{error}"
    );

    // A folder named with a trailing slash, and the root, still select.
    for path in ["notes.txt", "daily", "/"] {
        let options = CompareOptions {
            paths: vec![path.into()],
            ..CompareOptions::default()
        };
        assert!(compare(&r.store, &a, &b, &options).is_ok(), "{path}");
    }
}
