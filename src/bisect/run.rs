//! The `bisect run` contract: how a command's exit status becomes a verdict, and how repeated
//! runs of a flaky command vote.
//!
//! The mapping is git's, which CI scripts already speak: exit 0 is good, 125 is skip, any other
//! code from 1 to 127 is bad, and 128 or above (or death by a signal) aborts the bisection. A
//! first run that exits 126 (found but not executable) or 127 (not found, as a shell reports it)
//! aborts too, because it almost always means the command itself is broken, and marking every
//! commit bad would blame the wrong commit. Later runs exiting 126 or 127 count as bad.

use serde::Serialize;

use super::state::Verdict;

/// Exit code that marks a commit untestable.
pub const EXIT_SKIP: i32 = 125;
/// Shell exit code for a command found but not executable.
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
/// Shell exit code for a command not found.
pub const EXIT_NOT_FOUND: i32 = 127;
/// Lowest exit code that aborts the bisection.
pub const EXIT_ABORT_MIN: i32 = 128;

/// What one run of the command means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RunOutcome {
    /// The command gave a verdict.
    Verdict { verdict: Verdict, code: i32 },
    /// The command asked to stop (code ≥ 128, or `None` for a signal).
    Abort { code: Option<i32> },
    /// The first run exited 126 or 127: the command is missing or not executable.
    NotRunnable { code: i32 },
}

/// Maps one exit status to its meaning; `code` is `None` when the process died by a signal.
pub fn classify_exit(code: Option<i32>, first_run: bool) -> RunOutcome {
    match code {
        Some(0) => RunOutcome::Verdict {
            verdict: Verdict::Good,
            code: 0,
        },
        Some(EXIT_SKIP) => RunOutcome::Verdict {
            verdict: Verdict::Skip,
            code: EXIT_SKIP,
        },
        Some(code @ (EXIT_NOT_EXECUTABLE | EXIT_NOT_FOUND)) if first_run => {
            RunOutcome::NotRunnable { code }
        }
        Some(code @ 1..=127) => RunOutcome::Verdict {
            verdict: Verdict::Bad,
            code,
        },
        // Negative codes only come from platforms that report them for abnormal ends.
        other => RunOutcome::Abort { code: other },
    }
}

/// How repeated runs of one commit combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Require {
    /// Every run must agree; any disagreement makes the commit skipped.
    #[default]
    All,
    /// More than half of the runs must agree on good or bad; otherwise the commit is skipped.
    Majority,
}

/// The counted votes of repeated runs and the verdict they give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Vote {
    pub good: usize,
    pub bad: usize,
    pub skip: usize,
    pub verdict: Verdict,
    /// Whether the runs disagreed, so the verdict came from the rule rather than unanimity.
    pub split: bool,
}

/// Combines the verdicts of repeated runs under `rule`. An empty list is a skip.
pub fn decide(verdicts: &[Verdict], rule: Require) -> Vote {
    let count = |wanted: Verdict| verdicts.iter().filter(|&&v| v == wanted).count();
    let (good, bad, skip) = (
        count(Verdict::Good),
        count(Verdict::Bad),
        count(Verdict::Skip),
    );
    let total = verdicts.len();
    let split = [good, bad, skip].iter().filter(|&&n| n > 0).count() > 1;
    let verdict = match rule {
        Require::All if total > 0 && good == total => Verdict::Good,
        Require::All if total > 0 && bad == total => Verdict::Bad,
        Require::All => Verdict::Skip,
        Require::Majority if 2 * good > total => Verdict::Good,
        Require::Majority if 2 * bad > total => Verdict::Bad,
        Require::Majority => Verdict::Skip,
    };
    Vote {
        good,
        bad,
        skip,
        verdict,
        split,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(code: i32, first_run: bool) -> RunOutcome {
        classify_exit(Some(code), first_run)
    }

    #[test]
    fn exit_codes_follow_git() {
        let marks = |code, v| RunOutcome::Verdict { verdict: v, code };
        assert_eq!(verdict(0, true), marks(0, Verdict::Good));
        assert_eq!(verdict(1, true), marks(1, Verdict::Bad));
        assert_eq!(verdict(124, false), marks(124, Verdict::Bad));
        assert_eq!(verdict(125, true), marks(125, Verdict::Skip));
        assert_eq!(verdict(126, false), marks(126, Verdict::Bad));
        assert_eq!(verdict(127, false), marks(127, Verdict::Bad));
        assert_eq!(verdict(128, false), RunOutcome::Abort { code: Some(128) });
        assert_eq!(verdict(255, false), RunOutcome::Abort { code: Some(255) });
        assert_eq!(verdict(-1, false), RunOutcome::Abort { code: Some(-1) });
        assert_eq!(classify_exit(None, false), RunOutcome::Abort { code: None });
    }

    #[test]
    fn first_run_126_127_not_runnable() {
        assert_eq!(verdict(126, true), RunOutcome::NotRunnable { code: 126 });
        assert_eq!(verdict(127, true), RunOutcome::NotRunnable { code: 127 });
    }

    #[test]
    fn require_all_needs_unanimity() {
        use Verdict::*;
        assert_eq!(decide(&[Bad, Bad, Bad], Require::All).verdict, Bad);
        assert_eq!(decide(&[Good, Good], Require::All).verdict, Good);
        let split = decide(&[Bad, Good, Bad], Require::All);
        assert_eq!(split.verdict, Skip);
        assert!(split.split);
        assert_eq!((split.good, split.bad, split.skip), (1, 2, 0));
        assert_eq!(decide(&[], Require::All).verdict, Skip);
    }

    #[test]
    fn require_majority_needs_more_than_half() {
        use Verdict::*;
        assert_eq!(decide(&[Bad, Good, Bad], Require::Majority).verdict, Bad);
        assert_eq!(decide(&[Bad, Good], Require::Majority).verdict, Skip);
        assert_eq!(decide(&[Good, Skip, Good], Require::Majority).verdict, Good);
        assert_eq!(decide(&[Good, Skip, Bad], Require::Majority).verdict, Skip);
        assert!(!decide(&[Good, Good, Good], Require::Majority).split);
    }
}
