//! Issue 18, pipes and FIFOs: `prune-review apply --plan FILE` reads a FIFO (what
//! `<(…)` gives) as a stream. The plans here are refused for what they hold, which
//! the one-line error quotes: the FIFO was read, before any engine is asked.

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use day2_tests::process::run_bounded;

/// A FIFO at `path` that a thread fills with `text` once a reader opens it.
fn fifo(path: &Path, text: &str) -> std::thread::JoinHandle<()> {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
    let path = path.to_path_buf();
    let text = text.to_owned();
    std::thread::spawn(move || {
        let _ = std::fs::write(path, text);
    })
}

/// Joins a FIFO's writer, opening the FIFO here if the tool never did.
fn join(path: &Path, writer: std::thread::JoinHandle<()>) {
    if !writer.is_finished() {
        let _ = std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut Vec::new()));
    }
    writer.join().unwrap();
}

#[test]
fn a_plan_is_read_from_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan");
    let foreign = r#"{"v":1,"tool":"sri-check","check":"entry","target":"a","verdict":"pass","ts":"2026-11-28T00:00:00Z","data":{}}"#;
    let writer = fifo(&plan, &format!("\n\n{foreign}\n"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_prune-review"));
    command
        .args(["apply", "--yes", "--filter", "label=x", "--plan"])
        .arg(&plan)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let out = run_bounded(command, b"", Duration::from_secs(60));
    join(&plan, writer);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3: a record of \"sri-check\"", plan.display())),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
