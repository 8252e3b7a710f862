//! Bounded recovery of a daemon the ladder found down: print the platform's exact
//! restart commands (the default), or, with `--yes`, run them, re-probe with
//! backoff, and stop after a fixed number of attempts with a final record. Only the
//! daemon restart command is ever run; no container is touched.

use std::process::Command;
use std::time::{Duration, Instant};

use day2_core::process::Bounded;

use day2_core::{Closed, Record};
use serde_json::json;

use crate::ladder::{self, Outcome};
use crate::remedy::{self, RestartPlan};
use crate::report::Report;
use crate::stack::clip;

/// How much of the restart command's output a record keeps.
const OUTPUT_LIMIT: usize = 2000;
/// How much of each of its streams is read into memory (the record keeps less).
const OUTPUT_CAP: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Run the commands (otherwise only print them).
    pub yes: bool,
    /// A shell command that replaces the platform's restart commands.
    pub restart_cmd: Option<String>,
    pub attempts: u32,
    pub reprobes: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub restart_timeout: Duration,
}

/// Runs recovery after a failed first probe. Returns the passing re-probe when the
/// daemon came back.
pub fn run(
    first: &Outcome,
    probe: &ladder::Settings,
    settings: &Settings,
    report: &mut Report<'_>,
) -> Result<Option<Outcome>, Closed> {
    if first.passed() {
        report.emit(
            Record::info("recover", &probe.host, "not_needed")
                .message("the probe passed; nothing restarted"),
        )?;
        return Ok(None);
    }
    let platform = first.platform;
    let plan = match &settings.restart_cmd {
        Some(cmd) => RestartPlan {
            commands: vec![cmd.clone()],
            shell: "sh -c",
            argv: Some(vec!["sh".into(), "-c".into(), cmd.clone()]),
        },
        None => remedy::restart_plan(platform, remedy::running_as_root()),
    };
    let plan_data = json!({
        "platform": platform.name(),
        "shell": plan.shell,
        "commands": plan.commands,
        "attempts": settings.attempts,
    });
    let Some(argv) = plan.argv.clone().filter(|_| settings.yes) else {
        report.emit(
            Record::info("recover.plan", &probe.host, "dry_run")
                .message(format!("would run in {}; pass --yes to run it", plan.shell))
                .data(plan_data),
        )?;
        if settings.yes {
            report.emit(
                Record::fail("recover", &probe.host, "manual_only")
                    .message(format!(
                        "these commands run in an {} and would end this WSL session (`wsl --shutdown`): run them there",
                        plan.shell
                    ))
                    .data(json!({"platform": platform.name()})),
            )?;
        }
        return Ok(None);
    };
    report.emit(
        Record::info("recover.plan", &probe.host, "running")
            .message(format!(
                "running in {}, at most {} time(s)",
                plan.shell, settings.attempts
            ))
            .data(plan_data),
    )?;
    let shown = plan.commands.join("; ");
    let mut last_failure = first.failure.clone();
    for attempt in 1..=settings.attempts {
        let started = Instant::now();
        let ran = run_command(&argv, settings.restart_timeout);
        let data = json!({"attempt": attempt, "exit_code": ran.code, "output": ran.output});
        let record = match (&ran.problem, ran.code) {
            (None, Some(0)) => Record::pass("recover.attempt", &shown),
            (Some(problem), _) => {
                Record::warn("recover.attempt", &shown, "restart_failed").message(problem.clone())
            }
            (None, code) => {
                Record::warn("recover.attempt", &shown, "restart_failed").message(format!(
                    "the restart command exited with {}",
                    code.map_or("a signal".into(), |c| c.to_string())
                ))
            }
        };
        report.emit(record.data(data).duration(started.elapsed()))?;
        // A failed restart gets one look (the daemon may be back anyway); a
        // successful one gets the full re-probe schedule while the daemon starts.
        let probes = if ran.problem.is_none() && ran.code == Some(0) {
            settings.reprobes
        } else {
            1
        };
        let mut wait = settings.backoff;
        for probe_no in 1..=probes {
            std::thread::sleep(wait);
            wait = (wait * 2).min(settings.max_backoff);
            let outcome = ladder::run(probe);
            let data = json!({"attempt": attempt, "probe": probe_no,
                              "failed_step": outcome.summary().and_then(|r| r.get("failed_step").cloned())});
            let record = match &outcome.failure {
                None => Record::pass("recover.probe", &probe.host),
                Some(failure) => Record::info("recover.probe", &probe.host, &failure.reason)
                    .message(failure.message.clone()),
            };
            report.emit(record.data(data))?;
            if outcome.passed() {
                report.emit(
                    Record::pass("recover", &probe.host)
                        .message(format!(
                            "the daemon answers again after {attempt} restart attempt(s)"
                        ))
                        .data(json!({"attempts": attempt, "platform": platform.name()})),
                )?;
                return Ok(Some(outcome));
            }
            last_failure = outcome.failure;
        }
    }
    let last = last_failure.map_or_else(String::new, |f| {
        format!(": still {} ({})", f.reason, f.message)
    });
    report.emit(
        Record::fail("recover", &probe.host, "gave_up")
            .message(format!(
                "stopped after {} restart attempt(s){last}",
                settings.attempts
            ))
            .data(json!({"attempts": settings.attempts, "platform": platform.name()})),
    )?;
    Ok(None)
}

/// What a restart command did.
struct Ran {
    code: Option<i32>,
    /// Why it did not run to an exit code: spawn failure or timeout.
    problem: Option<String>,
    output: String,
}

/// Runs `argv` with no stdin, capturing its output, killed after `timeout`
/// (day2-core's `run_bounded`: a background process the command leaves behind
/// holding the pipes does not hold the run).
fn run_command(argv: &[String], timeout: Duration) -> Ran {
    let Some((program, args)) = argv.split_first() else {
        return Ran {
            code: None,
            problem: Some("empty restart command".into()),
            output: String::new(),
        };
    };
    let mut command = Command::new(program);
    command.args(args);
    match Bounded::new(timeout)
        .output_cap(OUTPUT_CAP)
        .run(&mut command)
    {
        Ok(done) => {
            let mut output = done.stdout;
            output.extend(done.stderr);
            Ran {
                code: done.status.code(),
                problem: None,
                output: clip(String::from_utf8_lossy(&output).trim(), OUTPUT_LIMIT),
            }
        }
        Err(problem) => Ran {
            code: None,
            problem: Some(problem.message),
            output: String::new(),
        },
    }
}
