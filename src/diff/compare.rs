//! `compare`: the whole diff of two commits, reading trees, evidence manifests and typed records
//! from the store, and the cheap per-column scoring used by bisect.
//!
//! Cost follows the size of the change: subtrees and records with equal ids on both sides are
//! skipped without being read.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde::Serialize;

use super::drift::{ColumnDrift, DriftOptions, DriftStatus, Metric};
use super::items::{diff_metrics, diff_model, format_number};
use super::report::{Category, Change, Detail, DiffReport, FileChange, Note, Severity};
use super::sample::{SliceDrift, compare_profiles, slice_drift, triage_means};
use super::schema::{SchemaChange, diff_schema};
use super::table::{TableError, TableOptions, Tolerance, diff_tables, read_parquet};
use crate::evidence::EvidenceRecord as TypedRecord;
use crate::evidence::golden::{GoldenRecord, GoldenSource};
use crate::evidence::sample::SampleRecord;
use crate::id::ObjectId;
use crate::manifest::{EvidenceItem, EvidenceRecord as Manifest};
use crate::object::{EntryType, ObjectKind, TreeEntry};
use crate::store::{Store, StoreError};

/// Options of [`compare`].
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// Repository paths or item names to restrict the diff to; empty for everything.
    pub paths: Vec<String>,
    /// Drift options for items without their own entry in `item_drift`.
    pub drift: DriftOptions,
    /// Drift options per item name.
    pub item_drift: BTreeMap<String, DriftOptions>,
    /// Slice columns to triage; empty means every profiled slice column.
    pub slice_by: Vec<String>,
    /// Rows a slice needs on both sides before its mean change is ranked.
    pub min_slice_rows: u64,
    /// Replaces the golden items' stored default tolerance.
    pub tolerance: Option<Tolerance>,
    /// Rows listed in detail per golden table.
    pub max_examples: usize,
    /// Slices listed per (slice column, column) triage.
    pub max_slices: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            drift: DriftOptions::default(),
            item_drift: BTreeMap::new(),
            slice_by: Vec::new(),
            min_slice_rows: 30,
            tolerance: None,
            max_examples: 20,
            max_slices: 5,
        }
    }
}

impl CompareOptions {
    /// Returns the drift options that apply to `item`.
    pub fn drift_for(&self, item: &str) -> &DriftOptions {
        self.item_drift.get(item).unwrap_or(&self.drift)
    }
}

/// Error of a comparison.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("golden item {item:?}: {source}")]
    Table {
        item: String,
        #[source]
        source: TableError,
    },
    #[error("failed to read golden table {id} of item {item:?}: {source}")]
    ReadTable {
        item: String,
        id: ObjectId,
        #[source]
        source: std::io::Error,
    },
    #[error("path or item {path:?} is in neither {base} nor {candidate}", base = .base.short(), candidate = .candidate.short())]
    UnknownPath {
        path: String,
        base: ObjectId,
        candidate: ObjectId,
    },
}

/// A file entry in a flattened tree diff.
type Entry = (String, Option<TreeEntry>, Option<TreeEntry>);

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Lists every file of a subtree as one side of a diff.
fn list_tree(
    store: &Store,
    id: &ObjectId,
    prefix: &str,
    base_side: bool,
    out: &mut Vec<Entry>,
) -> Result<(), StoreError> {
    for entry in store.read_tree(id)?.entries {
        let path = join(prefix, &entry.name);
        if entry.entry_type == EntryType::Tree {
            list_tree(store, &entry.id, &path, base_side, out)?;
        } else if base_side {
            out.push((path, Some(entry), None));
        } else {
            out.push((path, None, Some(entry)));
        }
    }
    Ok(())
}

