//! Usage errors, help, and the CORS defects the demo stack cannot produce (a wrong
//! Allow-Origin value, `*` with credentials, no `Vary`, the method not allowed),
//! served by a small loopback server built on the test equipment's HTTP/1.1.

mod common;

use std::io::BufReader;
use std::net::TcpListener;
use std::time::Duration;

use common::*;
use day2_core::record::Verdict;
use day2_tests::backend::Response;
use day2_tests::http1::{read_request, write_response, Request};

#[test]
fn bad_flags_are_one_line_usage_errors() {
    for (args, needle) in [
        (vec!["--url", "ftp://example.org"], "--url"),
        (vec!["--url", "http://"], "--url"),
        (vec!["--started-at", "yesterday"], "--started-at"),
        (vec!["--summary-path", "api/status"], "--summary-path"),
        // Values are quoted in JSON's notation, control characters escaped, never
        // in Rust's debug form.
        (
            vec!["--url", "\u{1b}]0;owned\u{7}http://x"],
            r#"--url "\u001b]0;owned\u0007http://x" must start with http:// or https://"#,
        ),
    ] {
        let run = probe(&args);
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        assert!(
            run.stderr.starts_with("status-probe: ") && run.stderr.contains(needle),
            "{run:?}"
        );
        assert!(run.stdout.is_empty());
    }
    for args in [
        vec!["nonsense"],
        vec!["--interval", "soon"],
        vec!["--backoff", "0.5"],
    ] {
        let run = probe(&args);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(!run.stderr.contains("panicked"));
    }
}

