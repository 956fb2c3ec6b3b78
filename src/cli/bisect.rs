//! `ev bisect`: find the first commit with a change, by hand, with a command, with a built-in
//! predicate over stored evidence, or automatically for every evidence item.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::error::{Classify, ErrorClass};
use super::{CliError, CmdResult, Context, Outcome};
use crate::bisect::auto::{AutoError, AutoOptions, find_departures};
use crate::bisect::driver::{DriveEnd, Evidence, StepRecord, Tested, drive};
use crate::bisect::evidence_view::{EvidenceView, ViewError};
use crate::bisect::exec::{ExecError, RunEnd, make_read_only, run_command};
use crate::bisect::history::{CommitCache, HistoryError, parse_graph, render_graph};
use crate::bisect::log::{LogCommand, LogError, parse_log};
use crate::bisect::oracle::CachedOracle;
use crate::bisect::predicate::{Predicate, PredicateError};
use crate::bisect::run::{Require, RunOutcome, classify_exit, decide};
use crate::bisect::session::{Mark, Session, SessionError};
use crate::bisect::state::{Bisection, StateError, Step, Terms, Verdict};
use crate::bisect::suspects::{SuspectsError, list_suspects};
use crate::diff::compare::{CompareOptions, compare};
use crate::id::ObjectId;
use crate::repo::Repository;
use crate::store::Store;

mod render;

/// `ev bisect` and its subcommands.
#[derive(Debug, Args)]
pub struct BisectArgs {
    #[command(subcommand)]
    pub command: BisectCommand,
}

/// Output format of bisect results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Markdown,
}

/// Options selecting the output format.
#[derive(Clone, Debug, Args)]
pub struct FormatArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Same as --format json (schema ev.bisect/1)
    #[arg(long)]
    pub json: bool,
}

impl FormatArgs {
    fn format(&self) -> Format {
        if self.json { Format::Json } else { self.format }
    }
}

#[derive(Debug, Subcommand)]
pub enum BisectCommand {
    /// Start a bisection: BAD has the change, each GOOD lacks it
    Start(StartArgs),
    /// Mark commits as good (the old state); the commit under test when none is named
    Good(MarkArgs),
    /// Mark commits as bad (the new state); the commit under test when none is named
    Bad(MarkArgs),
    /// Mark commits as untestable; the commit under test when none is named
    Skip(MarkArgs),
    /// Test commits automatically with a command or a built-in --check predicate
    Run(RunArgs),
    /// Print the replayable log of the bisection
    Log,
    /// Reset and redo a bisection from a log file
    Replay(ReplayArgs),
    /// End the bisection and remove its state
    Reset,
    /// Print the terms for the old and new states
    Terms(TermsArgs),
    /// Find, for every evidence item, column and slice, the first commit departing from GOOD
    /// beyond its noise floor
    Auto(AutoArgs),
    /// Mark with a custom term set by `start --term-old/--term-new`
    #[command(external_subcommand)]
    Term(Vec<String>),
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// A commit with the change (new state)
    pub bad: Option<String>,
    /// Commits without the change (old state)
    pub good: Vec<String>,
    /// Word for the old state, instead of `good`
    #[arg(long, value_name = "TERM")]
    pub term_old: Option<String>,
    /// Word for the new state, instead of `bad`
    #[arg(long, value_name = "TERM")]
    pub term_new: Option<String>,
    /// Follow only the first parent of merges, so a merge is tested as one change
    #[arg(long)]
    pub first_parent: bool,
    #[command(flatten)]
    pub output: FormatArgs,
}

