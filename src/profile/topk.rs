//! Frequent values: exact counts up to a tracking limit, then Misra–Gries summaries.
//!
//! While the column has at most `limit` distinct values every count is exact. Past that, the
//! tracker keeps at most `limit` keys and, when full, subtracts the median count from every key
//! and drops the keys that reach zero (the batched Misra–Gries algorithm). Reported counts are
//! then lower bounds, each at most `max_error` below the true count, and any value occurring more
//! than `rows / limit` times is guaranteed to be kept.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3Builder;

use super::hll::HASH_SEED;

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

#[derive(Debug, Clone)]
pub struct TopValuesTracker {
    counts: HashMap<Box<str>, u64, Xxh3Builder>,
    limit: usize,
    decremented: u64,
    total: u64,
}

impl TopValuesTracker {
    pub fn new(limit: usize) -> Self {
        TopValuesTracker {
            counts: HashMap::with_hasher(Xxh3Builder::new().with_seed(HASH_SEED)),
            limit: limit.max(1),
            decremented: 0,
            total: 0,
        }
    }

    #[inline]
    pub fn insert(&mut self, value: &str) {
        self.insert_n(value, 1);
    }

    pub fn insert_n(&mut self, value: &str, n: u64) {
        self.total += n;
        if let Some(count) = self.counts.get_mut(value) {
            *count += n;
            return;
        }
        self.counts.insert(value.into(), n);
        if self.counts.len() > self.limit {
            self.shrink();
        }
    }

    /// Subtracts the median count from all keys and drops those at zero or below.
    fn shrink(&mut self) {
        let mut counts: Vec<u64> = self.counts.values().copied().collect();
        let middle = counts.len() / 2;
        let (_, median, _) = counts.select_nth_unstable(middle);
        let cut = (*median).max(1);
        self.decremented += cut;
        self.counts.retain(|_, count| {
            if *count > cut {
                *count -= cut;
                true
            } else {
                false
            }
        });
    }

    pub fn merge(&mut self, other: &TopValuesTracker) {
        for (value, &count) in &other.counts {
            self.insert_n(value, count);
        }
        // Keys that `other` already dropped carry its error bound into the result.
        self.decremented += other.decremented;
        // `insert_n` added the other side's kept counts; its dropped mass belongs to `total` too.
        let kept: u64 = other.counts.values().sum();
        self.total += other.total - kept;
    }

    pub fn finish(&self, top: usize) -> TopValues {
        let mut values: Vec<ValueCount> = self
            .counts
            .iter()
            .map(|(value, &count)| ValueCount {
                value: value.to_string(),
                count,
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
}
