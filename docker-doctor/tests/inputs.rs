//! Issue 18 for docker-doctor: numbers range-checked when parsed, credentials in
//! DOCKER_HOST never shown, daemon JSON nested without bound refused without a crash,
//! and terminal controls from inputs escaped in the text checklist.

mod common;

use common::{doctor, FakeDaemon, Mode};

#[test]
fn numbers_out_of_range_are_usage_errors_naming_flag_and_range() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["--mem-warn-percent", "NaN"],
            "for --mem-warn-percent: a percentage from 0 to 100",
        ),
        (
            &["--mem-warn-percent", "250"],
            "for --mem-warn-percent: a percentage from 0 to 100",
        ),
        (
            &["--step-timeout", "1e300"],
            "for --step-timeout: a duration from 1 millisecond to 1 hour",
        ),
        (
            &["--deadline", "0s"],
            "for --deadline: a duration from 1 millisecond to 1 hour",
        ),
        (
            &["--disk-limit", "99999999TB"],
            "for --disk-limit: a size from 0 B to 1024.0 TiB",
        ),
        (
            &["--wsl-min-processors", "18446744073709551616"],
            "for --wsl-min-processors: a whole number from 0 to 1024",
        ),
        (
            &["--recover", "--attempts", "0"],
            "for --attempts: a whole number from 1 to 20",
        ),
        (
            &["--recover", "--max-backoff", "100000000000h"],
            "for --max-backoff: a duration from 0 to 1 hour",
        ),
        (
            &["--keep-alive-warn", "99999999999d"],
            "for --keep-alive-warn: a duration from 0 to 3650 days",
        ),
    ];
    for (args, expected) in cases {
        let run = doctor(args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {run}");
        assert!(run.stderr.contains(expected), "{args:?}: {run}");
        assert!(run.stdout.is_empty(), "{run}");
    }
}

/// A canary password in DOCKER_HOST appears in no output, JSON or checklist, with
/// or without recovery's commands (the docker CLI drops a tcp userinfo too).
#[test]
fn docker_host_credentials_never_reach_any_output() {
    const CANARY: &str = "CANARY-5a1f";
    let host = format!("tcp://admin:{CANARY}@127.0.0.1:1");
    for args in [
        &["--checks", "probe"][..],
        &["--checks", "probe", "--format", "text"][..],
        &["--recover", "--platform", "linux"][..],
        &["--recover", "--platform", "linux", "--format", "text"][..],
        &["--checks", "probe,stack,resources"][..],
    ] {
        let run = doctor(args, &[("DOCKER_HOST", &host)]);
        assert_eq!(run.code, 1, "{args:?}: {run}");
        assert!(
            !run.stdout.contains(CANARY) && !run.stderr.contains(CANARY),
            "{args:?}: {run}"
        );
        // The endpoint is still named, without the secret.
        assert!(run.stdout.contains("127.0.0.1"), "{args:?}: {run}");
    }
}

/// serde_json's recursion limit (128) bounds every JSON answer the ladder reads: a
/// daemon nesting `/version` 100,000 levels deep is a `garbage_response`, not a
/// stack overflow.
#[test]
fn deeply_nested_daemon_json_is_a_garbage_response() {
    let fake = FakeDaemon::start(Mode::DeepJson);
    let run = doctor(&["--checks", "probe"], &[("DOCKER_HOST", &fake.host())]);
    assert_eq!(run.code, 1, "{run}");
    let version = run.one("probe.version", None);
    assert_eq!(version.reason.as_deref(), Some("garbage_response"), "{run}");
    assert!(
        version
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("recursion limit exceeded"),
        "{run}"
    );
}

/// The text checklist is for a terminal: escape sequences in what it shows (here a
/// DOCKER_HOST carrying them) are written escaped.
#[test]
fn the_checklist_escapes_terminal_controls() {
    let run = doctor(
        &["--checks", "probe", "--format", "text"],
        &[(
            "DOCKER_HOST",
            "tcp://\u{1b}]8;;http://evil\u{7}host\u{1b}[2J:1",
        )],
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'),
        "{run:?}"
    );
    assert!(run.stdout.contains("\\u001b[2J"), "{run}");
    assert!(!run.stderr.contains('\u{1b}'), "{run:?}");
}
