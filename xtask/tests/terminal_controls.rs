//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_quoted_escaped;

#[test]
fn a_workflow_value_with_controls_is_quoted_escaped() {
    assert_quoted_escaped(
        env!("CARGO_BIN_EXE_xtask"),
        &[(
            "ci.yml",
            "jobs:\n  t:\n    env:\n      FAIL_ON_LEGACY: no\u{1b}[2J\rx\n",
        )],
        &[
            "cutover",
            "--only",
            "guard",
            "--workflow",
            "ci.yml",
            "--url",
            "http://127.0.0.1:1",
            "--live-samples",
            "1",
        ],
        &[],
        1,
        &["ci.yml:4 sets FAIL_ON_LEGACY=no\\u001b[2J"],
    );
}
