//! `cargo xtask demo` starts the demo stack, runs the tour and stops the stack; without
//! a Docker Engine it still runs everything else; `--serve` keeps the stack up.

use day2_tests::process::Bin;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use day2_core::http::{request, HttpOptions};

fn first_record(stdout: &str) -> serde_json::Value {
    let first = stdout.lines().next().unwrap_or_default();
    serde_json::from_str(first).expect("first line is a record")
}

/// The stack is gone once the demo has ended: nothing listens on its port.
fn assert_stopped(edge: &str) {
    let addr = edge.trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "nginx still listens on {addr}"
    );
}

/// What a whole demo tour may take on a busy machine.
const DEMO_DEADLINE: Duration = Duration::from_secs(600);

#[test]
fn demo_runs_the_tour_and_stops_the_stack() {
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("demo")
        .deadline(DEMO_DEADLINE)
        .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("demo stack up") && stderr.contains("demo stack stopped"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let record = first_record(&stdout);
    assert_eq!(record["check"], "demo.stack");
    assert!(
        !stdout.contains("\"check\":\"demo.step\""),
        "with an Engine nothing is skipped:\n{stderr}"
    );
    assert!(stdout.contains("\"tool\":\"prune-review\""), "{stderr}");
    assert_stopped(record["data"]["edge"].as_str().expect("edge URL"));
    assert_speaks_plainly(&stderr);
}

/// The summary marks the failures the demo stack shows on purpose as expected, and
/// says durations and counts in words.
fn assert_speaks_plainly(stderr: &str) {
    for title in EXPECTED_TITLES {
        let row = stderr
            .lines()
            .find(|l| l.starts_with(title) && l.contains(" exit "))
            .unwrap_or_else(|| panic!("{title} in\n{stderr}"));
        assert!(
            row.contains(" exit   1 ") && row.ends_with("  expected"),
            "{row}"
        );
    }
    assert!(!stderr.contains("UNEXPECTED"), "{stderr}");
    assert!(
        stderr.contains("every step behaved as expected"),
        "{stderr}"
    );
    // A count of one in the plural ("1 records"), not a larger count ending in 1
    // ("81 records"). Durations are written in humantime's format (`1day`, `5s`:
    // what the duration flags take back, issue 15), so `1day` is no fault here.
    for fault in ["1 pages", "1 entries", "1 records"] {
        let singular_in_plural = stderr.match_indices(fault).any(|(at, _)| {
            !stderr[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_digit())
        });
        assert!(!singular_in_plural, "{fault:?} in\n{stderr}");
    }
    // The closing line does not claim every check passed over fail records.
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("xtask: ") && last.contains("exit 0: the run passed"),
        "{last}"
    );
}

/// The steps that fail on purpose, as the demo names them.
const EXPECTED_TITLES: [&str; 3] = [
    "status-probe: every check at the edge",
    "xtask triage: on-call signatures",
    "sri-check: HTML integrity attributes",
];

#[test]
fn without_a_docker_engine_the_docker_steps_are_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}", dir.path().join("missing.sock").display());
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("demo")
        .env("DOCKER_HOST", &host)
        .deadline(DEMO_DEADLINE)
        .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("demo stack stopped"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let skipped: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a record"))
        .filter(|r| r["check"] == "demo.step")
        .collect();
    assert_eq!(skipped.len(), 2, "{stdout}");
    for record in &skipped {
        assert_eq!(record["verdict"], "info");
        assert_eq!(record["reason"], "docker_unreachable");
        let message = record["message"].as_str().unwrap();
        assert!(
            message.starts_with("skipped: the Docker Engine does not answer (no_such_socket"),
            "{message}"
        );
    }
    assert!(!stdout.contains("\"tool\":\"prune-review\""), "{stdout}");
    // Everything else ran: the cutover at the end among them.
    assert!(stdout.contains("\"check\":\"cutover.verify\""), "{stderr}");
    assert!(stderr.contains("prune-review: plan (named orphans too)"));
    assert!(stderr.contains("skipped: the Docker Engine does not answer"));
    assert_speaks_plainly(&stderr);
    assert_stopped(first_record(&stdout)["data"]["edge"].as_str().unwrap());
}

#[test]
fn serve_keeps_the_stack_up_for_the_duration_and_stops() {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["demo", "--serve", "--for", "5s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run demo --serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the first record");
    let record: serde_json::Value = serde_json::from_str(&line).expect("a record");
    assert_eq!(
        (&record["check"], &record["reason"]),
        (&"demo.stack".into(), &"serving".into())
    );
    let edge = record["data"]["edge"].as_str().unwrap().to_owned();
    // While it serves, the edge answers what the tools ask.
    let agent = HttpOptions::default().agent();
    let answer = request(
        &agent,
        "GET",
        &format!("{edge}/api/status/summary"),
        &[],
        1 << 20,
    )
    .expect("the edge answers while serving");
    assert_eq!(answer.status, 200);
    let deadline = started + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "demo --serve --for 5s still runs after 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        elapsed >= Duration::from_secs(5),
        "stopped after {elapsed:?}"
    );
    for expected in [
        "demo stack serving for 5s",
        &format!("edge     {edge}"),
        &format!("cargo run -q -p status-probe -- --url {edge} --wait --timeout 10m"),
        "demo stack stopped",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in:\n{stderr}");
    }
    assert_stopped(&edge);
}

#[test]
fn for_without_serve_is_a_usage_error() {
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["demo", "--for", "5s"])
        .output();
    assert_eq!(out.status.code(), Some(2));
}
