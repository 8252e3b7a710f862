//! Runs the real binary and decodes its records (the envelope with
//! `deny_unknown_fields`, so a stray field fails the test).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use day2_core::record::{read_records, Record, Verdict};
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
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_legacy-sampler"));
    command
        .args(args)
        .env_remove("FAIL_ON_LEGACY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    // Bounded: every run here is planned to end within seconds.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("legacy-sampler {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let stdout = stdout.join().expect("stdout reader");
    let stderr = String::from_utf8_lossy(&stderr.join().expect("stderr reader")).into_owned();
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
        elapsed: started.elapsed(),
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
