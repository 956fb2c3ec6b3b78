//! Running a user command against one commit's evidence for `bisect run`.
//!
//! The evidence is checked out into a fresh temporary folder, every file is made read-only
//! (`chmod a-w`), and the command runs there with `EV_BISECT_COMMIT` (the full commit id) and
//! `EV_BISECT_DIR` (the folder) set. The command's stdout is sent to ev's stderr, so ev's stdout
//! carries only ev's result. The folder is removed afterwards, and the store is never written.
//! The command runs in its own process group, which a timeout or Ctrl-C kills as a whole.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::id::ObjectId;
use crate::process_group::{WaitEnd, wait_or_kill};

/// Environment variable holding the full id of the commit under test.
pub const ENV_COMMIT: &str = "EV_BISECT_COMMIT";
/// Environment variable holding the folder with the checked-out evidence.
pub const ENV_DIR: &str = "EV_BISECT_DIR";

/// A reason the command could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("command {program:?} not found")]
    NotFound { program: OsString },
    #[error("command {program:?} is not executable")]
    NotExecutable { program: OsString },
    #[error("failed to start command {program:?}")]
    Spawn {
        program: OsString,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to prepare the checkout folder {path}")]
    Prepare {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to wait for command {program:?}")]
    Wait {
        program: OsString,
        #[source]
        source: std::io::Error,
    },
    #[error("interrupted")]
    Interrupted,
    #[error("no command given")]
    Empty,
}

/// Makes every regular file below `dir` read-only for everyone. Folders stay writable, so the
/// temporary folder can be removed and the command can write scratch files.
pub fn make_read_only(dir: &Path) -> Result<(), ExecError> {
    for entry in walkdir::WalkDir::new(dir).follow_links(false) {
        let entry = entry.map_err(|e| ExecError::Prepare {
            path: dir.to_owned(),
            source: e.into(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let prepare = |source| ExecError::Prepare {
            path: entry.path().to_owned(),
            source,
        };
        let mut permissions = entry
            .metadata()
            .map_err(|e| prepare(e.into()))?
            .permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(entry.path(), permissions).map_err(prepare)?;
    }
    Ok(())
}

/// Outcome of one run of the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// The command exited with this code, or `None` when a signal ended it.
    Exited(Option<i32>),
    /// The timeout passed, so the command's process group was killed.
    TimedOut,
}

/// Runs `command` (program and arguments) in `dir` for `commit`. The command leads its own
/// process group, so when `timeout` passes or `interrupt` is set, the whole group is killed:
/// children the command started cannot outlive it.
pub fn run_command(
    command: &[OsString],
    dir: &Path,
    commit: &ObjectId,
    timeout: Option<Duration>,
    interrupt: &AtomicBool,
) -> Result<RunEnd, ExecError> {
    let (program, args) = command.split_first().ok_or(ExecError::Empty)?;
    let stdout: Stdio = std::io::stderr().into();
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env(ENV_COMMIT, commit.to_hex())
        .env(ENV_DIR, dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .process_group(0)
        .spawn()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ExecError::NotFound {
                program: program.clone(),
            },
            std::io::ErrorKind::PermissionDenied => ExecError::NotExecutable {
                program: program.clone(),
            },
            _ => ExecError::Spawn {
                program: program.clone(),
                source,
            },
        })?;
    let end = wait_or_kill(&mut child, timeout, interrupt).map_err(|source| ExecError::Wait {
        program: program.clone(),
        source,
    })?;
    match end {
        WaitEnd::Exited(status) => Ok(RunEnd::Exited(status.code())),
        WaitEnd::TimedOut => Ok(RunEnd::TimedOut),
        WaitEnd::Interrupted => Err(ExecError::Interrupted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_files_reject_writes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let file = dir.path().join("sub/a.txt");
        std::fs::write(&file, b"x").unwrap();
        make_read_only(dir.path()).unwrap();
        assert!(std::fs::metadata(&file).unwrap().permissions().readonly());
        // Folders stay writable so cleanup works.
        assert!(
            !std::fs::metadata(dir.path().join("sub"))
                .unwrap()
                .permissions()
                .readonly()
        );
    }

    #[cfg(unix)]
    #[test]
    fn command_sees_environment_and_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let id = ObjectId::hash(b"c");
        let script = format!(
            "test \"$EV_BISECT_COMMIT\" = {} && test \"$EV_BISECT_DIR\" = \"$PWD\" && exit 3",
            id.to_hex()
        );
        let command: Vec<OsString> = vec!["sh".into(), "-c".into(), script.into()];
        let end = run_command(&command, dir.path(), &id, None, &AtomicBool::new(false));
        assert_eq!(end.unwrap(), RunEnd::Exited(Some(3)));
    }

    #[test]
    fn hanging_command_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let command: Vec<OsString> = vec!["sh".into(), "-c".into(), "sleep 30".into()];
        let started = std::time::Instant::now();
        let end = run_command(
            &command,
            dir.path(),
            &ObjectId::hash(b"c"),
            Some(Duration::from_millis(300)),
            &AtomicBool::new(false),
        );
        assert_eq!(end.unwrap(), RunEnd::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn missing_program_reported() {
        let dir = tempfile::tempdir().unwrap();
        let command = vec![OsString::from("/nonexistent/ev-bisect-test-program")];
        assert!(matches!(
            run_command(
                &command,
                dir.path(),
                &ObjectId::hash(b"c"),
                None,
                &AtomicBool::new(false)
            ),
            Err(ExecError::NotFound { .. })
        ));
    }
}
