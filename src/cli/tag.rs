//! `ev tag [NAME [REV]] [-d] [--json]`: list, create or delete tags.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::branch::RefJson;
use super::output::write_json;
use super::{CliError, CmdResult, Context, Outcome};
use crate::refs::{Expected, RefName};

#[derive(Debug, Args)]
pub struct TagArgs {
    /// Tag to create (or, with -d, delete); without it, list tags
    pub name: Option<String>,
    /// Revision the tag points at [default: HEAD]
    #[arg(requires = "name", conflicts_with = "delete")]
    pub revision: Option<String>,
    /// Delete tag NAME (its reflog is kept)
    #[arg(short, long, requires = "name")]
    pub delete: bool,
    /// Print the list as JSON (schema ev.tag/1)
    #[arg(long, conflicts_with = "delete")]
    pub json: bool,
}

/// `ev tag --json` output.
#[derive(Debug, Serialize)]
pub struct TagListJson {
    pub schema: &'static str,
    pub tags: Vec<RefJson>,
}

pub fn cmd_tag(ctx: &Context, args: &TagArgs) -> CmdResult {
    let repo = ctx.repo()?;
    let refs = repo.refs();
    let Some(short) = &args.name else {
        let listed = refs.list("refs/tags/")?;
        for damaged in &listed.damaged {
            ctx.warn(&damaged.to_string());
        }
        let mut out = std::io::stdout().lock();
        if args.json {
            let json = TagListJson {
                schema: "ev.tag/1",
                tags: listed
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
        } else {
            for (name, id) in &listed.refs {
                writeln!(out, "{} {}", name.short(), ctx.style.id(&id.short()))?;
            }
        }
        return Ok(Outcome::Success);
    };

    let name = RefName::tag(short)?;
    let signature = ctx.signature(&repo)?;
    if args.delete {
        let current = refs.resolve(&name)?.ok_or_else(|| {
            CliError::user(
                format!("tag {short:?} not found"),
                "run `ev tag` to list tags",
            )
        })?;
        refs.delete(&name, Expected::Value(current), &signature, "tag: deleted")?;
        ctx.note(&format!("Deleted tag {short} (was {})", current.short()));
        return Ok(Outcome::Success);
    }
    let store = ctx.store(&repo)?;
    let revision = args.revision.as_deref().unwrap_or("HEAD");
    let target = ctx.resolve_commit(&repo, &store, revision)?;
    if refs.read(&name)?.is_some() {
        return Err(CliError::user(
            format!("tag {short:?} already exists"),
            format!("tags do not move: delete it first with `ev tag -d {short}`"),
        ));
    }
    refs.update(
        &name,
        Expected::Absent,
        target,
        &signature,
        &format!("tag: created at {revision}"),
    )?;
    ctx.note(&format!("Created tag {short} at {}", target.short()));
    Ok(Outcome::Success)
}
