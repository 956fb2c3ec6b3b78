//! Drift statistics over bins fixed by the base side, and the slice decomposition of a mean.
//!
//! Everything here is a pure function of counts and weighted values, so that scores can be
//! computed from stored profiles without raw data. Conventions:
//! - A distribution of finite values is an [`EmpiricalDistribution`]: sorted distinct values with
//!   positive weights. An exact sample has weight 1 per row; a quantile sketch supplies its items
//!   with their compaction weights. KS and Wasserstein are exact for such discrete distributions,
//!   which is what scipy's `ks_2samp` and `wasserstein_distance` compute for raw samples.
//! - Bins come from the base: base quantile edges (deduplicated where point masses collide),
//!   bounded by the base minimum and maximum, plus underflow (below the base minimum) and overflow
//!   (above the base maximum) buckets. Null, NaN, +inf and −inf are buckets of their own.
//! - Logarithms are natural (PSI in nats) except the Jensen–Shannon distance, which uses base 2 so
//!   that it lies in [0, 1].

use serde::Serialize;

/// Pseudo-count added to every bucket that either side occupies before PSI takes a logarithm
/// (Jeffreys, or Krichevsky–Trofimov, smoothing). It is applied to both sides alike, keeps a bucket
/// that is empty on one side finite, and, unlike a fixed proportion floor such as 1e-4, does not
/// inflate PSI when a few candidate values land beyond the base extremes: in simulation with
/// normal data and 10 base deciles the mean no-change PSI stays within 25% of [`noise_psi`].
pub const PSI_PSEUDO_COUNT: f64 = 0.5;

/// Expected value of the Kolmogorov distribution, sqrt(π/2)·ln 2: the mean of sup|B(t)| for a
/// Brownian bridge, which √(nm/(n+m))·D approaches under no change (Kolmogorov, Smirnov).
pub const KOLMOGOROV_MEAN: f64 = 0.868_731_160_636_159_9;

/// A discrete distribution of finite values: sorted, distinct values with positive weights.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EmpiricalDistribution {
    values: Vec<f64>,
    /// Cumulative weights: `cumulative[i]` is the weight of all values ≤ `values[i]`.
    cumulative: Vec<f64>,
}

impl EmpiricalDistribution {
    /// Builds a distribution from (value, weight) pairs in any order. Non-finite values and
    /// non-positive or non-finite weights are dropped, because callers count them in buckets of
    /// their own; equal values are merged.
    pub fn from_weighted(pairs: impl IntoIterator<Item = (f64, f64)>) -> Self {
        let mut pairs: Vec<(f64, f64)> = pairs
            .into_iter()
            .filter(|(v, w)| v.is_finite() && w.is_finite() && *w > 0.0)
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut values: Vec<f64> = Vec::with_capacity(pairs.len());
        let mut cumulative: Vec<f64> = Vec::with_capacity(pairs.len());
        let mut total = 0.0;
        for (value, weight) in pairs {
            total += weight;
            // -0.0 and 0.0 are one value.
            if values.last().is_some_and(|last| *last == value) {
                *cumulative
                    .last_mut()
                    .expect("values and cumulative grow together") = total;
            } else {
                values.push(value);
                cumulative.push(total);
            }
        }
        Self { values, cumulative }
    }

    /// Builds a distribution from an exact sample, each value weighing 1.
    pub fn from_sample(sample: &[f64]) -> Self {
        Self::from_weighted(sample.iter().map(|&v| (v, 1.0)))
    }

