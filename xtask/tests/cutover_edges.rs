//! The cutover's other outcomes: the live-only observe, missing and broken inputs,
//! and the verify findings besides a wrong build.sha.

use day2_tests::process::Bin;

use day2_tests::{BackendConfig, DemoStack, EdgeConfig, LegacyRoute, Provider};
use serde_json::Value;

fn stack(legacy: LegacyRoute, backend: BackendConfig) -> DemoStack {
    DemoStack::start(
        backend,
        EdgeConfig {
            legacy,
            rate_limit: false,
            ..EdgeConfig::default()
        },
    )
    .expect("demo stack")
}

fn cutover(args: &[&str]) -> (Option<i32>, Vec<Value>) {
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("cutover")
        .args(args)
        .output();
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect();
    (out.status.code(), records)
}

fn outcome(records: &[Value], step: &str) -> (String, String) {
    let record = records
        .iter()
        .find(|r| r["tool"] == "xtask" && r["check"] == format!("cutover.{step}"))
        .unwrap_or_else(|| panic!("no cutover.{step}: {records:#?}"));
    (
        record["verdict"].as_str().unwrap().to_owned(),
        record["reason"].as_str().unwrap_or("").to_owned(),
    )
}

fn pair(verdict: &str, reason: &str) -> (String, String) {
    (verdict.to_owned(), reason.to_owned())
}

#[test]
fn without_logs_observe_is_a_live_sample_that_states_its_limits() {
    let stack = stack(LegacyRoute::Served, BackendConfig::default());
    let (code, records) = cutover(&[
        "--url",
        &stack.url(),
        "--only",
        "observe",
        "--live-samples",
        "4",
    ]);
    assert_eq!(code, Some(0), "a warning does not fail the run");
    assert_eq!(
        outcome(&records, "observe"),
        pair("warn", "live_sample_only")
    );
    let record = records
        .iter()
        .find(|r| r["check"] == "cutover.observe")
        .unwrap();
    assert!(
        record["message"]
            .as_str()
            .unwrap()
            .contains("it does not measure the last 1day"),
        "{record:#}"
    );
    let legacy = [
        "--url",
        &stack.url(),
        "--only",
        "observe",
        "--live-samples",
        "4",
        "--summary-path",
        "/status/summary",
    ];
    let (code, records) = cutover(&legacy);
    assert_eq!(code, Some(1));
    assert_eq!(outcome(&records, "observe"), pair("fail", "legacy_seen"));
}

