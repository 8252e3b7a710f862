//! Benchmarks of legacy-sampler against the references the issue names, in one run,
//! alternating, several rounds, medians and ratios:
//!
//! - live: N samples of the legacy path through a real nginx (demo stack, no rate
//!   limit) against the guide's `curl` loop without its `sleep`, and requests a second
//!   against `wrk` at the same concurrency;
//! - logs: counting a generated 1 GiB access log (windows, callers, the 24 h verdict)
//!   against `grep -c` on the same file. The file lives in a temporary directory
//!   under /tmp and is deleted at the end.
//!
//! `cargo run --release -p legacy-sampler --example bench -- [live|logs|all]
//!  [--samples N] [--rounds R] [--log-mib M]`

#![allow(clippy::print_stdout)]

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use day2_core::cli::run_captured;
use day2_core::Exit;
use day2_tests::bench::demo_stack;

struct Options {
    what: String,
    samples: u64,
    rounds: usize,
    log_mib: u64,
}

fn options() -> Options {
    let mut options = Options {
        what: "all".into(),
        samples: 1000,
        rounds: 5,
        log_mib: 1024,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match args[i].as_str() {
            "--samples" => options.samples = value().expect("--samples N"),
            "--rounds" => options.rounds = value().expect("--rounds N") as usize,
            "--log-mib" => options.log_mib = value().expect("--log-mib M"),
            what @ ("live" | "logs" | "all") => {
                options.what = what.into();
                i += 1;
                continue;
            }
            other => panic!("unknown argument {other:?}"),
        }
        i += 2;
    }
    options
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn timed(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

/// CPU seconds (user + system) of this process and of its waited-for children, from
/// /proc/self/stat: wall time on a shared machine depends on the neighbours, CPU
/// time much less.
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The fields after the command name (which may hold spaces); utime is the 12th.
    let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<f64> = after.split(' ').map(|f| f.parse().unwrap_or(0.0)).collect();
    let tick = 100.0; // USER_HZ on Linux
    (
        (fields[11] + fields[12]) / tick,
        (fields[13] + fields[14]) / tick,
    )
}

fn sampler(args: &[&str]) -> Vec<u8> {
    let mut full = vec!["legacy-sampler"];
    full.extend_from_slice(args);
    let (exit, stdout, stderr) = run_captured(legacy_sampler::run, &full, b"");
    assert_eq!(
        exit,
        Exit::Ok,
        "legacy-sampler {args:?}: {}",
        String::from_utf8_lossy(&stderr)
    );
    stdout
}

fn summary_field(stdout: &[u8], field: &str) -> serde_json::Value {
    let last = stdout
        .split(|&b| b == b'\n')
        .rfind(|l| !l.is_empty())
        .expect("a summary line");
    let record: serde_json::Value = serde_json::from_slice(last).expect("json");
    record["data"][field].clone()
}

fn live(options: &Options) {
    let stack = demo_stack();
    let url = format!("{}/status/summary", stack.url());
    let n = options.samples.to_string();
    let curl_loop = format!(
        "for i in $(seq {n}); do curl -s -D - {url} -o /dev/null | grep -i '^X-Status-Path:' || true; done | sort | uniq -c"
    );
    println!("live: {n} samples of {url}, {} rounds", options.rounds);
    let (mut ours, mut ours_c4, mut curl) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..options.rounds {
        ours.push(timed(|| {
            let out = sampler(&[&url, "-n", &n, "--samples", "off"]);
            assert_eq!(summary_field(&out, "values")["legacy"], options.samples);
        }));
        ours_c4.push(timed(|| {
            sampler(&[&url, "-n", &n, "-c", "4", "--samples", "off"]);
        }));
        curl.push(timed(|| {
            let out = Command::new("bash")
                .args(["-c", &curl_loop])
                .output()
                .expect("bash runs");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains(&format!("{n} X-Status-Path: legacy")),
                "{text}"
            );
        }));
    }
    let (o, o4, c) = (median(ours), median(ours_c4), median(curl));
    println!(
        "  legacy-sampler -c 1  median {o:.3} s ({:.0} samples/s)",
        options.samples as f64 / o
    );
    println!(
        "  legacy-sampler -c 4  median {o4:.3} s ({:.0} samples/s)",
        options.samples as f64 / o4
    );
    println!(
        "  curl loop            median {c:.3} s ({:.0} samples/s)",
        options.samples as f64 / c
    );
    println!(
        "  ratio curl/ours: {:.1}x at -c 1, {:.1}x at -c 4",
        c / o,
        c / o4
    );

    // wrk measures requests a second over a duration; ours is timed over a count.
    let big = (options.samples * 20).to_string();
    let (mut ours_rps, mut wrk_rps) = (Vec::new(), Vec::new());
    for _ in 0..options.rounds {
        let seconds = timed(|| {
            sampler(&[&url, "-n", &big, "-c", "4", "--samples", "off"]);
        });
        ours_rps.push(options.samples as f64 * 20.0 / seconds);
        let out = Command::new("wrk")
            .args(["-t", "2", "-c", "4", "-d", "2s", &url])
            .output()
            .expect("wrk is installed");
        let text = String::from_utf8_lossy(&out.stdout);
        let rps = text
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("wrk output: {text}"));
        wrk_rps.push(rps);
    }
    let (o, w) = (median(ours_rps), median(wrk_rps));
    println!("  legacy-sampler -c 4 ({big} samples) median {o:.0} req/s; wrk -t2 -c4 -d2s median {w:.0} req/s; ratio ours/wrk {:.2}", o / w);
}

