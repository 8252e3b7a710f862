//! The `cors` check. For each origin that must be allowed: a preflight on the chat
//! path, a GET of the summary and (while it is served) of the legacy path with that
//! `Origin`, each judged on its own (exactly one `Access-Control-Allow-Origin` equal to
//! the origin or `*` without credentials, `Vary: Origin`, the method allowed, the
//! status-path header kept), then the three compared, since nginx and the backend keep
//! separate allow-lists. Each origin that must be refused gets no Allow-Origin at all.
//!
//! Counting header lines is the point: a grep for the header line sees one where a
//! browser sees two and refuses both.

use day2_core::http::HttpResponse;
use day2_core::{Closed, Record};
use serde_json::{json, Value};

use crate::checks::LegacyState;
use crate::output::Output;
use crate::payload::{CorsAnswer, CorsDefect};
use crate::probe::{failure_record, is_2xx, Answer, Ask, Probe};

/// The paths and names the CORS checks use, taken by `lib.rs` from `--summary-path`,
/// `--legacy-path`, `--chat-path`, `--status-header`, `--preflight-method` and
/// `--disallowed-origin`.
#[derive(Debug, Clone)]
pub struct Plan {
    pub summary_path: String,
    pub legacy_path: String,
    /// Path the preflight is sent to (`/api/chat` at the edge, `/chat` on the backend).
    pub chat_path: String,
    pub status_header: String,
    /// Method named in the preflight's `Access-Control-Request-Method`.
    pub preflight_method: String,
    /// Origins the stack must refuse.
    pub disallowed_origins: Vec<String>,
}

const ACAO: &str = "access-control-allow-origin";
const ACAC: &str = "access-control-allow-credentials";

/// Which request of the check a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Preflight,
    Summary,
    Legacy,
}

impl Kind {
    fn check(self) -> &'static str {
        match self {
            Kind::Preflight => "cors.preflight",
            Kind::Summary => "cors.summary",
            Kind::Legacy => "cors.legacy",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Preflight => "preflight",
            Kind::Summary => "summary",
            Kind::Legacy => "legacy",
        }
    }
}

/// Why an exchange says nothing about CORS: the request got no answer, the server
/// failed (5xx, which includes nginx's rate limit, 503 by default), it was
/// rate-limited (429), or nginx covered for a backend that did not answer (the
/// synthetic warming body carries nginx's CORS headers only). "Could not check",
/// never a verdict.
struct Unchecked {
    record: Record,
    /// `{request, reason, status}` for the roll-up records.
    summary: Value,
}

/// The answer, or why it cannot be judged.
fn usable(
    answer: Answer,
    kind: Kind,
    check: &str,
    target: &str,
    origin: &str,
) -> Result<HttpResponse, Box<Unchecked>> {
    let response = match answer {
        Ok(response) => response,
        Err(failure) => {
            return Err(Box::new(Unchecked {
                summary: json!({"request": kind.name(), "reason": failure.kind.reason(), "status": null}),
                record: failure_record(check, target, &failure)
                    .data(json!({"origin": origin, "request": kind.name()})),
            }))
        }
    };
    let synthetic = kind == Kind::Summary
        && response
            .json()
            .is_ok_and(|body| crate::summary::is_synthetic(&body));
    let (reason, why) = if response.status >= 500 {
        (
            "server_error",
            format!("answered HTTP {}: the server failed", response.status),
        )
    } else if response.status == 429 {
        (
            "rate_limited",
            "answered HTTP 429: the request was rate-limited".to_owned(),
        )
    } else if synthetic {
        (
            "synthetic_warming",
            "nginx answered its synthetic warming body: the backend did not answer".to_owned(),
        )
    } else {
        return Ok(response);
    };
    Err(Box::new(Unchecked {
        summary: json!({"request": kind.name(), "reason": reason, "status": response.status}),
        record: Record::error(check, target, reason)
            .message(format!("{origin}: {why}, so CORS could not be checked"))
            .duration(response.elapsed)
            .data(json!({
                "origin": origin,
                "request": kind.name(),
                "status": response.status,
                "allow_origin": response.header_values(ACAO),
            })),
    }))
}

