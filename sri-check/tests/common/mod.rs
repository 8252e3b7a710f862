//! Shared test equipment: running the real binary with a deadline, decoding its
//! records, building fixture trees, and computing SRI strings independently.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use day2_core::record::{read_records, Record, Verdict};
use day2_tests::process::run_bounded;
use sha2::Digest;

/// What one run of the tool left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub records: Vec<Record>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The only record about `target` of the given check.
    pub fn record(&self, check: &str, target: &str) -> &Record {
        let found: Vec<&Record> = self
            .records
            .iter()
            .filter(|r| r.check == check && r.target == target)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one {check} record for {target:?} expected in:\n{}",
            self.stdout
        );
        found[0]
    }

    /// Verdict and reason of that record, for compact assertions.
    pub fn outcome(&self, check: &str, target: &str) -> (Verdict, Option<&str>) {
        let r = self.record(check, target);
        (r.verdict, r.reason.as_deref())
    }

    pub fn of_check(&self, check: &str) -> Vec<&Record> {
        self.records.iter().filter(|r| r.check == check).collect()
    }
}

/// Runs sri-check in `dir` with `args` and `stdin`, killing it if it takes longer
/// than 60 s (a refusal that secretly opened a FIFO would hang here).
pub fn sri_check(dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    run_bin(dir, args.iter().map(std::ffi::OsStr::new), stdin)
}

pub fn run_bin<'a>(
    dir: &Path,
    args: impl IntoIterator<Item = &'a std::ffi::OsStr>,
    stdin: &[u8],
) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sri-check"));
    command.args(args).current_dir(dir);
    // A refusal that secretly opened a FIFO would hang: the deadline catches it.
    let run = run_bounded(command, stdin, Duration::from_secs(60));
    let status = run.status;
    let stdout = String::from_utf8(run.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    // --help and --version print text, not records.
    let records = if stdout.is_empty() || stdout.starts_with('{') {
        read_records(&mut stdout.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{stdout}"))
    } else {
        Vec::new()
    };
    for r in &records {
        assert_eq!(r.tool, "sri-check");
        assert!(
            r.verdict == Verdict::Pass || r.reason.is_some(),
            "non-pass without reason: {r:?}"
        );
        if let Some(reason) = &r.reason {
            let mut bytes = reason.bytes();
            let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
            assert!(
                first_ok
                    && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{reason}"
            );
        }
        assert!(r.data.is_object());
    }
    Run {
        code: status.code().expect("exit code"),
        records,
        stdout,
        stderr,
    }
}

/// A fixture tree in a fresh temporary directory.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file, creating its directories.
    pub fn file(&self, rel: &str, content: &[u8]) -> &Tree {
        let path = self.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
        self
    }

    pub fn symlink(&self, rel: &str, to: &str) -> &Tree {
        std::os::unix::fs::symlink(to, self.join(rel)).expect("symlink");
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.join(rel)).expect("read")
    }
}

pub fn sri(algo: &str, content: &[u8]) -> String {
    let digest = match algo {
        "sha256" => sha2::Sha256::digest(content).to_vec(),
        "sha384" => sha2::Sha384::digest(content).to_vec(),
        "sha512" => sha2::Sha512::digest(content).to_vec(),
        other => panic!("no algorithm {other}"),
    };
    format!(
        "{algo}-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

pub fn sri384(content: &[u8]) -> String {
    sri("sha384", content)
}

/// Creates a FIFO: opening it for reading would block forever, so any test that
/// finishes proves the tool never opened it.
pub fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}
