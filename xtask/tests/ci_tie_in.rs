//! The CI tie-in (`examples/ci/status-checks.sh`, run by the GitHub workflow in
//! `examples/github/`) runs the guide's CI table with the tools: green on a healthy
//! stack, red with the failing row, its reason and record named otherwise, a summary
//! table for GitHub. The workflow passes actionlint (with shellcheck), and the
//! cutover's guard step accepts it once it turns the legacy gate on.

use day2_tests::process::Bin;
use std::path::Path;
use std::process::Output;

use day2_tests::bins::bin;
use day2_tests::{BackendConfig, DemoStack, EdgeConfig, LegacyRoute};

const ORIGIN: &str = "https://assistant.example.org";

/// A stack whose edge adds no CORS of its own (so no duplicate header), with the
/// legacy location retired: everything in the CI table is green.
fn healthy_stack() -> DemoStack {
    let edge = EdgeConfig {
        allowed_origins: vec![],
        legacy: LegacyRoute::Retired,
        ..EdgeConfig::default()
    };
    DemoStack::start(BackendConfig::default(), edge).expect("demo stack")
}

fn example(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(path)
}

fn run_script(stack: &DemoStack, env: &[(&str, &str)]) -> (Output, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ci/status-checks.sh");
    let tools = bin("status-probe").parent().expect("bin dir").to_path_buf();
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out_dir = tempfile::tempdir().expect("temp dir");
    let records = out_dir.path().join("day2-ci.jsonl");
    let out = Bin::new("bash")
        .arg(script)
        .env("PATH", path)
        .env("DAY2_URL", stack.url())
        .env("DAY2_ORIGIN", ORIGIN)
        .env("DAY2_OUT", &records)
        .env_remove("FAIL_ON_LEGACY")
        .env_remove("GITHUB_STEP_SUMMARY")
        .envs(env.iter().copied())
        .output();
    let records = std::fs::read_to_string(records).unwrap_or_default();
    (out, records)
}

