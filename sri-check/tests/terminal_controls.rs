//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_quoted_escaped;

#[test]
fn a_manifest_key_with_controls_is_quoted_escaped() {
    assert_quoted_escaped(
        env!("CARGO_BIN_EXE_sri-check"),
        &[(
            "sri-manifest.json",
            "{\"a\\u001b[2J\\r.js\": \"sha384-x\"}\n",
        )],
        &["--manifest", "sri-manifest.json"],
        &[],
        1,
        &["a\\u001b[2J\\r.js"],
    );
}
