//! Child processes with a deadline, run one way: [`run_bounded`].
//!
//! Invariants, for every tool, the xtask and the tests:
//! - every child has a deadline; past it the child is killed and reaped (no zombie)
//!   and the run is one [`Problem`] with reason [`TIMEOUT`];
//! - stdin is fed on its own thread while stdout and stderr are drained on theirs,
//!   so no child blocks on a full pipe however much it reads or writes;
//! - what is kept of each stream is capped ([`Bounded::output_cap`]); the rest is
//!   read and dropped, so the child still never blocks;
//! - a child that cannot be started is one [`Problem`] with reason
//!   [`SPAWN_FAILED`] (or [`PROGRAM_NOT_FOUND`] when the program is not there).
//!
//! The wait itself is `wait-timeout`'s (a SIGCHLD wait with a deadline), not a
//! poll loop.

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use crate::duration::words;
use crate::Problem;

/// The reason of a run killed at its deadline.
pub const TIMEOUT: &str = "timeout";
/// The reason of a child that could not be started.
pub const SPAWN_FAILED: &str = "spawn_failed";
/// The reason of a child whose program does not exist (`ENOENT` on spawn).
pub const PROGRAM_NOT_FOUND: &str = "program_not_found";

/// What each stream keeps by default: 64 MiB.
pub const DEFAULT_OUTPUT_CAP: usize = 64 << 20;

/// How long the readers may take after the child has exited: a background process
/// the child left behind can hold a pipe open, and the run does not wait for it.
const AFTER_EXIT: Duration = Duration::from_secs(1);

/// What the child reads on stdin.
#[derive(Debug)]
pub enum Input {
    /// Nothing: `/dev/null`.
    Null,
    /// These bytes, written on a thread while the output is read, then end of file.
    Bytes(Vec<u8>),
    /// A file or another process's pipe (e.g. `/dev/zero` opened by the caller).
    From(Stdio),
}

/// A run's settings: its deadline (required), stdin and the output cap.
#[derive(Debug)]
pub struct Bounded {
    deadline: Duration,
    input: Input,
    output_cap: usize,
}

impl Bounded {
    /// A run killed after `deadline` (wall-clock from the spawn), with nothing on
    /// stdin and [`DEFAULT_OUTPUT_CAP`] bytes kept of each stream.
    pub fn new(deadline: Duration) -> Bounded {
        Bounded {
            deadline,
            input: Input::Null,
            output_cap: DEFAULT_OUTPUT_CAP,
        }
    }

    /// What the child reads on stdin.
    pub fn input(mut self, input: Input) -> Bounded {
        self.input = input;
        self
    }

    /// Bytes on stdin (fed while the output is read).
    pub fn stdin(self, bytes: impl Into<Vec<u8>>) -> Bounded {
        self.input(Input::Bytes(bytes.into()))
    }

    /// How many bytes of each of stdout and stderr are kept; the rest is read and
    /// dropped, and [`Finished::truncated`] says so.
    pub fn output_cap(mut self, bytes: usize) -> Bounded {
        self.output_cap = bytes;
        self
    }

    /// The deadline.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Runs `command` to its end or its deadline; see [`run_bounded`].
    pub fn run(self, command: &mut Command) -> Result<Finished, Problem> {
        run_bounded(command, self)
    }
}

/// A child that ran to an exit (or was ended by a signal) before its deadline.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stdout, up to the cap.
    pub stdout: Vec<u8>,
    /// Its stderr, up to the cap.
    pub stderr: Vec<u8>,
    /// Whether either stream was longer than the cap.
    pub truncated: bool,
    /// Wall-clock time from the spawn to the exit.
    pub elapsed: Duration,
}

