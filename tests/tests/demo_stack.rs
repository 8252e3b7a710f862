//! The demo stack reproduces every edge behaviour of `target-stack.md` with real
//! HTTP requests against a real nginx.

use std::time::Duration;

use day2_core::http::{request, FailureKind, HttpOptions, HttpResponse};
use day2_tests::edge::SYNTHETIC_WARMING;
use day2_tests::{BackendConfig, DemoStack, EdgeConfig, Fault, LegacyRoute, Provider};

const BOTH_LAYERS: &str = "https://assistant.example.org";
const BACKEND_ONLY: &str = "http://127.0.0.1:5173";

fn get(url: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let options = HttpOptions {
        timeout: Duration::from_secs(5),
        ..HttpOptions::default()
    };
    request(&options.agent(), "GET", url, headers, 16 * 1024 * 1024)
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

fn send(method: &str, url: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let options = HttpOptions::default();
    request(&options.agent(), method, url, headers, 1024 * 1024)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

fn stack() -> DemoStack {
    DemoStack::default_stack().expect("demo stack starts (is nginx installed?)")
}

#[test]
fn legacy_header_is_present_without_origin_and_lost_with_an_nginx_allowed_origin() {
    let stack = stack();
    let url = format!("{}/status/summary", stack.url());
    let plain = get(&url, &[]);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header_values("x-status-path"), vec!["legacy"]);
    let with_origin = get(&url, &[("Origin", BOTH_LAYERS)]);
    assert_eq!(with_origin.status, 200);
    assert!(
        with_origin.header_values("x-status-path").is_empty(),
        "{:?}",
        with_origin.headers
    );

    let api = format!("{}/api/status/summary", stack.url());
    assert_eq!(get(&api, &[]).header_values("x-status-path"), vec!["api"]);
    assert!(get(&api, &[("Origin", BOTH_LAYERS)])
        .header_values("x-status-path")
        .is_empty());
    // Other /api/status/ paths keep the header whatever the origin.
    let llm = get(
        &format!("{}/api/status/llm", stack.url()),
        &[("Origin", BOTH_LAYERS)],
    );
    assert_eq!(llm.header_values("x-status-path"), vec!["api"]);
}

#[test]
fn an_origin_both_layers_allow_gets_two_allow_origin_headers_on_the_summary() {
    let stack = stack();
    let response = get(
        &format!("{}/api/status/summary", stack.url()),
        &[("Origin", BOTH_LAYERS)],
    );
    assert_eq!(
        response.header_values("access-control-allow-origin"),
        vec![BOTH_LAYERS, BOTH_LAYERS]
    );
}

#[test]
fn an_origin_only_the_backend_allows_keeps_the_header_and_loses_cors_on_the_legacy_path() {
    let stack = stack();
    let api = get(
        &format!("{}/api/status/summary", stack.url()),
        &[("Origin", BACKEND_ONLY)],
    );
    assert_eq!(
        api.header_values("access-control-allow-origin"),
        vec![BACKEND_ONLY]
    );
    assert_eq!(api.header_values("x-status-path"), vec!["api"]);
    let legacy = get(
        &format!("{}/status/summary", stack.url()),
        &[("Origin", BACKEND_ONLY)],
    );
    assert!(legacy
        .header_values("access-control-allow-origin")
        .is_empty());
    assert_eq!(legacy.header_values("x-status-path"), vec!["legacy"]);
}

#[test]
fn a_failing_backend_gets_the_synthetic_warming_body_with_two_content_types() {
    let mut stack = stack();
    stack
        .backend
        .inject("/api/status/summary", Fault::Status(500));
    let url = format!("{}/api/status/summary", stack.url());
    let response = get(&url, &[]);
    assert_eq!(response.status, 200);
    assert_eq!(response.body, SYNTHETIC_WARMING.as_bytes());
    assert_eq!(
        response.header_values("content-type"),
        vec!["application/octet-stream", "application/json"]
    );
    assert_eq!(response.header_values("x-status-path"), vec!["api"]);
    let with_origin = get(&url, &[("Origin", BOTH_LAYERS)]);
    assert_eq!(
        with_origin.header_values("content-type"),
        vec!["application/octet-stream"]
    );
    assert!(with_origin.header_values("x-status-path").is_empty());
    assert!(with_origin.header_values("cache-control").is_empty());

    // A backend that is down entirely: the same body on the summary, 502 on legacy.
    stack.backend.heal();
    stack.backend.stop();
    assert_eq!(get(&url, &[]).body, SYNTHETIC_WARMING.as_bytes());
    let legacy = get(&format!("{}/status/summary", stack.url()), &[]);
    assert_eq!(legacy.status, 502);
    stack.backend.resume().expect("backend resumes");
    assert_eq!(
        get(&url, &[]).json().expect("json")["llm"]["path"],
        "primary"
    );
}

#[test]
fn a_backend_404_on_the_summary_passes_through() {
    let stack = stack();
    stack
        .backend
        .inject("/api/status/summary", Fault::Status(404));
    assert_eq!(
        get(&format!("{}/api/status/summary", stack.url()), &[]).status,
        404
    );
}

#[test]
fn removed_legacy_falls_through_to_the_spa_and_retired_answers_410() {
    let mut stack = stack();
    stack
        .set_legacy(LegacyRoute::Removed)
        .expect("nginx restarts");
    let removed = get(&format!("{}/status/summary", stack.url()), &[]);
    assert_eq!(removed.status, 200);
    assert_eq!(removed.header("content-type"), Some("text/html"));
    assert!(removed.header_values("x-status-path").is_empty());
    stack
        .set_legacy(LegacyRoute::Retired)
        .expect("nginx restarts");
    assert_eq!(
        get(&format!("{}/status/summary", stack.url()), &[]).status,
        410
    );
}

#[test]
fn the_edge_spa_swallows_unrouted_paths_and_refuses_options_on_chat() {
    let stack = stack();
    let up = get(&format!("{}/_up", stack.url()), &[]);
    assert_eq!(
        (up.status, up.header("content-type")),
        (200, Some("text/html"))
    );
    let preflight = send(
        "OPTIONS",
        &format!("{}/chat", stack.url()),
        &[
            ("Origin", BOTH_LAYERS),
            ("Access-Control-Request-Method", "POST"),
        ],
    );
    assert_eq!(preflight.status, 405);
    assert!(preflight
        .header_values("access-control-allow-origin")
        .is_empty());
    let routed = send(
        "OPTIONS",
        &format!("{}/api/chat", stack.url()),
        &[
            ("Origin", BOTH_LAYERS),
            ("Access-Control-Request-Method", "POST"),
        ],
    );
    assert_eq!(routed.status, 200);
}

#[test]
fn preflight_follows_the_backend_rules() {
    let stack = stack();
    let chat = format!("{}/chat", stack.backend.url());
    let allowed = send(
        "OPTIONS",
        &chat,
        &[
            ("Origin", BOTH_LAYERS),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type,x-trace"),
        ],
    );
    assert_eq!(allowed.status, 200);
    assert_eq!(
        allowed.header_values("access-control-allow-origin"),
        vec![BOTH_LAYERS]
    );
    assert_eq!(
        allowed.header("access-control-allow-headers"),
        Some("content-type,x-trace")
    );
    assert_eq!(allowed.header("access-control-max-age"), Some("600"));
    assert_eq!(allowed.header("vary"), Some("Origin"));
    let refused = send(
        "OPTIONS",
        &chat,
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
    );
    assert_eq!(refused.status, 400);
    assert!(refused
        .header_values("access-control-allow-origin")
        .is_empty());
    assert_eq!(
        refused.header("access-control-allow-credentials"),
        Some("true")
    );
    let no_method = send("OPTIONS", &chat, &[("Origin", BOTH_LAYERS)]);
    assert_eq!(no_method.status, 405);
}

#[test]
fn warming_turns_into_primary_after_the_configured_delay() {
    let config = BackendConfig {
        warm_after: Duration::from_millis(400),
        ..BackendConfig::default()
    };
    let stack = DemoStack::start(config, EdgeConfig::default()).expect("stack");
    let url = format!("{}/api/status/summary", stack.url());
    let first = get(&url, &[]).json().expect("json");
    assert_eq!(first["llm"]["path"], "warming");
    assert_eq!(first["ready"], false);
    assert_eq!(first["llm"]["primary_model_present"], false);
    let mut last = first;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(50));
        last = get(&url, &[]).json().expect("json");
        if last["llm"]["path"] == "primary" {
            break;
        }
    }
    assert_eq!(last["llm"]["path"], "primary");
    assert_eq!(last["ready"], true);
    assert_eq!(last["primary"]["model_present"], true);
}

