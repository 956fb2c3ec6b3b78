//! Integration tests of `ev bisect` on temporary repositories whose commits are written through
//! the library (so merges and typed evidence can be built without the snapshot command).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{DateTime, Utc};
use std::sync::atomic::AtomicBool;

use ev::evidence::{CaptureContext, EvidenceRecord as TypedRecord, Kind, MetricsRecord, capture};
use ev::id::ObjectId;
use ev::manifest::{EvidenceItem, EvidenceRecord as Manifest, ItemKind, RECORD_SCHEMA};
use ev::object::{Commit, EntryType, GitProvenance, ObjectKind, Provenance, Tree, TreeEntry};
use ev::refs::{Expected, RefName, RefStore, Signature};
use ev::store::Store;

struct TestRepo {
    dir: tempfile::TempDir,
    store: Store,
    refs: RefStore,
    clock: i64,
}

/// What one synthetic commit holds.
#[derive(Default)]
struct Snapshot<'a> {
    files: Vec<(&'a str, Vec<u8>)>,
    metrics: Option<BTreeMap<String, f64>>,
    /// CSV text of a sample item `flights`, profiled with slices by `carrier`.
    sample: Option<String>,
    code: Option<String>,
}

impl TestRepo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Command::cargo_bin("ev")
            .unwrap()
            .arg("init")
            .current_dir(dir.path())
            .env("EV_COMMIT_TIME", "2026-01-01T00:00:00Z")
            .assert()
            .success();
        let ev_dir = dir.path().join(".ev");
        let store = Store::open(&ev_dir.join("objects")).unwrap();
        let refs = RefStore::new(&ev_dir);
        TestRepo {
            dir,
            store,
            refs,
            clock: 1_767_225_600,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn ev(&self) -> Command {
        let mut cmd = Command::cargo_bin("ev").unwrap();
        cmd.current_dir(self.path())
            .env("EV_COMMIT_TIME", "2026-02-01T00:00:00Z")
            .env_remove("EV_DIR")
            .env_remove("EV_WORK_TREE");
        cmd
    }

    /// Writes a commit and points tag `name` at it.
    fn commit(&mut self, name: &str, parents: &[ObjectId], snapshot: Snapshot<'_>) -> ObjectId {
        let mut entries = Vec::new();
        for (file, bytes) in &snapshot.files {
            let id = self.store.write_bytes(ObjectKind::Blob, bytes).unwrap();
            entries.push(TreeEntry {
                name: (*file).to_owned(),
                entry_type: EntryType::File,
                id,
                size: bytes.len() as u64,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let tree = self
            .store
            .write_json(ObjectKind::Tree, &Tree { entries })
            .unwrap();
        let mut items = Vec::new();
        if let Some(values) = snapshot.metrics {
            let record = TypedRecord::Metrics(MetricsRecord {
                format: 1,
                values,
                ..MetricsRecord::default()
            });
            items.push(EvidenceItem {
                name: "eval".into(),
                kind: ItemKind::Metrics,
                paths: Vec::new(),
                record: Some(self.store.write_json(ObjectKind::Record, &record).unwrap()),
            });
        }
        if let Some(csv) = snapshot.sample {
            let workspace = tempfile::tempdir().unwrap();
            let file = workspace.path().join("flights.csv");
            std::fs::write(&file, csv).unwrap();
            let mut table = toml::Table::new();
            table.insert(
                "slice_by".into(),
                toml::Value::Array(vec!["carrier".into()]),
            );
            let interrupt = AtomicBool::new(false);
            let captured = capture(
                Kind::Sample,
                &table,
                workspace.path(),
                &[file],
                &CaptureContext {
                    interrupt: &interrupt,
                    allow_failed: false,
                    timeout: None,
                    redact_key: None,
                },
            )
            .unwrap();
            items.push(EvidenceItem {
                name: "flights".into(),
                kind: ItemKind::Sample,
                paths: Vec::new(),
                record: Some(
                    self.store
                        .write_json(ObjectKind::Record, &captured.record)
                        .unwrap(),
                ),
            });
        }
        let evidence = (!items.is_empty()).then(|| {
            let manifest = Manifest {
                schema: RECORD_SCHEMA.to_owned(),
                items,
            };
            self.store
                .write_json(ObjectKind::Record, &manifest)
                .unwrap()
        });
        self.clock += 3600;
        let commit = Commit {
            tree,
            parents: parents.to_vec(),
            author: "CI <ci@example.com>".into(),
            time: DateTime::<Utc>::from_timestamp(self.clock, 0).unwrap(),
            message: format!("snapshot {name}"),
            labels: BTreeMap::new(),
            provenance: Provenance {
                git: snapshot.code.map(|c| GitProvenance {
                    commit: Some(c),
                    branch: Some("main".into()),
                    dirty: false,
                }),
                ci: None,
            },
            evidence,
        };
        let id = self.store.write_json(ObjectKind::Commit, &commit).unwrap();
        let signature = Signature {
            who: "test".into(),
            time: commit.time,
        };
        self.refs
            .update(
                &RefName::tag(name).unwrap(),
                Expected::Any,
                id,
                &signature,
                "test",
            )
            .unwrap();
        self.refs
            .update(
                &RefName::branch("main").unwrap(),
                Expected::Any,
                id,
                &signature,
                "test",
            )
            .unwrap();
        id
    }

    /// A linear history c0..c{n-1} whose file `value` contains the commit number.
    fn linear(&mut self, n: usize) -> Vec<ObjectId> {
        let mut ids: Vec<ObjectId> = Vec::new();
        for i in 0..n {
            let parents: Vec<ObjectId> = ids.last().copied().into_iter().collect();
            let id = self.commit(
                &format!("c{i}"),
                &parents,
                Snapshot {
                    files: vec![("value", i.to_string().into_bytes())],
                    ..Snapshot::default()
                },
            );
            ids.push(id);
        }
        ids
    }

    fn object_count(&self) -> usize {
        walkdir::WalkDir::new(self.path().join(".ev/objects"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .count()
    }

    fn log(&self) -> String {
        let output = self.ev().args(["bisect", "log"]).output().unwrap();
        String::from_utf8(output.stdout).unwrap()
    }
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", stdout(output)))
}

/// A script that fails (exit `code`) when `value` is at least `from`.
fn threshold_script(from: usize, code: i32) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!("[ \"$(cat value)\" -lt {from} ] || exit {code}"),
    ]
}

#[test]
fn run_finds_first_bad_commit() {
    let mut repo = TestRepo::new();
    let ids = repo.linear(16);
    repo.ev()
        .args(["bisect", "start", "c15", "c0"])
        .assert()
        .success();
    let before = repo.object_count();
    let output = repo
        .ev()
        .args(["bisect", "run", "--json", "--"])
        .args(threshold_script(10, 1))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["schema"], "ev.bisect/1");
    assert_eq!(report["status"], "found");
    assert_eq!(report["first_bad"]["id"], ids[10].to_hex());
    // ⌈log2 15⌉ = 4 tests at most for 15 candidates.
    assert!(report["steps"].as_array().unwrap().len() <= 4);
    assert_eq!(
        repo.object_count(),
        before,
        "bisect run must not write objects"
    );
    // Replaying the log reaches the same result; its human output names the commit.
    let log_file = repo.path().join("bisect.log");
    std::fs::write(&log_file, repo.log()).unwrap();
    let done = repo
        .ev()
        .args(["bisect", "replay"])
        .arg(&log_file)
        .output()
        .unwrap();
    assert!(
        stdout(&done).contains(&format!("{} is the first bad commit", ids[10])),
        "{}",
        stdout(&done)
    );
    assert!(
        repo.log()
            .contains(&format!("# first bad commit: [{}]", ids[10]))
    );
}

#[test]
fn run_checkout_is_read_only_with_environment() {
    let mut repo = TestRepo::new();
    let ids = repo.linear(4);
    repo.ev()
        .args(["bisect", "start", "c3", "c0"])
        .assert()
        .success();
    // Exit 1 (bad) unless the file is read-only, the folder is the working directory and the
    // commit id is exported; a correct setup marks everything good, so c3 is the first bad.
    // The mode bits are checked rather than a write attempt, because root may write anyway.
    let script = "stat -c %A value | grep -q '^-r--r--r--' && \
                  test \"$EV_BISECT_DIR\" = \"$PWD\" && test ${#EV_BISECT_COMMIT} -eq 64";
    let output = repo
        .ev()
        .args(["bisect", "run", "--json", "--", "sh", "-c", script])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["first_bad"]["id"], ids[3].to_hex());
    for step in json(&output)["steps"].as_array().unwrap() {
        assert_eq!(step["verdict"], "good", "{step}");
    }
}

#[test]
fn run_exit_125_skips_and_reports_candidates() {
    let mut repo = TestRepo::new();
    let ids = repo.linear(6);
    repo.ev()
        .args(["bisect", "start", "c5", "c0"])
        .assert()
        .success();
    let output = repo
        .ev()
        .args(["bisect", "run", "--json", "--", "sh", "-c", "exit 125"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["status"], "found-with-skips");
    assert_eq!(report["first_bad"]["id"], ids[5].to_hex());
    let candidates: Vec<&str> = report["may_also_be"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = ids[1..5].iter().map(ObjectId::to_hex).collect();
    assert_eq!(candidates, expected);
}

#[test]
fn run_127_on_first_run_aborts_without_marks() {
    let mut repo = TestRepo::new();
    repo.linear(8);
    repo.ev()
        .args(["bisect", "start", "c7", "c0"])
        .assert()
        .success();
    let log_before = repo.log();
    for command in [
        vec!["sh", "-c", "exit 127"],
        vec!["sh", "-c", "exit 126"],
        vec!["./no-such-script.sh"],
    ] {
        let output = repo
            .ev()
            .args(["bisect", "run", "--"])
            .args(&command)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command:?}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert!(
            err.contains("not executable") || err.contains("not found"),
            "{command:?}: {err}"
        );
        assert_eq!(repo.log(), log_before, "{command:?} marked commits");
    }
}

#[test]
fn run_127_after_first_run_is_bad() {
    let mut repo = TestRepo::new();
    let ids = repo.linear(16);
    repo.ev()
        .args(["bisect", "start", "c15", "c0"])
        .assert()
        .success();
    // The first test is the midpoint (c7 or c8), which exits 0; later commits from c12 on exit
    // 127, which after the first run counts as bad.
    let output = repo
        .ev()
        .args(["bisect", "run", "--json", "--"])
        .args(threshold_script(12, 127))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["first_bad"]["id"], ids[12].to_hex());
    assert_eq!(report["steps"][0]["verdict"], "good");
}

#[test]
fn run_exit_128_or_more_aborts() {
    let mut repo = TestRepo::new();
    repo.linear(8);
    repo.ev()
        .args(["bisect", "start", "c7", "c0"])
        .assert()
        .success();
    let output = repo
        .ev()
        .args(["bisect", "run", "--", "sh", "-c", "exit 200"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("aborted"), "{}", stderr(&output));
}

#[test]
fn run_timeout_kills_and_stops() {
    let mut repo = TestRepo::new();
    let ids = repo.linear(4);
    repo.ev()
        .args(["bisect", "start", "c3", "c0"])
        .assert()
        .success();
    let log_before = repo.log();
    // `sleep` is a child of the shell and shares ev's stderr. If only the shell were killed,
    // `output()` would wait 30 s for `sleep` to close the pipe.
    let started = std::time::Instant::now();
    let output = repo
        .ev()
        .args(["bisect", "run", "--timeout", "1", "--"])
        .args(["sh", "-c", "sleep 30; exit 0"])
        .output()
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("timed out after 1 s"), "{err}");
    assert!(
        ids[1..3].iter().any(|id| err.contains(&id.short())),
        "no tested commit named: {err}"
    );
    assert!(err.contains("--timeout-skip"), "{err}");
    assert_eq!(repo.log(), log_before, "a timed-out commit was marked");
}

#[test]
fn run_timeout_skip_marks_skip_and_goes_on() {
    let mut repo = TestRepo::new();
    let ids = repo.linear(4);
    repo.ev()
        .args(["bisect", "start", "c3", "c0"])
        .assert()
        .success();
    // c1 and c2 hang and are skipped, and c3 is the known bad commit.
    let output = repo
        .ev()
        .args([
            "bisect",
            "run",
            "--json",
            "--timeout",
            "1",
            "--timeout-skip",
            "--",
        ])
        .args(["sh", "-c", "[ \"$(cat value)\" -ge 3 ] && exit 1; sleep 30"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let report = json(&output);
    assert_eq!(report["status"], "found-with-skips");
    assert_eq!(report["first_bad"]["id"], ids[3].to_hex());

    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{report}");
    for step in steps {
        assert_eq!(step["verdict"], "skip", "{step}");
        assert_eq!(step["evidence"]["timed_out"], 1, "{step}");
    }
    assert!(stderr(&output).contains("timed out"), "{}", stderr(&output));
}

#[test]
fn run_timeout_options_are_checked() {
    let mut repo = TestRepo::new();
    repo.linear(4);
    repo.ev()
        .args(["bisect", "start", "c3", "c0"])
        .assert()
        .success();
    for args in [
        vec!["--timeout", "0", "--", "true"],
        vec!["--timeout-skip", "--", "true"],
        vec!["--timeout", "1", "--check", "file value changed"],
    ] {
        let output = repo
            .ev()
            .args(["bisect", "run"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn good_newer_than_bad_is_clear_error() {
    let mut repo = TestRepo::new();
    repo.linear(8);
    let output = repo
        .ev()
        .args(["bisect", "start", "c2", "c6"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("is an ancestor of the good commit"), "{err}");
    assert!(err.contains("--term-old"), "{err}");
}

#[test]
fn auto_swapped_revisions_hint_swap() {
    let mut repo = TestRepo::new();
    let ids = merged_history(&mut repo);
    // c6~3 is c1, a first-parent ancestor of c6.
    let output = repo
        .ev()
        .args(["bisect", "auto", "c6", "c6~3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("is newer than bad commit"), "{err}");
    assert!(err.contains(&ids["c6"].to_hex()), "{err}");
    assert!(
        err.contains(
            "Hint: the older commit comes first, so swap the revisions: `ev bisect auto c6~3 c6`"
        ),
        "{err}"
    );

    // s3 is an ancestor of c6 through the merge's second parent only, so swapping would not
    // help: the error stays the first-parent one, without the swap hint.
    let output = repo
        .ev()
        .args(["bisect", "auto", "c6", "s3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("is not on the first-parent chain"), "{err}");
    assert!(!err.contains("swap"), "{err}");
}

#[test]
fn auto_same_commit_rejected() {
    let mut repo = TestRepo::new();
    let ids = merged_history(&mut repo);
    let output = repo
        .ev()
        .args(["bisect", "auto", "c6", "c6~0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("are the same commit"), "{err}");
    assert!(err.contains(&ids["c6"].to_hex()[..12]), "{err}");
    assert!(err.contains("give an older GOOD commit"), "{err}");
    assert!(!err.contains("position"), "{err}");
}

#[test]
fn non_monotonic_predicate_ends_on_a_transition() {
    let mut repo = TestRepo::new();
    let ids = repo.linear(16);
    repo.ev()
        .args(["bisect", "start", "c15", "c0"])
        .assert()
        .success();
    let script = "v=$(cat value); if [ $v -ge 3 ] && [ $v -le 5 ]; then exit 1; fi; [ $v -lt 9 ]";
    let output = repo
        .ev()
        .args(["bisect", "run", "--json", "--", "sh", "-c", script])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let found = json(&output)["first_bad"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        found == ids[3].to_hex() || found == ids[9].to_hex(),
        "found {found}, expected the start of a bad run (c3 or c9)"
    );
}

/// c0 - c1 - c2 - m5 - c6 with a side branch c1 - s3 - s4 merged at m5; the change is on s3.
fn merged_history(repo: &mut TestRepo) -> BTreeMap<&'static str, ObjectId> {
    let mut ids = BTreeMap::new();
    let file = |bad: bool| Snapshot {
        files: vec![("flag", if bad { b"1".to_vec() } else { b"0".to_vec() })],
        ..Snapshot::default()
    };
    ids.insert("c0", repo.commit("c0", &[], file(false)));
    ids.insert("c1", repo.commit("c1", &[ids["c0"]], file(false)));
    ids.insert("c2", repo.commit("c2", &[ids["c1"]], file(false)));
    ids.insert("s3", repo.commit("s3", &[ids["c1"]], file(true)));
    ids.insert("s4", repo.commit("s4", &[ids["s3"]], file(true)));
    ids.insert("m5", repo.commit("m5", &[ids["c2"], ids["s4"]], file(true)));
    ids.insert("c6", repo.commit("c6", &[ids["m5"]], file(true)));
    ids
}

#[test]
fn merges_with_and_without_first_parent() {
    let script = ["sh", "-c", "[ \"$(cat flag)\" = 0 ]"];
    for (first_parent, expected) in [(false, "s3"), (true, "m5")] {
        let mut repo = TestRepo::new();
        let ids = merged_history(&mut repo);
        let mut start = repo.ev();
        start.args(["bisect", "start", "c6", "c0"]);
        if first_parent {
            start.arg("--first-parent");
        }
        start.assert().success();
        let output = repo
            .ev()
            .args(["bisect", "run", "--json", "--"])
            .args(script)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let report = json(&output);
        assert_eq!(
            report["first_bad"]["id"],
            ids[expected].to_hex(),
            "first_parent={first_parent}"
        );
        if first_parent {
            for step in report["steps"].as_array().unwrap() {
                assert_ne!(step["commit"], ids["s3"].to_hex());
                assert_ne!(step["commit"], ids["s4"].to_hex());
            }
        }
    }
}

#[test]
fn manual_marks_with_custom_terms_and_replay() {
    let mut repo = TestRepo::new();
    let ids = repo.linear(8);
    repo.ev()
        .args([
            "bisect",
            "start",
            "--term-old",
            "fast",
            "--term-new",
            "slow",
            "c7",
            "c0",
        ])
        .assert()
        .success();
    let output = repo
        .ev()
        .args(["bisect", "terms", "--term-bad"])
        .output()
        .unwrap();
    assert_eq!(stdout(&output), "slow\n");
    // `good` is not a term of this bisection.
    repo.ev().args(["bisect", "good"]).assert().code(2);
    // Mark by hand: commits from c5 on are slow.
    for _ in 0..4 {
        let output = repo.ev().args(["bisect", "log"]).output().unwrap();
        let _ = output;
        let state: serde_json::Value = serde_json::from_slice(
            &std::fs::read(repo.path().join(".ev/bisect/state.json")).unwrap(),
        )
        .unwrap();
        let Some(current) = state["current"].as_str() else {
            break;
        };
        let index = ids.iter().position(|id| id.to_hex() == current).unwrap();
        let word = if index >= 5 { "slow" } else { "fast" };
        repo.ev().args(["bisect", word]).assert().success();
    }
    let log = repo.log();
    assert!(
        log.starts_with("ev bisect start --term-old=fast --term-new=slow\n"),
        "{log}"
    );
    assert!(
        log.contains(&format!("# first slow commit: [{}]", ids[5])),
        "{log}"
    );

    let log_file = repo.path().join("saved.log");
    std::fs::write(&log_file, &log).unwrap();
    repo.ev().args(["bisect", "reset"]).assert().success();
    let output = repo
        .ev()
        .args(["bisect", "replay", "--json"])
        .arg(&log_file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["status"], "found");
    assert_eq!(report["first_bad"]["id"], ids[5].to_hex());
    assert_eq!(report["terms"]["new"], "slow");
}

fn metrics(value: f64) -> Option<BTreeMap<String, f64>> {
    Some(BTreeMap::from([
        ("mae".to_owned(), value),
        ("rows".to_owned(), 1000.0),
    ]))
}

#[test]
fn check_predicate_on_metric_skips_missing_evidence() {
    let mut repo = TestRepo::new();
    let mut ids: Vec<ObjectId> = Vec::new();
    for i in 0..20 {
        // Commits 11 and 12 have no metrics: they must be skipped, not counted.
        let snapshot = Snapshot {
            metrics: if (11..=12).contains(&i) {
                None
            } else {
                metrics(if i >= 12 { 14.0 } else { 11.0 })
            },
            ..Snapshot::default()
        };
        let parents: Vec<ObjectId> = ids.last().copied().into_iter().collect();
        ids.push(repo.commit(&format!("c{i}"), &parents, snapshot));
    }
    repo.ev()
        .args(["bisect", "start", "c19", "c0"])
        .assert()
        .success();
    let output = repo
        .ev()
        .args([
            "bisect",
            "run",
            "--json",
            "--check",
            "metric eval.mae > 12.5",
        ])
        .output()
        .unwrap();
    let report = json(&output);
    // 12 is the true first bad but has no evidence: 13 is found, with 11 and 12 as candidates.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(report["status"], "found-with-skips");
    assert_eq!(report["first_bad"]["id"], ids[13].to_hex());
    assert_eq!(report["predicate"], "metric eval.mae > 12.5");
}

#[test]
fn check_file_changed() {
    let mut repo = TestRepo::new();
    let ids = repo.linear(10);
    repo.ev()
        .args(["bisect", "start", "c9", "c0"])
        .assert()
        .success();
    let output = repo
        .ev()
        .args(["bisect", "run", "--json", "--check", "file value changed"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["first_bad"]["id"], ids[1].to_hex());
}

#[test]
fn repeat_majority_outvotes_flaky_run() {
    let mut repo = TestRepo::new();
    let ids = repo.linear(8);
    repo.ev()
        .args(["bisect", "start", "c7", "c0"])
        .assert()
        .success();
    // The first run in each checkout fails spuriously (exit 1), later runs tell the truth.
    let script = "if [ ! -e .ran ]; then touch .ran; [ $(cat value) -ge 6 ] && exit 1; exit 1; fi; \
                  [ $(cat value) -lt 6 ]";
    let output = repo
        .ev()
        .args([
            "bisect",
            "run",
            "--json",
            "--repeat",
            "3",
            "--require",
            "majority",
            "--",
        ])
        .args(["sh", "-c", script])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["first_bad"]["id"], ids[6].to_hex());
    let first_step = &report["steps"][0]["evidence"];
    assert_eq!(first_step["exit_codes"].as_array().unwrap().len(), 3);
    assert!(
        first_step["vote"]["split"].as_bool().unwrap() || report["steps"][0]["verdict"] == "bad"
    );
}

#[test]
fn auto_finds_metric_shift_beyond_noise() {
    let mut repo = TestRepo::new();
    let mut ids: Vec<ObjectId> = Vec::new();
    // Deterministic noise of ±0.2 around 10; the mean shifts by +2 from commit 47 on.
    for i in 0..60usize {
        let noise = ((i * 7919) % 11) as f64 / 25.0 - 0.2;
        let value = 10.0 + noise + if i >= 47 { 2.0 } else { 0.0 };
        let parents: Vec<ObjectId> = ids.last().copied().into_iter().collect();
        let snapshot = Snapshot {
            metrics: metrics(value),
            code: Some(format!("{:040x}", i)),
            ..Snapshot::default()
        };
        ids.push(repo.commit(&format!("c{i}"), &parents, snapshot));
    }
    let output = repo
        .ev()
        .args(["bisect", "auto", "--json", "c35", "c59"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    let first = &report["first_change"];
    assert_eq!(first["commit"]["id"], ids[47].to_hex(), "{report}");
    assert_eq!(first["item"], "eval");
    assert_eq!(first["column"], "mae");
    assert_eq!(first["noise"]["method"], "calibrated");
    assert!(first["score"].as_f64().unwrap() > first["noise"]["floor"].as_f64().unwrap());
    assert_eq!(
        report["suspects"]["note"]
            .as_str()
            .map(|n| n.contains("git range")),
        Some(true)
    );

    let human = repo
        .ev()
        .args(["bisect", "auto", "c35", "c59"])
        .output()
        .unwrap();
    assert!(
        stdout(&human).contains("First true change"),
        "{}",
        stdout(&human)
    );
    assert!(stdout(&human).contains("eval.mae"), "{}", stdout(&human));

    let markdown = repo
        .ev()
        .args(["bisect", "auto", "--format", "markdown", "c35", "c59"])
        .output()
        .unwrap();
    let text = stdout(&markdown);
    assert!(text.starts_with("## ev bisect auto"), "{text}");
    assert!(text.contains("| Commit | +N | Item |"), "{text}");
}

#[test]
fn reset_and_no_session_errors() {
    let mut repo = TestRepo::new();
    repo.linear(3);
    let output = repo.ev().args(["bisect", "good"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("ev bisect start"),
        "{}",
        stderr(&output)
    );
    repo.ev()
        .args(["bisect", "start", "c2", "c0"])
        .assert()
        .success();
    repo.ev()
        .args(["bisect", "start", "c2", "c0"])
        .assert()
        .code(2);
    repo.ev().args(["bisect", "reset"]).assert().success();
    assert!(!PathBuf::from(repo.path()).join(".ev/bisect").exists());
}

/// A flights sample: 2,000 rows, carriers UA (5%), AA (45%) and DL (50%), departure delay about
/// N(10, 5) minutes from a seeded generator. From commit `shift_at` on, UA's delays are 8
/// minutes longer, which moves the overall mean by only 0.4 minutes.
fn flights_csv(commit: usize, shift_at: usize) -> String {
    let mut state: u64 = 0x5EED_0000 + commit as u64;
    let mut uniform = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut csv = String::from("carrier,dep_delay,distance\n");
    for row in 0..2000 {
        let carrier = match row % 20 {
            0 => "UA",
            1..=9 => "AA",
            _ => "DL",
        };
        let (u1, u2) = (uniform(), uniform());
        let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let shift = if carrier == "UA" && commit >= shift_at {
            8.0
        } else {
            0.0
        };
        let delay = 10.0 + 5.0 * normal + shift;
        let distance = 500 + (uniform() * 1500.0) as u32;
        csv.push_str(&format!("{carrier},{delay:.2},{distance}\n"));
    }
    csv
}

fn flights_history(repo: &mut TestRepo, commits: usize, shift_at: usize) -> Vec<ObjectId> {
    let mut ids: Vec<ObjectId> = Vec::new();
    for i in 0..commits {
        let parents: Vec<ObjectId> = ids.last().copied().into_iter().collect();
        let snapshot = Snapshot {
            sample: Some(flights_csv(i, shift_at)),
            ..Snapshot::default()
        };
        ids.push(repo.commit(&format!("c{i}"), &parents, snapshot));
    }
    ids
}

#[test]
fn auto_names_slice_of_confined_change() {
    let mut repo = TestRepo::new();
    let ids = flights_history(&mut repo, 45, 38);
    let output = repo
        .ev()
        .args(["bisect", "auto", "--json", "c29", "c44"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    let first = &report["first_change"];
    assert_eq!(first["commit"]["id"], ids[38].to_hex(), "{report:#}");
    assert_eq!(first["item"], "flights");
    assert_eq!(first["column"], "dep_delay");
    assert_eq!(first["slice"], "carrier=UA");
    assert_eq!(first["noise"]["method"], "calibrated");
    assert!(first["n_base"].as_u64().unwrap() >= 90, "{first}");
    // The overall column moves by 0.08 standard deviations: at the change it stays within its
    // floors, so only the slice names the change.
    let overall_at_change = report["timeline"].as_array().unwrap().iter().any(|f| {
        f["column"] == "dep_delay" && f["slice"].is_null() && f["commit"]["id"] == ids[38].to_hex()
    });
    assert!(!overall_at_change, "{report:#}");
    for also in report["also_at_first_change"].as_array().unwrap() {
        assert_eq!(also["slice"], "carrier=UA", "{also}");
    }
}

#[test]
fn check_drift_in_slice() {
    let mut repo = TestRepo::new();
    let ids = flights_history(&mut repo, 16, 11);
    repo.ev()
        .args(["bisect", "start", "c15", "c0"])
        .assert()
        .success();
    let output = repo
        .ev()
        .args(["bisect", "run", "--json", "--check"])
        .arg("drift flights.dep_delay psi > 0.5 slice carrier=UA")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["first_bad"]["id"], ids[11].to_hex(), "{report:#}");
    let steps = report["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .all(|s| s["evidence"]["evaluation"]["result"] == "decided")
    );
}
