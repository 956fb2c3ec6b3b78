//! Per-column drift between two stored column profiles, with thresholds, noise expectations and a
//! status per score.
//!
//! PSI and Jensen–Shannon distance use buckets fixed by the base. Numeric columns get base
//! quantile bins plus underflow and overflow, categorical columns the base's top values plus
//! `other` and `unseen`, and both get null, NaN, +inf and −inf buckets of their own. KS and
//! normalised Wasserstein-1 compare finite values, and two more scores track the null and NaN rates. A score counts as changed when it exceeds
//! both its threshold and [`DriftOptions::noise_multiplier`] times the score expected from
//! sampling noise alone, so small samples cannot raise alarms their size explains.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::stats::{self, BaseBins, EmpiricalDistribution};

/// A numeric column's profile as the diff needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NumericInput {
    pub rows: u64,
    pub nulls: u64,
    pub nan: u64,
    pub pos_inf: u64,
    pub neg_inf: u64,
    /// Number of finite values; the distribution's weights are scaled to this count.
    pub finite: u64,
    /// Finite values, exact or from a quantile sketch.
    pub distribution: EmpiricalDistribution,
    /// Mean and population standard deviation of the finite values, from exact moments when the
    /// profile has them.
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

/// A categorical (string, boolean) column's profile as the diff needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CategoricalInput {
    pub rows: u64,
    pub nulls: u64,
    /// Counts of the tracked values.
    pub values: BTreeMap<String, u64>,
    /// Non-null values not tracked (beyond the profile's cap).
    pub other: u64,
}

/// One column's profile.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnInput {
    Numeric(NumericInput),
    Categorical(CategoricalInput),
    /// A column without a distribution (nested, unsupported): only rows and nulls are known.
    Other {
        rows: u64,
        nulls: u64,
    },
}

impl ColumnInput {
    pub fn rows(&self) -> u64 {
        match self {
            ColumnInput::Numeric(n) => n.rows,
            ColumnInput::Categorical(c) => c.rows,
            ColumnInput::Other { rows, .. } => *rows,
        }
    }

    pub fn nulls(&self) -> u64 {
        match self {
            ColumnInput::Numeric(n) => n.nulls,
            ColumnInput::Categorical(c) => c.nulls,
            ColumnInput::Other { nulls, .. } => *nulls,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ColumnInput::Numeric(_) => "numeric",
            ColumnInput::Categorical(_) => "categorical",
            ColumnInput::Other { .. } => "other",
        }
    }
}

/// Thresholds of each score; a score above its threshold (and above the noise bound) is a change.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// PSI, nats. 0.1 is the conventional "moderate shift" level of credit-scoring practice
    /// (0.25 "major").
    pub psi: f64,
    /// Jensen–Shannon distance, base 2. 0.1 is Evidently's default (which uses natural logs, so
    /// this is slightly stricter).
    pub js: f64,
    /// KS statistic D. 0.2 is Deepchecks' default.
    pub ks: f64,
    /// Wasserstein-1 over the base standard deviation. 0.1 is Evidently's default.
    pub wasserstein: f64,
    /// Absolute change of the null rate. 0.05 is ev's own choice; no common tool sets one.
    pub null_rate: f64,
    /// Absolute change of the NaN rate (share of all rows). 0.05, as for nulls.
    pub nan_rate: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            psi: 0.1,
            js: 0.1,
            ks: 0.2,
            wasserstein: 0.1,
            null_rate: 0.05,
            nan_rate: 0.05,
        }
    }
}

/// Options of a drift comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftOptions {
    /// Number of base quantile bins for numeric columns (deciles by default).
    pub bins: usize,
    /// Base categories kept as their own buckets, by base count; the rest form `other`.
    pub top_categories: usize,
    /// Rows each side needs before scores are judged; below it the status is insufficient data.
    /// 30 is the usual rule of thumb for normal approximations (Deepchecks uses 10).
    pub min_rows: u64,
    /// A score is a change only above this multiple of its noise expectation. At 2, a
    /// no-change PSI with 10 bins exceeds the bound about 3% of the time (chi-square, 9 degrees
    /// of freedom, above 18) and a no-change KS about 0.5% of the time.
    pub noise_multiplier: f64,
    pub thresholds: Thresholds,
    /// Thresholds per column name, replacing the defaults for that column.
    pub columns: BTreeMap<String, Thresholds>,
}

