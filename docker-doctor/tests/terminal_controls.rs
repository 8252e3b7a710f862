//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_escaped;
use day2_tests::process::run_in;

#[test]
fn a_wslconfig_value_with_controls_is_quoted_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wslconfig"),
        "[wsl2]\nmemory=8\u{1b}[2J\r5GB\nprocessors=2\n",
    )
    .unwrap();
    let run = run_in(
        env!("CARGO_BIN_EXE_docker-doctor"),
        dir.path(),
        &["--checks", "wslconfig", "--wslconfig", "wslconfig"],
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_escaped(&run.stderr, "memory=\"8\\u001b[2J");
}

/// A `.env` value quoted in the project-name error, in JSON's notation.
#[test]
fn an_env_file_value_with_controls_is_quoted_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), "services: {}\n").unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "COMPOSE_PROJECT_NAME=Bad\u{1b}[2J\rname\n",
    )
    .unwrap();
    let run = run_in(
        env!("CARGO_BIN_EXE_docker-doctor"),
        dir.path(),
        &["--checks", "stack"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_escaped(&run.stderr, "invalid project name \"Bad\\u001b[2J\\rname\"");
}
