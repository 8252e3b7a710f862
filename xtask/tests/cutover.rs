//! `cargo xtask cutover` against the demo stack behind real nginx: every gate fails
//! for its own reason, a full run passes, the report says so, and a step run by hand
//! as a pipeline of the tools reaches the same verdict as the xtask.

use day2_tests::process::Bin;
use std::path::PathBuf;
use std::process::Output;

use day2_core::http::{request, HttpOptions};
use day2_tests::bins::bin;
use day2_tests::{BackendConfig, DemoStack, EdgeConfig, LegacyRoute};
use serde_json::Value;

const SHA: &str = "abc1234def";

/// Everything a cutover run reads, written into a temporary directory.
struct Inputs {
    dir: tempfile::TempDir,
}

impl Inputs {
    fn new() -> Inputs {
        let inputs = Inputs {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        inputs.write(
            "ci.yml",
            "jobs:\n  status:\n    env:\n      FAIL_ON_LEGACY: \"true\"\n",
        );
        inputs.write(
            "nginx.conf",
            "http {\n    server {\n        location /status/ {\n            return 410;\n        }\n        location / {\n            try_files $uri /index.html;\n        }\n    }\n}\n",
        );
        inputs.write(
            "repo/web/status.js",
            "export const url = '/api/status/summary';\n",
        );
        inputs.write(
            "CHANGELOG.md",
            "# Changelog\n\n## [Unreleased]\n### Removed\n- Legacy `/status/summary` (answers 410 for one release).\n",
        );
        inputs.write("site/app.js", "console.log('hi');\n");
        let out = Bin::new(bin("sri-check"))
            .args(["generate", "app.js", "--manifest"])
            .arg(inputs.path("site/sri-manifest.json"))
            .current_dir(inputs.path("site"))
            .run();
        out.assert_code(0);
        let manifest: Value = serde_json::from_str(
            &std::fs::read_to_string(inputs.path("site/sri-manifest.json")).unwrap(),
        )
        .unwrap();
        let integrity = manifest["app.js"]["sha384"]
            .as_str()
            .expect("generated entry");
        inputs.write(
            "site/index.html",
            &format!(
                "<!doctype html><html><head><script src=\"/app.js\" integrity=\"{integrity}\" crossorigin=\"anonymous\"></script></head><body></body></html>\n"
            ),
        );
        inputs.quiet_log(26);
        inputs
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// An older access log (as rotated) with api traffic only, one line a minute from
    /// `hours` ago until a minute ago.
    fn quiet_log(&self, hours: i64) {
        let now = jiff::Timestamp::now();
        let mut text = String::new();
        for minute in (1..hours * 60).rev() {
            let at = now - jiff::SignedDuration::from_mins(minute);
            text.push_str(&format!(
                "10.0.0.7 - - [{}] \"GET /api/status/summary HTTP/1.1\" 200 312 \"-\" \"Mozilla/5.0\"\n",
                at.strftime("%d/%b/%Y:%H:%M:%S %z")
            ));
        }
        self.write("access.log.1", &text);
    }

    /// The arguments of a run that passes every gate against `stack`.
    fn args(&self, stack: &DemoStack) -> Vec<String> {
        let p = |name: &str| self.path(name).display().to_string();
        vec![
            "cutover".into(),
            "--url".into(),
            stack.url(),
            "--access-log".into(),
            p("access.log.1"),
            "--access-log".into(),
            stack.edge.access_log().display().to_string(),
            "--workflow".into(),
            p("ci.yml"),
            "--nginx-conf".into(),
            p("nginx.conf"),
            "--repo".into(),
            p("repo"),
            "--manifest".into(),
            p("site/sri-manifest.json"),
            "--html".into(),
            p("site/index.html"),
            "--changelog".into(),
            p("CHANGELOG.md"),
            "--expect-sha".into(),
            SHA.into(),
            "--live-samples".into(),
            "5".into(),
        ]
    }
}

fn stack(legacy: LegacyRoute) -> DemoStack {
    let backend = BackendConfig {
        build_sha: SHA.into(),
        ..BackendConfig::default()
    };
    let edge = EdgeConfig {
        legacy,
        rate_limit: false,
        ..EdgeConfig::default()
    };
    let stack = DemoStack::start(backend, edge).expect("demo stack");
    // Some api traffic, so the live access log has recent lines.
    get(
        &format!("{}/api/status/summary", stack.url()),
        "Mozilla/5.0",
    );
    stack.edge.logged(1).expect("the api request is logged");
    stack
}

fn get(url: &str, user_agent: &str) {
    let agent = HttpOptions::default().agent();
    request(&agent, "GET", url, &[("User-Agent", user_agent)], 1 << 20).expect("GET");
}

fn cutover(args: &[String], extra: &[&str]) -> (Output, Vec<Value>) {
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .args(extra)
        .output();
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out, records)
}

fn step<'a>(records: &'a [Value], name: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["tool"] == "xtask" && r["check"] == format!("cutover.{name}"))
        .unwrap_or_else(|| panic!("no cutover.{name} in {records:#?}"))
}

