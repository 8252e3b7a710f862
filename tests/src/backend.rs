//! A simulator of the assistant backend (the FastAPI app), as described in
//! `target-stack.md`: the status summary with its `warming → primary` transition,
//! fallback and down states, `/api/ready`, the `/ready` dependency check, CORS with
//! Starlette's preflight rules, `/chat` and `/metrics`.
//!
//! It is test equipment, so it can misbehave on demand: [`Fault`]s inject delays,
//! error statuses, connection resets, stalls, invalid JSON and oversized bodies on
//! chosen paths; [`Backend::stop`] is a crashed backend, [`Provider::Down`] a model
//! server that is down, and [`Backend::reconfigure_after`] moves a running stack
//! through states on a schedule. It listens on `127.0.0.1` only, one thread per
//! connection, with HTTP/1.1 keep-alive (nginx keeps upstream connections open to it).

use std::collections::HashMap;
use std::io::{self, BufReader};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http1::{read_request, write_response, Request};

/// Which providers the backend can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// The model server is up; the model is present once warming is over.
    Ollama,
    /// The model server is down and a hosted fallback key is set.
    Fallback,
    /// The model server is down and there is no fallback.
    Down,
}

/// How `/metrics` answers: newer builds speak Prometheus text, older a JSON snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsFormat {
    Prometheus,
    Json,
}

/// Misbehaviour injected on the paths that start with a given prefix.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer normally after this delay.
    Delay(Duration),
    /// Answer with this status and a small JSON error body.
    Status(u16),
    /// Close the connection with a TCP reset instead of answering.
    Reset,
    /// Accept the request and never answer (until the simulator stops, at most 60 s).
    Stall,
    /// Answer 200 with a body that is not JSON.
    InvalidJson,
    /// Answer 200 with a JSON body of at least this many bytes.
    Oversized(usize),
}

/// Everything the simulator answers from; tests change it while it runs.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub model: String,
    /// `build.sha`; the literal `"local"` when the image was built without one.
    pub build_sha: String,
    pub provider: Provider,
    /// How long the model takes to appear after start (0 = present at once).
    pub warm_after: Duration,
    /// Overrides `llm.path` with any value, for "unknown path" tests.
    pub path_override: Option<String>,
    /// The backend's CORS allow-list (`ALLOWED_ORIGINS`, exact string match).
    pub allowed_origins: Vec<String>,
    /// `CORS_ALLOW_ALL=1`: `*` without credentials.
    pub cors_allow_all: bool,
    /// Rows in the retrieval index; 0 makes `ready` false.
    pub rag_chunks: u64,
    pub metrics_format: MetricsFormat,
}

impl Default for BackendConfig {
    fn default() -> Self {
        BackendConfig {
            model: "gpt-oss:20b".into(),
            build_sha: "local".into(),
            provider: Provider::Ollama,
            warm_after: Duration::ZERO,
            path_override: None,
            allowed_origins: vec![
                "https://assistant.example.org".into(),
                "http://127.0.0.1:5173".into(),
            ],
            cors_allow_all: false,
            rag_chunks: 42,
            metrics_format: MetricsFormat::Prometheus,
        }
    }
}

struct State {
    config: BackendConfig,
    started: Instant,
    faults: Vec<(String, Fault)>,
}

struct Shared {
    state: Mutex<State>,
    stopping: AtomicBool,
    requests: AtomicU64,
    hits: Mutex<HashMap<String, u64>>,
}

/// A running simulator. Dropping it stops it.
pub struct Backend {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").field("addr", &self.addr).finish()
    }
}

impl Backend {
    /// Starts the simulator on a free loopback port.
    pub fn start(config: BackendConfig) -> io::Result<Backend> {
        Backend::start_on("127.0.0.1:0", config)
    }

