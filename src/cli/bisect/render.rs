//! Reports of `ev bisect` (JSON schema `ev.bisect/1`) and their text and Markdown renderings.

use std::fmt::Write as _;

use serde::Serialize;

use crate::bisect::auto::{AutoOptions, AutoOutcome, ItemFinding, ItemStatus, NoiseFloor};
use crate::bisect::driver::{Evidence, StepRecord};
use crate::bisect::history::CommitCache;
use crate::bisect::predicate::Evaluation;
use crate::bisect::state::{Bisection, Step, Terms, TestReason};
use crate::bisect::suspects::{Suspect, Suspects};
use crate::cli::output::format_time;
use crate::diff::render::{NoPaint, render_markdown, render_text};
use crate::diff::report::DiffReport;
use crate::id::ObjectId;

/// Version of the JSON output.
pub const SCHEMA: &str = "ev.bisect/1";

/// One evidence commit as reported.
#[derive(Clone, Debug, Serialize)]
pub struct CommitReport {
    pub id: ObjectId,
    pub summary: String,
    pub time: Option<String>,
    /// The git commit the evidence was made from, when recorded.
    pub code_commit: Option<String>,
    /// Whether the git workspace had uncommitted changes.
    pub code_dirty: Option<bool>,
}

impl CommitReport {
    fn build(cache: &mut CommitCache<'_>, id: &ObjectId) -> Self {
        match cache.get(id) {
            Ok(commit) => CommitReport {
                id: *id,
                summary: commit.message.lines().next().unwrap_or("").to_owned(),
                time: Some(format_time(&commit.time)),
                code_commit: commit
                    .provenance
                    .git
                    .as_ref()
                    .and_then(|g| g.commit.clone()),
                code_dirty: commit.provenance.git.as_ref().map(|g| g.dirty),
            },
            Err(_) => CommitReport {
                id: *id,
                summary: String::new(),
                time: None,
                code_commit: None,
                code_dirty: None,
            },
        }
    }
}

/// The git commits behind a finding, or why they are not listed.
#[derive(Clone, Debug, Serialize)]
pub struct SuspectsReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bad_code: Option<String>,
    pub commits: Vec<Suspect>,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SuspectsReport {
    pub fn note(note: &str) -> Self {
        SuspectsReport {
            good_code: None,
            bad_code: None,
            commits: Vec::new(),
            truncated: false,
            note: Some(note.to_owned()),
        }
    }

    pub fn list(list: Suspects) -> Self {
        SuspectsReport {
            good_code: Some(list.good_code),
            bad_code: Some(list.bad_code),
            commits: list.commits,
            truncated: list.truncated,
            note: None,
        }
    }
}

/// The commit to test next.
#[derive(Clone, Debug, Serialize)]
pub struct NextReport {
    pub commit: CommitReport,
    pub reason: TestReason,
    pub candidates: usize,
    pub steps_after: u32,
}

/// One tested commit of `bisect run`.
#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    pub commit: ObjectId,
    /// The term given (old term, new term or `skip`).
    pub verdict: String,
    pub evidence: Evidence,
}

/// Result of `start`, `good`, `bad`, `skip`, `replay` and `run`.
#[derive(Clone, Debug, Serialize)]
pub struct ManualReport {
    pub schema: &'static str,
    /// `manual`, `run` (a command) or `check` (a built-in predicate).
    pub mode: &'static str,
    pub terms: Terms,
    /// `testing`, `found`, `found-with-skips`, `need-new` or `need-old`.
    pub status: &'static str,
    pub first_parent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<NextReport>,
    /// The first commit in the new state (`bad` by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<CommitReport>,
    /// Skipped commits that could be the first new-state commit instead.
    pub may_also_be: Vec<CommitReport>,
    pub steps: Vec<StepReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspects: Option<SuspectsReport>,
}