fn assert_gate_fails(records: &[Value], name: &str, reason: &str) {
    let record = step(records, name);
    assert_eq!(
        (record["verdict"].as_str(), record["reason"].as_str()),
        (Some("fail"), Some(reason)),
        "{record:#}"
    );
    let verdict = records.last().unwrap();
    assert_eq!(verdict["check"], "cutover.verdict");
    assert!(
        verdict["data"]["failed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == name),
        "{verdict:#}"
    );
}

#[test]
fn a_full_cutover_passes_before_and_after_the_deploy_and_writes_the_report() {
    let inputs = Inputs::new();
    let mut stack = stack(LegacyRoute::Served);
    let report = inputs.path("cutover.md");
    let mut args = inputs.args(&stack);
    args.extend(["--report".into(), report.display().to_string()]);

    let (out, records) = cutover(&args, &["--phase", "pre"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{records:#?}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["observe", "guard", "remove", "integrity", "changelog"] {
        assert_eq!(step(&records, name)["verdict"], "pass", "{name}");
    }
    assert!(
        records.iter().any(|r| r["tool"] == "legacy-sampler"),
        "tool records are the evidence"
    );
    assert!(records.iter().any(|r| r["tool"] == "sri-check"));

    stack
        .set_legacy(LegacyRoute::Retired)
        .expect("deploy: legacy retired");
    let (out, records) = cutover(&args, &["--phase", "post"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{records:#?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(step(&records, "verify")["verdict"], "pass");
    assert_eq!(records.last().unwrap()["verdict"], "pass");

    let text = std::fs::read_to_string(&report).expect("report written");
    assert!(
        text.starts_with("# Legacy endpoint cutover: PASS"),
        "{text}"
    );
    assert!(text.contains("| verify | PASS |"), "{text}");
    assert!(
        text.contains("| status-probe | legacy |"),
        "the report lists the evidence:\n{text}"
    );
}

#[test]
fn legacy_hits_in_the_logs_fail_observe_and_name_the_callers() {
    let inputs = Inputs::new();
    let stack = stack(LegacyRoute::Served);
    get(
        &format!("{}/status/summary", stack.url()),
        "uptime-monitor/2.1",
    );
    stack.edge.logged(2).expect("the legacy request is logged");
    let (out, records) = cutover(&inputs.args(&stack), &["--only", "observe"]);
    assert_eq!(out.status.code(), Some(1));
    assert_gate_fails(&records, "observe", "legacy_in_quiet_window");
    let monitors = &step(&records, "observe")["data"]["evidence"]["monitors_still_reading_legacy"];
    assert!(
        monitors.to_string().contains("uptime-monitor/2.1"),
        "{monitors:#}"
    );
}

#[test]
fn short_log_coverage_fails_observe() {
    let inputs = Inputs::new();
    inputs.quiet_log(2);
    let stack = stack(LegacyRoute::Served);
    let (_, records) = cutover(&inputs.args(&stack), &["--only", "observe"]);
    assert_gate_fails(&records, "observe", "insufficient_coverage");
}

#[test]
fn a_guard_that_is_off_fails() {
    let inputs = Inputs::new();
    inputs.write(
        "ci.yml",
        "jobs:\n  status:\n    env:\n      FAIL_ON_LEGACY: \"false\"\n",
    );
    let stack = stack(LegacyRoute::Served);
    let (_, records) = cutover(&inputs.args(&stack), &["--only", "guard"]);
    assert_gate_fails(&records, "guard", "guard_off");
    assert!(step(&records, "guard")["message"]
        .as_str()
        .unwrap()
        .contains("ci.yml:4 sets FAIL_ON_LEGACY=false"));
}

#[test]
fn a_legacy_block_still_proxied_fails_and_the_patch_retires_it() {
    let inputs = Inputs::new();
    let stack = stack(LegacyRoute::Served);
    let conf = std::fs::read_to_string(stack.edge.config_file()).unwrap();
    // The configuration lives in the repository, as it does on a real deployment.
    inputs.write("repo/deploy/nginx.conf", &conf);
    let conf_path = inputs.path("repo/deploy/nginx.conf");
    let mut args = inputs.args(&stack);
    let at = args.iter().position(|a| a == "--nginx-conf").unwrap();
    args[at + 1] = conf_path.display().to_string();
    let patch = inputs.path("retire.patch");
    let (_, records) = cutover(
        &args,
        &["--only", "remove", "--write-patch", patch.to_str().unwrap()],
    );
    assert_gate_fails(&records, "remove", "legacy_still_proxied");
    let remove = step(&records, "remove");
    assert_eq!(
        remove["data"]["evidence"]["patch_files"],
        serde_json::json!(["deploy/nginx.conf"]),
        "{remove:#}"
    );
    // Both appliers take it at the repository root.
    let repo = inputs.path("repo");
    let git = Bin::new("git")
        .args(["apply", "--check"])
        .arg(&patch)
        .current_dir(&repo)
        .output();
    assert!(
        git.status.success(),
        "{}",
        String::from_utf8_lossy(&git.stderr)
    );
    let out = Bin::new("patch")
        .args(["-p1", "-i"])
        .arg(&patch)
        .current_dir(&repo)
        .output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The patched configuration is valid for nginx itself, and the gate passes.
    let nginx = day2_tests::require::program("nginx", "nginx-light");
    let test = Bin::new(nginx)
        .args(["-t", "-p"])
        .arg(stack.edge.config_file().parent().unwrap())
        .arg("-c")
        .arg(&conf_path)
        .output();
    assert!(
        test.status.success(),
        "{}",
        String::from_utf8_lossy(&test.stderr)
    );
    let (out, records) = cutover(&args, &["--only", "remove"]);
    assert_eq!(out.status.code(), Some(0), "{records:#?}");
}

#[test]
fn a_deleted_location_is_the_spa_fallback_trap_in_the_config_and_live() {
    let inputs = Inputs::new();
    inputs.write(
        "nginx.conf",
        "server {\n    location / {\n        try_files $uri /index.html;\n    }\n}\n",
    );
    let stack = stack(LegacyRoute::Removed);
    let (_, records) = cutover(&inputs.args(&stack), &["--only", "remove"]);
    assert_gate_fails(&records, "remove", "spa_fallback");
    let (_, records) = cutover(&inputs.args(&stack), &["--only", "verify"]);
    assert_gate_fails(&records, "verify", "legacy_spa_fallback");
}

#[test]
fn remaining_readers_of_the_legacy_path_fail_remove() {
    let inputs = Inputs::new();
    inputs.write(
        "repo/web/fallback.js",
        "fetch('/api/status/summary').catch(() => fetch('/status/summary'));\n",
    );
    let stack = stack(LegacyRoute::Served);
    let (_, records) = cutover(&inputs.args(&stack), &["--only", "remove"]);
    assert_gate_fails(&records, "remove", "legacy_readers_remain");
    assert!(step(&records, "remove")["message"]
        .as_str()
        .unwrap()
        .contains("web/fallback.js:1"));
}

#[test]
fn drifted_sri_fails_integrity() {
    let inputs = Inputs::new();
    inputs.write("site/app.js", "console.log('changed');\n");
    let stack = stack(LegacyRoute::Served);
    let (_, records) = cutover(&inputs.args(&stack), &["--only", "integrity"]);
    assert_gate_fails(&records, "integrity", "integrity_drift");
}

#[test]
fn a_missing_changelog_entry_fails() {
    let inputs = Inputs::new();
    inputs.write(
        "CHANGELOG.md",
        "# Changelog\n\n## [Unreleased]\n- Faster chat.\n",
    );
    let stack = stack(LegacyRoute::Served);
    let (_, records) = cutover(&inputs.args(&stack), &["--only", "changelog"]);
    assert_gate_fails(&records, "changelog", "changelog_entry_missing");
}

#[test]
fn a_wrong_build_sha_fails_verify() {
    let inputs = Inputs::new();
    let stack = stack(LegacyRoute::Retired);
    let mut args = inputs.args(&stack);
    let at = args.iter().position(|a| a == SHA).unwrap();
    args[at] = "deadbee".into();
    let (_, records) = cutover(&args, &["--only", "verify"]);
    assert_gate_fails(&records, "verify", "build_sha_mismatch");
}

#[test]
fn a_dry_run_checks_nothing_and_says_what_it_would_check() {
    let inputs = Inputs::new();
    let mut args = inputs.args(&stack(LegacyRoute::Served));
    args[2] = "http://127.0.0.1:9".into();
    let (out, records) = cutover(&args, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(records.len(), 7, "six steps and the verdict");
    assert!(
        records
            .iter()
            .all(|r| r["verdict"] == "info" && r["reason"] == "dry_run"),
        "{records:#?}"
    );
    assert!(step(&records, "observe")["message"]
        .as_str()
        .unwrap()
        .contains("access log"));
}

#[test]
fn observe_by_hand_as_a_pipeline_reaches_the_same_verdict_as_the_xtask() {
    let inputs = Inputs::new();
    let stack = stack(LegacyRoute::Served);
    get(
        &format!("{}/status/summary", stack.url()),
        "uptime-monitor/2.1",
    );
    stack.edge.logged(2).expect("the legacy request is logged");
    let logs = [inputs.path("access.log.1"), stack.edge.access_log()];
    let script = format!(
        "cat {} {} | {} --log - --quiet-for 24h | tail -n 1",
        logs[0].display(),
        logs[1].display(),
        bin("legacy-sampler").display()
    );
    let by_hand = Bin::new("bash").args(["-c", &script]).output();
    let summary: Value =
        serde_json::from_slice(&by_hand.stdout).expect("the pipeline's last line is a record");
    assert_eq!(summary["check"], "summary");
    let (_, records) = cutover(&inputs.args(&stack), &["--only", "observe"]);
    let observe = step(&records, "observe");
    assert_eq!(
        (observe["verdict"].as_str(), observe["reason"].as_str()),
        (summary["verdict"].as_str(), summary["reason"].as_str())
    );
    assert_eq!(summary["reason"], "legacy_in_quiet_window");
}
