//! `cargo xtask demo`: a tour of every tool against the built-in demo stack (the
//! backend simulator behind a real nginx), stopped again at the end.

use std::time::Instant;

use day2_core::record::{Record, RecordSink, Verdict};
use day2_core::{Exit, Io};
use day2_tests::{BackendConfig, DemoStack, EdgeConfig};

use crate::tools::{invoke, ToolMain};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

/// One tool invocation of the tour.
struct Step {
    title: &'static str,
    tool: &'static str,
    main: ToolMain,
    args: Vec<String>,
}

/// The tour, against a stack at `url`. It grows as tools land.
fn tour(_url: &str) -> Vec<Step> {
    Vec::new()
}

pub fn run(_args: &DemoArgs, io: &mut Io<'_>) -> Exit {
    let stack = match DemoStack::start(BackendConfig::default(), EdgeConfig::default()) {
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
    for step in tour(&url) {
        let args: Vec<&str> = step.args.iter().map(String::as_str).collect();
        let clock = Instant::now();
        let run = invoke(step.tool, step.main, &args, b"");
        let count = |v: Verdict| run.records.iter().filter(|r| r.verdict == v).count();
        summary.push(format!(
            "{:<40} exit {:>3}  pass {} fail {} warn {} info {} error {}  ({:.0} ms)",
            step.title,
            run.exit.code(),
            count(Verdict::Pass),
            count(Verdict::Fail),
            count(Verdict::Warn),
            count(Verdict::Info),
            count(Verdict::Error),
            clock.elapsed().as_secs_f64() * 1000.0
        ));
        if run.exit == Exit::Usage {
            // The tool refused its arguments: show why, the tour's own bug.
            summary.push(format!("    {}", run.stderr.trim()));
        }
        for record in run.records {
            // Tool records pass through untouched: the tour shows what a pipe shows.
            if sink.emit(record).is_err() {
                return Exit::Ok;
            }
        }
    }
    for line in summary {
        let _ = writeln!(io.stderr, "{line}");
    }
    let _ = writeln!(io.stderr, "demo stack stopped");
    Exit::Ok
}
