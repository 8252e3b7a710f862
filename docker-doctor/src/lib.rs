//! docker-doctor: a Docker daemon probe that cannot hang, compose stack health,
//! resource checks and bounded recovery.
//!
//! The run: read `--wslconfig` first (a file WSL cannot decode is a usage error
//! before anything is probed), then the probe ladder ([`ladder`], over day2-docker's
//! raw client), recovery if asked ([`recover`], [`remedy`]), then, with the daemon
//! answering, stack health ([`stack`]) and resources ([`resources`]) through
//! day2-docker's bollard facade, and the `.wslconfig` checks ([`wslconfig`]).
//! Records go out as JSON lines or a text checklist ([`report`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use day2_core::bounded::{self, DAY, HOUR};
use day2_core::human::{self, HumanArgs};
use day2_core::progress::Progress;
use day2_core::{cli, exit::after_help, Exit, Io, Record};

pub mod compose;
pub mod ladder;
pub mod recover;
pub mod remedy;
pub mod report;
pub mod resources;
pub mod size;
pub mod stack;
pub mod wslconfig;

use ladder::ApiVersion;
use remedy::Platform;
use report::{Format, Report};

/// The name stamped on every record this tool writes.
pub const TOOL: &str = "docker-doctor";

/// A step's or query's deadline: from 1 ms to an hour.
const STEP: bounded::DurationRange = bounded::duration(Duration::from_millis(1), HOUR);
/// A wait between re-probes: from 0 to an hour.
const PAUSE: bounded::DurationRange = bounded::duration(Duration::ZERO, HOUR);
/// A size threshold: from 0 to 1024 TiB.
const SIZE: bounded::SizeRange = bounded::size(0, 1 << 50);

/// A group of checks, for `--checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Check {
    /// The daemon ladder: endpoint, /_ping, /version, container list, /info.
    Probe,
    /// The compose project's services: present, running, healthy, restarts, OOM.
    Stack,
    /// Disk use, memory of the stack's containers, OLLAMA_KEEP_ALIVE.
    Resources,
    /// The `[wsl2]` budget in the file given with --wslconfig.
    Wslconfig,
}

/// The examples of `--help` and the man page (the README's).
const EXAMPLES: &[&str] = &[
    "docker-doctor   # probe, the compose project here, resources",
    "docker-doctor --checks probe --format text   # just the ladder, for a person",
    "docker-doctor --expect ollama,backend,nginx,cloudflared --wslconfig /mnt/c/Users/me/.wslconfig",
    "docker-doctor --recover   # prints the platform's restart commands",
    "docker-doctor --recover --yes --attempts 3   # runs them, re-probes with backoff",
];

/// Probe the Docker daemon without ever hanging, check a compose stack's health and
/// resources, and recover a dead daemon within bounds.
///
/// The probe is a ladder (endpoint reachable, /_ping, /version, container list,
/// /info), each step with its own deadline inside a hard overall deadline; a failure
/// is classified (no_such_socket, permission_denied, connection_refused, hung,
/// bad_docker_host, unsupported_endpoint, api_too_old, garbage_response, http_error)
/// and comes with remediation for the platform. Stack and resource checks run only
/// when the ladder passes.
#[derive(Debug, clap::Parser)]
#[command(name = TOOL, version, after_help = after_help(EXAMPLES))]
pub struct Args {
    /// The daemon endpoint: unix:///path/to/docker.sock or tcp://host:port.
    #[arg(long, env = "DOCKER_HOST", default_value = day2_docker::host::DEFAULT_UNIX, value_name = "URL")]
    pub host: String,

    /// Set (to anything non-empty) when the tcp endpoint needs TLS, as for the docker CLI.
    #[arg(long, env = "DOCKER_TLS_VERIFY", hide = true)]
    pub tls_verify: Option<String>,

    /// Which checks to run (comma-separated). Default: probe,stack,resources, plus
    /// wslconfig when --wslconfig is given. stack and resources run the probe first.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub checks: Vec<Check>,

    /// Deadline of each ladder step.
    #[arg(long, default_value = "3s", value_parser = STEP, value_name = "DURATION")]
    pub step_timeout: Duration,

    /// Hard deadline of the whole ladder.
    #[arg(long, default_value = "10s", value_parser = STEP, value_name = "DURATION")]
    pub deadline: Duration,

