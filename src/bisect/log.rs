//! The bisect log: a text file in git's style that records a bisection and can be replayed.
//!
//! Format: one command per line, `#` comments and blank lines ignored.
//!
//! ```text
//! ev bisect start --term-old=fast --term-new=slow --first-parent
//! # slow: [4f1c2a…] nightly evidence 2024-05-03
//! ev bisect slow 4f1c2a…
//! # fast: [9ab03e…] nightly evidence 2024-04-20
//! ev bisect fast 9ab03e…
//! ev bisect skip 77d2e1…
//! # first slow commit: [c0ffee…] nightly evidence 2024-04-28
//! ```
//!
//! The first command must be `ev bisect start` with its options (`--term-old=`, `--term-new=`,
//! `--first-parent`). Every other command is `ev bisect <word> <rev>...`, where `<word>` is the
//! old term, the new term or `skip`. Editing a log (for example deleting a wrong verdict) and
//! replaying it is the supported way to undo a mistake, as with `git bisect replay`.

use super::state::{Terms, Verdict};

/// Command prefix of every log line.
pub const PREFIX: &str = "ev bisect";

/// One replayable command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogCommand {
    /// Starts a bisection with these options.
    Start { terms: Terms, first_parent: bool },
    /// Marks revisions with one verdict.
    Mark { verdict: Verdict, revs: Vec<String> },
}

/// A reason a log cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error("line {line}: expected a line starting with \"{PREFIX}\", found {text:?}")]
    NotACommand { line: usize, text: String },
    #[error("line {line}: the log must start with \"{PREFIX} start\"")]
    MissingStart { line: usize },
    #[error("line {line}: \"{PREFIX} start\" appears twice")]
    SecondStart { line: usize },
    #[error("line {line}: unknown start option {option:?}")]
    UnknownOption { line: usize, option: String },
    #[error("line {line}: {word:?} is neither the old term {old:?}, the new term {new:?} nor skip")]
    UnknownWord {
        line: usize,
        word: String,
        old: String,
        new: String,
    },
    #[error("line {line}: \"{PREFIX} {word}\" names no revision")]
    NoRevision { line: usize, word: String },
    #[error("line {line}: {message}")]
    InvalidTerms { line: usize, message: String },
    #[error("the log contains no \"{PREFIX} start\" line")]
    Empty,
}

/// Parses a log into its commands, checking words against the terms of its start line.
pub fn parse_log(text: &str) -> Result<Vec<LogCommand>, LogError> {
    let mut commands = Vec::new();
    let mut terms: Option<Terms> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut words = trimmed.split_whitespace();
        let (Some("ev"), Some("bisect"), Some(word)) = (words.next(), words.next(), words.next())
        else {
            return Err(LogError::NotACommand {
                line,
                text: trimmed.to_owned(),
            });
        };
        let rest: Vec<&str> = words.collect();
        if word == "start" {
            if terms.is_some() {
                return Err(LogError::SecondStart { line });
            }
            let (start_terms, first_parent) = parse_start_options(line, &rest)?;
            terms = Some(start_terms.clone());
            commands.push(LogCommand::Start {
                terms: start_terms,
                first_parent,
            });
            continue;
        }
        let Some(terms) = &terms else {
            return Err(LogError::MissingStart { line });
        };
        let verdict = terms.verdict(word).ok_or_else(|| LogError::UnknownWord {
            line,
            word: word.to_owned(),
            old: terms.old.clone(),
            new: terms.new.clone(),
        })?;
        if rest.is_empty() {
            return Err(LogError::NoRevision {
                line,
                word: word.to_owned(),
            });
        }
        commands.push(LogCommand::Mark {
            verdict,
            revs: rest.into_iter().map(str::to_owned).collect(),
        });
    }
    if commands.is_empty() {
        return Err(LogError::Empty);
    }
    Ok(commands)
}

