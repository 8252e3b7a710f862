//! docker-doctor: A Docker daemon probe that cannot hang, compose stack health, and bounded recovery.
//!
//! Placeholder until issue #7 lands: it parses its arguments and says it is
//! not implemented, and does nothing else.

use std::ffi::OsString;

use day2_core::{cli, exit::EXIT_CODES_HELP, Exit, Io};

/// The name stamped on every record this tool writes.
pub const TOOL: &str = "docker-doctor";

/// A Docker daemon probe that cannot hang, compose stack health, and bounded recovery.
#[derive(Debug, clap::Parser)]
#[command(name = TOOL, version, after_help = EXIT_CODES_HELP)]
pub struct Args {}

/// Runs the tool with the given arguments (the first is the program name).
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> Exit {
    let _args: Args = match cli::parse_args(args, io) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    io.error(TOOL, "not implemented yet (issue #7)");
    Exit::Usage
}
