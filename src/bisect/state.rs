//! The bisect state machine: a commit graph, verdicts on commits, and the next step.
//!
//! The machine is pure: it never reads a store or runs a process. Callers load the commit graph
//! into a [`Dag`], record verdicts with [`Bisection::mark`] and ask [`Bisection::next`] for either
//! a commit to test or a result. Ids are generic so tests use small integers.
//!
//! Candidates are the commits reachable from the bad commit that are not reachable from any good
//! commit (both inclusive), as in git. The commit to test is the candidate whose set of candidate
//! ancestors is closest to half of all candidates, which is git's "best bisection" rule for DAGs.
//! So a persistent change is found in at most ⌈log2 n⌉ steps for n candidates, plus one step per
//! skipped commit. With `first_parent`, candidates are restricted to the first-parent chain of the
//! bad commit, so a merge is blamed as a whole instead of the walk entering the merged branch.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::{Debug, Display};
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// Bounds on a commit id usable by the state machine.
pub trait CommitId: Clone + Eq + Hash + Ord + Debug + Display {}
impl<T: Clone + Eq + Hash + Ord + Debug + Display> CommitId for T {}

/// Names a commit in an error message: its display form cut to 12 characters, as `ev log`
/// abbreviates commit ids.
fn commit_name<Id: CommitId>(commit: &Id) -> String {
    commit.to_string().chars().take(12).collect()
}

/// A commit graph: each known commit with its parents, first parent first.
///
/// A parent that is not itself inserted is treated as a root (a shallow boundary).
#[derive(Clone, Debug, Default)]
pub struct Dag<Id: CommitId> {
    parents: HashMap<Id, Vec<Id>>,
}

impl<Id: CommitId> Dag<Id> {
    /// Creates an empty graph.
    pub fn new() -> Self {
        Dag {
            parents: HashMap::new(),
        }
    }

    /// Adds a commit with its parents (first parent first), replacing an earlier entry.
    pub fn insert(&mut self, id: Id, parents: Vec<Id>) {
        self.parents.insert(id, parents);
    }

    /// Returns whether `id` was inserted or is a parent of an inserted commit.
    pub fn contains(&self, id: &Id) -> bool {
        self.parents.contains_key(id) || self.parents.values().any(|ps| ps.contains(id))
    }

    /// Iterates over the inserted commits, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = &Id> {
        self.parents.keys()
    }

    /// Number of inserted commits.
    pub fn len(&self) -> usize {
        self.parents.len()
    }

    /// Returns whether no commit was inserted.
    pub fn is_empty(&self) -> bool {
        self.parents.is_empty()
    }

    /// Parents of `id`, first parent first; empty for a root or an unknown commit.
    pub fn parents(&self, id: &Id) -> &[Id] {
        self.parents.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Collects every commit reachable from `starts` through parent links, `starts` included.
    pub fn ancestors<'a>(&self, starts: impl IntoIterator<Item = &'a Id>) -> HashSet<Id>
    where
        Id: 'a,
    {
        let mut seen: HashSet<Id> = HashSet::new();
        let mut stack: Vec<Id> = starts.into_iter().cloned().collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            for parent in self.parents(&id) {
                if !seen.contains(parent) {
                    stack.push(parent.clone());
                }
            }
        }
        seen
    }

    /// Returns whether `ancestor` is reachable from `descendant` (a commit is its own ancestor).
    pub fn is_ancestor(&self, ancestor: &Id, descendant: &Id) -> bool {
        self.ancestors([descendant]).contains(ancestor)
    }

    /// Computes the merge bases of `a` and `b`, sorted by id. These are the common ancestors
    /// that are not an ancestor of another common ancestor, as in git.
    pub fn merge_bases(&self, a: &Id, b: &Id) -> Vec<Id> {
        let from_a = self.ancestors([a]);
        let from_b = self.ancestors([b]);
        let common: HashSet<&Id> = from_a.intersection(&from_b).collect();
        // A common ancestor is not best exactly when one of its children is also common: any
        // path from a common descendant down to it passes through such a child.
        let mut has_common_child: HashSet<&Id> = HashSet::new();
        for id in &common {
            for parent in self.parents(id) {
                if common.contains(parent) {
                    has_common_child.insert(parent);
                }
            }
        }
        let mut bases: Vec<Id> = common
            .into_iter()
            .filter(|id| !has_common_child.contains(id))
            .cloned()
            .collect();
        bases.sort();
        bases
    }
}

