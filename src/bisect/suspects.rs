//! Back to code: the git commits between the code behind the last good evidence commit and the
//! code behind the first bad one.
//!
//! Every evidence commit records the git HEAD it was made from (`Provenance.git.commit`). When
//! ev runs inside that git repository, the suspects are the commits reachable from the bad
//! evidence commit's code commit and not from the good one's, as `git log GOOD..BAD` lists them.

use std::path::Path;

use serde::Serialize;

/// One git commit that may have introduced the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suspect {
    /// Full hex id.
    pub commit: String,
    /// First line of the message.
    pub summary: String,
    /// Author name.
    pub author: String,
    /// Commit time in seconds since the Unix epoch.
    pub time: i64,
}

/// The suspects between two code commits, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suspects {
    pub good_code: String,
    pub bad_code: String,
    pub commits: Vec<Suspect>,
    /// Whether more than the requested number of commits exist.
    pub truncated: bool,
}

/// A reason the suspects cannot be listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuspectsError {
    #[error("no git repository found at or above {path}: {message}")]
    NoRepository { path: String, message: String },
    #[error("invalid git commit id {id:?}")]
    InvalidId { id: String },
    #[error("git commit {id} is not in the repository at {path}")]
    NotFound { id: String, path: String },
    #[error("failed to walk git history: {message}")]
    Walk { message: String },
}

/// Lists at most `limit` commits reachable from `bad_code` and not from `good_code` in the git
/// repository containing `dir`.
pub fn list_suspects(
    dir: &Path,
    good_code: &str,
    bad_code: &str,
    limit: usize,
) -> Result<Suspects, SuspectsError> {
    let repo = gix::discover(dir).map_err(|e| SuspectsError::NoRepository {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let parse = |id: &str| {
        gix::ObjectId::from_hex(id.as_bytes())
            .map_err(|_| SuspectsError::InvalidId { id: id.to_owned() })
    };
    let (good, bad) = (parse(good_code)?, parse(bad_code)?);
    for id in [good, bad] {
        if repo.find_commit(id).is_err() {
            return Err(SuspectsError::NotFound {
                id: id.to_string(),
                path: repo.path().display().to_string(),
            });
        }
    }
    let walk_error = |e: &dyn std::fmt::Display| SuspectsError::Walk {
        message: e.to_string(),
    };
    let walk = repo
        .rev_walk([bad])
        .with_hidden([good])
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .all()
        .map_err(|e| walk_error(&e))?;
    let mut commits = Vec::new();
    let mut truncated = false;
    for info in walk {
        let info = info.map_err(|e| walk_error(&e))?;
        if commits.len() == limit {
            truncated = true;
            break;
        }
        let commit = info.object().map_err(|e| walk_error(&e))?;
        let summary = commit
            .message()
            .map(|m| m.summary().to_string())
            .unwrap_or_default();
        let author = commit
            .author()
            .map(|a| a.name.to_string())
            .unwrap_or_default();
        let time = commit.time().map(|t| t.seconds).unwrap_or_default();
        commits.push(Suspect {
            commit: info.id.to_string(),
            summary,
            author,
            time,
        });
    }
    Ok(Suspects {
        good_code: good.to_string(),
        bad_code: bad.to_string(),
        commits,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?} failed: {output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    #[test]
    fn lists_commits_between_code_commits() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        let mut ids = Vec::new();
        for (i, message) in ["base", "tune features", "retrain model"]
            .iter()
            .enumerate()
        {
            git(
                dir.path(),
                &[
                    "commit",
                    "-q",
                    "--allow-empty",
                    "-m",
                    message,
                    "--date",
                    &format!("2024-01-0{} 12:00:00 +0000", i + 1),
                ],
            );
            ids.push(git(dir.path(), &["rev-parse", "HEAD"]));
        }
        let suspects = list_suspects(dir.path(), &ids[0], &ids[2], 10).unwrap();
        let summaries: Vec<&str> = suspects
            .commits
            .iter()
            .map(|s| s.summary.as_str())
            .collect();
        assert_eq!(summaries, vec!["retrain model", "tune features"]);
        assert_eq!(suspects.commits[0].commit, ids[2]);
        assert_eq!(suspects.commits[0].author, "Ada");
        assert!(!suspects.truncated);

        let limited = list_suspects(dir.path(), &ids[0], &ids[2], 1).unwrap();
        assert_eq!(limited.commits.len(), 1);
        assert!(limited.truncated);

        let missing = "0123456789012345678901234567890123456789";
        assert!(matches!(
            list_suspects(dir.path(), missing, &ids[2], 10),
            Err(SuspectsError::NotFound { .. })
        ));
        assert!(matches!(
            list_suspects(dir.path(), "zz", &ids[2], 10),
            Err(SuspectsError::InvalidId { .. })
        ));
    }
}
