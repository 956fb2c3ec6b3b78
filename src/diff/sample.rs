//! Drift between two stored sample profiles, per column and per slice, and slice-first triage:
//! which slices explain the change of a column's mean.
//!
//! Everything reads stored profiles only (counts, moments, KLL sketches, top values), never raw
//! rows. Per-slice drift is weighted by the slice's share of rows (the larger of the two sides),
//! so a slice holding 0.1% of rows cannot outrank a slice holding half of them on an equal score.

use serde::Serialize;

use super::drift::{
    CategoricalInput, ColumnDrift, ColumnInput, DriftOptions, DriftStatus, NumericInput,
    compare_column,
};
use super::stats::{EmpiricalDistribution, MeanContribution, SliceMean, SlicePair, decompose_mean};
use crate::evidence::sample::SampleRecord;
use crate::profile::ColumnStats;
use crate::profile::slice::SliceProfiles;
use crate::profile::{ColumnProfile, TableProfile};

/// Converts a stored column profile into the diff's input.
pub fn column_input(profile: &ColumnProfile) -> ColumnInput {
    match &profile.stats {
        ColumnStats::Numeric(n) => {
            let distribution = EmpiricalDistribution::from_weighted(
                n.sketch
                    .weighted_items()
                    .into_iter()
                    .map(|(v, w)| (v, w as f64)),
            );
            ColumnInput::Numeric(NumericInput {
                rows: profile.rows,
                nulls: profile.nulls,
                nan: n.nan,
                pos_inf: n.pos_inf,
                neg_inf: n.neg_inf,
                finite: n.finite,
                distribution,
                mean: n.moments.mean,
                std: n.variance().map(f64::sqrt),
            })
        }
        ColumnStats::Boolean(b) => ColumnInput::Categorical(CategoricalInput {
            rows: profile.rows,
            nulls: profile.nulls,
            values: [
                ("false".to_owned(), b.false_count),
                ("true".to_owned(), b.true_count),
            ]
            .into_iter()
            .filter(|(_, c)| *c > 0)
            .collect(),
            other: 0,
        }),
        ColumnStats::Categorical(c) => ColumnInput::Categorical(CategoricalInput {
            rows: profile.rows,
            nulls: profile.nulls,
            values: c
                .top
                .values
                .iter()
                .map(|v| (v.value.clone(), v.count))
                .collect(),
            other: c.top.other,
        }),
        _ => ColumnInput::Other {
            rows: profile.rows,
            nulls: profile.nulls,
        },
    }
}

/// Drift of every column present on both sides, in base order, plus columns present on one
/// side only as not comparable.
pub fn compare_profiles(
    base: &TableProfile,
    candidate: &TableProfile,
    options: &DriftOptions,
) -> Vec<ColumnDrift> {
    let mut out = Vec::new();
    for column in &base.columns {
        let Some(other) = candidate.column(&column.name) else {
            continue;
        };
        let mut drift = compare_column(
            &column.name,
            &column_input(column),
            &column_input(other),
            options,
        );
        // Judge a type change once, as a schema change: the distributions are still compared
        // when both sides are numeric (values are in the same unit), otherwise not comparable.
        if column.logical_type != other.logical_type && drift.status != DriftStatus::NotComparable {
            drift.kind = format!("{} -> {}", column.logical_type, other.logical_type);
        }
        out.push(drift);
    }
    out
}

/// One slice's share of a column's mean change.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SliceContribution {
    pub slice_column: String,
    /// Slice value; `None` is the null slice, `"(other)"` the slices beyond the profile's cap.
    pub slice_value: Option<String>,
    pub column: String,
    pub base_rows: u64,
    pub candidate_rows: u64,
    /// Both sides have at least `min_rows` finite values in this slice.
    pub sufficient: bool,
    #[serde(flatten)]
    pub contribution: MeanContribution,
    /// mix + within + interaction.
    pub total: f64,
    /// total / overall change, when the overall change is not zero.
    pub share_of_change: Option<f64>,
}