/// A verdict on one commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The old state (term `good` by default): the change is not present.
    Good,
    /// The new state (term `bad` by default): the change is present.
    Bad,
    /// The commit cannot be tested; it stays a candidate but is never chosen again.
    Skip,
}

/// The words shown for the old and new states, as git's `--term-old`/`--term-new`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// Word for [`Verdict::Good`], `good` by default.
    pub old: String,
    /// Word for [`Verdict::Bad`], `bad` by default.
    pub new: String,
}

impl Default for Terms {
    fn default() -> Self {
        Terms {
            old: "good".into(),
            new: "bad".into(),
        }
    }
}

/// Subcommand names that cannot be terms because `ev bisect <term>` would be ambiguous.
const RESERVED_TERMS: [&str; 11] = [
    "help",
    "start",
    "skip",
    "next",
    "reset",
    "visualize",
    "view",
    "replay",
    "log",
    "run",
    "terms",
];

impl Terms {
    /// Builds terms, checking that they are distinct, usable as subcommands and not a swapped
    /// pair of the default words (git forbids `--term-old bad` for the same reason).
    pub fn new(old: &str, new: &str) -> Result<Self, StateError> {
        for (term, role) in [(old, "old"), (new, "new")] {
            let valid_chars = !term.is_empty()
                && term
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !term.starts_with('-');
            let reserved = RESERVED_TERMS.contains(&term)
                || (role == "old" && (term == "bad" || term == "new"))
                || (role == "new" && (term == "good" || term == "old"));
            if !valid_chars || reserved {
                return Err(StateError::InvalidTerm {
                    term: term.to_owned(),
                    role,
                });
            }
        }
        if old == new {
            return Err(StateError::SameTerms {
                term: old.to_owned(),
            });
        }
        Ok(Terms {
            old: old.to_owned(),
            new: new.to_owned(),
        })
    }

    /// Parses a term or the default synonym into a verdict (`skip` is always accepted).
    pub fn verdict(&self, word: &str) -> Option<Verdict> {
        if word == self.old {
            Some(Verdict::Good)
        } else if word == self.new {
            Some(Verdict::Bad)
        } else if word == "skip" {
            Some(Verdict::Skip)
        } else {
            None
        }
    }

    /// The word for a verdict.
    pub fn word(&self, verdict: Verdict) -> &str {
        match verdict {
            Verdict::Good => &self.old,
            Verdict::Bad => &self.new,
            Verdict::Skip => "skip",
        }
    }
}

/// The reason a commit is proposed for testing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestReason {
    /// It best halves the remaining candidates.
    Bisect,
    /// It is a merge base of the bad commit and a good commit that is not its ancestor; its
    /// verdict decides whether the good commit's side can be excluded (git does the same).
    MergeBase,
}

/// The next step of a bisection: a commit to test, or the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<Id> {
    /// No commit has been marked bad yet.
    NeedBad,
    /// No commit has been marked good yet.
    NeedGood,
    /// Test this commit and mark it.
    Test {
        commit: Id,
        reason: TestReason,
        /// Candidates left, the bad commit and skipped ones included.
        candidates: usize,
        /// Estimated remaining steps after this one, ⌈log2⌉ of the larger half.
        steps_after: u32,
    },
    /// The first bad commit: every other candidate was tested.
    Found { first_bad: Id },
    /// Only skipped commits are left: `first_bad` is the earliest commit known bad, and any of
    /// `may_also_be` (skipped ancestors of it) could be the first bad one instead.
    FoundWithSkips { first_bad: Id, may_also_be: Vec<Id> },
}

/// A reason the marks are inconsistent or refer to unknown commits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("commit {commit} is not in the history being bisected")]
    UnknownCommit { commit: String },
    #[error(
        "the bad commit {bad} is an ancestor of the good commit {good} (good is newer than bad)"
    )]
    BadIsAncestorOfGood { bad: String, good: String },
    #[error(
        "the merge base {merge_base} is bad: the change happened between {merge_base} and the good commit {good}, not on the bad side"
    )]
    MergeBaseIsBad { merge_base: String, good: String },
    #[error("invalid {role} term {term:?}: use letters, digits, '-' or '_', not a subcommand name")]
    InvalidTerm { term: String, role: &'static str },
    #[error("the old and new terms are both {term:?}")]
    SameTerms { term: String },
}