impl ManualReport {
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        cache: &mut CommitCache<'_>,
        mode: &'static str,
        terms: &Terms,
        bisection: &Bisection<ObjectId>,
        step: &Step<ObjectId>,
        steps: Vec<StepRecord<ObjectId>>,
        predicate: Option<String>,
        suspects: Option<SuspectsReport>,
    ) -> Self {
        let (status, next, first_bad, may_also_be) = match step {
            Step::NeedBad => ("need-new", None, None, Vec::new()),
            Step::NeedGood => ("need-old", None, None, Vec::new()),
            Step::Test {
                commit,
                reason,
                candidates,
                steps_after,
            } => (
                "testing",
                Some(NextReport {
                    commit: CommitReport::build(cache, commit),
                    reason: *reason,
                    candidates: *candidates,
                    steps_after: *steps_after,
                }),
                None,
                Vec::new(),
            ),
            Step::Found { first_bad } => (
                "found",
                None,
                Some(CommitReport::build(cache, first_bad)),
                Vec::new(),
            ),
            Step::FoundWithSkips {
                first_bad,
                may_also_be,
            } => (
                "found-with-skips",
                None,
                Some(CommitReport::build(cache, first_bad)),
                may_also_be
                    .iter()
                    .map(|id| CommitReport::build(cache, id))
                    .collect(),
            ),
        };
        ManualReport {
            schema: SCHEMA,
            mode,
            terms: terms.clone(),
            status,
            first_parent: bisection.first_parent(),
            predicate,
            next,
            first_bad,
            may_also_be,
            steps: steps
                .into_iter()
                .map(|s| StepReport {
                    commit: s.commit,
                    verdict: terms.word(s.verdict).to_owned(),
                    evidence: s.evidence,
                })
                .collect(),
            suspects,
        }
    }
}

/// Formats the progress line shown on stderr for one tested commit.
pub fn step_line(terms: &Terms, record: &StepRecord<ObjectId>) -> String {
    let why = match &record.evidence {
        Evidence::Command {
            exit_codes,
            vote,
            timed_out,
        } => {
            // A run killed by a signal aborts the bisection before its step is recorded, so a
            // recorded run without an exit code is one that timed out.
            let codes: Vec<String> = exit_codes
                .iter()
                .map(|c| c.map_or("timeout".to_owned(), |c| c.to_string()))
                .collect();
            if *timed_out == exit_codes.len() {
                "timed out".to_owned()
            } else if exit_codes.len() > 1 {
                let timeouts = if *timed_out > 0 {
                    format!("{timed_out} timed out; ")
                } else {
                    String::new()
                };
                format!(
                    "exit {} ({timeouts}votes: {} good, {} bad, {} skip)",
                    codes.join(","),
                    vote.good,
                    vote.bad,
                    vote.skip
                )
            } else {
                format!("exit {}", codes.join(","))
            }
        }
        Evidence::Check { evaluation } => match evaluation {
            Evaluation::Decided { detail, .. } => detail.clone(),
            Evaluation::Unavailable { reason } => format!("unavailable: {reason}"),
        },
    };
    format!(
        "{} {}: {why}",
        record.commit.short(),
        terms.word(record.verdict)
    )
}

fn commit_line(c: &CommitReport) -> String {
    let mut line = format!("{} {}", c.id.short(), c.summary);
    if let Some(time) = &c.time {
        let _ = write!(line, " ({time})");
    }
    line
}

fn code_line(c: &CommitReport) -> Option<String> {
    c.code_commit.as_ref().map(|code| {
        format!(
            "code: git {code}{}",
            if c.code_dirty == Some(true) {
                " (with uncommitted changes)"
            } else {
                ""
            }
        )
    })
}

fn suspects_human(out: &mut String, suspects: &Option<SuspectsReport>) {
    let Some(s) = suspects else { return };
    if let Some(note) = &s.note {
        let _ = writeln!(out, "Suspects: {note}");
        return;
    }
    let _ = writeln!(
        out,
        "Suspect git commits ({}..{}):",
        short_git(s.good_code.as_deref()),
        short_git(s.bad_code.as_deref())
    );
    for c in &s.commits {
        let _ = writeln!(
            out,
            "  {} {} ({})",
            short_git(Some(&c.commit)),
            c.summary,
            c.author
        );
    }
    if s.truncated {
        let _ = writeln!(out, "  ... more commits not shown");
    }
}

