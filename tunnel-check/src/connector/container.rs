//! A container's logs through the Docker API (bollard), streamed into the tally
//! line by line: the whole log is never held in memory, and the read has one
//! deadline however slow the daemon is.

use std::time::Duration;

use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::LogsOptions;
use bollard::Docker;
use day2_core::bounded::quoted;
use day2_core::Problem;
use futures_util::StreamExt;

use super::Tally;

/// `docker_unreachable`: no Engine to read from (bad `DOCKER_HOST`, no socket, an
/// error on the way).
const UNREACHABLE: &str = "docker_unreachable";

fn docker_failure(err: &DockerError, name: &str) -> Problem {
    match day2_docker::engine::status_of(err) {
        Some(404) => Problem::new(
            "container_not_found",
            format!("no container named {} on this Docker Engine", quoted(name)),
        ),
        _ => Problem::new(
            UNREACHABLE,
            format!(
                "cannot read the logs of {} from the Docker Engine: {}",
                quoted(name),
                day2_docker::engine::describe(err)
            ),
        ),
    }
}

/// Reads the container's stdout and stderr (cloudflared logs to stderr) into `tally`,
/// from the Engine `DOCKER_HOST` names, all within `timeout`.
///
/// Errors: `container_not_found` (HTTP 404), `docker_timeout` past `timeout`,
/// `docker_unreachable` otherwise.
pub fn tally_logs(
    name: &str,
    tail: Option<u64>,
    timeout: Duration,
    tally: &mut Tally,
) -> Result<(), Problem> {
    let engine = day2_docker::host::from_env()
        .and_then(|endpoint| day2_docker::Engine::new(&endpoint, None, timeout))
        .map_err(|p| Problem::new(UNREACHABLE, p.message))?;
    engine
        .within(timeout, stream_logs(engine.docker(), name, tail, tally))
        .unwrap_or_else(|| {
            Err(Problem::new(
                "docker_timeout",
                format!(
                    "reading the logs of {} took longer than {}",
                    quoted(name),
                    day2_core::duration::words(timeout)
                ),
            ))
        })
}

async fn stream_logs(
    docker: &Docker,
    name: &str,
    tail: Option<u64>,
    tally: &mut Tally,
) -> Result<(), Problem> {
    let docker = docker
        .clone()
        .negotiate_version()
        .await
        .map_err(|e| docker_failure(&e, name))?;
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        tail: tail.map_or_else(|| "all".to_owned(), |n| n.to_string()),
        ..LogsOptions::default()
    };
    let mut stream = docker.logs(name, Some(options));
    // One partial line per stream: stdout and stderr frames interleave.
    let mut partial: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    while let Some(item) = stream.next().await {
        let output = item.map_err(|e| docker_failure(&e, name))?;
        let slot = usize::from(matches!(output, LogOutput::StdErr { .. }));
        let buf = &mut partial[slot];
        buf.extend_from_slice(output.as_ref());
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            tally.feed(&String::from_utf8_lossy(&line));
        }
    }
    for rest in partial {
        tally.feed(&String::from_utf8_lossy(&rest));
    }
    Ok(())
}
