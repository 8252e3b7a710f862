//! `cargo xtask cutover`: the guide's six-step legacy-endpoint cutover as gates.
//!
//! Each step produces a `cutover.<step>` record with a verdict and its evidence; the
//! records of the tools a step runs are passed through unchanged before it, so the
//! output is the same stream a person would get by running the tools by hand.
//!
//! This module is the orchestrator: it runs the selected steps in order, writes
//! their records and the final `cutover.verdict`, and the report. Each step lives in
//! a file of its own ([`observe`], [`guard`], [`remove`], [`integrity`],
//! [`changelog`], [`verify`]); [`plan`] holds the phases, the steps and the
//! arguments; [`readers`] searches the repository for readers of the legacy path.

pub mod changelog;
mod guard;
mod integrity;
mod observe;
mod plan;
pub mod readers;
mod remove;
mod report;
mod verify;

use std::path::Path;
use std::time::Instant;

use day2_core::record::{Record, RecordSink, Verdict};
use day2_core::{Exit, Io, Problem};
use serde_json::{json, Value};

use crate::tools::{invoke, ToolRun};

pub use plan::{CutoverArgs, Step};

/// The outcome of one step: its own record, and the tool records behind it.
pub struct StepOutcome {
    pub step: Step,
    pub record: Record,
    pub evidence: Vec<Record>,
}

/// What a step concluded, before it becomes a record.
struct Finding {
    verdict: Verdict,
    reason: Option<String>,
    message: String,
    data: Value,
    evidence: Vec<Record>,
}

impl Finding {
    fn pass(message: impl Into<String>, data: Value) -> Finding {
        Finding {
            verdict: Verdict::Pass,
            reason: None,
            message: message.into(),
            data,
            evidence: Vec::new(),
        }
    }

    fn fail(reason: &str, message: impl Into<String>, data: Value) -> Finding {
        Finding::new(Verdict::Fail, reason, message, data)
    }

    fn warn(reason: &str, message: impl Into<String>, data: Value) -> Finding {
        Finding::new(Verdict::Warn, reason, message, data)
    }

    fn new(verdict: Verdict, reason: &str, message: impl Into<String>, data: Value) -> Finding {
        Finding {
            verdict,
            reason: Some(reason.to_owned()),
            message: message.into(),
            data,
            evidence: Vec::new(),
        }
    }

    fn with_evidence(mut self, run: ToolRun) -> Finding {
        self.evidence.extend(run.records);
        self
    }
}

impl From<Problem> for Finding {
    /// A failed step with the problem's reason and message, and no evidence data.
    fn from(problem: Problem) -> Finding {
        Finding::fail(&problem.reason, problem.message, json!({}))
    }
}

pub fn run(args: &CutoverArgs, io: &mut Io<'_>) -> Exit {
    let steps = args.selected();
    let mut sink = RecordSink::new(crate::TOOL, io.stdout);
    let mut outcomes = Vec::new();
    for step in steps {
        let started = Instant::now();
        let target = step.name();
        let check = format!("cutover.{target}");
        let finding = if args.dry_run {
            Finding::new(Verdict::Info, "dry_run", step.plan(args), json!({}))
        } else {
            let _waiting = day2_core::progress::Progress::wait(
                format!("cutover step {}: {}", step.name(), step.plan(args)),
                None,
            );
            run_step(step, args)
        };
        let record = Record::new(&check, target, finding.verdict, finding.reason.as_deref())
            .message(finding.message)
            .data(json!({ "checks": step.plan(args), "evidence": finding.data }))
            .duration(started.elapsed());
        for evidence in &finding.evidence {
            if sink.emit(evidence.clone()).is_err() {
                return sink.exit();
            }
        }
        if sink.emit(record.clone()).is_err() {
            return sink.exit();
        }
        outcomes.push(StepOutcome {
            step,
            record,
            evidence: finding.evidence,
        });
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.record.verdict.exit() != Exit::Ok)
        .map(|o| o.step.name())
        .collect();
    let final_record = if args.dry_run {
        Record::info("cutover.verdict", &args.url, "dry_run").message("dry run: nothing was checked")
    } else if failed.is_empty() && outcomes.iter().all(|o| o.record.verdict == Verdict::Pass) {
        Record::pass("cutover.verdict", &args.url).message("every gate passed")
    } else if failed.is_empty() {
        // A gate that only warned (a live sample instead of logs) gave no answer to
        // its question: the cutover is not proven, never passed (issue 18).
        let open: Vec<&str> = outcomes
            .iter()
            .filter(|o| o.record.verdict != Verdict::Pass)
            .map(|o| o.step.name())
            .collect();
        Record::warn("cutover.verdict", &args.url, "gates_unproven").message(format!("no gate failed, but not proven: {}", open.join(", ")))
    } else {
        Record::fail("cutover.verdict", &args.url, "gates_failed").message(format!("failed gates: {}", failed.join(", ")))
    }
    .data(json!({ "steps": outcomes.iter().map(|o| o.step.name()).collect::<Vec<_>>(), "failed": failed }));
    if sink.emit(final_record.clone()).is_err() {
        return sink.exit();
    }
    let exit = sink.exit();
    if let Some(path) = &args.report {
        // Records are masked as they are written; the report is text of its own.
        let report = report::markdown(args, &outcomes, &final_record);
        let text = day2_core::redact::mask_urls(&report);
        if let Err(err) = std::fs::write(path, text.as_bytes()) {
            io.error(
                crate::TOOL,
                format!("cannot write the report {}: {err}", path.display()),
            );
            return Exit::Usage;
        }
    }
    exit
}

fn run_step(step: Step, args: &CutoverArgs) -> Finding {
    match step {
        Step::Observe => observe::step(args),
        Step::Guard => guard::step(args),
        Step::Remove => remove::step(args),
        Step::Integrity => integrity::step(args),
        Step::Changelog => changelog::step(args),
        Step::Verify => verify::step(args),
    }
}

fn read_input(path: &Path, what: &str) -> Result<String, Finding> {
    // Capped, and read as a stream: FIFOs and `/dev/stdin` work, `/dev/zero` ends.
    day2_core::input::read_text(
        path,
        &format!("the {what}"),
        day2_core::input::DEFAULT_LIMIT,
    )
    .map_err(|err| Finding::fail("input_unreadable", err.message, json!({"path": path})))
}

/// A tool that refused its input or wrote no summary: the step cannot conclude.
fn tool_failed(run: ToolRun) -> Finding {
    Finding::fail(
        "tool_error",
        format!("the tool gave no verdict: {}", run.stderr.trim()),
        json!({}),
    )
    .with_evidence(run)
}

fn invoke_owned(name: &str, tool: crate::tools::ToolMain, args: &[String]) -> ToolRun {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    invoke(name, tool, &args, b"")
}