impl Default for DriftOptions {
    fn default() -> Self {
        Self {
            bins: 10,
            top_categories: 20,
            min_rows: 30,
            noise_multiplier: 2.0,
            thresholds: Thresholds::default(),
            columns: BTreeMap::new(),
        }
    }
}

impl DriftOptions {
    pub fn thresholds_for(&self, column: &str) -> Thresholds {
        self.columns.get(column).copied().unwrap_or(self.thresholds)
    }
}

/// Verdict on a column or a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftStatus {
    Changed,
    Unchanged,
    /// A side has fewer than `min_rows` rows.
    InsufficientData,
    /// Exactly one side has no rows.
    Empty,
    /// Both sides are empty, or the column kinds differ, or the score is undefined here.
    NotComparable,
}

/// The scores ev computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Psi,
    Js,
    Ks,
    Wasserstein,
    NullRate,
    NanRate,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::Psi,
        Metric::Js,
        Metric::Ks,
        Metric::Wasserstein,
        Metric::NullRate,
        Metric::NanRate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Psi => "psi",
            Metric::Js => "js",
            Metric::Ks => "ks",
            Metric::Wasserstein => "wasserstein",
            Metric::NullRate => "null_rate",
            Metric::NanRate => "nan_rate",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    fn threshold(self, t: &Thresholds) -> f64 {
        match self {
            Metric::Psi => t.psi,
            Metric::Js => t.js,
            Metric::Ks => t.ks,
            Metric::Wasserstein => t.wasserstein,
            Metric::NullRate => t.null_rate,
            Metric::NanRate => t.nan_rate,
        }
    }
}

/// One score with what it takes to judge it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    pub metric: Metric,
    /// The score; for rates, the signed change candidate − base. `None` when undefined.
    pub value: Option<f64>,
    pub threshold: f64,
    /// The score expected from sampling noise alone with these sample sizes.
    pub noise: f64,
    pub status: DriftStatus,
}

impl Score {
    /// Returns the magnitude compared with thresholds: |value|, so signed rate changes count both ways.
    pub fn magnitude(&self) -> Option<f64> {
        self.value.map(f64::abs)
    }
}

/// Bucket counts behind PSI and JS, for the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bucket {
    pub label: String,
    pub base: f64,
    pub candidate: f64,
}

/// Values of the candidate outside the base range.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RangeBreach {
    pub base_min: f64,
    pub base_max: f64,
    pub candidate_min: f64,
    pub candidate_max: f64,
    /// Share of candidate finite values below the base minimum.
    pub below: f64,
    /// Share of candidate finite values above the base maximum.
    pub above: f64,
}

/// Drift of one column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnDrift {
    pub column: String,
    pub kind: String,
    pub base_rows: u64,
    pub candidate_rows: u64,
    pub status: DriftStatus,
    pub scores: Vec<Score>,
    pub base_mean: Option<f64>,
    pub candidate_mean: Option<f64>,
    /// Candidate categories absent from the base's tracked values (at most 20 listed).
    pub new_categories: Vec<String>,
    /// Base categories absent from the candidate's tracked values (at most 20 listed).
    pub vanished_categories: Vec<String>,
    pub range: Option<RangeBreach>,
    pub buckets: Vec<Bucket>,
}

impl ColumnDrift {
    pub fn score(&self, metric: Metric) -> Option<&Score> {
        self.scores.iter().find(|s| s.metric == metric)
    }

    /// The largest score relative to its effective threshold, for ranking.
    pub fn worst_ratio(&self) -> f64 {
        self.scores
            .iter()
            .filter_map(|s| {
                s.magnitude()
                    .map(|v| v / s.threshold.max(f64::MIN_POSITIVE))
            })
            .fold(0.0, f64::max)
    }
}

/// Most category names listed as new or vanished.
const MAX_LISTED_CATEGORIES: usize = 20;

fn judge(
    metric: Metric,
    value: Option<f64>,
    noise: f64,
    t: &Thresholds,
    opts: &DriftOptions,
) -> Score {
    let threshold = metric.threshold(t);
    let status = match value {
        None => DriftStatus::NotComparable,
        Some(v) => {
            let bound = threshold.max(opts.noise_multiplier * noise);
            if v.abs() > bound {
                DriftStatus::Changed
            } else {
                DriftStatus::Unchanged
            }
        }
    };
    Score {
        metric,
        value,
        threshold,
        noise,
        status,
    }
}

fn rate(part: u64, rows: u64) -> f64 {
    if rows == 0 {
        0.0
    } else {
        part as f64 / rows as f64
    }
}

