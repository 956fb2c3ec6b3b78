//! `ev rev-parse REV[:PATH]`: print the full id a revision (or a path in it) names.

use std::io::Write;

use clap::Args;

use super::{CliError, CmdResult, Context, Outcome};
use crate::repo_path::RepoPath;
use crate::revision::split_path;
use crate::tree_walk;

#[derive(Debug, Args)]
pub struct RevParseArgs {
    /// Revision (see docs/cli.md, "Revisions"); REV:PATH prints the id of that file or folder
    pub revision: String,
}

pub fn cmd_rev_parse(ctx: &Context, args: &RevParseArgs) -> CmdResult {
    let repo = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let (rev, path) = split_path(&args.revision);
    let commit_id = ctx.resolve_commit(&repo, &store, rev)?;
    let id = match path {
        None => commit_id,
        Some("") => store.read_commit(&commit_id)?.tree,
        Some(path) => {
            let path = parse_repo_path(path)?;
            let commit = store.read_commit(&commit_id)?;
            tree_walk::lookup(&store, &commit.tree, &path, &commit_id)?.id
        }
    };
    writeln!(std::io::stdout().lock(), "{id}")?;
    Ok(Outcome::Success)
}

/// Parses a path given after `REV:` or as an argument; a trailing `/` is allowed.
pub fn parse_repo_path(path: &str) -> Result<RepoPath, CliError> {
    let trimmed = path
        .strip_prefix("./")
        .unwrap_or(path)
        .trim_end_matches('/');
    RepoPath::new(trimmed).map_err(|e| {
        CliError::user(
            e.to_string(),
            "give a '/'-separated path relative to the snapshot root",
        )
    })
}
