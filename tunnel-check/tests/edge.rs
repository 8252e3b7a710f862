//! Origin vs edge against the demo stack (backend simulator behind real nginx) with
//! a fake Cloudflare edge on loopback in front of it: every verdict.

mod common;

use common::run;
use day2_core::Verdict;
use day2_tests::fake_edge::{closed_url, EdgeMode, FakeEdge, StaticServer};
use day2_tests::{DemoStack, Fault};

fn edge_run(origin: &str, edge: &str, extra: &[&str]) -> common::Run {
    let mut args = vec!["--origin", origin, "--edge", edge];
    args.extend_from_slice(extra);
    run(&args, "")
}

#[test]
fn every_origin_edge_verdict_against_the_demo_stack() {
    let demo = DemoStack::default_stack().expect("demo stack");
    let origin = demo.url();
    let edge = FakeEdge::start(&origin, "AMS").expect("fake edge");

    // Healthy: same status and body on both sides, with cf-ray evidence.
    let ok = edge_run(&origin, &edge.url(), &[]);
    assert_eq!(ok.code, 0, "{ok:#?}");
    let record = ok.expect("edge", Verdict::Pass, Some("both_ok"));
    assert_eq!(record.data["origin"]["status"], 200);
    assert_eq!(record.data["edge"]["status"], 200);
    assert_eq!(
        record.data["origin"]["body_sha256"],
        record.data["edge"]["body_sha256"]
    );
    assert_eq!(record.data["edge"]["server"], "cloudflare");
    assert_eq!(record.data["edge"]["colo"], "AMS");
    assert_eq!(
        record.data["edge"]["ray_id"].as_str().map(str::len),
        Some(16)
    );
    assert!(record.data["edge"]["latency_ms"].as_f64().is_some());

    // The subcommand form is the same check.
    let sub = run(
        &[
            "edge",
            "--origin",
            &origin,
            "--edge",
            &edge.url(),
            "--path",
            "ready",
        ],
        "",
    );
    sub.expect("edge", Verdict::Pass, Some("both_ok"));

    // Cloudflare's own errors while the origin is fine: the tunnel is dead.
    for status in [530, 502] {
        edge.set_mode(EdgeMode::Status(status));
        let dead = edge_run(&origin, &edge.url(), &[]);
        assert_eq!(dead.code, 1, "{dead:#?}");
        let record = dead.expect("edge", Verdict::Fail, Some("tunnel_dead"));
        assert_eq!(record.data["edge"]["status"], status);
    }

    // Something answers on the public URL, but not through Cloudflare.
    edge.set_mode(EdgeMode::ProxyWithoutRay);
    let direct = edge_run(&origin, &edge.url(), &[]);
    assert_eq!(direct.code, 1);
    let record = direct.expect("edge", Verdict::Fail, Some("not_via_cloudflare"));
    assert!(record.data["edge"]["cf_ray"].is_null());

    // The backend fails its dependency check: the origin answers 503 and so does
    // the edge; the cause is the origin, not the tunnel.
    edge.set_mode(EdgeMode::Proxy);
    demo.backend.inject("/ready", Fault::Status(503));
    let down = edge_run(&origin, &edge.url(), &[]);
    assert_eq!(down.code, 1);
    let record = down.expect("edge", Verdict::Fail, Some("origin_down"));
    assert_eq!(record.data["origin"]["status"], 503);
    demo.backend.heal();
    edge_run(&origin, &edge.url(), &[]).expect("edge", Verdict::Pass, Some("both_ok"));
    assert!(edge.requests() >= 6);
}

