//! `ev diff A B [PATH]...`: what changed between two snapshots, most serious first.
//!
//! Exit codes: 0 when the diff ran (even with differences) unless a gate below fired; 1 when
//! `--exit-code` is given and a change at or above its severity exists, or when a `--fail-on`
//! rule matched; 2 for usage errors (bad revision, rule or threshold); 3 for a damaged store;
//! 5 for I/O and internal errors.

use std::io::Write;

use clap::{Args, ValueEnum};

use super::{CliError, CmdResult, Context, Outcome};
use crate::diff::compare::{CompareOptions, compare};
use crate::diff::config::{DiffConfig, PartialThresholds};
use crate::diff::gate::{evaluate, parse_rules, rule_texts};
use crate::diff::render::{Paint, render_json, render_markdown, render_stat, render_text};
use crate::diff::report::Severity;
use crate::diff::table::Tolerance;

/// Output formats of `ev diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Human text, most serious change first.
    Text,
    /// A Markdown table for an incident ticket.
    Markdown,
    /// JSON, schema ev.diff/1 (same as --json).
    Json,
}

/// Severities accepted by `--exit-code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Breaking,
}

impl SeverityArg {
    fn severity(self) -> Severity {
        match self {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Breaking => Severity::Breaking,
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: 0 when the diff ran, even with differences, unless --exit-code or --fail-on fired;
1 when --exit-code found a change at or above its severity or a --fail-on rule matched;
2 for a usage error (revision, rule, threshold); 3 for a damaged store; 5 for I/O errors.

--fail-on rules (comma-separated):
  schema | schema:any             breaking schema change | any schema change
  golden, model, drift, metric, item, file, slice   any change of that category
  drift:psi>0.2                   any column with PSI above 0.2 (psi, js, ks, wasserstein,
                                  null_rate, nan_rate; operators > >= < <=)
  drift:flights.dep_delay:ks>0.1  one column (item.column or column)
  metric:eval.auc<-0.02           the metric dropped by more than 0.02
  metric:eval.auc<-2%             the metric dropped by more than 2%")]
pub struct DiffArgs {
    /// Base revision (the known-good side)
    pub base: String,
    /// Candidate revision
    pub candidate: String,
    /// Only these repository paths (files or folders) or evidence item names
    pub paths: Vec<String>,
    /// Print one line per changed item
    #[arg(long, conflicts_with_all = ["json", "format"])]
    pub stat: bool,
    /// Print JSON (schema ev.diff/1)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<DiffFormat>,
    /// Exit 1 when a change at or above SEVERITY exists (info, low, medium, high, breaking)
    #[arg(long, value_enum, value_name = "SEVERITY", num_args = 0..=1, default_missing_value = "info")]
    pub exit_code: Option<SeverityArg>,
    /// Exit 1 when any of these comma-separated rules matches, printing why (see below)
    #[arg(long, value_name = "RULES")]
    pub fail_on: Option<String>,
    /// Explain drift by the slices of this profiled column (repeatable)
    #[arg(long = "slice-by", value_name = "COL")]
    pub slice_by: Vec<String>,
    /// PSI threshold for every column, in nats [default: 0.1]
    #[arg(long, value_name = "X")]
    pub psi_threshold: Option<f64>,
    /// Jensen–Shannon distance threshold (base 2) [default: 0.1]
    #[arg(long, value_name = "X")]
    pub js_threshold: Option<f64>,
    /// KS statistic threshold [default: 0.2]
    #[arg(long, value_name = "X")]
    pub ks_threshold: Option<f64>,
    /// Wasserstein-1 threshold, in base standard deviations [default: 0.1]
    #[arg(long, value_name = "X")]
    pub wasserstein_threshold: Option<f64>,
    /// Threshold on the absolute change of the null rate [default: 0.05]
    #[arg(long, value_name = "X")]
    pub null_rate_threshold: Option<f64>,
    /// Rows each side needs before drift is judged [default: 30]
    #[arg(long, value_name = "N")]
    pub min_rows: Option<u64>,
    /// Absolute tolerance for golden numeric cells, replacing the stored default
    #[arg(long, value_name = "X")]
    pub abs_tol: Option<f64>,
    /// Relative tolerance for golden numeric cells, replacing the stored default
    #[arg(long, value_name = "X")]
    pub rel_tol: Option<f64>,
    /// Changed rows listed per golden table [default: 20]
    #[arg(long, value_name = "N")]
    pub max_rows: Option<usize>,
}

/// Severity tags coloured with the CLI's styler.
struct SeverityPaint<'a>(&'a super::output::Styler);

impl Paint for SeverityPaint<'_> {
    fn severity(&self, severity: Severity, text: &str) -> String {
        match severity {
            Severity::Breaking | Severity::High => self.0.removed(text),
            Severity::Medium => self.0.hint(text),
            Severity::Low | Severity::Info => self.0.added(text),
        }
    }
}

fn check_threshold(name: &str, value: Option<f64>) -> Result<Option<f64>, CliError> {
    match value {
        Some(v) if !v.is_finite() || v < 0.0 => Err(CliError::user(
            format!("invalid --{name} {v}: it must be a finite number of at least 0"),
            format!("give e.g. --{name} 0.1"),
        )),
        other => Ok(other),
    }
}

pub fn cmd_diff(ctx: &Context, args: &DiffArgs) -> CmdResult {
    let repo = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let base = ctx.resolve_commit(&repo, &store, &args.base)?;
    let candidate = ctx.resolve_commit(&repo, &store, &args.candidate)?;

    let rules = match &args.fail_on {
        Some(text) => Some((
            parse_rules(text).map_err(|e| {
                CliError::user(e.to_string(), "see `ev diff --help` for the rule syntax")
            })?,
            rule_texts(text),
        )),
        None => None,
    };

    let flags = PartialThresholds {
        psi: check_threshold("psi-threshold", args.psi_threshold)?,
        js: check_threshold("js-threshold", args.js_threshold)?,
        ks: check_threshold("ks-threshold", args.ks_threshold)?,
        wasserstein: check_threshold("wasserstein-threshold", args.wasserstein_threshold)?,
        null_rate: check_threshold("null-rate-threshold", args.null_rate_threshold)?,
        nan_rate: None,
    };
    let abs_tol = check_threshold("abs-tol", args.abs_tol)?;
    let rel_tol = check_threshold("rel-tol", args.rel_tol)?;

    let manifest = repo.manifest_path();
    let mut config = match std::fs::read_to_string(&manifest) {
        Ok(text) => DiffConfig::parse(&text, &manifest.display().to_string())
            .map_err(|e| CliError::user(e.to_string(), "fix the [diff] table of evidence.toml"))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DiffConfig::default(),
        Err(e) => return Err(e.into()),
    };
    if let Some(n) = args.min_rows {
        config.min_rows = Some(n);
    }

    let mut options = CompareOptions {
        paths: args.paths.clone(),
        drift: config.drift_options("", &flags),
        slice_by: args.slice_by.clone(),
        ..CompareOptions::default()
    };
    for item in config.items.keys() {
        options
            .item_drift
            .insert(item.clone(), config.drift_options(item, &flags));
    }
    if let Some(n) = config.min_slice_rows {
        options.min_slice_rows = n;
    }
    if let Some(n) = args.max_rows.or(config.max_examples) {
        options.max_examples = n;
    }
    if abs_tol.is_some() || rel_tol.is_some() {
        options.tolerance = Some(Tolerance {
            abs: abs_tol.unwrap_or(0.0),
            rel: rel_tol.unwrap_or(0.0),
        });
    }

    let report = compare(&store, &base, &candidate, &options)?;
    ctx.check_interrupt()?;

    let format = if args.json {
        DiffFormat::Json
    } else {
        args.format.unwrap_or(DiffFormat::Text)
    };
    let text = if args.stat {
        render_stat(&report)
    } else {
        match format {
            DiffFormat::Json => render_json(&report),
            DiffFormat::Markdown => render_markdown(&report),
            DiffFormat::Text => render_text(&report, &SeverityPaint(&ctx.style)),
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;

    let mut failed = false;
    if let Some(level) = args.exit_code
        && report.max_severity().is_some_and(|s| s >= level.severity())
    {
        failed = true;
    }
    if let Some((rules, texts)) = &rules {
        let failures = evaluate(rules, texts, &report);
        let mut err = std::io::stderr().lock();
        for failure in &failures {
            // Best effort: a closed stderr must not hide the exit code.
            let _ = writeln!(
                err,
                "{} --fail-on {} matched: {}",
                ctx.err_style.error("Failed:"),
                failure.rule,
                failure.reason
            );
        }
        failed |= !failures.is_empty();
    }
    Ok(if failed {
        Outcome::Differences
    } else {
        Outcome::Success
    })
}
