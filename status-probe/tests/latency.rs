//! Across a real link the cost of a run is its round trips. Through the latency proxy
//! (test equipment: 100 ms round trips on loopback, a connection costing one more) a
//! full run with the default concurrency asks its independent requests at once and
//! finishes well under the sequential order of `--concurrency 1`, writing the same
//! records in the same order and asking the stack exactly as many requests.
//!
//! The ratio is asserted loosely (at least 2x; about 3x is expected) since machines
//! are noisy; the figures themselves are the benchmark's (`cargo xtask bench
//! status-probe`).

mod common;

use std::time::Duration;

use common::{probe, stack_with, Run, BACKEND_ONLY, BOTH_LAYERS, EVIL};
use day2_tests::{BackendConfig, EdgeConfig, LatencyProxy};
use serde_json::Value;

const RTT: Duration = Duration::from_millis(100);

/// Every check, two allowed origins (the legacy path served, so each gets three
/// requests) and one that must be refused: 12 requests in the sequential order.
fn full_run(url: &str, concurrency: &str) -> Run {
    probe(&[
        "--url",
        url,
        "--chat-path",
        "/api/chat",
        "--origin",
        BOTH_LAYERS,
        "--origin",
        BACKEND_ONLY,
        "--disallowed-origin",
        EVIL,
        "--concurrency",
        concurrency,
    ])
}

/// What identifies a record in the run's order (times and durations aside).
fn shape(run: &Run) -> Vec<(String, String, String, Option<String>, Value)> {
    run.records
        .iter()
        .map(|r| {
            (
                r.check.clone(),
                r.target.clone(),
                format!("{:?}", r.verdict),
                r.reason.clone(),
                r.get("origin").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

#[test]
fn a_full_run_at_100ms_is_at_least_twice_as_fast_as_the_sequential_order() {
    // No rate limit: four full runs would exceed the edge's burst on /api/.
    let stack = stack_with(
        BackendConfig::default(),
        EdgeConfig {
            rate_limit: false,
            ..EdgeConfig::default()
        },
    );
    let proxy = LatencyProxy::in_front_of(&stack.url(), RTT).expect("latency proxy starts");
    let url = proxy.url();
    let mut sequential = Vec::new();
    let mut concurrent = Vec::new();
    // Alternating, twice each; the best of each counts (noise only adds time).
    for _ in 0..2 {
        let before = stack.backend.request_count();
        let one = full_run(&url, "1");
        let asked_one = stack.backend.request_count() - before;
        let before = stack.backend.request_count();
        let six = full_run(&url, "6");
        let asked_six = stack.backend.request_count() - before;
        assert_eq!(one.code, six.code, "{one:?}\n{six:?}");
        assert_eq!(shape(&one), shape(&six), "{one:?}\n{six:?}");
        assert_eq!(
            asked_one, asked_six,
            "the concurrent run asks the backend as often as the sequential one"
        );
        assert!(one.records.len() >= 12, "{one:?}");
        sequential.push(one.elapsed);
        concurrent.push(six.elapsed);
    }
    let (one, six) = (
        sequential.iter().min().copied().unwrap_or_default(),
        concurrent.iter().min().copied().unwrap_or_default(),
    );
    let ratio = one.as_secs_f64() / six.as_secs_f64();
    // The sequential order pays at least a round trip per request.
    assert!(one >= RTT * 12, "sequential {one:?}");
    assert!(
        ratio >= 2.0,
        "through {RTT:?} round trips, concurrent {six:?} is only {ratio:.2}x faster than sequential {one:?} ({} connections)",
        proxy.connections()
    );
}

#[test]
fn the_concurrency_is_range_checked() {
    for bad in ["0", "65", "many"] {
        let run = probe(&["--concurrency", bad, "ready"]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("--concurrency"), "{run:?}");
        assert!(run.stderr.contains("from 1 to 64"), "{run:?}");
    }
}