#[derive(Debug, Args)]
pub struct MarkArgs {
    /// Revisions to mark [default: the commit under test]
    pub revs: Vec<String>,
    #[command(flatten)]
    pub output: FormatArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Built-in predicate over stored evidence, e.g. 'drift flights.dep_delay psi > 0.2'; true
    /// marks a commit bad, unavailable evidence skips it
    #[arg(long, value_name = "PREDICATE", conflicts_with = "command")]
    pub check: Option<String>,
    /// Runs of the command per commit, for flaky commands
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub repeat: u32,
    /// Rule for combining repeated runs: all must agree, or a majority
    #[arg(long, value_enum, default_value_t = Require::All)]
    pub require: Require,
    /// Seconds each run of the command may take before its process group is killed. The run
    /// then stops unless --timeout-skip is given
    #[arg(
        long,
        value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(1..),
        conflicts_with = "check"
    )]
    pub timeout: Option<u64>,
    /// Mark a commit whose command timed out as skipped (like exit 125) and go on
    #[arg(long, requires = "timeout")]
    pub timeout_skip: bool,
    #[command(flatten)]
    pub output: FormatArgs,
    /// Command and arguments; exit 0 good, 125 skip, 1-127 bad, 128 or more aborts
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A log written by `ev bisect log`
    pub file: PathBuf,
    #[command(flatten)]
    pub output: FormatArgs,
}

#[derive(Debug, Args)]
pub struct TermsArgs {
    /// Print only the old term
    #[arg(long, conflicts_with = "term_bad")]
    pub term_good: bool,
    /// Print only the new term
    #[arg(long)]
    pub term_bad: bool,
}

#[derive(Debug, Args)]
pub struct AutoArgs {
    /// The last known good commit: the reference for every score
    pub good: String,
    /// A commit with the problem
    pub bad: String,
    /// Standard deviations above the mean of reference scores for the noise floor
    #[arg(long, default_value_t = 3.0, value_name = "K")]
    pub sigmas: f64,
    /// First-parent ancestors of GOOD (GOOD included) used to calibrate noise floors
    #[arg(long, default_value_t = 30, value_name = "COMMITS")]
    pub reference: usize,
    /// Score every commit instead of binary search (slower, shows every flip)
    #[arg(long)]
    pub exhaustive: bool,
    /// Most suspect git commits listed
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_suspects: usize,
    #[command(flatten)]
    pub output: FormatArgs,
}

/// Runs `ev bisect`.
pub fn cmd_bisect(ctx: &Context, args: &BisectArgs) -> CmdResult {
    let repo = ctx.repo()?;
    let store = ctx.store(&repo)?;
    let env = Env {
        ctx,
        repo: &repo,
        store: &store,
        dir: repo.bisect_dir(),
    };
    match &args.command {
        BisectCommand::Start(a) => env.start(a),
        BisectCommand::Good(a) => env.mark_named("good", Verdict::Good, a),
        BisectCommand::Bad(a) => env.mark_named("bad", Verdict::Bad, a),
        BisectCommand::Skip(a) => env.mark(Verdict::Skip, &a.revs, a.output.format()),
        BisectCommand::Term(words) => env.mark_term(words),
        BisectCommand::Run(a) => env.run(a),
        BisectCommand::Log => env.log(),
        BisectCommand::Replay(a) => env.replay(a),
        BisectCommand::Reset => env.reset(),
        BisectCommand::Terms(a) => env.terms(a),
        BisectCommand::Auto(a) => env.auto(a),
    }
}

/// File in the session folder caching the commit graph.
const GRAPH_FILE: &str = "graph";

/// Repository, store and session folder shared by the subcommands.
struct Env<'a> {
    ctx: &'a Context,
    repo: &'a Repository,
    store: &'a Store,
    dir: PathBuf,
}

