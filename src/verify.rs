//! Store verification: walks every object reachable from a set of roots, re-hashes each one once,
//! checks links, kinds and declared sizes, and collects findings instead of stopping at the first
//! problem. Never panics on a damaged store.
//!
//! Links followed: commit → parents, tree, evidence record; tree → entries; file index → chunks;
//! record → every JSON string (or array of strings) under a key that is `id` or ends in `_id` or
//! `ids` and parses as an object id (the rule is documented in docs/format.md so that record types
//! added later are walked without changes here).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::id::ObjectId;
use crate::object::{Commit, EntryType, FileIndex, ObjectKind, Tree};
use crate::progress::Progress;
use crate::store::{Store, StoreError, check_tree};

/// Most references listed per finding; further ones are counted in `more_references`.
const MAX_REFERENCES: usize = 10;

/// A starting point of the walk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Root {
    pub id: ObjectId,
    /// Origin of the root, e.g. `refs/heads/main` or `reflog HEAD@{3}`.
    pub source: String,
}

/// The result of [`verify`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Distinct objects read and re-hashed (missing objects are not counted).
    pub objects_checked: u64,
    /// Payload bytes re-hashed.
    pub bytes_checked: u64,
    pub findings: Vec<Finding>,
    /// Set when the walk stopped early because the interrupt flag was raised.
    pub interrupted: bool,
}

impl Report {
    /// Returns whether the walk finished without findings.
    pub fn is_ok(&self) -> bool {
        self.findings.is_empty() && !self.interrupted
    }
}

/// One problem with one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub problem: Problem,
    pub id: ObjectId,
    /// One-sentence description of the problem.
    pub message: String,
    /// Places that reference the object (the first [`MAX_REFERENCES`]).
    pub referenced_by: Vec<Reference>,
    /// References beyond those listed.
    pub more_references: u64,
    /// One-line advice on the fix.
    pub hint: String,
}

/// The kinds of problem verify reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// No file for a referenced object.
    Missing,
    /// The decompressed content does not hash to the id.
    HashMismatch,
    /// Undecompressable, malformed header or length, or undecodable payload.
    Corrupt,
    /// A link names an object of the wrong kind.
    WrongKind,
    /// A declared size differs from the content.
    SizeMismatch,
    /// A tree entry name is unsafe, duplicated or out of order.
    BadTreeEntry,
}

impl Problem {
    fn hint(self) -> &'static str {
        match self {
            Problem::Missing => {
                "copy the object file from a backup or another clone of this repository, or re-commit the listed paths from a workspace that still has them"
            }
            Problem::HashMismatch | Problem::Corrupt => {
                "the object file is damaged: replace it from a backup or another clone, or re-commit the listed paths if the workspace still has them"
            }
            Problem::WrongKind | Problem::SizeMismatch => {
                "the referencing object was written inconsistently: re-commit the listed paths to write a consistent snapshot"
            }
            Problem::BadTreeEntry => {
                "checkout rejects this tree: re-commit the files from a clean workspace and avoid the listed commits"
            }
        }
    }
}

/// A place that references an object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// The root the walk started from (its `source`).
    pub root: String,
    /// The commit whose snapshot reaches the object, if any.
    pub commit: Option<ObjectId>,
    /// Path inside the snapshot, or a label such as `(parent)`, `(tree)`, `(evidence)`,
    /// `path#chunk 3` or `record:/items/0/profile_id`.
    pub path: String,
}

/// Kind of object a link must point to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Commit,
    Tree,
    /// A blob or a file index.
    FileContent,
    Blob,
    Record,
    Any,
}

