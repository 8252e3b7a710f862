//! `cargo xtask start-prod`: the guide's resilient bring-up script, done right.
//!
//! 1. docker-doctor's probe ladder (and its bounded recovery when asked);
//! 2. `docker compose up -d --remove-orphans` for the given files;
//! 3. status-probe's wait for the edge (any 2xx on the edge path);
//! 4. status-probe's wait until truly ready (`ready=true`, `llm.path=primary`), not
//!    the first 200, which nginx's synthetic warming body would give at once;
//! 5. a final record with `llm.path` and model presence.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use day2_core::bounded;
use day2_core::process::{self, Bounded};
use day2_core::record::{Record, RecordSink, Verdict};
use day2_core::{Exit, Io, Problem};
use serde_json::json;
use status_probe::{SummaryView, WaitAttempt};

use crate::tools::{invoke, ToolRun};

#[derive(Debug, clap::Args)]
pub struct StartProdArgs {
    /// Compose file (repeatable, in order, as `docker compose -f`).
    #[arg(short = 'f', long = "file", value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Compose project name (`docker compose -p`).
    #[arg(short = 'p', long, value_name = "NAME")]
    pub project_name: Option<String>,
    /// Base URL of the edge once it is up.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Path that answers 2xx as soon as the edge is up.
    #[arg(long, default_value = "/_up", value_name = "PATH")]
    pub edge_path: String,
    /// Deadline of each wait (edge, then readiness); beyond it, exit 124.
    #[arg(long, default_value = "10m", value_parser = bounded::duration(Duration::ZERO, bounded::MAX_DURATION))]
    pub timeout: Duration,
    /// First interval between polls (it backs off).
    #[arg(long, default_value = "2s", value_parser = bounded::duration(Duration::from_millis(1), bounded::DAY))]
    pub interval: Duration,
    /// How long `llm.path=down` may last before the readiness wait gives up.
    #[arg(long, default_value = "30s", value_parser = bounded::duration(Duration::ZERO, bounded::MAX_DURATION))]
    pub grace: Duration,
    /// Deadline of `docker compose up -d` (pulls and builds included); beyond it
    /// compose is killed, a `start-prod.compose` error record with reason `timeout`
    /// is written and the run exits 124.
    #[arg(long, default_value = "15m", value_name = "DURATION", value_parser = bounded::duration(Duration::from_secs(1), bounded::DAY))]
    pub compose_timeout: Duration,
    /// When the daemon probe fails, run docker-doctor's bounded recovery.
    #[arg(long)]
    pub recover: bool,
}

/// How long `docker compose version` may take to say whether the plugin is there.
const VERSION_DEADLINE: Duration = Duration::from_secs(30);

/// The compose command: the v2 plugin when the docker CLI has it, else v1.
fn compose_command() -> Command {
    let has_plugin = Bounded::new(VERSION_DEADLINE)
        .run(Command::new("docker").args(["compose", "version"]))
        .is_ok_and(|out| out.status.success());
    if has_plugin {
        let mut command = Command::new("docker");
        command.arg("compose");
        command
    } else {
        Command::new("docker-compose")
    }
}

/// Compose output can echo interpolated values; it goes through tunnel-check's
/// redaction before it reaches a record.
fn redacted(text: &str) -> String {
    let (_, stdout, _) = day2_core::cli::run_captured(
        tunnel_check::run,
        &["tunnel-check", "redact"],
        text.as_bytes(),
    );
    String::from_utf8_lossy(&stdout).into_owned()
}

