//! Typed capture of every evidence kind on files written into temporary workspaces.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use ev::evidence::golden::{GoldenError, GoldenSource};
use ev::evidence::model::ArtifactDetail;
use ev::evidence::{self, CaptureContext, Captured, Error, EvidenceRecord, Kind};
use ev::profile::read::ReadError;
use ev::profile::{ColumnStats, TableProfile};

static NO_INTERRUPT: AtomicBool = AtomicBool::new(false);

fn ctx() -> CaptureContext<'static> {
    CaptureContext {
        interrupt: &NO_INTERRUPT,
        allow_failed: false,
        timeout: None,
        redact_key: Some(b"test key".to_vec()),
    }
}

fn run(kind: Kind, options: &str, dir: &Path, files: &[&str]) -> Result<Captured, Error> {
    run_with(kind, options, dir, files, &ctx())
}

fn run_with(
    kind: Kind,
    options: &str,
    dir: &Path,
    files: &[&str],
    ctx: &CaptureContext<'_>,
) -> Result<Captured, Error> {
    let table: toml::Table = toml::from_str(options).unwrap();
    let files: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    evidence::capture(kind, &table, dir, &files, ctx)
}

fn sample(captured: Captured) -> evidence::SampleRecord {
    match captured.record {
        EvidenceRecord::Sample(record) => record,
        other => panic!("sample record expected, got {other:?}"),
    }
}

fn top_values(profile: &TableProfile, column: &str) -> Vec<(String, u64)> {
    match &profile.column(column).unwrap().stats {
        ColumnStats::Categorical(c) => c
            .top
            .values
            .iter()
            .map(|v| (v.value.clone(), v.count))
            .collect(),
        other => panic!("categorical expected, got {other:?}"),
    }
}

fn write_parquet(path: &Path, rows: usize) {
    let carriers = ["UA", "AA", "DL", "UA", "UA", "AA", "WN"];
    let carrier: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..rows).map(|i| carriers[i % carriers.len()]),
    ));
    let delay: ArrayRef = Arc::new(Float64Array::from_iter_values(
        (0..rows).map(|i| (i % 60) as f64),
    ));
    let email: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..rows).map(|i| format!("person{}@example.com", i % 50)),
    ));
    let schema = Arc::new(Schema::new(vec![
        Field::new("carrier", carrier.data_type().clone(), false),
        Field::new("delay", delay.data_type().clone(), false),
        Field::new("email", email.data_type().clone(), false),
    ]));
    let batch = RecordBatch::try_new(schema.clone(), vec![carrier, delay, email]).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn csv_with_bom_quoted_newlines_mixed_types() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.csv"),
        "\u{feff}id,note,score\r\n1,\"line one\nline two\",0.5\r\n2,plain,x\r\n3,,2\r\n",
    )
    .unwrap();
    let record = sample(run(Kind::Sample, "", dir.path(), &["s.csv"]).unwrap());
    assert_eq!(record.profile.rows, 3);
    let names: Vec<&str> = record
        .profile
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["id", "note", "score"],
        "the byte-order mark is not part of a name"
    );
    assert_eq!(record.profile.column("id").unwrap().logical_type, "int64");
    // "0.5", "x" and "2" mix numbers and text, so the column is text.
    assert_eq!(record.profile.column("score").unwrap().logical_type, "utf8");
    let notes = top_values(&record.profile, "note");
    assert!(notes.iter().any(|(v, _)| v == "line one\nline two"));
}

#[test]
fn csv_pinned_types_apply() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.csv"), "id,amount\n1,10\n2,12.25\n").unwrap();
    let options = "csv = { types = { id = \"utf8\", amount = \"decimal128(10, 2)\" } }";
    let record = sample(run(Kind::Sample, options, dir.path(), &["s.csv"]).unwrap());
    assert_eq!(record.profile.column("id").unwrap().logical_type, "utf8");
    let ColumnStats::Numeric(amount) = &record.profile.column("amount").unwrap().stats else {
        panic!("numeric expected");
    };
    assert_eq!(amount.exact.as_ref().unwrap().sum.as_deref(), Some("22.25"));
}

