//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_quoted_escaped;

#[test]
fn a_wslconfig_value_with_controls_is_quoted_escaped() {
    assert_quoted_escaped(
        env!("CARGO_BIN_EXE_docker-doctor"),
        &[(
            "wslconfig",
            "[wsl2]\nmemory=8\u{1b}[2J\r5GB\nprocessors=2\n",
        )],
        &["--checks", "wslconfig", "--wslconfig", "wslconfig"],
        &[],
        1,
        &["memory=\"8\\u001b[2J"],
    );
}

/// A `.env` value quoted in the project-name error, in JSON's notation.
#[test]
fn an_env_file_value_with_controls_is_quoted_escaped() {
    assert_quoted_escaped(
        env!("CARGO_BIN_EXE_docker-doctor"),
        &[
            ("compose.yaml", "services: {}\n"),
            (".env", "COMPOSE_PROJECT_NAME=Bad\u{1b}[2J\rname\n"),
        ],
        &["--checks", "stack"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
        2,
        &["invalid project name \"Bad\\u001b[2J\\rname\""],
    );
}
