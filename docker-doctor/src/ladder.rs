//! The probe ladder: endpoint reachable → `/_ping` → `/version` → container list →
//! `/info`, each step with its own deadline inside one overall deadline.
//!
//! Every step runs on its own thread and the caller waits for it with a timeout, so
//! even a call the OS will not time out (a Unix `connect` on a full backlog, a DNS
//! lookup) cannot hang the probe: the step is reported as hung and its thread is
//! abandoned. The socket timeouts inside [`day2_docker::raw`] normally end the step
//! first, with a precise message.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use day2_core::Record;
use serde_json::{json, Value};

use day2_core::Problem;
use day2_docker::host::{self, Endpoint};
use day2_docker::raw::{self, Client};

use crate::remedy::{self, Platform};

/// The raw client of the ladder and the disk query: bodies up to 32 MiB (a
/// `docker ps` of a busy host fits easily).
pub const RAW: Client = Client {
    user_agent: concat!("docker-doctor/", env!("CARGO_PKG_VERSION")),
    body_limit: 32 * 1024 * 1024,
};

/// How long the watchdog waits past a step's deadline for the step's own timeout.
const GRACE: Duration = Duration::from_millis(250);

/// An Engine API version such as `1.41`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    pub fn parse(text: &str) -> Option<ApiVersion> {
        let (major, minor) = text.trim().split_once('.')?;
        Some(ApiVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A clap value parser for `--min-api`.
pub fn parse_api(text: &str) -> Result<ApiVersion, String> {
    ApiVersion::parse(text).ok_or_else(|| format!("{text:?} is not an API version like 1.41"))
}

/// What the ladder needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The `DOCKER_HOST` text as given (the target of the endpoint records).
    pub host: String,
    pub tls_verify: bool,
    pub step_timeout: Duration,
    pub deadline: Duration,
    pub min_api: ApiVersion,
    pub platform: Platform,
}

/// The ladder's result: its records, and what later checks need.
#[derive(Debug)]
pub struct Outcome {
    /// One record per step (skipped steps included), then the `probe` summary.
    pub records: Vec<Record>,
    /// The classified failure, if a step failed: its reason is one of the documented
    /// probe reasons (see `remedy::remediation`).
    pub failure: Option<Problem>,
    /// The endpoint, when `DOCKER_HOST` parsed.
    pub endpoint: Option<Endpoint>,
    /// The server's API version, when `/version` answered.
    pub api: Option<ApiVersion>,
    pub platform: Platform,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }

    /// The `probe` summary record (always the last one).
    pub fn summary(&self) -> Option<&Record> {
        self.records.last()
    }
}

const STEPS: [(&str, &str); 5] = [
    ("probe.endpoint", "endpoint"),
    ("probe.ping", "ping"),
    ("probe.version", "version"),
    ("probe.containers", "containers"),
    ("probe.info", "info"),
];

