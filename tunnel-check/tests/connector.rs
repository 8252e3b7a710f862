//! The connector check on log fixtures written from target-stack.md's formats, on
//! a real container's log stream, and against a fake cloudflared metrics /ready.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::{fixture_str, run, run_env};
use day2_core::Verdict;
use day2_tests::docker::{docker, test_image, TestScope};
use day2_tests::fake_edge::{closed_url, StaticServer};

#[test]
fn healthy_four_connections() {
    let file = fixture_str("logs/healthy_four.log");
    let out = run(&["connector", "--file", &file], "");
    assert_eq!(out.code, 0, "{out:#?}");
    let conns = out.expect("connector.connections", Verdict::Pass, None);
    assert_eq!(conns.target, file);
    assert_eq!(conns.data["active"], 4);
    assert_eq!(
        conns.data["registered_indexes"],
        serde_json::json!([0, 1, 2, 3])
    );
    assert_eq!(
        conns.data["locations"],
        serde_json::json!(["ams05", "ams08", "fra08", "fra16"])
    );
    assert_eq!(conns.data["protocols"], serde_json::json!(["quic"]));
    out.expect("connector.protocol", Verdict::Pass, None);
    let ingress = out.expect("connector.ingress", Verdict::Pass, None);
    assert_eq!(ingress.data["rules"][0]["service"], "http://nginx:80");
    assert_eq!(
        ingress.data["rules"][0]["hostname"],
        "assistant.ledger-mind.org"
    );
    assert_eq!(ingress.data["version"], "3");
    out.expect("connector.origin_errors", Verdict::Pass, None);
    out.expect("connector.churn", Verdict::Pass, None);

    // The same log on stdin, checked against another origin: the ingress points elsewhere.
    let text = std::fs::read_to_string(&file).unwrap();
    let other = run(
        &["connector", "--expected-origin", "http://backend:8000"],
        &text,
    );
    assert_eq!(other.code, 1);
    let mismatch = other.expect("connector.ingress", Verdict::Fail, Some("origin_mismatch"));
    assert_eq!(mismatch.target, "stdin");
}

#[test]
fn one_connection_is_too_few() {
    let out = run(
        &["connector", "--file", &fixture_str("logs/one_conn.log")],
        "",
    );
    assert_eq!(out.code, 1);
    let conns = out.expect(
        "connector.connections",
        Verdict::Fail,
        Some("too_few_connections"),
    );
    assert_eq!(conns.data["active"], 1);
    assert_eq!(conns.data["expected"], 4);
    // No "Updated to new configuration" line in this log.
    out.expect("connector.ingress", Verdict::Info, Some("no_config_seen"));
    // Expecting one connection, it is enough.
    let one = run(
        &[
            "connector",
            "--file",
            &fixture_str("logs/one_conn.log"),
            "--expected-connections",
            "1",
        ],
        "",
    );
    one.expect("connector.connections", Verdict::Pass, None);
}

#[test]
fn quic_failure_with_http2_fallback() {
    let out = run(
        &[
            "connector",
            "--file",
            &fixture_str("logs/quic_fallback.log"),
        ],
        "",
    );
    assert_eq!(out.code, 0, "warnings do not fail: {out:#?}");
    out.expect("connector.connections", Verdict::Pass, None);
    let protocol = out.expect("connector.protocol", Verdict::Warn, Some("http2_fallback"));
    assert_eq!(protocol.data["quic_failures"], 2);
    assert_eq!(protocol.data["protocols"], serde_json::json!(["http2"]));
    let churn = out.expect("connector.churn", Verdict::Warn, Some("reconnect_churn"));
    assert_eq!(churn.data["retries"], 1);
    let tolerant = run(
        &[
            "connector",
            "--file",
            &fixture_str("logs/quic_fallback.log"),
            "--max-reconnects",
            "3",
        ],
        "",
    );
    tolerant.expect("connector.churn", Verdict::Pass, None);
}