/// Collects files that differ between two trees, descending only into subtrees whose ids differ.
fn diff_trees(
    store: &Store,
    base: &ObjectId,
    cand: &ObjectId,
    prefix: &str,
    out: &mut Vec<Entry>,
) -> Result<(), StoreError> {
    if base == cand {
        return Ok(());
    }
    let a = store.read_tree(base)?.entries;
    let b = store.read_tree(cand)?.entries;
    let names: BTreeSet<&String> = a.iter().chain(&b).map(|e| &e.name).collect();
    for name in names {
        let x = a.iter().find(|e| &e.name == name);
        let y = b.iter().find(|e| &e.name == name);
        let path = join(prefix, name);
        let is_tree = |e: Option<&TreeEntry>| e.is_some_and(|e| e.entry_type == EntryType::Tree);
        match (x, y) {
            (Some(x), Some(y)) if x.id == y.id && x.entry_type == y.entry_type => {}
            (Some(x), Some(y)) if is_tree(Some(x)) && is_tree(Some(y)) => {
                diff_trees(store, &x.id, &y.id, &path, out)?;
            }
            _ => {
                if is_tree(x) {
                    list_tree(
                        store,
                        &x.expect("is_tree checked Some").id,
                        &path,
                        true,
                        out,
                    )?;
                } else if let Some(x) = x {
                    out.push((path.clone(), Some(x.clone()), None));
                }
                if is_tree(y) {
                    list_tree(
                        store,
                        &y.expect("is_tree checked Some").id,
                        &path,
                        false,
                        out,
                    )?;
                } else if let Some(y) = y {
                    // Merge with the base entry of the same path, if any, into one modification.
                    match out.iter_mut().find(|e| e.0 == path && e.2.is_none()) {
                        Some(slot) => slot.2 = Some(y.clone()),
                        None => out.push((path, None, Some(y.clone()))),
                    }
                }
            }
        }
    }
    Ok(())
}

/// Checks whether the filters select a repository path (equal, or below a filter folder).
fn path_selected(path: &str, filters: &[String]) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| {
            let f = f.trim_end_matches('/');
            path == f || path.starts_with(&format!("{f}/"))
        })
}

fn item_selected(item: &EvidenceItem, filters: &[String]) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| f == &item.name)
        || item.paths.iter().any(|p| {
            let p = p.as_str();
            path_selected(p, filters)
                || filters
                    .iter()
                    .any(|f| p.starts_with(&format!("{}/", f.trim_end_matches('/'))))
        })
}

fn file_changes(entries: Vec<Entry>, items: &[EvidenceItem]) -> Vec<Change> {
    let owner = |path: &str| -> String {
        items
            .iter()
            .find(|i| {
                i.paths
                    .iter()
                    .any(|p| path == p.as_str() || path.starts_with(&format!("{}/", p.as_str())))
            })
            .map(|i| i.name.clone())
            .unwrap_or_default()
    };
    // Renames: a removed and an added file with the same content id.
    let mut removed: Vec<&Entry> = entries.iter().filter(|e| e.2.is_none()).collect();
    let mut out = Vec::new();
    for entry in &entries {
        let (path, old, new) = entry;
        let (kind, renamed_from) = match (old, new) {
            (Some(_), Some(_)) => ("modified", None),
            (Some(_), None) => continue,
            (None, Some(n)) => match removed
                .iter()
                .position(|r| r.1.as_ref().is_some_and(|o| o.id == n.id))
            {
                Some(i) => {
                    let from = removed.remove(i);
                    ("renamed", Some(from))
                }
                None => ("added", None),
            },
            (None, None) => continue,
        };
        let old_size = renamed_from
            .and_then(|r| r.1.as_ref())
            .or(old.as_ref())
            .map(|e| e.size);
        out.push(Change {
            category: Category::File,
            severity: Severity::Info,
            item: owner(path),
            path: path.clone(),
            kind: kind.to_owned(),
            old: renamed_from.map(|r| r.0.clone()),
            new: None,
            detail: Detail::File(FileChange {
                old_size,
                new_size: new.as_ref().map(|e| e.size),
                renamed_from: renamed_from.map(|r| r.0.clone()),
            }),
        });
    }
    for (path, old, _) in removed {
        out.push(Change {
            category: Category::File,
            severity: Severity::Info,
            item: owner(path),
            path: path.clone(),
            kind: "removed".to_owned(),
            old: None,
            new: None,
            detail: Detail::File(FileChange {
                old_size: old.as_ref().map(|e| e.size),
                new_size: None,
                renamed_from: None,
            }),
        });
    }
    out
}

