//! The one runner for binaries under test, on [`day2_core::process::run_bounded`]:
//! every run has a deadline (60 s unless the test says otherwise; past it the child
//! is killed and the test fails naming the command), stdin is fed while stdout and
//! stderr are read (a large input never deadlocks against a chatty tool), and the
//! result, [`Run`], carries the exit code, both streams and the decoded records.
//! A failed assertion prints the whole run ([`Run`]'s `Display`: command, exit,
//! stdout, stderr), so a red test says what the tool did.
//!
//! ```no_run
//! use day2_tests::process::Bin;
//! let run = Bin::new("/path/to/sri-check").args(["verify", "site"]).records_of("sri-check").run();
//! run.assert_code(0);
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use day2_core::process::{Bounded, Input};
use day2_core::record::{read_records, Record, Verdict};

/// The deadline of a run unless the test sets one.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// A binary to run under test: the command, its stdin, its deadline, and whether
/// stdout is records to decode.
#[derive(Debug)]
pub struct Bin {
    command: Command,
    input: Input,
    deadline: Duration,
    tool: Option<String>,
}

impl From<Command> for Bin {
    fn from(command: Command) -> Bin {
        Bin {
            command,
            input: Input::Null,
            deadline: DEFAULT_DEADLINE,
            tool: None,
        }
    }
}

impl Bin {
    /// `program` with no arguments, nothing on stdin, [`DEFAULT_DEADLINE`].
    pub fn new(program: impl AsRef<OsStr>) -> Bin {
        Bin::from(Command::new(program))
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Bin {
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Bin
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Bin {
        self.command.env(key, value);
        self
    }

    /// Sets the variables of `env`, in order.
    pub fn envs<I, K, V>(mut self, env: I) -> Bin
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.command.envs(env);
        self
    }

    /// Removes a variable the test process may carry, so each test sets what it means.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Bin {
        self.command.env_remove(key);
        self
    }

    /// The working directory.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Bin {
        self.command.current_dir(dir);
        self
    }

    /// Bytes on stdin, fed while the output is read.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Bin {
        self.input = Input::Bytes(bytes.into());
        self
    }

    /// stdin from a file or a pipe (e.g. `/dev/zero` opened by the test).
    pub fn stdin_from(mut self, stdio: impl Into<Stdio>) -> Bin {
        self.input = Input::From(stdio.into());
        self
    }

    /// The deadline, instead of [`DEFAULT_DEADLINE`].
    pub fn deadline(mut self, deadline: Duration) -> Bin {
        self.deadline = deadline;
        self
    }

    /// stdout is JSON-lines records of `tool`: decode them (a line that is not a
    /// record fails the test) and check the envelope ([`assert_envelope`]).
    pub fn records_of(mut self, tool: &str) -> Bin {
        self.tool = Some(tool.to_owned());
        self
    }

    /// The command, for what the builder does not say (e.g. `pre_exec`).
    pub fn command_mut(&mut self) -> &mut Command {
        &mut self.command
    }

    /// Runs it. A child that cannot start or runs past its deadline fails the test
    /// with the command and the reason.
    #[track_caller]
    pub fn run(mut self) -> Run {
        let described = describe(&self.command);
        let finished = Bounded::new(self.deadline)
            .input(self.input)
            .run(&mut self.command)
            .unwrap_or_else(|problem| panic!("{described}: {problem}"));
        let mut run = Run {
            command: described,
            status: finished.status,
            code: finished.status.code().unwrap_or(-1),
            stdout: finished.stdout_text(),
            stderr: finished.stderr_text(),
            raw_stdout: finished.stdout,
            records: Vec::new(),
            elapsed: finished.elapsed,
        };
        if let Some(tool) = &self.tool {
            run.records = read_records(&mut run.raw_stdout.as_slice())
                .unwrap_or_else(|e| panic!("stdout is not records ({e})\n{run}"));
            for record in &run.records {
                assert_envelope(tool, record, &run);
            }
        }
        run
    }

    /// Runs it and gives the result as a [`std::process::Output`], for tests that
    /// read bytes (still bounded by the deadline).
    #[track_caller]
    pub fn output(self) -> Output {
        let run = self.run();
        Output {
            status: run.status,
            stdout: run.raw_stdout,
            stderr: run.stderr.into_bytes(),
        }
    }
}

/// `program arg arg…` as a person would type it (for messages).
fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

/// A finished run: command, exit, both streams, records (when decoded).
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// The exit status.
    pub status: ExitStatus,
    /// The exit code; -1 when a signal ended the child.
    pub code: i32,
    /// stdout as text (invalid UTF-8 replaced).
    pub stdout: String,
    /// stderr as text (invalid UTF-8 replaced).
    pub stderr: String,
    /// stdout as written.
    pub raw_stdout: Vec<u8>,
    /// stdout's records when [`Bin::records_of`] asked for them.
    pub records: Vec<Record>,
    /// Wall-clock time from spawn to exit.
    pub elapsed: Duration,
}