    /// The oldest Engine API accepted (1.41 = Docker 20.10, the first with one-shot stats).
    #[arg(long, default_value = "1.41", value_parser = ladder::parse_api, value_name = "VERSION")]
    pub min_api: ApiVersion,

    /// The platform the remediation and restart commands are written for.
    #[arg(long, value_enum, default_value = "auto")]
    pub platform: Platform,

    /// The compose project (its containers carry com.docker.compose.project=NAME).
    /// Default: the one `docker compose` uses here: the `name:` of the compose file
    /// in this directory or the nearest parent, else that directory's name.
    #[arg(
        long,
        env = "COMPOSE_PROJECT_NAME",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub project: Option<String>,

    /// Services that must exist (comma-separated), e.g. ollama,backend,nginx,cloudflared.
    /// Without it, the services are those found on the project's containers.
    #[arg(long, value_delimiter = ',', value_name = "SERVICES")]
    pub expect: Vec<String>,

    /// One-shot helper services: exited with code 0 is their success.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "ollama-init,warmup",
        value_name = "SERVICES"
    )]
    pub one_shot: Vec<String>,

    /// Fail when the daemon's disk use (images, containers, volumes, build cache) exceeds this.
    #[arg(long, default_value = "150GB", value_parser = SIZE, value_name = "SIZE")]
    pub disk_limit: u64,

    /// Deadline of the disk-use query (/system/df sizes every volume, which takes time).
    #[arg(long, default_value = "30s", value_parser = STEP, value_name = "DURATION")]
    pub df_timeout: Duration,

    /// Warn when a container uses at least this percentage of its memory limit.
    #[arg(long, default_value_t = 90.0, value_parser = bounded::number("a percentage", 0.0, 100.0), value_name = "PERCENT")]
    pub mem_warn_percent: f64,

    /// The service whose OLLAMA_KEEP_ALIVE is explained.
    #[arg(long, default_value = "ollama", value_name = "SERVICE")]
    pub ollama_service: String,

    /// Warn when OLLAMA_KEEP_ALIVE holds a model in RAM longer than this (negative = forever always warns).
    #[arg(long, default_value = "1h", value_parser = bounded::duration(Duration::ZERO, 3650 * DAY), value_name = "DURATION")]
    pub keep_alive_warn: Duration,

    /// A .wslconfig file whose [wsl2] memory, processors and swap are checked.
    #[arg(long, value_name = "PATH")]
    pub wslconfig: Option<PathBuf>,

    /// Minimum [wsl2] memory.
    #[arg(long, default_value = "8GB", value_parser = SIZE, value_name = "SIZE")]
    pub wsl_min_memory: u64,

    /// Minimum [wsl2] processors.
    #[arg(long, default_value_t = 2, value_parser = bounded::count::<u64>(0, 1024), value_name = "N")]
    pub wsl_min_processors: u64,

    /// Minimum [wsl2] swap.
    #[arg(long, default_value = "1GB", value_parser = SIZE, value_name = "SIZE")]
    pub wsl_min_swap: u64,

    /// When the probe fails, print the platform's exact daemon restart commands.
    #[arg(long)]
    pub recover: bool,

    /// With --recover: run the restart commands, then re-probe with backoff.
    #[arg(long, requires = "recover")]
    pub yes: bool,

    /// With --recover: a shell command (sh -c) to run instead of the platform's.
    #[arg(long, requires = "recover", value_name = "COMMAND")]
    pub restart_cmd: Option<String>,

    /// Restart attempts before giving up.
    #[arg(long, default_value_t = 3, value_parser = bounded::count::<u32>(1, 20), value_name = "N")]
    pub attempts: u32,

    /// Re-probes after each successful restart command.
    #[arg(long, default_value_t = 5, value_parser = bounded::count::<u32>(1, 50), value_name = "N")]
    pub reprobes: u32,

    /// Wait before the first re-probe; doubled each time up to --max-backoff.
    #[arg(long, default_value = "1s", value_parser = PAUSE, value_name = "DURATION")]
    pub backoff: Duration,

    /// The longest wait between re-probes.
    #[arg(long, default_value = "15s", value_parser = PAUSE, value_name = "DURATION")]
    pub max_backoff: Duration,

    /// Kill a restart command that runs longer than this.
    #[arg(long, default_value = "120s", value_parser = bounded::duration(Duration::from_millis(1), DAY), value_name = "DURATION")]
    pub restart_timeout: Duration,

    /// json: one record per line; text: a PASS/FAIL/SKIP checklist for a terminal.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,

    #[command(flatten)]
    pub human: HumanArgs,
}

