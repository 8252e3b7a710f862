//! prune-review: review-first Docker disk hygiene with plans that cannot delete the
//! wrong thing.
//!
//! `review` (the default) classifies every volume and snapshots disk use; `plan`
//! writes the deletion candidates as records a person can edit; `apply` deletes
//! only what a plan lists, re-checking each object just before deleting it;
//! `caches` shows what stopped containers, unused networks, images and the build
//! cache would free; `inspect` looks inside a volume without changing it.
//!
//! Module map: [`engine`] (bollard, blocking facade), [`df`] (both `/system/df`
//! shapes), [`protect`] (protection rules, label filter), [`classify`] (volume
//! classes), [`candidates`] (what a plan proposes), [`plan`] (plan lines),
//! [`apply`] (deletion with re-checks), [`inspect`] (volume contents).

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};
use day2_core::human::{self, Format, HumanArgs};
use day2_core::progress::Progress;
use day2_core::{bounded, cli, exit::after_help, Exit, Io, Problem, Record, RecordSink};
use serde_json::json;

pub mod apply;
pub mod candidates;
pub mod classify;
/// The `/system/df` model (day2-docker's, one for every tool).
pub use day2_docker::df;
pub mod engine;
pub mod inspect;
pub mod plan;
pub mod protect;

use engine::Engine;
use protect::{LabelMatch, Protection};

/// The name stamped on every record this tool writes.
pub const TOOL: &str = "prune-review";

/// When this environment variable is set (non-empty), `apply` refuses to run
/// without `--filter`: test suites and demos set it so that no destructive run can
/// reach objects outside their own label scope.
pub const REQUIRE_FILTER_ENV: &str = "PRUNE_REVIEW_REQUIRE_FILTER";

/// The examples of `--help` and the man pages (the README's).
const EXAMPLES: &[&str] = &[
    "prune-review   # = review: disk snapshot and one record per volume",
    "prune-review plan --include-named --older-than 7d > plan.jsonl   # edit it, then:",
    "prune-review apply --plan plan.jsonl   # asks on a terminal; --yes otherwise",
    "prune-review caches --format text   # what stopped containers, images, build cache would free",
    "prune-review inspect VOLUME --image busybox:1   # contents, read-only; nothing is pulled",
];
const REVIEW_EXAMPLES: &[&str] = &[
    "prune-review review --format text",
    "prune-review review --protect 'pg-*' --protect label:keep",
];
const PLAN_EXAMPLES: &[&str] = &[
    "prune-review plan > plan.jsonl   # orphan anonymous volumes only",
    "prune-review plan --include-named --older-than 7d --caches > plan.jsonl",
];
const APPLY_EXAMPLES: &[&str] = &[
    "prune-review apply --plan plan.jsonl   # asks on a terminal",
    "prune-review plan | prune-review apply --yes --filter label=com.example.scope=ci",
];
const CACHES_EXAMPLES: &[&str] = &["prune-review caches --unused-images"];
const INSPECT_EXAMPLES: &[&str] =
    &["prune-review inspect deploy_ollama-data --image busybox:1 --top 5"];

/// Review-first Docker volume and cache pruning from a plan that cannot delete the
/// wrong thing.
///
/// Without a subcommand it runs `review`: a read-only snapshot of disk use and one
/// record per volume with its class (protected, in_use_running, in_use_stopped,
/// compose_project_gone, orphan_anonymous, orphan_named).
#[derive(Debug, clap::Parser)]
#[command(name = TOOL, version, after_help = after_help(EXAMPLES))]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: Common,

    /// json: one record per line (plans are records too); text: a checklist for a
    /// person, grouped by check.
    #[arg(long, value_enum, default_value = "json", global = true)]
    pub format: Format,

    #[command(flatten)]
    pub human: HumanArgs,
}

/// Options every command takes.
#[derive(Debug, Clone, ClapArgs)]
pub struct Common {
    /// Protect volumes (and cache objects) from any deletion: an exact name, a glob
    /// (`pg-*`), or a label (`label:KEY` or `label:KEY=VALUE`). Repeatable; always in
    /// addition to the defaults `deploy_ollama-data` and `ollama-data`.
    #[arg(long, global = true, value_name = "RULE")]
    pub protect: Vec<String>,
    /// Only consider objects carrying this label (`label=KEY` or `label=KEY=VALUE`).
    /// `apply` enforces it again on every object just before deleting it.
    #[arg(long, global = true, value_name = "label=KEY[=VALUE]")]
    pub filter: Option<String>,
    /// `apply` refuses to run without --filter (test suites and demos set the variable
    /// to anything non-empty, so no destructive run leaves their label scope).
    // The default is the empty value (not SetTrue's "false", which is non-empty).
    #[arg(long, global = true, env = REQUIRE_FILTER_ENV, value_parser = non_empty, action = clap::ArgAction::SetTrue, default_value = "")]
    pub require_filter: bool,
    /// The Docker Engine's endpoint (unix:///path or tcp://host:port), as for the docker
    /// CLI [default: the local socket].
    #[arg(long, global = true, env = "DOCKER_HOST", value_name = "URL")]
    pub host: Option<String>,
    /// Deadline of the whole run: every engine call ends by it, and a stalled engine
    /// is an `engine_timeout` error (exit 1), never a hang. From 1s to 1 day.
    #[arg(long, global = true, default_value = "10m", value_parser = bounded::duration(bounded::SECOND, bounded::DAY), value_name = "DURATION")]
    pub timeout: Duration,
}

