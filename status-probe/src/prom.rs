//! The Prometheus text exposition of a run (`--format prometheus`, `--textfile`):
//! the guide's `status_ready{service="backend"} 0|1`, the path as a labelled gauge,
//! model presence, synthetic warming, time spent warming, the build, one gauge per
//! check result (labelled by check, target and origin only, so its series stay
//! stable) and an info gauge with the verdict and reason of each check that did not
//! pass. The textfile is written atomically (a temp file in the same directory, then a
//! rename) so node_exporter never reads half a file.

use std::fmt::Write as _;

pub use day2_core::prom::write_textfile;
use day2_core::prom::{escape, gauge_family as family};

use day2_core::{Record, Verdict};

use crate::output::Facts;
use crate::summary::PathClass;

fn flag(value: bool) -> u8 {
    u8::from(value)
}

/// Records that describe the run's progress rather than a result are not exported.
fn exported(record: &Record) -> bool {
    !matches!(
        record.check.as_str(),
        "wait.attempt" | "wait.transition" | "tls"
    )
}

pub fn render(service: &str, records: &[Record], facts: &Facts) -> String {
    let service = escape(service);
    let summary = facts.summary.as_ref();
    let mut out = String::new();
    family(
        &mut out,
        "status_reachable",
        "Whether the status summary answered with a readable JSON body.",
    );
    let _ = writeln!(
        out,
        "status_reachable{{service=\"{service}\"}} {}",
        flag(summary.is_some())
    );
    family(
        &mut out,
        "status_ready",
        "Whether the status summary reports ready=true.",
    );
    let ready = summary.is_some_and(|s| s.ready == Some(true));
    let _ = writeln!(out, "status_ready{{service=\"{service}\"}} {}", flag(ready));
    family(
        &mut out,
        "status_llm_path",
        "The summary's llm.path: 1 on the current path, 0 on the others.",
    );
    for class in PathClass::ALL {
        let current = summary.is_some_and(|s| s.path_class == class);
        let _ = writeln!(
            out,
            "status_llm_path{{service=\"{service}\",path=\"{}\"}} {}",
            class.name(),
            flag(current)
        );
    }
    family(
        &mut out,
        "status_model_present",
        "Whether the primary model is present.",
    );
    let present = summary.is_some_and(|s| s.model_present == Some(true));
    let _ = writeln!(
        out,
        "status_model_present{{service=\"{service}\"}} {}",
        flag(present)
    );
    family(
        &mut out,
        "status_synthetic_warming",
        "Whether nginx answered its synthetic warming body (the backend is failing).",
    );
    let synthetic = summary.is_some_and(|s| s.synthetic);
    let _ = writeln!(
        out,
        "status_synthetic_warming{{service=\"{service}\"}} {}",
        flag(synthetic)
    );
    // Unknown when no summary was read: no sample rather than a 0 that reads as "no
    // warming".
    if let Some(seconds) = facts.warming_seconds {
        family(
            &mut out,
            "status_warming_seconds",
            "Time to ready: from the stack's start (or the first warming sample) to ready and primary, or until now.",
        );
        let _ = writeln!(
            out,
            "status_warming_seconds{{service=\"{service}\"}} {seconds}"
        );
    }
    if let Some(sha) = summary.and_then(|s| s.build_sha.as_deref()) {
        family(
            &mut out,
            "status_build_info",
            "The deployed build, as build.sha in the summary.",
        );
        let _ = writeln!(
            out,
            "status_build_info{{service=\"{service}\",sha=\"{}\"}} 1",
            escape(sha)
        );
    }
    family(
        &mut out,
        "status_tls_verification_disabled",
        "1 when --insecure turned TLS certificate verification off for this probe.",
    );
    let _ = writeln!(
        out,
        "status_tls_verification_disabled{{service=\"{service}\"}} {}",
        flag(facts.insecure)
    );
    family(
        &mut out,
        "status_check_ok",
        "1 when a check passed (or only warned), 0 when it failed or could not run.",
    );
    // Labels that name what was checked and nothing about the outcome, so a series
    // lives as long as the check does; a later record of the same series wins. The
    // verdict and reason go to status_check_info, beside it.
    let mut series: Vec<(String, &Record)> = Vec::new();
    for record in records.iter().filter(|r| exported(r)) {
        let origin = record.get("origin").and_then(|o| o.as_str()).unwrap_or("");
        let labels = format!(
            "check=\"{}\",target=\"{}\",origin=\"{}\"",
            escape(&record.check),
            escape(&record.target),
            escape(origin)
        );
        series.retain(|(existing, _)| *existing != labels);
        series.push((labels, record));
    }
    for (labels, record) in &series {
        let ok = !matches!(record.verdict, Verdict::Fail | Verdict::Error);
        let _ = writeln!(out, "status_check_ok{{{labels}}} {}", flag(ok));
    }
    let not_passed: Vec<_> = series
        .iter()
        .filter(|(_, record)| record.verdict != Verdict::Pass)
        .collect();
    if !not_passed.is_empty() {
        family(
            &mut out,
            "status_check_info",
            "Always 1: the verdict and reason of each check that did not pass.",
        );
    }
    for (labels, record) in not_passed {
        let _ = writeln!(
            out,
            "status_check_info{{{labels},verdict=\"{}\",reason=\"{}\"}} 1",
            record.verdict.name(),
            escape(record.reason.as_deref().unwrap_or(""))
        );
    }
    out
}