fn short_git(id: Option<&str>) -> &str {
    id.map(|s| &s[..s.len().min(10)]).unwrap_or("?")
}

/// Human text for a manual or run report.
pub fn manual_human(r: &ManualReport) -> String {
    let mut out = String::new();
    match r.status {
        "testing" => {
            let next = r.next.as_ref().expect("status testing has a next commit");
            let why = match next.reason {
                TestReason::MergeBase => " (a merge base: it decides which side to search)",
                TestReason::Bisect => "",
            };
            let _ = writeln!(
                out,
                "Bisecting: {} candidates left, roughly {} more steps after this one{why}",
                next.candidates, next.steps_after
            );
            let _ = writeln!(out, "{}", commit_line(&next.commit));
        }
        "found" => {
            let first = r.first_bad.as_ref().expect("status found has a commit");
            let _ = writeln!(out, "{} is the first {} commit", first.id, r.terms.new);
            let _ = writeln!(out, "  {}", commit_line(first));
            if let Some(code) = code_line(first) {
                let _ = writeln!(out, "  {code}");
            }
            suspects_human(&mut out, &r.suspects);
        }
        "found-with-skips" => {
            let first = r
                .first_bad
                .as_ref()
                .expect("status found-with-skips has a commit");
            let _ = writeln!(
                out,
                "Only skipped commits are left to test. The first {} commit is {} or one of:",
                r.terms.new,
                first.id.short()
            );
            for c in &r.may_also_be {
                let _ = writeln!(out, "  {}", commit_line(c));
            }
            let _ = writeln!(
                out,
                "  {} (earliest known {})",
                commit_line(first),
                r.terms.new
            );
            suspects_human(&mut out, &r.suspects);
        }
        "need-new" => {
            let _ = writeln!(out, "Waiting for a {} commit.", r.terms.new);
        }
        _ => {
            let _ = writeln!(out, "Waiting for a {} commit.", r.terms.old);
        }
    }
    out
}