    /// Distinct values in ascending order.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Total weight (the number of values for an exact sample).
    pub fn total_weight(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn min(&self) -> Option<f64> {
        self.values.first().copied()
    }

    pub fn max(&self) -> Option<f64> {
        self.values.last().copied()
    }

    /// Weight of values ≤ `x`.
    pub fn weight_le(&self, x: f64) -> f64 {
        let idx = self.values.partition_point(|v| *v <= x);
        if idx == 0 {
            0.0
        } else {
            self.cumulative[idx - 1]
        }
    }

    /// Weight of values < `x`.
    pub fn weight_lt(&self, x: f64) -> f64 {
        let idx = self.values.partition_point(|v| *v < x);
        if idx == 0 {
            0.0
        } else {
            self.cumulative[idx - 1]
        }
    }

    /// The CDF at `x`, F(x) = P(X ≤ x); 0 for an empty distribution.
    pub fn cdf(&self, x: f64) -> f64 {
        let total = self.total_weight();
        if total > 0.0 {
            self.weight_le(x) / total
        } else {
            0.0
        }
    }

    /// The lower quantile: the smallest value v with F(v) ≥ p (p clamped to [0, 1]).
    pub fn quantile(&self, p: f64) -> Option<f64> {
        let total = self.total_weight();
        if self.values.is_empty() || total <= 0.0 {
            return None;
        }
        let target = p.clamp(0.0, 1.0) * total;
        // Relative slack so that p = i/B lands on the value whose cumulative weight is exactly
        // i·total/B despite rounding.
        let slack = total * 1e-12;
        let idx = self.cumulative.partition_point(|c| *c + slack < target);
        Some(self.values[idx.min(self.values.len() - 1)])
    }

    /// Weighted mean and population standard deviation.
    pub fn mean_std(&self) -> Option<(f64, f64)> {
        let total = self.total_weight();
        if total <= 0.0 {
            return None;
        }
        let mut prev = 0.0;
        let mut mean = 0.0;
        for (v, c) in self.values.iter().zip(&self.cumulative) {
            mean += v * (c - prev);
            prev = *c;
        }
        mean /= total;
        let mut prev = 0.0;
        let mut var = 0.0;
        for (v, c) in self.values.iter().zip(&self.cumulative) {
            var += (v - mean) * (v - mean) * (c - prev);
            prev = *c;
        }
        Some((mean, (var / total).max(0.0).sqrt()))
    }
}

/// Bin edges fixed by the base distribution.
///
/// Bucket layout: `underflow` (x < min), then one bucket per upper edge — the first is
/// [min, edges[0]], each next one (edges[i−1], edges[i]] — then `overflow` (x > max). The last
/// upper edge is always the base maximum.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BaseBins {
    pub min: f64,
    /// Upper edges, strictly increasing, the last equal to the base maximum.
    pub edges: Vec<f64>,
}

impl BaseBins {
    /// Quantile edges of `base` at p = i/`bins` for i = 1..bins, deduplicated. `None` when the base
    /// has no finite values.
    pub fn from_quantiles(base: &EmpiricalDistribution, bins: usize) -> Option<Self> {
        let min = base.min()?;
        let max = base.max()?;
        let bins = bins.max(1);
        let mut edges: Vec<f64> = Vec::with_capacity(bins);
        for i in 1..bins {
            let q = base.quantile(i as f64 / bins as f64)?;
            if edges.last().is_none_or(|last| q > *last) && q < max {
                edges.push(q);
            }
        }
        edges.push(max);
        Some(Self { min, edges })
    }

    /// Number of buckets including underflow and overflow.
    pub fn len(&self) -> usize {
        self.edges.len() + 2
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// Weight of `dist` in each bucket (underflow, bins…, overflow), scaled so the buckets sum to
    /// `count` (the number of finite values the distribution stands for).
    pub fn weights(&self, dist: &EmpiricalDistribution, count: f64) -> Vec<f64> {
        let total = dist.total_weight();
        let mut out = Vec::with_capacity(self.len());
        if total <= 0.0 {
            out.resize(self.len(), 0.0);
            return out;
        }
        let scale = count / total;
        let under = dist.weight_lt(self.min);
        out.push(under * scale);
        let mut prev = under;
        for edge in &self.edges {
            let le = dist.weight_le(*edge);
            out.push((le - prev).max(0.0) * scale);
            prev = le;
        }
        out.push((total - prev).max(0.0) * scale);
        out
    }

    /// Human labels for the buckets, in the order of [`BaseBins::weights`].
    pub fn labels(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.len());
        out.push(format!("< {}", self.min));
        let mut lower: Option<f64> = None;
        for edge in &self.edges {
            match lower {
                None => out.push(format!("[{}, {}]", self.min, edge)),
                Some(l) => out.push(format!("({l}, {edge}]")),
            }
            lower = Some(*edge);
        }
        out.push(format!(
            "> {}",
            self.edges.last().copied().unwrap_or(self.min)
        ));
        out
    }
}

