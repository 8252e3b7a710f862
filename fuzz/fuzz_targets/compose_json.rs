//! A rendered compose config in JSON (`docker compose config --format json`, which
//! compose v2 writes and the YAML reader reads as YAML's JSON subset), checked by
//! `tunnel-check compose` from stdin. Promises as for YAML, and one of JSON itself:
//! a JSON object serde_json reads is a config the YAML reader reads too (JSON is
//! YAML 1.2), so it is never exit 2 for its syntax unless the object has a key twice
//! (compose refuses duplicate keys) or nests deeper than the reader's bound.
#![no_main]

use day2_core::Exit;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let run = day2_fuzz::tunnel_check(&[&"compose"], data, &[]);
    if run.exit == Exit::Usage && serde_json::from_slice::<Value>(data).is_ok() {
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            !stderr.contains("line ") || stderr.contains("duplicate") || stderr.contains("deep"),
            "JSON serde_json reads, refused as YAML: {stderr}"
        );
    }
});
