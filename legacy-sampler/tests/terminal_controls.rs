//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_escaped;
use day2_tests::process::run_in;

/// legacy-sampler quotes no line content on stderr, only places (`FILE:LINE`): a
/// log whose name and lines both carry controls shows the name escaped.
#[test]
fn a_log_with_controls_in_its_name_and_lines_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "access\u{1b}[2J\r.log";
    std::fs::write(
        dir.path().join(name),
        "garbage \u{1b}[2J\r line\nmore \u{1b}]0;owned\u{7}\r\n",
    )
    .unwrap();
    let run = run_in(
        env!("CARGO_BIN_EXE_legacy-sampler"),
        dir.path(),
        &["--log", name],
        &[],
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_escaped(&run.stderr, "access\\u001b[2J\\r.log:1");
    assert!(!run.stderr.contains('\u{7}'), "{run:?}");
}
