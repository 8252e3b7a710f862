//! A container's logs through the Docker API (bollard), streamed into the tally
//! line by line: the whole log is never held in memory, and the read has one
//! deadline however slow the daemon is.

use std::time::Duration;

use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::LogsOptions;
use bollard::Docker;
use futures_util::StreamExt;

use super::Tally;

/// Why the logs could not be read, as a record reason and a sentence.
#[derive(Debug)]
pub struct Failure {
    pub reason: &'static str,
    pub message: String,
}

fn docker_failure(err: &DockerError, name: &str) -> Failure {
    match err {
        DockerError::DockerResponseServerError {
            status_code: 404, ..
        } => Failure {
            reason: "container_not_found",
            message: format!("no container named {name:?} on this Docker Engine"),
        },
        other => Failure {
            reason: "docker_unreachable",
            message: format!("cannot read the logs of {name:?} from the Docker Engine: {other}"),
        },
    }
}

/// Reads the container's stdout and stderr (cloudflared logs to stderr) into `tally`.
pub fn tally_logs(
    name: &str,
    tail: Option<u64>,
    timeout: Duration,
    tally: &mut Tally,
) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            reason: "docker_unreachable",
            message: format!("cannot start the Docker client: {e}"),
        })?;
    runtime.block_on(async {
        match tokio::time::timeout(timeout, stream_logs(name, tail, tally)).await {
            Ok(result) => result,
            Err(_) => Err(Failure {
                reason: "docker_timeout",
                message: format!("reading the logs of {name:?} took longer than {timeout:?}"),
            }),
        }
    })
}

async fn stream_logs(name: &str, tail: Option<u64>, tally: &mut Tally) -> Result<(), Failure> {
    let docker = Docker::connect_with_defaults().map_err(|e| docker_failure(&e, name))?;
    let docker = docker
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
