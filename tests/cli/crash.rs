//! A commit killed part-way must leave the repository consistent: `ev verify` passes and every
//! ref still points at a complete commit.

use std::time::Duration;

use crate::common::*;

/// After a crash, HEAD must be one of `allowed` and `ev verify` must pass.
fn assert_consistent(repo: &Repo, allowed: &[&str]) {
    let out = repo.ev().arg("verify").output().unwrap();
    assert!(
        out.status.success(),
        "verify failed after crash:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    let head = repo.rev_parse("HEAD");
    assert!(allowed.contains(&head.as_str()), "HEAD moved to {head}");
    // The reflog agrees with the ref.
    let reflog = repo.json(&["reflog", "main"]);
    assert_eq!(reflog["entries"][0]["new"], head.as_str());
}

#[test]
fn crash_points_leave_ref_unchanged() {
    // The crash points exist only in debug builds, which is what `cargo test` builds.
    if !cfg!(debug_assertions) {
        return;
    }
    for point in ["after-objects", "after-trees", "after-commit", "before-ref"] {
        let repo = Repo::new();
        repo.write("d/a.txt", "first");
        let first = repo.commit("first", T0, &["d"]);
        repo.write("d/a.txt", "second");
        repo.write("d/new.txt", "new file");
        let out = repo
            .ev()
            .env("EV_TEST_CRASH_AT", point)
            .args(["commit", "-m", "crashing", "d"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: commit did not crash");
        assert_consistent(&repo, &[&first]);
        // The next commit works and builds on the old tip.
        let next = repo.commit("after crash", "2026-01-15T12:00:00Z", &["d"]);
        assert_eq!(repo.rev_parse("HEAD~1"), first, "{point}");
        assert_eq!(repo.rev_parse("HEAD"), next);
    }
}

#[test]
fn sigkill_during_large_commit() {
    let repo = Repo::new();
    repo.write("d/a.txt", "first");
    let first = repo.commit("first", T0, &["d"]);
    // 8 MiB of varied bytes: a few hundred milliseconds of chunking and hashing in a debug build.
    let big: Vec<u8> = (0..8 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    repo.write("d/big.bin", &big);
    // Kill at several delays; each run either completes or leaves the old state.
    let mut tips = vec![first.clone()];
    for (i, delay_ms) in [5u64, 20, 60, 150, 400].into_iter().enumerate() {
        repo.write("d/a.txt", format!("version {i}"));
        let mut child = std::process::Command::new(EV)
            .current_dir(repo.path())
            .env("EV_AUTHOR", "Test Author <test@example.com>")
            .env("EV_COMMIT_TIME", format!("2026-01-15T11:00:0{i}Z"))
            .env_remove("EV_DIR")
            .args(["commit", "-m", &format!("killed {i}"), "d"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            tips.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
        }
        let allowed: Vec<&str> = tips.iter().map(String::as_str).collect();
        let head = repo.rev_parse("HEAD");
        if !allowed.contains(&head.as_str()) {
            // Killed after the ref moved but before the id was printed: still a valid commit.
            tips.push(head);
        }
        let allowed: Vec<&str> = tips.iter().map(String::as_str).collect();
        assert_consistent(&repo, &allowed);
    }
    // Whatever the kills left behind (a lock of a dead process at worst), commits still work.
    let last = repo.commit("after kills", "2026-01-15T12:00:00Z", &["d"]);
    assert_eq!(repo.rev_parse("HEAD"), last);
    repo.ev().arg("verify").assert().success();
}
