//! Benchmark (not a test): volume classification on the real engine against the
//! operations guide's method re-done in bash (`bench/guide-method.sh`: one
//! `docker inspect` per container, then a set difference), in the same run.
//!
//! It creates 300 volumes and 150 containers (10 running), all carrying a test
//! scope label and removed at the end, then alternates the two methods for several
//! rounds, checks that they find the same unmounted volumes, and prints the
//! medians and the ratio. A full `review` (which adds `/system/df` for sizes, work
//! the guide's method does not do) is timed once at the end for reference.
//!
//! Run: `cargo run --release -p prune-review --example bench -- [ROUNDS]`.

#![allow(clippy::print_stdout)] // a benchmark's report is its stdout

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use day2_tests::docker::{docker, test_image, TestScope};
use prune_review::classify::classify;
use prune_review::engine::Engine;
use prune_review::protect::Protection;

const VOLUMES: usize = 300;
const CONTAINERS: usize = 150;
const RUNNING: usize = 10;
const GUIDE_METHOD: &str = include_str!("../bench/guide-method.sh");

/// Runs `jobs` docker CLI invocations on a few threads (the engine serialises
/// little, the CLI's start-up dominates).
fn docker_parallel(jobs: Vec<Vec<String>>) {
    let chunks: Vec<Vec<Vec<String>>> = (0..4)
        .map(|t| jobs.iter().skip(t).step_by(4).cloned().collect())
        .collect();
    std::thread::scope(|s| {
        for chunk in &chunks {
            s.spawn(move || {
                for args in chunk {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    docker(&args);
                }
            });
        }
    });
}

/// Our classification: connect, list volumes and containers, classify.
fn ours() -> (Duration, BTreeSet<String>) {
    let started = Instant::now();
    let endpoint = day2_docker::host::from_env().expect("DOCKER_HOST");
    let engine = Engine::connect(endpoint, Duration::from_secs(600)).expect("engine");
    let volumes = engine.volumes(None).expect("volumes");
    let containers = engine.containers(None).expect("containers");
    let protection = Protection::new(&[]).expect("protection");
    let classified = classify(volumes, &containers, &Default::default(), &protection);
    let elapsed = started.elapsed();
    let unmounted = classified
        .into_iter()
        .filter(|c| c.holders.is_empty())
        .map(|c| c.volume.name)
        .collect();
    (elapsed, unmounted)
}

/// The guide's method in bash.
fn guide() -> (Duration, BTreeSet<String>) {
    let started = Instant::now();
    let out = Command::new("bash")
        .arg("-c")
        .arg(GUIDE_METHOD)
        .output()
        .expect("bash");
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "guide method failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        elapsed,
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// A full `review` run in-process (connect, /system/df, lists, records): its
/// total time and the part `/system/df` took (the `disk` record's duration).
fn full_review() -> (Duration, f64) {
    let started = Instant::now();
    let (exit, stdout, stderr) =
        day2_core::cli::run_captured(prune_review::run, &["prune-review", "review"], b"");
    let elapsed = started.elapsed();
    assert_eq!(
        exit,
        day2_core::Exit::Ok,
        "review failed: {}",
        String::from_utf8_lossy(&stderr)
    );
    let records = day2_core::record::read_records(&mut stdout.as_slice()).expect("records");
    let df_ms = records
        .iter()
        .find(|r| r.check == "disk")
        .and_then(|r| r.duration_ms)
        .unwrap_or(f64::NAN);
    (elapsed, df_ms)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5)
        .clamp(1, 50);
    let image = test_image();
    let scope = TestScope::new("bench");
    let label = scope.label();
    let setup = Instant::now();
    let volumes: Vec<String> = (0..VOLUMES)
        .map(|i| scope.name(&format!("v{i:03}")))
        .collect();
    docker_parallel(
        volumes
            .iter()
            .map(|v| {
                ["volume", "create", "--label", label.as_str(), v.as_str()]
                    .map(str::to_owned)
                    .to_vec()
            })
            .collect(),
    );
    // Containers 0..150 mount volume i; containers 0..50 also mount volume 150+i:
    // 200 volumes in use, 100 unmounted.
    let mut jobs = Vec::new();
    for i in 0..CONTAINERS {
        let mut args: Vec<String> = [
            "create",
            "--label",
            label.as_str(),
            "--name",
            scope.name(&format!("c{i:03}")).as_str(),
        ]
        .map(str::to_owned)
        .to_vec();
        args.extend(["-v".into(), format!("{}:/a", volumes[i])]);
        if i < 50 {
            args.extend(["-v".into(), format!("{}:/b", volumes[CONTAINERS + i])]);
        }
        args.extend([image.to_owned(), "sleep".into(), "3600".into()]);
        jobs.push(args);
    }
    docker_parallel(jobs);
    let running: Vec<String> = (0..RUNNING)
        .map(|i| scope.name(&format!("c{i:03}")))
        .collect();
    let mut start = vec!["start"];
    start.extend(running.iter().map(String::as_str));
    docker(&start);
    println!(
        "prune-review bench: {VOLUMES} volumes, {CONTAINERS} containers ({RUNNING} running) created in {:.1}s",
        setup.elapsed().as_secs_f64()
    );

    let expected: BTreeSet<String> = volumes[200..].iter().cloned().collect();
    let in_scope = |set: &BTreeSet<String>| -> BTreeSet<String> {
        set.iter()
            .filter(|v| v.starts_with(&scope.id))
            .cloned()
            .collect()
    };
    let (mut t_ours, mut t_guide) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which goes first, so neither always meets a warm engine.
        let (a, b) = if round % 2 == 0 {
            let a = ours();
            (a, guide())
        } else {
            let b = guide();
            (ours(), b)
        };
        assert_eq!(
            in_scope(&a.1),
            expected,
            "prune-review finds the 100 unmounted volumes"
        );
        assert_eq!(
            in_scope(&b.1),
            expected,
            "the guide's method finds the same 100"
        );
        println!(
            "round {}: prune-review classify {:>8.1} ms | guide method (bash) {:>8.1} ms",
            round + 1,
            a.0.as_secs_f64() * 1e3,
            b.0.as_secs_f64() * 1e3,
        );
        t_ours.push(a.0);
        t_guide.push(b.0);
    }
    let (m_ours, m_guide) = (median(t_ours), median(t_guide));
    println!(
        "median over {rounds} rounds: prune-review classify {:.1} ms, guide method (bash) {:.1} ms",
        m_ours.as_secs_f64() * 1e3,
        m_guide.as_secs_f64() * 1e3,
    );
    println!(
        "ratio (guide method / prune-review classify): {:.1}x (target >= 20x)",
        m_guide.as_secs_f64() / m_ours.as_secs_f64()
    );
    // Once, for reference: the sizes come from /system/df, which the engine
    // computes by walking every volume and container layer (the guide's step 1,
    // `docker system df -v`, pays the same).
    let (review, df_ms) = full_review();
    println!(
        "full review incl. sizes (once): {:.1} ms, of which /system/df {df_ms:.1} ms",
        review.as_secs_f64() * 1e3
    );
    drop(scope);
}
