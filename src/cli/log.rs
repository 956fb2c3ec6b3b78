//! `ev log [REV] [-n N] [--json]`: commit history, newest first.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::io::Write;

use chrono::{DateTime, Utc};
use clap::Args;
use serde::Serialize;

use super::output::{format_time, write_json};
use super::{CliError, CmdResult, Context, Outcome};
use crate::id::ObjectId;
use crate::object::Commit;
use crate::refs::{RefName, RefStore};
use crate::repo::Repository;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Revision to start from
    #[arg(default_value = "HEAD")]
    pub revision: String,
    /// Show at most N commits
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    pub max_count: Option<usize>,
    /// Print JSON (schema ev.log/1)
    #[arg(long)]
    pub json: bool,
}

/// `ev log --json` output.
#[derive(Debug, Serialize)]
pub struct LogJson {
    pub schema: &'static str,
    pub commits: Vec<CommitJson>,
}

/// A commit as `ev log --json` and `ev show --json` print it.
#[derive(Debug, Serialize)]
pub struct CommitJson {
    pub id: ObjectId,
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    pub author: String,
    pub time: String,
    pub message: String,
    pub labels: BTreeMap<String, String>,
    /// Full names of refs pointing at this commit, `HEAD` first when it does.
    pub refs: Vec<String>,
}

impl CommitJson {
    pub fn new(id: ObjectId, commit: &Commit, refs: Vec<String>) -> CommitJson {
        CommitJson {
            id,
            tree: commit.tree,
            parents: commit.parents.clone(),
            author: commit.author.clone(),
            time: format_time(&commit.time),
            message: commit.message.clone(),
            labels: commit.labels.clone(),
            refs,
        }
    }
}

/// Ref names by the commit they point at, for decorating log lines.
pub fn decorations(refs: &RefStore) -> HashMap<ObjectId, Vec<RefName>> {
    let mut map: HashMap<ObjectId, Vec<RefName>> = HashMap::new();
    if let Ok(list) = refs.list("refs/") {
        for (name, id) in list.refs {
            map.entry(id).or_default().push(name);
        }
    }
    map
}

