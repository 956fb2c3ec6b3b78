//! CI gating: `--fail-on` rules evaluated against a [`DiffReport`].
//!
//! Syntax: rules separated by commas; each rule is a category, optionally followed by `:` and a
//! selector.
//! - `schema`: a breaking schema change; `schema:any`: any schema change.
//! - `golden`, `model`, `metric`, `item`, `file`, `slice`: any change of that category.
//! - `drift`: any column whose drift status is changed (or which became empty).
//! - `drift:METRIC OP X`: any column whose score METRIC (`psi`, `js`, `ks`, `wasserstein`,
//!   `null_rate`, `nan_rate`) compares true with X (`>`, `>=`, `<`, `<=`); rates compare by
//!   magnitude.
//! - `drift:COLUMN:METRIC OP X`: the same for one column, named `item.column` or `column`.
//! - `metric:NAME`: any change of metric NAME (`item.name` or `name`).
//! - `metric:NAME OP X`: the change new − old compares true with X; a trailing `%` compares the
//!   relative change (new − old)/|old| in percent, so `metric:eval.auc<-2%` fails on a drop of
//!   more than 2%.

use serde::Serialize;

use super::drift::{DriftStatus, Metric};
use super::items::format_number;
use super::report::{Category, Change, Detail, DiffReport};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Op::Gt => value > bound,
            Op::Ge => value >= bound,
            Op::Lt => value < bound,
            Op::Le => value <= bound,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

/// A numeric condition `OP X` (with X in percent when `percent`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Condition {
    pub op: Op,
    pub bound: f64,
    pub percent: bool,
}

/// One parsed rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    Category {
        category: Category,
        any: bool,
    },
    Drift {
        column: Option<String>,
        metric: Metric,
        condition: Condition,
    },
    Metric {
        name: String,
        condition: Option<Condition>,
    },
}

/// A rule that matched, with why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub rule: String,
    pub reason: String,
}

/// Error of an invalid rule list.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid --fail-on rule {rule:?}: {message}")]
pub struct RuleError {
    pub rule: String,
    pub message: String,
}

fn split_condition(text: &str) -> Option<(&str, Op, &str)> {
    for (token, op) in [(">=", Op::Ge), ("<=", Op::Le), (">", Op::Gt), ("<", Op::Lt)] {
        if let Some(i) = text.find(token) {
            return Some((&text[..i], op, &text[i + token.len()..]));
        }
    }
    None
}

fn parse_condition(rule: &str, op: Op, bound: &str) -> Result<Condition, RuleError> {
    let bound = bound.trim();
    let (number, percent) = match bound.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (bound, false),
    };
    let value: f64 = number.parse().map_err(|_| RuleError {
        rule: rule.to_owned(),
        message: format!("{bound:?} is not a number"),
    })?;
    if !value.is_finite() {
        return Err(RuleError {
            rule: rule.to_owned(),
            message: "the bound must be finite".to_owned(),
        });
    }
    Ok(Condition {
        op,
        bound: value,
        percent,
    })
}

/// Parses a comma-separated rule list.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    for raw in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        let err = |message: String| RuleError {
            rule: raw.to_owned(),
            message,
        };
        let (head, rest) = match raw.split_once(':') {
            Some((h, r)) => (h.trim(), Some(r.trim())),
            None => (raw, None),
        };
        let category = match head {
            "schema" => Category::Schema,
            "golden" => Category::Golden,
            "model" => Category::Model,
            "drift" => Category::Drift,
            "slice" => Category::Slice,
            "metric" => Category::Metric,
            "item" => Category::Item,
            "file" => Category::File,
            other => {
                return Err(err(format!(
                    "unknown category {other:?}; use schema, golden, model, drift, slice, metric, item or file"
                )));
            }
        };
        let rule = match (category, rest) {
            (_, None) => Rule::Category {
                category,
                any: false,
            },
            (Category::Schema, Some("any")) => Rule::Category {
                category,
                any: true,
            },
            (Category::Drift, Some(rest)) => {
                let (column, cond) = match rest.rsplit_once(':') {
                    Some((c, cond)) => (Some(c.trim().to_owned()), cond),
                    None => (None, rest),
                };
                let (metric, op, bound) = split_condition(cond)
                    .ok_or_else(|| err("expected METRIC>VALUE, e.g. psi>0.2".to_owned()))?;
                let metric = Metric::parse(metric.trim()).ok_or_else(|| {
                    err(format!(
                        "unknown drift metric {:?}; use psi, js, ks, wasserstein, null_rate or nan_rate",
                        metric.trim()
                    ))
                })?;
                Rule::Drift {
                    column,
                    metric,
                    condition: parse_condition(raw, op, bound)?,
                }
            }
            (Category::Metric, Some(rest)) => match split_condition(rest) {
                Some((name, op, bound)) => Rule::Metric {
                    name: name.trim().to_owned(),
                    condition: Some(parse_condition(raw, op, bound)?),
                },
                None => Rule::Metric {
                    name: rest.to_owned(),
                    condition: None,
                },
            },
            (_, Some(_)) => {
                return Err(err(format!(
                    "{head} takes no selector (only schema:any, drift:... and metric:...)"
                )));
            }
        };
        rules.push(rule);
    }
    if rules.is_empty() {
        return Err(RuleError {
            rule: text.to_owned(),
            message: "no rule given".to_owned(),
        });
    }
    Ok(rules)
}

