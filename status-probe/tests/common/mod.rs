//! Shared test harness: runs the real binary and decodes its records.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use day2_core::record::{read_records, Record, Verdict};
use day2_tests::{BackendConfig, DemoStack, EdgeConfig};

/// An origin both nginx and the backend allow.
pub const BOTH_LAYERS: &str = "https://assistant.example.org";
/// An origin only the backend allows.
pub const BACKEND_ONLY: &str = "http://127.0.0.1:5173";
/// An origin only nginx allows.
pub const EDGE_ONLY: &str = "https://edge-only.example.org";
/// An origin nobody allows.
pub const EVIL: &str = "https://evil.example";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub records: Vec<Record>,
    pub elapsed: Duration,
    pub args: Vec<String>,
}

impl Run {
    /// Every record of a check.
    pub fn all(&self, check: &str) -> Vec<&Record> {
        self.records.iter().filter(|r| r.check == check).collect()
    }

    /// The one record of a check.
    pub fn one(&self, check: &str) -> &Record {
        let found = self.all(check);
        assert_eq!(found.len(), 1, "one {check} record expected\n{self:?}");
        found[0]
    }

    /// The record of a check about one origin.
    pub fn for_origin(&self, check: &str, origin: &str) -> &Record {
        self.records
            .iter()
            .find(|r| r.check == check && r.get("origin").and_then(|o| o.as_str()) == Some(origin))
            .unwrap_or_else(|| panic!("no {check} record for {origin}\n{self:?}"))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status-probe {}\nexit {} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }
}

/// Runs the binary with a clean environment for the variables it reads.
pub fn probe(args: &[&str]) -> Run {
    probe_env(args, &[])
}

pub fn probe_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_status-probe"));
    command
        .args(args)
        .env_remove("ALLOWED_ORIGINS")
        .env_remove("PRIMARY_POLL_INTERVAL_S")
        .env_remove("PRIMARY_POLL_MAX_S")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("status-probe runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut run = Run {
        code: output.status.code().expect("exit code, not a signal"),
        stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        records: Vec::new(),
        elapsed: started.elapsed(),
        args: args.iter().map(|a| a.to_string()).collect(),
    };
    // Messages are for people: never Rust's debug text (`Some("local")`,
    // `Other(OtherError(CaUsedAsEndEntity))`, `"\u{1b}"`).
    for debug in ["Some(", "Other(", "\\u{"] {
        assert!(
            !run.stderr.contains(debug),
            "Rust debug text on stderr: {run:?}"
        );
    }
    if !args.contains(&"prometheus") && !args.contains(&"--help") {
        run.records = read_records(&mut run.stdout.as_bytes())
            .unwrap_or_else(|e| panic!("records: {e}\n{run:?}"));
        for record in &run.records {
            assert_eq!(record.tool, "status-probe");
            // The envelope's patterns (schema/record.schema.json).
            let check = record.check.as_bytes();
            assert!(
                check.first().is_some_and(u8::is_ascii_lowercase)
                    && check.iter().all(|b| b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b"_.-".contains(b)),
                "check name {:?}",
                record.check
            );
            assert!(record.data.is_object());
            let message = record.message.as_deref().unwrap_or("");
            assert!(
                !["Some(", "Other(", "\\u{"]
                    .iter()
                    .any(|debug| message.contains(debug)),
                "Rust debug text in a message: {message}"
            );
            if record.verdict != Verdict::Pass {
                let reason = record
                    .reason
                    .as_deref()
                    .unwrap_or_else(|| panic!("non-pass record without reason: {record:?}"));
                assert!(
                    reason
                        .as_bytes()
                        .first()
                        .is_some_and(u8::is_ascii_lowercase)
                        && reason
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "{reason}"
                );
            }
        }
    }
    run
}

pub fn stack() -> DemoStack {
    DemoStack::default_stack().expect("demo stack starts (is nginx installed?)")
}

pub fn stack_with(backend: BackendConfig, edge: EdgeConfig) -> DemoStack {
    DemoStack::start(backend, edge).expect("demo stack starts (is nginx installed?)")
}

pub fn verdict(record: &Record) -> (Verdict, Option<&str>) {
    (record.verdict, record.reason.as_deref())
}
