//! Runs the real binary and decodes its records (the envelope with
//! `deny_unknown_fields`, so a stray field fails the test).

#![allow(dead_code)]

use std::path::PathBuf;

use day2_core::record::{Record, Verdict};
use day2_tests::process::Bin;
use day2_tests::{DemoStack, EdgeConfig};

day2_tests::run_type!(Run);

impl Run {
    /// The one summary record, last on stdout.
    #[track_caller]
    pub fn summary(&self) -> &Record {
        let last = self
            .records
            .last()
            .unwrap_or_else(|| panic!("no records: {self:?}"));
        assert_eq!(last.check, "summary", "{self:?}");
        assert_eq!(self.checks("summary").len(), 1, "{self:?}");
        last
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

/// `legacy-sampler` with `FAIL_ON_LEGACY` unset (tests set what they mean).
pub fn sampler_bin() -> Bin {
    Bin::new(env!("CARGO_BIN_EXE_legacy-sampler")).env_remove("FAIL_ON_LEGACY")
}

/// Runs `legacy-sampler ARGS` with `stdin`, `FAIL_ON_LEGACY` unset unless given in
/// `env`, bounded to 60 s.
#[track_caller]
pub fn sampler_with(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    finish(
        sampler_bin()
            .args(args)
            .envs(env.iter().copied())
            .stdin(stdin),
    )
}

/// Runs a bash script in which `$SAMPLER` is the binary (for pipes, FIFOs, process
/// substitution and resource limits), bounded to 60 s.
#[track_caller]
pub fn sampler_in_bash(script: &str, stdin: &[u8]) -> Run {
    finish(
        Bin::new("bash")
            .args(["-c", script])
            .env("SAMPLER", env!("CARGO_BIN_EXE_legacy-sampler"))
            .env_remove("FAIL_ON_LEGACY")
            .stdin(stdin),
    )
}

#[track_caller]
fn finish(bin: Bin) -> Run {
    // Bounded: every run here is planned to end within seconds.
    let run = Run(bin.records_of("legacy-sampler").run());
    assert_ne!(run.code, -1, "an exit code, not a signal: {run:?}");
    run
}

#[track_caller]
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
