//! Looking up one path in a commit's tree without checking anything out.

use crate::id::ObjectId;
use crate::object::EntryType;
use crate::repo_path::RepoPath;
use crate::store::{Store, StoreError};

/// Finds the entry at `path` below tree `root`: its type and object id, or `None` when absent.
pub fn lookup_path(
    store: &Store,
    root: &ObjectId,
    path: &RepoPath,
) -> Result<Option<(EntryType, ObjectId)>, StoreError> {
    let mut tree_id = *root;
    let components: Vec<&str> = path.components().collect();
    for (index, name) in components.iter().enumerate() {
        let tree = store.read_tree(&tree_id)?;
        let Some(entry) = tree.entries.iter().find(|e| e.name == *name) else {
            return Ok(None);
        };
        if index + 1 == components.len() {
            return Ok(Some((entry.entry_type, entry.id)));
        }
        if entry.entry_type != EntryType::Tree {
            return Ok(None);
        }
        tree_id = entry.id;
    }
    Ok(Some((EntryType::Tree, tree_id)))
}