/// `PRUNE_REVIEW_REQUIRE_FILTER`: set to anything non-empty turns the guard on.
fn non_empty(value: &str) -> Result<bool, String> {
    Ok(!value.is_empty())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read-only: one record per volume with its class at once, then the disk-use
    /// snapshot and each volume's size when the engine has computed them.
    #[command(after_help = after_help(REVIEW_EXAMPLES))]
    Review(ReviewArgs),
    /// Write deletion candidates as plan lines (JSON records) on stdout.
    #[command(after_help = after_help(PLAN_EXAMPLES))]
    Plan(PlanArgs),
    /// Delete what a plan lists, re-checking each object right before deleting it.
    #[command(after_help = after_help(APPLY_EXAMPLES))]
    Apply(ApplyArgs),
    /// Read-only: what stopped containers, unused networks, images and build cache
    /// would free.
    #[command(after_help = after_help(CACHES_EXAMPLES))]
    Caches(CacheArgs),
    /// Show what is inside a volume (file count, size, largest entries) without
    /// changing it, using a local image.
    #[command(after_help = after_help(INSPECT_EXAMPLES))]
    Inspect(InspectArgs),
}

#[derive(Debug, Clone, Default, ClapArgs)]
pub struct ReviewArgs {
    /// Do not ask the engine for its disk use (`/system/df`, which walks every volume
    /// and container layer and can take tens of seconds): classes only, no `disk` or
    /// `volume.size` records.
    #[arg(long)]
    pub no_sizes: bool,
}

/// Which cache categories to consider.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct CacheArgs {
    /// Count tagged images that no container uses, not only dangling ones.
    #[arg(long)]
    pub unused_images: bool,
}

#[derive(Debug, Clone, ClapArgs)]
pub struct PlanArgs {
    /// Also propose orphan named volumes (default: orphan anonymous only).
    #[arg(long)]
    pub include_named: bool,
    /// Also propose volumes of compose projects whose containers are all gone.
    #[arg(long)]
    pub include_compose: bool,
    /// Only propose objects created longer ago than this (e.g. 7d, 24h).
    #[arg(long, value_parser = bounded::duration(Duration::ZERO, 3650 * bounded::DAY), value_name = "DURATION")]
    pub older_than: Option<Duration>,
    /// Also propose caches: stopped containers, unused networks, dangling images and
    /// (without --filter) the build cache.
    #[arg(long)]
    pub caches: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Debug, Clone, ClapArgs)]
pub struct ApplyArgs {
    /// The plan to apply (default or `-`: stdin).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<std::path::PathBuf>,
    /// Do not ask for confirmation (required without a terminal).
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Clone, ClapArgs)]
pub struct InspectArgs {
    /// The volume to look into.
    pub volume: String,
    /// A local image with `sh`, `find`, `du`, `sort` (e.g. busybox); nothing is pulled.
    #[arg(long, env = "PRUNE_REVIEW_IMAGE", value_name = "IMAGE")]
    pub image: Option<String>,
    /// How many of the largest entries to list (1 to 1000).
    #[arg(long, default_value_t = 10, value_parser = bounded::count::<usize>(1, 1000))]
    pub top: usize,
}

/// What every command runs with once its arguments are valid.
pub struct Context<'s, 'o> {
    pub sink: &'s mut RecordSink<'o>,
    pub engine: Engine,
    pub protection: Protection,
    pub filter: Option<LabelMatch>,
    /// Where a confirmation is read from (only when `interactive`).
    pub stdin: &'o mut dyn BufRead,
    /// Human messages: progress, the confirmation prompt, errors.
    pub stderr: &'o mut dyn Write,
    pub interactive: bool,
}

/// Runs the tool with the given arguments (the first is the program name).
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> Exit {
    let args: Args = match cli::parse_args(args, io) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    let options = human::Options::new(args.format, &args.human);
    human::report(TOOL, options, io, |io| run_parsed(args, io))
}

