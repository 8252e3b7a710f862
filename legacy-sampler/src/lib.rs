//! legacy-sampler: Counts legacy-endpoint traffic: live X-Status-Path sampling and nginx access-log windows, with a gate.
//!
//! Placeholder until issue #4 lands: it parses its arguments and says it is
//! not implemented, and does nothing else.

use std::ffi::OsString;

use day2_core::{cli, exit::EXIT_CODES_HELP, Exit, Io};

/// The name stamped on every record this tool writes.
pub const TOOL: &str = "legacy-sampler";

/// Counts legacy-endpoint traffic: live X-Status-Path sampling and nginx access-log windows, with a gate.
#[derive(Debug, clap::Parser)]
#[command(name = TOOL, version, after_help = EXIT_CODES_HELP)]
pub struct Args {}

/// Runs the tool with the given arguments (the first is the program name).
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> Exit {
    let _args: Args = match cli::parse_args(args, io) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    io.error(TOOL, "not implemented yet (issue #4)");
    Exit::Usage
}
