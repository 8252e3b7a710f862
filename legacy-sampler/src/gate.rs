//! The gate: the thresholds a run is held to, and the summary verdict with the reason
//! it passed or failed. Live and log mode share it, so `--fail-on-legacy` and the
//! softer limits mean the same on samples and on log lines.

use std::time::Duration;

use day2_core::record::Verdict;
use serde_json::{json, Value};

use crate::payload::SummaryReason;

/// The limits the user asked for (`--fail-on-legacy`, `--max-legacy-ratio`,
/// `--max-legacy-count`, `--quiet-for`, set by `lib.rs`); none at all means the run
/// only counts.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    pub fail_on_legacy: bool,
    /// Largest legacy share of the status answers, 0 to 1.
    pub max_ratio: Option<f64>,
    pub max_count: Option<u64>,
    /// Log mode: the span before `--until` that must hold no legacy hit.
    pub quiet_for: Option<Duration>,
}

/// Epoch seconds as RFC 3339 UTC (the number itself when out of jiff's range).
pub fn rfc3339(epoch: i64) -> String {
    jiff::Timestamp::from_second(epoch)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| epoch.to_string())
}

/// What the quiet-span verdict looks at (log mode), in epoch seconds.
#[derive(Debug, Clone, Copy)]
pub struct Quiet {
    /// `until - quiet_for`.
    pub start: i64,
    pub until: i64,
    /// Oldest and newest line time seen.
    pub first_line: Option<i64>,
    pub last_line: Option<i64>,
    /// Legacy lines dated inside `[start, until]`.
    pub legacy_in_span: u64,
}

/// The counts the gate judges.
#[derive(Debug, Clone, Copy)]
pub struct Observed {
    pub legacy: u64,
    /// Legacy share of the status answers; `None` when there were none.
    pub ratio: Option<f64>,
    pub quiet: Option<Quiet>,
}

/// One limit and how the run fared against it.
#[derive(Debug, Clone)]
pub struct Check {
    pub gate: &'static str,
    pub passed: bool,
    /// The summary's reason when this check is the failing one (`None` once passed).
    pub reason: Option<SummaryReason>,
    pub why: String,
}

/// Every check of a run, in a fixed order.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub checks: Vec<Check>,
}

impl Gate {
    /// Judges the counts of a finished (or gate-stopped) run.
    pub fn judge(&self, seen: &Observed) -> Outcome {
        let mut checks = Vec::new();
        if self.fail_on_legacy {
            checks.push(Check {
                gate: "fail_on_legacy",
                passed: seen.legacy == 0,
                reason: (seen.legacy != 0).then_some(SummaryReason::LegacySeen),
                why: if seen.legacy == 0 {
                    "no legacy hit".into()
                } else {
                    format!("{}; any is a failure", hits(seen.legacy))
                },
            });
        }
        if let Some(max) = self.max_count {
            checks.push(Check {
                gate: "max_legacy_count",
                passed: seen.legacy <= max,
                reason: (seen.legacy > max).then_some(SummaryReason::LegacyCountExceeded),
                why: format!("{}, limit {max}", hits(seen.legacy)),
            });
        }
        if let Some(max) = self.max_ratio {
            let (passed, why) = match seen.ratio {
                Some(ratio) => (
                    ratio <= max,
                    format!("legacy ratio {ratio:.4}, limit {max}"),
                ),
                None => (true, "no status answers to take a ratio of".into()),
            };
            checks.push(Check {
                gate: "max_legacy_ratio",
                passed,
                reason: (!passed).then_some(SummaryReason::LegacyRatioExceeded),
                why,
            });
        }
        if let (Some(span), Some(quiet)) = (self.quiet_for, seen.quiet) {
            checks.push(quiet_check(span, &quiet));
        }
        Outcome { checks }
    }
}

/// `1 legacy hit`, `3 legacy hits`.
fn hits(n: u64) -> String {
    day2_core::human::plural(n, "legacy hit", "legacy hits")
}

