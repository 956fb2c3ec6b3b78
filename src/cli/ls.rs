//! `ev ls REV [PATH] [-r] [--json]`: list the files of a snapshot.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::output::write_json;
use super::rev_parse::parse_repo_path;
use super::{CmdResult, Context, Outcome};
use crate::id::ObjectId;
use crate::object::EntryType;
use crate::repo_path::RepoPath;
use crate::store::Store;
use crate::tree_walk::{self, Listed, TreeWalkError};

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Revision to list
    #[arg(default_value = "HEAD")]
    pub revision: String,
    /// Folder (or file) inside the snapshot to list
    pub path: Option<String>,
    /// List every file below, not just the direct entries
    #[arg(short, long)]
    pub recursive: bool,
    /// Print JSON (schema ev.ls/1)
    #[arg(long)]
    pub json: bool,
}

/// `ev ls --json` output.
#[derive(Debug, Serialize)]
pub struct LsJson {
    pub schema: &'static str,
    pub commit: ObjectId,
    /// The listed folder; `null` for the snapshot root.
    pub path: Option<RepoPath>,
    pub entries: Vec<Listed>,
}

pub fn cmd_ls(ctx: &Context, args: &LsArgs) -> CmdResult {
    let repo = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let id = ctx.resolve_commit(&repo, &store, &args.revision)?;
    let commit = store.read_commit(&id)?;
    let Some(path) = args.path.as_deref().filter(|p| !p.is_empty() && *p != ".") else {
        return list_and_print(
            ctx,
            &store,
            &id,
            &commit.tree,
            None,
            args.recursive,
            args.json,
        );
    };
    let path = parse_repo_path(path)?;
    let entry = tree_walk::lookup(&store, &commit.tree, &path, &id)?;
    if entry.entry_type == EntryType::Tree {
        return list_and_print(
            ctx,
            &store,
            &id,
            &entry.id,
            Some(&path),
            args.recursive,
            args.json,
        );
    }
    // A file lists as itself, as `ls FILE` does.
    let listed = vec![Listed {
        path: path.clone(),
        entry_type: entry.entry_type,
        id: entry.id,
        size: entry.size,
    }];
    print(ctx, &id, Some(&path), &listed, args.json)
}

/// Lists tree `tree` (at `path` in commit `commit`) and prints it.
pub fn list_and_print(
    ctx: &Context,
    store: &Store,
    commit: &ObjectId,
    tree: &ObjectId,
    path: Option<&RepoPath>,
    recursive: bool,
    json: bool,
) -> CmdResult {
    let entries = tree_walk::list(store, tree, path, recursive).map_err(|e| match e {
        TreeWalkError::Store(e) => super::CliError::from(e),
        other => super::CliError::from(other),
    })?;
    print(ctx, commit, path, &entries, json)
}

fn print(
    ctx: &Context,
    commit: &ObjectId,
    path: Option<&RepoPath>,
    entries: &[Listed],
    json: bool,
) -> CmdResult {
    let mut out = std::io::stdout().lock();
    if json {
        let json = LsJson {
            schema: "ev.ls/1",
            commit: *commit,
            path: path.cloned(),
            entries: entries.to_vec(),
        };
        write_json(&mut out, &json)?;
        return Ok(Outcome::Success);
    }
    for entry in entries {
        let kind = match entry.entry_type {
            EntryType::File => "file   ",
            EntryType::Exec => "exec   ",
            EntryType::Symlink => "symlink",
            EntryType::Tree => "tree   ",
        };
        let suffix = if entry.entry_type == EntryType::Tree {
            "/"
        } else {
            ""
        };
        writeln!(
            out,
            "{kind} {} {:>12}  {}{suffix}",
            ctx.style.id(&entry.id.short()),
            entry.size,
            entry.path
        )?;
    }
    Ok(Outcome::Success)
}
