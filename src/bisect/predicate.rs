//! Built-in bisect predicates over stored evidence (`ev bisect run --check '...'`).
//!
//! A predicate is true on a commit that has the change (that commit is marked with the new term,
//! `bad` by default), false on one without it (old term), and cannot be evaluated on a commit
//! whose evidence is missing, too small or not comparable (skipped, never counted).
//!
//! Syntax, words separated by spaces:
//!
//! | Predicate | True when |
//! |---|---|
//! | `schema ITEM changed` (or `schema ITEM != good`) | the item's schema differs from the good commit's |
//! | `golden ITEM outside-tolerance` | a golden result of the item is outside its declared tolerance vs good |
//! | `golden ITEM changed` (or `!= good`) | any golden value differs from good |
//! | `drift ITEM.COLUMN STAT OP NUMBER [slice COL=VALUE]` | the drift score of the column (in the slice) vs good compares true |
//! | `metric ITEM.NAME OP NUMBER` | the metric's value at the commit compares true |
//! | `metric ITEM.NAME delta OP NUMBER` | the metric's change from good (commit − good) compares true |
//! | `file PATH changed` (or `!= good`) | the file's content differs from good's (absent on one side counts as changed) |
//! | `item ITEM changed` (or `!= good`) | anything in the evidence item differs from good |
//!
//! `OP` is one of `>`, `>=`, `<`, `<=`, `==`, `!=`. `STAT` is a drift statistic of the diff
//! module: `psi`, `js`, `ks`, `wasserstein`, `null_rate` or `nan_rate`. `ITEM.COLUMN` splits at
//! the first dot, so column names may contain dots but item names may not.

use std::fmt;

use serde::Serialize;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            "<=" => Op::Le,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            _ => return None,
        })
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    /// Applies the operator; any comparison with NaN is false.
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Gt => left > right,
            Op::Ge => left >= right,
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Eq => left == right,
            Op::Ne => !left.is_nan() && !right.is_nan() && left != right,
        }
    }
}

/// A threshold comparison `OP NUMBER`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub op: Op,
    pub value: f64,
}

impl Comparison {
    /// Whether `left OP value` is true.
    pub fn holds(&self, left: f64) -> bool {
        self.op.holds(left, self.value)
    }
}

/// A parsed predicate.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Predicate {
    SchemaChanged {
        item: String,
    },
    GoldenOutsideTolerance {
        item: String,
    },
    GoldenChanged {
        item: String,
    },
    Drift {
        item: String,
        column: String,
        statistic: String,
        comparison: Comparison,
        #[serde(skip_serializing_if = "Option::is_none")]
        slice: Option<(String, String)>,
    },
    Metric {
        item: String,
        name: String,
        /// Whether the comparison applies to `commit − good` rather than the commit's value.
        delta: bool,
        comparison: Comparison,
    },
    FileChanged {
        path: String,
    },
    ItemChanged {
        item: String,
    },
}

/// A reason a predicate does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PredicateError {
    #[error("empty predicate")]
    Empty,
    #[error(
        "unknown predicate kind {kind:?}: expected schema, golden, drift, metric, file or item"
    )]
    UnknownKind { kind: String },
    #[error("invalid predicate {text:?}: expected {expected}")]
    Syntax {
        text: String,
        expected: &'static str,
    },
    #[error(
        "unknown drift statistic {statistic:?}: expected psi, js, ks, wasserstein, null_rate or nan_rate"
    )]
    UnknownStatistic { statistic: String },
    #[error("invalid number {value:?} in predicate {text:?}")]
    Number { text: String, value: String },
}

const CHANGED_FORMS: &str = "\"changed\" or \"!= good\"";

