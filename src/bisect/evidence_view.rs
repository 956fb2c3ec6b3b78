//! Reading a commit's typed evidence for built-in predicates and auto-mode scores.
//!
//! Everything here reads stored records: the evidence manifest, typed records and trees. Nothing
//! reads raw data or checks files out, so one predicate evaluation costs a few object reads.

use std::collections::{BTreeSet, HashMap};

use super::auto::{ItemKey, Score};
use super::oracle::CommitScorer;
use super::predicate::{Evaluation, Predicate};
use super::tree_lookup::lookup_path;
use crate::diff::compare::{CompareOptions, compare};
use crate::diff::drift::{ColumnDrift, DriftOptions, DriftStatus, Metric};
use crate::diff::report::{Category, Severity};
use crate::diff::sample::{compare_profiles, slice_drift};
use crate::evidence::EvidenceRecord;
use crate::evidence::sample::SampleRecord;
use crate::id::ObjectId;
use crate::manifest::{EvidenceItem, EvidenceRecord as Manifest};
use crate::object::ObjectKind;
use crate::repo_path::RepoPath;
use crate::store::{Store, StoreError};

/// A reason evidence could not be read. Missing evidence is not an error (it makes a commit
/// skipped); a damaged store is.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("failed to read evidence of commit {commit}")]
    Store {
        commit: ObjectId,
        #[source]
        source: Box<StoreError>,
    },
}

/// Cached reads of commits, evidence manifests and typed records.
#[derive(Debug)]
pub struct EvidenceView<'a> {
    store: &'a Store,
    manifests: HashMap<ObjectId, Option<Manifest>>,
    trees: HashMap<ObjectId, ObjectId>,
    records: HashMap<ObjectId, EvidenceRecord>,
}

impl<'a> EvidenceView<'a> {
    /// Creates an empty view over `store`.
    pub fn new(store: &'a Store) -> Self {
        EvidenceView {
            store,
            manifests: HashMap::new(),
            trees: HashMap::new(),
            records: HashMap::new(),
        }
    }

