//! The exit codes every day2 tool uses, and how the outcomes of many checks merge
//! into one process exit code.

/// The documented outcome of one tool run. Ordered by severity, so the outcome of a
/// run is the maximum of the outcomes of its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: every check passed (warnings and info records included).
    Ok,
    /// 1: at least one check failed or could not reach its target.
    Failed,
    /// 124: a deadline given with a wait option ran out (the GNU `timeout` convention).
    Timeout,
    /// 2: usage error, or input that cannot be read or parsed.
    Usage,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Timeout => 124,
        }
    }

    /// What the code means, in the words of the exit-code table.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "every check passed",
            Exit::Failed => "at least one check failed",
            Exit::Usage => "usage error, or input that cannot be read or parsed",
            Exit::Timeout => "a deadline given with a wait option ran out",
        }
    }

    /// The more severe of two outcomes.
    pub fn merge(self, other: Exit) -> Exit {
        self.max(other)
    }
}

/// The exit codes and their meanings, for the man pages' EXIT STATUS.
pub const EXIT_CODES: [(u8, &str); 4] = [
    (
        0,
        "every check passed (warn and info records do not fail a run)",
    ),
    (
        1,
        "at least one check failed (an unreachable target is a failed check)",
    ),
    (2, "usage error, or input that cannot be read or parsed"),
    (124, "a deadline given with a wait option ran out"),
];

/// The heading of the examples in [`after_help`].
pub const EXAMPLES_HEADING: &str = "Examples:";

/// What every command's `--help` ends with: its examples (one command line each, a
/// `# comment` after it), then the output note and the exit-code table. The man
/// pages (`cargo xtask dist`) read the examples back from here.
pub fn after_help(examples: &[&str]) -> String {
    let mut text = String::from(EXAMPLES_HEADING);
    text.push('\n');
    for example in examples {
        text.push_str("  ");
        text.push_str(example);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(EXIT_CODES_HELP);
    text
}

/// The examples of a command's `--help` text written by [`after_help`].
pub fn examples_of(after_help: &str) -> Vec<&str> {
    let Some(rest) = after_help.strip_prefix(EXAMPLES_HEADING) else {
        return Vec::new();
    };
    rest.lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect()
}

/// The exit-code table, appended to every tool's `--help`.
pub const EXIT_CODES_HELP: &str = "\
Output: one JSON record per line on stdout (schema: schema/record.schema.json), or a
checklist with --format text; on stderr, one line per failed check (and per warning
unless --quiet), then a closing line with the counts and the exit code's meaning.

Exit codes:
  0    every check passed (warn and info records do not fail a run)
  1    at least one check failed (an unreachable target is a failed check)
  2    usage error, or input that cannot be read or parsed
  124  a deadline given with a wait option ran out";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_the_most_severe_outcome() {
        assert_eq!(Exit::Ok.merge(Exit::Failed), Exit::Failed);
        assert_eq!(Exit::Timeout.merge(Exit::Failed), Exit::Timeout);
        assert_eq!(Exit::Timeout.merge(Exit::Usage), Exit::Usage);
        assert_eq!(Exit::Ok.merge(Exit::Ok), Exit::Ok);
    }

    #[test]
    fn codes_match_the_documented_table() {
        let codes: Vec<u8> = [Exit::Ok, Exit::Failed, Exit::Usage, Exit::Timeout]
            .iter()
            .map(|e| e.code())
            .collect();
        assert_eq!(codes, vec![0, 1, 2, 124]);
        for code in ["0 ", "1 ", "2 ", "124 "] {
            assert!(EXIT_CODES_HELP.contains(&format!("\n  {code}")), "{code}");
        }
        for exit in [Exit::Ok, Exit::Failed, Exit::Usage, Exit::Timeout] {
            assert!(EXIT_CODES_HELP.contains(exit.meaning()), "{exit:?}");
        }
        for (code, meaning) in EXIT_CODES {
            assert!(
                EXIT_CODES_HELP.contains(&format!("\n  {code:<4} {meaning}")),
                "{code}"
            );
        }
    }

    #[test]
    fn examples_are_read_back_from_the_help() {
        let text = after_help(&["tool --flag   # does it", "tool sub"]);
        assert!(text.ends_with(EXIT_CODES_HELP));
        assert_eq!(examples_of(&text), ["tool --flag   # does it", "tool sub"]);
        assert!(examples_of(EXIT_CODES_HELP).is_empty());
    }
}
