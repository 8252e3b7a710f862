//! status-probe: readiness, summary, CORS and legacy-path checks against the assistant
//! stack, with waits that know warming from failure, a warming SLO, deploy freshness
//! and Prometheus output.
//!
//! The run: parse and validate everything that can be wrong before the first request
//! (URL, timestamps, the changelog), optionally wait ([`wait`]), run the selected
//! checks ([`checks`], [`cors`]), then the warming SLO ([`warming`]) and freshness
//! ([`freshness`]) records, and finally write the records as JSON lines or as the
//! Prometheus exposition format ([`output`], [`prom`]).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use day2_core::bounded;
use day2_core::http::HttpOptions;
use day2_core::human::{self, HumanArgs};
use day2_core::{cli, exit::after_help, Exit, Io, Problem, Record};

pub mod checks;
pub mod cors;
pub mod freshness;
pub mod output;
pub mod payload;
pub mod probe;
pub mod prom;
pub mod summary;
pub mod wait;
pub mod warming;

pub use checks::LegacyExpect;
pub use payload::{
    Answered, CheckReason, CorsAnswer, CorsDefect, Deps, Freshness, PathClass, SummaryReason,
    SummaryView, WaitAttempt,
};
pub use wait::Until;

use output::{Format, Output};
use probe::Probe;

/// The name stamped on every record this tool writes.
pub const TOOL: &str = "status-probe";

/// A check that can be selected by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckName {
    /// `GET /api/ready`: reachable, 2xx, JSON.
    Ready,
    /// `GET /ready`: the dependency check, 200 or 503 with the failing checks named.
    Deps,
    /// `GET /api/status/summary`: ready, llm.path, model, build, badge, synthetic warming.
    Summary,
    /// Preflight and GETs with each `Origin`: one correct Allow-Origin, Vary, methods.
    Cors,
    /// The legacy summary path: served, gone or a SPA-fallback trap.
    Legacy,
}

impl CheckName {
    const ALL: [CheckName; 5] = [
        CheckName::Ready,
        CheckName::Deps,
        CheckName::Summary,
        CheckName::Cors,
        CheckName::Legacy,
    ];
}

/// The examples of `--help` and the man page (the README's, and the guide's quick
/// probes).
const EXAMPLES: &[&str] = &[
    "status-probe --url https://assistant.example.org ready summary   # the guide's quick probes",
    "status-probe --url http://127.0.0.1:8080 --chat-path /api/chat --origin https://app.example",
    "status-probe --wait --warming-budget 10m summary   # bring-up: wait until ready, then check",
    "status-probe --format text   # the same checks as a checklist for a person",
    "status-probe --format prometheus --textfile /var/lib/node_exporter/status.prom",
    "status-probe summary --changelog docs/CHANGELOG.md   # which release is deployed?",
];

/// Readiness, summary, CORS and legacy-path checks against the assistant stack, with
/// waits, a warming SLO, deploy freshness and Prometheus output.
///
/// Runs the named checks (all of them by default) against --url and writes one JSON
/// record per finding on stdout.
#[derive(Debug, clap::Parser)]
#[command(name = TOOL, version, after_help = after_help(EXAMPLES))]
pub struct Args {
    /// Checks to run (default: all of them).
    #[arg(value_enum)]
    pub checks: Vec<CheckName>,

    /// Base URL of the stack: the nginx edge, or the backend port.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,

    /// Path of the (rate-limited) process readiness endpoint.
    #[arg(long, default_value = "/api/ready", value_name = "PATH")]
    pub ready_path: String,
    /// Path of the dependency check.
    #[arg(long, default_value = "/ready", value_name = "PATH")]
    pub deps_path: String,
    /// Path of the status summary.
    #[arg(long, default_value = "/api/status/summary", value_name = "PATH")]
    pub summary_path: String,
    /// Path of the legacy status summary.
    #[arg(long, default_value = "/status/summary", value_name = "PATH")]
    pub legacy_path: String,
    /// Path the CORS preflight is sent to (`/api/chat` at the edge, `/chat` on the backend).
    #[arg(long, default_value = "/chat", value_name = "PATH")]
    pub chat_path: String,
    /// Name of the header nginx uses to tell the api and legacy locations apart.
    #[arg(long, default_value = "X-Status-Path", value_name = "NAME")]
    pub status_header: String,
    /// Value of the `service` label in Prometheus output.
    #[arg(long, default_value = "backend", value_name = "NAME")]
    pub service: String,

