//! Shared test harness: runs the real binary and decodes its records.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::time::Duration;

use day2_core::record::{Record, Verdict};
use day2_tests::process::Bin;
use day2_tests::{BackendConfig, DemoStack, EdgeConfig};

/// An origin both nginx and the backend allow.
pub const BOTH_LAYERS: &str = "https://assistant.example.org";
/// An origin only the backend allows.
pub const BACKEND_ONLY: &str = "http://127.0.0.1:5173";
/// An origin only nginx allows.
pub const EDGE_ONLY: &str = "https://edge-only.example.org";
/// An origin nobody allows.
pub const EVIL: &str = "https://evil.example";

day2_tests::run_type!(Run);

impl Run {
    /// Every record of a check.
    pub fn all(&self, check: &str) -> Vec<&Record> {
        self.checks(check)
    }

    /// The one record of a check.
    #[track_caller]
    pub fn one(&self, check: &str) -> &Record {
        self.one_of(check, None)
    }

    /// The record of a check about one origin.
    #[track_caller]
    pub fn for_origin(&self, check: &str, origin: &str) -> &Record {
        self.records
            .iter()
            .find(|r| r.check == check && r.get("origin").and_then(|o| o.as_str()) == Some(origin))
            .unwrap_or_else(|| panic!("no {check} record for {origin}\n{self:?}"))
    }
}

/// Runs the binary with a clean environment for the variables it reads.
#[track_caller]
pub fn probe(args: &[&str]) -> Run {
    probe_env(args, &[])
}

/// The longest any run here may take (the waits under test are shorter).
const DEADLINE: Duration = Duration::from_secs(120);

#[track_caller]
pub fn probe_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut bin = Bin::new(env!("CARGO_BIN_EXE_status-probe"))
        .args(args)
        .env_remove("ALLOWED_ORIGINS")
        .env_remove("PRIMARY_POLL_INTERVAL_S")
        .env_remove("PRIMARY_POLL_MAX_S")
        .envs(env.iter().copied())
        .deadline(DEADLINE);
    // Prometheus text, the text view and --help are not records.
    if !args.contains(&"prometheus") && !args.contains(&"text") && !args.contains(&"--help") {
        bin = bin.records_of("status-probe");
    }
    let run = Run(bin.run());
    // Messages are for people: never Rust's debug text (`Some("local")`,
    // `Other(OtherError(CaUsedAsEndEntity))`, `"\u{1b}"`).
    const DEBUG_TEXT: [&str; 3] = ["Some(", "Other(", "\\u{"];
    assert!(
        !DEBUG_TEXT.iter().any(|debug| run.stderr.contains(debug)),
        "Rust debug text on stderr: {run:?}"
    );
    assert_ne!(run.code, -1, "exit code, not a signal: {run:?}");
    for record in &run.records {
        let message = record.message.as_deref().unwrap_or("");
        assert!(
            !DEBUG_TEXT.iter().any(|debug| message.contains(debug)),
            "Rust debug text in a message: {message}"
        );
    }
    run
}

/// The argv of the secret canary runs: every output at once (records or Prometheus
/// or the text view on stdout, the --textfile file, stderr) for `url` in `format`.
pub fn canary_argv<'a>(url: &'a str, format: &'a str, textfile: &'a str) -> Vec<&'a str> {
    vec![
        "--url",
        url,
        "--chat-path",
        "/chat",
        "--format",
        format,
        "--textfile",
        textfile,
        "ready",
        "summary",
        "cors",
    ]
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