impl Predicate {
    /// Parses the predicate syntax described in the module documentation.
    pub fn parse(text: &str) -> Result<Predicate, PredicateError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let Some((&kind, rest)) = words.split_first() else {
            return Err(PredicateError::Empty);
        };
        let syntax = |expected| PredicateError::Syntax {
            text: text.to_owned(),
            expected,
        };
        let is_changed = |tail: &[&str]| matches!(tail, ["changed"] | ["!=", "good"]);
        match kind {
            "schema" => match rest {
                [item, tail @ ..] if is_changed(tail) => Ok(Predicate::SchemaChanged {
                    item: (*item).to_owned(),
                }),
                _ => Err(syntax("schema ITEM changed")),
            },
            "golden" => match rest {
                [item, "outside-tolerance"] => Ok(Predicate::GoldenOutsideTolerance {
                    item: (*item).to_owned(),
                }),
                [item, tail @ ..] if is_changed(tail) => Ok(Predicate::GoldenChanged {
                    item: (*item).to_owned(),
                }),
                _ => Err(syntax(
                    "golden ITEM outside-tolerance, or golden ITEM changed",
                )),
            },
            "drift" => {
                let expected = "drift ITEM.COLUMN STAT OP NUMBER [slice COLUMN=VALUE]";
                let (target, statistic, op, number, slice) = match rest {
                    [target, statistic, op, number] => (target, statistic, op, number, None),
                    [target, statistic, op, number, "slice", slice] => {
                        (target, statistic, op, number, Some(*slice))
                    }
                    _ => return Err(syntax(expected)),
                };
                let (item, column) = split_dotted(target).ok_or_else(|| syntax(expected))?;
                let slice = match slice {
                    None => None,
                    Some(s) => {
                        let (col, value) = s.split_once('=').ok_or_else(|| syntax(expected))?;
                        if col.is_empty() || value.is_empty() {
                            return Err(syntax(expected));
                        }
                        Some((col.to_owned(), value.to_owned()))
                    }
                };
                if crate::diff::drift::Metric::parse(statistic).is_none() {
                    return Err(PredicateError::UnknownStatistic {
                        statistic: (*statistic).to_owned(),
                    });
                }
                Ok(Predicate::Drift {
                    item,
                    column,
                    statistic: (*statistic).to_owned(),
                    comparison: parse_comparison(text, op, number, expected)?,
                    slice,
                })
            }
            "metric" => {
                let expected = "metric ITEM.NAME [delta] OP NUMBER";
                let (target, delta, op, number) = match rest {
                    [target, op, number] => (target, false, op, number),
                    [target, "delta", op, number] => (target, true, op, number),
                    _ => return Err(syntax(expected)),
                };
                let (item, name) = split_dotted(target).ok_or_else(|| syntax(expected))?;
                Ok(Predicate::Metric {
                    item,
                    name,
                    delta,
                    comparison: parse_comparison(text, op, number, expected)?,
                })
            }
            "file" => match rest {
                [path, tail @ ..] if is_changed(tail) => Ok(Predicate::FileChanged {
                    path: (*path).to_owned(),
                }),
                _ => Err(syntax("file PATH changed")),
            },
            "item" => match rest {
                [item, tail @ ..] if is_changed(tail) => Ok(Predicate::ItemChanged {
                    item: (*item).to_owned(),
                }),
                _ => Err(syntax("item ITEM changed")),
            },
            other => Err(PredicateError::UnknownKind {
                kind: other.to_owned(),
            }),
        }
        .map_err(|e| match e {
            PredicateError::Syntax { text, .. } if matches!(kind, "schema" | "file" | "item") => {
                PredicateError::Syntax {
                    text,
                    expected: CHANGED_FORMS,
                }
            }
            e => e,
        })
    }
}

fn split_dotted(target: &str) -> Option<(String, String)> {
    let (item, rest) = target.split_once('.')?;
    if item.is_empty() || rest.is_empty() {
        return None;
    }
    Some((item.to_owned(), rest.to_owned()))
}

fn parse_comparison(
    text: &str,
    op: &str,
    number: &str,
    expected: &'static str,
) -> Result<Comparison, PredicateError> {
    let op = Op::parse(op).ok_or_else(|| PredicateError::Syntax {
        text: text.to_owned(),
        expected,
    })?;
    let value: f64 = number.parse().map_err(|_| PredicateError::Number {
        text: text.to_owned(),
        value: number.to_owned(),
    })?;
    if !value.is_finite() {
        return Err(PredicateError::Number {
            text: text.to_owned(),
            value: number.to_owned(),
        });
    }
    Ok(Comparison { op, value })
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::SchemaChanged { item } => write!(f, "schema {item} changed"),
            Predicate::GoldenOutsideTolerance { item } => {
                write!(f, "golden {item} outside-tolerance")
            }
            Predicate::GoldenChanged { item } => write!(f, "golden {item} changed"),
            Predicate::Drift {
                item,
                column,
                statistic,
                comparison,
                slice,
            } => {
                write!(
                    f,
                    "drift {item}.{column} {statistic} {} {}",
                    comparison.op.as_str(),
                    comparison.value
                )?;
                if let Some((col, value)) = slice {
                    write!(f, " slice {col}={value}")?;
                }
                Ok(())
            }
            Predicate::Metric {
                item,
                name,
                delta,
                comparison,
            } => write!(
                f,
                "metric {item}.{name}{} {} {}",
                if *delta { " delta" } else { "" },
                comparison.op.as_str(),
                comparison.value
            ),
            Predicate::FileChanged { path } => write!(f, "file {path} changed"),
            Predicate::ItemChanged { item } => write!(f, "item {item} changed"),
        }
    }
}

