//! Automatic bisection: for every evidence item, the first commit that departs from the good
//! commit beyond that item's noise floor.
//!
//! The core is a pure function over a [`ScoreOracle`], which returns the score of one item (an
//! evidence item, or one column, or one column within one slice) between two commits of a linear
//! history. Positions `0..=good` form the reference window and `good+1..=bad` the range searched.
//!
//! Noise floor: the score between consecutive commits in the reference window (up to and
//! including the good commit) measures day-to-day variation without a known change. As NannyML
//! calibrates on reference chunks, the floor is mean + `sigmas`·σ of those scores. With fewer
//! than [`AutoOptions::min_reference_pairs`] comparable pairs, the item's conventional threshold
//! (PSI 0.1, KS D 0.2, …, chosen by the oracle's caller) is used instead and named as such.
//!
//! Search: a persistent change makes "score vs good > floor" false up to some commit and true
//! from it on, so the boundary is found by binary search in ⌈log2 n⌉ evaluations. The commits
//! around the boundary are then re-checked, and an item that goes back under its floor is
//! reported as non-monotonic with the flips seen, never as a single first commit.
//!
//! Two further rules decide whether a score is a true change (see docs/bisect.md):
//! - Sampling noise: the floor of a comparison is never below `noise_multiplier` times the score
//!   expected from sampling noise alone at that comparison's sample sizes (reported by the
//!   oracle, e.g. (B − 1)(1/n + 1/m) for PSI). A reference window where nothing varies (the
//!   same schedule every day) would otherwise give a floor of 0, and any resampling would depart.
//! - Slice share: a slice score departs only if, in addition, the score times the slice's share
//!   of table rows exceeds the statistic's conventional threshold. This is the slice-triage rule
//!   of weighting per-slice drift by slice share. A large change in a slice of 3% of rows moves
//!   the table little, so it counts only when its weighted contribution is material.

use serde::Serialize;

/// One thing whose score is tracked: an evidence item, optionally one column, optionally one
/// slice (rows sharing one value of a declared slice column).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemKey {
    /// Evidence item name, e.g. `flights`.
    pub item: String,
    /// Column name for per-column scores of samples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Slice as (slice column, value), e.g. (`carrier`, `UA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice: Option<(String, String)>,
    /// Name of the score, e.g. `psi`, `schema-changes`, `abs-diff`.
    pub statistic: String,
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.item)?;
        if let Some(column) = &self.column {
            write!(f, ".{column}")?;
        }
        if let Some((column, value)) = &self.slice {
            write!(f, " [{column}={value}]")?;
        }
        write!(f, " {}", self.statistic)
    }
}

/// An item to search, with the threshold used when the reference window is too short.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AutoItem {
    pub key: ItemKey,
    /// Conventional threshold for the statistic (e.g. 0.1 for PSI), used as the noise floor
    /// when calibration has too few reference pairs.
    pub conventional_threshold: f64,
}

/// The score of an item between two commits.
#[derive(Clone, Debug, PartialEq)]
pub enum Score {
    /// A comparable score, larger meaning more different, with the sample sizes behind it
    /// (rows, or 1 for items without a sample).
    Value {
        score: f64,
        n_base: u64,
        n_target: u64,
        /// The score expected from sampling noise alone at these sample sizes; 0 when the
        /// statistic has no such expectation (counts of changes, metric differences).
        noise: f64,
        /// For a slice key: the slice's share of table rows, the mean of the base and target
        /// shares. `None` for keys that are not slices.
        share: Option<f64>,
    },
    /// The score cannot be computed: evidence missing, insufficient data, not comparable.
    NotComparable { reason: String },
}

/// Scores of items between commits at positions of a linear history.
pub trait ScoreOracle {
    /// Computes the score of item `item` at position `target` against position `base`.
    fn score(&mut self, item: usize, base: usize, target: usize) -> Score;
}

impl Score {
    /// Returns a comparable score without a sampling-noise expectation or slice share.
    pub fn plain(score: f64, n_base: u64, n_target: u64) -> Score {
        Score::Value {
            score,
            n_base,
            n_target,
            noise: 0.0,
            share: None,
        }
    }
}

impl<F: FnMut(usize, usize, usize) -> Score> ScoreOracle for F {
    fn score(&mut self, item: usize, base: usize, target: usize) -> Score {
        self(item, base, target)
    }
}

/// Knobs for [`find_departures`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AutoOptions {
    /// Standard deviations above the mean for the calibrated noise floor.
    pub sigmas: f64,
    /// Comparable consecutive pairs needed to calibrate; fewer fall back to the conventional
    /// threshold.
    pub min_reference_pairs: usize,
    /// Most recent commits (ending at good) used for calibration.
    pub reference_window: usize,
    /// Commits on each side of a found boundary that are re-checked.
    pub verify_radius: usize,
    /// Evaluate every commit in the range instead of binary search (slower, but every flip is observed).
    pub exhaustive: bool,
    /// A score departs only above this multiple of its sampling-noise expectation (the same
    /// rule and default as `ev diff`'s noise bound).
    pub noise_multiplier: f64,
}

