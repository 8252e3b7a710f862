//! Benchmark (not a test): `cargo xtask triage` across links of 0, 50 and 150 ms round
//! trip (day2-tests' latency proxy in front of the demo stack), with the default
//! concurrency, against `--concurrency 1` (the probes one after another, one request
//! at a time, as before), against status-probe's own full run (triage should take
//! about as long as its slowest probe, within 2x status-probe's time), and against
//! the curl sequence the guide's on-call would type (status-probe's curl checks, then
//! one curl per sample on the summary and on the dependency check). Prints medians,
//! the round trips used (time over the round trip) and the ratios.
//!
//! `cargo run --release -p xtask --example bench_triage [-- ROUNDS]` (default 5 rounds
//! per link, alternating; at least 3). The release xtask binary is built first when
//! missing. The demo stack runs with its rate limit off.

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use day2_tests::bench::{
    demo_stack, load_average, median, ms, release_binary, round_trips, time_script,
};
use day2_tests::LatencyProxy;

const ORIGIN: &str = "https://assistant.example.org";
/// Samples on each of the summary and the dependency check (triage's default).
const SAMPLES: u32 = 10;

/// The guide's way, one curl (one connection) per request: the status checks, then
/// the samples one after another.
fn curl_script(url: &str) -> String {
    format!(
        r#"set -u
U='{url}'; O='{ORIGIN}'
curl -s -m 10 -o /dev/null -w '%{{http_code}}\n' "$U/api/ready"
curl -s -m 10 -o /dev/null -w '%{{http_code}}\n' "$U/ready"
curl -s -m 10 -D - "$U/api/status/summary" | grep -c '"path":"primary"'
curl -s -m 10 -D - -o /dev/null -X OPTIONS -H "Origin: $O" -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type' "$U/api/chat" | grep -ci '^access-control-allow-origin:'
curl -s -m 10 -D - -o /dev/null -H "Origin: $O" "$U/api/status/summary" | grep -ci '^access-control-allow-origin:'
curl -s -m 10 -D - -o /dev/null -H "Origin: $O" "$U/status/summary" | grep -ci '^x-status-path:'
curl -s -m 10 -D - -o /dev/null "$U/status/summary" | grep -ci '^x-status-path: legacy'
for i in $(seq {SAMPLES}); do curl -s -m 3 -o /dev/null -w '%{{http_code}}\n' "$U/api/status/summary"; done | sort | uniq -c
for i in $(seq {SAMPLES}); do curl -s -m 3 -o /dev/null -w '%{{http_code}}\n' "$U/ready"; done | sort | uniq -c
true
"#
    )
}

fn timed(mut command: Command) -> Duration {
    let started = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the benchmarked command runs");
    // Triage exits 1 when it finds a signature; anything but a usage error is a run.
    assert!(
        status.code().is_some_and(|c| c != 2),
        "{command:?}: {status}"
    );
    started.elapsed()
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5)
        .max(3);
    let Some(xtask) = release_binary("xtask", "xtask") else {
        println!("xtask binary: not built next to the example (cargo build --release -p xtask)");
        std::process::exit(1);
    };
    let stack = demo_stack();
    let samples = SAMPLES.to_string();
    let triage = |url: &str, concurrency: &str| {
        let mut c = Command::new(&xtask);
        c.args([
            "triage",
            "--url",
            url,
            "--origin",
            ORIGIN,
            "--samples",
            &samples,
            "--concurrency",
            concurrency,
        ]);
        c
    };
    println!(
        "triage across a link: {rounds} rounds each, alternating; {SAMPLES} samples on each of the summary and /ready; load average {}",
        load_average()
    );
    for rtt_ms in [0u64, 50, 150] {
        let rtt = Duration::from_millis(rtt_ms);
        let proxy = LatencyProxy::in_front_of(&stack.url(), rtt).expect("latency proxy starts");
        let url = proxy.url();
        let script = curl_script(&url);
        let probe_args = [
            "status-probe",
            "--url",
            &url,
            "--chat-path",
            "/api/chat",
            "--origin",
            ORIGIN,
            "--warming-budget",
            "10m",
        ];
        let (mut conc, mut seq, mut probe, mut curl) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let order = if round % 2 == 0 {
                [0, 1, 2, 3]
            } else {
                [3, 2, 1, 0]
            };
            for side in order {
                match side {
                    0 => conc.push(timed(triage(&url, "6"))),
                    1 => seq.push(timed(triage(&url, "1"))),
                    2 => {
                        let started = Instant::now();
                        let _ = day2_core::cli::run_captured(status_probe::run, &probe_args, b"");
                        probe.push(started.elapsed());
                    }
                    _ => curl.push(time_script(&script)),
                }
            }
        }
        let (conc, seq, probe, curl) = (
            median(&mut conc),
            median(&mut seq),
            median(&mut probe),
            median(&mut curl),
        );
        let trips = |d: Duration| round_trips(d, rtt);
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        println!(
            "  RTT {rtt_ms:>3} ms: triage {:>8.1} ms ({} RTT) | --concurrency 1 {:>8.1} ms ({} RTT) {:.2}x | curl sequence {:>8.1} ms ({} RTT) {:.2}x | status-probe alone {:>7.1} ms ({} RTT), triage/status-probe {:.2}",
            ms(conc),
            trips(conc),
            ms(seq),
            trips(seq),
            ratio(seq, conc),
            ms(curl),
            trips(curl),
            ratio(curl, conc),
            ms(probe),
            trips(probe),
            ratio(conc, probe),
        );
    }
}