fn proportions(counts: &[f64]) -> Option<Vec<f64>> {
    let total: f64 = counts.iter().sum();
    if total.is_finite() && total > 0.0 {
        Some(counts.iter().map(|c| c / total).collect())
    } else {
        None
    }
}

/// Population stability index over matching buckets, in nats: PSI = Σ (qᵢ − pᵢ)·ln(qᵢ/pᵢ), where
/// pᵢ and qᵢ are the bucket counts plus `pseudo_count` (see [`PSI_PSEUDO_COUNT`]) divided by their
/// smoothed totals. Buckets empty on both sides are left out. `None` when either side has no
/// weight or the bucket lists differ in length.
pub fn psi(base: &[f64], candidate: &[f64], pseudo_count: f64) -> Option<f64> {
    if base.len() != candidate.len() {
        return None;
    }
    proportions(base)?;
    proportions(candidate)?;
    let occupied: Vec<(f64, f64)> = base
        .iter()
        .zip(candidate)
        .filter(|(b, c)| **b > 0.0 || **c > 0.0)
        .map(|(b, c)| (b + pseudo_count, c + pseudo_count))
        .collect();
    let total_base: f64 = occupied.iter().map(|(b, _)| b).sum();
    let total_cand: f64 = occupied.iter().map(|(_, c)| c).sum();
    let mut sum = 0.0;
    for (b, c) in occupied {
        let p = b / total_base;
        let q = c / total_cand;
        sum += (q - p) * (q / p).ln();
    }
    Some(sum.max(0.0))
}

/// Jensen–Shannon distance with base-2 logarithms, in [0, 1]: the square root of
/// ½·KL(P‖M) + ½·KL(Q‖M) with M = (P+Q)/2. Needs no floor, since 0·log 0 = 0 and M > 0 wherever
/// P or Q is. Equals `scipy.spatial.distance.jensenshannon(p, q, base=2)`.
pub fn js_distance(base: &[f64], candidate: &[f64]) -> Option<f64> {
    if base.len() != candidate.len() {
        return None;
    }
    let p = proportions(base)?;
    let q = proportions(candidate)?;
    let mut div = 0.0;
    for (pi, qi) in p.iter().zip(&q) {
        let m = 0.5 * (pi + qi);
        if *pi > 0.0 {
            div += 0.5 * pi * (pi / m).log2();
        }
        if *qi > 0.0 {
            div += 0.5 * qi * (qi / m).log2();
        }
    }
    Some(div.clamp(0.0, 1.0).sqrt())
}

/// Walks the union of both supports in ascending order, calling `visit(x, F(x), G(x), next_x)`
/// where `next_x` is the following union point (None at the last one).
fn walk_union(
    a: &EmpiricalDistribution,
    b: &EmpiricalDistribution,
    mut visit: impl FnMut(f64, f64, f64, Option<f64>),
) {
    let (ta, tb) = (a.total_weight(), b.total_weight());
    let (mut i, mut j) = (0usize, 0usize);
    let (mut fa, mut fb) = (0.0, 0.0);
    while i < a.values.len() || j < b.values.len() {
        let x = match (a.values.get(i), b.values.get(j)) {
            (Some(va), Some(vb)) => va.min(*vb),
            (Some(va), None) => *va,
            (None, Some(vb)) => *vb,
            (None, None) => break,
        };
        if a.values.get(i) == Some(&x) {
            fa = a.cumulative[i] / ta;
            i += 1;
        }
        if b.values.get(j) == Some(&x) {
            fb = b.cumulative[j] / tb;
            j += 1;
        }
        let next = match (a.values.get(i), b.values.get(j)) {
            (Some(va), Some(vb)) => Some(va.min(*vb)),
            (Some(va), None) => Some(*va),
            (None, Some(vb)) => Some(*vb),
            (None, None) => None,
        };
        visit(x, fa, fb, next);
    }
}

