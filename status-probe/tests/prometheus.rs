//! `--format prometheus` and `--textfile`: parsed back by the test and accepted by
//! `promtool check metrics`.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use day2_core::record::Verdict;
use day2_tests::{BackendConfig, EdgeConfig};

/// `name{labels}` → value, for every sample line; HELP/TYPE lines are checked to
/// precede their samples.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    let mut typed = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert_eq!(kind, "gauge");
            typed.push(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("sample line: {line}"));
        let name = series.split('{').next().unwrap();
        assert!(typed.iter().any(|t| t == name), "{name} has no TYPE line");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "duplicate series {series}"
        );
    }
    samples
}

#[test]
fn a_healthy_stack_exports_ready_path_model_and_check_results() {
    let stack = stack();
    let run = probe(&[
        "--url",
        &stack.url(),
        "--format",
        "prometheus",
        "--chat-path",
        "/api/chat",
        "--origin",
        BOTH_LAYERS,
    ]);
    assert_eq!(
        run.code, 1,
        "the duplicated Allow-Origin fails the run: {run:?}"
    );
    day2_tests::process::promtool_check_metrics(&run.stdout);
    let samples = parse(&run.stdout);
    assert_eq!(samples[r#"status_ready{service="backend"}"#], 1.0);
    assert_eq!(samples[r#"status_reachable{service="backend"}"#], 1.0);
    assert_eq!(
        samples[r#"status_llm_path{service="backend",path="primary"}"#],
        1.0
    );
    assert_eq!(
        samples[r#"status_llm_path{service="backend",path="warming"}"#],
        0.0
    );
    assert_eq!(samples[r#"status_model_present{service="backend"}"#], 1.0);
    assert_eq!(
        samples[r#"status_synthetic_warming{service="backend"}"#],
        0.0
    );
    assert_eq!(
        samples[r#"status_build_info{service="backend",sha="local"}"#],
        1.0
    );
    let url = stack.url();
    // The result's labels name what was checked, never the outcome: a change of
    // verdict or reason changes the value, not the series.
    let cors =
        format!(r#"check="cors.summary",target="{url}/api/status/summary",origin="{BOTH_LAYERS}""#);
    assert_eq!(
        samples[&format!("status_check_ok{{{cors}}}")],
        0.0,
        "{}",
        run.stdout
    );
    let summary = format!(r#"check="summary",target="{url}/api/status/summary",origin="""#);
    assert_eq!(samples[&format!("status_check_ok{{{summary}}}")], 1.0);
    for series in samples.keys().filter(|s| s.starts_with("status_check_ok{")) {
        assert!(
            !series.contains("verdict=") && !series.contains("reason="),
            "{series}"
        );
    }
    // The reason is in the info gauge beside it, only for checks that did not pass.
    assert_eq!(
        samples[&format!(r#"status_check_info{{{cors},verdict="fail",reason="acao_duplicated"}}"#)],
        1.0
    );
    assert!(
        !samples
            .keys()
            .any(|s| s.starts_with(&format!("status_check_info{{{summary}"))),
        "{}",
        run.stdout
    );
}

#[test]
fn a_warming_stack_exports_its_warming_and_a_textfile_is_written_atomically() {
    let stack = stack_with(
        BackendConfig {
            warm_after: Duration::from_secs(3600),
            ..BackendConfig::default()
        },
        EdgeConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("status.prom");
    let hour_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(3600);
    let run = probe(&[
        "--url",
        &stack.url(),
        "summary",
        "--textfile",
        file.to_str().unwrap(),
        "--started-at",
        &hour_ago.to_string(),
        "--service",
        "assistant",
    ]);
    // stdout keeps its JSON lines; the file gets the exposition.
    assert_eq!(
        run.one("summary").reason.as_deref(),
        Some("warming"),
        "{run:?}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    day2_tests::process::promtool_check_metrics(&text);
    let samples = parse(&text);
    assert_eq!(samples[r#"status_ready{service="assistant"}"#], 0.0);
    assert_eq!(
        samples[r#"status_llm_path{service="assistant",path="warming"}"#],
        1.0
    );
    assert_eq!(samples[r#"status_model_present{service="assistant"}"#], 0.0);
    assert!(samples[r#"status_warming_seconds{service="assistant"}"#] >= 3600.0);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("status.prom")]);

    let run = probe(&[
        "--url",
        &stack.url(),
        "summary",
        "--textfile",
        "/nonexistent-dir/x.prom",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .starts_with("status-probe: cannot write /nonexistent-dir/x.prom"),
        "{run:?}"
    );
    assert!(run.stdout.is_empty(), "found out before probing: {run:?}");

    // A directory in the way: the rename fails, and the temp file does not linger.
    std::fs::create_dir(dir.path().join("taken.prom")).unwrap();
    std::fs::write(dir.path().join("taken.prom/x"), "").unwrap();
    let taken = dir.path().join("taken.prom");
    let run = probe(&[
        "--url",
        &stack.url(),
        "summary",
        "--textfile",
        taken.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("cannot write"), "{run:?}");
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["status.prom", "taken.prom"]);
}

#[test]
fn an_unreachable_stack_still_exports_valid_metrics() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = probe(&[
        "--url",
        &format!("http://127.0.0.1:{port}"),
        "--format",
        "prometheus",
    ]);
    assert_eq!(run.code, 1);
    day2_tests::process::promtool_check_metrics(&run.stdout);
    let samples = parse(&run.stdout);
    assert_eq!(samples[r#"status_reachable{service="backend"}"#], 0.0);
    assert_eq!(samples[r#"status_ready{service="backend"}"#], 0.0);
}

/// With nothing answering, every roll-up (the CORS layer comparison, the disallowed
/// origin, the warming SLO, freshness) asked nothing successfully: each is an error,
/// exported as `status_check_ok … 0`, and the warming time is not exported as a 0.
#[test]
fn roll_ups_without_an_answer_are_errors_never_passes() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    day2_tests::process::Bin::new("git")
        .arg("-C")
        .arg(repo)
        .args(["init", "-q"])
        .run()
        .assert_success();
    let changelog = repo.join("CHANGELOG.md");
    std::fs::write(&changelog, "# Changelog\n\n## [1.0.0] - 2026-01-01\n").unwrap();
    let textfile = dir.path().join("status.prom");
    let run = probe(&[
        "--url",
        &url,
        "--origin",
        BOTH_LAYERS,
        "--disallowed-origin",
        EVIL,
        "--warming-budget",
        "10m",
        "--changelog",
        changelog.to_str().unwrap(),
        "--textfile",
        textfile.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let roll_ups = [
        run.for_origin("cors.layers", BOTH_LAYERS),
        run.records
            .iter()
            .find(|r| r.check == "cors.disallowed" && r.target == url)
            .expect("cors.disallowed roll-up"),
        run.one("warming"),
        run.one("freshness"),
    ];
    for record in roll_ups {
        assert_eq!(
            verdict(record),
            (Verdict::Error, Some("not_checked")),
            "{}: {run:?}",
            record.check
        );
    }
    assert_eq!(
        run.one("warming").data["warming_seconds"],
        serde_json::Value::Null
    );
    let text = std::fs::read_to_string(&textfile).unwrap();
    day2_tests::process::promtool_check_metrics(&text);
    let samples = parse(&text);
    for (check, origin) in [
        ("cors.disallowed", EVIL),
        ("cors.layers", BOTH_LAYERS),
        ("warming", ""),
        ("freshness", ""),
    ] {
        let prefix = format!(r#"status_check_ok{{check="{check}",target="{url}"#);
        let found: Vec<_> = samples
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix) && k.contains(&format!(r#"origin="{origin}""#)))
            .collect();
        assert!(!found.is_empty(), "no {check} series in\n{text}");
        for (series, value) in found {
            assert_eq!(*value, 0.0, "{series}");
        }
    }
    assert!(
        !text.contains("status_warming_seconds{"),
        "an unknown warming time is not a 0:\n{text}"
    );
}
