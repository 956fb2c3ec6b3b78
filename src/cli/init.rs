//! `ev init [DIR]`: create a repository.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, CmdResult, Context, Outcome};
use crate::repo::{Config, Repository};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder to create the repository in; it becomes the workspace [default: the current
    /// directory]
    pub dir: Option<PathBuf>,
}

pub fn cmd_init(ctx: &Context, args: &InitArgs) -> CmdResult {
    let dir = match &args.dir {
        Some(dir) if dir.is_absolute() => dir.clone(),
        Some(dir) => ctx.cwd.join(dir),
        None => ctx.cwd.clone(),
    };
    // Otherwise creating the folder fails with "File exists", an I/O error (exit 5).
    if dir.exists() && !dir.is_dir() {
        return Err(CliError::user(
            format!(
                "cannot create a repository in {}: it is not a folder",
                dir.display()
            ),
            "give a new or existing folder: `ev init DIR`",
        ));
    }
    let repo = Repository::init(&dir, &Config::default())?;
    ctx.note(&format!(
        "Initialized empty ev repository in {}",
        repo.ev_dir().display()
    ));
    Ok(Outcome::Success)
}
