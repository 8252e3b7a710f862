//! Benchmark: the full probe ladder against the real engine versus the shell
//! reference `docker version && docker ps && docker info`, in the same run,
//! alternating their order every round, after one discarded warm-up round.
//! Prints each side's median and minimum and the ratio of medians.
//!
//! `cargo run --release -p docker-doctor --example bench -- [ROUNDS]` (default 21).
//! When the release binary `docker-doctor` sits next to `examples/`, it is timed
//! too, as a spawned process, for a like-for-like comparison with the CLI chain.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use day2_core::{cli::run_captured, Exit};
use day2_tests::bench::{median, ms};

const REFERENCE: &str = "docker version && docker ps && docker info";

fn ladder_in_process() -> Duration {
    let started = Instant::now();
    let (exit, _, stderr) = run_captured(
        docker_doctor::run,
        &["docker-doctor", "--checks", "probe"],
        b"",
    );
    let elapsed = started.elapsed();
    assert_eq!(
        exit,
        Exit::Ok,
        "the ladder failed: {}",
        String::from_utf8_lossy(&stderr)
    );
    elapsed
}

fn spawned(program: &str, args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .env_remove("DOCKER_HOST")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let elapsed = started.elapsed();
    assert!(status.success(), "{program} {args:?} failed: {status}");
    elapsed
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(21)
        .max(1);
    let binary: Option<PathBuf> = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|dir| dir.join("docker-doctor")))
        .filter(|path| path.is_file());
    let binary_text = binary.as_ref().map(|p| p.display().to_string());
    let run_binary = |b: &str| spawned(b, &["--checks", "probe"]);

    let mut ladder = Vec::new();
    let mut process = Vec::new();
    let mut reference = Vec::new();
    // Round 0 warms caches (binaries, the daemon's own) and is not counted.
    for round in 0..=rounds {
        let sample = |which: usize| match which {
            0 => (0, ladder_in_process()),
            1 => (1, spawned("sh", &["-c", REFERENCE])),
            _ => (2, binary_text.as_deref().map_or(Duration::ZERO, run_binary)),
        };
        let order: [usize; 3] = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
        for which in order {
            let (kind, elapsed) = sample(which);
            if round == 0 {
                continue;
            }
            match kind {
                0 => ladder.push(elapsed),
                1 => reference.push(elapsed),
                _ => process.push(elapsed),
            }
        }
    }
    let out = &mut std::io::stdout().lock();
    let min = |s: &[Duration]| s.iter().min().copied().unwrap_or_default();
    let (ladder_min, reference_min, process_min) = (min(&ladder), min(&reference), min(&process));
    let ladder_median = median(&mut ladder);
    let reference_median = median(&mut reference);
    let _ = writeln!(
        out,
        "docker-doctor probe ladder vs `{REFERENCE}`, {rounds} rounds, alternating"
    );
    let _ = writeln!(
        out,
        "  ladder (in-process, 5 steps):   median {:8.2} ms   min {:8.2} ms",
        ms(ladder_median),
        ms(ladder_min)
    );
    if binary.is_some() {
        let process_median = median(&mut process);
        let _ = writeln!(
            out,
            "  ladder (docker-doctor process): median {:8.2} ms   min {:8.2} ms   ratio reference/process {:.1}x",
            ms(process_median),
            ms(process_min),
            ms(reference_median) / ms(process_median)
        );
    }
    let _ = writeln!(
        out,
        "  reference (3 docker CLI runs):  median {:8.2} ms   min {:8.2} ms",
        ms(reference_median),
        ms(reference_min)
    );
    let _ = writeln!(
        out,
        "  ratio reference/ladder (medians): {:.1}x",
        ms(reference_median) / ms(ladder_median)
    );
}
