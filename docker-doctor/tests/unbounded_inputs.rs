//! Issue 18 for docker-doctor's file inputs: `/dev/zero` as the compose file or
//! the `.env` ends at the cap with a one-line usage error naming the file, and the
//! `.wslconfig` and `.env` read from FIFOs. Every run is bounded in time.

use std::path::Path;

use day2_tests::inputs::{assert_capped, Fifo};
use day2_tests::process::{Bin, Run};

/// Runs docker-doctor in `cwd` with a clean Docker environment plus `env`, killing
/// it (and failing) after 60 s. The daemon is a closed unix socket: only the
/// inputs are under test.
fn run_bounded(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Run {
    Bin::new(env!("CARGO_BIN_EXE_docker-doctor"))
        .args(args)
        .current_dir(cwd)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env("DOCKER_HOST", format!("unix://{}/no.sock", cwd.display()))
        .envs(env.iter().copied())
        .run()
}

#[test]
fn dev_zero_as_compose_file_or_env_file_is_a_one_line_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_bounded(
        &["--checks", "stack"],
        dir.path(),
        &[("COMPOSE_FILE", "/dev/zero")],
    );
    assert_capped(&out, "compose file /dev/zero");

    let project = dir.path().join("deploy");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("compose.yaml"), "services: {}\n").unwrap();
    std::os::unix::fs::symlink("/dev/zero", project.join(".env")).unwrap();
    let out = run_bounded(&["--checks", "stack"], &project, &[]);
    assert_capped(
        &out,
        &format!("env file {}", project.join(".env").display()),
    );
}

/// COMPOSE_PROJECT_NAME in a `.env` that is a FIFO decides the project, as from a
/// file (the error names the FIFO's value, so the file was read).
#[test]
fn env_file_and_wslconfig_are_read_from_fifos() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), "services: {}\n").unwrap();
    let env = dir.path().join(".env");
    let writer = Fifo::write(&env, "COMPOSE_PROJECT_NAME=Not_Normal\n");
    let out = run_bounded(&["--checks", "stack"], dir.path(), &[]);
    writer.finish();
    assert_eq!(out.code, 2, "{out}");
    assert!(
        out.stderr.contains("invalid project name \"Not_Normal\""),
        "{out}"
    );

    let wslconfig = dir.path().join("wslconfig");
    let writer = Fifo::write(&wslconfig, "[wsl2]\nmemory=2GB\nprocessors=1\n");
    let out = run_bounded(
        &[
            "--checks",
            "wslconfig",
            "--wslconfig",
            wslconfig.to_str().unwrap(),
        ],
        dir.path(),
        &[],
    );
    writer.finish();
    assert!(
        out.stdout.contains("\"check\":\"wslconfig.memory\""),
        "{out}"
    );
    assert!(
        out.stdout.contains("\"check\":\"wslconfig.processors\""),
        "{out}"
    );
    assert!(!out.stderr.contains("cannot read"), "{out}");
}

/// The `.wslconfig` goes through day2-core's capped reader too (1 MiB).
#[test]
fn dev_zero_as_wslconfig_is_a_one_line_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_bounded(
        &["--checks", "wslconfig", "--wslconfig", "/dev/zero"],
        dir.path(),
        &[],
    );
    assert_eq!(out.code, 2, "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(
        out.stderr
            .contains("cannot read .wslconfig /dev/zero: larger than 1 MiB"),
        "{out}"
    );
}