impl Finished {
    /// The exit code; `None` when a signal ended the child.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The program's name as a person reads it in a message: `docker compose` for
/// `docker` with first argument `compose`, the program alone otherwise (arguments
/// may carry secrets and are never quoted).
pub fn program_name(command: &Command) -> String {
    let program = command.get_program().to_string_lossy().into_owned();
    match command.get_args().next().and_then(|a| a.to_str()) {
        Some(sub)
            if !sub.starts_with('-')
                && sub.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                && !sub.is_empty() =>
        {
            format!("{program} {sub}")
        }
        _ => program,
    }
}

/// Runs `command` with the settings of `bounded`: stdin fed on a thread, stdout and
/// stderr drained on threads (each kept up to the cap), the child killed and reaped
/// at the deadline. `command`'s own stdin/stdout/stderr settings are replaced.
///
/// Errors: a [`Problem`] with reason [`TIMEOUT`] ("`docker compose` did not finish
/// within 2m and was killed"), [`PROGRAM_NOT_FOUND`] or [`SPAWN_FAILED`]
/// ("cannot run `nginx`: …"). A non-zero exit is not an error: it is in
/// [`Finished::status`].
pub fn run_bounded(command: &mut Command, bounded: Bounded) -> Result<Finished, Problem> {
    let name = program_name(command);
    let Bounded {
        deadline,
        input,
        output_cap,
    } = bounded;
    let (stdin, bytes) = match input {
        Input::Null => (Stdio::null(), None),
        Input::Bytes(bytes) => (Stdio::piped(), Some(bytes)),
        Input::From(stdio) => (stdio, None),
    };
    let started = Instant::now();
    let mut child = command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| {
            let reason = if err.kind() == std::io::ErrorKind::NotFound {
                PROGRAM_NOT_FOUND
            } else {
                SPAWN_FAILED
            };
            Problem::new(reason, format!("cannot run `{name}`: {err}"))
        })?;
    if let (Some(bytes), Some(mut pipe)) = (bytes, child.stdin.take()) {
        // Not joined: a child that stops reading (or exits) ends the write with
        // EPIPE, and a grandchild holding stdin open must not hold the run.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let (done, finished) = mpsc::channel();
    let stdout = drain(child.stdout.take(), output_cap, done.clone());
    let stderr = drain(child.stderr.take(), output_cap, done);
    let status = wait(&mut child, deadline)
        .map_err(|err| Problem::new(SPAWN_FAILED, format!("cannot wait for `{name}`: {err}")))?;
    let Some(status) = status else {
        return Err(Problem::new(
            TIMEOUT,
            format!(
                "`{name}` did not finish within {} and was killed",
                words(deadline)
            ),
        ));
    };
    let elapsed = started.elapsed();
    let until = Instant::now() + AFTER_EXIT;
    for _ in 0..2 {
        if finished
            .recv_timeout(until.saturating_duration_since(Instant::now()))
            .is_err()
        {
            break;
        }
    }
    let (stdout, cut_out) = take(&stdout);
    let (stderr, cut_err) = take(&stderr);
    Ok(Finished {
        status,
        stdout,
        stderr,
        truncated: cut_out || cut_err,
        elapsed,
    })
}

/// Starts a long-running `command` (a server) and waits until `ready()` says it
/// serves, asking every 20 ms, for `deadline` at most. stdin and stdout are
/// `/dev/null`, stderr is kept for the error. The child is the caller's to kill and
/// reap once started.
///
/// Errors: a child that exits before it is ready, [`SPAWN_FAILED`] quoting its
/// stderr; one that is not ready by the deadline is killed and reaped, [`TIMEOUT`];
/// and a failed spawn as in [`run_bounded`].
pub fn start_ready(
    command: &mut Command,
    deadline: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result<Child, Problem> {
    const ASK_EVERY: Duration = Duration::from_millis(20);
    let name = program_name(command);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| Problem::new(SPAWN_FAILED, format!("cannot run `{name}`: {err}")))?;
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        // The wait is the pause between two questions, and notices an early exit.
        match child.wait_timeout(ASK_EVERY) {
            Ok(Some(status)) => {
                let mut said = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = stderr.read_to_string(&mut said);
                }
                return Err(Problem::new(
                    SPAWN_FAILED,
                    format!("`{name}` exited ({status}): {}", said.trim()),
                ));
            }
            Ok(None) if ready() => return Ok(child),
            Ok(None) => {}
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Problem::new(
                    SPAWN_FAILED,
                    format!("cannot wait for `{name}`: {err}"),
                ));
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(Problem::new(
        TIMEOUT,
        format!("`{name}` was not ready within {}", words(deadline)),
    ))
}

/// Waits for `child` until `deadline`; past it kills and reaps it (`Ok(None)`).
fn wait(child: &mut Child, deadline: Duration) -> std::io::Result<Option<ExitStatus>> {
    match child.wait_timeout(deadline) {
        Ok(Some(status)) => Ok(Some(status)),
        Ok(None) => {
            let _ = child.kill();
            child.wait()?;
            Ok(None)
        }
        Err(err) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(err)
        }
    }
}

