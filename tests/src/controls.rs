//! Terminal controls in what a tool shows a person (issue 18): stderr speaks to a
//! terminal, so an input's ESC sequence (`\x1b[2J`, clear screen) or CR that an
//! error message quotes must reach it escaped, never raw.

use crate::process::{run_in, Run};

/// The case of a tool quoting an input's controls: `files` (name, contents) are
/// written in a fresh directory, `program` runs there with `args` and `env` added
/// (nothing on stdin, 60 s at most). Fails unless it exits with `code` and its
/// stderr passes [`assert_escaped`] for each of `escaped`; returns the run for
/// further checks.
pub fn assert_quoted_escaped(
    program: &str,
    files: &[(&str, &str)],
    args: &[&str],
    env: &[(&str, &str)],
    code: i32,
    escaped: &[&str],
) -> Run {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, contents) in files {
        std::fs::write(dir.path().join(name), contents)
            .unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
    }
    let run = run_in(program, dir.path(), args, env);
    run.assert_code(code);
    for escaped in escaped {
        assert_escaped(&run.stderr, escaped);
    }
    run
}

/// Fails unless `stderr` holds no raw ESC or CR and shows `escaped` (the quoted
/// input, escaped).
pub fn assert_escaped(stderr: &str, escaped: &str) {
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "raw controls on stderr: {stderr:?}"
    );
    assert!(stderr.contains(escaped), "{escaped:?} not in {stderr:?}");
}

#[cfg(test)]
mod tests {
    use super::assert_escaped;

    #[test]
    fn raw_controls_or_a_missing_quote_fail() {
        assert_escaped("a: \"x\\u001b[2J\\r\"\n", "x\\u001b[2J");
        for (stderr, escaped) in [
            ("a: \"x\u{1b}[2J\"", "a:"),
            ("a: \"x\r\"", "a:"),
            ("a: \"x\"", "x\\u001b"),
        ] {
            let caught = std::panic::catch_unwind(|| assert_escaped(stderr, escaped));
            assert!(caught.is_err(), "{stderr:?} passed");
        }
    }
}