    /// An origin the stack must allow (repeatable). Default: the ALLOWED_ORIGINS list.
    #[arg(long = "origin", value_name = "ORIGIN")]
    pub origins: Vec<String>,
    /// The backend's allow-list, split on commas, spaces or newlines as the backend does;
    /// used when no --origin is given.
    #[arg(
        long,
        env = "ALLOWED_ORIGINS",
        value_name = "LIST",
        hide_env_values = true
    )]
    pub allowed_origins: Option<String>,
    /// An origin the stack must refuse (repeatable).
    #[arg(long = "disallowed-origin", value_name = "ORIGIN")]
    pub disallowed_origins: Vec<String>,
    /// Method named in the preflight's Access-Control-Request-Method.
    #[arg(long, default_value = "POST", value_name = "METHOD")]
    pub preflight_method: String,

    /// What the legacy path should do.
    #[arg(long, value_enum, default_value = "any")]
    pub legacy_expect: LegacyExpect,

    /// Poll until the stack is truly ready (see --until), then run the checks.
    #[arg(long)]
    pub wait: bool,
    /// The wait's condition.
    #[arg(long, value_enum, default_value = "primary")]
    pub until: Until,
    /// Path the wait polls (default: the summary path).
    #[arg(long, value_name = "PATH")]
    pub wait_path: Option<String>,
    /// Time between two polls (seconds, or a duration like 500ms).
    #[arg(long, env = "PRIMARY_POLL_INTERVAL_S", default_value = "5", value_parser = POLL)]
    pub interval: Duration,
    /// Deadline of the wait (seconds, or a duration like 10m); beyond it, exit 124.
    #[arg(long, env = "PRIMARY_POLL_MAX_S", default_value = "600", value_parser = SPAN.or_seconds())]
    pub timeout: Duration,
    /// Factor applied to the interval after each poll (1 = fixed interval).
    #[arg(long, default_value = "1.5", value_parser = bounded::number("a factor", 1.0, 10.0))]
    pub backoff: f64,
    /// Largest interval the backoff grows to.
    #[arg(long, default_value = "30s", value_parser = POLL)]
    pub max_interval: Duration,
    /// How long `llm.path=down` may last before the wait gives up early (exit 1).
    #[arg(long, default_value = "30s", value_parser = SPAN)]
    pub grace: Duration,

    /// Warming SLO: warming inside it is a warn, beyond it a fail (`warming_over_budget`).
    #[arg(long, value_parser = SPAN, value_name = "DURATION")]
    pub warming_budget: Option<Duration>,
    /// When the stack was started (RFC 3339), for warming measured across runs.
    /// Default: the start of this run (of the wait).
    #[arg(long, value_name = "RFC3339")]
    pub started_at: Option<String>,

    /// Changelog (Keep a Changelog, conventional-changelog, semantic-release) to match
    /// build.sha against, through git tags.
    #[arg(long, value_name = "FILE")]
    pub changelog: Option<PathBuf>,
    /// Git repository holding the release tags (default: the changelog's directory).
    #[arg(long, value_name = "DIR", requires = "changelog")]
    pub git_dir: Option<PathBuf>,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Also write the Prometheus exposition to this file, atomically (temp + rename),
    /// for node_exporter's textfile collector.
    #[arg(long, value_name = "PATH")]
    pub textfile: Option<PathBuf>,

    /// Deadline for connecting.
    #[arg(long, default_value = "3s", value_parser = NET)]
    pub connect_timeout: Duration,
    /// Deadline for each whole request, body included.
    #[arg(long, default_value = "10s", value_parser = NET)]
    pub http_timeout: Duration,
    /// Largest response body read: bytes, or a size like 512KB (up to 1 GiB).
    #[arg(long, default_value = "1048576", value_name = "BYTES", value_parser = bounded::size(1, 1 << 30))]
    pub max_body: u64,
    /// Redirects to follow (0 shows them as they are).
    #[arg(long, default_value = "0", value_name = "N", value_parser = bounded::count::<u32>(0, 20))]
    pub max_redirects: u32,
    /// Do not verify TLS certificates (recorded in the output).
    #[arg(long)]
    pub insecure: bool,
    /// Requests in flight at once, over as many keep-alive connections: the checks'
    /// requests are asked ahead concurrently and the records still come in their
    /// order. 1 asks one request after another.
    #[arg(long, default_value_t = 6, value_name = "N", value_parser = bounded::count::<usize>(1, 64).of("a number of requests in flight"))]
    pub concurrency: usize,

    #[command(flatten)]
    pub human: HumanArgs,
}