    /// Starts the simulator on a given loopback address (a restart on the old port).
    pub fn start_on(addr: &str, config: BackendConfig) -> io::Result<Backend> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        assert!(
            addr.ip().is_loopback(),
            "the simulator listens on loopback only"
        );
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                config,
                started: Instant::now(),
                faults: Vec::new(),
            }),
            stopping: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            hits: Mutex::new(HashMap::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("backend-accept".into())
            .spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(Backend {
            shared,
            addr,
            acceptor: Some(acceptor),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes the configuration; `warm_after` counts from this call.
    pub fn reconfigure(&self, change: impl FnOnce(&mut BackendConfig)) {
        let mut state = self.shared.state.lock().expect("backend state");
        change(&mut state.config);
        state.started = Instant::now();
    }

    /// Changes the configuration `delay` from now, on a thread of its own, so a run in
    /// progress sees the stack move through states (warming → not_ready → primary, a
    /// model-server restart). Bounded: one sleep of `delay`, one change; nothing
    /// happens if the simulator was dropped meanwhile.
    pub fn reconfigure_after(
        &self,
        delay: Duration,
        change: impl FnOnce(&mut BackendConfig) + Send + 'static,
    ) {
        let shared = Arc::downgrade(&self.shared);
        let _ = thread::Builder::new()
            .name("backend-schedule".into())
            .spawn(move || {
                thread::sleep(delay);
                if let Some(shared) = shared.upgrade() {
                    let mut state = shared.state.lock().expect("backend state");
                    change(&mut state.config);
                    state.started = Instant::now();
                }
            });
    }

    /// Injects a fault on every path starting with `path_prefix` ("" for all).
    pub fn inject(&self, path_prefix: &str, fault: Fault) {
        let mut state = self.shared.state.lock().expect("backend state");
        state.faults.retain(|(prefix, _)| prefix != path_prefix);
        state.faults.push((path_prefix.to_owned(), fault));
    }

    /// Removes every injected fault.
    pub fn heal(&self) {
        self.shared
            .state
            .lock()
            .expect("backend state")
            .faults
            .clear();
    }

    /// Requests answered or refused so far (faults included).
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Requests seen on one exact path.
    pub fn hits(&self, path: &str) -> u64 {
        self.shared
            .hits
            .lock()
            .expect("hits")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Backend {
    /// Stops accepting and serving: the port refuses connections, as a crashed
    /// backend container's does. [`Backend::resume`] brings it back on the same port.
    pub fn stop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the acceptor sees the flag and drops the listener.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }

    /// Listens again on the same port after [`Backend::stop`].
    pub fn resume(&mut self) -> io::Result<()> {
        if self.acceptor.is_some() {
            return Ok(());
        }
        let listener = TcpListener::bind(self.addr)?;
        self.shared.stopping.store(false, Ordering::SeqCst);
        let shared = Arc::clone(&self.shared);
        self.acceptor = Some(
            thread::Builder::new()
                .name("backend-accept".into())
                .spawn(move || accept_loop(&listener, &shared))?,
        );
        Ok(())
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        let _ = thread::Builder::new()
            .name("backend-conn".into())
            .spawn(move || serve_connection(stream, &shared));
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    // An idle keep-alive connection ends after a while so threads never pile up.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut writer = write_half;
    // Bounded: a keep-alive connection serves at most this many requests.
    for _ in 0..100_000 {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) | Err(_) => return,
        };
        shared.requests.fetch_add(1, Ordering::Relaxed);
        *shared
            .hits
            .lock()
            .expect("hits")
            .entry(request.path.clone())
            .or_default() += 1;
        match answer(&request, shared) {
            Outcome::Respond(response) => {
                if write_response(&mut writer, &response, request.method == "HEAD").is_err() {
                    return;
                }
                if !request.keep_alive() {
                    let _ = writer.shutdown(Shutdown::Write);
                    return;
                }
            }
            Outcome::Reset => {
                let _ = socket2::SockRef::from(&writer).set_linger(Some(Duration::ZERO));
                return;
            }
            Outcome::Stall => {
                let until = Instant::now() + Duration::from_secs(60);
                while Instant::now() < until && !shared.stopping.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(50));
                }
                return;
            }
        }
    }
}

/// A response the simulator writes.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn json(status: u16, body: &Value) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    fn text(status: u16, content_type: &str, body: &str) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

enum Outcome {
    Respond(Response),
    Reset,
    Stall,
}

