//! `cargo xtask triage` finds each of the guide's on-call signatures in a demo-stack
//! scenario made to show it, and nothing on a healthy stack.

use day2_tests::process::Bin;

use day2_tests::fake_edge::{EdgeMode, FakeEdge};
use day2_tests::{BackendConfig, DemoStack, EdgeConfig, Fault, LegacyRoute, Provider};
use serde_json::{json, Value};

const ORIGIN: &str = "https://assistant.example.org";

/// A stack with nothing wrong: nginx leaves CORS to the backend, legacy retired.
fn healthy(backend: BackendConfig) -> DemoStack {
    let edge = EdgeConfig {
        allowed_origins: vec![],
        legacy: LegacyRoute::Retired,
        rate_limit: false,
        ..EdgeConfig::default()
    };
    DemoStack::start(backend, edge).expect("demo stack")
}

fn triage(url: &str, extra: &[&str]) -> (Option<i32>, Vec<Value>) {
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["triage", "--url", url, "--origin", ORIGIN, "--samples", "5"])
        .args(extra)
        .output();
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect();
    for record in &records {
        // The envelope's reason pattern (schema/record.schema.json): ^[a-z][a-z0-9_]*$
        if let Some(reason) = record["reason"].as_str() {
            assert!(
                reason.starts_with(|c: char| c.is_ascii_lowercase())
                    && reason
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "reason {reason:?} breaks the record schema"
            );
        }
        // Messages are for people: no Rust debug text.
        let message = record["message"].as_str().unwrap_or("");
        assert!(
            !["Some(", "None", "Other(", "\\u{"]
                .iter()
                .any(|debug| message.contains(debug)),
            "{message}"
        );
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("Some(") && !stderr.contains("Other("),
        "{stderr}"
    );
    (out.status.code(), records)
}

fn diagnosis<'a>(records: &'a [Value], signature: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["check"] == format!("triage.{signature}"))
        .unwrap_or_else(|| panic!("no triage.{signature} in {records:#?}"))
}

