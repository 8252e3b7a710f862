//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_escaped;
use day2_tests::process::run_in;

#[test]
fn a_manifest_key_with_controls_is_quoted_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sri-manifest.json"),
        "{\"a\\u001b[2J\\r.js\": \"sha384-x\"}\n",
    )
    .unwrap();
    let run = run_in(
        env!("CARGO_BIN_EXE_sri-check"),
        dir.path(),
        &["--manifest", "sri-manifest.json"],
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_escaped(&run.stderr, "a\\u001b[2J\\r.js");
}
