//! `cargo xtask bench [TOOL]`: the one entry point for the benchmarks. Each tool
//! keeps its benchmark beside its code, as a release-built example
//! (`<tool>/examples/bench.rs`) or a script (`<tool>/bench/*.sh`); triage's is the
//! xtask's own example (`xtask/examples/bench_triage.rs`); each runs its
//! reference in the same run, alternating, and prints medians and ratios. Not in CI.
//! Its references are installed by the set-up step (`cargo xtask setup bench`), which
//! `cargo xtask bench` runs first.

use std::process::Command;

use day2_core::{Exit, Io};

/// How a tool's benchmark is run.
enum Bench {
    /// `cargo run --release -p TOOL --example bench -- ARGS`
    Example,
    /// `cargo run --release -p PACKAGE --example EXAMPLE -- ARGS` (a playbook's).
    ExampleOf(&'static str, &'static str),
    /// `bash SCRIPT ARGS`, relative to the workspace root.
    Script(&'static str),
}

const BENCHMARKS: [(&str, Bench); 7] = [
    ("status-probe", Bench::Example),
    ("legacy-sampler", Bench::Example),
    ("sri-check", Bench::Example),
    ("prune-review", Bench::Example),
    ("docker-doctor", Bench::Example),
    (
        "tunnel-check",
        Bench::Script("tunnel-check/bench/redact.sh"),
    ),
    ("triage", Bench::ExampleOf("xtask", "bench_triage")),
];

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Only this tool's benchmark (default: all of them).
    pub tool: Option<String>,
    /// Arguments passed through to the benchmark (after `--`).
    #[arg(last = true)]
    pub rest: Vec<String>,
}

fn command(tool: &str, bench: &Bench, rest: &[String]) -> Command {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let example = |package: &str, example: &str| {
        let mut c = Command::new(env!("CARGO"));
        c.args([
            "run",
            "--quiet",
            "--release",
            "-p",
            package,
            "--example",
            example,
            "--",
        ]);
        c
    };
    let mut command = match bench {
        Bench::Example => example(tool, "bench"),
        Bench::ExampleOf(package, name) => example(package, name),
        Bench::Script(script) => {
            let mut c = Command::new("bash");
            c.arg(script);
            c
        }
    };
    command.args(rest).current_dir(root);
    command
}

pub fn run(args: &BenchArgs, io: &mut Io<'_>) -> Exit {
    // The references (wrk, curl, openssl, node, nginx …): a missing one is one line
    // naming its package, before any benchmark starts (`cargo xtask bench` installs
    // them first; this catches the binary run on its own).
    if let Err(message) = xtask_setup::check(&[xtask_setup::Purpose::Bench]) {
        io.error(crate::TOOL, message);
        return Exit::Usage;
    }
    let selected: Vec<&(&str, Bench)> = match &args.tool {
        Some(tool) => match BENCHMARKS.iter().find(|(name, _)| name == tool) {
            Some(entry) => vec![entry],
            None => {
                let known: Vec<&str> = BENCHMARKS.iter().map(|(name, _)| *name).collect();
                io.error(
                    crate::TOOL,
                    format!("no benchmark for {tool:?}; known: {}", known.join(", ")),
                );
                return Exit::Usage;
            }
        },
        None => BENCHMARKS.iter().collect(),
    };
    let mut outcome = Exit::Ok;
    for (tool, bench) in selected {
        let _ = writeln!(io.stderr, "== bench {tool}");
        match command(tool, bench, &args.rest).status() {
            Ok(status) if status.success() => {}
            Ok(status) => {
                io.error(crate::TOOL, format!("bench {tool} failed: {status}"));
                outcome = outcome.merge(Exit::Failed);
            }
            Err(err) => {
                io.error(
                    crate::TOOL,
                    format!("cannot run the bench of {tool}: {err}"),
                );
                outcome = outcome.merge(Exit::Failed);
            }
        }
    }
    outcome
}
