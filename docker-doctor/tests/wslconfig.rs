//! `.wslconfig` checks: good, missing keys, bad values, below thresholds, and
//! malformed files (a line-numbered usage error). No daemon is involved.

mod common;

use std::path::Path;

use common::{doctor, Run};
use day2_core::Verdict;

fn check(path: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "--checks",
        "wslconfig",
        "--wslconfig",
        path.to_str().unwrap(),
    ];
    args.extend(extra);
    doctor(&args, &[])
}

fn file(content: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), content).unwrap();
    file
}

fn outcome(run: &Run, key: &str) -> (Verdict, Option<String>) {
    let record = run.one(&format!("wslconfig.{key}"), None);
    (record.verdict, record.reason.clone())
}

#[test]
fn the_guides_budget_passes() {
    let f = file(b"# WSL budget\r\n[wsl2]\r\nmemory=10GB\r\nprocessors=6\r\nswap=2GB\r\nlocalhostForwarding=true\r\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.records.len(), 3, "{run}");
    for key in ["memory", "processors", "swap"] {
        assert_eq!(outcome(&run, key), (Verdict::Pass, None), "{run}");
    }
    let memory = run.one("wslconfig.memory", None);
    assert_eq!(memory.data["parsed"], 10u64 * 1024 * 1024 * 1024);
    assert_eq!(memory.data["line"], 3);
    assert_eq!(memory.target, f.path().display().to_string());
}

#[test]
fn a_notepad_utf16_file_reads_the_same() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(
        "[wsl2]\r\nmemory=12GB\r\nprocessors=4\r\nswap=1GB\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let f = file(&bytes);
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.one("wslconfig.processors", None).data["parsed"], 4);
}

#[test]
fn missing_keys_are_warnings_naming_wsls_default() {
    let f = file(b"[wsl2]\nmemory=16GB\n\n[experimental]\nsparseVhd=true\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(outcome(&run, "memory"), (Verdict::Pass, None));
    assert_eq!(
        outcome(&run, "processors"),
        (Verdict::Warn, Some("missing_key".into()))
    );
    assert_eq!(
        outcome(&run, "swap"),
        (Verdict::Warn, Some("missing_key".into()))
    );
    let swap = run
        .one("wslconfig.swap", None)
        .message
        .clone()
        .unwrap_or_default();
    assert!(swap.contains("25%"), "{swap}");
}

#[test]
fn bad_values_fail_with_their_line() {
    let f = file(b"[wsl2]\nmemory=lots\nprocessors=0\nswap=2XB\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 1, "{run}");
    for (key, line) in [("memory", 2), ("processors", 3), ("swap", 4)] {
        assert_eq!(
            outcome(&run, key),
            (Verdict::Fail, Some("bad_value".into())),
            "{run}"
        );
        let record = run.one(&format!("wslconfig.{key}"), None);
        assert_eq!(record.data["line"], line);
        assert!(
            record
                .message
                .as_deref()
                .unwrap_or_default()
                .starts_with(&format!("line {line}:")),
            "{run}"
        );
    }
}

#[test]
fn values_under_the_thresholds_fail() {
    let f = file(b"[wsl2]\nmemory=4GB\nprocessors=2\nswap=0\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        outcome(&run, "memory"),
        (Verdict::Fail, Some("below_threshold".into()))
    );
    assert_eq!(outcome(&run, "processors"), (Verdict::Pass, None));
    assert_eq!(
        outcome(&run, "swap"),
        (Verdict::Fail, Some("below_threshold".into()))
    );
    // The thresholds are the caller's.
    let lenient = check(
        f.path(),
        &["--wsl-min-memory", "4GB", "--wsl-min-swap", "0"],
    );
    assert_eq!(lenient.code, 0, "{lenient}");
    let strict = check(
        f.path(),
        &[
            "--wsl-min-processors",
            "8",
            "--wsl-min-memory",
            "1GB",
            "--wsl-min-swap",
            "0",
        ],
    );
    assert_eq!(
        outcome(&strict, "processors"),
        (Verdict::Fail, Some("below_threshold".into()))
    );
}

#[test]
fn malformed_lines_are_a_usage_error_naming_file_and_line() {
    for (content, line) in [
        (&b"[wsl2]\nmemory=10GB\nprocessors 6\n"[..], 3),
        (b"[wsl2\nmemory=10GB\n", 1),
        (b"memory=10GB\n[wsl2]\n", 1),
        (b"[wsl2]\nmemory=10GB\nMEMORY=12GB\n", 3),
    ] {
        let f = file(content);
        let run = check(f.path(), &[]);
        assert_eq!(run.code, 2, "{run}");
        assert!(
            run.stdout.is_empty(),
            "no records for unreadable input:\n{run}"
        );
        let expected = format!("docker-doctor: {}:{line}: ", f.path().display());
        assert!(run.stderr.starts_with(&expected), "{expected:?} in\n{run}");
        assert_eq!(run.stderr.lines().count(), 1, "{run}");
    }
}

#[test]
fn a_missing_file_or_missing_path_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = check(&dir.path().join("nope.wslconfig"), &[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("cannot read"), "{run}");
    let run = doctor(&["--checks", "wslconfig"], &[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("--wslconfig PATH"), "{run}");
}
