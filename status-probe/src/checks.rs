//! The single-request checks: `ready` (the process readiness endpoint), `deps` (the
//! dependency check, naming the failing dependencies) and `legacy` (served, gone, or
//! the SPA-fallback trap that looks like a removal but is not one).

use day2_core::http::HttpResponse;
use day2_core::Record;
use serde_json::{json, Value};

use crate::payload::{CheckReason, Deps};
use crate::probe::{failure_record, is_2xx, status_record, Probe};

/// What the legacy path is expected to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LegacyExpect {
    /// Served or gone are both fine; only the SPA-fallback trap fails.
    Any,
    /// Still served, with its header (before the cutover).
    Served,
    /// Gone: 404 or 410 (after the cutover).
    Gone,
}

/// `GET /api/ready`: reachable, 2xx, JSON. Asked once per run: the path is
/// rate-limited on the real edge.
pub fn ready(probe: &mut Probe, path: &str) -> Record {
    let target = probe.url(path);
    let response = match probe.get_plain(path) {
        Ok(response) => response,
        Err(failure) => return failure_record("ready", &target, &failure),
    };
    ready_record(&target, &response)
}

/// The `ready` record of an answer from the readiness endpoint: a 2xx whose body is
/// a JSON object passes; another status or a body that is not a JSON object fails.
/// `target` is the URL asked.
pub fn ready_record(target: &str, response: &HttpResponse) -> Record {
    if !is_2xx(response.status) {
        return status_record("ready", target, response);
    }
    match response.json() {
        Ok(body) if body.is_object() => Record::pass("ready", target)
            .duration(response.elapsed)
            .data(json!({
                "status": response.status,
                "ok": body.get("ok"),
                "rag_ok": body.pointer("/rag/ok"),
                "rag_chunks": body.pointer("/rag/chunks"),
            })),
        Ok(_) => not_json("ready", target, response, "the body is not a JSON object"),
        Err(err) => not_json("ready", target, response, &err.to_string()),
    }
}

fn not_json(check: &str, target: &str, response: &HttpResponse, why: &str) -> Record {
    Record::fail(check, target, "not_json")
        .message(format!("the answer is not JSON: {why}"))
        .duration(response.elapsed)
        .data(json!({
            "status": response.status,
            "content_type": response.header_values("content-type"),
            "body_bytes": response.body.len(),
        }))
}

/// `GET /ready`: 200 passes; 503 fails with the dependencies whose `ok` is false named.
pub fn deps(probe: &mut Probe, path: &str) -> Record {
    let target = probe.url(path);
    let response = match probe.get_plain(path) {
        Ok(response) => response,
        Err(failure) => return failure_record("deps", &target, &failure),
    };
    deps_record(&target, &response)
}

/// The `deps` record of an answer from the dependency check: 200 passes, 503 fails
/// naming the dependencies whose `ok` is false (under `checks`, or FastAPI's
/// `detail.checks`), any other status or a body that is not JSON fails. `target` is
/// the URL asked.
pub fn deps_record(target: &str, response: &HttpResponse) -> Record {
    if response.status != 200 && response.status != 503 {
        return status_record("deps", target, response);
    }
    let body = match response.json() {
        Ok(body) => body,
        Err(err) => return not_json("deps", target, response, &err.to_string()),
    };
    // FastAPI wraps an HTTPException's payload in `detail`.
    let checks = body
        .pointer("/checks")
        .or_else(|| body.pointer("/detail/checks"))
        .cloned()
        .unwrap_or(Value::Null);
    let failing: Vec<String> = checks
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(_, v)| v.get("ok") == Some(&Value::Bool(false)))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    let record = if response.status == 200 {
        Record::pass("deps", target)
    } else {
        Record::fail("deps", target, CheckReason::DependencyFailed.as_str()).message(
            if failing.is_empty() {
                "the dependency check answered 503".to_owned()
            } else {
                format!("failing dependencies: {}", failing.join(", "))
            },
        )
    };
    record.duration(response.elapsed).with_payload(&Deps {
        status: response.status,
        failing,
        checks,
    })
}

/// What the legacy path does, seen without an `Origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyState {
    /// 200 with the status-path header.
    Served,
    /// 404 or 410.
    Gone,
    /// 200 `text/html` without the header: the location was deleted and the SPA
    /// answers instead. Not a removal.
    Trap,
    /// 200 that is not HTML but lacks the header.
    Headerless,
    /// Anything else (a 502 when the backend is down, ...).
    Other,
}

impl LegacyState {
    pub fn of(response: &HttpResponse, status_header: &str) -> LegacyState {
        let header = response.header(status_header).is_some();
        let html = response
            .header_values("content-type")
            .iter()
            .any(|ct| ct.to_ascii_lowercase().starts_with("text/html"));
        match response.status {
            404 | 410 => LegacyState::Gone,
            200 if header => LegacyState::Served,
            200 if html => LegacyState::Trap,
            200 => LegacyState::Headerless,
            _ => LegacyState::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            LegacyState::Served => "served",
            LegacyState::Gone => "gone",
            LegacyState::Trap => "trap",
            LegacyState::Headerless => "headerless",
            LegacyState::Other => "other",
        }
    }
}

/// `GET /status/summary` without `Origin` (an allowed `Origin` makes the header vanish).
pub fn legacy(probe: &mut Probe, path: &str, status_header: &str, expect: LegacyExpect) -> Record {
    let target = probe.url(path);
    let response = match probe.get_plain(path) {
        Ok(response) => response,
        Err(failure) => return failure_record("legacy", &target, &failure),
    };
    let state = LegacyState::of(&response, status_header);
    let base = match (state, expect) {
        (LegacyState::Trap, _) => Record::fail("legacy", &target, CheckReason::LegacySpaFallback.as_str()).message(
            "200 text/html without the status-path header: the SPA answers, the path is not removed",
        ),
        (LegacyState::Headerless, _) => {
            Record::fail("legacy", &target, "status_path_header_missing")
                .message("the legacy path answers without its status-path header")
        }
        (LegacyState::Other, _) => return status_record("legacy", &target, &response),
        (LegacyState::Served, LegacyExpect::Gone) => {
            Record::fail("legacy", &target, "legacy_still_served")
                .message("the legacy path is still served")
        }
        (LegacyState::Gone, LegacyExpect::Served) => Record::fail("legacy", &target, "legacy_gone")
            .message("the legacy path is gone but was expected to be served"),
        (LegacyState::Served | LegacyState::Gone, _) => Record::pass("legacy", &target),
    };
    base.duration(response.elapsed).data(json!({
        "state": state.name(),
        "status": response.status,
        "status_path": response.header(status_header),
        "content_type": response.header_values("content-type"),
    }))
}
