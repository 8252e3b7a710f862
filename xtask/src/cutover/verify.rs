//! Step 6, verify (after the deploy): only `api` sampled, the legacy path gone,
//! status-probe green, and build.sha the one released.

use day2_core::record::{Record, Verdict};
use day2_core::{Exit, Problem};
use legacy_sampler::LiveSummary;
use serde_json::json;
use status_probe::{CheckReason, Freshness, SummaryView};

use super::{CutoverArgs, Finding};
use crate::tools::invoke;

/// The step.
pub(super) fn step(args: &CutoverArgs) -> Finding {
    let mut problems: Vec<Problem> = Vec::new();
    let url = args.summary_url();
    let samples = args.live_samples.to_string();
    let sampled = invoke(
        "legacy-sampler",
        legacy_sampler::run,
        &["--samples", "off", "-n", &samples, &url],
        b"",
    );
    let values = match sampled.last("summary").map(Record::payload::<LiveSummary>) {
        Some(Ok(summary)) => summary.values,
        Some(Err(problem)) => {
            problems.push(problem);
            Default::default()
        }
        None => Default::default(),
    };
    let only_api = !values.is_empty() && values.iter().all(|(k, n)| k == "api" || *n == 0);
    let values = json!(values);
    if !only_api {
        problems.push(Problem::new(
            "not_only_api",
            format!("sampled {url}: {values}, not only api"),
        ));
    }
    let legacy = invoke(
        "status-probe",
        status_probe::run,
        &[
            "--url",
            &args.url,
            "--legacy-path",
            &args.legacy_path,
            "--legacy-expect",
            "gone",
            "legacy",
        ],
        b"",
    );
    if legacy.exit != Exit::Ok {
        let record = legacy.last("legacy");
        let reason = record
            .and_then(|r| r.reason.clone())
            .unwrap_or_else(|| "legacy_check_failed".into());
        let trap = reason == CheckReason::LegacySpaFallback.as_str();
        problems.push(Problem::new(
            if trap {
                "legacy_spa_fallback"
            } else {
                "legacy_not_gone"
            },
            format!("{}{}: {reason}", args.url, args.legacy_path),
        ));
    }
    let mut probe_args = vec![
        "--url",
        args.url.as_str(),
        "--summary-path",
        args.summary_path.as_str(),
    ];
    let sha_source = match (&args.expect_sha, &args.release) {
        (Some(_), _) => None,
        (None, Some(_)) => Some(args.changelog.display().to_string()),
        (None, None) => None,
    };
    if let Some(changelog) = &sha_source {
        probe_args.extend(["--changelog", changelog.as_str()]);
    }
    probe_args.extend(["ready", "deps", "summary"]);
    let probe = invoke("status-probe", status_probe::run, &probe_args, b"");
    if probe.exit != Exit::Ok {
        let failing: Vec<String> = probe
            .records
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
            .map(|r| format!("{} {}", r.check, r.reason.as_deref().unwrap_or("")))
            .collect();
        problems.push(Problem::new("status_probe_red", failing.join(", ")));
    }
    let deployed = match probe.last("summary").map(SummaryView::of) {
        Some(Ok(view)) => view.and_then(|v| v.build_sha),
        Some(Err(problem)) => {
            problems.push(problem);
            None
        }
        None => None,
    };
    match (&args.expect_sha, &args.release) {
        (Some(expected), _) => {
            let matches = deployed.as_deref().is_some_and(|sha| {
                sha != "local"
                    && !sha.is_empty()
                    && (sha.starts_with(expected.as_str()) || expected.starts_with(sha))
            });
            if !matches {
                problems.push(Problem::new(
                    "build_sha_mismatch",
                    format!("build.sha is {deployed:?}, expected {expected}"),
                ));
            }
        }
        (None, Some(release)) => {
            let found = match probe.last("freshness").map(Record::payload::<Freshness>) {
                Some(Ok(freshness)) => freshness.release,
                Some(Err(problem)) => {
                    problems.push(problem);
                    None
                }
                None => None,
            };
            let same = found
                .as_deref()
                .is_some_and(|r| r.trim_start_matches('v') == release.trim_start_matches('v'));
            if !same {
                problems.push(Problem::new(
                    "build_sha_mismatch",
                    format!("build.sha {deployed:?} is release {found:?}, expected {release}"),
                ));
            }
        }
        (None, None) => problems.push(Problem::new(
            "input_missing",
            "neither --expect-sha nor --release: build.sha cannot be matched",
        )),
    }
    let data = json!({ "sampled_values": values, "build_sha": deployed });
    let finding = match problems.first() {
        None => Finding::pass(
            format!(
                "only api sampled, {} gone, probes green, build.sha {}",
                args.legacy_path,
                deployed.unwrap_or_default()
            ),
            data,
        ),
        Some(first) => {
            let all: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
            Finding::fail(first.reason(), all.join("; "), data)
        }
    };
    finding
        .with_evidence(sampled)
        .with_evidence(legacy)
        .with_evidence(probe)
}