impl Default for AutoOptions {
    fn default() -> Self {
        AutoOptions {
            sigmas: 3.0,
            min_reference_pairs: 5,
            reference_window: 30,
            verify_radius: 3,
            exhaustive: false,
            noise_multiplier: 2.0,
        }
    }
}

/// The threshold an item's score must exceed to count as a true change.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum NoiseFloor {
    /// The largest of mean + sigmas·σ of consecutive-commit scores in the reference window,
    /// mean + sigmas·σ of the reference commits' scores against the good commit, and `sampling`.
    Calibrated {
        floor: f64,
        /// `noise_multiplier` × the largest sampling-noise expectation among the reference
        /// commits scored against good (0 when the statistic has none).
        sampling: f64,
        mean: f64,
        sd: f64,
        pairs: usize,
        /// Mean and σ of reference commits scored against good, when enough were comparable.
        good_mean: Option<f64>,
        good_sd: Option<f64>,
        good_pairs: usize,
    },
    /// The larger of the conventional threshold and `sampling`, because only `pairs`
    /// comparable reference pairs existed.
    Conventional {
        floor: f64,
        sampling: f64,
        pairs: usize,
    },
}

impl NoiseFloor {
    /// Returns the threshold value.
    pub fn floor(&self) -> f64 {
        match self {
            NoiseFloor::Calibrated { floor, .. } | NoiseFloor::Conventional { floor, .. } => *floor,
        }
    }
}

/// One evaluated commit of an item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Observation {
    pub position: usize,
    pub score: f64,
    pub n_base: u64,
    pub n_target: u64,
    /// The floor at this comparison: the item's floor, raised to `noise_multiplier` × this
    /// comparison's sampling-noise expectation when that is larger.
    pub floor: f64,
    /// For a slice key: `score` × the slice's share of table rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_score: Option<f64>,
    /// Whether `score` exceeds `floor` and, for a slice, `weighted_score` exceeds the
    /// statistic's conventional threshold.
    pub departed: bool,
}

/// The search result for one item.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ItemStatus {
    /// The bad commit (or the last comparable commit before it) is within the noise floor.
    Unchanged { at_bad: Option<Observation> },
    /// A persistent change: commits before `first` are within the floor, `first` and the
    /// commits checked after it are beyond. `may_also_be` lists uncomparable commits between
    /// the last stable one and `first`, any of which could be the first.
    Departed {
        first: Observation,
        last_stable: usize,
        may_also_be: Vec<usize>,
    },
    /// The item crosses its floor more than once: the observations in commit order, with no
    /// claim of a single first commit.
    NonMonotonic {
        first_seen: usize,
        observations: Vec<Observation>,
    },
    /// No commit in the range could be scored.
    NotComparable { reason: String },
}

/// The result for one item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemFinding {
    /// Index into the input items.
    pub index: usize,
    pub key: ItemKey,
    pub noise: NoiseFloor,
    pub status: ItemStatus,
    /// Oracle calls for this item, calibration included.
    pub evaluations: usize,
}

impl ItemFinding {
    /// Position of the first departure, for persistent or non-monotonic changes.
    pub fn first_position(&self) -> Option<usize> {
        match &self.status {
            ItemStatus::Departed { first, .. } => Some(first.position),
            ItemStatus::NonMonotonic { first_seen, .. } => Some(*first_seen),
            _ => None,
        }
    }

    /// Score divided by floor at the first departure, for ranking items that depart at the
    /// same commit; infinite when the floor is zero.
    pub fn excess(&self) -> f64 {
        match &self.status {
            ItemStatus::Departed { first, .. } => {
                let floor = first.floor;
                if floor > 0.0 {
                    first.score / floor
                } else {
                    f64::INFINITY
                }
            }
            _ => 0.0,
        }
    }
}

/// The result of automatic bisection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AutoOutcome {
    /// One finding per input item, in input order.
    pub findings: Vec<ItemFinding>,
    /// Indices of findings with a departure, ordered by position and then by excess.
    pub timeline: Vec<usize>,
    /// The earliest persistent departure: its position and the items departing there, the
    /// strongest first. `None` when no item departed persistently.
    pub first_change: Option<FirstChange>,
    /// Non-monotonic items whose first departure precedes `first_change` (or any, when there is
    /// no first change): a reader must not take `first_change` as the whole story.
    pub earlier_unstable: Vec<usize>,
    /// Total oracle calls.
    pub evaluations: usize,
}

/// The first true change of an automatic bisection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FirstChange {
    pub position: usize,
    /// Indices of the findings departing at `position`, the strongest first.
    pub items: Vec<usize>,
}

/// A reason the input cannot be searched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AutoError {
    #[error("the good position {good} is not before the bad position {bad}")]
    GoodNotBeforeBad { good: usize, bad: usize },
}

