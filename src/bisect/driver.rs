//! The loop behind `ev bisect run`: ask the state machine for a commit, test it, record the
//! verdict, repeat until a result or an abort.
//!
//! Testing is a callback, so the same loop serves user commands (exit codes) and built-in
//! predicates (evaluations), and tests drive it with scripted verdicts.

use serde::Serialize;

use super::predicate::Evaluation;
use super::run::Vote;
use super::state::{Bisection, CommitId, StateError, Step, Verdict};

/// The reason behind a tested commit's verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Evidence {
    /// A user command: the exit code of every run (`null` for a signal or a timeout) and the
    /// vote. `timed_out` counts the runs killed by `--timeout` and marked skip by
    /// `--timeout-skip`, and JSON leaves it out when it is zero.
    Command {
        exit_codes: Vec<Option<i32>>,
        vote: Vote,
        #[serde(default, skip_serializing_if = "is_zero")]
        timed_out: usize,
    },
    /// A built-in predicate.
    Check { evaluation: Evaluation },
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// The result of testing one commit.
#[derive(Clone, Debug, PartialEq)]
pub enum Tested {
    /// A verdict with its reason.
    Verdict {
        verdict: Verdict,
        evidence: Evidence,
    },
    /// Stop the bisection without marking the commit.
    Abort { reason: String },
}

/// One tested commit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepRecord<Id> {
    pub commit: Id,
    pub verdict: Verdict,
    pub evidence: Evidence,
}

/// The end state of the loop.
#[derive(Clone, Debug, PartialEq)]
pub enum DriveEnd<Id> {
    /// The state machine reached a result (found, found with skips, or needs marks).
    Done(Step<Id>),
    /// The test asked to stop at `commit`.
    Aborted { commit: Id, reason: String },
    /// The marks are inconsistent.
    Failed(StateError),
}

/// Tests commits until the bisection ends. `test` receives the commit and whether it is the
/// first test of this loop; `on_step` receives every recorded verdict (to persist and show it).
pub fn drive<Id: CommitId>(
    bisection: &mut Bisection<Id>,
    test: &mut dyn FnMut(&Id, bool) -> Tested,
    on_step: &mut dyn FnMut(&Bisection<Id>, &StepRecord<Id>),
) -> DriveEnd<Id> {
    let mut first = true;
    loop {
        let commit = match bisection.next() {
            Ok(Step::Test { commit, .. }) => commit,
            Ok(done) => return DriveEnd::Done(done),
            Err(e) => return DriveEnd::Failed(e),
        };
        match test(&commit, first) {
            Tested::Abort { reason } => return DriveEnd::Aborted { commit, reason },
            Tested::Verdict { verdict, evidence } => {
                if let Err(e) = bisection.mark(verdict, commit.clone()) {
                    return DriveEnd::Failed(e);
                }
                on_step(
                    bisection,
                    &StepRecord {
                        commit,
                        verdict,
                        evidence,
                    },
                );
            }
        }
        first = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bisect::run::{Require, RunOutcome, classify_exit, decide};
    use crate::bisect::state::Dag;

    fn linear(n: u32) -> Bisection<u32> {
        let mut dag = Dag::new();
        for i in 0..n {
            dag.insert(i, if i == 0 { vec![] } else { vec![i - 1] });
        }
        let mut b = Bisection::new(dag, false);
        b.mark(Verdict::Bad, n - 1).unwrap();
        b.mark(Verdict::Good, 0).unwrap();
        b
    }

    /// Maps exit codes through the run contract, as the CLI does.
    fn by_exit_code(code: i32, first: bool) -> Tested {
        match classify_exit(Some(code), first) {
            RunOutcome::Verdict { verdict, .. } => Tested::Verdict {
                verdict,
                evidence: Evidence::Command {
                    exit_codes: vec![Some(code)],
                    vote: decide(&[verdict], Require::All),
                    timed_out: 0,
                },
            },
            RunOutcome::Abort { code } => Tested::Abort {
                reason: format!("exit {code:?}"),
            },
            RunOutcome::NotRunnable { code } => Tested::Abort {
                reason: format!("not runnable ({code})"),
            },
        }
    }

    #[test]
    fn exit_codes_drive_to_result() {
        let mut b = linear(32);
        let mut seen = Vec::new();
        let end = drive(
            &mut b,
            &mut |c, first| by_exit_code(if *c >= 20 { 1 } else { 0 }, first),
            &mut |_, record| seen.push(record.commit),
        );
        assert_eq!(end, DriveEnd::Done(Step::Found { first_bad: 20 }));
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn exit_127_first_run_aborts_without_marking() {
        let mut b = linear(32);
        let before = b.marks().len();
        let end = drive(
            &mut b,
            &mut |_, first| by_exit_code(127, first),
            &mut |_, _| {},
        );
        assert!(
            matches!(end, DriveEnd::Aborted { ref reason, .. } if reason.contains("not runnable"))
        );
        assert_eq!(b.marks().len(), before);
    }

    #[test]
    fn exit_127_later_run_is_bad() {
        let mut b = linear(32);
        let end = drive(
            &mut b,
            &mut |c, first| by_exit_code(if *c >= 20 { 127 } else { 0 }, first),
            &mut |_, _| {},
        );
        assert_eq!(end, DriveEnd::Done(Step::Found { first_bad: 20 }));
    }

    #[test]
    fn exit_128_aborts_keeping_earlier_marks() {
        let mut b = linear(32);
        let mut runs = 0;
        let end = drive(
            &mut b,
            &mut |_, first| {
                runs += 1;
                by_exit_code(if runs == 2 { 200 } else { 0 }, first)
            },
            &mut |_, _| {},
        );
        assert!(matches!(end, DriveEnd::Aborted { .. }));
        assert_eq!(b.marks().len(), 3);
    }

    #[test]
    fn all_skips_end_with_candidates() {
        let mut b = linear(5);
        let end = drive(
            &mut b,
            &mut |_, first| by_exit_code(125, first),
            &mut |_, _| {},
        );
        assert_eq!(
            end,
            DriveEnd::Done(Step::FoundWithSkips {
                first_bad: 4,
                may_also_be: vec![1, 2, 3]
            })
        );
    }
}
