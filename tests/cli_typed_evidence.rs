//! `ev commit` records typed evidence for sample and golden items, and `ev show REV:PATH`
//! renders the stored profile.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use assert_cmd::Command;
use predicates::prelude::*;

fn ev(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("ev").unwrap();
    command
        .current_dir(dir)
        .env("EV_AUTHOR", "Test <test@example.com>")
        .env("EV_COMMIT_TIME", "2026-01-02T03:04:05Z")
        .env_remove("EV_DIR");
    command
}

fn write_sample(path: &Path) {
    let carriers = ["UA", "AA", "UA", "DL"];
    let carrier: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..100).map(|i| carriers[i % 4]),
    ));
    let delay: ArrayRef = Arc::new(Float64Array::from_iter_values(
        (0..100).map(|i| i as f64 / 2.0),
    ));
    let schema = Arc::new(Schema::new(vec![
        Field::new("carrier", carrier.data_type().clone(), false),
        Field::new("delay", delay.data_type().clone(), true),
    ]));
    let batch = RecordBatch::try_new(schema.clone(), vec![carrier, delay]).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

const MANIFEST: &str = r#"
[[item]]
name = "flights"
kind = "sample"
path = "data/flights.parquet"
slice_by = ["carrier"]

[[item]]
name = "delays-by-carrier"
kind = "golden"
path = "queries/delays.sql"
query_file = "queries/delays.sql"
command = "printf 'carrier,n\nUA,50\nAA,25\n'"
key_columns = ["carrier"]
"#;

fn workspace(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ev(dir.path()).arg("init").assert().success();
    write_sample(&dir.path().join("data/flights.parquet"));
    std::fs::create_dir_all(dir.path().join("queries")).unwrap();
    std::fs::write(
        dir.path().join("queries/delays.sql"),
        "select carrier, count(*) from flights",
    )
    .unwrap();
    std::fs::write(dir.path().join("evidence.toml"), manifest).unwrap();
    dir
}

