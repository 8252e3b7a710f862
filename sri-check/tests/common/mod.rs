//! Shared test equipment: running the real binary with a deadline, decoding its
//! records, building fixture trees, and computing SRI strings independently.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use base64::Engine;
use day2_core::record::{Record, Verdict};
use day2_tests::process::Bin;
use sha2::Digest;

day2_tests::run_type!(Run);

impl Run {
    /// The only record about `target` of the given check.
    #[track_caller]
    pub fn record(&self, check: &str, target: &str) -> &Record {
        self.one_of(check, Some(target))
    }

    /// Verdict and reason of that record, for compact assertions.
    #[track_caller]
    pub fn outcome(&self, check: &str, target: &str) -> (Verdict, Option<&str>) {
        let r = self.record(check, target);
        (r.verdict, r.reason.as_deref())
    }

    pub fn of_check(&self, check: &str) -> Vec<&Record> {
        self.checks(check)
    }
}

/// Runs sri-check in `dir` with `args` and `stdin`, killing it if it takes longer
/// than 60 s (a refusal that secretly opened a FIFO would hang here).
#[track_caller]
pub fn sri_check(dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    run_bin(dir, args.iter().map(std::ffi::OsStr::new), stdin)
}

#[track_caller]
pub fn run_bin<'a>(
    dir: &Path,
    args: impl IntoIterator<Item = &'a std::ffi::OsStr>,
    stdin: &[u8],
) -> Run {
    let args: Vec<&std::ffi::OsStr> = args.into_iter().collect();
    // --help and --version print text, not records.
    let text = args.iter().any(|a| *a == "--help" || *a == "--version");
    let mut bin = Bin::new(env!("CARGO_BIN_EXE_sri-check"))
        .args(args)
        .current_dir(dir)
        .stdin(stdin);
    if !text {
        bin = bin.records_of("sri-check");
    }
    // A refusal that secretly opened a FIFO would hang: the deadline catches it.
    let run = Run(bin.run());
    assert!(
        std::str::from_utf8(&run.raw_stdout).is_ok(),
        "stdout is UTF-8: {run:?}"
    );
    assert_ne!(run.code, -1, "exit code, not a signal: {run:?}");
    run
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
    Bin::new("mkfifo").arg(path).run().assert_success();
}
