//! Stack health of one compose project, found by the labels compose puts on its
//! containers (`com.docker.compose.project`, `com.docker.compose.service`): each
//! service present, running, healthy (with the last health-check output), its
//! restart count, OOM kills, and the exit code of one-shot helpers.

use std::collections::HashMap;
use std::time::Duration;

use bollard::query_parameters::ListContainersOptionsBuilder;
use bollard::Docker;
use day2_core::{Record, Verdict};
use serde_json::json;

use day2_core::Problem;
use day2_docker::engine::bounded;

pub const PROJECT_LABEL: &str = "com.docker.compose.project";
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
/// Set on `docker compose run` containers, which are not part of the stack.
const ONEOFF_LABEL: &str = "com.docker.compose.oneoff";
/// How much of the last health-check output a record carries.
const HEALTH_OUTPUT_LIMIT: usize = 500;

#[derive(Debug, Clone)]
pub struct Settings {
    pub project: String,
    /// How the project was found (`option`, `.env`, `name`, `directory`; see
    /// [`crate::compose`]).
    pub source: &'static str,
    /// The file that named it, if any.
    pub source_file: Option<std::path::PathBuf>,
    /// Services that must exist; empty means "whatever the project has".
    pub expect: Vec<String>,
    /// Services that run once and exit (exit code 0 is their success).
    pub one_shot: Vec<String>,
    pub timeout: Duration,
}

/// A container of the stack, for the resource checks.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub service: String,
    pub running: bool,
    pub env: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Stack {
    pub records: Vec<Record>,
    pub members: Vec<Member>,
}

/// What the classification looks at, taken from `docker inspect`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    pub state: String,
    pub restarting: bool,
    pub oom_killed: bool,
    pub exit_code: i64,
    /// `healthy`, `unhealthy`, `starting`, or `None` without a health check.
    pub health: Option<String>,
    pub restart_count: i64,
    pub one_shot: bool,
    /// `HostConfig.Memory`: the container's memory limit in bytes, 0 for none.
    pub memory_limit: i64,
}

/// Exit code of a process killed by SIGKILL (128 + 9), what the kernel's OOM killer sends.
const SIGKILL_EXIT: i64 = 137;

/// The verdict, reason and sentence for one container.
pub fn classify(v: &View) -> (Verdict, Option<&'static str>, String) {
    use Verdict::{Fail, Pass, Warn};
    if v.oom_killed {
        return (
            Fail,
            Some("oom_killed"),
            format!(
                "killed for lack of memory (state {}, exit code {})",
                v.state, v.exit_code
            ),
        );
    }
    if v.restarting || v.state == "restarting" {
        return (
            Fail,
            Some("restarting"),
            format!(
                "restarting in a loop: {} restarts, last exit code {}",
                v.restart_count, v.exit_code
            ),
        );
    }
    match v.state.as_str() {
        "running" => match v.health.as_deref() {
            Some("unhealthy") => (
                Fail,
                Some("unhealthy"),
                "running but its health check fails".to_owned(),
            ),
            Some("starting") => (
                Warn,
                Some("health_starting"),
                "running; health check not passed yet".to_owned(),
            ),
            _ if v.restart_count > 0 => (
                Warn,
                Some("restarted"),
                format!("running, after {} restart(s)", v.restart_count),
            ),
            _ => (Pass, None, "running".to_owned()),
        },
        // The engine's OOMKilled flag races with the exit event (moby's exit handler
        // overwrites it with what containerd knew at exit, daemon/monitor.go), so a
        // SIGKILL under a memory limit is named even when the flag stayed false.
        "exited" if v.exit_code == SIGKILL_EXIT && v.memory_limit > 0 => (
            Fail,
            Some("killed"),
            format!(
                "killed with SIGKILL (exit code 137) under a memory limit of {} bytes: \
                 most likely the OOM killer, though the engine did not flag it",
                v.memory_limit
            ),
        ),
        "exited" if v.one_shot && v.exit_code == 0 => (
            Pass,
            None,
            "one-shot helper completed (exit code 0)".to_owned(),
        ),
        "exited" => (
            Fail,
            Some("exited"),
            format!("exited with code {}", v.exit_code),
        ),
        other => (Fail, Some("not_running"), format!("in state {other:?}")),
    }
}

