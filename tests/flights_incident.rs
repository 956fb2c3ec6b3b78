//! Replays the flights example (examples/flights) through the `ev` binary and checks
//! that the automatic bisect names the injected fault as the first true change: the
//! snapshot of 2013-03-13, the sample `flights.parquet`, column `dep_delay`, slice
//! `carrier=MQ`. Neither the model retrain of 2013-03-20 nor a stormy day may be named.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const FAULT_DAY: &str = "2013-03-13";
const RETRAIN_DAY: &str = "2013-03-20";
const GOOD_DAY: &str = "2013-02-01";

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flights")
}

/// One row of examples/flights/data/days.csv.
#[derive(Debug)]
struct Day {
    date: String,
    model: String,
}

fn read_days() -> Vec<Day> {
    let path = example_dir().join("data/days.csv");
    let text = fs::read_to_string(&path).expect("examples/flights/data/days.csv is committed");
    text.lines()
        .skip(1)
        .map(|line| {
            let mut fields = line.split(',');
            let date = fields.next().expect("days.csv row has a date").to_owned();
            let model = fields.next().expect("days.csv row has a model").to_owned();
            Day { date, model }
        })
        .collect()
}

fn run_ev(repo: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ev"));
    // A fixed author and pinned commit times keep commit ids identical across runs.
    command.current_dir(repo).args(args).env(
        "EV_AUTHOR",
        "flights pipeline <flights-pipeline@example.com>",
    );
    for (key, value) in envs {
        command.env(key, value);
    }
    command.output().expect("the ev binary starts")
}

/// Runs ev and returns its stdout, failing the test with stderr when it exits non-zero.
fn ev_ok(repo: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let output = run_ev(repo, args, envs);
    assert!(
        output.status.success(),
        "ev {} exited with {}\nstderr:\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("ev writes UTF-8 to stdout")
}

fn copy(from: &Path, to: &Path) {
    fs::copy(from, to)
        .unwrap_or_else(|error| panic!("copy {} to {}: {error}", from.display(), to.display()));
}

/// Commits one snapshot per day, exactly as examples/flights/run.sh does.
fn replay(repo: &Path, days: &[Day]) {
    let data = example_dir().join("data");
    ev_ok(repo, &["init", "--quiet"], &[]);
    copy(
        &example_dir().join("evidence.toml"),
        &repo.join("evidence.toml"),
    );
    fs::create_dir_all(repo.join("golden")).expect("create golden/");
    fs::create_dir_all(repo.join("model")).expect("create model/");

    for day in days {
        let date = day.date.as_str();
        copy(
            &data.join(format!("flights/{date}.parquet")),
            &repo.join("flights.parquet"),
        );
        copy(
            &data.join(format!("golden/{date}.csv")),
            &repo.join("golden/delay_by_carrier_origin.csv"),
        );
        let model_dir = data.join("models").join(&day.model);
        copy(
            &model_dir.join("delay_model.safetensors"),
            &repo.join("model/delay_model.safetensors"),
        );
        copy(
            &model_dir.join("model.json"),
            &repo.join("model/model.json"),
        );
        copy(
            &data.join(format!("metrics/{date}.json")),
            &repo.join("metrics.json"),
        );

        let time = format!("{date}T00:00:00Z");
        let message = format!("snapshot {date}");
        let day_label = format!("day={date}");
        let model_label = format!("model={}", day.model);
        ev_ok(
            repo,
            &[
                "commit",
                "--quiet",
                "-m",
                &message,
                "--label",
                &day_label,
                "--label",
                &model_label,
            ],
            &[("EV_COMMIT_TIME", &time)],
        );
    }
}

fn commit_id_of_day(repo: &Path, date: &str) -> String {
    ev_ok(repo, &["rev-parse", &format!("main@{{{date}}}")], &[])
        .trim()
        .to_owned()
}

/// Checks whether a finding of the auto-bisect report names this item, column and slice.
fn names(finding: &Value, item: &str, column: &str, slice: &str) -> bool {
    finding["item"] == item && finding["column"] == column && finding["slice"] == slice
}

#[test]
fn auto_bisect_names_injected_fault() {
    let days = read_days();
    assert_eq!(days.len(), 120, "the example covers 2013-01-01..2013-04-30");
    let workspace = tempfile::tempdir().expect("create a temporary folder");
    let repo = workspace.path();
    replay(repo, &days);

    let fault = commit_id_of_day(repo, FAULT_DAY);
    let retrain = commit_id_of_day(repo, RETRAIN_DAY);
    let good = format!("main@{{{GOOD_DAY}}}");
    let stdout = ev_ok(repo, &["bisect", "auto", &good, "main", "--json"], &[]);
    let report: Value =
        serde_json::from_str(&stdout).expect("bisect --json prints one JSON document");
    assert_eq!(report["schema"], "ev.bisect/1");

    // The first true change is the fault's day: not a stormy day before it (2013-02-08/09,
    // 2013-03-08) and not the retrain after it.
    let first = &report["first_change"];
    let first_day = first["commit"]["summary"].as_str().unwrap_or("none");
    assert_eq!(
        first["commit"]["id"].as_str(),
        Some(fault.as_str()),
        "first change: {first_day}"
    );

    // At that commit the sample's dep_delay in slice carrier=MQ departs; the model does not.
    let mut at_first = vec![first.clone()];
    if let Some(also) = report["also_at_first_change"].as_array() {
        at_first.extend(also.iter().cloned());
    }
    assert!(
        at_first
            .iter()
            .any(|f| names(f, "flights", "dep_delay", "carrier=MQ")),
        "flights.dep_delay [carrier=MQ] not named at the first change: {at_first:#?}"
    );
    assert!(
        at_first.iter().all(|f| f["item"] != "delay-model"),
        "the model changed at the fault's commit: {at_first:#?}"
    );

    // The retrain is a later, separate change on the timeline.
    let timeline = report["timeline"].as_array().expect("timeline is a list");
    assert!(
        timeline
            .iter()
            .any(|f| f["item"] == "delay-model"
                && f["commit"]["id"].as_str() == Some(retrain.as_str())),
        "the retrain of {RETRAIN_DAY} is missing from the timeline"
    );

    let verify = run_ev(repo, &["verify"], &[]);
    assert!(
        verify.status.success(),
        "ev verify found problems:\n{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
