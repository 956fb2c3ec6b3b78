//! Renderers of a [`DiffReport`]: human text, one line per change (`--stat`), JSON and a
//! Markdown block for incident tickets. Renderers return strings; colour is applied by a
//! caller-supplied [`Paint`] so the library never decides about terminals.

use std::fmt::Write;

use super::drift::{ColumnDrift, DriftStatus};
use super::items::format_number;
use super::report::{Category, Change, Detail, DiffReport, Severity};

/// Colouring hooks; [`NoPaint`] leaves text as is.
pub trait Paint {
    fn severity(&self, severity: Severity, text: &str) -> String {
        let _ = severity;
        text.to_owned()
    }
}

/// No colour.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPaint;

impl Paint for NoPaint {}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn arrow(old: &Option<String>, new: &Option<String>) -> String {
    match (old, new) {
        (Some(a), Some(b)) => format!("{a} → {b}"),
        (Some(a), None) => format!("{a} → (none)"),
        (None, Some(b)) => format!("(none) → {b}"),
        (None, None) => String::new(),
    }
}

fn delta(abs: Option<f64>, rel: Option<f64>) -> String {
    match (abs, rel) {
        (Some(a), Some(r)) => format!(" (Δ {:+}, {:+.2}%)", Sig(a), r * 100.0),
        (Some(a), None) => format!(" (Δ {:+})", Sig(a)),
        _ => String::new(),
    }
}

/// Displays a float with up to 6 significant decimals, keeping the sign flag.
struct Sig(f64);

impl std::fmt::Display for Sig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = format_number(self.0);
        if f.sign_plus() && self.0 >= 0.0 {
            write!(f, "+{text}")
        } else {
            f.write_str(&text)
        }
    }
}

/// Scores of a column; with `changed_only`, just those above their bound.
fn drift_scores(d: &ColumnDrift, changed_only: bool) -> String {
    let mut parts = Vec::new();
    for s in &d.scores {
        let Some(v) = s.value else { continue };
        if changed_only && s.status != DriftStatus::Changed {
            continue;
        }
        let mark = if s.status == DriftStatus::Changed {
            "!"
        } else {
            ""
        };
        parts.push(format!(
            "{}{mark} {} (threshold {}, noise {})",
            s.metric.as_str(),
            score_text(v),
            format_number(s.threshold),
            score_text(s.noise)
        ));
    }
    parts.join(", ")
}

/// Formats a score: four decimals, or two significant digits below 0.001 so a small noise
/// expectation does not print as 0.
fn score_text(x: f64) -> String {
    if x != 0.0 && x.is_finite() && x.abs() < 1e-3 {
        format!("{x:.1e}")
    } else {
        format_number(round4(x))
    }
}

fn round4(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1e4).round() / 1e4
    } else {
        x
    }
}

/// One-line summary of a change: category, kind, item and path, then [`describe`].
pub fn summary(change: &Change) -> String {
    let target = match (change.item.is_empty(), change.path.is_empty()) {
        (true, _) => change.path.clone(),
        (false, true) => change.item.clone(),
        (false, false) => format!("{}: {}", change.item, change.path),
    };
    let head = if change.kind == change.category.as_str() {
        change.category.as_str().to_owned()
    } else {
        format!("{} {}", change.category.as_str(), change.kind)
    };
    let text = describe(change);
    if text.is_empty() {
        format!("{head} {target}")
    } else {
        format!("{head} {target} {text}")
    }
}

