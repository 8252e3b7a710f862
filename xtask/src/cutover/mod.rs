//! `cargo xtask cutover`: the guide's six-step legacy-endpoint cutover as gates.
//!
//! Each step produces a `cutover.<step>` record with a verdict and its evidence; the
//! records of the tools a step runs are passed through unchanged before it, so the
//! output is the same stream a person would get by running the tools by hand. The
//! steps that inspect things no tool looks at (the nginx configuration, the
//! repository, the changelog, the CI workflow files) live in the modules beside this
//! one.

pub mod changelog;
pub mod readers;
mod report;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use day2_core::record::{Record, RecordSink, Verdict};
use day2_core::{Exit, Io};
use serde_json::{json, Value};

use crate::tools::{invoke, ToolRun};
use xtask::nginx;

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
    /// nginx's location for the legacy path answers 404/410; nothing else reads it.
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
                "no access logs given: a bounded live sample of {} requests to {} (it does not measure the last {})",
                args.live_samples,
                args.summary_url(),
                day2_core::duration::words(args.quiet_for)
            ),
            Step::Observe => format!(
                "no legacy hit within the last {} in {} access log(s), which must cover that span",
                day2_core::duration::words(args.quiet_for),
                args.access_logs.len()
            ),
            Step::Guard => format!(
                "FAIL_ON_LEGACY=true in {} workflow file(s); legacy gate over {} live samples of {}",
                args.workflows.len(),
                args.live_samples,
                args.summary_url()
            ),
            Step::Remove => format!(
                "in nginx config {}, the location nginx selects for {}{} answers 404/410 in every server; no reader of {} under {}",
                args.nginx_conf.as_deref().map_or("(none given)".into(), |p| p.display().to_string()),
                args.legacy_path,
                if args.access_logs.is_empty() { "" } else { " and each legacy path of the access logs" },
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
    #[arg(long, default_value = "24h", value_parser = day2_core::bounded::duration(Duration::ZERO, 3650 * day2_core::bounded::DAY))]
    pub quiet_for: Duration,
    /// Requests of a live sample (observe without logs, guard, verify).
    #[arg(long, default_value_t = 30, value_parser = day2_core::bounded::count::<u32>(1, 1_000_000))]
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
        Step::Observe => observe(args),
        Step::Guard => guard(args),
        Step::Remove => remove(args),
        Step::Integrity => integrity(args),
        Step::Changelog => changelog_step(args),
        Step::Verify => verify(args),
    }
}

