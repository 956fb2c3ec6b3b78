//! `ev commit -m MSG [--label K=V]... [--branch B] [PATH]...`: snapshot the workspace.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::context::ProgressUnit;
use super::{CliError, CmdResult, Context, Outcome};
use crate::evidence::recorder::EvidenceRecorder;
use crate::provenance;
use crate::refs::RefName;
use crate::snapshot::{self, SnapshotRequest};

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Commit message
    #[arg(short, long, value_name = "MSG")]
    pub message: String,
    /// Attach a label KEY=VALUE (repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Commit to this branch instead of HEAD's; a new branch starts with a root commit
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Store a failing golden command (non-zero exit, timeout) as evidence instead of aborting
    #[arg(long)]
    pub allow_failed: bool,
    /// Files and folders to snapshot as plain evidence, instead of the items of evidence.toml
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

pub fn cmd_commit(ctx: &Context, args: &CommitArgs) -> CmdResult {
    let repo = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let labels = parse_labels(&args.labels)?;
    let branch = args.branch.as_deref().map(RefName::branch).transpose()?;

    let collected = provenance::collect(repo.work_tree(), &provenance::process_env);
    for warning in &collected.warnings {
        ctx.warn(warning);
    }
    // As git does, an empty message is rejected: auditors read these messages to learn why a
    // snapshot was taken.
    if args.message.trim().is_empty() {
        return Err(CliError::user(
            "commit message is empty",
            "say why the snapshot was taken, e.g. -m \"nightly run 2026-12-04\"",
        ));
    }
    for path in &args.paths {
        if std::fs::symlink_metadata(ctx.cwd.join(path)).is_err() {
            return Err(CliError::user(
                format!("path {path:?} not found"),
                "give existing files or folders inside the workspace",
            ));
        }
    }
    // Paths on the command line are relative to where ev runs, not to the workspace root.
    let paths = args
        .paths
        .iter()
        .map(|p| {
            if p.is_absolute() {
                p.clone()
            } else {
                ctx.cwd.join(p)
            }
        })
        .collect();
    let request = SnapshotRequest {
        message: args.message.clone(),
        labels,
        branch,
        paths,
        author: ctx.author(Some(&repo)),
        time: ctx.commit_time()?,
        provenance: collected.provenance,
    };
    let progress = ctx.progress("storing", ProgressUnit::Bytes);
    let outcome = snapshot::commit(
        &repo,
        &store,
        &request,
        &EvidenceRecorder {
            interrupt: &ctx.interrupt,
            allow_failed: args.allow_failed,
        },
        progress.as_ref(),
        &ctx.interrupt,
    )?;
    drop(progress);
    for warning in &outcome.warnings {
        ctx.warn(warning);
    }

    writeln!(std::io::stdout().lock(), "{}", outcome.id)?;
    let root = if outcome.parent.is_none() {
        " (root commit)"
    } else {
        ""
    };
    ctx.note(&format!(
        "[{}{root} {}] {}: {} files, {} bytes, {} bytes new{}",
        outcome.reference.short(),
        outcome.id.short(),
        args.message.lines().next().unwrap_or(""),
        outcome.files,
        outcome.bytes,
        outcome.bytes_new,
        if outcome.retries > 0 {
            format!(", {} retries after concurrent commits", outcome.retries)
        } else {
            String::new()
        }
    ));
    Ok(Outcome::Success)
}

fn parse_labels(labels: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    let mut out = BTreeMap::new();
    for label in labels {
        let Some((key, value)) = label.split_once('=') else {
            return Err(CliError::user(
                format!("invalid label {label:?}: expected KEY=VALUE"),
                "write labels as --label KEY=VALUE, e.g. --label model=v3",
            ));
        };
        // Checked here as well as in the library so that the message shows the whole argument.
        if key.is_empty() {
            return Err(CliError::user(
                format!("invalid label {label:?}: the key before '=' is empty"),
                "write labels as --label KEY=VALUE, e.g. --label model=v3",
            ));
        }
        if out.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(CliError::user(
                format!("label {key:?} is given twice"),
                "give each label key once",
            ));
        }
    }
    Ok(out)
}
