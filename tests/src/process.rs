//! Running a binary under test: stdin fed and both pipes drained on their own
//! threads (a chatty child never blocks on a full pipe), and a deadline after which
//! the child is killed and the test fails, so no test can hang.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a finished run produced.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

/// Runs `command` with `stdin`, failing the test if it runs longer than `limit`.
pub fn run_bounded(command: Command, stdin: &[u8], limit: Duration) -> Finished {
    run(command, Input::Bytes(stdin.to_vec()), limit)
}

/// Runs `command` reading `stdin` (a file such as `/dev/zero`, or `Stdio::null()`),
/// failing the test if it runs longer than `limit`.
pub fn run_bounded_from(command: Command, stdin: Stdio, limit: Duration) -> Finished {
    run(command, Input::From(stdin), limit)
}

/// Runs `program` with `args` in `dir` with `env` added and nothing on stdin,
/// bounded to 60 s.
pub fn run_in(program: impl AsRef<OsStr>, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Text {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied());
    run_bounded(command, b"", Duration::from_secs(60)).text()
}

enum Input {
    Bytes(Vec<u8>),
    From(Stdio),
}

fn run(mut command: Command, stdin: Input, limit: Duration) -> Finished {
    let started = Instant::now();
    let described = format!("{command:?}");
    let (stdin, bytes) = match stdin {
        Input::Bytes(bytes) => (Stdio::piped(), Some(bytes)),
        Input::From(stdio) => (stdio, None),
    };
    let mut child = command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {described}: {e}"));
    let feeder = bytes.map(|bytes| {
        let mut input = child.stdin.take().expect("stdin");
        std::thread::spawn(move || {
            let _ = input.write_all(&bytes);
        })
    });
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = started + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{described} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    Finished {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        elapsed: started.elapsed(),
    }
}

impl Finished {
    /// The run as text (invalid UTF-8 replaced), for assertions and their messages.
    pub fn text(&self) -> Text {
        Text {
            code: self.status.code(),
            stdout: String::from_utf8_lossy(&self.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&self.stderr).into_owned(),
        }
    }
}

/// A finished run as text: the exit code (`None` when killed by a signal) and
/// both streams.
#[derive(Debug, Clone)]
pub struct Text {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Text {
    /// stdout's JSON lines, one record each; a line that is not JSON fails the test.
    pub fn records(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// Fails the test unless the real `promtool check metrics` accepts `exposition`.
pub fn promtool_check_metrics(exposition: &str) {
    let mut command = Command::new(crate::require::program("promtool", "prometheus"));
    command.args(["check", "metrics"]);
    let run = run_bounded(command, exposition.as_bytes(), Duration::from_secs(30));
    assert!(
        run.status.success(),
        "promtool check metrics refused the output:\n{}{}\n{exposition}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