    fn wrap(commit: &ObjectId) -> impl FnOnce(StoreError) -> ViewError + '_ {
        move |source| ViewError::Store {
            commit: *commit,
            source: Box::new(source),
        }
    }

    fn load_commit(&mut self, commit: &ObjectId) -> Result<(), ViewError> {
        if self.manifests.contains_key(commit) {
            return Ok(());
        }
        let object = self.store.read_commit(commit).map_err(Self::wrap(commit))?;
        let manifest = match object.evidence {
            Some(id) => Some(
                self.store
                    .read_json::<Manifest>(ObjectKind::Record, &id)
                    .map_err(Self::wrap(commit))?,
            ),
            None => None,
        };
        self.trees.insert(*commit, object.tree);
        self.manifests.insert(*commit, manifest);
        Ok(())
    }

    /// Returns the evidence item `name` of `commit`, if the commit declares it.
    pub fn item(
        &mut self,
        commit: &ObjectId,
        name: &str,
    ) -> Result<Option<EvidenceItem>, ViewError> {
        self.load_commit(commit)?;
        Ok(self.manifests[commit]
            .as_ref()
            .and_then(|m| m.items.iter().find(|i| i.name == name).cloned()))
    }

    /// Returns every evidence item of `commit` (none for a commit of plain files only).
    pub fn items(&mut self, commit: &ObjectId) -> Result<Vec<EvidenceItem>, ViewError> {
        self.load_commit(commit)?;
        Ok(self.manifests[commit]
            .as_ref()
            .map(|m| m.items.clone())
            .unwrap_or_default())
    }

    /// Reads the typed record of item `name` at `commit`, if the item exists and has one.
    pub fn record(
        &mut self,
        commit: &ObjectId,
        name: &str,
    ) -> Result<Option<EvidenceRecord>, ViewError> {
        let Some(record_id) = self.item(commit, name)?.and_then(|i| i.record) else {
            return Ok(None);
        };
        if !self.records.contains_key(&record_id) {
            let record = self
                .store
                .read_json::<EvidenceRecord>(ObjectKind::Record, &record_id)
                .map_err(Self::wrap(commit))?;
            self.records.insert(record_id, record);
        }
        Ok(self.records.get(&record_id).cloned())
    }

    /// Looks up the object id at `path` in the commit's tree.
    pub fn path_id(
        &mut self,
        commit: &ObjectId,
        path: &RepoPath,
    ) -> Result<Option<ObjectId>, ViewError> {
        self.load_commit(commit)?;
        let tree = self.trees[commit];
        Ok(lookup_path(self.store, &tree, path)
            .map_err(Self::wrap(commit))?
            .map(|(_, id)| id))
    }

    /// Fingerprints item `name` at `commit` by its record id, else by the ids of its paths.
    fn item_fingerprint(
        &mut self,
        commit: &ObjectId,
        name: &str,
    ) -> Result<Option<Vec<Option<ObjectId>>>, ViewError> {
        let Some(item) = self.item(commit, name)? else {
            return Ok(None);
        };
        if let Some(record) = item.record {
            return Ok(Some(vec![Some(record)]));
        }
        let mut ids = Vec::new();
        for path in &item.paths {
            ids.push(self.path_id(commit, path)?);
        }
        Ok(Some(ids))
    }

    /// Evaluates `predicate` at `commit` against `good`.
    pub fn evaluate(
        &mut self,
        predicate: &Predicate,
        good: &ObjectId,
        commit: &ObjectId,
    ) -> Result<Evaluation, ViewError> {
        let unavailable = |reason: String| Ok(Evaluation::Unavailable { reason });
        let decided = |holds: bool, value: Option<f64>, detail: String| {
            Ok(Evaluation::Decided {
                holds,
                value,
                detail,
            })
        };
        match predicate {
            Predicate::FileChanged { path } => {
                let Ok(path) = RepoPath::new(path) else {
                    return unavailable(format!("{path:?} is not a valid repository path"));
                };
                let (before, after) = (self.path_id(good, &path)?, self.path_id(commit, &path)?);
                match (before, after) {
                    (None, None) => unavailable(format!("{path} is absent in both commits")),
                    (Some(a), Some(b)) if a == b => {
                        decided(false, None, format!("{path} unchanged"))
                    }
                    (None, Some(_)) => decided(true, None, format!("{path} added")),
                    (Some(_), None) => decided(true, None, format!("{path} removed")),
                    _ => decided(true, None, format!("{path} changed")),
                }
            }
            Predicate::ItemChanged { item } => {
                match (
                    self.item_fingerprint(good, item)?,
                    self.item_fingerprint(commit, item)?,
                ) {
                    (Some(a), Some(b)) => {
                        let changed = a != b;
                        decided(
                            changed,
                            None,
                            format!(
                                "item {item} {}",
                                if changed { "changed" } else { "unchanged" }
                            ),
                        )
                    }
                    _ => unavailable(format!("item {item} is missing")),
                }
            }
            Predicate::SchemaChanged { item } => {
                let (Some(a), Some(b)) = (self.record(good, item)?, self.record(commit, item)?)
                else {
                    return unavailable(format!("no typed record for item {item}"));
                };
                let (Some(before), Some(after)) = (schema_fields(&a), schema_fields(&b)) else {
                    return unavailable(format!("item {item} has no schema"));
                };
                let changes = field_changes(&before, &after);
                decided(
                    changes > 0,
                    Some(changes as f64),
                    format!("{changes} field change(s) in {item}"),
                )
            }
            Predicate::Metric {
                item,
                name,
                delta,
                comparison,
            } => {
                let Some(value) = self.metric(commit, item, name)? else {
                    return unavailable(format!("metric {item}.{name} is missing or not finite"));
                };
                let measured = if *delta {
                    let Some(base) = self.metric(good, item, name)? else {
                        return unavailable(format!(
                            "metric {item}.{name} is missing at the good commit"
                        ));
                    };
                    value - base
                } else {
                    value
                };
                decided(
                    comparison.holds(measured),
                    Some(measured),
                    format!(
                        "{item}.{name}{} = {measured}",
                        if *delta { " delta" } else { "" }
                    ),
                )
            }
            Predicate::GoldenChanged { item } | Predicate::GoldenOutsideTolerance { item } => {
                let (Some(EvidenceRecord::Golden(a)), Some(EvidenceRecord::Golden(b))) =
                    (self.record(good, item)?, self.record(commit, item)?)
                else {
                    return unavailable(format!("no golden record for item {item}"));
                };
                let (Some(before), Some(after)) = (&a.result, &b.result) else {
                    return unavailable(format!("the golden query of {item} failed"));
                };
                if before.blake3 == after.blake3 {
                    return decided(false, Some(0.0), format!("golden {item} identical"));
                }
                if matches!(predicate, Predicate::GoldenChanged { .. }) {
                    return decided(true, None, format!("golden {item} result changed"));
                }
                // Cell-level comparison under the stored tolerances, by the diff module.
                let options = CompareOptions {
                    paths: vec![item.clone()],
                    ..CompareOptions::default()
                };
                match compare(self.store, good, commit, &options) {
                    Ok(report) => {
                        let outside = report
                            .changes
                            .iter()
                            .filter(|c| {
                                c.item == *item
                                    && c.category == Category::Golden
                                    && c.severity == Severity::High
                            })
                            .count();
                        decided(
                            outside > 0,
                            Some(outside as f64),
                            format!("golden {item}: {outside} change(s) outside tolerance"),
                        )
                    }
                    Err(e) => unavailable(format!("golden {item} cannot be compared: {e}")),
                }
            }
            Predicate::Drift {
                item,
                column,
                statistic,
                comparison,
                slice,
            } => {
                let (Some(EvidenceRecord::Sample(a)), Some(EvidenceRecord::Sample(b))) =
                    (self.record(good, item)?, self.record(commit, item)?)
                else {
                    return unavailable(format!("no sample profile for item {item}"));
                };
                let Some(drift) = column_drift(&a, &b, column, slice.as_ref()) else {
                    return unavailable(format!("column {column} is not profiled in both commits"));
                };
                match drift_score(&drift, statistic) {
                    Ok(value) => decided(
                        comparison.holds(value),
                        Some(value),
                        format!(
                            "{statistic} {value:.4} (n {} vs {})",
                            drift.base_rows, drift.candidate_rows
                        ),
                    ),
                    Err(reason) => unavailable(reason),
                }
            }
        }
    }

    fn metric(
        &mut self,
        commit: &ObjectId,
        item: &str,
        name: &str,
    ) -> Result<Option<f64>, ViewError> {
        Ok(match self.record(commit, item)? {
            Some(EvidenceRecord::Metrics(m)) => m.values.get(name).copied(),
            _ => None,
        })
    }
}