/// `(HEAD -> main, tag: v1, other)` for a commit, or an empty string.
pub fn decoration_text(
    ctx: &Context,
    id: &ObjectId,
    names: &HashMap<ObjectId, Vec<RefName>>,
    head: &HeadState,
) -> String {
    let mut parts = Vec::new();
    let on_branch = names.get(id).cloned().unwrap_or_default();
    if head.detached_at == Some(*id) {
        parts.push("HEAD".to_owned());
    }
    for name in &on_branch {
        if head.branch.as_ref() == Some(name) {
            parts.insert(0, format!("HEAD -> {}", name.short()));
        } else if name.is_tag() {
            parts.push(format!("tag: {}", name.short()));
        } else {
            parts.push(name.short().to_owned());
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", ctx.style.refname(&parts.join(", ")))
    }
}

/// Full ref names at a commit for JSON, `HEAD` first when it points there.
pub fn ref_names_json(
    id: &ObjectId,
    names: &HashMap<ObjectId, Vec<RefName>>,
    head: &HeadState,
) -> Vec<String> {
    let mut out = Vec::new();
    let at = names.get(id).cloned().unwrap_or_default();
    if head.detached_at == Some(*id) || head.branch.as_ref().is_some_and(|b| at.contains(b)) {
        out.push("HEAD".to_owned());
    }
    out.extend(at.iter().map(ToString::to_string));
    out
}

/// Where HEAD is: on a branch, or detached at a commit.
#[derive(Debug, Default)]
pub struct HeadState {
    pub branch: Option<RefName>,
    pub detached_at: Option<ObjectId>,
}

impl HeadState {
    pub fn read(refs: &RefStore) -> HeadState {
        match refs.head_target() {
            Ok(Some(branch)) => HeadState {
                branch: Some(branch),
                detached_at: None,
            },
            _ => HeadState {
                branch: None,
                detached_at: refs.resolve(&RefName::head()).ok().flatten(),
            },
        }
    }
}

/// Writes the git-style header of a commit: id and refs, author, date, labels, message.
pub fn write_commit_text(
    out: &mut impl Write,
    ctx: &Context,
    id: &ObjectId,
    commit: &Commit,
    decoration: &str,
) -> std::io::Result<()> {
    writeln!(out, "{}{decoration}", ctx.style.id(&format!("commit {id}")))?;
    if commit.parents.len() > 1 {
        let parents: Vec<String> = commit.parents.iter().map(ObjectId::short).collect();
        writeln!(out, "Merge: {}", parents.join(" "))?;
    }
    writeln!(out, "Author: {}", commit.author)?;
    writeln!(out, "Date:   {}", format_time(&commit.time))?;
    if !commit.labels.is_empty() {
        let labels: Vec<String> = commit
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        writeln!(out, "Labels: {}", labels.join(" "))?;
    }
    writeln!(out)?;
    for line in commit.message.lines() {
        writeln!(out, "    {line}")?;
    }
    Ok(())
}

/// The result of [`walk`].
pub struct Walk {
    /// Commits newest first by commit time (ties by id), each once.
    pub commits: Vec<(ObjectId, Commit)>,
    /// A missing or corrupt parent that stopped the walk early, so that the readable part of a
    /// damaged history can still be shown before the error.
    pub damaged: Option<CliError>,
}

/// Collects the commits reachable from `start`, at most `limit` of them.
pub fn walk(
    store: &Store,
    start: ObjectId,
    limit: Option<usize>,
    ctx: &Context,
) -> Result<Walk, CliError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut queue: BinaryHeap<(DateTime<Utc>, Reverse<ObjectId>)> = BinaryHeap::new();
    let first = store.read_commit(&start)?;
    seen.insert(start);
    queue.push((first.time, Reverse(start)));
    let mut cache = HashMap::from([(start, first)]);
    while let Some((_, Reverse(id))) = queue.pop() {
        if limit.is_some_and(|n| out.len() >= n) {
            break;
        }
        ctx.check_interrupt()?;
        let commit = cache
            .remove(&id)
            .expect("every queued commit was read into the cache");
        let mut damaged = None;
        for parent in &commit.parents {
            if seen.insert(*parent) {
                match store.read_commit(parent) {
                    Ok(p) => {
                        queue.push((p.time, Reverse(*parent)));
                        cache.insert(*parent, p);
                    }
                    Err(e) => {
                        damaged = Some(e.into());
                        break;
                    }
                }
            }
        }
        out.push((id, commit));
        if damaged.is_some() {
            // The error is moot when the requested number of commits is already there.
            if limit.is_some_and(|n| out.len() >= n) {
                damaged = None;
            }
            return Ok(Walk {
                commits: out,
                damaged,
            });
        }
    }
    Ok(Walk {
        commits: out,
        damaged: None,
    })
}

pub fn cmd_log(ctx: &Context, args: &LogArgs) -> CmdResult {
    let repo: Repository = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let start = ctx.resolve_commit(&repo, &store, &args.revision)?;
    let Walk { commits, damaged } = walk(&store, start, args.max_count, ctx)?;
    let refs = repo.refs();
    let names = decorations(&refs);
    let head = HeadState::read(&refs);

    let mut out = std::io::stdout().lock();
    if args.json {
        // Partial JSON would read as the whole history, so a damaged walk prints none.
        if let Some(e) = damaged {
            return Err(e);
        }
        let json = LogJson {
            schema: "ev.log/1",
            commits: commits
                .iter()
                .map(|(id, c)| CommitJson::new(*id, c, ref_names_json(id, &names, &head)))
                .collect(),
        };
        write_json(&mut out, &json)?;
        return Ok(Outcome::Success);
    }
    for (i, (id, commit)) in commits.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let decoration = decoration_text(ctx, id, &names, &head);
        write_commit_text(&mut out, ctx, id, commit, &decoration)?;
    }
    if let Some(e) = damaged {
        out.flush()?;
        return Err(e);
    }
    Ok(Outcome::Success)
}
