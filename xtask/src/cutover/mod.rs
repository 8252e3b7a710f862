//! `cargo xtask cutover`: the guide's six-step legacy-endpoint cutover as gates.
//!
//! Each step produces a `cutover.<step>` record with a verdict and its evidence; the
//! records of the tools a step runs are passed through unchanged before it, so the
//! output is the same stream a person would get by running the tools by hand. The
//! steps that inspect things no tool looks at (the nginx configuration, the
//! repository, the changelog, the CI workflow files) live in the modules beside this
//! one.

pub mod changelog;
pub mod nginx;
pub mod readers;
mod report;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use day2_core::duration::parse_duration;
use day2_core::record::{Record, RecordSink, Verdict};
use day2_core::{Exit, Io};
use serde_json::{json, Value};

use crate::tools::{invoke, ToolRun};

/// Which half of the playbook to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Phase {
    /// Before the deploy: observe, guard, remove, integrity, changelog.
    Pre,
    /// After the deploy: verify.
    Post,
    /// All six steps.
    All,
}

/// The six steps of the guide's playbook, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Step {
    /// Zero legacy hits for the required span, from access logs (or a bounded live sample).
    Observe,
    /// The CI legacy guard is on in the workflows, and the gate passes now.
    Guard,
    /// The nginx configuration answers the legacy path with 404/410; nothing else reads it.
    Remove,
    /// sri-check over the manifest and the HTML.
    Integrity,
    /// A changelog entry for the removal.
    Changelog,
    /// After deploy: only `api` sampled, legacy gone, probes green, build.sha as released.
    Verify,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Observe,
        Step::Guard,
        Step::Remove,
        Step::Integrity,
        Step::Changelog,
        Step::Verify,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Observe => "observe",
            Step::Guard => "guard",
            Step::Remove => "remove",
            Step::Integrity => "integrity",
            Step::Changelog => "changelog",
            Step::Verify => "verify",
        }
    }

    fn in_phase(self, phase: Phase) -> bool {
        match phase {
            Phase::All => true,
            Phase::Pre => self != Step::Verify,
            Phase::Post => self == Step::Verify,
        }
    }

    /// What the step checks, for the dry run and the report.
    fn plan(self, args: &CutoverArgs) -> String {
        match self {
            Step::Observe if args.access_logs.is_empty() => format!(
                "no access logs given: a bounded live sample of {} requests to {} (not a {} measurement)",
                args.live_samples,
                args.summary_url(),
                humantime::format_duration(args.quiet_for)
            ),
            Step::Observe => format!(
                "no legacy hit within the last {} in {} access log(s), which must cover that span",
                humantime::format_duration(args.quiet_for),
                args.access_logs.len()
            ),
            Step::Guard => format!(
                "FAIL_ON_LEGACY=true in {} workflow file(s); legacy gate over {} live samples of {}",
                args.workflows.len(),
                args.live_samples,
                args.summary_url()
            ),
            Step::Remove => format!(
                "nginx config {} answers {} with 404/410 and does not proxy it; no reader of it under {}",
                args.nginx_conf.as_deref().map_or("(none given)".into(), |p| p.display().to_string()),
                args.legacy_prefix,
                args.repo.display()
            ),
            Step::Integrity => format!(
                "sri-check verify of {} and the integrity attributes of {} HTML page(s)",
                args.manifest.as_deref().map_or("(none given)".into(), |p| p.display().to_string()),
                args.html.len()
            ),
            Step::Changelog => format!(
                "{} has a removal entry under [Unreleased]{}",
                args.changelog.display(),
                args.release.as_deref().map(|r| format!(" or [{r}]")).unwrap_or_default()
            ),
            Step::Verify => format!(
                "{} live samples of {} are all api; {}{} answers 404/410; status-probe green{}",
                args.live_samples,
                args.summary_url(),
                args.url,
                args.legacy_path,
                args.expect_sha.as_deref().map(|s| format!("; build.sha = {s}")).unwrap_or_default()
            ),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CutoverArgs {
    /// Which half of the playbook to run.
    #[arg(long, value_enum, default_value = "all")]
    pub phase: Phase,
    /// Run only this step.
    #[arg(long, value_enum)]
    pub only: Option<Step>,
    /// Say what each step would check, and check nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write a Markdown report of the run to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Base URL of the stack (the nginx edge).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Path of the status summary.
    #[arg(long, default_value = "/api/status/summary", value_name = "PATH")]
    pub summary_path: String,
    /// Path of the legacy summary.
    #[arg(long, default_value = "/status/summary", value_name = "PATH")]
    pub legacy_path: String,
    /// The legacy location's prefix.
    #[arg(long, default_value = "/status/", value_name = "PREFIX")]
    pub legacy_prefix: String,
    /// The api location's prefix.
    #[arg(long, default_value = "/api/status/", value_name = "PREFIX")]
    pub api_prefix: String,
    /// nginx access log to observe (repeatable; plain, rotated or .gz).
    #[arg(long = "access-log", value_name = "FILE")]
    pub access_logs: Vec<PathBuf>,
    /// A custom nginx log_format of the access logs.
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// How long the legacy path must have been quiet.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub quiet_for: Duration,
    /// Requests of a live sample (observe without logs, guard, verify).
    #[arg(long, default_value_t = 30)]
    pub live_samples: u32,
    /// CI workflow file that must set FAIL_ON_LEGACY=true (repeatable).
    #[arg(long = "workflow", value_name = "FILE")]
    pub workflows: Vec<PathBuf>,
    /// nginx configuration to be deployed: a file, or the output of `nginx -T`.
    #[arg(long, value_name = "FILE")]
    pub nginx_conf: Option<PathBuf>,
    /// Write the patch that retires the legacy location with `return 410;`.
    #[arg(long, value_name = "FILE", requires = "nginx_conf")]
    pub write_patch: Option<PathBuf>,
    /// Repository searched for remaining readers of the legacy path.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo: PathBuf,
    /// The SRI manifest.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// HTML page whose integrity attributes are checked (repeatable).
    #[arg(long, value_name = "FILE")]
    pub html: Vec<PathBuf>,
    /// The Keep a Changelog file.
    #[arg(long, default_value = "docs/CHANGELOG.md", value_name = "FILE")]
    pub changelog: PathBuf,
    /// The release being cut, e.g. v1.4.0.
    #[arg(long, value_name = "VERSION")]
    pub release: Option<String>,
    /// The build.sha the deployed stack must report.
    #[arg(long, value_name = "SHA")]
    pub expect_sha: Option<String>,
}

impl CutoverArgs {
    fn summary_url(&self) -> String {
        format!("{}{}", self.url.trim_end_matches('/'), self.summary_path)
    }

    fn selected(&self) -> Vec<Step> {
        match self.only {
            Some(step) => vec![step],
            None => Step::ALL
                .into_iter()
                .filter(|s| s.in_phase(self.phase))
                .collect(),
        }
    }
}

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
    } else if failed.is_empty() {
        Record::pass("cutover.verdict", &args.url).message("every gate passed")
    } else {
        Record::fail("cutover.verdict", &args.url, "gates_failed").message(format!("failed gates: {}", failed.join(", ")))
    }
    .data(json!({ "steps": outcomes.iter().map(|o| o.step.name()).collect::<Vec<_>>(), "failed": failed }));
    if sink.emit(final_record.clone()).is_err() {
        return sink.exit();
    }
    let exit = sink.exit();
    if let Some(path) = &args.report {
        let text = report::markdown(args, &outcomes, &final_record);
        if let Err(err) = std::fs::write(path, text) {
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
        Step::Observe => observe(args),
        Step::Guard => guard(args),
        Step::Remove => remove(args),
        Step::Integrity => integrity(args),
        Step::Changelog => changelog_step(args),
        Step::Verify => verify(args),
    }
}

fn read_input(path: &Path, what: &str) -> Result<String, Finding> {
    std::fs::read_to_string(path).map_err(|err| {
        Finding::fail(
            "input_unreadable",
            format!("cannot read the {what} {}: {err}", path.display()),
            json!({"path": path}),
        )
    })
}

fn observe(args: &CutoverArgs) -> Finding {
    if args.access_logs.is_empty() {
        return observe_live(args);
    }
    let span = humantime::format_duration(args.quiet_for).to_string();
    let mut sampler_args: Vec<String> = Vec::new();
    for log in &args.access_logs {
        sampler_args.extend(["--log".into(), log.display().to_string()]);
    }
    sampler_args.extend(["--quiet-for".into(), span.replace(' ', "")]);
    sampler_args.extend(["--legacy-prefix".into(), args.legacy_prefix.clone()]);
    sampler_args.extend(["--api-prefix".into(), args.api_prefix.clone()]);
    if let Some(format) = &args.log_format {
        sampler_args.extend(["--log-format".into(), format.clone()]);
    }
    let run = invoke_owned("legacy-sampler", legacy_sampler::run, &sampler_args);
    let Some(summary) = run.last("summary") else {
        return tool_failed(run);
    };
    // The callers of the legacy path are the external monitors the guide asks to find.
    let monitors = json!({
        "clients": summary.get("legacy_clients").cloned().unwrap_or(json!([])),
        "user_agents": summary.get("legacy_user_agents").cloned().unwrap_or(json!([])),
    });
    let data = json!({
        "legacy": summary.get("legacy"),
        "last_legacy": summary.get("last_legacy"),
        "coverage": summary.get("coverage"),
        "monitors_still_reading_legacy": monitors,
    });
    let message = summary.message.clone().unwrap_or_default();
    let reason = summary
        .reason
        .clone()
        .unwrap_or_else(|| "observe_failed".into());
    let finding = match run.exit {
        Exit::Ok => Finding::pass(format!("no legacy hit in the last {span}: {message}"), data),
        Exit::Usage => return tool_failed(run),
        _ => Finding::fail(&reason, message, data),
    };
    finding.with_evidence(run)
}

/// Without access logs only a live sample is possible; it shows what the clients'
/// URL serves now, not who else reads the legacy path, and the step says so.
fn observe_live(args: &CutoverArgs) -> Finding {
    let samples = args.live_samples.to_string();
    let url = args.summary_url();
    let run = invoke(
        "legacy-sampler",
        legacy_sampler::run,
        &["--samples", "off", "-n", &samples, &url],
        b"",
    );
    let Some(summary) = run.last("summary") else {
        return tool_failed(run);
    };
    let legacy = summary.get("legacy").and_then(Value::as_u64).unwrap_or(0);
    let limits = format!(
        "a live sample of {samples} requests to {url}: it shows what that URL serves now, not who else reads {}, and it is not a {} measurement (give --access-log for that)",
        args.legacy_prefix,
        humantime::format_duration(args.quiet_for)
    );
    let data = json!({ "limits": limits, "values": summary.get("values"), "legacy": legacy });
    let finding = match run.exit {
        Exit::Ok if legacy == 0 => Finding::warn(
            "live_sample_only",
            format!("0 legacy answers; {limits}"),
            data,
        ),
        Exit::Usage => return tool_failed(run),
        _ => Finding::fail(
            "legacy_seen",
            format!("{legacy} legacy answer(s); {limits}"),
            data,
        ),
    };
    finding.with_evidence(run)
}

/// How a workflow file sets the CI legacy guard.
#[derive(Debug, PartialEq)]
enum GuardSetting {
    On {
        line: usize,
    },
    Off {
        line: usize,
        value: String,
    },
    /// Set from a variable or expression the file cannot tell the value of.
    Indirect {
        line: usize,
        value: String,
    },
    Absent,
}

/// Finds `FAIL_ON_LEGACY: true` (YAML env) or `FAIL_ON_LEGACY=true` (shell) in a
/// workflow; the last setting wins, as it would in the environment. Values mean what
/// legacy-sampler reads them as ([`legacy_sampler::parse_fail_on_legacy`]).
fn guard_setting(text: &str) -> GuardSetting {
    let mut setting = GuardSetting::Absent;
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let code = line.split(" #").next().unwrap_or(line);
        let Some(at) = code.find("FAIL_ON_LEGACY") else {
            continue;
        };
        let rest = code[at + "FAIL_ON_LEGACY".len()..].trim_start();
        let Some(value) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('=')) else {
            continue;
        };
        let value = value
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_matches(['"', '\''])
            .to_owned();
        let line = index + 1;
        setting = if legacy_sampler::parse_fail_on_legacy(&value) == Ok(true) {
            GuardSetting::On { line }
        } else if value.contains('$') {
            GuardSetting::Indirect { line, value }
        } else {
            GuardSetting::Off { line, value }
        };
    }
    setting
}

