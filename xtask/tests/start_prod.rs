//! `cargo xtask start-prod` against a compose project built locally on the real
//! engine: a ready stack ends with exit 0 and its path; a stack that is down never
//! becomes ready and exits non-zero early.

use std::path::{Path, PathBuf};
use std::time::Duration;

use day2_tests::docker::{test_image, TestScope};
use day2_tests::process::{Bin, Run};
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/start-prod/docker-compose.yml")
}

/// A compose project of the test: its containers, network and built image are removed
/// on drop.
struct Project {
    scope: TestScope,
    name: String,
    port: u16,
    mode: &'static str,
}

impl Project {
    fn new(mode: &'static str) -> Project {
        test_image();
        let scope = TestScope::new(&format!("startprod-{mode}"));
        let name = scope.id.replace(['-', '.'], "");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Project {
            scope,
            name,
            port,
            mode,
        }
    }

    fn command(&self, program: &Path) -> Bin {
        Bin::new(program)
            .env("DAY2_SCOPE", &self.scope.id)
            .env("DAY2_PORT", self.port.to_string())
            .env("MODE", self.mode)
    }

    /// `xtask start-prod` on this project, with `waits` (the waits' flags).
    fn start_prod(&self, waits: &[&str]) -> Run {
        self.command(Path::new(env!("CARGO_BIN_EXE_xtask")))
            .arg("start-prod")
            .arg("-f")
            .arg(fixture())
            .args([
                "-p",
                &self.name,
                "--url",
                &format!("http://127.0.0.1:{}", self.port),
            ])
            .args(waits)
            .deadline(BRING_UP_DEADLINE)
            .run()
    }
}

/// What a whole bring-up of the test project may take (image build included).
const BRING_UP_DEADLINE: Duration = Duration::from_secs(600);
/// The waits of a bring-up that should succeed.
const WAITS: [&str; 6] = ["--timeout", "60s", "--interval", "300ms", "--grace", "2s"];

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self
            .command(Path::new("docker-compose"))
            .arg("-f")
            .arg(fixture())
            .args(["-p", &self.name, "down", "-v"])
            .deadline(Duration::from_secs(120))
            .run();
        // The image carries the scope in its tag, so this removes only the test's own.
        let _ = Bin::new("docker")
            .args(["rmi", &format!("day2-startprod-backend:{}", self.scope.id)])
            .run();
    }
}

#[test]
fn a_ready_stack_comes_up_and_reports_its_path() {
    let project = Project::new("primary");
    let out = project.start_prod(&WAITS);
    let stderr = &out.stderr;
    out.assert_code(0);
    let records = out.json_lines();
    let checks: Vec<&str> = records
        .iter()
        .map(|r| r["check"].as_str().unwrap())
        .collect();
    assert!(checks.contains(&"start-prod.compose"), "{checks:?}");
    assert!(
        records.iter().any(|r| r["tool"] == "docker-doctor"),
        "the daemon probe ran first"
    );
    let last = records.last().expect("records");
    assert_eq!(
        (last["check"].as_str(), last["verdict"].as_str()),
        (Some("start-prod"), Some("pass"))
    );
    assert_eq!(last["data"]["llm_path"], "primary");
    assert_eq!(last["data"]["primary_model_present"], true);
    assert!(
        stderr.contains("llm.path=\"primary\" primary_model_present=true"),
        "{stderr}"
    );
    assert!(
        !project.scope.objects("container").is_empty(),
        "compose created the scoped container"
    );
}

#[test]
fn a_stack_that_is_down_never_becomes_ready_and_fails_early() {
    let project = Project::new("down");
    let out = project.start_prod(&WAITS);
    out.assert_code(1);
    let records = out.json_lines();
    let wait = records
        .iter()
        .rev()
        .find(|r| r["check"] == "wait")
        .expect("wait record");
    assert_eq!(wait["reason"], "terminal_down");
    let last = records.last().expect("records");
    assert_eq!(
        (last["check"].as_str(), last["reason"].as_str()),
        (Some("start-prod"), Some("never_ready"))
    );
    assert_eq!(last["data"]["llm_path"], "down");
}