fn schema_fields(record: &EvidenceRecord) -> Option<Vec<crate::evidence::schema::FieldRecord>> {
    match record {
        EvidenceRecord::Schema(s) => Some(s.fields.clone()),
        EvidenceRecord::Sample(s) => Some(s.schema.clone()),
        _ => None,
    }
}

/// Number of fields added, removed or changed (type, nullability, children, categories).
fn field_changes(
    before: &[crate::evidence::schema::FieldRecord],
    after: &[crate::evidence::schema::FieldRecord],
) -> usize {
    let names: BTreeSet<&str> = before
        .iter()
        .chain(after)
        .map(|f| f.name.as_str())
        .collect();
    names
        .into_iter()
        .filter(|name| {
            before.iter().find(|f| f.name == *name) != after.iter().find(|f| f.name == *name)
        })
        .count()
}

impl CommitScorer for EvidenceView<'_> {
    fn score_pair(&mut self, base: &ObjectId, target: &ObjectId) -> Vec<(ItemKey, Score)> {
        let mut scores = Vec::new();
        let (Ok(base_items), Ok(target_items)) = (self.items(base), self.items(target)) else {
            return scores;
        };
        let names: BTreeSet<String> = base_items
            .iter()
            .chain(&target_items)
            .map(|i| i.name.clone())
            .collect();
        for name in names {
            let key = |column: Option<String>, statistic: &str| ItemKey {
                item: name.clone(),
                column,
                slice: None,
                statistic: statistic.to_owned(),
            };
            let one = |score: f64| Score::plain(score, 1, 1);
            let fingerprints = (
                self.item_fingerprint(base, &name),
                self.item_fingerprint(target, &name),
            );
            let changed = match fingerprints {
                (Ok(Some(a)), Ok(Some(b))) => one(if a == b { 0.0 } else { 1.0 }),
                _ => Score::NotComparable {
                    reason: format!("item {name} is missing"),
                },
            };
            scores.push((key(None, "changed"), changed));
            let (Ok(Some(a)), Ok(Some(b))) = (self.record(base, &name), self.record(target, &name))
            else {
                continue;
            };
            if let (Some(before), Some(after)) = (schema_fields(&a), schema_fields(&b)) {
                scores.push((
                    key(None, "field-changes"),
                    one(field_changes(&before, &after) as f64),
                ));
            }
            if let (EvidenceRecord::Metrics(before), EvidenceRecord::Metrics(after)) = (&a, &b) {
                let metric_names: BTreeSet<&String> =
                    before.values.keys().chain(after.values.keys()).collect();
                for metric in metric_names {
                    let score = match (before.values.get(metric), after.values.get(metric)) {
                        (Some(x), Some(y)) => one((y - x).abs()),
                        _ => Score::NotComparable {
                            reason: format!("metric {name}.{metric} is missing"),
                        },
                    };
                    scores.push((key(Some(metric.clone()), "abs-diff"), score));
                }
            }
            if let (EvidenceRecord::Sample(before), EvidenceRecord::Sample(after)) = (&a, &b) {
                let options = DriftOptions::default();
                let id_like = id_like_columns(&before.profile, options.min_rows);
                for drift in compare_profiles(&before.profile, &after.profile, &options) {
                    let shape = !id_like.contains(&drift.column);
                    push_drift_scores(&mut scores, &name, None, None, shape, &drift);
                }
                let (rows_base, rows_target) = (before.profile.rows, after.profile.rows);
                for slices in &before.slices {
                    for slice in
                        slice_drift(before, after, &slices.column, &options).unwrap_or_default()
                    {
                        let value = slice.slice_value.clone().unwrap_or_else(|| "(null)".into());
                        let share = slice_share(
                            slice.drift.base_rows,
                            rows_base,
                            slice.drift.candidate_rows,
                            rows_target,
                        );
                        let shape = !id_like.contains(&slice.drift.column);
                        push_drift_scores(
                            &mut scores,
                            &name,
                            Some((slice.slice_column.clone(), value)),
                            Some(share),
                            shape,
                            &slice.drift,
                        );
                    }
                }
            }
        }
        scores
    }
}