/// Two-sample Kolmogorov–Smirnov statistic D = sup |F(x) − G(x)|, evaluated at the union of both
/// supports, which is exact for discrete distributions. `None` when either side is empty.
pub fn ks_statistic(
    base: &EmpiricalDistribution,
    candidate: &EmpiricalDistribution,
) -> Option<f64> {
    if base.is_empty() || candidate.is_empty() {
        return None;
    }
    let mut d: f64 = 0.0;
    walk_union(base, candidate, |_, f, g, _| d = d.max((f - g).abs()));
    Some(d.min(1.0))
}

/// Wasserstein-1 (earth mover's) distance ∫|F(x) − G(x)| dx, in the column's unit. `None` when
/// either side is empty.
pub fn wasserstein1(
    base: &EmpiricalDistribution,
    candidate: &EmpiricalDistribution,
) -> Option<f64> {
    if base.is_empty() || candidate.is_empty() {
        return None;
    }
    let mut w = 0.0;
    walk_union(base, candidate, |x, f, g, next| {
        if let Some(next) = next {
            w += (f - g).abs() * (next - x);
        }
    });
    Some(w)
}

/// The scale that normalises a Wasserstein distance: the base population standard deviation, or,
/// for a constant base, max(1, |base value|) so that a constant column that starts to vary gets a
/// finite score relative to its magnitude.
pub fn wasserstein_scale(base: &EmpiricalDistribution) -> Option<f64> {
    let (mean, std) = base.mean_std()?;
    if std > 0.0 && std.is_finite() {
        Some(std)
    } else {
        Some(mean.abs().max(1.0))
    }
}

/// PSI expected from sampling noise alone with `buckets` occupied base buckets and `n`, `m` rows:
/// (B − 1)·(1/n + 1/m). Under no change, PSI is close to the chi-square statistic scaled by
/// (1/n + 1/m), whose mean is its B − 1 degrees of freedom.
pub fn noise_psi(buckets: usize, n: f64, m: f64) -> f64 {
    if n <= 0.0 || m <= 0.0 {
        return f64::INFINITY;
    }
    (buckets.saturating_sub(1) as f64) * (1.0 / n + 1.0 / m)
}

/// Jensen–Shannon distance (base 2) expected from sampling noise alone:
/// sqrt((B − 1)·(1/n + 1/m) / (8·ln 2)). For small differences the JS divergence in nats is about
/// one eighth of the chi-square divergence; the square root of the mean divergence is an upper
/// estimate of the mean distance (Jensen's inequality).
pub fn noise_js(buckets: usize, n: f64, m: f64) -> f64 {
    (noise_psi(buckets, n, m) / (8.0 * std::f64::consts::LN_2)).sqrt()
}

/// KS statistic expected from sampling noise alone: E[K]·sqrt((n + m)/(n·m)) where E[K] is the
/// mean of the Kolmogorov distribution ([`KOLMOGOROV_MEAN`]). Asymptotic and exact for
/// continuous data; ties make the true value smaller.
pub fn noise_ks(n: f64, m: f64) -> f64 {
    if n <= 0.0 || m <= 0.0 {
        return f64::INFINITY;
    }
    KOLMOGOROV_MEAN * ((n + m) / (n * m)).sqrt()
}

