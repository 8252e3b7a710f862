//! A tiny HTTP/1.1 client over a Unix socket or a TCP stream, for
//! the probe ladder. It exists because the ladder needs sub-second deadlines on
//! connect, write and every read (bollard's timeouts are whole seconds and cover
//! only the whole request), and because a failure must be classified from the raw
//! OS error (`ENOENT`, `EACCES`, `ECONNREFUSED`) and from the raw bytes, which a
//! full client hides.
//!
//! One request per connection (`Connection: close`), GET only, bodies capped.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::endpoint::Endpoint;

/// The largest response the ladder reads (a `docker ps` of a busy host fits easily).
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;
const HEAD_LIMIT: usize = 64 * 1024;

/// A classified failure: `reason` is one of the documented probe reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: &'static str,
    pub message: String,
}

impl Failure {
    pub fn new(reason: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            reason,
            message: message.into(),
        }
    }
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names lower-cased, in order, duplicates kept.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A connected byte stream with its deadline applied to every operation.
pub trait Conn: Read + Write + Send {
    /// Bounds the next read or write by the time left until `deadline`.
    fn arm(&mut self, deadline: Instant) -> io::Result<()>;
}

impl Conn for UnixStream {
    fn arm(&mut self, deadline: Instant) -> io::Result<()> {
        let left = time_left(deadline)?;
        self.set_read_timeout(Some(left))?;
        self.set_write_timeout(Some(left))
    }
}

impl Conn for TcpStream {
    fn arm(&mut self, deadline: Instant) -> io::Result<()> {
        let left = time_left(deadline)?;
        self.set_read_timeout(Some(left))?;
        self.set_write_timeout(Some(left))
    }
}

fn time_left(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::from(io::ErrorKind::TimedOut))
    } else {
        Ok(left)
    }
}

/// Connects to the endpoint before `deadline`.
pub fn connect(endpoint: &Endpoint, deadline: Instant) -> Result<Box<dyn Conn>, Failure> {
    match endpoint {
        Endpoint::Unix(path) => {
            // A regular file or directory at the socket path refuses connections like
            // a dead daemon would; say what it really is.
            if let Ok(meta) = std::fs::metadata(path) {
                if !meta.file_type().is_socket() {
                    return Err(Failure::new(
                        "bad_docker_host",
                        format!("{} exists but is not a socket", path.display()),
                    ));
                }
            }
            let mut stream = UnixStream::connect(path)
                .map_err(|e| classify_io(&e, "connect", &path.display().to_string()))?;
            stream
                .arm(deadline)
                .map_err(|e| classify_io(&e, "connect", "socket"))?;
            Ok(Box::new(stream))
        }
        Endpoint::Tcp { host, port } => {
            let addrs: Vec<_> = (host.as_str(), *port)
                .to_socket_addrs()
                .map_err(|e| {
                    Failure::new("bad_docker_host", format!("cannot resolve {host}: {e}"))
                })?
                .collect();
            let mut last = Failure::new("bad_docker_host", format!("{host} has no address"));
            for addr in addrs {
                let left = time_left(deadline)
                    .map_err(|e| classify_io(&e, "connect", &endpoint.address()))?;
                match TcpStream::connect_timeout(&addr, left) {
                    Ok(mut stream) => {
                        stream
                            .arm(deadline)
                            .map_err(|e| classify_io(&e, "connect", "socket"))?;
                        return Ok(Box::new(stream));
                    }
                    Err(e) => last = classify_io(&e, "connect", &addr.to_string()),
                }
            }
            Err(last)
        }
    }
}

/// Maps an OS error to a probe reason. `what` is the operation, `target` what it was
/// applied to; both end up in the message.
pub fn classify_io(err: &io::Error, what: &str, target: &str) -> Failure {
    use io::ErrorKind as K;
    let reason = match err.kind() {
        K::NotFound => "no_such_socket",
        K::PermissionDenied => "permission_denied",
        K::ConnectionRefused => "connection_refused",
        K::TimedOut | K::WouldBlock => "hung",
        // A socket path longer than sun_path, or a path component that is a file.
        K::InvalidInput | K::NotADirectory => "bad_docker_host",
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            "garbage_response"
        }
        _ => "io_error",
    };
    Failure::new(reason, format!("{what} {target}: {err}"))
}

/// Sends `GET path` on a fresh connection and reads the whole response, every
/// operation bounded by `deadline`.
pub fn get(endpoint: &Endpoint, path: &str, deadline: Instant) -> Result<Response, Failure> {
    let mut conn = connect(endpoint, deadline)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: docker-doctor/{}\r\n\
         Accept: application/json\r\nConnection: close\r\n\r\n",
        endpoint.host_header(),
        env!("CARGO_PKG_VERSION")
    );
    conn.arm(deadline)
        .and_then(|()| conn.write_all(request.as_bytes()))
        .and_then(|()| conn.flush())
        .map_err(|e| classify_io(&e, "send", path))?;
    read_response(conn.as_mut(), deadline)
}

