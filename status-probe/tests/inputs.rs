//! Issue 18 for status-probe: bodies nested without bound are refused without a
//! crash, and a credential in `--url` reaches no output (records, Prometheus on
//! stdout, the --textfile file, stderr).

mod common;

use common::{canary_argv, probe};
use day2_core::Verdict;
use day2_tests::fake_edge::StaticServer;
use day2_tests::{Backend, BackendConfig};

/// serde_json's recursion limit (128 levels) bounds every body status-probe reads:
/// an answer nested 100,000 levels deep is `not_json`, never a stack overflow.
#[test]
fn deeply_nested_bodies_are_not_json_not_a_crash() {
    let body = format!(
        "{{\"ready\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let server = StaticServer::json(200, &body).expect("server");
    let run = probe(&["--url", &server.url(), "ready", "deps", "summary"]);
    assert_eq!(run.code, 1, "{run:?}");
    for check in ["ready", "deps", "summary"] {
        let record = run.one(check);
        assert_eq!(
            (record.verdict, record.reason.as_deref()),
            (Verdict::Fail, Some("not_json")),
            "{record:?}"
        );
        let message = record.message.as_deref().unwrap_or_default();
        assert!(message.contains("recursion limit exceeded"), "{record:?}");
    }
}

#[test]
fn url_credentials_never_reach_any_output() {
    const CANARY: &str = "CANARY-3f8a";
    let backend = Backend::start(BackendConfig::default()).expect("backend");
    let url = backend
        .url()
        .replacen("http://", &format!("http://ops:{CANARY}@"), 1);
    let dir = tempfile::tempdir().unwrap();
    let textfile = dir.path().join("status.prom");
    let textfile_arg = textfile.to_str().unwrap();
    for format in ["json", "prometheus"] {
        let run = probe(&canary_argv(&url, format, textfile_arg));
        let written = std::fs::read_to_string(&textfile).expect("textfile");
        for (what, text) in [
            ("stdout", &run.stdout),
            ("stderr", &run.stderr),
            ("textfile", &written),
        ] {
            assert!(!text.contains(CANARY), "{format} {what} leaks:\n{text}");
        }
        assert!(written.contains("ops:[REDACTED]@127.0.0.1"), "{written}");
        day2_tests::process::promtool_check_metrics(&written);
    }
    // A usage error quoting the URL does not show it either.
    let run = probe(&["--url", &format!("ftp://ops:{CANARY}@127.0.0.1:1")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(!run.stderr.contains(CANARY), "{run:?}");
}
