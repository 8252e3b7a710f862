//! Recovery: the restart commands per platform in dry-run form, and real runs with
//! a fake restart command that brings a fake daemon "back" on its Nth try. The real
//! daemon is never restarted.

mod common;

use std::time::Duration;

use common::{doctor, unix_host, FakeDaemon, Mode};
use day2_core::Verdict;

fn commands(run: &common::Run) -> Vec<String> {
    let plan = run.one("recover.plan", None);
    plan.data["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn dry_run_prints_the_exact_commands_per_platform_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let host = unix_host(&dir.path().join("docker.sock"));
    let env = [("DOCKER_HOST", host.as_str())];

    let linux = doctor(
        &["--checks", "probe", "--recover", "--platform", "linux"],
        &env,
    );
    assert_eq!(linux.code, 1, "{linux}");
    assert_eq!(
        linux.reason("recover.plan", None).as_deref(),
        Some("dry_run")
    );
    let expected = if docker_doctor::remedy::running_as_root() {
        "systemctl restart docker"
    } else {
        "sudo systemctl restart docker"
    };
    assert_eq!(commands(&linux), [expected], "{linux}");
    assert!(linux.all("recover.attempt").is_empty(), "{linux}");
    assert!(linux.all("recover").is_empty(), "{linux}");

    let rootless = doctor(
        &["--checks", "probe", "--recover", "--platform", "rootless"],
        &env,
    );
    assert_eq!(
        commands(&rootless),
        ["systemctl --user restart docker"],
        "{rootless}"
    );

    let desktop = doctor(
        &[
            "--checks",
            "probe",
            "--recover",
            "--platform",
            "desktop",
            "--format",
            "text",
        ],
        &env,
    );
    assert_eq!(desktop.code, 1, "{desktop}");
    let rows = day2_tests::text_view::rows(&desktop.stdout);
    let plan = rows
        .iter()
        .find(|r| r.check == "recover.plan" && r.label == "INFO")
        .unwrap_or_else(|| panic!("recover.plan in\n{desktop}"));
    for line in [
        "> Stop-Service com.docker.service -ErrorAction SilentlyContinue",
        "> wsl --shutdown",
        "> Start-Sleep -Seconds 2",
        "> Start-Service com.docker.service",
    ] {
        assert!(
            plan.below.iter().any(|l| l == line),
            "{line:?} in\n{desktop}"
        );
    }
}

#[test]
fn docker_desktop_commands_are_never_run_from_here() {
    let dir = tempfile::tempdir().unwrap();
    let host = unix_host(&dir.path().join("docker.sock"));
    let run = doctor(
        &[
            "--checks",
            "probe",
            "--recover",
            "--yes",
            "--platform",
            "desktop",
        ],
        &[("DOCKER_HOST", &host)],
    );
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        run.reason("recover", None).as_deref(),
        Some("manual_only"),
        "{run}"
    );
    assert!(run.all("recover.attempt").is_empty(), "{run}");
}

