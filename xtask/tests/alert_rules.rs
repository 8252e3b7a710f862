//! The shipped Prometheus alerting rules are valid and behave as their unit tests
//! say, checked with the real promtool.

use day2_tests::process::Bin;
use std::path::Path;

use day2_tests::require::program;

fn promtool(args: &[&str]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/prometheus");
    let out = Bin::new(program("promtool", "prometheus"))
        .args(args)
        .current_dir(&dir)
        .output();
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_alerting_rules_pass_promtool_check() {
    promtool(&["check", "rules", "day2-alerts.yml"]);
}

#[test]
fn the_alerting_rules_pass_their_unit_tests() {
    promtool(&["test", "rules", "day2-alerts.test.yml"]);
}

/// The metric names of a prefix that the rules file uses.
fn used_metrics(prefix: &str) -> std::collections::BTreeSet<String> {
    let rules = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/prometheus/day2-alerts.yml"),
    )
    .expect("rules file");
    rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

fn exported(tool: &str, args: &[&str]) -> String {
    let out = Bin::new(day2_tests::bins::bin(tool)).args(args).output();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_metric_the_rules_use_is_exported_by_the_tools() {
    let stack = day2_tests::DemoStack::default_stack().expect("demo stack");
    let url = stack.url();
    let summary = format!("{url}/api/status/summary");
    let cases = [
        (
            "status_",
            // The edge's duplicated Allow-Origin for an origin both layers allow: a
            // failing check, so status_check_info is exported too.
            exported(
                "status-probe",
                &[
                    "--url",
                    &url,
                    "--format",
                    "prometheus",
                    "--origin",
                    "https://assistant.example.org",
                    "summary",
                    "cors",
                ],
            ),
        ),
        (
            "legacy_sampler_",
            exported(
                "legacy-sampler",
                &[&summary, "-n", "2", "--format", "prometheus"],
            ),
        ),
    ];
    for (prefix, exposition) in cases {
        let used = used_metrics(prefix);
        assert!(!used.is_empty(), "the rules use {prefix}* metrics");
        for metric in used {
            assert!(
                exposition.contains(&format!("\n{metric}{{")),
                "{metric} not exported:\n{exposition}"
            );
        }
    }
}