/// The requests of a roll-up that could not be checked, in words.
fn unchecked_words(unchecked: &[Value]) -> String {
    unchecked
        .iter()
        .map(|u| {
            let request = u["request"].as_str().unwrap_or("?");
            match u["status"].as_u64() {
                Some(status) => format!("{request}: HTTP {status}"),
                None => format!(
                    "{request}: {}",
                    u["reason"].as_str().unwrap_or("?").replace('_', " ")
                ),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs the check for every origin and every disallowed origin.
pub fn run(
    plan: &Plan,
    origins: &[String],
    probe: &mut Probe,
    out: &mut Output<'_>,
) -> Result<(), Closed> {
    if origins.is_empty() && plan.disallowed_origins.is_empty() {
        return out.emit(
            Record::info("cors", probe.base(), "no_origins")
                .message("no --origin, --disallowed-origin or ALLOWED_ORIGINS: nothing to check"),
        );
    }
    // Baselines without Origin: whether the status-path header is there at all, and
    // whether the legacy path is still served (only then is its CORS worth judging).
    let summary_header = header_present(&probe.get_plain(&plan.summary_path), &plan.status_header);
    let legacy_served = served(&probe.get_plain(&plan.legacy_path), &plan.status_header);
    for origin in origins {
        let mut allowed_on = Vec::new();
        let mut refused_on = Vec::new();
        let mut unchecked = Vec::new();
        for (kind, path, header_expected) in allowed_requests(plan, summary_header, legacy_served) {
            let target = probe.url(path);
            let answer = probe.send(&ask(kind, path, origin, &plan.preflight_method));
            let response = match usable(answer, kind, kind.check(), &target, origin) {
                Ok(response) => response,
                Err(skip) => {
                    unchecked.push(skip.summary);
                    out.emit(skip.record)?;
                    continue;
                }
            };
            let judged = judge(
                &response,
                kind,
                origin,
                &plan.preflight_method,
                &plan.status_header,
                header_expected,
            );
            // An unrouted preflight (405 from the SPA) says nothing about allow-lists.
            if !judged.defects.contains(&CorsDefect::Preflight405) {
                if judged.allowed {
                    allowed_on.push(kind.name());
                } else {
                    refused_on.push(kind.name());
                }
            }
            let record = match judged.defects.first() {
                None => Record::pass(kind.check(), &target),
                Some(first) => {
                    Record::fail(kind.check(), &target, first.as_str()).message(format!(
                        "{origin}: {}",
                        judged
                            .defects
                            .iter()
                            .map(|d| d.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            };
            out.emit(record.duration(response.elapsed).with_payload(&judged.data))?;
        }
        // A refusal is a finding even beside requests that went unanswered; "allowed
        // everywhere" is only a pass when every request was answered.
        let layers = match (allowed_on.is_empty(), refused_on.is_empty()) {
            (false, false) => Record::fail("cors.layers", probe.base(), "allowed_at_one_layer_only")
                .message(format!(
                    "{origin} is allowed on {} but refused on {}: nginx's and the backend's allow-lists differ",
                    allowed_on.join(", "),
                    refused_on.join(", ")
                )),
            (true, false) => Record::fail("cors.layers", probe.base(), "origin_refused")
                .message(format!("{origin} is refused everywhere it was tried")),
            (false, true) if unchecked.is_empty() => Record::pass("cors.layers", probe.base()),
            _ => Record::error("cors.layers", probe.base(), "not_checked").message(format!(
                "{origin}: the layers could not be compared ({})",
                if unchecked.is_empty() {
                    "no answer could be judged".to_owned()
                } else {
                    unchecked_words(&unchecked)
                }
            )),
        };
        out.emit(layers.data(json!({
            "origin": origin,
            "allowed_on": allowed_on,
            "refused_on": refused_on,
            "unchecked": unchecked,
        })))?;
    }
    for origin in &plan.disallowed_origins {
        let mut seen = Vec::new();
        let mut allowed = Vec::new();
        let mut unchecked = Vec::new();
        let mut elapsed = std::time::Duration::ZERO;
        for (kind, path) in disallowed_requests(plan) {
            let target = probe.url(path);
            let answer = probe.send(&ask(kind, path, origin, &plan.preflight_method));
            match usable(answer, kind, "cors.disallowed", &target, origin) {
                Ok(response) => {
                    elapsed += response.elapsed;
                    let acao = response.header_values(ACAO);
                    if !acao.is_empty() {
                        allowed.push(kind.name());
                    }
                    seen.push(json!({"request": kind.name(), "status": response.status, "allow_origin": acao}));
                }
                Err(skip) => {
                    unchecked.push(skip.summary);
                    out.emit(skip.record)?;
                }
            }
        }
        // Refused only counts as a pass when every request was answered.
        let record = if !allowed.is_empty() {
            Record::fail("cors.disallowed", probe.base(), "disallowed_origin_allowed").message(
                format!(
                    "{origin} must be refused but is allowed on {}",
                    allowed.join(", ")
                ),
            )
        } else if !unchecked.is_empty() {
            Record::error("cors.disallowed", probe.base(), "not_checked").message(format!(
                "{origin}: whether it is refused could not be checked ({})",
                unchecked_words(&unchecked)
            ))
        } else {
            Record::pass("cors.disallowed", probe.base())
        };
        out.emit(
            record
                .duration(elapsed)
                .data(json!({"origin": origin, "requests": seen, "unchecked": unchecked})),
        )?;
    }
    Ok(())
}

fn header_present(answer: &Answer, name: &str) -> bool {
    matches!(answer, Ok(r) if r.header(name).is_some())
}

/// The request of one kind with `origin`: the preflight names the method and the
/// content-type header, as a browser's does before a JSON POST.
fn ask(kind: Kind, path: &str, origin: &str, method: &str) -> Ask {
    let headers = match kind {
        Kind::Preflight => vec![
            ("Origin", origin.to_owned()),
            ("Access-Control-Request-Method", method.to_owned()),
            ("Access-Control-Request-Headers", "content-type".to_owned()),
        ],
        Kind::Summary | Kind::Legacy => vec![("Origin", origin.to_owned())],
    };
    Ask {
        method: match kind {
            Kind::Preflight => "OPTIONS",
            Kind::Summary | Kind::Legacy => "GET",
        },
        path: path.to_owned(),
        headers,
    }
}

/// The requests of an allowed origin: the preflight, the summary, and the legacy
/// path while it is served (with the status-path header expected on the summary when
/// its plain answer had it, and always on the legacy path).
fn allowed_requests(
    plan: &Plan,
    summary_header: bool,
    legacy_served: bool,
) -> Vec<(Kind, &str, bool)> {
    let mut requests = vec![(Kind::Preflight, plan.chat_path.as_str(), false)];
    requests.push((Kind::Summary, &plan.summary_path, summary_header));
    if legacy_served {
        requests.push((Kind::Legacy, &plan.legacy_path, true));
    }
    requests
}

/// The requests of an origin that must be refused: the preflight and the summary.
fn disallowed_requests(plan: &Plan) -> [(Kind, &str); 2] {
    [
        (Kind::Preflight, &plan.chat_path),
        (Kind::Summary, &plan.summary_path),
    ]
}

/// Whether the plain (no `Origin`) answer of the legacy path shows it served.
fn served(answer: &Answer, status_header: &str) -> bool {
    matches!(answer, Ok(r) if LegacyState::of(r, status_header) == LegacyState::Served)
}

/// The requests [`run`] will make, for [`Probe::prefetch`]: the plain baselines and
/// every origin's requests that do not depend on them, then (once the legacy
/// baseline is in, `legacy_baseline` is `Some`) the legacy path with each origin
/// while it is served. Nothing when there is no origin (the check asks nothing).
pub fn asks(plan: &Plan, origins: &[String], legacy_baseline: Option<&Answer>) -> Vec<Ask> {
    if origins.is_empty() && plan.disallowed_origins.is_empty() {
        return Vec::new();
    }
    let method = &plan.preflight_method;
    let Some(legacy) = legacy_baseline else {
        let mut asks = vec![Ask::get(&plan.summary_path), Ask::get(&plan.legacy_path)];
        for origin in origins {
            asks.extend(
                allowed_requests(plan, false, false)
                    .into_iter()
                    .map(|(kind, path, _)| ask(kind, path, origin, method)),
            );
        }
        for origin in &plan.disallowed_origins {
            asks.extend(
                disallowed_requests(plan)
                    .into_iter()
                    .map(|(kind, path)| ask(kind, path, origin, method)),
            );
        }
        return asks;
    };
    if !served(legacy, &plan.status_header) {
        return Vec::new();
    }
    origins
        .iter()
        .map(|origin| ask(Kind::Legacy, &plan.legacy_path, origin, method))
        .collect()
}

struct Judged {
    /// Named defects, most telling first.
    defects: Vec<CorsDefect>,
    /// Whether a browser would let the origin in on this request.
    allowed: bool,
    data: CorsAnswer,
}

fn judge(
    response: &HttpResponse,
    kind: Kind,
    origin: &str,
    method: &str,
    status_header: &str,
    header_expected: bool,
) -> Judged {
    let mut defects = Vec::new();
    let status_ok = match kind {
        Kind::Preflight => matches!(response.status, 200 | 204),
        Kind::Summary | Kind::Legacy => is_2xx(response.status),
    };
    if !status_ok {
        defects.push(match (kind, response.status) {
            (Kind::Preflight, 405) => CorsDefect::Preflight405,
            (Kind::Preflight, _) => CorsDefect::PreflightRejected,
            _ => CorsDefect::UnexpectedStatus,
        });
    }
    let acao = response.header_values(ACAO);
    let credentials = response
        .header_values(ACAC)
        .iter()
        .any(|v| v.trim().eq_ignore_ascii_case("true"));
    let vary: Vec<&str> = response.header_values("vary");
    let vary_origin = vary
        .iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("origin") || t.trim() == "*");
    match acao.as_slice() {
        [] => defects.push(CorsDefect::AcaoMissing),
        [value] if value.trim() == "*" => {
            if credentials {
                defects.push(CorsDefect::AcaoWildcardWithCredentials);
            }
        }
        [value] if value.trim() != origin => defects.push(CorsDefect::AcaoWrongValue),
        [_] => {
            if !vary_origin {
                defects.push(CorsDefect::VaryMissingOrigin);
            }
        }
        _ => defects.push(CorsDefect::AcaoDuplicated),
    }
    let allow_methods = response.header("access-control-allow-methods");
    if kind == Kind::Preflight && status_ok {
        let allowed = allow_methods.is_some_and(|list| {
            list.split(',')
                .any(|m| m.trim() == "*" || m.trim().eq_ignore_ascii_case(method))
        });
        if !allowed {
            defects.push(CorsDefect::MethodNotAllowed);
        }
    }
    let status_path = response.header(status_header);
    if header_expected && status_path.is_none() {
        defects.push(CorsDefect::StatusPathHeaderLostWithOrigin);
    }
    let allowed = status_ok && !acao.is_empty();
    let data = CorsAnswer {
        origin: origin.to_owned(),
        request: kind.name().to_owned(),
        status: response.status,
        allow_origin: acao.iter().map(|v| (*v).to_owned()).collect(),
        allow_credentials: credentials,
        vary: vary.iter().map(|v| (*v).to_owned()).collect(),
        allow_methods: allow_methods.map(str::to_owned),
        status_path: status_path.map(str::to_owned),
        defects: defects.clone(),
    };
    Judged {
        defects,
        allowed,
        data,
    }
}
