//! What the cutover runs: its phases, its six steps and what each checks, and its
//! arguments.

use std::path::PathBuf;
use std::time::Duration;

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

    pub(super) fn in_phase(self, phase: Phase) -> bool {
        match phase {
            Phase::All => true,
            Phase::Pre => self != Step::Verify,
            Phase::Post => self == Step::Verify,
        }
    }

    /// What the step checks, for the dry run and the report.
    pub(super) fn plan(self, args: &CutoverArgs) -> String {
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
    pub(super) fn summary_url(&self) -> String {
        format!("{}{}", self.url.trim_end_matches('/'), self.summary_path)
    }

    pub(super) fn selected(&self) -> Vec<Step> {
        match self.only {
            Some(step) => vec![step],
            None => Step::ALL
                .into_iter()
                .filter(|s| s.in_phase(self.phase))
                .collect(),
        }
    }
}