/// Reports whether `path` (a file or folder, `/`-separated, a trailing `/` allowed) exists
/// below tree `root`. An empty path is the root itself.
fn path_in_tree(store: &Store, root: &ObjectId, path: &str) -> Result<bool, StoreError> {
    let mut tree_id = *root;
    let components: Vec<&str> = path
        .trim_end_matches('/')
        .split('/')
        .filter(|c| !c.is_empty())
        .collect();
    for (i, component) in components.iter().enumerate() {
        let tree = store.read_tree(&tree_id)?;
        let Some(entry) = tree.entries.into_iter().find(|e| e.name == *component) else {
            return Ok(false);
        };
        if i + 1 == components.len() {
            return Ok(true);
        }
        if entry.entry_type != EntryType::Tree {
            return Ok(false);
        }
        tree_id = entry.id;
    }
    Ok(true)
}

fn read_manifest(store: &Store, id: Option<ObjectId>) -> Result<Vec<EvidenceItem>, StoreError> {
    match id {
        None => Ok(Vec::new()),
        Some(id) => Ok(store.read_json::<Manifest>(ObjectKind::Record, &id)?.items),
    }
}

/// Finds a file's tree entry by repository path.
fn find_entry(store: &Store, tree: &ObjectId, path: &str) -> Result<Option<TreeEntry>, StoreError> {
    let mut current = *tree;
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        let tree = store.read_tree(&current)?;
        let Some(entry) = tree.entries.into_iter().find(|e| e.name == *part) else {
            return Ok(None);
        };
        if i + 1 == parts.len() {
            return Ok(Some(entry));
        }
        if entry.entry_type != EntryType::Tree {
            return Ok(None);
        }
        current = entry.id;
    }
    Ok(None)
}

/// Loads the Parquet bytes of a golden result: from the blob the snapshot builder stored
/// (`blob_id`), or else from the source file in the snapshot tree when its BLAKE3 equals the
/// recorded one. `None` when neither is available.
fn load_golden(
    store: &Store,
    tree: &ObjectId,
    item: &str,
    record: &GoldenRecord,
) -> Result<Option<Vec<u8>>, DiffError> {
    let Some(result) = &record.result else {
        return Ok(None);
    };
    let id = match (&result.blob_id, &record.source) {
        (Some(id), _) => *id,
        (None, GoldenSource::File { path }) => match find_entry(store, tree, path)? {
            Some(entry) => entry.id,
            None => return Ok(None),
        },
        (None, GoldenSource::Command { .. }) => return Ok(None),
    };
    let mut bytes = Vec::new();
    store
        .open_file_reader(&id)?
        .read_to_end(&mut bytes)
        .map_err(|source| DiffError::ReadTable {
            item: item.to_owned(),
            id,
            source,
        })?;
    if blake3::hash(&bytes).to_hex().as_str() != result.blake3 {
        return Ok(None);
    }
    Ok(Some(bytes))
}

fn schema_change(item: &str, change: SchemaChange) -> Change {
    let severity = if change.is_breaking() {
        Severity::Breaking
    } else {
        Severity::Low
    };
    let (kind, old, new) = match &change {
        SchemaChange::Added { logical_type, .. } => ("added", None, Some(logical_type.clone())),
        SchemaChange::Removed { logical_type, .. } => ("removed", Some(logical_type.clone()), None),
        SchemaChange::Renamed { from, to, .. } => ("renamed", Some(from.clone()), Some(to.clone())),
        SchemaChange::TypeChanged { change, .. } => (
            "type_changed",
            Some(change.old.clone()),
            Some(change.new.clone()),
        ),
        SchemaChange::Nullability { old, new, .. } => (
            "nullability",
            Some(if *old { "nullable" } else { "not null" }.to_owned()),
            Some(if *new { "nullable" } else { "not null" }.to_owned()),
        ),
        SchemaChange::Categories { .. } => ("categories", None, None),
    };
    Change {
        category: Category::Schema,
        severity,
        item: item.to_owned(),
        path: change.column().to_owned(),
        kind: kind.to_owned(),
        old,
        new,
        detail: Detail::Schema(change),
    }
}

