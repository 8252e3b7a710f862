//! `--wait` and the warming SLO against the demo stack: warming → primary with exit 0,
//! the deadline with 124, terminal states ending early with 1.

mod common;

use std::time::Duration;

use common::*;
use day2_core::record::Verdict;
use day2_tests::{BackendConfig, EdgeConfig, Fault, Provider};
use serde_json::json;
use status_probe::WaitAttempt;

fn warming_stack(after: Duration) -> day2_tests::DemoStack {
    stack_with(
        BackendConfig {
            warm_after: after,
            ..BackendConfig::default()
        },
        EdgeConfig::default(),
    )
}

use day2_tests::process::typed_payload as typed;

#[test]
fn a_wait_sees_warming_turn_into_primary_and_exits_0() {
    let stack = warming_stack(Duration::from_millis(1500));
    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--interval",
        "200ms",
        "--backoff",
        "1",
        "--timeout",
        "30s",
        "--warming-budget",
        "10m",
        "summary",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let attempts = run.all("wait.attempt");
    assert!(attempts.len() >= 2, "{run:?}");
    assert_eq!(attempts[0].verdict, Verdict::Info);
    assert_eq!(attempts[0].reason.as_deref(), Some("warming"));
    assert_eq!(attempts.last().unwrap().verdict, Verdict::Pass);
    let transition = run.one("wait.transition");
    assert_eq!(
        (&transition.data["from"], &transition.data["to"]),
        (&json!("warming"), &json!("primary"))
    );
    assert!(transition.data["at"].as_str().unwrap().ends_with('Z'));
    assert!(transition.data["elapsed_s"].as_f64().unwrap() >= 1.0);
    assert_eq!(run.one("wait").verdict, Verdict::Pass);
    let warming = run.one("warming");
    assert_eq!(warming.verdict, Verdict::Pass, "{run:?}");
    let seconds = warming.data["warming_seconds"].as_f64().unwrap();
    assert!((1.0..30.0).contains(&seconds), "{seconds}");
    // The checks run once the wait is over.
    assert_eq!(run.one("summary").verdict, Verdict::Pass);
}

#[test]
fn warming_beyond_the_budget_fails_even_when_it_ends() {
    let stack = warming_stack(Duration::from_millis(1200));
    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--interval",
        "200ms",
        "--timeout",
        "30s",
        "--warming-budget",
        "300ms",
        "summary",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.one("wait").verdict, Verdict::Pass);
    assert_eq!(
        verdict(run.one("warming")),
        (Verdict::Fail, Some("warming_over_budget"))
    );
}

#[test]
fn a_current_warming_inside_the_budget_warns_and_a_stack_started_long_ago_fails() {
    let stack = warming_stack(Duration::from_secs(3600));
    let run = probe(&["--url", &stack.url(), "--warming-budget", "10m", "summary"]);
    assert_eq!(run.code, 0, "{run:?}");
    let warming = run.one("warming");
    assert_eq!(
        verdict(warming),
        (Verdict::Warn, Some("warming_within_budget"))
    );
    assert_eq!(warming.data["warming_now"], true);

    let hour_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(3600);
    let run = probe(&[
        "--url",
        &stack.url(),
        "--warming-budget",
        "10m",
        "--started-at",
        &hour_ago.to_string(),
        "summary",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let warming = run.one("warming");
    assert_eq!(
        verdict(warming),
        (Verdict::Fail, Some("warming_over_budget"))
    );
    assert!(warming.data["warming_seconds"].as_f64().unwrap() >= 3600.0);
}

#[test]
fn a_wait_that_never_sees_primary_times_out_with_124() {
    let stack = warming_stack(Duration::from_secs(3600));
    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--interval",
        "100ms",
        "--timeout",
        "1s",
        "--warming-budget",
        "10m",
    ]);
    assert_eq!(run.code, 124, "{run:?}");
    assert!(run.elapsed < Duration::from_secs(10), "{run:?}");
    let wait = run.one("wait");
    assert_eq!(verdict(wait), (Verdict::Fail, Some("wait_timeout")));
    assert_eq!(wait.data["state"], "warming");
    assert_eq!(
        verdict(run.one("warming")),
        (Verdict::Warn, Some("warming_within_budget"))
    );
    // A wait that did not succeed runs no further checks.
    assert!(
        run.all("summary").is_empty() && run.all("ready").is_empty(),
        "{run:?}"
    );
}

