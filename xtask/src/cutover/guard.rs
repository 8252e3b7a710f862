//! Step 2, guard: the CI legacy guard (`FAIL_ON_LEGACY=true`) is set in every
//! workflow file, and legacy-sampler's gate passes against the stack now.

use day2_core::Exit;
use serde_json::json;

use super::{read_input, CutoverArgs, Finding};
use crate::tools::invoke;

/// How a workflow file sets the CI legacy guard.
#[derive(Debug, PartialEq)]
enum GuardSetting {
    On {
        line: usize,
    },
    Off {
        line: usize,
        value: String,
    },
    /// Set from a variable or expression the file cannot tell the value of.
    Indirect {
        line: usize,
        value: String,
    },
    Absent,
}

/// Finds `FAIL_ON_LEGACY: true` (YAML env) or `FAIL_ON_LEGACY=true` (shell) in a
/// workflow; the last setting wins, as it would in the environment. Values mean what
/// legacy-sampler reads them as ([`legacy_sampler::parse_fail_on_legacy`]).
fn guard_setting(text: &str) -> GuardSetting {
    let mut setting = GuardSetting::Absent;
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let code = line.split(" #").next().unwrap_or(line);
        let Some(at) = code.find("FAIL_ON_LEGACY") else {
            continue;
        };
        let rest = code[at + "FAIL_ON_LEGACY".len()..].trim_start();
        let Some(value) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('=')) else {
            continue;
        };
        let value = value
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_matches(['"', '\''])
            .to_owned();
        let line = index + 1;
        setting = if legacy_sampler::parse_fail_on_legacy(&value) == Ok(true) {
            GuardSetting::On { line }
        } else if value.contains('$') {
            GuardSetting::Indirect { line, value }
        } else {
            GuardSetting::Off { line, value }
        };
    }
    setting
}

/// The step.
pub(super) fn step(args: &CutoverArgs) -> Finding {
    if args.workflows.is_empty() {
        return Finding::fail(
            "input_missing",
            "no --workflow given: the CI guard cannot be checked",
            json!({}),
        );
    }
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for path in &args.workflows {
        let text = match read_input(path, "workflow") {
            Ok(text) => text,
            Err(finding) => return finding,
        };
        let shown = path.display();
        match guard_setting(&text) {
            GuardSetting::On { line } => {
                files.push(json!({"file": path, "line": line, "setting": "true"}))
            }
            GuardSetting::Off { line, value } => {
                problems.push(format!("{shown}:{line} sets FAIL_ON_LEGACY={value}"))
            }
            GuardSetting::Indirect { line, value } => problems.push(format!(
                "{shown}:{line} sets FAIL_ON_LEGACY from {value}, which cannot be verified here"
            )),
            GuardSetting::Absent => problems.push(format!("{shown} does not set FAIL_ON_LEGACY")),
        }
    }
    let samples = args.live_samples.to_string();
    let url = args.summary_url();
    let gate = invoke(
        "legacy-sampler",
        legacy_sampler::run,
        &["--fail-on-legacy", "--samples", "off", "-n", &samples, &url],
        b"",
    );
    let gate_ok = gate.exit == Exit::Ok;
    if !gate_ok {
        let why = gate
            .last("summary")
            .and_then(|r| r.message.clone())
            .unwrap_or_else(|| gate.stderr.trim().to_owned());
        problems.push(format!("the legacy gate fails against {url} now: {why}"));
    }
    let data = json!({ "workflows": files, "gate_passed": gate_ok });
    let finding = if problems.is_empty() {
        Finding::pass(
            format!("FAIL_ON_LEGACY=true in every workflow, and the gate passes against {url}"),
            data,
        )
    } else if files.len() < args.workflows.len() {
        Finding::fail("guard_off", problems.join("; "), data)
    } else {
        Finding::fail("legacy_gate_fails", problems.join("; "), data)
    };
    finding.with_evidence(gate)
}
