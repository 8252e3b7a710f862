//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_quoted_escaped;

#[test]
fn a_changelog_heading_with_controls_is_quoted_escaped() {
    assert_quoted_escaped(
        env!("CARGO_BIN_EXE_status-probe"),
        &[(
            "CHANGELOG.md",
            "# Changelog\n\n## [1.x\u{1b}[2J\rz] - 2026-11-01\n- a\n",
        )],
        &[
            "--url",
            "http://127.0.0.1:1",
            "--changelog",
            "CHANGELOG.md",
            "summary",
        ],
        &[],
        2,
        &["CHANGELOG.md:3: release heading \"1.x\\u001b[2J"],
    );
}
