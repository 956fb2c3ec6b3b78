//! A bisection session persisted inside the repository (`.ev/bisect/`).
//!
//! `state.json` contains the terms, the mode, every verdict in order and the commit proposed for
//! testing. `log` is the same history rendered as a replayable text file. Both are rewritten
//! whole on every change through a temporary file in the same folder, fsync and rename, so a
//! crash leaves either the old or the new version, never a torn one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::log::{render_mark, render_start};
use super::state::{Terms, Verdict};
use crate::id::ObjectId;

/// Schema name written into `state.json`.
pub const STATE_SCHEMA: &str = "ev.bisect-state/1";
/// File holding the session.
pub const STATE_FILE: &str = "state.json";
/// File holding the replayable log.
pub const LOG_FILE: &str = "log";

/// One recorded verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub verdict: Verdict,
    pub commit: ObjectId,
}

/// A bisection in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub schema: String,
    pub terms: Terms,
    pub first_parent: bool,
    /// Verdicts in the order given, the starting bad and good commits first.
    pub marks: Vec<Mark>,
    /// The commit proposed for testing, used when `good`/`bad`/`skip` name no revision.
    pub current: Option<ObjectId>,
    /// The result line once the bisection has finished, kept as a comment in the log.
    pub result: Option<String>,
}

/// A reason the session cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no bisection in progress")]
    NotStarted,
    #[error("a bisection is already in progress (state in {path})")]
    AlreadyStarted { path: PathBuf },
    #[error("failed to access {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bisect state {path} is damaged: {message}")]
    Damaged { path: PathBuf, message: String },
    #[error("bisect state {path} has schema {found:?}; this ev reads {STATE_SCHEMA}")]
    UnsupportedSchema { path: PathBuf, found: String },
}

impl Session {
    /// Creates a session with no verdicts yet.
    pub fn new(terms: Terms, first_parent: bool) -> Self {
        Session {
            schema: STATE_SCHEMA.into(),
            terms,
            first_parent,
            marks: Vec::new(),
            current: None,
            result: None,
        }
    }

    /// Returns whether a session exists in `dir`.
    pub fn exists(dir: &Path) -> bool {
        dir.join(STATE_FILE).is_file()
    }

    /// Loads the session in `dir`.
    pub fn load(dir: &Path) -> Result<Session, SessionError> {
        let path = dir.join(STATE_FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SessionError::NotStarted);
            }
            Err(source) => return Err(SessionError::Io { path, source }),
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| SessionError::Damaged {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let schema = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
        if schema != STATE_SCHEMA {
            return Err(SessionError::UnsupportedSchema {
                path,
                found: schema.to_owned(),
            });
        }
        serde_json::from_value(value).map_err(|e| SessionError::Damaged {
            path,
            message: e.to_string(),
        })
    }

    /// Writes `state.json` and the log into `dir` (created if missing). `summary` gives the
    /// one-line description of a commit shown in log comments.
    pub fn save(
        &self,
        dir: &Path,
        summary: &mut dyn FnMut(&ObjectId) -> String,
    ) -> Result<(), SessionError> {
        fs::create_dir_all(dir).map_err(|source| SessionError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let state =
            serde_json::to_vec_pretty(self).expect("session fields serialize to JSON infallibly");
        write_atomically(&dir.join(STATE_FILE), &state)?;
        write_atomically(&dir.join(LOG_FILE), self.render_log(summary).as_bytes())
    }

    /// Renders the replayable log.
    pub fn render_log(&self, summary: &mut dyn FnMut(&ObjectId) -> String) -> String {
        let mut text = render_start(&self.terms, self.first_parent);
        text.push('\n');
        for mark in &self.marks {
            let rev = mark.commit.to_hex();
            text.push_str(&render_mark(
                &self.terms,
                mark.verdict,
                &rev,
                &summary(&mark.commit),
            ));
            text.push('\n');
        }
        if let Some(result) = &self.result {
            text.push_str(&format!("# {result}\n"));
        }
        text
    }

    /// Removes the session from `dir`; a missing session is not an error.
    pub fn remove(dir: &Path) -> Result<bool, SessionError> {
        match fs::remove_dir_all(dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(SessionError::Io {
                path: dir.to_owned(),
                source,
            }),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, fsync and rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SessionError> {
    let dir = path
        .parent()
        .expect("session files live inside the session folder");
    let io = |source| SessionError::Io {
        path: path.to_owned(),
        source,
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    temp.write_all(bytes).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    // Persist the rename itself; failure to open a folder for fsync is tolerated on platforms
    // that do not allow it.
    if let Ok(folder) = fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bisect::log::{LogCommand, parse_log};

    #[test]
    fn save_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let bisect_dir = dir.path().join("bisect");
        let mut session = Session::new(Terms::new("fast", "slow").unwrap(), true);
        let (a, b) = (ObjectId::hash(b"a"), ObjectId::hash(b"b"));
        session.marks.push(Mark {
            verdict: Verdict::Bad,
            commit: a,
        });
        session.marks.push(Mark {
            verdict: Verdict::Good,
            commit: b,
        });
        session.current = Some(a);
        session.save(&bisect_dir, &mut |_| "msg".into()).unwrap();
        assert!(Session::exists(&bisect_dir));
        assert_eq!(Session::load(&bisect_dir).unwrap(), session);

        let log = fs::read_to_string(bisect_dir.join(LOG_FILE)).unwrap();
        let commands = parse_log(&log).unwrap();
        assert_eq!(commands.len(), 3);
        assert_eq!(
            commands[1],
            LogCommand::Mark {
                verdict: Verdict::Bad,
                revs: vec![a.to_hex()]
            }
        );
        assert!(log.contains(&format!("# slow: [{a}] msg")));

        assert!(Session::remove(&bisect_dir).unwrap());
        assert!(matches!(
            Session::load(&bisect_dir),
            Err(SessionError::NotStarted)
        ));
        assert!(!Session::remove(&bisect_dir).unwrap());
    }

    #[test]
    fn damaged_and_future_state_rejected() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(STATE_FILE), b"{not json").unwrap();
        assert!(matches!(
            Session::load(dir.path()),
            Err(SessionError::Damaged { .. })
        ));
        fs::write(
            dir.path().join(STATE_FILE),
            br#"{"schema":"ev.bisect-state/9"}"#,
        )
        .unwrap();
        assert!(matches!(
            Session::load(dir.path()),
            Err(SessionError::UnsupportedSchema { .. })
        ));
    }
}