fn drift_change(item: &str, drift: ColumnDrift) -> Option<Change> {
    let severity = match drift.status {
        DriftStatus::Changed | DriftStatus::Empty => Severity::Medium,
        _ => return None,
    };
    let fmt = |x: Option<f64>| x.map(format_number);
    Some(Change {
        category: Category::Drift,
        severity,
        item: item.to_owned(),
        path: drift.column.clone(),
        kind: match drift.status {
            DriftStatus::Empty => "empty".to_owned(),
            _ => "drift".to_owned(),
        },
        old: fmt(drift.base_mean),
        new: fmt(drift.candidate_mean),
        detail: Detail::Drift(Box::new(drift)),
    })
}

fn compare_golden(
    store: &Store,
    trees: (&ObjectId, &ObjectId),
    item: &str,
    base: &GoldenRecord,
    cand: &GoldenRecord,
    options: &CompareOptions,
    report: &mut DiffReport,
) -> Result<(), DiffError> {
    let note = |report: &mut DiffReport, message: String| {
        report.notes.push(Note {
            item: item.to_owned(),
            message,
        })
    };
    if base.failed != cand.failed {
        report.changes.push(Change {
            category: Category::Golden,
            severity: Severity::High,
            item: item.to_owned(),
            path: String::new(),
            kind: "status".to_owned(),
            old: Some(if base.failed { "failed" } else { "succeeded" }.to_owned()),
            new: Some(if cand.failed { "failed" } else { "succeeded" }.to_owned()),
            detail: Detail::None,
        });
    }
    let (Some(rb), Some(rc)) = (&base.result, &cand.result) else {
        return Ok(());
    };
    // The result schema's changes are reported once, here, as schema changes.
    for change in diff_schema(&rb.schema, &rc.schema, &|_, _| None) {
        report.changes.push(schema_change(item, change));
    }
    if rb.blake3 == rc.blake3 {
        return Ok(());
    }
    let (a, b) = rayon::join(
        || load_golden(store, trees.0, item, base),
        || load_golden(store, trees.1, item, cand),
    );
    let (a, b) = (a?, b?);
    let (Some(a), Some(b)) = (a, b) else {
        note(
            report,
            "result tables differ but their Parquet bytes are not in the store; rows were not compared".to_owned(),
        );
        report.changes.push(Change {
            category: Category::Golden,
            severity: Severity::High,
            item: item.to_owned(),
            path: String::new(),
            kind: "modified".to_owned(),
            old: Some(format!("{} rows", rb.rows)),
            new: Some(format!("{} rows", rc.rows)),
            detail: Detail::None,
        });
        return Ok(());
    };
    let table_err = |source| DiffError::Table {
        item: item.to_owned(),
        source,
    };
    let (a, b) = rayon::join(|| read_parquet(a), || read_parquet(b));
    let a = a.map_err(table_err)?;
    let b = b.map_err(table_err)?;
    let mut tolerance = base.tolerance.default;
    if let Some(t) = options.tolerance {
        tolerance = crate::evidence::golden::Tolerance {
            absolute: t.abs,
            relative: t.rel,
        };
    }
    if base.key_columns != cand.key_columns {
        note(
            report,
            format!(
                "key columns changed from {:?} to {:?}; rows were matched on the base keys",
                base.key_columns, cand.key_columns
            ),
        );
    }
    if base.key_columns.is_empty() {
        note(
            report,
            "no key columns declared: rows were matched as whole rows (a changed row shows as removed plus added, tolerances do not apply)".to_owned(),
        );
    }
    let table_options = TableOptions {
        keys: base.key_columns.clone(),
        tolerance: Tolerance {
            abs: tolerance.absolute,
            rel: tolerance.relative,
        },
        column_tolerance: base
            .tolerance
            .columns
            .iter()
            .map(|(k, t)| {
                (
                    k.clone(),
                    Tolerance {
                        abs: t.absolute,
                        rel: t.relative,
                    },
                )
            })
            .collect(),
        max_examples: options.max_examples,
    };
    let diff = diff_tables(&a, &b, &table_options).map_err(table_err)?;
    if diff.has_changes() {
        report.changes.push(Change {
            category: Category::Golden,
            severity: Severity::High,
            item: item.to_owned(),
            path: String::new(),
            kind: "rows".to_owned(),
            old: Some(diff.base_rows.to_string()),
            new: Some(diff.candidate_rows.to_string()),
            detail: Detail::Golden(Box::new(diff)),
        });
    }
    Ok(())
}

