use crate::common::*;

#[test]
fn branch_create_list_delete() {
    let repo = Repo::new();
    repo.write("a.txt", "1");
    let first = repo.commit("one", T0, &["a.txt"]);
    repo.write("a.txt", "2");
    let second = repo.commit("two", "2026-01-15T11:00:00Z", &["a.txt"]);

    repo.ev()
        .args(["branch", "old", "HEAD~1"])
        .assert()
        .success();
    repo.ev().args(["branch", "feature/x"]).assert().success();
    assert_eq!(repo.rev_parse("old"), first);
    assert_eq!(repo.rev_parse("feature/x"), second);
    let list = stdout(&repo.ev().arg("branch").output().unwrap());
    assert!(list.contains("* main"), "{list}");
    assert!(
        list.contains("  old") && list.contains("  feature/x"),
        "{list}"
    );

    let err = fails_with(repo.ev().args(["branch", "old"]), 2);
    assert!(err.contains("already exists"), "{err}");
    let err = fails_with(repo.ev().args(["branch", "-d", "main"]), 2);
    assert!(err.contains("HEAD points at it"), "{err}");
    repo.ev().args(["branch", "-d", "old"]).assert().success();
    let err = fails_with(repo.ev().args(["rev-parse", "old"]), 2);
    assert!(err.contains("unknown revision"), "{err}");
    // The deleted branch's reflog stays readable.
    let log = stdout(&repo.ev().args(["reflog", "old"]).output().unwrap());
    assert!(
        log.contains("branch: deleted") && log.contains("branch: created from HEAD~1"),
        "{log}"
    );
}

#[test]
fn bad_ref_names_are_rejected() {
    let repo = Repo::new();
    repo.write("a.txt", "1");
    repo.commit("one", T0, &["a.txt"]);
    for bad in [
        "a..b",
        "x.lock",
        "has space",
        "tilde~1",
        "caret^",
        "col:on",
        ".hidden",
        "end/",
        "HEAD",
    ] {
        let err = fails_with(repo.ev().args(["branch", bad]), 2);
        assert!(err.contains("invalid ref name"), "{bad}: {err}");
        assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        let err = fails_with(repo.ev().args(["tag", bad]), 2);
        assert!(err.contains("invalid ref name"), "{bad}: {err}");
    }
    let err = fails_with(
        repo.ev()
            .args(["commit", "-m", "m", "--branch", "a..b", "a.txt"]),
        2,
    );
    assert!(err.contains("invalid ref name"), "{err}");
}

#[test]
fn tags_and_commit_to_branch() {
    let repo = Repo::new();
    repo.write("a.txt", "1");
    let first = repo.commit("one", T0, &["a.txt"]);
    repo.ev().args(["tag", "v1"]).assert().success();
    let err = fails_with(repo.ev().args(["tag", "v1"]), 2);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(repo.rev_parse("v1"), first);
    assert_eq!(repo.rev_parse("refs/tags/v1"), first);

    // --branch commits elsewhere without moving HEAD; a new branch starts with a root commit.
    repo.write("b.txt", "b");
    let side = repo
        .ev()
        .args(["commit", "-m", "side", "--branch", "nightly", "b.txt"])
        .output()
        .unwrap();
    assert!(side.status.success(), "{}", stderr(&side));
    let side = stdout(&side).trim().to_owned();
    assert_eq!(repo.rev_parse("HEAD"), first);
    assert_eq!(repo.rev_parse("nightly"), side);
    let err = fails_with(repo.ev().args(["rev-parse", "nightly~1"]), 2);
    assert!(err.contains("goes past the root commit"), "{err}");
    assert!(err.contains("which has no parent"), "{err}");

    let list = stdout(&repo.ev().arg("tag").output().unwrap());
    assert!(list.starts_with("v1 "), "{list}");
    repo.ev().args(["tag", "-d", "v1"]).assert().success();
    let err = fails_with(repo.ev().args(["tag", "-d", "v1"]), 2);
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn reflog_lists_newest_first() {
    let repo = Repo::new();
    repo.write("a.txt", "1");
    let first = repo.commit("one", T0, &["a.txt"]);
    repo.write("a.txt", "2");
    let second = repo.commit("two", "2026-01-15T11:00:00Z", &["a.txt"]);
    let log = stdout(&repo.ev().arg("reflog").output().unwrap());
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].starts_with(&second[..12]) && lines[0].contains("HEAD@{0}"),
        "{log}"
    );
    assert!(lines[0].contains("commit: two"), "{log}");
    assert!(
        lines[1].starts_with(&first[..12]) && lines[1].contains("commit (initial): one"),
        "{log}"
    );

    // A damaged line is skipped with a warning and the rest still reads.
    let path = repo.ev_dir().join("logs/refs/heads/main");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.insert_str(0, "{not json\n");
    std::fs::write(&path, text).unwrap();
    let out = repo.ev().args(["reflog", "main"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out).lines().count(), 2);
    assert!(
        stderr(&out).contains("line 1 is damaged"),
        "{}",
        stderr(&out)
    );
    // verify reports the damaged line.
    let out = repo.ev().arg("verify").output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
}

#[test]
fn branch_below_existing_branch_conflicts() {
    let repo = Repo::new();
    repo.write("a.txt", "a");
    repo.commit("m", T0, &["a.txt"]);
    repo.ev().args(["branch", "feat"]).assert().success();

    let err = fails_with(repo.ev().args(["branch", "feat/sub"]), 2);
    assert!(
        err.contains("conflicts with existing ref refs/heads/feat"),
        "{err}"
    );
    let err = fails_with(repo.ev().args(["rev-parse", "feat/sub"]), 2);
    assert!(err.contains("unknown revision \"feat/sub\""), "{err}");
}
