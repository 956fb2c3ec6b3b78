//! Checkout: writes the files of a tree (or some paths of it) into a folder.
//!
//! Safety rules, all enforced even for a damaged or hostile store:
//! - every tree is read with name validation (single normal components, sorted, unique), so
//!   joining names onto `dest` never leaves it lexically;
//! - the whole selection is planned and validated before anything is written;
//! - no symlink that already exists in `dest` is followed: every parent folder is checked with
//!   `symlink_metadata`, and a symlink where a folder is needed is an error;
//! - a symlink entry is created only if its target is relative and stays inside `dest`
//!   lexically from the link's own folder;
//! - each file is written to a temp file in its folder and renamed into place, so a reader
//!   never sees a half-written file and an existing symlink at that path is replaced, not
//!   followed;
//! - an existing file whose content differs is left alone (reported as skipped) unless
//!   `force` is set;
//! - when writing fails, the folders the checkout created are removed again if they are empty,
//!   and folders that existed before are never removed.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::id::ObjectId;
use crate::object::{EntryType, ObjectKind};
use crate::progress::Progress;
use crate::repo_path::RepoPath;
use crate::store::{Store, StoreError};

/// Maximum symlink target length in bytes (Linux `PATH_MAX`).
pub const MAX_SYMLINK_TARGET: usize = 4096;

/// Deepest folder nesting accepted in a tree; deeper trees are rejected as hostile.
pub const MAX_DEPTH: usize = 256;

/// Checkout knobs.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckoutOptions {
    /// Overwrite existing files and symlinks whose content differs.
    pub force: bool,
}

/// Result of a checkout, path by path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Files and symlinks created or replaced (including files whose mode alone changed).
    pub written: Vec<RepoPath>,
    /// Files and symlinks already identical in `dest`.
    pub unchanged: Vec<RepoPath>,
    /// Entries left alone because something different was in the way.
    pub skipped: Vec<Skipped>,
}

/// An entry that was not written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: RepoPath,
    pub reason: String,
}

/// A reason a checkout stopped. Nothing is written when the error comes from validation
/// (`Store`, `UnsafeSymlink`, `SymlinkInDest` found while planning, `PathNotInTree`, `TooDeep`).
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("symlink {path} points to {target:?}, which {reason}; it is not checked out")]
    UnsafeSymlink {
        path: RepoPath,
        target: String,
        reason: String,
    },
    #[error("{path} is a symlink in the checkout folder; refusing to write through it")]
    SymlinkInDest { path: PathBuf },
    #[error("{path} exists and is not a folder, but the tree needs a folder there")]
    NotAFolder { path: PathBuf },
    #[error("path {path} is not in tree {tree}")]
    PathNotInTree { path: RepoPath, tree: ObjectId },
    #[error("tree {tree} nests folders deeper than {MAX_DEPTH} levels at {path}")]
    TooDeep { tree: ObjectId, path: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("interrupted")]
    Interrupted,
}

/// One step of a validated plan.
#[derive(Debug)]
enum Action {
    Folder(RepoPath),
    File {
        path: RepoPath,
        id: ObjectId,
        exec: bool,
    },
    Symlink {
        path: RepoPath,
        target: String,
    },
}

/// Writes the entries of tree `tree` selected by `paths` (all when empty; a folder selects
/// everything below it) into `dest`, which is created if missing.
pub fn checkout(
    store: &Store,
    tree: &ObjectId,
    paths: &[RepoPath],
    dest: &Path,
    options: &CheckoutOptions,
    progress: &dyn Progress,
    interrupt: &AtomicBool,
) -> Result<Outcome, CheckoutError> {
    let mut planner = Planner {
        store,
        filter: paths,
        matched: vec![false; paths.len()],
        actions: Vec::new(),
        total_bytes: 0,
        root: *tree,
    };
    planner.walk(tree, None, 0)?;
    if let Some(i) = planner.matched.iter().position(|m| !m) {
        return Err(CheckoutError::PathNotInTree {
            path: paths[i].clone(),
            tree: *tree,
        });
    }
    progress.set_total(planner.total_bytes);
    // Check every folder on the way before writing anything, so a symlink planted in `dest`
    // stops the checkout up front.
    for action in &planner.actions {
        let path = match action {
            Action::Folder(p) => p,
            Action::File { path, .. } | Action::Symlink { path, .. } => path,
        };
        check_existing_parents(dest, path)?;
    }

    // Folders this checkout created, parents before children. On failure the empty ones are
    // removed again, so a failed checkout leaves no empty folders behind. Files already written
    // stay, and so do the folders holding them.
    let mut created = Vec::new();
    let result = write_actions(
        store,
        planner.actions,
        dest,
        options,
        progress,
        interrupt,
        &mut created,
    );
    if result.is_err() {
        remove_empty_folders(&created);
    }
    result
}