/// Describes what changed, without category and target: sizes, row counts, scores, old → new.
pub fn describe(change: &Change) -> String {
    let mut line = String::new();
    match &change.detail {
        Detail::File(f) => {
            if let Some(from) = &f.renamed_from {
                let _ = write!(line, " (from {from})");
            }
            match (f.old_size, f.new_size) {
                (Some(a), Some(b)) if a != b => {
                    let _ = write!(line, " {a} → {b} bytes");
                }
                (Some(a), None) => {
                    let _ = write!(line, " {a} bytes");
                }
                (_, Some(b)) => {
                    let _ = write!(line, " {b} bytes");
                }
                _ => {}
            }
        }
        Detail::Golden(t) => {
            let _ = write!(
                line,
                " {} added, {} removed, {} changed, {} within tolerance",
                t.rows_added, t.rows_removed, t.rows_changed, t.rows_within_tolerance
            );
        }
        Detail::Drift(d) => {
            let _ = write!(line, " {}", drift_scores(d, true));
            if let (Some(a), Some(b)) = (d.base_mean, d.candidate_mean) {
                let _ = write!(
                    line,
                    "; mean {} → {}",
                    format_number(round4(a)),
                    format_number(round4(b))
                );
            }
            let _ = write!(line, "; rows {} → {}", d.base_rows, d.candidate_rows);
        }
        Detail::Metric(m) => {
            let _ = write!(
                line,
                " {}{}",
                arrow(&m.old, &m.new),
                delta(m.abs_delta, m.rel_delta)
            );
        }
        Detail::Model(super::items::ModelChange::Metadata(m)) => {
            let _ = write!(
                line,
                " {}{}",
                arrow(&m.old, &m.new),
                delta(m.abs_delta, m.rel_delta)
            );
        }
        Detail::Triage(t) => {
            let _ = write!(
                line,
                "{} mean {} → {} overall",
                t.column,
                format_number(round4(t.base_mean)),
                format_number(round4(t.candidate_mean))
            );
            if let Some(top) = t.slices.first() {
                let _ = write!(
                    line,
                    "; this slice {} → {}, explains {}",
                    top.contribution
                        .base_mean
                        .map_or("-".into(), |v| format_number(round4(v))),
                    top.contribution
                        .candidate_mean
                        .map_or("-".into(), |v| format_number(round4(v))),
                    top.share_of_change
                        .map_or("-".into(), |s| format!("{:.0}%", s * 100.0))
                );
            }
        }
        _ => {
            let text = arrow(&change.old, &change.new);
            if !text.is_empty() {
                let _ = write!(line, " {text}");
            }
        }
    }
    line.trim_start().to_owned()
}

fn details(change: &Change, out: &mut String) {
    match &change.detail {
        Detail::Golden(t) => {
            for c in &t.casts {
                let _ = writeln!(
                    out,
                    "      cast {}: {} → {} ({})",
                    c.column,
                    c.base_type,
                    c.candidate_type,
                    c.compared_as.as_deref().unwrap_or("not compared")
                );
            }
            for (column, c) in &t.columns {
                if c.changed > 0 {
                    let _ = writeln!(
                        out,
                        "      column {column}: {} changed, max |Δ| {}",
                        c.changed,
                        c.max_abs_delta.map_or("-".into(), format_number)
                    );
                }
            }
            for row in &t.examples {
                let key = row.key.join(", ");
                let status = match row.status {
                    super::table::RowStatus::Added => "+",
                    super::table::RowStatus::Removed => "-",
                    super::table::RowStatus::Changed => "~",
                };
                let _ = write!(out, "      {status} [{key}]");
                for cell in &row.cells {
                    let _ = write!(
                        out,
                        " {}: {} → {}{}",
                        cell.column,
                        cell.old,
                        cell.new,
                        delta(cell.abs_delta, cell.rel_delta)
                    );
                }
                out.push('\n');
            }
        }
        Detail::Triage(t) => {
            for s in &t.slices {
                let _ = writeln!(
                    out,
                    "      {}={}: mix {}, within {}, interaction {}, total {}{}",
                    s.slice_column,
                    s.slice_value.as_deref().unwrap_or("null"),
                    format_number(round4(s.contribution.mix)),
                    format_number(round4(s.contribution.within)),
                    format_number(round4(s.contribution.interaction)),
                    format_number(round4(s.total)),
                    if s.sufficient {
                        ""
                    } else {
                        " (slice too small)"
                    }
                );
            }
        }
        Detail::Drift(d) => {
            let _ = writeln!(out, "      scores: {}", drift_scores(d, false));
            if !d.new_categories.is_empty() {
                let _ = writeln!(out, "      new categories: {}", d.new_categories.join(", "));
            }
            if !d.vanished_categories.is_empty() {
                let _ = writeln!(
                    out,
                    "      vanished categories: {}",
                    d.vanished_categories.join(", ")
                );
            }
            if let Some(r) = &d.range {
                let _ = writeln!(
                    out,
                    "      range {}..{} → {}..{} ({:.1}% below, {:.1}% above)",
                    format_number(r.base_min),
                    format_number(r.base_max),
                    format_number(r.candidate_min),
                    format_number(r.candidate_max),
                    r.below * 100.0,
                    r.above * 100.0
                );
            }
        }
        Detail::Schema(super::schema::SchemaChange::TypeChanged { change, .. }) => {
            let note = if change.note.is_empty() {
                String::new()
            } else {
                format!(": {}", change.note)
            };
            let _ = writeln!(out, "      {:?}{note}", change.class);
        }
        Detail::Schema(super::schema::SchemaChange::Categories { added, removed, .. }) => {
            let _ = writeln!(
                out,
                "      new: {}; lost: {}",
                added.join(", "),
                removed.join(", ")
            );
        }
        _ => {}
    }
}