fn names_match(selector: &str, change: &Change) -> bool {
    selector == change.path || selector == format!("{}.{}", change.item, change.path)
}

fn target(change: &Change) -> String {
    if change.item.is_empty() {
        change.path.clone()
    } else if change.path.is_empty() {
        change.item.clone()
    } else {
        format!("{}.{}", change.item, change.path)
    }
}

/// Evaluates rules and returns every match; empty when the gate passes.
pub fn evaluate(rules: &[Rule], rule_texts: &[String], report: &DiffReport) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let text = rule_texts.get(i).cloned().unwrap_or_default();
        for change in &report.changes {
            if let Some(reason) = matches(rule, change) {
                failures.push(Failure {
                    rule: text.clone(),
                    reason,
                });
            }
        }
    }
    failures
}

/// The rule texts of a comma-separated list, in the order [`parse_rules`] returns rules.
pub fn rule_texts(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

fn matches(rule: &Rule, change: &Change) -> Option<String> {
    match rule {
        Rule::Category { category, any } => {
            if change.category != *category {
                return None;
            }
            if *category == Category::Schema
                && !any
                && !matches!(&change.detail, Detail::Schema(s) if s.is_breaking())
            {
                return None;
            }
            Some(format!(
                "{} {} {}",
                change.category.as_str(),
                change.kind,
                target(change)
            ))
        }
        Rule::Drift {
            column,
            metric,
            condition,
        } => {
            let Detail::Drift(d) = &change.detail else {
                return None;
            };
            if column.as_ref().is_some_and(|c| !names_match(c, change)) {
                return None;
            }
            if !matches!(d.status, DriftStatus::Changed | DriftStatus::Unchanged) {
                return None;
            }
            let score = d.score(*metric)?;
            let value = score.magnitude()?;
            condition.op.holds(value, condition.bound).then(|| {
                format!(
                    "{} {} {} {} {}",
                    target(change),
                    metric.as_str(),
                    format_number(value),
                    condition.op.as_str(),
                    format_number(condition.bound)
                )
            })
        }
        Rule::Metric { name, condition } => {
            let m = match &change.detail {
                Detail::Metric(m) => m,
                Detail::Model(super::items::ModelChange::Metadata(m)) => m,
                _ => return None,
            };
            if !names_match(name, change) && m.name != *name {
                return None;
            }
            let arrow = format!(
                "{} → {}",
                m.old.as_deref().unwrap_or("(none)"),
                m.new.as_deref().unwrap_or("(none)")
            );
            let Some(cond) = condition else {
                return Some(format!("{} {arrow}", target(change)));
            };
            let value = if cond.percent {
                m.rel_delta.map(|r| r * 100.0)?
            } else {
                m.abs_delta?
            };
            cond.op.holds(value, cond.bound).then(|| {
                format!(
                    "{} {arrow}: change {}{} {} {}{}",
                    target(change),
                    format_number(value),
                    if cond.percent { "%" } else { "" },
                    cond.op.as_str(),
                    format_number(cond.bound),
                    if cond.percent { "%" } else { "" }
                )
            })
        }
    }
}