fn signatures(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r["tool"] == "xtask")
        .filter_map(|r| {
            r["check"]
                .as_str()?
                .strip_prefix("triage.")
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn a_healthy_stack_has_no_signature() {
    let stack = healthy(BackendConfig::default());
    let (code, records) = triage(&stack.url(), &[]);
    assert_eq!(signatures(&records), Vec::<String>::new(), "{records:#?}");
    assert_eq!(code, Some(0));
    assert_eq!(records.last().unwrap()["check"], "triage");
}

/// The probes run at the same time and ask with concurrency, yet the records are
/// those of the one-after-another run, in the same order: a stack with findings
/// (CORS missing at the edge, the SPA trap) so there is something to compare.
#[test]
fn concurrent_probes_write_the_records_of_the_sequential_run_in_its_order() {
    let stack = DemoStack::start(
        BackendConfig {
            allowed_origins: vec![],
            ..BackendConfig::default()
        },
        EdgeConfig {
            allowed_origins: vec![],
            legacy: LegacyRoute::Removed,
            rate_limit: false,
            ..EdgeConfig::default()
        },
    )
    .expect("demo stack");
    let shape = |records: &[Value]| -> Vec<Value> {
        records
            .iter()
            .map(|r| {
                json!([
                    r["tool"],
                    r["check"],
                    r["target"],
                    r["verdict"],
                    r["reason"],
                    r["data"]["origin"],
                    r["data"]["requested"],
                    r["data"]["statuses"]
                ])
            })
            .collect()
    };
    let (one_code, one) = triage(&stack.url(), &["--concurrency", "1"]);
    let (code, concurrent) = triage(&stack.url(), &[]);
    assert_eq!(one_code, code);
    assert_eq!(shape(&one), shape(&concurrent), "{one:#?}\n{concurrent:#?}");
    assert!(
        signatures(&one).contains(&"missing_cors".to_owned()),
        "{one:#?}"
    );
}

#[test]
fn missing_cors_is_found_with_its_remediation() {
    let stack = healthy(BackendConfig {
        allowed_origins: vec![],
        ..BackendConfig::default()
    });
    let (code, records) = triage(&stack.url(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(signatures(&records), vec!["missing_cors"]);
    let diagnosis = records
        .iter()
        .find(|r| r["check"] == "triage.missing_cors")
        .unwrap();
    let message = diagnosis["message"].as_str().unwrap();
    assert!(message.contains("ALLOWED_ORIGINS"), "{message}");
    let evidence = diagnosis["data"]["evidence"].as_array().unwrap();
    assert!(!evidence.is_empty());
    // The message names the requests that failed, not the guide's `OPTIONS /chat`
    // whatever failed.
    for cited in evidence {
        let named = format!(
            "{} {}",
            cited["check"].as_str().unwrap(),
            cited["target"].as_str().unwrap()
        );
        assert!(message.contains(&named), "{named} in {message}");
    }
}

#[test]
fn warming_over_budget_and_the_missing_model_are_found() {
    let stack = healthy(BackendConfig {
        warm_after: std::time::Duration::from_secs(3600),
        ..BackendConfig::default()
    });
    let started = (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(20)).to_string();
    let (code, records) = triage(
        &stack.url(),
        &["--warming-budget", "10m", "--started-at", &started],
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        signatures(&records),
        vec!["warming_over_budget", "model_missing"]
    );
    // Inside the budget the missing model is only the pull still running.
    let (code, records) = triage(&stack.url(), &["--warming-budget", "1h"]);
    assert_eq!(code, Some(0), "{records:#?}");
    let model = records
        .iter()
        .find(|r| r["check"] == "triage.model_missing")
        .expect("model_missing");
    assert_eq!(model["verdict"], "warn");
}

/// With the model server down the backend cannot list the models: the finding is
/// the dependency, and the model's presence is unknown, not missing ("pull the
/// model" would send the on-call person the wrong way).
#[test]
fn a_model_server_that_is_down_is_a_dependency_not_a_missing_model() {
    for provider in [Provider::Down, Provider::Fallback] {
        let stack = healthy(BackendConfig {
            provider,
            ..BackendConfig::default()
        });
        let (code, records) = triage(&stack.url(), &[]);
        assert_eq!(code, Some(1));
        assert_eq!(
            signatures(&records),
            vec!["dependency_down"],
            "{provider:?}: {records:#?}"
        );
        let message = diagnosis(&records, "dependency_down")["message"]
            .as_str()
            .unwrap();
        assert!(
            message.contains("Failing dependencies: ollama.")
                && message.contains("whether the model is present is unknown"),
            "{message}"
        );
    }
}

#[test]
fn a_5xx_burst_is_found_with_the_fallback_state() {
    let stack = healthy(BackendConfig {
        provider: Provider::Fallback,
        ..BackendConfig::default()
    });
    stack.backend.inject("/", Fault::Status(500));
    let (code, records) = triage(&stack.url(), &[]);
    assert_eq!(code, Some(1));
    let message = diagnosis(&records, "server_error_burst")["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("synthetic warming") && message.contains("5xx"),
        "{message}"
    );
    // "5xx burst" only when sampled answers were 5xx: nginx's synthetic body alone is
    // said as the backend failing behind it (a headline and its evidence agree).
    let sampled_5xx: u64 = message
        .split(" of ")
        .next()
        .and_then(|head| head.rsplit('(').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in {message}"));
    assert_eq!(
        message.starts_with("5xx burst"),
        sampled_5xx > 0,
        "{message}"
    );
    assert!(!signatures(&records).contains(&"missing_cors".to_owned()));
}

/// The backend stopped behind a live nginx: the preflight answers 502 and the summary
/// nginx's synthetic body with nginx's own CORS headers. That is an outage, not a
/// CORS fault and not a difference between the allow-lists.
#[test]
fn a_stopped_backend_is_backend_down_not_missing_cors() {
    let mut stack = DemoStack::start(
        BackendConfig::default(),
        EdgeConfig {
            legacy: LegacyRoute::Retired,
            rate_limit: false,
            ..EdgeConfig::default()
        },
    )
    .expect("demo stack");
    stack.backend.stop();
    let (code, records) = triage(&stack.url(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(signatures(&records), vec!["backend_down"], "{records:#?}");
    let message = diagnosis(&records, "backend_down")["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("HTTP 502"), "{message}");
    // The probe's own records say "could not check", not a CORS verdict.
    let layers = records
        .iter()
        .find(|r| r["check"] == "cors.layers")
        .expect("cors.layers");
    assert_eq!(
        (&layers["verdict"], &layers["reason"]),
        (&json!("error"), &json!("not_checked"))
    );
    let preflight = records
        .iter()
        .find(|r| r["check"] == "cors.preflight")
        .expect("cors.preflight");
    assert_eq!(
        (&preflight["verdict"], &preflight["data"]["status"]),
        (&json!("error"), &json!(502))
    );
}

/// Nothing listening at all: the finding is that nothing answers, not a 5xx burst.
#[test]
fn nothing_answering_is_unreachable_not_a_burst() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, records) = triage(&url, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(signatures(&records), vec!["unreachable"], "{records:#?}");
    let message = diagnosis(&records, "unreachable")["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains(&url) && message.contains("connection refused"),
        "{message}"
    );
}

#[test]
fn a_dead_tunnel_is_found_at_the_edge() {
    let stack = healthy(BackendConfig::default());
    let edge = FakeEdge::start(&stack.url(), "AMS").expect("fake edge");
    edge.set_mode(EdgeMode::Status(530));
    let (code, records) = triage(&stack.url(), &["--edge", &edge.url()]);
    assert_eq!(code, Some(1));
    assert_eq!(signatures(&records), vec!["tunnel_dead"]);
}

#[test]
fn the_duplicate_header_and_the_spa_trap_are_told_too() {
    let stack = DemoStack::start(
        BackendConfig::default(),
        EdgeConfig {
            legacy: LegacyRoute::Removed,
            rate_limit: false,
            ..EdgeConfig::default()
        },
    )
    .expect("demo stack");
    let (_, records) = triage(&stack.url(), &[]);
    let found = signatures(&records);
    assert!(
        found.contains(&"duplicate_cors".to_owned())
            && found.contains(&"legacy_spa_fallback".to_owned()),
        "{found:?}"
    );
}

/// Issue 18: "no known signature" is a pass only when every probe got its answer.
/// A healthy stack whose edge cannot be reached (tunnel-check errors, no 52x, so no
/// tunnel_dead) used to pass; it is now an error naming what was not checked.
#[test]
fn no_signature_with_checks_that_could_not_be_made_is_not_a_pass() {
    let stack = healthy(BackendConfig::default());
    let closed = day2_tests::fake_edge::closed_url().expect("closed port");
    let (code, records) = triage(&stack.url(), &["--edge", &closed]);
    assert_eq!(signatures(&records), Vec::<String>::new(), "{records:#?}");
    let last = records.last().unwrap();
    assert_eq!(
        (&last["check"], &last["verdict"], &last["reason"]),
        (&json!("triage"), &json!("error"), &json!("not_all_checked")),
        "{records:#?}"
    );
    assert!(!last["data"]["evidence"].as_array().unwrap().is_empty());
    assert_eq!(code, Some(1));
}

/// `--insecure` reaches every probe and is recorded; without it TLS stays verified.
#[test]
fn insecure_is_passed_to_every_probe_and_recorded() {
    let stack = healthy(BackendConfig::default());
    let (code, records) = triage(&stack.url(), &["--insecure"]);
    assert_eq!(code, Some(0), "{records:#?}");
    assert!(
        records.iter().any(|r| r["tool"] == "status-probe"
            && r["check"] == "tls"
            && r["reason"] == "tls_verification_disabled"),
        "{records:#?}"
    );
    let sampled: Vec<&Value> = records
        .iter()
        .filter(|r| r["tool"] == "legacy-sampler" && r["check"] == "summary")
        .collect();
    assert_eq!(sampled.len(), 2, "{records:#?}");
    assert!(
        sampled.iter().all(|r| r["data"]["insecure"] == true),
        "{sampled:#?}"
    );
    assert_eq!(records.last().unwrap()["data"]["insecure"], true);
    let (_, records) = triage(&stack.url(), &[]);
    assert!(!records.iter().any(|r| r["check"] == "tls"), "{records:#?}");
    assert_eq!(records.last().unwrap()["data"]["insecure"], false);
}

#[test]
fn numbers_out_of_range_are_usage_errors() {
    for (args, expected) in [
        (
            &["--burst-ratio", "NaN"][..],
            "for --burst-ratio: a ratio from 0 to 1",
        ),
        (
            &["--burst-ratio", "2"][..],
            "for --burst-ratio: a ratio from 0 to 1",
        ),
        (
            &["--samples", "0"][..],
            "for --samples: a whole number from 1 to 100000",
        ),
        (
            &["--warming-budget", "1e300"][..],
            "for --warming-budget: a duration from 0 to 30 days",
        ),
        (
            &["--concurrency", "0"][..],
            "for --concurrency: a number of requests in flight from 1 to 64",
        ),
    ] {
        let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["triage", "--url", "http://127.0.0.1:1"])
            .args(args)
            .output();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// A canary credential in the stack's URL and the edge's appears in no output.
#[test]
fn url_credentials_never_reach_any_output() {
    const CANARY: &str = "CANARY-9e03";
    let stack = healthy(BackendConfig::default());
    let url = stack
        .url()
        .replacen("http://", &format!("http://ops:{CANARY}@"), 1);
    let closed = day2_tests::fake_edge::closed_url().expect("closed port");
    let edge = format!(
        "{}/?token={CANARY}",
        closed.replacen("http://", &format!("http://ops:{CANARY}@"), 1)
    );
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "triage",
            "--url",
            &url,
            "--origin",
            ORIGIN,
            "--samples",
            "3",
            "--edge",
            &edge,
        ])
        .output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.lines().count() > 5, "{stdout}\n{stderr}");
    assert!(
        !stdout.contains(CANARY) && !stderr.contains(CANARY),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("ops:[REDACTED]@127.0.0.1"), "{stdout}");
}
