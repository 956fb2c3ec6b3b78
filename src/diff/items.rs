//! Diffs of model records and metrics records.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::evidence::flat::Scalar;
use crate::evidence::metrics::MetricsRecord;
use crate::evidence::model::{Artifact, ArtifactDetail, ModelRecord, TensorInfo};

/// A metric's old and new value with absolute and relative change.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricChange {
    pub name: String,
    /// Display form of the old value (numbers, `NaN`, `+inf`, text), absent when added.
    pub old: Option<String>,
    pub new: Option<String>,
    /// new − old when both are finite numbers.
    pub abs_delta: Option<f64>,
    /// (new − old)/|old| when both are finite numbers and old ≠ 0.
    pub rel_delta: Option<f64>,
}

impl MetricChange {
    fn numeric(name: &str, old: Option<f64>, new: Option<f64>) -> Self {
        let (abs_delta, rel_delta) = match (old, new) {
            (Some(a), Some(b)) => (Some(b - a), (a != 0.0).then(|| (b - a) / a.abs())),
            _ => (None, None),
        };
        Self {
            name: name.to_owned(),
            old: old.map(format_number),
            new: new.map(format_number),
            abs_delta,
            rel_delta,
        }
    }
}

/// Formats a number without trailing noise: integers without a fraction, others with up to 6
/// significant decimals.
pub fn format_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+inf".into()
        } else {
            "-inf".into()
        };
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Int(v) => v.to_string(),
        Scalar::UInt(v) => v.to_string(),
        Scalar::Number(v) => format_number(*v),
        Scalar::NonFinite { non_finite } => format!("{non_finite:?}"),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Text(t) => format!("{t:?}"),
        Scalar::Null => "null".into(),
    }
}

/// Changes between two metrics records: every name whose value differs, was added or removed.
pub fn diff_metrics(base: &MetricsRecord, candidate: &MetricsRecord) -> Vec<MetricChange> {
    let text = |r: &MetricsRecord, name: &str| -> Option<String> {
        if let Some(v) = r.values.get(name) {
            return Some(format_number(*v));
        }
        if let Some(v) = r.non_finite.get(name) {
            return Some(format!("{v:?}"));
        }
        r.non_numeric.get(name).map(scalar_text)
    };
    let names: BTreeSet<&String> = [base, candidate]
        .iter()
        .flat_map(|r| {
            r.values
                .keys()
                .chain(r.non_finite.keys())
                .chain(r.non_numeric.keys())
        })
        .collect();
    let mut out = Vec::new();
    for name in names {
        match (base.values.get(name), candidate.values.get(name)) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(a), Some(b)) => out.push(MetricChange::numeric(name, Some(*a), Some(*b))),
            _ => {
                let (old, new) = (text(base, name), text(candidate, name));
                if old != new {
                    out.push(MetricChange {
                        name: name.clone(),
                        old,
                        new,
                        abs_delta: None,
                        rel_delta: None,
                    });
                }
            }
        }
    }
    out
}

fn scalar_changes(
    prefix: &str,
    base: &BTreeMap<String, Scalar>,
    candidate: &BTreeMap<String, Scalar>,
) -> Vec<MetricChange> {
    let names: BTreeSet<&String> = base.keys().chain(candidate.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        let (a, b) = (base.get(name), candidate.get(name));
        if a == b {
            continue;
        }
        let full = format!("{prefix}{name}");
        match (a.and_then(Scalar::as_f64), b.and_then(Scalar::as_f64)) {
            (Some(x), Some(y)) => out.push(MetricChange::numeric(&full, Some(x), Some(y))),
            _ => out.push(MetricChange {
                name: full,
                old: a.map(scalar_text),
                new: b.map(scalar_text),
                abs_delta: None,
                rel_delta: None,
            }),
        }
    }
    out
}

/// One change in a model record.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ModelChange {
    Artifact {
        path: String,
        /// added, removed or modified.
        status: String,
        old_bytes: Option<u64>,
        new_bytes: Option<u64>,
    },
    Tensor {
        artifact: String,
        name: String,
        /// added, removed, shape, dtype, values (same shape and dtype, other bytes).
        status: String,
        old_dtype: Option<String>,
        new_dtype: Option<String>,
        old_shape: Option<Vec<u64>>,
        new_shape: Option<Vec<u64>>,
    },
    /// Model metadata field, hyper-parameter (`hyperparameters.` prefix), metric (`metrics.`)
    /// or other key.
    Metadata(MetricChange),
}