#[test]
fn commit_records_and_show_renders_profile() {
    let dir = workspace(MANIFEST);
    ev(dir.path())
        .args(["commit", "-m", "first"])
        .assert()
        .success();
    ev(dir.path())
        .args(["show", "HEAD:data/flights.parquet"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "sample: 100 rows, 2 columns from data/flights.parquet",
        ))
        .stdout(predicate::str::contains("carrier=UA: 50 rows"))
        .stdout(predicate::str::contains("range      0 .. 49.5"));
    ev(dir.path())
        .args(["show", "HEAD:delays-by-carrier"])
        .assert()
        .success()
        .stdout(predicate::str::contains("result: 2 rows, 2 columns"))
        .stdout(predicate::str::contains(
            "select carrier, count(*) from flights",
        ))
        .stdout(predicate::str::contains("key columns: carrier"));
    let output = ev(dir.path())
        .args(["show", "HEAD:flights", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["schema"], "ev.typed-record/1");
    assert_eq!(json["item"], "flights");
    assert_eq!(json["record"]["kind"], "sample");
    assert_eq!(json["record"]["profile"]["rows"], 100);
    // --raw shows the stored file itself.
    ev(dir.path())
        .args(["show", "--raw", "HEAD:queries/delays.sql"])
        .assert()
        .success()
        .stdout("select carrier, count(*) from flights");
}

#[test]
fn failing_golden_needs_allow_failed() {
    let manifest = MANIFEST.replace(
        "printf 'carrier,n\\nUA,50\\nAA,25\\n'",
        "echo no database >&2; exit 4",
    );
    let dir = workspace(&manifest);
    ev(dir.path())
        .args(["commit", "-m", "broken"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no database"))
        .stderr(predicate::str::contains("--allow-failed"));
    ev(dir.path())
        .args(["commit", "-m", "broken", "--allow-failed"])
        .assert()
        .success();
    ev(dir.path())
        .args(["show", "HEAD:delays-by-carrier"])
        .assert()
        .success()
        .stdout(predicate::str::contains("exit code 4"))
        .stdout(predicate::str::contains("the command failed"));
}

#[test]
fn unknown_item_option_is_user_error() {
    let manifest = MANIFEST.replace("slice_by", "slice_bye");
    let dir = workspace(&manifest);
    ev(dir.path())
        .args(["commit", "-m", "typo"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("slice_bye"));
}

#[test]
fn mistyped_option_names_key_and_item() {
    let manifest = MANIFEST.replace(
        "key_columns = [\"carrier\"]",
        "key_columns = [\"carrier\"]\ntimeout_secs = -1",
    );
    assert!(manifest.contains("timeout_secs = -1"));
    let dir = workspace(&manifest);
    ev(dir.path())
        .args(["commit", "-m", "negative timeout"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("item \"delays-by-carrier\""))
        .stderr(predicate::str::contains("invalid option `timeout_secs`"))
        .stderr(predicate::str::contains("-1"));
}

/// The text form of `ev show REV:ITEM` spells enum values as the docs and evidence.toml do,
/// never as Rust identifiers (`PosInf`, `JsonSchema`, `Hash`).
#[test]
fn show_text_spells_enum_values() {
    let manifest = r#"
[[item]]
name = "flights"
kind = "sample"
path = "data/flights.parquet"
redact = ["carrier"]

[[item]]
name = "features"
kind = "schema"
path = "schemas/features.json"

[[item]]
name = "latency"
kind = "metrics"
path = "reports/latency.yaml"
"#;
    let dir = workspace(manifest);
    std::fs::create_dir_all(dir.path().join("schemas")).unwrap();
    std::fs::write(
        dir.path().join("schemas/features.json"),
        r#"{"type": "object", "properties": {"carrier": {"type": "string"}}}"#,
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("reports")).unwrap();
    std::fs::write(
        dir.path().join("reports/latency.yaml"),
        "p50: .nan\nmax: .inf\nmin: -.inf\n",
    )
    .unwrap();
    ev(dir.path())
        .env("EV_REDACT_KEY", "test key")
        .args(["commit", "-m", "first"])
        .assert()
        .success();

    let show = |item: &str| {
        let output = ev(dir.path())
            .args(["show", &format!("HEAD:{item}")])
            .output()
            .unwrap();
        assert!(output.status.success(), "ev show HEAD:{item} failed");
        String::from_utf8(output.stdout).unwrap()
    };

    let sample = show("flights");
    assert!(sample.contains("redacted (hash): carrier"), "{sample}");

    let schema = show("features");
    assert!(schema.contains("(JSON Schema)"), "{schema}");

    let metrics = show("latency");
    assert!(metrics.contains("p50 = NaN"), "{metrics}");
    assert!(metrics.contains("max = +inf"), "{metrics}");
    assert!(metrics.contains("min = -inf"), "{metrics}");
}

#[test]
fn show_path_declared_twice_is_ambiguous() {
    let manifest = r#"
[[item]]
name = "flights"
kind = "sample"
path = "data/flights.parquet"

[[item]]
name = "flights-schema"
kind = "schema"
path = "data/flights.parquet"
"#;
    let dir = workspace(manifest);
    ev(dir.path())
        .args(["commit", "-m", "first"])
        .assert()
        .success();

    ev(dir.path())
        .args(["show", "HEAD:data/flights.parquet"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "data/flights.parquet is declared by 2 evidence items: flights, flights-schema",
        ))
        .stderr(predicate::str::contains("ev show HEAD:flights"));

    // An item name is never ambiguous, and `--raw` still prints the file itself.
    ev(dir.path())
        .args(["show", "HEAD:flights-schema"])
        .assert()
        .success()
        .stdout(predicate::str::contains("schema"));
    let raw = ev(dir.path())
        .args(["show", "--raw", "HEAD:data/flights.parquet"])
        .output()
        .unwrap();
    assert!(raw.status.success());
    assert!(raw.stdout.starts_with(b"PAR1"));
}

#[test]
fn show_raw_item_name_hints_paths() {
    let dir = workspace(MANIFEST);
    ev(dir.path())
        .args(["commit", "-m", "first"])
        .assert()
        .success();

    // `--raw` needs a path; the hint gives the item's file instead of only "not found".
    ev(dir.path())
        .args(["show", "--raw", "HEAD:flights"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("path flights not found"))
        .stderr(predicate::str::contains("\"flights\" is an evidence item"))
        .stderr(predicate::str::contains(
            "ev show HEAD:data/flights.parquet --raw",
        ));

    // A name that is neither a path nor an item keeps the generic hint.
    ev(dir.path())
        .args(["show", "--raw", "HEAD:nosuch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("path nosuch not found"))
        .stderr(predicate::str::contains("evidence item").not());
}
