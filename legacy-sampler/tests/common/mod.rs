//! Runs the real binary and decodes its records (the envelope with
//! `deny_unknown_fields`, so a stray field fails the test).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use day2_core::record::{read_records, Record, Verdict};
use day2_tests::process::run_bounded;
use day2_tests::{DemoStack, EdgeConfig};

/// One finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub records: Vec<Record>,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// The one summary record, last on stdout.
    pub fn summary(&self) -> &Record {
        let last = self
            .records
            .last()
            .unwrap_or_else(|| panic!("no records: {self:#?}"));
        assert_eq!(last.check, "summary", "{self:#?}");
        assert_eq!(
            self.records.iter().filter(|r| r.check == "summary").count(),
            1
        );
        last
    }

    pub fn checks(&self, check: &str) -> Vec<&Record> {
        self.records.iter().filter(|r| r.check == check).collect()
    }

    pub fn reason(&self) -> Option<&str> {
        self.summary().reason.as_deref()
    }

    pub fn verdict(&self) -> Verdict {
        self.summary().verdict
    }

    pub fn data(&self, key: &str) -> &serde_json::Value {
        &self.summary().data[key]
    }
}

/// Runs `legacy-sampler ARGS` with `stdin`, `FAIL_ON_LEGACY` unset unless given in
/// `env`, bounded to 60 s.
pub fn sampler_with(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_legacy-sampler"));
    command.args(args).env_remove("FAIL_ON_LEGACY");
    for (name, value) in env {
        command.env(name, value);
    }
    finish(command, stdin)
}

/// Runs a bash script in which `$SAMPLER` is the binary (for pipes, FIFOs, process
/// substitution and resource limits), bounded to 60 s.
pub fn sampler_in_bash(script: &str, stdin: &[u8]) -> Run {
    let mut command = Command::new("bash");
    command
        .args(["-c", script])
        .env("SAMPLER", env!("CARGO_BIN_EXE_legacy-sampler"))
        .env_remove("FAIL_ON_LEGACY");
    finish(command, stdin)
}

fn finish(command: Command, stdin: &[u8]) -> Run {
    // Bounded: every run here is planned to end within seconds.
    let run = run_bounded(command, stdin, Duration::from_secs(60));
    let (status, stdout) = (run.status, run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    let records = read_records(&mut stdout.as_slice())
        .unwrap_or_else(|e| panic!("stdout is not records ({e}); stderr: {stderr}"));
    for record in &records {
        assert_eq!(record.tool, "legacy-sampler");
        assert!(
            record.verdict == Verdict::Pass || record.reason.is_some(),
            "a non-pass record without a reason: {record:?}"
        );
    }
    Run {
        code: status.code().expect("an exit code"),
        records,
        stderr,
        elapsed: run.elapsed,
    }
}

pub fn sampler(args: &[&str]) -> Run {
    sampler_with(args, &[], b"")
}

/// The demo stack with the rate limit off, so nothing here ever meets a 503.
pub fn stack_with(edge: EdgeConfig) -> DemoStack {
    DemoStack::start(
        day2_tests::BackendConfig::default(),
        EdgeConfig {
            rate_limit: false,
            ..edge
        },
    )
    .expect("the demo stack starts (is nginx installed? apt-get install nginx-light)")
}

pub fn stack() -> DemoStack {
    stack_with(EdgeConfig::default())
}

/// Waits (bounded) until nginx has logged `lines` requests.
pub fn logged(stack: &DemoStack, lines: usize) -> PathBuf {
    stack.edge.logged(lines).expect("the access log")
}