impl ModelChange {
    /// Short path of what changed, for the report.
    pub fn path(&self) -> String {
        match self {
            ModelChange::Artifact { path, .. } => path.clone(),
            ModelChange::Tensor { artifact, name, .. } => format!("{artifact}:{name}"),
            ModelChange::Metadata(m) => m.name.clone(),
        }
    }

    pub fn status(&self) -> String {
        match self {
            ModelChange::Artifact { status, .. } | ModelChange::Tensor { status, .. } => {
                status.clone()
            }
            ModelChange::Metadata(_) => "changed".into(),
        }
    }
}

fn tensors(a: &Artifact) -> &[TensorInfo] {
    match &a.detail {
        ArtifactDetail::Safetensors { tensors, .. } => tensors,
        _ => &[],
    }
}

fn diff_tensors(path: &str, base: &[TensorInfo], cand: &[TensorInfo], out: &mut Vec<ModelChange>) {
    let names: BTreeSet<&String> = base.iter().chain(cand).map(|t| &t.name).collect();
    for name in names {
        let a = base.iter().find(|t| &t.name == name);
        let b = cand.iter().find(|t| &t.name == name);
        let status = match (a, b) {
            (Some(_), None) => "removed",
            (None, Some(_)) => "added",
            (Some(x), Some(y)) if x.shape != y.shape => "shape",
            (Some(x), Some(y)) if x.dtype != y.dtype => "dtype",
            (Some(x), Some(y)) if x.blake3 != y.blake3 => "values",
            _ => continue,
        };
        out.push(ModelChange::Tensor {
            artifact: path.to_owned(),
            name: name.clone(),
            status: status.to_owned(),
            old_dtype: a.map(|t| t.dtype.clone()),
            new_dtype: b.map(|t| t.dtype.clone()),
            old_shape: a.map(|t| t.shape.clone()),
            new_shape: b.map(|t| t.shape.clone()),
        });
    }
}