fn compare_samples(
    item: &str,
    base: &SampleRecord,
    cand: &SampleRecord,
    options: &CompareOptions,
    report: &mut DiffReport,
) {
    let fingerprint = |side: bool, column: &str| -> Option<String> {
        let record = if side { cand } else { base };
        let col = record.profile.column(column)?;
        // Same logical type, rows, nulls and moments: the same data under another name.
        let moments = match &col.stats {
            crate::profile::ColumnStats::Numeric(n) => format!("{:?}", n.moments),
            crate::profile::ColumnStats::Categorical(c) => format!("{:?}", c.top.values),
            _ => return None,
        };
        Some(format!(
            "{}|{}|{}|{moments}",
            col.logical_type, col.rows, col.nulls
        ))
    };
    for change in diff_schema(&base.schema, &cand.schema, &fingerprint) {
        report.changes.push(schema_change(item, change));
    }
    let drift_options = options.drift_for(item);
    for drift in compare_profiles(&base.profile, &cand.profile, drift_options) {
        if matches!(drift.status, DriftStatus::InsufficientData) {
            report.notes.push(Note {
                item: item.to_owned(),
                message: format!(
                    "column {}: insufficient data ({} and {} rows, {} needed)",
                    drift.column, drift.base_rows, drift.candidate_rows, drift_options.min_rows
                ),
            });
        }
        report.changes.extend(drift_change(item, drift));
    }
    let slice_columns: Vec<String> = if options.slice_by.is_empty() {
        base.slices.iter().map(|s| s.column.clone()).collect()
    } else {
        options.slice_by.clone()
    };
    for slice_column in slice_columns {
        let Some(triage) = triage_means(base, cand, &slice_column, options.min_slice_rows) else {
            if !options.slice_by.is_empty() {
                report.notes.push(Note {
                    item: item.to_owned(),
                    message: format!(
                        "slice column {slice_column:?} was not profiled on both sides; declare it in slice_by"
                    ),
                });
            }
            continue;
        };
        // Explain only columns whose overall distribution changed.
        let changed: BTreeSet<String> = report
            .changes
            .iter()
            .filter(|c| c.item == item && c.category == Category::Drift)
            .map(|c| c.path.clone())
            .collect();
        for mut t in triage {
            if !changed.contains(&t.column) {
                continue;
            }
            t.slices.truncate(options.max_slices);
            let top = t.slices.first();
            report.changes.push(Change {
                category: Category::Slice,
                severity: Severity::Info,
                item: item.to_owned(),
                path: format!(
                    "{}={}",
                    slice_column,
                    top.and_then(|s| s.slice_value.clone())
                        .unwrap_or_else(|| "null".into())
                ),
                kind: format!("mean:{}", t.column),
                old: top
                    .and_then(|s| s.contribution.base_mean)
                    .map(format_number),
                new: top
                    .and_then(|s| s.contribution.candidate_mean)
                    .map(format_number),
                detail: Detail::Triage(Box::new(t)),
            });
        }
    }
}