/// The longest duration any flag or variable takes: 30 days (day2-core's bound).
pub const MAX_DURATION: Duration = bounded::MAX_DURATION;

/// A time between polls: `5` is five seconds (the PRIMARY_POLL_* variables are in
/// seconds), `500ms` works too; from 1 ms to a day.
const POLL: bounded::DurationRange =
    bounded::duration(Duration::from_millis(1), bounded::DAY).or_seconds();
/// A deadline, grace or budget: from 0 to 30 days.
const SPAN: bounded::DurationRange = bounded::duration(Duration::ZERO, MAX_DURATION);
/// A network timeout: from 1 ms to a day.
const NET: bounded::DurationRange = bounded::duration(Duration::from_millis(1), bounded::DAY);

use day2_core::bounded::quoted;

/// Splits an allow-list the way the backend does: on commas, spaces and newlines.
pub fn split_origins(list: &str) -> Vec<String> {
    list.split([',', ' ', '\n', '\r', '\t'])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Runs the tool with the given arguments (the first is the program name).
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> Exit {
    let args: Args = match cli::parse_args(args, io) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    let options = human::Options::new(args.format, &args.human);
    human::report(TOOL, options, io, |io| match Config::from_args(&args) {
        Ok(config) => run_config(&config, io),
        Err(problem) => {
            io.error(TOOL, problem);
            Exit::Usage
        }
    })
}

fn run_config(config: &Config, io: &mut Io<'_>) -> Exit {
    let mut probe = Probe::new(&config.url, config.http.clone(), config.concurrency);
    // With --format prometheus the records still pass here: the human side reads them
    // (a line per problem on stderr) and keeps them off stdout.
    let mut out = Output::new(&mut *io.stdout);
    let result = probe_all(config, &mut probe, &mut out);
    let exit = out.exit();
    if result.is_err() {
        // stdout went away: nobody reads us, stop quietly.
        return exit;
    }
    if config.format != Format::Prometheus && config.textfile.is_none() {
        return exit;
    }
    let exposition = prom::render(&config.service, out.records(), &out.facts);
    if let Some(path) = &config.textfile {
        if let Err(err) = prom::write_textfile(path, &exposition) {
            io.error(TOOL, format!("cannot write {}: {err}", path.display()));
            return Exit::Usage;
        }
    }
    if config.format == Format::Prometheus {
        let _ = io.stdout.write_all(exposition.as_bytes());
    }
    exit
}

/// A run's settings, validated from [`Args`] before the first request: the modules
/// below take this (or the part of it they need), never the flags.
#[derive(Debug)]
pub struct Config {
    /// The checks to run, in their order (all of them when none was named).
    pub checks: Vec<CheckName>,
    /// The base URL, an absolute http(s) URL with a host.
    pub url: String,
    /// Timeouts, body cap, redirects and TLS of every request.
    pub http: HttpOptions,
    /// Requests in flight at once (1: one after another).
    pub concurrency: usize,
    pub ready_path: String,
    pub deps_path: String,
    pub summary_path: String,
    pub legacy_path: String,
    pub status_header: String,
    pub legacy_expect: LegacyExpect,
    /// The wait to run before the checks (`--wait`), if any.
    pub wait: Option<wait::Plan>,
    /// What the wait's condition is judged with, also for a run without `--wait`.
    pub sample: wait::Plan,
    /// The CORS checks' paths and refused origins.
    pub cors: cors::Plan,
    /// Origins the stack must allow: `--origin`, else the `ALLOWED_ORIGINS` list.
    pub origins: Vec<String>,
    pub warming_budget: Option<Duration>,
    pub started_at: Option<jiff::Timestamp>,
    pub changelog: Option<freshness::Changelog>,
    pub format: Format,
    pub textfile: Option<PathBuf>,
    /// The `service` label of the Prometheus output.
    pub service: String,
}

impl Config {
    /// Validates the flags. Errors (reason `usage`, exit 2): a base URL that is not
    /// absolute http(s) with a host, a path not starting with `/`, a `--textfile` whose
    /// directory does not exist, a `--started-at` that is not RFC 3339, a changelog
    /// that cannot be read or parsed or whose `--git-dir` is not a repository.
    pub fn from_args(args: &Args) -> Result<Config, Problem> {
        probe::validate_base_url(&args.url)?;
        for (flag, path) in [
            ("--ready-path", &args.ready_path),
            ("--deps-path", &args.deps_path),
            ("--summary-path", &args.summary_path),
            ("--legacy-path", &args.legacy_path),
            ("--chat-path", &args.chat_path),
        ]
        .into_iter()
        .chain(args.wait_path.as_ref().map(|p| ("--wait-path", p)))
        {
            if !path.starts_with('/') {
                return Err(Problem::new(
                    "usage",
                    format!("{flag} {} must start with '/'", quoted(path)),
                ));
            }
        }
        if let Some(path) = &args.textfile {
            // Found out before probing, not after: the temp file goes beside the target.
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if dir.is_some_and(|d| !d.is_dir()) {
                return Err(Problem::new(
                    "usage",
                    format!(
                        "cannot write {}: its directory does not exist",
                        path.display()
                    ),
                ));
            }
        }
        let started_at = match &args.started_at {
            Some(text) => Some(text.parse::<jiff::Timestamp>().map_err(|e| {
                Problem::new(
                    "usage",
                    format!(
                        "--started-at {} is not an RFC 3339 timestamp ({e})",
                        quoted(text)
                    ),
                )
            })?),
            None => None,
        };
        let changelog = match &args.changelog {
            Some(path) => {
                let git_dir = args.git_dir.clone().unwrap_or_else(|| match path.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                    _ => PathBuf::from("."),
                });
                Some(freshness::Changelog::load(path, git_dir)?)
            }
            None => None,
        };
        let checks = if args.checks.is_empty() {
            CheckName::ALL.to_vec()
        } else {
            args.checks.clone()
        };
        let origins = if args.origins.is_empty() {
            args.allowed_origins
                .as_deref()
                .map(split_origins)
                .unwrap_or_default()
        } else {
            args.origins.clone()
        };
        let sample = wait::Plan {
            until: args.until,
            path: args
                .wait_path
                .clone()
                .unwrap_or_else(|| args.summary_path.clone()),
            status_header: args.status_header.clone(),
            interval: args.interval,
            timeout: args.timeout,
            backoff: args.backoff,
            max_interval: args.max_interval,
            grace: args.grace,
        };
        Ok(Config {
            checks,
            url: args.url.clone(),
            http: HttpOptions {
                connect_timeout: args.connect_timeout,
                timeout: args.http_timeout,
                body_limit: args.max_body,
                insecure: args.insecure,
                max_redirects: args.max_redirects,
                ..HttpOptions::default()
            },
            concurrency: args.concurrency,
            ready_path: args.ready_path.clone(),
            deps_path: args.deps_path.clone(),
            summary_path: args.summary_path.clone(),
            legacy_path: args.legacy_path.clone(),
            status_header: args.status_header.clone(),
            legacy_expect: args.legacy_expect,
            wait: args.wait.then(|| sample.clone()),
            sample,
            cors: cors::Plan {
                summary_path: args.summary_path.clone(),
                legacy_path: args.legacy_path.clone(),
                chat_path: args.chat_path.clone(),
                status_header: args.status_header.clone(),
                preflight_method: args.preflight_method.clone(),
                disallowed_origins: args.disallowed_origins.clone(),
            },
            origins,
            warming_budget: args.warming_budget,
            started_at,
            changelog,
            format: args.format,
            textfile: args.textfile.clone(),
            service: args.service.clone(),
        })
    }
}

