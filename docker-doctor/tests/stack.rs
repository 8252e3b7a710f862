//! Stack health and resources against the real engine, on compose-like containers
//! the test labels itself (project, service, and its TestScope label).

mod common;

use std::time::{Duration, Instant};

use common::{doctor, Run};
use day2_core::Verdict;
use day2_tests::docker::{docker, docker_stdout, test_image, TestScope};

const PROJECT_LABEL: &str = "com.docker.compose.project";
const SERVICE_LABEL: &str = "com.docker.compose.service";

/// Starts (or with `create`, only creates) a container of `service` in `project`.
fn service(
    scope: &TestScope,
    project: &str,
    service: &str,
    options: &[&str],
    command: &[&str],
) -> String {
    service_as(scope, project, service, "run", options, command)
}

fn service_as(
    scope: &TestScope,
    project: &str,
    service: &str,
    verb: &str,
    options: &[&str],
    command: &[&str],
) -> String {
    let name = scope.name(&format!("{project}-{service}"));
    let labels = [
        scope.label(),
        format!("{PROJECT_LABEL}={}", scope.name(project)),
        format!("{SERVICE_LABEL}={service}"),
    ];
    let mut args = vec![verb];
    if verb == "run" {
        args.push("-d");
    }
    args.extend(["--name", name.as_str()]);
    for label in &labels {
        args.extend(["--label", label.as_str()]);
    }
    args.extend(options);
    args.push(test_image());
    args.extend(command);
    docker(&args);
    name
}

/// Polls `docker inspect -f template` until `ok` holds; panics after 60 s.
fn wait_for(name: &str, template: &str, ok: impl Fn(&str) -> bool) {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let value = docker_stdout(&["inspect", "-f", template, name]);
        if ok(&value) {
            return;
        }
        assert!(
            Instant::now() < until,
            "{name}: {template} is still {value:?} after 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs against the real engine with generous deadlines: on a loaded machine one
/// call can take seconds, and these tests are about classification, not speed.
fn on_engine(args: &[&str]) -> Run {
    let mut all = vec!["--step-timeout", "30s", "--deadline", "60s"];
    all.extend(args);
    doctor(&all, &[])
}

fn service_record<'r>(run: &'r Run, service: &str) -> &'r day2_core::Record {
    run.one("stack.service", Some(service))
}

fn verdict_of(run: &Run, service: &str) -> (Verdict, Option<String>) {
    let record = service_record(run, service);
    (record.verdict, record.reason.clone())
}