impl Env<'_> {
    fn resolve(&self, spec: &str) -> Result<ObjectId, CliError> {
        self.ctx.resolve_commit(self.repo, self.store, spec)
    }

    fn save(&self, session: &Session) -> Result<(), CliError> {
        let mut cache = CommitCache::new(self.store);
        session.save(&self.dir, &mut |id| cache_summary(&mut cache, id))?;
        Ok(())
    }

    /// Builds the state machine from the session's verdicts.
    fn bisection(&self, session: &Session) -> Result<Bisection<ObjectId>, CliError> {
        let starts: Vec<ObjectId> = session.marks.iter().map(|m| m.commit).collect();
        // The graph walked by an earlier command of this bisection is kept in the session
        // folder, so each later command reads only commits it has not seen.
        let graph_path = self.dir.join(GRAPH_FILE);
        let known = std::fs::read_to_string(&graph_path)
            .map(|text| parse_graph(&text))
            .unwrap_or_default();
        let known_count = known.len();
        let mut cache = CommitCache::new(self.store);
        cache.add_known_parents(known);
        let dag = cache.load_dag(&starts)?;
        if dag.len() != known_count && std::fs::create_dir_all(&self.dir).is_ok() {
            let text = render_graph(&dag, dag.ids().copied().collect::<Vec<_>>());
            // A failed cache write only costs re-reading commits next time.
            let _ = crate::bisect::session::write_atomically(&graph_path, text.as_bytes());
        }
        let mut bisection = Bisection::new(dag, session.first_parent);
        for mark in &session.marks {
            bisection.mark(mark.verdict, mark.commit)?;
        }
        Ok(bisection)
    }

    fn start(&self, args: &StartArgs) -> CmdResult {
        if Session::exists(&self.dir) {
            return Err(SessionError::AlreadyStarted {
                path: self.dir.clone(),
            }
            .into());
        }
        let terms = Terms::new(
            args.term_old.as_deref().unwrap_or("good"),
            args.term_new.as_deref().unwrap_or("bad"),
        )?;
        let mut session = Session::new(terms, args.first_parent);
        if let Some(bad) = &args.bad {
            session.marks.push(Mark {
                verdict: Verdict::Bad,
                commit: self.resolve(bad)?,
            });
        }
        for good in &args.good {
            session.marks.push(Mark {
                verdict: Verdict::Good,
                commit: self.resolve(good)?,
            });
        }
        self.advance(&mut session, args.output.format(), "manual")
    }

    fn mark_named(&self, word: &str, verdict: Verdict, args: &MarkArgs) -> CmdResult {
        let session = Session::load(&self.dir)?;
        if session.terms.word(verdict) != word {
            return Err(CliError::user(
                format!(
                    "\"{word}\" is not a term of this bisection, which uses \"{}\" and \"{}\"",
                    session.terms.old, session.terms.new
                ),
                format!(
                    "run `ev bisect {} [REV]` or `ev bisect {} [REV]`",
                    session.terms.old, session.terms.new
                ),
            ));
        }
        self.mark(verdict, &args.revs, args.output.format())
    }

    fn mark_term(&self, words: &[String]) -> CmdResult {
        let session = Session::load(&self.dir)?;
        let (word, revs) = words
            .split_first()
            .expect("clap passes the subcommand name first");
        let Some(verdict) = session.terms.verdict(word) else {
            return Err(CliError::user(
                format!("unknown bisect subcommand or term {word:?}"),
                format!(
                    "this bisection uses the terms \"{}\" and \"{}\"; see `ev bisect --help`",
                    session.terms.old, session.terms.new
                ),
            ));
        };
        // Custom-term marks take revisions only; options such as --json follow the revisions.
        let json = revs.iter().any(|r| r == "--json");
        let revs: Vec<String> = revs.iter().filter(|r| *r != "--json").cloned().collect();
        self.mark(
            verdict,
            &revs,
            if json { Format::Json } else { Format::Human },
        )
    }

    fn mark(&self, verdict: Verdict, revs: &[String], format: Format) -> CmdResult {
        let mut session = Session::load(&self.dir)?;
        let commits: Vec<ObjectId> = if revs.is_empty() {
            vec![session.current.ok_or_else(|| {
                CliError::user(
                    "no commit is under test",
                    "name the revision to mark, e.g. `ev bisect good main~3`",
                )
            })?]
        } else {
            revs.iter()
                .map(|r| self.resolve(r))
                .collect::<Result<_, _>>()?
        };
        for commit in commits {
            session.marks.push(Mark { verdict, commit });
        }
        self.advance(&mut session, format, "manual")
    }

    /// Computes the next step, stores it in the session, saves and prints it.
    fn advance(&self, session: &mut Session, format: Format, mode: &'static str) -> CmdResult {
        let bisection = self.bisection(session)?;
        let step = bisection.next();
        // Save the verdicts even when they are inconsistent, so `log` and `replay` can fix them.
        let step = match step {
            Ok(step) => step,
            Err(e) => {
                session.current = None;
                self.save(session)?;
                return Err(e.into());
            }
        };
        self.finish(session, &bisection, step, Vec::new(), None, format, mode)
    }

    /// Records the result in the session and prints the report.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        session: &mut Session,
        bisection: &Bisection<ObjectId>,
        step: Step<ObjectId>,
        steps: Vec<StepRecord<ObjectId>>,
        predicate: Option<String>,
        format: Format,
        mode: &'static str,
    ) -> CmdResult {
        let mut cache = CommitCache::new(self.store);
        session.current = match &step {
            Step::Test { commit, .. } => Some(*commit),
            _ => None,
        };
        session.result = match &step {
            Step::Found { first_bad } => Some(format!(
                "first {} commit: [{}] {}",
                session.terms.new,
                first_bad,
                cache_summary(&mut cache, first_bad)
            )),
            Step::FoundWithSkips {
                first_bad,
                may_also_be,
            } => Some(format!(
                "only skipped commits left: the first {} commit is {} or one of {}",
                session.terms.new,
                first_bad,
                may_also_be
                    .iter()
                    .map(ObjectId::to_hex)
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
            _ => None,
        };
        self.save(session)?;

        let suspects = match &step {
            Step::Found { first_bad } | Step::FoundWithSkips { first_bad, .. } => {
                let earliest = match &step {
                    Step::FoundWithSkips { may_also_be, .. } => {
                        may_also_be.first().unwrap_or(first_bad)
                    }
                    _ => first_bad,
                };
                Some(self.suspects(&mut cache, earliest, first_bad, 20))
            }
            _ => None,
        };
        let report = render::ManualReport::build(
            &mut cache,
            mode,
            &session.terms,
            bisection,
            &step,
            steps,
            predicate,
            suspects,
        );
        let mut out = std::io::stdout().lock();
        match format {
            Format::Json => super::output::write_json(&mut out, &report)?,
            Format::Human => write!(out, "{}", render::manual_human(&report))?,
            Format::Markdown => write!(out, "{}", render::manual_markdown(&report))?,
        }
        Ok(match step {
            Step::FoundWithSkips { .. } => Outcome::Differences,
            _ => Outcome::Success,
        })
    }

    /// Lists git commits between the code behind the parent of `earliest` and the code behind
    /// `first_bad`, or a note with the reason they cannot be listed.
    fn suspects(
        &self,
        cache: &mut CommitCache<'_>,
        earliest: &ObjectId,
        first_bad: &ObjectId,
        limit: usize,
    ) -> render::SuspectsReport {
        let code_of = |cache: &mut CommitCache<'_>, id: &ObjectId| {
            cache
                .get(id)
                .ok()
                .and_then(|c| c.provenance.git.as_ref().and_then(|g| g.commit.clone()))
        };
        let parent = cache
            .get(earliest)
            .ok()
            .and_then(|c| c.parents.first().copied());
        let bad_code = code_of(cache, first_bad);
        let good_code = parent.and_then(|p| code_of(cache, &p));
        let (Some(good_code), Some(bad_code)) = (good_code, bad_code) else {
            return render::SuspectsReport::note(
                "the evidence commits record no git commit in their provenance",
            );
        };
        if good_code == bad_code {
            return render::SuspectsReport::note(&format!(
                "the code did not change (both at git commit {good_code}): look at data and config"
            ));
        }
        match list_suspects(self.repo.work_tree(), &good_code, &bad_code, limit) {
            Ok(list) => render::SuspectsReport::list(list),
            Err(e) => render::SuspectsReport::note(&format!(
                "code changed from {good_code} to {bad_code}, but the git range cannot be read: {e}"
            )),
        }
    }

    fn run(&self, args: &RunArgs) -> CmdResult {
        let mut session = Session::load(&self.dir)?;
        let mut bisection = self.bisection(&session)?;
        match bisection.next()? {
            Step::NeedBad => {
                return Err(CliError::user(
                    format!("no {} commit is marked", session.terms.new),
                    format!("run `ev bisect {} REV` first", session.terms.new),
                ));
            }
            Step::NeedGood => {
                return Err(CliError::user(
                    format!("no {} commit is marked", session.terms.old),
                    format!("run `ev bisect {} REV` first", session.terms.old),
                ));
            }
            _ => {}
        }
        let predicate = match &args.check {
            Some(text) => Some(Predicate::parse(text)?),
            None if args.command.is_empty() => {
                return Err(CliError::user(
                    "no command and no --check predicate given",
                    "run `ev bisect run -- ./test.sh` or `ev bisect run --check 'metric eval.mae > 12.5'`",
                ));
            }
            None => None,
        };
        if args.repeat == 0 {
            return Err(CliError::user(
                "--repeat must be at least 1",
                "use --repeat 3 for a flaky command",
            ));
        }
        let good = *bisection
            .goods()
            .first()
            .copied()
            .expect("next() returned neither NeedGood nor an error, so a good commit exists");
        let mut view = EvidenceView::new(self.store);
        let mut fatal: Option<CliError> = None;
        let terms = session.terms.clone();
        let mut persisted = Ok(());
        let mut records: Vec<StepRecord<ObjectId>> = Vec::new();
        let end = {
            let mut test = |commit: &ObjectId, first: bool| -> Tested {
                if self.ctx.interrupted() {
                    return Tested::Abort {
                        reason: "interrupted".into(),
                    };
                }
                let result = match &predicate {
                    Some(p) => view
                        .evaluate(p, &good, commit)
                        .map(check_verdict)
                        .map_err(CliError::from),
                    None => self.test_command(commit, first, args),
                };
                result.unwrap_or_else(|e| {
                    let reason = e.message.clone();
                    fatal = Some(e);
                    Tested::Abort { reason }
                })
            };
            let mut on_step = |_: &Bisection<ObjectId>, record: &StepRecord<ObjectId>| {
                session.marks.push(Mark {
                    verdict: record.verdict,
                    commit: record.commit,
                });
                if persisted.is_ok() {
                    persisted = self.save(&session);
                }
                self.ctx.note(&render::step_line(&terms, record));
                records.push(record.clone());
            };
            drive(&mut bisection, &mut test, &mut on_step)
        };
        persisted?;
        let mode = if predicate.is_some() { "check" } else { "run" };
        match end {
            DriveEnd::Done(step) => self.finish(
                &mut session,
                &bisection,
                step,
                records,
                predicate.map(|p| p.to_string()),
                args.output.format(),
                mode,
            ),
            DriveEnd::Failed(e) => Err(e.into()),
            DriveEnd::Aborted { commit, reason } => {
                session.current = Some(commit);
                self.save(&session)?;
                Err(fatal.unwrap_or_else(|| {
                    CliError::user(
                        format!("bisect run aborted at commit {}: {reason}", commit.short()),
                        "the verdicts so far are kept: fix the command and rerun `ev bisect run`, \
                         or see `ev bisect log`",
                    )
                }))
            }
        }
    }

    /// Checks `commit` out read-only into a fresh folder and runs the command `repeat` times.
    fn test_command(
        &self,
        commit: &ObjectId,
        first: bool,
        args: &RunArgs,
    ) -> Result<Tested, CliError> {
        let tree = self
            .store
            .read_commit(commit)
            .map_err(|e| {
                CliError::new(
                    ErrorClass::Damaged,
                    format!("failed to read commit {}: {e}", commit.short()),
                )
            })?
            .tree;
        let folder = tempfile::Builder::new()
            .prefix("ev-bisect-")
            .tempdir()
            .map_err(|e| {
                CliError::new(
                    ErrorClass::Internal,
                    format!("failed to create a temporary folder: {e}"),
                )
            })?;
        crate::checkout::checkout(
            self.store,
            &tree,
            &[],
            folder.path(),
            &crate::checkout::CheckoutOptions::default(),
            &crate::progress::NoProgress,
            &self.ctx.interrupt,
        )
        .map_err(|e| {
            CliError::new(
                ErrorClass::Damaged,
                format!("failed to check out commit {}: {e}", commit.short()),
            )
        })?;
        make_read_only(folder.path())?;

        let timeout = args.timeout.map(Duration::from_secs);
        let mut verdicts = Vec::new();
        let mut codes = Vec::new();
        let mut timed_out = 0;
        for run in 0..args.repeat {
            let code = match run_command(
                &args.command,
                folder.path(),
                commit,
                timeout,
                &self.ctx.interrupt,
            )? {
                RunEnd::Exited(code) => code,
                RunEnd::TimedOut if args.timeout_skip => {
                    codes.push(None);
                    timed_out += 1;
                    verdicts.push(Verdict::Skip);
                    continue;
                }
                RunEnd::TimedOut => {
                    return Err(CliError::user(
                        format!(
                            "the command timed out after {} s at commit {}; its process group \
                             was killed and the commit was not marked",
                            args.timeout.unwrap_or_default(),
                            commit.short()
                        ),
                        "the verdicts so far are kept: raise --timeout, or add --timeout-skip to \
                         mark such commits skipped, then rerun `ev bisect run`",
                    ));
                }
            };
            codes.push(code);
            match classify_exit(code, first && run == 0) {
                RunOutcome::Verdict { verdict, .. } => verdicts.push(verdict),
                RunOutcome::NotRunnable { code } => {
                    return Err(CliError::user(
                        format!(
                            "the command exited {code} on its first run, which means it is missing or not executable; no commit was marked"
                        ),
                        "check the command path and its executable bit (chmod +x), then rerun `ev bisect run`",
                    ));
                }
                RunOutcome::Abort { code } => {
                    return Ok(Tested::Abort {
                        reason: match code {
                            Some(code) => format!("the command exited {code} (128 or more aborts)"),
                            None => "the command was killed by a signal".into(),
                        },
                    });
                }
            }
        }
        let vote = decide(&verdicts, args.require);
        Ok(Tested::Verdict {
            verdict: vote.verdict,
            evidence: Evidence::Command {
                exit_codes: codes,
                vote,
                timed_out,
            },
        })
    }

    fn log(&self) -> CmdResult {
        let session = Session::load(&self.dir)?;
        let mut cache = CommitCache::new(self.store);
        let text = session.render_log(&mut |id| cache_summary(&mut cache, id));
        write!(std::io::stdout().lock(), "{text}")?;
        Ok(Outcome::Success)
    }

    fn replay(&self, args: &ReplayArgs) -> CmdResult {
        let text = std::fs::read_to_string(&args.file).map_err(|e| {
            CliError::user(
                format!("failed to read {}: {e}", args.file.display()),
                "pass a file written by `ev bisect log > FILE`",
            )
        })?;
        let commands = parse_log(&text)?;
        let mut session: Option<Session> = None;
        for command in commands {
            match command {
                LogCommand::Start {
                    terms,
                    first_parent,
                } => {
                    session = Some(Session::new(terms, first_parent));
                }
                LogCommand::Mark { verdict, revs } => {
                    let session = session
                        .as_mut()
                        .expect("parse_log requires a start line first");
                    for rev in revs {
                        session.marks.push(Mark {
                            verdict,
                            commit: self.resolve(&rev)?,
                        });
                    }
                }
            }
        }
        let mut session = session.expect("parse_log returns at least the start line");
        Session::remove(&self.dir)?;
        self.advance(&mut session, args.output.format(), "manual")
    }

    fn reset(&self) -> CmdResult {
        if Session::remove(&self.dir)? {
            self.ctx.note("Bisection reset.");
        } else {
            self.ctx.note("No bisection in progress.");
        }
        Ok(Outcome::Success)
    }

    fn terms(&self, args: &TermsArgs) -> CmdResult {
        let terms = Session::load(&self.dir)
            .map(|s| s.terms)
            .or_else(|e| match e {
                SessionError::NotStarted => Ok(Terms::default()),
                e => Err(e),
            })?;
        let mut out = std::io::stdout().lock();
        if args.term_good {
            writeln!(out, "{}", terms.old)?;
        } else if args.term_bad {
            writeln!(out, "{}", terms.new)?;
        } else {
            writeln!(
                out,
                "Your current terms are {} for the old state\nand {} for the new state.",
                terms.old, terms.new
            )?;
        }
        Ok(Outcome::Success)
    }

    fn auto(&self, args: &AutoArgs) -> CmdResult {
        let good = self.resolve(&args.good)?;
        let bad = self.resolve(&args.bad)?;
        if good == bad {
            return Err(CliError::user(
                format!(
                    "good {} and bad {} are the same commit {}, so there is nothing to search",
                    shell_word(&args.good),
                    shell_word(&args.bad),
                    good.short()
                ),
                "give an older GOOD commit, e.g. `ev bisect auto BAD~10 BAD`",
            ));
        }
        let mut cache = CommitCache::new(self.store);
        let (path, good_position) = cache
            .first_parent_path(&good, &bad, args.reference.saturating_sub(1))
            .map_err(|e| match e {
                HistoryError::GoodAfterBad { .. } => CliError::from(e).with_hint(format!(
                    "the older commit comes first, so swap the revisions: `ev bisect auto {} {}`",
                    shell_word(&args.bad),
                    shell_word(&args.good)
                )),
                e => e.into(),
            })?;
        let bad_position = path.len() - 1;
        if good_position >= bad_position {
            return Err(AutoError::GoodNotBeforeBad {
                good: good_position,
                bad: bad_position,
            }
            .into());
        }
        let options = AutoOptions {
            sigmas: args.sigmas,
            reference_window: args.reference.max(1),
            exhaustive: args.exhaustive,
            ..AutoOptions::default()
        };
        let mut view = EvidenceView::new(self.store);
        let (mut oracle, items) = CachedOracle::new(&path, good_position, bad_position, &mut view);
        let outcome = find_departures(&items, good_position, bad_position, &options, &mut oracle)?;
        let comparisons = oracle.comparisons;
        let suspects = outcome.first_change.as_ref().map(|first| {
            let commit = path[first.position];
            self.suspects(&mut cache, &commit, &commit, args.max_suspects)
        });
        let mut report = render::AutoReport::build(
            &mut cache,
            &path,
            good_position,
            &options,
            &outcome,
            comparisons,
            suspects,
        );
        if let Some(first) = &outcome.first_change {
            let (parent, commit) = (path[first.position - 1], path[first.position]);
            match compare(self.store, &parent, &commit, &CompareOptions::default()) {
                Ok(diff) => report.first_change_diff = Some(diff),
                Err(e) => report.diff_note = Some(e.to_string()),
            }
        }
        let mut out = std::io::stdout().lock();
        match args.output.format() {
            Format::Json => super::output::write_json(&mut out, &report)?,
            Format::Human => write!(out, "{}", render::auto_human(&report))?,
            Format::Markdown => write!(out, "{}", render::auto_markdown(&report))?,
        }
        Ok(if outcome.first_change.is_some() {
            Outcome::Success
        } else {
            Outcome::Differences
        })
    }
}