/// Writes a combined-format log of about `mib` MiB: a week of traffic, one legacy
/// request in a hundred, from a handful of monitors, none in the last 25 hours.
fn generate_log(path: &Path, mib: u64) -> (u64, String) {
    let file = std::fs::File::create(path).expect("create the log");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let target = mib * 1024 * 1024;
    let end = jiff::Timestamp::from_second(1_795_000_000).expect("a time");
    let lines_estimate = target / 150;
    let span = 7 * 86_400i64;
    let mut written = 0u64;
    let mut lines = 0u64;
    let mut stamp = String::new();
    let mut stamp_second = i64::MIN;
    while written < target {
        let second = end.as_second() - span + (lines as i64 * span / lines_estimate as i64);
        if second != stamp_second {
            stamp = jiff::Timestamp::from_second(second)
                .expect("a time")
                .strftime("%d/%b/%Y:%H:%M:%S +0000")
                .to_string();
            stamp_second = second;
        }
        let legacy = lines % 100 == 7 && second < end.as_second() - 25 * 3600;
        let (path, agent) = if legacy {
            ("/status/summary", "uptime-monitor/2.1")
        } else if lines.is_multiple_of(3) {
            (
                "/api/status/summary",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
            )
        } else {
            (
                "/assets/index-4f9c2a.js",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
            )
        };
        let line = format!(
            "10.{}.{}.{} - - [{stamp}] \"GET {path} HTTP/1.1\" 200 {} \"-\" \"{agent}\"\n",
            lines % 7,
            lines % 13,
            lines % 251,
            512 + lines % 4096
        );
        out.write_all(line.as_bytes()).expect("write the log");
        written += line.len() as u64;
        lines += 1;
    }
    out.flush().expect("flush the log");
    (lines, end.to_string())
}

fn logs(options: &Options) {
    let dir = tempfile::Builder::new()
        .prefix("legacy-sampler-bench-")
        .tempdir_in("/tmp")
        .expect("a temporary directory");
    let path = dir.path().join("access.log");
    let generated = Instant::now();
    let (lines, until) = generate_log(&path, options.log_mib);
    let size = std::fs::metadata(&path).expect("the log").len();
    let file = path.to_str().expect("a UTF-8 path");
    println!(
        "logs: {:.0} MiB, {lines} lines (generated in {:.1} s), {} rounds",
        size as f64 / 1048576.0,
        generated.elapsed().as_secs_f64(),
        options.rounds
    );
    let (mut ours, mut grep) = (Vec::new(), Vec::new());
    let (mut ours_cpu, mut grep_cpu) = (Vec::new(), Vec::new());
    // A first untimed pass of each puts the file in the page cache for both.
    let mut legacy = serde_json::Value::Null;
    let mut grep_count = String::new();
    for round in 0..=options.rounds {
        let (own_before, _) = cpu_seconds();
        let t = timed(|| {
            let out = sampler(&[
                "--log",
                file,
                "--window",
                "1h",
                "--quiet-for",
                "24h",
                "--until",
                &until,
            ]);
            legacy = summary_field(&out, "legacy");
        });
        let (own_after, children_before) = cpu_seconds();
        let g = timed(|| {
            let out = Command::new("grep")
                .args(["-c", " /status/", file])
                .output()
                .expect("grep runs");
            grep_count = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        });
        let (_, children_after) = cpu_seconds();
        if round > 0 {
            ours.push(t);
            grep.push(g);
            ours_cpu.push(own_after - own_before);
            grep_cpu.push(children_after - children_before);
        }
    }
    assert_eq!(
        legacy.to_string(),
        grep_count,
        "both count the same legacy lines"
    );
    let (o, g) = (median(ours), median(grep));
    let (oc, gc) = (median(ours_cpu), median(grep_cpu));
    let mib = size as f64 / 1048576.0;
    println!(
        "  legacy-sampler --log (windows, callers, 24h verdict) median {o:.3} s wall ({:.0} MiB/s), {oc:.2} s CPU",
        mib / o
    );
    println!(
        "  grep -c ' /status/'                                median {g:.3} s wall ({:.0} MiB/s), {gc:.2} s CPU",
        mib / g
    );
    println!(
        "  speed ratio ours/grep: {:.2} wall (target >= 0.5), {:.2} CPU; {legacy} legacy lines",
        g / o,
        gc / oc
    );
    drop(dir);
}

fn main() {
    let options = options();
    if matches!(options.what.as_str(), "live" | "all") {
        live(&options);
    }
    if matches!(options.what.as_str(), "logs" | "all") {
        logs(&options);
    }
}
