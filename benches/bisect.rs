//! Benchmark of `ev bisect` (run with `cargo bench --bench bisect`; release profile).
//!
//! 1. Built-in predicate bisect over a linear history of 10,000 commits with a metrics item:
//!    `ev bisect start` + `ev bisect run --check 'metric eval.mae > 12.5'`, timed end to end, and
//!    the number of predicate evaluations against ⌈log2 n⌉.
//! 2. Auto mode over 1,000 commits (plus 30 reference commits) with 50 evidence items: 45 metrics
//!    items with noise and 5 sliced flight samples, one of which shifts in one slice.
//!
//! Histories are written through the library; the timed part runs the release `ev` binary.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::DateTime;
use ev::evidence::{CaptureContext, EvidenceRecord as TypedRecord, Kind, MetricsRecord, capture};
use ev::id::ObjectId;
use ev::manifest::{EvidenceItem, EvidenceRecord as Manifest, ItemKind, RECORD_SCHEMA};
use ev::object::{Commit, ObjectKind, Provenance, Tree};
use ev::refs::{Expected, RefName, RefStore, Signature};
use ev::store::Store;

const EV: &str = env!("CARGO_BIN_EXE_ev");

fn ev(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(EV)
        .args(args)
        .current_dir(dir)
        .env("EV_COMMIT_TIME", "2026-02-01T00:00:00Z")
        .env_remove("EV_DIR")
        .env_remove("EV_WORK_TREE")
        .output()
        .unwrap()
}

struct Builder {
    store: Store,
    refs: RefStore,
    tree: ObjectId,
    clock: i64,
    last: Option<ObjectId>,
}

impl Builder {
    fn new(dir: &Path) -> Self {
        assert!(ev(dir, &["init"]).status.success());
        let store = Store::open(&dir.join(".ev/objects")).unwrap();
        let tree = store
            .write_json(ObjectKind::Tree, &Tree::default())
            .unwrap();
        Builder {
            refs: RefStore::new(&dir.join(".ev")),
            store,
            tree,
            clock: 1_767_225_600,
            last: None,
        }
    }

    fn record(&self, record: &TypedRecord) -> ObjectId {
        self.store.write_json(ObjectKind::Record, record).unwrap()
    }

    fn commit(&mut self, items: Vec<EvidenceItem>) -> ObjectId {
        let manifest = Manifest {
            schema: RECORD_SCHEMA.into(),
            items,
        };
        let evidence = self
            .store
            .write_json(ObjectKind::Record, &manifest)
            .unwrap();
        self.clock += 60;
        let commit = Commit {
            tree: self.tree,
            parents: self.last.into_iter().collect(),
            author: "bench".into(),
            time: DateTime::from_timestamp(self.clock, 0).unwrap(),
            message: format!("snapshot at {}", self.clock),
            labels: BTreeMap::new(),
            provenance: Provenance::default(),
            evidence: Some(evidence),
        };
        let id = self.store.write_json(ObjectKind::Commit, &commit).unwrap();
        self.last = Some(id);
        id
    }

    fn tag(&self, name: &str, id: ObjectId) {
        let signature = Signature {
            who: "bench".into(),
            time: DateTime::from_timestamp(self.clock, 0).unwrap(),
        };
        self.refs
            .update(
                &RefName::tag(name).unwrap(),
                Expected::Any,
                id,
                &signature,
                "bench",
            )
            .unwrap();
    }
}

fn metrics_item(builder: &Builder, name: &str, values: &[(&str, f64)]) -> EvidenceItem {
    let record = TypedRecord::Metrics(MetricsRecord {
        format: 1,
        values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        ..MetricsRecord::default()
    });
    EvidenceItem {
        name: name.into(),
        kind: ItemKind::Metrics,
        paths: Vec::new(),
        record: Some(builder.record(&record)),
    }
}

/// Whether this run is `cargo bench` (which passes `--bench`) rather than the smoke run that
/// `cargo test --all-targets` makes of every bench target; the smoke run uses a smaller history
/// so the test suite stays fast on a 2-core CI machine.
fn full_size() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

