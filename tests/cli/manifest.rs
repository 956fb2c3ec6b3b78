use crate::common::*;

#[test]
fn manifest_items_are_committed() {
    let repo = Repo::new();
    repo.write(
        "evidence.toml",
        r#"
[[item]]
name = "config"
kind = "file"
path = "conf/train.yaml"

[[item]]
name = "metrics"
kind = "metrics"
glob = "metrics/*.json"
"#,
    );
    repo.write("conf/train.yaml", "lr: 0.1\n");
    repo.write("metrics/a.json", r#"{"eval": {"auc": 0.91}}"#);
    repo.write("metrics/b.json", r#"{"latency": {"p99": 120}}"#);
    repo.write("unrelated.txt", "not declared");
    repo.commit("m", T0, &[]);

    let all = stdout(&repo.ev().args(["ls", "HEAD", "-r"]).output().unwrap());
    assert!(
        all.contains("conf/train.yaml") && all.contains("metrics/b.json"),
        "{all}"
    );
    assert!(!all.contains("unrelated.txt"), "{all}");
    let show = repo.json(&["show", "HEAD"]);
    let items = show["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["name"], "config");
    assert_eq!(items[1]["kind"], "metrics");
    assert_eq!(
        items[1]["paths"],
        serde_json::json!(["metrics/a.json", "metrics/b.json"])
    );
    // Typed kinds get a record object beside the raw files; plain files do not.
    assert!(items[0]["record"].is_null(), "{show}");
    assert!(items[1]["record"].is_string(), "{show}");
}

#[test]
fn invalid_manifest_names_key_and_line() {
    let repo = Repo::new();
    repo.write(
        "evidence.toml",
        "[[item]]\nname = \"flights\"\nkind = \"sampel\"\npath = \"f.csv\"\n",
    );
    let err = fails_with(repo.ev().args(["commit", "-m", "m"]), 2);
    assert!(
        err.contains("evidence.toml:3: item \"flights\": unknown kind \"sampel\""),
        "{err}"
    );

    repo.write("evidence.toml", "\n\n[[itme]]\nname = \"x\"\n");
    let err = fails_with(repo.ev().args(["commit", "-m", "m"]), 2);
    assert!(
        err.contains("evidence.toml:3:") && err.contains("itme"),
        "{err}"
    );

    repo.write(
        "evidence.toml",
        "[[item]]\nname = \"cfg\"\nkind = \"file\"\nglob = \"conf/*.yml\"\n",
    );
    let err = fails_with(repo.ev().args(["commit", "-m", "m"]), 2);
    assert!(
        err.contains("evidence.toml:1: item \"cfg\": glob \"conf/*.yml\" matches nothing"),
        "{err}"
    );
}

#[test]
fn manifest_not_utf8_or_folder_is_input_error() {
    let repo = Repo::new();
    repo.write("evidence.toml", b"[[item]]\nname = \"a\xff\"\n");
    let out = repo.ev().args(["commit", "-m", "m"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("evidence.toml:2: invalid UTF-8"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("Hint: "), "{}", stderr(&out));

    std::fs::remove_file(repo.path().join("evidence.toml")).unwrap();
    std::fs::create_dir(repo.path().join("evidence.toml")).unwrap();
    let out = repo.ev().args(["commit", "-m", "m"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a regular file"),
        "{}",
        stderr(&out)
    );
}