/// Reads until the response is complete by its own framing (or the peer closes).
fn read_response(conn: &mut dyn Conn, deadline: Instant) -> Result<Response, Failure> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(response) = parse(&buf, false)? {
            return Ok(response);
        }
        let read = conn.arm(deadline).and_then(|()| conn.read(&mut chunk));
        match read {
            Ok(0) => {
                return match parse(&buf, true)? {
                    Some(response) => Ok(response),
                    None if buf.is_empty() => Err(Failure::new(
                        "garbage_response",
                        "the endpoint closed the connection without answering",
                    )),
                    None => Err(Failure::new(
                        "garbage_response",
                        format!("the answer was cut off after {} bytes", buf.len()),
                    )),
                };
            }
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > BODY_LIMIT + HEAD_LIMIT {
                    return Err(Failure::new(
                        "garbage_response",
                        format!("the answer exceeds {BODY_LIMIT} bytes"),
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let mut failure = classify_io(&e, "read", "response");
                if failure.reason == "hung" {
                    failure.message = if buf.is_empty() {
                        "no answer before the deadline".to_owned()
                    } else {
                        format!("the answer stalled after {} bytes", buf.len())
                    };
                }
                return Err(failure);
            }
        }
    }
}

/// Parses what has been read so far: `Ok(None)` means "need more bytes"; `eof`
/// says the peer closed, which completes a body without length.
fn parse(buf: &[u8], eof: bool) -> Result<Option<Response>, Failure> {
    let garbage = |what: String| Err(Failure::new("garbage_response", what));
    // Judge the status line as soon as there are enough bytes, so a server talking
    // something else is named at once instead of waiting for its end.
    let prefix = &buf[..buf.len().min(5)];
    if !b"HTTP/"[..prefix.len()].eq_ignore_ascii_case(prefix) {
        return garbage(format!(
            "not an HTTP answer: starts with {:?}",
            snippet(buf)
        ));
    }
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        if buf.len() > HEAD_LIMIT {
            return garbage(format!("no end of HTTP headers within {HEAD_LIMIT} bytes"));
        }
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts.next().and_then(|s| s.parse::<u16>().ok());
    let (true, Some(status)) = (version.starts_with("HTTP/1."), status) else {
        return garbage(format!(
            "bad HTTP status line {:?}",
            snippet(status_line.as_bytes())
        ));
    };
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return garbage(format!(
                "bad HTTP header line {:?}",
                snippet(line.as_bytes())
            ));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let body = &buf[head_end + 4..];
    let response = |body: Vec<u8>| Response {
        status,
        headers: headers.clone(),
        body,
    };
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return match dechunk(body)? {
            Some(decoded) => Ok(Some(response(decoded))),
            None if eof => garbage("the chunked answer was cut off".to_owned()),
            None => Ok(None),
        };
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v);
    if let Some(length) = length {
        let Ok(length) = length.parse::<usize>() else {
            return garbage(format!("bad Content-Length {length:?}"));
        };
        if body.len() >= length {
            return Ok(Some(response(body[..length].to_vec())));
        }
        if eof {
            return garbage(format!(
                "the answer was cut off at {} of {length} bytes",
                body.len()
            ));
        }
        return Ok(None);
    }
    // No framing: a 204/304 has no body; anything else ends when the peer closes.
    if status == 204 || status == 304 || (100..200).contains(&status) || eof {
        return Ok(Some(response(body.to_vec())));
    }
    Ok(None)
}

/// Decodes a chunked body: `Ok(None)` while the final chunk has not arrived.
fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, Failure> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = find(rest, b"\r\n") else {
            return Ok(None);
        };
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return Err(Failure::new(
                "garbage_response",
                format!("bad chunk size {:?}", snippet(size_text.as_bytes())),
            ));
        };
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(Some(out));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The first bytes of something, printable, for error messages.
pub fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]);
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_chunked_and_close_delimited_bodies() {
        let r = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nApi-Version: 1.41\r\n\r\nOK",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"OK"[..]));
        assert_eq!(r.header("api-version"), Some("1.41"));

        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1,\r\n2\r\n2]\r\n0\r\n\r\n";
        assert!(parse(&chunked[..chunked.len() - 5], false)
            .unwrap()
            .is_none());
        assert_eq!(parse(chunked, false).unwrap().unwrap().body, b"[1,2]");

        assert!(parse(b"HTTP/1.0 200 OK\r\n\r\n{}", false)
            .unwrap()
            .is_none());
        assert_eq!(
            parse(b"HTTP/1.0 200 OK\r\n\r\n{}", true)
                .unwrap()
                .unwrap()
                .body,
            b"{}"
        );
    }

    #[test]
    fn names_garbage_early() {
        assert!(parse(b"HT", false).unwrap().is_none());
        let err = parse(b"SSH-2.0-OpenSSH\r\n", false).unwrap_err();
        assert_eq!(err.reason, "garbage_response");
        assert!(err.message.contains("SSH-2.0"), "{}", err.message);
        assert_eq!(
            parse(b"HTTP/1.1 abc\r\n\r\n", false).unwrap_err().reason,
            "garbage_response"
        );
        let cut = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab", true).unwrap_err();
        assert!(cut.message.contains("2 of 9"), "{}", cut.message);
    }
}