/// Buckets of a numeric column: null, NaN, +inf, −inf, then the base bins (or one `finite`
/// bucket when the base has no finite values).
fn numeric_buckets(base: &NumericInput, cand: &NumericInput, bins: usize) -> (Vec<Bucket>, usize) {
    let mut out = vec![
        Bucket {
            label: "null".into(),
            base: base.nulls as f64,
            candidate: cand.nulls as f64,
        },
        Bucket {
            label: "NaN".into(),
            base: base.nan as f64,
            candidate: cand.nan as f64,
        },
        Bucket {
            label: "+inf".into(),
            base: base.pos_inf as f64,
            candidate: cand.pos_inf as f64,
        },
        Bucket {
            label: "-inf".into(),
            base: base.neg_inf as f64,
            candidate: cand.neg_inf as f64,
        },
    ];
    // Under no change a continuous candidate reaches beyond both base extremes, so the two tail
    // buckets count towards the noise expectation whenever the base has finite values.
    let mut tails = 0;
    match BaseBins::from_quantiles(&base.distribution, bins) {
        Some(base_bins) => {
            let b = base_bins.weights(&base.distribution, base.finite as f64);
            let c = base_bins.weights(&cand.distribution, cand.finite as f64);
            for ((label, b), c) in base_bins.labels().into_iter().zip(b).zip(c) {
                out.push(Bucket {
                    label,
                    base: b,
                    candidate: c,
                });
            }
            tails = 2;
        }
        None => out.push(Bucket {
            label: "finite".into(),
            base: base.finite as f64,
            candidate: cand.finite as f64,
        }),
    }
    let occupied = out.iter().filter(|b| b.base > 0.0).count();
    (out, occupied + tails)
}

/// Buckets of a categorical column: null, the base's top values, `other`, `unseen`.
fn categorical_buckets(
    base: &CategoricalInput,
    cand: &CategoricalInput,
    top: usize,
) -> (Vec<Bucket>, usize) {
    let mut ranked: Vec<(&String, &u64)> = base.values.iter().collect();
    // Highest count first, ties by value, so the bucket set is deterministic.
    ranked.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let kept: BTreeSet<&String> = ranked.iter().take(top).map(|(v, _)| *v).collect();
    let mut out = vec![Bucket {
        label: "null".into(),
        base: base.nulls as f64,
        candidate: cand.nulls as f64,
    }];
    for (value, count) in ranked.iter().take(top) {
        out.push(Bucket {
            label: (*value).clone(),
            base: **count as f64,
            candidate: cand.values.get(*value).copied().unwrap_or(0) as f64,
        });
    }
    let base_other: u64 = base.other
        + base
            .values
            .iter()
            .filter(|(v, _)| !kept.contains(v))
            .map(|(_, c)| c)
            .sum::<u64>();
    let mut cand_other = cand.other;
    let mut cand_unseen = 0;
    for (value, count) in &cand.values {
        if kept.contains(value) {
            continue;
        }
        if base.values.contains_key(value) {
            cand_other += count;
        } else {
            cand_unseen += count;
        }
    }
    out.push(Bucket {
        label: "other".into(),
        base: base_other as f64,
        candidate: cand_other as f64,
    });
    out.push(Bucket {
        label: "unseen".into(),
        base: 0.0,
        candidate: cand_unseen as f64,
    });
    let occupied = out.iter().filter(|b| b.base > 0.0).count();
    (out, occupied)
}

