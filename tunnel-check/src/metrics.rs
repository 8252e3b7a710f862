//! cloudflared's metrics `/ready` endpoint (`--metrics host:port`): 200
//! `{"status":200,"readyConnections":4,"connectorId":"…"}` when connected, 503 with
//! `readyConnections: 0` when not. Used by `connector` and joined into `edge`.

use day2_core::http::{self, HttpOptions};
use day2_core::Record;
use serde_json::{json, Value};

/// The check name of the readiness record.
pub const CHECK: &str = "connector.ready";

/// The `/ready` URL for a `--metrics` value: cloudflared's own `host:port` form or
/// a URL; a URL without a path gets `/ready`.
pub fn ready_url(arg: &str) -> String {
    let with_scheme = if arg.contains("://") {
        arg.to_owned()
    } else {
        format!("http://{arg}")
    };
    let after_scheme = with_scheme.split_once("://").map_or("", |(_, rest)| rest);
    if after_scheme.contains('/') {
        with_scheme
    } else {
        format!("{with_scheme}/ready")
    }
}

/// Asks `/ready` and judges it against the expected connection count.
pub fn check(options: &HttpOptions, metrics: &str, expected: u64) -> Record {
    let url = ready_url(metrics);
    let agent = options.agent();
    let response = match http::request(&agent, "GET", &url, &[], options.body_limit) {
        Ok(response) => response,
        Err(failure) => {
            return Record::error(CHECK, &url, "metrics_unreachable")
                .duration(failure.elapsed)
                .message(format!("cloudflared metrics did not answer: {failure}"))
                .data(json!({"error": failure.kind.reason(), "expected": expected}));
        }
    };
    let body: Option<Value> = response.json().ok().filter(Value::is_object);
    let Some(body) = body else {
        return Record::error(CHECK, &url, "metrics_invalid")
            .duration(response.elapsed)
            .message(
                "the /ready answer is not a JSON object; is this cloudflared's --metrics address?",
            )
            .data(json!({"status": response.status, "expected": expected}));
    };
    let ready = body.get("readyConnections").and_then(Value::as_u64);
    let data = json!({
        "status": response.status,
        "ready_connections": ready,
        "expected": expected,
        "connector_id": body.get("connectorId").and_then(Value::as_str),
    });
    let record = match ready {
        _ if response.status != 200 || ready == Some(0) => Record::fail(CHECK, &url, "not_ready")
            .message("cloudflared reports no ready connection to the edge"),
        Some(n) if n < expected => Record::fail(CHECK, &url, "too_few_connections")
            .message(format!("{n} of {expected} edge connections ready")),
        Some(_) => Record::pass(CHECK, &url),
        None => Record::error(CHECK, &url, "metrics_invalid")
            .message("the /ready answer has no readyConnections"),
    };
    record.duration(response.elapsed).data(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_addresses_become_ready_urls() {
        assert_eq!(ready_url("127.0.0.1:2000"), "http://127.0.0.1:2000/ready");
        assert_eq!(
            ready_url("http://127.0.0.1:2000"),
            "http://127.0.0.1:2000/ready"
        );
        assert_eq!(
            ready_url("http://127.0.0.1:2000/ready"),
            "http://127.0.0.1:2000/ready"
        );
    }
}