fn guard(args: &CutoverArgs) -> Finding {
    if args.workflows.is_empty() {
        return Finding::fail(
            "input_missing",
            "no --workflow given: the CI guard cannot be checked",
            json!({}),
        );
    }
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for path in &args.workflows {
        let text = match read_input(path, "workflow") {
            Ok(text) => text,
            Err(finding) => return finding,
        };
        let shown = path.display();
        match guard_setting(&text) {
            GuardSetting::On { line } => {
                files.push(json!({"file": path, "line": line, "setting": "true"}))
            }
            GuardSetting::Off { line, value } => {
                problems.push(format!("{shown}:{line} sets FAIL_ON_LEGACY={value}"))
            }
            GuardSetting::Indirect { line, value } => problems.push(format!(
                "{shown}:{line} sets FAIL_ON_LEGACY from {value}, which cannot be verified here"
            )),
            GuardSetting::Absent => problems.push(format!("{shown} does not set FAIL_ON_LEGACY")),
        }
    }
    let samples = args.live_samples.to_string();
    let url = args.summary_url();
    let gate = invoke(
        "legacy-sampler",
        legacy_sampler::run,
        &["--fail-on-legacy", "--samples", "off", "-n", &samples, &url],
        b"",
    );
    let gate_ok = gate.exit == Exit::Ok;
    if !gate_ok {
        let why = gate
            .last("summary")
            .and_then(|r| r.message.clone())
            .unwrap_or_else(|| gate.stderr.trim().to_owned());
        problems.push(format!("the legacy gate fails against {url} now: {why}"));
    }
    let data = json!({ "workflows": files, "gate_passed": gate_ok });
    let finding = if problems.is_empty() {
        Finding::pass(
            format!("FAIL_ON_LEGACY=true in every workflow, and the gate passes against {url}"),
            data,
        )
    } else if files.len() < args.workflows.len() {
        Finding::fail("guard_off", problems.join("; "), data)
    } else {
        Finding::fail("legacy_gate_fails", problems.join("; "), data)
    };
    finding.with_evidence(gate)
}