/// The result of evaluating a predicate on one commit against the good commit.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Evaluation {
    /// The predicate could be evaluated. `holds` true means the commit has the change.
    Decided {
        holds: bool,
        /// The measured value compared, when the predicate has one.
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<f64>,
        /// A one-line explanation, e.g. `psi 0.31 (n 5000 vs 4980)`.
        detail: String,
    },
    /// The predicate cannot be evaluated on this commit: the commit is skipped.
    Unavailable { reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let cases = [
            ("schema features != good", "schema features changed"),
            ("schema features changed", "schema features changed"),
            (
                "golden delay_by_carrier outside-tolerance",
                "golden delay_by_carrier outside-tolerance",
            ),
            (
                "drift flights.dep_delay psi > 0.2",
                "drift flights.dep_delay psi > 0.2",
            ),
            (
                "drift  flights.dep_delay psi >= 0.2 slice carrier=UA",
                "drift flights.dep_delay psi >= 0.2 slice carrier=UA",
            ),
            ("metric eval.mae > 12.5", "metric eval.mae > 12.5"),
            (
                "metric eval.auc delta < -0.01",
                "metric eval.auc delta < -0.01",
            ),
            (
                "file model/weights.safetensors changed",
                "file model/weights.safetensors changed",
            ),
            ("item model != good", "item model changed"),
        ];
        for (input, canonical) in cases {
            let parsed = Predicate::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(parsed.to_string(), canonical, "{input}");
            assert_eq!(Predicate::parse(canonical).unwrap(), parsed, "{canonical}");
        }
    }

    #[test]
    fn drift_fields() {
        let parsed = Predicate::parse("drift flights.dep.delay ks > 0.2 slice carrier=UA").unwrap();
        assert_eq!(
            parsed,
            Predicate::Drift {
                item: "flights".into(),
                column: "dep.delay".into(),
                statistic: "ks".into(),
                comparison: Comparison {
                    op: Op::Gt,
                    value: 0.2
                },
                slice: Some(("carrier".into(), "UA".into())),
            }
        );
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(Predicate::parse("  "), Err(PredicateError::Empty));
        assert!(matches!(
            Predicate::parse("model x changed"),
            Err(PredicateError::UnknownKind { .. })
        ));
        assert!(matches!(
            Predicate::parse("schema features"),
            Err(PredicateError::Syntax { .. })
        ));
        assert!(matches!(
            Predicate::parse("drift flights psi > 0.2"),
            Err(PredicateError::Syntax { .. })
        ));
        assert!(matches!(
            Predicate::parse("drift flights.x psi ~ 0.2"),
            Err(PredicateError::Syntax { .. })
        ));
        assert!(matches!(
            Predicate::parse("drift flights.x psi > high"),
            Err(PredicateError::Number { .. })
        ));
        assert!(matches!(
            Predicate::parse("drift flights.x psi > NaN"),
            Err(PredicateError::Number { .. })
        ));
        assert!(matches!(
            Predicate::parse("drift flights.x psi > 0.2 slice carrier"),
            Err(PredicateError::Syntax { .. })
        ));
        assert!(matches!(
            Predicate::parse("drift flights.x entropy > 0.2"),
            Err(PredicateError::UnknownStatistic { .. })
        ));
        assert!(matches!(
            Predicate::parse("metric eval > 1"),
            Err(PredicateError::Syntax { .. })
        ));
    }

    #[test]
    fn operators_apply() {
        assert!(Op::Gt.holds(0.3, 0.2));
        assert!(!Op::Gt.holds(0.2, 0.2));
        assert!(Op::Ge.holds(0.2, 0.2));
        assert!(Op::Lt.holds(-1.0, 0.0));
        assert!(Op::Le.holds(0.0, 0.0));
        assert!(Op::Eq.holds(1.5, 1.5));
        assert!(Op::Ne.holds(1.5, 1.0));
        assert!(!Op::Ne.holds(f64::NAN, 1.0));
        assert!(!Op::Gt.holds(f64::NAN, 1.0));
    }
}