/// Compares one column's base and candidate profiles.
pub fn compare_column(
    column: &str,
    base: &ColumnInput,
    cand: &ColumnInput,
    opts: &DriftOptions,
) -> ColumnDrift {
    let t = opts.thresholds_for(column);
    let (n, m) = (base.rows(), cand.rows());
    let mut drift = ColumnDrift {
        column: column.to_owned(),
        kind: base.kind().to_owned(),
        base_rows: n,
        candidate_rows: m,
        status: DriftStatus::Unchanged,
        scores: Vec::new(),
        base_mean: None,
        candidate_mean: None,
        new_categories: Vec::new(),
        vanished_categories: Vec::new(),
        range: None,
        buckets: Vec::new(),
    };
    if n == 0 && m == 0 {
        drift.status = DriftStatus::NotComparable;
        return drift;
    }
    if base.kind() != cand.kind() {
        drift.kind = format!("{} -> {}", base.kind(), cand.kind());
        drift.status = DriftStatus::NotComparable;
        return drift;
    }
    let (nf, mf) = (n as f64, m as f64);

    let base_null = rate(base.nulls(), n);
    let null_change = (n > 0 && m > 0).then(|| rate(cand.nulls(), m) - base_null);
    drift.scores.push(judge(
        Metric::NullRate,
        null_change,
        stats::noise_rate(base_null, nf, mf),
        &t,
        opts,
    ));

    let (buckets, noise_buckets) = match (base, cand) {
        (ColumnInput::Numeric(b), ColumnInput::Numeric(c)) => {
            let base_nan = rate(b.nan, n);
            let nan_change = (n > 0 && m > 0).then(|| rate(c.nan, m) - base_nan);
            drift.scores.push(judge(
                Metric::NanRate,
                nan_change,
                stats::noise_rate(base_nan, nf, mf),
                &t,
                opts,
            ));
            let (finite_n, finite_m) = (b.finite as f64, c.finite as f64);
            let ks = stats::ks_statistic(&b.distribution, &c.distribution);
            drift.scores.push(judge(
                Metric::Ks,
                ks,
                stats::noise_ks(finite_n, finite_m),
                &t,
                opts,
            ));
            let scale = stats::wasserstein_scale(&b.distribution);
            let w = stats::wasserstein1(&b.distribution, &c.distribution)
                .zip(scale)
                .map(|(w, s)| w / s);
            let w_noise = scale.map_or(f64::INFINITY, |s| {
                stats::noise_wasserstein(&b.distribution, finite_n, finite_m, s)
            });
            drift
                .scores
                .push(judge(Metric::Wasserstein, w, w_noise, &t, opts));
            drift.base_mean = b.mean;
            drift.candidate_mean = c.mean;
            if let (Some(bmin), Some(bmax), Some(cmin), Some(cmax)) = (
                b.distribution.min(),
                b.distribution.max(),
                c.distribution.min(),
                c.distribution.max(),
            ) && (cmin < bmin || cmax > bmax)
            {
                let total = c.distribution.total_weight();
                drift.range = Some(RangeBreach {
                    base_min: bmin,
                    base_max: bmax,
                    candidate_min: cmin,
                    candidate_max: cmax,
                    below: c.distribution.weight_lt(bmin) / total,
                    above: (total - c.distribution.weight_le(bmax)) / total,
                });
            }
            numeric_buckets(b, c, opts.bins)
        }
        (ColumnInput::Categorical(b), ColumnInput::Categorical(c)) => {
            let listed = |from: &CategoricalInput, against: &CategoricalInput| -> Vec<String> {
                from.values
                    .keys()
                    .filter(|v| !against.values.contains_key(*v))
                    .take(MAX_LISTED_CATEGORIES)
                    .cloned()
                    .collect()
            };
            if n > 0 && m > 0 {
                drift.new_categories = listed(c, b);
                drift.vanished_categories = listed(b, c);
            }
            categorical_buckets(b, c, opts.top_categories)
        }
        _ => (Vec::new(), 0),
    };
    if !buckets.is_empty() {
        let bc: Vec<f64> = buckets.iter().map(|b| b.base).collect();
        let cc: Vec<f64> = buckets.iter().map(|b| b.candidate).collect();
        let psi = stats::psi(&bc, &cc, stats::PSI_PSEUDO_COUNT);
        let js = stats::js_distance(&bc, &cc);
        drift.scores.insert(
            0,
            judge(
                Metric::Js,
                js,
                stats::noise_js(noise_buckets, nf, mf),
                &t,
                opts,
            ),
        );
        drift.scores.insert(
            0,
            judge(
                Metric::Psi,
                psi,
                stats::noise_psi(noise_buckets, nf, mf),
                &t,
                opts,
            ),
        );
        drift.buckets = buckets;
    }

    drift.status = if n == 0 || m == 0 {
        DriftStatus::Empty
    } else if n < opts.min_rows || m < opts.min_rows {
        DriftStatus::InsufficientData
    } else if drift
        .scores
        .iter()
        .any(|s| s.status == DriftStatus::Changed)
    {
        DriftStatus::Changed
    } else {
        DriftStatus::Unchanged
    };
    if matches!(
        drift.status,
        DriftStatus::Empty | DriftStatus::InsufficientData
    ) {
        for score in &mut drift.scores {
            score.status = drift.status;
        }
    }
    drift
}

