//! Running a user command against one commit's evidence for `bisect run`.
//!
//! The evidence is checked out into a fresh temporary folder, every file is made read-only
//! (`chmod a-w`), and the command runs there with `EV_BISECT_COMMIT` (the full commit id) and
//! `EV_BISECT_DIR` (the folder) set. The command's stdout is sent to ev's stderr, so ev's stdout
//! carries only ev's result. The folder is removed afterwards, and the store is never written.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::id::ObjectId;

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

/// Runs `command` (program and arguments) in `dir` for `commit`; returns the exit code, or
/// `None` when the process was ended by a signal.
pub fn run_command(
    command: &[OsString],
    dir: &Path,
    commit: &ObjectId,
) -> Result<Option<i32>, ExecError> {
    let (program, args) = command.split_first().ok_or(ExecError::Empty)?;
    let stdout: Stdio = std::io::stderr().into();
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env(ENV_COMMIT, commit.to_hex())
        .env(ENV_DIR, dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .status()
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
    Ok(status.code())
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
        assert_eq!(run_command(&command, dir.path(), &id).unwrap(), Some(3));
    }

    #[test]
    fn missing_program_reported() {
        let dir = tempfile::tempdir().unwrap();
        let command = vec![OsString::from("/nonexistent/ev-bisect-test-program")];
        assert!(matches!(
            run_command(&command, dir.path(), &ObjectId::hash(b"c")),
            Err(ExecError::NotFound { .. })
        ));
    }
}
