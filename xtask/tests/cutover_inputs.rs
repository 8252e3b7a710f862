//! Issue 18 for the cutover: a run whose gates only warned is not a pass, numbers
//! are range-checked, inputs are read as capped streams, and URL credentials reach
//! no output (records, stderr, the report).

mod common;

use day2_tests::{BackendConfig, DemoStack, EdgeConfig, LegacyRoute};
use serde_json::Value;
use std::path::Path;

const CHANGELOG: &str = "# Changelog\n\n## [Unreleased]\n### Removed\n- Legacy `/status/summary` (answers 410 for one release).\n";

fn cutover(args: &[&str]) -> (i32, Vec<Value>, String) {
    let out = common::xtask(&["cutover"])
        .args(args)
        .deadline(std::time::Duration::from_secs(120))
        .run();
    (out.code, out.json_lines(), out.stderr)
}

fn record<'a>(records: &'a [Value], check: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["tool"] == "xtask" && r["check"] == check)
        .unwrap_or_else(|| panic!("no {check} in {records:#?}"))
}

/// Observing without access logs is only a live sample: its gate warns, and a run
/// made of such gates used to end in `cutover.verdict` pass ("every gate passed").
#[test]
fn a_run_whose_gates_only_warned_is_not_a_pass() {
    let edge = EdgeConfig {
        legacy: LegacyRoute::Retired,
        rate_limit: false,
        ..EdgeConfig::default()
    };
    let stack = DemoStack::start(BackendConfig::default(), edge).expect("demo stack");
    let url = stack.url();
    let (code, records, stderr) =
        cutover(&["--url", &url, "--only", "observe", "--live-samples", "3"]);
    assert_eq!(code, 0, "{stderr}\n{records:#?}");
    assert_eq!(
        record(&records, "cutover.observe")["reason"],
        "live_sample_only"
    );
    let verdict = record(&records, "cutover.verdict");
    assert_eq!(
        (&verdict["verdict"], &verdict["reason"]),
        (&Value::from("warn"), &Value::from("gates_unproven")),
        "{verdict:#}"
    );
}

#[test]
fn numbers_out_of_range_are_usage_errors() {
    for (args, expected) in [
        (
            &["--live-samples", "0"][..],
            "for --live-samples: a whole number from 1 to 1000000",
        ),
        (
            &["--quiet-for", "1e300"][..],
            "for --quiet-for: a duration from 0 to 3650 days",
        ),
    ] {
        let (code, records, stderr) = cutover(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(records.is_empty());
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// `/dev/zero` as the changelog ends at the cap with a one-line reason; a FIFO
/// (`<(…)`) is read as a file.
#[test]
fn the_changelog_is_read_as_a_capped_stream() {
    let (code, records, stderr) = cutover(&["--only", "changelog", "--changelog", "/dev/zero"]);
    assert_eq!(code, 1, "{stderr}");
    let step = record(&records, "cutover.changelog");
    assert_eq!(step["reason"], "input_unreadable", "{step:#}");
    assert_eq!(
        step["message"],
        "cannot read the changelog /dev/zero: larger than 16 MiB"
    );

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("CHANGELOG.fifo");
    day2_tests::process::Bin::new("mkfifo")
        .arg(&fifo)
        .run()
        .assert_success();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, CHANGELOG).unwrap())
    };
    let (code, records, stderr) =
        cutover(&["--only", "changelog", "--changelog", fifo.to_str().unwrap()]);
    writer.join().unwrap();
    assert_eq!(code, 0, "{stderr}\n{records:#?}");
    assert_eq!(record(&records, "cutover.changelog")["verdict"], "pass");
}

/// A canary credential in `--url` (userinfo and a token query value) reaches no
/// output: records, stderr, the Markdown report.
#[test]
fn url_credentials_never_reach_any_output() {
    const CANARY: &str = "CANARY-77c2";
    let dir = tempfile::tempdir().unwrap();
    let changelog = dir.path().join("CHANGELOG.md");
    std::fs::write(&changelog, CHANGELOG).unwrap();
    let report = dir.path().join("cutover.md");
    let url = format!("http://ops:{CANARY}@127.0.0.1:1/?token={CANARY}");
    for only in ["changelog", "verify", "guard"] {
        let (_, records, stderr) = cutover(&[
            "--url",
            &url,
            "--only",
            only,
            "--live-samples",
            "2",
            "--changelog",
            changelog.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ]);
        let stdout: String = records.iter().map(|r| format!("{r}\n")).collect();
        let text = std::fs::read_to_string(&report).expect("report");
        assert!(!records.is_empty());
        for (what, output) in [("stdout", &stdout), ("stderr", &stderr), ("report", &text)] {
            assert!(!output.contains(CANARY), "{only}: {what} leaks:\n{output}");
        }
        assert!(Path::new(&report).exists());
        assert!(text.contains("ops:[REDACTED]@127.0.0.1"), "{text}");
    }
}
