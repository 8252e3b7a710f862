//! Issue 18 for docker-doctor's file inputs: `/dev/zero` as the compose file or
//! the `.env` ends at the cap with a one-line usage error naming the file, and the
//! `.wslconfig` and `.env` read from FIFOs. Every run is bounded in time.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

const LIMIT: Duration = Duration::from_secs(60);

/// Runs docker-doctor in `cwd` with a clean Docker environment plus `env`, killing
/// it (and failing) after [`LIMIT`]. The daemon is a closed unix socket: only the
/// inputs are under test.
fn run_bounded(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Out {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docker-doctor"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env("DOCKER_HOST", format!("unix://{}/no.sock", cwd.display()))
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn docker-doctor");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("docker-doctor {args:?} still running after {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Out {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn assert_capped(out: &Out, file: &str) {
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    assert!(
        out.stderr.contains(file) && out.stderr.contains("larger than 16 MiB"),
        "{out:#?}"
    );
    assert!(out.stdout.is_empty(), "{out:#?}");
}

/// A FIFO at `path` that a thread fills with `text` once a reader opens it.
fn fifo(path: &Path, text: &str) -> std::thread::JoinHandle<()> {
    let made = Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(path)
        .status()
        .unwrap();
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
    let writer = fifo(&env, "COMPOSE_PROJECT_NAME=Not_Normal\n");
    let out = run_bounded(&["--checks", "stack"], dir.path(), &[]);
    join(&env, writer);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(
        out.stderr.contains("invalid project name \"Not_Normal\""),
        "{out:#?}"
    );

    let wslconfig = dir.path().join("wslconfig");
    let writer = fifo(&wslconfig, "[wsl2]\nmemory=2GB\nprocessors=1\n");
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
    join(&wslconfig, writer);
    assert!(
        out.stdout.contains("\"check\":\"wslconfig.memory\""),
        "{out:#?}"
    );
    assert!(
        out.stdout.contains("\"check\":\"wslconfig.processors\""),
        "{out:#?}"
    );
    assert!(!out.stderr.contains("cannot read"), "{out:#?}");
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
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    assert!(
        out.stderr
            .contains("cannot read .wslconfig /dev/zero: larger than 1 MiB"),
        "{out:#?}"
    );
}
