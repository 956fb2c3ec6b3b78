//! Every file of the Apache parquet-testing collection: valid files yield a schema and a profile
//! whose row count equals the manifest's; corrupt, checksum-failing and encrypted files give a
//! typed error naming the file; nothing panics or hangs.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::Duration;

use ev::evidence::{self, CaptureContext, EvidenceRecord, Kind};
use ev::profile::read::ReadError;

/// Finds the collection: `EV_PARQUET_TESTING`, then `../shared/parquet-testing` beside the
/// crate, then the shared folder of the development machine.
fn collection() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("EV_PARQUET_TESTING") {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/parquet-testing"));
    candidates.push(PathBuf::from("/work/shared/parquet-testing"));
    candidates
        .into_iter()
        .find(|dir| dir.join("MANIFEST.tsv").is_file())
}

#[derive(Debug)]
enum Expect {
    Rows(u64),
    Error,
}

fn expectation(path: &str, parquet_rs: &str) -> Option<Expect> {
    if path.ends_with(".encrypted") {
        return Some(Expect::Error);
    }
    if !path.ends_with(".parquet") {
        return None;
    }
    // Page checksums are verified (parquet's `crc` feature), so a corrupt checksum is an error
    // even where the plain reader returned rows.
    if path.contains("corrupt-checksum") {
        return Some(Expect::Error);
    }
    match parquet_rs.strip_prefix("ok (rows=") {
        Some(rest) => {
            let rows = rest.split('/').next()?.parse().ok()?;
            Some(Expect::Rows(rows))
        }
        None => Some(Expect::Error),
    }
}

fn capture(kind: Kind, path: &Path) -> Result<EvidenceRecord, evidence::Error> {
    let interrupt = AtomicBool::new(false);
    let ctx = CaptureContext {
        interrupt: &interrupt,
        allow_failed: false,
        timeout: None,
        redact_key: None,
    };
    let mut table = toml::Table::new();
    if kind == Kind::Sample || path.extension().is_some_and(|e| e == "encrypted") {
        table.insert("format".into(), "parquet".into());
    }
    if kind == Kind::Schema {
        table.remove("format");
        table.insert("source".into(), "parquet".into());
    }
    let workspace = path.parent().expect("files are inside the collection");
    evidence::capture(kind, &table, workspace, &[path.to_path_buf()], &ctx).map(|c| c.record)
}

fn check_file(path: &Path, expect: &Expect) -> Result<(), String> {
    let name = path.display().to_string();
    let sample = capture(Kind::Sample, path);
    match (expect, sample) {
        (Expect::Rows(rows), Ok(EvidenceRecord::Sample(record))) => {
            if record.profile.rows != *rows {
                return Err(format!(
                    "{name}: profiled {} rows, expected {rows}",
                    record.profile.rows
                ));
            }
            let json = serde_json::to_string(&record).map_err(|e| e.to_string())?;
            if json.contains("NaN") {
                return Err(format!("{name}: NaN in serialized profile"));
            }
            match capture(Kind::Schema, path) {
                Ok(EvidenceRecord::Schema(schema))
                    if schema.fields.len() == record.schema.len() =>
                {
                    Ok(())
                }
                other => Err(format!("{name}: schema capture gave {other:?}")),
            }
        }
        (Expect::Rows(_), other) => Err(format!("{name}: expected a profile, got {other:?}")),
        (Expect::Error, Ok(_)) => Err(format!("{name}: expected an error, got a profile")),
        (Expect::Error, Err(error)) => {
            let typed = matches!(
                error,
                evidence::Error::Read(
                    ReadError::Parquet { .. }
                        | ReadError::ParquetPanic { .. }
                        | ReadError::Encrypted { .. }
                        | ReadError::RowCountMismatch { .. }
                )
            );
            let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !typed {
                return Err(format!("{name}: untyped error {error:?}"));
            }
            if !error.to_string().contains(&file_name) {
                return Err(format!("{name}: error does not name the file: {error}"));
            }
            Ok(())
        }
    }
}

#[test]
#[allow(clippy::print_stderr)]
fn every_parquet_testing_file() {
    let Some(root) = collection() else {
        assert!(
            std::env::var("CI").is_err(),
            "parquet-testing not found: set EV_PARQUET_TESTING or place shared/ beside the crate"
        );
        eprintln!("parquet-testing collection not found; skipped outside CI");
        return;
    };
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in manifest.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(parquet_rs)) = (columns.first(), columns.get(4)) else {
            continue;
        };
        let Some(expect) = expectation(path, parquet_rs) else {
            continue;
        };
        let file = root.join(path);
        let (sender, receiver) = mpsc::channel();
        let thread_file = file.clone();
        std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(|| check_file(&thread_file, &expect));
            let _ = sender.send(outcome);
        });
        match receiver.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(message))) => failures.push(message),
            Ok(Err(_)) => failures.push(format!("{}: panicked", file.display())),
            Err(_) => failures.push(format!("{}: hung for 120 s", file.display())),
        }
        checked += 1;
    }
    assert!(checked >= 90, "only {checked} files checked");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
