//! `ev show REV [--json]`: one commit in full: metadata, provenance, labels, evidence items and
//! the paths changed against its first parent. `ev show REV:PATH` prints a file like `ev cat`
//! or lists a folder like `ev ls`.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::log::{
    CommitJson, HeadState, decoration_text, decorations, ref_names_json, write_commit_text,
};
use super::output::write_json;
use super::{CliError, CmdResult, Context, Outcome, cat, ls};
use crate::manifest::{EvidenceItem, EvidenceRecord};
use crate::object::{ObjectKind, Provenance};
use crate::revision::split_path;
use crate::tree_walk::{self, Change, TreeWalkError};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Revision to show; REV:PATH shows a file's content or a folder's entries
    #[arg(default_value = "HEAD")]
    pub revision: String,
    /// Print JSON (schema ev.show/1; ev.typed-record/1 for a typed evidence item)
    #[arg(long)]
    pub json: bool,
    /// With REV:PATH, print the stored file even where a typed record (profile, schema, ...) exists
    #[arg(long)]
    pub raw: bool,
}

/// `ev show REV:ITEM --json` output for an item with a typed record.
#[derive(Debug, Serialize)]
pub struct TypedRecordJson<'a> {
    pub schema: &'static str,
    pub item: &'a str,
    pub record: &'a crate::evidence::EvidenceRecord,
}

/// `ev show --json` output.
#[derive(Debug, Serialize)]
pub struct ShowJson {
    pub schema: &'static str,
    pub commit: CommitJson,
    pub provenance: Provenance,
    /// Declared evidence items; `null` for a snapshot of plain paths.
    pub items: Option<Vec<EvidenceItem>>,
    /// Files and symlinks changed against the first parent (all files for a root commit).
    pub changes: Vec<Change>,
}

pub fn cmd_show(ctx: &Context, args: &ShowArgs) -> CmdResult {
    let (rev, path) = split_path(&args.revision);
    if let Some(path) = path {
        return show_path(ctx, rev, path, args.json, args.raw);
    }
    let repo = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let id = ctx.resolve_commit(&repo, &store, rev)?;
    let commit = store.read_commit(&id)?;
    let items = match &commit.evidence {
        Some(record) => Some(
            store
                .read_json::<EvidenceRecord>(ObjectKind::Record, record)?
                .items,
        ),
        None => None,
    };
    let parent_tree = match commit.parents.first() {
        Some(parent) => Some(store.read_commit(parent)?.tree),
        None => None,
    };
    let changes = tree_walk::changes(&store, parent_tree.as_ref(), &commit.tree)?;
    let refs = repo.refs();
    let names = decorations(&refs);
    let head = HeadState::read(&refs);

    let mut out = std::io::stdout().lock();
    if args.json {
        let json = ShowJson {
            schema: "ev.show/1",
            commit: CommitJson::new(id, &commit, ref_names_json(&id, &names, &head)),
            provenance: commit.provenance.clone(),
            items,
            changes,
        };
        write_json(&mut out, &json)?;
        return Ok(Outcome::Success);
    }

    let decoration = decoration_text(ctx, &id, &names, &head);
    write_commit_text(&mut out, ctx, &id, &commit, &decoration)?;
    writeln!(out)?;
    if let Some(git) = &commit.provenance.git {
        writeln!(
            out,
            "Git:    {} on {}{}",
            git.commit.as_deref().unwrap_or("(no commit)"),
            git.branch.as_deref().unwrap_or("(detached)"),
            if git.dirty { ", dirty" } else { "" }
        )?;
    }
    if let Some(ci) = &commit.provenance.ci {
        writeln!(
            out,
            "CI:     {} run {}{}",
            ci.provider,
            ci.run_id.as_deref().unwrap_or("(unknown)"),
            ci.run_url
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default()
        )?;
    }
    if let Some(items) = &items {
        writeln!(out, "Items:")?;
        for item in items {
            let paths: Vec<&str> = item.paths.iter().map(|p| p.as_str()).collect();
            writeln!(
                out,
                "    {} ({}): {}",
                item.name,
                item.kind,
                paths.join(", ")
            )?;
        }
    }
    if commit.provenance.git.is_some() || commit.provenance.ci.is_some() || items.is_some() {
        writeln!(out)?;
    }
    for change in &changes {
        let letter = change.status.letter().to_string();
        let painted = match change.status {
            tree_walk::ChangeStatus::Added => ctx.style.added(&letter),
            tree_walk::ChangeStatus::Deleted => ctx.style.removed(&letter),
            _ => letter,
        };
        writeln!(out, "{painted}\t{}", change.path)?;
    }
    Ok(Outcome::Success)
}

