//! A fake Cloudflare edge on loopback, for the origin/edge comparison of
//! `tunnel-check`: a tiny HTTP proxy on `127.0.0.1:0` that forwards each request
//! to an origin (the demo stack's nginx, say) and stamps the answer the way
//! Cloudflare does (`cf-ray: <hex>-<COLO>`, `server: cloudflare`), or misbehaves on
//! demand: Cloudflare's own 52x/530 errors, or answers that never went through
//! Cloudflare (no `cf-ray`). When the origin cannot be reached it answers 502 with
//! `cf-ray`, as Cloudflare does when the connector cannot reach its origin.
//!
//! [`StaticServer`] answers every request with one fixed response: a stand-in for
//! cloudflared's metrics `/ready`, or a second origin that disagrees.
//!
//! One thread per connection, one request per connection (`connection: close`),
//! every socket with a deadline, so nothing here can hang a test.

use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::backend::Response;
use crate::http1::{read_request, write_response, Request};

/// Deadline of every socket read and write of the fake edge.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest origin answer relayed; more is cut (test origins are small).
const MAX_ORIGIN_ANSWER: u64 = 4 * 1024 * 1024;

/// How the fake edge answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeMode {
    /// Forward to the origin and add `cf-ray` and `server: cloudflare`.
    Proxy,
    /// Forward to the origin and relay its answer untouched: whatever answers did
    /// not come through Cloudflare.
    ProxyWithoutRay,
    /// Answer this status itself, as Cloudflare does (502, 520–530), with `cf-ray`.
    Status(u16),
}

/// A listener thread that stops when its owner is dropped.
#[derive(Debug)]
struct Listener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    requests: Arc<AtomicU64>,
}

impl Listener {
    fn start(handle: Arc<dyn Fn(TcpStream) + Send + Sync>) -> io::Result<Listener> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicU64::new(0));
        let (stop_flag, counter) = (stop.clone(), requests.clone());
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let handle = handle.clone();
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
                    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
                    handle(stream);
                });
            }
        });
        Ok(Listener {
            addr,
            stop,
            thread: Some(thread),
            requests,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The fake edge. Dropping it stops it.
#[derive(Debug)]
pub struct FakeEdge {
    listener: Listener,
    mode: Arc<Mutex<EdgeMode>>,
}

impl FakeEdge {
    /// Starts a fake edge in [`EdgeMode::Proxy`] in front of `origin`, an
    /// `http://127.0.0.1:PORT` base URL, stamping `colo` (e.g. `AMS`) into `cf-ray`.
    pub fn start(origin: &str, colo: &str) -> io::Result<FakeEdge> {
        let origin_addr = origin
            .strip_prefix("http://")
            .map(|rest| rest.trim_end_matches('/'))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "origin must be http://host:port",
                )
            })?
            .to_owned();
        let mode = Arc::new(Mutex::new(EdgeMode::Proxy));
        let rays = Arc::new(AtomicU64::new(0));
        let (shared_mode, colo) = (mode.clone(), colo.to_owned());
        let handle = move |stream: TcpStream| {
            let mode = shared_mode
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let ray = ray_id(&rays, &colo);
            let _ = serve_edge(stream, &origin_addr, &mode, &ray);
        };
        Ok(FakeEdge {
            listener: Listener::start(Arc::new(handle))?,
            mode,
        })
    }

    /// The edge's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.listener.addr)
    }

    /// Changes how the edge answers from the next request on.
    pub fn set_mode(&self, mode: EdgeMode) {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner) = mode;
    }

    /// Connections accepted so far.
    pub fn requests(&self) -> u64 {
        self.listener.requests.load(Ordering::SeqCst)
    }
}

/// A fresh ray id: 16 hex digits and the colo, like `8c1f2e3d4c5b6a79-AMS`.
fn ray_id(counter: &AtomicU64, colo: &str) -> String {
    let n = counter.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!("{:016x}-{colo}", nanos.rotate_left(17) ^ n)
}

