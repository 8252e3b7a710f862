//! The payloads other code reads from status-probe's records, as types: the view of
//! the status summary ([`SummaryView`], the `summary` record's `data` when a summary
//! was read), the dependency check ([`Deps`]), one CORS request ([`CorsAnswer`],
//! with its [`CorsDefect`]s), one poll of a wait ([`WaitAttempt`]), the fields every
//! record that made a request shares ([`Answered`]), and the reasons of the
//! `summary` check ([`SummaryReason`]).
//!
//! The tool writes those records from these structs (`Record::with_payload`), and
//! readers decode them with `Record::payload::<T>()`, so a renamed field is a compile
//! error on both sides instead of a silent `None`. The record shape is the one
//! `schema/` publishes.

use day2_core::{Problem, Record, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `llm.path` as the tool understands it; anything else is `Unknown`, never a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathClass {
    Primary,
    Warming,
    Fallback,
    Down,
    Unknown,
}

/// What a summary body says, with what was missing from it: the `data` of a
/// `summary` record that read one (see [`SummaryView::of`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryView {
    /// The HTTP status of the answer.
    pub status: u16,
    pub ready: Option<bool>,
    /// `llm.path` as sent.
    pub path: Option<String>,
    pub path_class: PathClass,
    /// `llm.primary_model_present`, else `primary.model_present`.
    pub model_present: Option<bool>,
    pub model: Option<String>,
    pub build_sha: Option<String>,
    /// The UI badge the guide describes, derived from model presence.
    pub badge: String,
    /// nginx's substitute body: the backend is failing, not warming.
    pub synthetic: bool,
    /// The status-path header as received (None when absent).
    pub status_path: Option<String>,
    pub content_type: Vec<String>,
    /// Fields the tool looks for that the body lacks (`ready`, `llm.path`, …).
    pub missing: Vec<String>,
}

/// The `fail` reasons of the `deps`, `legacy` and `warming` checks that other code reads
/// (triage, the cutover's verify step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckReason {
    /// `deps`: a dependency of `/api/ready` failed or the answer says not ready.
    DependencyFailed,
    /// `legacy`: the legacy path is answered by the single-page app (a 200 that is
    /// not the summary): the trap of a deleted nginx location.
    LegacySpaFallback,
    /// `warming`: warming lasted longer than its budget (the SLO).
    WarmingOverBudget,
}

impl CheckReason {
    /// The reason as written in records, e.g. `dependency_failed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CheckReason::DependencyFailed => "dependency_failed",
            CheckReason::LegacySpaFallback => "legacy_spa_fallback",
            CheckReason::WarmingOverBudget => "warming_over_budget",
        }
    }
}

/// Why a `summary` record that read a summary did not pass (its `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryReason {
    /// nginx's synthetic warming body: the backend is failing or down.
    SyntheticWarming,
    /// `llm.path` is primary but `ready` is not true.
    NotReady,
    /// The model server is up and the model is still being pulled (a `warn`).
    Warming,
    /// The model server is down; answers come from the hosted fallback.
    Fallback,
    /// Neither the model server nor a fallback is available.
    Down,
    /// `llm.path` is missing or not one the tool knows.
    UnknownPath,
}

impl SummaryReason {
    /// The reason as written in records, e.g. `synthetic_warming`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SummaryReason::SyntheticWarming => "synthetic_warming",
            SummaryReason::NotReady => "not_ready",
            SummaryReason::Warming => "warming",
            SummaryReason::Fallback => "fallback",
            SummaryReason::Down => "down",
            SummaryReason::UnknownPath => "unknown_path",
        }
    }

    /// The reason of a record, if it is one of these.
    pub fn of(reason: &str) -> Option<SummaryReason> {
        SummaryReason::deserialize(serde_json::Value::from(reason)).ok()
    }
}

impl SummaryView {
    /// The view a `summary` record carries: `None` when the check read no summary
    /// (no answer, another status than 2xx, a body that is not a JSON object: those
    /// records carry a reason of their own and no view).
    ///
    /// Errors: a record that passed or carries a [`SummaryReason`] whose `data` is
    /// not a view (`unexpected_payload`).
    pub fn of(record: &Record) -> Result<Option<SummaryView>, Problem> {
        let read = match record.reason.as_deref() {
            None => record.verdict == Verdict::Pass,
            Some(reason) => SummaryReason::of(reason).is_some(),
        };
        if read {
            record.payload().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// The `data` of a `deps` record that got a 200 or 503 with a JSON body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deps {
    /// The HTTP status: 200 or 503.
    pub status: u16,
    /// The dependencies whose `ok` is false.
    pub failing: Vec<String>,
    /// The body's `checks` (or FastAPI's `detail.checks`) as sent; `null` if absent.
    pub checks: Value,
}

/// A CORS defect of one answer, most telling first in a record's `defects`; the
/// first is the record's `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorsDefect {
    /// The preflight got 405: no route answers OPTIONS (the SPA's catch-all).
    #[serde(rename = "preflight_405")]
    Preflight405,
    /// The preflight got another status than 200/204.
    PreflightRejected,
    /// A GET with the Origin got another status than 2xx.
    UnexpectedStatus,
    /// No `Access-Control-Allow-Origin`.
    AcaoMissing,
    /// `*` with `Access-Control-Allow-Credentials: true` (browsers refuse it).
    AcaoWildcardWithCredentials,
    /// An `Access-Control-Allow-Origin` naming another origin.
    AcaoWrongValue,
    /// A per-origin answer without `Vary: Origin` (caches mix origins up).
    VaryMissingOrigin,
    /// Two or more `Access-Control-Allow-Origin` headers (every browser refuses).
    AcaoDuplicated,
    /// The preflight does not allow the method asked.
    MethodNotAllowed,
    /// The status-path header is lost when an Origin is sent.
    StatusPathHeaderLostWithOrigin,
}

impl CorsDefect {
    /// The defect as written in records, e.g. `acao_duplicated`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CorsDefect::Preflight405 => "preflight_405",
            CorsDefect::PreflightRejected => "preflight_rejected",
            CorsDefect::UnexpectedStatus => "unexpected_status",
            CorsDefect::AcaoMissing => "acao_missing",
            CorsDefect::AcaoWildcardWithCredentials => "acao_wildcard_with_credentials",
            CorsDefect::AcaoWrongValue => "acao_wrong_value",
            CorsDefect::VaryMissingOrigin => "vary_missing_origin",
            CorsDefect::AcaoDuplicated => "acao_duplicated",
            CorsDefect::MethodNotAllowed => "method_not_allowed",
            CorsDefect::StatusPathHeaderLostWithOrigin => "status_path_header_lost_with_origin",
        }
    }
}

