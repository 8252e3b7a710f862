//! The human side every tool shares (day2-core's `human`): each tool's failing case
//! says every fail and error record on stderr as `tool: check target: reason`, ends
//! with a closing line naming the exit code, and leaves stdout to records that parse
//! as the schema's envelope; `--format text` turns the same run into the checklist.

use std::io::Write;

use day2_core::record::{read_records, Verdict};
use day2_tests::bins::bin;
use day2_tests::process::Bin;
use day2_tests::text_view;

/// One tool's failing case: arguments, environment, stdin, and the reason that must
/// be named.
struct Case {
    tool: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    stdin: Vec<u8>,
    reason: &'static str,
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn cases(dir: &std::path::Path) -> Vec<Case> {
    let port = closed_port();
    let nowhere = format!("http://127.0.0.1:{port}");
    let missing_socket = format!("unix://{}", dir.join("missing.sock").display());
    // sri-check: a manifest whose file changed since (drift).
    std::fs::write(dir.join("app.js"), "console.log(1);\n").unwrap();
    Bin::new(bin("sri-check"))
        .current_dir(dir)
        .args(["generate", "app.js"])
        .run()
        .assert_success();
    std::fs::write(dir.join("app.js"), "console.log(2);\n").unwrap();
    // legacy-sampler: an access log with a legacy hit, against a limit of none.
    let log = dir.join("access.log");
    let mut file = std::fs::File::create(&log).unwrap();
    writeln!(
        file,
        "127.0.0.1 - - [28/Nov/2026:01:00:00 +0000] \"GET /status/summary HTTP/1.1\" 200 12 \"-\" \"curl/8\""
    )
    .unwrap();
    vec![
        Case {
            tool: "status-probe",
            args: vec!["--url".into(), nowhere.clone(), "ready".into()],
            env: vec![],
            stdin: vec![],
            reason: "connection_refused",
        },
        Case {
            tool: "legacy-sampler",
            args: vec![
                "--log".into(),
                log.display().to_string(),
                "--max-legacy-count".into(),
                "0".into(),
            ],
            env: vec![],
            stdin: vec![],
            reason: "legacy_count_exceeded",
        },
        Case {
            tool: "sri-check",
            args: vec![
                "verify".into(),
                "--manifest".into(),
                dir.join("sri-manifest.json").display().to_string(),
            ],
            env: vec![],
            stdin: vec![],
            reason: "drift",
        },
        Case {
            tool: "prune-review",
            args: vec!["review".into()],
            env: vec![("DOCKER_HOST", missing_socket.clone())],
            stdin: vec![],
            reason: "engine_unreachable",
        },
        Case {
            tool: "docker-doctor",
            args: vec!["--checks".into(), "probe".into()],
            env: vec![("DOCKER_HOST", missing_socket)],
            stdin: vec![],
            reason: "no_such_socket",
        },
        Case {
            tool: "tunnel-check",
            args: vec!["connector".into()],
            env: vec![],
            stdin: b"nothing cloudflared wrote\n".to_vec(),
            reason: "no_cloudflared_lines",
        },
        Case {
            tool: "xtask",
            args: vec!["triage".into(), "--url".into(), nowhere],
            env: vec![],
            stdin: vec![],
            reason: "connection_refused",
        },
    ]
}

fn run(case: &Case, extra: &[&str]) -> (i32, String, String) {
    let mut command = Bin::new(bin(case.tool))
        .args(&case.args)
        .args(extra)
        .env_remove("NO_COLOR")
        .stdin(case.stdin.clone());
    for (name, value) in &case.env {
        command = command.env(name, value);
    }
    let done = command.run();
    (done.code, done.stdout, done.stderr)
}

#[test]
fn every_tool_names_each_failure_on_stderr_and_keeps_stdout_to_records() {
    let dir = tempfile::tempdir().unwrap();
    for case in cases(dir.path()) {
        let tool = case.tool;
        let (code, stdout, stderr) = run(&case, &[]);
        assert_eq!(code, 1, "{tool}:\n{stdout}\n{stderr}");
        // stdout: nothing but records (parsed with deny_unknown_fields).
        let records = read_records(&mut stdout.as_bytes())
            .unwrap_or_else(|e| panic!("{tool}: stdout is not records only: {e}\n{stdout}"));
        assert!(!records.is_empty(), "{tool}");
        assert!(
            records
                .iter()
                .any(|r| r.reason.as_deref() == Some(case.reason)
                    && matches!(r.verdict, Verdict::Fail | Verdict::Error)),
            "{tool}: no {} record:\n{stdout}",
            case.reason
        );
        // stderr: one line per fail and error record, in the shared form.
        for record in records
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        {
            let head = format!(
                "{}: {} {}: {}",
                record.tool,
                record.check,
                record.target,
                record.reason.as_deref().unwrap()
            );
            assert!(
                stderr.lines().any(|l| l.starts_with(&head)),
                "{tool}: {head:?} not said in\n{stderr}"
            );
        }
        let closing = stderr.lines().last().unwrap_or_default();
        assert!(
            closing.starts_with(&format!("{tool}: {} record", records.len()))
                && closing.ends_with("; exit 1: at least one check failed"),
            "{tool}: closing line {closing:?}"
        );
        assert!(!stderr.contains("panicked"), "{tool}: {stderr}");
    }
}

#[test]
fn every_tool_has_the_text_view() {
    let dir = tempfile::tempdir().unwrap();
    for case in cases(dir.path()) {
        let tool = case.tool;
        let (code, stdout, stderr) = run(&case, &["--format", "text"]);
        assert_eq!(code, 1, "{tool}:\n{stdout}\n{stderr}");
        assert!(
            !stdout.contains("{\"v\""),
            "{tool}: records in the text view\n{stdout}"
        );
        assert!(
            !stdout.contains('\u{1b}'),
            "{tool}: colour into a pipe\n{stdout}"
        );
        let rows = text_view::rows(&stdout);
        assert!(
            rows.iter()
                .any(|r| matches!(r.label.as_str(), "FAIL" | "ERROR")
                    && r.text.contains(case.reason)),
            "{tool}: no FAIL/ERROR row for {} in\n{stdout}",
            case.reason
        );
        assert!(stderr.contains(case.reason), "{tool}: {stderr}");

        // --color always colours it even into a pipe; NO_COLOR does not override an
        // explicit choice, and auto never colours a pipe.
        let (_, coloured, _) = run(&case, &["--format", "text", "--color", "always"]);
        assert!(coloured.contains("\u{1b}["), "{tool}: {coloured:?}");
    }
}

#[test]
fn quiet_leaves_warnings_out_of_stderr() {
    // A connector log with a fallback to HTTP/2: a warn record among passes.
    let log = "2026-11-28T01:00:00Z INF Registered tunnel connection connIndex=0 connection=1b7e0a52-7a0b-4a5e-9c3b-1f4a2b9c0d11 event=0 ip=198.41.200.23 location=ams05 protocol=http2\n\
2026-11-28T01:00:00Z ERR Failed to dial a quic connection error=\"failed to dial to edge with quic: timeout: no recent network activity\" connIndex=1 event=0 ip=198.41.192.7\n\
2026-11-28T01:00:01Z INF Switching to fallback protocol http2 connIndex=1 event=0 ip=198.41.192.7\n";
    let case = Case {
        tool: "tunnel-check",
        args: vec![
            "connector".into(),
            "--expected-connections".into(),
            "1".into(),
        ],
        env: vec![],
        stdin: log.as_bytes().to_vec(),
        reason: "http2_fallback",
    };
    let (_, stdout, loud) = run(&case, &[]);
    let records = read_records(&mut stdout.as_bytes()).unwrap();
    let warns = records
        .iter()
        .filter(|r| r.verdict == Verdict::Warn)
        .count();
    assert!(warns > 0, "{stdout}");
    assert_eq!(
        loud.lines().filter(|l| l.contains("(warning)")).count(),
        warns,
        "{loud}"
    );
    let (_, quiet_stdout, quiet) = run(&case, &["--quiet"]);
    assert!(!quiet.contains("(warning)"), "{quiet}");
    assert_eq!(
        read_records(&mut quiet_stdout.as_bytes()).unwrap().len(),
        records.len(),
        "--quiet changes stderr only"
    );
}