/// Markdown for a manual or run report.
pub fn manual_markdown(r: &ManualReport) -> String {
    let mut out = String::from("## ev bisect\n\n");
    if let Some(p) = &r.predicate {
        let _ = writeln!(out, "Predicate: `{p}`\n");
    }
    if !r.steps.is_empty() {
        out.push_str("| Commit | Verdict | Evidence |\n|---|---|---|\n");
        for s in &r.steps {
            let evidence = serde_json::to_string(&s.evidence).unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}` | {} | `{}` |",
                s.commit.short(),
                s.verdict,
                evidence.replace('|', "\\|")
            );
        }
        out.push('\n');
    }
    for line in manual_human(r).lines() {
        let _ = writeln!(out, "{line}  ");
    }
    out
}

/// One item's finding in auto mode.
#[derive(Clone, Debug, Serialize)]
pub struct FindingReport {
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// `column=value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
    pub statistic: String,
    /// `departed` or `non-monotonic`.
    pub status: &'static str,
    /// The first commit beyond the noise floor.
    pub commit: CommitReport,
    /// Commits after GOOD, 1 for GOOD's child.
    pub commits_after_good: usize,
    pub score: Option<f64>,
    pub noise: NoiseFloor,
    /// The floor the score beat at `commit`: `noise.floor`, or the comparison's sampling-noise
    /// bound when that is larger.
    pub floor: Option<f64>,
    /// For slices: the score times the slice's share of table rows, which must exceed the
    /// statistic's conventional threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_score: Option<f64>,
    pub n_base: Option<u64>,
    pub n_target: Option<u64>,
    /// Commits between the last commit within the floor and `commit` that could not be scored.
    pub may_also_be: Vec<ObjectId>,
    /// For non-monotonic items: each scored commit with its score and whether it is beyond.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<ObservationReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ObservationReport {
    pub commit: ObjectId,
    pub score: f64,
    pub departed: bool,
}

/// An item that could not be scored.
#[derive(Clone, Debug, Serialize)]
pub struct NotComparableReport {
    pub key: String,
    pub reason: String,
}

/// Result of `ev bisect auto`.
#[derive(Clone, Debug, Serialize)]
pub struct AutoReport {
    pub schema: &'static str,
    pub mode: &'static str,
    pub good: CommitReport,
    pub bad: CommitReport,
    /// Commits after GOOD up to BAD (first-parent chain).
    pub commits_searched: usize,
    /// First-parent commits up to GOOD used to calibrate noise floors.
    pub reference_commits: usize,
    pub options: AutoOptions,
    /// The earliest persistent departure: the first true change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_change: Option<FindingReport>,
    /// Other items departing at the same commit, strongest first.
    pub also_at_first_change: Vec<FindingReport>,
    /// Every departure (persistent or not), in commit order.
    pub timeline: Vec<FindingReport>,
    /// Non-monotonic items departing before the first change.
    pub unstable_before_first_change: Vec<FindingReport>,
    pub unchanged: usize,
    pub not_comparable: Vec<NotComparableReport>,
    /// Oracle calls (item × commit) and commit-pair comparisons made.
    pub evaluations: usize,
    pub comparisons: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspects: Option<SuspectsReport>,
    /// The command that shows the first change in full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_command: Option<String>,
    /// The first change's commit compared with its first parent (`ev diff` report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_change_diff: Option<DiffReport>,
    /// Why the diff is missing, when the comparison failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_note: Option<String>,
}

impl AutoReport {
    pub fn build(
        cache: &mut CommitCache<'_>,
        path: &[ObjectId],
        good: usize,
        options: &AutoOptions,
        outcome: &AutoOutcome,
        comparisons: usize,
        suspects: Option<SuspectsReport>,
    ) -> Self {
        let mut finding = |f: &ItemFinding| finding_report(cache, path, good, f);
        let timeline: Vec<FindingReport> = outcome
            .timeline
            .iter()
            .filter_map(|&i| finding(&outcome.findings[i]))
            .collect();
        let (first_change, also) = match &outcome.first_change {
            Some(first) => {
                let mut items = first
                    .items
                    .iter()
                    .filter_map(|&i| finding(&outcome.findings[i]));
                (items.next(), items.collect())
            }
            None => (None, Vec::new()),
        };
        let unstable = outcome
            .earlier_unstable
            .iter()
            .filter_map(|&i| finding(&outcome.findings[i]))
            .collect();
        let unchanged = outcome
            .findings
            .iter()
            .filter(|f| matches!(f.status, ItemStatus::Unchanged { .. }))
            .count();
        let not_comparable = outcome
            .findings
            .iter()
            .filter_map(|f| match &f.status {
                ItemStatus::NotComparable { reason } => Some(NotComparableReport {
                    key: f.key.to_string(),
                    reason: reason.clone(),
                }),
                _ => None,
            })
            .collect();
        let diff_command = outcome.first_change.as_ref().map(|first| {
            let commit = path[first.position];
            format!("ev diff {}^ {}", commit.short(), commit.short())
        });
        AutoReport {
            schema: SCHEMA,
            mode: "auto",
            good: CommitReport::build(cache, &path[good]),
            bad: CommitReport::build(cache, &path[path.len() - 1]),
            commits_searched: path.len() - 1 - good,
            reference_commits: good + 1,
            options: options.clone(),
            first_change,
            also_at_first_change: also,
            timeline,
            unstable_before_first_change: unstable,
            unchanged,
            not_comparable,
            evaluations: outcome.evaluations,
            comparisons,
            suspects,
            diff_command,
            first_change_diff: None,
            diff_note: None,
        }
    }
}

fn finding_report(
    cache: &mut CommitCache<'_>,
    path: &[ObjectId],
    good: usize,
    f: &ItemFinding,
) -> Option<FindingReport> {
    let (status, position, first_seen, may_also_be, observations) = match &f.status {
        ItemStatus::Departed {
            first, may_also_be, ..
        } => (
            "departed",
            first.position,
            Some(first),
            may_also_be.iter().map(|&p| path[p]).collect(),
            Vec::new(),
        ),
        ItemStatus::NonMonotonic {
            first_seen,
            observations,
        } => {
            let first = observations.iter().find(|o| o.position == *first_seen);
            (
                "non-monotonic",
                *first_seen,
                first,
                Vec::new(),
                observations
                    .iter()
                    .map(|o| ObservationReport {
                        commit: path[o.position],
                        score: o.score,
                        departed: o.departed,
                    })
                    .collect(),
            )
        }
        _ => return None,
    };
    Some(FindingReport {
        item: f.key.item.clone(),
        column: f.key.column.clone(),
        slice: f.key.slice.as_ref().map(|(c, v)| format!("{c}={v}")),
        statistic: f.key.statistic.clone(),
        status,
        commit: CommitReport::build(cache, &path[position]),
        commits_after_good: position - good,
        score: first_seen.map(|o| o.score),
        noise: f.noise.clone(),
        floor: first_seen.map(|o| o.floor),
        weighted_score: first_seen.and_then(|o| o.weighted_score),
        n_base: first_seen.map(|o| o.n_base),
        n_target: first_seen.map(|o| o.n_target),
        may_also_be,
        observations,
    })
}

fn key_text(f: &FindingReport) -> String {
    let mut text = f.item.clone();
    if let Some(c) = &f.column {
        let _ = write!(text, ".{c}");
    }
    if let Some(s) = &f.slice {
        let _ = write!(text, " [slice {s}]");
    }
    text
}

fn noise_text(noise: &NoiseFloor, at_commit: Option<f64>) -> String {
    if let Some(bound) = at_commit.filter(|&b| b > noise.floor()) {
        return format!("sampling-noise floor {bound:.4} at these sample sizes");
    }
    match noise {
        NoiseFloor::Calibrated {
            floor,
            sampling,
            mean,
            sd,
            pairs,
            good_mean,
            good_sd,
            good_pairs,
        } => {
            let mut text = format!(
                "noise floor {floor:.4} (consecutive: mean {mean:.4}, sd {sd:.4}, {pairs} pairs"
            );
            if let (Some(m), Some(s)) = (good_mean, good_sd) {
                let _ = write!(
                    text,
                    "; vs good: mean {m:.4}, sd {s:.4}, {good_pairs} commits"
                );
            }
            if *sampling > 0.0 {
                let _ = write!(text, "; sampling noise {sampling:.4}");
            }
            text.push(')');
            text
        }
        NoiseFloor::Conventional {
            floor,
            sampling,
            pairs,
        } => {
            if sampling >= floor && *sampling > 0.0 {
                format!("sampling-noise floor {floor:.4} (only {pairs} reference pairs)")
            } else {
                format!("conventional threshold {floor} (only {pairs} reference pairs)")
            }
        }
    }
}

fn finding_line(f: &FindingReport) -> String {
    let score = f.score.map_or("?".to_owned(), |s| format!("{s:.4}"));
    let sizes = match (f.n_base, f.n_target) {
        (Some(a), Some(b)) if a > 1 || b > 1 => format!(", n {a} vs {b}"),
        _ => String::new(),
    };
    let weighted = f.weighted_score.map_or(String::new(), |w| {
        let threshold = crate::bisect::oracle::conventional_threshold(&f.statistic);
        format!(", share-weighted {w:.4} > {threshold}")
    });
    format!(
        "{} {} = {score} > {}{weighted}{sizes}",
        key_text(f),
        f.statistic,
        noise_text(&f.noise, f.floor)
    )
}

/// Human text for an auto report.
pub fn auto_human(r: &AutoReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Searched {} commits after {} against it; noise floors from {} reference commits.",
        r.commits_searched,
        r.good.id.short(),
        r.reference_commits
    );
    match &r.first_change {
        Some(first) => {
            let _ = writeln!(
                out,
                "First true change: {} ({} commits after good)",
                commit_line(&first.commit),
                first.commits_after_good
            );
            let _ = writeln!(out, "  {}", finding_line(first));
            for also in &r.also_at_first_change {
                let _ = writeln!(out, "  {}", finding_line(also));
            }
            if let Some(code) = code_line(&first.commit) {
                let _ = writeln!(out, "  {code}");
            }
            if !first.may_also_be.is_empty() {
                let ids: Vec<String> = first.may_also_be.iter().map(ObjectId::short).collect();
                let _ = writeln!(
                    out,
                    "  commits that could not be scored and may also be first: {}",
                    ids.join(" ")
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "No item departs persistently from good beyond its noise floor."
            );
        }
    }
    for u in &r.unstable_before_first_change {
        let _ = writeln!(
            out,
            "Warning: {} crosses its floor and returns before the first change (first at {})",
            key_text(u),
            u.commit.id.short()
        );
    }
    if !r.timeline.is_empty() {
        let _ = writeln!(out, "\nTimeline (commit order):");
        for f in &r.timeline {
            let mark = if f.status == "non-monotonic" {
                "flips "
            } else {
                "      "
            };
            let _ = writeln!(
                out,
                "  {mark}{} +{:<4} {}",
                f.commit.id.short(),
                f.commits_after_good,
                finding_line(f)
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{} items unchanged, {} not comparable; {} evaluations, {} commit comparisons.",
        r.unchanged,
        r.not_comparable.len(),
        r.evaluations,
        r.comparisons
    );
    suspects_human(&mut out, &r.suspects);
    if let Some(diff) = &r.first_change_diff {
        let _ = writeln!(out, "\nThe first change against its parent:");
        out.push_str(&render_text(diff, &NoPaint));
    } else if let Some(note) = &r.diff_note {
        let _ = writeln!(out, "Diff not shown: {note}");
    }
    if let Some(cmd) = &r.diff_command {
        let _ = writeln!(out, "Show the change: {cmd}");
    }
    out
}

/// Markdown for an auto report.
pub fn auto_markdown(r: &AutoReport) -> String {
    let mut out = String::from("## ev bisect auto\n\n");
    match &r.first_change {
        Some(first) => {
            let _ = writeln!(
                out,
                "**First true change:** `{}` {} — {}\n",
                first.commit.id.short(),
                first.commit.summary,
                finding_line(first)
            );
        }
        None => out.push_str("No persistent change beyond noise.\n\n"),
    }
    out.push_str("| Commit | +N | Item | Statistic | Score | Floor | n | Status |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for f in &r.timeline {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {:.4} | {} | {} |",
            f.commit.id.short(),
            f.commits_after_good,
            key_text(f),
            f.statistic,
            f.score.map_or("?".into(), |s| format!("{s:.4}")),
            f.floor.unwrap_or_else(|| f.noise.floor()),
            match (f.n_base, f.n_target) {
                (Some(a), Some(b)) => format!("{a}/{b}"),
                _ => "?".into(),
            },
            f.status
        );
    }
    if let Some(diff) = &r.first_change_diff {
        out.push('\n');
        out.push_str(&render_markdown(diff));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bisect::run::{Require, decide};
    use crate::bisect::state::Verdict;

    fn command_step(exit_codes: Vec<Option<i32>>, verdicts: &[Verdict]) -> String {
        let timed_out = exit_codes.iter().filter(|code| code.is_none()).count();
        let record = StepRecord {
            commit: ObjectId::hash(b"c"),
            verdict: Verdict::Skip,
            evidence: Evidence::Command {
                exit_codes,
                vote: decide(verdicts, Require::All),
                timed_out,
            },
        };
        step_line(&Terms::default(), &record)
    }

    #[test]
    fn step_line_names_timed_out_runs() {
        use Verdict::*;
        let line = command_step(vec![Some(0), None, Some(0)], &[Good, Skip, Good]);
        assert!(
            line.ends_with("exit 0,timeout,0 (1 timed out; votes: 2 good, 0 bad, 1 skip)"),
            "{line}"
        );
        assert!(!line.contains("signal"), "{line}");
    }

    #[test]
    fn step_line_omits_zero_timeouts() {
        use Verdict::*;
        let line = command_step(vec![Some(1), Some(1)], &[Bad, Bad]);
        assert!(
            line.ends_with("exit 1,1 (votes: 0 good, 2 bad, 0 skip)"),
            "{line}"
        );
    }
}