/// Slices ranked by how much of a column's mean change they explain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeanTriage {
    pub slice_column: String,
    pub column: String,
    pub base_mean: f64,
    pub candidate_mean: f64,
    /// candidate − base; equals the sum of every slice's total.
    pub change: f64,
    /// Sufficient slices first, then by |total| descending.
    pub slices: Vec<SliceContribution>,
}

/// Drift of one column within one slice, weighted by the slice's share of rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SliceDrift {
    pub slice_column: String,
    pub slice_value: Option<String>,
    /// max(base share, candidate share) of rows.
    pub weight: f64,
    /// weight × the column's largest score-to-threshold ratio.
    pub weighted_score: f64,
    pub drift: ColumnDrift,
}

/// Returns the finite count and mean of a numeric column in one profile.
fn slice_mean(profile: &TableProfile, column: &str) -> Option<SliceMean> {
    let col = profile.column(column)?;
    let ColumnStats::Numeric(n) = &col.stats else {
        return None;
    };
    let mean = n.moments.mean?;
    (n.finite > 0).then_some(SliceMean {
        rows: n.finite as f64,
        mean,
    })
}

/// Slices of one slice column as (value, base profile, candidate profile), matched by value.
fn match_slices<'a>(
    base: &'a SliceProfiles,
    candidate: &'a SliceProfiles,
) -> Vec<(
    Option<String>,
    Option<&'a TableProfile>,
    Option<&'a TableProfile>,
)> {
    let mut out: Vec<(Option<String>, Option<&TableProfile>, Option<&TableProfile>)> = Vec::new();
    for slice in &base.slices {
        let other = candidate.slices.iter().find(|s| s.value == slice.value);
        out.push((
            slice.value.clone(),
            Some(&slice.profile),
            other.map(|s| &s.profile),
        ));
    }
    for slice in &candidate.slices {
        if !base.slices.iter().any(|s| s.value == slice.value) {
            out.push((slice.value.clone(), None, Some(&slice.profile)));
        }
    }
    if base.other.is_some() || candidate.other.is_some() {
        out.push((
            Some("(other)".to_owned()),
            base.other.as_ref().map(|o| &o.profile),
            candidate.other.as_ref().map(|o| &o.profile),
        ));
    }
    out
}

/// Splits the mean change of every numeric column by the slices of `slice_column`.
pub fn triage_means(
    base: &SampleRecord,
    candidate: &SampleRecord,
    slice_column: &str,
    min_rows: u64,
) -> Option<Vec<MeanTriage>> {
    let bs = base.slices.iter().find(|s| s.column == slice_column)?;
    let cs = candidate.slices.iter().find(|s| s.column == slice_column)?;
    let matched = match_slices(bs, cs);
    let mut out = Vec::new();
    for column in &base.profile.columns {
        if column.name == slice_column || !matches!(column.stats, ColumnStats::Numeric(_)) {
            continue;
        }
        let pairs: Vec<SlicePair> = matched
            .iter()
            .map(|(_, b, c)| {
                (
                    b.and_then(|p| slice_mean(p, &column.name)),
                    c.and_then(|p| slice_mean(p, &column.name)),
                )
            })
            .collect();
        let Some((change, parts)) = decompose_mean(&pairs) else {
            continue;
        };
        let base_mean = weighted_mean(&pairs, |p| p.0);
        let candidate_mean = weighted_mean(&pairs, |p| p.1);
        let mut slices: Vec<SliceContribution> = matched
            .iter()
            .zip(&pairs)
            .zip(parts)
            .map(|(((value, _, _), (b, c)), contribution)| {
                let base_rows = b.map_or(0, |s| s.rows as u64);
                let candidate_rows = c.map_or(0, |s| s.rows as u64);
                let total = contribution.total();
                SliceContribution {
                    slice_column: slice_column.to_owned(),
                    slice_value: value.clone(),
                    column: column.name.clone(),
                    base_rows,
                    candidate_rows,
                    sufficient: base_rows >= min_rows && candidate_rows >= min_rows,
                    contribution,
                    total,
                    share_of_change: (change != 0.0).then(|| total / change),
                }
            })
            .collect();
        slices.sort_by(|a, b| {
            b.sufficient
                .cmp(&a.sufficient)
                .then(b.total.abs().total_cmp(&a.total.abs()))
                .then(a.slice_value.cmp(&b.slice_value))
        });
        out.push(MeanTriage {
            slice_column: slice_column.to_owned(),
            column: column.name.clone(),
            base_mean,
            candidate_mean,
            change,
            slices,
        });
    }
    Some(out)
}