/// What a reader thread has read so far: the kept bytes and whether any were dropped.
type Kept = Arc<Mutex<(Vec<u8>, bool)>>;

/// Reads `pipe` to its end on a thread, keeping `cap` bytes; says `()` on `done`
/// when the pipe is closed.
fn drain(pipe: Option<impl Read + Send + 'static>, cap: usize, done: mpsc::Sender<()>) -> Kept {
    let kept: Kept = Arc::default();
    let Some(mut pipe) = pipe else {
        let _ = done.send(());
        return kept;
    };
    let shared = Arc::clone(&kept);
    std::thread::spawn(move || {
        let mut buf = [0u8; 64 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let mut kept = shared.lock().unwrap_or_else(|e| e.into_inner());
                    let room = cap.saturating_sub(kept.0.len());
                    kept.0.extend_from_slice(&buf[..n.min(room)]);
                    kept.1 |= n > room;
                }
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
    kept
}

fn take(kept: &Kept) -> (Vec<u8>, bool) {
    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
    (std::mem::take(&mut kept.0), kept.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn stdin_is_fed_while_a_large_output_is_read() {
        // 4 MiB through `cat`: far more than a pipe holds in either direction, so a
        // run that wrote all of stdin before reading would deadlock here.
        let input = vec![b'x'; 4 << 20];
        let run = Bounded::new(Duration::from_secs(60))
            .stdin(input.clone())
            .run(&mut Command::new("cat"))
            .expect("cat runs");
        assert!(run.status.success());
        assert_eq!(run.stdout.len(), input.len());
        assert!(!run.truncated);
    }

    #[test]
    fn a_child_past_its_deadline_is_killed_and_said_once() {
        let started = Instant::now();
        let problem = Bounded::new(Duration::from_millis(300))
            .run(&mut sh("sleep 30"))
            .expect_err("killed");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(problem.reason(), TIMEOUT);
        assert_eq!(
            problem.message,
            "`sh` did not finish within 300ms and was killed"
        );
    }

    #[test]
    fn a_missing_program_is_a_problem_naming_it() {
        let problem = Bounded::new(Duration::from_secs(5))
            .run(&mut Command::new("day2-no-such-program"))
            .expect_err("not there");
        assert_eq!(problem.reason(), PROGRAM_NOT_FOUND);
        assert!(
            problem
                .message
                .starts_with("cannot run `day2-no-such-program`: "),
            "{}",
            problem.message
        );
    }

    #[test]
    fn output_past_the_cap_is_dropped_and_said() {
        let run = Bounded::new(Duration::from_secs(60))
            .output_cap(1000)
            .run(&mut sh("head -c 300000 /dev/zero; echo oops >&2"))
            .expect("runs");
        assert_eq!(run.stdout.len(), 1000);
        assert_eq!(run.stderr_text(), "oops\n");
        assert!(run.truncated);
    }

    #[test]
    fn a_background_process_holding_the_pipes_does_not_hold_the_run() {
        let started = Instant::now();
        let run = Bounded::new(Duration::from_secs(30))
            .run(&mut sh("echo done; sleep 20 &"))
            .expect("runs");
        assert_eq!(run.stdout_text(), "done\n");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_server_is_started_when_ready_and_an_early_exit_quotes_its_stderr() {
        let mut asked = 0;
        let mut child = start_ready(&mut sh("sleep 30"), Duration::from_secs(10), || {
            asked += 1;
            asked == 3
        })
        .expect("ready at the third question");
        let _ = child.kill();
        let _ = child.wait();
        let problem = start_ready(
            &mut sh("echo no port >&2; exit 1"),
            Duration::from_secs(10),
            || false,
        )
        .expect_err("exited");
        assert_eq!(problem.reason(), SPAWN_FAILED);
        assert!(
            problem.message.ends_with("exit status: 1): no port"),
            "{}",
            problem.message
        );
        let problem = start_ready(&mut sh("sleep 30"), Duration::from_millis(200), || false)
            .expect_err("never ready");
        assert_eq!(problem.reason(), TIMEOUT);
    }

    #[test]
    fn the_name_in_messages_is_the_program_and_its_subcommand_never_values() {
        let mut compose = Command::new("docker");
        compose.args(["compose", "up", "-d"]);
        assert_eq!(program_name(&compose), "docker compose");
        let mut secret = Command::new("curl");
        secret.args(["-H", "Authorization: x"]);
        assert_eq!(program_name(&secret), "curl");
    }
}
