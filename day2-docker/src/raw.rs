//! The bounded raw Engine client: one GET per connection over a Unix socket or TCP,
//! HTTP/1.1 with `Connection: close`, every step (connect, write, each read) bounded
//! by one deadline, the answer's head parsed with `httparse`, the body capped.
//!
//! It exists beside bollard because the tools need sub-second deadlines on every step
//! (bollard's timeout is whole seconds over the whole request), because a failure
//! must be classified from the raw OS error (`ENOENT`, `EACCES`, `ECONNREFUSED`) and
//! the raw bytes, which a full client hides, and because bollard 0.21 cannot read the
//! older `/system/df` shape.
//!
//! Reasons (`Problem::reason`): `no_such_socket`, `permission_denied`,
//! `connection_refused`, `hung` (a deadline passed), `bad_docker_host` (not a
//! socket, unresolvable, a path too long), `garbage_response` (not HTTP, cut off,
//! too large, reset), `io_error` (anything else).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use day2_core::Problem;

use crate::host::Endpoint;

/// Largest response head read: 64 KiB.
const HEAD_LIMIT: usize = 64 * 1024;
/// Most header lines in a response head.
const MAX_HEADERS: usize = 64;

/// The reason of a step that ran past its deadline.
pub const HUNG: &str = "hung";
/// The reason of an answer that is not (complete) HTTP.
pub const GARBAGE: &str = "garbage_response";

/// A parsed response (the `http` crate's type, as hyper and bollard use it): status,
/// headers (looked up case-insensitively), and the de-chunked body.
pub type Response = http::Response<Vec<u8>>;

/// The first value of a header as text, `None` when absent or not visible ASCII.
pub fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name)?.to_str().ok()
}

/// Who asks and how much it reads.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    /// The `User-Agent` header, e.g. `docker-doctor/0.1.0`.
    pub user_agent: &'static str,
    /// The largest body read, in bytes; a longer answer is `garbage_response`.
    pub body_limit: usize,
}

/// A connected byte stream whose every read and write is bounded by a deadline.
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

/// The time left until `deadline`; a `TimedOut` error once it has passed (a zero
/// socket timeout would mean "no timeout").
fn time_left(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::from(io::ErrorKind::TimedOut))
    } else {
        Ok(left)
    }
}

