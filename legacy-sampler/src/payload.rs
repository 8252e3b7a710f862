//! The payloads other code reads from legacy-sampler's records, as types: the `data`
//! of the `summary` record in live mode ([`LiveSummary`]) and in log mode
//! ([`LogSummary`]), and the summary's reasons ([`SummaryReason`]).
//!
//! The tool writes those records from these structs (`Record::with_payload`), and
//! readers decode them with `Record::payload::<T>()`, so a renamed field is a compile
//! error on both sides instead of a silent `None`. Maps of counts are keyed by their
//! JSON text (`"api"`, `"503"`); nested objects no other code reads (`gate`,
//! `latency_ms`, `schedule`, `quiet`, …) stay JSON values. The record shape is the
//! one `schema/` publishes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a `summary` record did not pass (its `reason`), in snake_case as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryReason {
    /// `--fail-on-legacy`: any legacy answer or line fails.
    LegacySeen,
    /// More legacy answers than `--max-legacy-count`.
    LegacyCountExceeded,
    /// A legacy share above `--max-legacy-ratio`.
    LegacyRatioExceeded,
    /// `--quiet-for`: a legacy line inside the span.
    LegacyInQuietWindow,
    /// `--quiet-for`: the logs do not reach back over the whole span.
    InsufficientCoverage,
    /// `--quiet-for`: the newest line is older than the span.
    StaleLogs,
    /// No gate asked: the run only counted (an `info`).
    Counted,
    /// Live mode: no sample got an answer (an `error`).
    NoResponses,
    /// Log mode: the logs hold no access line (an `error`).
    NoAccessLines,
    /// Log mode: more lines than `--max-malformed-ratio` do not match the format.
    TooManyMalformed,
}

impl SummaryReason {
    /// The reason as written in records, e.g. `legacy_seen`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SummaryReason::LegacySeen => "legacy_seen",
            SummaryReason::LegacyCountExceeded => "legacy_count_exceeded",
            SummaryReason::LegacyRatioExceeded => "legacy_ratio_exceeded",
            SummaryReason::LegacyInQuietWindow => "legacy_in_quiet_window",
            SummaryReason::InsufficientCoverage => "insufficient_coverage",
            SummaryReason::StaleLogs => "stale_logs",
            SummaryReason::Counted => "counted",
            SummaryReason::NoResponses => "no_responses",
            SummaryReason::NoAccessLines => "no_access_lines",
            SummaryReason::TooManyMalformed => "too_many_malformed",
        }
    }
}

/// The counts of one URL of a live run (`by_url`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlCounts {
    pub answered: u64,
    pub failed: u64,
    pub unfinished: u64,
    /// Answers by classifying header value (`api`, `legacy`, `missing`, …).
    pub values: BTreeMap<String, u64>,
    /// Answers whose value was not listed (past the distinct-value cap).
    pub values_unlisted: u64,
}

/// `data` of the live-mode `summary` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSummary {
    /// The classifying response header, e.g. `X-Status-Path`.
    pub header: String,
    /// The Origin header sent, if any.
    pub origin: Option<String>,
    /// TLS verification was off (`--insecure`).
    pub insecure: bool,
    /// Samples asked for, sent, answered, failed (transport), cut off at the end,
    /// missed (never sent in time) and skipped (not sent after a gate stop).
    pub requested: u64,
    pub sent: u64,
    pub answered: u64,
    pub failed: u64,
    pub unfinished: u64,
    pub missed: u64,
    pub skipped: u64,
    /// `--stop-on-legacy` ended the run.
    pub stopped_by_gate: bool,
    /// Answers by classifying header value (`api`, `legacy`, `missing`, …).
    pub values: BTreeMap<String, u64>,
    pub values_unlisted: u64,
    /// Answers by HTTP status (`"200"`, `"503"`).
    pub statuses: BTreeMap<String, u64>,
    /// Failed samples by transport reason (`connection_refused`, `timeout`, …).
    pub errors: BTreeMap<String, u64>,
    /// Legacy answers, and their share of all answers (`None` without answers).
    pub legacy: u64,
    pub legacy_ratio: Option<f64>,
    /// RFC 3339 times of the first and last legacy answer.
    pub first_legacy: Option<String>,
    pub last_legacy: Option<String>,
    /// Latency percentiles in milliseconds (`null` without a timed sample).
    pub latency_ms: Value,
    /// The schedule asked for and achieved.
    pub schedule: Value,
    /// The same counts per sampled URL.
    pub by_url: BTreeMap<String, UrlCounts>,
    /// The gate's checks and verdict.
    pub gate: Value,
}

/// One of the busiest callers of the legacy path in the logs (`legacy_clients`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyClient {
    /// The client address as logged (`$remote_addr`).
    pub client: String,
    pub hits: u64,
    /// RFC 3339 time of its last legacy line.
    pub last: String,
}

/// One of the busiest user agents on the legacy path (`legacy_user_agents`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyUserAgent {
    pub user_agent: String,
    pub hits: u64,
    /// RFC 3339 time of its last legacy line.
    pub last: String,
}

/// One of the most requested legacy paths (`legacy_paths`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyPath {
    /// The request path as logged.
    pub path: String,
    pub hits: u64,
    /// RFC 3339 time of its last line.
    pub last: String,
}

/// What span of time the logs cover (`coverage`), RFC 3339 and seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub first: Option<String>,
    pub last: Option<String>,
    pub span_s: Option<i64>,
}

/// `data` of the log-mode `summary` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogSummary {
    /// The logs read, as named on the command line (`stdin` for `-`).
    pub sources: Vec<String>,
    /// `combined` or `custom`.
    pub format: String,
    pub escape: String,
    pub header_variable: Option<String>,
    pub path_variable: Value,
    pub merge_slashes: bool,
    /// Lines read, and the malformed, prefixed, foreign and rejected ones.
    pub lines: u64,
    pub malformed: Value,
    pub prefixed: u64,
    pub foreign: Value,
    pub rejected: u64,
    /// Lines by classifying value (`api`, `legacy`, `not_status`, others as logged).
    pub values: BTreeMap<String, u64>,
    pub other_values_unlisted: u64,
    pub classified_by: Value,
    /// Lines by HTTP status (`"200"`, `"410"`).
    pub statuses: BTreeMap<String, u64>,
    /// Legacy lines, their share of the status lines, and their statuses.
    pub legacy: u64,
    pub legacy_ratio: Option<f64>,
    pub legacy_statuses: BTreeMap<String, u64>,
    pub first_legacy: Option<String>,
    pub last_legacy: Option<String>,
    pub coverage: Coverage,
    /// Window length in seconds, windows seen, and those with a legacy line.
    pub window_s: i64,
    pub windows: u64,
    pub windows_with_legacy: u64,
    pub legacy_clients: Vec<LegacyClient>,
    pub legacy_user_agents: Vec<LegacyUserAgent>,
    pub legacy_paths: Vec<LegacyPath>,
    /// The `--quiet-for` span judged (`null` without it).
    pub quiet: Value,
    /// The gate's checks and verdict.
    pub gate: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_written_as_their_names() {
        for reason in [
            SummaryReason::LegacySeen,
            SummaryReason::LegacyCountExceeded,
            SummaryReason::LegacyRatioExceeded,
            SummaryReason::LegacyInQuietWindow,
            SummaryReason::InsufficientCoverage,
            SummaryReason::StaleLogs,
            SummaryReason::Counted,
            SummaryReason::NoResponses,
            SummaryReason::NoAccessLines,
            SummaryReason::TooManyMalformed,
        ] {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
    }
}
