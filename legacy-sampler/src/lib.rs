//! legacy-sampler: counts legacy-endpoint traffic, live or from access logs, with a gate.
//!
//! - Live mode (the default): GETs one or more URLs on a schedule and classifies each
//!   answer by the value of a response header (`X-Status-Path`): see [`live`].
//! - Log mode (`--log FILE`): counts the same classes in nginx access logs, per time
//!   window, with the callers of the legacy path and the "quiet for 24 h" verdict: see
//!   [`logs`].
//!
//! Both end in one `summary` record whose gate verdict sets the exit code: see [`gate`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{ArgAction, BoolishValueParser};
use day2_core::bounded::{self, DAY, MAX_DURATION, SECOND};
use day2_core::human::{self, HumanArgs};
use day2_core::{cli, exit::after_help, Exit, Io, Problem};

use gate::Gate;

pub mod gate;
pub mod live;
pub mod logs;
pub mod payload;
mod prom;
mod stats;

pub use payload::{LiveSummary, LogSummary, SummaryReason};

/// The name stamped on every record this tool writes.
pub const TOOL: &str = "legacy-sampler";

/// The URL sampled when none is given: the summary path of a local edge.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080/api/status/summary";

/// The examples of `--help` and the man page (the README's, and the guide's rolling
/// sample and cutover gates).
const EXAMPLES: &[&str] = &[
    "legacy-sampler https://host/status/summary --every 2s -n 30   # the guide's rolling sample",
    "FAIL_ON_LEGACY=true legacy-sampler https://host/api/status/summary -n 30   # CI guard",
    "legacy-sampler --log access.log.1 --log access.log --quiet-for 24h   # quiet for 24 hours?",
    "legacy-sampler --log access.log --window 1h --format text   # hourly windows, for a person",
    "legacy-sampler https://host/status/summary --samples off --for 10m --format prometheus",
];

/// Counts legacy-endpoint traffic: live X-Status-Path sampling and nginx access-log
/// windows, with a gate.
///
/// Live mode GETs each URL (round robin) and classifies every answer by the value of a
/// response header: `api`, `legacy`, any other value as itself, `missing`, or the kind
/// of transport error. Log mode (`--log`) counts the same in nginx access logs.
#[derive(Debug, clap::Parser)]
#[command(name = TOOL, version, after_help = after_help(EXAMPLES))]
pub struct Args {
    /// URLs to sample, taken in turn [default: http://127.0.0.1:8080/api/status/summary]
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,

    /// The response header that classifies a sample, matched case-insensitively. In log
    /// mode it names the log variable ($sent_http_x_status_path or
    /// $upstream_http_x_status_path) that classifies a line.
    #[arg(long, default_value = "X-Status-Path", value_name = "NAME")]
    pub header: String,

    /// Send this Origin header. None by default: nginx drops X-Status-Path for
    /// origins on its own allow-list, so an Origin turns answers into `missing`.
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,

    /// Number of samples [default: 30 unless --for is given]
    #[arg(short = 'n', long = "count", value_name = "N", value_parser = bounded::count::<u64>(1, 1_000_000_000).of("a number of samples"))]
    pub count: Option<u64>,

    /// Sample for this long (e.g. 10m); with -n, whichever ends first.
    #[arg(long = "for", value_parser = bounded::duration(Duration::from_millis(1), MAX_DURATION), value_name = "DURATION")]
    pub run_for: Option<Duration>,

    /// One sample every DURATION (e.g. 2s), on a fixed schedule: sample i is due at
    /// start + i × DURATION; a slow answer makes later samples late, not the run longer.
    #[arg(long, value_parser = bounded::duration(Duration::from_micros(1), DAY), value_name = "DURATION", conflicts_with = "rate")]
    pub every: Option<Duration>,

    /// Samples per second (50, 50/s, 600/m, 3600/h), on the same fixed schedule as --every.
    /// Without --every or --rate samples go back to back.
    #[arg(long, value_parser = bounded::rate(1.0 / 86_400.0, 1_000_000.0), value_name = "RATE")]
    pub rate: Option<Duration>,

    /// Requests in flight at once, over pooled keep-alive connections.
    #[arg(short = 'c', long, default_value_t = 1, value_name = "N", value_parser = bounded::count::<usize>(1, 1024).of("a number of requests in flight"))]
    pub concurrency: usize,