#[test]
fn the_poll_defaults_come_from_the_backend_variables() {
    let stack = warming_stack(Duration::from_secs(3600));
    let run = probe_env(
        &["--url", &stack.url(), "--wait"],
        &[
            ("PRIMARY_POLL_INTERVAL_S", "0.1"),
            ("PRIMARY_POLL_MAX_S", "2"),
        ],
    );
    assert_eq!(run.code, 124, "{run:?}");
    assert!(run.elapsed < Duration::from_secs(15), "{run:?}");
    // The default 5 s interval would fit only two attempts (start, deadline) in 2 s.
    assert!(run.all("wait.attempt").len() >= 3, "{run:?}");
}

#[test]
fn a_synthetic_200_does_not_end_a_wait_for_primary_but_ends_a_wait_for_2xx() {
    let stack = stack();
    stack
        .backend
        .inject("/api/status/summary", Fault::Status(502));
    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--interval",
        "100ms",
        "--timeout",
        "1s",
    ]);
    assert_eq!(run.code, 124, "{run:?}");
    assert!(
        run.all("wait.attempt")
            .iter()
            .all(|a| a.reason.as_deref() == Some("synthetic_warming")),
        "{run:?}"
    );

    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--until",
        "2xx",
        "--timeout",
        "5s",
        "ready",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        typed::<WaitAttempt>(run.one("wait.attempt")).state,
        "synthetic_warming"
    );
    assert_eq!(run.one("wait").verdict, Verdict::Pass);
    assert_eq!(run.one("ready").verdict, Verdict::Pass);

    // A bare edge check: the SPA's HTML on /_up is a 2xx like any other.
    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--until",
        "2xx",
        "--wait-path",
        "/_up",
        "ready",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let attempt = run.one("wait.attempt");
    assert_eq!(
        (
            attempt.verdict,
            typed::<WaitAttempt>(attempt).state.as_str()
        ),
        (Verdict::Pass, "http_200")
    );
}

#[test]
fn a_backend_down_beyond_the_grace_period_ends_the_wait_early() {
    let stack = stack();
    stack.backend.reconfigure(|c| c.provider = Provider::Down);
    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--interval",
        "100ms",
        "--backoff",
        "1",
        "--grace",
        "500ms",
        "--timeout",
        "60s",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.elapsed < Duration::from_secs(20), "{run:?}");
    let wait = run.one("wait");
    assert_eq!(verdict(wait), (Verdict::Fail, Some("terminal_down")));
    assert!(run.all("wait.attempt").len() >= 2);
}

#[test]
fn a_4xx_on_the_summary_ends_the_wait_at_once() {
    let stack = stack();
    stack
        .backend
        .inject("/api/status/summary", Fault::Status(404));
    let run = probe(&["--url", &stack.url(), "--wait", "--timeout", "60s"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.elapsed < Duration::from_secs(20));
    assert_eq!(
        verdict(run.one("wait.attempt")),
        (Verdict::Info, Some("unexpected_status"))
    );
    let wait = run.one("wait");
    assert_eq!(
        (verdict(wait), &wait.data["state"]),
        ((Verdict::Fail, Some("terminal_status")), &json!("http_404"))
    );
}

#[test]
fn a_wait_for_a_stack_not_yet_listening_records_refusals_until_the_deadline() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let run = probe(&[
        "--url",
        &url,
        "--wait",
        "--interval",
        "100ms",
        "--timeout",
        "1s",
    ]);
    assert_eq!(run.code, 124, "{run:?}");
    assert_eq!(
        run.all("wait.attempt")[0].reason.as_deref(),
        Some("connection_refused")
    );
}