#[test]
fn fallback_and_down_states_fail_the_dependency_check() {
    let stack = stack();
    let ready = format!("{}/ready", stack.url());
    assert_eq!(get(&ready, &[]).status, 200);
    for (provider, path) in [(Provider::Fallback, "fallback"), (Provider::Down, "down")] {
        stack.backend.reconfigure(|c| c.provider = provider);
        let response = get(&ready, &[]);
        assert_eq!(response.status, 503);
        let body = response.json().expect("json");
        assert_eq!(body["detail"]["checks"]["ollama"]["ok"], false);
        let summary = get(&format!("{}/api/status/summary", stack.url()), &[])
            .json()
            .expect("json");
        assert_eq!(summary["llm"]["path"], path);
        assert_eq!(summary["ready"], false);
    }
}

#[test]
fn the_rate_limit_answers_503_beyond_the_burst() {
    let stack = stack();
    let url = format!("{}/api/ready", stack.url());
    let statuses: Vec<u16> = (0..20).map(|_| get(&url, &[]).status).collect();
    assert!(statuses.iter().take(16).all(|s| *s == 200), "{statuses:?}");
    assert!(statuses.contains(&503), "{statuses:?}");
}

#[test]
fn faults_reset_stall_break_and_bloat_answers() {
    let stack = stack();
    let base = stack.backend.url();
    let options = HttpOptions {
        timeout: Duration::from_millis(500),
        ..HttpOptions::default()
    };
    let agent = options.agent();
    stack.backend.inject("/api/ready", Fault::Reset);
    let reset = request(&agent, "GET", &format!("{base}/api/ready"), &[], 1 << 20).unwrap_err();
    assert_eq!(reset.kind, FailureKind::Reset, "{reset}");
    stack.backend.inject("/api/ready", Fault::Stall);
    let stall = request(&agent, "GET", &format!("{base}/api/ready"), &[], 1 << 20).unwrap_err();
    assert_eq!(stall.kind, FailureKind::Timeout, "{stall}");
    stack.backend.inject("/api/ready", Fault::InvalidJson);
    assert!(get(&format!("{base}/api/ready"), &[]).json().is_err());
    stack
        .backend
        .inject("/api/ready", Fault::Oversized(2 << 20));
    let big = request(&agent, "GET", &format!("{base}/api/ready"), &[], 1 << 20).unwrap_err();
    assert_eq!(big.kind, FailureKind::BodyTooLarge, "{big}");
    stack
        .backend
        .inject("/api/ready", Fault::Delay(Duration::from_millis(200)));
    let slow = get(&format!("{base}/api/ready"), &[]);
    assert!(slow.elapsed >= Duration::from_millis(200));
    stack.backend.inject("/metrics", Fault::Status(503));
    assert_eq!(get(&format!("{base}/metrics"), &[]).status, 503);
}