#[test]
fn csv_ragged_rows_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.csv"), "a,b\n1,2\n3\n4,5,6\n").unwrap();
    let error = run(Kind::Sample, "", dir.path(), &["r.csv"]).unwrap_err();
    assert!(
        matches!(error, Error::Read(ReadError::Csv { .. })),
        "{error:?}"
    );
    assert!(error.to_string().contains("r.csv"));
}

#[test]
fn csv_empty_file_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("e.csv"), "").unwrap();
    let error = run(Kind::Sample, "", dir.path(), &["e.csv"]).unwrap_err();
    assert!(
        matches!(error, Error::Read(ReadError::CsvEmpty { .. })),
        "{error:?}"
    );
}

#[test]
fn csv_header_only_is_empty_table() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("h.csv"), "a,b\n").unwrap();
    let record = sample(run(Kind::Sample, "", dir.path(), &["h.csv"]).unwrap());
    assert_eq!(record.profile.rows, 0);
    assert_eq!(record.profile.columns.len(), 2);
}

#[test]
fn csv_duplicate_header_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.csv"), "a,a\n1,2\n").unwrap();
    let error = run(Kind::Sample, "", dir.path(), &["d.csv"]).unwrap_err();
    assert!(
        matches!(error, Error::Read(ReadError::DuplicateColumn { ref column, .. }) if column == "a"),
        "{error:?}"
    );
}

#[test]
fn truncated_parquet_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    write_parquet(&path, 1000);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let error = run(Kind::Sample, "", dir.path(), &["t.parquet"]).unwrap_err();
    assert!(
        matches!(error, Error::Read(ReadError::Parquet { .. })),
        "{error:?}"
    );
    assert!(error.to_string().contains("t.parquet"));
}

#[test]
fn unknown_option_named() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("s.parquet"), 10);
    let error = run(
        Kind::Sample,
        "slice_bye = [\"carrier\"]",
        dir.path(),
        &["s.parquet"],
    )
    .unwrap_err();
    // The error sits at the unknown key's path, so it names the key as the option at fault.
    assert!(
        matches!(&error, Error::OptionValue { key, .. } if key == "slice_bye"),
        "{error:?}"
    );
    assert!(error.to_string().contains("slice_bye"), "{error}");
}

#[test]
fn slices_largest_plus_other() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("s.parquet"), 700);
    let options = "slice_by = [\"carrier\"]\nmax_slices = 2";
    let record = sample(run(Kind::Sample, options, dir.path(), &["s.parquet"]).unwrap());
    let slices = &record.slices[0];
    assert_eq!(slices.column, "carrier");
    assert_eq!(slices.distinct_values, 4);
    // 700 rows over a cycle of 7: UA 3/7, AA 2/7, DL and WN 1/7 each.
    let listed: Vec<(Option<&str>, u64)> = slices
        .slices
        .iter()
        .map(|s| (s.value.as_deref(), s.profile.rows))
        .collect();
    assert_eq!(listed, [(Some("UA"), 300), (Some("AA"), 200)]);
    let other = slices.other.as_ref().unwrap();
    assert_eq!(other.values, 2);
    assert_eq!(other.profile.rows, 200);
    assert_eq!(
        top_values(&slices.slices[0].profile, "carrier"),
        [("UA".to_string(), 300)]
    );
}

#[test]
fn redact_hash_replaces_values() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("s.parquet"), 100);
    let record = sample(
        run(
            Kind::Sample,
            "redact = [\"email\"]",
            dir.path(),
            &["s.parquet"],
        )
        .unwrap(),
    );
    let values = top_values(&record.profile, "email");
    assert_eq!(values.len(), 50);
    assert!(
        values
            .iter()
            .all(|(v, _)| v.len() == 32 && !v.contains('@'))
    );
    let json = serde_json::to_string(&record).unwrap();
    assert!(!json.contains("example.com"));
    let redaction = record.redaction.unwrap();
    assert_eq!(redaction.columns, ["email"]);
    assert_eq!(
        redaction.key_fingerprint.as_ref().map(String::len),
        Some(16)
    );
    // The same key gives the same hashes, so snapshots stay comparable.
    let again = sample(
        run(
            Kind::Sample,
            "redact = [\"email\"]",
            dir.path(),
            &["s.parquet"],
        )
        .unwrap(),
    );
    assert_eq!(top_values(&again.profile, "email"), values);
}

