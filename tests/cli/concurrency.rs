//! Many processes committing to one store at once: nothing is lost, nothing is damaged.

use std::collections::HashSet;
use std::process::{Command, Stdio};

use crate::common::*;

const WRITERS: usize = 8;
const COMMITS_EACH: usize = 20;
const SIDE_WRITERS: usize = 2;
const SIDE_COMMITS: usize = 5;

/// A shell loop that commits `count` times, each with its own file content and message.
fn writer(repo: &Repo, name: &str, count: usize, branch: Option<&str>) -> std::process::Child {
    let branch_arg = branch.map(|b| format!("--branch {b}")).unwrap_or_default();
    let script = format!(
        "set -e; for i in $(seq 1 {count}); do echo \"$i\" > {name}.txt; \
         \"$EV\" -q commit -m \"{name} $i\" {branch_arg} {name}.txt >/dev/null; done"
    );
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(repo.path())
        .env("EV", EV)
        .env("EV_AUTHOR", "Writer <w@example.com>")
        .env("EV_COMMIT_TIME", T0)
        .env_remove("EV_DIR")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn parallel_writers_lose_nothing() {
    let repo = Repo::new();
    let mut children = Vec::new();
    for w in 0..WRITERS {
        children.push((
            format!("w{w}"),
            writer(&repo, &format!("w{w}"), COMMITS_EACH, None),
        ));
    }
    for s in 0..SIDE_WRITERS {
        let name = format!("s{s}");
        let branch = format!("side-{s}");
        children.push((
            name.clone(),
            writer(&repo, &name, SIDE_COMMITS, Some(&branch)),
        ));
    }
    for (name, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "writer {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let log = repo.json(&["log"]);
    let messages: HashSet<String> = log["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(messages.len(), WRITERS * COMMITS_EACH);
    for w in 0..WRITERS {
        for i in 1..=COMMITS_EACH {
            assert!(messages.contains(&format!("w{w} {i}")), "lost w{w} {i}");
        }
    }
    // History is a single chain: every commit but the root has exactly one parent.
    let roots = log["commits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["parents"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(roots, 1);
    let reflog = repo.json(&["reflog", "main"]);
    assert_eq!(
        reflog["entries"].as_array().unwrap().len(),
        WRITERS * COMMITS_EACH
    );

    for s in 0..SIDE_WRITERS {
        let side = repo.json(&["log", &format!("side-{s}")]);
        assert_eq!(side["commits"].as_array().unwrap().len(), SIDE_COMMITS);
    }
    repo.ev().arg("verify").assert().success();
}