fn tail(text: &str, lines: usize) -> Vec<String> {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

fn compose_up(args: &StartProdArgs) -> Record {
    let started = Instant::now();
    let mut command = compose_command();
    for file in &args.files {
        command.arg("-f").arg(file);
    }
    if let Some(name) = &args.project_name {
        command.args(["-p", name]);
    }
    command.args(["up", "-d", "--remove-orphans"]);
    let target = args
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(",");
    match Bounded::new(args.compose_timeout).run(&mut command) {
        Ok(out) => {
            let output = redacted(&out.stderr_text());
            let data = json!({ "exit_code": out.status.code(), "output_tail": tail(&output, 8) });
            let record = if out.status.success() {
                Record::pass("start-prod.compose", &target)
            } else {
                Record::fail("start-prod.compose", &target, "compose_up_failed")
                    .message(format!("compose up failed ({})", out.status))
            };
            record.data(data).duration(started.elapsed())
        }
        Err(problem) if problem.reason() == process::TIMEOUT => {
            problem.into_record("start-prod.compose", &target)
        }
        Err(problem) => Record::error("start-prod.compose", &target, "compose_unavailable")
            .message(problem.message),
    }
}

fn seconds(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

pub fn run(args: &StartProdArgs, io: &mut Io<'_>) -> Exit {
    let mut sink = RecordSink::new(crate::TOOL, io.stdout);

    let mut doctor_args = vec!["--checks", "probe"];
    if args.recover {
        doctor_args.extend(["--recover", "--yes"]);
    }
    let doctor = invoke("docker-doctor", docker_doctor::run, &doctor_args, b"");
    if !doctor.pass_through(&mut sink) {
        return sink.exit();
    }
    if doctor.exit != Exit::Ok {
        let _ = sink.emit(
            Record::fail("start-prod", &args.url, "docker_unhealthy")
                .message("the Docker daemon probe failed; nothing was started"),
        );
        return sink.exit();
    }

    let waiting = day2_core::progress::Progress::wait(
        "docker compose up -d: creating and starting the stack",
        None,
    );
    let compose = compose_up(args);
    drop(waiting);
    let compose_ok = compose.verdict == Verdict::Pass;
    if compose.reason.as_deref() == Some(process::TIMEOUT) {
        sink.raise(Exit::Timeout);
    }
    if sink.emit(compose).is_err() || !compose_ok {
        return sink.exit();
    }

    let (timeout, interval) = (seconds(args.timeout), seconds(args.interval));
    let common = [
        "--url",
        args.url.as_str(),
        "--timeout",
        timeout.as_str(),
        "--interval",
        interval.as_str(),
    ];
    let mut edge_args = vec![
        "--wait",
        "--until",
        "2xx",
        "--wait-path",
        args.edge_path.as_str(),
    ];
    edge_args.extend(common);
    edge_args.push("summary");
    let edge = invoke("status-probe", status_probe::run, &edge_args, b"");
    // Only the wait matters here: the summary right after the edge comes up is
    // judged by the readiness wait below, not now.
    if !edge.pass_through_matching(&mut sink, |r| r.check.starts_with("wait")) {
        return sink.exit();
    }
    let edge_up = edge
        .records
        .iter()
        .any(|r| r.check == "wait" && r.verdict == Verdict::Pass);
    if !edge_up {
        let _ = sink.emit(
            Record::fail("start-prod", &args.url, "edge_never_up")
                .message("the edge never answered"),
        );
        sink.raise(edge.exit);
        return sink.exit();
    }

    let grace = seconds(args.grace);
    let mut ready_args = vec!["--wait", "--until", "primary", "--grace", grace.as_str()];
    ready_args.extend(common);
    ready_args.push("summary");
    let ready = invoke("status-probe", status_probe::run, &ready_args, b"");
    if !ready.pass_through(&mut sink) {
        return sink.exit();
    }
    // After a failed wait status-probe runs no checks: the last attempt's state is
    // then the best word on the path.
    let (view, attempt) = match read_state(&ready) {
        Ok(read) => read,
        Err(problem) => {
            let _ = sink.emit(problem.into_record("start-prod", &args.url));
            return sink.exit();
        }
    };
    let path = match (&view, attempt) {
        (Some(view), _) => json!(view.path),
        (None, Some(attempt)) => json!(attempt.state),
        (None, None) => json!(null),
    };
    let present = json!(view.and_then(|v| v.model_present));
    let data = json!({ "llm_path": path, "primary_model_present": present });
    let last = if ready.exit == Exit::Ok {
        Record::pass("start-prod", &args.url).message(format!(
            "ready: llm.path={path} primary_model_present={present}"
        ))
    } else {
        sink.raise(ready.exit);
        Record::fail("start-prod", &args.url, "never_ready").message(format!(
            "the stack never became ready: llm.path={path} primary_model_present={present}"
        ))
    };
    let _ = sink.emit(last.data(data));
    // Values from the server's answer: shown with terminal controls escaped.
    let _ = writeln!(
        io.stderr,
        "{}",
        day2_core::cli::for_stderr(&format!("llm.path={path} primary_model_present={present}"))
    );
    sink.exit()
}

/// What status-probe's wait ended with: the summary it read, if any, and its last
/// poll (after a failed wait it runs no checks: the last poll's state is then the
/// best word on the path).
///
/// Errors: a `summary` or `wait.attempt` record that is not status-probe's payload
/// (`unexpected_payload`).
fn read_state(ready: &ToolRun) -> Result<(Option<SummaryView>, Option<WaitAttempt>), Problem> {
    let view = match ready.last("summary") {
        Some(record) => SummaryView::of(record)?,
        None => None,
    };
    let attempt = ready
        .last("wait.attempt")
        .map(Record::payload::<WaitAttempt>)
        .transpose()?;
    Ok((view, attempt))
}