/// Finds, for every item, the first position in `good+1..=bad` whose score against `good`
/// exceeds the item's noise floor.
pub fn find_departures(
    items: &[AutoItem],
    good: usize,
    bad: usize,
    options: &AutoOptions,
    oracle: &mut dyn ScoreOracle,
) -> Result<AutoOutcome, AutoError> {
    if good >= bad {
        return Err(AutoError::GoodNotBeforeBad { good, bad });
    }
    let findings: Vec<ItemFinding> = items
        .iter()
        .enumerate()
        .map(|(index, item)| search_item(index, item, good, bad, options, oracle))
        .collect();

    let mut timeline: Vec<usize> = findings
        .iter()
        .filter(|f| f.first_position().is_some())
        .map(|f| f.index)
        .collect();
    timeline.sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        fa.first_position()
            .cmp(&fb.first_position())
            .then(fb.excess().total_cmp(&fa.excess()))
            .then(a.cmp(&b))
    });

    let first_position = timeline
        .iter()
        .filter(|&&i| matches!(findings[i].status, ItemStatus::Departed { .. }))
        .filter_map(|&i| findings[i].first_position())
        .next();
    let first_change = first_position.map(|position| FirstChange {
        position,
        items: timeline
            .iter()
            .copied()
            .filter(|&i| {
                matches!(findings[i].status, ItemStatus::Departed { .. })
                    && findings[i].first_position() == Some(position)
            })
            .collect(),
    });
    let earlier_unstable = timeline
        .iter()
        .copied()
        .filter(|&i| matches!(findings[i].status, ItemStatus::NonMonotonic { .. }))
        .filter(|&i| match (findings[i].first_position(), first_position) {
            (Some(seen), Some(first)) => seen < first,
            _ => true,
        })
        .collect();
    let evaluations = findings.iter().map(|f| f.evaluations).sum();
    Ok(AutoOutcome {
        findings,
        timeline,
        first_change,
        earlier_unstable,
        evaluations,
    })
}

/// The state of one probe of one item.
#[derive(Clone, Debug)]
enum Probe {
    Seen(Observation),
    Unknown(String),
}

/// One item's probes against the good commit, cached so no position is scored twice.
struct ItemSearch<'a> {
    item: usize,
    good: usize,
    floor: f64,
    noise_multiplier: f64,
    /// Threshold of a slice's share-weighted score.
    weighted_threshold: f64,
    oracle: &'a mut dyn ScoreOracle,
    probes: std::collections::BTreeMap<usize, Probe>,
    evaluations: usize,
}

impl ItemSearch<'_> {
    fn probe(&mut self, position: usize) -> Probe {
        if let Some(probe) = self.probes.get(&position) {
            return probe.clone();
        }
        self.evaluations += 1;
        let probe = match self.oracle.score(self.item, self.good, position) {
            Score::Value {
                score,
                n_base,
                n_target,
                noise,
                share,
            } if score.is_finite() => {
                let floor = sampling_floor(self.noise_multiplier, noise).max(self.floor);
                let weighted_score = share.map(|share| score * share);
                Probe::Seen(Observation {
                    position,
                    score,
                    n_base,
                    n_target,
                    floor,
                    weighted_score,
                    departed: score > floor
                        && weighted_score.is_none_or(|w| w > self.weighted_threshold),
                })
            }
            Score::Value { score, .. } => Probe::Unknown(format!("score is {score}")),
            Score::NotComparable { reason } => Probe::Unknown(reason),
        };
        self.probes.insert(position, probe.clone());
        probe
    }

    /// Finds the comparable probe nearest to `mid` inside the open interval (lo, hi), searching
    /// outwards. Uncomparable positions met on the way are cached as such.
    fn nearest_comparable(&mut self, lo: usize, hi: usize, mid: usize) -> Option<Observation> {
        let width = hi - lo;
        for offset in 0..width {
            for candidate in [mid.checked_add(offset), mid.checked_sub(offset)]
                .into_iter()
                .flatten()
            {
                if candidate > lo && candidate < hi {
                    if let Probe::Seen(observation) = self.probe(candidate) {
                        return Some(observation);
                    }
                }
            }
        }
        None
    }

    fn observations(&self) -> Vec<Observation> {
        self.probes
            .values()
            .filter_map(|p| match p {
                Probe::Seen(o) => Some(o.clone()),
                Probe::Unknown(_) => None,
            })
            .collect()
    }

    fn last_reason(&self) -> String {
        self.probes
            .values()
            .rev()
            .find_map(|p| match p {
                Probe::Unknown(reason) => Some(reason.clone()),
                Probe::Seen(_) => None,
            })
            .unwrap_or_else(|| "no commit in the range could be scored".into())
    }
}

fn search_item(
    index: usize,
    item: &AutoItem,
    good: usize,
    bad: usize,
    options: &AutoOptions,
    oracle: &mut dyn ScoreOracle,
) -> ItemFinding {
    let (noise, calibration_calls) = calibrate(index, item, good, options, oracle);
    let mut search = ItemSearch {
        item: index,
        good,
        floor: noise.floor(),
        noise_multiplier: options.noise_multiplier,
        weighted_threshold: item.conventional_threshold,
        oracle,
        probes: Default::default(),
        evaluations: calibration_calls,
    };
    let status = if options.exhaustive {
        scan_all(&mut search, bad)
    } else {
        bisect_item(&mut search, bad, options.verify_radius)
    };
    ItemFinding {
        index,
        key: item.key.clone(),
        noise,
        status,
        evaluations: search.evaluations,
    }
}

