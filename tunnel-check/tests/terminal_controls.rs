//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn config_values_with_controls_are_quoted_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // YAML's double-quoted escapes put a real ESC and CR into the values.
    std::fs::write(
        dir.path().join("config.yml"),
        "tunnel: df5ed608-b8b4-4109-89f3-9f2cf199df64\ncredentials-file: \"/nonexistent/x\\e[2J\\r.json\"\ningress:\n - service: \"http://bad\\e[2J\\rhost:abc\"\n",
    )
    .unwrap();
    let (code, stderr) = run_in(
        env!("CARGO_BIN_EXE_tunnel-check"),
        dir.path(),
        &["config", "config.yml"],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_escaped(&stderr, "'/nonexistent/x\\u001b[2J\\r.json'");
    assert_escaped(&stderr, "http://bad\\x1b[2J\\rhost:abc");
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