impl Expect {
    fn accepts(self, kind: ObjectKind) -> bool {
        match self {
            Expect::Commit => kind == ObjectKind::Commit,
            Expect::Tree => kind == ObjectKind::Tree,
            Expect::FileContent => matches!(kind, ObjectKind::Blob | ObjectKind::File),
            Expect::Blob => kind == ObjectKind::Blob,
            Expect::Record => kind == ObjectKind::Record,
            Expect::Any => true,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Expect::Commit => "commit",
            Expect::Tree => "tree",
            Expect::FileContent => "blob or file",
            Expect::Blob => "blob",
            Expect::Record => "record",
            Expect::Any => "object",
        }
    }
}

struct Work {
    id: ObjectId,
    expect: Expect,
    reference: Reference,
    /// Size the referrer declares: file bytes for file content, the entry size for a tree.
    declared_size: Option<u64>,
}

#[derive(Default)]
struct Visited {
    /// Content size of a blob, file index or tree (sum of entry sizes), when readable.
    size: Option<u64>,
    findings: Vec<usize>,
}

struct Walker<'a> {
    store: &'a Store,
    report: Report,
    visited: HashMap<ObjectId, Visited>,
    stack: Vec<Work>,
}

/// Verifies every object reachable from `roots`. `progress` counts objects; raising `interrupt`
/// stops the walk and returns the partial report with `interrupted` set.
pub fn verify(
    store: &Store,
    roots: &[Root],
    progress: &dyn Progress,
    interrupt: &AtomicBool,
) -> Report {
    let mut walker = Walker {
        store,
        report: Report::default(),
        visited: HashMap::new(),
        stack: Vec::new(),
    };
    // Reverse so the first root is walked first.
    for root in roots.iter().rev() {
        walker.stack.push(Work {
            id: root.id,
            expect: Expect::Any,
            reference: Reference {
                root: root.source.clone(),
                commit: None,
                path: String::new(),
            },
            declared_size: None,
        });
    }
    while let Some(work) = walker.stack.pop() {
        if interrupt.load(Ordering::Relaxed) {
            walker.report.interrupted = true;
            break;
        }
        if walker.visited.contains_key(&work.id) {
            walker.revisit(work);
            continue;
        }
        walker.visit(work);
        progress.add(1);
    }
    walker.report
}

