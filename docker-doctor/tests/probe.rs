//! The probe ladder against the real engine and against faults that never touch
//! it: missing, forbidden, refusing, silent and garbage-speaking endpoints.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::process::Command;
use std::time::Duration;

use common::{doctor, finish, unix_host, FakeDaemon, Mode, Run};
use day2_core::Verdict;

const STEPS: [&str; 5] = [
    "probe.endpoint",
    "probe.ping",
    "probe.version",
    "probe.containers",
    "probe.info",
];

/// Asserts a failed ladder: exit 1, the step that failed with `reason`, the later
/// steps skipped, and the summary naming step and reason with remediation.
fn assert_failed_at(run: &Run, step: usize, reason: &str) {
    assert_eq!(run.code, 1, "{run}");
    for (index, check) in STEPS.iter().enumerate() {
        let record = run.one(check, None);
        let n = index + 1;
        let expected = match n.cmp(&step) {
            std::cmp::Ordering::Less => (Verdict::Pass, None),
            std::cmp::Ordering::Equal => (Verdict::Fail, Some(reason)),
            std::cmp::Ordering::Greater => (Verdict::Info, Some("skipped")),
        };
        assert_eq!(
            (record.verdict, record.reason.as_deref()),
            expected,
            "{check} in\n{run}"
        );
        assert_eq!(record.data["step"], n, "{run}");
    }
    let summary = run.one("probe", None);
    assert_eq!(summary.verdict, Verdict::Fail);
    assert_eq!(summary.reason.as_deref(), Some(reason));
    assert_eq!(summary.data["failed_step"], step);
    let remediation = summary.data["remediation"]
        .as_array()
        .expect("remediation lines");
    assert!(!remediation.is_empty(), "{run}");
}

