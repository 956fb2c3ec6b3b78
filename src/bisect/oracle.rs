//! The bridge from stored commits to the auto-mode score oracle.
//!
//! A [`CommitScorer`] compares two whole commits and returns a score for every tracked key (each
//! evidence item, each column and each column within each slice). [`CachedOracle`] maps the
//! positions of a first-parent path to commits, calls the scorer once per commit pair and serves
//! every key from that result, so a commit pair costs one comparison however many keys exist.

use std::collections::HashMap;

use super::auto::{AutoItem, ItemKey, Score, ScoreOracle};
use crate::id::ObjectId;

/// Scores every tracked key of one commit against another.
pub trait CommitScorer {
    /// Compares `target` with `base`. A key that exists on neither side is left out; a key that
    /// cannot be compared is returned with [`Score::NotComparable`].
    fn score_pair(&mut self, base: &ObjectId, target: &ObjectId) -> Vec<(ItemKey, Score)>;
}

/// Conventional threshold for a statistic, used when the reference window is too short to
/// calibrate. Drift statistics take the diff module's defaults (PSI 0.1, Jensen–Shannon 0.1, KS
/// 0.2, normalized Wasserstein 0.1, null and NaN rate changes 0.05). Any other statistic is
/// read as a count of changes, where more than half a change means changed.
pub fn conventional_threshold(statistic: &str) -> f64 {
    let defaults = crate::diff::drift::Thresholds::default();
    match statistic {
        "psi" => defaults.psi,
        "js" => defaults.js,
        "ks" => defaults.ks,
        "wasserstein" => defaults.wasserstein,
        "null_rate" => defaults.null_rate,
        "nan_rate" => defaults.nan_rate,
        _ => 0.5,
    }
}

/// Scores commits of a path on demand, one scorer call per commit pair.
pub struct CachedOracle<'a> {
    path: &'a [ObjectId],
    scorer: &'a mut dyn CommitScorer,
    keys: Vec<String>,
    cache: HashMap<(usize, usize), HashMap<String, Score>>,
    /// Scorer calls made, for the benchmark and the report.
    pub comparisons: usize,
}

impl std::fmt::Debug for CachedOracle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedOracle")
            .field("path", &self.path.len())
            .field("keys", &self.keys.len())
            .field("comparisons", &self.comparisons)
            .finish()
    }
}

fn key_string(key: &ItemKey) -> String {
    key.to_string()
}

impl<'a> CachedOracle<'a> {
    /// Discovers the keys by comparing the path's `bad` commit with its `good` commit, and
    /// returns the oracle with the items to search (keys sorted for a stable report order).
    pub fn new(
        path: &'a [ObjectId],
        good: usize,
        bad: usize,
        scorer: &'a mut dyn CommitScorer,
    ) -> (Self, Vec<AutoItem>) {
        let mut oracle = CachedOracle {
            path,
            scorer,
            keys: Vec::new(),
            cache: HashMap::new(),
            comparisons: 0,
        };
        let mut discovered: Vec<ItemKey> = oracle
            .scorer
            .score_pair(&path[good], &path[bad])
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        discovered.sort_by_key(key_string);
        discovered.dedup();
        oracle.keys = discovered.iter().map(key_string).collect();
        let items = discovered
            .into_iter()
            .map(|key| AutoItem {
                conventional_threshold: conventional_threshold(&key.statistic),
                key,
            })
            .collect();
        (oracle, items)
    }

    fn pair(&mut self, base: usize, target: usize) -> &HashMap<String, Score> {
        if !self.cache.contains_key(&(base, target)) {
            self.comparisons += 1;
            let scores = self
                .scorer
                .score_pair(&self.path[base], &self.path[target])
                .into_iter()
                .map(|(key, score)| (key_string(&key), score))
                .collect();
            self.cache.insert((base, target), scores);
        }
        self.cache
            .get(&(base, target))
            .expect("inserted just above")
    }
}

impl ScoreOracle for CachedOracle<'_> {
    fn score(&mut self, item: usize, base: usize, target: usize) -> Score {
        let key = self.keys[item].clone();
        match self.pair(base, target).get(&key) {
            Some(score) => score.clone(),
            None => Score::NotComparable {
                reason: "evidence missing at this commit".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bisect::auto::{AutoOptions, ItemStatus, find_departures};

    /// Commits carry one number per key; the score is the absolute difference.
    struct FakeScorer {
        values: HashMap<ObjectId, Vec<(ItemKey, f64)>>,
        calls: usize,
    }

    impl CommitScorer for FakeScorer {
        fn score_pair(&mut self, base: &ObjectId, target: &ObjectId) -> Vec<(ItemKey, Score)> {
            self.calls += 1;
            let base_values = &self.values[base];
            self.values[target]
                .iter()
                .filter_map(|(key, value)| {
                    let (_, base_value) = base_values.iter().find(|(k, _)| k == key)?;
                    Some((key.clone(), Score::plain((value - base_value).abs(), 1, 1)))
                })
                .collect()
        }
    }

    fn key(name: &str) -> ItemKey {
        ItemKey {
            item: name.into(),
            column: None,
            slice: None,
            statistic: "changes".into(),
        }
    }

    #[test]
    fn one_comparison_serves_all_keys() {
        let path: Vec<ObjectId> = (0..20u8).map(|i| ObjectId::hash(&[i])).collect();
        let mut values = HashMap::new();
        for (i, id) in path.iter().enumerate() {
            let schema = if i >= 12 { 1.0 } else { 0.0 };
            let file = if i >= 15 { 1.0 } else { 0.0 };
            values.insert(*id, vec![(key("schema"), schema), (key("file"), file)]);
        }
        let mut scorer = FakeScorer { values, calls: 0 };
        let (mut oracle, items) = CachedOracle::new(&path, 9, 19, &mut scorer);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].conventional_threshold, 0.5);
        let outcome = find_departures(&items, 9, 19, &AutoOptions::default(), &mut oracle).unwrap();
        let first_of = |name: &str| {
            let finding = outcome
                .findings
                .iter()
                .find(|f| f.key.item == name)
                .unwrap();
            match &finding.status {
                ItemStatus::Departed { first, .. } => first.position,
                other => panic!("{name}: {other:?}"),
            }
        };
        assert_eq!(first_of("schema"), 12);
        assert_eq!(first_of("file"), 15);
        assert_eq!(outcome.first_change.unwrap().position, 12);
        // Fewer comparisons than oracle calls: keys share the cached commit pairs.
        let comparisons = oracle.comparisons;
        assert!(
            comparisons < outcome.evaluations,
            "{comparisons} >= {}",
            outcome.evaluations
        );
    }

    #[test]
    fn missing_key_not_comparable() {
        let path: Vec<ObjectId> = (0..3u8).map(|i| ObjectId::hash(&[i])).collect();
        let mut values = HashMap::new();
        values.insert(path[0], vec![(key("a"), 0.0)]);
        values.insert(path[1], vec![]);
        values.insert(path[2], vec![(key("a"), 1.0)]);
        let mut scorer = FakeScorer { values, calls: 0 };
        let (mut oracle, _) = CachedOracle::new(&path, 0, 2, &mut scorer);
        assert!(matches!(oracle.score(0, 0, 1), Score::NotComparable { .. }));
        assert!(matches!(oracle.score(0, 0, 2), Score::Value { score, .. } if score == 1.0));
    }
}
