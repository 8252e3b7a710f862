//! Origin vs edge: the same path requested on the origin (nginx, locally) and on
//! the public hostname (through Cloudflare and the tunnel), judged together. This is
//! the check for "the tunnel looks healthy but users get 502".

use std::time::Duration;

use clap::ValueEnum;
use day2_core::bounded::{self, DAY};
use day2_core::http::{self, HttpOptions, HttpResponse};
use day2_core::{Exit, Io, Record, RecordSink, Verdict};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{metrics, TOOL};

/// The check name of the comparison record.
pub const CHECK: &str = "edge";

#[derive(Debug, Clone, clap::Args)]
pub struct EdgeArgs {
    /// The public base URL, served through Cloudflare (e.g. https://assistant.example.org).
    #[arg(long, value_name = "URL")]
    pub edge: Option<String>,

    /// The origin base URL, as the connector reaches it or locally.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub origin: String,

    /// The path requested on both sides.
    #[arg(long, default_value = "/ready")]
    pub path: String,

    /// What must agree between origin and edge: the status only, or the status and
    /// the body's SHA-256.
    #[arg(long, value_enum, default_value_t = Compare::Body)]
    pub compare: Compare,

    /// cloudflared's metrics address (host:port or URL); its /ready is checked too.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,

    /// Edge connections a healthy connector holds (cloudflared's default is 4).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = bounded::count::<u64>(1, 100).of("a number of connections"))]
    pub expected_connections: u64,

    /// Deadline for each request.
    #[arg(long, value_parser = bounded::duration(Duration::from_millis(1), DAY), default_value = "10s")]
    pub timeout: Duration,

    /// Do not verify TLS certificates (recorded in the output).
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compare {
    /// Status codes must match.
    Status,
    /// Status codes and body hashes must match.
    Body,
}

/// `base` joined with `path` with exactly one slash between them.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// One side's answer (or failure), as recorded.
struct Side {
    response: Option<HttpResponse>,
    error: Option<&'static str>,
    data: Value,
}

fn fetch(options: &HttpOptions, url: &str) -> Side {
    let agent = options.agent();
    match http::request(&agent, "GET", url, &[], options.body_limit) {
        Ok(response) => {
            let sha = Sha256::digest(&response.body);
            let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
            let ray = response.header("cf-ray").map(str::to_owned);
            let (ray_id, colo) = match ray.as_deref().and_then(|r| r.rsplit_once('-')) {
                Some((id, colo)) => (Some(id.to_owned()), Some(colo.to_owned())),
                None => (ray.clone(), None),
            };
            let data = json!({
                "url": url,
                "status": response.status,
                "latency_ms": day2_core::duration::millis(response.elapsed),
                "body_sha256": hex,
                "body_bytes": response.body.len(),
                "cf_ray": ray,
                "ray_id": ray_id,
                "colo": colo,
                "server": response.header("server"),
            });
            Side {
                response: Some(response),
                error: None,
                data,
            }
        }
        Err(failure) => {
            let reason = failure.kind.reason();
            let data = json!({
                "url": url,
                "error": reason,
                "detail": failure.message,
                "latency_ms": day2_core::duration::millis(failure.elapsed),
            });
            Side {
                response: None,
                error: Some(reason),
                data,
            }
        }
    }
}

/// Cloudflare's own error statuses: 520-530, and 502/504 when the origin behind the
/// tunnel cannot be reached.
fn is_cloudflare_error(status: u16) -> bool {
    (520..=530).contains(&status)
}

/// The reason of an `edge` record, as written in its `reason` field (triage reads
/// [`EdgeReason::TunnelDead`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeReason {
    /// The origin itself fails (5xx or no answer): the edge cannot do better.
    OriginDown,
    /// The edge did not answer at all.
    EdgeUnreachable,
    /// The edge answered without `cf-ray`: not through Cloudflare.
    NotViaCloudflare,
    /// The origin is up but the edge answers 502/504/520-530: the connector is gone.
    TunnelDead,
    /// Origin and edge differ in status or body.
    OriginEdgeDisagree,
    /// Both answer alike, through Cloudflare (a `pass`).
    BothOk,
}

impl EdgeReason {
    /// The reason as written in records, e.g. `tunnel_dead`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EdgeReason::OriginDown => "origin_down",
            EdgeReason::EdgeUnreachable => "edge_unreachable",
            EdgeReason::NotViaCloudflare => "not_via_cloudflare",
            EdgeReason::TunnelDead => "tunnel_dead",
            EdgeReason::OriginEdgeDisagree => "origin_edge_disagree",
            EdgeReason::BothOk => "both_ok",
        }
    }
}

