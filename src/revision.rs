//! Revision syntax: naming a commit as git does.
//!
//! ```text
//! rev      := base suffix*
//! base     := <64 hex digits>            a full commit id
//!           | <4 to 63 hex digits>       a unique prefix of a commit id
//!           | HEAD | @                   the current commit
//!           | <name> | refs/<...>        a tag or branch (refs/<name>, refs/tags/<name>,
//!                                        refs/heads/<name>, in that order, as git does)
//!           | [<name>]@{<time>}          the ref's value at <time>, from its reflog
//!           | [<name>]@{<n>}             the ref's value n changes ago (@{0} is the current one)
//! suffix   := ~[<n>]                     n-th first-parent ancestor (default 1)
//!           | ^[<n>]                     n-th parent (default 1; ^0 is the commit itself)
//! ```
//!
//! `<time>` is RFC 3339 (`2026-01-15T10:00:00Z`, `2026-01-15T12:00:00+02:00`), a date and time
//! without offset taken as UTC (`2026-01-15 10:00:00`), a date (`2026-01-15`, meaning the END of
//! that day UTC, 23:59:59, so that "as of the 15th" includes everything committed on the 15th),
//! `now`, `yesterday` (24 hours ago) or `<n> <unit> ago` with unit second, minute, hour, day or
//! week. `REF@{time}` is the last value the ref took at or before that instant, read from its
//! reflog; an empty name means the branch `HEAD` points at (or `HEAD` when detached).
//!
//! `REV:PATH` (for `ev cat` and `ev show`) is split by [`split_path`] before parsing.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::id::{self, ObjectId};
use crate::object::{Commit, ObjectKind};
use crate::refs::{RefError, RefName, RefStore};
use crate::store::{Store, StoreError};