#[test]
fn redact_drop_and_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("s.parquet"), 10);
    let options = "redact = [\"email\"]\nredact_mode = \"drop\"";
    let record = sample(run(Kind::Sample, options, dir.path(), &["s.parquet"]).unwrap());
    assert!(record.profile.column("email").is_none());
    assert!(record.schema.iter().all(|f| f.name != "email"));
    let no_key = CaptureContext {
        redact_key: None,
        ..ctx()
    };
    let options = "redact = [\"email\"]\nredact_key_env = \"EV_TEST_KEY_THAT_IS_NOT_SET\"";
    let error = run_with(Kind::Sample, options, dir.path(), &["s.parquet"], &no_key).unwrap_err();
    assert!(matches!(error, Error::RedactKeyMissing { .. }), "{error:?}");
    let error = run(
        Kind::Sample,
        "redact = [\"phone\"]",
        dir.path(),
        &["s.parquet"],
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::RedactColumnMissing { .. }),
        "{error:?}"
    );
}

#[test]
fn sample_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("s.parquet"), 5000);
    let options = "slice_by = [\"carrier\"]";
    let first = serde_json::to_vec(
        &run(Kind::Sample, options, dir.path(), &["s.parquet"])
            .unwrap()
            .record,
    )
    .unwrap();
    let second = serde_json::to_vec(
        &run(Kind::Sample, options, dir.path(), &["s.parquet"])
            .unwrap()
            .record,
    )
    .unwrap();
    assert_eq!(first, second);
}

#[test]
fn sample_folder_reads_all_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("part")).unwrap();
    write_parquet(&dir.path().join("part/a.parquet"), 30);
    write_parquet(&dir.path().join("part/b.parquet"), 40);
    let record = sample(run(Kind::Sample, "", dir.path(), &["part"]).unwrap());
    assert_eq!(record.profile.rows, 70);
    let paths: Vec<&str> = record.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["part/a.parquet", "part/b.parquet"]);
}

fn golden(captured: &Captured) -> &evidence::GoldenRecord {
    match &captured.record {
        EvidenceRecord::Golden(record) => record,
        other => panic!("golden record expected, got {other:?}"),
    }
}

#[test]
fn golden_command_result_normalized() {
    let dir = tempfile::tempdir().unwrap();
    let options = r#"
        query = "select carrier, count(*) from flights group by 1"
        command = "printf 'carrier,n\nUA,3\nAA,2\n'; echo done >&2"
        key_columns = ["carrier"]
        tolerance = { relative = 0.01 }
        column_tolerances = { n = { absolute = 1.0 } }
    "#;
    let captured = run(Kind::Golden, options, dir.path(), &[]).unwrap();
    let record = golden(&captured);
    let table = record.result.as_ref().unwrap();
    assert_eq!(table.rows, 2);
    assert_eq!(table.schema[1].logical_type, "int64");
    assert_eq!(record.key_columns, ["carrier"]);
    assert_eq!(record.tolerance.for_column("n").absolute, 1.0);
    assert_eq!(record.tolerance.for_column("carrier").relative, 0.01);
    match &record.source {
        GoldenSource::Command {
            exit_code, stderr, ..
        } => {
            assert_eq!(*exit_code, Some(0));
            assert_eq!(stderr, "done\n");
        }
        other => panic!("command source expected, got {other:?}"),
    }
    let blob = &captured.extra_blobs[0];
    assert_eq!(blob.name, table.blob);
    let path = dir.path().join("result.parquet");
    std::fs::write(&path, &blob.bytes).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&path).unwrap(),
    )
    .unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
}