/// Human text, most severe first, with details under each change.
pub fn render_text(report: &DiffReport, paint: &dyn Paint) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "diff {}..{}",
        short(&report.base),
        short(&report.candidate)
    );
    if report.changes.is_empty() {
        out.push_str("no differences\n");
    }
    for change in &report.changes {
        let tag = paint.severity(change.severity, &format!("[{}]", change.severity.as_str()));
        let _ = writeln!(out, "{tag} {}", summary(change));
        details(change, &mut out);
    }
    for note in &report.notes {
        let prefix = if note.item.is_empty() {
            String::new()
        } else {
            format!("{}: ", note.item)
        };
        let _ = writeln!(out, "note: {prefix}{}", note.message);
    }
    out
}

/// Renders one line per changed item: severity, category, kind, item and path.
pub fn render_stat(report: &DiffReport) -> String {
    let mut out = String::new();
    for change in &report.changes {
        let _ = writeln!(out, "{:<8} {}", change.severity.as_str(), summary(change));
    }
    let _ = writeln!(
        out,
        "{} change{}",
        report.changes.len(),
        if report.changes.len() == 1 { "" } else { "s" }
    );
    out
}

/// Pretty JSON of the report (schema `ev.diff/1`), newline-terminated.
pub fn render_json(report: &DiffReport) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .expect("DiffReport serializes: string keys and no non-finite floats reach serde_json");
    text.push('\n');
    text
}

/// Renders a Markdown block for an incident ticket.
pub fn render_markdown(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### ev diff `{}`..`{}`\n",
        short(&report.base),
        short(&report.candidate)
    );
    if report.changes.is_empty() {
        out.push_str("No differences.\n");
        return out;
    }
    out.push_str("| Severity | Category | Item | What | Change |\n|---|---|---|---|---|\n");
    for change in &report.changes {
        let what = if change.path.is_empty() {
            &change.kind
        } else {
            &change.path
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            change.severity.as_str(),
            change.category.as_str(),
            escape(&change.item),
            escape(what),
            escape(&describe(change))
        );
    }
    if !report.notes.is_empty() {
        out.push_str("\nNotes:\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {}: {}", escape(&note.item), escape(&note.message));
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Counts of changes by category, for summaries.
pub fn counts(report: &DiffReport) -> Vec<(Category, usize)> {
    let mut out: Vec<(Category, usize)> = Vec::new();
    for change in &report.changes {
        match out.iter_mut().find(|(c, _)| *c == change.category) {
            Some(slot) => slot.1 += 1,
            None => out.push((change.category, 1)),
        }
    }
    out.sort();
    out
}
