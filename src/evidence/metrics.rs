//! `metrics` evidence: numbers from JSON, YAML or TOML files, flattened to dotted names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::flat::{DocumentFormat, NonFinite, Scalar, flatten_unique, read_document};
use super::{Error, RECORD_FORMAT, display_path};

/// Options of a `metrics` item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsOptions {
    /// Document format; by default taken from each file's extension.
    pub format: Option<DocumentFormat>,
    /// Prefix every name with the file's path relative to the workspace (`reports/eval.json:`),
    /// for items matching several files. Without it, a name present in two files is an error.
    pub prefix_with_file: bool,
}

/// Stored metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsRecord {
    pub format: u32,
    /// Files read, relative to the workspace.
    pub files: Vec<String>,
    /// Finite numeric leaves by dotted name (`eval.auc`, `slice.carrier=UA.mae`).
    pub values: BTreeMap<String, f64>,
    /// NaN and infinite leaves by dotted name.
    pub non_finite: BTreeMap<String, NonFinite>,
    /// Leaves that are not numbers (strings, booleans, nulls), by dotted name.
    pub non_numeric: BTreeMap<String, Scalar>,
}

pub(crate) fn capture(
    options: &MetricsOptions,
    workspace: &Path,
    files: &[PathBuf],
) -> Result<MetricsRecord, Error> {
    if files.is_empty() {
        return Err(Error::FileCount {
            kind: "metrics",
            expected: "at least one file",
            found: 0,
        });
    }
    let mut record = MetricsRecord {
        format: RECORD_FORMAT,
        ..MetricsRecord::default()
    };
    for path in files {
        let shown = display_path(workspace, path);
        let node = read_document(path, options.format)?;
        let prefix = if options.prefix_with_file {
            format!("{shown}:")
        } else {
            String::new()
        };
        let mut leaves = BTreeMap::new();
        flatten_unique(&node, "", &mut leaves).map_err(|name| Error::Parse {
            path: path.clone(),
            format: "metrics",
            message: format!(
                "two values flatten to the metric name `{name}` (a dotted key beside nested \
                 keys); rename one of them"
            ),
        })?;
        for (name, value) in leaves {
            let name = format!("{prefix}{name}");
            let duplicate = record.values.contains_key(&name)
                || record.non_finite.contains_key(&name)
                || record.non_numeric.contains_key(&name);
            if duplicate {
                return Err(Error::Parse {
                    path: path.clone(),
                    format: "metrics",
                    message: format!(
                        "metric `{name}` also appears in an earlier file; set prefix_with_file = true"
                    ),
                });
            }
            insert(&mut record, name, value);
        }
        record.files.push(shown);
    }
    Ok(record)
}

fn insert(record: &mut MetricsRecord, name: String, value: Scalar) {
    match value {
        Scalar::NonFinite { non_finite } => {
            record.non_finite.insert(name, non_finite);
        }
        other => match other.as_f64() {
            Some(number) => {
                record.values.insert(name, number);
            }
            None => {
                record.non_numeric.insert(name, other);
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture_text(name: &str, text: &str) -> Result<MetricsRecord, Error> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        capture(&MetricsOptions::default(), dir.path(), &[path])
    }

    #[test]
    fn json_metrics_flatten() {
        let record = capture_text(
            "m.json",
            r#"{"eval": {"auc": 0.93, "n": 1200}, "slice": {"carrier=UA": {"mae": 1.5}},
                "model": "v3", "ok": true, "note": null}"#,
        )
        .unwrap();
        assert_eq!(record.values["eval.auc"], 0.93);
        assert_eq!(record.values["eval.n"], 1200.0);
        assert_eq!(record.values["slice.carrier=UA.mae"], 1.5);
        assert_eq!(record.non_numeric["model"], Scalar::Text("v3".into()));
        assert_eq!(record.non_numeric["ok"], Scalar::Bool(true));
        assert_eq!(record.non_numeric["note"], Scalar::Null);
        assert_eq!(record.files, vec!["m.json".to_string()]);
    }

    #[test]
    fn json_duplicate_key_rejected() {
        let error = capture_text("m.json", "{\"eval\": {\"auc\": 0.9, \"auc\": 0.5}}").unwrap_err();
        assert!(
            matches!(error, Error::Parse { format: "JSON", .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("duplicate key `auc`"), "{message}");
        assert!(message.contains("m.json"), "{message}");

        // The YAML and TOML parsers reject repeats too, so all three formats agree.
        let error = capture_text("m.yaml", "auc: 0.9\nauc: 0.5\n").unwrap_err();
        assert!(
            matches!(error, Error::Parse { format: "YAML", .. }),
            "{error:?}"
        );
        let error = capture_text("m.toml", "auc = 0.9\nauc = 0.5\n").unwrap_err();
        assert!(
            matches!(error, Error::Parse { format: "TOML", .. }),
            "{error:?}"
        );

        // YAML keys of different types that render alike would give one flattened name.
        let error = capture_text("m.yaml", "1: 0.9\n'1': 0.5\n").unwrap_err();
        assert!(error.to_string().contains("duplicate"), "{error}");

        // A dotted key and nested keys that flatten to one name would lose a value.
        let error = capture_text("m.json", "{\"a.b\": 1, \"a\": {\"b\": 2}}").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("metric name `a.b`"), "{message}");
        assert!(message.contains("m.json"), "{message}");

        // The same key in different objects is no repeat.
        let record =
            capture_text("m.json", "{\"a\": {\"auc\": 0.9}, \"b\": {\"auc\": 0.5}}").unwrap();
        assert_eq!(record.values["a.auc"], 0.9);
        assert_eq!(record.values["b.auc"], 0.5);
    }

    #[test]
    fn yaml_non_finite_kept_explicitly() {
        let record = capture_text(
            "m.yaml",
            "latency:\n  p99: 120.5\n  p50: .nan\nloss: -.inf\nruns: [1, 2]\n",
        )
        .unwrap();
        assert_eq!(record.values["latency.p99"], 120.5);
        assert_eq!(record.non_finite["latency.p50"], NonFinite::Nan);
        assert_eq!(record.non_finite["loss"], NonFinite::NegInf);
        assert_eq!(record.values["runs.1"], 2.0);
        let json = serde_json::to_string(&record).unwrap();
        assert!(!json.contains("null"), "{json}");
    }

    #[test]
    fn toml_metrics_and_errors() {
        let record = capture_text("m.toml", "[eval]\nauc = 0.9\nrecall = inf\n").unwrap();
        assert_eq!(record.values["eval.auc"], 0.9);
        assert_eq!(record.non_finite["eval.recall"], NonFinite::PosInf);
        let error = capture_text("m.json", "{not json").unwrap_err();
        assert!(
            matches!(error, Error::Parse { format: "JSON", .. }),
            "{error}"
        );
        let error = capture_text("m.txt", "1").unwrap_err();
        assert!(matches!(error, Error::Parse { .. }), "{error}");
    }
}