/// Computes the noise floor from the reference window; returns it with the number of oracle
/// calls made.
///
/// Two sets of reference scores are used. Consecutive pairs measure day-to-day variation. Scores
/// of each reference commit against the good commit measure the same comparison the search makes:
/// every search score shares the good commit's sample, and an atypical good sample raises all of
/// them, which consecutive pairs cannot see. The floor is the larger of the two mean + k·σ values.
fn calibrate(
    index: usize,
    item: &AutoItem,
    good: usize,
    options: &AutoOptions,
    oracle: &mut dyn ScoreOracle,
) -> (NoiseFloor, usize) {
    let start = good.saturating_sub(options.reference_window.saturating_sub(1));
    let mut calls = 0;
    let mut finite = |base: usize, target: usize, calls: &mut usize| {
        *calls += 1;
        match oracle.score(index, base, target) {
            Score::Value { score, noise, .. } if score.is_finite() => Some((score, noise)),
            _ => None,
        }
    };
    let consecutive: Vec<f64> = (start + 1..=good)
        .filter_map(|target| finite(target - 1, target, &mut calls))
        .map(|(score, _)| score)
        .collect();
    let (against_good, good_noise): (Vec<f64>, Vec<f64>) = (start..good)
        .filter_map(|target| finite(good, target, &mut calls))
        .unzip();
    // The search compares commits with good, so the sampling noise of those comparisons is
    // the one that matters. The largest one seen keeps the floor honest on small days.
    let sampling = sampling_floor(
        options.noise_multiplier,
        good_noise.iter().copied().fold(0.0, f64::max),
    );

    let min_pairs = options.min_reference_pairs.max(2);
    let consecutive_stats = mean_sd(&consecutive).filter(|_| consecutive.len() >= min_pairs);
    let good_stats = mean_sd(&against_good).filter(|_| against_good.len() >= min_pairs);
    let Some((mean, sd)) = consecutive_stats else {
        return (
            NoiseFloor::Conventional {
                floor: item.conventional_threshold.max(sampling),
                sampling,
                pairs: consecutive.len(),
            },
            calls,
        );
    };
    let mut floor = mean + options.sigmas * sd;
    if let Some((good_mean, good_sd)) = good_stats {
        floor = floor.max(good_mean + options.sigmas * good_sd);
    }
    floor = floor.max(sampling);
    (
        NoiseFloor::Calibrated {
            floor,
            sampling,
            mean,
            sd,
            pairs: consecutive.len(),
            good_mean: good_stats.map(|(m, _)| m),
            good_sd: good_stats.map(|(_, s)| s),
            good_pairs: against_good.len(),
        },
        calls,
    )
}

/// Returns the smallest floor sampling noise allows: `multiplier` × the score expected under no
/// change. A non-finite or negative expectation counts as none.
fn sampling_floor(multiplier: f64, noise: f64) -> f64 {
    if noise.is_finite() && noise > 0.0 {
        multiplier * noise
    } else {
        0.0
    }
}

/// Mean and sample standard deviation (n − 1), for at least two values.
fn mean_sd(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some((mean, variance.sqrt()))
}

/// Binary search for the boundary, then re-checks `radius` commits on each side of it.
fn bisect_item(search: &mut ItemSearch<'_>, bad: usize, radius: usize) -> ItemStatus {
    let good = search.good;
    // The end of the range: the bad commit, or the nearest comparable commit before it.
    let Some(end) = (good + 1..=bad).rev().find_map(|p| match search.probe(p) {
        Probe::Seen(o) => Some(o),
        Probe::Unknown(_) => None,
    }) else {
        return ItemStatus::NotComparable {
            reason: search.last_reason(),
        };
    };
    if !end.departed {
        return ItemStatus::Unchanged { at_bad: Some(end) };
    }

    // Invariant: `lo` is within the floor (or is good itself), `hi` is beyond it.
    let (mut lo, mut hi) = (good, end.position);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match search.nearest_comparable(lo, hi, mid) {
            Some(o) if o.departed => hi = o.position,
            Some(o) => lo = o.position,
            None => break,
        }
    }
    let may_also_be: Vec<usize> = (lo + 1..hi).collect();

    // Re-check the neighbourhood: stable below the boundary, departed from it on.
    let from = hi.saturating_sub(radius).max(good + 1);
    let to = (hi + radius).min(bad);
    for position in from..=to {
        search.probe(position);
    }
    let observations = search.observations();
    let consistent = observations
        .iter()
        .all(|o| o.departed == (o.position >= hi));
    if consistent {
        let first = observations
            .into_iter()
            .find(|o| o.position == hi)
            .expect("the boundary position was probed and is comparable");
        ItemStatus::Departed {
            first,
            last_stable: lo,
            may_also_be,
        }
    } else {
        non_monotonic(observations)
    }
}

