use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// Variables of CI systems and ev itself that would change ids or behaviour if inherited.
const CLEARED: &[&str] = &[
    "EV_DIR",
    "EV_WORK_TREE",
    "EV_TEST_CRASH_AT",
    "GITHUB_ACTIONS",
    "GITHUB_RUN_ID",
    "GITLAB_CI",
    "CI_PIPELINE_ID",
    "BUILDKITE",
    "CIRCLECI",
    "JENKINS_URL",
    "BUILD_ID",
    "BUILD_URL",
    "CI",
    "NO_COLOR",
];

/// The `ev` binary cargo built for these tests.
pub const EV: &str = env!("CARGO_BIN_EXE_ev");

pub const T0: &str = "2026-01-15T10:00:00Z";

/// A workspace with an initialized repository.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let repo = Repo::empty();
        repo.ev().arg("init").assert().success();
        repo
    }

    /// A temporary folder without a repository.
    pub fn empty() -> Repo {
        Repo {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `ev` in the workspace with pinned author and time.
    pub fn ev(&self) -> Command {
        ev_in(self.path())
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    /// Commits `paths` at `time` and returns the new commit id.
    pub fn commit(&self, message: &str, time: &str, paths: &[&str]) -> String {
        let out = self
            .ev()
            .env("EV_COMMIT_TIME", time)
            .args(["commit", "-m", message])
            .args(paths)
            .output()
            .unwrap();
        assert!(out.status.success(), "commit failed: {}", stderr(&out));
        let id = stdout(&out).trim().to_owned();
        assert_eq!(id.len(), 64, "unexpected commit output {id:?}");
        id
    }

    /// `ev rev-parse REV`.
    pub fn rev_parse(&self, rev: &str) -> String {
        let out = self.ev().args(["rev-parse", rev]).output().unwrap();
        assert!(out.status.success(), "rev-parse {rev}: {}", stderr(&out));
        stdout(&out).trim().to_owned()
    }

    /// Runs `ev ARGS --json` and parses the output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ev().args(args).arg("--json").output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn ev_dir(&self) -> PathBuf {
        self.path().join(".ev")
    }
}

pub fn ev_in(dir: &Path) -> Command {
    let mut cmd = Command::new(EV);
    cmd.current_dir(dir)
        .env("EV_AUTHOR", "Test Author <test@example.com>")
        .env("EV_COMMIT_TIME", T0);
    for name in CLEARED {
        cmd.env_remove(name);
    }
    cmd
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cmd`, expects exit code `code`, and returns stderr.
pub fn fails_with(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(
        err.lines().filter(|l| l.starts_with("Error: ")).count() == 1,
        "stderr must hold one Error: line: {err}"
    );
    err
}