/// Connects to the endpoint before `deadline` (a TCP connect with the time left; a
/// Unix connect does not block on a listening socket) and arms the stream with it.
///
/// Errors: the reasons of [`classify_io`], and `bad_docker_host` for a socket path
/// that is not a socket or a host that does not resolve.
pub fn connect(endpoint: &Endpoint, deadline: Instant) -> Result<Box<dyn Conn>, Problem> {
    match endpoint {
        Endpoint::Unix(path) => {
            // A regular file or directory at the socket path refuses connections like
            // a dead daemon would; say what it really is.
            if let Ok(meta) = std::fs::metadata(path) {
                if !meta.file_type().is_socket() {
                    return Err(Problem::new(
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
                    Problem::new("bad_docker_host", format!("cannot resolve {host}: {e}"))
                })?
                .collect();
            let mut last = Problem::new("bad_docker_host", format!("{host} has no address"));
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

/// Maps an OS error to a reason. `what` is the operation, `target` what it was
/// applied to; both end up in the message.
pub fn classify_io(err: &io::Error, what: &str, target: &str) -> Problem {
    use io::ErrorKind as K;
    let reason = match err.kind() {
        K::NotFound => "no_such_socket",
        K::PermissionDenied => "permission_denied",
        K::ConnectionRefused => "connection_refused",
        K::TimedOut | K::WouldBlock => HUNG,
        // A socket path longer than sun_path, or a path component that is a file.
        K::InvalidInput | K::NotADirectory => "bad_docker_host",
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => GARBAGE,
        _ => "io_error",
    };
    Problem::new(reason, format!("{what} {target}: {err}"))
}

impl Client {
    /// Sends `GET path` on a fresh connection and reads the whole response; connect,
    /// write and every read end by `deadline`.
    ///
    /// Errors: see the module's reasons; `hung` says whether nothing or part of the
    /// answer came.
    pub fn get(
        &self,
        endpoint: &Endpoint,
        path: &str,
        deadline: Instant,
    ) -> Result<Response, Problem> {
        let mut conn = connect(endpoint, deadline)?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\n\
             Accept: application/json\r\nConnection: close\r\n\r\n",
            endpoint.host_header(),
            self.user_agent,
        );
        conn.arm(deadline)
            .and_then(|()| conn.write_all(request.as_bytes()))
            .and_then(|()| conn.flush())
            .map_err(|e| classify_io(&e, "send", path))?;
        self.read_response(conn.as_mut(), deadline)
    }

    /// Reads until the response is complete by its own framing (or the peer closes).
    fn read_response(&self, conn: &mut dyn Conn, deadline: Instant) -> Result<Response, Problem> {
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(response) = parse(&buf, false, self.body_limit)? {
                return Ok(response);
            }
            let read = conn.arm(deadline).and_then(|()| conn.read(&mut chunk));
            match read {
                Ok(0) => {
                    return match parse(&buf, true, self.body_limit)? {
                        Some(response) => Ok(response),
                        None if buf.is_empty() => Err(Problem::new(
                            GARBAGE,
                            "the endpoint closed the connection without answering",
                        )),
                        None => Err(Problem::new(
                            GARBAGE,
                            format!("the answer was cut off after {} bytes", buf.len()),
                        )),
                    };
                }
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let mut problem = classify_io(&e, "read", "response");
                    if problem.reason() == HUNG {
                        problem.message = if buf.is_empty() {
                            "no answer before the deadline".to_owned()
                        } else {
                            format!("the answer stalled after {} bytes", buf.len())
                        };
                    }
                    return Err(problem);
                }
            }
        }
    }
}

fn garbage<T>(message: String) -> Result<T, Problem> {
    Err(Problem::new(GARBAGE, message))
}

/// Parses what has been read so far: `Ok(None)` means "need more bytes"; `eof` says
/// the peer closed, which completes a body without length. A body over `limit`
/// bytes is refused as soon as it is seen.
fn parse(buf: &[u8], eof: bool, limit: usize) -> Result<Option<Response>, Problem> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Response::new(&mut slots);
    let head_len = match head.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > HEAD_LIMIT => {
            return garbage(format!("no end of HTTP headers within {HEAD_LIMIT} bytes"))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        // httparse judges the status line as soon as there are enough bytes, so a
        // server talking something else is named at once, not at its end.
        Err(httparse::Error::Version) => {
            return garbage(format!("not an HTTP answer: starts with {}", snippet(buf)))
        }
        Err(e) => {
            return garbage(format!(
                "a bad HTTP head ({e}) in an answer starting with {}",
                snippet(buf)
            ))
        }
    };
    let status = head.code.unwrap_or_default();
    let body = &buf[head_len..];
    let response = |body: Vec<u8>| {
        let mut builder = http::Response::builder().status(status);
        for field in head.headers.iter() {
            builder = builder.header(field.name, field.value);
        }
        builder
            .body(body)
            .map_err(|e| Problem::new(GARBAGE, format!("a bad HTTP head: {e}")))
    };
    let value = |name: &str| {
        head.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
    };
    let chunked =
        value("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return match dechunk(body, limit)? {
            Some(decoded) => response(decoded).map(Some),
            None if eof => garbage("the chunked answer was cut off".to_owned()),
            None => Ok(None),
        };
    }
    if let Some(length) = value("content-length") {
        let Ok(length) = length.parse::<usize>() else {
            return garbage(format!(
                "the Content-Length {} is not a number",
                day2_core::bounded::quoted(&length)
            ));
        };
        if length > limit {
            return garbage(too_large(limit));
        }
        if body.len() >= length {
            return response(body[..length].to_vec()).map(Some);
        }
        if eof {
            return garbage(format!(
                "the answer was cut off at {} of {length} bytes",
                body.len()
            ));
        }
        return Ok(None);
    }
    if body.len() > limit {
        return garbage(too_large(limit));
    }
    // No framing: a 1xx/204/304 has no body; anything else ends when the peer closes.
    if status == 204 || status == 304 || (100..200).contains(&status) || eof {
        return response(body.to_vec()).map(Some);
    }
    Ok(None)
}

fn too_large(limit: usize) -> String {
    format!("the answer exceeds {limit} bytes")
}