fn predicate_bisect() {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = Builder::new(dir.path());
    let n: usize = std::env::var("EV_BENCH_COMMITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full_size() { 10_000 } else { 1_000 });
    let change = n * 6173 / 10_000;
    let started = Instant::now();
    let mut first = None;
    for i in 0..n {
        let mae = if i >= change { 14.0 } else { 11.0 };
        let item = metrics_item(&builder, "eval", &[("mae", mae)]);
        let id = builder.commit(vec![item]);
        first.get_or_insert(id);
        if i == change {
            builder.tag("expected", id);
        }
    }
    builder.tag("good", first.unwrap());
    builder.tag("bad", builder.last.unwrap());
    println!(
        "predicate bisect: built {n} commits in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let start = ev(dir.path(), &["bisect", "start", "bad", "good"]);
    let start_elapsed = started.elapsed().as_secs_f64();
    assert!(
        start.status.success(),
        "{}",
        String::from_utf8_lossy(&start.stderr)
    );
    println!(
        "predicate bisect: `ev bisect start` (walks and caches the {n}-commit graph) {start_elapsed:.3} s"
    );
    let started = Instant::now();
    let output = ev(
        dir.path(),
        &[
            "bisect",
            "run",
            "--json",
            "--check",
            "metric eval.mae > 12.5",
        ],
    );
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected = String::from_utf8(ev(dir.path(), &["rev-parse", "expected"]).stdout).unwrap();
    assert_eq!(report["first_bad"]["id"].as_str(), Some(expected.trim()));
    let evaluations = report["steps"].as_array().unwrap().len();
    let bound = (usize::BITS - (n - 2).leading_zeros()) as usize;
    println!(
        "predicate bisect: {n} commits, `ev bisect run --check` {elapsed:.3} s, {evaluations} predicate evaluations (ceil(log2 {}) = {bound})",
        n - 1
    );
}

/// Builds a flights CSV of 2,000 rows in which UA is a 10% slice with `shift` minutes added to
/// its delays. Ten percent and a 3σ shift keep the change above the slice-share rule of auto mode.
fn flights_csv(seed: u64, shift: f64) -> String {
    let mut state = seed;
    let mut uniform = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut csv = String::from("carrier,dep_delay,distance\n");
    for row in 0..2000 {
        let carrier = match row % 20 {
            0 | 10 => "UA",
            1..=9 => "AA",
            _ => "DL",
        };
        let (u1, u2) = (uniform(), uniform());
        let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let delay = 10.0 + 5.0 * normal + if carrier == "UA" { shift } else { 0.0 };
        let distance = 500 + (uniform() * 1500.0) as u32;
        csv.push_str(&format!("{carrier},{delay:.2},{distance}\n"));
    }
    csv
}

fn sample_record(seed: u64, shift: f64) -> TypedRecord {
    let workspace = tempfile::tempdir().unwrap();
    let file = workspace.path().join("flights.csv");
    std::fs::write(&file, flights_csv(seed, shift)).unwrap();
    let mut table = toml::Table::new();
    table.insert(
        "slice_by".into(),
        toml::Value::Array(vec!["carrier".into()]),
    );
    let interrupt = AtomicBool::new(false);
    let context = CaptureContext {
        interrupt: &interrupt,
        allow_failed: false,
        timeout: None,
        redact_key: None,
    };
    capture(Kind::Sample, &table, workspace.path(), &[file], &context)
        .unwrap()
        .record
}

fn auto_mode() {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = Builder::new(dir.path());
    let (reference, searched, change) = (30usize, 1_000usize, 700usize);
    let started = Instant::now();
    // Noise comes from a pool of 64 draws per item, so equal records are stored once.
    let pool = 64u64;
    let mut samples: BTreeMap<(usize, u64, bool), ObjectId> = BTreeMap::new();
    let mut good = None;
    for i in 0..reference + searched {
        let mut items = Vec::new();
        for m in 0..45usize {
            let draw = ((i as u64 * 2_654_435_761 + m as u64 * 40_503) % pool) as f64;
            let mae = 10.0 + (draw - 7.5) / 40.0;
            let auc = 0.8 + (draw - 7.5) / 1000.0;
            items.push(metrics_item(
                &builder,
                &format!("model{m:02}"),
                &[("mae", mae), ("auc", auc)],
            ));
        }
        for s in 0..5usize {
            let seed = (i as u64 * 7 + s as u64 * 13) % pool + 100 * s as u64;
            let shifted = s == 2 && i >= reference + change;
            let id = *samples.entry((s, seed, shifted)).or_insert_with(|| {
                builder.record(&sample_record(seed, if shifted { 15.0 } else { 0.0 }))
            });
            items.push(EvidenceItem {
                name: format!("flights{s}"),
                kind: ItemKind::Sample,
                paths: Vec::new(),
                record: Some(id),
            });
        }
        let id = builder.commit(items);
        if i + 1 == reference {
            good = Some(id);
        }
        if i == reference + change {
            builder.tag("expected", id);
        }
    }
    builder.tag("good", good.unwrap());
    builder.tag("bad", builder.last.unwrap());
    println!(
        "auto mode: built {} commits with 50 items in {:.1} s",
        reference + searched,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let output = ev(dir.path(), &["bisect", "auto", "--json", "good", "bad"]);
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected = String::from_utf8(ev(dir.path(), &["rev-parse", "expected"]).stdout).unwrap();
    let first = &report["first_change"];
    println!(
        "auto mode: {} commits searched, {elapsed:.2} s, {} oracle evaluations, {} commit comparisons, first change {} {}.{} [{}] (expected {})",
        report["commits_searched"],
        report["evaluations"],
        report["comparisons"],
        first["commit"]["id"]
            .as_str()
            .unwrap_or("none")
            .get(..12)
            .unwrap_or("none"),
        first["item"].as_str().unwrap_or("?"),
        first["column"].as_str().unwrap_or("?"),
        first["slice"].as_str().unwrap_or("-"),
        &expected.trim()[..12],
    );
    println!(
        "auto mode: {} items unchanged, {} findings in the timeline; first change {} commits after good (expected {})",
        report["unchanged"],
        report["timeline"].as_array().map_or(0, Vec::len),
        first["commits_after_good"],
        change + 1
    );
    if std::env::var_os("EV_BENCH_VERBOSE").is_some() {
        for f in report["timeline"].as_array().unwrap() {
            println!(
                "  +{} {}.{} [{}] {} {} score {} floor {}",
                f["commits_after_good"],
                f["item"],
                f["column"],
                f["slice"],
                f["statistic"],
                f["status"],
                f["score"],
                f["noise"]["floor"]
            );
        }
    }
}

fn main() {
    if std::env::var_os("EV_BENCH_SKIP_PREDICATE").is_none() {
        predicate_bisect();
    }
    if std::env::var_os("EV_BENCH_SKIP_AUTO").is_none() {
        auto_mode();
    }
}