/// Builds a numeric input from an exact sample (`None` is null), for tests and benchmarks.
pub fn numeric_from_sample(sample: &[Option<f64>]) -> NumericInput {
    let mut input = NumericInput {
        rows: sample.len() as u64,
        ..NumericInput::default()
    };
    let mut finite = Vec::with_capacity(sample.len());
    for v in sample {
        match v {
            None => input.nulls += 1,
            Some(x) if x.is_nan() => input.nan += 1,
            Some(x) if *x == f64::INFINITY => input.pos_inf += 1,
            Some(x) if *x == f64::NEG_INFINITY => input.neg_inf += 1,
            Some(x) => finite.push(*x),
        }
    }
    input.finite = finite.len() as u64;
    input.distribution = EmpiricalDistribution::from_sample(&finite);
    if let Some((mean, std)) = input.distribution.mean_std() {
        input.mean = Some(mean);
        input.std = Some(std);
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(sample: &[Option<f64>]) -> ColumnInput {
        ColumnInput::Numeric(numeric_from_sample(sample))
    }

    fn ramp(n: usize, shift: f64) -> Vec<Option<f64>> {
        (0..n).map(|i| Some(i as f64 + shift)).collect()
    }

    fn categorical(pairs: &[(&str, u64)], nulls: u64) -> ColumnInput {
        let values: BTreeMap<String, u64> =
            pairs.iter().map(|(v, c)| ((*v).to_owned(), *c)).collect();
        let rows = values.values().sum::<u64>() + nulls;
        ColumnInput::Categorical(CategoricalInput {
            rows,
            nulls,
            values,
            other: 0,
        })
    }

    #[test]
    fn identical_columns_are_unchanged() {
        let col = numeric(&ramp(200, 0.0));
        let d = compare_column("x", &col, &col, &DriftOptions::default());
        assert_eq!(d.status, DriftStatus::Unchanged);
        for score in &d.scores {
            assert_eq!(score.magnitude(), Some(0.0), "{:?}", score.metric);
        }
        assert!(d.range.is_none());
    }

    #[test]
    fn shifted_column_is_changed() {
        let base = numeric(&ramp(1000, 0.0));
        let cand = numeric(&ramp(1000, 500.0));
        let d = compare_column("x", &base, &cand, &DriftOptions::default());
        assert_eq!(d.status, DriftStatus::Changed);
        // Half the candidate lies above the base maximum: KS D = 0.5 exactly.
        assert!((d.score(Metric::Ks).unwrap().value.unwrap() - 0.5).abs() < 1e-12);
        // W1 = 500; base population std of 0..999 = sqrt((1000^2 - 1)/12).
        let std = ((1000.0f64 * 1000.0 - 1.0) / 12.0).sqrt();
        let w = d.score(Metric::Wasserstein).unwrap().value.unwrap();
        assert!((w - 500.0 / std).abs() < 1e-9);
        let range = d.range.unwrap();
        assert!((range.above - 0.5).abs() < 1e-12);
        assert_eq!(range.below, 0.0);
    }

    #[test]
    fn null_rate_change_is_seen() {
        let base = numeric(&ramp(100, 0.0));
        let mut sample = ramp(100, 0.0);
        for v in sample.iter_mut().take(40) {
            *v = None;
        }
        let d = compare_column("x", &base, &numeric(&sample), &DriftOptions::default());
        let null = d.score(Metric::NullRate).unwrap();
        assert!((null.value.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(null.status, DriftStatus::Changed);
        assert_eq!(d.status, DriftStatus::Changed);
    }

    #[test]
    fn small_samples_are_insufficient() {
        let d = compare_column(
            "x",
            &numeric(&ramp(10, 0.0)),
            &numeric(&ramp(10, 100.0)),
            &DriftOptions::default(),
        );
        assert_eq!(d.status, DriftStatus::InsufficientData);
        assert!(
            d.scores
                .iter()
                .all(|s| s.status == DriftStatus::InsufficientData)
        );
    }

    #[test]
    fn noise_bound_suppresses_small_sample_psi() {
        // 40 rows a side: the PSI noise expectation (B − 1)(2/40) is far above 0.1.
        let base = numeric(&ramp(40, 0.0));
        let cand = numeric(&ramp(40, 0.5));
        let d = compare_column("x", &base, &cand, &DriftOptions::default());
        let psi = d.score(Metric::Psi).unwrap();
        assert!(psi.noise > psi.threshold);
        assert_eq!(psi.status, DriftStatus::Unchanged);
    }

    #[test]
    fn degenerate_columns_give_typed_results() {
        let empty = numeric(&[]);
        let col = numeric(&ramp(50, 0.0));
        let opts = DriftOptions::default();
        assert_eq!(
            compare_column("x", &empty, &empty, &opts).status,
            DriftStatus::NotComparable
        );
        assert_eq!(
            compare_column("x", &empty, &col, &opts).status,
            DriftStatus::Empty
        );
        assert_eq!(
            compare_column("x", &col, &empty, &opts).status,
            DriftStatus::Empty
        );

        let constant = numeric(&vec![Some(3.0); 50]);
        let d = compare_column("x", &constant, &constant, &opts);
        assert_eq!(d.status, DriftStatus::Unchanged);
        assert!(d.scores.iter().all(|s| s.value == Some(0.0)));

        let all_null = numeric(&vec![None; 50]);
        let d = compare_column("x", &all_null, &all_null, &opts);
        assert_eq!(d.status, DriftStatus::Unchanged);
        assert_eq!(
            d.score(Metric::Ks).unwrap().status,
            DriftStatus::NotComparable
        );
        assert!(d.score(Metric::Psi).unwrap().value.unwrap().is_finite());

        let d = compare_column("x", &all_null, &col, &opts);
        assert_eq!(d.status, DriftStatus::Changed);
        assert!(d.scores.iter().filter_map(|s| s.value).all(f64::is_finite));

        let d = compare_column("x", &col, &categorical(&[("a", 50)], 0), &opts);
        assert_eq!(d.status, DriftStatus::NotComparable);
    }

    #[test]
    fn nan_and_infinities_are_buckets() {
        let base = numeric(&ramp(100, 0.0));
        let mut sample = ramp(100, 0.0);
        sample[0] = Some(f64::NAN);
        sample[1] = Some(f64::INFINITY);
        sample[2] = Some(f64::NEG_INFINITY);
        let d = compare_column("x", &base, &numeric(&sample), &DriftOptions::default());
        let find = |label: &str| {
            d.buckets
                .iter()
                .find(|b| b.label == label)
                .unwrap()
                .candidate
        };
        assert_eq!(find("NaN"), 1.0);
        assert_eq!(find("+inf"), 1.0);
        assert_eq!(find("-inf"), 1.0);
        assert!((d.score(Metric::NanRate).unwrap().value.unwrap() - 0.01).abs() < 1e-12);
    }

    #[test]
    fn categories_new_and_vanished() {
        let base = categorical(&[("a", 50), ("b", 30), ("c", 20)], 0);
        let cand = categorical(&[("a", 50), ("b", 30), ("d", 20)], 0);
        let d = compare_column("x", &base, &cand, &DriftOptions::default());
        assert_eq!(d.new_categories, vec!["d"]);
        assert_eq!(d.vanished_categories, vec!["c"]);
        let unseen = d.buckets.iter().find(|b| b.label == "unseen").unwrap();
        assert_eq!(unseen.candidate, 20.0);
        // numpy PSI with 0.5 pseudo-counts over buckets [a, b, c, unseen]:
        // p = [50.5, 30.5, 20.5, 0.5]/102, q = [50.5, 30.5, 0.5, 20.5]/102.
        let p = [50.5, 30.5, 20.5, 0.5].map(|x: f64| x / 102.0);
        let q = [50.5, 30.5, 0.5, 20.5].map(|x: f64| x / 102.0);
        let expected: f64 = p.iter().zip(&q).map(|(p, q)| (q - p) * (q / p).ln()).sum();
        let psi = d.score(Metric::Psi).unwrap().value.unwrap();
        assert!((psi - expected).abs() < 1e-12);
        assert!((psi - 1.456_302_771_256_591_2).abs() < 1e-12);
        assert_eq!(d.status, DriftStatus::Changed);
    }

    #[test]
    fn per_column_thresholds_apply() {
        let base = numeric(&ramp(1000, 0.0));
        let cand = numeric(&ramp(1000, 50.0));
        let mut opts = DriftOptions::default();
        let d = compare_column("x", &base, &cand, &opts);
        assert_eq!(d.status, DriftStatus::Changed);
        opts.columns.insert(
            "x".into(),
            Thresholds {
                psi: 10.0,
                js: 1.0,
                ks: 1.0,
                wasserstein: 10.0,
                ..Thresholds::default()
            },
        );
        let d = compare_column("x", &base, &cand, &opts);
        assert_eq!(d.status, DriftStatus::Unchanged);
    }
}
