//! `ev reflog [REF] [--json]`: how a ref changed over time, newest first.

use clap::Args;
use serde::Serialize;

use super::output::{format_time, write_json};
use super::{CliError, CmdResult, Context, Outcome};
use crate::id::ObjectId;
use crate::refs::{RefName, ReflogEntry};
use crate::revision::lookup_ref;

#[derive(Debug, Args)]
pub struct ReflogArgs {
    /// Ref whose history to show: HEAD, a branch or tag name, or a full refs/... name
    #[arg(default_value = "HEAD")]
    pub reference: String,
    /// Print JSON (schema ev.reflog/1)
    #[arg(long)]
    pub json: bool,
}

/// `ev reflog --json` output.
#[derive(Debug, Serialize)]
pub struct ReflogJson {
    pub schema: &'static str,
    /// Full ref name.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Newest first; `index` is the N of `REF@{N}`.
    pub entries: Vec<ReflogJsonEntry>,
    /// Lines that could not be parsed and were skipped.
    pub damaged_lines: Vec<usize>,
}

#[derive(Debug, Serialize)]
pub struct ReflogJsonEntry {
    pub index: usize,
    pub time: String,
    pub who: String,
    pub old: Option<ObjectId>,
    pub new: Option<ObjectId>,
    pub message: String,
}

pub fn cmd_reflog(ctx: &Context, args: &ReflogArgs) -> CmdResult {
    let repo = ctx.repo()?;
    let refs = repo.refs();
    let name = match lookup_ref(&refs, &args.reference)? {
        Some(name) => name,
        // A deleted branch keeps its reflog; look for the log file itself.
        None => find_logged(&refs, &args.reference)?.ok_or_else(|| {
            CliError::user(
                format!("ref {:?} not found", args.reference),
                "run `ev branch` or `ev tag` to list names",
            )
        })?,
    };
    let log = refs.reflog(&name)?;
    for damaged in &log.damaged {
        ctx.warn(&format!(
            "{}: line {} is damaged and was skipped ({})",
            refs.reflog_path(&name).display(),
            damaged.line,
            damaged.reason
        ));
    }
    let count = log.entries.len();
    let newest_first = log.entries.iter().rev().enumerate();

    let mut out = std::io::stdout().lock();
    if args.json {
        let json = ReflogJson {
            schema: "ev.reflog/1",
            reference: name.to_string(),
            entries: newest_first.map(|(i, e)| json_entry(i, e)).collect(),
            damaged_lines: log.damaged.iter().map(|d| d.line).collect(),
        };
        write_json(&mut out, &json)?;
        return Ok(Outcome::Success);
    }
    use std::io::Write;
    for (index, entry) in newest_first {
        let id = entry
            .new
            .map_or_else(|| "(deleted)".to_owned(), |id| id.short());
        writeln!(
            out,
            "{} {}@{{{index}}} {} {}: {}",
            ctx.style.id(&id),
            name.short(),
            format_time(&entry.time),
            entry.who,
            entry.message
        )?;
    }
    if count == 0 {
        ctx.note(&format!("{} has no reflog entries", name.short()));
    }
    Ok(Outcome::Success)
}

fn json_entry(index: usize, entry: &ReflogEntry) -> ReflogJsonEntry {
    ReflogJsonEntry {
        index,
        time: format_time(&entry.time),
        who: entry.who.clone(),
        old: entry.old,
        new: entry.new,
        message: entry.message.clone(),
    }
}

fn find_logged(refs: &crate::refs::RefStore, short: &str) -> Result<Option<RefName>, CliError> {
    for candidate in crate::revision::ref_candidates(short) {
        if let Ok(name) = RefName::new(&candidate)
            && refs.reflog_path(&name).is_file()
        {
            return Ok(Some(name));
        }
    }
    Ok(None)
}