impl Walker<'_> {
    fn add_finding(
        &mut self,
        problem: Problem,
        id: ObjectId,
        message: String,
        reference: &Reference,
    ) {
        let index = self.report.findings.len();
        self.report.findings.push(Finding {
            problem,
            id,
            message,
            referenced_by: vec![reference.clone()],
            more_references: 0,
            hint: problem.hint().to_owned(),
        });
        self.visited.entry(id).or_default().findings.push(index);
    }

    /// Records another reference to an object already visited and re-checks its declared size.
    fn revisit(&mut self, work: Work) {
        let visited = self.visited.get(&work.id).expect("checked by the caller");
        let actual = visited.size;
        for &index in &visited.findings {
            let finding = &mut self.report.findings[index];
            if finding.referenced_by.contains(&work.reference) {
                continue;
            }
            if finding.referenced_by.len() < MAX_REFERENCES {
                finding.referenced_by.push(work.reference.clone());
            } else {
                finding.more_references += 1;
            }
        }
        if let (Some(declared), Some(actual)) = (work.declared_size, actual)
            && declared != actual
        {
            self.size_mismatch(&work, declared, actual);
        }
    }

    fn size_mismatch(&mut self, work: &Work, declared: u64, actual: u64) {
        let message = format!(
            "{} declares {declared} bytes but the content has {actual} bytes",
            describe_reference(&work.reference)
        );
        self.add_finding(Problem::SizeMismatch, work.id, message, &work.reference);
    }

    fn visit(&mut self, work: Work) {
        self.visited.insert(work.id, Visited::default());
        let id = work.id;
        // The header gives the kind and length cheaply. Blobs are then streamed, and other kinds
        // are read whole (bounded by the store's read limit) to parse their JSON.
        let (kind, payload_len) = match self.store.open_payload(&id) {
            Ok(reader) => (reader.kind(), reader.payload_len()),
            Err(e) => return self.read_failed(&work, e),
        };
        if !work.expect.accepts(kind) {
            let message = format!(
                "{} links to a {kind} object where a {} is expected",
                describe_reference(&work.reference),
                work.expect.describe()
            );
            self.add_finding(Problem::WrongKind, id, message, &work.reference);
            return;
        }
        let payload = if kind == ObjectKind::Blob {
            if let Err(e) = self.store.check(&id) {
                return self.read_failed(&work, e);
            }
            None
        } else {
            match self.store.read(&id) {
                Ok((_, payload)) => Some(payload),
                Err(e) => return self.read_failed(&work, e),
            }
        };
        self.report.objects_checked += 1;
        self.report.bytes_checked += payload_len;
        let payload = payload.unwrap_or_default();
        match kind {
            ObjectKind::Blob => self.content_size(&work, payload_len),
            ObjectKind::Commit => self.visit_commit(&work, &payload),
            ObjectKind::Tree => self.visit_tree(&work, &payload),
            ObjectKind::File => self.visit_file(&work, &payload),
            ObjectKind::Record => self.visit_record(&work, &payload),
        }
    }

    /// Stores the content size of the object and compares it with the declared one.
    fn content_size(&mut self, work: &Work, actual: u64) {
        if let Some(visited) = self.visited.get_mut(&work.id) {
            visited.size = Some(actual);
        }
        if let Some(declared) = work.declared_size
            && declared != actual
        {
            self.size_mismatch(work, declared, actual);
        }
    }

    fn read_failed(&mut self, work: &Work, error: StoreError) {
        let problem = match &error {
            StoreError::NotFound { .. } => Problem::Missing,
            StoreError::HashMismatch { .. } => Problem::HashMismatch,
            _ => Problem::Corrupt,
        };
        let message = match problem {
            Problem::Missing => format!(
                "{} object is missing, referenced by {}",
                work.expect.describe(),
                describe_reference(&work.reference)
            ),
            _ => error.to_string(),
        };
        self.add_finding(problem, work.id, message, &work.reference);
    }

    fn undecodable(&mut self, work: &Work, kind: ObjectKind, error: &serde_json::Error) {
        let message = format!("{kind} object {} cannot be decoded: {error}", work.id);
        self.add_finding(Problem::Corrupt, work.id, message, &work.reference);
    }

    fn push(&mut self, id: ObjectId, expect: Expect, reference: Reference, size: Option<u64>) {
        self.stack.push(Work {
            id,
            expect,
            reference,
            declared_size: size,
        });
    }

    fn visit_commit(&mut self, work: &Work, payload: &[u8]) {
        let commit: Commit = match serde_json::from_slice(payload) {
            Ok(commit) => commit,
            Err(e) => return self.undecodable(work, ObjectKind::Commit, &e),
        };
        let root = work.reference.root.clone();
        let at = |path: &str| Reference {
            root: root.clone(),
            commit: Some(work.id),
            path: path.to_owned(),
        };
        if let Some(evidence) = commit.evidence {
            self.push(evidence, Expect::Record, at("(evidence)"), None);
        }
        for parent in commit.parents.iter().rev() {
            self.push(*parent, Expect::Commit, at("(parent)"), None);
        }
        // Pushed last so the snapshot is walked before older history.
        self.push(commit.tree, Expect::Tree, at(""), None);
    }

    fn visit_tree(&mut self, work: &Work, payload: &[u8]) {
        let tree: Tree = match serde_json::from_slice(payload) {
            Ok(tree) => tree,
            Err(e) => return self.undecodable(work, ObjectKind::Tree, &e),
        };
        if let Err(e) = check_tree(&work.id, &tree) {
            let message = format!("tree at {}: {e}", display_path(&work.reference.path));
            self.add_finding(Problem::BadTreeEntry, work.id, message, &work.reference);
        }
        let total = tree
            .entries
            .iter()
            .try_fold(0u64, |sum, e| sum.checked_add(e.size));
        match total {
            Some(total) => self.content_size(work, total),
            None => {
                let message = "tree entry sizes overflow a 64-bit total".to_owned();
                self.add_finding(Problem::SizeMismatch, work.id, message, &work.reference);
            }
        }
        for entry in tree.entries.iter().rev() {
            let path = if work.reference.path.is_empty() {
                entry.name.clone()
            } else {
                format!("{}/{}", work.reference.path, entry.name)
            };
            let reference = Reference {
                root: work.reference.root.clone(),
                commit: work.reference.commit,
                path,
            };
            let expect = match entry.entry_type {
                EntryType::File | EntryType::Exec => Expect::FileContent,
                EntryType::Symlink => Expect::Blob,
                EntryType::Tree => Expect::Tree,
            };
            self.push(entry.id, expect, reference, Some(entry.size));
        }
    }

    fn visit_file(&mut self, work: &Work, payload: &[u8]) {
        let index: FileIndex = match serde_json::from_slice(payload) {
            Ok(index) => index,
            Err(e) => return self.undecodable(work, ObjectKind::File, &e),
        };
        let sum = index
            .chunks
            .iter()
            .try_fold(0u64, |sum, c| sum.checked_add(c.size));
        if sum != Some(index.size) {
            let message = format!(
                "file index declares {} bytes but its chunks add up to {}",
                index.size,
                sum.map_or_else(|| "more than 2^64".to_owned(), |s| s.to_string())
            );
            self.add_finding(Problem::SizeMismatch, work.id, message, &work.reference);
        }
        self.content_size(work, index.size);
        for (i, chunk) in index.chunks.iter().enumerate().rev() {
            let reference = Reference {
                root: work.reference.root.clone(),
                commit: work.reference.commit,
                path: format!("{}#chunk {i}", work.reference.path),
            };
            self.push(chunk.id, Expect::Blob, reference, Some(chunk.size));
        }
    }

    fn visit_record(&mut self, work: &Work, payload: &[u8]) {
        let value: serde_json::Value = match serde_json::from_slice(payload) {
            Ok(value) => value,
            Err(e) => return self.undecodable(work, ObjectKind::Record, &e),
        };
        let mut links = Vec::new();
        collect_links(&value, "", &mut links);
        for (pointer, id) in links.into_iter().rev() {
            let reference = Reference {
                root: work.reference.root.clone(),
                commit: work.reference.commit,
                path: format!("{}record:{pointer}", prefix_of(&work.reference.path)),
            };
            self.push(id, Expect::Any, reference, None);
        }
    }
}

