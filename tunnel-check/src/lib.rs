//! tunnel-check: the cloudflared tunnel seen from both sides, and its secrets kept.
//!
//! Modes (each a module):
//! - [`edge`]: the same path on the origin and through the public edge, with `cf-ray`
//!   evidence ("the tunnel looks healthy but users get 502");
//! - [`connector`]: cloudflared's own logs (stdin, a file, a container) and its
//!   metrics `/ready`: connections, protocol, ingress, origin errors, churn;
//! - [`config`]: a credentials-file `config.yml` and its credentials JSON;
//! - [`compose`]: the rendered compose config: token rendered, exposed, networks;
//! - `redact`: a filter masking every token and tunnel secret ([`redact`]).
//!
//! **Invariant:** every byte this library writes goes through a
//! [`redact::RedactingWriter`]; `run` wraps stdout and stderr before anything else
//! (clap's own errors included), so no mode can print a secret by mistake.

use std::ffi::OsString;
use std::io::{BufRead, Write};

use clap::{Parser, Subcommand};
use day2_core::{cli, exit::EXIT_CODES_HELP, Exit, Io};

pub mod compose;
pub mod config;
pub mod connector;
pub mod edge;
mod golang;
mod logs;
mod metrics;
pub mod redact;
mod syntax;
pub mod token;
mod yaml;

use redact::{RedactingWriter, Redactor};

/// The name stamped on every record this tool writes.
pub const TOOL: &str = "tunnel-check";

/// Environment variables whose values are tunnel tokens in every run: they are
/// masked in all output even when they have no token's shape.
pub const TOKEN_ENV: [&str; 2] = ["TUNNEL_TOKEN", "CLOUDFLARE_TUNNEL_TOKEN"];

/// cloudflared tunnel checks: origin vs edge, connector logs and readiness, config
/// and token hygiene, and a redaction filter. Tokens and tunnel secrets never appear
/// in any output.
///
/// Without a subcommand, `--edge URL` runs the origin/edge comparison.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, after_help = EXIT_CODES_HELP, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub edge: edge::EdgeArgs,

    /// Also mask the value of this environment variable in all output (repeatable).
    /// TUNNEL_TOKEN and CLOUDFLARE_TUNNEL_TOKEN are always masked.
    #[arg(long = "secret-env", value_name = "NAME", global = true)]
    pub secret_env: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Request the same path on the origin and through the public edge and compare.
    #[command(after_help = EXIT_CODES_HELP)]
    Edge(edge::EdgeArgs),
    /// Read cloudflared logs (stdin, --file or --container) and its metrics /ready.
    #[command(after_help = EXIT_CODES_HELP)]
    Connector(connector::ConnectorArgs),
    /// Validate a credentials-file config.yml and the credentials JSON it names.
    #[command(after_help = EXIT_CODES_HELP)]
    Config(config::ConfigArgs),
    /// Check the rendered compose config (stdin, or run compose for -f files).
    #[command(after_help = EXIT_CODES_HELP)]
    Compose(compose::ComposeArgs),
    /// Copy stdin to stdout with every token and tunnel secret masked.
    #[command(after_help = EXIT_CODES_HELP)]
    Redact,
}

/// Runs the tool with the given arguments (the first is the program name).
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> Exit {
    let redactor = Redactor::default();
    redactor.learn_env(&TOKEN_ENV);
    let mut stdout = RedactingWriter::new(&mut *io.stdout, &redactor);
    let mut stderr = RedactingWriter::new(&mut *io.stderr, &redactor);
    let exit = redact::contain_panics(|| {
        dispatch(
            args,
            &mut *io.stdin,
            &mut stdout,
            &mut stderr,
            io.interactive,
            &redactor,
        )
    })
    .unwrap_or_else(|message| {
        let _ = writeln!(stderr, "{TOOL}: {message}");
        Exit::Failed
    });
    // A closed stream at the end is the reader's choice, not our failure.
    let _ = stdout.finish();
    let _ = stderr.finish();
    exit
}

fn dispatch(
    args: Vec<OsString>,
    stdin: &mut dyn BufRead,
    stdout: &mut RedactingWriter<'_>,
    stderr: &mut RedactingWriter<'_>,
    interactive: bool,
    redactor: &Redactor,
) -> Exit {
    let mut io = Io {
        stdin: &mut *stdin,
        stdout: &mut *stdout,
        stderr: &mut *stderr,
        interactive,
    };
    let args: Args = match cli::parse_args(args, &mut io) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    let names: Vec<&str> = args.secret_env.iter().map(String::as_str).collect();
    redactor.learn_env(&names);
    match args.command {
        Some(Command::Edge(edge_args)) => edge::run(&edge_args, &mut io),
        Some(Command::Connector(connector_args)) => connector::run(&connector_args, &mut io),
        Some(Command::Config(config_args)) => config::run(&config_args, &mut io, redactor),
        Some(Command::Compose(compose_args)) => compose::run(&compose_args, &mut io, redactor),
        // The filter is the redactor itself: its output goes out as it made it, so
        // line endings survive and nothing is scanned twice.
        Some(Command::Redact) => match redact::filter(stdin, stdout.inner(), redactor) {
            Ok(_) => Exit::Ok,
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
            Err(err) => {
                let _ = writeln!(stderr, "{TOOL}: redact: cannot copy stdin to stdout: {err}");
                Exit::Usage
            }
        },
        None if args.edge.edge.is_some() => edge::run(&args.edge, &mut io),
        None => {
            io.error(
                TOOL,
                "give --edge URL, or a subcommand (edge, connector, config, compose, redact); see --help",
            );
            Exit::Usage
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Args::command().debug_assert();
    }
}