/// The verdict of the comparison, most telling cause first.
fn judge(origin: &Side, edge: &Side, compare: Compare) -> (Verdict, EdgeReason, String) {
    let origin_ok = origin.response.as_ref().is_some_and(|r| r.status < 500);
    if !origin_ok {
        let what = match (&origin.response, origin.error) {
            (Some(r), _) => format!("answered {}", r.status),
            (None, Some(e)) => format!("did not answer ({e})"),
            (None, None) => "did not answer".to_owned(),
        };
        return (
            Verdict::Fail,
            EdgeReason::OriginDown,
            format!("the origin {what}; the edge cannot do better"),
        );
    }
    let Some(edge_response) = &edge.response else {
        return (
            Verdict::Error,
            EdgeReason::EdgeUnreachable,
            format!(
                "the edge did not answer ({})",
                edge.error.unwrap_or("no answer")
            ),
        );
    };
    let status = edge_response.status;
    let via_cloudflare = edge_response.header("cf-ray").is_some();
    if !via_cloudflare {
        return (
            Verdict::Fail,
            EdgeReason::NotViaCloudflare,
            format!(
                "the edge answered {status} without cf-ray: it did not come through Cloudflare"
            ),
        );
    }
    if is_cloudflare_error(status) || matches!(status, 502 | 504) {
        return (
            Verdict::Fail,
            EdgeReason::TunnelDead,
            format!(
                "the origin is up but the edge answers {status}: the connector is gone or cannot reach the origin"
            ),
        );
    }
    let origin_response = origin
        .response
        .as_ref()
        .map(|r| (r.status, &origin.data["body_sha256"]));
    let mut differs = Vec::new();
    if let Some((origin_status, origin_sha)) = origin_response {
        if origin_status != status {
            differs.push("status");
        }
        if compare == Compare::Body && *origin_sha != edge.data["body_sha256"] {
            differs.push("body");
        }
    }
    if !differs.is_empty() {
        return (
            Verdict::Fail,
            EdgeReason::OriginEdgeDisagree,
            format!(
                "origin and edge differ in {}: the edge serves something else",
                differs.join(" and ")
            ),
        );
    }
    (
        Verdict::Pass,
        EdgeReason::BothOk,
        format!("origin and edge agree ({status}), through Cloudflare"),
    )
}

/// Runs the origin/edge comparison.
pub fn run(args: &EdgeArgs, io: &mut Io<'_>) -> Exit {
    let Some(edge_base) = &args.edge else {
        io.error(TOOL, "edge: --edge URL is required");
        return Exit::Usage;
    };
    let options = HttpOptions {
        timeout: args.timeout,
        connect_timeout: args.timeout.min(Duration::from_secs(3)),
        insecure: args.insecure,
        ..HttpOptions::default()
    };
    let origin_url = join(&args.origin, &args.path);
    let edge_url = join(edge_base, &args.path);
    let origin = fetch(&options, &origin_url);
    let edge = fetch(&options, &edge_url);
    let (verdict, reason, message) = judge(&origin, &edge, args.compare);
    let mut sink = RecordSink::new(TOOL, io.stdout);
    let elapsed = [&origin, &edge]
        .iter()
        .filter_map(|s| s.response.as_ref().map(|r| r.elapsed))
        .max()
        .unwrap_or_default();
    let record = Record::new(CHECK, &edge_url, verdict, Some(reason.as_str()))
        .duration(elapsed)
        .message(message)
        .data(json!({
            "path": args.path,
            "verdict": reason,
            "compare": match args.compare { Compare::Status => "status", Compare::Body => "body" },
            "insecure": args.insecure,
            "origin": origin.data,
            "edge": edge.data,
        }));
    if sink.emit(record).is_err() {
        return sink.exit();
    }
    if let Some(addr) = &args.metrics {
        if sink
            .emit(metrics::check(&options, addr, args.expected_connections))
            .is_err()
        {
            return sink.exit();
        }
    }
    sink.exit()
}

#[cfg(test)]
mod tests {
    #[test]
    fn edge_reason_names_are_their_serialized_names() {
        use super::EdgeReason as R;
        for r in [
            R::OriginDown,
            R::EdgeUnreachable,
            R::NotViaCloudflare,
            R::TunnelDead,
            R::OriginEdgeDisagree,
            R::BothOk,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }

    use super::*;

    #[test]
    fn paths_join_with_one_slash() {
        assert_eq!(
            join("https://a.example/", "/ready"),
            "https://a.example/ready"
        );
        assert_eq!(
            join("http://127.0.0.1:8080", "ready"),
            "http://127.0.0.1:8080/ready"
        );
    }
}