fn weighted_mean(pairs: &[SlicePair], pick: fn(&SlicePair) -> Option<SliceMean>) -> f64 {
    let (mut rows, mut sum) = (0.0, 0.0);
    for s in pairs.iter().filter_map(pick) {
        rows += s.rows;
        sum += s.rows * s.mean;
    }
    if rows > 0.0 { sum / rows } else { 0.0 }
}

/// Drift of every column within every slice of `slice_column`, ranked by weighted score.
pub fn slice_drift(
    base: &SampleRecord,
    candidate: &SampleRecord,
    slice_column: &str,
    options: &DriftOptions,
) -> Option<Vec<SliceDrift>> {
    let bs = base.slices.iter().find(|s| s.column == slice_column)?;
    let cs = candidate.slices.iter().find(|s| s.column == slice_column)?;
    let (n, m) = (
        base.profile.rows.max(1) as f64,
        candidate.profile.rows.max(1) as f64,
    );
    let empty = TableProfile {
        rows: 0,
        columns: Vec::new(),
    };
    let mut out = Vec::new();
    for (value, b, c) in match_slices(bs, cs) {
        let b = b.unwrap_or(&empty);
        let c = c.unwrap_or(&empty);
        let weight = (b.rows as f64 / n).max(c.rows as f64 / m);
        let columns = if b.columns.is_empty() {
            &c.columns
        } else {
            &b.columns
        };
        for column in columns {
            if column.name == slice_column {
                continue;
            }
            let input = |p: &TableProfile| {
                p.column(&column.name)
                    .map(column_input)
                    .unwrap_or(ColumnInput::Other { rows: 0, nulls: 0 })
            };
            let drift = compare_column(&column.name, &input(b), &input(c), options);
            let weighted_score = match drift.status {
                DriftStatus::Changed | DriftStatus::Unchanged => weight * drift.worst_ratio(),
                _ => 0.0,
            };
            out.push(SliceDrift {
                slice_column: slice_column.to_owned(),
                slice_value: value.clone(),
                weight,
                weighted_score,
                drift,
            });
        }
    }
    out.sort_by(|a, b| {
        b.weighted_score
            .total_cmp(&a.weighted_score)
            .then(a.slice_value.cmp(&b.slice_value))
            .then(a.drift.column.cmp(&b.drift.column))
    });
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::evidence::{CaptureContext, EvidenceRecord, Kind, capture};
    use std::sync::atomic::AtomicBool;

    /// Captures a sample record from CSV text, sliced by `carrier`.
    pub(crate) fn sample_from_csv(csv: &str) -> SampleRecord {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flights.csv");
        std::fs::write(&path, csv).unwrap();
        let table: toml::Table = toml::from_str("slice_by = [\"carrier\"]").unwrap();
        let interrupt = AtomicBool::new(false);
        let ctx = CaptureContext {
            interrupt: &interrupt,
            allow_failed: false,
            timeout: None,
            redact_key: None,
        };
        let captured = capture(Kind::Sample, &table, dir.path(), &[path], &ctx).unwrap();
        match captured.record {
            EvidenceRecord::Sample(s) => s,
            other => panic!("expected a sample record, got {other:?}"),
        }
    }

    /// `rows` flights per carrier with a constant delay each.
    pub(crate) fn flights(groups: &[(&str, usize, f64)]) -> String {
        let mut csv = String::from("carrier,dep_delay\n");
        for (carrier, rows, delay) in groups {
            for i in 0..*rows {
                // A small spread keeps the column from being constant.
                csv.push_str(&format!("{carrier},{}\n", delay + (i % 5) as f64));
            }
        }
        csv
    }

    #[test]
    fn triage_ranks_the_slice_that_moved() {
        let base = sample_from_csv(&flights(&[
            ("AA", 200, 10.0),
            ("UA", 100, 12.0),
            ("DL", 100, 8.0),
        ]));
        let cand = sample_from_csv(&flights(&[
            ("AA", 200, 10.0),
            ("UA", 100, 724.0),
            ("DL", 100, 8.0),
        ]));
        let triage = triage_means(&base, &cand, "carrier", 30).unwrap();
        let delay = triage.iter().find(|t| t.column == "dep_delay").unwrap();
        // Only UA's mean moved, by 712 over a quarter of rows: 178 of the overall change.
        assert!((delay.change - 178.0).abs() < 1e-9);
        let sum: f64 = delay.slices.iter().map(|s| s.total).sum();
        assert!((sum - delay.change).abs() < 1e-9);
        let top = &delay.slices[0];
        assert_eq!(top.slice_value.as_deref(), Some("UA"));
        assert!((top.contribution.within - 178.0).abs() < 1e-9);
        assert!((top.share_of_change.unwrap() - 1.0).abs() < 1e-9);
        assert!((top.contribution.base_mean.unwrap() - 14.0).abs() < 1e-9);
        assert!((top.contribution.candidate_mean.unwrap() - 726.0).abs() < 1e-9);
    }

    #[test]
    fn slice_drift_weights_by_share() {
        // A tiny slice (5 rows) moves hugely, a large one moderately.
        let base = sample_from_csv(&flights(&[("AA", 400, 10.0), ("XX", 5, 10.0)]));
        let cand = sample_from_csv(&flights(&[("AA", 400, 14.0), ("XX", 5, 1000.0)]));
        let ranked = slice_drift(&base, &cand, "carrier", &DriftOptions::default()).unwrap();
        let first = ranked
            .iter()
            .find(|d| d.drift.column == "dep_delay")
            .unwrap();
        assert_eq!(first.slice_value.as_deref(), Some("AA"));
        let tiny = ranked
            .iter()
            .find(|d| d.slice_value.as_deref() == Some("XX") && d.drift.column == "dep_delay")
            .unwrap();
        assert_eq!(tiny.drift.status, DriftStatus::InsufficientData);
        assert_eq!(tiny.weighted_score, 0.0);
    }

    #[test]
    fn profiles_compare_from_sketches() {
        let base = sample_from_csv(&flights(&[("AA", 300, 10.0)]));
        let same = compare_profiles(&base.profile, &base.profile, &DriftOptions::default());
        assert!(same.iter().all(|d| d.status == DriftStatus::Unchanged));
        let cand = sample_from_csv(&flights(&[("AA", 300, 30.0)]));
        let moved = compare_profiles(&base.profile, &cand.profile, &DriftOptions::default());
        let delay = moved.iter().find(|d| d.column == "dep_delay").unwrap();
        assert_eq!(delay.status, DriftStatus::Changed);
        // Every value moved above the base maximum (14): KS D = 1.
        assert_eq!(
            delay.score(super::super::drift::Metric::Ks).unwrap().value,
            Some(1.0)
        );
    }

    #[test]
    fn missing_slice_column_is_none() {
        let base = sample_from_csv(&flights(&[("AA", 50, 10.0)]));
        assert!(triage_means(&base, &base, "nope", 30).is_none());
    }
}