/// A reason a revision cannot be parsed or resolved.
#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    #[error("invalid revision {spec:?}: {reason}")]
    Syntax { spec: String, reason: String },
    #[error("unknown revision {spec:?}")]
    Unknown { spec: String },
    #[error("commit id prefix {prefix:?} is ambiguous: it matches {}", list_ids(.candidates))]
    Ambiguous {
        prefix: String,
        candidates: Vec<ObjectId>,
    },
    #[error("branch {name} has no commits yet")]
    Unborn { name: String },
    #[error(
        "revision {spec:?}: commit {id} has no parent number {n}, because {}",
        count_parents(*.parents),
        id = .id.short()
    )]
    NoParent {
        spec: String,
        id: ObjectId,
        n: u32,
        /// Parents the commit has, so `^parents` is the highest valid step.
        parents: usize,
    },
    #[error(
        "revision {spec:?} goes past the root commit {id}, {}",
        past_root_reason(.start, *.available),
        id = .root.short()
    )]
    PastRoot {
        spec: String,
        root: ObjectId,
        /// The commit the `~N` walk started from.
        start: ObjectId,
        /// First-parent ancestors of `start`, so `~available` is the deepest valid step.
        available: u32,
    },
    #[error("revision {spec:?}: {id} is {}, not a commit", describe_kind(*.kind), id = .id.short())]
    NotACommit {
        spec: String,
        id: ObjectId,
        kind: ObjectKind,
    },
    #[error("{name} has no reflog entry at or before {time}{}", first_hint(.first))]
    BeforeReflog {
        name: String,
        time: DateTime<Utc>,
        first: Option<DateTime<Utc>>,
    },
    #[error("{name} has only {available} reflog entries, {name}@{{{n}}} asks for more")]
    ReflogTooShort {
        name: String,
        n: usize,
        available: usize,
    },
    #[error("{name} was deleted at that point of its reflog")]
    Deleted { name: String },
    #[error(transparent)]
    Ref(#[from] RefError),
    #[error("failed to read commit {id}: {source}", id = .id.short())]
    Object {
        id: ObjectId,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn list_ids(ids: &[ObjectId]) -> String {
    ids.iter()
        .map(ObjectId::short)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Completes the [`RevisionError::PastRoot`] message with the length of the chain walked.
fn past_root_reason(start: &ObjectId, available: u32) -> String {
    match available {
        0 => "which has no parent".to_owned(),
        1 => format!(
            "because the first-parent chain from {} has only 1 ancestor",
            start.short()
        ),
        n => format!(
            "because the first-parent chain from {} has only {n} ancestors",
            start.short()
        ),
    }
}

/// Explains a `^N` step past a commit's last parent.
fn count_parents(parents: usize) -> String {
    match parents {
        0 => "it is a root commit".to_owned(),
        1 => "it has only 1 parent".to_owned(),
        n => format!("it has only {n} parents"),
    }
}

/// Names an object kind for a reader who expected a commit.
fn describe_kind(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Tree => "a tree (a folder listing)",
        ObjectKind::Blob => "a blob (file content)",
        ObjectKind::File => "a file index (the chunk list of a large file)",
        ObjectKind::Record => "an evidence record",
        ObjectKind::Commit => "a commit",
    }
}

fn first_hint(first: &Option<DateTime<Utc>>) -> String {
    match first {
        Some(t) => format!(" (its reflog starts at {})", t.format("%Y-%m-%dT%H:%M:%SZ")),
        None => " (its reflog is empty)".to_owned(),
    }
}

/// What revision resolution needs from the object store.
pub trait CommitSource {
    /// Reads the commit `id`; a missing object or another kind is an error.
    fn read_commit(&self, id: &ObjectId) -> Result<Commit, RevisionError>;
    /// Ids of stored commits whose hex form starts with `prefix` (already validated).
    fn commits_with_prefix(&self, prefix: &str) -> Result<Vec<ObjectId>, RevisionError>;
    /// Finds the one stored object whose hex form starts with `prefix` and returns its id and
    /// kind when it is not a commit, to explain why a prefix names no commit. Returns `None`
    /// when no object, several objects or a commit match, or the object cannot be read.
    fn non_commit_with_prefix(&self, _prefix: &str) -> Option<(ObjectId, ObjectKind)> {
        None
    }
}

impl CommitSource for Store {
    fn read_commit(&self, id: &ObjectId) -> Result<Commit, RevisionError> {
        Store::read_commit(self, id).map_err(|e| match e {
            StoreError::WrongKind { id, found, .. } => RevisionError::NotACommit {
                spec: id.to_hex(),
                id,
                kind: found,
            },
            other => RevisionError::Object {
                id: *id,
                source: Box::new(other),
            },
        })
    }

    fn commits_with_prefix(&self, prefix: &str) -> Result<Vec<ObjectId>, RevisionError> {
        let candidates = match self.resolve_prefix(prefix) {
            Ok(id) => vec![id],
            Err(StoreError::Ambiguous { candidates, .. }) => candidates,
            Err(StoreError::PrefixNotFound { .. }) | Err(StoreError::BadPrefix(_)) => Vec::new(),
            Err(other) => {
                return Err(RevisionError::Object {
                    id: ObjectId::from_bytes([0; crate::id::ID_LEN]),
                    source: Box::new(other),
                });
            }
        };
        // Only commits count: a prefix shared with a blob is not ambiguous for a revision.
        // NOTE: the store lists at most 16 candidates of an ambiguous prefix, so with many
        // non-commit objects under a short prefix a commit can be missed; more digits fix it.
        Ok(candidates
            .into_iter()
            .filter(|id| {
                self.open_payload(id)
                    .is_ok_and(|reader| reader.kind() == ObjectKind::Commit)
            })
            .collect())
    }

    fn non_commit_with_prefix(&self, prefix: &str) -> Option<(ObjectId, ObjectKind)> {
        let id = self.resolve_prefix(prefix).ok()?;
        let kind = self.open_payload(&id).ok()?.kind();
        (kind != ObjectKind::Commit).then_some((id, kind))
    }
}

/// Where a `@{...}` selector points in a reflog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReflogSelector {
    /// The last value at or before this instant.
    Time(DateTime<Utc>),
    /// The value this many changes ago.
    Index(usize),
}

/// The base of a revision, before `~` and `^` suffixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    /// `HEAD`, a ref name or an id (prefix); resolved in that order.
    Name(String),
    /// `name@{selector}`; `None` names the current branch.
    Reflog {
        name: Option<String>,
        selector: ReflogSelector,
    },
}