/// Scores every commit in the range and classifies the sequence.
fn scan_all(search: &mut ItemSearch<'_>, bad: usize) -> ItemStatus {
    for position in search.good + 1..=bad {
        search.probe(position);
    }
    let observations = search.observations();
    if observations.is_empty() {
        return ItemStatus::NotComparable {
            reason: search.last_reason(),
        };
    }
    let Some(first) = observations.iter().position(|o| o.departed) else {
        return ItemStatus::Unchanged {
            at_bad: observations.last().cloned(),
        };
    };
    if observations[first..].iter().all(|o| o.departed) {
        let last_stable = if first == 0 {
            search.good
        } else {
            observations[first - 1].position
        };
        let boundary = observations[first].position;
        ItemStatus::Departed {
            first: observations[first].clone(),
            last_stable,
            may_also_be: (last_stable + 1..boundary).collect(),
        }
    } else {
        non_monotonic(observations)
    }
}

fn non_monotonic(observations: Vec<Observation>) -> ItemStatus {
    let first_seen = observations
        .iter()
        .find(|o| o.departed)
        .map(|o| o.position)
        .expect("a non-monotonic sequence has a departed observation");
    ItemStatus::NonMonotonic {
        first_seen,
        observations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bisect::state::ceil_log2;

    /// A small deterministic generator (SplitMix64) so synthetic noise is reproducible.
    struct Rng(u64);

    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn uniform(&mut self) -> f64 {
            ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        /// Draws a standard normal value (Box–Muller).
        fn normal(&mut self) -> f64 {
            let (u1, u2) = (self.uniform(), self.uniform());
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
    }

    fn key(column: &str, slice: Option<&str>) -> ItemKey {
        ItemKey {
            item: "flights".into(),
            column: Some(column.into()),
            slice: slice.map(|v| ("carrier".into(), v.into())),
            statistic: "smd".into(),
        }
    }

    fn item(column: &str, slice: Option<&str>) -> AutoItem {
        AutoItem {
            key: key(column, slice),
            conventional_threshold: 0.1,
        }
    }

    /// A synthetic history of sample means. Each (item, commit) has a sample mean drawn around
    /// the item's true mean with standard error 1/√n, and the score between two commits is the
    /// absolute standardized mean difference. The true mean of slice UA shifts by 0.5 standard
    /// deviations from `change_at` on; UA is 4% of rows, so the overall mean shifts by 0.02,
    /// below the overall column's noise floor.
    struct History {
        means: Vec<Vec<f64>>,
        sizes: Vec<u64>,
    }

    const UA_SHARE: f64 = 0.04;

    fn synthetic(commits: usize, change_at: usize, seed: u64) -> (Vec<AutoItem>, History) {
        let items = vec![
            item("dep_delay", None),
            item("dep_delay", Some("UA")),
            item("dep_delay", Some("AA")),
            item("distance", None),
        ];
        let sizes = vec![10_000u64, 400, 3_000, 10_000];
        let mut rng = Rng(seed);
        let mut means = vec![Vec::new(); items.len()];
        for commit in 0..commits {
            let shift = if commit >= change_at { 0.5 } else { 0.0 };
            let truths = [shift * UA_SHARE, shift, 0.0, 0.0];
            for (i, truth) in truths.iter().enumerate() {
                let se = 1.0 / (sizes[i] as f64).sqrt();
                means[i].push(truth + se * rng.normal());
            }
        }
        (items, History { means, sizes })
    }

    impl History {
        fn oracle(&self) -> impl FnMut(usize, usize, usize) -> Score + '_ {
            |item, base, target| Score::Value {
                score: (self.means[item][target] - self.means[item][base]).abs(),
                n_base: self.sizes[item],
                n_target: self.sizes[item],
                noise: 0.0,
                share: None,
            }
        }
    }

    #[test]
    fn slice_change_found_and_named() {
        let (commits, good, bad, change_at) = (80, 39, 79, 57);
        let (items, history) = synthetic(commits, change_at, 7);
        let mut oracle = history.oracle();
        let outcome =
            find_departures(&items, good, bad, &AutoOptions::default(), &mut oracle).unwrap();

        let first = outcome.first_change.as_ref().expect("a change was found");
        assert_eq!(first.position, change_at);
        let headline = &outcome.findings[first.items[0]];
        assert_eq!(headline.key.column.as_deref(), Some("dep_delay"));
        assert_eq!(headline.key.slice, Some(("carrier".into(), "UA".into())));
        assert!(matches!(
            headline.noise,
            NoiseFloor::Calibrated { pairs: 29, .. }
        ));

        // The overall column and the untouched slice and column stay within their floors.
        for unchanged in [0, 2, 3] {
            assert!(
                matches!(
                    outcome.findings[unchanged].status,
                    ItemStatus::Unchanged { .. }
                ),
                "{} should be unchanged: {:?}",
                outcome.findings[unchanged].key,
                outcome.findings[unchanged].status
            );
        }
        assert!(outcome.earlier_unstable.is_empty());
    }

    #[test]
    fn slice_change_across_seeds() {
        // The same scenario over several noise draws: the slice is found at the true commit in
        // every draw, so the result does not hinge on one lucky seed.
        for seed in 1..=20 {
            let (items, history) = synthetic(80, 57, seed);
            let mut oracle = history.oracle();
            let outcome =
                find_departures(&items, 39, 79, &AutoOptions::default(), &mut oracle).unwrap();
            let ua = &outcome.findings[1];
            match &ua.status {
                ItemStatus::Departed { first, .. } => assert_eq!(first.position, 57, "seed {seed}"),
                other => panic!("seed {seed}: slice UA not departed: {other:?}"),
            }
        }
    }

    #[test]
    fn persistent_change_evaluation_bound() {
        let (good, bad) = (29, 29 + 1000);
        let items = vec![item("x", None)];
        let mut oracle = |_: usize, base: usize, target: usize| {
            let level = |p: usize| if p >= 600 { 1.0f64 } else { 0.0 };
            Score::Value {
                score: (level(target) - level(base)).abs(),
                n_base: 100,
                n_target: 100,
                noise: 0.0,
                share: None,
            }
        };
        let options = AutoOptions::default();
        let outcome = find_departures(&items, good, bad, &options, &mut oracle).unwrap();
        let finding = &outcome.findings[0];
        assert!(
            matches!(&finding.status, ItemStatus::Departed { first, .. } if first.position == 600)
        );
        // Calibration pairs + the bad commit + binary search + the re-check window.
        let bound = 2 * good + 1 + ceil_log2(bad - good) as usize + 2 * options.verify_radius + 1;
        assert!(
            finding.evaluations <= bound,
            "{} > {bound}",
            finding.evaluations
        );
        // Zero noise in the reference window gives a zero floor: any change departs.
        assert_eq!(finding.noise.floor(), 0.0);
    }

    #[test]
    fn flip_near_boundary_is_non_monotonic() {
        let departed = |p: usize| p == 45 || p >= 47;
        let items = vec![item("x", None)];
        let mut oracle = |_: usize, _: usize, target: usize| Score::Value {
            score: if departed(target) { 1.0 } else { 0.0 },
            n_base: 50,
            n_target: 50,
            noise: 0.0,
            share: None,
        };
        let outcome =
            find_departures(&items, 29, 59, &AutoOptions::default(), &mut oracle).unwrap();
        let finding = &outcome.findings[0];
        let ItemStatus::NonMonotonic {
            first_seen,
            observations,
        } = &finding.status
        else {
            panic!("expected non-monotonic, got {:?}", finding.status);
        };
        assert_eq!(*first_seen, 45);
        assert!(observations.iter().any(|o| o.position == 46 && !o.departed));
        assert!(outcome.first_change.is_none());
        assert_eq!(outcome.earlier_unstable, vec![0]);
    }

    #[test]
    fn exhaustive_scan_sees_distant_flip() {
        // A departure at 35..=37 only, far from the persistent boundary at 50: binary search
        // cannot see it, the exhaustive scan must.
        let departed = |p: usize| (35..=37).contains(&p) || p >= 50;
        let items = vec![item("x", None)];
        let score = |_: usize, _: usize, target: usize| Score::Value {
            score: if departed(target) { 1.0 } else { 0.0 },
            n_base: 50,
            n_target: 50,
            noise: 0.0,
            share: None,
        };
        let options = AutoOptions {
            exhaustive: true,
            ..AutoOptions::default()
        };
        let outcome = find_departures(&items, 29, 59, &options, &mut { score }).unwrap();
        assert!(matches!(
            outcome.findings[0].status,
            ItemStatus::NonMonotonic { first_seen: 35, .. }
        ));
    }

    #[test]
    fn short_reference_uses_conventional_threshold() {
        let items = vec![item("x", None)];
        let mut oracle = |_: usize, base: usize, target: usize| Score::Value {
            // 0.05 per commit after good: exceeds the conventional 0.1 from commit good+3 on.
            score: (target.saturating_sub(2) as f64 - base.saturating_sub(2) as f64).abs() * 0.05,
            n_base: 100,
            n_target: 100,
            noise: 0.0,
            share: None,
        };
        let outcome = find_departures(&items, 2, 12, &AutoOptions::default(), &mut oracle).unwrap();
        let finding = &outcome.findings[0];
        assert_eq!(
            finding.noise,
            NoiseFloor::Conventional {
                floor: 0.1,
                sampling: 0.0,
                pairs: 2
            }
        );
        assert_eq!(finding.first_position(), Some(5));
    }

    #[test]
    fn uncomparable_commits_are_skipped() {
        // Commits 50..=53 have no evidence for the item; the change is at 52, so the honest
        // result is "first departed commit 54, or any of 50..=53".
        let items = vec![item("x", None)];
        let mut oracle = |_: usize, _: usize, target: usize| {
            if (50..=53).contains(&target) {
                Score::NotComparable {
                    reason: "evidence missing".into(),
                }
            } else {
                Score::Value {
                    score: if target >= 52 { 1.0 } else { 0.0 },
                    n_base: 10,
                    n_target: 10,
                    noise: 0.0,
                    share: None,
                }
            }
        };
        let outcome =
            find_departures(&items, 29, 70, &AutoOptions::default(), &mut oracle).unwrap();
        match &outcome.findings[0].status {
            ItemStatus::Departed {
                first,
                last_stable,
                may_also_be,
            } => {
                assert_eq!(first.position, 54);
                assert_eq!(*last_stable, 49);
                assert_eq!(may_also_be, &vec![50, 51, 52, 53]);
            }
            other => panic!("expected a departure, got {other:?}"),
        }
    }

    #[test]
    fn never_comparable_item_reported() {
        let items = vec![item("x", None)];
        let mut oracle = |_: usize, _: usize, _: usize| Score::NotComparable {
            reason: "insufficient data: 3 rows".into(),
        };
        let outcome = find_departures(&items, 5, 9, &AutoOptions::default(), &mut oracle).unwrap();
        assert_eq!(
            outcome.findings[0].status,
            ItemStatus::NotComparable {
                reason: "insufficient data: 3 rows".into()
            }
        );
        assert!(outcome.first_change.is_none());
    }

    #[test]
    fn good_after_bad_rejected() {
        let mut oracle = |_: usize, _: usize, _: usize| Score::NotComparable {
            reason: String::new(),
        };
        assert_eq!(
            find_departures(&[], 5, 5, &AutoOptions::default(), &mut oracle),
            Err(AutoError::GoodNotBeforeBad { good: 5, bad: 5 })
        );
    }

    #[test]
    fn calibrated_floor_known_value() {
        // Reference scores 0.1, 0.2, 0.3, 0.4, 0.5: mean 0.3, sample sd 0.158114 (numpy
        // std(ddof=1)), floor 0.3 + 3·0.158114 = 0.774342.
        let items = vec![item("x", None)];
        let mut oracle = |_: usize, base: usize, target: usize| Score::Value {
            score: if target == base + 1 && target <= 5 {
                target as f64 / 10.0
            } else {
                0.0
            },
            n_base: 1,
            n_target: 1,
            noise: 0.0,
            share: None,
        };
        let outcome = find_departures(&items, 5, 8, &AutoOptions::default(), &mut oracle).unwrap();
        let NoiseFloor::Calibrated {
            floor,
            mean,
            sd,
            pairs,
            good_mean,
            ..
        } = outcome.findings[0].noise
        else {
            panic!("expected calibration");
        };
        assert_eq!(pairs, 5);
        assert!((mean - 0.3).abs() < 1e-12);
        assert!((sd - 0.158_113_883).abs() < 1e-8);
        assert!((floor - 0.774_341_649).abs() < 1e-8);
        // Reference commits scored against good are all 0 here, so they do not raise the floor.
        assert_eq!(good_mean, Some(0.0));
    }

    #[test]
    fn atypical_good_raises_floor() {
        // Consecutive pairs differ by about 0.1, but the good commit's own sample is atypical:
        // every commit scores about 0.5 against it, before and after good alike. Calibrating on
        // consecutive pairs alone would report a change at good+1.
        let items = vec![item("x", None)];
        let mut oracle = |_: usize, base: usize, target: usize| {
            let wobble = (target % 3) as f64 * 0.01;
            Score::Value {
                score: if base == 29 {
                    0.5 + wobble
                } else {
                    0.1 + wobble
                },
                n_base: 100,
                n_target: 100,
                noise: 0.0,
                share: None,
            }
        };
        let outcome =
            find_departures(&items, 29, 59, &AutoOptions::default(), &mut oracle).unwrap();
        let finding = &outcome.findings[0];
        assert!(
            matches!(finding.status, ItemStatus::Unchanged { .. }),
            "{:?}",
            finding.status
        );
        let NoiseFloor::Calibrated {
            floor, good_mean, ..
        } = finding.noise
        else {
            panic!("expected calibration");
        };
        assert!(floor > 0.5, "floor {floor}");
        assert!((good_mean.unwrap() - 0.51).abs() < 0.01);
    }

    /// Builds the scores of a slice key: `before` up to `change_at` and `after` from it on, with
    /// a sampling-noise expectation `noise` and a share of table rows `share`.
    fn step_slice(
        before: f64,
        after: f64,
        change_at: usize,
        noise: f64,
        share: f64,
    ) -> impl Fn(usize) -> Score {
        move |target| Score::Value {
            score: if target >= change_at { after } else { before },
            n_base: 100,
            n_target: 100,
            noise,
            share: Some(share),
        }
    }

    #[test]
    fn tiny_slice_change_is_not_first_true_change() {
        // A real, persistent change in a slice of 3.5% of rows (PSI 0.28, well above its
        // floor) comes first. The fault in a slice of 8% (PSI 4.5) comes later. Weighted by
        // share, the first is 0.28 × 0.035 = 0.0098, below PSI's conventional 0.1. The second
        // is 4.5 × 0.08 = 0.36, so it is the first true change.
        let items = vec![
            AutoItem {
                key: key("dest", Some("WN")),
                conventional_threshold: 0.1,
            },
            AutoItem {
                key: key("dep_delay", Some("MQ")),
                conventional_threshold: 0.1,
            },
        ];
        let tiny = step_slice(0.0, 0.28, 40, 0.01, 0.035);
        let fault = step_slice(0.0, 4.5, 45, 0.01, 0.08);
        let mut oracle = |item: usize, _: usize, target: usize| {
            if item == 0 {
                tiny(target)
            } else {
                fault(target)
            }
        };
        let outcome =
            find_departures(&items, 29, 59, &AutoOptions::default(), &mut oracle).unwrap();
        let first = outcome.first_change.as_ref().expect("the fault is found");
        assert_eq!(first.position, 45);
        assert_eq!(first.items, vec![1]);
        let ItemStatus::Departed { first: seen, .. } = &outcome.findings[1].status else {
            panic!("the fault did not depart: {:?}", outcome.findings[1].status);
        };
        assert!((seen.weighted_score.unwrap() - 0.36).abs() < 1e-12);
        assert!(
            matches!(outcome.findings[0].status, ItemStatus::Unchanged { .. }),
            "{:?}",
            outcome.findings[0].status
        );
    }

    #[test]
    fn share_rule_applies_to_slices_only() {
        // The same 0.28 step without a share (a whole-table key) departs at its commit.
        let items = vec![item("dest", None)];
        let mut oracle = |_: usize, _: usize, target: usize| Score::Value {
            score: if target >= 40 { 0.28 } else { 0.0 },
            n_base: 100,
            n_target: 100,
            noise: 0.01,
            share: None,
        };
        let outcome =
            find_departures(&items, 29, 59, &AutoOptions::default(), &mut oracle).unwrap();
        assert_eq!(outcome.findings[0].first_position(), Some(40));
    }

    #[test]
    fn zero_variance_reference_gets_sampling_floor() {
        // A slice with the same 34 flights every day scores PSI 0 between every reference
        // pair, so mean + 3σ is 0. The PSI expected from sampling alone with 10 bins is
        // (B − 1)(1/n + 1/m) = 9 · (2/34) = 0.529412, and the floor is 2 × that = 1.058824.
        let psi_noise = 9.0 * (1.0 / 34.0 + 1.0 / 34.0);
        let items = vec![item("sched_dep_time", None)];
        let mut oracle = |_: usize, _: usize, target: usize| Score::Value {
            // A resampling wobble of 0.3 from commit 40 on: within sampling noise.
            score: if target >= 40 { 0.3 } else { 0.0 },
            n_base: 34,
            n_target: 34,
            noise: psi_noise,
            share: None,
        };
        let outcome =
            find_departures(&items, 29, 59, &AutoOptions::default(), &mut oracle).unwrap();
        let finding = &outcome.findings[0];
        let NoiseFloor::Calibrated {
            floor,
            sampling,
            mean,
            sd,
            ..
        } = finding.noise
        else {
            panic!("expected calibration: {:?}", finding.noise);
        };
        assert_eq!((mean, sd), (0.0, 0.0));
        assert!((sampling - 1.058_823_529).abs() < 1e-8, "{sampling}");
        assert!((floor - 1.058_823_529).abs() < 1e-8, "{floor}");
        assert!(
            matches!(finding.status, ItemStatus::Unchanged { .. }),
            "{:?}",
            finding.status
        );
    }

    #[test]
    fn small_sample_at_search_raises_floor() {
        // The reference has 1000 rows a day (sampling floor 2 × 0.018 = 0.036) and a calibrated
        // floor of 0. One searched commit has 20 rows, where PSI 0.5 is within 2 × 9 · (1/1000
        // + 1/20) = 0.918. Only the later commit with a full sample and PSI 0.5 departs.
        let items = vec![item("x", None)];
        let noise = |n: u64| 9.0 * (1.0 / 1000.0 + 1.0 / n as f64);
        let mut oracle = |_: usize, _: usize, target: usize| {
            let n = if target == 40 { 20 } else { 1000 };
            Score::Value {
                score: if target >= 40 { 0.5 } else { 0.0 },
                n_base: 1000,
                n_target: n,
                noise: noise(n),
                share: None,
            }
        };
        let options = AutoOptions {
            exhaustive: true,
            ..AutoOptions::default()
        };
        let outcome = find_departures(&items, 29, 59, &options, &mut oracle).unwrap();
        match &outcome.findings[0].status {
            ItemStatus::Departed { first, .. } => {
                assert_eq!(first.position, 41);
                assert!((first.floor - 0.036).abs() < 1e-12, "{}", first.floor);
            }
            other => panic!("expected a departure at 41: {other:?}"),
        }
    }
}
