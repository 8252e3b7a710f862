//! Running the real `tunnel-check` binary and decoding what it writes.
#![allow(dead_code)] // each test binary uses a different part of this harness

use std::path::PathBuf;

use day2_core::record::Record;
use day2_core::Verdict;
use day2_tests::process::Bin;

/// A fake tunnel token of the real shape (base64 of `{"a":…,"t":…,"s":…}`).
pub const TOKEN: &str = "eyJhIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYiLCJ0IjoiNmZmNDJhZTItNzY1ZC00YWRmLThkYjctYWE4YjYxMTY4YjZhIiwicyI6IlpHRjVNaTFqWVc1aGNua3RjMlZqY21WMExXNWxkbVZ5TFhCeWFXNTBMVEE9In0=";
/// The `s` member inside [`TOKEN`].
pub const TOKEN_SECRET: &str = "ZGF5Mi1jYW5hcnktc2VjcmV0LW5ldmVyLXByaW50LTA=";
/// The `TunnelSecret` of the credentials fixtures.
pub const CREDENTIALS_SECRET: &str = "ZGF5Mi1jcmVkZW50aWFscy1zZWNyZXQtY2FuYXJ5LTE=";
/// The tunnel id of the fixtures (and of [`TOKEN`]).
pub const TUNNEL_ID: &str = "6ff42ae2-765d-4adf-8db7-aa8b61168b6a";

day2_tests::run_type!(Run);

impl Run {
    /// The only record of a check, or a panic listing what there is.
    #[track_caller]
    pub fn one(&self, check: &str) -> &Record {
        self.one_of(check, None)
    }

    /// Asserts a check's verdict and reason, and returns the record.
    #[track_caller]
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

/// `tunnel-check ARGS` without the test process's token variables.
pub fn tunnel_check(args: &[&str]) -> Bin {
    Bin::new(env!("CARGO_BIN_EXE_tunnel-check"))
        .args(args)
        .env_remove("TUNNEL_TOKEN")
        .env_remove("CLOUDFLARE_TUNNEL_TOKEN")
}

/// Runs the binary with `stdin` and extra environment, within the runner's 60 s.
/// The token variables of the test process itself are removed, so each test sets
/// exactly what it means.
#[track_caller]
pub fn run_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let text_output =
        args.first() == Some(&"redact") || args.iter().any(|a| *a == "--help" || *a == "--version");
    let mut bin = tunnel_check(args).envs(env.iter().copied()).stdin(stdin);
    if !text_output {
        bin = bin.records_of("tunnel-check");
    }
    let run = Run(bin.run());
    // Without a secret in the input, nothing may be masked: a mask there would mean
    // the redactor ate part of a message (over-masking hides what the tool says).
    let inputs = format!("{stdin}{args:?}{env:?}");
    let secretive = ["eyJ", "secret", "hunter2"]
        .iter()
        .any(|s| inputs.contains(s));
    if !secretive {
        assert!(
            !run.stdout.contains("[REDACTED") && !run.stderr.contains("[REDACTED"),
            "over-masked: {run:?}"
        );
    }
    run
}

#[track_caller]
pub fn run(args: &[&str], stdin: &str) -> Run {
    run_env(args, stdin, &[])
}
