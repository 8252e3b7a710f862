//! Issue 18 for legacy-sampler: a credential in a sampled URL (userinfo password,
//! token query value) reaches no output (records, Prometheus on stdout, the
//! --textfile file, stderr; the masking is day2-core's record sink and label
//! escaper), and logs without one access line are no pass.

mod common;

use day2_tests::{Backend, BackendConfig};

#[test]
fn url_credentials_never_reach_any_output() {
    const CANARY: &str = "CANARY-0c4e";
    let backend = Backend::start(BackendConfig::default()).expect("backend");
    let url = format!(
        "{}/api/status/summary?token={CANARY}&v=1",
        backend
            .url()
            .replacen("http://", &format!("http://ops:{CANARY}@"), 1)
    );
    let dir = tempfile::tempdir().unwrap();
    let textfile = dir.path().join("legacy.prom");
    let textfile = textfile.to_str().unwrap();
    for format in ["json", "prometheus"] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_legacy-sampler"));
        command
            .args(["-n", "3", "--format", format, "--textfile", textfile, &url])
            .env_remove("FAIL_ON_LEGACY");
        let out =
            day2_tests::process::run_bounded(command, b"", std::time::Duration::from_secs(60));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let written = std::fs::read_to_string(textfile).expect("textfile");
        assert!(!stdout.is_empty(), "{stderr}");
        for (what, text) in [
            ("stdout", &*stdout),
            ("stderr", &*stderr),
            ("textfile", &*written),
        ] {
            assert!(!text.contains(CANARY), "{format} {what} leaks:\n{text}");
        }
        if format == "json" {
            assert!(stdout.contains("ops:[REDACTED]@127.0.0.1"), "{stdout}");
            assert!(stdout.contains("token=[REDACTED]&v=1"), "{stdout}");
        }
    }
}

/// Issue 18: logs without one access line are no evidence, so the gate's summary
/// is an error, never "gate passed: no legacy hit" (live mode's `no_responses`
/// twin). A gate that fails on them (too little coverage) still says why.
#[test]
fn empty_logs_are_no_pass() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").unwrap();
    let foreign = dir.path().join("foreign.log");
    std::fs::write(
        &foreign,
        "/docker-entrypoint.sh: Configuration complete; ready for start up\n",
    )
    .unwrap();
    for log in [&empty, &foreign] {
        let run = common::sampler_with(
            &["--log", log.to_str().unwrap()],
            &[("FAIL_ON_LEGACY", "true")],
            b"",
        );
        assert_eq!(
            (run.code, run.reason()),
            (1, Some("no_access_lines")),
            "{run:#?}"
        );
        assert_eq!(run.verdict(), day2_core::Verdict::Error);
    }
    let run = common::sampler_with(&["--log", "-"], &[("FAIL_ON_LEGACY", "true")], b"");
    assert_eq!(
        (run.code, run.reason()),
        (1, Some("no_access_lines")),
        "{run:#?}"
    );
    let run = common::sampler(&["--log", empty.to_str().unwrap(), "--quiet-for", "24h"]);
    assert_eq!((run.code, run.reason()), (1, Some("insufficient_coverage")));
}