#[test]
fn a_mixed_stack_is_reported_service_by_service() {
    let scope = TestScope::new("doctor-stack");
    let project = "mixed";
    let sleep = ["sleep", "300"];
    let ollama = service(
        &scope,
        project,
        "ollama",
        &[
            "-e",
            "OLLAMA_KEEP_ALIVE=24h",
            "--health-cmd",
            "true",
            "--health-interval",
            "1s",
        ],
        &sleep,
    );
    let backend = service(
        &scope,
        project,
        "backend",
        &[
            "--health-cmd",
            "echo backend not ready; exit 1",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
        ],
        &sleep,
    );
    let warmup = service(&scope, project, "warmup", &[], &["sh", "-c", "exit 0"]);
    let init = service(&scope, project, "ollama-init", &[], &["sh", "-c", "exit 4"]);
    let nginx = service(
        &scope,
        project,
        "nginx",
        &["--restart", "always"],
        &["sh", "-c", "exit 2"],
    );
    // Fails once, then runs: a container that restarted and recovered.
    let once = "if [ -f /once ]; then exec sleep 300; else touch /once; exit 1; fi";
    let cloudflared = service(
        &scope,
        project,
        "cloudflared",
        &["--restart", "always"],
        &["sh", "-c", once],
    );
    // A health check whose first run is 5 minutes away: "starting" meanwhile.
    service(
        &scope,
        project,
        "tts",
        &["--health-cmd", "true", "--health-interval", "300s"],
        &sleep,
    );
    let hog = "x=$(head -c 50000000 /dev/zero | tr '\\0' a); echo ${#x}";
    let memhog = service(
        &scope,
        project,
        "memhog",
        &["--memory", "8m"],
        &["sh", "-c", hog],
    );
    service_as(&scope, project, "redis", "create", &[], &sleep);
    // `compose run` containers carry the oneoff label and are not the stack.
    service(
        &scope,
        project,
        "adhoc",
        &["--label", "com.docker.compose.oneoff=True"],
        &sleep,
    );

    wait_for(&ollama, "{{.State.Health.Status}}", |s| s == "healthy");
    wait_for(&backend, "{{.State.Health.Status}}", |s| s == "unhealthy");
    wait_for(&warmup, "{{.State.Status}}", |s| s == "exited");
    wait_for(&init, "{{.State.Status}}", |s| s == "exited");
    wait_for(&memhog, "{{.State.Status}}", |s| s == "exited");
    wait_for(&cloudflared, "{{.State.Status}} {{.RestartCount}}", |s| {
        s == "running 1"
    });
    wait_for(&nginx, "{{.State.Restarting}} {{.RestartCount}}", |s| {
        s.split_once(' ')
            .is_some_and(|(r, n)| r == "true" && n.parse::<u32>().is_ok_and(|n| n >= 3))
    });

    let project_name = scope.name(project);
    let args = [
        "--project",
        &project_name,
        "--expect",
        "ollama,backend,nginx,cloudflared,ghost",
        "--disk-limit",
        "1B",
        "--mem-warn-percent",
        "0",
    ];
    // A crash-looping container is "running" for the instant of each try; on a
    // loaded machine the doctor can catch it there (and rightly says `restarted`).
    // Look again, a bounded number of times, while the engine says it restarts.
    let mut run = on_engine(&args);
    for _ in 0..5 {
        if service_record(&run, "nginx").reason.as_deref() == Some("restarting") {
            break;
        }
        wait_for(&nginx, "{{.State.Restarting}}", |s| s == "true");
        run = on_engine(&args);
    }
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(run.one("probe", None).verdict, Verdict::Pass, "{run}");
    assert_eq!(verdict_of(&run, "ollama"), (Verdict::Pass, None), "{run}");
    assert_eq!(service_record(&run, "ollama").data["health"], "healthy");

    assert_eq!(
        verdict_of(&run, "backend"),
        (Verdict::Fail, Some("unhealthy".into())),
        "{run}"
    );
    let sick = service_record(&run, "backend");
    assert_eq!(sick.data["health_output"], "backend not ready", "{run}");
    assert_eq!(sick.data["health_exit_code"], 1);

    assert_eq!(verdict_of(&run, "warmup"), (Verdict::Pass, None), "{run}");
    assert_eq!(service_record(&run, "warmup").data["one_shot"], true);
    assert_eq!(
        verdict_of(&run, "ollama-init"),
        (Verdict::Fail, Some("exited".into())),
        "{run}"
    );
    assert_eq!(service_record(&run, "ollama-init").data["exit_code"], 4);

    assert_eq!(
        verdict_of(&run, "nginx"),
        (Verdict::Fail, Some("restarting".into())),
        "{run}"
    );
    assert!(
        service_record(&run, "nginx").data["restart_count"]
            .as_i64()
            .unwrap()
            >= 3,
        "{run}"
    );
    assert_eq!(
        verdict_of(&run, "cloudflared"),
        (Verdict::Warn, Some("restarted".into())),
        "{run}"
    );
    assert_eq!(service_record(&run, "cloudflared").data["restart_count"], 1);
    assert_eq!(
        verdict_of(&run, "tts"),
        (Verdict::Warn, Some("health_starting".into())),
        "{run}"
    );
    // The engine flags the OOM kill, or (its flag races with the exit event) the
    // SIGKILL under the memory limit is named all the same: a fail either way.
    let hog = service_record(&run, "memhog");
    match verdict_of(&run, "memhog") {
        (Verdict::Fail, Some(r)) if r == "oom_killed" => assert_eq!(hog.data["oom_killed"], true),
        (Verdict::Fail, Some(r)) if r == "killed" => {
            assert_eq!(hog.data["exit_code"], 137, "{run}");
            assert_eq!(hog.data["memory_limit_bytes"], 8 << 20, "{run}");
        }
        other => panic!("memhog: {other:?}\n{run}"),
    }
    assert_eq!(
        verdict_of(&run, "redis"),
        (Verdict::Fail, Some("not_running".into())),
        "{run}"
    );
    assert_eq!(
        verdict_of(&run, "ghost"),
        (Verdict::Fail, Some("missing".into())),
        "{run}"
    );
    assert!(
        run.all("stack.service").iter().all(|r| r.target != "adhoc"),
        "{run}"
    );
    assert_eq!(run.all("stack.service").len(), 10, "{run}");

    // Resources: every running container's memory (over a 0% threshold), the disk
    // over a 1-byte limit, and a 24h keep-alive.
    let memory = run.all("resources.memory");
    assert_eq!(
        memory.len(),
        4,
        "ollama, backend, cloudflared, tts run:\n{run}"
    );
    for record in &memory {
        assert_eq!(record.reason.as_deref(), Some("memory_high"), "{run}");
        assert!(
            record.data["usage_bytes"].as_u64().is_some()
                && record.data["limit_bytes"].as_u64().unwrap() > 0
        );
    }
    let disk = run.one("resources.disk", None);
    assert_eq!(disk.reason.as_deref(), Some("disk_over_threshold"), "{run}");
    assert_eq!(disk.data["shape"], "legacy", "{run}");
    assert!(disk.data["total_bytes"].as_u64().unwrap() > 0);
    let keep = run.one("resources.keep_alive", None);
    assert_eq!(
        (keep.verdict, keep.reason.as_deref()),
        (Verdict::Warn, Some("keep_alive_long")),
        "{run}"
    );
    assert_eq!(keep.data["seconds"], 86400.0);

    let text = on_engine(&[
        "--project",
        &project_name,
        "--checks",
        "stack",
        "--format",
        "text",
    ]);
    assert_eq!(text.code, 1, "{text}");
    for (label, service, reason) in [
        ("PASS", "ollama", ""),
        ("FAIL", "backend", "unhealthy"),
        ("FAIL", "ollama-init", "exited"),
        ("WARN", "cloudflared", "restarted"),
    ] {
        let rows = day2_tests::text_view::rows(&text.stdout);
        assert!(
            rows.iter().any(|r| r.check == "stack.service"
                && r.label == label
                && r.text.split_whitespace().next() == Some(service)
                && r.text.contains(reason)),
            "{label} {service} {reason} missing in\n{text}"
        );
    }
}

