//! Reading snapshots by path: look up an entry, list a folder, and list the paths that changed
//! between two trees (used by `ev ls`, `ev cat` and `ev show`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::id::ObjectId;
use crate::object::{EntryType, TreeEntry};
use crate::repo_path::RepoPath;
use crate::store::{Store, StoreError};

/// Deepest folder nesting followed; deeper trees are reported as damaged instead of exhausting
/// the stack.
pub const MAX_DEPTH: usize = 256;

/// A reason a path cannot be read from a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum TreeWalkError {
    #[error("path {path} not found in commit {commit}", commit = .commit.short())]
    NotFound { path: RepoPath, commit: ObjectId },
    #[error("{path} is a folder, not a file")]
    IsFolder { path: RepoPath },
    #[error("{path} is a file, not a folder")]
    NotAFolder { path: RepoPath },
    #[error("tree {tree} nests folders deeper than {MAX_DEPTH} levels", tree = .tree.short())]
    TooDeep { tree: ObjectId },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Finds the entry at `path` below tree `root`; `commit` only names the snapshot in errors.
pub fn lookup(
    store: &Store,
    root: &ObjectId,
    path: &RepoPath,
    commit: &ObjectId,
) -> Result<TreeEntry, TreeWalkError> {
    let mut tree_id = *root;
    let components: Vec<&str> = path.components().collect();
    for (i, component) in components.iter().enumerate() {
        let tree = store.read_tree(&tree_id)?;
        let entry = tree
            .entries
            .into_iter()
            .find(|e| e.name == *component)
            .ok_or_else(|| TreeWalkError::NotFound {
                path: path.clone(),
                commit: *commit,
            })?;
        if i + 1 == components.len() {
            return Ok(entry);
        }
        if entry.entry_type != EntryType::Tree {
            return Err(TreeWalkError::NotFound {
                path: path.clone(),
                commit: *commit,
            });
        }
        tree_id = entry.id;
    }
    unreachable!("a repository path has at least one component")
}

/// One listed entry with its full path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub path: RepoPath,
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    pub id: ObjectId,
    pub size: u64,
}

/// Lists tree `tree` whose path is `prefix` (`None` for the root); with `recursive`, every file
/// and symlink below it instead of the direct entries.
pub fn list(
    store: &Store,
    tree: &ObjectId,
    prefix: Option<&RepoPath>,
    recursive: bool,
) -> Result<Vec<Listed>, TreeWalkError> {
    let mut out = Vec::new();
    list_into(store, tree, prefix, recursive, 0, &mut out)?;
    Ok(out)
}

fn list_into(
    store: &Store,
    tree_id: &ObjectId,
    prefix: Option<&RepoPath>,
    recursive: bool,
    depth: usize,
    out: &mut Vec<Listed>,
) -> Result<(), TreeWalkError> {
    if depth > MAX_DEPTH {
        return Err(TreeWalkError::TooDeep { tree: *tree_id });
    }
    let tree = store.read_tree(tree_id)?;
    for entry in tree.entries {
        let path = join(prefix, &entry.name)?;
        if recursive && entry.entry_type == EntryType::Tree {
            list_into(store, &entry.id, Some(&path), true, depth + 1, out)?;
        } else {
            out.push(Listed {
                path,
                entry_type: entry.entry_type,
                id: entry.id,
                size: entry.size,
            });
        }
    }
    Ok(())
}

fn join(prefix: Option<&RepoPath>, name: &str) -> Result<RepoPath, TreeWalkError> {
    // read_tree already validated the name, so neither call can fail on stored data.
    let joined = match prefix {
        Some(p) => p.join(name),
        None => RepoPath::new(name),
    };
    Ok(joined.expect("tree entry names are validated when the tree is read"))
}

/// How a path differs between two snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeStatus {
    Added,
    Deleted,
    Modified,
    /// Same content, other type (file ↔ executable ↔ symlink).
    TypeChanged,
}

impl ChangeStatus {
    /// One-letter code as in `git diff --name-status`.
    pub fn letter(self) -> char {
        match self {
            ChangeStatus::Added => 'A',
            ChangeStatus::Deleted => 'D',
            ChangeStatus::Modified => 'M',
            ChangeStatus::TypeChanged => 'T',
        }
    }
}

/// One changed file or symlink.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub status: ChangeStatus,
    pub path: RepoPath,
}

/// Files and symlinks that differ between trees `old` (`None`: an empty snapshot) and `new`,
/// sorted by path. Subtrees with equal ids are skipped without reading them.
pub fn changes(
    store: &Store,
    old: Option<&ObjectId>,
    new: &ObjectId,
) -> Result<Vec<Change>, TreeWalkError> {
    let mut out = Vec::new();
    diff_trees(store, old, Some(new), None, 0, &mut out)?;
    out.sort_by(|x, y| x.path.cmp(&y.path));
    Ok(out)
}

fn diff_trees(
    store: &Store,
    old: Option<&ObjectId>,
    new: Option<&ObjectId>,
    prefix: Option<&RepoPath>,
    depth: usize,
    out: &mut Vec<Change>,
) -> Result<(), TreeWalkError> {
    if old == new {
        return Ok(());
    }
    if depth > MAX_DEPTH {
        let tree = new.or(old).copied().expect("one side is present");
        return Err(TreeWalkError::TooDeep { tree });
    }
    let read = |id: Option<&ObjectId>| -> Result<BTreeMap<String, TreeEntry>, TreeWalkError> {
        Ok(match id {
            Some(id) => store
                .read_tree(id)?
                .entries
                .into_iter()
                .map(|e| (e.name.clone(), e))
                .collect(),
            None => BTreeMap::new(),
        })
    };
    let old_entries = read(old)?;
    let new_entries = read(new)?;
    let mut names: Vec<&String> = old_entries.keys().chain(new_entries.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let path = join(prefix, name)?;
        let a = old_entries.get(name);
        let b = new_entries.get(name);
        let is_tree = |e: Option<&TreeEntry>| e.is_some_and(|e| e.entry_type == EntryType::Tree);
        let a_tree = is_tree(a).then(|| a.map(|e| &e.id)).flatten();
        let b_tree = is_tree(b).then(|| b.map(|e| &e.id)).flatten();
        if a_tree.is_some() || b_tree.is_some() {
            diff_trees(store, a_tree, b_tree, Some(&path), depth + 1, out)?;
        }
        let a_leaf = a.filter(|e| e.entry_type != EntryType::Tree);
        let b_leaf = b.filter(|e| e.entry_type != EntryType::Tree);
        let status = match (a_leaf, b_leaf) {
            (None, None) => continue,
            (None, Some(_)) => ChangeStatus::Added,
            (Some(_), None) => ChangeStatus::Deleted,
            (Some(x), Some(y)) if x.id != y.id => ChangeStatus::Modified,
            (Some(x), Some(y)) if x.entry_type != y.entry_type => ChangeStatus::TypeChanged,
            _ => continue,
        };
        out.push(Change { status, path });
    }
    Ok(())
}
