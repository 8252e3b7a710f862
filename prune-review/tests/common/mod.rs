//! Test harness: runs the real binary, decodes its records, and keeps every
//! destructive run inside its test scope.
//!
//! The guard is twofold: every spawn sets `PRUNE_REVIEW_REQUIRE_FILTER`, so the
//! binary itself refuses an `apply` without `--filter`; and [`apply`] is the only
//! way these tests call `apply`, always with the scope's label as the filter.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use day2_core::{Record, Verdict};
use day2_tests::docker::TestScope;
use day2_tests::process::Bin;

pub const BIN: &str = env!("CARGO_BIN_EXE_prune-review");

day2_tests::run_type!(Run);

impl Run {
    /// The one record with this check and target.
    #[track_caller]
    pub fn find(&self, check: &str, target: &str) -> &Record {
        self.one_of(check, Some(target))
    }

    /// Reason of the one record with this check and target.
    #[track_caller]
    pub fn reason(&self, check: &str, target: &str) -> String {
        self.find(check, target).reason.clone().unwrap_or_default()
    }

    /// Targets of the `delete` records that passed.
    pub fn deleted(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .checks("delete")
            .into_iter()
            .filter(|r| r.verdict == Verdict::Pass)
            .map(|r| r.target.clone())
            .collect();
        v.sort();
        v
    }
}

/// The command with the guard's environment and no inherited DOCKER_HOST surprises.
/// Only the tests that read records while the tool runs spawn it themselves; every
/// other run goes through [`run_with`].
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("PRUNE_REVIEW_REQUIRE_FILTER", "1")
        .env_remove("PRUNE_REVIEW_IMAGE");
    cmd
}

/// Runs the binary with `stdin` (fed while the records are read, so a plan of any
/// size cannot deadlock the run) within [`DEADLINE`], and decodes its records.
#[track_caller]
pub fn run_with(cmd: impl Into<Bin>, stdin: &str) -> Run {
    run_within(cmd, stdin, DEADLINE)
}

/// [`run_with`] within `deadline`.
#[track_caller]
pub fn run_within(cmd: impl Into<Bin>, stdin: &str, deadline: Duration) -> Run {
    let bin: Bin = cmd.into();
    Run(bin
        .stdin(stdin)
        .deadline(deadline)
        .records_of("prune-review")
        .run())
}

/// The deadline of a run here: the engine tests delete real objects one by one.
pub const DEADLINE: Duration = Duration::from_secs(300);

/// Runs a read-only command (review, plan, caches, inspect).
pub fn run(args: &[&str]) -> Run {
    run_with(command(args), "")
}

/// Runs a read-only command restricted to the scope's label.
pub fn scoped(scope: &TestScope, args: &[&str]) -> Run {
    let filter = format!("label={}", scope.label());
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--filter", filter.as_str()]);
    run(&all)
}

/// The only way tests run `apply`: scoped to the test's label, with `--yes`.
pub fn apply(scope: &TestScope, plan: &str, extra: &[&str]) -> Run {
    let filter = format!("label={}", scope.label());
    let mut args = vec!["apply", "--yes", "--filter", filter.as_str()];
    args.extend(extra);
    assert!(
        args.windows(2)
            .any(|w| w[0] == "--filter" && w[1].contains(&scope.id)),
        "unscoped apply"
    );
    run_with(command(&args), plan)
}

/// Plan records back as the text of a plan file.
pub fn plan_text(run: &Run) -> String {
    run.records
        .iter()
        .map(|r| serde_json::to_string(r).expect("record") + "\n")
        .collect()
}

/// Runs the docker CLI, returning success and stdout.
pub fn docker_ok(args: &[&str]) -> (bool, String) {
    let out = Bin::new("docker")
        .args(args)
        .deadline(Duration::from_secs(120))
        .run();
    (out.status.success(), out.stdout.trim().to_owned())
}

pub fn volume_exists(name: &str) -> bool {
    docker_ok(&["volume", "inspect", name]).0
}

/// A container of the test image in the scope mounting `volumes`, started
/// (sleeping) or only created.
pub fn container(scope: &TestScope, suffix: &str, volumes: &[&str], running: bool) -> String {
    let image = day2_tests::docker::test_image();
    let name = scope.name(suffix);
    let label = scope.label();
    let mut args = vec!["create", "--name", name.as_str(), "--label", label.as_str()];
    let owned: Vec<String> = volumes
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{v}:/m{i}"))
        .collect();
    for m in &owned {
        args.extend(["-v", m.as_str()]);
    }
    args.extend([image, "sleep", "600"]);
    day2_tests::docker::docker(&args);
    if running {
        day2_tests::docker::docker(&["start", &name]);
    }
    name
}

/// An anonymous (64-hex) volume carrying the scope label.
pub fn anonymous_volume(scope: &TestScope) -> String {
    day2_tests::docker::docker_stdout(&["volume", "create", "--label", &scope.label()])
}

/// Removes images carrying the scope label when dropped (TestScope covers
/// containers, volumes and networks only).
pub struct ImageCleanup(pub String);

impl Drop for ImageCleanup {
    fn drop(&mut self) {
        let (_, ids) = docker_ok(&[
            "image",
            "ls",
            "-aq",
            "--filter",
            &format!("label={}", self.0),
        ]);
        for id in ids.lines().collect::<std::collections::BTreeSet<_>>() {
            let _ = Bin::new("docker").args(["rmi", "-f", id]).run();
        }
    }
}

/// Builds an image from a Dockerfile text, labelled with the scope, and returns
/// its id.
pub fn build_image(scope: &TestScope, dockerfile: &str, tag: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("Dockerfile");
    let label = scope.label();
    let context = dir.path().to_str().expect("utf-8");
    let out = Bin::new("docker")
        .args(["build", "-q", "--label", &label, "-t", tag, context])
        .env("DOCKER_BUILDKIT", "0")
        .deadline(Duration::from_secs(300))
        .run();
    out.assert_success();
    out.stdout.trim().to_owned()
}

/// The fake Docker Engine (day2-tests' one): answers `/_ping` and `/version`, and
/// the routes the handler knows. The handler gets method and path without the
/// `/vX.Y` prefix and query, and returns status and JSON body.
#[derive(Debug)]
pub struct FakeEngine(day2_tests::fake_docker::FakeEngine);

pub type Handler = dyn Fn(&str, &str) -> (u16, String) + Send + Sync;

impl FakeEngine {
    pub fn start(api_version: &'static str, handler: Arc<Handler>) -> FakeEngine {
        use day2_tests::fake_docker::{Answer, Call};
        let routes = move |call: &Call| match call.bare.as_str() {
            "/_ping" | "/version" => None,
            bare => {
                let (status, body) = handler(&call.method, bare);
                Some(Answer::Json(status, body))
            }
        };
        FakeEngine(day2_tests::fake_docker::FakeEngine::start(
            api_version,
            Arc::new(routes),
        ))
    }

    /// A command aimed at this engine.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = command(args);
        cmd.env("DOCKER_HOST", self.host());
        cmd
    }
}

impl std::ops::Deref for FakeEngine {
    type Target = day2_tests::fake_docker::FakeEngine;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
