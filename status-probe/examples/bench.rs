//! Benchmark (not a test): one full probe run (ready + summary + cors + legacy)
//! against the equivalent sequence of `curl` invocations with header greps, the way
//! the operations guide probes, in the same run, alternating, several rounds; prints
//! the medians and the ratio.
//!
//! `cargo run --release -p status-probe --example bench [-- ROUNDS]` (default 30 rounds)
//!
//! Both the spawned release binary (target/release/status-probe, built first when
//! missing) and the in-process run (how `cargo xtask` composes tools) are measured.
//! The demo stack runs with its rate limit off.
//!
//! Then the same across links of 0, 50 and 150 ms round trip (day2-tests' latency
//! proxy in front of the stack): a full run (every check, one origin) with the default
//! concurrency against `--concurrency 1` (the sequential order) and against the curl
//! sequence (one connection per curl), with the round trips each used (its time over
//! the round trip). ROUNDS / 6 rounds each (at least 3, at most 10).

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use day2_tests::bench::{
    demo_stack, load_average, median, ms, release_binary, round_trips, time_script,
};
use day2_tests::{DemoStack, LatencyProxy};

const ORIGIN: &str = "https://assistant.example.org";

/// The guide's way: one curl per request, headers dumped and grepped.
fn curl_script(url: &str) -> String {
    format!(
        r#"set -u
U='{url}'; O='{ORIGIN}'
curl -s -m 10 -D - -o /dev/null "$U/api/ready" | grep -q '^HTTP/1.1 200' || echo "ready: not 200"
S=$(curl -s -m 10 -D - "$U/api/status/summary")
echo "$S" | grep -qi '^x-status-path: api' || echo "summary: no X-Status-Path"
echo "$S" | grep -q '"path":"primary"' || echo "summary: not primary"
echo "$S" | grep -q '"ready":true' || echo "summary: not ready"
P=$(curl -s -m 10 -D - -o /dev/null -X OPTIONS -H "Origin: $O" -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type' "$U/api/chat")
echo "$P" | grep -q '^HTTP/1.1 20[04]' || echo "preflight: status"
[ "$(echo "$P" | grep -ci '^access-control-allow-origin:')" = 1 ] || echo "preflight: allow-origin count"
echo "$P" | grep -qi '^vary:.*origin' || echo "preflight: vary"
echo "$P" | grep -qi '^access-control-allow-methods:.*POST' || echo "preflight: method"
G=$(curl -s -m 10 -D - -o /dev/null -H "Origin: $O" "$U/api/status/summary")
[ "$(echo "$G" | grep -ci '^access-control-allow-origin:')" = 1 ] || echo "summary+origin: allow-origin count"
echo "$G" | grep -qi '^vary:.*origin' || echo "summary+origin: vary"
echo "$G" | grep -qi '^x-status-path:' || echo "summary+origin: X-Status-Path lost"
L=$(curl -s -m 10 -D - -o /dev/null -H "Origin: $O" "$U/status/summary")
[ "$(echo "$L" | grep -ci '^access-control-allow-origin:')" = 1 ] || echo "legacy+origin: allow-origin count"
echo "$L" | grep -qi '^x-status-path:' || echo "legacy+origin: X-Status-Path lost"
M=$(curl -s -m 10 -D - -o /dev/null "$U/status/summary")
echo "$M" | grep -qi '^x-status-path: legacy' || echo "legacy: no header"
echo "$M" | grep -qi '^content-type: text/html' && echo "legacy: SPA fallback"
true
"#
    )
}

fn probe_args(url: &str) -> Vec<String> {
    [
        "status-probe",
        "--url",
        url,
        "--chat-path",
        "/api/chat",
        "--origin",
        ORIGIN,
        "ready",
        "summary",
        "cors",
        "legacy",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A full run through a link: every check (ready, deps, summary, cors, legacy) with
/// one origin, at the given concurrency.
fn full_args(url: &str, concurrency: &str) -> Vec<String> {
    [
        "status-probe",
        "--url",
        url,
        "--chat-path",
        "/api/chat",
        "--origin",
        ORIGIN,
        "--concurrency",
        concurrency,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Times one in-process run.
fn timed_run(args: &[String]) -> Duration {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    let _ = day2_core::cli::run_captured(status_probe::run, &refs, b"");
    started.elapsed()
}

/// The three ways across links of 0, 50 and 150 ms round trip.
fn across_links(stack: &DemoStack, rounds: usize) {
    println!();
    println!(
        "across a link (latency proxy; {rounds} rounds each, alternating; a full run: 5 checks, 1 origin, 7 requests):"
    );
    for rtt_ms in [0u64, 50, 150] {
        let rtt = Duration::from_millis(rtt_ms);
        let proxy = LatencyProxy::in_front_of(&stack.url(), rtt).expect("latency proxy starts");
        let url = proxy.url();
        let script = curl_script(&url);
        let (concurrent, sequential) = (full_args(&url, "6"), full_args(&url, "1"));
        let (mut curl, mut seq, mut conc) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let order = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
            for side in order {
                match side {
                    0 => curl.push(time_script(&script)),
                    1 => seq.push(timed_run(&sequential)),
                    _ => conc.push(timed_run(&concurrent)),
                }
            }
        }
        let (curl, seq, conc) = (median(&mut curl), median(&mut seq), median(&mut conc));
        let trips = |d: Duration| round_trips(d, rtt);
        println!(
            "  RTT {rtt_ms:>3} ms: concurrent (6) {:>8.1} ms ({} RTT) | --concurrency 1 {:>8.1} ms ({} RTT) {:.2}x | curl sequence {:>8.1} ms ({} RTT) {:.2}x",
            ms(conc),
            trips(conc),
            ms(seq),
            trips(seq),
            seq.as_secs_f64() / conc.as_secs_f64(),
            ms(curl),
            trips(curl),
            curl.as_secs_f64() / conc.as_secs_f64(),
        );
    }
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30)
        .max(3);
    let stack = demo_stack();
    let url = stack.url();
    let script = curl_script(&url);
    let args = probe_args(&url);
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let binary = release_binary("status-probe", "status-probe");

    // One sanity pass of each, so a broken reference is not timed as a fast one.
    let (_, out, _) = day2_core::cli::run_captured(status_probe::run, &arg_refs, b"");
    let records = day2_core::record::read_records(&mut out.as_slice()).expect("records");
    assert!(records.len() >= 7, "probe ran {} checks", records.len());
    let reference = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("bash runs");
    println!(
        "curl reference findings: {}",
        String::from_utf8_lossy(&reference.stdout)
            .trim()
            .replace('\n', "; ")
    );

    let (mut curl, mut inproc, mut spawned) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which side goes first so warm caches favour neither.
        let order = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
        for side in order {
            let started = Instant::now();
            match side {
                0 => curl.push(time_script(&script)),
                1 => {
                    let _ = day2_core::cli::run_captured(status_probe::run, &arg_refs, b"");
                    inproc.push(started.elapsed());
                }
                _ => {
                    if let Some(binary) = &binary {
                        let _ = Command::new(binary)
                            .args(&args[1..])
                            .stdout(Stdio::null())
                            .stderr(Stdio::null())
                            .status()
                            .expect("status-probe runs");
                        spawned.push(started.elapsed());
                    }
                }
            }
        }
    }
    let curl = median(&mut curl);
    let inproc = median(&mut inproc);
    println!(
        "rounds: {rounds} (alternating), demo stack behind nginx, rate limit off; load average {}",
        load_average()
    );
    println!(
        "curl + grep sequence (6 curl calls): median {:.2} ms",
        curl.as_secs_f64() * 1e3
    );
    println!(
        "status-probe in-process:             median {:.2} ms  ratio {:.1}x",
        inproc.as_secs_f64() * 1e3,
        curl.as_secs_f64() / inproc.as_secs_f64()
    );
    match binary {
        Some(path) => {
            let spawned = median(&mut spawned);
            println!(
                "status-probe binary ({}): median {:.2} ms  ratio {:.1}x",
                path.display(),
                spawned.as_secs_f64() * 1e3,
                curl.as_secs_f64() / spawned.as_secs_f64()
            );
        }
        None => println!("status-probe binary: not built next to the example (cargo build --release -p status-probe)"),
    }
    across_links(&stack, (rounds / 6).clamp(3, 10));
}
