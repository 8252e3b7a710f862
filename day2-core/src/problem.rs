//! One failure, said once: a machine reason and a human sentence. Modules return
//! `Result<T, Problem>` instead of `Result<T, String>` or a failure struct of their
//! own, and the tool turns the problem into an `error` record (or a usage error) at
//! the edge, so the reason code a record carries is decided where the failure is
//! understood.

use std::borrow::Cow;
use std::fmt;

use crate::http::HttpFailure;
use crate::record::Record;

/// A failure with its reason code (snake_case, as written in a record's `reason`) and
/// one sentence for a person (as written in `message`; never a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The record's `reason`, e.g. `connection_refused`, `invalid_config`.
    pub reason: Cow<'static, str>,
    /// The record's `message`: what went wrong and where, in words.
    pub message: String,
}

impl Problem {
    /// A problem with a fixed reason code.
    pub fn new(reason: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            reason: Cow::Borrowed(reason),
            message: message.into(),
        }
    }

    /// A problem whose reason code is only known at run time (e.g. read from input).
    pub fn with_reason(reason: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            reason: Cow::Owned(reason.into()),
            message: message.into(),
        }
    }

    /// The same problem with `what: ` in front of its message (a file, a line, a step).
    pub fn context(mut self, what: impl fmt::Display) -> Problem {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// The reason code.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// An `error` record for `check` on `target`, with this reason and message.
    pub fn into_record(self, check: &str, target: &str) -> Record {
        Record::error(check, target, &self.reason).message(self.message)
    }

    /// A record with any verdict for `check` on `target` (a refused input can be a
    /// `fail`, a doubtful one a `warn`), with this reason and message.
    pub fn into_record_as(self, verdict: crate::Verdict, check: &str, target: &str) -> Record {
        Record::new(check, target, verdict, Some(&self.reason)).message(self.message)
    }
}

impl fmt::Display for Problem {
    /// The message alone: the reason code is for machines and is not repeated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl From<HttpFailure> for Problem {
    /// The transport failure's reason (`connection_refused`, `timeout`, …) and its
    /// message in words.
    fn from(failure: HttpFailure) -> Problem {
        Problem::new(failure.kind.reason(), failure.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::FailureKind;
    use std::time::Duration;

    #[test]
    fn a_problem_becomes_an_error_record_with_its_reason_and_message() {
        let record = Problem::new("invalid_config", "line 3: no ingress rules")
            .context("config.yml")
            .into_record("config", "config.yml");
        assert_eq!(record.verdict, crate::Verdict::Error);
        assert_eq!(record.reason.as_deref(), Some("invalid_config"));
        assert_eq!(
            record.message.as_deref(),
            Some("config.yml: line 3: no ingress rules")
        );
    }

    #[test]
    fn an_http_failure_keeps_its_reason_and_does_not_repeat_it_in_words() {
        let problem = Problem::from(HttpFailure {
            kind: FailureKind::Refused,
            message: "nothing listens on 127.0.0.1:9".into(),
            elapsed: Duration::ZERO,
        });
        assert_eq!(problem.reason(), "connection_refused");
        assert_eq!(problem.to_string(), "nothing listens on 127.0.0.1:9");
        let warned = problem.into_record_as(crate::Verdict::Warn, "ready", "u");
        assert_eq!(warned.verdict, crate::Verdict::Warn);
    }
}