/// Normalised Wasserstein-1 distance expected from sampling noise alone:
/// sqrt(2/π)·sqrt(1/n + 1/m)·∫ sqrt(F(1 − F)) dx / scale, with F the base CDF. Pointwise,
/// F̂(x) − Ĝ(x) is close to normal with variance F(1 − F)(1/n + 1/m), and E|Z| = sqrt(2/π)·σ.
pub fn noise_wasserstein(base: &EmpiricalDistribution, n: f64, m: f64, scale: f64) -> f64 {
    if n <= 0.0 || m <= 0.0 || scale <= 0.0 {
        return f64::INFINITY;
    }
    let total = base.total_weight();
    let mut integral = 0.0;
    for (idx, pair) in base.values.windows(2).enumerate() {
        let f = base.cumulative[idx] / total;
        integral += (f * (1.0 - f)).max(0.0).sqrt() * (pair[1] - pair[0]);
    }
    (2.0 / std::f64::consts::PI).sqrt() * (1.0 / n + 1.0 / m).sqrt() * integral / scale
}

/// Absolute change of a rate (null rate, NaN rate) expected from sampling noise alone:
/// sqrt(2/π)·sqrt(p(1 − p)(1/n + 1/m)), the mean absolute value of a normal difference of two
/// binomial proportions with base rate p.
pub fn noise_rate(p: f64, n: f64, m: f64) -> f64 {
    if n <= 0.0 || m <= 0.0 {
        return f64::INFINITY;
    }
    let p = p.clamp(0.0, 1.0);
    (2.0 / std::f64::consts::PI).sqrt() * (p * (1.0 - p) * (1.0 / n + 1.0 / m)).sqrt()
}

/// Row count and mean of one slice on one side.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SliceMean {
    pub rows: f64,
    pub mean: f64,
}

/// One slice's share of the change of an overall mean.
///
/// With weights w = n_s/N and slice means μ_s (base) and w', μ' (candidate), and the overall
/// base mean μ̄: `mix` = (w' − w)(μ − μ̄), `within` = w(μ' − μ), `interaction` = (w' − w)(μ' − μ).
/// Centering the mix term on μ̄ leaves the sum unchanged (Σ(w' − w) = 0) and makes a slice that
/// grows while sitting at the average explain nothing. A slice present on one side only takes
/// μ = μ' there, so it contributes a pure mix term.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeanContribution {
    pub base_share: f64,
    pub candidate_share: f64,
    pub base_mean: Option<f64>,
    pub candidate_mean: Option<f64>,
    pub mix: f64,
    pub within: f64,
    pub interaction: f64,
}

impl MeanContribution {
    pub fn total(&self) -> f64 {
        self.mix + self.within + self.interaction
    }
}

/// One slice on both sides: base, candidate; `None` where a side lacks the slice.
pub type SlicePair = (Option<SliceMean>, Option<SliceMean>);

