//! Log mode: access logs written by a real nginx during the test, rotated and gzipped
//! copies of them, a custom `log_format`, and synthetic logs with chosen timestamps for
//! the 24-hour verdict.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{logged, sampler, sampler_with, stack, stack_with};
use day2_core::record::Verdict;
use day2_tests::edge::COMBINED_LOG_FORMAT;
use day2_tests::{DemoStack, EdgeConfig};
use flate2::write::GzEncoder;
use legacy_sampler::payload::{LegacyClient, LogSummary};
use serde_json::json;

const NGINX_ALLOWED_ORIGIN: &str = "https://assistant.example.org";
const UNTIL: &str = "2026-11-28T00:00:00Z";
const HOUR: i64 = 3600;

fn until() -> i64 {
    UNTIL.parse::<jiff::Timestamp>().unwrap().as_second()
}

/// One combined-format line at epoch second `ts`.
fn line(ts: i64, client: &str, path: &str, agent: &str) -> String {
    let time = jiff::Timestamp::from_second(ts)
        .unwrap()
        .strftime("%d/%b/%Y:%H:%M:%S +0000");
    format!("{client} - - [{time}] \"GET {path} HTTP/1.1\" 200 17 \"-\" \"{agent}\"\n")
}

/// Api traffic every 30 minutes over `[from, to)` (seconds before UNTIL).
fn api_traffic(from_hours_ago: i64, to_hours_ago: i64) -> String {
    let mut text = String::new();
    let mut ts = until() - from_hours_ago * HOUR;
    while ts < until() - to_hours_ago * HOUR {
        text.push_str(&line(
            ts,
            "192.0.2.10",
            "/api/status/summary",
            "Mozilla/5.0",
        ));
        ts += HOUR / 2;
    }
    text
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The summary's payload as its type, which must hold every field the tool wrote:
/// decoded and written again it is the same JSON.
fn log_summary(run: &common::Run) -> LogSummary {
    day2_tests::process::typed_payload(run.summary())
}

fn quiet_run(log: &Path) -> common::Run {
    sampler(&[
        "--log",
        log.to_str().unwrap(),
        "--quiet-for",
        "24h",
        "--until",
        UNTIL,
    ])
}

/// 5 api, 5 legacy, 2 legacy with an Origin (header lost), 3 SPA requests.
fn traffic(stack: &DemoStack) -> PathBuf {
    let api = format!("{}/api/status/summary", stack.url());
    let legacy = format!("{}/status/summary", stack.url());
    let spa = format!("{}/_up", stack.url());
    assert_eq!(sampler(&[&api, &legacy, "-n", "10"]).code, 0);
    assert_eq!(
        sampler(&[&legacy, "-n", "2", "--origin", NGINX_ALLOWED_ORIGIN]).code,
        0
    );
    assert_eq!(sampler(&[&spa, "-n", "3"]).code, 0);
    logged(stack, 15)
}

#[test]
fn a_log_written_by_real_nginx_is_counted_exactly() {
    let stack = stack();
    let log = traffic(&stack);
    let run = sampler(&["--log", log.to_str().unwrap(), "--top", "3"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        (run.verdict(), run.reason()),
        (Verdict::Info, Some("counted"))
    );
    let summary = log_summary(&run);
    let counts = |pairs: &[(&str, u64)]| -> std::collections::BTreeMap<String, u64> {
        pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    };
    assert_eq!(
        summary.values,
        counts(&[("api", 5), ("legacy", 7), ("not_status", 3)])
    );
    assert_eq!(summary.lines, 15);
    assert_eq!(summary.statuses, counts(&[("200", 15)]));
    assert_eq!(summary.legacy_statuses, counts(&[("200", 7)]));
    assert_eq!(summary.classified_by, json!({"header": 0, "path": 12}));
    assert_eq!(summary.format, "combined");
    assert_eq!(summary.legacy_clients[0].client, "127.0.0.1");
    assert_eq!(summary.legacy_clients[0].hits, 7);
    let agent = &summary.legacy_user_agents[0].user_agent;
    assert!(agent.starts_with("day2/"), "{agent}");
    assert_eq!(
        summary.malformed,
        json!({"count": 0, "first": [], "overlong": 0})
    );
    assert_eq!(summary.foreign["count"], 0);
    assert_eq!(summary.rejected, 0);
    // Windows of an hour: the traffic of a few seconds sits in one (two at most,
    // should the test straddle an hour), and the windows add up to the totals.
    let windows = run.checks("window");
    assert!((1..=2).contains(&windows.len()));
    let legacy: u64 = windows
        .iter()
        .map(|w| w.data["legacy"].as_u64().unwrap())
        .sum();
    assert_eq!(legacy, 7);
    assert!(windows
        .iter()
        .any(|w| w.reason.as_deref() == Some("legacy_seen")));

    // Seconds of logs cannot vouch for 24 quiet hours, and they hold legacy hits.
    let run = sampler(&["--log", log.to_str().unwrap(), "--quiet-for", "24h"]);
    assert_eq!(
        (run.code, run.reason()),
        (1, Some("legacy_in_quiet_window"))
    );
    assert_eq!(log_summary(&run).quiet["legacy_in_span"], 7);
}

#[test]
fn a_custom_log_format_with_the_header_is_counted_by_header() {
    let format = format!(r#"{COMBINED_LOG_FORMAT} xsp="$sent_http_x_status_path""#);
    let stack = stack_with(EdgeConfig {
        log_format: Some(format.clone()),
        ..EdgeConfig::default()
    });
    let log = traffic(&stack);
    let log = log.to_str().unwrap();
    let run = sampler(&["--log", log, "--log-format", &format]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.data("format"), "custom");
    assert_eq!(run.data("header_variable"), "sent_http_x_status_path");
    assert_eq!(
        run.data("values"),
        &json!({"api": 5, "legacy": 7, "not_status": 3})
    );
    // The two requests with an Origin lost the header; their path still says legacy.
    assert_eq!(run.data("classified_by"), &json!({"header": 10, "path": 2}));

    // Read as `combined`, every line has trailing text: the format is wrong.
    let run = sampler(&["--log", log]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.reason(), Some("too_many_malformed"));
    assert!(run.stderr.contains(&format!("{log}:1")), "{}", run.stderr);
}

#[test]
fn rotated_gzipped_and_piped_logs_add_up_to_the_same_counts() {
    let stack = stack();
    let text = std::fs::read_to_string(traffic(&stack)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let part = |range: std::ops::Range<usize>| -> String {
        lines[range].iter().map(|l| format!("{l}\n")).collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let oldest = dir.path().join("access.log.2.gz");
    std::fs::write(&oldest, gzip(part(0..5).as_bytes())).unwrap();
    let rotated = write(dir.path(), "access.log.1", &part(5..10));
    let current = write(dir.path(), "access.log", &part(10..15));
    let run = sampler(&[
        "--log",
        oldest.to_str().unwrap(),
        "--log",
        rotated.to_str().unwrap(),
        "--log",
        current.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        run.data("values"),
        &json!({"api": 5, "legacy": 7, "not_status": 3})
    );
    assert_eq!(run.data("sources").as_array().unwrap().len(), 3);

    // stdin, plain and gzipped.
    for input in [text.as_bytes().to_vec(), gzip(text.as_bytes())] {
        let run = sampler_with(&["--log", "-"], &[], &input);
        assert_eq!(run.code, 0, "{run:#?}");
        assert_eq!(run.data("legacy"), 7);
        assert_eq!(run.data("sources"), &json!(["stdin"]));
    }
}

#[test]
fn quiet_for_24h_passes_on_a_quiet_day_the_logs_cover() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = api_traffic(30, 0);
    text.push_str(&line(
        until() - 26 * HOUR,
        "198.51.100.7",
        "/status/summary",
        "old-monitor/1",
    ));
    let log = write(dir.path(), "access.log", &text);
    let run = quiet_run(&log);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.verdict(), Verdict::Pass);
    assert_eq!(run.data("legacy"), 1);
    assert_eq!(run.data("quiet")["legacy_in_span"], 0);
    assert_eq!(run.data("quiet")["for_s"], 86_400);
    assert_eq!(run.data("gate")["checks"][0]["gate"], "quiet_for");
    assert_eq!(run.data("last_legacy"), "2026-11-26T22:00:00Z");
}

#[test]
fn quiet_for_24h_fails_on_a_legacy_hit_inside_the_span() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = api_traffic(30, 0);
    text.push_str(&line(
        until() - 2 * HOUR,
        "198.51.100.7",
        "/status/summary",
        "old-monitor/1",
    ));
    let log = write(dir.path(), "access.log", &text);
    let run = quiet_run(&log);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        (run.verdict(), run.reason()),
        (Verdict::Fail, Some("legacy_in_quiet_window"))
    );
    let summary = log_summary(&run);
    assert_eq!(summary.last_legacy.as_deref(), Some("2026-11-27T22:00:00Z"));
    assert_eq!(
        summary.legacy_clients,
        [LegacyClient {
            client: "198.51.100.7".into(),
            hits: 1,
            last: "2026-11-27T22:00:00Z".into()
        }]
    );
    assert_eq!(summary.legacy_user_agents[0].user_agent, "old-monitor/1");
}

#[test]
fn quiet_for_24h_fails_when_the_logs_cover_too_little_or_end_too_early() {
    let dir = tempfile::tempdir().unwrap();
    let short = write(dir.path(), "short.log", &api_traffic(10, 0));
    let run = quiet_run(&short);
    assert_eq!((run.code, run.reason()), (1, Some("insufficient_coverage")));
    assert!(run.summary().message.as_deref().unwrap().contains("cover"));
    let empty = write(dir.path(), "empty.log", "");
    let run = quiet_run(&empty);
    assert_eq!((run.code, run.reason()), (1, Some("insufficient_coverage")));
    assert_eq!(run.data("lines"), 0);
    let stale = write(dir.path(), "stale.log", &api_traffic(50, 30));
    let run = quiet_run(&stale);
    assert_eq!((run.code, run.reason()), (1, Some("stale_logs")));
}

#[test]
fn windows_cover_the_whole_span_gaps_included() {
    let dir = tempfile::tempdir().unwrap();
    // Two hours of traffic, a three-hour gap, one more hour with a legacy hit.
    let mut text = api_traffic(6, 4);
    text.push_str(&api_traffic(1, 0));
    text.push_str(&line(
        until() - HOUR / 2,
        "198.51.100.7",
        "/status/x",
        "m/1",
    ));
    let log = write(dir.path(), "access.log", &text);
    let run = sampler(&["--log", log.to_str().unwrap(), "--window", "1h"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let windows = run.checks("window");
    assert_eq!(windows.len(), 6);
    let lines: Vec<u64> = windows
        .iter()
        .map(|w| w.data["lines"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 2, 0, 0, 0, 3]);
    assert_eq!(windows[0].data["start"], "2026-11-27T18:00:00Z");
    assert_eq!(windows[0].data["end"], "2026-11-27T19:00:00Z");
    assert_eq!(windows[2].reason.as_deref(), Some("no_legacy"));
    assert_eq!(windows[5].reason.as_deref(), Some("legacy_seen"));
    assert_eq!(run.data("windows_with_legacy"), 1);
}

#[test]
fn a_stray_date_years_away_adds_one_window_not_one_per_empty_hour() {
    let dir = tempfile::tempdir().unwrap();
    // Two hours of traffic and one line dated nine years ahead (a bad clock): the
    // span holds 78,000 hourly windows, more than the dense limit (10,000), so only
    // the windows with lines are written.
    let mut text = api_traffic(2, 0);
    text.push_str(&line(
        until() + 9 * 365 * 24 * HOUR,
        "192.0.2.10",
        "/api/status/summary",
        "Mozilla/5.0",
    ));
    let log = write(dir.path(), "access.log", &text);
    let run = sampler(&["--log", log.to_str().unwrap(), "--window", "1h"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let lines: Vec<u64> = run
        .checks("window")
        .iter()
        .map(|w| w.data["lines"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 2, 1], "{run:#?}");
    // Within the limit, the empty windows between are written (the test above).
}

#[test]
fn the_gates_judge_log_lines_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = api_traffic(2, 0);
    text.push_str(&line(
        until() - 60,
        "198.51.100.7",
        "/status/summary",
        "m/1",
    ));
    let log = write(dir.path(), "access.log", &text);
    let log = log.to_str().unwrap();
    let run = sampler(&["--log", log, "--fail-on-legacy"]);
    assert_eq!((run.code, run.reason()), (1, Some("legacy_seen")));
    let run = sampler_with(&["--log", log], &[("FAIL_ON_LEGACY", "1")], b"");
    assert_eq!((run.code, run.reason()), (1, Some("legacy_seen")));
    let run = sampler(&["--log", log, "--max-legacy-ratio", "0.5"]);
    assert_eq!((run.code, run.verdict()), (0, Verdict::Pass));
    assert_eq!(run.data("legacy_ratio"), 0.2);
}

#[test]
fn malformed_lines_are_counted_and_fatal_only_above_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = api_traffic(50, 0).lines().map(str::to_owned).collect();
    lines[2] = "\\x16\\x03\\x01 garbage from a scanner".into();
    lines[49] = lines[49].replace('[', "(");
    let log = write(dir.path(), "access.log", &(lines.join("\n") + "\n"));
    let log = log.to_str().unwrap();
    let run = sampler(&["--log", log]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        run.data("malformed"),
        &json!({"count": 2, "first": [format!("{log}:3"), format!("{log}:50")], "overlong": 0})
    );
    assert_eq!(run.data("lines"), 100);
    let run = sampler(&["--log", log, "--max-malformed-ratio", "0.01"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.verdict(), Verdict::Error);
    assert!(run.stderr.contains(&format!("{log}:3")), "{}", run.stderr);
}

#[test]
fn unreadable_input_and_bad_formats_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.log");
    let run = sampler(&["--log", missing.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot read") && run.stderr.contains("nope.log"));
    let broken = dir.path().join("broken.gz");
    std::fs::write(&broken, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]).unwrap();
    let run = sampler(&["--log", broken.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("broken.gz"), "{}", run.stderr);
    let log = write(dir.path(), "a.log", "");
    let run = sampler(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "$remote_addr $status",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid --log-format"),
        "{}",
        run.stderr
    );
    assert!(run.records.is_empty());
}

#[test]
fn a_large_log_is_counted_in_parallel_stretches_with_exact_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let api = line(
        until() - 100,
        "192.0.2.1",
        "/api/status/summary",
        "Mozilla/5.0",
    );
    let legacy = line(until() - 50, "198.51.100.7", "/status/summary", "m/1");
    // About 70 MiB: above the size where counting splits across threads.
    let total = 70 * 1024 * 1024 / api.len();
    let mut legacy_lines = 0u64;
    for i in 0..total {
        let text = if i == total - 10 {
            "malformed\n"
        } else if i % 1000 == 0 {
            legacy_lines += 1;
            legacy.as_str()
        } else {
            api.as_str()
        };
        out.write_all(text.as_bytes()).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let run = sampler(&["--log", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.data("legacy"), legacy_lines);
    assert_eq!(run.data("values")["api"], total as u64 - legacy_lines - 1);
    assert_eq!(
        run.data("malformed")["first"],
        json!([format!("{}:{}", path.display(), total - 9)])
    );
}
