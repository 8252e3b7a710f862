//! Shared test equipment: running the binary and decoding its records, and a fake
//! Docker daemon on a Unix socket that answers well, badly or never.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use day2_core::record::{read_records, Record};
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

/// A fake daemon on a Unix socket in its own temp dir. Its thread ends when the
/// value is dropped or after two minutes, whichever is first.
pub struct FakeDaemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    stop: Arc<AtomicBool>,
}

impl FakeDaemon {
    pub fn start(mode: Mode) -> FakeDaemon {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).expect("bind fake daemon");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || serve(listener, mode, &flag));
        FakeDaemon { dir, socket, stop }
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(listener: UnixListener, mode: Mode, stop: &AtomicBool) {
    let until = Instant::now() + Duration::from_secs(120);
    let mut held = Vec::new();
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        match listener.accept() {
            Ok((stream, _)) => {
                if mode == Mode::Silent {
                    held.push(stream);
                } else {
                    std::thread::spawn(move || answer(stream, mode));
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn answer(mut stream: UnixStream, mode: Mode) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&request)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
    let api = if mode == Mode::OldApi { "1.25" } else { "1.41" };
    let versioned = |p: &str| format!("/v{api}{p}");
    let ladder = [
        String::from("/_ping"),
        "/version".into(),
        versioned("/containers/json"),
        versioned("/info"),
    ];
    // bollard 0.21 sends unversioned paths (`Url::join` drops its `/vX.Y` prefix).
    let bare = path.strip_prefix(&versioned("")).unwrap_or(&path);
    let bare = bare.split('?').next().unwrap_or_default();
    let (status, body) = match mode {
        Mode::Garbage => {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
            return;
        }
        Mode::LaterErrors if !ladder.contains(&path) => (500, r#"{"message":"fake failure"}"#.to_owned()),
        Mode::LaterSilent if !ladder.contains(&path) => {
            // Hold the connection open without a word, for longer than any test waits.
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
        Mode::LaterOdd if !ladder.contains(&path) => (200, r#"{"odd":true}"#.to_owned()),
        Mode::DeepJson if bare == "/version" => (
            200,
            format!(
                r#"{{"ApiVersion":"{api}","Version":{}{}}}"#,
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
        ),
        Mode::OneOllama if bare == "/containers/json" && path.contains('?') => (
            200,
            r#"[{"Id":"f00d","Names":["/deploy-ollama-1"],"Labels":{"com.docker.compose.project":"deploy","com.docker.compose.service":"ollama"}}]"#.to_owned(),
        ),
        Mode::OneOllama if bare == "/containers/f00d/json" => (
            200,
            r#"{"Id":"f00d","Name":"/deploy-ollama-1","RestartCount":0,"State":{"Status":"running","Running":true,"ExitCode":0},"Config":{"Image":"ollama/ollama","Env":["OLLAMA_KEEP_ALIVE=-1"]}}"#.to_owned(),
        ),
        Mode::OneOllama if bare == "/containers/f00d/stats" => (500, r#"{"message":"stats broke"}"#.to_owned()),
        Mode::InfoError if bare == "/info" => (500, r#"{"message":"info broke"}"#.to_owned()),
        _ => match bare {
            "/_ping" => (200, "OK".to_owned()),
            "/version" => (
                200,
                format!(r#"{{"Version":"20.10.99-fake","ApiVersion":"{api}","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}}"#),
            ),
            "/containers/json" => (200, "[]".to_owned()),
            "/info" => (200, r#"{"ServerVersion":"20.10.99-fake","Containers":0}"#.to_owned()),
            "/system/df" => (200, r#"{"LayersSize":1024,"Images":[],"Containers":[],"Volumes":[],"BuildCache":[]}"#.to_owned()),
            _ => (404, format!(r#"{{"message":"page not found: {path}"}}"#)),
        },
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nApi-Version: {api}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

/// A path inside `dir` as a `unix://` host.
pub fn unix_host(path: &Path) -> String {
    format!("unix://{}", path.display())
}
