//! `cargo xtask`: the day2 playbooks, composed from the tools through their JSON-lines
//! records, plus the repository's own chores (benchmarks).
//!
//! Every subcommand writes day2 records on stdout and a human summary on stderr, and
//! exits with the shared exit codes.

mod bench;
mod cutover;
mod demo;
mod dist;
mod start_prod;
mod tools;
mod triage;

use std::ffi::OsString;

use clap::{Parser, Subcommand};
use day2_core::{cli, exit::EXIT_CODES_HELP, Exit, Io};

/// The name stamped on the xtask's own records.
pub const TOOL: &str = "xtask";

/// The day2 playbooks: the legacy cutover, the demo tour and the benchmarks.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, after_help = EXIT_CODES_HELP)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the built-in demo stack (simulated backend behind a real nginx), run every
    /// tool against it, print the records on stdout and a summary on stderr, and stop it.
    Demo(demo::DemoArgs),
    /// Run the benchmarks (release builds; each compares against its reference in the
    /// same run and prints medians and the ratio). Not part of CI.
    Bench(bench::BenchArgs),
    /// The guide's legacy-endpoint cutover playbook, its six steps as gates.
    Cutover(Box<cutover::CutoverArgs>),
    /// Write shell completions and man pages for every tool.
    Dist(dist::DistArgs),
    /// Bring the stack up: daemon probe, compose up, wait for the edge, wait until
    /// truly ready.
    StartProd(start_prod::StartProdArgs),
    /// Run the probes and match the guide's on-call signatures, with remediation.
    Triage(triage::TriageArgs),
}

/// Runs the xtask with the given arguments; the demo tour calls it in-process too.
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> Exit {
    let args: Args = match cli::parse_args(args, io) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    match args.command {
        Command::Demo(demo) => demo::run(&demo, io),
        Command::Bench(bench) => bench::run(&bench, io),
        Command::Cutover(cutover) => cutover::run(&cutover, io),
        Command::Dist(dist) => dist::run(&dist, io),
        Command::StartProd(start) => start_prod::run(&start, io),
        Command::Triage(triage) => triage::run(&triage, io),
    }
}

fn main() {
    cli::main(run)
}
