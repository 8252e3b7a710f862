//! The bollard client for the checks that run once the ladder has passed (stack
//! health, resources), with every call bounded by a sub-second-capable tokio
//! timeout, since bollard's own timeout is whole seconds.

use std::future::Future;
use std::time::Duration;

use bollard::{ClientVersion, Docker};

use crate::endpoint::Endpoint;
use crate::ladder::{self, ApiVersion};
use crate::rawhttp::Failure;

/// A client for the endpoint the ladder reached, set to the API version negotiated
/// from the ladder's `/version` answer (no second round trip). Note: bollard 0.21.1
/// builds its URLs with `Url::join` on an absolute path, which drops the `/vX.Y`
/// prefix, so its requests are unversioned and the daemon answers them in its own
/// current version; the setting matters again once that is fixed upstream.
pub fn client(
    endpoint: &Endpoint,
    server_api: ApiVersion,
    timeout: Duration,
) -> Result<Docker, Failure> {
    let api = ladder::negotiated(server_api);
    let version = ClientVersion {
        major_version: api.major as usize,
        minor_version: api.minor as usize,
    };
    // bollard's own timeout is a backstop only; `bounded` is the real limit.
    let secs = timeout.as_secs() + 2;
    let connected = match endpoint {
        Endpoint::Unix(path) => Docker::connect_with_unix(&path.to_string_lossy(), secs, &version),
        Endpoint::Tcp { host, port } => {
            Docker::connect_with_http(&format!("tcp://{host}:{port}"), secs, &version)
        }
    };
    connected.map_err(|e| {
        Failure::new(
            "docker_error",
            format!("cannot set up the Docker client: {e}"),
        )
    })
}

/// Awaits a bollard call for at most `timeout`; `what` names it in messages.
pub async fn bounded<T>(
    timeout: Duration,
    what: &str,
    call: impl Future<Output = Result<T, bollard::errors::Error>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(Failure::new("docker_error", format!("{what}: {err}"))),
        Err(_) => Err(Failure::new(
            "hung",
            format!("{what}: no answer within {}", ladder::human(timeout)),
        )),
    }
}
