//! The status summary: parsing it leniently whatever its Content-Type, classifying
//! `llm.path`, deriving the UI badge, and telling nginx's synthetic warming body (the
//! backend is failing) from a real warming (the model is still being pulled).

use day2_core::http::HttpResponse;
use day2_core::Record;
use serde_json::{json, Value};

pub use crate::payload::{PathClass, SummaryReason, SummaryView};
use crate::probe::{failure_record, is_2xx, status_record, Ask, Probe};

/// The badge the frontend shows once the primary model is present.
pub const BADGE_PRIMARY: &str = "Agent — primary";
/// The badge the frontend shows while the primary model is absent.
pub const BADGE_FALLBACK: &str = "fallback (no model)";

impl PathClass {
    pub const ALL: [PathClass; 5] = [
        PathClass::Primary,
        PathClass::Warming,
        PathClass::Fallback,
        PathClass::Down,
        PathClass::Unknown,
    ];

    pub fn of(path: Option<&str>) -> PathClass {
        match path {
            Some("primary") => PathClass::Primary,
            Some("warming") => PathClass::Warming,
            Some("fallback") => PathClass::Fallback,
            Some("down") => PathClass::Down,
            _ => PathClass::Unknown,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PathClass::Primary => "primary",
            PathClass::Warming => "warming",
            PathClass::Fallback => "fallback",
            PathClass::Down => "down",
            PathClass::Unknown => "unknown",
        }
    }
}

impl SummaryView {
    /// The state a wait reports and transitions between: `synthetic_warming`,
    /// `unknown_path`, `not_ready` (primary but not ready), or the path's own name.
    pub fn state(&self) -> &'static str {
        match (self.synthetic, self.path_class) {
            (true, _) => "synthetic_warming",
            (false, PathClass::Unknown) => "unknown_path",
            (false, PathClass::Primary) if !self.primary_ready() => "not_ready",
            (false, class) => class.name(),
        }
    }

    /// Whether the stack is truly ready: `ready=true` and `llm.path=primary`.
    pub fn primary_ready(&self) -> bool {
        !self.synthetic && self.ready == Some(true) && self.path_class == PathClass::Primary
    }
}

/// Whether a body is exactly nginx's synthetic warming: no `build`, no `primary`,
/// `llm` carrying only `path: warming`. A real warming body has both.
pub fn is_synthetic(body: &Value) -> bool {
    let Some(map) = body.as_object() else {
        return false;
    };
    map.len() == 4
        && map.get("ok") == Some(&Value::Bool(false))
        && map.get("ready") == Some(&Value::Bool(false))
        && map.get("llm") == Some(&json!({"path": "warming"}))
        && map.get("rag") == Some(&json!({"ok": true}))
}

/// Why a summary answer could not be read as a summary.
#[derive(Debug, Clone, PartialEq)]
pub enum Unreadable {
    Status,
    NotJson(String),
}

/// Reads a summary answer: any 2xx whose body is a JSON object, whatever the
/// Content-Type says (the synthetic body may claim `application/octet-stream`).
pub fn read(response: &HttpResponse, status_header: &str) -> Result<SummaryView, Unreadable> {
    if !is_2xx(response.status) {
        return Err(Unreadable::Status);
    }
    let body = response
        .json()
        .map_err(|e| Unreadable::NotJson(e.to_string()))?;
    if !body.is_object() {
        return Err(Unreadable::NotJson("the body is not a JSON object".into()));
    }
    let bool_at = |ptr: &str| body.pointer(ptr).and_then(Value::as_bool);
    let str_at = |ptr: &str| body.pointer(ptr).and_then(Value::as_str).map(str::to_owned);
    let mut missing = Vec::new();
    let ready = bool_at("/ready");
    if ready.is_none() {
        missing.push("ready");
    }
    let path = str_at("/llm/path");
    if path.is_none() {
        missing.push("llm.path");
    }
    let model_present =
        bool_at("/llm/primary_model_present").or_else(|| bool_at("/primary/model_present"));
    if model_present.is_none() {
        missing.push("llm.primary_model_present");
    }
    let build_sha = str_at("/build/sha");
    if build_sha.is_none() {
        missing.push("build.sha");
    }
    Ok(SummaryView {
        status: response.status,
        ready,
        path_class: PathClass::of(path.as_deref()),
        path,
        model_present,
        model: str_at("/llm/model").or_else(|| str_at("/primary/model")),
        build_sha,
        badge: if model_present == Some(true) {
            BADGE_PRIMARY
        } else {
            BADGE_FALLBACK
        }
        .to_owned(),
        synthetic: is_synthetic(&body),
        status_path: response.header(status_header).map(str::to_owned),
        content_type: response
            .header_values("content-type")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        missing: missing.into_iter().map(str::to_owned).collect(),
    })
}

