//! Turning a tool library into a process: the [`Io`] handles a tool runs with,
//! argument parsing that never exits, and the one-line `main` of every binary.

use std::ffi::OsString;
use std::io::{self, BufRead, IsTerminal, Write};

use clap::error::ErrorKind;

use crate::exit::Exit;

/// The streams a tool runs with. The binaries pass the process's own; the xtask and
/// the tests pass buffers.
pub struct Io<'a> {
    pub stdin: &'a mut dyn BufRead,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    /// Whether a person may be reading stderr (progress lines) and answering on the
    /// terminal (confirmations).
    pub interactive: bool,
}

impl<'a> Io<'a> {
    /// Writes `tool: message` on stderr, the one-line form of every error. The
    /// message is made safe first: credentials in URLs masked
    /// ([`crate::redact::mask_urls`]) and terminal controls from input text escaped
    /// ([`crate::text::escape_controls`]), line breaks included, so it stays one line.
    pub fn error(&mut self, tool: &str, message: impl std::fmt::Display) {
        let _ = writeln!(self.stderr, "{tool}: {}", for_stderr(&message.to_string()));
    }
}

/// Text made fit for stderr: URL credentials masked, terminal controls escaped (one
/// line). For tools that write to stderr other than through [`Io::error`].
pub fn for_stderr(text: &str) -> String {
    crate::text::escape_controls(&crate::redact::mask_urls(text)).into_owned()
}

/// Parses arguments with clap without ever exiting the process: `--help` and
/// `--version` go to stdout and end the run with [`Exit::Ok`], anything else clap
/// rejects goes to stderr and ends it with [`Exit::Usage`].
pub fn parse_args<T: clap::Parser>(args: Vec<OsString>, io: &mut Io<'_>) -> Result<T, Exit> {
    match T::try_parse_from(args) {
        Ok(parsed) => Ok(parsed),
        Err(err) => match err.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let _ = write!(io.stdout, "{}", err.render());
                Err(Exit::Ok)
            }
            _ => {
                // clap quotes the rejected value as given: mask and escape it.
                let text = err.render().to_string();
                let text = crate::redact::mask_urls(&text);
                let _ = write!(
                    io.stderr,
                    "{}",
                    crate::text::escape_controls_keep_lines(&text)
                );
                Err(Exit::Usage)
            }
        },
    }
}

/// The whole `main` of a tool binary: runs the library with the process's streams
/// and exits with the code it returns.
pub fn main(run: fn(Vec<OsString>, &mut Io<'_>) -> Exit) -> ! {
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let mut stderr = io::stderr();
    let interactive = io::stderr().is_terminal() && io::stdin().is_terminal();
    let exit = {
        let mut handles = Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
            interactive,
        };
        run(std::env::args_os().collect(), &mut handles)
    };
    // A failed final flush means the reader went away; that is not our failure.
    let _ = stdout.flush();
    std::process::exit(i32::from(exit.code()))
}

/// Runs a tool in-process on a given stdin and returns its exit, stdout and stderr.
/// The xtask composes tools this way, and tests use it where a spawned binary is not
/// needed.
pub fn run_captured(
    run: fn(Vec<OsString>, &mut Io<'_>) -> Exit,
    args: &[&str],
    stdin: &[u8],
) -> (Exit, Vec<u8>, Vec<u8>) {
    let mut input = stdin;
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let exit = {
        let mut handles = Io {
            stdin: &mut input,
            stdout: &mut stdout,
            stderr: &mut stderr,
            interactive: false,
        };
        run(args.iter().map(OsString::from).collect(), &mut handles)
    };
    (exit, stdout, stderr)
}
