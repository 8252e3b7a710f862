//! The Markdown report a person attaches to the change: each step, its verdict, its
//! evidence, with timestamps.

use std::fmt::Write as _;

use day2_core::record::{Record, Verdict};

use super::{CutoverArgs, StepOutcome};

fn mark(verdict: Verdict) -> String {
    verdict.name().to_uppercase()
}

/// Markdown text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(args: &CutoverArgs, outcomes: &[StepOutcome], verdict: &Record) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Legacy endpoint cutover: {}\n",
        mark(verdict.verdict)
    );
    let _ = writeln!(out, "- target: `{}`", args.url);
    let _ = writeln!(
        out,
        "- legacy path: `{}` (prefix `{}`)",
        args.legacy_path, args.legacy_prefix
    );
    let _ = writeln!(out, "- finished: {}", verdict.ts);
    if let Some(message) = &verdict.message {
        let _ = writeln!(out, "- verdict: {message}");
    }
    let _ = writeln!(
        out,
        "\n| step | verdict | reason | checked at | took |\n|---|---|---|---|---|"
    );
    for outcome in outcomes {
        let record = &outcome.record;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.0} ms |",
            outcome.step.name(),
            mark(record.verdict),
            record.reason.as_deref().unwrap_or(""),
            record.ts,
            record.duration_ms.unwrap_or(0.0)
        );
    }
    for outcome in outcomes {
        let record = &outcome.record;
        let _ = writeln!(
            out,
            "\n## {}: {}\n",
            outcome.step.name(),
            mark(record.verdict)
        );
        if let Some(checks) = record.data.get("checks").and_then(|c| c.as_str()) {
            let _ = writeln!(out, "Checks: {checks}\n");
        }
        if let Some(message) = &record.message {
            let _ = writeln!(out, "Finding: {message}\n");
        }
        if !outcome.evidence.is_empty() {
            let _ = writeln!(
                out,
                "| tool | check | target | verdict | reason | at |\n|---|---|---|---|---|---|"
            );
            for evidence in &outcome.evidence {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    evidence.tool,
                    evidence.check,
                    cell(&evidence.target),
                    mark(evidence.verdict),
                    evidence.reason.as_deref().unwrap_or(""),
                    evidence.ts
                );
            }
        }
        if let Some(data) = record
            .data
            .get("evidence")
            .filter(|d| d.as_object().is_some_and(|o| !o.is_empty()))
        {
            let pretty = serde_json::to_string_pretty(data).unwrap_or_default();
            let _ = writeln!(
                out,
                "\n<details><summary>evidence</summary>\n\n```json\n{pretty}\n```\n</details>"
            );
        }
    }
    out
}