/// Runs the whole ladder; returns within `deadline` plus a small grace.
pub fn run(settings: &Settings) -> Outcome {
    let started = Instant::now();
    let overall = started + settings.deadline;
    let parsed = host::parse(&settings.host, settings.tls_verify);
    let platform = settings
        .platform
        .resolve(&settings.host, parsed.as_ref().ok());
    let mut outcome = Outcome {
        records: Vec::new(),
        failure: None,
        endpoint: parsed.as_ref().ok().cloned(),
        api: None,
        platform,
    };
    let mut failed_at: Option<(usize, String)> = None;
    for (index, (check, name)) in STEPS.iter().enumerate() {
        let n = index + 1;
        let target = step_target(n, &settings.host, outcome.api);
        if failed_at.is_some() {
            outcome.records.push(
                Record::info(check, &target, "skipped")
                    .message(format!(
                        "not run: step {} failed",
                        failed_at.as_ref().map_or(0, |f| f.0)
                    ))
                    .data(json!({"step": n})),
            );
            continue;
        }
        let step_start = Instant::now();
        let deadline = overall.min(step_start + settings.step_timeout);
        let result = match (&parsed, step_start >= overall) {
            (Err(err), _) => Err(err.clone()),
            (Ok(_), true) => Err(Problem::new(
                "hung",
                format!(
                    "the overall deadline of {} ran out before this step",
                    human(settings.deadline)
                ),
            )),
            // Each step on its own thread, waited for until its deadline (plus grace).
            (Ok(ep), false) => {
                let (ep, api, min_api) = (ep.clone(), outcome.api, settings.min_api);
                guarded(deadline, move || step(n, &ep, api, min_api, deadline))
            }
        };
        let elapsed = step_start.elapsed();
        let deadline_ms = deadline.saturating_duration_since(step_start).as_millis() as u64;
        match result {
            Ok(mut data) => {
                if n == 3 {
                    outcome.api = data
                        .get("api_version")
                        .and_then(Value::as_str)
                        .and_then(ApiVersion::parse);
                }
                data["step"] = json!(n);
                data["deadline_ms"] = json!(deadline_ms);
                outcome
                    .records
                    .push(Record::pass(check, &target).data(data).duration(elapsed));
            }
            Err(problem) => {
                let mut failure = problem;
                if failure.reason() == "hung" {
                    failure.message = format!(
                        "timed out at step {n} ({name}) after {}: {}",
                        human(elapsed),
                        failure.message
                    );
                }
                outcome.records.push(
                    Record::fail(check, &target, failure.reason())
                        .message(failure.message.clone())
                        .data(json!({"step": n, "deadline_ms": deadline_ms}))
                        .duration(elapsed),
                );
                failed_at = Some((n, (*name).to_owned()));
                outcome.failure = Some(failure);
            }
        }
    }
    let total = started.elapsed();
    let summary = match (&outcome.failure, &failed_at) {
        (Some(failure), Some((n, name))) => {
            let remediation = remedy::remediation(
                failure.reason(),
                platform,
                &settings.host,
                &step_target(*n, "", outcome.api),
            );
            Record::fail("probe", &settings.host, failure.reason())
                .message(failure.message.clone())
                .data(json!({
                    "failed_step": n,
                    "step": name,
                    "platform": platform.name(),
                    "remediation": remediation,
                }))
        }
        _ => Record::pass("probe", &settings.host).data(json!({
            "steps": STEPS.len(),
            "api_version": outcome.api.map(|v| v.to_string()),
            "platform": platform.name(),
        })),
    };
    outcome.records.push(summary.duration(total));
    outcome
}

/// What a step looks at: the endpoint for step 1, the request path after it.
fn step_target(n: usize, host: &str, api: Option<ApiVersion>) -> String {
    let versioned = |path: &str| match api {
        Some(v) => format!("/v{v}{path}"),
        None => path.to_owned(),
    };
    match n {
        1 => host.to_owned(),
        2 => "/_ping".to_owned(),
        3 => "/version".to_owned(),
        4 => versioned("/containers/json"),
        _ => versioned("/info"),
    }
}

/// Runs `work` on its own thread and waits for it until `deadline` plus a grace;
/// past that the work is abandoned and reported as hung.
pub fn guarded<T: Send + 'static>(
    deadline: Instant,
    work: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("docker-doctor-probe".into())
        .spawn(move || {
            let _ = tx.send(work());
        });
    if let Err(err) = spawned {
        return Err(Problem::new(
            "io_error",
            format!("cannot start a probe thread: {err}"),
        ));
    }
    let wait = deadline.saturating_duration_since(Instant::now()) + GRACE;
    rx.recv_timeout(wait).unwrap_or_else(|_| {
        Err(Problem::new(
            "hung",
            "a blocking call did not return (the watchdog gave up on it)",
        ))
    })
}