/// Runs the tool with the given arguments (the first is the program name).
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> Exit {
    let args: Args = match cli::parse_args(args, io) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    let options = human::Options::new(args.format, &args.human);
    human::report(TOOL, options, io, |io| run_parsed(&args, io))
}

fn run_parsed(args: &Args, io: &mut Io<'_>) -> Exit {
    let mut checks = args.checks.clone();
    if checks.is_empty() {
        checks = vec![Check::Probe, Check::Stack, Check::Resources];
        if args.wslconfig.is_some() {
            checks.push(Check::Wslconfig);
        }
    }
    // Input first: a .wslconfig WSL cannot decode ends the run before any probing.
    let wsl = match (checks.contains(&Check::Wslconfig), &args.wslconfig) {
        (false, _) => None,
        (true, None) => {
            io.error(TOOL, "--checks wslconfig needs --wslconfig PATH");
            return Exit::Usage;
        }
        (true, Some(path)) => match wslconfig::read(path) {
            Ok(text) => Some((path.clone(), wslconfig::parse(&text))),
            Err(message) => {
                io.error(TOOL, message);
                return Exit::Usage;
            }
        },
    };
    let project = if checks.contains(&Check::Stack) || checks.contains(&Check::Resources) {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        match compose::resolve(args.project.as_deref(), &cwd, &|name| {
            std::env::var(name).ok()
        }) {
            Ok(project) => project,
            Err(message) => {
                io.error(TOOL, message);
                return Exit::Usage;
            }
        }
    } else {
        None
    };
    let mut report = Report::new(&mut *io.stdout);
    let daemon_checks = [Check::Probe, Check::Stack, Check::Resources];
    if checks.iter().any(|c| daemon_checks.contains(c)) || args.recover {
        // A closed stdout ends the run; the exit code says success then.
        if daemon(args, &checks, project.as_ref(), &mut report).is_err() {
            return report.exit();
        }
    }
    if let Some((path, parsed)) = wsl {
        let min = wslconfig::Thresholds {
            memory: args.wsl_min_memory,
            processors: args.wsl_min_processors,
            swap: args.wsl_min_swap,
        };
        let _ = report.emit_all(wslconfig::check(&path, &parsed, min));
    }
    report.exit()
}

/// The ladder, recovery, then stack and resources while the daemon answers.
fn daemon(
    args: &Args,
    checks: &[Check],
    project: Option<&compose::Project>,
    report: &mut Report<'_>,
) -> Result<(), day2_core::Closed> {
    // An empty DOCKER_HOST means "unset" to the docker CLI; the same here.
    let host = match args.host.trim() {
        "" => day2_docker::host::DEFAULT_UNIX.to_owned(),
        _ => args.host.clone(),
    };
    let settings = ladder::Settings {
        host,
        tls_verify: args.tls_verify.as_deref().is_some_and(|v| !v.is_empty()),
        step_timeout: args.step_timeout,
        deadline: args.deadline,
        min_api: args.min_api,
        platform: args.platform,
    };
    let before = report.outcome();
    let waiting = Progress::wait(
        format!("probing the Docker daemon at {}", settings.host),
        Some(args.deadline),
    );
    let mut outcome = ladder::run(&settings);
    drop(waiting);
    report.emit_all(outcome.records.drain(..))?;
    if args.recover {
        let recovery = recover::Settings {
            yes: args.yes,
            restart_cmd: args.restart_cmd.clone(),
            attempts: args.attempts,
            reprobes: args.reprobes,
            backoff: args.backoff,
            max_backoff: args.max_backoff,
            restart_timeout: args.restart_timeout,
        };
        let _waiting = Progress::wait("recovering the Docker daemon", None);
        if let Some(recovered) = recover::run(&outcome, &settings, &recovery, report)? {
            // The daemon is back: the first probe's failure no longer decides the exit.
            report.restore(before);
            outcome = recovered;
        }
    }
    let stack_wanted = checks.contains(&Check::Stack);
    let resources_wanted = checks.contains(&Check::Resources);
    if !stack_wanted && !resources_wanted {
        return Ok(());
    }
    let (Some(endpoint), Some(api), true) =
        (outcome.endpoint.clone(), outcome.api, outcome.passed())
    else {
        let why = "not run: the daemon probe failed";
        if stack_wanted {
            let target = project.map(|p| p.name.as_str()).unwrap_or("");
            report.emit(Record::info("stack", target, "skipped").message(why))?;
        }
        if resources_wanted {
            report.emit(Record::info("resources", &settings.host, "skipped").message(why))?;
        }
        return Ok(());
    };
    stack_and_resources(
        args,
        &endpoint,
        api,
        project,
        (stack_wanted, resources_wanted),
        report,
    )
}

