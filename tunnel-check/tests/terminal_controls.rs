//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_quoted_escaped;

#[test]
fn config_values_with_controls_are_quoted_escaped() {
    // YAML's double-quoted escapes put a real ESC and CR into the values.
    assert_quoted_escaped(
        env!("CARGO_BIN_EXE_tunnel-check"),
        &[(
            "config.yml",
            "tunnel: df5ed608-b8b4-4109-89f3-9f2cf199df64\ncredentials-file: \"/nonexistent/x\\e[2J\\r.json\"\ningress:\n - service: \"http://bad\\e[2J\\rhost:abc\"\n",
        )],
        &["config", "config.yml"],
        &[],
        1,
        &[
            "'/nonexistent/x\\u001b[2J\\r.json'",
            "http://bad\\x1b[2J\\rhost:abc",
        ],
    );
}