/// A bisection in progress: the graph, the verdicts in the order given, and the mode.
#[derive(Clone, Debug)]
pub struct Bisection<Id: CommitId> {
    dag: Dag<Id>,
    marks: Vec<(Verdict, Id)>,
    first_parent: bool,
}

impl<Id: CommitId> Bisection<Id> {
    /// Starts a bisection over `dag`; `first_parent` restricts candidates to the first-parent
    /// chain of the bad commit.
    pub fn new(dag: Dag<Id>, first_parent: bool) -> Self {
        Bisection {
            dag,
            marks: Vec::new(),
            first_parent,
        }
    }

    /// The commit graph.
    pub fn dag(&self) -> &Dag<Id> {
        &self.dag
    }

    /// Whether candidates follow first parents only.
    pub fn first_parent(&self) -> bool {
        self.first_parent
    }

    /// Records a verdict. A later verdict on the same commit replaces an earlier one; a new bad
    /// verdict replaces the bad commit, as git moves `refs/bisect/bad`.
    pub fn mark(&mut self, verdict: Verdict, commit: Id) -> Result<(), StateError> {
        if !self.dag.contains(&commit) {
            return Err(StateError::UnknownCommit {
                commit: commit_name(&commit),
            });
        }
        self.marks.push((verdict, commit));
        Ok(())
    }

    /// Every verdict in the order given.
    pub fn marks(&self) -> &[(Verdict, Id)] {
        &self.marks
    }

    /// The latest verdict for each commit.
    fn latest(&self) -> HashMap<&Id, Verdict> {
        let mut latest = HashMap::new();
        for (verdict, id) in &self.marks {
            latest.insert(id, *verdict);
        }
        latest
    }

    /// The current bad commit: the latest commit marked bad whose latest verdict is still bad.
    pub fn bad(&self) -> Option<&Id> {
        let latest = self.latest();
        self.marks
            .iter()
            .rev()
            .find(|(v, id)| *v == Verdict::Bad && latest.get(id) == Some(&Verdict::Bad))
            .map(|(_, id)| id)
    }

    /// Commits whose latest verdict is good, in first-marked order.
    pub fn goods(&self) -> Vec<&Id> {
        self.with_latest(Verdict::Good)
    }

    /// Commits whose latest verdict is skip.
    pub fn skipped(&self) -> BTreeSet<&Id> {
        self.with_latest(Verdict::Skip).into_iter().collect()
    }

    fn with_latest(&self, wanted: Verdict) -> Vec<&Id> {
        let latest = self.latest();
        let mut seen = HashSet::new();
        self.marks
            .iter()
            .filter(|(_, id)| latest.get(id) == Some(&wanted) && seen.insert(id))
            .map(|(_, id)| id)
            .collect()
    }

    /// The next step: a commit to test or the result.
    pub fn next(&self) -> Result<Step<Id>, StateError> {
        let Some(bad) = self.bad().cloned() else {
            return Ok(Step::NeedBad);
        };
        let goods: Vec<Id> = self.goods().into_iter().cloned().collect();
        if goods.is_empty() {
            return Ok(Step::NeedGood);
        }
        if let Some(step) = self.check_goods(&bad, &goods)? {
            return Ok(step);
        }

        let candidates = self.candidates_in_order(&bad, &goods);
        let skipped = self.skipped();
        let weights = self.weights(&candidates);
        let total = candidates.len();
        let best = candidates
            .iter()
            .zip(&weights)
            .filter(|(id, _)| **id != bad && !skipped.contains(id))
            .map(|(id, &w)| (id, w, w.min(total - w)))
            // Ties go to the newest candidate, which keeps the choice deterministic.
            .max_by_key(|&(_, _, score)| score);
        match best {
            Some((commit, weight, _)) => {
                let larger = weight.max(total - weight);
                Ok(Step::Test {
                    commit: commit.clone(),
                    reason: TestReason::Bisect,
                    candidates: total,
                    steps_after: ceil_log2(larger),
                })
            }
            None => {
                let may_also_be: Vec<Id> = candidates
                    .iter()
                    .filter(|id| **id != bad && skipped.contains(id))
                    .cloned()
                    .collect();
                if may_also_be.is_empty() {
                    Ok(Step::Found { first_bad: bad })
                } else {
                    Ok(Step::FoundWithSkips {
                        first_bad: bad,
                        may_also_be,
                    })
                }
            }
        }
    }