/// Compares `column` between two samples, overall or within one slice.
fn column_drift(
    base: &SampleRecord,
    candidate: &SampleRecord,
    column: &str,
    slice: Option<&(String, String)>,
) -> Option<ColumnDrift> {
    let options = DriftOptions::default();
    match slice {
        None => compare_profiles(&base.profile, &candidate.profile, &options)
            .into_iter()
            .find(|d| d.column == column),
        Some((slice_column, value)) => slice_drift(base, candidate, slice_column, &options)?
            .into_iter()
            .find(|s| s.drift.column == column && s.slice_value.as_deref() == Some(value.as_str()))
            .map(|s| s.drift),
    }
}

/// Returns the magnitude of `statistic` in `drift`, or the reason it cannot be used.
fn drift_score(drift: &ColumnDrift, statistic: &str) -> Result<f64, String> {
    match drift.status {
        DriftStatus::InsufficientData => {
            return Err(format!(
                "insufficient data ({} vs {} rows)",
                drift.base_rows, drift.candidate_rows
            ));
        }
        DriftStatus::Empty | DriftStatus::NotComparable => {
            return Err(format!(
                "column {} is not comparable ({:?})",
                drift.column, drift.status
            ));
        }
        DriftStatus::Changed | DriftStatus::Unchanged => {}
    }
    let metric =
        Metric::parse(statistic).ok_or_else(|| format!("unknown statistic {statistic:?}"))?;
    drift
        .scores
        .iter()
        .find(|s| s.metric == metric)
        .and_then(|s| s.magnitude())
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{statistic} is undefined for column {}", drift.column))
}

/// Share of table rows of a slice with `base` of `base_total` rows and `target` of
/// `target_total` rows: the mean of the two shares. The mean is symmetric in the two sides, like
/// the statistics it weights, and equals the slice's exact contribution to the PSI of the joint
/// (slice, bin) distribution when the share does not change. The minimum would hide a slice that
/// grows from almost nothing; the maximum would let a slice that shrank to nothing keep its old
/// weight.
fn slice_share(base: u64, base_total: u64, target: u64, target_total: u64) -> f64 {
    let share = |rows: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            rows as f64 / total as f64
        }
    };
    (share(base, base_total) + share(target, target_total)) / 2.0
}

/// Fraction of non-null values that must be distinct for a column to count as an identifier.
const ID_LIKE_DISTINCT_FRACTION: f64 = 0.95;

