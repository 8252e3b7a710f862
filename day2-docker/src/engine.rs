//! The bollard facade: one current-thread tokio runtime per use (a tool run, a
//! second connection on another thread) and one client for the endpoint
//! `DOCKER_HOST` named, with every call bounded by a tokio timeout (sub-second
//! capable; bollard's own timeout is whole seconds and is only a backstop here).

use std::future::Future;
use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::{ClientVersion, Docker, API_DEFAULT_VERSION};
use day2_core::Problem;

use crate::host::Endpoint;
use crate::raw::HUNG;

/// The reason of a bollard call the Engine answered with an error, or that failed
/// on the way.
pub const DOCKER_ERROR: &str = "docker_error";

/// A bollard client with the runtime that drives it. Build one per use site; the
/// runtime is current-thread, so a second thread builds its own `Engine`.
#[derive(Debug)]
pub struct Engine {
    runtime: tokio::runtime::Runtime,
    docker: Docker,
}

/// The API version a client speaks: `(major, minor)`, e.g. `(1, 41)`.
pub type ApiVersion = (u32, u32);

impl Engine {
    /// A client for `endpoint` (no I/O yet) speaking `api`, or bollard's default
    /// version until [`Engine::negotiate`]. `timeout` is what the caller bounds its
    /// calls with; bollard's own timeout is set a little past it, in whole seconds,
    /// as a second guard.
    ///
    /// Errors: `io_error` when the runtime cannot start, `docker_error` when the
    /// client cannot be set up (e.g. no socket at the path).
    pub fn new(
        endpoint: &Endpoint,
        api: Option<ApiVersion>,
        timeout: Duration,
    ) -> Result<Engine, Problem> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Problem::new("io_error", format!("cannot start the async runtime: {e}"))
            })?;
        let version = match api {
            Some((major, minor)) => ClientVersion {
                major_version: major as usize,
                minor_version: minor as usize,
            },
            None => *API_DEFAULT_VERSION,
        };
        let backstop = timeout.as_secs() + 2;
        let connected = match endpoint {
            Endpoint::Unix(path) => {
                Docker::connect_with_unix(&path.to_string_lossy(), backstop, &version)
            }
            Endpoint::Tcp { .. } => Docker::connect_with_http(&endpoint.url(), backstop, &version),
        };
        let docker = connected.map_err(|e| {
            Problem::new(
                DOCKER_ERROR,
                format!("cannot set up the Docker client for {endpoint}: {e}"),
            )
        })?;
        Ok(Engine { runtime, docker })
    }

    /// The bollard client.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Asks the Engine for its API version and speaks the lower of it and bollard's,
    /// within `timeout`.
    ///
    /// Errors: `hung` past `timeout`; `docker_error` when the Engine does not answer.
    pub fn negotiate(&mut self, timeout: Duration) -> Result<(), Problem> {
        let call = self.docker.clone().negotiate_version();
        self.docker = self.call(timeout, "negotiating the API version", call)?;
        Ok(())
    }

    /// Runs `future` to its end on this engine's runtime (no deadline: the future
    /// bounds its own calls, e.g. with [`bounded`]).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Runs `future` for at most `timeout`; `None` when the time ran out.
    pub fn within<F: Future>(&self, timeout: Duration, future: F) -> Option<F::Output> {
        self.runtime
            .block_on(async { tokio::time::timeout(timeout, future).await })
            .ok()
    }

    /// Runs one bollard call for at most `timeout`; `what` names it in messages.
    ///
    /// Errors: as [`bounded`].
    pub fn call<T>(
        &self,
        timeout: Duration,
        what: &str,
        call: impl Future<Output = Result<T, BollardError>>,
    ) -> Result<T, Problem> {
        self.runtime.block_on(bounded(timeout, what, call))
    }
}

/// Awaits a bollard call for at most `timeout`; `what` names it in messages.
///
/// Errors: `hung` ("{what}: no answer within {timeout}") past `timeout`;
/// `docker_error` ("{what}: {the Engine's message}") when the call fails.
pub async fn bounded<T>(
    timeout: Duration,
    what: &str,
    call: impl Future<Output = Result<T, BollardError>>,
) -> Result<T, Problem> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(Problem::new(
            DOCKER_ERROR,
            format!("{what}: {}", describe(&err)),
        )),
        Err(_) => Err(Problem::new(
            HUNG,
            format!("{what}: no answer within {}", human(timeout)),
        )),
    }
}

/// A duration in a message (`250ms`, `2s 500ms`): day2-core's one humaniser,
/// humantime's format in whole milliseconds.
pub use day2_core::duration::words as human;

/// A bollard error in words: the Engine's own message for an HTTP error status,
/// bollard's text otherwise.
pub fn describe(err: &BollardError) -> String {
    match err {
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } => format!("HTTP {status_code}: {message}"),
        other => other.to_string(),
    }
}

/// The HTTP status of an error the Engine answered, e.g. `404` for an object that
/// does not exist.
pub fn status_of(err: &BollardError) -> Option<u16> {
    match err {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that accepts into its backlog and never answers: `hung` at the
    /// timeout. The same path once nobody listens: the call fails, `docker_error`.
    #[test]
    fn a_call_past_its_timeout_is_hung_and_a_failed_one_a_docker_error() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let endpoint = Endpoint::Unix(socket);
        let engine = Engine::new(&endpoint, Some((1, 41)), Duration::from_secs(1)).unwrap();
        let started = std::time::Instant::now();
        let err = engine
            .call(
                Duration::from_millis(200),
                "pinging",
                engine.docker().ping(),
            )
            .unwrap_err();
        let took = started.elapsed();
        assert_eq!(
            (err.reason(), err.message.as_str()),
            (HUNG, "pinging: no answer within 200ms")
        );
        assert!(took < Duration::from_secs(1), "{took:?}");
        drop(listener);
        let err = engine
            .call(Duration::from_secs(5), "pinging", engine.docker().ping())
            .unwrap_err();
        assert_eq!(err.reason(), DOCKER_ERROR);
        assert!(err.message.starts_with("pinging: "), "{}", err.message);
    }
}