fn parse_start_options(line: usize, options: &[&str]) -> Result<(Terms, bool), LogError> {
    let mut old = "good";
    let mut new = "bad";
    let mut first_parent = false;
    for option in options {
        if let Some(value) = option.strip_prefix("--term-old=") {
            old = value;
        } else if let Some(value) = option.strip_prefix("--term-new=") {
            new = value;
        } else if *option == "--first-parent" {
            first_parent = true;
        } else {
            return Err(LogError::UnknownOption {
                line,
                option: (*option).to_owned(),
            });
        }
    }
    let terms = Terms::new(old, new).map_err(|e| LogError::InvalidTerms {
        line,
        message: e.to_string(),
    })?;
    Ok((terms, first_parent))
}

/// Renders the start line for `terms` and `first_parent`.
pub fn render_start(terms: &Terms, first_parent: bool) -> String {
    let mut line = format!("{PREFIX} start");
    if *terms != Terms::default() {
        line.push_str(&format!(
            " --term-old={} --term-new={}",
            terms.old, terms.new
        ));
    }
    if first_parent {
        line.push_str(" --first-parent");
    }
    line
}

/// Renders one verdict as a comment naming the commit (`summary`, e.g. its message's first
/// line) followed by the replayable command.
pub fn render_mark(terms: &Terms, verdict: Verdict, rev: &str, summary: &str) -> String {
    let word = terms.word(verdict);
    format!("# {word}: [{rev}] {summary}\n{PREFIX} {word} {rev}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_custom_terms() {
        let terms = Terms::new("fast", "slow").unwrap();
        let text = [
            render_start(&terms, true),
            render_mark(&terms, Verdict::Bad, "aaaa", "nightly 3"),
            render_mark(&terms, Verdict::Good, "bbbb", "nightly 1"),
            render_mark(&terms, Verdict::Skip, "cccc", "nightly 2"),
            "# first slow commit: [aaaa] nightly 3".into(),
        ]
        .join("\n");
        let commands = parse_log(&text).unwrap();
        assert_eq!(
            commands,
            vec![
                LogCommand::Start {
                    terms,
                    first_parent: true
                },
                LogCommand::Mark {
                    verdict: Verdict::Bad,
                    revs: vec!["aaaa".into()]
                },
                LogCommand::Mark {
                    verdict: Verdict::Good,
                    revs: vec!["bbbb".into()]
                },
                LogCommand::Mark {
                    verdict: Verdict::Skip,
                    revs: vec!["cccc".into()]
                },
            ]
        );
    }

    #[test]
    fn default_terms_render_bare_start() {
        assert_eq!(render_start(&Terms::default(), false), "ev bisect start");
    }

    #[test]
    fn several_revisions_on_one_line() {
        let commands = parse_log("ev bisect start\nev bisect good a b c\n").unwrap();
        assert_eq!(
            commands[1],
            LogCommand::Mark {
                verdict: Verdict::Good,
                revs: vec!["a".into(), "b".into(), "c".into()]
            }
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            parse_log("ev bisect good a"),
            Err(LogError::MissingStart { line: 1 })
        );
        assert!(matches!(
            parse_log("ev bisect start\n\ngit bisect good a"),
            Err(LogError::NotACommand { line: 3, .. })
        ));
        assert!(matches!(
            parse_log("ev bisect start\nev bisect fast a"),
            Err(LogError::UnknownWord { line: 2, .. })
        ));
        assert!(matches!(
            parse_log("ev bisect start --bogus"),
            Err(LogError::UnknownOption { line: 1, .. })
        ));
        assert!(matches!(
            parse_log("ev bisect start\nev bisect start"),
            Err(LogError::SecondStart { line: 2 })
        ));
        assert!(matches!(
            parse_log("ev bisect start\nev bisect bad"),
            Err(LogError::NoRevision { line: 2, .. })
        ));
        assert!(matches!(
            parse_log("ev bisect start --term-old=run"),
            Err(LogError::InvalidTerms { line: 1, .. })
        ));
        assert_eq!(parse_log("# nothing\n"), Err(LogError::Empty));
    }
}