#[test]
fn golden_hanging_command_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("survivor");
    // The background child would write the marker after 3 s unless its process group is killed.
    let options = format!(
        "command = \"(sleep 3; touch {}) & sleep 30\"\ntimeout_secs = 1",
        marker.display()
    );
    let started = Instant::now();
    let error = run(Kind::Golden, &options, dir.path(), &[]).unwrap_err();
    assert!(
        matches!(error, Error::Golden(GoldenError::Timeout { .. })),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !marker.exists(),
        "a process of the group outlived the timeout"
    );
}

#[test]
fn golden_failing_command() {
    let dir = tempfile::tempdir().unwrap();
    let options = "command = \"echo broken query >&2; exit 3\"";
    let error = run(Kind::Golden, options, dir.path(), &[]).unwrap_err();
    assert!(
        matches!(error, Error::Golden(GoldenError::Failed { .. })),
        "{error:?}"
    );
    assert!(error.to_string().contains("broken query"));
    let allowed = CaptureContext {
        allow_failed: true,
        ..ctx()
    };
    let captured = run_with(Kind::Golden, options, dir.path(), &[], &allowed).unwrap();
    let record = golden(&captured);
    assert!(record.failed);
    assert!(record.result.is_none());
    assert!(captured.extra_blobs.is_empty());
    match &record.source {
        GoldenSource::Command {
            exit_code, stderr, ..
        } => {
            assert_eq!(*exit_code, Some(3));
            assert_eq!(stderr, "broken query\n");
        }
        other => panic!("command source expected, got {other:?}"),
    }
}

#[test]
fn golden_garbage_output_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let options = "command = \"printf 'not parquet at all'\"\nformat = \"parquet\"";
    let error = run(Kind::Golden, options, dir.path(), &[]).unwrap_err();
    assert!(
        matches!(error, Error::Golden(GoldenError::BadOutput { .. })),
        "{error:?}"
    );
    let options = "command = \"printf 'a,b\\n1,2\\n3\\n'\"";
    let error = run(Kind::Golden, options, dir.path(), &[]).unwrap_err();
    assert!(
        matches!(error, Error::Golden(GoldenError::BadOutput { .. })),
        "{error:?}"
    );
    // The message names the command's standard output, not the temporary file that held it.
    let message = error.to_string();
    assert!(message.contains("on standard output"), "{message}");
    let temp = std::env::temp_dir().display().to_string();
    assert!(!message.contains(&temp), "{message}");
    // Control bytes on one line would otherwise be a header-only table with a garbage column.
    // (Invalid UTF-8 is already rejected by the CSV reader.)
    let options = "command = \"printf '\\\\000\\\\001garbage\\\\n'\"";
    let error = run(Kind::Golden, options, dir.path(), &[]).unwrap_err();
    match &error {
        Error::Golden(GoldenError::BadOutput { reader_error, .. }) => assert!(
            matches!(
                reader_error.as_ref(),
                Error::Golden(GoldenError::BadColumnName { .. })
            ),
            "{reader_error:?}"
        ),
        other => panic!("bad output expected, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("column name"), "{message}");
    assert!(!message.contains(&temp), "{message}");
    // The same bytes in a result file.
    std::fs::write(dir.path().join("result.csv"), b"\x00\x01garbage\n").unwrap();
    let error = run(Kind::Golden, "", dir.path(), &["result.csv"]).unwrap_err();
    assert!(
        matches!(error, Error::Golden(GoldenError::BadColumnName { .. })),
        "{error:?}"
    );
    assert!(error.to_string().contains("result.csv"), "{error}");
}

#[test]
fn golden_json_lines_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("q.sql"), "select 1").unwrap();
    std::fs::write(
        dir.path().join("r.jsonl"),
        "{\"k\": 1, \"v\": 0.5}\n{\"k\": 2, \"v\": null}\n",
    )
    .unwrap();
    let options = "query_file = \"q.sql\"\nkey_columns = [\"k\"]";
    let captured = run(Kind::Golden, options, dir.path(), &["r.jsonl"]).unwrap();
    let record = golden(&captured);
    assert_eq!(record.query.as_deref(), Some("select 1"));
    assert_eq!(record.result.as_ref().unwrap().rows, 2);
    let error = run(
        Kind::Golden,
        "key_columns = [\"id\"]",
        dir.path(),
        &["r.jsonl"],
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Golden(GoldenError::KeyColumnMissing { .. })),
        "{error:?}"
    );
}