fn answer(request: &Request, shared: &Shared) -> Outcome {
    let (config, elapsed, fault) = {
        let state = shared.state.lock().expect("backend state");
        let fault = state
            .faults
            .iter()
            .filter(|(prefix, _)| request.path.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, fault)| fault.clone());
        (state.config.clone(), state.started.elapsed(), fault)
    };
    let mut response = match fault {
        Some(Fault::Reset) => return Outcome::Reset,
        Some(Fault::Stall) => return Outcome::Stall,
        Some(Fault::Status(code)) => Response::json(code, &json!({"detail": "injected fault"})),
        Some(Fault::InvalidJson) => Response::text(200, "application/json", "{\"ok\": tru"),
        Some(Fault::Oversized(bytes)) => {
            let pad = "x".repeat(bytes);
            Response::text(
                200,
                "application/json",
                &format!("{{\"ok\":true,\"pad\":\"{pad}\"}}"),
            )
        }
        Some(Fault::Delay(delay)) => {
            thread::sleep(delay);
            route(request, &config, elapsed)
        }
        None => route(request, &config, elapsed),
    };
    add_cors(request, &config, &mut response);
    Outcome::Respond(response)
}

fn model_present(config: &BackendConfig, elapsed: Duration) -> bool {
    config.provider == Provider::Ollama && elapsed >= config.warm_after
}

fn llm_path(config: &BackendConfig, elapsed: Duration) -> String {
    if let Some(path) = &config.path_override {
        return path.clone();
    }
    match config.provider {
        Provider::Ollama if model_present(config, elapsed) => "primary",
        Provider::Ollama => "warming",
        Provider::Fallback => "fallback",
        Provider::Down => "down",
    }
    .into()
}

/// The summary JSON, shaped as measured on a real deployment.
pub fn summary(config: &BackendConfig, elapsed: Duration) -> Value {
    let present = model_present(config, elapsed);
    let ollama_up = config.provider == Provider::Ollama;
    let openai = config.provider == Provider::Fallback;
    let ready = ollama_up && present && config.rag_chunks > 0;
    json!({
        "ok": ready,
        "llm": {
            "path": llm_path(config, elapsed),
            "model": config.model,
            "ollama": if ollama_up { "up" } else { "down" },
            "openai": if openai { "configured" } else { "not_configured" },
            "primary_model_present": present,
            "ready_probe": true
        },
        "openai_configured": openai,
        "rag": {"ok": config.rag_chunks > 0, "db": "./data/rag.sqlite", "mode": "local-model"},
        "ready": ready,
        "primary": {
            "base_url": "http://ollama:11434/v1",
            "model": config.model,
            "enabled": true,
            "model_present": present,
            "models_sample": if present { json!([config.model]) } else { json!([]) },
            "last_error": if ollama_up { Value::Null } else { json!("connection refused") },
            "last_status": Value::Null
        },
        "build": {"sha": config.build_sha, "time": day2_core::record::now_rfc3339()},
        "metrics_hint": {
            "providers": {"primary": 3, "fallback": 1},
            "primary_fail_reason": {"timeout": 1},
            "fields": ["req", "5xx", "p95_ms", "tok_in", "tok_out"]
        },
        "tooltip": "status summary (simulated)",
        "last_served_by": {"provider": if openai { "fallback" } else { "primary" }, "ts": 1_764_000_000.0}
    })
}

fn route(request: &Request, config: &BackendConfig, elapsed: Duration) -> Response {
    let path = request.path.as_str();
    match (request.method.as_str(), path) {
        ("GET" | "HEAD", "/api/status/summary" | "/status/summary") => {
            Response::json(200, &summary(config, elapsed))
        }
        ("GET" | "HEAD", "/api/status/llm") => {
            Response::json(200, &summary(config, elapsed)["llm"])
        }
        ("GET" | "HEAD", "/api/ready") => Response::json(
            200,
            &json!({
                "ok": true,
                "rag": {"db": "./data/rag.sqlite", "chunks": config.rag_chunks, "ok": config.rag_chunks > 0},
                "metrics": {"req": 12, "5xx": 0}
            }),
        ),
        ("GET" | "HEAD", "/ready") => dependency_check(config),
        ("OPTIONS", "/chat" | "/api/chat") => preflight(request, config),
        ("POST", "/chat" | "/api/chat") => chat(config, elapsed),
        ("GET" | "HEAD", "/metrics") => metrics(config, elapsed),
        _ => Response::json(404, &json!({"detail": "Not Found"})),
    }
}

