//! A deterministic KLL quantile sketch over finite `f64` values.
//!
//! KLL (Karnin, Lang, Liberty 2016) keeps a stack of compactors: level `h` contains items of weight
//! `2^h`; when the sketch outgrows its capacity, the lowest full level is sorted and every other
//! item moves up one level. The classic algorithm picks the kept half with a random coin. Here the
//! coin comes from a SplitMix64 stream with a fixed seed, so the same values in the same order
//! always give the same sketch, and the coin state is part of the serialized sketch.
//!
//! Error: with `k = 1024` the measured maximum rank error over the whole CDF is below 0.3 % of the
//! count (see the `rank_error_within_bound` test). Up to roughly `k` values the sketch is exact.

use serde::{Deserialize, Serialize};

/// Default accuracy parameter. With k = 200 PSI errors reach 0.1; k ≥ 1024 keeps them near 0.005.
pub const DEFAULT_K: u32 = 1024;

/// Smallest capacity of any level, as in the Apache DataSketches implementation.
const MIN_LEVEL_CAPACITY: usize = 8;

/// Ratio between the capacities of neighbouring levels (KLL's `c`).
const LEVEL_RATIO: f64 = 2.0 / 3.0;

/// Fixed seed for the compaction coin, so sketches are reproducible.
const COIN_SEED: u64 = 0x6576_5f6b_6c6c_0001;

/// A mergeable quantile sketch of finite values. NaN and infinities must be counted elsewhere:
/// `update` ignores them so they never reach the serialized form.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KllSketch {
    /// Accuracy parameter: capacity of the top level.
    pub k: u32,
    /// Number of values inserted; equals the total weight of the retained items.
    pub n: u64,
    /// Retained items per level; an item at level `h` stands for `2^h` values. Sorted on output.
    pub levels: Vec<Vec<f64>>,
    /// State of the deterministic compaction coin.
    pub coin: u64,
    #[serde(skip)]
    retained: usize,
    #[serde(skip)]
    capacity: usize,
    /// Capacity of each level, cached because `compress` runs every few updates.
    #[serde(skip)]
    capacities: Vec<usize>,
}

/// Equality of the stored state; the cached counters are derived from it.
impl PartialEq for KllSketch {
    fn eq(&self, other: &Self) -> bool {
        self.k == other.k
            && self.n == other.n
            && self.levels == other.levels
            && self.coin == other.coin
    }
}

impl KllSketch {
    /// Creates an empty sketch with accuracy parameter `k` (clamped to at least 8).
    pub fn new(k: u32) -> Self {
        let k = k.max(MIN_LEVEL_CAPACITY as u32);
        let mut sketch = KllSketch {
            k,
            n: 0,
            levels: vec![Vec::new()],
            coin: COIN_SEED,
            retained: 0,
            capacity: 0,
            capacities: Vec::new(),
        };
        sketch.refresh_capacities();
        sketch
    }

    /// Recomputes the per-level and total capacities after the number of levels changed.
    fn refresh_capacities(&mut self) {
        let levels = self.levels.len();
        self.capacities = (0..levels)
            .map(|level| {
                let depth = levels - level - 1;
                let cap = (self.k as f64 * LEVEL_RATIO.powi(depth as i32)).ceil() as usize;
                cap.max(MIN_LEVEL_CAPACITY)
            })
            .collect();
        self.capacity = self.capacities.iter().sum();
    }

    /// Adds one value; non-finite values are ignored.
    #[inline]
    pub fn update(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        // -0.0 and 0.0 compare equal; store one form so serialized bytes do not depend on it.
        let value = if value == 0.0 { 0.0 } else { value };
        self.levels[0].push(value);
        self.n += 1;
        self.retained += 1;
        if self.retained >= self.capacity {
            self.compress();
        }
    }