/// The `summary` check: one record, and the view when the body was readable.
pub fn check(probe: &mut Probe, path: &str, status_header: &str) -> (Record, Option<SummaryView>) {
    let target = probe.url(path);
    let answer = probe.send(&Ask::get(path));
    probe.remember(path, &answer);
    let response = match answer {
        Ok(response) => response,
        Err(failure) => return (failure_record("summary", &target, &failure), None),
    };
    record(&target, &response, status_header)
}

/// The `summary` record of an answer, and the view when the body was readable:
/// another status than 2xx or a body that is not a JSON object fails; a readable
/// body is judged by its `llm.path` and `ready`. `target` is the URL asked.
pub fn record(
    target: &str,
    response: &HttpResponse,
    status_header: &str,
) -> (Record, Option<SummaryView>) {
    let view = match read(response, status_header) {
        Ok(view) => view,
        Err(Unreadable::Status) => return (status_record("summary", target, response), None),
        Err(Unreadable::NotJson(why)) => {
            let record = Record::fail("summary", target, "not_json")
                .message(format!("the summary is not a JSON object: {why}"))
                .duration(response.elapsed)
                .data(json!({
                    "status": response.status,
                    "content_type": response.header_values("content-type"),
                    "body_bytes": response.body.len(),
                }));
            return (record, None);
        }
    };
    let base = match (view.synthetic, view.path_class, view.ready) {
        (true, _, _) => Record::fail("summary", target, SummaryReason::SyntheticWarming.as_str()).message(
            "nginx answered its synthetic warming body: the backend is failing or down, not warming",
        ),
        (false, PathClass::Primary, Some(true)) => Record::pass("summary", target),
        (false, PathClass::Primary, _) => Record::fail("summary", target, SummaryReason::NotReady.as_str())
            .message("llm.path is primary but ready is not true (empty retrieval index?)"),
        (false, PathClass::Warming, _) => Record::warn("summary", target, SummaryReason::Warming.as_str())
            .message("the model server is up and the model is still being pulled"),
        (false, PathClass::Fallback, _) => Record::fail("summary", target, SummaryReason::Fallback.as_str())
            .message("the model server is down; answers come from the hosted fallback"),
        (false, PathClass::Down, _) => Record::fail("summary", target, SummaryReason::Down.as_str())
            .message("neither the model server nor a fallback is available"),
        (false, PathClass::Unknown, _) => Record::fail("summary", target, SummaryReason::UnknownPath.as_str())
            .message(match &view.path {
                Some(path) => format!("llm.path {} is not one the tool knows", crate::quoted(path)),
                None => "the summary has no llm.path".to_owned(),
            }),
    };
    let record = base.duration(response.elapsed).with_payload(&view);
    (record, Some(view))
}

/// The summary view without a record, for the SLO, freshness and metrics when the
/// summary check itself was not selected (reuses an answer the run already has).
pub fn fetch(probe: &mut Probe, path: &str, status_header: &str) -> Option<SummaryView> {
    let response = probe.get_plain(path).ok()?;
    read(&response, status_header).ok()
}
