use crate::common::*;

#[test]
fn init_lays_down_repository_and_template() {
    let repo = Repo::new();
    let config = std::fs::read_to_string(repo.ev_dir().join("config.toml")).unwrap();
    assert!(
        config.contains("[format]") && config.contains("version = 1"),
        "{config}"
    );
    assert!(config.contains("[chunking]"), "{config}");
    let head = std::fs::read_to_string(repo.ev_dir().join("HEAD")).unwrap();
    assert_eq!(head, "ref: refs/heads/main\n");
    let template = std::fs::read_to_string(repo.path().join("evidence.toml")).unwrap();
    assert!(template.contains("[[item]]"), "{template}");
}

#[test]
fn init_twice_is_an_error() {
    let repo = Repo::new();
    let err = fails_with(repo.ev().arg("init"), 2);
    assert!(err.contains("already exists"), "{err}");
    assert!(err.contains("Hint: "), "{err}");
}

#[test]
fn init_into_named_folder() {
    let tmp = Repo::empty();
    ev_in(tmp.path())
        .args(["init", "sub/ws"])
        .assert()
        .success();
    assert!(tmp.path().join("sub/ws/.ev/config.toml").is_file());
}

#[test]
fn commands_outside_repository_fail() {
    let tmp = Repo::empty();
    let err = fails_with(ev_in(tmp.path()).arg("log"), 2);
    assert!(err.contains("no ev repository found"), "{err}");
    assert!(err.contains("ev init"), "{err}");
}

