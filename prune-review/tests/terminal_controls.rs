//! Issue 18, terminal controls: an input file whose contents carry an ESC sequence
//! (`\x1b[2J`, clear screen) and a CR in a value that the error message quotes.
//! stderr speaks to a terminal: it holds them escaped, never raw.

use day2_tests::controls::assert_quoted_escaped;

#[test]
fn a_plan_line_with_controls_is_quoted_escaped() {
    assert_quoted_escaped(
        env!("CARGO_BIN_EXE_prune-review"),
        &[(
            "plan",
            "{\"v\":1,\"tool\":\"prune-review\",\"check\":\"plan.\\u001b[2J\\r\",\"target\":\"x\",\"verdict\":\"info\",\"reason\":\"r\",\"ts\":\"t\",\"data\":{}}\n",
        )],
        &["apply", "--yes", "--filter", "label=x", "--plan", "plan"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
        2,
        &["plan:1: check \"plan.\\u001b[2J\\r\""],
    );
}
