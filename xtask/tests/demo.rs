//! `cargo xtask demo` starts the demo stack, runs the tour and stops the stack.

use std::process::Command;

#[test]
fn demo_runs_the_tour_and_stops_the_stack() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("demo")
        .output()
        .expect("run demo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("demo stack up") && stderr.contains("demo stack stopped"),
        "{stderr}"
    );
    let first = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let record: serde_json::Value = serde_json::from_str(&first).expect("first line is a record");
    assert_eq!(record["check"], "demo.stack");
    let edge = record["data"]["edge"]
        .as_str()
        .expect("edge URL")
        .to_owned();
    // The stack is gone once the demo has ended: nothing listens on its port.
    let addr = edge.trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "nginx still listens on {addr}"
    );
}
