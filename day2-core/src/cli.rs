//! Turning a tool library into a process: the [`Io`] handles a tool runs with,
//! argument parsing that never exits, and the one-line `main` of every binary.

use std::cell::Cell;
use std::ffi::OsString;
use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use clap::error::ErrorKind;

use crate::exit::Exit;
use crate::progress::{self, Suspended};

/// Set by [`main`]: this process's stdout and stderr are the tool's own.
static OWN_PROCESS: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// How many [`run_captured`] runs are under way on this thread.
    static CAPTURED: Cell<u32> = const { Cell::new(0) };
}

/// Whether the run on this thread writes to the process's own stdout: a binary's run,
/// not a test's nor one the xtask captures. Colour decides on it.
pub fn owns_terminal() -> bool {
    OWN_PROCESS.load(Ordering::Relaxed) && CAPTURED.with(Cell::get) == 0
}

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
    crate::text::printable(text).into_owned()
}

/// Parses arguments with clap without ever exiting the process: `--help` and
/// `--version` go to stdout and end the run with [`Exit::Ok`], anything else clap
/// rejects goes to stderr and ends it with [`Exit::Usage`].
pub fn parse_args<T: clap::Parser>(args: Vec<OsString>, io: &mut Io<'_>) -> Result<T, Exit> {
    match T::try_parse_from(args) {
        Ok(parsed) => Ok(parsed),
        Err(err) => match err.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                // The help shows env-backed values (`[env: DOCKER_HOST=…]`): masked.
                let text = err.render().to_string();
                let _ = write!(io.stdout, "{}", crate::redact::mask_urls(&text));
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
///
/// On a terminal, progress is drawn on stderr ([`progress`]), and every write to the
/// terminal (stdout too, when it is one) first clears the progress line.
pub fn main(run: fn(Vec<OsString>, &mut Io<'_>) -> Exit) -> ! {
    OWN_PROCESS.store(true, Ordering::Relaxed);
    if io::stderr().is_terminal() {
        progress::enable();
    }
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    // Records into a pipe never meet the progress line; only a terminal needs clearing.
    let raw_stdout: Box<dyn Write> = if io::stdout().is_terminal() {
        Box::new(Suspended(io::stdout().lock()))
    } else {
        Box::new(io::stdout().lock())
    };
    let mut stdout = io::BufWriter::new(raw_stdout);
    let mut stderr = Suspended(io::stderr());
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
    CAPTURED.with(|c| c.set(c.get() + 1));
    let exit = {
        let mut handles = Io {
            stdin: &mut input,
            stdout: &mut stdout,
            stderr: &mut stderr,
            interactive: false,
        };
        run(args.iter().map(OsString::from).collect(), &mut handles)
    };
    CAPTURED.with(|c| c.set(c.get() - 1));
    (exit, stdout, stderr)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--help` shows an env-backed flag's value (`[env: DOCKER_HOST=…]`): a URL
    /// credential in it is masked, as in every other output.
    #[test]
    fn help_masks_credentials_in_environment_values() {
        #[derive(Debug, clap::Parser)]
        struct Args {
            /// The endpoint.
            #[arg(long, env = "DAY2_CORE_TEST_HELP_HOST")]
            host: Option<String>,
        }
        std::env::set_var(
            "DAY2_CORE_TEST_HELP_HOST",
            "tcp://admin:CANARY-h3lp@127.0.0.1:1",
        );
        let (mut stdin, mut stdout, mut stderr) = (&b""[..], Vec::new(), Vec::new());
        let mut io = Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
            interactive: false,
        };
        let parsed = parse_args::<Args>(vec!["t".into(), "--help".into()], &mut io);
        assert_eq!(parsed.unwrap_err(), Exit::Ok);
        let help = String::from_utf8(stdout).unwrap();
        assert!(
            help.contains("DAY2_CORE_TEST_HELP_HOST=tcp://admin:[REDACTED]@127.0.0.1:1"),
            "{help}"
        );
        assert!(!help.contains("CANARY-h3lp"), "{help}");
    }
}