fn stack_and_resources(
    args: &Args,
    endpoint: &day2_docker::Endpoint,
    api: ApiVersion,
    project: Option<&compose::Project>,
    (stack_wanted, resources_wanted): (bool, bool),
    report: &mut Report<'_>,
) -> Result<(), day2_core::Closed> {
    let target = project.map(|p| p.name.clone()).unwrap_or_default();
    // The API version negotiated from the ladder's `/version` answer (no second
    // round trip). Note: bollard 0.21.1 builds its URLs with `Url::join` on an
    // absolute path, which drops the `/vX.Y` prefix, so its requests are unversioned
    // and the daemon answers them in its own current version.
    let client_api = ladder::negotiated(api);
    let client_api = Some((client_api.major, client_api.minor));
    let engine = match day2_docker::Engine::new(endpoint, client_api, args.step_timeout) {
        Ok(engine) => engine,
        Err(problem) => return report.emit(problem.into_record("stack", &target)),
    };
    let docker = engine.docker();
    engine.block_on(async {
        let Some(project) = project else {
            // Compose itself finds no project here ("no configuration file provided").
            // The default run skips the stack check then; a stack check the user asked
            // for by name has checked nothing, which is no pass (issue 18).
            if stack_wanted {
                let here = std::env::current_dir().unwrap_or_default();
                let target = here.display().to_string();
                let why = format!(
                    "no compose file in {} or its parents, and no --project or COMPOSE_PROJECT_NAME",
                    here.display()
                );
                let record = if args.checks.contains(&Check::Stack) {
                    Record::error("stack", &target, "no_project").message(format!(
                        "--checks stack has no project to check: {why} (run it in the project's \
                         directory, or give --project)"
                    ))
                } else {
                    Record::info("stack", &target, "no_project").message(format!("skipped: {why}"))
                };
                report.emit(record.data(serde_json::json!({"directory": here})))?;
            }
            if resources_wanted {
                report.emit(disk(endpoint, api, args))?;
            }
            return Ok(());
        };
        let settings = stack::Settings {
            project: project.name.clone(),
            source: project.source.kind(),
            source_file: project.source.file().map(Path::to_path_buf),
            expect: args.expect.clone(),
            one_shot: args.one_shot.clone(),
            timeout: args.step_timeout,
        };
        let members = match stack::check(docker, &settings).await {
            Ok(found) => {
                if stack_wanted {
                    report.emit_all(found.records)?;
                }
                Some(found.members)
            }
            Err(problem) => {
                report.emit(problem.into_record("stack", &target))?;
                None
            }
        };
        if !resources_wanted {
            return Ok(());
        }
        report.emit(disk(endpoint, api, args))?;
        if let Some(members) = members {
            let waiting = Progress::wait(
                format!("reading the memory use of {} container(s)", members.len()),
                None,
            );
            let memory =
                resources::memory(docker, &members, args.mem_warn_percent, args.step_timeout)
                    .await;
            drop(waiting);
            report.emit_all(memory)?;
            report.emit(resources::keep_alive_record(
                &members,
                &args.ollama_service,
                args.keep_alive_warn,
            ))?;
        }
        Ok(())
    })
}

/// The disk-use record, with a progress line while the daemon sizes everything.
fn disk(endpoint: &day2_docker::Endpoint, api: ApiVersion, args: &Args) -> Record {
    let _waiting = Progress::wait(
        "asking the daemon for its disk use (/system/df sizes every volume)",
        Some(args.df_timeout),
    );
    resources::disk(endpoint, api, args.disk_limit, args.df_timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argument_definitions_are_consistent() {
        <Args as clap::CommandFactory>::command().debug_assert();
    }
}
