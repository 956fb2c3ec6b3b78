//! What every command gets: global options, the current directory, the interrupt flag, and
//! helpers to open the repository and to write notes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};

use super::GlobalArgs;
use super::error::{CliError, ErrorClass};
use super::output::Styler;
use crate::id::ObjectId;
use crate::progress::{NoProgress, Progress};
use crate::provenance;
use crate::refs::Signature;
use crate::repo::{Locator, Repository};
use crate::revision;
use crate::store::Store;

/// Per-invocation state passed to every `cmd_<name>`.
#[derive(Debug)]
pub struct Context {
    pub global: GlobalArgs,
    /// The directory ev was started in.
    pub cwd: PathBuf,
    /// Set by Ctrl-C; long operations poll it and stop early.
    pub interrupt: Arc<AtomicBool>,
    /// Colours for stdout.
    pub style: Styler,
    /// Colours for stderr.
    pub err_style: Styler,
}

impl Context {
    /// Builds the context from global options.
    pub fn new(global: GlobalArgs) -> Result<Context, CliError> {
        let cwd = std::env::current_dir().map_err(|e| {
            CliError::new(
                ErrorClass::Internal,
                format!("failed to read the current directory: {e}"),
            )
        })?;
        Ok(Context {
            style: Styler::for_stdout(global.color),
            err_style: Styler::for_stderr(global.color),
            global,
            cwd,
            interrupt: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Makes Ctrl-C set the interrupt flag; a second Ctrl-C exits at once with code 130.
    pub fn install_interrupt_handler(&self) {
        let flag = self.interrupt.clone();
        // Failure only means a handler is already installed (tests calling main twice).
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                // Exiting at once would leave a `bisect run` command's process group running.
                crate::process_group::kill_active_groups();
                std::process::exit(i32::from(super::error::EXIT_INTERRUPTED));
            }
        });
    }

    /// Whether Ctrl-C was pressed.
    pub fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::SeqCst)
    }

    /// Fails with the interrupted error if Ctrl-C was pressed.
    pub fn check_interrupt(&self) -> Result<(), CliError> {
        if self.interrupted() {
            Err(CliError::interrupted())
        } else {
            Ok(())
        }
    }

    /// Finds and opens the repository from `--repo`, `--work-tree`, their environment variables
    /// and the current directory.
    pub fn repo(&self) -> Result<Repository, CliError> {
        let locator = Locator {
            repo: self.global.repo.clone(),
            work_tree: self.global.work_tree.clone(),
            cwd: self.cwd.clone(),
        };
        Ok(Repository::locate(&locator)?)
    }

    /// Opens the repository's object store.
    pub fn store(&self, repo: &Repository) -> Result<Store, CliError> {
        Ok(repo.store()?)
    }

    /// Resolves a revision (see `ev::revision`) to a commit id.
    pub fn resolve_commit(
        &self,
        repo: &Repository,
        store: &Store,
        spec: &str,
    ) -> Result<ObjectId, CliError> {
        Ok(revision::resolve(spec, &repo.refs(), store, self.now()?)?)
    }

    /// A progress handle for long work: an indicatif bar in `unit` ("bytes" or "objects") when
    /// stderr is a terminal and `--quiet` is off, otherwise one that draws nothing.
    pub fn progress(&self, label: &str, unit: ProgressUnit) -> Box<dyn Progress> {
        if !self.show_progress() {
            return Box::new(NoProgress);
        }
        let template = match unit {
            ProgressUnit::Bytes => {
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            }
            ProgressUnit::Objects => "{msg} [{bar:30}] {pos}/{len} objects eta {eta}",
        };
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .expect("the progress templates are valid")
                .progress_chars("=> "),
        );
        bar.set_message(label.to_owned());
        Box::new(Bar(bar))
    }

    /// The author of new commits and ref changes: `EV_AUTHOR`, else git's user.name and
    /// user.email, else the OS user name.
    pub fn author(&self, repo: Option<&Repository>) -> String {
        if let Some(author) = provenance::process_env("EV_AUTHOR") {
            return author;
        }
        let dir = repo.map_or(self.cwd.as_path(), Repository::work_tree);
        if let Some(author) = provenance::git_author(dir) {
            return author;
        }
        provenance::process_env("USER")
            .or_else(|| provenance::process_env("USERNAME"))
            .unwrap_or_else(|| "unknown".to_owned())
    }

    /// The time of new commits and ref changes: `EV_COMMIT_TIME` if set (RFC 3339 or Unix
    /// seconds; tests pin it so ids are stable), else now, truncated to whole seconds.
    pub fn commit_time(&self) -> Result<DateTime<Utc>, CliError> {
        let Some(text) = provenance::process_env("EV_COMMIT_TIME") else {
            return Ok(truncate_seconds(Utc::now()));
        };
        let parsed = DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                text.parse::<i64>()
                    .ok()
                    .and_then(|s| DateTime::from_timestamp(s, 0))
            });
        parsed.map(truncate_seconds).ok_or_else(|| {
            CliError::user(
                format!("invalid EV_COMMIT_TIME {text:?}"),
                "use RFC 3339 (2026-01-15T10:00:00Z) or Unix seconds, or unset it",
            )
        })
    }

    /// Who and when for reflog lines.
    pub fn signature(&self, repo: &Repository) -> Result<Signature, CliError> {
        Ok(Signature {
            who: self.author(Some(repo)),
            time: self.commit_time()?,
        })
    }

    /// The instant relative revision times (`yesterday`) count from; `EV_COMMIT_TIME` when set,
    /// so tests and replays see the same clock as commits.
    pub fn now(&self) -> Result<DateTime<Utc>, CliError> {
        self.commit_time()
    }

    /// Writes a note to stderr unless `--quiet`.
    pub fn note(&self, message: &str) {
        if !self.global.quiet {
            let _ = writeln!(std::io::stderr(), "{message}");
        }
    }

    /// Writes a warning to stderr (even with `--quiet`: warnings concern the result).
    pub fn warn(&self, message: &str) {
        let _ = writeln!(
            std::io::stderr(),
            "{} {message}",
            self.err_style.hint("Warning:")
        );
    }

    /// Whether progress bars may be drawn: stderr is a terminal and `--quiet` is off.
    pub fn show_progress(&self) -> bool {
        !self.global.quiet && std::io::stderr().is_terminal()
    }
}

fn truncate_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).expect("a valid time truncated stays valid")
}

/// What a progress bar counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressUnit {
    Bytes,
    Objects,
}

/// An indicatif bar as a library [`Progress`]; cleared when dropped.
#[derive(Debug)]
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn set_total(&self, total: u64) {
        self.0.set_length(total);
    }

    fn add(&self, n: u64) {
        self.0.inc(n);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