impl fmt::Display for Run {
    /// The command, its exit and both streams: what a failed assertion shows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {}\nexit {} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.command, self.status, self.elapsed, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// Fails (showing the run) unless it exited with `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "exit code\n{self}");
        self
    }

    /// Fails (showing the run) unless it exited 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Run {
        assert!(self.status.success(), "not a success\n{self}");
        self
    }

    /// Records of a check.
    pub fn checks(&self, check: &str) -> Vec<&Record> {
        self.records.iter().filter(|r| r.check == check).collect()
    }

    /// The one record of `check` (and `target`, when given), or a failure showing the run.
    #[track_caller]
    pub fn one_of(&self, check: &str, target: Option<&str>) -> &Record {
        let found: Vec<&Record> = self
            .records
            .iter()
            .filter(|r| r.check == check && target.is_none_or(|t| r.target == t))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one {check} record for {target:?} expected\n{self}"
        );
        found[0]
    }

    /// stdout's lines as JSON values (for outputs that are JSON but not records).
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{self}")))
            .collect()
    }
}

/// Declares a crate's own run type, `pub struct $name(pub day2_tests::process::Run)`,
/// that reads as the shared [`Run`] (fields and methods through `Deref`) and shows
/// the whole run in `{:?}` and `{}`, so a crate adds only its own finders:
/// `day2_tests::run_type!(Run); impl Run { … }`.
#[macro_export]
macro_rules! run_type {
    ($name:ident) => {
        /// One run of the binary: the shared runner's [`day2_tests::process::Run`]
        /// (exit, streams, records; shown whole when an assertion fails) with this
        /// crate's finders.
        pub struct $name(pub $crate::process::Run);

        impl ::std::ops::Deref for $name {
            type Target = $crate::process::Run;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

/// Fails unless `record` is `tool`'s and keeps the envelope's rules
/// (schema/record.schema.json): a check name `[a-z][a-z0-9_.-]*`, an object `data`,
/// and a non-pass record has a reason `[a-z][a-z0-9_]*`.
#[track_caller]
pub fn assert_envelope(tool: &str, record: &Record, run: &Run) {
    assert_eq!(record.tool, tool, "{record:?}\n{run}");
    let check = record.check.as_bytes();
    assert!(
        check.first().is_some_and(u8::is_ascii_lowercase)
            && check
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(b)),
        "check name {:?}\n{run}",
        record.check
    );
    assert!(record.data.is_object(), "{record:?}\n{run}");
    if record.verdict != Verdict::Pass {
        let reason = record
            .reason
            .as_deref()
            .unwrap_or_else(|| panic!("a non-pass record without a reason: {record:?}\n{run}"));
        let bytes = reason.as_bytes();
        assert!(
            bytes.first().is_some_and(u8::is_ascii_lowercase)
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_'),
            "reason {reason:?}\n{run}"
        );
    }
}

/// Runs `program` with `args` in `dir` with `env` added and nothing on stdin,
/// within [`DEFAULT_DEADLINE`].
#[track_caller]
pub fn run_in(program: impl AsRef<OsStr>, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    Bin::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .run()
}

/// Fails the test unless the real `promtool check metrics` accepts `exposition`.
pub fn promtool_check_metrics(exposition: &str) {
    let run = Bin::new(crate::require::program("promtool", "prometheus"))
        .args(["check", "metrics"])
        .stdin(exposition)
        .deadline(Duration::from_secs(30))
        .run();
    assert!(
        run.status.success(),
        "promtool check metrics refused the output:\n{run}\n{exposition}"
    );
}

/// A record's payload as the tool's exported type, which must hold every field the
/// tool wrote: decoded and written again it is the same JSON (the guarantee the
/// xtask relies on when it reads payloads through these types). Panics, naming the
/// type and the record, when either fails.
#[track_caller]
pub fn typed_payload<T: serde::de::DeserializeOwned + serde::Serialize>(record: &Record) -> T {
    let payload: T = record.payload().unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(
        serde_json::to_value(&payload).unwrap(),
        record.data,
        "{} does not round-trip the {} record the tool wrote",
        std::any::type_name::<T>(),
        record.check
    );
    payload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_past_its_deadline_fails_the_test_naming_the_command() {
        let caught = std::panic::catch_unwind(|| {
            Bin::new("sleep")
                .arg("30")
                .deadline(Duration::from_millis(200))
                .run()
        });
        let message = *caught
            .expect_err("the deadline fails the test")
            .downcast::<String>()
            .expect("a message");
        assert!(
            message.starts_with("sleep 30: `sleep` did not finish within 200ms"),
            "{message}"
        );
    }

    #[test]
    fn a_failed_assertion_shows_command_and_both_streams() {
        let run = Bin::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .run();
        assert_eq!(run.code, 3);
        let shown = run.to_string();
        for part in ["$ sh -c", "exit exit status: 3", "out\n", "err\n"] {
            assert!(shown.contains(part), "{part:?} not in {shown}");
        }
        let caught = std::panic::catch_unwind(|| {
            run.assert_code(0);
        });
        assert!(caught.is_err());
    }
}