#[test]
fn origin_unreachable_from_the_connector() {
    let out = run(
        &[
            "connector",
            "--file",
            &fixture_str("logs/origin_unreachable.log"),
        ],
        "",
    );
    assert_eq!(out.code, 1);
    out.expect("connector.connections", Verdict::Pass, None);
    let errors = out.expect(
        "connector.origin_errors",
        Verdict::Fail,
        Some("origin_unreachable"),
    );
    assert_eq!(
        errors.data["count"], 3,
        "each failure is logged twice and counted once"
    );
    assert_eq!(errors.data["last_time"], "2026-11-27T10:07:41Z");
    assert_eq!(
        errors.data["origin_services"],
        serde_json::json!(["http://nginx:80"])
    );
    assert!(errors.data["last_error"]
        .as_str()
        .unwrap()
        .contains("connect: connection refused"));
}

#[test]
fn json_log_format() {
    let out = run(
        &["connector", "--file", &fixture_str("logs/healthy_json.log")],
        "",
    );
    assert_eq!(out.code, 0, "{out:#?}");
    let conns = out.expect("connector.connections", Verdict::Pass, None);
    assert_eq!(conns.data["active"], 4);
    assert_eq!(conns.data["levels"]["WRN"], 1);
    out.expect("connector.ingress", Verdict::Pass, None);
}

#[test]
fn edge_cases_of_the_log_stream() {
    // Not cloudflared at all.
    let noise = run(&["connector"], "hello\nworld\n");
    assert_eq!(noise.code, 1);
    let record = noise.expect(
        "connector.connections",
        Verdict::Error,
        Some("no_cloudflared_lines"),
    );
    assert_eq!(record.data["lines"], 2);

    // Connected once, then every connection went away.
    let gone = "2026-11-27T10:00:01Z INF Registered tunnel connection connIndex=0 connection=4f1c2a9e-5b7d-4c3e-9a1f-2b3c4d5e6f70 event=0 ip=198.41.200.23 location=ams05 protocol=quic\n\
                2026-11-27T10:09:00Z INF Unregistered tunnel connection connIndex=0 event=0 ip=198.41.200.23\n\
                2026-11-27T10:09:00Z INF Updated to new configuration config=\"{\\\"warp-routing\\\":{\\\"enabled\\\":false}}\" version=4\n";
    let out = run(&["connector"], gone);
    out.expect(
        "connector.connections",
        Verdict::Fail,
        Some("no_connections"),
    );
    out.expect("connector.protocol", Verdict::Info, Some("no_registration"));
    out.expect("connector.ingress", Verdict::Warn, Some("config_unparsed"));
    out.expect("connector.churn", Verdict::Warn, Some("reconnect_churn"));

    // A missing file is bad input.
    let missing = run(&["connector", "--file", "/nonexistent/cloudflared.log"], "");
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .starts_with("tunnel-check: connector: cannot read /nonexistent/cloudflared.log"),
        "{missing:#?}"
    );
}

