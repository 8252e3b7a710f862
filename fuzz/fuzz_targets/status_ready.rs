//! The bodies of the readiness endpoints (`GET /api/ready`, and the dependency check
//! `GET /ready` that FastAPI answers 200 or 503 with `checks` or `detail.checks`):
//! untrusted JSON from the network, read by status-probe (`checks::ready_record`,
//! `checks::deps_record`) for each status the endpoints answer. Promises: a body
//! that is not JSON fails as `not_json`, never a panic; a `pass` only for a 2xx
//! JSON object (`ready`) or a 200 JSON body (`deps`).
#![no_main]

use std::time::Duration;

use day2_core::http::HttpResponse;
use day2_core::Verdict;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use status_probe::checks;

fuzz_target!(|data: &[u8]| {
    let json = serde_json::from_slice::<Value>(data).ok();
    let mut records = Vec::new();
    for status in [200, 503] {
        let response = HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: data.to_vec(),
            elapsed: Duration::from_millis(3),
        };
        let ready = checks::ready_record("http://127.0.0.1:8080/api/ready", &response);
        if ready.verdict == Verdict::Pass {
            assert!(status == 200 && json.as_ref().is_some_and(Value::is_object));
        }
        let deps = checks::deps_record("http://127.0.0.1:8080/ready", &response);
        if deps.verdict == Verdict::Pass {
            assert!(status == 200 && json.is_some());
        }
        records.extend([ready, deps]);
    }
    day2_fuzz::emit(status_probe::TOOL, records);
});
