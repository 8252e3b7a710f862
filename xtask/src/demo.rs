//! `cargo xtask demo`: a tour of every tool against the built-in demo stack (the
//! backend simulator behind a real nginx), stopped again at the end.

use std::time::Duration;

use day2_core::record::{Record, RecordSink, Verdict};
use day2_core::{Exit, Io};
use day2_tests::{BackendConfig, DemoStack, EdgeConfig};

use crate::tools::{invoke, ToolRun};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

/// The tour, against the running stack; `step` reports each tool run. It grows as
/// tools land.
fn tour(stack: &mut DemoStack, step: &mut dyn FnMut(&str, ToolRun)) {
    let url = stack.url();
    step(
        "status-probe: every check at the edge",
        invoke(
            "status-probe",
            status_probe::run,
            &[
                "--url",
                &url,
                "--chat-path",
                "/api/chat",
                "--origin",
                "https://assistant.example.org",
                "--origin",
                "http://127.0.0.1:5173",
                "--disallowed-origin",
                "https://evil.example",
            ],
            b"",
        ),
    );
    stack
        .backend
        .reconfigure(|c| c.warm_after = Duration::from_millis(1500));
    step(
        "status-probe: wait warming -> primary",
        invoke(
            "status-probe",
            status_probe::run,
            &[
                "--url",
                &url,
                "--wait",
                "--interval",
                "300ms",
                "--timeout",
                "30s",
                "--warming-budget",
                "10m",
                "summary",
            ],
            b"",
        ),
    );
}

pub fn run(_args: &DemoArgs, io: &mut Io<'_>) -> Exit {
    let mut stack = match DemoStack::start(BackendConfig::default(), EdgeConfig::default()) {
        Ok(stack) => stack,
        Err(err) => {
            io.error(crate::TOOL, format!("cannot start the demo stack: {err}"));
            return Exit::Failed;
        }
    };
    let url = stack.url();
    let _ = writeln!(
        io.stderr,
        "demo stack up: edge {url} -> backend {}",
        stack.backend.url()
    );
    let mut summary = Vec::new();
    let mut sink = RecordSink::new(crate::TOOL, io.stdout);
    let started = Record::info("demo.stack", &url, "started")
        .data(serde_json::json!({"edge": url, "backend": stack.backend.url()}));
    if sink.emit(started).is_err() {
        return sink.exit();
    }
    let mut closed = false;
    tour(&mut stack, &mut |title, run| {
        let count = |v: Verdict| run.records.iter().filter(|r| r.verdict == v).count();
        summary.push(format!(
            "{:<44} exit {:>3}  pass {} fail {} warn {} info {} error {}",
            title,
            run.exit.code(),
            count(Verdict::Pass),
            count(Verdict::Fail),
            count(Verdict::Warn),
            count(Verdict::Info),
            count(Verdict::Error),
        ));
        if run.exit == Exit::Usage {
            // The tool refused its arguments: show why, the tour's own bug.
            summary.push(format!("    {}", run.stderr.trim()));
        }
        // Tool records pass through untouched: the tour shows what a pipe shows.
        closed = closed
            || !run
                .records
                .into_iter()
                .all(|record| sink.emit(record).is_ok());
    });
    if closed {
        return Exit::Ok;
    }
    for line in summary {
        let _ = writeln!(io.stderr, "{line}");
    }
    let _ = writeln!(io.stderr, "demo stack stopped");
    Exit::Ok
}
