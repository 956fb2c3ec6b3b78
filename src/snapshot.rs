//! Building a commit from the workspace: select files, store them, build trees, write the
//! evidence record and the commit, and move the ref.
//!
//! Write order is objects, trees, evidence record, commit, ref: the ref update is the only commit
//! point, so a crash at any earlier step leaves unreferenced objects and no visible change.
//!
//! When two commits race for the same ref, the loser of the compare-and-swap re-reads the tip and
//! re-parents its commit onto it. Only the parent changes, because the tree is the same. It
//! retries up to [`MAX_CAS_ATTEMPTS`] times with jittered backoff, then fails with
//! [`SnapshotError::RaceLost`]. Commits to different refs never conflict.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fs;
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::chunker::{self, ChunkError, ChunkParams};
use crate::id::ObjectId;
use crate::manifest::{self, EvidenceItem, EvidenceRecord, Item, ManifestError, RECORD_SCHEMA};
use crate::object::{Commit, EntryType, ObjectKind, Provenance, Tree, TreeEntry};
use crate::progress::Progress;
use crate::refs::{Expected, RefError, RefName, RefValue, Signature};
use crate::repo::{EV_DIR_NAME, MANIFEST_FILE, Repository};
use crate::repo_path::RepoPath;
use crate::revision::RevisionError;
use crate::stat_cache::StatCache;
use crate::store::{Store, StoreError};

/// How many times a commit tries the compare-and-swap on its ref before giving up. Each attempt
/// only rewrites the small commit object. The concurrency test (8 writers on one branch) never
/// came close to the limit; heavier contention may need separate branches.
pub const MAX_CAS_ATTEMPTS: u32 = 50;