/// Compares two commits.
pub fn compare(
    store: &Store,
    base: &ObjectId,
    candidate: &ObjectId,
    options: &CompareOptions,
) -> Result<DiffReport, DiffError> {
    let mut report = DiffReport::new(base.to_hex(), candidate.to_hex(), options.paths.clone());
    if base == candidate {
        return Ok(report);
    }
    let bc = store.read_commit(base)?;
    let cc = store.read_commit(candidate)?;

    let base_items = read_manifest(store, bc.evidence)?;
    let cand_items = read_manifest(store, cc.evidence)?;

    // A misspelled filter would otherwise select nothing and report "no differences".
    for filter in &options.paths {
        let is_item = base_items
            .iter()
            .chain(&cand_items)
            .any(|i| &i.name == filter);
        if !is_item
            && !path_in_tree(store, &bc.tree, filter)?
            && !path_in_tree(store, &cc.tree, filter)?
        {
            return Err(DiffError::UnknownPath {
                path: filter.clone(),
                base: *base,
                candidate: *candidate,
            });
        }
    }

    let mut entries = Vec::new();
    diff_trees(store, &bc.tree, &cc.tree, "", &mut entries)?;
    let all_items: Vec<EvidenceItem> = base_items.iter().chain(&cand_items).cloned().collect();
    let mut files = file_changes(entries, &all_items);
    // A file is kept when a path filter selects it or when it belongs to an item named as a
    // filter.
    files.retain(|c| {
        path_selected(&c.path, &options.paths)
            || c.detail_renamed_from()
                .is_some_and(|from| path_selected(from, &options.paths))
            || (!c.item.is_empty() && options.paths.iter().any(|f| f == &c.item))
    });
    report.changes.extend(files);

    let names: BTreeSet<&String> = base_items
        .iter()
        .chain(&cand_items)
        .map(|i| &i.name)
        .collect();
    for name in names {
        let a = base_items.iter().find(|i| &i.name == name);
        let b = cand_items.iter().find(|i| &i.name == name);
        if !a.or(b).is_some_and(|i| item_selected(i, &options.paths)) {
            continue;
        }
        let (a, b) = match (a, b) {
            (Some(a), Some(b)) => (a, b),
            (x, _) => {
                report.changes.push(Change {
                    category: Category::Item,
                    severity: Severity::Medium,
                    item: name.clone(),
                    path: String::new(),
                    kind: if x.is_some() { "removed" } else { "added" }.to_owned(),
                    old: None,
                    new: None,
                    detail: Detail::None,
                });
                continue;
            }
        };
        let (Some(ra), Some(rb)) = (a.record, b.record) else {
            continue;
        };
        if ra == rb {
            continue;
        }
        // Large profile records dominate the time of a sample diff, so decode both at once.
        let (ra, rb) = rayon::join(
            || store.read_json::<TypedRecord>(ObjectKind::Record, &ra),
            || store.read_json::<TypedRecord>(ObjectKind::Record, &rb),
        );
        let (ra, rb) = (ra?, rb?);
        compare_records(
            store,
            (&bc.tree, &cc.tree),
            name,
            &ra,
            &rb,
            options,
            &mut report,
        )?;
    }
    report.sort();
    Ok(report)
}

fn compare_records(
    store: &Store,
    trees: (&ObjectId, &ObjectId),
    item: &str,
    a: &TypedRecord,
    b: &TypedRecord,
    options: &CompareOptions,
    report: &mut DiffReport,
) -> Result<(), DiffError> {
    match (a, b) {
        (TypedRecord::Schema(x), TypedRecord::Schema(y)) => {
            for change in diff_schema(&x.fields, &y.fields, &|_, _| None) {
                report.changes.push(schema_change(item, change));
            }
        }
        (TypedRecord::Metrics(x), TypedRecord::Metrics(y)) => {
            for m in diff_metrics(x, y) {
                report.changes.push(Change {
                    category: Category::Metric,
                    severity: Severity::Low,
                    item: item.to_owned(),
                    path: m.name.clone(),
                    kind: "changed".to_owned(),
                    old: m.old.clone(),
                    new: m.new.clone(),
                    detail: Detail::Metric(m),
                });
            }
        }
        (TypedRecord::Model(x), TypedRecord::Model(y)) => {
            for m in diff_model(x, y) {
                let (old, new) = match &m {
                    super::items::ModelChange::Metadata(v) => (v.old.clone(), v.new.clone()),
                    super::items::ModelChange::Tensor {
                        old_dtype,
                        new_dtype,
                        old_shape,
                        new_shape,
                        ..
                    } => (
                        old_dtype
                            .as_ref()
                            .map(|d| tensor_text(d, old_shape.as_deref())),
                        new_dtype
                            .as_ref()
                            .map(|d| tensor_text(d, new_shape.as_deref())),
                    ),
                    super::items::ModelChange::Artifact {
                        old_bytes,
                        new_bytes,
                        ..
                    } => (
                        old_bytes.map(|b| format!("{b} bytes")),
                        new_bytes.map(|b| format!("{b} bytes")),
                    ),
                };
                report.changes.push(Change {
                    category: Category::Model,
                    severity: Severity::Medium,
                    item: item.to_owned(),
                    path: m.path(),
                    kind: m.status(),
                    old: old.map(|s| s.replace(['[', ']'], "")),
                    new: new.map(|s| s.replace(['[', ']'], "")),
                    detail: Detail::Model(m),
                });
            }
        }
        (TypedRecord::Golden(x), TypedRecord::Golden(y)) => {
            compare_golden(store, trees, item, x, y, options, report)?;
        }
        (TypedRecord::Sample(x), TypedRecord::Sample(y)) => {
            compare_samples(item, x, y, options, report);
        }
        _ => report.notes.push(Note {
            item: item.to_owned(),
            message: "the item changed kind; its records were not compared".to_owned(),
        }),
    }
    Ok(())
}

