//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_escaped;
use day2_tests::process::run_in;

#[test]
fn config_values_with_controls_are_quoted_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // YAML's double-quoted escapes put a real ESC and CR into the values.
    std::fs::write(
        dir.path().join("config.yml"),
        "tunnel: df5ed608-b8b4-4109-89f3-9f2cf199df64\ncredentials-file: \"/nonexistent/x\\e[2J\\r.json\"\ningress:\n - service: \"http://bad\\e[2J\\rhost:abc\"\n",
    )
    .unwrap();
    let run = run_in(
        env!("CARGO_BIN_EXE_tunnel-check"),
        dir.path(),
        &["config", "config.yml"],
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_escaped(&run.stderr, "'/nonexistent/x\\u001b[2J\\r.json'");
    assert_escaped(&run.stderr, "http://bad\\x1b[2J\\rhost:abc");
}
