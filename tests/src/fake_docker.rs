//! One fake Docker Engine for the tests that need an Engine to misbehave: a Unix
//! socket in its own temp dir, HTTP/1.1 over [`crate::http1`] (keep-alive for
//! bollard, `Connection: close` for the raw client), answering `/_ping` and
//! `/version` itself and every other request as the test's handler says: JSON with a
//! status, raw bytes, or silence for a while. A fake that never reads is
//! [`FakeEngine::deaf`].
//!
//! Every thread it starts ends within two minutes, or when the value is dropped
//! (the accept loop), whichever comes first.

use std::io::{BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::Response;
use crate::http1::{self, Request};

/// How long a fake serves at most.
const LIFETIME: Duration = Duration::from_secs(120);

/// What the fake says to one request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A JSON (or any text) body with this status, `Api-Version` and a length.
    Json(u16, String),
    /// These bytes as they are, then the connection closes (not HTTP, cut off, ...).
    Raw(Vec<u8>),
    /// Nothing for this long (bounded by the fake's lifetime), then close.
    Silence(Duration),
}

/// One request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// The path as sent, with any `/vX.Y` prefix, without the query.
    pub path: String,
    /// The path without the `/vX.Y` prefix (bollard 0.21 sends none: its `Url::join`
    /// drops it).
    pub bare: String,
    /// The query string, without `?` (empty when none).
    pub query: String,
}

/// The handler: `None` leaves the request to the fake's defaults (`/_ping`,
/// `/version`, else 404).
pub type Handler = dyn Fn(&Call) -> Option<Answer> + Send + Sync;

/// A running fake Engine.
#[derive(Debug)]
pub struct FakeEngine {
    pub dir: tempfile::TempDir,
    /// The socket (`unix://` + this is [`FakeEngine::host`]).
    pub socket: PathBuf,
    stop: Arc<AtomicBool>,
}

impl FakeEngine {
    /// A fake speaking API `api` (e.g. `1.41`), `/version` reporting Docker
    /// `20.10.99-fake`, other requests answered by `handler`.
    pub fn start(api: &'static str, handler: Arc<Handler>) -> FakeEngine {
        FakeEngine::listen(move |stream| {
            let handler = Arc::clone(&handler);
            std::thread::spawn(move || serve(stream, api, &*handler));
        })
    }

    /// A fake that accepts connections and never reads or writes a byte (each is
    /// held until the fake is dropped).
    pub fn deaf() -> FakeEngine {
        let mut held = Vec::new();
        FakeEngine::listen(move |stream| held.push(stream))
    }

    fn listen(mut accepted: impl FnMut(UnixStream) + Send + 'static) -> FakeEngine {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).expect("bind the fake Docker Engine");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        std::thread::spawn(move || {
            let until = Instant::now() + LIFETIME;
            while !flag.load(Ordering::SeqCst) && Instant::now() < until {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        accepted(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeEngine { dir, socket, stop }
    }

    /// The fake as a `DOCKER_HOST` value.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for FakeEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// `/v1.41/info` → `/info`.
fn bare(path: &str) -> &str {
    match path.strip_prefix("/v") {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
            rest.find('/').map_or("/", |i| &rest[i..])
        }
        _ => path,
    }
}

fn serve(stream: UnixStream, api: &str, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = http1::read_request(&mut reader) {
        let Request {
            ref method,
            ref path,
            ref query,
            ..
        } = request;
        let call = Call {
            method: method.clone(),
            path: path.clone(),
            bare: bare(path).to_owned(),
            query: query.clone(),
        };
        let answer = handler(&call).unwrap_or_else(|| default_answer(&call, api));
        let body = match answer {
            Answer::Json(status, body) => Response {
                status,
                headers: vec![
                    ("Api-Version".into(), api.into()),
                    ("Content-Type".into(), "application/json".into()),
                ],
                body: body.into_bytes(),
            },
            Answer::Raw(bytes) => {
                let _ = writer.write_all(&bytes);
                return;
            }
            Answer::Silence(pause) => {
                std::thread::sleep(pause.min(LIFETIME));
                return;
            }
        };
        if http1::write_response(&mut writer, &body, method == "HEAD").is_err()
            || !request.keep_alive()
        {
            return;
        }
    }
}

/// `/_ping` and `/version` as a Docker 20.10 answers them; 404 for the rest.
pub fn default_answer(call: &Call, api: &str) -> Answer {
    match call.bare.as_str() {
        "/_ping" => Answer::Json(200, "OK".to_owned()),
        "/version" => Answer::Json(
            200,
            format!(
                r#"{{"Version":"20.10.99-fake","ApiVersion":"{api}","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}}"#
            ),
        ),
        _ => Answer::Json(
            404,
            format!(r#"{{"message":"page not found: {}"}}"#, call.path),
        ),
    }
}