/// Writes a safetensors file with the given header JSON and data bytes.
fn write_safetensors(path: &Path, header: &str, data: &[u8]) {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn model_safetensors_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("model")).unwrap();
    let header = r#"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F16","shape":[2],"data_offsets":[16,20]}}"#;
    let data: Vec<u8> = (0u8..20).collect();
    write_safetensors(&dir.path().join("model/weights.safetensors"), header, &data);
    std::fs::write(dir.path().join("model/model.onnx"), b"onnx bytes").unwrap();
    std::fs::write(
        dir.path().join("meta.yaml"),
        "name: delay-model\nversion: 3\nframework: torch\ntraining_data: ev:data@v12\nhyperparameters:\n  lr: 0.001\n  layers: [64, 32]\nmetrics:\n  auc: 0.91\nowner: ml-team\n",
    )
    .unwrap();
    let captured = run(
        Kind::Model,
        "metadata = \"meta.yaml\"",
        dir.path(),
        &["model"],
    )
    .unwrap();
    let EvidenceRecord::Model(record) = captured.record else {
        panic!("model record expected");
    };
    let paths: Vec<&str> = record.artifacts.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(paths, ["model/model.onnx", "model/weights.safetensors"]);
    assert_eq!(record.artifacts[0].detail, ArtifactDetail::Onnx);
    let ArtifactDetail::Safetensors { metadata, tensors } = &record.artifacts[1].detail else {
        panic!("safetensors detail expected");
    };
    assert_eq!(metadata["format"], "pt");
    assert_eq!(tensors[0].name, "b");
    assert_eq!(tensors[0].shape, [2]);
    assert_eq!(
        tensors[0].blake3,
        blake3::hash(&data[16..20]).to_hex().to_string()
    );
    assert_eq!(
        tensors[1].blake3,
        blake3::hash(&data[..16]).to_hex().to_string()
    );
    let meta = record.metadata.unwrap();
    assert_eq!(meta.name.as_deref(), Some("delay-model"));
    assert_eq!(meta.version.as_deref(), Some("3"));
    assert_eq!(meta.training_data.as_deref(), Some("ev:data@v12"));
    assert_eq!(meta.hyperparameters["layers.1"].as_f64(), Some(32.0));
    assert_eq!(meta.metrics["auc"].as_f64(), Some(0.91));
    assert!(meta.other.contains_key("owner"));
}

#[test]
fn model_hostile_safetensors_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = u64::MAX.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    std::fs::write(dir.path().join("huge.safetensors"), bytes).unwrap();
    let error = run(Kind::Model, "", dir.path(), &["huge.safetensors"]).unwrap_err();
    assert!(matches!(error, Error::Safetensors { .. }), "{error:?}");
    let header = r#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,64]}}"#;
    write_safetensors(&dir.path().join("short.safetensors"), header, &[0; 16]);
    let error = run(Kind::Model, "", dir.path(), &["short.safetensors"]).unwrap_err();
    assert!(matches!(error, Error::Safetensors { .. }), "{error:?}");
    let header = r#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#;
    write_safetensors(&dir.path().join("shape.safetensors"), header, &[0; 16]);
    let error = run(Kind::Model, "", dir.path(), &["shape.safetensors"]).unwrap_err();
    assert!(error.to_string().contains("needs 12 bytes"), "{error}");
}

