//! Live mode against the demo stack: the backend simulator behind a real nginx.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::{sampler, sampler_with, stack};
use day2_core::record::Verdict;
use day2_tests::Fault;
use serde_json::json;

const NGINX_ALLOWED_ORIGIN: &str = "https://assistant.example.org";

#[test]
fn mixed_api_and_legacy_traffic_is_counted_exactly() {
    let stack = stack();
    let api = format!("{}/api/status/summary", stack.url());
    let legacy = format!("{}/status/summary", stack.url());
    let run = sampler(&[&api, &legacy, "-n", "40", "-c", "4"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.verdict(), Verdict::Info);
    assert_eq!(run.reason(), Some("counted"));
    assert_eq!(run.data("values"), &json!({"api": 20, "legacy": 20}));
    assert_eq!(run.data("statuses"), &json!({"200": 40}));
    assert_eq!(run.data("legacy_ratio"), 0.5);
    for key in ["requested", "sent", "answered"] {
        assert_eq!(run.data(key), 40, "{key}");
    }
    for key in ["failed", "missed", "skipped"] {
        assert_eq!(run.data(key), 0, "{key}");
    }
    assert_eq!(run.data("by_url")[&legacy]["values"], json!({"legacy": 20}));
    assert!(run.data("first_legacy").is_string() && run.data("last_legacy").is_string());
    assert!(run.data("latency_ms")["p99"].as_f64().is_some());
    assert_eq!(run.data("gate")["verdict"], "none");
    assert_eq!(run.data("insecure"), false);
    // One record per sample, each sequence number once, classified by its URL.
    let samples = run.checks("sample");
    assert_eq!(samples.len(), 40);
    let mut seqs: Vec<u64> = samples
        .iter()
        .map(|r| r.data["seq"].as_u64().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..40).collect::<Vec<_>>());
    for sample in samples {
        let expected = if sample.target == legacy {
            "legacy"
        } else {
            "api"
        };
        assert_eq!(sample.reason.as_deref(), Some(expected));
        assert_eq!(sample.data["value"], expected);
        assert_eq!(sample.data["status"], 200);
    }
    // The simulator saw exactly the requests the summary counts.
    assert_eq!(stack.backend.hits("/status/summary"), 20);
    assert_eq!(stack.backend.hits("/api/status/summary"), 20);
}

#[test]
fn an_origin_nginx_allows_loses_the_header_and_shows_as_missing() {
    let stack = stack();
    let legacy = format!("{}/status/summary", stack.url());
    let run = sampler(&[&legacy, "-n", "6", "--origin", NGINX_ALLOWED_ORIGIN]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.data("values"), &json!({"missing": 6}));
    assert_eq!(run.data("origin"), NGINX_ALLOWED_ORIGIN);
    assert!(run
        .checks("sample")
        .iter()
        .all(|r| r.reason.as_deref() == Some("missing")));
    // Without an Origin (the default) the same path says legacy; the header name is
    // matched whatever its case.
    let run = sampler(&[
        &legacy,
        "-n",
        "3",
        "--header",
        "x-STATUS-path",
        "--insecure",
    ]);
    assert_eq!(run.data("values"), &json!({"legacy": 3}));
    assert_eq!(run.data("insecure"), true);
}

#[test]
fn any_other_header_value_is_counted_as_itself() {
    let stack = stack();
    let url = format!("{}/api/status/llm", stack.url());
    let run = sampler(&[&url, "-n", "2", "--header", "Content-Type"]);
    assert_eq!(run.data("values"), &json!({"application/json": 2}));
    assert!(run
        .checks("sample")
        .iter()
        .all(|r| r.reason.as_deref() == Some("other_value")));
}

#[test]
fn the_gate_exits_1_at_the_first_legacy_sample() {
    let stack = stack();
    let api = format!("{}/api/status/summary", stack.url());
    let legacy = format!("{}/status/summary", stack.url());
    // Sample 0 is api, sample 1 legacy: the run stops there.
    let run = sampler(&[&api, &legacy, "-n", "100", "--fail-on-legacy"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.verdict(), Verdict::Fail);
    assert_eq!(run.reason(), Some("legacy_seen"));
    assert_eq!(run.data("answered"), 2);
    assert_eq!(run.data("skipped"), 98);
    assert_eq!(run.data("requested"), 100);
    assert_eq!(run.data("stopped_by_gate"), true);
    assert_eq!(run.data("gate")["checks"][0]["gate"], "fail_on_legacy");
    assert!(run
        .summary()
        .message
        .as_deref()
        .unwrap()
        .contains("fail_on_legacy"));
    let samples = run.checks("sample");
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[1].verdict, Verdict::Fail);
    assert_eq!(samples[1].reason.as_deref(), Some("legacy"));
    assert_eq!(stack.backend.hits("/status/summary"), 1);

    // The guide's CI switch works the same way.
    let run = sampler_with(&[&legacy, "-n", "50"], &[("FAIL_ON_LEGACY", "true")], b"");
    assert_eq!((run.code, run.data("answered")), (1, &json!(1)));
    // And with only api traffic the gate passes.
    let run = sampler_with(&[&api, "-n", "5"], &[("FAIL_ON_LEGACY", "true")], b"");
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.verdict(), Verdict::Pass);
    assert!(run
        .summary()
        .message
        .as_deref()
        .unwrap()
        .contains("no legacy hit"));
}