/// The `data` of a `cors.preflight`, `cors.summary` or `cors.legacy` record whose
/// answer was judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorsAnswer {
    /// The Origin sent.
    pub origin: String,
    /// `preflight`, `summary` or `legacy`.
    pub request: String,
    pub status: u16,
    /// Every `Access-Control-Allow-Origin` value received.
    pub allow_origin: Vec<String>,
    pub allow_credentials: bool,
    pub vary: Vec<String>,
    pub allow_methods: Option<String>,
    /// The status-path header as received.
    pub status_path: Option<String>,
    pub defects: Vec<CorsDefect>,
}

/// The `data` of a `wait.attempt` record: one poll of `--wait`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitAttempt {
    /// 1-based poll number.
    pub attempt: u64,
    /// snake_case state: a path class, `synthetic_warming`, `not_ready`, `http_503`,
    /// `not_json`, or a transport failure's reason.
    pub state: String,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Seconds since the wait started.
    pub elapsed_s: f64,
    /// The state waited for (`--until`).
    pub until: String,
}

/// The `data` of the `freshness` record: the changelog's newest release, and as far
/// as the check got, the deployed build's SHA, its commit, its tags and the release
/// they name. A field the check did not reach is absent; a field it reached but found
/// empty (`describe` with no tag before the commit, a release without a date) is
/// `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Freshness {
    /// The changelog read (`--changelog`).
    pub changelog: String,
    /// The newest release by SemVer precedence, and its date.
    pub latest: Option<String>,
    pub latest_date: Option<String>,
    /// `build.sha` as the summary reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    /// The commit the SHA names in `--git-dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The tags pointing at the commit, and `git describe --tags`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub describe: Option<Option<String>>,
    /// The changelog release the tags name, its date and the line of its heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub release_date: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_line: Option<usize>,
}

/// A field that is present, maybe `null`: `Some(None)` for `null`, so it is written
/// back as `null` and not left out.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// What every status-probe record that made a request says, whatever its check and
/// shape: the HTTP status when an answer came (absent on a transport failure), and
/// the CORS defects found (only on CORS records). For readers; the records are
/// written from their own payloads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Answered {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defects: Vec<CorsDefect>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_defects_are_written_as_their_names() {
        for reason in [
            SummaryReason::SyntheticWarming,
            SummaryReason::NotReady,
            SummaryReason::Warming,
            SummaryReason::Fallback,
            SummaryReason::Down,
            SummaryReason::UnknownPath,
        ] {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
            assert_eq!(SummaryReason::of(reason.as_str()), Some(reason));
        }
        for defect in [
            CorsDefect::Preflight405,
            CorsDefect::PreflightRejected,
            CorsDefect::UnexpectedStatus,
            CorsDefect::AcaoMissing,
            CorsDefect::AcaoWildcardWithCredentials,
            CorsDefect::AcaoWrongValue,
            CorsDefect::VaryMissingOrigin,
            CorsDefect::AcaoDuplicated,
            CorsDefect::MethodNotAllowed,
            CorsDefect::StatusPathHeaderLostWithOrigin,
        ] {
            assert_eq!(serde_json::to_value(defect).unwrap(), defect.as_str());
        }
        for reason in [
            CheckReason::DependencyFailed,
            CheckReason::LegacySpaFallback,
            CheckReason::WarmingOverBudget,
        ] {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
    }

    #[test]
    fn only_a_summary_that_was_read_carries_a_view() {
        let refused = Record::error("summary", "u", "connection_refused");
        assert_eq!(SummaryView::of(&refused).unwrap(), None);
        let odd = Record::fail("summary", "u", "unexpected_status")
            .data(serde_json::json!({"status": 502}));
        assert_eq!(SummaryView::of(&odd).unwrap(), None);
        let renamed = Record::fail("summary", "u", "down").data(serde_json::json!({"status": 200}));
        let problem = SummaryView::of(&renamed).unwrap_err();
        assert_eq!(problem.reason(), "unexpected_payload");
    }
}