    /// Do not verify TLS certificates (a self-signed edge). The summary records it.
    #[arg(long)]
    pub insecure: bool,

    /// Deadline of one request, body included; a slower one is a `timeout` error.
    #[arg(long, value_parser = bounded::duration(Duration::from_millis(1), DAY), default_value = "5s", value_name = "DURATION")]
    pub timeout: Duration,

    /// Write one `sample` record per request (on|off).
    #[arg(long, default_value = "on", value_parser = BoolishValueParser::new(), action = ArgAction::Set, value_name = "on|off", hide_possible_values = true)]
    pub samples: bool,

    /// Gate: fail (exit 1) at the first legacy answer, which also ends a live run.
    /// FAIL_ON_LEGACY=true (or 1, yes, on, any case) in the environment does the same;
    /// false, 0, no, off or empty (GitHub's value for an unset variable) leave it off.
    #[arg(long, env = "FAIL_ON_LEGACY", value_parser = parse_fail_on_legacy, action = ArgAction::SetTrue)]
    pub fail_on_legacy: bool,

    /// Gate: fail when legacy exceeds this share (0 to 1) of the status answers (live:
    /// of all answers; logs: of the lines classified as a status request).
    #[arg(long, value_name = "RATIO", value_parser = bounded::number("a ratio", 0.0, 1.0))]
    pub max_legacy_ratio: Option<f64>,

    /// Gate: fail when there are more legacy answers (or log lines) than this.
    #[arg(long, value_name = "N", value_parser = bounded::count::<u64>(0, u64::MAX).of("a number of legacy answers"))]
    pub max_legacy_count: Option<u64>,

    /// Log mode: an nginx access log to count (repeatable; `-` is stdin; gzip is
    /// recognised by its magic bytes, so rotated `.1` and `.gz` files both work).
    #[arg(long = "log", value_name = "FILE", conflicts_with_all = ["urls", "count", "run_for", "every", "rate", "origin"])]
    pub logs: Vec<PathBuf>,

    /// The nginx `log_format` the logs were written with [default: combined]: as in
    /// nginx.conf (`[log_format NAME] [escape=default|json|none] '…' '…'[;]`) or one
    /// bare format string.
    #[arg(long, value_name = "FORMAT", requires = "logs")]
    pub log_format: Option<String>,

    /// Width of the counting windows (aligned to the epoch, e.g. whole hours).
    #[arg(long, value_parser = bounded::duration(SECOND, 366 * DAY), default_value = "1h", value_name = "DURATION")]
    pub window: Duration,

    /// How many legacy client addresses, user agents and paths to list.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = bounded::count::<usize>(1, 10_000).of("a number of callers"))]
    pub top: usize,

    /// Gate: pass only if the logs cover at least this span before --until and hold no
    /// legacy hit in it (e.g. 24h).
    #[arg(long, value_parser = bounded::duration(Duration::ZERO, 3650 * DAY), value_name = "DURATION", requires = "logs")]
    pub quiet_for: Option<Duration>,

    /// The end of the --quiet-for span, RFC 3339 [default: now].
    #[arg(long, value_parser = parse_timestamp, value_name = "TIME", requires = "logs")]
    pub until: Option<jiff::Timestamp>,

    /// Log mode: a request whose path, as nginx normalised it (slashes merged, dot
    /// segments resolved, %XX decoded), starts with this is legacy (repeatable).
    #[arg(
        long = "legacy-prefix",
        default_value = "/status/",
        value_name = "PREFIX"
    )]
    pub legacy_prefixes: Vec<String>,

    /// Log mode: a request whose normalised path starts with this is api (repeatable).
    #[arg(
        long = "api-prefix",
        default_value = "/api/status/",
        value_name = "PREFIX"
    )]
    pub api_prefixes: Vec<String>,

    /// Log mode: nginx's `merge_slashes` of the server that wrote the logs (on|off). On,
    /// nginx's default, `//status/x` reaches `location /status/`; off, it does not.
    #[arg(long, default_value = "on", value_parser = BoolishValueParser::new(), action = ArgAction::Set, value_name = "on|off", hide_possible_values = true)]
    pub merge_slashes: bool,

    /// Log mode: more malformed lines than this share of the access lines (foreign
    /// lines left out) is fatal (exit 2).
    #[arg(long, default_value_t = 0.05, value_name = "RATIO", value_parser = bounded::number("a ratio", 0.0, 1.0))]
    pub max_malformed_ratio: f64,

    /// Output on stdout: JSON records, or the Prometheus text format of the summary
    /// (for node_exporter's textfile collector and the alerting rules in examples/).
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,

    /// Also write the Prometheus text format to this file, atomically (temp + rename).
    #[arg(long, value_name = "PATH")]
    pub textfile: Option<PathBuf>,

    #[command(flatten)]
    pub human: HumanArgs,
}

