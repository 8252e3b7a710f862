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
use day2_core::human::{self, Format, HumanArgs};
use day2_core::{cli, exit::after_help, Exit, Io};

pub mod compose;
pub mod config;
pub mod connector;
pub mod edge;
mod golang;
mod logs;
mod metrics;
pub mod redact;
pub mod secret;
mod syntax;
pub mod token;
mod yaml;

use redact::{RedactingWriter, Redactor};

/// The name stamped on every record this tool writes.
pub const TOOL: &str = "tunnel-check";

/// Environment variables whose values are tunnel tokens in every run: they are
/// masked in all output even when they have no token's shape.
pub const TOKEN_ENV: [&str; 2] = ["TUNNEL_TOKEN", "CLOUDFLARE_TUNNEL_TOKEN"];

/// The examples of `--help` and the man pages (the README's).
const EXAMPLES: &[&str] = &[
    "tunnel-check --edge https://assistant.example.org   # origin vs edge (the default mode)",
    "docker logs cloudflared 2>&1 | tunnel-check connector --metrics 127.0.0.1:2000",
    "tunnel-check config cloudflared/config.yml",
    "docker compose config | tunnel-check compose",
    "tunnel-check redact < compose-and-logs.txt > safe-to-share.txt",
];
const EDGE_EXAMPLES: &[&str] = &[
    "tunnel-check edge --edge https://assistant.example.org --origin http://127.0.0.1:8080",
    "tunnel-check edge --edge URL --path /ready --metrics 127.0.0.1:2000",
];
const CONNECTOR_EXAMPLES: &[&str] = &[
    "docker logs cloudflared 2>&1 | tunnel-check connector",
    "tunnel-check connector --container cloudflared --metrics 127.0.0.1:2000",
];
const CONFIG_EXAMPLES: &[&str] = &[
    "tunnel-check config cloudflared/config.yml",
    "tunnel-check config config.yml --credentials ./cloudflared/UUID.json",
];
const COMPOSE_EXAMPLES: &[&str] = &[
    "docker compose config | tunnel-check compose",
    "tunnel-check compose -f docker-compose.yml --format text",
];
const REDACT_EXAMPLES: &[&str] = &[
    "tunnel-check redact < compose-and-logs.txt > safe-to-share.txt",
    "docker logs cloudflared 2>&1 | tunnel-check redact --secret-env MY_TOKEN",
];

/// cloudflared tunnel checks: origin vs edge, connector logs and readiness, config
/// and token hygiene, and a redaction filter. Tokens and tunnel secrets never appear
/// in any output.
///
/// Without a subcommand, `--edge URL` runs the origin/edge comparison.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, after_help = after_help(EXAMPLES), args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub edge: edge::EdgeArgs,

    /// Also mask the value of this environment variable in all output (repeatable).
    /// TUNNEL_TOKEN and CLOUDFLARE_TUNNEL_TOKEN are always masked.
    #[arg(long = "secret-env", value_name = "NAME", global = true)]
    pub secret_env: Vec<String>,

    /// json: one record per line; text: a checklist for a person, grouped by check
    /// (`redact` always copies its input).
    #[arg(long, value_enum, default_value = "json", global = true)]
    pub format: Format,

    #[command(flatten)]
    pub human: HumanArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Request the same path on the origin and through the public edge and compare.
    #[command(after_help = after_help(EDGE_EXAMPLES))]
    Edge(edge::EdgeArgs),
    /// Read cloudflared logs (stdin, --file or --container) and its metrics /ready.
    #[command(after_help = after_help(CONNECTOR_EXAMPLES))]
    Connector(connector::ConnectorArgs),
    /// Validate a credentials-file config.yml and the credentials JSON it names.
    #[command(after_help = after_help(CONFIG_EXAMPLES))]
    Config(config::ConfigArgs),
    /// Check the rendered compose config (stdin, or run compose for -f files).
    #[command(after_help = after_help(COMPOSE_EXAMPLES))]
    Compose(compose::ComposeArgs),
    /// Copy stdin to stdout with every token and tunnel secret masked.
    #[command(after_help = after_help(REDACT_EXAMPLES))]
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
        let _ = writeln!(stderr, "{}", internal_error_line(&message));
        Exit::Failed
    });
    // A closed stream at the end is the reader's choice, not our failure.
    let _ = stdout.finish();
    let _ = stderr.finish();
    exit
}