/// The whole probe; `Err` only when stdout was closed.
fn probe_all(
    config: &Config,
    probe: &mut Probe,
    out: &mut Output<'_>,
) -> Result<(), day2_core::Closed> {
    out.facts.insecure = config.http.insecure;
    if config.http.insecure {
        out.emit(
            Record::info("tls", probe.base(), "tls_verification_disabled")
                .message("--insecure: TLS certificates are not verified"),
        )?;
    }
    let mut clock = warming::Tracker::new(config.started_at);
    if let Some(plan) = &config.wait {
        let outcome = wait::run(plan, probe, out, &mut clock)?;
        if outcome != wait::Outcome::Met {
            if let Some(budget) = config.warming_budget {
                out.emit(clock.record(probe.url(&config.summary_path), budget))?;
            }
            out.facts.warming_seconds = clock.warming_seconds();
            return Ok(());
        }
    }
    let sel = |name| config.checks.contains(&name);
    // The SLO, freshness and Prometheus output need the summary even when the summary
    // check was not selected; the probe reuses an answer it already has.
    let needs_summary = config.warming_budget.is_some()
        || config.changelog.is_some()
        || config.format == Format::Prometheus
        || config.textfile.is_some();
    ask_ahead(config, needs_summary, probe);
    if sel(CheckName::Ready) {
        out.emit(checks::ready(probe, &config.ready_path))?;
    }
    if sel(CheckName::Deps) {
        out.emit(checks::deps(probe, &config.deps_path))?;
    }
    if sel(CheckName::Summary) {
        let (record, view) = summary::check(probe, &config.summary_path, &config.status_header);
        out.emit(record)?;
        out.facts.summary = view;
    }
    if sel(CheckName::Cors) {
        cors::run(&config.cors, &config.origins, probe, out)?;
    }
    if sel(CheckName::Legacy) {
        out.emit(checks::legacy(
            probe,
            &config.legacy_path,
            &config.status_header,
            config.legacy_expect,
        ))?;
    }
    if needs_summary && out.facts.summary.is_none() {
        out.facts.summary = summary::fetch(probe, &config.summary_path, &config.status_header);
    }
    if config.wait.is_none() && needs_summary {
        // Without a wait, the SLO has one sample: the summary answer of this run
        // (the probe remembers it, so this asks nothing twice).
        let (state, view) = wait::sample(&config.sample, &probe.get_plain(&config.summary_path));
        clock.observe(&state, view.as_ref());
    }
    if let Some(budget) = config.warming_budget {
        out.emit(clock.record(probe.url(&config.summary_path), budget))?;
    }
    out.facts.warming_seconds = clock.warming_seconds();
    if let Some(changelog) = &config.changelog {
        out.emit(changelog.check(&probe.url(&config.summary_path), out.facts.summary.as_ref()))?;
    }
    Ok(())
}