    fn next_coin(&mut self) -> usize {
        // SplitMix64 step.
        self.coin = self.coin.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.coin;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z & 1) as usize
    }

    /// Compacts levels until the retained items fit the capacity.
    fn compress(&mut self) {
        while self.retained >= self.capacity {
            // Some level is at capacity: the capacities add up to `self.capacity`.
            let Some(level) =
                (0..self.levels.len()).find(|&h| self.levels[h].len() >= self.capacities[h])
            else {
                break;
            };
            if level + 1 == self.levels.len() {
                self.levels.push(Vec::new());
                self.refresh_capacities();
            }
            let offset = self.next_coin();
            let (lower, upper) = self.levels.split_at_mut(level + 1);
            let items = &mut lower[level];
            // Level 0 arrives unsorted; higher levels contain sorted runs, which the stable,
            // run-detecting sort merges cheaply.
            if level == 0 {
                items.sort_unstable_by(f64::total_cmp);
            } else {
                items.sort_by(f64::total_cmp);
            }
            // An odd item stays behind so total weight is preserved exactly.
            let leftover = if items.len() % 2 == 1 {
                items.pop()
            } else {
                None
            };
            let paired = items.len();
            upper[0].extend(items.iter().skip(offset).step_by(2));
            // The vector keeps its allocation for the next fill.
            items.clear();
            if let Some(item) = leftover {
                items.push(item);
            }
            self.retained -= paired / 2;
            if self.retained < self.capacity {
                break;
            }
        }
    }

    /// Merges another sketch into this one. Both must use the same `k`; the larger `k` wins
    /// otherwise, which only lowers accuracy.
    pub fn merge(&mut self, other: &KllSketch) {
        self.k = self.k.max(other.k);
        while self.levels.len() < other.levels.len() {
            self.levels.push(Vec::new());
        }
        for (h, items) in other.levels.iter().enumerate() {
            self.levels[h].extend_from_slice(items);
        }
        self.n += other.n;
        self.retained = self.levels.iter().map(Vec::len).sum();
        self.refresh_capacities();
        if self.retained >= self.capacity {
            self.compress();
        }
    }

    /// Sorts every level so the serialized form is canonical.
    pub fn finish(&mut self) {
        for level in &mut self.levels {
            level.sort_by(f64::total_cmp);
        }
        while self.levels.len() > 1 && self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
        self.refresh_capacities();
    }

    /// Returns the retained items with their weights, sorted by value.
    pub fn weighted_items(&self) -> Vec<(f64, u64)> {
        let mut items: Vec<(f64, u64)> = self
            .levels
            .iter()
            .enumerate()
            .flat_map(|(h, level)| level.iter().map(move |&v| (v, 1u64 << h.min(63))))
            .collect();
        items.sort_by(|a, b| a.0.total_cmp(&b.0));
        items
    }

    /// Estimated fraction of values `<= x` (the CDF at `x`); 0 for an empty sketch.
    pub fn cdf(&self, x: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let below: u64 = self
            .levels
            .iter()
            .enumerate()
            .map(|(h, level)| level.iter().filter(|&&v| v <= x).count() as u64 * (1u64 << h))
            .sum();
        below as f64 / self.n as f64
    }

    /// Estimated fraction of values `< x` (the left limit of the CDF at `x`).
    pub fn cdf_strict(&self, x: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let below: u64 = self
            .levels
            .iter()
            .enumerate()
            .map(|(h, level)| level.iter().filter(|&&v| v < x).count() as u64 * (1u64 << h))
            .sum();
        below as f64 / self.n as f64
    }

    /// Estimated `q`-quantile (`q` in 0..=1): the smallest retained value whose cumulative weight
    /// reaches `q * n`. `None` for an empty sketch.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let items = self.weighted_items();
        let first = items.first()?;
        let target = (q.clamp(0.0, 1.0) * self.n as f64).ceil() as u64;
        let mut cumulative = 0u64;
        for &(value, weight) in &items {
            cumulative += weight;
            if cumulative >= target.max(1) {
                return Some(value);
            }
        }
        Some(items.last().map_or(first.0, |item| item.0))
    }

    /// Estimated quantiles at each of `qs`, in one pass over the sorted items.
    pub fn quantiles(&self, qs: &[f64]) -> Vec<Option<f64>> {
        qs.iter().map(|&q| self.quantile(q)).collect()
    }

    /// Restores the cached counters after deserialization, so the sketch can be updated again.
    pub fn rehydrate(&mut self) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.retained = self.levels.iter().map(Vec::len).sum();
        self.refresh_capacities();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_input_is_exact() {
        let mut sketch = KllSketch::new(DEFAULT_K);
        for i in 1..=100 {
            sketch.update(i as f64);
        }
        assert_eq!(sketch.n, 100);
        assert_eq!(sketch.quantile(0.5), Some(50.0));
        assert_eq!(sketch.quantile(0.0), Some(1.0));
        assert_eq!(sketch.quantile(1.0), Some(100.0));
        assert!((sketch.cdf(25.0) - 0.25).abs() < 1e-12);
        assert!((sketch.cdf_strict(25.0) - 0.24).abs() < 1e-12);
    }

    #[test]
    fn non_finite_values_are_ignored() {
        let mut sketch = KllSketch::new(DEFAULT_K);
        sketch.update(f64::NAN);
        sketch.update(f64::INFINITY);
        sketch.update(f64::NEG_INFINITY);
        sketch.update(1.0);
        assert_eq!(sketch.n, 1);
        assert_eq!(sketch.quantile(0.5), Some(1.0));
    }

    #[test]
    fn total_weight_is_preserved() {
        let mut sketch = KllSketch::new(64);
        for i in 0..100_003u64 {
            sketch.update((i * 7919 % 100_003) as f64);
        }
        let weight: u64 = sketch.weighted_items().iter().map(|item| item.1).sum();
        assert_eq!(weight, 100_003);
        assert_eq!(sketch.n, 100_003);
    }

    /// Max |estimated CDF − true CDF| over all ranks on a shuffled 0..n permutation.
    fn max_rank_error(k: u32, n: u64) -> f64 {
        let mut sketch = KllSketch::new(k);
        // A full-period LCG permutation of 0..n (n is a power of two).
        let mut x = 12345u64;
        for _ in 0..n {
            x = (x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407))
                % n;
            sketch.update(x as f64);
        }
        let mut worst: f64 = 0.0;
        let step = (n / 2000).max(1);
        let mut v = 0;
        while v < n {
            let truth = (v + 1) as f64 / n as f64;
            worst = worst.max((sketch.cdf(v as f64) - truth).abs());
            v += step;
        }
        worst
    }

    #[test]
    fn rank_error_within_bound() {
        let error = max_rank_error(DEFAULT_K, 1 << 20);
        assert!(error < 0.003, "max rank error {error}");
    }

    #[test]
    fn same_input_gives_identical_sketch() {
        let build = || {
            let mut sketch = KllSketch::new(DEFAULT_K);
            for i in 0..50_000u64 {
                sketch.update(((i * 2654435761) % 1_000_003) as f64 / 7.0);
            }
            sketch.finish();
            serde_json::to_vec(&sketch).unwrap()
        };
        assert_eq!(build(), build());
    }

    #[test]
    fn merge_matches_bound() {
        let mut left = KllSketch::new(DEFAULT_K);
        let mut right = KllSketch::new(DEFAULT_K);
        for i in 0..200_000u64 {
            let v = ((i * 2654435761) % 200_000) as f64;
            if i % 2 == 0 {
                left.update(v);
            } else {
                right.update(v);
            }
        }
        left.merge(&right);
        assert_eq!(left.n, 200_000);
        let weight: u64 = left.weighted_items().iter().map(|item| item.1).sum();
        assert_eq!(weight, 200_000);
        for q in [0.1, 0.25, 0.5, 0.75, 0.9] {
            let estimate = left.quantile(q).unwrap();
            let truth = q * 200_000.0;
            assert!(
                (estimate - truth).abs() / 200_000.0 < 0.006,
                "q={q} estimate={estimate}"
            );
        }
    }
}
