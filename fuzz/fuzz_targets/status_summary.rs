//! The body of `GET /api/status/summary` (the backend's, or nginx's synthetic one:
//! untrusted JSON from the network), read by status-probe (`summary::record`) and
//! fed to the warming SLO tracker as a `--wait` does. Promises: a body that is not a
//! JSON object fails as `not_json`, never a panic; a `pass` only for a body whose
//! `ready` is true and whose `llm.path` is `primary` (re-read here with serde_json).
#![no_main]

use std::time::Duration;

use day2_core::http::HttpResponse;
use day2_core::Verdict;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use status_probe::{summary, warming};

fuzz_target!(|data: &[u8]| {
    let response = HttpResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-status-path".into(), "api".into()),
        ],
        body: data.to_vec(),
        elapsed: Duration::from_millis(12),
    };
    let (record, view) = summary::record(
        "http://127.0.0.1:8080/api/status/summary",
        &response,
        "X-Status-Path",
    );
    if record.verdict == Verdict::Pass {
        let body: Value = serde_json::from_slice(data).expect("a pass read JSON");
        assert_eq!(
            body.pointer("/ready"),
            Some(&Value::Bool(true)),
            "{record:?}"
        );
        assert_eq!(
            body.pointer("/llm/path").and_then(Value::as_str),
            Some("primary"),
            "{record:?}"
        );
    }
    let mut tracker = warming::Tracker::new(None);
    match &view {
        Some(view) => tracker.observe(view.state(), Some(view)),
        None => tracker.observe("unreadable", None),
    }
    let slo = tracker.record(
        "http://127.0.0.1:8080/api/status/summary".into(),
        Duration::from_secs(600),
    );
    day2_fuzz::emit(status_probe::TOOL, vec![record, slo]);
});
