//! Frequent values: exact counts up to a tracking limit, then Misra–Gries summaries.
//!
//! While the column has at most `limit` distinct values every count is exact. Past that, the
//! tracker keeps at most `limit` keys and, when full, subtracts the median count from every key
//! and drops the keys that reach zero (the batched Misra–Gries algorithm). Reported counts are
//! then lower bounds, each at most `max_error` below the true count, and any value occurring more
//! than `rows / limit` times is guaranteed to be kept.
//!
//! Once counts are estimates, a new value is first kept as a bare hash and gets its text (an
//! allocation) only on its second occurrence. ID-like columns, where most values occur once,
//! then cost no allocation per row. Values seen once since the last shrink are not listed, which
//! loses nothing: such a count of 1 lies within `max_error` (at least 1) of zero.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::hll::{Prehashed, hash_bytes};

/// One reported value and its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
}

/// Stored frequent values of a column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopValues {
    /// Most frequent values, by count descending then value ascending; at most the `top_values`
    /// option.
    pub values: Vec<ValueCount>,
    /// Non-null values not listed in `values` (`non-null count − Σ values.count`).
    pub other: u64,
    /// True when every count is exact.
    pub exact: bool,
    /// Upper bound on how far each reported count may lie below the true count (0 when exact).
    pub max_error: u64,
}

/// Counts keyed by the value's 64-bit XXH3 hash, which the distinct counter computes anyway; the
/// text is built only for new keys. Two values with equal hashes (probability about n²/2⁶⁵)
/// would share a count.
#[derive(Debug, Clone)]
pub struct TopValuesTracker {
    counts: HashMap<u64, (Box<str>, u64), Prehashed>,
    /// Hashes of values seen exactly once since the last shrink, kept without their text while
    /// counts are estimates.
    pending: HashSet<u64, Prehashed>,
    limit: usize,
    decremented: u64,
    total: u64,
}

impl TopValuesTracker {
    pub fn new(limit: usize) -> Self {
        TopValuesTracker {
            counts: HashMap::default(),
            pending: HashSet::default(),
            limit: limit.max(1),
            decremented: 0,
            total: 0,
        }
    }

    pub fn insert(&mut self, value: &str) {
        self.insert_hashed(hash_bytes(value.as_bytes()), 1, || value.into());
    }

    /// Adds `n` occurrences of the value with hash `hash`; `text` renders it when it is new.
    #[inline]
    pub fn insert_hashed(&mut self, hash: u64, n: u64, text: impl FnOnce() -> Box<str>) {
        self.total += n;
        if let Some((_, count)) = self.counts.get_mut(&hash) {
            *count += n;
            return;
        }
        if self.decremented > 0 && n == 1 {
            if self.pending.remove(&hash) {
                self.counts.insert(hash, (text(), 2));
            } else {
                self.pending.insert(hash);
            }
        } else {
            self.counts.insert(hash, (text(), n));
        }
        if self.counts.len() + self.pending.len() > self.limit {
            self.shrink();
        }
    }

    /// True when every count is exact now and stays exact after adding up to `new_keys`
    /// keys not seen before, so adding counts in any order gives the same state.
    pub fn stays_exact_with(&self, new_keys: usize) -> bool {
        self.decremented == 0 && self.counts.len() + new_keys <= self.limit
    }

    /// Subtracts the median count from all keys and drops those at zero or below.
    fn shrink(&mut self) {
        let mut counts: Vec<u64> = self.counts.values().map(|(_, count)| *count).collect();
        counts.extend(std::iter::repeat_n(1, self.pending.len()));
        let middle = counts.len() / 2;
        let (_, median, _) = counts.select_nth_unstable(middle);
        let cut = (*median).max(1);
        self.decremented += cut;
        // Pending values have a count of 1, at or below any cut.
        self.pending.clear();
        self.counts.retain(|_, (_, count)| {
            if *count > cut {
                *count -= cut;
                true
            } else {
                false
            }
        });
    }

    pub fn merge(&mut self, other: &TopValuesTracker) {
        for (&hash, (value, count)) in &other.counts {
            self.insert_hashed(hash, *count, || value.clone());
        }
        // The other side's pending values have no text. One that is pending here too would need
        // a count of 2 without text, so it stays pending and the lost occurrence widens the bound.
        for &hash in &other.pending {
            self.total += 1;
            if let Some((_, count)) = self.counts.get_mut(&hash) {
                *count += 1;
            } else if !self.pending.insert(hash) {
                self.decremented += 1;
            }
        }
        // Keys that `other` already dropped carry its error bound into the result.
        self.decremented += other.decremented;
        // `insert_n` added the other side's kept counts; its dropped mass belongs to `total` too.
        let kept: u64 = other.counts.values().map(|(_, count)| *count).sum::<u64>()
            + other.pending.len() as u64;
        self.total += other.total - kept;
        if self.counts.len() + self.pending.len() > self.limit {
            self.shrink();
        }
    }

    pub fn finish(&self, top: usize) -> TopValues {
        let mut values: Vec<ValueCount> = self
            .counts
            .values()
            .map(|(value, count)| ValueCount {
                value: value.to_string(),
                count: *count,
            })
            .collect();
        values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        values.truncate(top);
        let listed: u64 = values.iter().map(|v| v.count).sum();
        TopValues {
            other: self.total - listed,
            exact: self.decremented == 0,
            max_error: self.decremented,
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_counts_and_other() {
        let mut tracker = TopValuesTracker::new(100);
        for (value, n) in [("a", 5), ("b", 3), ("c", 3), ("d", 1)] {
            for _ in 0..n {
                tracker.insert(value);
            }
        }
        let top = tracker.finish(2);
        assert!(top.exact);
        assert_eq!(
            top.values[0],
            ValueCount {
                value: "a".into(),
                count: 5
            }
        );
        // Ties break by value.
        assert_eq!(
            top.values[1],
            ValueCount {
                value: "b".into(),
                count: 3
            }
        );
        assert_eq!(top.other, 4);
    }

    #[test]
    fn heavy_hitter_survives_high_cardinality() {
        let mut tracker = TopValuesTracker::new(64);
        let mut heavy = 0;
        for i in 0..100_000u64 {
            if i % 10 == 0 {
                tracker.insert("heavy");
                heavy += 1;
            } else {
                tracker.insert(&format!("id-{i}"));
            }
        }
        let top = tracker.finish(5);
        assert!(!top.exact);
        assert_eq!(top.values[0].value, "heavy");
        assert!(top.values[0].count <= heavy);
        assert!(top.values[0].count + top.max_error >= heavy);
        let listed: u64 = top.values.iter().map(|v| v.count).sum();
        assert_eq!(listed + top.other, 100_000);
    }

    #[test]
    fn approximate_merge_keeps_totals() {
        let mut left = TopValuesTracker::new(64);
        let mut right = TopValuesTracker::new(64);
        for i in 0..20_000u64 {
            let tracker = if i % 2 == 0 { &mut left } else { &mut right };
            if i % 5 == 0 {
                tracker.insert("heavy");
            } else {
                // Every ID occurs twice, once on each side, so pending hashes meet in the merge.
                tracker.insert(&format!("id-{}", i / 2));
            }
        }
        left.merge(&right);
        let top = left.finish(3);
        assert!(!top.exact);
        assert_eq!(top.values[0].value, "heavy");
        assert!(top.values[0].count <= 4000);
        assert!(top.values[0].count + top.max_error >= 4000);
        let listed: u64 = top.values.iter().map(|v| v.count).sum();
        assert_eq!(listed + top.other, 20_000);
    }
}
