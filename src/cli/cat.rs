//! `ev cat REV:PATH`: stream a file's bytes from a snapshot to stdout.

use std::io::{self, Write};

use clap::Args;

use super::rev_parse::parse_repo_path;
use super::{CliError, CmdResult, Context, Outcome};
use crate::object::{EntryType, TreeEntry};
use crate::repo_path::RepoPath;
use crate::revision::split_path;
use crate::store::{Store, StoreError};
use crate::tree_walk::{self, TreeWalkError};

#[derive(Debug, Args)]
pub struct CatArgs {
    /// REV:PATH of the file to print, e.g. HEAD:data/flights.csv
    #[arg(value_name = "REV:PATH")]
    pub target: String,
}

pub fn cmd_cat(ctx: &Context, args: &CatArgs) -> CmdResult {
    let (rev, path) = split_path(&args.target);
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return Err(CliError::user(
            format!("{:?} names no file", args.target),
            "write REV:PATH, e.g. `ev cat HEAD:data/flights.csv`",
        ));
    };
    let repo = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let id = ctx.resolve_commit(&repo, &store, rev)?;
    let commit = store.read_commit(&id)?;
    let path = parse_repo_path(path)?;
    let entry = tree_walk::lookup(&store, &commit.tree, &path, &id)?;
    write_entry(&store, &path, &entry)
}

/// Streams a file's content (or a symlink's target) to stdout in bounded memory.
pub fn write_entry(store: &Store, path: &RepoPath, entry: &TreeEntry) -> CmdResult {
    if entry.entry_type == EntryType::Tree {
        return Err(TreeWalkError::IsFolder { path: path.clone() }.into());
    }
    let mut reader = store.open_file_reader(&entry.id)?;
    let mut out = io::stdout().lock();
    // Read errors carry store errors (hash mismatch, missing chunk); write errors are stdout's.
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match io::Read::read(&mut reader, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        out.write_all(&buf[..n])?;
    }
    out.flush()?;
    Ok(Outcome::Success)
}

fn read_error(e: io::Error) -> CliError {
    let text = e.to_string();
    match e.into_inner().map(|inner| inner.downcast::<StoreError>()) {
        Some(Ok(store_error)) => CliError::from(*store_error),
        Some(Err(_)) | None => CliError::new(
            super::ErrorClass::Damaged,
            format!("failed to read stored file: {text}"),
        )
        .with_hint("run `ev verify` to check the whole repository"),
    }
}
