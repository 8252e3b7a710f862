//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_quoted_escaped;

/// legacy-sampler quotes no line content on stderr, only places (`FILE:LINE`): a
/// log whose name and lines both carry controls shows the name escaped.
#[test]
fn a_log_with_controls_in_its_name_and_lines_is_shown_escaped() {
    let name = "access\u{1b}[2J\r.log";
    let run = assert_quoted_escaped(
        env!("CARGO_BIN_EXE_legacy-sampler"),
        &[(
            name,
            "garbage \u{1b}[2J\r line\nmore \u{1b}]0;owned\u{7}\r\n",
        )],
        &["--log", name],
        &[],
        2,
        &["access\\u001b[2J\\r.log:1"],
    );
    assert!(!run.stderr.contains('\u{7}'), "{run:?}");
}