/// A `~N` or `^N` suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `~N`: follow the first parent N times.
    Ancestor(u32),
    /// `^N`: take the N-th parent (1-based); `^0` is the commit itself.
    Parent(u32),
}

/// A parsed revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    pub base: Base,
    pub steps: Vec<Step>,
}

/// Splits `REV:PATH` at the first `:` outside `@{...}` (times contain colons). Returns the
/// revision and the path, if any.
pub fn split_path(spec: &str) -> (&str, Option<&str>) {
    let mut depth = 0usize;
    let bytes = spec.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'@' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => return (&spec[..i], Some(&spec[i + 1..])),
            _ => {}
        }
    }
    (spec, None)
}

/// Parses a revision; `now` anchors relative times such as `yesterday`.
pub fn parse(spec: &str, now: DateTime<Utc>) -> Result<Revision, RevisionError> {
    let syntax = |reason: &str| RevisionError::Syntax {
        spec: spec.to_owned(),
        reason: reason.to_owned(),
    };
    if spec.is_empty() {
        return Err(syntax("the revision is empty"));
    }
    let (base, rest) = match spec.find("@{") {
        Some(at) => {
            let close = spec[at..]
                .find('}')
                .map(|i| at + i)
                .ok_or_else(|| syntax("\"@{\" is not closed by \"}\""))?;
            let name = &spec[..at];
            let inner = spec[at + 2..close].trim();
            let selector = parse_selector(inner, now).ok_or_else(|| {
                syntax(&format!(
                    "{inner:?} is not a time (RFC 3339, YYYY-MM-DD, \"yesterday\", \
                     \"N days ago\") or a reflog index"
                ))
            })?;
            let name = (!name.is_empty() && name != "@").then(|| name.to_owned());
            (Base::Reflog { name, selector }, &spec[close + 1..])
        }
        None => {
            let end = spec.find(['~', '^']).unwrap_or(spec.len());
            let name = &spec[..end];
            if name.is_empty() {
                return Err(syntax("a revision must start with a name or id"));
            }
            let name = if name == "@" { "HEAD" } else { name };
            (Base::Name(name.to_owned()), &spec[end..])
        }
    };

    let mut steps = Vec::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        let mut digits = String::new();
        while let Some(&(_, d)) = chars.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            digits.push(d);
            chars.next();
        }
        let n: u32 = if digits.is_empty() {
            1
        } else {
            digits
                .parse()
                .map_err(|_| syntax(&format!("{digits} is too large")))?
        };
        match c {
            '~' => steps.push(Step::Ancestor(n)),
            '^' => steps.push(Step::Parent(n)),
            other => {
                return Err(syntax(&format!(
                    "unexpected {other:?}; after a name only ~N and ^N may follow"
                )));
            }
        }
    }
    Ok(Revision { base, steps })
}

fn parse_selector(inner: &str, now: DateTime<Utc>) -> Option<ReflogSelector> {
    if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
        return inner.parse().ok().map(ReflogSelector::Index);
    }
    parse_time(inner, now).map(ReflogSelector::Time)
}