fn quiet_check(span: Duration, quiet: &Quiet) -> Check {
    let span_text = humanize(span.as_secs() as i64);
    let fail = |reason: SummaryReason, why: String| Check {
        gate: "quiet_for",
        passed: false,
        reason: Some(reason),
        why,
    };
    // A hit is a hit whatever the coverage; coverage only matters for a pass.
    if quiet.legacy_in_span > 0 {
        return fail(
            SummaryReason::LegacyInQuietWindow,
            format!("{} in the last {span_text}", hits(quiet.legacy_in_span)),
        );
    }
    let Some(first) = quiet.first_line else {
        return fail(
            SummaryReason::InsufficientCoverage,
            format!("no dated log line: the logs cover nothing of the {span_text} asked"),
        );
    };
    if first > quiet.start {
        return fail(
            SummaryReason::InsufficientCoverage,
            format!(
                "the logs cover {} of the {span_text} asked (oldest line {})",
                humanize((quiet.until - first).max(0)),
                rfc3339(first)
            ),
        );
    }
    if let Some(last) = quiet.last_line {
        if last < quiet.start {
            return fail(
                SummaryReason::StaleLogs,
                format!(
                    "the newest line ({}) is older than the {span_text} span: these logs say nothing about it",
                    rfc3339(last)
                ),
            );
        }
    }
    Check {
        gate: "quiet_for",
        passed: true,
        reason: None,
        why: format!("no legacy hit in the last {span_text}, and the logs cover it"),
    }
}

/// `90061` seconds → `1day 1h 1m 1s`, for messages (humantime's format; a negative
/// span reads `0s`).
fn humanize(seconds: i64) -> String {
    day2_core::duration::words(Duration::from_secs(seconds.max(0) as u64))
}

impl Outcome {
    /// The first failing check, which names the summary's reason.
    pub fn failed(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.passed)
    }

    /// The summary's verdict, reason and sentence. `problem` (no answers at all,
    /// unreadable logs) overrides the gate: nothing can be concluded.
    pub fn verdict(
        &self,
        problem: Option<(SummaryReason, String)>,
    ) -> (Verdict, Option<SummaryReason>, String) {
        if let Some((reason, why)) = problem {
            return (Verdict::Error, Some(reason), why);
        }
        match (self.failed(), self.checks.is_empty()) {
            (Some(check), _) => (
                Verdict::Fail,
                check.reason,
                format!("gate {} failed: {}", check.gate, check.why),
            ),
            (None, true) => (
                Verdict::Info,
                Some(SummaryReason::Counted),
                "no gate asked: counts only".into(),
            ),
            (None, false) => (
                Verdict::Pass,
                None,
                format!(
                    "gate passed: {}",
                    self.checks
                        .iter()
                        .map(|c| c.why.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ),
        }
    }

    /// The `gate` object of the summary's data.
    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| {
                json!({
                    "gate": c.gate,
                    "passed": c.passed,
                    "reason": if c.passed { None } else { c.reason },
                    "why": c.why,
                })
            })
            .collect();
        let verdict = if self.checks.is_empty() {
            "none"
        } else if self.failed().is_some() {
            "fail"
        } else {
            "pass"
        };
        json!({ "verdict": verdict, "checks": checks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet(first: Option<i64>, last: Option<i64>, hits: u64) -> Observed {
        Observed {
            legacy: hits,
            ratio: None,
            quiet: Some(Quiet {
                start: 1_000,
                until: 87_400,
                first_line: first,
                last_line: last,
                legacy_in_span: hits,
            }),
        }
    }

    #[test]
    fn the_quiet_span_needs_coverage_and_no_hit() {
        let gate = Gate {
            quiet_for: Some(Duration::from_secs(86_400)),
            ..Gate::default()
        };
        let reason = |o: Observed| {
            gate.judge(&o)
                .failed()
                .and_then(|c| c.reason)
                .map(SummaryReason::as_str)
        };
        assert_eq!(reason(quiet(Some(900), Some(87_000), 0)), None);
        assert_eq!(
            reason(quiet(Some(900), Some(87_000), 1)),
            Some("legacy_in_quiet_window")
        );
        assert_eq!(
            reason(quiet(Some(2_000), Some(87_000), 0)),
            Some("insufficient_coverage")
        );
        assert_eq!(reason(quiet(None, None, 0)), Some("insufficient_coverage"));
        assert_eq!(reason(quiet(Some(10), Some(500), 0)), Some("stale_logs"));
    }

    #[test]
    fn no_gate_only_counts_and_a_problem_overrides_everything() {
        let outcome = Gate::default().judge(&Observed {
            legacy: 3,
            ratio: Some(0.5),
            quiet: None,
        });
        assert_eq!(outcome.verdict(None).0, Verdict::Info);
        let (verdict, reason, _) = outcome.verdict(Some((SummaryReason::NoResponses, "x".into())));
        assert_eq!(
            (verdict, reason),
            (Verdict::Error, Some(SummaryReason::NoResponses))
        );
        assert_eq!(humanize(90_061), "1day 1h 1m 1s");
        assert_eq!(humanize(-5), "0s");
    }
}
