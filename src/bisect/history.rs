//! Loading the commit graph and first-parent paths from the object store.

use std::collections::{HashMap, HashSet};

use crate::id::ObjectId;
use crate::object::Commit;
use crate::store::{Store, StoreError};

use super::state::Dag;

/// A reason the history cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("failed to read commit {id}")]
    Read {
        id: ObjectId,
        #[source]
        source: Box<StoreError>,
    },
    #[error("{good} is not on the first-parent chain of {bad}")]
    NotOnFirstParentChain { good: ObjectId, bad: ObjectId },
    #[error(
        "good commit {good} is newer than bad commit {bad}, which is a first-parent ancestor of it"
    )]
    GoodAfterBad { good: ObjectId, bad: ObjectId },
}

/// Reads commits once and keeps them, so the graph walk and later summaries share reads.
#[derive(Debug)]
pub struct CommitCache<'a> {
    store: &'a Store,
    commits: HashMap<ObjectId, Commit>,
    /// Parents known without reading the commit, e.g. from a saved graph.
    known_parents: HashMap<ObjectId, Vec<ObjectId>>,
}

impl<'a> CommitCache<'a> {
    /// Creates an empty cache over `store`.
    pub fn new(store: &'a Store) -> Self {
        CommitCache {
            store,
            commits: HashMap::new(),
            known_parents: HashMap::new(),
        }
    }

    /// Adds parent lists known from an earlier walk. Commits are content-addressed, so a saved
    /// parent list can never go stale.
    pub fn add_known_parents(&mut self, parents: HashMap<ObjectId, Vec<ObjectId>>) {
        self.known_parents.extend(parents);
    }

    /// Returns the commit `id`, read from the store on first use.
    pub fn get(&mut self, id: &ObjectId) -> Result<&Commit, HistoryError> {
        if !self.commits.contains_key(id) {
            let commit = self
                .store
                .read_commit(id)
                .map_err(|source| HistoryError::Read {
                    id: *id,
                    source: Box::new(source),
                })?;
            self.commits.insert(*id, commit);
        }
        Ok(self.commits.get(id).expect("inserted just above"))
    }

    /// Returns the first line of the commit's message, or an empty string when it cannot be read.
    pub fn summary(&mut self, id: &ObjectId) -> String {
        self.get(id)
            .map(|c| c.message.lines().next().unwrap_or("").to_owned())
            .unwrap_or_default()
    }

    /// Loads every commit reachable from `starts` into a graph.
    pub fn load_dag(&mut self, starts: &[ObjectId]) -> Result<Dag<ObjectId>, HistoryError> {
        let mut dag = Dag::new();
        let mut seen: HashSet<ObjectId> = HashSet::new();
        let mut stack: Vec<ObjectId> = starts.to_vec();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let parents = match self.known_parents.get(&id) {
                Some(parents) => parents.clone(),
                None => self.get(&id)?.parents.clone(),
            };
            stack.extend(parents.iter().filter(|p| !seen.contains(p)).copied());
            dag.insert(id, parents);
        }
        Ok(dag)
    }

    /// Collects the first-parent path from `good` to `bad`, oldest first, preceded by up to `before`
    /// first-parent ancestors of `good`. Returns the path and the position of `good` in it.
    pub fn first_parent_path(
        &mut self,
        good: &ObjectId,
        bad: &ObjectId,
        before: usize,
    ) -> Result<(Vec<ObjectId>, usize), HistoryError> {
        let mut path = Vec::new();
        let mut current = Some(*bad);
        let mut found = false;
        while let Some(id) = current {
            path.push(id);
            if id == *good {
                found = true;
                break;
            }
            current = self.get(&id)?.parents.first().copied();
        }
        if !found {
            // Swapped arguments are the likely mistake, and they deserve their own error.
            if self.on_first_parent_chain(bad, good)? {
                return Err(HistoryError::GoodAfterBad {
                    good: *good,
                    bad: *bad,
                });
            }
            return Err(HistoryError::NotOnFirstParentChain {
                good: *good,
                bad: *bad,
            });
        }
        let mut current = self.get(good)?.parents.first().copied();
        let mut reference = 0;
        while let (Some(id), true) = (current, reference < before) {
            path.push(id);
            reference += 1;
            current = self.get(&id)?.parents.first().copied();
        }
        path.reverse();
        Ok((path, reference))
    }

    /// Returns whether `ancestor` is `start` or one of its first-parent ancestors. When it is
    /// not, this reads every commit on the chain down to the root.
    pub fn on_first_parent_chain(
        &mut self,
        ancestor: &ObjectId,
        start: &ObjectId,
    ) -> Result<bool, HistoryError> {
        let mut current = Some(*start);
        while let Some(id) = current {
            if id == *ancestor {
                return Ok(true);
            }
            current = self.get(&id)?.parents.first().copied();
        }
        Ok(false)
    }
}

/// Renders a graph as text: one line per commit, its id then its parents, in hex.
pub fn render_graph(dag: &Dag<ObjectId>, ids: impl IntoIterator<Item = ObjectId>) -> String {
    let mut text = String::new();
    for id in ids {
        text.push_str(&id.to_hex());
        for parent in dag.parents(&id) {
            text.push(' ');
            text.push_str(&parent.to_hex());
        }
        text.push('\n');
    }
    text
}

/// Parses text written by [`render_graph`]; lines that do not parse are ignored, so a damaged
/// file only costs re-reading those commits.
pub fn parse_graph(text: &str) -> HashMap<ObjectId, Vec<ObjectId>> {
    let mut parents = HashMap::new();
    for line in text.lines() {
        let ids: Result<Vec<ObjectId>, _> = line.split(' ').map(str::parse::<ObjectId>).collect();
        if let Ok(ids) = ids {
            if let Some((id, rest)) = ids.split_first() {
                parents.insert(*id, rest.to_vec());
            }
        }
    }
    parents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_text_round_trip() {
        let ids: Vec<ObjectId> = (0..4u8).map(|i| ObjectId::hash(&[i])).collect();
        let mut dag = Dag::new();
        dag.insert(ids[0], vec![]);
        dag.insert(ids[1], vec![ids[0]]);
        dag.insert(ids[2], vec![ids[0]]);
        dag.insert(ids[3], vec![ids[1], ids[2]]);
        let text = render_graph(&dag, ids.clone());
        let parsed = parse_graph(&format!("{text}garbage line\n"));
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[&ids[3]], vec![ids[1], ids[2]]);
        assert!(parsed[&ids[0]].is_empty());
    }
}