/// Carries out a validated plan, recording in `created` every folder it creates.
fn write_actions(
    store: &Store,
    actions: Vec<Action>,
    dest: &Path,
    options: &CheckoutOptions,
    progress: &dyn Progress,
    interrupt: &AtomicBool,
    created: &mut Vec<PathBuf>,
) -> Result<Outcome, CheckoutError> {
    create_missing_folders(dest, created)?;
    let mut outcome = Outcome::default();
    for action in actions {
        if interrupt.load(Ordering::Relaxed) {
            return Err(CheckoutError::Interrupted);
        }
        match action {
            Action::Folder(path) => ensure_folder(dest, &path, options, created)?,
            Action::File { path, id, exec } => {
                ensure_parent(dest, &path, options, created)?;
                checkout_file(
                    store,
                    &path,
                    &id,
                    exec,
                    dest,
                    options,
                    progress,
                    &mut outcome,
                )?;
            }
            Action::Symlink { path, target } => {
                ensure_parent(dest, &path, options, created)?;
                checkout_symlink(&path, &target, dest, options, &mut outcome)?;
            }
        }
    }
    Ok(outcome)
}

/// Creates `dest` and its missing ancestors, like `fs::create_dir_all`, and appends each folder
/// it creates to `created`, outermost first. A folder that another process creates meanwhile is
/// not recorded, because it is not this checkout's to remove.
fn create_missing_folders(dest: &Path, created: &mut Vec<PathBuf>) -> Result<(), CheckoutError> {
    let mut missing = Vec::new();
    for folder in dest.ancestors() {
        if folder.as_os_str().is_empty() {
            break;
        }
        match fs::symlink_metadata(folder) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(folder),
            Err(source) => {
                return Err(CheckoutError::Io {
                    path: folder.to_owned(),
                    source,
                });
            }
        }
    }
    for folder in missing.into_iter().rev() {
        match fs::create_dir(folder) {
            Ok(()) => created.push(folder.to_owned()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && folder.is_dir() => {}
            Err(source) => {
                return Err(CheckoutError::Io {
                    path: folder.to_owned(),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// Removes the folders in `created` that are empty, deepest first. `fs::remove_dir` fails on a
/// folder that is not empty, which leaves it and its ancestors in place.
fn remove_empty_folders(created: &[PathBuf]) {
    // Every folder was recorded after its parent, so reverse order visits children first.
    for folder in created.iter().rev() {
        let _ = fs::remove_dir(folder);
    }
}

struct Planner<'a> {
    store: &'a Store,
    filter: &'a [RepoPath],
    matched: Vec<bool>,
    actions: Vec<Action>,
    total_bytes: u64,
    root: ObjectId,
}

impl Planner<'_> {
    /// Returns whether `path` is selected: there is no filter, or it lies inside a filter path.
    fn selected(&mut self, path: &RepoPath) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let mut any = false;
        for (i, f) in self.filter.iter().enumerate() {
            if path.starts_with(f) {
                self.matched[i] = true;
                any = true;
            }
        }
        any
    }

    /// Returns whether a folder at `path` contains some filter path.
    fn leads_to_selection(&self, path: &RepoPath) -> bool {
        self.filter.iter().any(|f| f.starts_with(path))
    }

    fn walk(
        &mut self,
        tree_id: &ObjectId,
        prefix: Option<&RepoPath>,
        depth: usize,
    ) -> Result<(), CheckoutError> {
        if depth > MAX_DEPTH {
            return Err(CheckoutError::TooDeep {
                tree: self.root,
                path: prefix.map(|p| p.to_string()).unwrap_or_default(),
            });
        }
        // read_tree validates every name, the order and uniqueness.
        let tree = self.store.read_tree(tree_id)?;
        for entry in tree.entries {
            let path = match prefix {
                Some(prefix) => prefix.join(&entry.name),
                None => RepoPath::new(&entry.name),
            }
            .map_err(|e| StoreError::BadTree {
                id: *tree_id,
                message: e.to_string(),
            })?;
            let selected = self.selected(&path);
            match entry.entry_type {
                EntryType::Tree if selected || self.leads_to_selection(&path) => {
                    self.actions.push(Action::Folder(path.clone()));
                    self.walk(&entry.id, Some(&path), depth + 1)?;
                }
                EntryType::File | EntryType::Exec if selected => {
                    self.total_bytes = self.total_bytes.saturating_add(entry.size);
                    self.actions.push(Action::File {
                        path,
                        id: entry.id,
                        exec: entry.entry_type == EntryType::Exec,
                    });
                }
                EntryType::Symlink if selected => {
                    let target = self.symlink_target(&path, &entry.id)?;
                    self.actions.push(Action::Symlink { path, target });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads a symlink blob and checks that its target is safe to create.
    fn symlink_target(&self, path: &RepoPath, id: &ObjectId) -> Result<String, CheckoutError> {
        let (kind, payload) = self.store.read(id)?;
        let unsafe_link = |target: String, reason: &str| CheckoutError::UnsafeSymlink {
            path: path.clone(),
            target,
            reason: reason.to_owned(),
        };
        if kind != ObjectKind::Blob {
            return Err(StoreError::WrongKind {
                id: *id,
                path: self.store.object_path(id),
                expected: ObjectKind::Blob,
                found: kind,
            }
            .into());
        }
        if payload.len() > MAX_SYMLINK_TARGET {
            return Err(unsafe_link(
                format!("<{} bytes>", payload.len()),
                "is longer than 4096 bytes",
            ));
        }
        let target = String::from_utf8(payload).map_err(|e| {
            unsafe_link(
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
                "is not UTF-8",
            )
        })?;
        check_symlink_target(path, &target)
            .map_err(|reason| unsafe_link(target.clone(), reason))?;
        Ok(target)
    }
}

/// Checks that `target`, read relative to the folder of the link at `link`, stays inside the
/// checkout root lexically. Returns the reason when it does not.
pub fn check_symlink_target(link: &RepoPath, target: &str) -> Result<(), &'static str> {
    if target.is_empty() {
        return Err("is empty");
    }
    if target.contains('\0') || target.contains('\\') {
        return Err("contains a NUL byte or a backslash");
    }
    if target.starts_with('/') {
        return Err("is an absolute path");
    }
    // Depth of the link's folder below the root; each `..` climbs one level.
    let mut depth = link.components().count() as i64 - 1;
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return Err("leaves the checkout folder");
                }
            }
            _ => depth += 1,
        }
    }
    Ok(())
}

/// Fails if an existing ancestor of `path` inside `dest` is a symlink or not a folder. Missing
/// ancestors are fine: they will be created.
fn check_existing_parents(dest: &Path, path: &RepoPath) -> Result<(), CheckoutError> {
    let mut current = dest.to_path_buf();
    let components: Vec<&str> = path.components().collect();
    for component in &components[..components.len() - 1] {
        current.push(component);
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(CheckoutError::SymlinkInDest { path: current });
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(CheckoutError::Io {
                    path: current,
                    source,
                });
            }
        }
    }
    Ok(())
}