/// FAIL_ON_LEGACY has one meaning (legacy_sampler::parse_fail_on_legacy, shared with
/// the cutover's guard and examples/ci/status-checks.sh): the empty string is unset,
/// as GitHub Actions passes an unset `${{ vars.FAIL_ON_LEGACY }}`.
#[test]
fn fail_on_legacy_reads_the_same_values_as_ci() {
    let stack = stack();
    let legacy = format!("{}/status/summary", stack.url());
    for value in ["true", "TRUE", "1", "yes", "On"] {
        let run = sampler_with(&[&legacy, "-n", "2"], &[("FAIL_ON_LEGACY", value)], b"");
        assert_eq!(run.code, 1, "FAIL_ON_LEGACY={value:?}: {run:#?}");
        assert_eq!(run.reason(), Some("legacy_seen"), "{value:?}");
    }
    for value in ["", "false", "0", "No", "OFF"] {
        let run = sampler_with(&[&legacy, "-n", "2"], &[("FAIL_ON_LEGACY", value)], b"");
        assert_eq!(run.code, 0, "FAIL_ON_LEGACY={value:?}: {run:#?}");
        assert_eq!(run.data("answered"), 2, "{value:?}");
    }
    let run = sampler_with(&[&legacy, "-n", "2"], &[("FAIL_ON_LEGACY", "maybe")], b"");
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("FAIL_ON_LEGACY=\"maybe\""),
        "{}",
        run.stderr
    );
    assert!(run.records.is_empty());
}

#[test]
fn soft_gates_judge_the_count_and_the_ratio() {
    let stack = stack();
    let api = format!("{}/api/status/summary", stack.url());
    let legacy = format!("{}/status/summary", stack.url());
    let urls = [
        api.as_str(),
        legacy.as_str(),
        "-n",
        "20",
        "-c",
        "2",
        "--samples",
        "off",
    ];
    let with = |extra: &[&str]| sampler(&[&urls[..], extra].concat());

    let run = with(&["--max-legacy-count", "5"]);
    assert_eq!((run.code, run.reason()), (1, Some("legacy_count_exceeded")));
    assert_eq!(
        run.records.len(),
        1,
        "--samples off writes the summary only"
    );
    let run = with(&["--max-legacy-ratio", "0.4"]);
    assert_eq!((run.code, run.reason()), (1, Some("legacy_ratio_exceeded")));
    let run = with(&["--max-legacy-ratio", "0.5", "--max-legacy-count", "10"]);
    assert_eq!((run.code, run.verdict()), (0, Verdict::Pass));
    assert_eq!(run.data("gate")["verdict"], "pass");
    assert_eq!(run.data("gate")["checks"].as_array().unwrap().len(), 2);
}

#[test]
fn pacing_at_a_rate_holds_within_ten_percent() {
    let stack = stack();
    let url = format!("{}/api/status/summary", stack.url());
    let run = sampler(&[&url, "--rate", "40/s", "-n", "60", "-c", "2"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let schedule = run.data("schedule");
    assert_eq!(schedule["target_rate"], 40.0);
    let achieved = schedule["achieved_rate"].as_f64().unwrap();
    assert!(
        (achieved - 40.0).abs() <= 4.0,
        "achieved {achieved}/s: {schedule}"
    );
    // 60 samples at 40/s are due over 1.475 s; the whole run stays near that.
    let ran = run.summary().duration_ms.unwrap();
    assert!(
        (1475.0 * 0.9..=1475.0 * 1.1 + 500.0).contains(&ran),
        "ran {ran} ms"
    );
    assert!(schedule["lateness_ms"]["p50"].as_f64().is_some());

    // --for with --every plans its own count.
    let run = sampler(&[&url, "--for", "500ms", "--every", "100ms"]);
    assert_eq!(
        (run.data("requested"), run.data("answered")),
        (&json!(5), &json!(5))
    );
}

#[test]
fn a_slow_answer_does_not_stretch_a_timed_run_and_late_samples_are_missed() {
    let stack = stack();
    stack.backend.inject(
        "/api/status/summary",
        Fault::Delay(Duration::from_millis(1200)),
    );
    let url = format!("{}/api/status/summary", stack.backend.url());
    let run = sampler(&[&url, "--for", "600ms", "--every", "100ms", "-c", "1"]);
    // The one sample sent is cut off at the end of --for, 600 ms before its answer:
    // no answer at all is no evidence (exit 1), not a pass.
    assert_eq!(
        (run.code, run.reason()),
        (1, Some("no_responses")),
        "{run:#?}"
    );
    assert_eq!(run.data("requested"), 6);
    assert_eq!(run.data("sent"), 1);
    assert_eq!(run.data("unfinished"), 1);
    assert_eq!(run.data("answered"), 0);
    assert_eq!(run.data("failed"), 0);
    assert_eq!(run.data("missed"), 5);
    // Missed samples are a count in the summary, not a record each.
    let samples = run.checks("sample");
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].reason.as_deref(), Some("unfinished"));
    assert!(
        samples[0].data["latency_ms"].as_f64().unwrap() < 1200.0,
        "{samples:#?}"
    );
    assert!(run.elapsed < Duration::from_secs(10));
}