#[test]
fn metrics_speak_prometheus_or_json_and_build_sha_is_reported() {
    let config = BackendConfig {
        build_sha: "abc1234".into(),
        ..BackendConfig::default()
    };
    let stack = DemoStack::start(config, EdgeConfig::default()).expect("stack");
    let text = get(&format!("{}/metrics", stack.url()), &[]);
    assert!(String::from_utf8_lossy(&text.body).contains("# TYPE backend_ready gauge"));
    stack
        .backend
        .reconfigure(|c| c.metrics_format = day2_tests::MetricsFormat::Json);
    assert!(get(&format!("{}/metrics", stack.url()), &[]).json().is_ok());
    let summary = get(&format!("{}/api/status/summary", stack.url()), &[])
        .json()
        .expect("json");
    assert_eq!(summary["build"]["sha"], "abc1234");
}

#[test]
fn a_custom_log_format_records_the_sent_status_path_header() {
    let format = format!(
        "{} xsp=\"$sent_http_x_status_path\"",
        day2_tests::edge::COMBINED_LOG_FORMAT
    );
    let edge = EdgeConfig {
        log_format: Some(format),
        ..EdgeConfig::default()
    };
    let stack = DemoStack::start(BackendConfig::default(), edge).expect("stack");
    get(&format!("{}/status/summary", stack.url()), &[]);
    get(&format!("{}/api/status/summary", stack.url()), &[]);
    let log = std::fs::read_to_string(stack.edge.logged(2).expect("two lines")).expect("log");
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines[0].contains("\"GET /status/summary HTTP/1.1\" 200")
            && lines[0].ends_with("xsp=\"legacy\"")
    );
    assert!(lines[1].ends_with("xsp=\"api\""), "{log}");
}