fn prefix_of(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path} ")
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "(root)" } else { path }
}

fn describe_reference(reference: &Reference) -> String {
    let mut out = String::new();
    if !reference.path.is_empty() {
        out.push_str(&format!("{} ", reference.path));
    }
    match reference.commit {
        Some(commit) => out.push_str(&format!("in commit {}", commit.short())),
        None => out.push_str(&reference.root),
    }
    out
}

/// Returns whether a JSON key names a link under the record link rule.
pub fn is_link_key(key: &str) -> bool {
    key == "id" || key.ends_with("_id") || key.ends_with("ids")
}

/// Collects `(JSON pointer, id)` for every link in `value` under the record link rule.
pub fn collect_links(value: &serde_json::Value, pointer: &str, out: &mut Vec<(String, ObjectId)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let child_pointer =
                    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                if is_link_key(key) {
                    match child {
                        serde_json::Value::String(s) => {
                            if let Ok(id) = s.parse::<ObjectId>() {
                                out.push((child_pointer.clone(), id));
                            }
                        }
                        serde_json::Value::Array(items) => {
                            for (i, item) in items.iter().enumerate() {
                                if let Some(id) = item.as_str().and_then(|s| s.parse().ok()) {
                                    out.push((format!("{child_pointer}/{i}"), id));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                collect_links(child, &child_pointer, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_links(item, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunker::{ChunkParams, write_file};
    use crate::object::{Commit, Provenance, TreeEntry};
    use crate::progress::NoProgress;
    use chrono::TimeZone;
    use std::collections::BTreeMap;
    use std::fs;

    const SMALL: ChunkParams = ChunkParams {
        min_size: 1024,
        avg_size: 4096,
        max_size: 16384,
    };

    struct Repo {
        _dir: tempfile::TempDir,
        store: Store,
        commit: ObjectId,
        parent: ObjectId,
        small: ObjectId,
        big: ObjectId,
        record: ObjectId,
        profile: ObjectId,
    }

    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    fn entry(name: &str, entry_type: EntryType, id: ObjectId, size: u64) -> TreeEntry {
        TreeEntry {
            name: name.to_owned(),
            entry_type,
            id,
            size,
        }
    }

    fn make_commit(
        store: &Store,
        tree: ObjectId,
        parents: Vec<ObjectId>,
        evidence: Option<ObjectId>,
    ) -> ObjectId {
        let commit = Commit {
            tree,
            parents,
            author: "Test <test@example.com>".into(),
            time: chrono::Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap(),
            message: "snapshot".into(),
            labels: BTreeMap::new(),
            provenance: Provenance::default(),
            evidence,
        };
        store.write_json(ObjectKind::Commit, &commit).unwrap()
    }

    /// parent: tree {small.txt}; commit: tree {data/big.bin (chunked), small.txt} + evidence
    /// record linking a profile record.
    fn repo_with_wrong_size(big_size_delta: i64) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(&dir.path().join("objects")).unwrap();
        let small = store
            .write_bytes(ObjectKind::Blob, b"small file\n")
            .unwrap();
        let path = dir.path().join("big.bin");
        fs::write(&path, noise(100_000, 9)).unwrap();
        let big = write_file(&store, &SMALL, &path, &NoProgress, &AtomicBool::new(false))
            .unwrap()
            .id;
        let parent_tree = store
            .write_json(
                ObjectKind::Tree,
                &Tree {
                    entries: vec![entry("small.txt", EntryType::File, small, 11)],
                },
            )
            .unwrap();
        let parent = make_commit(&store, parent_tree, vec![], None);
        let big_size = (100_000 + big_size_delta) as u64;
        let data = store
            .write_json(
                ObjectKind::Tree,
                &Tree {
                    entries: vec![entry("big.bin", EntryType::File, big, big_size)],
                },
            )
            .unwrap();
        let root = store
            .write_json(
                ObjectKind::Tree,
                &Tree {
                    entries: vec![
                        entry("data", EntryType::Tree, data, big_size),
                        entry("small.txt", EntryType::File, small, 11),
                    ],
                },
            )
            .unwrap();
        let profile = store
            .write_json(
                ObjectKind::Record,
                &serde_json::json!({"kind": "profile", "rows": 10}),
            )
            .unwrap();
        let record = store
            .write_json(
                ObjectKind::Record,
                &serde_json::json!({
                    "items": [{"name": "data", "profile_id": profile.to_hex(), "note": small.to_hex()}],
                }),
            )
            .unwrap();
        let commit = make_commit(&store, root, vec![parent], Some(record));
        Repo {
            _dir: dir,
            store,
            commit,
            parent,
            small,
            big,
            record,
            profile,
        }
    }

    fn repo() -> Repo {
        repo_with_wrong_size(0)
    }

    fn roots(repo: &Repo) -> Vec<Root> {
        vec![Root {
            id: repo.commit,
            source: "refs/heads/main".into(),
        }]
    }

    fn run(repo: &Repo) -> Report {
        verify(
            &repo.store,
            &roots(repo),
            &NoProgress,
            &AtomicBool::new(false),
        )
    }

    #[test]
    fn clean_store_has_no_findings() {
        let repo = repo();
        let report = run(&repo);
        assert!(report.is_ok(), "{:#?}", report.findings);
        let chunks = repo
            .store
            .read_json::<FileIndex>(ObjectKind::File, &repo.big)
            .unwrap()
            .chunks
            .len() as u64;
        // 2 commits, 3 trees, 1 small blob, file index + chunks, 2 records.
        assert_eq!(report.objects_checked, 2 + 3 + 1 + 1 + chunks + 2);
        assert_eq!(repo.store.iter_ids().count() as u64, report.objects_checked);
    }

    #[test]
    fn corrupted_object_is_reported_with_commit_and_path() {
        let repo = repo();
        let path = repo.store.object_path(&repo.small);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 5;
        bytes[last] ^= 0xFF;
        fs::write(&path, bytes).unwrap();
        let report = run(&repo);
        assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
        let finding = &report.findings[0];
        assert!(matches!(
            finding.problem,
            Problem::HashMismatch | Problem::Corrupt
        ));
        assert_eq!(finding.id, repo.small);
        // Referenced by both commits' trees.
        let refs: Vec<(Option<ObjectId>, &str)> = finding
            .referenced_by
            .iter()
            .map(|r| (r.commit, r.path.as_str()))
            .collect();
        assert!(refs.contains(&(Some(repo.commit), "small.txt")), "{refs:?}");
        assert!(refs.contains(&(Some(repo.parent), "small.txt")), "{refs:?}");
        assert!(!finding.hint.is_empty());
    }

    #[test]
    fn deleted_chunk_is_missing() {
        let repo = repo();
        let index: FileIndex = repo.store.read_json(ObjectKind::File, &repo.big).unwrap();
        fs::remove_file(repo.store.object_path(&index.chunks[2].id)).unwrap();
        let report = run(&repo);
        let missing: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.problem == Problem::Missing)
            .collect();
        assert_eq!(missing.len(), 1, "{:#?}", report.findings);
        assert_eq!(missing[0].id, index.chunks[2].id);
        assert_eq!(missing[0].referenced_by[0].path, "data/big.bin#chunk 2");
        assert_eq!(missing[0].referenced_by[0].commit, Some(repo.commit));
        assert_eq!(missing[0].referenced_by[0].root, "refs/heads/main");
    }

    #[test]
    fn truncated_object_is_corrupt() {
        let repo = repo();
        let path = repo.store.object_path(&repo.big);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let report = run(&repo);
        assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
        assert_eq!(report.findings[0].problem, Problem::Corrupt);
        assert_eq!(report.findings[0].id, repo.big);
        assert_eq!(report.findings[0].referenced_by[0].path, "data/big.bin");
    }

    #[test]
    fn wrong_tree_entry_size_is_reported() {
        let repo = repo_with_wrong_size(7);
        let report = run(&repo);
        let sizes: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.problem == Problem::SizeMismatch)
            .collect();
        assert_eq!(sizes.len(), 1, "{:#?}", report.findings);
        assert_eq!(sizes[0].id, repo.big);
        assert_eq!(sizes[0].referenced_by[0].path, "data/big.bin");
        assert_eq!(sizes[0].referenced_by[0].commit, Some(repo.commit));
        assert!(sizes[0].message.contains("100007"), "{}", sizes[0].message);
    }

    #[test]
    fn file_index_size_mismatch_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(&dir.path().join("objects")).unwrap();
        let chunk = store.write_bytes(ObjectKind::Blob, b"0123456789").unwrap();
        let index = FileIndex {
            size: 25,
            chunks: vec![
                crate::object::ChunkRef {
                    id: chunk,
                    size: 10,
                },
                crate::object::ChunkRef {
                    id: chunk,
                    size: 10,
                },
            ],
        };
        let file = store.write_json(ObjectKind::File, &index).unwrap();
        let tree = store
            .write_json(
                ObjectKind::Tree,
                &Tree {
                    entries: vec![entry("f.bin", EntryType::File, file, 25)],
                },
            )
            .unwrap();
        let commit = make_commit(&store, tree, vec![], None);
        let root = Root {
            id: commit,
            source: "HEAD".into(),
        };
        let report = verify(&store, &[root], &NoProgress, &AtomicBool::new(false));
        assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
        assert_eq!(report.findings[0].problem, Problem::SizeMismatch);
        assert_eq!(report.findings[0].id, file);
        assert_eq!(report.findings[0].referenced_by[0].path, "f.bin");
    }

    #[test]
    fn record_links_are_followed() {
        let repo = repo();
        fs::remove_file(repo.store.object_path(&repo.profile)).unwrap();
        let report = run(&repo);
        assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
        let finding = &report.findings[0];
        assert_eq!(finding.problem, Problem::Missing);
        assert_eq!(finding.id, repo.profile);
        assert_eq!(
            finding.referenced_by[0].path,
            "(evidence) record:/items/0/profile_id"
        );
        // "note" is not a link key, so the blob id under it is not followed from the record.
        assert!(repo.store.contains(&repo.record));
    }

    #[test]
    fn wrong_kind_link_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(&dir.path().join("objects")).unwrap();
        let blob = store.write_bytes(ObjectKind::Blob, b"not a tree").unwrap();
        let commit = make_commit(&store, blob, vec![], None);
        let report = verify(
            &store,
            &[Root {
                id: commit,
                source: "HEAD".into(),
            }],
            &NoProgress,
            &AtomicBool::new(false),
        );
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].problem, Problem::WrongKind);
        assert_eq!(report.findings[0].id, blob);
    }

    #[test]
    fn bad_tree_names_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(&dir.path().join("objects")).unwrap();
        let blob = store.write_bytes(ObjectKind::Blob, b"x").unwrap();
        let tree = store
            .write_json(
                ObjectKind::Tree,
                &Tree {
                    entries: vec![entry("..", EntryType::File, blob, 1)],
                },
            )
            .unwrap();
        let commit = make_commit(&store, tree, vec![], None);
        let report = verify(
            &store,
            &[Root {
                id: commit,
                source: "HEAD".into(),
            }],
            &NoProgress,
            &AtomicBool::new(false),
        );
        assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
        assert_eq!(report.findings[0].problem, Problem::BadTreeEntry);
        assert_eq!(report.findings[0].referenced_by[0].commit, Some(commit));
    }

    #[test]
    fn garbage_everywhere_never_panics() {
        let repo = repo();
        let ids: Vec<ObjectId> = repo.store.iter_ids().map(|r| r.unwrap()).collect();
        for (i, id) in ids.iter().enumerate() {
            let path = repo.store.object_path(id);
            let mut bytes = fs::read(&path).unwrap();
            match i % 3 {
                0 => bytes.truncate(bytes.len() / 3),
                1 => bytes = noise(50, i as u64),
                _ => {
                    let n = bytes.len();
                    bytes[n / 2] ^= 0x10;
                }
            }
            fs::write(&path, bytes).unwrap();
        }
        let report = run(&repo);
        assert!(!report.findings.is_empty());
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains("\"problem\""));
    }

    #[test]
    fn interrupt_marks_report() {
        let repo = repo();
        let report = verify(
            &repo.store,
            &roots(&repo),
            &NoProgress,
            &AtomicBool::new(true),
        );
        assert!(report.interrupted);
        assert!(!report.is_ok());
    }

    #[test]
    fn link_rule() {
        assert!(is_link_key("id"));
        assert!(is_link_key("profile_id"));
        assert!(is_link_key("chunk_ids"));
        assert!(!is_link_key("identity"));
        assert!(!is_link_key("width"));
        let id = ObjectId::hash(b"x");
        let value = serde_json::json!({"a": {"ids": [id.to_hex(), "nope"]}, "id": "short"});
        let mut links = Vec::new();
        collect_links(&value, "", &mut links);
        assert_eq!(links, vec![("/a/ids/0".to_owned(), id)]);
    }
}
