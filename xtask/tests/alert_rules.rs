//! The shipped Prometheus alerting rules are valid and behave as their unit tests
//! say, checked with the real promtool.

use std::path::Path;
use std::process::Command;

use day2_tests::require::program;

fn promtool(args: &[&str]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/prometheus");
    let out = Command::new(program("promtool", "prometheus"))
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("run promtool");
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

#[test]
fn every_status_metric_the_rules_use_is_exported_by_status_probe() {
    let stack = day2_tests::DemoStack::default_stack().expect("demo stack");
    let out = Command::new(day2_tests::bins::bin("status-probe"))
        .args(["--url", &stack.url(), "--format", "prometheus", "summary"])
        .output()
        .expect("run status-probe");
    let exposition = String::from_utf8_lossy(&out.stdout);
    let rules = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/prometheus/day2-alerts.yml"),
    )
    .expect("rules file");
    let used: std::collections::BTreeSet<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("status_"))
        .collect();
    assert!(used.len() >= 4, "{used:?}");
    for metric in used {
        assert!(
            exposition.contains(&format!("\n{metric}{{")),
            "{metric} not exported:\n{exposition}"
        );
    }
}