fn ensure_parent(
    dest: &Path,
    path: &RepoPath,
    options: &CheckoutOptions,
    created: &mut Vec<PathBuf>,
) -> Result<(), CheckoutError> {
    match path.parent() {
        Some(parent) => ensure_folder(dest, &parent, options, created),
        None => Ok(()),
    }
}

/// Creates each folder of `path` below `dest`, never following a symlink, and appends the
/// folders it creates where nothing existed to `created`. With `force`, a file in the way is
/// replaced by a folder.
fn ensure_folder(
    dest: &Path,
    path: &RepoPath,
    options: &CheckoutOptions,
    created: &mut Vec<PathBuf>,
) -> Result<(), CheckoutError> {
    let mut current = dest.to_path_buf();
    for component in path.components() {
        current.push(component);
        let io_err = |source| CheckoutError::Io {
            path: current.clone(),
            source,
        };
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(CheckoutError::SymlinkInDest { path: current });
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) if options.force => {
                fs::remove_file(&current).map_err(io_err)?;
                fs::create_dir(&current).map_err(io_err)?;
            }
            Ok(_) => return Err(CheckoutError::NotAFolder { path: current }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&current).map_err(io_err)?;
                created.push(current.clone());
            }
            Err(source) => {
                return Err(CheckoutError::Io {
                    path: current,
                    source,
                });
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn checkout_file(
    store: &Store,
    path: &RepoPath,
    id: &ObjectId,
    exec: bool,
    dest: &Path,
    options: &CheckoutOptions,
    progress: &dyn Progress,
    outcome: &mut Outcome,
) -> Result<(), CheckoutError> {
    let target = path.to_fs_path(dest);
    let io_err = |source| CheckoutError::Io {
        path: target.clone(),
        source,
    };
    match fs::symlink_metadata(&target) {
        Ok(meta) if meta.is_dir() => {
            outcome.skipped.push(Skipped {
                path: path.clone(),
                reason: "a folder exists at this path".to_owned(),
            });
            return Ok(());
        }
        Ok(meta) if meta.file_type().is_symlink() => {
            if !options.force {
                outcome.skipped.push(Skipped {
                    path: path.clone(),
                    reason: "a symlink exists at this path (use --force to replace it)".to_owned(),
                });
                return Ok(());
            }
        }
        Ok(meta) => {
            if same_content(store, id, &target, meta.len())? {
                let mode_ok = has_exec_bit(&meta) == exec;
                if !mode_ok {
                    set_mode(&target, exec).map_err(io_err)?;
                    outcome.written.push(path.clone());
                } else {
                    outcome.unchanged.push(path.clone());
                }
                progress.add(meta.len());
                return Ok(());
            }
            if !options.force {
                outcome.skipped.push(Skipped {
                    path: path.clone(),
                    reason: "an existing file with different content is in the way (use --force to overwrite it)"
                        .to_owned(),
                });
                return Ok(());
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => return Err(io_err(source)),
    }

    let folder = target.parent().expect("a checkout target lies inside dest");
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-ev-")
        .tempfile_in(folder)
        .map_err(io_err)?;
    let mut reader = store.open_file_reader(id)?;
    let written =
        io::copy(&mut reader, temp.as_file_mut()).map_err(|e| match StoreError::from_io(e) {
            Ok(store_err) => CheckoutError::Store(store_err),
            Err(e) => io_err(e),
        })?;
    progress.add(written);
    set_mode(temp.path(), exec).map_err(io_err)?;
    // Workspace files are not fsynced, as with git: they can be checked out again from the store.
    temp.persist(&target).map_err(|e| io_err(e.error))?;
    outcome.written.push(path.clone());
    Ok(())
}

/// Compares an existing file with the stored content byte by byte, streaming both. This gives
/// the same result as hashing the file into an id, without depending on the chunking parameters
/// the content was stored with.
fn same_content(
    store: &Store,
    id: &ObjectId,
    path: &Path,
    len: u64,
) -> Result<bool, CheckoutError> {
    if store.file_size(id)? != len {
        return Ok(false);
    }
    let io_err = |source| CheckoutError::Io {
        path: path.to_owned(),
        source,
    };
    let mut stored = store.open_file_reader(id)?;
    let mut local = File::open(path).map_err(io_err)?;
    let mut a = vec![0u8; 64 * 1024];
    let mut b = vec![0u8; 64 * 1024];
    loop {
        let n = read_up_to(&mut stored, &mut a).map_err(|e| match StoreError::from_io(e) {
            Ok(store_err) => CheckoutError::Store(store_err),
            Err(e) => io_err(e),
        })?;
        let m = read_up_to(&mut local, &mut b[..n.max(1)]).map_err(io_err)?;
        if n != m || a[..n] != b[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Reads until `buf` is full or the reader ends.
fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(unix)]
fn has_exec_bit(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn has_exec_bit(_meta: &fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
fn set_mode(path: &Path, exec: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if exec { 0o755 } else { 0o644 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _exec: bool) -> io::Result<()> {
    Ok(())
}

fn checkout_symlink(
    path: &RepoPath,
    target: &str,
    dest: &Path,
    options: &CheckoutOptions,
    outcome: &mut Outcome,
) -> Result<(), CheckoutError> {
    let link = path.to_fs_path(dest);
    let io_err = |source| CheckoutError::Io {
        path: link.clone(),
        source,
    };
    match fs::symlink_metadata(&link) {
        Ok(meta) if meta.file_type().is_symlink() => {
            let existing = fs::read_link(&link).map_err(io_err)?;
            if existing == Path::new(target) {
                outcome.unchanged.push(path.clone());
                return Ok(());
            }
            if !options.force {
                outcome.skipped.push(Skipped {
                    path: path.clone(),
                    reason: "a symlink with another target exists at this path (use --force to replace it)".to_owned(),
                });
                return Ok(());
            }
        }
        Ok(meta) if meta.is_dir() => {
            outcome.skipped.push(Skipped {
                path: path.clone(),
                reason: "a folder exists at this path".to_owned(),
            });
            return Ok(());
        }
        Ok(_) if !options.force => {
            outcome.skipped.push(Skipped {
                path: path.clone(),
                reason: "a file exists at this path (use --force to replace it)".to_owned(),
            });
            return Ok(());
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => return Err(io_err(source)),
    }
    let folder = link.parent().expect("a checkout target lies inside dest");
    let temp = make_symlink_in(folder, target).map_err(io_err)?;
    temp.persist(&link).map_err(|e| io_err(e.error))?;
    outcome.written.push(path.clone());
    Ok(())
}

#[cfg(unix)]
fn make_symlink_in(folder: &Path, target: &str) -> io::Result<tempfile::NamedTempFile<()>> {
    tempfile::Builder::new()
        .prefix(".tmp-ev-link-")
        .make_in(folder, |temp_path| {
            std::os::unix::fs::symlink(target, temp_path)
        })
}

#[cfg(not(unix))]
fn make_symlink_in(_folder: &Path, _target: &str) -> io::Result<tempfile::NamedTempFile<()>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symlinks are only checked out on Unix",
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::object::{Tree, TreeEntry};
    use crate::progress::NoProgress;
    use std::os::unix::fs::PermissionsExt;

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Store,
        dest: PathBuf,
        outside: PathBuf,
    }

    /// A store, a checkout folder and a sibling folder that must never be touched.
    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(&dir.path().join("objects")).unwrap();
        let dest = dir.path().join("work").join("dest");
        let outside = dir.path().join("work").join("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("target"), b"precious").unwrap();
        Fixture {
            _dir: dir,
            store,
            dest,
            outside,
        }
    }

    fn blob(store: &Store, data: &[u8]) -> ObjectId {
        store.write_bytes(ObjectKind::Blob, data).unwrap()
    }

    fn entry(name: &str, entry_type: EntryType, id: ObjectId, size: u64) -> TreeEntry {
        TreeEntry {
            name: name.to_owned(),
            entry_type,
            id,
            size,
        }
    }

    fn tree(store: &Store, entries: Vec<TreeEntry>) -> ObjectId {
        store
            .write_json(ObjectKind::Tree, &Tree { entries })
            .unwrap()
    }

    fn run(
        f: &Fixture,
        root: &ObjectId,
        paths: &[RepoPath],
        force: bool,
    ) -> Result<Outcome, CheckoutError> {
        checkout(
            &f.store,
            root,
            paths,
            &f.dest,
            &CheckoutOptions { force },
            &NoProgress,
            &AtomicBool::new(false),
        )
    }

    fn assert_outside_untouched(f: &Fixture) {
        let names: Vec<_> = fs::read_dir(&f.outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["target"], "files appeared outside dest");
        assert_eq!(fs::read(f.outside.join("target")).unwrap(), b"precious");
    }

    fn assert_dest_empty(f: &Fixture) {
        if f.dest.exists() {
            assert_eq!(
                fs::read_dir(&f.dest).unwrap().count(),
                0,
                "dest was written"
            );
        }
    }

    /// Tree: a.txt, run.sh (exec), sub/b.txt, sub/link -> ../a.txt
    fn sample_tree(store: &Store) -> ObjectId {
        let a = blob(store, b"alpha\n");
        let b = blob(store, b"beta\n");
        let run = blob(store, b"#!/bin/sh\n");
        let link = blob(store, b"../a.txt");
        let sub = tree(
            store,
            vec![
                entry("b.txt", EntryType::File, b, 5),
                entry("link", EntryType::Symlink, link, 8),
            ],
        );
        tree(
            store,
            vec![
                entry("a.txt", EntryType::File, a, 6),
                entry("run.sh", EntryType::Exec, run, 10),
                entry("sub", EntryType::Tree, sub, 13),
            ],
        )
    }

    #[test]
    fn checkout_writes_everything() {
        let f = fixture();
        let root = sample_tree(&f.store);
        let out = run(&f, &root, &[], false).unwrap();
        assert_eq!(out.written.len(), 4);
        assert_eq!(fs::read(f.dest.join("a.txt")).unwrap(), b"alpha\n");
        assert_eq!(fs::read(f.dest.join("sub/b.txt")).unwrap(), b"beta\n");
        let mode = fs::metadata(f.dest.join("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        let mode = fs::metadata(f.dest.join("a.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0);
        assert_eq!(
            fs::read_link(f.dest.join("sub/link")).unwrap(),
            Path::new("../a.txt")
        );
        assert_eq!(fs::read(f.dest.join("sub/link")).unwrap(), b"alpha\n");

        let again = run(&f, &root, &[], false).unwrap();
        assert!(again.written.is_empty(), "{:?}", again.written);
        assert_eq!(again.unchanged.len(), 4);
        assert_outside_untouched(&f);
    }

    #[test]
    fn differing_file_needs_force() {
        let f = fixture();
        let root = sample_tree(&f.store);
        run(&f, &root, &[], false).unwrap();
        fs::write(f.dest.join("a.txt"), b"local edit\n").unwrap();
        let out = run(&f, &root, &[], false).unwrap();
        assert_eq!(out.skipped.len(), 1);
        assert_eq!(out.skipped[0].path.as_str(), "a.txt");
        assert_eq!(fs::read(f.dest.join("a.txt")).unwrap(), b"local edit\n");
        let out = run(&f, &root, &[], true).unwrap();
        assert_eq!(out.written, vec![RepoPath::new("a.txt").unwrap()]);
        assert_eq!(fs::read(f.dest.join("a.txt")).unwrap(), b"alpha\n");
    }

    #[test]
    fn path_filter_selects_subtree() {
        let f = fixture();
        let root = sample_tree(&f.store);
        let out = run(&f, &root, &[RepoPath::new("sub/b.txt").unwrap()], false).unwrap();
        assert_eq!(out.written, vec![RepoPath::new("sub/b.txt").unwrap()]);
        assert!(!f.dest.join("a.txt").exists());
        let err = run(&f, &root, &[RepoPath::new("nope").unwrap()], false).unwrap_err();
        assert!(matches!(err, CheckoutError::PathNotInTree { .. }), "{err}");
    }

    #[test]
    fn hostile_names_are_rejected() {
        let f = fixture();
        let data = blob(&f.store, b"pwned");
        let good = entry("a", EntryType::File, data, 5);
        let cases: Vec<Vec<TreeEntry>> = vec![
            vec![entry("..", EntryType::File, data, 5)],
            vec![entry(".", EntryType::File, data, 5)],
            vec![entry("../outside/x", EntryType::File, data, 5)],
            vec![entry("a/b", EntryType::File, data, 5)],
            vec![entry("/etc", EntryType::File, data, 5)],
            vec![entry("", EntryType::File, data, 5)],
            vec![entry("a\0b", EntryType::File, data, 5)],
            vec![entry("a\\..\\b", EntryType::File, data, 5)],
            vec![good.clone(), good.clone()],
            vec![entry("b", EntryType::File, data, 5), good.clone()],
        ];
        for entries in cases {
            let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
            let root = tree(&f.store, entries);
            // Nested one level too, so validation also applies below the root.
            let sub = tree(&f.store, vec![entry("d", EntryType::Tree, root, 5)]);
            for id in [root, sub] {
                let err = run(&f, &id, &[], true).unwrap_err();
                assert!(
                    matches!(err, CheckoutError::Store(StoreError::BadTree { .. })),
                    "{names:?}: {err}"
                );
                assert_dest_empty(&f);
                assert_outside_untouched(&f);
            }
        }
    }

    #[test]
    fn escaping_symlinks_are_rejected() {
        let f = fixture();
        let first = blob(&f.store, b"written first?");
        for target in [
            "../../outside/target",
            "/etc/passwd",
            "a/../../x",
            "..",
            "",
            "sub/\\x",
        ] {
            let link = blob(&f.store, target.as_bytes());
            let root = tree(
                &f.store,
                vec![
                    entry("0-first", EntryType::File, first, 14),
                    entry("link", EntryType::Symlink, link, target.len() as u64),
                ],
            );
            let err = run(&f, &root, &[], true).unwrap_err();
            assert!(
                matches!(err, CheckoutError::UnsafeSymlink { .. }),
                "{target}: {err}"
            );
            assert_dest_empty(&f);
            assert_outside_untouched(&f);
        }
        // Deeper links may climb as far as the root, not further.
        let ok = blob(&f.store, b"../../x");
        let inner = tree(&f.store, vec![entry("l", EntryType::Symlink, ok, 7)]);
        let mid = tree(&f.store, vec![entry("b", EntryType::Tree, inner, 7)]);
        let root = tree(&f.store, vec![entry("a", EntryType::Tree, mid, 7)]);
        run(&f, &root, &[], false).unwrap();
        assert_eq!(
            fs::read_link(f.dest.join("a/b/l")).unwrap(),
            Path::new("../../x")
        );
    }

    #[test]
    fn existing_symlink_in_dest_is_not_followed() {
        let f = fixture();
        fs::create_dir_all(&f.dest).unwrap();
        std::os::unix::fs::symlink(&f.outside, f.dest.join("sub")).unwrap();
        let root = sample_tree(&f.store);
        let err = run(&f, &root, &[], true).unwrap_err();
        assert!(matches!(err, CheckoutError::SymlinkInDest { .. }), "{err}");
        assert_outside_untouched(&f);
        assert!(!f.dest.join("a.txt").exists(), "wrote before validating");
    }

    #[test]
    fn symlink_at_file_path_is_replaced_not_followed() {
        let f = fixture();
        fs::create_dir_all(&f.dest).unwrap();
        std::os::unix::fs::symlink(f.outside.join("target"), f.dest.join("a.txt")).unwrap();
        let root = sample_tree(&f.store);
        let out = run(&f, &root, &[], false).unwrap();
        assert_eq!(out.skipped.len(), 1);
        assert_outside_untouched(&f);
        run(&f, &root, &[], true).unwrap();
        assert!(
            !fs::symlink_metadata(f.dest.join("a.txt"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(f.dest.join("a.txt")).unwrap(), b"alpha\n");
        assert_outside_untouched(&f);
    }

    #[test]
    fn corrupt_blob_leaves_no_partial_file() {
        let f = fixture();
        let id = blob(&f.store, b"some content");
        let root = tree(&f.store, vec![entry("x", EntryType::File, id, 12)]);
        fs::write(f.store.object_path(&id), b"garbage").unwrap();
        let err = run(&f, &root, &[], false).unwrap_err();
        assert!(matches!(err, CheckoutError::Store(_)), "{err}");
        assert!(!f.dest.exists(), "the empty checkout folder was left");
        assert!(f.outside.is_dir());
    }

    #[test]
    fn failure_removes_only_created_empty_folders() {
        let f = fixture();
        let good = blob(&f.store, b"good");
        let bad = blob(&f.store, b"bad content");
        let c = tree(&f.store, vec![entry("bad.txt", EntryType::File, bad, 11)]);
        let b = tree(&f.store, vec![entry("c", EntryType::Tree, c, 11)]);
        let a = tree(&f.store, vec![entry("ok.txt", EntryType::File, good, 4)]);
        let root = tree(
            &f.store,
            vec![
                entry("a", EntryType::Tree, a, 4),
                entry("b", EntryType::Tree, b, 11),
            ],
        );
        fs::write(f.store.object_path(&bad), b"garbage").unwrap();
        // `b` exists and is empty before the checkout, so it is not the checkout's to remove.
        fs::create_dir_all(f.dest.join("b")).unwrap();

        let err = run(&f, &root, &[], false).unwrap_err();
        assert!(matches!(err, CheckoutError::Store(_)), "{err}");
        assert_eq!(fs::read(f.dest.join("a/ok.txt")).unwrap(), b"good");
        assert!(
            f.dest.join("b").is_dir(),
            "an existing empty folder was removed"
        );
        assert!(
            !f.dest.join("b/c").exists(),
            "a created empty folder was left"
        );
        assert_outside_untouched(&f);
    }

    #[test]
    fn symlink_target_rules() {
        let link = RepoPath::new("a/b/link").unwrap();
        assert!(check_symlink_target(&link, "../../x").is_ok());
        assert!(check_symlink_target(&link, "./c/../d").is_ok());
        assert!(check_symlink_target(&link, "../../../x").is_err());
        assert!(check_symlink_target(&link, "/x").is_err());
        assert!(check_symlink_target(&link, "c/../../../../x").is_err());
        let top = RepoPath::new("link").unwrap();
        assert!(check_symlink_target(&top, "..").is_err());
        assert!(check_symlink_target(&top, "a/..").is_ok());
    }
}