/// Issue 18 (LEGACY's left-out item): a sample in flight when `--for` ends is capped
/// by the time left (day2-core's `request_within`), not waited for up to `--timeout`.
/// Before, this run took the 30 s of `--timeout` for each stalled sample in flight.
#[test]
fn samples_in_flight_are_cut_at_the_end_of_for_not_at_their_timeout() {
    let stack = stack();
    let backend = stack.backend.url();
    stack.backend.inject("/stall", Fault::Stall);
    let ok = format!("{backend}/api/status/summary");
    let stall = format!("{backend}/stall/summary");
    let run = sampler(&[
        &ok,
        &stall,
        "--for",
        "1s",
        "--every",
        "100ms",
        "-c",
        "2",
        "--timeout",
        "30s",
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.elapsed < Duration::from_secs(10), "{run:#?}");
    let summary = run.summary();
    assert!(summary.duration_ms.unwrap() < 5_000.0, "{summary:#?}");
    // Both workers were held by a stalled sample until the end: each is cut off, and
    // counted as unfinished, not as a server timeout.
    assert_eq!(run.data("unfinished"), 2, "{run:#?}");
    assert_eq!(run.data("failed"), 0);
    assert_eq!(run.data("errors"), &json!({}));
    assert_eq!(run.data("by_url")[&stall]["unfinished"], 2);
    let answered = run.data("answered").as_u64().unwrap();
    assert!(answered >= 1, "{run:#?}");
    assert_eq!(
        run.data("requested").as_u64().unwrap(),
        answered + 2 + run.data("missed").as_u64().unwrap()
    );
    let cut: Vec<_> = run
        .checks("sample")
        .into_iter()
        .filter(|r| r.reason.as_deref() == Some("unfinished"))
        .collect();
    assert_eq!(cut.len(), 2);
    for record in cut {
        assert_eq!(record.target, stall);
        assert_eq!(record.verdict, Verdict::Info);
        assert!(record.message.as_deref().unwrap().contains("--for ended"));
        assert!(record.data["latency_ms"].as_f64().unwrap() < 5_000.0);
    }
    // The latency percentiles are of answers only, not of the cut-off waits.
    assert!(
        run.data("latency_ms")["max"].as_f64().unwrap() < 900.0,
        "{run:#?}"
    );
}

#[test]
fn resets_and_stalls_are_counted_as_errors_without_stopping_the_run() {
    let stack = stack();
    let backend = stack.backend.url();
    stack.backend.inject("/reset", Fault::Reset);
    stack.backend.inject("/stall", Fault::Stall);
    let ok = format!("{backend}/api/status/summary");
    let reset = format!("{backend}/reset/summary");
    let stall = format!("{backend}/stall/summary");
    let run = sampler(&[
        &ok,
        &reset,
        &stall,
        "-n",
        "9",
        "-c",
        "3",
        "--timeout",
        "700ms",
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.data("answered"), 3);
    assert_eq!(run.data("failed"), 6);
    assert_eq!(
        run.data("errors"),
        &json!({"connection_reset": 3, "timeout": 3})
    );
    // The backend itself sends no X-Status-Path (nginx adds it).
    assert_eq!(run.data("values"), &json!({"missing": 3}));
    let warned: Vec<_> = run
        .checks("sample")
        .into_iter()
        .filter(|r| r.verdict == Verdict::Warn)
        .collect();
    assert_eq!(warned.len(), 6);
    assert!(warned.iter().all(|r| r.message.is_some()));
}

#[test]
fn a_target_that_never_answers_is_an_error() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}/api/status/summary");
    let run = sampler(&[&url, "-n", "3"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.verdict(), Verdict::Error);
    assert_eq!(run.reason(), Some("no_responses"));
    assert_eq!(run.data("errors"), &json!({"connection_refused": 3}));
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        &["-n", "0"][..],
        &["--rate", "fast"],
        &["--rate", "5/s", "--every", "1s"],
        &["--quiet-for", "24h"],
        &["--log", "x.log", "http://127.0.0.1:1/"],
        &["--max-legacy-ratio", "2"],
        &["-c", "0"],
    ] {
        let run = sampler(args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(run.records.is_empty());
        assert!(!run.stderr.is_empty());
    }
}