fn cloudflare_headers(ray: &str) -> Vec<(String, String)> {
    vec![
        ("cf-ray".into(), ray.to_owned()),
        ("server".into(), "cloudflare".into()),
    ]
}

fn serve_edge(stream: TcpStream, origin: &str, mode: &EdgeMode, ray: &str) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let Some(request) = read_request(&mut reader)? else {
        return Ok(());
    };
    let head_only = request.method == "HEAD";
    let mut response = match mode {
        EdgeMode::Status(status) => Response {
            status: *status,
            headers: vec![("content-type".into(), "text/html".into())],
            body: format!("error code: {status}").into_bytes(),
        },
        EdgeMode::Proxy | EdgeMode::ProxyWithoutRay => {
            forward(origin, &request).unwrap_or_else(|_| Response {
                status: 502,
                headers: vec![("content-type".into(), "text/html".into())],
                body: b"<html><body>502 Bad Gateway (cloudflare)</body></html>".to_vec(),
            })
        }
    };
    if *mode != EdgeMode::ProxyWithoutRay {
        response
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("server"));
        response.headers.extend(cloudflare_headers(ray));
    }
    response.headers.push(("connection".into(), "close".into()));
    let mut out = stream;
    write_response(&mut out, &response, head_only)
}

/// Sends the request to the origin as HTTP/1.0 (so the answer is never chunked and
/// ends at EOF) and parses the answer.
fn forward(origin: &str, request: &Request) -> io::Result<Response> {
    let addr: SocketAddr = origin
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "origin must be an IP:port"))?;
    let mut upstream = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
    upstream.set_read_timeout(Some(IO_TIMEOUT))?;
    upstream.set_write_timeout(Some(IO_TIMEOUT))?;
    let target = if request.query.is_empty() {
        request.path.clone()
    } else {
        format!("{}?{}", request.path, request.query)
    };
    let mut head = format!("{} {target} HTTP/1.0\r\nhost: {origin}\r\n", request.method);
    for (name, value) in &request.headers {
        if !matches!(
            name.as_str(),
            "host" | "connection" | "keep-alive" | "content-length"
        ) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", request.body.len()));
    upstream.write_all(head.as_bytes())?;
    upstream.write_all(&request.body)?;
    let mut raw = Vec::new();
    upstream.take(MAX_ORIGIN_ANSWER).read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> io::Result<Response> {
    let invalid = || io::Error::new(io::ErrorKind::InvalidData, "malformed origin answer");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(invalid)?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(invalid)?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .filter(|(n, _)| {
            !matches!(
                n.as_str(),
                "content-length" | "connection" | "transfer-encoding"
            )
        })
        .collect();
    Ok(Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// A server that answers every request with the same response. Dropping it stops it.
#[derive(Debug)]
pub struct StaticServer {
    listener: Listener,
}

impl StaticServer {
    /// Starts a server answering `status` with a JSON `body`.
    pub fn json(status: u16, body: &str) -> io::Result<StaticServer> {
        let response = Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        };
        let handle = move |stream: TcpStream| {
            let _ = serve_static(stream, &response);
        };
        Ok(StaticServer {
            listener: Listener::start(Arc::new(handle))?,
        })
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.listener.addr)
    }

    /// The server's `host:port`, the form of cloudflared's `--metrics`.
    pub fn addr(&self) -> SocketAddr {
        self.listener.addr
    }
}

fn serve_static(stream: TcpStream, response: &Response) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let Some(request) = read_request(&mut reader)? else {
        return Ok(());
    };
    let mut response = response.clone();
    response.headers.push(("connection".into(), "close".into()));
    let mut out = stream;
    write_response(&mut out, &response, request.method == "HEAD")
}

/// A loopback address nothing listens on (bound, then released), for "connection
/// refused" cases.
pub fn closed_url() -> io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(format!("http://{addr}"))
}