/// Quotes `word` for a POSIX shell when it contains characters other than those of plain
/// revisions (letters, digits and `._/~^@:-`), so a hint can be pasted as a command.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._/~^@:-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn cache_summary(cache: &mut CommitCache<'_>, id: &ObjectId) -> String {
    cache.summary(id)
}

/// Maps a predicate evaluation to a verdict: true is bad, false good, unavailable skipped.
fn check_verdict(evaluation: crate::bisect::predicate::Evaluation) -> Tested {
    use crate::bisect::predicate::Evaluation;
    let verdict = match &evaluation {
        Evaluation::Decided { holds: true, .. } => Verdict::Bad,
        Evaluation::Decided { holds: false, .. } => Verdict::Good,
        Evaluation::Unavailable { .. } => Verdict::Skip,
    };
    Tested::Verdict {
        verdict,
        evidence: Evidence::Check { evaluation },
    }
}

impl Classify for SessionError {
    fn class(&self) -> ErrorClass {
        match self {
            SessionError::NotStarted | SessionError::AlreadyStarted { .. } => ErrorClass::User,
            SessionError::Damaged { .. } | SessionError::UnsupportedSchema { .. } => {
                ErrorClass::Damaged
            }
            SessionError::Io { .. } => ErrorClass::Internal,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            SessionError::NotStarted => "run `ev bisect start BAD GOOD` first".into(),
            SessionError::AlreadyStarted { .. } => {
                "run `ev bisect reset` to end it, or continue with `ev bisect good|bad|skip`".into()
            }
            SessionError::Damaged { .. } | SessionError::UnsupportedSchema { .. } => {
                "run `ev bisect reset` and start again, or `ev bisect replay` a saved log".into()
            }
            SessionError::Io { .. } => return None,
        })
    }
}

