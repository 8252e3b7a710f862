//! `cargo xtask triage` finds each of the guide's on-call signatures in a demo-stack
//! scenario made to show it, and nothing on a healthy stack.

use std::process::Command;

use day2_tests::fake_edge::{EdgeMode, FakeEdge};
use day2_tests::{BackendConfig, DemoStack, EdgeConfig, Fault, LegacyRoute, Provider};
use serde_json::Value;

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
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["triage", "--url", url, "--origin", ORIGIN, "--samples", "5"])
        .args(extra)
        .output()
        .expect("run triage");
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect();
    (out.status.code(), records)
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
    assert!(diagnosis["message"]
        .as_str()
        .unwrap()
        .contains("ALLOWED_ORIGINS"));
    assert!(!diagnosis["data"]["evidence"].as_array().unwrap().is_empty());
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

#[test]
fn a_model_server_that_is_down_shows_the_model_missing_and_the_dependency() {
    let stack = healthy(BackendConfig {
        provider: Provider::Down,
        ..BackendConfig::default()
    });
    let (code, records) = triage(&stack.url(), &[]);
    assert_eq!(code, Some(1));
    let found = signatures(&records);
    assert!(
        found.contains(&"model_missing".to_owned())
            && found.contains(&"dependency_down".to_owned()),
        "{found:?}"
    );
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
    let burst = records
        .iter()
        .find(|r| r["check"] == "triage.5xx_burst")
        .expect("5xx_burst");
    let message = burst["message"].as_str().unwrap();
    assert!(
        message.contains("synthetic warming") && message.contains("5xx"),
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