#[test]
fn newer_format_is_refused() {
    let repo = Repo::new();
    let path = repo.ev_dir().join("config.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, config.replace("version = 1", "version = 99")).unwrap();
    let err = fails_with(repo.ev().arg("log"), 2);
    assert!(err.contains("version 99"), "{err}");
    assert!(err.contains("up to version 1"), "{err}");
    assert!(err.contains("upgrade ev"), "{err}");
}

#[test]
fn commit_log_show_round_trip() {
    let repo = Repo::new();
    repo.write("data/a.txt", "hello\n");
    let first = repo.commit("first", "2026-01-15T10:00:00Z", &["data"]);
    repo.write("data/a.txt", "hello\nworld\n");
    repo.write("data/b.txt", "b\n");
    let out = repo
        .ev()
        .env("EV_COMMIT_TIME", "2026-01-16T10:00:00Z")
        .args([
            "commit", "-m", "second", "--label", "model=v3", "--label", "run=7", "data",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let second = stdout(&out).trim().to_owned();

    let log = stdout(&repo.ev().arg("log").output().unwrap());
    let pos_second = log.find(&format!("commit {second}")).unwrap();
    let pos_first = log.find(&format!("commit {first}")).unwrap();
    assert!(pos_second < pos_first, "{log}");
    assert!(log.contains("(HEAD -> main)"), "{log}");
    assert!(log.contains("Labels: model=v3 run=7"), "{log}");
    assert!(log.contains("Date:   2026-01-16T10:00:00Z"), "{log}");

    let one = stdout(&repo.ev().args(["log", "-n", "1"]).output().unwrap());
    assert!(one.contains(&second), "{one}");
    assert!(!one.contains(&first), "{one}");

    let show = stdout(&repo.ev().args(["show", "HEAD"]).output().unwrap());
    assert!(show.contains("M\tdata/a.txt"), "{show}");
    assert!(show.contains("A\tdata/b.txt"), "{show}");
    let root = stdout(&repo.ev().args(["show", &first]).output().unwrap());
    assert!(root.contains("A\tdata/a.txt"), "{root}");
}

#[test]
fn commits_are_deterministic() {
    let a = Repo::new();
    let b = Repo::new();
    for repo in [&a, &b] {
        repo.write("x/y.bin", [0u8, 1, 2, 255]);
    }
    let id_a = a.commit("same", T0, &["x"]);
    let id_b = b.commit("same", T0, &["x"]);
    assert_eq!(id_a, id_b);
    let other = a.commit("same", "2026-01-15T10:00:01Z", &["x"]);
    assert_ne!(other, id_a);
}

#[test]
fn commit_on_empty_manifest_and_missing_path_fail() {
    let repo = Repo::new();
    let err = fails_with(repo.ev().args(["commit", "-m", "x"]), 2);
    assert!(err.contains("declares no items"), "{err}");
    let err = fails_with(repo.ev().args(["commit", "-m", "x", "nope.csv"]), 2);
    assert!(err.contains("\"nope.csv\" not found"), "{err}");
    let err = fails_with(
        repo.ev()
            .args(["commit", "-m", "x", "--label", "novalue", "."]),
        2,
    );
    assert!(err.contains("KEY=VALUE"), "{err}");
    // Nothing was committed.
    let err = fails_with(repo.ev().arg("log"), 2);
    assert!(err.contains("no commits yet"), "{err}");
}

#[test]
fn commit_from_subfolder_takes_paths_relative_to_it() {
    let repo = Repo::new();
    repo.write("sub/deep/f.txt", "f");
    let out = repo
        .ev()
        .current_dir(repo.path().join("sub"))
        .args(["commit", "-m", "m", "deep"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ls = stdout(&repo.ev().args(["ls", "HEAD", "-r"]).output().unwrap());
    assert!(ls.contains("sub/deep/f.txt"), "{ls}");
}

#[test]
fn ls_and_cat() {
    let repo = Repo::new();
    repo.write("d/a.txt", "aaa");
    repo.write("d/e/b.txt", "bb");
    // Larger than the chunker's 256 KiB minimum, so it is stored as chunks.
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    repo.write("d/big.bin", &big);
    repo.commit("m", T0, &["d"]);

    let top = stdout(&repo.ev().args(["ls", "HEAD"]).output().unwrap());
    assert!(top.contains("tree"), "{top}");
    assert!(top.contains(" d/"), "{top}");
    let d = stdout(&repo.ev().args(["ls", "HEAD", "d"]).output().unwrap());
    assert!(
        d.contains("d/a.txt") && d.contains("d/e/") && !d.contains("d/e/b.txt"),
        "{d}"
    );
    let all = stdout(&repo.ev().args(["ls", "HEAD", "-r"]).output().unwrap());
    assert!(
        all.contains("d/e/b.txt") && all.contains("3000000"),
        "{all}"
    );

    let out = repo.ev().args(["cat", "HEAD:d/big.bin"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout == big, "cat returned {} bytes", out.stdout.len());
    repo.ev()
        .args(["cat", "HEAD:d/e/b.txt"])
        .assert()
        .success()
        .stdout("bb");
    repo.ev()
        .args(["show", "HEAD:d/a.txt"])
        .assert()
        .success()
        .stdout("aaa");

    let err = fails_with(repo.ev().args(["cat", "HEAD:d/missing.txt"]), 2);
    assert!(err.contains("d/missing.txt"), "{err}");
    let err = fails_with(repo.ev().args(["cat", "HEAD:d"]), 2);
    assert!(err.contains("is a folder"), "{err}");
    let err = fails_with(repo.ev().args(["cat", "HEAD"]), 2);
    assert!(err.contains("REV:PATH"), "{err}");
    let err = fails_with(repo.ev().args(["ls", "HEAD", "nope"]), 2);
    assert!(err.contains("nope"), "{err}");
}

#[cfg(unix)]
#[test]
fn symlinks_are_committed_as_links() {
    let repo = Repo::new();
    repo.write("d/target.txt", "t");
    std::os::unix::fs::symlink("target.txt", repo.path().join("d/link")).unwrap();
    repo.commit("m", T0, &["d"]);
    let ls = stdout(&repo.ev().args(["ls", "HEAD", "d"]).output().unwrap());
    assert!(
        ls.lines()
            .any(|l| l.starts_with("symlink") && l.ends_with("d/link")),
        "{ls}"
    );
    repo.ev()
        .args(["cat", "HEAD:d/link"])
        .assert()
        .success()
        .stdout("target.txt");
}

#[test]
fn checkout_writes_and_protects_files() {
    let repo = Repo::new();
    repo.write("d/a.txt", "one");
    repo.commit("m1", T0, &["d"]);
    repo.write("d/a.txt", "two");
    repo.commit("m2", "2026-01-15T11:00:00Z", &["d"]);

    let out_dir = repo.path().join("out");
    repo.ev()
        .args(["checkout", "HEAD~1", "--to", "out"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(out_dir.join("d/a.txt")).unwrap(),
        "one"
    );

    let err = fails_with(repo.ev().args(["checkout", "HEAD", "--to", "out"]), 2);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("d/a.txt")).unwrap(),
        "one"
    );
    repo.ev()
        .args(["checkout", "HEAD", "d/a.txt", "--to", "out", "--force"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(out_dir.join("d/a.txt")).unwrap(),
        "two"
    );
}

#[test]
fn failed_checkout_removes_created_folders() {
    let repo = Repo::new();
    repo.write("a/ok.txt", "written before the failure");
    repo.write("b/c/bad.txt", "stored, then corrupted");
    repo.commit("m", T0, &["a", "b"]);

    // Replace the stored object with bytes that are not a zstd frame.
    let blob = repo.rev_parse("HEAD:b/c/bad.txt");
    let object = repo
        .ev_dir()
        .join("objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&object).unwrap();
    std::fs::write(&object, b"not an object").unwrap();

    // `out/b` existed before the checkout and is empty, so it must survive.
    std::fs::create_dir_all(repo.path().join("out/b")).unwrap();
    let err = fails_with(repo.ev().args(["checkout", "HEAD", "--to", "out"]), 3);
    assert!(err.contains(&blob[..12]), "{err}");
    let out = repo.path().join("out");
    assert_eq!(
        std::fs::read_to_string(out.join("a/ok.txt")).unwrap(),
        "written before the failure"
    );
    assert!(out.join("b").is_dir(), "a folder that existed was removed");
    assert!(
        !out.join("b/c").exists(),
        "an empty created folder was left"
    );

    // Every folder of a new destination is removed, and nothing above it.
    let err = fails_with(
        repo.ev()
            .args(["checkout", "HEAD", "b", "--to", "new/deeper/dest"]),
        3,
    );
    assert!(err.contains(&blob[..12]), "{err}");
    assert!(
        !repo.path().join("new").exists(),
        "created folders were left"
    );
    assert!(repo.path().join(".ev").is_dir());
}

#[test]
fn checkout_folder_in_way_or_file_as_dir() {
    let repo = Repo::new();
    repo.write("d/a.txt", "one");
    repo.commit("m1", T0, &["d"]);

    std::fs::create_dir_all(repo.path().join("out/d/a.txt")).unwrap();
    let err = fails_with(
        repo.ev()
            .args(["checkout", "HEAD", "--to", "out", "--force"]),
        2,
    );
    assert!(err.contains("a folder is in the way"), "{err}");
    assert!(!err.contains("pass --force"), "{err}");

    repo.write("file", "x");
    let err = fails_with(repo.ev().args(["checkout", "HEAD", "--to", "file"]), 2);
    assert!(err.contains("--to"), "{err}");
    assert!(err.contains("is not a folder"), "{err}");
    assert!(err.contains("Hint: "), "{err}");
}

#[test]
fn verify_reports_missing_object() {
    let repo = Repo::new();
    repo.write("d/a.txt", "content that is verified");
    repo.commit("m", T0, &["d"]);
    repo.ev().arg("verify").assert().success();

    let blob = repo.rev_parse("HEAD:d/a.txt");
    let path = repo
        .ev_dir()
        .join("objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&path).unwrap();
    let out = repo.ev().arg("verify").output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains(&blob[..12]) || text.contains(&blob), "{text}");
    assert!(text.contains("d/a.txt"), "{text}");
}

#[test]
fn quiet_silences_notes() {
    let repo = Repo::new();
    repo.write("a.txt", "a");
    let out = repo
        .ev()
        .args(["-q", "commit", "-m", "m", "a.txt"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out).trim().len(), 64);
}

#[test]
fn broken_pipe_exits_quietly() {
    let repo = Repo::new();
    for i in 0..30 {
        repo.write("a.txt", format!("{i}"));
        repo.commit(
            &format!("commit {i}"),
            &format!("2026-01-15T10:00:{i:02}Z"),
            &["a.txt"],
        );
    }
    let mut child = std::process::Command::new(EV)
        .current_dir(repo.path())
        .args(["log"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end at once: every write of `ev log` then fails with EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn repo_option_and_env_use_a_shared_store() {
    let store = Repo::new();
    let workspace = Repo::empty();
    workspace.write("w.txt", "from the job");
    let out = ev_in(workspace.path())
        .env("EV_DIR", store.ev_dir())
        .args(["commit", "-m", "job", "w.txt"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The store's own workspace lists the commit, with the job's relative path.
    let ls = stdout(&store.ev().args(["ls", "HEAD"]).output().unwrap());
    assert!(ls.contains("w.txt"), "{ls}");
    let ls = stdout(
        &ev_in(workspace.path())
            .args(["--repo", store.path().to_str().unwrap(), "ls", "HEAD"])
            .output()
            .unwrap(),
    );
    assert!(ls.contains("w.txt"), "{ls}");
}

#[test]
fn color_follows_the_option() {
    let repo = Repo::new();
    repo.write("a.txt", "a");
    repo.commit("m", T0, &["a.txt"]);
    let always = stdout(
        &repo
            .ev()
            .args(["--color", "always", "log"])
            .output()
            .unwrap(),
    );
    assert!(always.contains("\x1b[33mcommit "), "{always:?}");
    // stdout is a pipe here, so `auto` means no colour.
    let auto = stdout(&repo.ev().arg("log").output().unwrap());
    assert!(!auto.contains('\x1b'), "{auto:?}");
    let never = stdout(
        &repo
            .ev()
            .args(["log", "--color", "never"])
            .output()
            .unwrap(),
    );
    assert!(!never.contains('\x1b'), "{never:?}");
}

#[test]
fn work_tree_option_sets_the_workspace() {
    let repo = Repo::new();
    let elsewhere = Repo::empty();
    elsewhere.write("data/x.csv", "a,b\n1,2\n");
    // Run from the repository's folder but snapshot another folder's files.
    let out = repo
        .ev()
        .args(["--work-tree", elsewhere.path().to_str().unwrap()])
        .args(["commit", "-m", "m"])
        .arg(elsewhere.path().join("data"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    repo.ev()
        .args(["cat", "HEAD:data/x.csv"])
        .assert()
        .success()
        .stdout("a,b\n1,2\n");
    let err = fails_with(
        repo.ev()
            .args(["--work-tree", "/nonexistent-ev-work-tree", "log"]),
        2,
    );
    assert!(err.contains("nonexistent-ev-work-tree"), "{err}");
}

#[test]
fn commit_path_symlink_is_not_followed() {
    let repo = Repo::new();
    repo.write("real/inner.txt", "inside");
    std::os::unix::fs::symlink("real", repo.path().join("link")).unwrap();
    std::os::unix::fs::symlink("missing", repo.path().join("dangling")).unwrap();
    repo.commit("links", T0, &["link", "dangling"]);

    let listing = stdout(&repo.ev().args(["ls", "HEAD", "-r"]).output().unwrap());
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 2, "{listing}");
    assert!(
        lines[0].starts_with("symlink") && lines[0].ends_with("dangling"),
        "{listing}"
    );
    assert!(
        lines[1].starts_with("symlink") && lines[1].ends_with("link"),
        "{listing}"
    );
    let target = stdout(&repo.ev().args(["cat", "HEAD:link"]).output().unwrap());
    assert_eq!(target, "real");
}

#[test]
fn label_with_empty_key_names_argument() {
    let repo = Repo::new();
    repo.write("a.txt", "a");
    let err = fails_with(
        repo.ev()
            .args(["commit", "-m", "m", "--label", "=v3", "a.txt"]),
        2,
    );
    assert!(err.contains("invalid label \"=v3\""), "{err}");
    assert!(err.contains("Hint: "), "{err}");
}

#[test]
fn init_on_file_is_usage_error() {
    let repo = Repo::empty();
    repo.write("plain", "x");
    let err = fails_with(repo.ev().args(["init", "plain"]), 2);
    assert!(err.contains("it is not a folder"), "{err}");
    assert!(err.contains("Hint: "), "{err}");
}

#[test]
fn checkout_unsafe_symlink_has_hint() {
    let repo = Repo::new();
    repo.write("f", "1");
    std::os::unix::fs::symlink("../../x", repo.path().join("up")).unwrap();
    repo.commit("m", T0, &["up", "f"]);

    let err = fails_with(repo.ev().args(["checkout", "HEAD", "--to", "out"]), 2);
    assert!(err.contains("symlink up points to \"../../x\""), "{err}");
    assert!(
        err.contains("Hint: read the link target with `ev cat REV:up`"),
        "{err}"
    );
    repo.ev()
        .args(["checkout", "HEAD", "f", "--to", "out"])
        .assert()
        .success();
}

#[test]
fn log_shows_history_up_to_missing_commit() {
    let repo = Repo::new();
    repo.write("a.txt", "1");
    let first = repo.commit("m1", T0, &["a.txt"]);
    repo.write("a.txt", "2");
    let second = repo.commit("m2", "2026-01-15T11:00:00Z", &["a.txt"]);
    let path = repo
        .ev_dir()
        .join("objects")
        .join(&first[..2])
        .join(&first[2..]);
    std::fs::remove_file(&path).unwrap();

    let out = repo.ev().arg("log").output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stdout(&out).contains(&second), "{}", stdout(&out));
    assert!(stderr(&out).contains(&first), "{}", stderr(&out));

    repo.ev().args(["log", "-n", "1"]).assert().success();
    let out = repo.ev().args(["log", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
}

#[test]
fn damaged_head_hint_keeps_repository() {
    let repo = Repo::new();
    std::fs::write(repo.ev_dir().join("HEAD"), "garbage\n").unwrap();
    let err = fails_with(repo.ev().arg("log"), 3);
    assert!(err.contains("ref HEAD is damaged"), "{err}");
    assert!(
        err.contains("Hint: write \"ref: refs/heads/main\""),
        "{err}"
    );
    assert!(!err.contains("delete it"), "{err}");
}

#[test]
fn commit_with_empty_message_is_rejected() {
    let repo = Repo::new();
    repo.write("a.txt", "a");
    for message in ["", "  \n"] {
        let err = fails_with(repo.ev().args(["commit", "-m", message, "a.txt"]), 2);
        assert!(err.contains("commit message is empty"), "{err}");
        assert!(err.contains("Hint: "), "{err}");
    }
    let log = repo.ev().args(["log"]).output().unwrap();
    assert_ne!(log.status.code(), Some(0), "no commit may have been made");
}