#[test]
fn a_wait_for_ready_accepts_any_path_with_ready_true() {
    let stack = stack();
    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--until",
        "ready",
        "summary",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.one("wait").data["until"], "ready");
}

/// Progress is drawn only on the process's own terminal (day2-core's `progress`;
/// the pseudo-terminal test in tests/tests/terminal.rs sees it): a run driven
/// in-process, interactive or not, gets only the closing line on its stderr.
#[test]
fn progress_never_reaches_a_captured_stderr() {
    let stack = warming_stack(Duration::from_millis(500));
    for interactive in [true, false] {
        let args: Vec<std::ffi::OsString> = [
            "status-probe",
            "--url",
            &stack.url(),
            "--wait",
            "--interval",
            "100ms",
            "--timeout",
            "20s",
            "summary",
        ]
        .iter()
        .map(Into::into)
        .collect();
        let (mut stdout, mut stderr, mut stdin) = (Vec::new(), Vec::new(), &b""[..]);
        let exit = {
            let mut io = day2_core::Io {
                stdin: &mut stdin,
                stdout: &mut stdout,
                stderr: &mut stderr,
                interactive,
            };
            status_probe::run(args, &mut io)
        };
        assert_eq!(exit, day2_core::Exit::Ok);
        let stderr = String::from_utf8(stderr).unwrap();
        assert!(
            !stderr.contains('\r') && !stderr.contains("waiting for"),
            "{stderr:?}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("status-probe: ")
                && stderr.ends_with("; exit 0: every check passed\n"),
            "{stderr}"
        );
        assert!(!stdout.is_empty());
    }
}

/// A change to the simulator's configuration.
type Change = fn(&mut BackendConfig);

#[test]
fn every_state_a_wait_can_see_is_its_attempt_reason() {
    let stack = stack();
    let cases: [(&str, Change); 3] = [
        ("fallback", |c| c.provider = Provider::Fallback),
        ("unknown_path", |c| {
            c.path_override = Some("maintenance".into())
        }),
        ("not_ready", |c| c.rag_chunks = 0),
    ];
    for (reason, change) in cases {
        stack.backend.reconfigure(|c| {
            *c = BackendConfig::default();
            change(c);
        });
        let run = probe(&[
            "--url",
            &stack.url(),
            "--wait",
            "--interval",
            "100ms",
            "--timeout",
            "300ms",
        ]);
        assert_eq!(run.code, 124, "{run:?}");
        assert_eq!(
            run.all("wait.attempt")[0].reason.as_deref(),
            Some(reason),
            "{run:?}"
        );
    }
    stack.backend.reconfigure(|c| *c = BackendConfig::default());
    stack
        .backend
        .inject("/api/status/summary", Fault::InvalidJson);
    let run = probe(&[
        "--url",
        &stack.backend.url(),
        "--wait",
        "--interval",
        "100ms",
        "--timeout",
        "300ms",
    ]);
    assert_eq!(
        run.all("wait.attempt")[0].reason.as_deref(),
        Some("not_json"),
        "{run:?}"
    );
}