/// The format written on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON record per line, as they happen.
    Json,
    /// The Prometheus text exposition format, written at the end of the run.
    Prometheus,
    /// A checklist for a person, at the end of the run: grouped by check, with a
    /// verdict column.
    Text,
}

impl From<Format> for human::View {
    fn from(format: Format) -> human::View {
        match format {
            Format::Json => human::View::Records,
            Format::Prometheus => human::View::Hidden,
            Format::Text => human::View::Text,
        }
    }
}

/// What `FAIL_ON_LEGACY` means, the one definition shared by this tool, the cutover's
/// guard step (`cargo xtask cutover`) and `examples/ci/status-checks.sh` (which spells
/// the same list in shell): `true`, `1`, `yes`, `on` in any case turn the gate on;
/// `false`, `0`, `no`, `off` and the empty string leave it off. The empty string is
/// "unset" because GitHub Actions expands an unset `${{ vars.NAME }}` to it. Anything
/// else is an error naming the value.
pub fn parse_fail_on_legacy(value: &str) -> Result<bool, String> {
    const ON: [&str; 4] = ["true", "1", "yes", "on"];
    const OFF: [&str; 5] = ["", "false", "0", "no", "off"];
    if ON.iter().any(|v| value.eq_ignore_ascii_case(v)) {
        Ok(true)
    } else if OFF.iter().any(|v| value.eq_ignore_ascii_case(v)) {
        Ok(false)
    } else {
        Err(format!(
            "FAIL_ON_LEGACY={value:?} is neither on (true, 1, yes, on) nor off (false, 0, no, off, empty)"
        ))
    }
}

fn parse_timestamp(text: &str) -> Result<jiff::Timestamp, String> {
    text.trim().parse::<jiff::Timestamp>().map_err(|e| {
        format!("invalid time {text:?} ({e}); use RFC 3339, e.g. 2026-11-28T00:00:00Z")
    })
}

/// Checks what clap cannot: combinations and prefixes (numbers are range-checked by
/// their `bounded` parsers as clap reads them).
/// A run's settings, validated from [`Args`]: the mode with its own settings, the
/// gate, and where the output goes. The modules take these, never the flags.
#[derive(Debug)]
pub struct Config {
    pub mode: Mode,
    pub gate: Gate,
    pub format: Format,
    /// `--textfile`: the Prometheus exposition is also written there.
    pub textfile: Option<PathBuf>,
}

/// Live sampling or counting in logs (`--log`).
#[derive(Debug)]
pub enum Mode {
    Live(live::Config),
    Logs(logs::Config),
}

