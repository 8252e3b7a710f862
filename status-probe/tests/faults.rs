//! Faults injected on the backend (the probe pointed at its port, so nginx does not
//! cover for it): resets, stalls, 5xx, invalid JSON and oversized bodies. Every check
//! ends within its timeout with a fail or error record and a reason; nothing panics.

mod common;

use std::time::Duration;

use common::*;
use day2_core::record::Verdict;
use day2_tests::Fault;

fn under(fault: Fault, checks: &[&str]) -> Run {
    let stack = stack();
    stack.backend.inject("/", fault.clone());
    let url = stack.backend.url();
    let mut args = vec![
        "--url",
        &url,
        "--http-timeout",
        "1s",
        "--connect-timeout",
        "1s",
        "--max-body",
        "65536",
        "--origin",
        BOTH_LAYERS,
    ];
    args.extend_from_slice(checks);
    let run = probe(&args);
    assert_eq!(run.code, 1, "{fault:?}: {run:?}");
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    // Each request is bounded by --http-timeout: ~7 requests at most here.
    assert!(run.elapsed < Duration::from_secs(20), "{fault:?}: {run:?}");
    for record in &run.records {
        // Each timed request ends within its 1 s deadline (with slack for a loaded machine).
        let ms = record.duration_ms.unwrap_or(0.0);
        assert!(ms < 5000.0, "{fault:?}: {} took {ms} ms", record.check);
    }
    for check in checks {
        let records: Vec<_> = run
            .records
            .iter()
            .filter(|r| r.check == *check || r.check.starts_with(&format!("{check}.")))
            .collect();
        assert!(!records.is_empty(), "{fault:?}: no {check} record: {run:?}");
    }
    run
}

/// Every request record carries the fault's verdict and reason; the roll-ups that
/// compare answers (`cors.layers`) got none to compare, so they are errors too, never
/// passes.
fn every(run: &Run, verdict: Verdict, reason: &str) {
    for record in &run.records {
        let expected = if record.check == "cors.layers" {
            (Verdict::Error, Some("not_checked"))
        } else {
            (verdict, Some(reason))
        };
        assert_eq!(
            (record.verdict, record.reason.as_deref()),
            expected,
            "{run:?}"
        );
    }
}

const ALL: [&str; 5] = ["ready", "deps", "summary", "cors", "legacy"];
const BODIES: [&str; 4] = ["ready", "deps", "summary", "legacy"];

#[test]
fn resets_are_connection_errors() {
    every(
        &under(Fault::Reset, &ALL),
        Verdict::Error,
        "connection_reset",
    );
}

#[test]
fn stalls_end_with_a_timeout() {
    every(&under(Fault::Stall, &ALL), Verdict::Error, "timeout");
}

#[test]
fn server_errors_are_unexpected_statuses_and_no_cors_verdict() {
    let run = under(Fault::Status(500), &ALL);
    for check in BODIES {
        assert_eq!(
            verdict(run.one(check)),
            (Verdict::Fail, Some("unexpected_status")),
            "{run:?}"
        );
    }
    // A 5xx says the server failed, not what its CORS policy is: "could not check".
    for check in ["cors.preflight", "cors.summary"] {
        let record = run.for_origin(check, BOTH_LAYERS);
        assert_eq!(
            verdict(record),
            (Verdict::Error, Some("server_error")),
            "{run:?}"
        );
        assert_eq!(record.data["status"], 500);
        assert!(record.message.as_deref().unwrap().contains("HTTP 500"));
    }
    let layers = run.for_origin("cors.layers", BOTH_LAYERS);
    assert_eq!(verdict(layers), (Verdict::Error, Some("not_checked")));
    assert_eq!(layers.data["unchecked"].as_array().unwrap().len(), 2);
}

#[test]
fn invalid_json_is_not_json() {
    let run = under(Fault::InvalidJson, &BODIES);
    for check in ["ready", "deps", "summary"] {
        assert_eq!(
            verdict(run.one(check)),
            (Verdict::Fail, Some("not_json")),
            "{run:?}"
        );
    }
    // The backend port answers without nginx's header whatever the body.
    assert_eq!(
        verdict(run.one("legacy")),
        (Verdict::Fail, Some("status_path_header_missing"))
    );
}

#[test]
fn bodies_beyond_the_cap_are_refused() {
    let run = under(Fault::Oversized(1 << 20), &BODIES);
    every(&run, Verdict::Error, "body_too_large");
}

#[test]
fn a_stalled_wait_times_out_with_124() {
    let stack = stack();
    stack.backend.inject("/", Fault::Stall);
    let run = probe(&[
        "--url",
        &stack.backend.url(),
        "--wait",
        "--http-timeout",
        "500ms",
        "--interval",
        "100ms",
        "--timeout",
        "1s",
    ]);
    assert_eq!(run.code, 124, "{run:?}");
    assert!(run.elapsed < Duration::from_secs(10), "{run:?}");
    assert_eq!(
        run.all("wait.attempt")[0].reason.as_deref(),
        Some("timeout")
    );
}
