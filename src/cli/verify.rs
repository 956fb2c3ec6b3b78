//! `ev verify [--json]`: check every object reachable from refs and reflogs.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::context::ProgressUnit;
use super::output::write_json;
use super::{CmdResult, Context, Outcome};
use crate::refs::RefName;
use crate::repo::Repository;
use crate::verify::{self, Report, Root};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Print the report as JSON (schema ev.verify/1)
    #[arg(long)]
    pub json: bool,
}

/// `ev verify --json` output.
#[derive(Debug, Serialize)]
pub struct VerifyJson {
    pub schema: &'static str,
    /// Whether nothing is wrong: no findings, no damaged refs or reflog lines, not interrupted.
    pub ok: bool,
    /// Starting points: every ref and every id in every reflog.
    pub roots: usize,
    #[serde(flatten)]
    pub report: Report,
    /// Ref files that cannot be read, with the reason.
    pub damaged_refs: Vec<String>,
    /// Reflog lines that cannot be parsed, as `<ref>:<line>: <reason>`.
    pub damaged_reflog_lines: Vec<String>,
}

/// Roots of the walk and problems met while collecting them.
struct Roots {
    roots: Vec<Root>,
    damaged_refs: Vec<String>,
    damaged_reflog_lines: Vec<String>,
}

/// Every ref (HEAD included) and every old and new id of every reflog entry, so that commits a
/// ref moved away from stay verified as long as a reflog names them.
fn collect_roots(repo: &Repository) -> Result<Roots, super::CliError> {
    let refs = repo.refs();
    let mut roots = Vec::new();
    let mut damaged_refs = Vec::new();
    let mut damaged_reflog_lines = Vec::new();
    match refs.resolve(&RefName::head()) {
        Ok(Some(id)) => roots.push(Root {
            id,
            source: "HEAD".to_owned(),
        }),
        Ok(None) => {}
        Err(e) => damaged_refs.push(e.to_string()),
    }
    let listed = refs.list("refs/")?;
    damaged_refs.extend(listed.damaged.iter().map(ToString::to_string));
    for (name, id) in listed.refs {
        roots.push(Root {
            id,
            source: name.to_string(),
        });
    }
    for name in refs.reflog_names()? {
        let log = refs.reflog(&name)?;
        for damaged in &log.damaged {
            damaged_reflog_lines.push(format!(
                "{}:{}: {}",
                refs.reflog_path(&name).display(),
                damaged.line,
                damaged.reason
            ));
        }
        let count = log.entries.len();
        for (i, entry) in log.entries.iter().enumerate() {
            let source = format!("reflog {}@{{{}}}", name.short(), count - 1 - i);
            for id in [entry.old, entry.new].into_iter().flatten() {
                roots.push(Root {
                    id,
                    source: source.clone(),
                });
            }
        }
    }
    // Many reflog lines name the same commit; keep the first (most specific) source of each.
    let mut seen = std::collections::HashSet::new();
    roots.retain(|root| seen.insert(root.id));
    Ok(Roots {
        roots,
        damaged_refs,
        damaged_reflog_lines,
    })
}

pub fn cmd_verify(ctx: &Context, args: &VerifyArgs) -> CmdResult {
    let repo = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let collected = collect_roots(&repo)?;
    let progress = ctx.progress("verifying", ProgressUnit::Objects);
    let report = verify::verify(&store, &collected.roots, progress.as_ref(), &ctx.interrupt);
    drop(progress);
    if report.interrupted {
        return Err(super::CliError::interrupted());
    }
    let ok = report.is_ok()
        && collected.damaged_refs.is_empty()
        && collected.damaged_reflog_lines.is_empty();

    let mut out = std::io::stdout().lock();
    if args.json {
        let json = VerifyJson {
            schema: "ev.verify/1",
            ok,
            roots: collected.roots.len(),
            report,
            damaged_refs: collected.damaged_refs,
            damaged_reflog_lines: collected.damaged_reflog_lines,
        };
        write_json(&mut out, &json)?;
    } else {
        for finding in &report.findings {
            let problem = serde_json::to_value(finding.problem)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let headline = format!("{problem} {}: {}", finding.id, finding.message);
            writeln!(out, "{}", ctx.style.removed(&headline))?;
            for reference in &finding.referenced_by {
                let commit = reference
                    .commit
                    .map(|c| format!(" commit {}", c.short()))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "    referenced by {}{commit} {}",
                    reference.root, reference.path
                )?;
            }
            if finding.more_references > 0 {
                writeln!(out, "    and {} more references", finding.more_references)?;
            }
            writeln!(out, "    hint: {}", finding.hint)?;
        }
        for damaged in &collected.damaged_refs {
            writeln!(
                out,
                "{}",
                ctx.style.removed(&format!("damaged ref: {damaged}"))
            )?;
        }
        for line in &collected.damaged_reflog_lines {
            writeln!(
                out,
                "{}",
                ctx.style.removed(&format!("damaged reflog line: {line}"))
            )?;
        }
        let problems = report.findings.len()
            + collected.damaged_refs.len()
            + collected.damaged_reflog_lines.len();
        writeln!(
            out,
            "checked {} objects ({} bytes) from {} roots: {}",
            report.objects_checked,
            report.bytes_checked,
            collected.roots.len(),
            if ok {
                "ok".to_owned()
            } else {
                format!("{problems} problems")
            }
        )?;
    }
    Ok(if ok {
        Outcome::Success
    } else {
        Outcome::Damaged
    })
}