fn run_parsed(args: Args, io: &mut Io<'_>) -> Exit {
    let protection = match Protection::new(&args.common.protect) {
        Ok(p) => p,
        Err(e) => {
            io.error(TOOL, e);
            return Exit::Usage;
        }
    };
    let filter = match args
        .common
        .filter
        .as_deref()
        .map(protect::parse_filter)
        .transpose()
    {
        Ok(f) => f,
        Err(e) => {
            io.error(TOOL, format!("--filter: {e}"));
            return Exit::Usage;
        }
    };
    let command = args
        .command
        .unwrap_or(Command::Review(ReviewArgs::default()));
    // Everything about the input is checked before the engine is touched.
    let plan_items = match &command {
        Command::Apply(a) => {
            if filter.is_none() && args.common.require_filter {
                io.error(
                    TOOL,
                    format!(
                        "{REQUIRE_FILTER_ENV} is set: refusing to apply without --filter label=..."
                    ),
                );
                return Exit::Usage;
            }
            match apply::read_plan(a, io) {
                Ok(items) => Some(items),
                Err(e) => {
                    io.error(TOOL, e);
                    return Exit::Usage;
                }
            }
        }
        _ => None,
    };
    let Io {
        stdin,
        stdout,
        stderr,
        interactive,
    } = io;
    let mut sink = RecordSink::new(TOOL, *stdout);
    // `--host` (or DOCKER_HOST) parsed once, for bollard and the raw /system/df
    // reader alike.
    let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
    let endpoint = day2_docker::host::parse(args.common.host.as_deref().unwrap_or(""), tls);
    let engine = match endpoint
        .map_err(|p| Problem::new(engine::ENGINE_UNREACHABLE, p.message))
        .and_then(|endpoint| Engine::connect(endpoint, args.common.timeout))
    {
        Ok(engine) => engine,
        Err(problem) => {
            let _ = sink.emit(problem.into_record("engine", "docker"));
            // The record's line on stderr says it (day2-core's human side, masked and
            // escaped there).
            return sink.exit();
        }
    };
    let mut ctx = Context {
        sink: &mut sink,
        engine,
        protection,
        filter,
        stdin: *stdin,
        stderr: *stderr,
        interactive: *interactive,
    };
    let result = match command {
        Command::Review(r) => review(&mut ctx, &r),
        Command::Plan(p) => candidates::plan(&mut ctx, &p),
        Command::Caches(c) => candidates::caches(&mut ctx, &c),
        Command::Apply(a) => apply::apply(&mut ctx, &a, plan_items.unwrap_or_default()),
        Command::Inspect(i) => inspect::inspect(&mut ctx, &i),
    };
    match result {
        Ok(()) | Err(Stop::Closed) => {}
        Err(Stop::Engine(problem)) => {
            let _ = ctx.sink.emit(problem.into_record("engine", "docker"));
        }
        Err(Stop::Usage(e)) => {
            let _ = writeln!(ctx.stderr, "{TOOL}: {}", cli::for_stderr(&e));
            return Exit::Usage;
        }
    }
    sink.exit()
}

/// Why a command ended early.
#[derive(Debug)]
pub enum Stop {
    /// The reader of stdout went away.
    Closed,
    /// An engine call failed; the run reports it as an `engine` error record with
    /// the problem's reason (`engine_error`, `engine_timeout`).
    Engine(Problem),
    /// The request cannot be carried out as given (exit 2).
    Usage(String),
}

impl From<day2_core::record::Closed> for Stop {
    fn from(_: day2_core::record::Closed) -> Stop {
        Stop::Closed
    }
}

/// Emits a `disk` snapshot record; `phase` is `now`, `before` or `after`.
pub fn snapshot(ctx: &mut Context<'_, '_>, phase: &str) -> Result<df::DiskUsage, Stop> {
    let started = std::time::Instant::now();
    let waiting = Progress::wait(SIZING, Some(ctx.engine.time_left()));
    let usage = ctx.engine.disk_usage().map_err(Stop::Engine)?;
    drop(waiting);
    emit_snapshot(ctx, phase, &usage, started.elapsed())?;
    Ok(usage)
}

/// What a progress line says while the engine computes its disk use.
const SIZING: &str = "asking the engine for its disk use (/system/df sizes every volume)";

