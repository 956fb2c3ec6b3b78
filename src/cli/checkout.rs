//! `ev checkout REV [PATH]... --to DIR [--force]`: write a snapshot's files into a folder.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::context::ProgressUnit;
use super::output::write_json;
use super::rev_parse::parse_repo_path;
use super::{CliError, CmdResult, Context, Outcome};
use crate::checkout::{self, CheckoutOptions};
use crate::id::ObjectId;

#[derive(Debug, Args)]
pub struct CheckoutArgs {
    /// Revision to check out
    pub revision: String,
    /// Files or folders inside the snapshot to write [default: everything]
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Folder to write into; created if missing. The workspace is never overwritten implicitly
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Overwrite existing files whose content differs
    #[arg(long)]
    pub force: bool,
    /// Print what was written as JSON (schema ev.checkout/1)
    #[arg(long)]
    pub json: bool,
}

/// `ev checkout --json` output.
#[derive(Debug, Serialize)]
pub struct CheckoutJson {
    pub schema: &'static str,
    pub commit: ObjectId,
    pub to: String,
    #[serde(flatten)]
    pub outcome: checkout::Outcome,
}

pub fn cmd_checkout(ctx: &Context, args: &CheckoutArgs) -> CmdResult {
    let repo = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let id = ctx.resolve_commit(&repo, &store, &args.revision)?;
    let commit = store.read_commit(&id)?;
    let paths = args
        .paths
        .iter()
        .map(|p| parse_repo_path(p))
        .collect::<Result<Vec<_>, _>>()?;
    let dest = if args.to.is_absolute() {
        args.to.clone()
    } else {
        ctx.cwd.join(&args.to)
    };
    // Without this check a file at DIR fails later as an I/O error on DIR/first-entry.
    if dest.exists() && !dest.is_dir() {
        return Err(CliError::user(
            format!("--to {} exists and is not a folder", dest.display()),
            "give a folder for --to; it is created if missing",
        ));
    }
    let progress = ctx.progress("checking out", ProgressUnit::Bytes);
    let outcome = checkout::checkout(
        &store,
        &commit.tree,
        &paths,
        &dest,
        &CheckoutOptions { force: args.force },
        progress.as_ref(),
        &ctx.interrupt,
    )?;
    drop(progress);

    for skipped in &outcome.skipped {
        ctx.warn(&format!(
            "{}: not written: {}",
            skipped.path, skipped.reason
        ));
    }
    let skipped = outcome.skipped.len();
    if args.json {
        let json = CheckoutJson {
            schema: "ev.checkout/1",
            commit: id,
            to: dest.display().to_string(),
            outcome,
        };
        write_json(&mut std::io::stdout().lock(), &json)?;
    } else {
        ctx.note(&format!(
            "Checked out {} into {}: {} written, {} unchanged, {} skipped",
            id.short(),
            dest.display(),
            outcome.written.len(),
            outcome.unchanged.len(),
            skipped
        ));
        std::io::stdout().lock().flush()?;
    }
    // With --force only folders in the way of files are left, which --force does not replace.
    if skipped > 0 && args.force {
        return Err(CliError::user(
            format!(
                "{skipped} paths in {} were not written because a folder is in the way",
                dest.display()
            ),
            "remove or rename the folders named in the warnings, or check out into an empty folder",
        ));
    }
    if skipped > 0 {
        return Err(CliError::user(
            format!(
                "{skipped} paths in {} differ from the snapshot and were not overwritten",
                dest.display()
            ),
            "pass --force to overwrite them, or check out into an empty folder",
        ));
    }
    Ok(Outcome::Success)
}