impl Config {
    /// Validates the flags. Errors (reason `usage`, exit 2): a `--legacy-prefix` or
    /// `--api-prefix` that is not a path as nginx's locations match it, `--quiet-for`
    /// without `--log`, `--log -` twice, a `--log-format` that does not parse.
    pub fn from_args(args: &Args) -> Result<Config, Problem> {
        let usage = |message: String| Problem::new("usage", message);
        for prefix in args.legacy_prefixes.iter().chain(&args.api_prefixes) {
            if !prefix.starts_with('/') || prefix.contains(['?', '#']) {
                return Err(usage(format!(
                    "--legacy-prefix and --api-prefix take a path as nginx's locations match it (starting with `/`, without `?` or `#`), got {prefix:?}"
                )));
            }
        }
        let gate = Gate {
            fail_on_legacy: args.fail_on_legacy,
            max_ratio: args.max_legacy_ratio,
            max_count: args.max_legacy_count,
            quiet_for: args.quiet_for,
        };
        let mode = if args.logs.is_empty() {
            if args.quiet_for.is_some() {
                return Err(usage("--quiet-for needs --log".into()));
            }
            Mode::Live(live::Config {
                urls: if args.urls.is_empty() {
                    vec![DEFAULT_URL.to_owned()]
                } else {
                    args.urls.clone()
                },
                header: args.header.clone(),
                origin: args.origin.clone(),
                count: args.count,
                run_for: args.run_for,
                interval: args.every.or(args.rate),
                concurrency: args.concurrency,
                insecure: args.insecure,
                timeout: args.timeout,
                samples: args.samples,
            })
        } else {
            if args.logs.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
                return Err(usage("--log - (stdin) can be given once".into()));
            }
            Mode::Logs(logs::Config {
                sources: args.logs.clone(),
                format: logs::parse_format(args.log_format.as_deref(), &args.header)?,
                custom_format: args.log_format.is_some(),
                legacy_prefixes: args.legacy_prefixes.clone(),
                api_prefixes: args.api_prefixes.clone(),
                merge_slashes: args.merge_slashes,
                window: args.window,
                top: args.top,
                until: args.until,
                max_malformed_ratio: args.max_malformed_ratio,
            })
        };
        Ok(Config {
            mode,
            gate,
            format: args.format,
            textfile: args.textfile.clone(),
        })
    }
}

pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> Exit {
    let args: Args = match cli::parse_args(args, io) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    let config = match Config::from_args(&args) {
        Ok(config) => config,
        Err(problem) => {
            io.error(TOOL, problem);
            return Exit::Usage;
        }
    };
    let options = human::Options::new(args.format, &args.human);
    human::report(TOOL, options, io, |io| {
        if config.format != Format::Prometheus && config.textfile.is_none() {
            return run_mode(&config, io);
        }
        let mode = match config.mode {
            Mode::Live(_) => "live",
            Mode::Logs(_) => "logs",
        };
        prom::run(
            mode,
            config.format == Format::Prometheus,
            config.textfile.as_deref(),
            io,
            |io| run_mode(&config, io),
        )
    })
}

fn run_mode(config: &Config, io: &mut Io<'_>) -> Exit {
    match &config.mode {
        Mode::Live(live) => live::run(live, &config.gate, io),
        Mode::Logs(logs) => logs::run(logs, &config.gate, io),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_legacy_values() {
        for on in ["true", "True", "TRUE", "1", "yes", "YES", "on", "On"] {
            assert_eq!(parse_fail_on_legacy(on), Ok(true), "{on}");
        }
        for off in ["", "false", "False", "0", "no", "NO", "off"] {
            assert_eq!(parse_fail_on_legacy(off), Ok(false), "{off}");
        }
        for bad in ["y", "t", " true", "2", "enabled"] {
            assert!(parse_fail_on_legacy(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_argument_definitions_are_consistent() {
        <Args as clap::CommandFactory>::command().debug_assert();
    }

    /// Every flag that cannot be right is refused by `Config::from_args`, before the
    /// run and its report: one line on stderr, exit 2, nothing on stdout in any
    /// format. (`--log-format` used to be parsed inside the report, so `--format text`
    /// printed an empty checklist, "(no records)", for it alone.)
    #[test]
    fn every_usage_error_is_refused_before_the_report() {
        let cases: [&[&str]; 2] = [
            &["--log", "-", "--log-format", "$remote_addr $status"],
            &["--log", "-", "--legacy-prefix", "status"],
        ];
        for args in cases {
            for format in ["json", "text", "prometheus"] {
                let mut argv = vec![TOOL];
                argv.extend_from_slice(args);
                argv.extend(["--format", format]);
                let (exit, stdout, stderr) = day2_core::cli::run_captured(run, &argv, b"");
                let stderr = String::from_utf8_lossy(&stderr);
                assert_eq!(exit, Exit::Usage, "{argv:?}: {stderr}");
                assert!(
                    stdout.is_empty(),
                    "{argv:?}: {}",
                    String::from_utf8_lossy(&stdout)
                );
                assert_eq!(stderr.lines().count(), 1, "{argv:?}: {stderr}");
                assert!(stderr.starts_with("legacy-sampler: "), "{argv:?}: {stderr}");
            }
        }
    }
}
