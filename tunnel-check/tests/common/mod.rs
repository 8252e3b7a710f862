//! Running the real `tunnel-check` binary and decoding what it writes.
#![allow(dead_code)] // each test binary uses a different part of this harness

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use day2_core::record::{read_records, Record};
use day2_core::Verdict;

/// A fake tunnel token of the real shape (base64 of `{"a":…,"t":…,"s":…}`).
pub const TOKEN: &str = "eyJhIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYiLCJ0IjoiNmZmNDJhZTItNzY1ZC00YWRmLThkYjctYWE4YjYxMTY4YjZhIiwicyI6IlpHRjVNaTFqWVc1aGNua3RjMlZqY21WMExXNWxkbVZ5TFhCeWFXNTBMVEE9In0=";
/// The `s` member inside [`TOKEN`].
pub const TOKEN_SECRET: &str = "ZGF5Mi1jYW5hcnktc2VjcmV0LW5ldmVyLXByaW50LTA=";
/// The `TunnelSecret` of the credentials fixtures.
pub const CREDENTIALS_SECRET: &str = "ZGF5Mi1jcmVkZW50aWFscy1zZWNyZXQtY2FuYXJ5LTE=";
/// The tunnel id of the fixtures (and of [`TOKEN`]).
pub const TUNNEL_ID: &str = "6ff42ae2-765d-4adf-8db7-aa8b61168b6a";

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub records: Vec<Record>,
}

impl Run {
    /// The only record of a check, or a panic listing what there is.
    pub fn one(&self, check: &str) -> &Record {
        let found: Vec<&Record> = self.records.iter().filter(|r| r.check == check).collect();
        assert_eq!(found.len(), 1, "expected one {check} record in {self:#?}");
        found[0]
    }

    /// Asserts a check's verdict and reason, and returns the record.
    pub fn expect(&self, check: &str, verdict: Verdict, reason: Option<&str>) -> &Record {
        let record = self.one(check);
        assert_eq!(record.verdict, verdict, "{check} verdict in {self:#?}");
        if verdict != Verdict::Pass || reason.is_some() {
            assert_eq!(
                record.reason.as_deref(),
                reason,
                "{check} reason in {self:#?}"
            );
        }
        record
    }

    /// Everything the run wrote, for the secrecy assertions.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// A private copy of a fixture directory with every credentials JSON mode 600,
/// as on a careful deployment (a checkout leaves it world-readable).
pub fn private_copy(dir: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&fixture(dir), copy.path());
    copy
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
            let mode = if dest.extension().is_some_and(|e| e == "json") {
                0o600
            } else {
                0o644
            };
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
}

pub fn fixture_str(path: &str) -> String {
    fixture(path).display().to_string()
}

/// Runs the binary with `stdin` and extra environment. The token variables of the
/// test process itself are removed, so each test sets exactly what it means.
pub fn run_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tunnel-check"));
    command
        .args(args)
        .env_remove("TUNNEL_TOKEN")
        .env_remove("CLOUDFLARE_TUNNEL_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("spawn tunnel-check");
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for tunnel-check");
    let _ = writer.join();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let text_output = args.first().map(String::as_str) == Some("redact")
        || args.iter().any(|a| a == "--help" || a == "--version");
    let records = if text_output {
        Vec::new()
    } else {
        read_records(&mut stdout.as_bytes())
            .unwrap_or_else(|e| panic!("stdout of {args:?} is not records: {e}\n{stdout}"))
    };
    // Without a secret in the input, nothing may be masked: a mask there would mean
    // the redactor ate part of a message (over-masking hides what the tool says).
    let inputs = format!("{stdin}{args:?}{env:?}");
    let secretive = ["eyJ", "secret", "hunter2"]
        .iter()
        .any(|s| inputs.contains(s));
    if !secretive {
        assert!(
            !stdout.contains("[REDACTED") && !stderr.contains("[REDACTED"),
            "over-masked: {stdout}{stderr}"
        );
    }
    for record in &records {
        assert_eq!(record.tool, "tunnel-check");
        assert!(record
            .check
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c)));
        if record.verdict != Verdict::Pass {
            let reason = record
                .reason
                .as_deref()
                .unwrap_or_else(|| panic!("no reason: {record:?}"));
            assert!(
                reason
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{reason}"
            );
        }
    }
    Run {
        args,
        code: out.status.code().unwrap_or(-1),
        stdout,
        stderr,
        records,
    }
}

pub fn run(args: &[&str], stdin: &str) -> Run {
    run_env(args, stdin, &[])
}