/// The clock runs from the first warming sample to ready+primary whatever lies
/// between: warming, then primary with an empty retrieval index (`not_ready`), then
/// ready. The time and the states passed through are reported and exported.
#[test]
fn warming_then_not_ready_then_primary_is_timed_until_primary() {
    // Warming for 1.2 s; then the model is present but the index is empty; at 2.4 s
    // the index is filled.
    let stack = stack_with(
        BackendConfig {
            warm_after: Duration::from_millis(1200),
            rag_chunks: 0,
            ..BackendConfig::default()
        },
        EdgeConfig::default(),
    );
    stack
        .backend
        .reconfigure_after(Duration::from_millis(2400), |c| {
            c.warm_after = Duration::ZERO;
            c.rag_chunks = 42;
        });
    let dir = tempfile::tempdir().unwrap();
    let textfile = dir.path().join("status.prom");
    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--interval",
        "100ms",
        "--backoff",
        "1",
        "--timeout",
        "30s",
        "--warming-budget",
        "10m",
        "--textfile",
        textfile.to_str().unwrap(),
        "summary",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let warming = run.one("warming");
    assert_eq!(warming.verdict, Verdict::Pass, "{run:?}");
    let seconds = warming.data["warming_seconds"].as_f64().unwrap();
    assert!((2.0..30.0).contains(&seconds), "{seconds}: {run:?}");
    assert_eq!(
        warming.data["states"],
        json!(["warming", "not_ready", "primary"]),
        "{run:?}"
    );
    assert_eq!(warming.data["warming_now"], false);
    let text = std::fs::read_to_string(&textfile).unwrap();
    let exported: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix(r#"status_warming_seconds{service="backend"} "#))
        .unwrap_or_else(|| panic!("no status_warming_seconds in\n{text}"))
        .parse()
        .unwrap();
    assert_eq!(exported, seconds);

    // Beyond a budget shorter than that, the same run fails the SLO.
    let stack = stack_with(
        BackendConfig {
            warm_after: Duration::from_millis(600),
            rag_chunks: 0,
            ..BackendConfig::default()
        },
        EdgeConfig::default(),
    );
    stack
        .backend
        .reconfigure_after(Duration::from_millis(1500), |c| {
            c.warm_after = Duration::ZERO;
            c.rag_chunks = 42;
        });
    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--interval",
        "100ms",
        "--backoff",
        "1",
        "--timeout",
        "30s",
        "--warming-budget",
        "1s",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        verdict(run.one("warming")),
        (Verdict::Fail, Some("warming_over_budget")),
        "{run:?}"
    );
}

/// A model-server restart during warming (warming → down → warming → primary) keeps
/// the clock running too.
#[test]
fn a_model_server_restart_during_warming_stays_on_the_clock() {
    let stack = warming_stack(Duration::from_secs(3600));
    stack
        .backend
        .reconfigure_after(Duration::from_millis(700), |c| c.provider = Provider::Down);
    stack
        .backend
        .reconfigure_after(Duration::from_millis(1400), |c| {
            c.provider = Provider::Ollama;
            c.warm_after = Duration::from_millis(700);
        });
    let run = probe(&[
        "--url",
        &stack.url(),
        "--wait",
        "--interval",
        "100ms",
        "--backoff",
        "1",
        "--grace",
        "20s",
        "--timeout",
        "30s",
        "--warming-budget",
        "10m",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let warming = run.one("warming");
    assert_eq!(
        warming.data["states"],
        json!(["warming", "down", "warming", "primary"]),
        "{run:?}"
    );
    assert!(
        warming.data["warming_seconds"].as_f64().unwrap() >= 1.8,
        "{run:?}"
    );
}

/// Each request of a wait is capped by the time left before the deadline: against a
/// server that never answers, `--timeout 3s` ends after about 3 s, not after the
/// 10 s of `--http-timeout`.
#[test]
fn a_stalling_server_cannot_stretch_the_deadline() {
    let stack = stack();
    stack.backend.inject("/", Fault::Stall);
    let run = probe(&["--url", &stack.backend.url(), "--wait", "--timeout", "3s"]);
    assert_eq!(run.code, 124, "{run:?}");
    assert!(
        run.elapsed < Duration::from_secs(6),
        "took {:?}: {run:?}",
        run.elapsed
    );
    let wait = run.one("wait");
    assert_eq!(verdict(wait), (Verdict::Fail, Some("wait_timeout")));
    assert_eq!(wait.data["state"], "timeout");
    assert_eq!(
        run.one("wait.attempt").reason.as_deref(),
        Some("timeout"),
        "{run:?}"
    );
}