/// The stderr line of a contained panic. Its message may quote input, so it is
/// masked and escaped like every other stderr line (`cli::for_stderr`).
fn internal_error_line(message: &str) -> String {
    format!("{TOOL}: {}", cli::for_stderr(message))
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
    if matches!(args.command, Some(Command::Redact)) {
        return redact_stdin(stdin, stdout, stderr, redactor);
    }
    // Both sides of the human output go through the redacting writers of `io`.
    let options = human::Options::new(args.format, &args.human);
    human::report(TOOL, options, &mut io, |io| checks(&args, io, redactor))
}

/// The modes that write records.
fn checks(args: &Args, io: &mut Io<'_>, redactor: &Redactor) -> Exit {
    match &args.command {
        Some(Command::Edge(edge_args)) => edge::run(edge_args, io),
        Some(Command::Connector(connector_args)) => connector::run(connector_args, io),
        Some(Command::Config(config_args)) => config::run(config_args, io, redactor),
        Some(Command::Compose(compose_args)) => compose::run(compose_args, io, redactor),
        Some(Command::Redact) => unreachable!("redact is a filter, handled before"),
        None if args.edge.edge.is_some() => edge::run(&args.edge, io),
        None => {
            io.error(
                TOOL,
                "give --edge URL, or a subcommand (edge, connector, config, compose, redact); see --help",
            );
            Exit::Usage
        }
    }
}

/// `redact`: the filter is the redactor itself: its output goes out as it made it, so
/// line endings survive and nothing is scanned twice.
fn redact_stdin(
    stdin: &mut dyn BufRead,
    stdout: &mut RedactingWriter<'_>,
    stderr: &mut RedactingWriter<'_>,
    redactor: &Redactor,
) -> Exit {
    match redact::filter(stdin, stdout.inner(), redactor) {
        Ok(_) => Exit::Ok,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(err) => {
            let _ = writeln!(stderr, "{TOOL}: redact: cannot copy stdin to stdout: {err}");
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

    #[test]
    fn token_mode_is_off_unless_asked_for() {
        use clap::Parser;
        if std::env::var_os("TUNNEL_TOKEN").is_none() {
            let args = super::Args::try_parse_from(["tunnel-check", "config", "c.yml"]).unwrap();
            let Some(super::Command::Config(config)) = args.command else {
                panic!("config");
            };
            assert!(!config.token_mode);
        }
        let args = super::Args::try_parse_from(["tunnel-check", "config", "c.yml", "--token-mode"])
            .unwrap();
        let Some(super::Command::Config(config)) = args.command else {
            panic!("config");
        };
        assert!(config.token_mode);
    }

    /// A panic quoting a crafted line cannot act on the terminal: its stderr line is
    /// escaped (ESC, CR, bidi controls) and stays one line.
    #[test]
    fn a_contained_panic_is_written_escaped() {
        let message = super::redact::contain_panics::<()>(|| {
            panic!("bad line \u{1b}[2J\rEVIL\u{202e}x\nsecond")
        })
        .unwrap_err();
        let line = super::internal_error_line(&message);
        assert!(
            line.starts_with(
                "tunnel-check: internal error: bad line \\u001b[2J\\rEVIL\\u202ex\\nsecond"
            ),
            "{line}"
        );
        assert!(!line.contains(['\u{1b}', '\r', '\n', '\u{202e}']), "{line}");
    }
}