#[test]
fn the_edge_serving_something_else_is_a_disagreement() {
    let demo = DemoStack::default_stack().expect("demo stack");
    // The edge routes to another origin: same status, other body; then other status.
    let stale = StaticServer::json(200, r#"{"ok":true,"checks":{"stale":true}}"#).expect("server");
    let edge = FakeEdge::start(&stale.url(), "FRA").expect("fake edge");
    let body = edge_run(&demo.url(), &edge.url(), &[]);
    let record = body.expect("edge", Verdict::Fail, Some("origin_edge_disagree"));
    assert_eq!(record.data["edge"]["colo"], "FRA");
    assert!(
        record.message.as_deref().unwrap_or("").contains("body"),
        "{body:#?}"
    );
    // Comparing status only, the same pair agrees.
    edge_run(&demo.url(), &edge.url(), &["--compare", "status"]).expect(
        "edge",
        Verdict::Pass,
        Some("both_ok"),
    );

    let missing = StaticServer::json(404, r#"{"detail":"Not Found"}"#).expect("server");
    let edge = FakeEdge::start(&missing.url(), "FRA").expect("fake edge");
    let status = edge_run(&demo.url(), &edge.url(), &["--compare", "status"]);
    let record = status.expect("edge", Verdict::Fail, Some("origin_edge_disagree"));
    assert_eq!(record.data["edge"]["status"], 404);
}

#[test]
fn unreachable_sides_and_the_connector_join() {
    let demo = DemoStack::default_stack().expect("demo stack");
    let closed = closed_url().expect("closed port");

    // Nothing listens on the origin: origin down, whatever the edge says.
    let edge = FakeEdge::start(&closed, "AMS").expect("fake edge");
    let down = edge_run(&closed, &edge.url(), &[]);
    let record = down.expect("edge", Verdict::Fail, Some("origin_down"));
    assert_eq!(record.data["origin"]["error"], "connection_refused");
    // The fake edge, like Cloudflare, answers 502 with cf-ray when the origin is gone.
    assert_eq!(record.data["edge"]["status"], 502);

    // The public URL does not answer at all.
    let gone = edge_run(&demo.url(), &closed, &[]);
    assert_eq!(gone.code, 1);
    let record = gone.expect("edge", Verdict::Error, Some("edge_unreachable"));
    assert_eq!(record.data["edge"]["error"], "connection_refused");

    // With --metrics the connector's own readiness is joined in.
    let edge = FakeEdge::start(&demo.url(), "AMS").expect("fake edge");
    let metrics = StaticServer::json(200, r#"{"status":200,"readyConnections":4,"connectorId":"0c5e2a4b-1d3f-4e6a-8b7c-9d0e1f2a3b4c"}"#)
        .expect("metrics");
    let addr = metrics.addr().to_string();
    let joined = edge_run(&demo.url(), &edge.url(), &["--metrics", &addr]);
    assert_eq!(joined.code, 0, "{joined:#?}");
    joined.expect("edge", Verdict::Pass, Some("both_ok"));
    let ready = joined.expect("connector.ready", Verdict::Pass, None);
    assert_eq!(ready.data["ready_connections"], 4);
}

#[test]
fn usage_errors_exit_2() {
    let none = run(&[], "");
    assert_eq!(none.code, 2);
    assert!(
        none.stderr.starts_with("tunnel-check: give --edge URL"),
        "{none:#?}"
    );
    let missing = run(&["edge"], "");
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("--edge URL is required"),
        "{missing:#?}"
    );
    let bad = run(
        &["edge", "--edge", "http://127.0.0.1:1", "--timeout", "soon"],
        "",
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains(
            "invalid value \"soon\" for --timeout: a duration from 1 millisecond to 1 day"
        ),
        "{bad:#?}"
    );
    let help = run(&["--help"], "");
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Exit codes:"));
}

/// Issue 18: every number is range-checked when parsed (day2-core's `bounded`): a
/// usage error (exit 2) naming the flag and its range. Before, a huge `--timeout`
/// ended in "internal error: overflow when adding duration to instant" (exit 1).
#[test]
fn numbers_out_of_range_are_usage_errors_naming_flag_and_range() {
    const HUGE: &str = "18446744073709551615s";
    let edge = ["edge", "--edge", "http://127.0.0.1:1"];
    let with = |base: &[&'static str], more: &[&'static str]| -> Vec<&'static str> {
        base.iter().chain(more).copied().collect()
    };
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            with(&edge, &["--timeout", HUGE]),
            "--timeout",
            "a duration from 1 millisecond to 1 day",
        ),
        (
            with(&["--edge", "http://127.0.0.1:1"], &["--timeout", "0s"]),
            "--timeout",
            "a duration from 1 millisecond",
        ),
        (
            with(&edge, &["--expected-connections", "0"]),
            "--expected-connections",
            "a number of connections from 1 to 100",
        ),
        (
            vec!["compose", "-f", "/dev/null", "--timeout", HUGE],
            "--timeout",
            "a duration from 1 millisecond to 1 day",
        ),
        (
            vec!["connector", "--timeout", HUGE],
            "--timeout",
            "a duration from 1 millisecond to 1 day",
        ),
        (
            vec!["connector", "--expected-connections", "101"],
            "--expected-connections",
            "from 1 to 100",
        ),
        (
            vec!["connector", "--container", "c", "--tail", "0"],
            "--tail",
            "a number of lines from 1 to 100000000",
        ),
        (
            vec!["connector", "--max-reconnects", "99999999999999999999"],
            "--max-reconnects",
            "a number of reconnects from 0 to 1000000",
        ),
    ];
    for (args, flag, range) in cases {
        let out = run(&args, "");
        assert_eq!(out.code, 2, "{out:#?}");
        assert!(out.records.is_empty(), "{out:#?}");
        assert!(
            out.stderr.contains(&format!("for {flag}: ")) && out.stderr.contains(range),
            "{out:#?}"
        );
        assert!(!out.stderr.contains("internal error"), "{out:#?}");
    }
}