/// A reason a snapshot could not be committed. No ref changes when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("no {MANIFEST_FILE} in {work_tree:?} and no paths given")]
    NoManifest { work_tree: PathBuf },
    #[error("{MANIFEST_FILE} declares no items and no paths were given")]
    NoItems,
    #[error("path {path:?} not found")]
    PathNotFound { path: PathBuf },
    #[error("path {path:?} is outside the workspace {work_tree:?}")]
    OutsideWorkTree { path: PathBuf, work_tree: PathBuf },
    #[error("path {path:?} is inside the repository folder {EV_DIR_NAME}")]
    InsideRepository { path: PathBuf },
    #[error("cannot store {path:?}: {reason}")]
    BadName { path: PathBuf, reason: String },
    #[error("cannot store {path:?}: it is not a regular file, folder or symlink")]
    Unsupported { path: PathBuf },
    #[error("{path:?} disappeared while the snapshot was taken")]
    Vanished { path: PathBuf },
    #[error("{path:?} changed while the snapshot was taken: {reason}")]
    Changed { path: PathBuf, reason: String },
    #[error("invalid label {label:?}: {reason}")]
    BadLabel { label: String, reason: &'static str },
    #[error("item {item:?}: typed evidence could not be recorded: {source}")]
    Typed {
        item: String,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chunk(ChunkError),
    #[error(transparent)]
    Ref(#[from] RefError),
    #[error(transparent)]
    Revision(#[from] RevisionError),
    #[error(
        "ref {name} kept changing: gave up after {attempts} attempts to update it (other \
         processes commit to it concurrently)"
    )]
    RaceLost { name: String, attempts: u32 },
    #[error("interrupted")]
    Interrupted,
    #[error("failed to {action} {path:?}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl SnapshotError {
    /// Returns the next step for errors this module raises itself.
    pub fn own_hint(&self) -> Option<String> {
        Some(match self {
            SnapshotError::NoManifest { .. } => format!(
                "declare evidence in {MANIFEST_FILE} (see the template from `ev init`) or give \
                 paths: `ev commit -m MESSAGE PATH...`"
            ),
            SnapshotError::NoItems => format!(
                "add an [[item]] to {MANIFEST_FILE} (the template from `ev init` shows how) or \
                 give paths: `ev commit -m MESSAGE PATH...`"
            ),
            SnapshotError::PathNotFound { .. } | SnapshotError::OutsideWorkTree { .. } => {
                "give paths inside the workspace (see --work-tree)".to_owned()
            }
            SnapshotError::Vanished { .. } | SnapshotError::Changed { .. } => {
                "wait until the files stop changing, then run `ev commit` again".to_owned()
            }
            SnapshotError::BadLabel { .. } => "write labels as --label KEY=VALUE".to_owned(),
            SnapshotError::RaceLost { .. } => {
                "re-run `ev commit`, or commit to separate branches with --branch".to_owned()
            }
            SnapshotError::BadName { .. } | SnapshotError::Unsupported { .. } => {
                "rename or remove the file, or leave it out of the snapshot".to_owned()
            }
            _ => return None,
        })
    }
}

impl From<ChunkError> for SnapshotError {
    fn from(e: ChunkError) -> Self {
        match e {
            ChunkError::Store(e) => SnapshotError::Store(e),
            ChunkError::Interrupted => SnapshotError::Interrupted,
            ChunkError::FileChanged { path, reason } => SnapshotError::Changed { path, reason },
            ChunkError::Io { path, source } if source.kind() == io::ErrorKind::NotFound => {
                SnapshotError::Vanished { path }
            }
            other => SnapshotError::Chunk(other),
        }
    }
}

/// Plug-in point for typed evidence: computes the typed record (profile, schema, model record)
/// of one item from its stored files.
pub trait TypedRecorder {
    /// Returns the id of the item's typed record, or `None` when the kind has none.
    fn record(
        &self,
        store: &Store,
        work_tree: &Path,
        item: &Item,
        files: &[(RepoPath, ObjectId)],
    ) -> Result<Option<ObjectId>, Box<dyn StdError + Send + Sync>>;
}

/// A [`TypedRecorder`] that records nothing: every item gets `record: None`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTypedRecords;

impl TypedRecorder for NoTypedRecords {
    fn record(
        &self,
        _store: &Store,
        _work_tree: &Path,
        _item: &Item,
        _files: &[(RepoPath, ObjectId)],
    ) -> Result<Option<ObjectId>, Box<dyn StdError + Send + Sync>> {
        Ok(None)
    }
}

/// A commit request: message, labels, target branch, paths, author, time and provenance.
#[derive(Clone, Debug)]
pub struct SnapshotRequest {
    pub message: String,
    pub labels: BTreeMap<String, String>,
    /// Branch to commit to; `None` commits to `HEAD` (its branch, or `HEAD` itself if detached).
    /// A branch that does not exist yet starts with a root commit.
    pub branch: Option<RefName>,
    /// Files and folders to snapshot as plain evidence (absolute, or relative to the workspace);
    /// empty means the items of `evidence.toml`.
    pub paths: Vec<PathBuf>,
    pub author: String,
    pub time: DateTime<Utc>,
    pub provenance: Provenance,
}

/// A made commit.
#[derive(Clone, Debug, Serialize)]
pub struct CommitOutcome {
    pub id: ObjectId,
    pub tree: ObjectId,
    pub parent: Option<ObjectId>,
    /// The ref that moved.
    #[serde(rename = "ref")]
    pub reference: RefName,
    /// Files and symlinks in the snapshot.
    pub files: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Files read and hashed (not served from the stat cache).
    pub files_hashed: u64,
    /// Payload bytes of objects that were not in the store before.
    pub bytes_new: u64,
    /// Compare-and-swap attempts that lost to a concurrent commit.
    pub retries: u32,
    /// Problems that did not stop the commit (stat cache not saved).
    pub warnings: Vec<String>,
}

/// Crash points for tests: with `EV_TEST_CRASH_AT=<point>` a debug build aborts there, as if the
/// machine lost power. Release builds ignore the variable.
fn crash_point(point: &str) {
    if cfg!(debug_assertions) && std::env::var("EV_TEST_CRASH_AT").is_ok_and(|v| v == point) {
        std::process::abort();
    }
}

/// One file-system entry selected for the snapshot.
struct Selected {
    path: RepoPath,
    fs_path: PathBuf,
    meta: fs::Metadata,
}

/// Takes a snapshot of the workspace and commits it. See the module documentation for the order
/// of writes and the retry rule.
pub fn commit(
    repo: &Repository,
    store: &Store,
    request: &SnapshotRequest,
    recorder: &dyn TypedRecorder,
    progress: &dyn Progress,
    interrupt: &AtomicBool,
) -> Result<CommitOutcome, SnapshotError> {
    for key in request.labels.keys() {
        check_label_key(key)?;
    }
    let work_tree = repo.work_tree();

    // Which paths, and which items, this snapshot covers.
    let (roots, manifest_items) = if request.paths.is_empty() {
        let path = repo.manifest_path();
        // Only a missing file means "no manifest"; a folder or unreadable file is reported by
        // `manifest::load` as what it is.
        if path.symlink_metadata().is_err() {
            return Err(SnapshotError::NoManifest {
                work_tree: work_tree.to_path_buf(),
            });
        }
        let manifest = manifest::load(&path, MANIFEST_FILE)?;
        if manifest.items.is_empty() {
            return Err(SnapshotError::NoItems);
        }
        let resolved = manifest.resolve(work_tree)?;
        let roots: Vec<Option<RepoPath>> = resolved
            .iter()
            .flat_map(|r| r.paths.iter().cloned().map(Some))
            .collect();
        (roots, Some((manifest, resolved)))
    } else {
        let roots = request
            .paths
            .iter()
            .map(|p| to_repo_path(work_tree, p))
            .collect::<Result<Vec<_>, _>>()?;
        (roots, None)
    };

    let selected = select(work_tree, repo.ev_dir(), &roots, interrupt)?;
    let total: u64 = selected.iter().map(|s| s.meta.len()).sum();
    progress.set_total(total);

    // Objects: unchanged files come from the stat cache, the rest are stored in parallel.
    let params = repo.config().chunking;
    let cache_dir = stat_cache_dir(repo);
    let mut cache = StatCache::load(&cache_dir, &params);
    let mut results: Vec<Option<Written>> = selected
        .iter()
        .map(|entry| {
            let (id, entry_type) = cache.lookup(&entry.path, &entry.meta)?;
            // An object removed from the store since (by hand or a future gc) is written again.
            if !store.contains(&id) {
                return None;
            }
            progress.add(entry.meta.len());
            Some(Written {
                id,
                entry_type,
                size: entry.meta.len(),
                bytes_new: 0,
                from_cache: true,
            })
        })
        .collect();
    let misses: Vec<usize> = (0..selected.len())
        .filter(|&i| results[i].is_none())
        .collect();
    let files_hashed = misses.len() as u64;
    let written = write_parallel(store, &params, &selected, &misses, progress, interrupt)?;
    for (i, w) in misses.into_iter().zip(written) {
        results[i] = Some(w);
    }

    let mut root = Dir::default();
    let mut stored: BTreeMap<RepoPath, ObjectId> = BTreeMap::new();
    let mut bytes_new = 0u64;
    let mut bytes = 0u64;
    for (entry, written) in selected.iter().zip(results) {
        let w = written.expect("every entry was looked up or written");
        // The walk's metadata is the "before" stamp: if the file changed after it, write_file
        // saw other content, and the next lookup with the new metadata will not match.
        if !w.from_cache && w.size == entry.meta.len() {
            cache.insert(&entry.path, &entry.meta, w.id, w.entry_type);
        }
        bytes += w.size;
        bytes_new += w.bytes_new;
        stored.insert(entry.path.clone(), w.id);
        root.insert(&entry.path, w.entry_type, w.id, w.size);
    }
    crash_point("after-objects");

    // Trees, bottom-up.
    let tree = root.write(store)?;
    crash_point("after-trees");

    // Evidence record: items, their paths and typed records.
    let evidence = match &manifest_items {
        None => None,
        Some((manifest, resolved)) => {
            let mut items = Vec::new();
            for (item, resolved) in manifest.items.iter().zip(resolved) {
                let files = files_below(&stored, &resolved.paths);
                let record = recorder
                    .record(store, work_tree, item, &files)
                    .map_err(|source| SnapshotError::Typed {
                        item: item.name.clone(),
                        source,
                    })?;
                items.push(EvidenceItem {
                    name: item.name.clone(),
                    kind: item.kind,
                    paths: resolved.paths.clone(),
                    record,
                });
            }
            let record = EvidenceRecord {
                schema: RECORD_SCHEMA.to_owned(),
                items,
            };
            Some(store.write_json(ObjectKind::Record, &record)?)
        }
    };

    // Commit and ref, retried on lost races.
    let refs = repo.refs();
    let target = match &request.branch {
        Some(branch) => branch.clone(),
        None => RefName::head(),
    };
    let signature = Signature {
        who: request.author.clone(),
        time: request.time,
    };
    let mut retries = 0u32;
    loop {
        let parent = current_tip(repo, &target)?;
        let commit = Commit {
            tree,
            parents: parent.into_iter().collect(),
            author: request.author.clone(),
            time: request.time,
            message: request.message.clone(),
            labels: request.labels.clone(),
            provenance: request.provenance.clone(),
            evidence,
        };
        let id = store.write_json(ObjectKind::Commit, &commit)?;
        crash_point("after-commit");
        crash_point("before-ref");
        let summary = request.message.lines().next().unwrap_or("");
        let message = if parent.is_none() {
            format!("commit (initial): {summary}")
        } else {
            format!("commit: {summary}")
        };
        match refs.update(
            &target,
            Expected::from_current(parent),
            id,
            &signature,
            &message,
        ) {
            Ok(()) => {
                let mut warnings = Vec::new();
                cache.retain_paths(|p| stored.contains_key(p));
                if let Err(e) = cache.save() {
                    warnings.push(format!("stat cache not saved: {e}"));
                }
                let reference = match &request.branch {
                    Some(branch) => branch.clone(),
                    None => refs.head_target()?.unwrap_or_else(RefName::head),
                };
                return Ok(CommitOutcome {
                    id,
                    tree,
                    parent,
                    reference,
                    files: selected.len() as u64,
                    bytes,
                    files_hashed,
                    bytes_new,
                    retries,
                    warnings,
                });
            }
            Err(RefError::Conflict { name, .. }) => {
                retries += 1;
                if retries >= MAX_CAS_ATTEMPTS {
                    return Err(SnapshotError::RaceLost {
                        name,
                        attempts: retries,
                    });
                }
                if interrupt.load(Ordering::Relaxed) {
                    return Err(SnapshotError::Interrupted);
                }
                std::thread::sleep(retry_backoff(retries));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The stored files at or below each of `roots`, sorted, each once. Uses range queries, so a
/// glob item of many files costs O(files × log files), not O(files × roots).
fn files_below(
    stored: &BTreeMap<RepoPath, ObjectId>,
    roots: &[RepoPath],
) -> Vec<(RepoPath, ObjectId)> {
    let mut out: BTreeMap<RepoPath, ObjectId> = BTreeMap::new();
    for root in roots {
        if let Some(id) = stored.get(root) {
            out.insert(root.clone(), *id);
        }
        // Every path inside folder `root` sorts after `root` itself; take the run that follows
        // and keep those under `root/` (names such as `root-x` sort in between and are skipped).
        let after_root = (Bound::Excluded(root.clone()), Bound::Unbounded);
        for (path, id) in stored.range(after_root) {
            if !path.as_str().starts_with(root.as_str()) {
                break;
            }
            if path.starts_with(root) {
                out.insert(path.clone(), *id);
            }
        }
    }
    out.into_iter().collect()
}

/// Jittered exponential backoff between compare-and-swap attempts: up to 1, 2, 4 ... 64 ms.
fn retry_backoff(attempt: u32) -> Duration {
    let cap = 1u64 << attempt.min(6);
    Duration::from_millis(1 + crate::refs::jitter(cap))
}

/// The commit `target` points at now (following a symbolic `HEAD`), `None` if unborn.
fn current_tip(repo: &Repository, target: &RefName) -> Result<Option<ObjectId>, SnapshotError> {
    let refs = repo.refs();
    match refs.read(target)? {
        Some(RefValue::Symbolic(branch)) => Ok(refs.resolve(&branch)?),
        Some(RefValue::Direct(id)) => Ok(Some(id)),
        None => Ok(None),
    }
}

fn check_label_key(key: &str) -> Result<(), SnapshotError> {
    let bad = |reason| SnapshotError::BadLabel {
        label: key.to_owned(),
        reason,
    };
    if key.is_empty() {
        return Err(bad("the key is empty"));
    }
    if key.chars().any(|c| c.is_control() || c == '=') {
        return Err(bad("the key contains '=' or a control character"));
    }
    Ok(())
}

/// The stat cache folder for this workspace. One store may serve many workspaces (`EV_DIR`), and
/// the cache is keyed by workspace path, so each workspace gets its own file.
fn stat_cache_dir(repo: &Repository) -> PathBuf {
    let key = blake3::hash(repo.work_tree().as_os_str().as_encoded_bytes());
    repo.ev_dir()
        .join("cache")
        .join(&key.to_hex().as_str()[..16])
}

/// Converts a command-line path (absolute or relative to the workspace) into a repository path;
/// `None` means the whole workspace.
fn to_repo_path(work_tree: &Path, path: &Path) -> Result<Option<RepoPath>, SnapshotError> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        work_tree.join(path)
    };
    if fs::symlink_metadata(&absolute).is_err() {
        return Err(SnapshotError::PathNotFound {
            path: path.to_path_buf(),
        });
    }
    // Resolve symlinks in the folders above the entry but not in the entry itself, which is
    // stored as a symlink if it is one.
    let normalized = match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .map_err(|source| SnapshotError::Io {
                action: "resolve",
                path: parent.to_path_buf(),
                source,
            })?
            .join(name),
        _ => absolute
            .canonicalize()
            .map_err(|source| SnapshotError::Io {
                action: "resolve",
                path: absolute.clone(),
                source,
            })?,
    };
    if normalized == work_tree {
        return Ok(None);
    }
    let relative =
        normalized
            .strip_prefix(work_tree)
            .map_err(|_| SnapshotError::OutsideWorkTree {
                path: path.to_path_buf(),
                work_tree: work_tree.to_path_buf(),
            })?;
    if relative.components().next().map(|c| c.as_os_str()) == Some(EV_DIR_NAME.as_ref()) {
        return Err(SnapshotError::InsideRepository {
            path: path.to_path_buf(),
        });
    }
    let repo_path =
        RepoPath::from_fs_path(work_tree, &normalized).map_err(|e| SnapshotError::BadName {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(Some(repo_path))
}

/// Lists every file and symlink below the selected roots (`None` = the whole workspace), sorted
/// and without duplicates, skipping the repository folder.
fn select(
    work_tree: &Path,
    ev_dir: &Path,
    roots: &[Option<RepoPath>],
    interrupt: &AtomicBool,
) -> Result<Vec<Selected>, SnapshotError> {
    let mut out: BTreeMap<RepoPath, Selected> = BTreeMap::new();
    for root in roots {
        let start = match root {
            Some(p) => p.to_fs_path(work_tree),
            None => work_tree.to_path_buf(),
        };
        // walkdir follows a root that is a symlink unless told not to; a symlink named on the
        // command line must be stored as a link like any other, even when it dangles.
        let walker = walkdir::WalkDir::new(&start)
            .follow_links(false)
            .follow_root_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.path() != ev_dir && !is_top_level_ev(work_tree, e.path()));
        for entry in walker {
            if interrupt.load(Ordering::Relaxed) {
                return Err(SnapshotError::Interrupted);
            }
            let entry = entry.map_err(|e| {
                let path = e.path().map_or_else(|| start.clone(), Path::to_path_buf);
                let source: io::Error = e.into();
                if source.kind() == io::ErrorKind::NotFound {
                    SnapshotError::Vanished { path }
                } else {
                    SnapshotError::Io {
                        action: "read",
                        path,
                        source,
                    }
                }
            })?;
            let file_type = entry.file_type();
            if file_type.is_dir() {
                continue;
            }
            if !file_type.is_file() && !file_type.is_symlink() {
                return Err(SnapshotError::Unsupported {
                    path: entry.path().to_path_buf(),
                });
            }
            let path = RepoPath::from_fs_path(work_tree, entry.path()).map_err(|e| {
                SnapshotError::BadName {
                    path: entry.path().to_path_buf(),
                    reason: e.to_string(),
                }
            })?;
            let meta = fs::symlink_metadata(entry.path()).map_err(|source| {
                if source.kind() == io::ErrorKind::NotFound {
                    SnapshotError::Vanished {
                        path: entry.path().to_path_buf(),
                    }
                } else {
                    SnapshotError::Io {
                        action: "inspect",
                        path: entry.path().to_path_buf(),
                        source,
                    }
                }
            })?;
            out.insert(
                path.clone(),
                Selected {
                    path,
                    fs_path: entry.path().to_path_buf(),
                    meta,
                },
            );
        }
    }
    Ok(out.into_values().collect())
}

fn is_top_level_ev(work_tree: &Path, path: &Path) -> bool {
    path.parent() == Some(work_tree) && path.file_name() == Some(EV_DIR_NAME.as_ref())
}

/// Threads that store files at once. Storing a small file is dominated by fsync latency, not CPU,
/// so more threads than cores overlap the waits.
const WRITE_THREADS: usize = 8;

/// One stored (or cached) file or symlink.
struct Written {
    id: ObjectId,
    entry_type: EntryType,
    size: u64,
    bytes_new: u64,
    from_cache: bool,
}

/// Stores `selected[i]` for every `i` in `indexes`, in parallel; results are in `indexes` order.
fn write_parallel(
    store: &Store,
    params: &ChunkParams,
    selected: &[Selected],
    indexes: &[usize],
    progress: &dyn Progress,
    interrupt: &AtomicBool,
) -> Result<Vec<Written>, SnapshotError> {
    use rayon::prelude::*;

    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(WRITE_THREADS.min(indexes.len()))
        .build()
        .map_err(|e| SnapshotError::Io {
            action: "start writer threads for",
            path: PathBuf::from(&selected[indexes[0]].fs_path),
            source: io::Error::other(e),
        })?;
    pool.install(|| {
        indexes
            .par_iter()
            .map(|&i| {
                if interrupt.load(Ordering::Relaxed) {
                    return Err(SnapshotError::Interrupted);
                }
                write_entry(store, params, &selected[i], progress, interrupt)
            })
            .collect()
    })
}

/// Stores one file or symlink.
fn write_entry(
    store: &Store,
    params: &ChunkParams,
    entry: &Selected,
    progress: &dyn Progress,
    interrupt: &AtomicBool,
) -> Result<Written, SnapshotError> {
    if entry.meta.file_type().is_symlink() {
        let target = fs::read_link(&entry.fs_path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                SnapshotError::Vanished {
                    path: entry.fs_path.clone(),
                }
            } else {
                SnapshotError::Io {
                    action: "read symlink",
                    path: entry.fs_path.clone(),
                    source,
                }
            }
        })?;
        let target = target.to_str().ok_or_else(|| SnapshotError::BadName {
            path: entry.fs_path.clone(),
            reason: "the symlink target is not valid UTF-8".to_owned(),
        })?;
        let id = store.write_bytes(ObjectKind::Blob, target.as_bytes())?;
        return Ok(Written {
            id,
            entry_type: EntryType::Symlink,
            size: target.len() as u64,
            bytes_new: 0,
            from_cache: false,
        });
    }

    let written = chunker::write_file(store, params, &entry.fs_path, progress, interrupt)?;
    let entry_type = if is_executable(&entry.meta) {
        EntryType::Exec
    } else {
        EntryType::File
    };
    Ok(Written {
        id: written.id,
        entry_type,
        size: written.size,
        bytes_new: written.bytes_new,
        from_cache: false,
    })
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}

/// A folder being assembled: entries by name (byte order, which is how trees are sorted).
#[derive(Default)]
struct Dir {
    files: BTreeMap<String, TreeEntry>,
    dirs: BTreeMap<String, Dir>,
}

impl Dir {
    fn insert(&mut self, path: &RepoPath, entry_type: EntryType, id: ObjectId, size: u64) {
        let components: Vec<&str> = path.components().collect();
        let (name, folders) = components
            .split_last()
            .expect("a repository path has at least one component");
        let mut dir = self;
        for folder in folders {
            dir = dir.dirs.entry((*folder).to_owned()).or_default();
        }
        dir.files.insert(
            (*name).to_owned(),
            TreeEntry {
                name: (*name).to_owned(),
                entry_type,
                id,
                size,
            },
        );
    }

    /// Writes this folder's subtrees and then itself; returns its id. A tree entry's size is
    /// the sum of its direct entries' sizes, i.e. the bytes of all files below.
    fn write(&self, store: &Store) -> Result<ObjectId, SnapshotError> {
        Ok(self.write_sized(store)?.0)
    }

    fn write_sized(&self, store: &Store) -> Result<(ObjectId, u64), SnapshotError> {
        let mut entries: Vec<TreeEntry> = self.files.values().cloned().collect();
        for (name, dir) in &self.dirs {
            let (id, size) = dir.write_sized(store)?;
            entries.push(TreeEntry {
                name: name.clone(),
                entry_type: EntryType::Tree,
                id,
                size,
            });
        }
        // A file and a folder cannot share a name in one folder, so sorting gives unique names.
        entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        let size = entries.iter().map(|e| e.size).sum();
        let id = store.write_json(ObjectKind::Tree, &Tree { entries })?;
        Ok((id, size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use crate::repo::Config;

    fn request(paths: Vec<PathBuf>) -> SnapshotRequest {
        SnapshotRequest {
            message: "m".into(),
            labels: BTreeMap::new(),
            branch: None,
            paths,
            author: "a".into(),
            time: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            provenance: Provenance::default(),
        }
    }

    fn setup() -> (tempfile::TempDir, Repository, Store) {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init(tmp.path(), &Config::default()).unwrap();
        let store = Store::open(&repo.objects_dir()).unwrap();
        (tmp, repo, store)
    }

    #[test]
    fn same_content_gives_same_tree_and_commit_chain() {
        let (_tmp, repo, store) = setup();
        let wt = repo.work_tree().to_path_buf();
        fs::create_dir_all(wt.join("d/e")).unwrap();
        fs::write(wt.join("d/a.txt"), "a").unwrap();
        fs::write(wt.join("d/e/b.txt"), "bb").unwrap();
        // Old modification times, so the stat cache does not treat the entries as racy.
        let past = std::time::SystemTime::now() - Duration::from_secs(3600);
        for f in ["d/a.txt", "d/e/b.txt"] {
            let file = fs::File::options().write(true).open(wt.join(f)).unwrap();
            file.set_modified(past).unwrap();
        }
        let flag = AtomicBool::new(false);
        let first = commit(
            &repo,
            &store,
            &request(vec!["d".into()]),
            &NoTypedRecords,
            &NoProgress,
            &flag,
        )
        .unwrap();
        assert_eq!(first.files, 2);
        assert_eq!(first.bytes, 3);
        assert_eq!(first.parent, None);
        let second = commit(
            &repo,
            &store,
            &request(vec!["d".into()]),
            &NoTypedRecords,
            &NoProgress,
            &flag,
        )
        .unwrap();
        assert_eq!(second.tree, first.tree);
        assert_eq!(second.parent, Some(first.id));
        assert_eq!(first.files_hashed, 2);
        // The second run reads nothing: every file comes from the stat cache.
        assert_eq!(second.files_hashed, 0);
        assert_eq!(second.bytes_new, 0);

        let root = store.read_tree(&first.tree).unwrap();
        assert_eq!(root.entries.len(), 1);
        assert_eq!(root.entries[0].name, "d");
        assert_eq!(root.entries[0].size, 3);
        let d = store.read_tree(&root.entries[0].id).unwrap();
        let names: Vec<&str> = d.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a.txt", "e"]);
    }

    #[test]
    fn manifest_items_become_an_evidence_record() {
        let (_tmp, repo, store) = setup();
        let wt = repo.work_tree().to_path_buf();
        fs::write(
            wt.join(MANIFEST_FILE),
            "[[item]]\nname = \"cfg\"\nkind = \"file\"\npath = \"c.yaml\"\n",
        )
        .unwrap();
        fs::write(wt.join("c.yaml"), "k: v\n").unwrap();
        fs::write(wt.join("ignored.txt"), "x").unwrap();
        let flag = AtomicBool::new(false);
        let out = commit(
            &repo,
            &store,
            &request(vec![]),
            &NoTypedRecords,
            &NoProgress,
            &flag,
        )
        .unwrap();
        assert_eq!(out.files, 1);
        let c = store.read_commit(&out.id).unwrap();
        let record: EvidenceRecord = store
            .read_json(ObjectKind::Record, &c.evidence.unwrap())
            .unwrap();
        assert_eq!(record.schema, RECORD_SCHEMA);
        assert_eq!(record.items[0].name, "cfg");
        assert_eq!(record.items[0].paths[0].as_str(), "c.yaml");
        assert_eq!(record.items[0].record, None);
    }

    #[test]
    fn paths_outside_or_missing_are_rejected() {
        let (_tmp, repo, store) = setup();
        let flag = AtomicBool::new(false);
        let missing = commit(
            &repo,
            &store,
            &request(vec!["nope".into()]),
            &NoTypedRecords,
            &NoProgress,
            &flag,
        );
        assert!(matches!(missing, Err(SnapshotError::PathNotFound { .. })));
        let other = tempfile::tempdir().unwrap();
        let outside = commit(
            &repo,
            &store,
            &request(vec![other.path().to_path_buf()]),
            &NoTypedRecords,
            &NoProgress,
            &flag,
        );
        assert!(matches!(
            outside,
            Err(SnapshotError::OutsideWorkTree { .. })
        ));
        let inside_ev = commit(
            &repo,
            &store,
            &request(vec![".ev/HEAD".into()]),
            &NoTypedRecords,
            &NoProgress,
            &flag,
        );
        assert!(matches!(
            inside_ev,
            Err(SnapshotError::InsideRepository { .. })
        ));
        let no_manifest = {
            fs::remove_file(repo.manifest_path()).unwrap();
            commit(
                &repo,
                &store,
                &request(vec![]),
                &NoTypedRecords,
                &NoProgress,
                &flag,
            )
        };
        assert!(matches!(no_manifest, Err(SnapshotError::NoManifest { .. })));
        assert_eq!(repo.refs().resolve(&RefName::head()).unwrap(), None);
    }

    #[test]
    fn files_below_selects_folders_exactly() {
        let id = ObjectId::hash(b"x");
        let stored: BTreeMap<RepoPath, ObjectId> = ["a", "a-b/c", "a/b", "a/c/d", "ab", "b/x"]
            .iter()
            .map(|p| (RepoPath::new(p).unwrap(), id))
            .collect();
        let pick = |roots: &[&str]| -> Vec<String> {
            let roots: Vec<RepoPath> = roots.iter().map(|r| RepoPath::new(r).unwrap()).collect();
            files_below(&stored, &roots)
                .into_iter()
                .map(|(p, _)| p.to_string())
                .collect()
        };
        assert_eq!(pick(&["a"]), ["a", "a/b", "a/c/d"]);
        assert_eq!(pick(&["a/c", "b"]), ["a/c/d", "b/x"]);
        assert_eq!(pick(&["a/b", "a"]), ["a", "a/b", "a/c/d"]);
        assert!(pick(&["zz"]).is_empty());
    }

    #[test]
    fn vanished_file_is_an_error() {
        let (_tmp, repo, store) = setup();
        let wt = repo.work_tree().to_path_buf();
        fs::write(wt.join("gone.txt"), "soon gone").unwrap();
        let flag = AtomicBool::new(false);
        let root = RepoPath::new("gone.txt").unwrap();
        let selected = select(&wt, repo.ev_dir(), &[Some(root)], &flag).unwrap();
        fs::remove_file(wt.join("gone.txt")).unwrap();
        let err = write_entry(
            &store,
            &repo.config().chunking,
            &selected[0],
            &NoProgress,
            &flag,
        )
        .err()
        .expect("a vanished file cannot be stored");
        assert!(matches!(err, SnapshotError::Vanished { .. }), "{err}");
    }

    #[test]
    fn labels_are_checked() {
        let (_tmp, repo, store) = setup();
        fs::write(repo.work_tree().join("a"), "a").unwrap();
        let mut req = request(vec!["a".into()]);
        req.labels.insert(String::new(), "v".into());
        let flag = AtomicBool::new(false);
        let err = commit(&repo, &store, &req, &NoTypedRecords, &NoProgress, &flag).unwrap_err();
        assert!(matches!(err, SnapshotError::BadLabel { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_stored_not_followed() {
        let (_tmp, repo, store) = setup();
        let wt = repo.work_tree().to_path_buf();
        fs::create_dir_all(wt.join("d")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", wt.join("d/link")).unwrap();
        let flag = AtomicBool::new(false);
        let out = commit(
            &repo,
            &store,
            &request(vec!["d".into()]),
            &NoTypedRecords,
            &NoProgress,
            &flag,
        )
        .unwrap();
        let root = store.read_tree(&out.tree).unwrap();
        let d = store.read_tree(&root.entries[0].id).unwrap();
        assert_eq!(d.entries[0].entry_type, EntryType::Symlink);
        assert_eq!(d.entries[0].size, "/etc/passwd".len() as u64);
    }
}
