//! Shared test equipment: running the binary and decoding its records, and a fake
//! Docker daemon on a Unix socket that answers well, badly or never.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use day2_core::record::{read_records, Record};
pub use day2_tests::fake_docker::{Answer, Call, FakeEngine};
use day2_tests::process::{assert_envelope, Bin};

pub const BIN: &str = env!("CARGO_BIN_EXE_docker-doctor");

day2_tests::run_type!(Run);

impl Run {
    /// The only record of a check (and target, when given), or a panic showing the run.
    #[track_caller]
    pub fn one(&self, check: &str, target: Option<&str>) -> &Record {
        self.one_of(check, target)
    }

    pub fn all(&self, check: &str) -> Vec<&Record> {
        self.checks(check)
    }

    #[track_caller]
    pub fn reason(&self, check: &str, target: Option<&str>) -> Option<String> {
        self.one(check, target).reason.clone()
    }
}

/// docker-doctor with a clean Docker environment: the compose project is `deploy`
/// (through `COMPOSE_PROJECT_NAME`), so no compose file around the test directory
/// changes the run.
pub fn doctor_bin(args: &[&str]) -> Bin {
    Bin::new(BIN)
        .args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("COMPOSE_FILE")
        .env("COMPOSE_PROJECT_NAME", "deploy")
}

/// Runs docker-doctor with `args`, a clean Docker environment plus `env` (see
/// [`doctor_bin`]).
#[track_caller]
pub fn doctor(args: &[&str], env: &[(&str, &str)]) -> Run {
    finish(doctor_bin(args).envs(env.iter().copied()))
}

/// The longest any run here may take (recovery backs off between re-probes).
const DEADLINE: Duration = Duration::from_secs(120);

/// Runs a prepared command (e.g. under `setpriv`) and decodes its records (stdout
/// that starts with anything but `{` is the text view: no records then).
#[track_caller]
pub fn finish(command: impl Into<Bin>) -> Run {
    let mut run = command.into().deadline(DEADLINE).run();
    if run.stdout.starts_with('{') || run.stdout.is_empty() {
        run.records = read_records(&mut run.raw_stdout.as_slice())
            .unwrap_or_else(|e| panic!("bad record output ({e}):\n{run}"));
        for record in &run.records {
            assert_envelope("docker-doctor", record, &run);
        }
    }
    Run(run)
}

/// How the fake daemon behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers the ladder and the checks like a Docker 20.10 with nothing running.
    Healthy,
    /// Accepts, reads, and never answers.
    Silent,
    /// Answers every request with an SSH banner.
    Garbage,
    /// Speaks API 1.25 (Docker 1.13).
    OldApi,
    /// Fails `/info` with a 500, as a daemon whose `docker info` breaks.
    InfoError,
    /// Passes the ladder, then fails every other call with a 500.
    LaterErrors,
    /// Passes the ladder, then never answers another call.
    LaterSilent,
    /// Passes the ladder, then answers every other call with an unexpected JSON object.
    LaterOdd,
    /// A project `deploy` with one running `ollama` container kept loaded forever
    /// (`OLLAMA_KEEP_ALIVE=-1`), whose stats call fails.
    OneOllama,
    /// Answers `/version` with JSON nested 100,000 levels deep.
    DeepJson,
}

/// The fake daemon: day2-tests' one fake Docker Engine, behaving as a [`Mode`] says.
#[derive(Debug)]
pub struct FakeDaemon(FakeEngine);

impl FakeDaemon {
    pub fn start(mode: Mode) -> FakeDaemon {
        if mode == Mode::Silent {
            return FakeDaemon(FakeEngine::deaf());
        }
        let api = if mode == Mode::OldApi { "1.25" } else { "1.41" };
        FakeDaemon(FakeEngine::start(
            api,
            Arc::new(move |call: &Call| answer(call, mode, api)),
        ))
    }
}

impl std::ops::Deref for FakeDaemon {
    type Target = FakeEngine;

    fn deref(&self) -> &FakeEngine {
        &self.0
    }
}

fn answer(call: &Call, mode: Mode, api: &str) -> Option<Answer> {
    let versioned = |p: &str| format!("/v{api}{p}");
    // The ladder's raw requests; bollard 0.21 sends unversioned paths.
    let ladder = [
        String::from("/_ping"),
        "/version".into(),
        versioned("/containers/json"),
        versioned("/info"),
    ];
    let in_ladder = ladder.contains(&call.path);
    let json = |status: u16, body: &str| Some(Answer::Json(status, body.to_owned()));
    match (mode, call.bare.as_str()) {
        (Mode::Garbage, _) => Some(Answer::Raw(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".to_vec())),
        (Mode::LaterErrors, _) if !in_ladder => json(500, r#"{"message":"fake failure"}"#),
        // Hold the connection open without a word, for longer than any test waits.
        (Mode::LaterSilent, _) if !in_ladder => Some(Answer::Silence(Duration::from_secs(30))),
        (Mode::LaterOdd, _) if !in_ladder => json(200, r#"{"odd":true}"#),
        (Mode::DeepJson, "/version") => Some(Answer::Json(
            200,
            format!(
                r#"{{"ApiVersion":"{api}","Version":{}{}}}"#,
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
        )),
        (Mode::OneOllama, "/containers/json") if !call.query.is_empty() => json(
            200,
            r#"[{"Id":"f00d","Names":["/deploy-ollama-1"],"Labels":{"com.docker.compose.project":"deploy","com.docker.compose.service":"ollama"}}]"#,
        ),
        (Mode::OneOllama, "/containers/f00d/json") => json(
            200,
            r#"{"Id":"f00d","Name":"/deploy-ollama-1","RestartCount":0,"State":{"Status":"running","Running":true,"ExitCode":0},"Config":{"Image":"ollama/ollama","Env":["OLLAMA_KEEP_ALIVE=-1"]}}"#,
        ),
        (Mode::OneOllama, "/containers/f00d/stats") => json(500, r#"{"message":"stats broke"}"#),
        (Mode::InfoError, "/info") => json(500, r#"{"message":"info broke"}"#),
        (_, "/containers/json") => json(200, "[]"),
        (_, "/info") => json(200, r#"{"ServerVersion":"20.10.99-fake","Containers":0}"#),
        (_, "/system/df") => json(
            200,
            r#"{"LayersSize":1024,"Images":[],"Containers":[],"Volumes":[],"BuildCache":[]}"#,
        ),
        _ => None,
    }
}

/// A path inside `dir` as a `unix://` host.
pub fn unix_host(path: &Path) -> String {
    format!("unix://{}", path.display())
}