#[test]
fn schema_from_csv_and_json_schema() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.csv"),
        "carrier,delay,day\nUA,1.5,2024-01-02\n",
    )
    .unwrap();
    let options = "categories = { carrier = [\"UA\", \"AA\"] }";
    let EvidenceRecord::Schema(record) = run(Kind::Schema, options, dir.path(), &["f.csv"])
        .unwrap()
        .record
    else {
        panic!("schema record expected");
    };
    assert_eq!(record.field("delay").unwrap().logical_type, "float64");
    assert_eq!(record.field("day").unwrap().logical_type, "date");
    assert_eq!(
        record.field("carrier").unwrap().categories.as_deref(),
        Some(&["AA".to_string(), "UA".to_string()][..])
    );
    std::fs::write(
        dir.path().join("s.json"),
        r#"{"type": "object", "required": ["id"], "properties": {
            "id": {"type": "integer"},
            "carrier": {"enum": ["UA", "AA"]},
            "at": {"type": ["string", "null"], "format": "date-time"},
            "legs": {"type": "array", "items": {"type": "object", "properties": {"from": {"type": "string"}}}}
        }}"#,
    )
    .unwrap();
    let EvidenceRecord::Schema(record) = run(Kind::Schema, "", dir.path(), &["s.json"])
        .unwrap()
        .record
    else {
        panic!("schema record expected");
    };
    let id = record.field("id").unwrap();
    assert_eq!((id.logical_type.as_str(), id.nullable), ("int64", false));
    assert_eq!(
        record
            .field("carrier")
            .unwrap()
            .categories
            .as_ref()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        record.field("at").unwrap().logical_type,
        "timestamp[us, UTC]"
    );
    assert_eq!(
        record.field("legs").unwrap().logical_type,
        "list<struct<from: utf8>>"
    );
    std::fs::write(
        dir.path().join("bad.json"),
        r#"{"type": "object", "properties": {"x": {"type": "complex"}}}"#,
    )
    .unwrap();
    let error = run(Kind::Schema, "", dir.path(), &["bad.json"]).unwrap_err();
    assert!(matches!(error, Error::JsonSchema { .. }), "{error:?}");
}

#[test]
fn metrics_capture_and_render() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.json"), r#"{"eval": {"auc": 0.9}}"#).unwrap();
    let captured = run(Kind::Metrics, "", dir.path(), &["m.json"]).unwrap();
    let text = evidence::render::render_record(&captured.record);
    assert!(text.contains("eval.auc = 0.9"), "{text}");
}

#[test]
fn sample_renders_readably() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("s.parquet"), 100);
    let captured = run(
        Kind::Sample,
        "slice_by = [\"carrier\"]",
        dir.path(),
        &["s.parquet"],
    )
    .unwrap();
    let text = evidence::render::render_record(&captured.record);
    assert!(
        text.starts_with("sample: 100 rows, 3 columns from s.parquet"),
        "{text}"
    );
    assert!(
        text.contains("delay  float64 not null  nulls 0 (0.0%)"),
        "{text}"
    );
    assert!(text.contains("range      0 .. 59"), "{text}");
    assert!(text.contains("carrier=UA: 43 rows"), "{text}");
}

