//! Inputs that are not regular files (issue 18): a FIFO, what a shell's `<(…)`
//! gives, which a tool must read as a stream (never seek, never stat its size);
//! and `/dev/zero`, an endless input a tool must stop reading at its cap.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crate::process::Run;

/// A FIFO (mode 600) whose writer thread writes its text once a reader opens it.
#[derive(Debug)]
pub struct Fifo {
    path: PathBuf,
    writer: Option<JoinHandle<()>>,
}

impl Fifo {
    /// Makes a FIFO at `path` with the real `mkfifo` and starts a thread that fills
    /// it with `text` once a reader opens it; a failed `mkfifo` fails the test.
    pub fn write(path: &Path, text: &str) -> Fifo {
        crate::process::Bin::new("mkfifo")
            .args(["-m", "600"])
            .arg(path)
            .run()
            .assert_success();
        let owned = path.to_path_buf();
        let text = text.to_owned();
        let writer = std::thread::spawn(move || {
            // Opening blocks until a reader opens the FIFO.
            let _ = std::fs::write(owned, text);
        });
        Fifo {
            path: path.to_path_buf(),
            writer: Some(writer),
        }
    }

    /// Waits for the writer; if the tool never opened the FIFO, opens it here so the
    /// writer thread ends (the test's assertions say what went wrong).
    pub fn finish(mut self) {
        self.release();
    }

    fn release(&mut self) {
        if let Some(writer) = self.writer.take() {
            if !writer.is_finished() {
                let _ = std::fs::File::open(&self.path)
                    .and_then(|mut f| f.read_to_end(&mut Vec::new()));
            }
            let _ = writer.join();
        }
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        self.release();
    }
}

/// Fails unless `run` is the one-line usage error (exit 2, nothing on stdout) that
/// names `file` and the 16 MiB cap (`day2_core::input::DEFAULT_LIMIT`).
pub fn assert_capped(run: &Run, file: &str) {
    run.assert_code(2);
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
    assert!(
        run.stderr.contains(file) && run.stderr.contains("larger than 16 MiB"),
        "{run}"
    );
    assert!(run.stdout.is_empty(), "{run}");
}