/// Changes between two model records: artifacts, tensors, metadata, hyper-parameters, metrics.
pub fn diff_model(base: &ModelRecord, candidate: &ModelRecord) -> Vec<ModelChange> {
    let mut out = Vec::new();
    let paths: BTreeSet<&String> = base
        .artifacts
        .iter()
        .chain(&candidate.artifacts)
        .map(|a| &a.path)
        .collect();
    for path in paths {
        let a = base.artifacts.iter().find(|x| &x.path == path);
        let b = candidate.artifacts.iter().find(|x| &x.path == path);
        let status = match (a, b) {
            (Some(_), None) => "removed",
            (None, Some(_)) => "added",
            (Some(x), Some(y)) if x.blake3 != y.blake3 => "modified",
            _ => continue,
        };
        out.push(ModelChange::Artifact {
            path: path.clone(),
            status: status.to_owned(),
            old_bytes: a.map(|x| x.bytes),
            new_bytes: b.map(|x| x.bytes),
        });
        diff_tensors(
            path,
            a.map(tensors).unwrap_or(&[]),
            b.map(tensors).unwrap_or(&[]),
            &mut out,
        );
    }
    let empty = Default::default();
    let ma = base.metadata.as_ref().unwrap_or(&empty);
    let mb = candidate.metadata.as_ref().unwrap_or(&empty);
    for (field, x, y) in [
        ("name", &ma.name, &mb.name),
        ("version", &ma.version, &mb.version),
        ("framework", &ma.framework, &mb.framework),
        ("training_data", &ma.training_data, &mb.training_data),
    ] {
        if x != y {
            out.push(ModelChange::Metadata(MetricChange {
                name: field.to_owned(),
                old: x.clone(),
                new: y.clone(),
                abs_delta: None,
                rel_delta: None,
            }));
        }
    }
    for (prefix, x, y) in [
        ("hyperparameters.", &ma.hyperparameters, &mb.hyperparameters),
        ("metrics.", &ma.metrics, &mb.metrics),
        ("", &ma.other, &mb.other),
    ] {
        out.extend(
            scalar_changes(prefix, x, y)
                .into_iter()
                .map(ModelChange::Metadata),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(values: &[(&str, f64)]) -> MetricsRecord {
        MetricsRecord {
            format: 1,
            files: vec!["metrics.json".into()],
            values: values.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            non_finite: BTreeMap::new(),
            non_numeric: BTreeMap::new(),
        }
    }

    #[test]
    fn metric_deltas() {
        let a = metrics(&[("eval.auc", 0.80), ("eval.loss", 0.5), ("gone", 1.0)]);
        let b = metrics(&[("eval.auc", 0.76), ("eval.loss", 0.5), ("new", 2.0)]);
        let changes = diff_metrics(&a, &b);
        assert_eq!(changes.len(), 3);
        let auc = &changes[0];
        assert_eq!(auc.name, "eval.auc");
        assert!((auc.abs_delta.unwrap() + 0.04).abs() < 1e-12);
        assert!((auc.rel_delta.unwrap() + 0.05).abs() < 1e-12);
        assert_eq!(changes[1].name, "gone");
        assert_eq!(changes[1].new, None);
        assert_eq!(changes[2].old, None);
        assert!(diff_metrics(&a, &a).is_empty());
    }

    fn tensor(name: &str, dtype: &str, shape: &[u64], hash: &str) -> TensorInfo {
        TensorInfo {
            name: name.into(),
            dtype: dtype.into(),
            shape: shape.to_vec(),
            bytes: shape.iter().product::<u64>() * 4,
            blake3: hash.into(),
        }
    }

    fn model(tensors: Vec<TensorInfo>, lr: f64) -> ModelRecord {
        let mut metadata = crate::evidence::model::ModelMetadata {
            version: Some("1".into()),
            ..Default::default()
        };
        metadata
            .hyperparameters
            .insert("lr".into(), Scalar::Number(lr));
        ModelRecord {
            format: 1,
            artifacts: vec![Artifact {
                path: "model.safetensors".into(),
                bytes: 100,
                blake3: format!("{tensors:?}"),
                detail: ArtifactDetail::Safetensors {
                    metadata: BTreeMap::new(),
                    tensors,
                },
            }],
            metadata: Some(metadata),
        }
    }

    #[test]
    fn model_tensors_and_hyperparameters() {
        let a = model(
            vec![
                tensor("w1", "F32", &[4, 4], "h1"),
                tensor("w2", "F32", &[4], "h2"),
                tensor("w3", "F32", &[2], "h3"),
                tensor("old", "F32", &[1], "h4"),
            ],
            0.01,
        );
        let b = model(
            vec![
                tensor("w1", "F32", &[4, 8], "h1b"),
                tensor("w2", "F16", &[4], "h2b"),
                tensor("w3", "F32", &[2], "h3b"),
                tensor("new", "F32", &[1], "h5"),
            ],
            0.02,
        );
        let changes = diff_model(&a, &b);
        let statuses: Vec<(String, String)> =
            changes.iter().map(|c| (c.path(), c.status())).collect();
        assert!(statuses.contains(&("model.safetensors".into(), "modified".into())));
        assert!(statuses.contains(&("model.safetensors:w1".into(), "shape".into())));
        assert!(statuses.contains(&("model.safetensors:w2".into(), "dtype".into())));
        assert!(statuses.contains(&("model.safetensors:w3".into(), "values".into())));
        assert!(statuses.contains(&("model.safetensors:old".into(), "removed".into())));
        assert!(statuses.contains(&("model.safetensors:new".into(), "added".into())));
        let lr = changes.iter().find_map(|c| match c {
            ModelChange::Metadata(m) if m.name == "hyperparameters.lr" => Some(m),
            _ => None,
        });
        assert_eq!(lr.unwrap().old.as_deref(), Some("0.01"));
        assert_eq!(lr.unwrap().new.as_deref(), Some("0.02"));
        assert!(diff_model(&a, &a).is_empty());
    }

    #[test]
    fn number_formatting() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(f64::NAN), "NaN");
        assert_eq!(format_number(-2.5), "-2.5");
    }
}
