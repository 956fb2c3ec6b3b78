use crate::common::*;

/// Three commits on main at 10:00 on the 15th, 16th and 17th of January 2026.
fn history() -> (Repo, Vec<String>) {
    let repo = Repo::new();
    let mut ids = Vec::new();
    for day in 15..=17 {
        repo.write("a.txt", format!("day {day}"));
        ids.push(repo.commit(
            &format!("day {day}"),
            &format!("2026-01-{day}T10:00:00Z"),
            &["a.txt"],
        ));
    }
    (repo, ids)
}

#[test]
fn names_suffixes_and_prefixes() {
    let (repo, ids) = history();
    assert_eq!(repo.rev_parse("HEAD"), ids[2]);
    assert_eq!(repo.rev_parse("@"), ids[2]);
    assert_eq!(repo.rev_parse("main"), ids[2]);
    assert_eq!(repo.rev_parse("refs/heads/main"), ids[2]);
    assert_eq!(repo.rev_parse("HEAD~"), ids[1]);
    assert_eq!(repo.rev_parse("HEAD^"), ids[1]);
    assert_eq!(repo.rev_parse("HEAD~2"), ids[0]);
    assert_eq!(repo.rev_parse("HEAD^1^1"), ids[0]);
    assert_eq!(repo.rev_parse(&ids[1][..8]), ids[1]);
    assert_eq!(repo.rev_parse(&ids[1]), ids[1]);
    assert_eq!(repo.rev_parse(&format!("{}~1", &ids[2][..10])), ids[1]);

    let tree = repo.rev_parse("HEAD:");
    assert_eq!(tree.len(), 64);
    assert_ne!(tree, ids[2]);
    let blob = repo.rev_parse("HEAD~2:a.txt");
    assert_ne!(blob, repo.rev_parse("HEAD:a.txt"));
}

#[test]
fn unknown_and_invalid_revisions() {
    let (repo, _) = history();
    let err = fails_with(repo.ev().args(["rev-parse", "nosuch"]), 2);
    assert!(err.contains("unknown revision \"nosuch\""), "{err}");
    assert!(err.contains("ev log"), "{err}");
    assert!(err.contains("ev branch"), "{err}");
    let err = fails_with(repo.ev().args(["rev-parse", "HEAD~5"]), 2);
    assert!(err.contains("goes past the root commit"), "{err}");
    assert!(err.contains("only 2 ancestors"), "{err}");
    assert!(err.contains("at most ~2"), "{err}");
    let err = fails_with(repo.ev().args(["rev-parse", "HEAD^2"]), 2);
    assert!(err.contains("no parent number 2"), "{err}");
    assert!(err.contains("it has only 1 parent"), "{err}");
    assert!(err.contains("use ^ or ^1"), "{err}");
    let err = fails_with(repo.ev().args(["rev-parse", "HEAD~2^"]), 2);
    assert!(err.contains("it is a root commit"), "{err}");
    let err = fails_with(repo.ev().args(["rev-parse", "HEAD~x"]), 2);
    assert!(err.contains("invalid revision"), "{err}");
    let err = fails_with(repo.ev().args(["rev-parse", "main@{bogus}"]), 2);
    assert!(err.contains("\"bogus\" is not a time"), "{err}");
    let missing = "0".repeat(64);
    let err = fails_with(repo.ev().args(["rev-parse", &missing]), 2);
    assert!(err.contains("unknown revision"), "{err}");
    let err = fails_with(repo.ev().args(["show", "HEAD:nope.txt"]), 2);
    assert!(err.contains("nope.txt"), "{err}");
}

#[test]
fn tree_and_blob_ids_are_not_commits() {
    let (repo, _) = history();
    let tree = repo.rev_parse("HEAD:");
    let blob = repo.rev_parse("HEAD:a.txt");
    for spec in [tree.clone(), tree[..12].to_owned()] {
        let err = fails_with(repo.ev().args(["rev-parse", &spec]), 2);
        assert!(err.contains("is a tree"), "{err}");
        assert!(err.contains("not a commit"), "{err}");
        assert!(err.contains("REV:PATH"), "{err}");
    }
    for spec in [blob.clone(), blob[..12].to_owned()] {
        let err = fails_with(repo.ev().args(["log", &spec]), 2);
        assert!(err.contains("is a blob"), "{err}");
        assert!(err.contains("not a commit"), "{err}");
    }
}

#[test]
fn reflog_times() {
    let (repo, ids) = history();
    // An instant: the last value at or before it.
    assert_eq!(repo.rev_parse("main@{2026-01-16T10:00:00Z}"), ids[1]);
    assert_eq!(repo.rev_parse("main@{2026-01-16T09:59:59Z}"), ids[0]);
    assert_eq!(repo.rev_parse("main@{2026-01-16T11:00:00+02:00}"), ids[0]);
    // A date is the end of that day, UTC.
    assert_eq!(repo.rev_parse("main@{2026-01-16}"), ids[1]);
    assert_eq!(repo.rev_parse("HEAD@{2026-01-15}"), ids[0]);
    assert_eq!(repo.rev_parse("@{2026-01-17}"), ids[2]);
    // Relative times count from EV_COMMIT_TIME when it is set.
    let out = repo
        .ev()
        .env("EV_COMMIT_TIME", "2026-01-18T09:00:00Z")
        .args(["rev-parse", "main@{yesterday}"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), ids[1], "{}", stderr(&out));
    let out = repo
        .ev()
        .env("EV_COMMIT_TIME", "2026-01-18T09:00:00Z")
        .args(["rev-parse", "main@{1 days ago}~1"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), ids[0], "{}", stderr(&out));
    // Reflog indexes.
    assert_eq!(repo.rev_parse("main@{0}"), ids[2]);
    assert_eq!(repo.rev_parse("main@{2}"), ids[0]);

    let err = fails_with(repo.ev().args(["rev-parse", "main@{2026-01-14}"]), 2);
    assert!(
        err.contains("no reflog entry at or before 2026-01-14 23:59:59"),
        "{err}"
    );
    assert!(err.contains("ev reflog main"), "{err}");
    let err = fails_with(repo.ev().args(["rev-parse", "main@{9}"]), 2);
    assert!(err.contains("only 3 reflog entries"), "{err}");
}

#[test]
fn ambiguous_prefix_lists_candidates() {
    let repo = Repo::new();
    repo.write("a.txt", "a");
    // Commit until two commit ids share their first four hex digits. With pinned time and
    // author the sequence is deterministic; about 300 commits are expected (birthday bound).
    let mut seen = std::collections::HashMap::new();
    let (a, b) = (0..3000)
        .find_map(|i| {
            let id = repo.commit(&format!("c{i}"), T0, &["a.txt"]);
            seen.insert(id[..4].to_owned(), id.clone())
                .map(|other| (other, id))
        })
        .expect("a shared 4-digit prefix within 3000 commits");
    let err = fails_with(repo.ev().args(["rev-parse", &a[..4]]), 2);
    assert!(err.contains("ambiguous"), "{err}");
    assert!(err.contains(&a[..12]), "{err}");
    assert!(err.contains(&b[..12]), "{err}");
    assert!(err.contains("more hex digits"), "{err}");
    let err = fails_with(repo.ev().args(["rev-parse", &a[..3]]), 2);
    assert!(err.contains("unknown revision"), "{err}");
}
