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
        let out = common::sampler_bin()
            .args(["-n", "3", "--format", format, "--textfile", textfile, &url])
            .deadline(std::time::Duration::from_secs(60))
            .run();
        let stdout = out.stdout.clone();
        let stderr = out.stderr.clone();
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

/// Issue 18: every number is range-checked when parsed (day2-core's `bounded`), so a
/// huge one is a usage error naming the flag and its range. Before, `--timeout` and
/// `--for` of 18446744073709551615s panicked (exit 101, "overflow when adding duration
/// to instant") and such an `--every` hung.
#[test]
fn numbers_out_of_range_are_usage_errors_naming_flag_and_range() {
    const HUGE: &str = "18446744073709551615s";
    let url = "http://127.0.0.1:1/";
    let cases: [(&[&str], &str, &str); 16] = [
        (
            &[url, "--timeout", HUGE],
            "--timeout",
            "a duration from 1 millisecond to 1 day",
        ),
        (
            &[url, "--for", HUGE, "-n", "1"],
            "--for",
            "a duration from 1 millisecond to 30 days",
        ),
        (
            &[url, "--every", HUGE, "-n", "2"],
            "--every",
            "a duration from 1 microsecond to 1 day",
        ),
        (&[url, "--every", "0s"], "--every", "from 1 microsecond"),
        (&[url, "--for", "0s"], "--for", "from 1 millisecond"),
        (
            &[url, "--rate", "1e300"],
            "--rate",
            "a rate from one every 1 day to 1000000/s",
        ),
        (
            &[url, "--rate", "0/s"],
            "--rate",
            "a rate from one every 1 day",
        ),
        (
            &[url, "-n", "0"],
            "--count",
            "a number of samples from 1 to 1000000000",
        ),
        (
            &[url, "-n", "99999999999999999999"],
            "--count",
            "from 1 to 1000000000",
        ),
        (&[url, "-c", "0"], "--concurrency", "from 1 to 1024"),
        (
            &[url, "--max-legacy-ratio", "NaN"],
            "--max-legacy-ratio",
            "a ratio from 0 to 1",
        ),
        (
            &[url, "--max-legacy-count=-1"],
            "--max-legacy-count",
            "from 0 to 18446744073709551615",
        ),
        (
            &["--log", "-", "--window", "0s"],
            "--window",
            "a duration from 1 second to 366 days",
        ),
        (
            &["--log", "-", "--top", "0"],
            "--top",
            "a number of callers from 1 to 10000",
        ),
        (
            &["--log", "-", "--quiet-for", HUGE],
            "--quiet-for",
            "a duration from 0 to 3650 days",
        ),
        (
            &["--log", "-", "--max-malformed-ratio", "inf"],
            "--max-malformed-ratio",
            "a ratio from 0 to 1",
        ),
    ];
    for (args, flag, range) in cases {
        let run = common::sampler(args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(run.records.is_empty(), "{args:?}: {run:#?}");
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains(&format!("for {flag}: ")) && first.contains(range),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(run.elapsed < std::time::Duration::from_secs(10), "{args:?}");
    }
    // The largest values in range run and end (nothing listens on port 1).
    for args in [
        &[url, "--every", "1d", "-n", "1", "--timeout", "1d"][..],
        &[url, "--rate", "1/h", "-n", "1"][..],
        &[url, "--for", "30d", "-n", "1"][..],
    ] {
        let run = common::sampler(args);
        assert_eq!(
            (run.code, run.reason()),
            (1, Some("no_responses")),
            "{args:?}: {run:#?}"
        );
    }
}