    /// Candidates left, oldest first (parents before children). Empty when `next` would fail or
    /// has no bad or good commit yet.
    pub fn candidates(&self) -> Vec<Id> {
        let Some(bad) = self.bad().cloned() else {
            return Vec::new();
        };
        let goods: Vec<Id> = self.goods().into_iter().cloned().collect();
        if goods.is_empty() || self.check_goods(&bad, &goods).is_err() {
            return Vec::new();
        }
        self.candidates_in_order(&bad, &goods)
    }

    /// Checks each good commit against the bad one: a good descendant of bad is an error, and a
    /// good commit off the bad commit's ancestry needs its merge bases tested first.
    fn check_goods(&self, bad: &Id, goods: &[Id]) -> Result<Option<Step<Id>>, StateError> {
        let bad_ancestors = self.dag.ancestors([bad]);
        let latest = self.latest();
        for good in goods {
            if self.dag.is_ancestor(bad, good) {
                return Err(self.bad_ancestor_error(bad, good));
            }
        }
        let good_ancestors_of_bad: Vec<&Id> = goods
            .iter()
            .filter(|g| bad_ancestors.contains(*g))
            .collect();
        let covered = self.dag.ancestors(good_ancestors_of_bad.iter().copied());
        for good in goods.iter().filter(|g| !bad_ancestors.contains(*g)) {
            for base in self.dag.merge_bases(bad, good) {
                let settled = covered.contains(&base)
                    || matches!(latest.get(&base), Some(Verdict::Good | Verdict::Skip));
                if !settled {
                    let candidates = self.candidates_in_order(bad, goods).len();
                    return Ok(Some(Step::Test {
                        commit: base,
                        reason: TestReason::MergeBase,
                        candidates,
                        steps_after: ceil_log2(candidates),
                    }));
                }
            }
        }
        Ok(None)
    }

    /// Names the error for a bad commit that is an ancestor of `good`: when an earlier bad commit
    /// had `bad` as merge base with `good`, the user just marked that merge base bad.
    fn bad_ancestor_error(&self, bad: &Id, good: &Id) -> StateError {
        let from_merge_base = self.marks.iter().any(|(v, earlier)| {
            *v == Verdict::Bad
                && earlier != bad
                && !self.dag.is_ancestor(good, earlier)
                && self.dag.merge_bases(earlier, good).contains(bad)
        });
        if from_merge_base {
            StateError::MergeBaseIsBad {
                merge_base: commit_name(bad),
                good: commit_name(good),
            }
        } else {
            StateError::BadIsAncestorOfGood {
                bad: commit_name(bad),
                good: commit_name(good),
            }
        }
    }

    /// Candidates, parents before children.
    fn candidates_in_order(&self, bad: &Id, goods: &[Id]) -> Vec<Id> {
        let excluded = self.dag.ancestors(goods);
        if self.first_parent {
            let mut chain = Vec::new();
            let mut current = Some(bad.clone());
            while let Some(id) = current {
                if excluded.contains(&id) {
                    break;
                }
                current = self.dag.parents(&id).first().cloned();
                chain.push(id);
            }
            chain.reverse();
            return chain;
        }
        // Iterative depth-first post-order over candidate parents: a commit is emitted after all
        // its candidate parents, which is the order the weight computation needs.
        let mut order = Vec::new();
        let mut visited: HashSet<Id> = HashSet::new();
        let mut stack: Vec<(Id, usize)> = Vec::new();
        if !excluded.contains(bad) {
            visited.insert(bad.clone());
            stack.push((bad.clone(), 0));
        }
        while let Some((id, next_parent)) = stack.pop() {
            let parents = self.dag.parents(&id);
            if let Some(parent) = parents.get(next_parent) {
                stack.push((id.clone(), next_parent + 1));
                if !excluded.contains(parent) && visited.insert(parent.clone()) {
                    stack.push((parent.clone(), 0));
                }
            } else {
                order.push(id);
            }
        }
        order
    }