fn read_input(path: &Path, what: &str) -> Result<String, Finding> {
    // Capped, and read as a stream: FIFOs and `/dev/stdin` work, `/dev/zero` ends.
    day2_core::input::read_text(
        path,
        &format!("the {what}"),
        day2_core::input::DEFAULT_LIMIT,
    )
    .map_err(|err| Finding::fail("input_unreadable", err, json!({"path": path})))
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
        "a live sample of {samples} requests to {url}: it shows what that URL serves now, not who else reads {}, and it does not measure the last {} (give --access-log for that)",
        args.legacy_prefix,
        day2_core::duration::words(args.quiet_for)
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

/// The legacy URIs nginx is asked about: the legacy path, and every legacy path the
/// access logs show (counted by legacy-sampler), normalised as nginx matches them.
fn legacy_uris(args: &CutoverArgs) -> Result<(Vec<String>, Option<Record>), Finding> {
    let Some(first) = nginx::route::normalize_uri(&args.legacy_path) else {
        return Err(Finding::fail(
            "input_invalid",
            format!(
                "--legacy-path {} is not a path nginx would accept",
                args.legacy_path
            ),
            json!({}),
        ));
    };
    let mut uris = vec![first];
    if args.access_logs.is_empty() {
        return Ok((uris, None));
    }
    let mut sampler_args: Vec<String> = Vec::new();
    for log in &args.access_logs {
        sampler_args.extend(["--log".into(), log.display().to_string()]);
    }
    sampler_args.extend(["--legacy-prefix".into(), args.legacy_prefix.clone()]);
    sampler_args.extend(["--api-prefix".into(), args.api_prefix.clone()]);
    sampler_args.extend(["--top".into(), MOST_LOGGED_URIS.to_string()]);
    if let Some(format) = &args.log_format {
        sampler_args.extend(["--log-format".into(), format.clone()]);
    }
    let run = invoke_owned("legacy-sampler", legacy_sampler::run, &sampler_args);
    let Some(summary) = run.last("summary").cloned() else {
        return Err(tool_failed(run));
    };
    if run.exit == Exit::Usage {
        return Err(tool_failed(run));
    }
    let logged = summary
        .get("legacy_paths")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for entry in logged {
        if let Some(uri) = entry
            .get("path")
            .and_then(Value::as_str)
            .and_then(nginx::route::normalize_uri)
        {
            if !uris.contains(&uri) {
                uris.push(uri);
            }
        }
    }
    Ok((uris, Some(summary)))
}

/// How many distinct legacy paths of the access logs are checked against nginx.
const MOST_LOGGED_URIS: usize = 200;

fn server_json(config: &nginx::Config, server: nginx::Server<'_>) -> Value {
    json!({
        "file": config.files[server.block.file].path,
        "line": server.block.line,
        "listen": server.listen(),
        "server_name": server.server_names(),
    })
}

fn server_label(config: &nginx::Config, server: nginx::Server<'_>) -> String {
    let mut label = format!("the server at {}", config.place(server.block));
    let names = server.server_names();
    if !names.is_empty() {
        label.push_str(&format!(" ({})", names.join(" ")));
    }
    label
}

fn location_json(location: Option<&nginx::route::LocationRef>) -> Value {
    location.map_or(
        Value::Null,
        |l| json!({"name": l.name, "file": l.file, "line": l.line}),
    )
}

/// One sentence on one answer: URI, server, location, outcome, conditions.
fn answer_sentence(uri: &str, server: &str, answer: &nginx::route::Answer) -> String {
    let location = match &answer.location {
        Some(l) => format!("location {} ({}:{})", l.name, l.file, l.line),
        None if answer.server_level => "the server's own rewrite directives".into(),
        None => "no location (the server's own configuration)".into(),
    };
    let mut sentence = format!(
        "{uri} in {server}: {location} → {}",
        answer.outcome.describe()
    );
    if !answer.conditions.is_empty() {
        sentence.push_str(&format!(", when {}", answer.conditions.join(" and ")));
    }
    sentence
}

fn remove(args: &CutoverArgs) -> Finding {
    use nginx::route::Outcome;
    let Some(conf_path) = &args.nginx_conf else {
        return Finding::fail(
            "input_missing",
            "no --nginx-conf given: the removal cannot be checked",
            json!({}),
        );
    };
    let config = match nginx::load(conf_path) {
        Ok(config) => config,
        Err(err) if err.unreadable() => {
            return Finding::fail(
                "input_unreadable",
                format!("cannot read the nginx configuration {err}"),
                json!({"path": conf_path}),
            )
        }
        Err(err) => {
            return Finding::fail(
                "nginx_conf_invalid",
                err.to_string(),
                json!({"path": conf_path, "file": err.file, "line": err.line}),
            )
        }
    };
    let (uris, log_summary) = match legacy_uris(args) {
        Ok(found) => found,
        Err(finding) => return finding,
    };
    let mut answers_json = Vec::new();
    // (rank, reason, sentence): the most serious first.
    let mut problems: Vec<(u8, &str, String)> = Vec::new();
    let mut retired: Vec<String> = Vec::new();
    let mut statuses: Vec<u16> = Vec::new();
    for server in config.servers() {
        let label = server_label(&config, server);
        for uri in &uris {
            for answer in nginx::route::answers(&config, server, uri) {
                answers_json.push(json!({
                    "server": server_json(&config, server),
                    "uri": uri,
                    "location": location_json(answer.location.as_ref()),
                    "answered_by": location_json(answer.answered_by.as_ref()),
                    "outcome": answer.outcome.kind(),
                    "status": answer.outcome.status(),
                    "detail": answer.outcome.describe(),
                    "conditions": answer.conditions,
                    "server_level": answer.server_level,
                }));
                // A server that redirects every request before any location (its
                // `return 301 https://…`) is judged where it sends them.
                if answer.server_level && matches!(answer.outcome, Outcome::Redirect { .. }) {
                    continue;
                }
                let sentence = answer_sentence(uri, &label, &answer);
                if nginx::patch::retires(&answer) {
                    statuses.extend(answer.outcome.status());
                    retired.push(sentence);
                    continue;
                }
                let (rank, reason) = match answer.outcome {
                    Outcome::Proxied { .. } => (0, "legacy_still_proxied"),
                    Outcome::Fallback { .. } => (1, "spa_fallback"),
                    Outcome::Status { .. } | Outcome::Redirect { .. } => (2, "legacy_not_retired"),
                    Outcome::Unknown { .. } => (3, "legacy_answer_unknown"),
                };
                problems.push((rank, reason, sentence));
            }
        }
    }
    if retired.is_empty() && problems.is_empty() {
        problems.push((
            3,
            "legacy_answer_unknown",
            format!(
                "every server of {} redirects {} elsewhere before any location: the server that answers it is not in this configuration",
                conf_path.display(),
                uris.join(", ")
            ),
        ));
    }
    problems.sort_by_key(|(rank, _, _)| *rank);
    statuses.sort_unstable();
    statuses.dedup();
    let mut data = json!({
        "nginx_conf": conf_path,
        "legacy_prefix": args.legacy_prefix,
        "legacy_uris": uris,
        "answers": answers_json,
        "legacy_answer": if problems.is_empty() && statuses.len() == 1 { json!(statuses[0]) } else { Value::Null },
    });
    if !config.notes.is_empty() {
        data["notes"] = json!(config.notes);
    }
    let mut evidence: Vec<Record> = log_summary.into_iter().collect();
    if let Some(patch_path) = &args.write_patch {
        match write_patch(args, conf_path, &config, &uris, patch_path) {
            Ok(files) => {
                data["patch"] = if files.is_empty() {
                    Value::Null
                } else {
                    json!(patch_path)
                };
                data["patch_files"] = json!(files);
            }
            Err((reason, message)) => {
                let mut finding = Finding::fail(reason, message, data);
                finding.evidence.append(&mut evidence);
                return finding;
            }
        }
    }
    let found = match readers::find_readers(&args.repo, &args.legacy_prefix, &args.api_prefix) {
        Ok(found) => found,
        Err(err) => {
            return Finding::fail(
                "repo_unreadable",
                format!("cannot search {}: {err}", args.repo.display()),
                data,
            )
        }
    };
    let (readers, implementers): (Vec<_>, Vec<_>) =
        found.iter().partition(|r| r.role == readers::Role::Reader);
    let listed = |list: &[&readers::Reader]| -> Value {
        list.iter()
            .map(|r| json!({"path": r.path, "line": r.line, "text": r.text, "kind": r.kind}))
            .collect()
    };
    data["readers"] = listed(&readers);
    data["implementers"] = listed(&implementers);
    let implementers_note = if implementers.is_empty() {
        String::new()
    } else {
        format!(
            " ({} place(s) implement or proxy it behind the API and stay: see implementers)",
            implementers.len()
        )
    };
    let mut finding = if let Some((_, reason, _)) = problems.first() {
        let shown: Vec<&str> = problems
            .iter()
            .take(5)
            .map(|(_, _, s)| s.as_str())
            .collect();
        let more = problems.len().saturating_sub(shown.len());
        let mut message = shown.join("; ");
        if more > 0 {
            message.push_str(&format!("; and {more} more (see answers)"));
        }
        if *reason == "legacy_still_proxied" && args.write_patch.is_none() {
            message.push_str("; --write-patch writes the patch that retires it");
        }
        Finding::fail(reason, message, data)
    } else {
        let answered = retired.first().cloned().unwrap_or_default();
        let head = if retired.len() > 1 {
            format!(
                "{answered}; and {} more answer(s) of 404/410",
                retired.len() - 1
            )
        } else {
            answered
        };
        if readers.is_empty() {
            Finding::pass(
                format!(
                    "{head}; no reader of {} remains{implementers_note}",
                    args.legacy_prefix
                ),
                data,
            )
        } else {
            let places: Vec<String> = readers
                .iter()
                .take(10)
                .map(|r| format!("{}:{}", r.path.display(), r.line))
                .collect();
            let more = readers.len().saturating_sub(places.len());
            Finding::fail(
                "legacy_readers_remain",
                format!(
                    "{head}, but {} place(s) still read it: {}{}{implementers_note}",
                    readers.len(),
                    places.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ),
                data,
            )
        }
    };
    finding.evidence.append(&mut evidence);
    finding
}

/// Writes the patch retiring the legacy URIs; the files it changes, named relative to
/// the repository (`--repo`), or a reason and a message.
fn write_patch(
    args: &CutoverArgs,
    conf_path: &Path,
    config: &nginx::Config,
    uris: &[String],
    patch_path: &Path,
) -> Result<Vec<String>, (&'static str, String)> {
    let repo = std::fs::canonicalize(&args.repo).map_err(|err| {
        (
            "repo_unreadable",
            format!("cannot resolve --repo {}: {err}", args.repo.display()),
        )
    })?;
    let relative = |file: &nginx::SourceFile| -> Result<String, String> {
        let absolute = std::fs::canonicalize(&file.path)
            .map_err(|err| format!("cannot resolve {}: {err}", file.path.display()))?;
        let inside = absolute.strip_prefix(&repo).map_err(|_| {
            format!(
                "{} is outside the repository {}: give --repo the repository that holds it",
                file.path.display(),
                args.repo.display()
            )
        })?;
        Ok(inside
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"))
    };
    let reload = |texts: &std::collections::BTreeMap<PathBuf, String>| {
        nginx::load_with(conf_path, texts)
            .map_err(|err| format!("the patched configuration: {err}"))
    };
    let patch = nginx::patch::retire(config, uris, &args.legacy_prefix, &relative, &reload)
        .map_err(|why| ("patch_impossible", why))?;
    let Some(patch) = patch else {
        return Ok(Vec::new());
    };
    // The diff quotes configuration lines; masked, it would not apply, so a patch
    // quoting a credential is not written at all (issue 18: no secret in any file).
    if let Some(place) = secret_in_diff(&patch.diff) {
        return Err((
            "patch_holds_secret",
            format!(
                "the patch would quote a credential ({place}: a URL with a password or a token, or a token): not written; move the secret out of the configuration (an include or an environment file kept out of the repository) or retire the location by hand"
            ),
        ));
    }
    std::fs::write(patch_path, &patch.diff).map_err(|err| {
        (
            "patch_unwritable",
            format!("cannot write {}: {err}", patch_path.display()),
        )
    })?;
    Ok(patch.files)
}

/// Where a unified diff quotes a line the redactors would mask (a URL's password
/// or token, [`day2_core::redact::mask_urls`]; a token's shape, tunnel-check's
/// redactor): `FILE line N` of the file as it is, or `None`.
fn secret_in_diff(diff: &str) -> Option<String> {
    let redactor = tunnel_check::redact::Redactor::default();
    let mut lines = redactor.line_redactor();
    let (mut file, mut line) = (String::new(), 0usize);
    for text in diff.lines() {
        if let Some(name) = text.strip_prefix("--- a/") {
            file = name.to_owned();
            continue;
        }
        if text.starts_with("+++ ") || text.starts_with("diff ") || text.starts_with("--- ") {
            continue;
        }
        if let Some(hunk) = text.strip_prefix("@@ -") {
            // `@@ -START,COUNT +…`: the next old line is START.
            line = hunk
                .split([',', ' '])
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            continue;
        }
        let masked = matches!(
            day2_core::redact::mask_urls(text),
            std::borrow::Cow::Owned(_)
        ) || matches!(lines.redact(text), std::borrow::Cow::Owned(_));
        if masked {
            return Some(format!("{file} line {line}"));
        }
        if !text.starts_with('+') {
            line += 1;
        }
    }
    None
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