/// Checks the project's containers; missing expected services are failures.
pub async fn check(docker: &Docker, settings: &Settings) -> Result<Stack, Problem> {
    let filters = HashMap::from([(
        "label",
        vec![format!("{PROJECT_LABEL}={}", settings.project)],
    )]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let listed = bounded(
        settings.timeout,
        "list the project's containers",
        docker.list_containers(Some(options)),
    )
    .await?;
    let mut stack = Stack::default();
    let mut seen: Vec<String> = Vec::new();
    for summary in listed {
        let labels = summary.labels.unwrap_or_default();
        if labels
            .get(ONEOFF_LABEL)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            continue;
        }
        let Some(id) = summary.id else { continue };
        let service = labels.get(SERVICE_LABEL).cloned().unwrap_or_default();
        let inspect = bounded(
            settings.timeout,
            "inspect a container",
            docker.inspect_container(&id, None),
        )
        .await?;
        let name = inspect
            .name
            .clone()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned();
        let state = inspect.state.clone().unwrap_or_default();
        let health = state.health.clone();
        let view = View {
            state: state.status.map(|s| s.to_string()).unwrap_or_default(),
            restarting: state.restarting.unwrap_or(false),
            oom_killed: state.oom_killed.unwrap_or(false),
            exit_code: state.exit_code.unwrap_or(0),
            health: health
                .as_ref()
                .and_then(|h| h.status)
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty() && s != "none"),
            restart_count: inspect.restart_count.unwrap_or(0),
            one_shot: settings.one_shot.contains(&service),
            memory_limit: inspect
                .host_config
                .as_ref()
                .and_then(|h| h.memory)
                .unwrap_or(0),
        };
        let last_check = health
            .as_ref()
            .and_then(|h| h.log.as_ref())
            .and_then(|log| log.last());
        let (verdict, reason, message) = classify(&view);
        let target = if service.is_empty() {
            name.clone()
        } else {
            service.clone()
        };
        let record = Record::new("stack.service", &target, verdict, reason).message(message).data(json!({
            "project": settings.project,
            "service": service,
            "container": name,
            "state": view.state,
            "health": view.health,
            "health_failing_streak": health.as_ref().and_then(|h| h.failing_streak),
            "health_output": last_check.and_then(|c| c.output.as_deref()).map(|o| clip(o.trim(), HEALTH_OUTPUT_LIMIT)),
            "health_exit_code": last_check.and_then(|c| c.exit_code),
            "restart_count": view.restart_count,
            "oom_killed": view.oom_killed,
            "exit_code": view.exit_code,
            "memory_limit_bytes": view.memory_limit,
            "one_shot": view.one_shot,
            "image": inspect.config.as_ref().and_then(|c| c.image.clone()),
        }));
        stack.records.push(record);
        seen.push(service.clone());
        stack.members.push(Member {
            id,
            name,
            service,
            running: view.state == "running",
            env: inspect.config.and_then(|c| c.env).unwrap_or_default(),
        });
    }
    for service in &settings.expect {
        if !seen.contains(service) {
            stack.records.push(
                Record::fail("stack.service", service, "missing")
                    .message(format!(
                        "no container of service {service:?} in project {:?}",
                        settings.project
                    ))
                    .data(json!({"project": settings.project, "service": service})),
            );
        }
    }
    if stack.records.is_empty() {
        let from = match &settings.source_file {
            Some(file) => format!(" (project from {}, {})", file.display(), settings.source),
            None => String::new(),
        };
        stack.records.push(
            Record::fail("stack", &settings.project, "project_not_found")
                .message(format!(
                    "no container carries {PROJECT_LABEL}={}{from}",
                    settings.project
                ))
                .data(json!({
                    "project": settings.project,
                    "project_source": settings.source,
                    "project_file": settings.source_file,
                })),
        );
    }
    Ok(stack)
}

/// At most `limit` bytes of `text`, cut at a character boundary.
pub fn clip(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(state: &str) -> View {
        View {
            state: state.into(),
            ..View::default()
        }
    }

    #[test]
    fn oom_and_restart_loops_win_over_the_state() {
        let oom = View {
            oom_killed: true,
            ..view("exited")
        };
        assert_eq!(classify(&oom).1, Some("oom_killed"));
        let unflagged = View {
            exit_code: 137,
            memory_limit: 8 << 20,
            ..view("exited")
        };
        assert_eq!(classify(&unflagged).1, Some("killed"));
        let no_limit = View {
            exit_code: 137,
            ..view("exited")
        };
        assert_eq!(classify(&no_limit).1, Some("exited"));
        let looping = View {
            restarting: true,
            restart_count: 4,
            ..view("running")
        };
        assert_eq!(classify(&looping).1, Some("restarting"));
    }

    #[test]
    fn one_shot_helpers_pass_only_with_exit_code_zero() {
        let done = View {
            one_shot: true,
            ..view("exited")
        };
        assert_eq!(classify(&done).0, Verdict::Pass);
        let broke = View {
            one_shot: true,
            exit_code: 3,
            ..view("exited")
        };
        assert_eq!(classify(&broke).1, Some("exited"));
        assert_eq!(classify(&view("exited")).1, Some("exited"));
        assert_eq!(classify(&view("created")).1, Some("not_running"));
    }

    #[test]
    fn health_decides_for_running_containers() {
        let sick = View {
            health: Some("unhealthy".into()),
            ..view("running")
        };
        assert_eq!(classify(&sick).1, Some("unhealthy"));
        let warming = View {
            health: Some("starting".into()),
            ..view("running")
        };
        assert_eq!(classify(&warming).0, Verdict::Warn);
        assert_eq!(classify(&view("running")).0, Verdict::Pass);
    }
}
