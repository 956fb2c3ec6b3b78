//! The typed result of `ev diff`: a list of changes, each with category, severity, item, path and
//! the detail its category carries. Renderers and CI gating read only this.

use serde::Serialize;

use super::drift::ColumnDrift;
use super::items::{MetricChange, ModelChange};
use super::sample::{MeanTriage, SliceDrift};
use super::schema::SchemaChange;
use super::table::TableDiff;

/// JSON schema name of [`DiffReport`].
pub const SCHEMA: &str = "ev.diff/1";

/// Part of the evidence a change is about, in the order human output lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Schema,
    Golden,
    Model,
    Drift,
    Slice,
    Metric,
    Item,
    File,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Schema => "schema",
            Category::Golden => "golden",
            Category::Model => "model",
            Category::Drift => "drift",
            Category::Slice => "slice",
            Category::Metric => "metric",
            Category::Item => "item",
            Category::File => "file",
        }
    }
}

/// How much a change matters, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Context: plain file changes, slice explanations.
    Info,
    /// Metric changes, compatible schema changes.
    Low,
    /// Model changes, drift above threshold, items added or removed.
    Medium,
    /// Golden results outside tolerance.
    High,
    /// Schema changes that can break readers.
    Breaking,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Breaking,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Breaking => "breaking",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A file change between the two trees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Size in bytes on the base side, absent when added.
    pub old_size: Option<u64>,
    pub new_size: Option<u64>,
    /// For a rename: the base path.
    pub renamed_from: Option<String>,
}

/// Category-specific payload of a change.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Detail {
    None,
    File(FileChange),
    Schema(SchemaChange),
    Golden(Box<TableDiff>),
    Model(ModelChange),
    Drift(Box<ColumnDrift>),
    Triage(Box<MeanTriage>),
    SliceDrift(Box<SliceDrift>),
    Metric(MetricChange),
}

/// One change.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub category: Category,
    pub severity: Severity,
    /// Evidence item name; empty for plain files outside any item.
    pub item: String,
    /// Location inside the item: column, tensor, metric or file path.
    pub path: String,
    /// added, removed, modified, renamed, type_changed, changed, ...
    pub kind: String,
    /// Short display of the old and new value, when one applies.
    pub old: Option<String>,
    pub new: Option<String>,
    pub detail: Detail,
}

impl Change {
    /// Returns the old path of a renamed file, `None` for every other change.
    pub fn detail_renamed_from(&self) -> Option<&str> {
        match &self.detail {
            Detail::File(f) => f.renamed_from.as_deref(),
            _ => None,
        }
    }
}

/// A remark that is not a change: fallbacks taken, comparisons skipped and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Note {
    pub item: String,
    pub message: String,
}

/// Everything `ev diff` found, ordered for output.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiffReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Base commit id (64 hex digits).
    pub base: String,
    pub candidate: String,
    /// Path filters given, empty for everything.
    pub paths: Vec<String>,
    pub changes: Vec<Change>,
    pub notes: Vec<Note>,
}

impl DiffReport {
    pub fn new(base: String, candidate: String, paths: Vec<String>) -> Self {
        Self {
            schema: SCHEMA,
            base,
            candidate,
            paths,
            changes: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sorts changes by severity (highest first), then category, item and path, so output is
    /// deterministic and the most serious change comes first.
    pub fn sort(&mut self) {
        self.changes.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.category.cmp(&b.category))
                .then(a.item.cmp(&b.item))
                .then(a.path.cmp(&b.path))
                .then(a.kind.cmp(&b.kind))
        });
        self.notes.sort();
        self.notes.dedup();
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Returns the highest severity among the changes, `None` without changes.
    pub fn max_severity(&self) -> Option<Severity> {
        self.changes.iter().map(|c| c.severity).max()
    }
}