fn dependency_check(config: &BackendConfig) -> Response {
    let ollama_ok = config.provider == Provider::Ollama;
    let rag_ok = config.rag_chunks > 0;
    let checks = json!({
        "rag_db": {"ok": rag_ok, "chunks": config.rag_chunks},
        "ollama": if ollama_ok { json!({"ok": true}) }
                  else { json!({"ok": false, "err": "ConnectError: [Errno 111] Connection refused"}) },
        "openai_fallback": {"configured": config.provider == Provider::Fallback}
    });
    if ollama_ok && rag_ok {
        Response::json(200, &json!({"ok": true, "checks": checks}))
    } else {
        Response::json(503, &json!({"detail": {"ok": false, "checks": checks}}))
    }
}

fn chat(config: &BackendConfig, elapsed: Duration) -> Response {
    match llm_path(config, elapsed).as_str() {
        "primary" => Response::json(200, &json!({"reply": "hello", "provider": "primary"})),
        "fallback" => Response::json(200, &json!({"reply": "hello", "provider": "fallback"})),
        _ => Response::json(503, &json!({"detail": "model not ready"})),
    }
}

fn metrics(config: &BackendConfig, elapsed: Duration) -> Response {
    let ready = u8::from(model_present(config, elapsed) && config.rag_chunks > 0);
    match config.metrics_format {
        MetricsFormat::Prometheus => Response::text(
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            &format!(
                "# HELP llm_requests_total Chat requests by provider.\n\
                 # TYPE llm_requests_total counter\n\
                 llm_requests_total{{provider=\"primary\"}} 3\n\
                 llm_requests_total{{provider=\"fallback\"}} 1\n\
                 # HELP http_5xx_total Responses with a 5xx status.\n\
                 # TYPE http_5xx_total counter\n\
                 http_5xx_total 0\n\
                 # HELP backend_ready Whether the backend is ready.\n\
                 # TYPE backend_ready gauge\n\
                 backend_ready {ready}\n"
            ),
        ),
        MetricsFormat::Json => Response::json(
            200,
            &json!({"req": 4, "5xx": 0, "p95_ms": 812, "tok_in": 120, "tok_out": 340,
                    "providers": {"primary": 3, "fallback": 1}}),
        ),
    }
}

fn origin_allowed(config: &BackendConfig, origin: &str) -> bool {
    config.cors_allow_all
        || config
            .allowed_origins
            .iter()
            .any(|allowed| allowed == origin)
}

/// Starlette's CORSMiddleware preflight: 405 without a requested method, 400 for a
/// disallowed origin, 200 with the full header set otherwise.
fn preflight(request: &Request, config: &BackendConfig) -> Response {
    let Some(origin) = request.header("origin") else {
        return Response::text(405, "text/plain; charset=utf-8", "Method Not Allowed");
    };
    if request.header("access-control-request-method").is_none() {
        return Response::text(405, "text/plain; charset=utf-8", "Method Not Allowed");
    }
    if !origin_allowed(config, origin) {
        return Response::text(400, "text/plain; charset=utf-8", "Disallowed CORS origin");
    }
    let mut response = Response::text(200, "text/plain; charset=utf-8", "OK");
    response.headers.extend([
        (
            "access-control-allow-methods".into(),
            "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT".into(),
        ),
        ("access-control-max-age".into(), "600".into()),
    ]);
    if let Some(requested) = request.header("access-control-request-headers") {
        response
            .headers
            .push(("access-control-allow-headers".into(), requested.to_owned()));
    }
    response
}

/// CORS headers on every answer to a request with an `Origin`. Credentials are
/// announced even for a disallowed origin, as the real backend does; only
/// `Access-Control-Allow-Origin` tells the two apart.
fn add_cors(request: &Request, config: &BackendConfig, response: &mut Response) {
    let Some(origin) = request.header("origin") else {
        return;
    };
    let preflight_rejected = request.method == "OPTIONS" && response.status != 200;
    if origin_allowed(config, origin) && !preflight_rejected {
        let value = if config.cors_allow_all { "*" } else { origin };
        response
            .headers
            .push(("access-control-allow-origin".into(), value.into()));
        response.headers.push(("vary".into(), "Origin".into()));
    }
    if !config.cors_allow_all {
        response
            .headers
            .push(("access-control-allow-credentials".into(), "true".into()));
    }
}