    /// For each candidate (in the order given), the number of candidates that are its ancestors,
    /// itself included.
    fn weights(&self, candidates: &[Id]) -> Vec<usize> {
        let index: HashMap<&Id, usize> = candidates
            .iter()
            .enumerate()
            .map(|(i, id)| (id, i))
            .collect();
        let mut weights = vec![0usize; candidates.len()];
        for (i, id) in candidates.iter().enumerate() {
            let parents = self.dag.parents(id);
            let parents = if self.first_parent {
                &parents[..parents.len().min(1)]
            } else {
                parents
            };
            let in_range: Vec<usize> = parents
                .iter()
                .filter_map(|p| index.get(p).copied())
                .collect();
            weights[i] = match in_range.as_slice() {
                [] => 1,
                // Parents outside the candidates are ancestors of a good commit, and so are all
                // of their ancestors; only the one candidate parent contributes.
                [p] => weights[*p] + 1,
                _ => self.count_candidate_ancestors(i, candidates, &index),
            };
        }
        weights
    }

    fn count_candidate_ancestors(
        &self,
        start: usize,
        candidates: &[Id],
        index: &HashMap<&Id, usize>,
    ) -> usize {
        let mut seen = vec![false; candidates.len()];
        let mut stack = vec![start];
        seen[start] = true;
        let mut count = 0;
        while let Some(i) = stack.pop() {
            count += 1;
            for parent in self.dag.parents(&candidates[i]) {
                if let Some(&p) = index.get(parent) {
                    if !seen[p] {
                        seen[p] = true;
                        stack.push(p);
                    }
                }
            }
        }
        count
    }
}

