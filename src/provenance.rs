//! Where a snapshot came from: the enclosing git repository's state and the CI run.
//!
//! Reading provenance never fails a commit. What cannot be read is left out and reported as a
//! warning for the CLI to show.

use std::path::Path;

use crate::object::{CiProvenance, GitProvenance, Provenance};

/// Looks up an environment variable; injectable so tests need not touch the process environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment as an [`EnvLookup`]; empty values count as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Provenance plus the problems met while reading it.
#[derive(Clone, Debug, Default)]
pub struct Collected {
    pub provenance: Provenance,
    /// Why some git information is missing, one line each.
    pub warnings: Vec<String>,
}

/// Reads git and CI provenance for a snapshot of `work_tree`.
pub fn collect(work_tree: &Path, env: EnvLookup<'_>) -> Collected {
    let mut warnings = Vec::new();
    let git = git_provenance(work_tree, &mut warnings);
    Collected {
        provenance: Provenance {
            git,
            ci: ci_provenance(env),
        },
        warnings,
    }
}

/// The state of the git repository enclosing `work_tree`: HEAD commit, branch and whether
/// tracked files differ from HEAD. `None` outside a git repository.
///
/// NOTE: `dirty` follows gix's `is_dirty` (gix 0.91): changes to tracked files and the index
/// count, untracked files do not. When the check itself fails it is recorded as `false` and a
/// warning says so.
pub fn git_provenance(work_tree: &Path, warnings: &mut Vec<String>) -> Option<GitProvenance> {
    // Outside any git checkout there is nothing to record and nothing to warn about; gix's
    // discovery error does not separate "not found" from "unreadable", so look first.
    if !work_tree.ancestors().any(|dir| dir.join(".git").exists()) {
        return None;
    }
    let repo = match gix::discover(work_tree) {
        Ok(repo) => repo,
        Err(e) => {
            warnings.push(format!("git repository not readable: {e}"));
            return None;
        }
    };
    let commit = match repo.head_id() {
        Ok(id) => Some(id.to_string()),
        Err(_) => None, // an unborn branch has no commit yet
    };
    let branch = match repo.head_name() {
        Ok(name) => name.map(|n| n.shorten().to_string()),
        Err(e) => {
            warnings.push(format!("git branch not readable: {e}"));
            None
        }
    };
    let dirty = if repo.workdir().is_none() {
        false
    } else {
        match repo.is_dirty() {
            Ok(dirty) => dirty,
            Err(e) => {
                warnings.push(format!("git dirty state not readable: {e}"));
                false
            }
        }
    };
    Some(GitProvenance {
        commit,
        branch,
        dirty,
    })
}

/// `Name <email>` from the git configuration of the repository enclosing `work_tree` (or the
/// user's global configuration), if set.
pub fn git_author(work_tree: &Path) -> Option<String> {
    let repo = gix::discover(work_tree).ok();
    let config = match &repo {
        Some(repo) => repo.config_snapshot(),
        None => return global_git_author(),
    };
    let name = config.string("user.name").map(|s| s.to_string());
    let email = config.string("user.email").map(|s| s.to_string());
    format_author(name, email)
}

fn global_git_author() -> Option<String> {
    // Outside a repository gix has no snapshot to read; the global file is read directly.
    let config = gix::config::File::from_globals().ok()?;
    let name = config.string("user.name").map(|s| s.to_string());
    let email = config.string("user.email").map(|s| s.to_string());
    format_author(name, email)
}

fn format_author(name: Option<String>, email: Option<String>) -> Option<String> {
    match (name, email) {
        (Some(name), Some(email)) => Some(format!("{name} <{email}>")),
        (Some(name), None) => Some(name),
        (None, Some(email)) => Some(format!("<{email}>")),
        (None, None) => None,
    }
}

