//! A real nginx (Debian's package) in front of the simulator, with a generated
//! configuration that reproduces the real edge as measured in `target-stack.md`:
//!
//! - `X-Status-Path: api` on `/api/status/…`, `legacy` on `location /status/`;
//! - on the exact summary location, the legacy location and the synthetic body, an
//!   `if` block for origins on nginx's own allow-list whose `add_header` replaces the
//!   location's, so the header disappears when such an `Origin` is sent;
//! - nginx's CORS headers on top of the backend's: two `Access-Control-Allow-Origin`
//!   headers on the summary for an origin both layers allow;
//! - the synthetic warming body, with two `Content-Type` headers, when the backend
//!   fails or is down;
//! - the rate limit on `/api/ready` and the `/api/` catch-all;
//! - the single-page app catching everything else (`/_up`, `OPTIONS /chat` → 405);
//! - the legacy location served, removed (SPA fallback) or retired (`return 410`).
//!
//! nginx runs in the foreground as one process (`master_process off`) so that
//! killing the child stops all of it; it listens on `127.0.0.1` only.

use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::require;

/// What the edge does with the legacy `location /status/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyRoute {
    /// Proxied to the backend with `X-Status-Path: legacy`.
    Served,
    /// The location block deleted: the path falls through to the SPA (200 text/html).
    Removed,
    /// `return 410;`, the recommended retirement for one release.
    Retired,
}

/// The synthetic body nginx answers for the summary when the backend fails.
pub const SYNTHETIC_WARMING: &str =
    r#"{"ok":false,"ready":false,"llm":{"path":"warming"},"rag":{"ok":true}}"#;

/// The nginx `combined` log format, spelled out so a custom one can extend it.
pub const COMBINED_LOG_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// How the edge is configured.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub legacy: LegacyRoute,
    /// nginx's own CORS allow-list (the `map $http_origin` block).
    pub allowed_origins: Vec<String>,
    /// 30 requests a minute (burst 15) on `/api/ready` and `/api/`, as on the real edge.
    pub rate_limit: bool,
    /// A custom `log_format`; `None` logs in nginx's default `combined` format. It may
    /// start with nginx's `escape=default|json|none` parameter and a space
    /// (`escape=json {"uri":"$uri"}`); the rest is the format, single-quoted for nginx.
    pub log_format: Option<String>,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        EdgeConfig {
            legacy: LegacyRoute::Served,
            allowed_origins: vec![
                "https://assistant.example.org".into(),
                "https://edge-only.example.org".into(),
            ],
            rate_limit: true,
            log_format: None,
        }
    }
}

/// A running nginx. Dropping it stops nginx, also when a test panics.
#[derive(Debug)]
pub struct Edge {
    child: Option<Child>,
    dir: tempfile::TempDir,
    addr: SocketAddr,
    upstream: SocketAddr,
    config: EdgeConfig,
}