/// Names of the columns of `profile` that look like identifiers: at least `min_rows` non-null
/// values, of which at least 95% are distinct (flight numbers, order ids, hashes). Their value
/// distribution is arbitrary, so its shape is not drift-scored; null and NaN rates still are.
/// Decided on the base profile, so a column that turns into unique values at the target is still
/// scored against a base where it was not.
fn id_like_columns(profile: &crate::profile::TableProfile, min_rows: u64) -> BTreeSet<String> {
    use crate::profile::ColumnStats;
    profile
        .columns
        .iter()
        .filter(|column| {
            let (distinct, values) = match &column.stats {
                ColumnStats::Numeric(n) => (n.distinct.estimate, n.finite),
                ColumnStats::Categorical(c) => (
                    c.distinct.estimate,
                    column.rows.saturating_sub(column.nulls),
                ),
                _ => return false,
            };
            values >= min_rows.max(1)
                && distinct as f64 >= ID_LIKE_DISTINCT_FRACTION * values as f64
        })
        .map(|column| column.name.clone())
        .collect()
}

/// Adds one auto-mode key per drift statistic present in `drift`. `share` is the slice's share
/// of table rows for slice keys; with `shape` false only the null and NaN rates are added.
fn push_drift_scores(
    scores: &mut Vec<(ItemKey, Score)>,
    item: &str,
    slice: Option<(String, String)>,
    share: Option<f64>,
    shape: bool,
    drift: &ColumnDrift,
) {
    for metric in Metric::ALL {
        let Some(stat) = drift.scores.iter().find(|s| s.metric == metric) else {
            continue;
        };
        if !shape && !matches!(metric, Metric::NullRate | Metric::NanRate) {
            continue;
        }
        let key = ItemKey {
            item: item.to_owned(),
            column: Some(drift.column.clone()),
            slice: slice.clone(),
            statistic: metric.as_str().to_owned(),
        };
        let score = match drift_score(drift, metric.as_str()) {
            Ok(score) => Score::Value {
                score,
                n_base: drift.base_rows,
                n_target: drift.candidate_rows,
                noise: stat.noise,
                share,
            },
            Err(reason) => Score::NotComparable { reason },
        };
        scores.push((key, score));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::sample::tests::sample_from_csv;

    /// `rows` flights of one carrier: a unique flight number per row, a delay repeating every
    /// five rows, and no nulls.
    fn flights_csv(rows: usize) -> String {
        let mut csv = String::from("carrier,flight,dep_delay\n");
        for i in 0..rows {
            csv.push_str(&format!("MQ,{},{}\n", 1000 + i, i % 5));
        }
        csv
    }

    #[test]
    fn unique_column_is_id_like() {
        let sample = sample_from_csv(&flights_csv(100));
        let id_like = id_like_columns(&sample.profile, 30);
        assert_eq!(id_like, BTreeSet::from(["flight".to_owned()]));
        // Below min_rows nothing is judged: every column of a tiny sample is nearly unique.
        assert!(id_like_columns(&sample.profile, 101).is_empty());
    }

    #[test]
    fn id_like_column_keeps_only_rates() {
        let base = sample_from_csv(&flights_csv(100));
        let target = sample_from_csv(&flights_csv(120));
        let options = DriftOptions::default();
        let drift = compare_profiles(&base.profile, &target.profile, &options)
            .into_iter()
            .find(|d| d.column == "flight")
            .expect("flight is profiled");
        let mut scores = Vec::new();
        push_drift_scores(&mut scores, "flights", None, None, false, &drift);
        let statistics: Vec<&str> = scores.iter().map(|(k, _)| k.statistic.as_str()).collect();
        assert!(statistics.contains(&"null_rate"), "{statistics:?}");
        assert!(
            statistics
                .iter()
                .all(|s| *s == "null_rate" || *s == "nan_rate"),
            "{statistics:?}"
        );
        let mut all = Vec::new();
        push_drift_scores(&mut all, "flights", None, None, true, &drift);
        assert!(all.iter().any(|(k, _)| k.statistic == "psi"));
    }

    #[test]
    fn slice_share_is_mean_of_sides() {
        // 77 of 926 rows and 78 of 960: (0.083153 + 0.08125) / 2 = 0.082202.
        let share = slice_share(77, 926, 78, 960);
        assert!((share - 0.082_201_5).abs() < 1e-6, "{share}");
        assert_eq!(slice_share(5, 0, 0, 0), 0.0);
    }
}