#[test]
fn a_healthy_stack_passes_and_keep_alive_values_are_explained() {
    let scope = TestScope::new("doctor-calm");
    let sleep = ["sleep", "300"];
    service(&scope, "calm", "ollama", &[], &sleep);
    let backend = service(
        &scope,
        "calm",
        "backend",
        &["--health-cmd", "true", "--health-interval", "1s"],
        &sleep,
    );
    let warmup = service(&scope, "calm", "warmup", &[], &["true"]);
    service(
        &scope,
        "set",
        "ollama",
        &["-e", "OLLAMA_KEEP_ALIVE=5m"],
        &sleep,
    );
    service(
        &scope,
        "days",
        "ollama",
        &["-e", "OLLAMA_KEEP_ALIVE=1d"],
        &sleep,
    );
    wait_for(&backend, "{{.State.Health.Status}}", |s| s == "healthy");
    wait_for(&warmup, "{{.State.Status}}", |s| s == "exited");

    let calm = on_engine(&[
        "--project",
        &scope.name("calm"),
        "--expect",
        "ollama,backend",
    ]);
    assert_eq!(calm.code, 0, "{calm}");
    assert!(
        calm.all("stack.service")
            .iter()
            .all(|r| r.verdict == Verdict::Pass),
        "{calm}"
    );
    assert_eq!(calm.all("resources.memory").len(), 2, "{calm}");
    assert!(
        calm.all("resources.memory")
            .iter()
            .all(|r| r.verdict == Verdict::Pass),
        "{calm}"
    );
    assert_eq!(
        calm.one("resources.disk", None).verdict,
        Verdict::Pass,
        "{calm}"
    );
    let default = calm.one("resources.keep_alive", None);
    assert_eq!(
        default.reason.as_deref(),
        Some("keep_alive_default"),
        "{calm}"
    );
    assert!(
        default
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("5 minutes"),
        "{calm}"
    );

    let set = on_engine(&["--project", &scope.name("set"), "--checks", "resources"]);
    assert_eq!(set.code, 0, "{set}");
    assert!(
        set.all("stack.service").is_empty(),
        "--checks resources writes no stack records:\n{set}"
    );
    let record = set.one("resources.keep_alive", None);
    assert_eq!(
        (record.verdict, record.reason.as_deref()),
        (Verdict::Info, Some("keep_alive_set")),
        "{set}"
    );
    assert_eq!(record.data["seconds"], 300.0);

    let days = on_engine(&["--project", &scope.name("days"), "--checks", "resources"]);
    let record = days.one("resources.keep_alive", None);
    assert_eq!(
        (record.verdict, record.reason.as_deref()),
        (Verdict::Warn, Some("keep_alive_invalid")),
        "{days}"
    );
    assert!(
        record
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("uses 5m"),
        "{days}"
    );
}

#[test]
fn a_project_without_containers_is_project_not_found() {
    let scope = TestScope::new("doctor-empty");
    let run = on_engine(&["--project", &scope.name("nothing")]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        run.reason("stack", None).as_deref(),
        Some("project_not_found"),
        "{run}"
    );
    assert_eq!(
        run.reason("resources.keep_alive", None).as_deref(),
        Some("no_ollama_service"),
        "{run}"
    );
}

/// Runs docker-doctor in `dir` with no project given (no --project, no
/// COMPOSE_PROJECT_NAME, no COMPOSE_FILE): the project is the one compose would use there.
fn in_directory(dir: &std::path::Path, args: &[&str]) -> Run {
    let mut command = std::process::Command::new(common::BIN);
    command
        .args(["--step-timeout", "30s", "--deadline", "60s"])
        .args(args)
        .current_dir(dir)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME");
    common::finish(command)
}

