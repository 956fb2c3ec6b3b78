//! `ev branch [NAME [START]] [-d] [--json]`: list, create or delete branches.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::output::write_json;
use super::{CliError, CmdResult, Context, Outcome};
use crate::id::ObjectId;
use crate::refs::{Expected, RefName};

#[derive(Debug, Args)]
pub struct BranchArgs {
    /// Branch to create (or, with -d, delete); without it, list branches
    pub name: Option<String>,
    /// Revision the new branch points at [default: HEAD]
    #[arg(requires = "name", conflicts_with = "delete")]
    pub start: Option<String>,
    /// Delete branch NAME (its reflog is kept)
    #[arg(short, long, requires = "name")]
    pub delete: bool,
    /// Print the list as JSON (schema ev.branch/1)
    #[arg(long, conflicts_with = "delete")]
    pub json: bool,
}

/// `ev branch --json` output.
#[derive(Debug, Serialize)]
pub struct BranchListJson {
    pub schema: &'static str,
    /// The branch HEAD points at; `null` when HEAD is detached.
    pub current: Option<String>,
    pub branches: Vec<RefJson>,
}

/// A ref and its commit, as `ev branch --json` and `ev tag --json` list them.
#[derive(Debug, Serialize)]
pub struct RefJson {
    /// Short name.
    pub name: String,
    /// Full name, `refs/heads/...` or `refs/tags/...`.
    #[serde(rename = "ref")]
    pub reference: String,
    pub commit: ObjectId,
}

pub fn cmd_branch(ctx: &Context, args: &BranchArgs) -> CmdResult {
    let repo = ctx.repo()?;
    let refs = repo.refs();
    let Some(short) = &args.name else {
        return list(ctx, &repo, args.json);
    };
    let name = RefName::branch(short)?;
    let signature = ctx.signature(&repo)?;
    if args.delete {
        if refs.head_target()?.as_ref() == Some(&name) {
            return Err(CliError::user(
                format!("cannot delete branch {short}: HEAD points at it"),
                "the branch HEAD points at cannot be deleted; delete another branch or keep this one",
            ));
        }
        let current = refs.resolve(&name)?.ok_or_else(|| {
            CliError::user(
                format!("branch {short:?} not found"),
                "run `ev branch` to list branches",
            )
        })?;
        refs.delete(
            &name,
            Expected::Value(current),
            &signature,
            "branch: deleted",
        )?;
        ctx.note(&format!("Deleted branch {short} (was {})", current.short()));
        return Ok(Outcome::Success);
    }

    let store = ctx.store(&repo)?;
    let start = args.start.as_deref().unwrap_or("HEAD");
    let target = ctx.resolve_commit(&repo, &store, start)?;
    if refs.read(&name)?.is_some() {
        return Err(CliError::user(
            format!("branch {short:?} already exists"),
            format!("choose another name, or delete it first with `ev branch -d {short}`"),
        ));
    }
    refs.update(
        &name,
        Expected::Absent,
        target,
        &signature,
        &format!("branch: created from {start}"),
    )?;
    ctx.note(&format!("Created branch {short} at {}", target.short()));
    Ok(Outcome::Success)
}

fn list(ctx: &Context, repo: &crate::repo::Repository, json: bool) -> CmdResult {
    let refs = repo.refs();
    let listed = refs.list("refs/heads/")?;
    for damaged in &listed.damaged {
        ctx.warn(&damaged.to_string());
    }
    let current = refs.head_target()?;
    let mut out = std::io::stdout().lock();
    if json {
        let json = BranchListJson {
            schema: "ev.branch/1",
            current: current.as_ref().map(|c| c.short().to_owned()),
            branches: listed
                .refs
                .iter()
                .map(|(name, id)| RefJson {
                    name: name.short().to_owned(),
                    reference: name.to_string(),
                    commit: *id,
                })
                .collect(),
        };
        write_json(&mut out, &json)?;
        return Ok(Outcome::Success);
    }
    for (name, id) in &listed.refs {
        let marker = if current.as_ref() == Some(name) {
            "*"
        } else {
            " "
        };
        writeln!(
            out,
            "{marker} {} {}",
            ctx.style.refname(name.short()),
            ctx.style.id(&id.short())
        )?;
    }
    Ok(Outcome::Success)
}
