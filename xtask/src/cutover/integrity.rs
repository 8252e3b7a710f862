//! Step 4, integrity: sri-check over the SRI manifest and the integrity attributes
//! of the HTML pages.

use std::path::Path;

use day2_core::record::Verdict;
use day2_core::Exit;
use serde_json::json;

use super::{invoke_owned, CutoverArgs, Finding};

/// The step.
pub(super) fn step(args: &CutoverArgs) -> Finding {
    if args.manifest.is_none() && args.html.is_empty() {
        return Finding::fail(
            "input_missing",
            "neither --manifest nor --html given: integrity cannot be checked",
            json!({}),
        );
    }
    let mut finding = Finding::pass("", json!({}));
    let mut notes = Vec::new();
    let mut failed = Vec::new();
    let mut runs = Vec::new();
    if let Some(manifest) = &args.manifest {
        let run = invoke_owned(
            "sri-check",
            sri_check::run,
            &[
                "verify".into(),
                "--manifest".into(),
                manifest.display().to_string(),
            ],
        );
        let label = format!("manifest {}", manifest.display());
        if run.exit == Exit::Ok {
            notes.push(label)
        } else {
            failed.push((label, run.exit))
        }
        runs.push(run);
    }
    if !args.html.is_empty() {
        let mut html_args: Vec<String> = vec!["html".into()];
        html_args.extend(args.html.iter().map(|p| p.display().to_string()));
        if let Some(manifest) = &args.manifest {
            let root = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
            html_args.extend([
                "--manifest".into(),
                manifest.display().to_string(),
                "--root".into(),
                root.display().to_string(),
            ]);
        }
        let run = invoke_owned("sri-check", sri_check::run, &html_args);
        let label = format!("{} HTML page(s)", args.html.len());
        if run.exit == Exit::Ok {
            notes.push(label)
        } else {
            failed.push((label, run.exit))
        }
        runs.push(run);
    }
    if failed.is_empty() {
        finding.message = format!("clean: {}", notes.join(", "));
    } else {
        let reason = if failed.iter().any(|(_, exit)| *exit == Exit::Usage) {
            "integrity_unreadable"
        } else {
            "integrity_drift"
        };
        let failing: Vec<String> = runs
            .iter()
            .flat_map(|run| run.records.iter())
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
            .map(|r| format!("{} {}", r.target, r.reason.as_deref().unwrap_or("")))
            .collect();
        let names: Vec<&str> = failed.iter().map(|(label, _)| label.as_str()).collect();
        finding = Finding::fail(
            reason,
            format!("{}: {}", names.join(", "), failing.join("; ")),
            json!({ "failing": failing }),
        );
    }
    for run in runs {
        finding = finding.with_evidence(run);
    }
    finding
}