fn step(
    n: usize,
    endpoint: &Endpoint,
    api: Option<ApiVersion>,
    min_api: ApiVersion,
    deadline: Instant,
) -> Result<Value, Problem> {
    if n == 1 {
        raw::connect(endpoint, deadline)?;
        return Ok(json!({"kind": endpoint.kind(), "address": endpoint.address()}));
    }
    let path = step_target(n, "", api);
    let response = RAW.get(endpoint, &path, deadline)?;
    if !response.status().is_success() {
        let body = raw::snippet(response.body());
        return Err(Problem::new(
            "http_error",
            format!(
                "{path} answered HTTP {}: {body}",
                response.status().as_u16()
            ),
        ));
    }
    match n {
        2 => {
            let body = String::from_utf8_lossy(response.body());
            if body.trim() != "OK" {
                return Err(Problem::new(
                    "garbage_response",
                    format!(
                        "/_ping answered {} instead of OK",
                        raw::snippet(response.body())
                    ),
                ));
            }
            Ok(json!({
                "api_version": raw::header(&response, "api-version"),
                "os_type": raw::header(&response, "ostype"),
            }))
        }
        3 => {
            let version: Value = json_body(&path, response.body())?;
            let server_api = version.get("ApiVersion").and_then(Value::as_str);
            let Some(parsed) = server_api.and_then(ApiVersion::parse) else {
                return Err(Problem::new(
                    "garbage_response",
                    "/version has no ApiVersion",
                ));
            };
            let client = bollard::API_DEFAULT_VERSION;
            let client_api = format!("{}.{}", client.major_version, client.minor_version);
            let data = json!({
                "server_version": version.get("Version"),
                "api_version": parsed.to_string(),
                "min_api_version": version.get("MinAPIVersion"),
                "client_api_version": client_api,
                "os": version.get("Os"),
                "arch": version.get("Arch"),
                "kernel": version.get("KernelVersion"),
                "required_api_version": min_api.to_string(),
            });
            if parsed < min_api {
                return Err(Problem::new(
                    "api_too_old",
                    format!("the Engine speaks API {parsed}, older than the required {min_api}"),
                ));
            }
            Ok(data)
        }
        4 => {
            let list: Value = json_body(&path, response.body())?;
            let Some(items) = list.as_array() else {
                return Err(Problem::new(
                    "garbage_response",
                    format!("{path} is not a JSON list"),
                ));
            };
            Ok(json!({"running": items.len()}))
        }
        _ => {
            let info: Value = json_body(&path, response.body())?;
            if !info.is_object() {
                return Err(Problem::new(
                    "garbage_response",
                    format!("{path} is not a JSON object"),
                ));
            }
            let pick = |key: &str| info.get(key).cloned().unwrap_or(Value::Null);
            Ok(json!({
                "server_version": pick("ServerVersion"),
                "containers": pick("Containers"),
                "containers_running": pick("ContainersRunning"),
                "images": pick("Images"),
                "driver": pick("Driver"),
                "docker_root_dir": pick("DockerRootDir"),
                "ncpu": pick("NCPU"),
                "mem_total": pick("MemTotal"),
                "operating_system": pick("OperatingSystem"),
                "kernel": pick("KernelVersion"),
                "warnings": info.get("Warnings").and_then(Value::as_array).map_or(0, Vec::len),
            }))
        }
    }
}

/// The API version bollard uses against this server: its own, or the server's if older.
pub fn negotiated(server: ApiVersion) -> ApiVersion {
    let client = bollard::API_DEFAULT_VERSION;
    let client = ApiVersion {
        major: client.major_version as u32,
        minor: client.minor_version as u32,
    };
    client.min(server)
}

fn json_body(path: &str, body: &[u8]) -> Result<Value, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            "garbage_response",
            format!(
                "{path} is not JSON ({e}): starts with {}",
                raw::snippet(body)
            ),
        )
    })
}

/// A duration as people write it (`500ms`, `3s`, `1s 500ms`): day2-core's one
/// humaniser, humantime's format in whole milliseconds.
pub use day2_core::duration::words as human;