/// Durations from flags and from the environment are range-checked when parsed: a
/// usage error naming the flag (and the variable) and the range, never a panic on a
/// float that does not fit a Duration or a deadline that overflows.
#[test]
fn huge_durations_are_usage_errors_not_panics() {
    /// Arguments, environment, what the error names, the range it states.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 11] = [
        (
            &["--wait", "--timeout", "18446744073709551616"],
            &[],
            "for --timeout:",
            "from 0 to 30 days",
        ),
        (
            &["--wait", "--interval", "1e300"],
            &[],
            "for --interval:",
            "from 1 millisecond to 1 day",
        ),
        (
            &["--wait"],
            &[("PRIMARY_POLL_MAX_S", "1e300")],
            "for PRIMARY_POLL_MAX_S (the environment's --timeout):",
            "from 0 to 30 days",
        ),
        (
            &["--wait"],
            &[("PRIMARY_POLL_INTERVAL_S", "1e19")],
            "for PRIMARY_POLL_INTERVAL_S (the environment's --interval):",
            "from 1 millisecond to 1 day",
        ),
        (
            &["--wait"],
            &[("PRIMARY_POLL_INTERVAL_S", "NaN")],
            "for PRIMARY_POLL_INTERVAL_S",
            "from 1 millisecond to 1 day",
        ),
        (
            &["--http-timeout", "100000000000h"],
            &[],
            "for --http-timeout:",
            "from 1 millisecond to 1 day",
        ),
        (
            &["--warming-budget", "99999999999d"],
            &[],
            "for --warming-budget:",
            "from 0 to 30 days",
        ),
        (
            &["--backoff", "NaN"],
            &[],
            "for --backoff:",
            "a factor from 1 to 10",
        ),
        (
            &["--max-body", "99999999999999999999999"],
            &[],
            "for --max-body:",
            "a size from 1 B to 1.0 GiB",
        ),
        (
            &["--max-redirects", "4294967296"],
            &[],
            "for --max-redirects:",
            "a whole number from 0 to 20",
        ),
        (
            &["--connect-timeout", "0s"],
            &[],
            "for --connect-timeout:",
            "from 1 millisecond to 1 day",
        ),
    ];
    for (args, env, names, range) in cases {
        let mut args = args.to_vec();
        args.extend(["--url", "http://127.0.0.1:1"]);
        let run = probe_env(&args, env);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(!run.stderr.contains("panicked"), "{run:?}");
        assert!(
            run.stderr.contains(names) && run.stderr.contains(range),
            "{run:?}"
        );
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        assert!(run.stdout.is_empty());
    }
    // The largest accepted value still runs (and ends on its own terms).
    let run = probe(&[
        "--url",
        "http://127.0.0.1:1",
        "--http-timeout",
        "1d",
        "ready",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
}

/// A changelog is read up to 16 MiB: `/dev/zero` is a one-line usage error at once,
/// not memory growing without bound.
#[test]
fn an_endless_changelog_is_refused() {
    let run = probe(&["--url", "http://127.0.0.1:1", "--changelog", "/dev/zero"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "status-probe: cannot read changelog /dev/zero: larger than 16 MiB\n"
    );
}

#[test]
fn help_lists_the_checks_and_the_exit_codes() {
    let run = probe(&["--help"]);
    assert_eq!(run.code, 0);
    for word in [
        "ready",
        "deps",
        "summary",
        "cors",
        "legacy",
        "124",
        "PRIMARY_POLL_INTERVAL_S",
    ] {
        assert!(run.stdout.contains(word), "{word}: {}", run.stdout);
    }
}

/// Answers every request with CORS headers chosen by the Origin it carries.
fn cors_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        // Bounded: a handful of connections is all one test run opens.
        for stream in listener.incoming().take(200) {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                for _ in 0..100 {
                    let Ok(Some(request)) = read_request(&mut reader) else {
                        return;
                    };
                    if write_response(&mut writer, &answer(&request), false).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn answer(request: &Request) -> Response {
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    let origin = request.header("origin").unwrap_or("");
    let mut cors = |pairs: &[(&str, &str)]| {
        headers.extend(pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    };
    if origin == "https://limited.example" {
        return Response {
            status: 429,
            headers,
            body: b"{}".to_vec(),
        };
    }
    match origin {
        "https://wrong.example" => cors(&[
            ("access-control-allow-origin", "https://other.example"),
            ("vary", "Origin"),
        ]),
        "https://wild.example" => cors(&[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-credentials", "true"),
        ]),
        "https://novary.example" => {
            cors(&[("access-control-allow-origin", "https://novary.example")])
        }
        "https://fine.example" => cors(&[
            ("access-control-allow-origin", "https://fine.example"),
            ("vary", "Accept-Encoding, Origin"),
        ]),
        _ => {}
    }
    if request.method == "OPTIONS" {
        headers.push(("access-control-allow-methods".into(), "GET, HEAD".into()));
        return Response {
            status: 204,
            headers,
            body: Vec::new(),
        };
    }
    if request.path == "/moved" {
        headers.push(("location".into(), "/api/status/summary".into()));
        return Response {
            status: 302,
            headers,
            body: Vec::new(),
        };
    }
    let body = if request.path == "/api/status/summary" {
        serde_json::to_vec(&day2_tests::backend::summary(
            &Default::default(),
            Duration::ZERO,
        ))
        .unwrap()
    } else {
        return Response {
            status: 404,
            headers,
            body: b"{}".to_vec(),
        };
    };
    Response {
        status: 200,
        headers,
        body,
    }
}

#[test]
fn each_cors_defect_is_named() {
    let url = cors_server();
    let run = probe(&[
        "--url",
        &url,
        "cors",
        "--origin",
        "https://wrong.example",
        "--origin",
        "https://wild.example",
        "--origin",
        "https://novary.example",
        "--origin",
        "https://fine.example",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    for (origin, reason) in [
        ("https://wrong.example", "acao_wrong_value"),
        ("https://wild.example", "acao_wildcard_with_credentials"),
        ("https://novary.example", "vary_missing_origin"),
    ] {
        assert_eq!(
            verdict(run.for_origin("cors.summary", origin)),
            (Verdict::Fail, Some(reason)),
            "{run:?}"
        );
        let preflight = run.for_origin("cors.preflight", origin);
        assert_eq!(
            preflight.data["defects"],
            serde_json::json!([reason, "method_not_allowed"]),
            "{run:?}"
        );
    }
    assert_eq!(
        run.for_origin("cors.summary", "https://fine.example")
            .verdict,
        Verdict::Pass,
        "{run:?}"
    );
    let preflight = run.for_origin("cors.preflight", "https://fine.example");
    assert_eq!(
        verdict(preflight),
        (Verdict::Fail, Some("method_not_allowed"))
    );
    assert_eq!(preflight.data["status"], 204);
    // The legacy path answers 404 here: no cors.legacy record.
    assert!(run.all("cors.legacy").is_empty());
    // A preflight for a method the server allows passes.
    let run = probe(&[
        "--url",
        &url,
        "cors",
        "--origin",
        "https://fine.example",
        "--preflight-method",
        "GET",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// A rate-limited request says nothing about CORS: could not check, never
/// `preflight_rejected` or `acao_missing`.
#[test]
fn a_rate_limited_request_is_not_a_cors_verdict() {
    let url = cors_server();
    let run = probe(&["--url", &url, "cors", "--origin", "https://limited.example"]);
    assert_eq!(run.code, 1, "{run:?}");
    for check in ["cors.preflight", "cors.summary"] {
        assert_eq!(
            verdict(run.for_origin(check, "https://limited.example")),
            (Verdict::Error, Some("rate_limited")),
            "{run:?}"
        );
    }
    assert_eq!(
        verdict(run.for_origin("cors.layers", "https://limited.example")),
        (Verdict::Error, Some("not_checked")),
        "{run:?}"
    );
}

#[test]
fn redirects_are_shown_unless_following_them_is_asked_for() {
    let url = cors_server();
    let run = probe(&["--url", &url, "summary", "--summary-path", "/moved"]);
    let summary = run.one("summary");
    assert_eq!(
        verdict(summary),
        (Verdict::Fail, Some("unexpected_status")),
        "{run:?}"
    );
    assert_eq!(
        (&summary.data["status"], &summary.data["location"]),
        (
            &serde_json::json!(302),
            &serde_json::json!("/api/status/summary")
        )
    );
    let run = probe(&[
        "--url",
        &url,
        "summary",
        "--summary-path",
        "/moved",
        "--max-redirects",
        "1",
    ]);
    assert_eq!(run.one("summary").verdict, Verdict::Pass, "{run:?}");
}
