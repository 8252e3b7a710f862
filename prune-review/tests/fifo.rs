//! Issue 18, pipes and FIFOs: `prune-review apply --plan FILE` reads a FIFO (what
//! `<(…)` gives) as a stream. The plans here are refused for what they hold, which
//! the one-line error quotes: the FIFO was read, before any engine is asked.

use day2_tests::process::Bin;
use std::time::Duration;

use day2_tests::inputs::Fifo;

#[test]
fn a_plan_is_read_from_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan");
    let foreign = r#"{"v":1,"tool":"sri-check","check":"entry","target":"a","verdict":"pass","ts":"2026-11-28T00:00:00Z","data":{}}"#;
    let writer = Fifo::write(&plan, &format!("\n\n{foreign}\n"));
    let out = Bin::new(env!("CARGO_BIN_EXE_prune-review"))
        .args(["apply", "--yes", "--filter", "label=x", "--plan"])
        .arg(&plan)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .deadline(Duration::from_secs(60))
        .run();
    writer.finish();
    let stderr = out.stderr.clone();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3: a record of \"sri-check\"", plan.display())),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
