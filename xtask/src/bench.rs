//! `cargo xtask bench [TOOL]`: the one entry point for the benchmarks. Each tool
//! keeps its benchmark as a release-built example (`<tool>/examples/bench.rs`) that
//! runs its reference in the same run, alternating, and prints medians and ratios.

use std::process::Command;

use day2_core::{Exit, Io};

/// Tools that carry a benchmark.
const BENCHMARKED: [&str; 5] = [
    "status-probe",
    "legacy-sampler",
    "sri-check",
    "prune-review",
    "docker-doctor",
];

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Only this tool's benchmark (default: all of them).
    pub tool: Option<String>,
    /// Arguments passed through to the benchmark.
    #[arg(last = true)]
    pub rest: Vec<String>,
}

pub fn run(args: &BenchArgs, io: &mut Io<'_>) -> Exit {
    let selected: Vec<&str> = match &args.tool {
        Some(tool) if BENCHMARKED.contains(&tool.as_str()) => vec![tool.as_str()],
        Some(tool) => {
            io.error(
                crate::TOOL,
                format!("no benchmark for {tool:?}; known: {BENCHMARKED:?}"),
            );
            return Exit::Usage;
        }
        None => BENCHMARKED.to_vec(),
    };
    let mut outcome = Exit::Ok;
    for tool in selected {
        let _ = writeln!(io.stderr, "== bench {tool}");
        let status = Command::new(env!("CARGO"))
            .args([
                "run",
                "--quiet",
                "--release",
                "-p",
                tool,
                "--example",
                "bench",
                "--",
            ])
            .args(&args.rest)
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                io.error(crate::TOOL, format!("bench {tool} failed: {status}"));
                outcome = outcome.merge(Exit::Failed);
            }
            Err(err) => {
                io.error(
                    crate::TOOL,
                    format!("cannot run cargo for bench {tool}: {err}"),
                );
                outcome = outcome.merge(Exit::Failed);
            }
        }
    }
    outcome
}
