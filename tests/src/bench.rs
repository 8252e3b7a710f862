//! What the benchmarks (`cargo xtask bench`, the crates' `examples/bench*.rs`)
//! share: the release binary under test, medians, and the figures they print.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{BackendConfig, DemoStack, EdgeConfig};

/// The demo stack a benchmark loads: the default backend behind nginx with its rate
/// limit off (a benchmark's hundreds of requests would meet the limit, not the
/// tools). Panics when it cannot start (nginx missing).
pub fn demo_stack() -> DemoStack {
    DemoStack::start(
        BackendConfig::default(),
        EdgeConfig {
            rate_limit: false,
            ..EdgeConfig::default()
        },
    )
    .unwrap_or_else(|e| panic!("the demo stack does not start (is nginx installed?): {e}"))
}

/// How long `bash -c script` takes, its stdout discarded; panics unless it
/// succeeds (a broken reference must not be timed as a fast one).
pub fn time_script(script: &str) -> Duration {
    let started = Instant::now();
    let status = Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run bash: {e}"));
    let elapsed = started.elapsed();
    assert!(
        status.success(),
        "the reference script failed ({status}):\n{script}"
    );
    elapsed
}

/// The release binary `bin` of `package` beside the running example's directory
/// (`target/release/`); under `cargo run` (which sets `CARGO`) it is built first
/// when missing. `None` when it is neither there nor buildable.
pub fn release_binary(package: &str, bin: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.parent()?.join(bin);
    if !candidate.is_file() {
        let cargo = std::env::var_os("CARGO")?;
        let _ = Command::new(cargo)
            .args(["build", "--quiet", "--release", "-p", package, "--bin", bin])
            .status();
    }
    candidate.is_file().then_some(candidate)
}

/// The median of `samples` (the upper one of an even count); sorts them.
/// Panics when there are none: a benchmark with no samples measured nothing.
pub fn median(samples: &mut [Duration]) -> Duration {
    assert!(!samples.is_empty(), "no samples to take the median of");
    samples.sort();
    samples[samples.len() / 2]
}

/// `d` in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `d` in round trips of `rtt`, one decimal (`"-"` on a link of no delay).
pub fn round_trips(d: Duration, rtt: Duration) -> String {
    if rtt.is_zero() {
        "-".to_owned()
    } else {
        format!("{:.1}", d.as_secs_f64() / rtt.as_secs_f64())
    }
}

/// The machine's 1, 5 and 15 minute load averages (`/proc/loadavg`), empty when
/// unreadable: printed beside a benchmark's figures.
pub fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