#[test]
fn integer_typed_json_roundtrip() {
    let dir = tempfile::tempdir().unwrap();
    let values: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
    let schema = Arc::new(Schema::new(vec![Field::new(
        "v",
        values.data_type().clone(),
        false,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![values]).unwrap();
    let file = std::fs::File::create(dir.path().join("i.parquet")).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let captured = run(Kind::Sample, "", dir.path(), &["i.parquet"]).unwrap();
    let json = serde_json::to_string(&captured.record).unwrap();
    let back: EvidenceRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, captured.record);
}

/// Writes the rows of `write_parquet` with dictionary encoding switched off.
fn write_parquet_plain(path: &Path, rows: usize) {
    let dictionary = dir_of(path).join("dictionary.parquet");
    write_parquet(&dictionary, rows);
    let file = std::fs::File::open(&dictionary).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_dictionary_enabled(false)
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(path).unwrap(),
        batches[0].schema(),
        Some(properties),
    )
    .unwrap();
    for batch in &batches {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
    std::fs::remove_file(dictionary).unwrap();
}

fn dir_of(path: &Path) -> &Path {
    path.parent().unwrap()
}

#[test]
fn dictionary_and_plain_profiles_equal() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("dict.parquet"), 3000);
    write_parquet_plain(&dir.path().join("plain.parquet"), 3000);
    // Slice columns listed in another order than the file's, one of them redacted by hashing:
    // each slice must still be keyed by its own column.
    let options = "slice_by = [\"email\", \"carrier\"]\nredact = [\"email\"]\nmax_slices = 3";
    let dict = sample(run(Kind::Sample, options, dir.path(), &["dict.parquet"]).unwrap());
    let plain = sample(run(Kind::Sample, options, dir.path(), &["plain.parquet"]).unwrap());

    assert_eq!(
        serde_json::to_string(&dict.profile).unwrap(),
        serde_json::to_string(&plain.profile).unwrap()
    );
    assert_eq!(
        serde_json::to_string(&dict.slices).unwrap(),
        serde_json::to_string(&plain.slices).unwrap()
    );

    let carrier = &dict.slices[1];
    assert_eq!(carrier.column, "carrier");
    // 3000 rows over a cycle of 7 carriers (UA three times, AA twice): UA 1286, AA 857.
    let listed: Vec<(Option<&str>, u64)> = carrier
        .slices
        .iter()
        .map(|s| (s.value.as_deref(), s.profile.rows))
        .collect();
    assert_eq!(listed[..2], [(Some("UA"), 1286), (Some("AA"), 857)]);

    let email = &dict.slices[0];
    assert_eq!(email.column, "email");
    assert_eq!(email.distinct_values, 50);
    assert!(
        email
            .slices
            .iter()
            .all(|s| s.value.as_ref().is_some_and(|v| v.len() == 32))
    );
}

#[test]
fn sample_options_out_of_range_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("s.parquet"), 10);
    for (options, named) in [
        ("sketch_k = 4", "sketch_k = 4"),
        ("sketch_k = 100000", "sketch_k = 100000"),
        ("slice_by = [\"carrier\"]\nmax_slices = 0", "max_slices = 0"),
    ] {
        let error = run(Kind::Sample, options, dir.path(), &["s.parquet"]).unwrap_err();
        assert!(
            matches!(error, Error::Options { .. }),
            "{options}: {error:?}"
        );
        assert!(error.to_string().contains(named), "{options}: {error}");
    }
    // The smallest accepted k still profiles.
    assert!(run(Kind::Sample, "sketch_k = 8", dir.path(), &["s.parquet"]).is_ok());
}

#[test]
fn unknown_table_extension_lists_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "a,b\n1,2\n").unwrap();
    let error = run(Kind::Sample, "", dir.path(), &["notes.txt"]).unwrap_err();
    assert!(
        matches!(error, Error::Read(ReadError::UnknownFormat { .. })),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("notes.txt"), "{message}");
    assert!(message.contains(".parquet"), "{message}");
    // Declaring the format reads the same file.
    assert!(run(Kind::Sample, "format = \"csv\"", dir.path(), &["notes.txt"]).is_ok());
}

#[test]
fn schema_pinned_type_checked_against_values() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.csv"), "a,b\n1,2\n3,x\n").unwrap();
    let options = "csv = { types = { b = \"int64\" } }";
    let error = run(Kind::Schema, options, dir.path(), &["s.csv"]).unwrap_err();
    assert!(
        matches!(error, Error::Read(ReadError::Csv { .. })),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("s.csv"), "{message}");
    assert!(message.contains("`b`"), "{message}");
    // Values that fit the pinned type still give the schema.
    std::fs::write(dir.path().join("s.csv"), "a,b\n1,2\n3,4\n").unwrap();
    assert!(run(Kind::Schema, options, dir.path(), &["s.csv"]).is_ok());
}