fn remediation_text(run: &Run) -> String {
    let summary = run.one("probe", None);
    summary.data["remediation"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_full_ladder_passes_on_the_real_engine() {
    day2_tests::require::docker_engine();
    // Generous deadlines: on a loaded machine the real engine can take seconds.
    let run = doctor(
        &[
            "--checks",
            "probe",
            "--step-timeout",
            "30s",
            "--deadline",
            "60s",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{run}");
    for check in STEPS {
        let record = run.one(check, None);
        assert_eq!(record.verdict, Verdict::Pass, "{run}");
        assert!(record.duration_ms.is_some(), "{run}");
        assert!(
            record.data["deadline_ms"].as_u64().unwrap() <= 30000,
            "{run}"
        );
    }
    let version = run.one("probe.version", None);
    let api = version.data["api_version"]
        .as_str()
        .expect("server api version");
    assert!(api.starts_with("1."), "{run}");
    assert!(version.data["client_api_version"].is_string(), "{run}");
    assert_eq!(
        run.one("probe.containers", None).target,
        format!("/v{api}/containers/json")
    );
    assert!(
        run.one("probe.info", None).data["server_version"].is_string(),
        "{run}"
    );
    assert_eq!(run.one("probe", None).verdict, Verdict::Pass);
    assert!(run.records.len() == 6, "{run}");

    // An empty DOCKER_HOST means the default socket, as for the docker CLI.
    let empty = doctor(
        &[
            "--checks",
            "probe",
            "--step-timeout",
            "30s",
            "--deadline",
            "60s",
        ],
        &[("DOCKER_HOST", "")],
    );
    assert_eq!(empty.code, 0, "{empty}");
    assert_eq!(
        empty.one("probe", None).target,
        "unix:///var/run/docker.sock"
    );
}

#[test]
fn text_format_is_a_pass_fail_skip_checklist() {
    day2_tests::require::docker_engine();
    let good = doctor(
        &[
            "--checks",
            "probe",
            "--format",
            "text",
            "--step-timeout",
            "30s",
            "--deadline",
            "60s",
        ],
        &[],
    );
    assert_eq!(good.code, 0, "{good}");
    let rows = day2_tests::text_view::rows(&good.stdout);
    assert_eq!(rows.len(), 6, "{good}");
    assert!(
        rows.iter()
            .all(|r| r.label == "PASS" && r.check.starts_with("probe")),
        "{good}"
    );
    assert!(
        !good.stdout.contains("{\"v\""),
        "no records in the text view:\n{good}"
    );

    let dir = tempfile::tempdir().unwrap();
    let host = unix_host(&dir.path().join("nope.sock"));
    let bad = doctor(
        &[
            "--checks",
            "probe",
            "--format",
            "text",
            "--platform",
            "linux",
        ],
        &[("DOCKER_HOST", &host)],
    );
    assert_eq!(bad.code, 1, "{bad}");
    let rows = day2_tests::text_view::rows(&bad.stdout);
    assert_eq!(
        (rows[0].check.as_str(), rows[0].label.as_str()),
        ("probe.endpoint", "FAIL"),
        "{bad}"
    );
    assert!(
        rows[0].text.starts_with(&host) && rows[0].text.contains("  no_such_socket"),
        "{bad}"
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.label == "SKIP" && r.check.starts_with("probe."))
            .count(),
        4,
        "{bad}"
    );
    assert!(
        rows.iter().any(|r| r
            .below
            .iter()
            .any(|l| l.starts_with("> systemctl restart docker"))),
        "{bad}"
    );
    // The failure is also said on stderr, with its reason, and the run closes.
    assert!(
        bad.stderr.contains(&format!(
            "docker-doctor: probe.endpoint {host}: no_such_socket — "
        )),
        "{bad}"
    );
    assert!(
        bad.stderr.contains("exit 1: at least one check failed"),
        "{bad}"
    );
}

#[test]
fn a_missing_socket_is_no_such_socket_with_linux_remediation() {
    let dir = tempfile::tempdir().unwrap();
    let host = unix_host(&dir.path().join("docker.sock"));
    let run = doctor(&["--platform", "linux"], &[("DOCKER_HOST", &host)]);
    assert_failed_at(&run, 1, "no_such_socket");
    let text = remediation_text(&run);
    assert!(text.contains("systemctl restart docker"), "{text}");
    assert!(text.contains("$XDG_RUNTIME_DIR/docker.sock"), "{text}");
    // The stack and resource checks are skipped, not attempted.
    assert_eq!(
        run.reason("stack", Some("deploy")).as_deref(),
        Some("skipped")
    );
    assert_eq!(run.reason("resources", None).as_deref(), Some("skipped"));
}

#[test]
fn a_missing_socket_on_docker_desktop_quotes_the_pipe_error_and_the_guide_restart() {
    let dir = tempfile::tempdir().unwrap();
    let host = unix_host(&dir.path().join("docker.sock"));
    let run = doctor(
        &["--checks", "probe", "--platform", "desktop"],
        &[("DOCKER_HOST", &host)],
    );
    assert_failed_at(&run, 1, "no_such_socket");
    let text = remediation_text(&run);
    assert!(
        text.contains(
            "open //./pipe/dockerDesktopLinuxEngine: The system cannot find the file specified."
        ),
        "{text}"
    );
    assert!(text.contains("wsl --shutdown"), "{text}");
    assert!(text.contains("Start-Service com.docker.service"), "{text}");
    assert_eq!(run.one("probe", None).data["platform"], "desktop");
}

#[test]
fn a_rootless_socket_path_is_detected_and_remediated_per_user() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path().to_str().unwrap();
    let host = unix_host(&dir.path().join("docker.sock"));
    let run = doctor(
        &["--checks", "probe"],
        &[("DOCKER_HOST", &host), ("XDG_RUNTIME_DIR", runtime)],
    );
    assert_failed_at(&run, 1, "no_such_socket");
    assert_eq!(run.one("probe", None).data["platform"], "rootless");
    assert!(
        remediation_text(&run).contains("systemctl --user start docker"),
        "{run}"
    );
}

/// Root passes every permission check (CAP_DAC_OVERRIDE), so a mode-0600 socket
/// does not stop the test process. The probe runs as `nobody` via `setpriv`, which
/// is what a user outside the docker group really meets.
#[test]
fn a_socket_this_user_may_not_open_is_permission_denied() {
    let setpriv = day2_tests::require::program("setpriv", "util-linux");
    let fake = FakeDaemon::start(Mode::Healthy);
    std::fs::set_permissions(fake.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&fake.socket, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut command = Command::new(setpriv);
    command
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            common::BIN,
        ])
        .args([
            "--checks",
            "probe",
            "--platform",
            "linux",
            "--host",
            &fake.host(),
        ])
        .env_remove("DOCKER_HOST");
    let run = finish(command);
    assert_failed_at(&run, 1, "permission_denied");
    assert!(
        remediation_text(&run).contains("usermod -aG docker"),
        "{run}"
    );
}

#[test]
fn a_socket_nobody_listens_on_is_connection_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docker.sock");
    drop(UnixListener::bind(&path).unwrap()); // the file stays, the listener is gone
    let run = doctor(
        &["--checks", "probe", "--platform", "linux"],
        &[("DOCKER_HOST", &unix_host(&path))],
    );
    assert_failed_at(&run, 1, "connection_refused");
    assert!(
        remediation_text(&run).contains("systemctl restart docker"),
        "{run}"
    );
}