impl Classify for StateError {
    fn class(&self) -> ErrorClass {
        ErrorClass::User
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            StateError::BadIsAncestorOfGood { .. } | StateError::MergeBaseIsBad { .. } => {
                "if you are looking for the commit that fixed something, start again with \
                 `ev bisect start --term-old broken --term-new fixed`; otherwise check the order \
                 of BAD and GOOD (`ev bisect log`, `ev bisect reset`)"
                    .into()
            }
            StateError::UnknownCommit { .. } => "run `ev log` to list commits".into(),
            StateError::InvalidTerm { .. } | StateError::SameTerms { .. } => {
                "choose two different words such as --term-old fast --term-new slow".into()
            }
        })
    }
}

impl Classify for HistoryError {
    fn class(&self) -> ErrorClass {
        match self {
            HistoryError::Read { .. } => ErrorClass::Damaged,
            HistoryError::NotOnFirstParentChain { .. } | HistoryError::GoodAfterBad { .. } => {
                ErrorClass::User
            }
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            HistoryError::Read { .. } => "run `ev verify` to check the repository".into(),
            HistoryError::NotOnFirstParentChain { .. } => {
                "auto mode walks the first-parent chain from BAD; pick a GOOD on it (`ev log --first-parent BAD`)".into()
            }
            HistoryError::GoodAfterBad { .. } => {
                "give the older commit first: `ev bisect auto GOOD BAD`".into()
            }
        })
    }
}