/// compose-go cli/options.go: `name:` of the nearest compose file (compose.yaml before
/// docker-compose.yml), else the directory's normalised name.
#[test]
fn the_default_project_is_the_one_compose_uses_here() {
    let scope = TestScope::new("doctor-default");
    service(&scope, "named", "web", &[], &["sleep", "300"]);
    let root = tempfile::tempdir().unwrap();
    let deploy = root.path().join("deploy");
    let sub = deploy.join("app");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        deploy.join("compose.yaml"),
        format!(
            "name: {}\nservices:\n  web:\n    image: x\n",
            scope.name("named")
        ),
    )
    .unwrap();
    std::fs::write(deploy.join("docker-compose.yml"), "name: not-this-one\n").unwrap();
    let run = in_directory(&sub, &["--checks", "stack"]);
    assert_eq!(run.code, 0, "{run}");
    let web = service_record(&run, "web");
    assert_eq!(web.data["project"], scope.name("named").as_str(), "{run}");

    // Without a name, the directory's: a stack not up there is project_not_found.
    let unnamed = root
        .path()
        .join(format!("Unnamed_{}", scope.id.replace('-', "_")));
    std::fs::create_dir_all(&unnamed).unwrap();
    std::fs::write(unnamed.join("docker-compose.yml"), "services: {}\n").unwrap();
    let run = in_directory(&unnamed, &["--checks", "stack"]);
    assert_eq!(run.code, 1, "{run}");
    let stack = run.one("stack", None);
    assert_eq!(stack.reason.as_deref(), Some("project_not_found"), "{run}");
    assert_eq!(stack.data["project_source"], "directory", "{run}");
    assert!(
        stack.target.starts_with("unnamed_day2t_doctor_default_"),
        "{run}"
    );
}

/// The default run skips the stack check where there is no project (info); a stack
/// check asked for by name that finds none has checked nothing: an error with the
/// reason, never exit 0 (issue 18: no pass without an answer).
#[test]
fn no_compose_file_and_no_project_skips_the_stack_check_unless_asked_for() {
    let _scope = TestScope::new("doctor-noproject");
    let empty = tempfile::tempdir().unwrap();
    let directory = empty.path().canonicalize().unwrap();
    let run = in_directory(empty.path(), &["--disk-limit", "1000TiB"]);
    let stack = run.one("stack", None);
    assert_eq!(
        (stack.verdict, stack.reason.as_deref()),
        (Verdict::Info, Some("no_project")),
        "{run}"
    );
    assert!(
        stack
            .message
            .as_deref()
            .unwrap()
            .starts_with("skipped: no compose file in "),
        "{run}"
    );
    assert_eq!(
        stack.data["directory"],
        directory.display().to_string(),
        "{run}"
    );
    assert!(
        run.records
            .iter()
            .all(|r| r.verdict != Verdict::Fail && r.verdict != Verdict::Error),
        "a healthy engine is not a failure here: {run}"
    );
    assert_eq!(run.code, 0, "{run}");
    for checks in ["stack", "probe,stack", "stack,resources"] {
        let run = in_directory(
            empty.path(),
            &["--checks", checks, "--disk-limit", "1000TiB"],
        );
        assert_eq!(run.code, 1, "--checks {checks}: {run}");
        let stack = run.one("stack", None);
        assert_eq!(
            (stack.verdict, stack.reason.as_deref()),
            (Verdict::Error, Some("no_project")),
            "{run}"
        );
        let message = stack.message.as_deref().unwrap();
        assert!(
            message.starts_with(&format!(
                "--checks stack has no project to check: no compose file in {}",
                directory.display()
            )),
            "{run}"
        );
    }
    // The text checklist shows it as an error (could not check), not a skip.
    let text = in_directory(empty.path(), &["--checks", "stack", "--format", "text"]);
    assert_eq!(text.code, 1, "{text}");
    assert!(text.stdout.contains("stack\n  ERROR  "), "{text}");
    assert!(text.stdout.contains("no_project"), "{text}");
    assert!(!text.stdout.contains("SKIP"), "{text}");
    // An invalid name given through the environment is refused, as compose does.
    let mut command = std::process::Command::new(common::BIN);
    command
        .args(["--checks", "stack"])
        .current_dir(empty.path())
        .env("COMPOSE_PROJECT_NAME", "My.Project");
    let bad = common::finish(command);
    assert_eq!(bad.code, 2, "{bad}");
    assert!(
        bad.stderr.contains("invalid project name \"My.Project\""),
        "{bad}"
    );
}