#[test]
fn a_tcp_port_nobody_listens_on_is_connection_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("tcp://127.0.0.1:{port}");
    let run = doctor(&["--checks", "probe"], &[("DOCKER_HOST", &host)]);
    assert_failed_at(&run, 1, "connection_refused");
}

#[test]
fn a_listener_that_never_answers_is_hung_at_the_ping_step_within_its_deadline() {
    let fake = FakeDaemon::start(Mode::Silent);
    let run = doctor(
        &[
            "--checks",
            "probe",
            "--step-timeout",
            "500ms",
            "--deadline",
            "5s",
        ],
        &[("DOCKER_HOST", &fake.host())],
    );
    assert_failed_at(&run, 2, "hung");
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    let summary = run.one("probe", None);
    assert_eq!(summary.data["step"], "ping");
    let message = summary.message.as_deref().unwrap_or_default();
    assert!(
        message.starts_with("timed out at step 2 (ping)"),
        "{message}"
    );
    assert_eq!(run.one("probe.ping", None).data["deadline_ms"], 500);
}

#[test]
fn the_overall_deadline_cuts_a_step_short() {
    let fake = FakeDaemon::start(Mode::Silent);
    let run = doctor(
        &[
            "--checks",
            "probe",
            "--step-timeout",
            "20s",
            "--deadline",
            "800ms",
        ],
        &[("DOCKER_HOST", &fake.host())],
    );
    assert_failed_at(&run, 2, "hung");
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    let ping_deadline = run.one("probe.ping", None).data["deadline_ms"]
        .as_u64()
        .unwrap();
    assert!(ping_deadline <= 800, "{run}");
}

#[test]
fn a_tcp_listener_that_never_answers_is_hung() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and hold connections in the background; the test ends before it matters.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(10) {
            held.push(stream);
        }
    });
    let host = format!("tcp://127.0.0.1:{port}");
    let run = doctor(
        &["--checks", "probe", "--step-timeout", "400ms"],
        &[("DOCKER_HOST", &host)],
    );
    assert_failed_at(&run, 2, "hung");
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn a_server_speaking_garbage_is_garbage_response() {
    let fake = FakeDaemon::start(Mode::Garbage);
    let run = doctor(&["--checks", "probe"], &[("DOCKER_HOST", &fake.host())]);
    assert_failed_at(&run, 2, "garbage_response");
    let message = run
        .one("probe.ping", None)
        .message
        .clone()
        .unwrap_or_default();
    assert!(message.contains("SSH-2.0"), "{message}");
}

#[test]
fn an_old_engine_is_api_too_old() {
    let fake = FakeDaemon::start(Mode::OldApi);
    let run = doctor(&["--checks", "probe"], &[("DOCKER_HOST", &fake.host())]);
    assert_failed_at(&run, 3, "api_too_old");
    let version = run.one("probe.version", None);
    assert!(
        version
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("1.25"),
        "{run}"
    );
    // The same engine passes when the caller accepts its API.
    let lenient = doctor(
        &["--checks", "probe", "--min-api", "1.24"],
        &[("DOCKER_HOST", &fake.host())],
    );
    assert_eq!(lenient.code, 0, "{lenient}");
}

#[test]
fn a_daemon_whose_info_fails_is_http_error_at_step_five() {
    let fake = FakeDaemon::start(Mode::InfoError);
    let run = doctor(&["--checks", "probe"], &[("DOCKER_HOST", &fake.host())]);
    assert_failed_at(&run, 5, "http_error");
    assert!(
        run.one("probe.info", None)
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("HTTP 500"),
        "{run}"
    );
}