impl Classify for AutoError {
    fn class(&self) -> ErrorClass {
        ErrorClass::User
    }

    fn hint(&self) -> Option<String> {
        Some("give the older commit first: `ev bisect auto GOOD BAD`".into())
    }
}

impl Classify for LogError {
    fn class(&self) -> ErrorClass {
        ErrorClass::User
    }

    fn hint(&self) -> Option<String> {
        Some("fix the line in the log file; `ev bisect log` shows the expected format".into())
    }
}

impl Classify for PredicateError {
    fn class(&self) -> ErrorClass {
        ErrorClass::User
    }

    fn hint(&self) -> Option<String> {
        Some(
            "predicates: schema ITEM changed | golden ITEM outside-tolerance | drift ITEM.COLUMN \
             STAT > X [slice COL=VALUE] | metric ITEM.NAME > X | file PATH changed | item ITEM changed"
                .into(),
        )
    }
}

impl Classify for ExecError {
    fn class(&self) -> ErrorClass {
        match self {
            ExecError::Prepare { .. } | ExecError::Wait { .. } => ErrorClass::Internal,
            ExecError::Interrupted => ErrorClass::Interrupted,
            _ => ErrorClass::User,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ExecError::NotFound { .. } | ExecError::NotExecutable { .. } => Some(
                "check the command path and its executable bit (chmod +x); no commit was marked"
                    .into(),
            ),
            _ => None,
        }
    }
}

impl Classify for ViewError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Damaged
    }

    fn hint(&self) -> Option<String> {
        Some("run `ev verify` to check the repository".into())
    }
}

impl Classify for SuspectsError {
    fn class(&self) -> ErrorClass {
        ErrorClass::User
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn shell_word_quotes_only_when_needed() {
        assert_eq!(shell_word("main~3"), "main~3");
        assert_eq!(shell_word("v1.2^2"), "v1.2^2");
        assert_eq!(shell_word("nightly 04"), "'nightly 04'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("HEAD@{1}"), "'HEAD@{1}'");
        assert_eq!(shell_word(""), "''");
    }
}
