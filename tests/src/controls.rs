//! Terminal controls in what a tool shows a person (issue 18): stderr speaks to a
//! terminal, so an input's ESC sequence (`\x1b[2J`, clear screen) or CR that an
//! error message quotes must reach it escaped, never raw.

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