fn integrity(args: &CutoverArgs) -> Finding {
    if args.manifest.is_none() && args.html.is_empty() {
        return Finding::fail(
            "input_missing",
            "neither --manifest nor --html given: integrity cannot be checked",
            json!({}),
        );
    }
    let mut finding = Finding::pass("", json!({}));
    let mut notes = Vec::new();
    let mut failed = Vec::new();
    let mut runs = Vec::new();
    if let Some(manifest) = &args.manifest {
        let run = invoke_owned(
            "sri-check",
            sri_check::run,
            &[
                "verify".into(),
                "--manifest".into(),
                manifest.display().to_string(),
            ],
        );
        let label = format!("manifest {}", manifest.display());
        if run.exit == Exit::Ok {
            notes.push(label)
        } else {
            failed.push((label, run.exit))
        }
        runs.push(run);
    }
    if !args.html.is_empty() {
        let mut html_args: Vec<String> = vec!["html".into()];
        html_args.extend(args.html.iter().map(|p| p.display().to_string()));
        if let Some(manifest) = &args.manifest {
            let root = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
            html_args.extend([
                "--manifest".into(),
                manifest.display().to_string(),
                "--root".into(),
                root.display().to_string(),
            ]);
        }
        let run = invoke_owned("sri-check", sri_check::run, &html_args);
        let label = format!("{} HTML page(s)", args.html.len());
        if run.exit == Exit::Ok {
            notes.push(label)
        } else {
            failed.push((label, run.exit))
        }
        runs.push(run);
    }
    if failed.is_empty() {
        finding.message = format!("clean: {}", notes.join(", "));
    } else {
        let reason = if failed.iter().any(|(_, exit)| *exit == Exit::Usage) {
            "integrity_unreadable"
        } else {
            "integrity_drift"
        };
        let failing: Vec<String> = runs
            .iter()
            .flat_map(|run| run.records.iter())
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
            .map(|r| format!("{} {}", r.target, r.reason.as_deref().unwrap_or("")))
            .collect();
        let names: Vec<&str> = failed.iter().map(|(label, _)| label.as_str()).collect();
        finding = Finding::fail(
            reason,
            format!("{}: {}", names.join(", "), failing.join("; ")),
            json!({ "failing": failing }),
        );
    }
    for run in runs {
        finding = finding.with_evidence(run);
    }
    finding
}