/// Scores of one sample item between two commits, for bisect.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemScores {
    pub item: String,
    /// Per-column drift with every score, threshold, noise expectation, sample sizes and status.
    pub columns: Vec<ColumnDrift>,
    /// Per (slice column, slice value, column) drift, weighted by slice share.
    pub slices: Vec<SliceDrift>,
}

/// Reads the sample records of both commits and scores every column (and every slice of every
/// profiled slice column) of the sample items named in `items` (all sample items when empty).
/// Items missing on a side are left out; an item whose record ids are equal gets all-zero scores
/// without decoding twice.
pub fn score_samples(
    store: &Store,
    base: &ObjectId,
    candidate: &ObjectId,
    items: &[String],
    options: &DriftOptions,
) -> Result<Vec<ItemScores>, DiffError> {
    let bc = store.read_commit(base)?;
    let cc = store.read_commit(candidate)?;
    let base_items = read_manifest(store, bc.evidence)?;
    let cand_items = read_manifest(store, cc.evidence)?;
    let mut cache: BTreeMap<ObjectId, SampleRecord> = BTreeMap::new();
    let mut load = |id: ObjectId| -> Result<Option<SampleRecord>, DiffError> {
        if let Some(r) = cache.get(&id) {
            return Ok(Some(r.clone()));
        }
        match store.read_json::<TypedRecord>(ObjectKind::Record, &id)? {
            TypedRecord::Sample(s) => {
                cache.insert(id, s.clone());
                Ok(Some(s))
            }
            _ => Ok(None),
        }
    };
    let mut out = Vec::new();
    for a in &base_items {
        if !items.is_empty() && !items.contains(&a.name) {
            continue;
        }
        let Some(b) = cand_items.iter().find(|i| i.name == a.name) else {
            continue;
        };
        let (Some(ra), Some(rb)) = (a.record, b.record) else {
            continue;
        };
        let (Some(sa), Some(sb)) = (load(ra)?, load(rb)?) else {
            continue;
        };
        let mut slices = Vec::new();
        for s in &sa.slices {
            slices.extend(slice_drift(&sa, &sb, &s.column, options).unwrap_or_default());
        }
        out.push(ItemScores {
            item: a.name.clone(),
            columns: compare_profiles(&sa.profile, &sb.profile, options),
            slices,
        });
    }
    Ok(out)
}

/// Returns one score of a column, for predicates. `None` when the column or score is missing or
/// undefined.
pub fn column_score(scores: &ItemScores, column: &str, metric: Metric) -> Option<f64> {
    scores
        .columns
        .iter()
        .find(|c| c.column == column)?
        .score(metric)?
        .magnitude()
}

/// Renders a tensor's dtype and shape as `F64 [2, 3]` for change listings; an unknown shape is
/// left out.
pub(super) fn tensor_text(dtype: &str, shape: Option<&[u64]>) -> String {
    match shape {
        Some(dims) => {
            let dims: Vec<String> = dims.iter().map(u64::to_string).collect();
            format!("{dtype} [{}]", dims.join(", "))
        }
        None => dtype.to_owned(),
    }
}
