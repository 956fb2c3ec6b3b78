//! The `ev` command line: argument parsing, dispatch, and the mapping of outcomes and errors to
//! exit codes. Each command lives in its own file with a `<Command>Args` struct and a
//! `cmd_<name>` function; this module only registers them.
//!
//! This is the only part of the crate that prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub mod context;
pub mod error;
pub mod output;

mod bisect;
mod branch;
mod cat;
mod checkout;
mod commit;
mod diff;
mod init;
mod log;
mod ls;
mod reflog;
mod rev_parse;
mod show;
mod tag;
mod verify;

pub use context::Context;
pub use error::{CliError, ErrorClass};

/// What a successful command found, which decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the command found differences (diff-like commands).
    Differences,
    /// Exit 3: the command found damage (`ev verify`).
    Damaged,
}

impl Outcome {
    fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => error::EXIT_OK,
            Outcome::Differences => error::EXIT_DIFFERENCES,
            Outcome::Damaged => error::EXIT_DAMAGED,
        }
    }
}

/// The result every `cmd_<name>` returns.
pub type CmdResult = Result<Outcome, CliError>;

/// ev: a Git-style versioned evidence store for debugging production ML incidents.
#[derive(Debug, Parser)]
#[command(name = "ev", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Heading of the global options in `--help`.
const GLOBAL: &str = "Global options";

/// Options accepted by every command.
#[derive(Clone, Debug, Args)]
pub struct GlobalArgs {
    /// Repository to use: a `.ev` folder or a folder containing one [default: search upwards
    /// from the current directory]
    #[arg(long, global = true, env = "EV_DIR", value_name = "PATH", help_heading = GLOBAL)]
    pub repo: Option<PathBuf>,

    /// Workspace whose files are snapshot [default: the folder holding `.ev`, or the current
    /// directory when --repo or EV_DIR is given]
    #[arg(long, global = true, env = "EV_WORK_TREE", value_name = "DIR", help_heading = GLOBAL)]
    pub work_tree: Option<PathBuf>,

    /// When to colour output
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = ColorWhen::Auto,
        value_name = "WHEN",
        help_heading = GLOBAL
    )]
    pub color: ColorWhen,

    /// Print only data and errors, no progress or notes
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,
}

/// `--color` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colour when the stream is a terminal and NO_COLOR is unset.
    Auto,
    Always,
    Never,
}

/// Every subcommand. Add a variant here and an arm in [`dispatch`] to register a command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find the first commit with a change (by hand, with a command, a predicate, or auto)
    Bisect(bisect::BisectArgs),
    /// Create a repository (`.ev/`) and a commented evidence.toml
    Init(init::InitArgs),
    /// Snapshot the declared evidence (or the given paths) as a new commit
    Commit(commit::CommitArgs),
    /// Show commit history
    Log(log::LogArgs),
    /// Show a commit: metadata, provenance, items and changed paths
    Show(show::ShowArgs),
    /// Show what changed between two snapshots, most serious first
    Diff(diff::DiffArgs),
    /// List the files of a snapshot
    Ls(ls::LsArgs),
    /// Print a file of a snapshot to stdout
    Cat(cat::CatArgs),
    /// Print the full id a revision names
    RevParse(rev_parse::RevParseArgs),
    /// List, create or delete branches
    Branch(branch::BranchArgs),
    /// List, create or delete tags
    Tag(tag::TagArgs),
    /// Show how a ref changed over time
    Reflog(reflog::ReflogArgs),
    /// Write a snapshot's files into a folder
    Checkout(checkout::CheckoutArgs),
    /// Check every object reachable from refs and reflogs
    Verify(verify::VerifyArgs),
}

/// Runs one parsed command.
pub fn dispatch(ctx: &Context, command: &Command) -> CmdResult {
    match command {
        Command::Bisect(args) => bisect::cmd_bisect(ctx, args),
        Command::Init(args) => init::cmd_init(ctx, args),
        Command::Commit(args) => commit::cmd_commit(ctx, args),
        Command::Log(args) => log::cmd_log(ctx, args),
        Command::Show(args) => show::cmd_show(ctx, args),
        Command::Diff(args) => diff::cmd_diff(ctx, args),
        Command::Ls(args) => ls::cmd_ls(ctx, args),
        Command::Cat(args) => cat::cmd_cat(ctx, args),
        Command::RevParse(args) => rev_parse::cmd_rev_parse(ctx, args),
        Command::Branch(args) => branch::cmd_branch(ctx, args),
        Command::Tag(args) => tag::cmd_tag(ctx, args),
        Command::Reflog(args) => reflog::cmd_reflog(ctx, args),
        Command::Checkout(args) => checkout::cmd_checkout(ctx, args),
        Command::Verify(args) => verify::cmd_verify(ctx, args),
    }
}

/// Entry point of the `ev` binary.
pub fn main() -> ExitCode {
    // clap prints usage errors and exits with 2, help and version with 0.
    let cli = Cli::parse();
    let ctx = match Context::new(cli.global.clone()) {
        Ok(ctx) => ctx,
        Err(e) => return report(&e, cli.global.color),
    };
    ctx.install_interrupt_handler();
    let result = dispatch(&ctx, &cli.command);
    let _ = std::io::stdout().flush();
    // A command that finished despite Ctrl-C reports its own outcome: its work is complete.
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => report(&e, cli.global.color),
    }
}

fn report(error: &CliError, color: ColorWhen) -> ExitCode {
    if !error.quiet {
        let style = output::Styler::for_stderr(color);
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{} {}", style.error("Error:"), error.message);
        for cause in &error.causes {
            let _ = writeln!(stderr, "Caused by: {cause}");
        }
        if let Some(hint) = &error.hint {
            let _ = writeln!(stderr, "{} {hint}", style.hint("Hint:"));
        }
    }
    ExitCode::from(error.exit_code())
}
