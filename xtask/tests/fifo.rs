//! Issue 18, pipes and FIFOs: the cutover reads its nginx configuration and its
//! observe step's access log from a FIFO (what `<(…)` gives), never seeking.
//! Each run is bounded in time; the writer thread is released if the tool never
//! opened the FIFO.

mod common;

use common::{remove_argv, xtask};
use day2_tests::inputs::Fifo;
use serde_json::Value;

fn run(args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let run = xtask(args).run();
    (Some(run.code), run.json_lines(), run.stderr)
}

fn cutover(args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    run(&[&["cutover"], args].concat())
}

fn step<'a>(records: &'a [Value], check: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["tool"] == "xtask" && r["check"] == check)
        .unwrap_or_else(|| panic!("no {check} in {records:#?}"))
}

#[test]
fn the_nginx_configuration_is_read_from_a_fifo() {
    let repo = tempfile::tempdir().unwrap();
    let conf = repo.path().join("nginx.conf");
    let writer = Fifo::write(
        &conf,
        "events {}\nhttp {\n  server {\n    listen 8080;\n    location /status/ {\n        proxy_pass http://127.0.0.1:8000;\n    }\n    location /api/status/ {\n        proxy_pass http://127.0.0.1:8000;\n    }\n  }\n}\n",
    );
    let (code, records, stderr) = run(&remove_argv(
        conf.to_str().unwrap(),
        repo.path().to_str().unwrap(),
    ));
    writer.finish();
    let remove = step(&records, "cutover.remove");
    // Understood: the legacy location still proxies, and the step says so.
    assert_eq!(code, Some(1), "{remove:#}\n{stderr}");
    assert_eq!(remove["reason"], "legacy_still_proxied", "{remove:#}");
}

#[test]
fn the_observe_log_is_read_from_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let lines = [
        "10.0.0.7 - - [29/Nov/2026:10:00:00 +0000] \"GET /api/status/summary HTTP/1.1\" 200 42 \"-\" \"curl/8.5.0\"",
        "10.0.0.8 - - [29/Nov/2026:10:00:01 +0000] \"GET /status/summary HTTP/1.1\" 200 42 \"-\" \"curl/8.5.0\"",
        "10.0.0.9 - - [29/Nov/2026:10:00:02 +0000] \"GET /api/status/summary HTTP/1.1\" 200 42 \"-\" \"curl/8.5.0\"",
    ];
    let writer = Fifo::write(&log, &(lines.join("\n") + "\n"));
    let (_, records, stderr) = cutover(&[
        "--only",
        "observe",
        "--access-log",
        log.to_str().unwrap(),
        "--quiet-for",
        "1h",
    ]);
    writer.finish();
    let summary = records
        .iter()
        .find(|r| r["tool"] == "legacy-sampler" && r["check"] == "summary")
        .unwrap_or_else(|| panic!("{records:#?}\n{stderr}"));
    assert_eq!(summary["data"]["lines"], 3, "{summary:#}");
    assert_eq!(summary["data"]["legacy"], 1, "{summary:#}");
    let observe = step(&records, "cutover.observe");
    assert_ne!(observe["reason"], "input_unreadable", "{observe:#}");
    assert!(!stderr.contains("Illegal seek"), "{stderr}");
}