/// Splits the change of an overall mean into per-slice contributions that sum to
/// (candidate mean − base mean). Slices are matched by position: `base[i]` and `candidate[i]`
/// are the same slice, `None` where a side lacks it. `None` when a side has no rows.
pub fn decompose_mean(slices: &[SlicePair]) -> Option<(f64, Vec<MeanContribution>)> {
    let rows = |pick: fn(&SlicePair) -> Option<SliceMean>| -> f64 {
        slices.iter().filter_map(pick).map(|s| s.rows).sum()
    };
    let n_base = rows(|s| s.0);
    let n_cand = rows(|s| s.1);
    if n_base <= 0.0 || n_cand <= 0.0 {
        return None;
    }
    let overall_base: f64 = slices
        .iter()
        .filter_map(|s| s.0)
        .map(|s| s.rows * s.mean)
        .sum::<f64>()
        / n_base;
    let overall_cand: f64 = slices
        .iter()
        .filter_map(|s| s.1)
        .map(|s| s.rows * s.mean)
        .sum::<f64>()
        / n_cand;
    let mut out = Vec::with_capacity(slices.len());
    for (base, cand) in slices {
        let w = base.map_or(0.0, |s| s.rows / n_base);
        let w2 = cand.map_or(0.0, |s| s.rows / n_cand);
        let (mu, mu2) = match (base, cand) {
            (Some(b), Some(c)) => (b.mean, c.mean),
            (Some(b), None) => (b.mean, b.mean),
            (None, Some(c)) => (c.mean, c.mean),
            (None, None) => (overall_base, overall_base),
        };
        out.push(MeanContribution {
            base_share: w,
            candidate_share: w2,
            base_mean: base.map(|s| s.mean),
            candidate_mean: cand.map(|s| s.mean),
            mix: (w2 - w) * (mu - overall_base),
            within: w * (mu2 - mu),
            interaction: (w2 - w) * (mu2 - mu),
        });
    }
    Some((overall_cand - overall_base, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values below come from scipy 1.x / numpy 2.x, computed once outside the crate:
    // scipy.stats.ks_2samp(...).statistic, scipy.stats.wasserstein_distance,
    // scipy.spatial.distance.jensenshannon(p, q, base=2) and a numpy transcription of the PSI
    // formula with 0.5 pseudo-counts.
    const A: [f64; 9] = [1.0, 2.0, 2.0, 3.5, 4.0, 7.0, 7.0, 7.0, 10.0];
    const B: [f64; 8] = [0.5, 2.0, 3.0, 3.5, 5.0, 6.0, 8.0, 12.0];

    fn close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol,
            "expected {expected}, got {actual} (tolerance {tol})"
        );
    }

    #[test]
    fn ks_matches_scipy() {
        let a = EmpiricalDistribution::from_sample(&A);
        let b = EmpiricalDistribution::from_sample(&B);
        close(
            ks_statistic(&a, &b).unwrap(),
            0.194_444_444_444_444_45,
            1e-12,
        );
    }

    #[test]
    fn ks_weighted_values() {
        let a = EmpiricalDistribution::from_weighted([(1.0, 1.0), (2.0, 2.0), (3.0, 1.0)]);
        let b = EmpiricalDistribution::from_weighted([(2.0, 3.0), (4.0, 1.0)]);
        close(ks_statistic(&a, &b).unwrap(), 0.25, 1e-12);
    }

    #[test]
    fn wasserstein_matches_scipy() {
        let a = EmpiricalDistribution::from_sample(&A);
        let b = EmpiricalDistribution::from_sample(&B);
        close(
            wasserstein1(&a, &b).unwrap(),
            0.944_444_444_444_444_2,
            1e-12,
        );
        // wasserstein_distance([1,2,3], [2,4], [1,2,1], [3,1])
        let a = EmpiricalDistribution::from_weighted([(1.0, 1.0), (2.0, 2.0), (3.0, 1.0)]);
        let b = EmpiricalDistribution::from_weighted([(2.0, 3.0), (4.0, 1.0)]);
        close(wasserstein1(&a, &b).unwrap(), 0.5, 1e-12);
    }

    #[test]
    fn ks_and_wasserstein_larger_samples() {
        let a: Vec<f64> = (0..2000).map(|i| ((i * 37) % 101) as f64 / 10.0).collect();
        let b: Vec<f64> = (0..1500)
            .map(|i| ((i * 53) % 97) as f64 / 9.0 + 0.3)
            .collect();
        let da = EmpiricalDistribution::from_sample(&a);
        let db = EmpiricalDistribution::from_sample(&b);
        close(ks_statistic(&da, &db).unwrap(), 0.0945, 1e-12);
        close(
            wasserstein1(&da, &db).unwrap(),
            0.624_553_703_703_703_9,
            1e-9,
        );
        close(da.mean_std().unwrap().1, 2.916_160_879_907_005_6, 1e-9);
    }

    #[test]
    fn psi_matches_numpy() {
        let p = [10.0, 20.0, 0.0, 30.0, 40.0];
        let q = [12.0, 18.0, 5.0, 25.0, 40.0];
        close(
            psi(&p, &q, PSI_PSEUDO_COUNT).unwrap(),
            0.131_109_586_377_039_07,
            1e-12,
        );
        let disjoint = psi(&[100.0, 0.0, 0.0], &[0.0, 0.0, 100.0], PSI_PSEUDO_COUNT).unwrap();
        close(disjoint, 10.501_593_877_344_705, 1e-9);
    }

    #[test]
    fn psi_identical_is_zero() {
        let p = [3.0, 0.0, 7.0];
        assert_eq!(psi(&p, &p, PSI_PSEUDO_COUNT), Some(0.0));
    }

    #[test]
    fn psi_empty_side_is_none() {
        assert_eq!(psi(&[0.0, 0.0], &[1.0, 2.0], PSI_PSEUDO_COUNT), None);
        assert_eq!(psi(&[1.0], &[1.0, 2.0], PSI_PSEUDO_COUNT), None);
    }

    #[test]
    fn js_matches_scipy() {
        let p = [10.0, 20.0, 0.0, 30.0, 40.0];
        let q = [12.0, 18.0, 5.0, 25.0, 40.0];
        // scipy base e gives 0.13851016836497687; base 2 is that over sqrt(ln 2).
        let expected_e: f64 = 0.138_510_168_364_976_87;
        let expected_2 = expected_e / std::f64::consts::LN_2.sqrt();
        close(
            js_distance(&p, &q).unwrap(),
            0.166_367_667_067_957_75,
            1e-12,
        );
        close(js_distance(&p, &q).unwrap(), expected_2, 1e-12);
        close(js_distance(&[1.0, 0.0], &[0.0, 1.0]).unwrap(), 1.0, 1e-12);
        assert_eq!(js_distance(&p, &p), Some(0.0));
    }

    #[test]
    fn quantile_edges_deduplicate() {
        let a = EmpiricalDistribution::from_sample(&A);
        // numpy.quantile(A, [.25, .5, .75], method="inverted_cdf") = [2, 4, 7]
        let bins = BaseBins::from_quantiles(&a, 4).unwrap();
        assert_eq!(bins.min, 1.0);
        assert_eq!(bins.edges, vec![2.0, 4.0, 7.0, 10.0]);
        // Deciles collide on the point mass at 7.
        let bins = BaseBins::from_quantiles(&a, 10).unwrap();
        let mut sorted = bins.edges.clone();
        sorted.dedup();
        assert_eq!(sorted, bins.edges);
        assert_eq!(bins.edges.last(), Some(&10.0));
    }

    #[test]
    fn bucket_weights_cover_tails() {
        let a = EmpiricalDistribution::from_sample(&A);
        let bins = BaseBins::from_quantiles(&a, 4).unwrap();
        assert_eq!(bins.weights(&a, 9.0), vec![0.0, 3.0, 2.0, 3.0, 1.0, 0.0]);
        let b = EmpiricalDistribution::from_sample(&B);
        // 0.5 < 1; {2}; {3, 3.5}; {5, 6}; {8}; 12 > 10
        assert_eq!(bins.weights(&b, 8.0), vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0]);
        assert_eq!(bins.labels().len(), bins.len());
    }

    #[test]
    fn constant_column_is_finite() {
        let a = EmpiricalDistribution::from_sample(&[5.0; 40]);
        let bins = BaseBins::from_quantiles(&a, 10).unwrap();
        assert_eq!(bins.edges, vec![5.0]);
        let w = bins.weights(&a, 40.0);
        assert_eq!(psi(&w, &w, PSI_PSEUDO_COUNT), Some(0.0));
        assert_eq!(ks_statistic(&a, &a), Some(0.0));
        assert_eq!(wasserstein1(&a, &a), Some(0.0));
        assert_eq!(wasserstein_scale(&a), Some(5.0));
        let b = EmpiricalDistribution::from_sample(&[6.0; 40]);
        close(
            wasserstein1(&a, &b).unwrap() / wasserstein_scale(&a).unwrap(),
            0.2,
            1e-12,
        );
        assert!(noise_wasserstein(&a, 40.0, 40.0, 5.0).is_finite());
    }

    #[test]
    fn empty_distributions() {
        let empty = EmpiricalDistribution::from_sample(&[]);
        let a = EmpiricalDistribution::from_sample(&A);
        assert_eq!(ks_statistic(&empty, &a), None);
        assert_eq!(wasserstein1(&a, &empty), None);
        assert_eq!(BaseBins::from_quantiles(&empty, 10), None);
        assert_eq!(empty.quantile(0.5), None);
        assert_eq!(empty.cdf(1.0), 0.0);
        let bins = BaseBins::from_quantiles(&a, 4).unwrap();
        assert_eq!(bins.weights(&empty, 0.0), vec![0.0; 6]);
    }

    #[test]
    fn non_finite_values_are_dropped() {
        let d = EmpiricalDistribution::from_sample(&[1.0, f64::NAN, f64::INFINITY, 2.0, -0.0, 0.0]);
        assert_eq!(d.values(), &[0.0, 1.0, 2.0]);
        assert_eq!(d.total_weight(), 4.0);
    }

    #[test]
    fn noise_formulas() {
        close(noise_psi(10, 100.0, 100.0), 0.18, 1e-12);
        close(
            noise_ks(1000.0, 1000.0),
            0.868_731_160_636_16 * 0.002_f64.sqrt(),
            1e-12,
        );
        close(
            noise_js(10, 100.0, 100.0),
            (0.18 / (8.0 * 2f64.ln())).sqrt(),
            1e-12,
        );
        close(
            noise_rate(0.5, 100.0, 100.0),
            0.056_418_958_354_775_63,
            1e-12,
        );
        assert_eq!(noise_psi(10, 0.0, 100.0), f64::INFINITY);
        // numpy: sqrt(2/pi)*sqrt(1/100+1/100)*sum(sqrt(F(1-F))*diff(A))/std(A)
        let a = EmpiricalDistribution::from_sample(&A);
        let scale = wasserstein_scale(&a).unwrap();
        close(scale, 2.867_441_755_680_875_6, 1e-12);
        close(
            noise_wasserstein(&a, 100.0, 100.0, scale),
            0.145_732_076_334_837_62,
            1e-12,
        );
    }

    #[test]
    fn decomposition_sums_to_total() {
        let slices = [
            (
                Some(SliceMean {
                    rows: 60.0,
                    mean: 10.0,
                }),
                Some(SliceMean {
                    rows: 30.0,
                    mean: 12.0,
                }),
            ),
            (
                Some(SliceMean {
                    rows: 40.0,
                    mean: 20.0,
                }),
                Some(SliceMean {
                    rows: 50.0,
                    mean: 100.0,
                }),
            ),
            (
                None,
                Some(SliceMean {
                    rows: 20.0,
                    mean: 5.0,
                }),
            ),
        ];
        let (total, parts) = decompose_mean(&slices).unwrap();
        // base mean 14, candidate mean (360 + 5000 + 100)/100 = 54.6
        close(total, 40.6, 1e-12);
        let sum: f64 = parts.iter().map(MeanContribution::total).sum();
        close(sum, total, 1e-12);
        // Slice 2: mix (0.5 − 0.4)(20 − 14) = 0.6, within 0.4·80 = 32, interaction 0.1·80 = 8.
        close(parts[1].mix, 0.6, 1e-12);
        close(parts[1].within, 32.0, 1e-12);
        close(parts[1].interaction, 8.0, 1e-12);
        // New slice: pure mix 0.2·(5 − 14).
        close(parts[2].mix, -1.8, 1e-12);
        assert_eq!(parts[2].within, 0.0);
    }

    #[test]
    fn decomposition_needs_rows() {
        assert_eq!(decompose_mean(&[]), None);
        let one_side = [(
            Some(SliceMean {
                rows: 5.0,
                mean: 1.0,
            }),
            None,
        )];
        assert_eq!(decompose_mean(&one_side), None);
    }
}