/// Asks ahead, concurrently, exactly the requests the checks of [`probe_all`] are
/// about to make (see [`Probe::prefetch`]): the plain GETs of ready, deps, summary
/// and legacy with CORS's own (one round of requests), then the legacy path with each
/// origin once its plain answer shows it served (a second round). The checks then
/// run in their order and find their answers waiting. Nothing with `--concurrency 1`.
fn ask_ahead(config: &Config, needs_summary: bool, probe: &mut Probe) {
    if probe.concurrency() <= 1 {
        return;
    }
    let sel = |name| config.checks.contains(&name);
    let mut asks = Vec::new();
    if sel(CheckName::Ready) {
        asks.push(probe::Ask::get(&config.ready_path));
    }
    if sel(CheckName::Deps) {
        asks.push(probe::Ask::get(&config.deps_path));
    }
    if sel(CheckName::Summary) || needs_summary {
        asks.push(probe::Ask::get(&config.summary_path));
    }
    if sel(CheckName::Legacy) {
        asks.push(probe::Ask::get(&config.legacy_path));
    }
    if sel(CheckName::Cors) {
        asks.extend(cors::asks(&config.cors, &config.origins, None));
    }
    probe.prefetch(asks);
    if sel(CheckName::Cors) {
        let legacy = probe.peek(&probe::Ask::get(&config.legacy_path)).cloned();
        if let Some(legacy) = legacy {
            probe.prefetch(cors::asks(&config.cors, &config.origins, Some(&legacy)));
        }
    }
}