#[test]
fn every_step_without_its_input_fails_and_says_which() {
    let stack = stack(LegacyRoute::Retired, BackendConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let missing_changelog = dir.path().join("CHANGELOG.md");
    let (code, records) = cutover(&[
        "--url",
        &stack.url(),
        "--live-samples",
        "2",
        "--changelog",
        missing_changelog.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    for step in ["guard", "remove", "integrity", "verify"] {
        assert_eq!(
            outcome(&records, step),
            pair("fail", "input_missing"),
            "{step}"
        );
    }
    assert_eq!(
        outcome(&records, "changelog"),
        pair("fail", "input_unreadable")
    );
}

#[test]
fn broken_inputs_name_what_and_where() {
    let stack = stack(LegacyRoute::Served, BackendConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        "server {\n    location /status/ {\n        proxy_pass http://backend\n    }\n",
    )
    .unwrap();
    let manifest = dir.path().join("sri-manifest.json");
    std::fs::write(
        &manifest,
        "{\n  \"app.js\": {\"sha384\": \"sha384-x\"},\n}\n",
    )
    .unwrap();
    let url = stack.url();
    let (_, records) = cutover(&[
        "--url",
        &url,
        "--only",
        "remove",
        "--nginx-conf",
        conf.to_str().unwrap(),
    ]);
    assert_eq!(
        outcome(&records, "remove"),
        pair("fail", "nginx_conf_invalid")
    );
    let message = records.last().unwrap()["data"]["failed"].to_string();
    assert!(message.contains("remove"), "{message}");
    let remove = records
        .iter()
        .find(|r| r["check"] == "cutover.remove")
        .unwrap();
    // `nginx -t` names the line of the `}` that ends the unterminated directive.
    assert!(
        remove["message"].as_str().unwrap().contains("nginx.conf:4"),
        "{remove:#}"
    );

    std::fs::write(
        &conf,
        "server {\n    location /status/ {\n        return 301 /api/status/summary;\n    }\n}\n",
    )
    .unwrap();
    let (_, records) = cutover(&[
        "--url",
        &url,
        "--only",
        "remove",
        "--nginx-conf",
        conf.to_str().unwrap(),
    ]);
    assert_eq!(
        outcome(&records, "remove"),
        pair("fail", "legacy_not_retired")
    );

    let (_, records) = cutover(&[
        "--url",
        &url,
        "--only",
        "integrity",
        "--manifest",
        manifest.to_str().unwrap(),
    ]);
    assert_eq!(
        outcome(&records, "integrity"),
        pair("fail", "integrity_unreadable")
    );
}

#[test]
fn verify_names_a_legacy_path_still_served_and_a_red_probe() {
    let stack = stack(
        LegacyRoute::Served,
        BackendConfig {
            build_sha: "abc1234".into(),
            ..BackendConfig::default()
        },
    );
    let url = stack.url();
    let verify = [
        "--url",
        &url,
        "--only",
        "verify",
        "--live-samples",
        "3",
        "--expect-sha",
        "abc1234",
    ];
    let (_, records) = cutover(&verify);
    assert_eq!(outcome(&records, "verify"), pair("fail", "legacy_not_gone"));

    let mut sampled_legacy = verify.to_vec();
    sampled_legacy.extend(["--summary-path", "/status/summary"]);
    let (_, records) = cutover(&sampled_legacy);
    assert_eq!(outcome(&records, "verify"), pair("fail", "not_only_api"));

    let retired = DemoStack::start(
        BackendConfig {
            provider: Provider::Down,
            build_sha: "abc1234".into(),
            ..BackendConfig::default()
        },
        EdgeConfig {
            legacy: LegacyRoute::Retired,
            rate_limit: false,
            ..EdgeConfig::default()
        },
    )
    .expect("demo stack");
    let url = retired.url();
    let (_, records) = cutover(&[
        "--url",
        &url,
        "--only",
        "verify",
        "--live-samples",
        "3",
        "--expect-sha",
        "abc1234",
    ]);
    assert_eq!(
        outcome(&records, "verify"),
        pair("fail", "status_probe_red")
    );
}

#[test]
fn a_tool_that_refuses_its_input_an_unreadable_repo_and_an_unwritable_patch_are_named() {
    let stack = stack(LegacyRoute::Served, BackendConfig::default());
    let url = stack.url();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::write(&log, "").unwrap();
    let (_, records) = cutover(&[
        "--url",
        &url,
        "--only",
        "observe",
        "--access-log",
        log.to_str().unwrap(),
        "--log-format",
        "$nonsense_without_time",
    ]);
    assert_eq!(outcome(&records, "observe"), pair("fail", "tool_error"));

    let conf = std::fs::read_to_string(stack.edge.config_file()).unwrap();
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let conf_arg = conf_path.to_str().unwrap();
    let (_, records) = cutover(&[
        "--url",
        &url,
        "--only",
        "remove",
        "--nginx-conf",
        conf_arg,
        "--repo",
        "/nonexistent-repo",
    ]);
    assert_eq!(outcome(&records, "remove"), pair("fail", "repo_unreadable"));
    let (_, records) = cutover(&[
        "--url",
        &url,
        "--only",
        "remove",
        "--nginx-conf",
        conf_arg,
        "--repo",
        dir.path().to_str().unwrap(),
        "--write-patch",
        "/nonexistent-dir/retire.patch",
    ]);
    assert_eq!(
        outcome(&records, "remove"),
        pair("fail", "patch_unwritable")
    );
}
