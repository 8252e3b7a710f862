//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn a_changelog_heading_with_controls_is_quoted_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("CHANGELOG.md"),
        "# Changelog\n\n## [1.x\u{1b}[2J\rz] - 2026-11-01\n- a\n",
    )
    .unwrap();
    let (code, stderr) = run_in(
        env!("CARGO_BIN_EXE_status-probe"),
        dir.path(),
        &[
            "--url",
            "http://127.0.0.1:1",
            "--changelog",
            "CHANGELOG.md",
            "summary",
        ],
        &[],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert_escaped(&stderr, "CHANGELOG.md:3: release heading \"1.x\\u001b[2J");
}

/// Runs `program` with `args` in `dir`, bounded to 60 s: (exit code, stderr).
fn run_in(program: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied());
    let out = day2_tests::process::run_bounded(command, b"", Duration::from_secs(60));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// stderr holds no raw ESC or CR, and shows `escaped` (the quoted input, escaped).
fn assert_escaped(stderr: &str, escaped: &str) {
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "raw controls on stderr: {stderr:?}"
    );
    assert!(stderr.contains(escaped), "{escaped:?} not in {stderr:?}");
}
