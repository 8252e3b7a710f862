//! cloudflared's JSON log lines (`--output json`: zerolog objects with `level`,
//! `time`, `message`, `connIndex`, …), read by `tunnel-check connector` from stdin.
//! Promises as for plain lines, and one of JSON itself: the same objects written with
//! their keys in another order and without spaces are the same log, so every record
//! is the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The lines that are JSON objects, rewritten with sorted keys and no spaces.
fn rewritten(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let mut changed = false;
    for line in data.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let object = (body.first() == Some(&b'{') && body.last() == Some(&b'}'))
            .then(|| serde_json::from_slice::<Value>(body).ok())
            .flatten()
            .filter(Value::is_object);
        match object {
            Some(object) => {
                let text = serde_json::to_vec(&object).expect("a Value serializes");
                changed |= text != body;
                out.extend_from_slice(&text);
                if line.len() > body.len() {
                    out.push(b'\n');
                }
            }
            None => out.extend_from_slice(line),
        }
    }
    changed.then_some(out)
}

fuzz_target!(|data: &[u8]| {
    let run = day2_fuzz::tunnel_check(&[&"connector"], data, &[]);
    if let Some(again) = rewritten(data) {
        let other = day2_fuzz::tunnel_check(&[&"connector"], &again, &[]);
        let judged = |records: &[day2_core::Record]| -> Vec<String> {
            records
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {:?} {:?} {:?} {}",
                        r.check, r.target, r.verdict, r.reason, r.message, r.data
                    )
                })
                .collect()
        };
        assert_eq!(
            judged(&run.records),
            judged(&other.records),
            "the same JSON objects, judged otherwise:\n{}",
            String::from_utf8_lossy(&again)
        );
        assert_eq!(run.exit, other.exit);
    }
});
