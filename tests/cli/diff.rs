//! `ev diff` on temporary repositories: output formats, exit codes, gates and errors.

use crate::common::{Repo, fails_with, stderr, stdout};

const MANIFEST: &str = r#"
[[item]]
name = "flights"
kind = "sample"
path = "flights.csv"
slice_by = ["carrier"]

[[item]]
name = "eval"
kind = "metrics"
path = "metrics.json"
"#;

/// `rows` flights per carrier, delays `delay + i % 7`.
fn flights(groups: &[(&str, usize, f64)]) -> String {
    let mut csv = String::from("carrier,dep_delay\n");
    for (carrier, rows, delay) in groups {
        for i in 0..*rows {
            csv.push_str(&format!("{carrier},{}\n", delay + (i % 7) as f64));
        }
    }
    csv
}

/// Builds a repository with a good and a bad commit: UA's delays jump and AUC drops.
fn incident() -> (Repo, String, String) {
    let repo = Repo::new();
    repo.write("evidence.toml", MANIFEST);
    repo.write(
        "flights.csv",
        flights(&[("AA", 300, 10.0), ("UA", 200, 12.0)]),
    );
    repo.write("metrics.json", r#"{"auc": 0.81, "loss": 0.4}"#);
    let good = repo.commit("good", "2026-01-15T10:00:00Z", &[]);
    repo.write(
        "flights.csv",
        flights(&[("AA", 300, 10.0), ("UA", 200, 724.0)]),
    );
    repo.write("metrics.json", r#"{"auc": 0.76, "loss": 0.4}"#);
    let bad = repo.commit("bad", "2026-01-16T10:00:00Z", &[]);
    (repo, good, bad)
}

#[test]
fn diff_text_ranks_drift_and_slice() {
    let (repo, good, bad) = incident();
    let out = repo.ev().args(["diff", &good, &bad]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let drift = text.find("[medium] drift flights: dep_delay").expect(&text);
    let metric = text
        .find("[low] metric changed eval: auc 0.81 → 0.76")
        .expect(&text);
    assert!(drift < metric, "{text}");
    assert!(
        text.contains("slice mean:dep_delay flights: carrier=UA"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "colour without a terminal: {text}");
}

#[test]
fn diff_same_commit_is_empty_and_exits_zero() {
    let (repo, good, _) = incident();
    let out = repo
        .ev()
        .args(["diff", &good, &good, "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("no differences"));
}

#[test]
fn diff_exit_code_by_severity() {
    let (repo, good, bad) = incident();
    let code = |level: &str| {
        repo.ev()
            .args(["diff", &good, &bad, "--stat", "--exit-code", level])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code("medium"), Some(1));
    assert_eq!(code("high"), Some(0));
    let out = repo
        .ev()
        .args(["diff", &good, &bad, "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn diff_fail_on_prints_reasons() {
    let (repo, good, bad) = incident();
    let out = repo
        .ev()
        .args([
            "diff",
            &good,
            &bad,
            "--stat",
            "--fail-on",
            "metric:eval.auc<-0.02",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("metric:eval.auc<-0.02 matched: eval.auc 0.81 → 0.76"),
        "{err}"
    );
    let out = repo
        .ev()
        .args(["diff", &good, &bad, "--fail-on", "schema,golden"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = fails_with(
        repo.ev()
            .args(["diff", &good, &bad, "--fail-on", "drift:psi"]),
        2,
    );
    assert!(err.contains("Error: invalid --fail-on rule"), "{err}");
    assert!(err.contains("Hint:"), "{err}");
}

#[test]
fn diff_json_is_stable_and_swaps() {
    let (repo, good, bad) = incident();
    let run = |a: &str, b: &str| {
        let out = repo.ev().args(["diff", a, b, "--json"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        out.stdout
    };
    let first = run(&good, &bad);
    assert_eq!(first, run(&good, &bad));
    let json: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(json["schema"], "ev.diff/1");
    assert_eq!(json["base"], good.as_str());
    let auc = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "metric")
        .unwrap();
    assert_eq!(auc["old"], "0.81");
    let back: serde_json::Value = serde_json::from_slice(&run(&bad, &good)).unwrap();
    let auc_back = back["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "metric")
        .unwrap();
    assert_eq!(auc_back["old"], "0.76");
    assert_eq!(auc_back["new"], "0.81");
}

#[test]
fn diff_markdown_and_paths() {
    let (repo, good, bad) = incident();
    let out = repo
        .ev()
        .args(["diff", &good, &bad, "eval", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("### ev diff `"), "{text}");
    assert!(text.contains("| low | metric | eval | auc |"), "{text}");
    assert!(!text.contains("flights"), "{text}");
}

#[test]
fn diff_thresholds_from_manifest_and_flags() {
    let (repo, good, bad) = incident();
    // Thresholds so high nothing drifts: the drift change disappears.
    repo.write(
        "evidence.toml",
        format!("{MANIFEST}\n[diff.thresholds]\npsi = 100\njs = 1\nks = 1\nwasserstein = 1000\n"),
    );
    let out = repo
        .ev()
        .args(["diff", &good, &bad, "--stat"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("drift flights"), "{}", stdout(&out));
    // A flag brings the PSI threshold back down.
    let out = repo
        .ev()
        .args(["diff", &good, &bad, "--stat", "--psi-threshold", "0.1"])
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("drift flights: dep_delay psi!"),
        "{}",
        stdout(&out)
    );
    let err = fails_with(
        repo.ev().args(["diff", &good, &bad, "--psi-threshold=-1"]),
        2,
    );
    assert!(err.contains("invalid --psi-threshold -1"), "{err}");
}

#[test]
fn diff_unknown_revision_is_a_usage_error() {
    let (repo, good, _) = incident();
    let err = fails_with(repo.ev().args(["diff", &good, "nope"]), 2);
    assert!(err.starts_with("Error:"), "{err}");
}