#[test]
fn a_docker_host_without_scheme_or_pointing_at_a_file_is_bad_docker_host() {
    let run = doctor(
        &["--checks", "probe"],
        &[("DOCKER_HOST", "/var/run/docker.sock")],
    );
    assert_failed_at(&run, 1, "bad_docker_host");
    assert!(run
        .one("probe.endpoint", None)
        .message
        .as_deref()
        .unwrap_or_default()
        .contains("unix:///var/run/docker.sock"));

    let file = tempfile::NamedTempFile::new().unwrap();
    let run = doctor(
        &["--checks", "probe"],
        &[("DOCKER_HOST", &unix_host(file.path()))],
    );
    assert_failed_at(&run, 1, "bad_docker_host");
    assert!(
        run.one("probe", None)
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("not a socket"),
        "{run}"
    );
}

#[test]
fn a_named_pipe_on_linux_is_a_windows_only_endpoint() {
    let run = doctor(
        &["--checks", "probe"],
        &[("DOCKER_HOST", "npipe:////./pipe/dockerDesktopLinuxEngine")],
    );
    assert_failed_at(&run, 1, "unsupported_endpoint");
    let summary = run.one("probe", None);
    assert!(
        summary
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("Windows-only endpoint"),
        "{run}"
    );
    assert_eq!(summary.data["platform"], "desktop");
    assert!(
        remediation_text(&run).contains("unix:///var/run/docker.sock"),
        "{run}"
    );
}

#[test]
fn any_other_os_error_is_io_error() {
    // A symlink loop: connect() fails with ELOOP, none of the classified causes.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let run = doctor(&["--checks", "probe"], &[("DOCKER_HOST", &unix_host(&a))]);
    assert_failed_at(&run, 1, "io_error");
}

#[test]
fn calls_failing_after_the_ladder_are_docker_error_records() {
    let fake = FakeDaemon::start(Mode::LaterErrors);
    let run = doctor(&[], &[("DOCKER_HOST", &fake.host())]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(run.one("probe", None).verdict, Verdict::Pass, "{run}");
    let stack = run.one("stack", None);
    assert_eq!(
        (stack.verdict, stack.reason.as_deref()),
        (Verdict::Error, Some("docker_error")),
        "{run}"
    );
    let disk = run.one("resources.disk", None);
    assert_eq!(
        (disk.verdict, disk.reason.as_deref()),
        (Verdict::Error, Some("docker_error")),
        "{run}"
    );
}

#[test]
fn calls_that_hang_after_the_ladder_are_hung_records_within_their_deadline() {
    let fake = FakeDaemon::start(Mode::LaterSilent);
    let run = doctor(
        &["--step-timeout", "500ms", "--df-timeout", "500ms"],
        &[("DOCKER_HOST", &fake.host())],
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    assert_eq!(run.one("probe", None).verdict, Verdict::Pass, "{run}");
    assert_eq!(run.reason("stack", None).as_deref(), Some("hung"), "{run}");
    assert_eq!(
        run.reason("resources.disk", None).as_deref(),
        Some("hung"),
        "{run}"
    );
}

#[test]
fn unexpected_answers_after_the_ladder_are_named() {
    let fake = FakeDaemon::start(Mode::LaterOdd);
    let run = doctor(&[], &[("DOCKER_HOST", &fake.host())]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        run.reason("stack", None).as_deref(),
        Some("docker_error"),
        "{run}"
    );
    let disk = run.one("resources.disk", None);
    assert_eq!(
        (disk.verdict, disk.reason.as_deref()),
        (Verdict::Error, Some("garbage_response")),
        "{run}"
    );
}

#[test]
fn a_failing_stats_call_and_a_forever_keep_alive_are_reported() {
    let fake = FakeDaemon::start(Mode::OneOllama);
    let run = doctor(&["--expect", "ollama"], &[("DOCKER_HOST", &fake.host())]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        run.one("stack.service", Some("ollama")).verdict,
        Verdict::Pass,
        "{run}"
    );
    let memory = run.one("resources.memory", None);
    assert_eq!(
        (memory.verdict, memory.reason.as_deref()),
        (Verdict::Error, Some("docker_error")),
        "{run}"
    );
    let keep = run.one("resources.keep_alive", None);
    assert_eq!(keep.reason.as_deref(), Some("keep_alive_long"), "{run}");
    assert!(
        keep.message
            .as_deref()
            .unwrap_or_default()
            .contains("never leaves RAM"),
        "{run}"
    );
    assert_eq!(
        run.one("resources.disk", None).verdict,
        Verdict::Pass,
        "{run}"
    );
}