fn verify(args: &CutoverArgs) -> Finding {
    let mut problems: Vec<(&str, String)> = Vec::new();
    let url = args.summary_url();
    let samples = args.live_samples.to_string();
    let sampled = invoke(
        "legacy-sampler",
        legacy_sampler::run,
        &["--samples", "off", "-n", &samples, &url],
        b"",
    );
    let values = sampled
        .last("summary")
        .and_then(|r| r.get("values").cloned())
        .unwrap_or(json!({}));
    let only_api = values
        .as_object()
        .is_some_and(|v| !v.is_empty() && v.iter().all(|(k, n)| k == "api" || n == 0));
    if !only_api {
        problems.push((
            "not_only_api",
            format!("sampled {url}: {values}, not only api"),
        ));
    }
    let legacy = invoke(
        "status-probe",
        status_probe::run,
        &[
            "--url",
            &args.url,
            "--legacy-path",
            &args.legacy_path,
            "--legacy-expect",
            "gone",
            "legacy",
        ],
        b"",
    );
    if legacy.exit != Exit::Ok {
        let record = legacy.last("legacy");
        let reason = record
            .and_then(|r| r.reason.clone())
            .unwrap_or_else(|| "legacy_check_failed".into());
        let trap = reason == "legacy_spa_fallback";
        problems.push((
            if trap {
                "legacy_spa_fallback"
            } else {
                "legacy_not_gone"
            },
            format!("{}{}: {reason}", args.url, args.legacy_path),
        ));
    }
    let mut probe_args = vec![
        "--url",
        args.url.as_str(),
        "--summary-path",
        args.summary_path.as_str(),
    ];
    let sha_source = match (&args.expect_sha, &args.release) {
        (Some(_), _) => None,
        (None, Some(_)) => Some(args.changelog.display().to_string()),
        (None, None) => None,
    };
    if let Some(changelog) = &sha_source {
        probe_args.extend(["--changelog", changelog.as_str()]);
    }
    probe_args.extend(["ready", "deps", "summary"]);
    let probe = invoke("status-probe", status_probe::run, &probe_args, b"");
    if probe.exit != Exit::Ok {
        let failing: Vec<String> = probe
            .records
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
            .map(|r| format!("{} {}", r.check, r.reason.as_deref().unwrap_or("")))
            .collect();
        problems.push(("status_probe_red", failing.join(", ")));
    }
    let deployed = probe.last("summary").and_then(|r| {
        r.get("build_sha")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    match (&args.expect_sha, &args.release) {
        (Some(expected), _) => {
            let matches = deployed.as_deref().is_some_and(|sha| {
                sha != "local"
                    && !sha.is_empty()
                    && (sha.starts_with(expected.as_str()) || expected.starts_with(sha))
            });
            if !matches {
                problems.push((
                    "build_sha_mismatch",
                    format!("build.sha is {deployed:?}, expected {expected}"),
                ));
            }
        }
        (None, Some(release)) => {
            let found = probe
                .last("freshness")
                .and_then(|r| r.get("release").and_then(Value::as_str).map(str::to_owned));
            let same = found
                .as_deref()
                .is_some_and(|r| r.trim_start_matches('v') == release.trim_start_matches('v'));
            if !same {
                problems.push((
                    "build_sha_mismatch",
                    format!("build.sha {deployed:?} is release {found:?}, expected {release}"),
                ));
            }
        }
        (None, None) => problems.push((
            "input_missing",
            "neither --expect-sha nor --release: build.sha cannot be matched".into(),
        )),
    }
    let data = json!({ "sampled_values": values, "build_sha": deployed });
    let finding = match problems.first() {
        None => Finding::pass(
            format!(
                "only api sampled, {} gone, probes green, build.sha {}",
                args.legacy_path,
                deployed.unwrap_or_default()
            ),
            data,
        ),
        Some((reason, _)) => {
            let all: Vec<String> = problems.iter().map(|(_, m)| m.clone()).collect();
            Finding::fail(reason, all.join("; "), data)
        }
    };
    finding
        .with_evidence(sampled)
        .with_evidence(legacy)
        .with_evidence(probe)
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

fn remove(args: &CutoverArgs) -> Finding {
    let Some(conf_path) = &args.nginx_conf else {
        return Finding::fail(
            "input_missing",
            "no --nginx-conf given: the removal cannot be checked",
            json!({}),
        );
    };
    let text = match read_input(conf_path, "nginx configuration") {
        Ok(text) => text,
        Err(finding) => return finding,
    };
    let config = match nginx::parse(&text) {
        Ok(config) => config,
        Err(err) => {
            return Finding::fail(
                "nginx_conf_invalid",
                format!("{}:{}: {}", conf_path.display(), err.line, err.message),
                json!({"path": conf_path, "line": err.line}),
            )
        }
    };
    let handling = nginx::legacy_handling(&config, &args.legacy_prefix);
    let mut data = json!({ "nginx_conf": conf_path, "legacy_prefix": args.legacy_prefix });
    if let Some(patch_path) = &args.write_patch {
        let name = conf_path
            .file_name()
            .map_or("nginx.conf".into(), |n| n.to_string_lossy().into_owned());
        match nginx::retire_patch(&name, &text, &config, &args.legacy_prefix) {
            Some(patch) => match std::fs::write(patch_path, patch) {
                Ok(()) => data["patch"] = json!(patch_path),
                Err(err) => {
                    return Finding::fail(
                        "patch_unwritable",
                        format!("cannot write {}: {err}", patch_path.display()),
                        data,
                    )
                }
            },
            None => data["patch"] = json!(null),
        }
    }
    let readers = match readers::find_readers(&args.repo, &args.legacy_prefix, &args.api_prefix) {
        Ok(readers) => readers,
        Err(err) => {
            return Finding::fail(
                "repo_unreadable",
                format!("cannot search {}: {err}", args.repo.display()),
                data,
            )
        }
    };
    data["readers"] = readers
        .iter()
        .map(|r| json!({"path": r.path, "line": r.line, "text": r.text}))
        .collect();
    let location = |line: usize| format!("{}:{line}", conf_path.display());
    let config_finding = match handling {
        nginx::LegacyHandling::Retired { status, line } => {
            data["legacy_answer"] = json!(status);
            Ok(format!("{} answers {status} ({})", args.legacy_prefix, location(line)))
        }
        nginx::LegacyHandling::NotRouted => {
            data["legacy_answer"] = json!(404);
            Ok(format!("{} is not routed: nginx answers 404", args.legacy_prefix))
        }
        nginx::LegacyHandling::Proxied { line } => Err((
            "legacy_still_proxied",
            format!("location {} still proxies to the backend ({}); --write-patch retires it", args.legacy_prefix, location(line)),
        )),
        nginx::LegacyHandling::SpaFallback { line } => Err((
            "spa_fallback",
            format!(
                "no location for {} and the SPA catch-all ({}) will answer 200 text/html: add `location {} {{ return 410; }}`",
                args.legacy_prefix,
                location(line),
                args.legacy_prefix
            ),
        )),
        nginx::LegacyHandling::Other { line } => Err((
            "legacy_not_retired",
            format!("location {} neither proxies nor answers 404/410 ({})", args.legacy_prefix, location(line)),
        )),
    };
    match (config_finding, readers.is_empty()) {
        (Err((reason, message)), _) => Finding::fail(reason, message, data),
        (Ok(message), true) => Finding::pass(message, data),
        (Ok(message), false) => Finding::fail(
            "legacy_readers_remain",
            format!(
                "{message}, but {} place(s) still read it: {}",
                readers.len(),
                readers
                    .iter()
                    .map(|r| format!("{}:{}", r.path.display(), r.line))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            data,
        ),
    }
}

fn changelog_step(args: &CutoverArgs) -> Finding {
    let text = match read_input(&args.changelog, "changelog") {
        Ok(text) => text,
        Err(finding) => return finding,
    };
    match changelog::find_removal_entry(&text, &args.legacy_prefix, args.release.as_deref()) {
        Some(entry) => Finding::pass(
            format!(
                "{}:{} under {}: {}",
                args.changelog.display(),
                entry.line,
                entry.section,
                entry.text
            ),
            json!({"file": args.changelog, "line": entry.line, "section": entry.section, "entry": entry.text}),
        ),
        None => Finding::fail(
            "changelog_entry_missing",
            format!(
                "{} has no entry for the removal of {} under [Unreleased]{}",
                args.changelog.display(),
                args.legacy_prefix,
                args.release
                    .as_deref()
                    .map(|r| format!(" or [{r}]"))
                    .unwrap_or_default()
            ),
            json!({"file": args.changelog}),
        ),
    }
}