fn show_path(ctx: &Context, rev: &str, path: &str, json: bool, raw: bool) -> CmdResult {
    let repo = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let id = ctx.resolve_commit(&repo, &store, rev)?;
    let commit = store.read_commit(&id)?;
    let items = match &commit.evidence {
        Some(evidence) => {
            store
                .read_json::<EvidenceRecord>(ObjectKind::Record, evidence)?
                .items
        }
        None => Vec::new(),
    };
    if !raw {
        // An item's name shows its typed record. So does a path, when exactly one typed item
        // declares it; several items may profile one file in different ways.
        let typed: Vec<&EvidenceItem> = items.iter().filter(|item| item.record.is_some()).collect();
        let by_name = typed.iter().copied().find(|item| item.name == path);
        let declaring: Vec<&EvidenceItem> = typed
            .iter()
            .copied()
            .filter(|item| item.paths.iter().any(|p| p.as_str() == path))
            .collect();
        if by_name.is_none() && declaring.len() > 1 {
            let names: Vec<&str> = declaring.iter().map(|item| item.name.as_str()).collect();
            return Err(CliError::user(
                format!(
                    "{path} is declared by {} evidence items: {}",
                    names.len(),
                    names.join(", ")
                ),
                format!(
                    "name the item, e.g. `ev show {rev}:{}`, or add `--raw` for the file itself",
                    names[0]
                ),
            ));
        }
        if let Some(item) = by_name.or(declaring.first().copied()) {
            let record_id = item.record.expect("filtered on a present record");
            let record = crate::evidence::recorder::read_record(&store, &record_id)?;
            let mut out = std::io::stdout().lock();
            if json {
                let json = TypedRecordJson {
                    schema: "ev.typed-record/1",
                    item: &item.name,
                    record: &record,
                };
                write_json(&mut out, &json)?;
            } else {
                out.write_all(crate::evidence::render::render_record(&record).as_bytes())?;
            }
            return Ok(Outcome::Success);
        }
    }
    if path.is_empty() {
        return ls::list_and_print(ctx, &store, &id, &commit.tree, None, false, json);
    }
    let repo_path = super::rev_parse::parse_repo_path(path)?;
    let entry = match tree_walk::lookup(&store, &commit.tree, &repo_path, &id) {
        Ok(entry) => entry,
        Err(error @ TreeWalkError::NotFound { .. }) => {
            // Users often give an item name with `--raw` or for an item without a typed record.
            // It is not a path, so the hint names the item's files.
            return Err(match items.iter().find(|item| item.name == path) {
                Some(item) => CliError::user(error.to_string(), item_paths_hint(rev, item)),
                None => error.into(),
            });
        }
        Err(error) => return Err(error.into()),
    };
    if entry.entry_type == crate::object::EntryType::Tree {
        return ls::list_and_print(ctx, &store, &id, &entry.id, Some(&repo_path), false, json);
    }
    cat::write_entry(&store, &repo_path, &entry)
}

/// Suggests the file paths of `item`, whose name was given where a path is needed.
fn item_paths_hint(rev: &str, item: &EvidenceItem) -> String {
    let paths: Vec<&str> = item.paths.iter().map(|p| p.as_str()).collect();
    match paths.as_slice() {
        [] => format!(
            "{:?} is an evidence item that covered no files in this commit",
            item.name
        ),
        [one] => format!(
            "{:?} is an evidence item, not a path. Show its file with `ev show {rev}:{one} --raw`",
            item.name
        ),
        [first, ..] => format!(
            "{:?} is an evidence item, not a path. Its paths are {}. Show one with \
             `ev show {rev}:{first} --raw`",
            item.name,
            paths.join(", ")
        ),
    }
}