/// ⌈log2 n⌉ for n ≥ 1, and 0 for n = 0.
pub fn ceil_log2(n: usize) -> u32 {
    if n <= 1 {
        0
    } else {
        usize::BITS - (n - 1).leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A linear history 0 ← 1 ← … ← n-1.
    fn linear(n: u32) -> Dag<u32> {
        let mut dag = Dag::new();
        for i in 0..n {
            dag.insert(i, if i == 0 { vec![] } else { vec![i - 1] });
        }
        dag
    }

    /// Runs a bisection to its end with a scripted predicate; returns the result and the number
    /// of commits tested.
    fn drive(
        bisection: &mut Bisection<u32>,
        mut verdict: impl FnMut(u32) -> Verdict,
    ) -> (Step<u32>, usize) {
        let mut tested = 0;
        loop {
            match bisection.next().unwrap() {
                Step::Test { commit, .. } => {
                    tested += 1;
                    assert!(tested <= 10_000, "bisection does not terminate");
                    bisection.mark(verdict(commit), commit).unwrap();
                }
                done => return (done, tested),
            }
        }
    }

    fn start(dag: Dag<u32>, bad: u32, good: u32, first_parent: bool) -> Bisection<u32> {
        let mut b = Bisection::new(dag, first_parent);
        b.mark(Verdict::Bad, bad).unwrap();
        b.mark(Verdict::Good, good).unwrap();
        b
    }

    #[test]
    fn linear_finds_first_bad() {
        for first_bad in 1..64 {
            let mut b = start(linear(64), 63, 0, false);
            let (result, _) = drive(&mut b, |c| {
                if c >= first_bad {
                    Verdict::Bad
                } else {
                    Verdict::Good
                }
            });
            assert_eq!(result, Step::Found { first_bad });
        }
    }

    #[test]
    fn steps_within_log2_bound() {
        for n in [2u32, 3, 5, 8, 100, 1000, 1025] {
            for first_bad in [1, n / 3, n / 2, n - 1] {
                let first_bad = first_bad.max(1);
                let mut b = start(linear(n + 1), n, 0, false);
                let (result, tested) = drive(&mut b, |c| {
                    if c >= first_bad {
                        Verdict::Bad
                    } else {
                        Verdict::Good
                    }
                });
                assert_eq!(result, Step::Found { first_bad });
                // n candidates: commits 1..=n.
                let bound = ceil_log2(n as usize) as usize;
                assert!(
                    tested <= bound,
                    "n={n} first_bad={first_bad}: {tested} > {bound}"
                );
            }
        }
    }

    #[test]
    fn steps_within_bound_with_skips() {
        let n = 1000u32;
        let first_bad = 637;
        let untestable = |c: u32| c % 7 == 3;
        let mut b = start(linear(n + 1), n, 0, false);
        let mut skips = 0;
        let (result, tested) = drive(&mut b, |c| {
            if untestable(c) {
                skips += 1;
                Verdict::Skip
            } else if c >= first_bad {
                Verdict::Bad
            } else {
                Verdict::Good
            }
        });
        assert_eq!(result, Step::Found { first_bad });
        let bound = ceil_log2(n as usize) as usize + skips;
        assert!(tested <= bound, "{tested} > {bound} with {skips} skips");
        assert!(skips > 0, "the scenario should exercise skips");
    }

    #[test]
    fn skips_hiding_answer_report_candidates() {
        // First bad is 5, but 3, 4 and 5 cannot be tested: 6 is the earliest known bad.
        let mut b = start(linear(10), 9, 0, false);
        let (result, _) = drive(&mut b, |c| match c {
            3..=5 => Verdict::Skip,
            c if c >= 5 => Verdict::Bad,
            _ => Verdict::Good,
        });
        assert_eq!(
            result,
            Step::FoundWithSkips {
                first_bad: 6,
                may_also_be: vec![3, 4, 5]
            }
        );
    }

    #[test]
    fn skip_only_range() {
        let mut b = start(linear(6), 5, 0, false);
        let (result, tested) = drive(&mut b, |_| Verdict::Skip);
        assert_eq!(tested, 4);
        assert_eq!(
            result,
            Step::FoundWithSkips {
                first_bad: 5,
                may_also_be: vec![1, 2, 3, 4]
            }
        );
    }

    #[test]
    fn adjacent_good_and_bad_found_without_tests() {
        let mut b = start(linear(2), 1, 0, false);
        let (result, tested) = drive(&mut b, |_| unreachable!("nothing to test"));
        assert_eq!(tested, 0);
        assert_eq!(result, Step::Found { first_bad: 1 });
    }

    /// 0 ← 1 ← 2 ← 5(merge of 2 and 4) ← 6, with a side branch 1 ← 3 ← 4.
    fn merged() -> Dag<u32> {
        let mut dag = Dag::new();
        dag.insert(0, vec![]);
        dag.insert(1, vec![0]);
        dag.insert(2, vec![1]);
        dag.insert(3, vec![1]);
        dag.insert(4, vec![3]);
        dag.insert(5, vec![2, 4]);
        dag.insert(6, vec![5]);
        dag
    }

    #[test]
    fn merge_enters_side_branch() {
        // The change was made on the side branch at 3: every descendant of 3 is bad.
        let dag = merged();
        let bad_set = dag.ancestors([&6]);
        let descendants_of_3: HashSet<u32> = bad_set
            .iter()
            .copied()
            .filter(|c| dag.is_ancestor(&3, c))
            .collect();
        let mut b = start(dag, 6, 0, false);
        let (result, _) = drive(&mut b, |c| {
            if descendants_of_3.contains(&c) {
                Verdict::Bad
            } else {
                Verdict::Good
            }
        });
        assert_eq!(result, Step::Found { first_bad: 3 });
    }

    #[test]
    fn first_parent_blames_merge() {
        let dag = merged();
        let descendants_of_3: HashSet<u32> = (0..7).filter(|c| dag.is_ancestor(&3, c)).collect();
        let mut b = start(dag, 6, 0, true);
        let mut tested_commits = Vec::new();
        let (result, _) = drive(&mut b, |c| {
            tested_commits.push(c);
            if descendants_of_3.contains(&c) {
                Verdict::Bad
            } else {
                Verdict::Good
            }
        });
        assert_eq!(result, Step::Found { first_bad: 5 });
        assert!(
            tested_commits.iter().all(|c| ![3, 4].contains(c)),
            "first-parent bisection tested a side-branch commit: {tested_commits:?}"
        );
    }

    #[test]
    fn merge_weights_count_shared_ancestors_once() {
        let b = start(merged(), 6, 0, false);
        let candidates = b.candidates();
        assert_eq!(candidates.len(), 6);
        let weights = b.weights(&candidates);
        let weight_of = |c: u32| weights[candidates.iter().position(|&x| x == c).unwrap()];
        assert_eq!(weight_of(1), 1);
        assert_eq!(weight_of(5), 5); // 1, 2, 3, 4, 5
        assert_eq!(weight_of(6), 6);
    }

    #[test]
    fn good_newer_than_bad_is_error() {
        let b = start(linear(5), 1, 3, false);
        let error = b.next().expect_err("good 3 is newer than bad 1");
        assert!(matches!(error, StateError::BadIsAncestorOfGood { .. }));
        assert_eq!(
            error.to_string(),
            "the bad commit 1 is an ancestor of the good commit 3 (good is newer than bad)"
        );
    }

    #[test]
    fn good_on_other_branch_tests_merge_base() {
        // Good is 4 on the side branch, bad is 2 on the main line: merge base is 1.
        let mut b = start(merged(), 2, 4, false);
        match b.next().unwrap() {
            Step::Test { commit, reason, .. } => {
                assert_eq!(commit, 1);
                assert_eq!(reason, TestReason::MergeBase);
            }
            other => panic!("expected the merge base to be tested, got {other:?}"),
        }
        b.mark(Verdict::Good, 1).unwrap();
        let (result, _) = drive(&mut b, |_| unreachable!("only 2 is left"));
        assert_eq!(result, Step::Found { first_bad: 2 });
    }

    #[test]
    fn bad_merge_base_is_error() {
        let mut b = start(merged(), 2, 4, false);
        b.mark(Verdict::Bad, 1).unwrap();
        assert!(matches!(b.next(), Err(StateError::MergeBaseIsBad { .. })));
    }

    #[test]
    fn non_monotonic_predicate_finds_a_transition() {
        // Bad at 3..=5 and 9..; good elsewhere. Bisection must end on a bad commit whose parent
        // is good, though which transition it finds depends on the probes.
        let bad = |c: u32| (3..=5).contains(&c) || c >= 9;
        let mut b = start(linear(16), 15, 0, false);
        let (result, _) = drive(
            &mut b,
            |c| if bad(c) { Verdict::Bad } else { Verdict::Good },
        );
        let Step::Found { first_bad } = result else {
            panic!("expected a single commit, got {result:?}");
        };
        assert!(bad(first_bad));
        assert!(!bad(first_bad - 1));
    }

    #[test]
    fn unknown_commit_rejected() {
        let mut b = Bisection::new(linear(3), false);
        assert!(matches!(
            b.mark(Verdict::Bad, 7),
            Err(StateError::UnknownCommit { .. })
        ));
    }

    #[test]
    fn missing_marks_reported() {
        let mut b = Bisection::new(linear(3), false);
        assert_eq!(b.next().unwrap(), Step::NeedBad);
        b.mark(Verdict::Bad, 2).unwrap();
        assert_eq!(b.next().unwrap(), Step::NeedGood);
    }

    #[test]
    fn same_commit_good_and_bad_conflicts() {
        let mut b = start(linear(3), 2, 0, false);
        b.mark(Verdict::Good, 2).unwrap();
        // The later good verdict replaces the bad one, so there is no bad commit left.
        assert_eq!(b.next().unwrap(), Step::NeedBad);
    }

    #[test]
    fn terms_validated() {
        assert!(Terms::new("fast", "slow").is_ok());
        assert!(matches!(
            Terms::new("same", "same"),
            Err(StateError::SameTerms { .. })
        ));
        assert!(matches!(
            Terms::new("run", "slow"),
            Err(StateError::InvalidTerm { .. })
        ));
        assert!(matches!(
            Terms::new("bad", "good"),
            Err(StateError::InvalidTerm { .. })
        ));
        assert!(matches!(
            Terms::new("a b", "c"),
            Err(StateError::InvalidTerm { .. })
        ));
        let terms = Terms::new("old", "new").unwrap();
        assert_eq!(terms.verdict("new"), Some(Verdict::Bad));
        assert_eq!(terms.verdict("skip"), Some(Verdict::Skip));
        assert_eq!(terms.verdict("bad"), None);
    }

    #[test]
    fn ceil_log2_values() {
        assert_eq!(ceil_log2(0), 0);
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(2), 1);
        assert_eq!(ceil_log2(3), 2);
        assert_eq!(ceil_log2(1024), 10);
        assert_eq!(ceil_log2(1025), 11);
    }
}
