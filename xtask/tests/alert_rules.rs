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
