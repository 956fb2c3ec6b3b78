use crate::common::*;

#[test]
fn every_json_output_names_its_schema() {
    let repo = Repo::new();
    repo.write("d/a.txt", "a");
    let id = repo.commit("m", T0, &["d"]);
    repo.ev().args(["tag", "v1"]).assert().success();

    let log = repo.json(&["log"]);
    assert_eq!(log["schema"], "ev.log/1");
    let c = &log["commits"][0];
    assert_eq!(c["id"], id.as_str());
    assert_eq!(c["author"], "Test Author <test@example.com>");
    assert_eq!(c["time"], T0);
    assert_eq!(c["message"], "m");
    assert_eq!(c["parents"], serde_json::json!([]));
    assert_eq!(
        c["refs"],
        serde_json::json!(["HEAD", "refs/heads/main", "refs/tags/v1"])
    );

    let show = repo.json(&["show", "HEAD"]);
    assert_eq!(show["schema"], "ev.show/1");
    assert_eq!(show["commit"]["id"], id.as_str());
    assert_eq!(
        show["changes"],
        serde_json::json!([{"status": "added", "path": "d/a.txt"}])
    );
    assert!(show["items"].is_null());
    assert!(show["provenance"].is_object());

    let ls = repo.json(&["ls", "HEAD", "-r"]);
    assert_eq!(ls["schema"], "ev.ls/1");
    assert_eq!(ls["entries"][0]["path"], "d/a.txt");
    assert_eq!(ls["entries"][0]["type"], "file");
    assert_eq!(ls["entries"][0]["size"], 1);

    let branch = repo.json(&["branch"]);
    assert_eq!(branch["schema"], "ev.branch/1");
    assert_eq!(branch["current"], "main");
    assert_eq!(branch["branches"][0]["commit"], id.as_str());

    let tag = repo.json(&["tag"]);
    assert_eq!(tag["schema"], "ev.tag/1");
    assert_eq!(tag["tags"][0]["name"], "v1");

    let reflog = repo.json(&["reflog", "main"]);
    assert_eq!(reflog["schema"], "ev.reflog/1");
    assert_eq!(reflog["ref"], "refs/heads/main");
    assert_eq!(reflog["entries"][0]["new"], id.as_str());
    assert!(reflog["entries"][0]["old"].is_null());

    let verify = repo.json(&["verify"]);
    assert_eq!(verify["schema"], "ev.verify/1");
    assert_eq!(verify["ok"], true);
    assert!(verify["objects_checked"].as_u64().unwrap() >= 3);

    let checkout = repo.json(&["checkout", "HEAD", "--to", "out"]);
    assert_eq!(checkout["schema"], "ev.checkout/1");
    assert_eq!(checkout["written"], serde_json::json!(["d/a.txt"]));
}

#[test]
fn ci_provenance_is_recorded() {
    let repo = Repo::new();
    repo.write("a.txt", "a");
    let out = repo
        .ev()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_RUN_ID", "12345")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/models")
        .args(["commit", "-m", "ci", "a.txt"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let show = repo.json(&["show"]);
    let ci = &show["provenance"]["ci"];
    assert_eq!(ci["provider"], "github-actions");
    assert_eq!(
        ci["run_url"],
        "https://github.com/acme/models/actions/runs/12345"
    );
    let text = stdout(&repo.ev().arg("show").output().unwrap());
    assert!(text.contains("CI:     github-actions run 12345"), "{text}");
}