#[test]
fn metrics_ready_endpoint() {
    let log = std::fs::read_to_string(common::fixture("logs/healthy_four.log")).unwrap();
    let check = |server: &str| run(&["connector", "--metrics", server], &log);

    let ready = StaticServer::json(200, r#"{"status":200,"readyConnections":4,"connectorId":"0c5e2a4b-1d3f-4e6a-8b7c-9d0e1f2a3b4c"}"#).unwrap();
    let out = check(&ready.addr().to_string());
    assert_eq!(out.code, 0, "{out:#?}");
    let record = out.expect("connector.ready", Verdict::Pass, None);
    assert_eq!(record.target, format!("{}/ready", ready.url()));
    assert_eq!(
        record.data["connector_id"],
        "0c5e2a4b-1d3f-4e6a-8b7c-9d0e1f2a3b4c"
    );

    let down = StaticServer::json(503, r#"{"status":503,"readyConnections":0,"connectorId":"0c5e2a4b-1d3f-4e6a-8b7c-9d0e1f2a3b4c"}"#).unwrap();
    check(&down.url()).expect("connector.ready", Verdict::Fail, Some("not_ready"));

    let partial = StaticServer::json(200, r#"{"status":200,"readyConnections":2}"#).unwrap();
    let out = check(&partial.url());
    assert_eq!(out.code, 1);
    out.expect(
        "connector.ready",
        Verdict::Fail,
        Some("too_few_connections"),
    );

    let html = StaticServer::json(200, "<html>metrics</html>").unwrap();
    check(&html.url()).expect("connector.ready", Verdict::Error, Some("metrics_invalid"));

    let closed = closed_url().unwrap();
    let out = check(&closed);
    assert_eq!(out.code, 1);
    let record = out.expect(
        "connector.ready",
        Verdict::Error,
        Some("metrics_unreachable"),
    );
    assert_eq!(record.data["error"], "connection_refused");
}

#[test]
fn logs_from_a_real_container() {
    let scope = TestScope::new("tunnel-logs");
    let image = test_image();
    let log = std::fs::read_to_string(common::fixture("logs/origin_unreachable.log")).unwrap();
    let name = scope.name("cloudflared");
    let label = scope.label();
    // cloudflared writes its log to stderr; the container replays the fixture there.
    docker(&[
        "run",
        "-d",
        "--label",
        &label,
        "--name",
        &name,
        "-e",
        &format!("FIXTURE={log}"),
        image,
        "sh",
        "-c",
        "printf '%s' \"$FIXTURE\" >&2",
    ]);
    docker(&["wait", &name]);
    let out = run(&["connector", "--container", &name, "--timeout", "30s"], "");
    assert_eq!(out.code, 1, "{out:#?}");
    let conns = out.expect("connector.connections", Verdict::Pass, None);
    assert_eq!(conns.target, format!("container:{name}"));
    assert_eq!(conns.data["active"], 4);
    let errors = out.expect(
        "connector.origin_errors",
        Verdict::Fail,
        Some("origin_unreachable"),
    );
    assert_eq!(errors.data["count"], 3);
    // --tail keeps the last lines only: the two last failures' four lines.
    let tail = run(&["connector", "--container", &name, "--tail", "4"], "");
    assert_eq!(
        tail.one("connector.origin_errors").data["count"],
        2,
        "{tail:#?}"
    );

    let missing = run(&["connector", "--container", &scope.name("absent")], "");
    assert_eq!(missing.code, 1);
    missing.expect(
        "connector.connections",
        Verdict::Error,
        Some("container_not_found"),
    );
}

#[test]
fn docker_failures_are_records() {
    let out = run_env(
        &["connector", "--container", "cloudflared"],
        "",
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(out.code, 1, "{out:#?}");
    out.expect(
        "connector.connections",
        Verdict::Error,
        Some("docker_unreachable"),
    );

    // A daemon that accepts and never answers: the read has one deadline.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("tcp://{}", silent.local_addr().unwrap());
    let holder = std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(3));
        drop(held);
    });
    let started = std::time::Instant::now();
    let out = run_env(
        &["connector", "--container", "cloudflared", "--timeout", "1s"],
        "",
        &[("DOCKER_HOST", &host)],
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "returns within 10s"
    );
    out.expect(
        "connector.connections",
        Verdict::Error,
        Some("docker_timeout"),
    );
    let _ = holder.join();
}

/// The corpus logs (../shared/corpus/tunnel-check/connector), unchanged, with the
/// right answers of the corpus README.
#[test]
fn corpus_logs_give_their_right_answers() {
    let corpus = |name: &str| {
        let file = fixture_str(&format!("corpus/connector/{name}"));
        run(&["connector", "--file", &file], "")
    };

    // Four registrations, then a restart ("Starting tunnel", a new connector id)
    // with no Unregistered line: the new process has none.
    let out = corpus("restart-without-unregister.log");
    assert_eq!(out.code, 1);
    let conns = out.expect(
        "connector.connections",
        Verdict::Fail,
        Some("no_connections"),
    );
    assert_eq!(conns.data["active"], 0);
    assert_eq!(conns.data["restarts"], 1);
    assert_eq!(conns.data["sources"][0]["restart_line"], 10);
    assert_eq!(conns.data["sources"][0]["ended_by_restart"], 4);
    assert_eq!(conns.data["sources"][0]["process"]["version"], "2025.1.0");
    assert_eq!(
        conns.data["sources"][0]["process"]["connector_id"],
        "ffffffff-0000-4000-8000-000000000001"
    );
    // The add-on's own lines are counted as not recognised.
    assert_eq!(conns.data["unrecognized"], 4);
    assert!(conns
        .message
        .as_deref()
        .unwrap()
        .contains("restarted at line 10"));

    // Lost over http2: two of four remain; the ingress points elsewhere.
    let out = corpus("http2-lost-connection.log");
    let conns = out.expect(
        "connector.connections",
        Verdict::Fail,
        Some("too_few_connections"),
    );
    assert_eq!(conns.data["active"], 2);
    assert_eq!(conns.data["active_indexes"], serde_json::json!([0, 3]));
    assert_eq!(
        conns.data["registered_indexes"],
        serde_json::json!([0, 1, 2, 3])
    );
    let ended: Vec<(u64, String, u64)> = conns.data["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] == "ended")
        .map(|c| {
            (
                c["conn_index"].as_u64().unwrap(),
                c["ended"]["how"].as_str().unwrap().to_owned(),
                c["ended"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ended,
        [
            (1, "lost_connection".into(), 6),
            (2, "lost_connection".into(), 10)
        ]
    );
    out.expect("connector.ingress", Verdict::Fail, Some("origin_mismatch"));

    // journald prefixes are cloudflared lines; all four unregistered, new pid.
    let out = corpus("journald-restart.log");
    let conns = out.expect(
        "connector.connections",
        Verdict::Fail,
        Some("no_connections"),
    );
    assert_eq!(conns.data["recognized"], 8);
    assert_eq!(conns.data["unrecognized"], 3, "the systemd lines");
    assert_eq!(conns.data["sources"][0]["name"], "cloudflared");
    assert_eq!(conns.data["sources"][0]["process"]["pid"], 29131);
    assert_eq!(out.one("connector.churn").data["unregistrations"], 4);

    // docker compose v2 prefixes: four registered.
    let out = corpus("compose-v2-prefix.log");
    assert_eq!(out.code, 0, "{out:#?}");
    let conns = out.expect("connector.connections", Verdict::Pass, None);
    assert_eq!(conns.data["active"], 4);
    assert_eq!(conns.data["sources"][0]["name"], "cloudflared-1");
}

fn family(name: &str) -> common::Run {
    run(
        &[
            "connector",
            "--file",
            &fixture_str(&format!("logs/families/{name}")),
        ],
        "",
    )
}

/// Registration lines of each cloudflared release: `Connection <id> registered`
/// (connection/rpc.go, 2021.1.0–2022.10.x), `… registered with protocol: quic`
/// (connection/control.go, 2022.11.0–2023.4.0), `Connection established`
/// (h2mux, connection/rpc.go, until 2023.3).
#[test]
fn older_releases_register_in_their_own_words() {
    let out = family("registered-2021.log");
    let conns = out.expect("connector.connections", Verdict::Pass, None);
    assert_eq!(conns.data["locations"], serde_json::json!(["AMS", "FRA"]));
    assert_eq!(
        conns.data["connections"][0]["connection_id"],
        "4f1c2a9e-5b7d-4c3e-9a1f-2b3c4d5e6f70"
    );
    // supervisor/tunnel.go: "Serve tunnel error" ends connIndex 3.
    let out = family("registered-with-protocol-2022.log");
    let conns = out.expect(
        "connector.connections",
        Verdict::Fail,
        Some("too_few_connections"),
    );
    assert_eq!(conns.data["protocols"], serde_json::json!(["quic"]));
    assert_eq!(conns.data["connections"][3]["ended"]["how"], "serve_error");
    assert_eq!(
        conns.data["connections"][3]["ended"]["error"],
        "timeout: no recent network activity"
    );
    // connection/http2.go "Lost connection with the edge" on an h2mux-era log.
    let out = family("h2mux-classic-2021.log");
    let conns = out.expect(
        "connector.connections",
        Verdict::Fail,
        Some("too_few_connections"),
    );
    assert_eq!(conns.data["active"], 3);
}

/// supervisor/tunnel.go (2025.8.1+): "failed to serve tunnel connection" ends a
/// connection; registering the same connIndex again makes it active again.
#[test]
fn a_re_registration_makes_a_connection_active_again() {
    let out = family("quic-serve-failed-reregistered.log");
    assert_eq!(out.code, 0, "{out:#?}");
    let conns = out.expect("connector.connections", Verdict::Pass, None);
    assert_eq!(conns.data["active"], 4);
    assert_eq!(conns.data["connections"][2]["registered_line"], 10);
    assert_eq!(conns.data["connections"][2]["location"], "ams16");
    let churn = out.expect("connector.churn", Verdict::Warn, Some("reconnect_churn"));
    assert_eq!(churn.data["re_registrations"], 1);
    assert_eq!(churn.data["ends"], 1);
    assert_eq!(churn.data["retries"], 1);
}

/// The prefixes collectors add: kubectl --prefix, compose v1 with timestamps
/// glued in front (and another service's lines among them), journald with ANSI
/// colours, where a new pid is a new process even without a line of the old
/// one's end (killed: systemd says so, cloudflared cannot).
#[test]
fn collector_prefixes_and_a_killed_process() {
    let out = family("kubectl-prefix.log");
    let conns = out.expect("connector.connections", Verdict::Pass, None);
    assert_eq!(
        conns.data["sources"][0]["name"],
        "pod/cloudflared-5d9c7b8f6-abcde/cloudflared"
    );
    let out = family("compose-v1-glued-timestamps.log");
    let conns = out.expect("connector.connections", Verdict::Pass, None);
    assert_eq!(conns.data["recognized"], 5);
    assert_eq!(conns.data["unrecognized"], 1, "nginx's line");
    let out = family("ansi-journald-killed.log");
    let conns = out.expect(
        "connector.connections",
        Verdict::Fail,
        Some("too_few_connections"),
    );
    assert_eq!(conns.data["active"], 2);
    assert_eq!(conns.data["sources"][0]["ended_by_restart"], 4);
    assert_eq!(conns.data["sources"][0]["process"]["pid"], 4711);
    assert!(conns
        .message
        .as_deref()
        .unwrap()
        .contains("restarted at line 8"));
}

/// cmd/cloudflared/tunnel/signal.go: a graceful shutdown at the end of the log
/// takes every connection down, unregistered or not yet.
#[test]
fn a_shutdown_at_the_end_leaves_nothing() {
    let out = family("graceful-shutdown-at-end.log");
    let conns = out.expect(
        "connector.connections",
        Verdict::Fail,
        Some("no_connections"),
    );
    assert!(conns
        .message
        .as_deref()
        .unwrap()
        .contains("shutting down (line 5)"));
    assert_eq!(conns.data["connections"][0]["ended"]["how"], "unregistered");
    assert_eq!(conns.data["connections"][1]["ended"]["how"], "shutdown");
}

/// proxy/logger.go and connection/quic_connection.go: a failed request is one
/// line with its cfRay and origin service, and one "Request failed" line; in
/// JSON as in plain text it is one failure. Requests that reach the connector
/// prove the edge reaches it: without their registrations in the log the
/// connections cannot be counted, and "no connections" would be wrong.
#[test]
fn traffic_is_evidence_and_each_failure_counts_once() {
    let out = family("json-failures.log");
    let errors = out.expect(
        "connector.origin_errors",
        Verdict::Fail,
        Some("origin_unreachable"),
    );
    assert_eq!(errors.data["count"], 3);
    out.expect("connector.connections", Verdict::Pass, None);

    let out = family("traffic-without-registrations.log");
    let conns = out.expect(
        "connector.connections",
        Verdict::Error,
        Some("registrations_not_in_log"),
    );
    assert_eq!(conns.data["connections"][0]["conn_index"], 2);
    assert_eq!(conns.data["connections"][0]["inferred_from_line"], 1);
    assert!(!conns.message.as_deref().unwrap().contains("cannot reach"));
    assert_eq!(out.one("connector.origin_errors").data["count"], 1);
}