#[test]
fn a_healthy_daemon_needs_no_recovery() {
    day2_tests::require::docker_engine();
    let run = doctor(
        &[
            "--checks",
            "probe",
            "--recover",
            "--yes",
            "--restart-cmd",
            "exit 99",
            "--step-timeout",
            "30s",
            "--deadline",
            "60s",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.reason("recover", None).as_deref(),
        Some("not_needed"),
        "{run}"
    );
    assert!(run.all("recover.attempt").is_empty(), "{run}");
}

/// The fake restart command counts its runs in a file; on the third it links the
/// probed socket path to a live fake daemon, as a restarted daemon recreates it.
const THIRD_TIME_LUCKY: &str = r#"n=$(cat "$COUNT" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$COUNT"
if [ "$n" -lt 3 ]; then echo "attempt $n: still broken" >&2; exit 1; fi
ln -s "$LIVE" "$SOCK" && echo "attempt $n: restarted""#;

#[test]
fn a_restart_command_that_works_on_the_third_try_recovers() {
    let live = FakeDaemon::start(Mode::Healthy);
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("docker.sock");
    let count = dir.path().join("count");
    let host = unix_host(&sock);
    let run = doctor(
        &[
            "--checks",
            "probe,stack",
            "--recover",
            "--yes",
            "--restart-cmd",
            THIRD_TIME_LUCKY,
            "--attempts",
            "5",
            "--backoff",
            "20ms",
        ],
        &[
            ("DOCKER_HOST", &host),
            ("COUNT", count.to_str().unwrap()),
            ("LIVE", live.socket.to_str().unwrap()),
            ("SOCK", sock.to_str().unwrap()),
        ],
    );
    // The first probe failed, the recovery succeeded: the run succeeds, and the
    // stack check ran against the recovered daemon (an empty project there).
    assert_eq!(
        run.one("probe", None).reason.as_deref(),
        Some("no_such_socket"),
        "{run}"
    );
    assert_eq!(run.reason("recover.plan", None).as_deref(), Some("running"));
    let attempts = run.all("recover.attempt");
    assert_eq!(attempts.len(), 3, "{run}");
    for (index, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt.data["attempt"], index + 1);
        let output = attempt.data["output"].as_str().unwrap();
        if index < 2 {
            assert_eq!(
                (attempt.verdict, attempt.reason.as_deref()),
                (Verdict::Warn, Some("restart_failed")),
                "{run}"
            );
            assert_eq!(attempt.data["exit_code"], 1);
            assert!(output.contains("still broken"), "{output}");
        } else {
            assert_eq!(attempt.verdict, Verdict::Pass, "{run}");
            assert!(output.contains("attempt 3: restarted"), "{output}");
        }
    }
    let probes = run.all("recover.probe");
    assert_eq!(
        probes.len(),
        3,
        "one look after each failed attempt, then the pass:\n{run}"
    );
    assert_eq!(probes[0].reason.as_deref(), Some("no_such_socket"));
    assert_eq!(probes[2].verdict, Verdict::Pass);
    let last = run.one("recover", None);
    assert_eq!(last.verdict, Verdict::Pass, "{run}");
    assert_eq!(last.data["attempts"], 3);
    assert_eq!(
        run.reason("stack", None).as_deref(),
        Some("project_not_found"),
        "{run}"
    );
    assert_eq!(
        run.code, 1,
        "the empty project fails; the recovered probe does not:\n{run}"
    );

    // The same recovery with only the probe selected exits 0.
    std::fs::remove_file(&sock).unwrap();
    std::fs::remove_file(&count).unwrap();
    let probe_only = doctor(
        &[
            "--checks",
            "probe",
            "--recover",
            "--yes",
            "--restart-cmd",
            THIRD_TIME_LUCKY,
            "--backoff",
            "20ms",
        ],
        &[
            ("DOCKER_HOST", &host),
            ("COUNT", count.to_str().unwrap()),
            ("LIVE", live.socket.to_str().unwrap()),
            ("SOCK", sock.to_str().unwrap()),
        ],
    );
    assert_eq!(probe_only.code, 0, "{probe_only}");
    assert_eq!(probe_only.one("recover", None).verdict, Verdict::Pass);
}

#[test]
fn recovery_gives_up_after_its_attempts_with_a_final_record() {
    let dir = tempfile::tempdir().unwrap();
    let host = unix_host(&dir.path().join("docker.sock"));
    let run = doctor(
        &[
            "--checks",
            "probe",
            "--recover",
            "--yes",
            "--restart-cmd",
            "true",
            "--attempts",
            "2",
            "--reprobes",
            "3",
            "--backoff",
            "10ms",
        ],
        &[("DOCKER_HOST", &host)],
    );
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(run.all("recover.attempt").len(), 2, "{run}");
    assert!(run
        .all("recover.attempt")
        .iter()
        .all(|r| r.verdict == Verdict::Pass));
    // Each successful restart gets the full re-probe schedule.
    assert_eq!(run.all("recover.probe").len(), 6, "{run}");
    let last = run.one("recover", None);
    assert_eq!(
        (last.verdict, last.reason.as_deref()),
        (Verdict::Fail, Some("gave_up")),
        "{run}"
    );
    assert!(
        last.message
            .as_deref()
            .unwrap_or_default()
            .contains("still no_such_socket"),
        "{run}"
    );
    assert_eq!(
        run.records.last().map(|r| r.check.as_str()),
        Some("recover"),
        "the final record is last"
    );
}

#[test]
fn a_restart_command_that_hangs_is_killed_at_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let host = unix_host(&dir.path().join("docker.sock"));
    let run = doctor(
        &[
            "--checks",
            "probe",
            "--recover",
            "--yes",
            "--restart-cmd",
            "sleep 30",
            "--attempts",
            "1",
            "--restart-timeout",
            "300ms",
            "--backoff",
            "10ms",
        ],
        &[("DOCKER_HOST", &host)],
    );
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    let attempt = run.one("recover.attempt", None);
    assert_eq!(attempt.reason.as_deref(), Some("restart_failed"), "{run}");
    assert!(
        attempt
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("killed"),
        "{run}"
    );
    assert_eq!(run.reason("recover", None).as_deref(), Some("gave_up"));
}

#[test]
fn yes_and_restart_cmd_need_recover() {
    let run = doctor(&["--yes"], &[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("--recover"), "{run}");
}