/// Parses the `<time>` forms described in the module documentation.
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let end = NaiveTime::from_hms_opt(23, 59, 59).expect("23:59:59 is a valid time");
        return Some(Utc.from_utc_datetime(&date.and_time(end)));
    }
    match text {
        "now" => return Some(now),
        "yesterday" => return Some(now - Duration::days(1)),
        _ => {}
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if let [n, unit, "ago"] = words.as_slice() {
        let n: i64 = n.parse().ok()?;
        let unit = unit.strip_suffix('s').unwrap_or(unit);
        let span = match unit {
            "second" => Duration::try_seconds(n)?,
            "minute" => Duration::try_minutes(n)?,
            "hour" => Duration::try_hours(n)?,
            "day" => Duration::try_days(n)?,
            "week" => Duration::try_weeks(n)?,
            _ => return None,
        };
        return now.checked_sub_signed(span);
    }
    None
}

/// Resolves a revision string to a commit id.
pub fn resolve(
    spec: &str,
    refs: &RefStore,
    source: &impl CommitSource,
    now: DateTime<Utc>,
) -> Result<ObjectId, RevisionError> {
    let revision = parse(spec, now)?;
    let mut id = resolve_base(spec, &revision.base, refs, source)?;
    for step in &revision.steps {
        id = apply_step(spec, id, *step, source)?;
    }
    Ok(id)
}

fn apply_step(
    spec: &str,
    id: ObjectId,
    step: Step,
    source: &impl CommitSource,
) -> Result<ObjectId, RevisionError> {
    match step {
        Step::Parent(0) => Ok(id),
        Step::Parent(n) => {
            let commit = source.read_commit(&id)?;
            commit
                .parents
                .get(n as usize - 1)
                .copied()
                .ok_or(RevisionError::NoParent {
                    spec: spec.to_owned(),
                    id,
                    n,
                    parents: commit.parents.len(),
                })
        }
        Step::Ancestor(n) => {
            let mut current = id;
            for walked in 0..n {
                let commit = source.read_commit(&current)?;
                current = *commit.parents.first().ok_or(RevisionError::PastRoot {
                    spec: spec.to_owned(),
                    root: current,
                    start: id,
                    available: walked,
                })?;
            }
            Ok(current)
        }
    }
}

/// The full ref names a short name may mean, in git's order of precedence.
pub fn ref_candidates(name: &str) -> Vec<String> {
    if name == "HEAD" || name.starts_with("refs/") {
        return vec![name.to_owned()];
    }
    vec![
        format!("refs/{name}"),
        format!("refs/tags/{name}"),
        format!("refs/heads/{name}"),
    ]
}

/// Finds the existing ref a name means, if any.
pub fn lookup_ref(refs: &RefStore, name: &str) -> Result<Option<RefName>, RevisionError> {
    for candidate in ref_candidates(name) {
        let Ok(full) = RefName::new(&candidate) else {
            continue;
        };
        if refs.read(&full)?.is_some() {
            return Ok(Some(full));
        }
    }
    Ok(None)
}

fn resolve_base(
    spec: &str,
    base: &Base,
    refs: &RefStore,
    source: &impl CommitSource,
) -> Result<ObjectId, RevisionError> {
    match base {
        Base::Name(name) => {
            if let Ok(id) = name.parse::<ObjectId>() {
                // An id that names no object is a typo (exit 2), not damage; an existing object
                // that fails to read is damage.
                if source.commits_with_prefix(name)?.is_empty() {
                    return Err(not_a_commit(spec, name, source));
                }
                source.read_commit(&id)?;
                return Ok(id);
            }
            if let Some(full) = lookup_ref(refs, name)? {
                return refs.resolve(&full)?.ok_or_else(|| RevisionError::Unborn {
                    name: unborn_name(refs, &full),
                });
            }
            if id::validate_prefix(name).is_ok() {
                let mut candidates = source.commits_with_prefix(name)?;
                candidates.sort();
                candidates.dedup();
                return match candidates.as_slice() {
                    [one] => Ok(*one),
                    [] => Err(not_a_commit(spec, name, source)),
                    _ => Err(RevisionError::Ambiguous {
                        prefix: name.clone(),
                        candidates,
                    }),
                };
            }
            Err(RevisionError::Unknown {
                spec: spec.to_owned(),
            })
        }
        Base::Reflog { name, selector } => {
            let full = match name {
                Some(name) => lookup_ref(refs, name)?.ok_or_else(|| RevisionError::Unknown {
                    spec: spec.to_owned(),
                })?,
                None => refs.head_target()?.unwrap_or_else(RefName::head),
            };
            resolve_reflog(&full, selector, refs)
        }
    }
}