impl Edge {
    /// Starts nginx on a free loopback port in front of `upstream`.
    pub fn start(upstream: SocketAddr, config: EdgeConfig) -> io::Result<Edge> {
        let dir = tempfile::Builder::new().prefix("day2-edge-").tempdir()?;
        for sub in ["spa", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub))?;
        }
        std::fs::write(
            dir.path().join("spa/index.html"),
            "<!doctype html><html><head><title>Assistant</title></head><body><div id=app></div></body></html>\n",
        )?;
        let mut edge = Edge {
            child: None,
            dir,
            addr: free_loopback_port()?,
            upstream,
            config,
        };
        // Bounded: a port taken between probing and nginx's bind is retried a few times.
        let mut attempts = 1;
        loop {
            match edge.launch() {
                Ok(()) => return Ok(edge),
                Err(err) if attempts >= 5 => return Err(err),
                Err(_) => {
                    attempts += 1;
                    edge.addr = free_loopback_port()?;
                }
            }
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The access log nginx writes (in `config.log_format`, or `combined`).
    pub fn access_log(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }

    /// Waits (at most 5 s, polling every 20 ms) until nginx has logged `lines`
    /// requests, and returns the log's path. nginx writes a request's line in its log
    /// phase, after the response has gone out, so a client that has read the answer
    /// can be ahead of the log.
    ///
    /// Errors: the log has fewer lines after 5 s, or more than `lines`.
    pub fn logged(&self, lines: usize) -> io::Result<PathBuf> {
        let path = self.access_log();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let count = text.lines().count();
            if count > lines {
                return Err(io::Error::other(format!(
                    "nginx logged {count} lines, expected {lines}:\n{text}"
                )));
            }
            if count == lines {
                return Ok(path);
            }
            if Instant::now() >= deadline {
                return Err(io::Error::other(format!(
                    "nginx logged {count} of {lines} lines in 5 s:\n{text}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The generated `nginx.conf`, as `nginx -T` would show it.
    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("nginx.conf")
    }

    /// Restarts nginx on the same port with a different legacy route (the cutover's
    /// "deploy"); the access log is kept and appended to.
    pub fn set_legacy(&mut self, legacy: LegacyRoute) -> io::Result<()> {
        self.config.legacy = legacy;
        self.stop();
        self.launch()
    }

    /// Points the edge at another upstream (a restarted backend).
    pub fn set_upstream(&mut self, upstream: SocketAddr) -> io::Result<()> {
        self.upstream = upstream;
        self.stop();
        self.launch()
    }

    fn launch(&mut self) -> io::Result<()> {
        let nginx = require::program("nginx", "nginx-light");
        let conf = self.config_file();
        std::fs::write(
            &conf,
            render_config(self.dir.path(), self.addr, self.upstream, &self.config),
        )?;
        self.child = Some(spawn_nginx(&nginx, self.dir.path(), &conf, self.addr)?);
        Ok(())
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `nginx` (foreground, one process) with prefix `dir` and configuration
/// `conf`, and waits (10 s at most) until it accepts connections on `addr`
/// (day2-core's `start_ready`). An nginx that exits first is an error quoting its
/// stderr.
pub fn spawn_nginx(nginx: &Path, dir: &Path, conf: &Path, addr: SocketAddr) -> io::Result<Child> {
    let mut command = Command::new(nginx);
    command.arg("-p").arg(dir).arg("-c").arg(conf);
    day2_core::process::start_ready(&mut command, Duration::from_secs(10), || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
    })
    .map_err(io::Error::other)
}

pub(crate) fn free_loopback_port() -> io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// The nginx configuration of the edge. Public so tests and the cutover playbook can
/// show and diff it.
pub fn render_config(
    dir: &Path,
    addr: SocketAddr,
    upstream: SocketAddr,
    config: &EdgeConfig,
) -> String {
    let dir = dir.display();
    let mut origins = String::new();
    for origin in &config.allowed_origins {
        let _ = writeln!(origins, "        \"{origin}\" $http_origin;");
    }
    let (log_format, log_name) = match &config.log_format {
        Some(format) => {
            let (escape, format) = match format.split_once(' ') {
                Some((escape, rest)) if escape.starts_with("escape=") => (escape, rest),
                _ => ("", format.as_str()),
            };
            (
                format!("    log_format day2 {escape} '{format}';\n"),
                "day2",
            )
        }
        None => (String::new(), "combined"),
    };
    let limit = if config.rate_limit {
        "limit_req zone=api burst=15 nodelay;\n            limit_req_status 503;"
    } else {
        ""
    };
    // The `if` blocks below are the real edge's: their add_header replaces the
    // location's, which is how X-Status-Path vanishes for nginx-allowed origins.
    let cors_if = "if ($edge_cors_origin) {\n                add_header Access-Control-Allow-Origin $edge_cors_origin always;\n                add_header Access-Control-Allow-Credentials true always;\n                add_header Vary Origin always;\n            }";
    let legacy = match config.legacy {
        LegacyRoute::Served => format!(
            "location /status/ {{\n            proxy_hide_header Access-Control-Allow-Origin;\n            proxy_hide_header Access-Control-Allow-Credentials;\n            proxy_hide_header Vary;\n            add_header X-Status-Path legacy always;\n            {cors_if}\n            proxy_pass http://backend;\n        }}"
        ),
        LegacyRoute::Removed => "# location /status/ removed".to_owned(),
        LegacyRoute::Retired => "location /status/ {\n            return 410;\n        }".to_owned(),
    };
    format!(
        r#"daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    types {{ text/html html; application/javascript js; text/css css; application/json json; }}
{log_format}    access_log {dir}/access.log {log_name};
    client_body_temp_path {dir}/tmp/client;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    limit_req_zone $binary_remote_addr zone=api:1m rate=30r/m;
    map $http_origin $edge_cors_origin {{
        default "";
{origins}    }}
    upstream backend {{
        server {upstream};
        keepalive 16;
    }}
    server {{
        listen {addr};
        server_name _;
        root {dir}/spa;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_connect_timeout 2s;
        proxy_read_timeout 5s;

        location = /api/status/summary {{
            add_header X-Status-Path api always;
            add_header Cache-Control "no-store" always;
            {cors_if}
            proxy_intercept_errors on;
            error_page 500 502 503 504 = @synthetic_warming;
            proxy_pass http://backend;
        }}
        location @synthetic_warming {{
            add_header Content-Type application/json always;
            add_header X-Status-Path api always;
            add_header Cache-Control "no-store" always;
            if ($edge_cors_origin) {{
                add_header Access-Control-Allow-Origin $edge_cors_origin always;
            }}
            return 200 '{synthetic}';
        }}
        location /api/status/ {{
            add_header X-Status-Path api always;
            proxy_pass http://backend;
        }}
        {legacy}
        location = /api/ready {{
            {limit}
            proxy_pass http://backend;
        }}
        location /api/ {{
            {limit}
            proxy_pass http://backend;
        }}
        location = /ready {{
            proxy_pass http://backend;
        }}
        location = /metrics {{
            proxy_pass http://backend;
        }}
        location / {{
            try_files $uri /index.html;
        }}
    }}
}}
"#,
        synthetic = SYNTHETIC_WARMING,
    )
}