fn start_prod_with(args: &[&str], env: &[(&str, &str)]) -> (i32, Vec<Value>) {
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("start-prod")
        .args(args)
        .envs(env.iter().copied())
        .deadline(BRING_UP_DEADLINE)
        .run();
    (out.code, out.json_lines())
}

fn last_reason(records: &[Value]) -> (String, String) {
    let last = records.last().expect("records");
    (
        last["check"].as_str().unwrap().to_owned(),
        last["reason"].as_str().unwrap_or("").to_owned(),
    )
}

#[test]
fn a_dead_daemon_stops_the_bring_up_before_compose() {
    let (code, records) = start_prod_with(
        &["-f", fixture().to_str().unwrap(), "--timeout", "5s"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(code, 1);
    assert_eq!(
        last_reason(&records),
        ("start-prod".into(), "docker_unhealthy".into())
    );
    assert!(
        !records.iter().any(|r| r["check"] == "start-prod.compose"),
        "nothing was started"
    );
}

#[test]
fn a_compose_file_that_does_not_come_up_fails_with_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yml");
    std::fs::write(
        &file,
        "version: \"3.7\"\nservices:\n  backend:\n    build: ./no-such-dir\n",
    )
    .unwrap();
    let (code, records) = start_prod_with(
        &["-f", file.to_str().unwrap(), "-p", "day2brokencompose"],
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        last_reason(&records),
        ("start-prod.compose".into(), "compose_up_failed".into())
    );
    assert!(!records.last().unwrap()["data"]["output_tail"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn without_any_compose_program_the_bring_up_says_so() {
    let empty = tempfile::tempdir().unwrap();
    let (code, records) = start_prod_with(
        &["-f", fixture().to_str().unwrap()],
        &[("PATH", empty.path().to_str().unwrap())],
    );
    assert_eq!(code, 1);
    assert_eq!(
        last_reason(&records),
        ("start-prod.compose".into(), "compose_unavailable".into())
    );
}

#[test]
fn an_edge_that_never_answers_2xx_ends_the_bring_up() {
    let project = Project::new("primary");
    let out = project.start_prod(&[
        "--edge-path",
        "/no-such-page",
        "--timeout",
        "20s",
        "--interval",
        "300ms",
    ]);
    out.assert_code(1);
    let records = out.json_lines();
    assert_eq!(
        last_reason(&records),
        ("start-prod".into(), "edge_never_up".into())
    );
}

/// A compose that never finishes (a `docker-compose` that sleeps, alone on PATH) is
/// killed at `--compose-timeout`: one `start-prod.compose` error record with reason
/// `timeout` naming the deadline, and exit 124.
#[test]
fn a_compose_up_past_its_deadline_is_killed_and_ends_with_the_timeout_record() {
    use std::os::unix::fs::PermissionsExt;
    let bin = tempfile::tempdir().unwrap();
    let compose = bin.path().join("docker-compose");
    std::fs::write(&compose, "#!/bin/sh\nexec /bin/sleep 60\n").unwrap();
    std::fs::set_permissions(&compose, std::fs::Permissions::from_mode(0o755)).unwrap();
    let started = std::time::Instant::now();
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["start-prod", "-f", fixture().to_str().unwrap()])
        .args(["--compose-timeout", "1s"])
        .env("PATH", bin.path())
        .deadline(Duration::from_secs(120))
        .run();
    out.assert_code(124);
    assert!(started.elapsed() < Duration::from_secs(50), "{out}");
    let records = out.json_lines();
    let last = records.last().expect("records");
    assert_eq!(
        (
            last["check"].as_str(),
            last["verdict"].as_str(),
            last["reason"].as_str()
        ),
        (Some("start-prod.compose"), Some("error"), Some("timeout")),
        "{out}"
    );
    assert_eq!(
        last["message"],
        "`docker-compose` did not finish within 1s and was killed"
    );
}
