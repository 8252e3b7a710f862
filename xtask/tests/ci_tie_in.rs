//! The CI tie-in (`examples/ci/status-checks.sh`, run by the GitHub workflow in
//! `examples/github/`) runs the guide's CI table with the tools: green on a healthy
//! stack, red with the failing row named otherwise.

use std::path::Path;
use std::process::{Command, Output};

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
    let out = Command::new("bash")
        .arg(script)
        .env("PATH", path)
        .env("DAY2_URL", stack.url())
        .env("DAY2_ORIGIN", ORIGIN)
        .env("DAY2_OUT", &records)
        .env_remove("FAIL_ON_LEGACY")
        .envs(env.iter().copied())
        .output()
        .expect("run status-checks.sh");
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