#[test]
fn a_healthy_stack_is_green() {
    let stack = healthy_stack();
    let (out, records) = run_script(&stack, &[("FAIL_ON_LEGACY", "true")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{records}");
    for row in [
        "green: ready",
        "green: summary",
        "green: cors",
        "green: legacy-gate",
    ] {
        assert!(stderr.contains(row), "{row} in:\n{stderr}");
    }
    assert!(
        records.lines().count() >= 4,
        "records kept as the artifact:\n{records}"
    );
}

#[test]
fn a_backend_in_fallback_is_red_with_a_diagnostic_dump() {
    let stack = healthy_stack();
    stack
        .backend
        .reconfigure(|c| c.provider = day2_tests::Provider::Fallback);
    let (out, _) = run_script(&stack, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("red: summary") && stderr.contains("diagnostic dump"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\"reason\":\"fallback\""),
        "the dump names the state:\n{stderr}"
    );
    assert!(stderr.contains("skipped: legacy gate"), "{stderr}");
}

#[test]
fn missing_cors_at_the_edge_is_red() {
    let stack = healthy_stack();
    stack.backend.reconfigure(|c| c.allowed_origins = vec![]);
    let (out, records) = run_script(&stack, &[("DAY2_CHAT_PATH", "/api/chat")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("red: cors") && stderr.contains("green: summary"),
        "{stderr}"
    );
    assert!(
        records.contains("acao_missing") || records.contains("preflight_rejected"),
        "{records}"
    );
}

#[test]
fn the_opt_in_legacy_gate_is_red_on_the_first_legacy_response() {
    let stack = DemoStack::start(
        BackendConfig::default(),
        EdgeConfig {
            allowed_origins: vec![],
            ..EdgeConfig::default()
        },
    )
    .expect("demo stack");
    let env = [
        ("FAIL_ON_LEGACY", "true"),
        ("DAY2_SAMPLE_PATH", "/status/summary"),
    ];
    let (out, records) = run_script(&stack, &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("red: legacy-gate"), "{stderr}");
    let summary = records
        .lines()
        .rfind(|l| l.contains("\"tool\":\"legacy-sampler\"") && l.contains("\"check\":\"summary\""))
        .expect("legacy-sampler summary record");
    assert!(summary.contains("\"verdict\":\"fail\""), "{summary}");
    // Off, the gate does not run (it is opt-in). The table is still red on CORS: while
    // the legacy location is served it strips the backend's CORS headers, a real
    // finding on such a stack.
    let (off, _) = run_script(&stack, &[("DAY2_SAMPLE_PATH", "/status/summary")]);
    let stderr = String::from_utf8_lossy(&off.stderr);
    assert!(
        stderr.contains("skipped: legacy gate") && !stderr.contains("legacy-gate"),
        "{stderr}"
    );
    assert!(
        stderr.contains("red: cors") && stderr.contains("green: summary"),
        "{stderr}"
    );
}

#[test]
fn fail_on_legacy_means_what_it_means_to_legacy_sampler() {
    let stack = DemoStack::start(
        BackendConfig::default(),
        EdgeConfig {
            allowed_origins: vec![],
            ..EdgeConfig::default()
        },
    )
    .expect("demo stack");
    let legacy = ("DAY2_SAMPLE_PATH", "/status/summary");
    // Empty is unset: GitHub passes an unset `${{ vars.FAIL_ON_LEGACY }}` as "".
    for off in ["", "false", "0", "No", "OFF"] {
        let (out, _) = run_script(&stack, &[("FAIL_ON_LEGACY", off), legacy]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("skipped: legacy gate (FAIL_ON_LEGACY is off)"),
            "FAIL_ON_LEGACY={off:?}:\n{stderr}"
        );
    }
    for on in ["TRUE", "1", "yes", "On"] {
        let (out, _) = run_script(&stack, &[("FAIL_ON_LEGACY", on), legacy]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("red: legacy-gate (exit 1): legacy_seen:"),
            "FAIL_ON_LEGACY={on:?}:\n{stderr}"
        );
    }
    let (out, records) = run_script(&stack, &[("FAIL_ON_LEGACY", "maybe")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("red: FAIL_ON_LEGACY=\"maybe\" is neither on"),
        "{stderr}"
    );
    assert!(records.is_empty(), "nothing ran: {records}");
}

#[test]
fn red_lines_name_the_reason_and_the_record_and_github_gets_a_summary_table() {
    let stack = healthy_stack();
    stack.backend.reconfigure(|c| c.allowed_origins = vec![]);
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let summary_path = summary.display().to_string();
    let (out, records) = run_script(&stack, &[("GITHUB_STEP_SUMMARY", &summary_path)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let red: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("red: cors"))
        .collect();
    assert!(!red.is_empty(), "{stderr}");
    for line in &red {
        // `red: cors (exit 1): REASON: {record}`, the record as it is in the artifact.
        let rest = line.strip_prefix("red: cors (exit 1): ").expect(line);
        let (reason, record) = rest.split_once(": ").expect(line);
        let parsed: serde_json::Value = serde_json::from_str(record).expect(record);
        assert_eq!(parsed["reason"], reason, "{line}");
        assert!(matches!(parsed["verdict"].as_str(), Some("fail" | "error")));
        assert!(
            records.lines().any(|l| l == record),
            "{record} not in the artifact"
        );
    }
    let table = std::fs::read_to_string(&summary).unwrap();
    assert!(table.starts_with("earlier step\n"), "appended: {table}");
    assert!(
        table.contains("| check | result | reason | target |"),
        "{table}"
    );
    let url = stack.url();
    for row in [
        format!("| ready | green |  | {url} |"),
        format!("| summary | green |  | {url} |"),
        "| legacy-gate | skipped | FAIL_ON_LEGACY is off |  |".to_owned(),
    ] {
        assert!(table.contains(&row), "{row} in:\n{table}");
    }
    let first_red = red[0].strip_prefix("red: cors (exit 1): ").unwrap();
    let reason = first_red.split_once(": ").unwrap().0;
    assert!(
        table.contains(&format!("| cors | red (exit 1) | {reason} | {url}/")),
        "{table}"
    );
}

/// actionlint (installed by `cargo xtask setup`) with shellcheck checks the workflow
/// and the shell in its `run:` steps; shellcheck checks the script it runs.
#[test]
fn the_workflow_and_the_script_pass_actionlint_and_shellcheck() {
    let actionlint = xtask_setup::require_program("actionlint").unwrap_or_else(|m| panic!("{m}"));
    let shellcheck = day2_tests::require::program("shellcheck", "shellcheck");
    let lint = |file: &Path| {
        Bin::new(&actionlint)
            .arg(format!("-shellcheck={}", shellcheck.display()))
            .arg("-no-color")
            .arg(file)
            .output()
    };
    let workflow = example("github/day2-status.yml");
    let out = lint(&workflow);
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The same checker refuses a broken copy: it is really looking.
    let text = std::fs::read_to_string(&workflow).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        text.replace(
            "run: day2-status-checks",
            "run: day2-status-checks ${{ vars.DAY2_URL }} $undefined_var",
        ),
    )
    .unwrap();
    let out = lint(&broken);
    assert!(!out.status.success(), "a broken copy passed actionlint");
    let out = Bin::new(&shellcheck)
        .arg(example("ci/status-checks.sh"))
        .output();
    assert!(
        out.status.success(),
        "shellcheck:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `cutover --workflow` passes the shipped example once its gate is turned on (the
/// guard step's change), and names the line while it is off.
#[test]
fn the_cutover_guard_accepts_the_example_workflow_with_the_gate_on() {
    let stack = healthy_stack();
    let workflow = example("github/day2-status.yml");
    let text = std::fs::read_to_string(&workflow).unwrap();
    let line = text
        .lines()
        .position(|l| l.trim() == "FAIL_ON_LEGACY: \"false\"")
        .expect("the example sets FAIL_ON_LEGACY: \"false\"")
        + 1;
    let guard = |file: &Path| {
        let out = Bin::new(bin("xtask"))
            .args(["cutover", "--only", "guard", "--live-samples", "5", "--url"])
            .arg(stack.url())
            .arg("--workflow")
            .arg(file)
            .output();
        let records = String::from_utf8_lossy(&out.stdout).into_owned();
        let guard = records
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a record"))
            .find(|r| r["check"] == "cutover.guard")
            .unwrap_or_else(|| panic!("no cutover.guard record:\n{records}"));
        (out.status.code(), guard)
    };
    let (code, off) = guard(&workflow);
    assert_eq!(code, Some(1), "{off}");
    assert_eq!(off["reason"], "guard_off", "{off}");
    assert!(
        off["message"]
            .as_str()
            .unwrap()
            .contains(&format!("day2-status.yml:{line} sets FAIL_ON_LEGACY=false")),
        "{off}"
    );
    let dir = tempfile::tempdir().unwrap();
    for on in ["\"true\"", "\"yes\"", "\"1\"", "true"] {
        let flipped = dir.path().join("day2-status.yml");
        std::fs::write(
            &flipped,
            text.replace(
                "FAIL_ON_LEGACY: \"false\"",
                &format!("FAIL_ON_LEGACY: {on}"),
            ),
        )
        .unwrap();
        let (code, passed) = guard(&flipped);
        assert_eq!(code, Some(0), "FAIL_ON_LEGACY: {on}: {passed}");
        assert_eq!(passed["verdict"], "pass", "{passed}");
    }
}