/// The CI run described by the environment, if any known CI system set its variables.
pub fn ci_provenance(env: EnvLookup<'_>) -> Option<CiProvenance> {
    let is_true = |name: &str| env(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let ci = |provider: &str, run_id: Option<String>, run_url: Option<String>| {
        Some(CiProvenance {
            provider: provider.to_owned(),
            run_id,
            run_url,
        })
    };

    if is_true("GITHUB_ACTIONS") || env("GITHUB_RUN_ID").is_some() {
        let run_id = env("GITHUB_RUN_ID");
        let run_url = match (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"), &run_id) {
            (Some(server), Some(repository), Some(id)) => Some(format!(
                "{}/{repository}/actions/runs/{id}",
                server.trim_end_matches('/')
            )),
            _ => None,
        };
        return ci("github-actions", run_id, run_url);
    }
    if is_true("GITLAB_CI") || env("CI_PIPELINE_ID").is_some() {
        let run_id = env("CI_JOB_ID").or_else(|| env("CI_PIPELINE_ID"));
        let run_url = env("CI_JOB_URL").or_else(|| env("CI_PIPELINE_URL"));
        return ci("gitlab-ci", run_id, run_url);
    }
    if is_true("BUILDKITE") {
        return ci(
            "buildkite",
            env("BUILDKITE_BUILD_ID"),
            env("BUILDKITE_BUILD_URL"),
        );
    }
    if is_true("CIRCLECI") {
        return ci(
            "circleci",
            env("CIRCLE_WORKFLOW_JOB_ID").or_else(|| env("CIRCLE_BUILD_NUM")),
            env("CIRCLE_BUILD_URL"),
        );
    }
    if env("JENKINS_URL").is_some() || (env("BUILD_ID").is_some() && env("BUILD_URL").is_some()) {
        return ci("jenkins", env("BUILD_ID"), env("BUILD_URL"));
    }
    if is_true("CI") || env("CI").as_deref() == Some("1") {
        return ci("ci", None, None);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ci_from(vars: &[(&str, &str)]) -> Option<CiProvenance> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ci_provenance(&|name: &str| map.get(name).cloned())
    }

    #[test]
    fn github_actions_run_url() {
        let ci = ci_from(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_SERVER_URL", "https://github.com/"),
            ("GITHUB_REPOSITORY", "acme/models"),
        ])
        .unwrap();
        assert_eq!(ci.provider, "github-actions");
        assert_eq!(ci.run_id.as_deref(), Some("42"));
        assert_eq!(
            ci.run_url.as_deref(),
            Some("https://github.com/acme/models/actions/runs/42")
        );
    }

    #[test]
    fn other_providers() {
        let gitlab = ci_from(&[
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_ID", "7"),
            ("CI_JOB_ID", "99"),
            ("CI_JOB_URL", "https://gitlab.example/j/99"),
        ])
        .unwrap();
        assert_eq!(
            (gitlab.provider.as_str(), gitlab.run_id.as_deref()),
            ("gitlab-ci", Some("99"))
        );
        assert_eq!(
            gitlab.run_url.as_deref(),
            Some("https://gitlab.example/j/99")
        );

        let jenkins = ci_from(&[("BUILD_ID", "5"), ("BUILD_URL", "http://j/5/")]).unwrap();
        assert_eq!(jenkins.provider, "jenkins");
        assert_eq!(jenkins.run_url.as_deref(), Some("http://j/5/"));

        let bk = ci_from(&[("BUILDKITE", "true"), ("BUILDKITE_BUILD_ID", "b")]).unwrap();
        assert_eq!(bk.provider, "buildkite");
        let circle = ci_from(&[("CIRCLECI", "true"), ("CIRCLE_BUILD_NUM", "3")]).unwrap();
        assert_eq!(circle.run_id.as_deref(), Some("3"));
        assert_eq!(ci_from(&[("CI", "true")]).unwrap().provider, "ci");
        assert!(ci_from(&[]).is_none());
    }

    #[test]
    fn outside_git_is_absent() {
        let tmp = tempfile::tempdir().unwrap();
        let mut warnings = Vec::new();
        // The temporary folder may sit inside a git checkout on a developer machine; only check
        // that reading never fails and that an absent repository gives no warning.
        let git = git_provenance(tmp.path(), &mut warnings);
        if git.is_none() {
            assert!(warnings.is_empty(), "{warnings:?}");
        }
    }
}