/// Decodes a chunked body: `Ok(None)` while the last chunk has not arrived.
fn dechunk(mut rest: &[u8], limit: usize) -> Result<Option<Vec<u8>>, Problem> {
    let mut out = Vec::new();
    loop {
        let (start, size) = match httparse::parse_chunk_size(rest) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return garbage(format!("a bad chunk size line: {}", snippet(rest))),
        };
        let Ok(size) = usize::try_from(size) else {
            return garbage(too_large(limit));
        };
        if size == 0 {
            return Ok(Some(out));
        }
        if out.len().saturating_add(size) > limit {
            return garbage(too_large(limit));
        }
        rest = &rest[start..];
        if rest.len() < size + 2 {
            return Ok(None);
        }
        if &rest[size..size + 2] != b"\r\n" {
            return garbage("a chunk does not end where its size says".to_owned());
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// The first 40 bytes of something, quoted and escaped, for messages.
pub fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]);
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    day2_core::bounded::quoted(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const LIMIT: usize = 1024;

    fn complete(bytes: &[u8], eof: bool) -> Response {
        parse(bytes, eof, LIMIT).unwrap().unwrap()
    }

    #[test]
    fn parses_length_chunked_and_close_delimited_bodies() {
        let r = complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nApi-Version: 1.41\r\n\r\nOK",
            false,
        );
        assert_eq!(
            (r.status().as_u16(), r.body().as_slice()),
            (200, &b"OK"[..])
        );
        assert_eq!(header(&r, "Api-Version"), Some("1.41"));

        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\n[1,\r\n2\r\n2]\r\n0\r\n\r\n";
        for cut in [40, 50, chunked.len() - 5] {
            assert!(
                parse(&chunked[..cut], false, LIMIT).unwrap().is_none(),
                "{cut}"
            );
        }
        assert_eq!(complete(chunked, false).body(), b"[1,2]");
        let cut = parse(&chunked[..55], true, LIMIT).unwrap_err();
        assert!(
            cut.message.contains("chunked answer was cut off"),
            "{}",
            cut.message
        );

        assert!(parse(b"HTTP/1.0 200 OK\r\n\r\n{}", false, LIMIT)
            .unwrap()
            .is_none());
        assert_eq!(complete(b"HTTP/1.0 200 OK\r\n\r\n{}", true).body(), b"{}");
        assert_eq!(
            complete(b"HTTP/1.1 204 No Content\r\n\r\n", false).body(),
            b""
        );
    }

    #[test]
    fn names_garbage_early() {
        assert!(parse(b"HT", false, LIMIT).unwrap().is_none());
        let err = parse(b"SSH-2.0-OpenSSH\r\n", false, LIMIT).unwrap_err();
        assert_eq!(err.reason(), GARBAGE);
        assert!(err.message.contains("SSH-2.0"), "{}", err.message);
        assert_eq!(
            parse(b"HTTP/1.1 abc\r\n\r\n", false, LIMIT)
                .unwrap_err()
                .reason(),
            GARBAGE
        );
        let cut = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab",
            true,
            LIMIT,
        )
        .unwrap_err();
        assert!(cut.message.contains("2 of 9"), "{}", cut.message);
        let bad_length = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            false,
            LIMIT,
        );
        assert!(bad_length
            .unwrap_err()
            .message
            .contains("\"x\" is not a number"));
        let bad_chunk = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            false,
            LIMIT,
        );
        assert_eq!(bad_chunk.unwrap_err().reason(), GARBAGE);
        let liar = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n",
            false,
            LIMIT,
        );
        assert!(liar.unwrap_err().message.contains("does not end"));
    }

    #[test]
    fn a_body_over_the_limit_is_refused_whatever_its_framing() {
        let declared = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", LIMIT + 1);
        let err = parse(declared.as_bytes(), false, LIMIT).unwrap_err();
        assert!(
            err.message.contains("exceeds 1024 bytes"),
            "{}",
            err.message
        );
        let big = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            LIMIT + 1
        );
        assert!(parse(big.as_bytes(), false, LIMIT).is_err());
        let mut unframed = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
        unframed.extend(vec![b'x'; LIMIT + 1]);
        assert!(parse(&unframed, false, LIMIT).is_err());
    }

    const CLIENT: Client = Client {
        user_agent: "day2-docker-test",
        body_limit: LIMIT,
    };

    fn tcp_endpoint(listener: &TcpListener) -> Endpoint {
        let addr = listener.local_addr().unwrap();
        Endpoint::Tcp {
            host: addr.ip().to_string(),
            port: addr.port(),
        }
    }

    /// A server that answers with `bytes` and closes, on its own thread.
    fn one_answer(bytes: &'static [u8]) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = tcp_endpoint(&listener);
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let _ = stream.write_all(bytes);
        });
        endpoint
    }

    #[test]
    fn a_chunked_answer_over_a_socket_is_read_whole() {
        let endpoint = one_answer(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        let response = CLIENT.get(&endpoint, "/_ping", deadline).unwrap();
        assert_eq!(
            (response.status().as_u16(), response.body().as_slice()),
            (200, &b"{}"[..])
        );
    }

    #[test]
    fn a_short_or_garbled_answer_is_garbage() {
        let deadline = Instant::now() + Duration::from_secs(5);
        let cases: [(&'static [u8], &str); 3] = [
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
                "cut off at 2 of 10",
            ),
            (b"\x16\x03\x01\x02\x00 not http", "not an HTTP answer"),
            (b"", "closed the connection without answering"),
        ];
        for (answer, words) in cases {
            let err = CLIENT.get(&one_answer(answer), "/x", deadline).unwrap_err();
            assert_eq!(err.reason(), GARBAGE, "{}", err.message);
            assert!(err.message.contains(words), "{}", err.message);
        }
    }

    /// A server that accepts and reads but never answers: `hung`, at the deadline
    /// (not before, and within a small margin after).
    #[test]
    fn a_server_that_never_answers_is_hung_at_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = tcp_endpoint(&listener);
        let holder = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(3)))
                .unwrap();
            let mut sink = [0u8; 1024];
            let _ = stream.read(&mut sink);
            std::thread::sleep(Duration::from_secs(1));
        });
        let started = Instant::now();
        let budget = Duration::from_millis(300);
        let err = CLIENT.get(&endpoint, "/x", started + budget).unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.reason(), HUNG, "{}", err.message);
        assert_eq!(err.message, "no answer before the deadline");
        assert!(
            took >= budget && took < budget + Duration::from_millis(500),
            "{took:?}"
        );
        holder.join().unwrap();
    }

    /// A server that accepts but never reads (its listen backlog takes the
    /// connection, nobody calls read): the request fits the socket buffer, the
    /// answer never comes, and the read ends at the deadline.
    #[test]
    fn a_server_that_accepts_but_never_reads_is_hung_at_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = tcp_endpoint(&listener);
        let started = Instant::now();
        let budget = Duration::from_millis(300);
        let err = CLIENT.get(&endpoint, "/x", started + budget).unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.reason(), HUNG, "{}", err.message);
        assert!(
            took >= budget && took < budget + Duration::from_millis(500),
            "{took:?}"
        );
        drop(listener);
    }

    /// A deadline already past fails before any connect, as `hung`.
    #[test]
    fn a_spent_deadline_is_hung_before_connecting() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = tcp_endpoint(&listener);
        let err = CLIENT.get(&endpoint, "/x", Instant::now()).unwrap_err();
        assert_eq!(err.reason(), HUNG, "{}", err.message);
    }

    #[test]
    fn os_errors_keep_their_reasons() {
        let gone = Endpoint::Unix("/nonexistent/day2/docker.sock".into());
        let deadline = Instant::now() + Duration::from_secs(1);
        assert_eq!(
            CLIENT.get(&gone, "/x", deadline).unwrap_err().reason(),
            "no_such_socket"
        );
        let file = std::env::current_exe().unwrap();
        let not_socket = Endpoint::Unix(file);
        let err = CLIENT.get(&not_socket, "/x", deadline).unwrap_err();
        assert_eq!(err.reason(), "bad_docker_host");
        assert!(err.message.contains("is not a socket"));
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = tcp_endpoint(&closed);
        drop(closed);
        assert_eq!(
            CLIENT.get(&endpoint, "/x", deadline).unwrap_err().reason(),
            "connection_refused"
        );
    }
}