/// Builds the error for an id or prefix `name` that matches no commit. It names the kind of the
/// one object `name` matches, if any, and is [`RevisionError::Unknown`] otherwise.
fn not_a_commit(spec: &str, name: &str, source: &impl CommitSource) -> RevisionError {
    match source.non_commit_with_prefix(name) {
        Some((id, kind)) => RevisionError::NotACommit {
            spec: spec.to_owned(),
            id,
            kind,
        },
        None => RevisionError::Unknown {
            spec: spec.to_owned(),
        },
    }
}

fn unborn_name(refs: &RefStore, full: &RefName) -> String {
    if *full == RefName::head()
        && let Ok(Some(branch)) = refs.head_target()
    {
        return branch.short().to_owned();
    }
    full.short().to_owned()
}

/// The value of ref `full` selected from its reflog.
pub fn resolve_reflog(
    full: &RefName,
    selector: &ReflogSelector,
    refs: &RefStore,
) -> Result<ObjectId, RevisionError> {
    let log = refs.reflog(full)?;
    let entry = match selector {
        ReflogSelector::Time(time) => log
            .entries
            .iter()
            .rev()
            .find(|e| e.time <= *time)
            .ok_or_else(|| RevisionError::BeforeReflog {
                name: full.short().to_owned(),
                time: *time,
                first: log.entries.first().map(|e| e.time),
            })?,
        ReflogSelector::Index(n) => {
            let available = log.entries.len();
            log.entries
                .len()
                .checked_sub(n + 1)
                .and_then(|i| log.entries.get(i))
                .ok_or_else(|| RevisionError::ReflogTooShort {
                    name: full.short().to_owned(),
                    n: *n,
                    available,
                })?
        }
    };
    entry.new.ok_or_else(|| RevisionError::Deleted {
        name: full.short().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Provenance;
    use crate::refs::{Expected, Signature};
    use std::collections::{BTreeMap, HashMap};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    struct Graph(HashMap<ObjectId, Commit>);

    impl CommitSource for Graph {
        fn read_commit(&self, id: &ObjectId) -> Result<Commit, RevisionError> {
            self.0.get(id).cloned().ok_or(RevisionError::Object {
                id: *id,
                source: "missing".into(),
            })
        }
        fn commits_with_prefix(&self, prefix: &str) -> Result<Vec<ObjectId>, RevisionError> {
            Ok(self
                .0
                .keys()
                .filter(|k| k.has_hex_prefix(prefix))
                .copied()
                .collect())
        }
    }

    fn commit(parents: Vec<ObjectId>, n: u8) -> (ObjectId, Commit) {
        let c = Commit {
            tree: ObjectId::hash(&[n]),
            parents,
            author: "a".into(),
            time: t("2026-01-01T00:00:00Z"),
            message: format!("c{n}"),
            labels: BTreeMap::new(),
            provenance: Provenance::default(),
            evidence: None,
        };
        (
            crate::object::encode_json(crate::object::ObjectKind::Commit, &c).0,
            c,
        )
    }

    /// c1 <- c2 <- c3 (merge of c2 and side) on main; tag v1 at c1.
    fn fixture() -> (tempfile::TempDir, RefStore, Graph, Vec<ObjectId>) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("HEAD"), "ref: refs/heads/main\n").unwrap();
        let refs = RefStore::new(tmp.path());
        let (id1, c1) = commit(vec![], 1);
        let (id2, c2) = commit(vec![id1], 2);
        let (side, cs) = commit(vec![id1], 9);
        let (id3, c3) = commit(vec![id2, side], 3);
        let graph = Graph(HashMap::from([(id1, c1), (id2, c2), (side, cs), (id3, c3)]));
        let main = RefName::branch("main").unwrap();
        let mut old = Expected::Absent;
        for (i, id) in [id1, id2, id3].into_iter().enumerate() {
            let sig = Signature {
                who: "a".into(),
                time: t(&format!("2026-01-1{}T12:00:00Z", i + 1)),
            };
            refs.update(&main, old, id, &sig, "commit").unwrap();
            old = Expected::Value(id);
        }
        let sig = Signature {
            who: "a".into(),
            time: t("2026-01-20T00:00:00Z"),
        };
        refs.update(
            &RefName::tag("v1").unwrap(),
            Expected::Absent,
            id1,
            &sig,
            "tag",
        )
        .unwrap();
        (tmp, refs, graph, vec![id1, id2, id3, side])
    }

    #[test]
    fn names_ids_and_suffixes() {
        let (_tmp, refs, graph, ids) = fixture();
        let now = t("2026-02-01T00:00:00Z");
        let r = |s: &str| resolve(s, &refs, &graph, now);
        assert_eq!(r("HEAD").unwrap(), ids[2]);
        assert_eq!(r("@").unwrap(), ids[2]);
        assert_eq!(r("main").unwrap(), ids[2]);
        assert_eq!(r("refs/heads/main").unwrap(), ids[2]);
        assert_eq!(r("v1").unwrap(), ids[0]);
        assert_eq!(r("refs/tags/v1").unwrap(), ids[0]);
        assert_eq!(r(&ids[1].to_hex()).unwrap(), ids[1]);
        assert_eq!(r(&ids[1].to_hex()[..10]).unwrap(), ids[1]);
        assert_eq!(r("HEAD~").unwrap(), ids[1]);
        assert_eq!(r("HEAD~2").unwrap(), ids[0]);
        assert_eq!(r("HEAD^").unwrap(), ids[1]);
        assert_eq!(r("HEAD^2").unwrap(), ids[3]);
        assert_eq!(r("HEAD^2~1").unwrap(), ids[0]);
        assert_eq!(r("HEAD^0").unwrap(), ids[2]);
        assert_eq!(r("HEAD~1^").unwrap(), ids[0]);
        assert!(matches!(r("HEAD~3"), Err(RevisionError::PastRoot { .. })));
        assert!(matches!(
            r("HEAD^3"),
            Err(RevisionError::NoParent { parents: 2, .. })
        ));
        assert!(matches!(
            r("HEAD~1^2"),
            Err(RevisionError::NoParent { parents: 1, .. })
        ));
        assert!(matches!(r("nope"), Err(RevisionError::Unknown { .. })));
        assert!(matches!(r("dead"), Err(RevisionError::Unknown { .. })));
        assert!(matches!(r("HEAD~x"), Err(RevisionError::Syntax { .. })));
    }

    #[test]
    fn ancestor_past_root_counts_chain() {
        let (_tmp, refs, graph, ids) = fixture();
        let now = t("2026-02-01T00:00:00Z");
        let err = resolve("HEAD~99", &refs, &graph, now).unwrap_err();
        match &err {
            RevisionError::PastRoot {
                root,
                start,
                available,
                ..
            } => {
                assert_eq!(*root, ids[0]);
                assert_eq!(*start, ids[2]);
                assert_eq!(*available, 2);
            }
            other => panic!("expected PastRoot, got {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains("root commit"), "{message}");
        assert!(message.contains("2 ancestors"), "{message}");

        // The count starts where the `~N` walk starts, after earlier steps.
        let err = resolve("HEAD~1~5", &refs, &graph, now).unwrap_err();
        assert!(
            matches!(err, RevisionError::PastRoot { available: 1, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("only 1 ancestor"), "{err}");

        // Starting at the root, the message names the root as having no parent.
        let err = resolve("v1~1", &refs, &graph, now).unwrap_err();
        assert!(
            matches!(err, RevisionError::PastRoot { available: 0, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("which has no parent"), "{err}");
    }

    #[test]
    fn ambiguous_prefix_lists_candidates() {
        let (_tmp, refs, mut graph, _) = fixture();
        // Make ids until two share a 4-digit prefix with an existing commit.
        let mut seen: HashMap<String, ObjectId> = HashMap::new();
        let mut n = 0u32;
        let (prefix, a, b) = loop {
            let (id, c) = commit(vec![], 0);
            let mut c = c;
            c.message = n.to_string();
            let (id2, _) = crate::object::encode_json(crate::object::ObjectKind::Commit, &c);
            let _ = id;
            let key = id2.to_hex()[..4].to_owned();
            graph.0.insert(id2, c);
            if let Some(other) = seen.insert(key.clone(), id2) {
                break (key, other, id2);
            }
            n += 1;
        };
        let err = resolve(&prefix, &refs, &graph, Utc::now()).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, RevisionError::Ambiguous { .. }));
        assert!(
            message.contains(&a.short()) && message.contains(&b.short()),
            "{message}"
        );
    }

    #[test]
    fn reflog_times_and_indexes() {
        let (_tmp, refs, graph, ids) = fixture();
        let now = t("2026-02-01T00:00:00Z");
        let r = |s: &str| resolve(s, &refs, &graph, now);
        // main moved to ids[0] on the 11th, ids[1] on the 12th, ids[2] on the 13th at 12:00.
        assert_eq!(r("main@{2026-01-12T12:00:00Z}").unwrap(), ids[1]);
        assert_eq!(r("main@{2026-01-12T11:59:59Z}").unwrap(), ids[0]);
        // A date means the end of that day, UTC.
        assert_eq!(r("main@{2026-01-12}").unwrap(), ids[1]);
        assert_eq!(r("main@{2026-01-12 13:00:00}").unwrap(), ids[1]);
        assert_eq!(r("main@{2026-01-13T13:00:00+02:00}").unwrap(), ids[1]);
        assert_eq!(r("@{2026-01-11T12:00:00Z}").unwrap(), ids[0]);
        assert_eq!(r("main@{yesterday}").unwrap(), ids[2]);
        assert_eq!(r("main@{19 days ago}").unwrap(), ids[1]);
        assert_eq!(r("main@{0}").unwrap(), ids[2]);
        assert_eq!(r("main@{2}").unwrap(), ids[0]);
        assert_eq!(r("main@{1}~1").unwrap(), ids[0]);
        assert!(matches!(
            r("main@{2026-01-10}"),
            Err(RevisionError::BeforeReflog { .. })
        ));
        assert!(matches!(
            r("main@{3}"),
            Err(RevisionError::ReflogTooShort { .. })
        ));
        assert!(matches!(
            r("main@{tomorrowish}"),
            Err(RevisionError::Syntax { .. })
        ));
        assert!(matches!(r("main@{2026"), Err(RevisionError::Syntax { .. })));
    }

    #[test]
    fn split_path_ignores_colons_in_times() {
        assert_eq!(split_path("HEAD:a/b.csv"), ("HEAD", Some("a/b.csv")));
        assert_eq!(split_path("HEAD"), ("HEAD", None));
        assert_eq!(
            split_path("main@{2026-01-12T12:00:00Z}:x"),
            ("main@{2026-01-12T12:00:00Z}", Some("x"))
        );
    }

    #[test]
    fn unborn_head_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("HEAD"), "ref: refs/heads/main\n").unwrap();
        let refs = RefStore::new(tmp.path());
        let graph = Graph(HashMap::new());
        let err = resolve("HEAD", &refs, &graph, Utc::now()).unwrap_err();
        assert!(
            matches!(err, RevisionError::Unborn { ref name } if name == "main"),
            "{err}"
        );
    }
}