/// The `disk` record of a snapshot that took `took`.
fn emit_snapshot(
    ctx: &mut Context<'_, '_>,
    phase: &str,
    usage: &df::DiskUsage,
    took: Duration,
) -> Result<(), Stop> {
    let mut data = usage.summary();
    if let Some(obj) = data.as_object_mut() {
        obj.insert("phase".into(), json!(phase));
        obj.insert("api_version".into(), json!(ctx.engine.api_version()));
        obj.insert("reclaimable_bytes".into(), json!(usage.reclaimable_bytes()));
    }
    ctx.sink.emit(
        Record::info("disk", "engine", "snapshot")
            .duration(took)
            .message(
                format!(
                    "disk use ({phase}), /system/df in the {:?} shape",
                    usage.shape
                )
                .to_lowercase(),
            )
            .data(data),
    )?;
    Ok(())
}

/// The review: the engine's `/system/df` (slow: it walks every volume and container
/// layer) is asked on a second connection on its own thread while the volumes and
/// containers are listed, so the `volume` records (classes, holders) come at once;
/// then, when the sizes arrive, the `disk` snapshot and one `volume.size` record per
/// volume, and the `review.summary` last. `--no-sizes` does not ask for them.
fn review(ctx: &mut Context<'_, '_>, args: &ReviewArgs) -> Result<(), Stop> {
    let started = std::time::Instant::now();
    let waiting = (!args.no_sizes).then(|| Progress::wait(SIZING, Some(ctx.engine.time_left())));
    std::thread::scope(|scope| {
        let sizing = (!args.no_sizes).then(|| {
            let engine = ctx.engine.another();
            scope.spawn(move || engine.and_then(|mut engine| engine.disk_usage()))
        });
        let classified = candidates::classify_now(ctx, None)?;
        for c in &classified {
            let message = format!(
                "{} ({} holder(s))",
                c.class.as_str().replace('_', " "),
                c.holders.len()
            );
            ctx.sink.emit(
                Record::info("volume", &c.volume.name, c.class.as_str())
                    .message(message)
                    .data(c.data()),
            )?;
        }
        let usage = match sizing {
            None => None,
            Some(thread) => {
                let usage = thread
                    .join()
                    .unwrap_or_else(|_| {
                        Err(Problem::new(
                            engine::ENGINE_ERROR,
                            "the disk-use query stopped with a panic",
                        ))
                    })
                    .map_err(Stop::Engine)?;
                drop(waiting);
                emit_snapshot(ctx, "now", &usage, started.elapsed())?;
                Some(usage)
            }
        };
        review_sizes(ctx, &classified, usage.as_ref())
    })
}

/// The `volume.size` records (with the sizes) and the `review.summary`.
fn review_sizes(
    ctx: &mut Context<'_, '_>,
    classified: &[classify::Classified],
    usage: Option<&df::DiskUsage>,
) -> Result<(), Stop> {
    let none = df::VolumeUsage::default();
    let size_of = |name: &str| usage.map(|u| u.volume_sizes.get(name).unwrap_or(&none));
    if usage.is_some() {
        for c in classified {
            let size = size_of(&c.volume.name).unwrap_or(&none);
            let message = match size.size_bytes {
                Some(bytes) => bounded::human_size(bytes),
                None => "size unknown (the engine did not compute it)".to_owned(),
            };
            ctx.sink.emit(
                Record::info("volume.size", &c.volume.name, "size")
                    .message(message)
                    .data(json!({
                        "name": c.volume.name,
                        "class": c.class,
                        "size_bytes": size.size_bytes,
                        "ref_count": size.ref_count,
                    })),
            )?;
        }
    }
    let mut counts = serde_json::Map::new();
    let mut bytes = serde_json::Map::new();
    for class in classify::Class::ALL {
        let of_class = classified.iter().filter(|c| c.class == class);
        counts.insert(class.as_str().into(), json!(of_class.clone().count()));
        let sum = usage.map(|_| {
            of_class
                .filter_map(|c| size_of(&c.volume.name).and_then(|s| s.size_bytes))
                .sum::<u64>()
        });
        bytes.insert(class.as_str().into(), json!(sum));
    }
    ctx.sink.emit(
        Record::info("review.summary", "volumes", "counts")
            .message(format!("{} volume(s) reviewed", classified.len()))
            .data(json!({
                "volumes": classified.len(),
                "counts": counts,
                "size_bytes": bytes,
                "filter": ctx.filter.as_ref().map(LabelMatch::filter_value),
            })),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn the_filter_guard_is_off_unless_asked_for() {
        use clap::Parser;
        // The variable is read by clap: here only the flag and the default are tried.
        if std::env::var_os(REQUIRE_FILTER_ENV).is_none() {
            let args = Args::try_parse_from(["prune-review", "apply"]).unwrap();
            assert!(!args.common.require_filter);
        }
        let args = Args::try_parse_from(["prune-review", "apply", "--require-filter"]).unwrap();
        assert!(args.common.require_filter);
    }
}
