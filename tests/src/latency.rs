//! A loopback TCP proxy that adds latency: what a link 30–150 ms long does to a tool
//! that talks to the stack across the internet, reproduced on `127.0.0.1`.
//!
//! [`LatencyProxy::start`] listens on `127.0.0.1:0` and forwards every connection to a
//! loopback upstream (the demo stack's nginx, the backend simulator). Each direction
//! holds every chunk of bytes for half the round trip before passing it on, so a
//! request and its answer cost one round trip; a new connection costs one more (TCP's
//! handshake: the client's first bytes reach the upstream one and a half round trips
//! after it connected), so the proxy's round trips are the ones a real link charges.
//!
//! Bounded as all test equipment is: at most [`MAX_CONNECTIONS`] connections at once
//! (more are closed at once), four threads each (a reader and a delayed writer per
//! direction), every socket operation with a deadline, idle connections closed after
//! [`IDLE`]; dropping the proxy stops the listener and joins every thread.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Connections relayed at once; a client beyond it is closed without an answer.
pub const MAX_CONNECTIONS: usize = 128;

/// A connection with no bytes in either direction for this long is closed.
pub const IDLE: Duration = Duration::from_secs(30);

/// How often a blocked thread looks at the stop flag.
const POLL: Duration = Duration::from_millis(50);

/// Deadline of one write to either side.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes read at once from either side.
const CHUNK: usize = 64 * 1024;

/// The stack of each relay thread (they hold one chunk at most).
const STACK: usize = 256 * 1024;

/// A running proxy. Dropping it stops it.
pub struct LatencyProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    rtt: Duration,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    stop: AtomicBool,
    /// Connections accepted since the start.
    accepted: AtomicU64,
    /// Connections being relayed now.
    open: AtomicUsize,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for LatencyProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.upstream)
            .field("rtt", &self.rtt)
            .finish()
    }
}

impl LatencyProxy {
    /// Starts a proxy on a free loopback port in front of `upstream` (a loopback
    /// address), adding `rtt / 2` to each direction. Errors: `upstream` is not on
    /// loopback (`InvalidInput`), or the listener cannot be opened.
    pub fn start(upstream: SocketAddr, rtt: Duration) -> io::Result<LatencyProxy> {
        if !upstream.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the latency proxy forwards to loopback only, not {upstream}"),
            ));
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            accepted: AtomicU64::new(0),
            open: AtomicUsize::new(0),
            threads: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("latency-accept".into())
            .spawn(move || accept_loop(&listener, upstream, rtt, &accept_shared))?;
        Ok(LatencyProxy {
            addr,
            upstream,
            rtt,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// Starts a proxy in front of an `http://127.0.0.1:PORT` URL (a path is ignored).
    pub fn in_front_of(url: &str, rtt: Duration) -> io::Result<LatencyProxy> {
        let authority = url
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("not an http:// URL: {url}"),
                )
            })?;
        let upstream: SocketAddr = authority.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not an IP:port authority: {authority}"),
            )
        })?;
        LatencyProxy::start(upstream, rtt)
    }

    /// `http://127.0.0.1:PORT`: the upstream, one round trip away.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The round trip the proxy adds.
    pub fn rtt(&self) -> Duration {
        self.rtt
    }

    /// Connections accepted since the start (each one cost a round trip to set up).
    pub fn connections(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the acceptor sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let threads = std::mem::take(
            &mut *self
                .shared
                .threads
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        // Every relay thread wakes within POLL and sees the flag.
        for thread in threads {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, upstream: SocketAddr, rtt: Duration, shared: &Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = client else { continue };
        let accepted = Instant::now();
        if shared.open.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(3)) else {
            // The upstream refuses: so does the proxy, once the handshake's time passed.
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        shared.open.fetch_add(1, Ordering::SeqCst);
        if let Err(()) = relay(client, server, accepted, rtt, shared) {
            // No thread was started: the connection is dropped here.
            shared.open.fetch_sub(1, Ordering::SeqCst);
        }
        // Forget the threads that ended, so the list stays as long as the live ones.
        let mut threads = shared
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        threads.retain(|t| !t.is_finished());
    }
}

/// Starts the four threads of one connection; `Err` (and no thread) when its sockets
/// could not be cloned.
fn relay(
    client: TcpStream,
    server: TcpStream,
    accepted: Instant,
    rtt: Duration,
    shared: &Arc<Shared>,
) -> Result<(), ()> {
    let half = rtt / 2;
    // TCP's handshake: the client's first bytes leave one round trip after connect.
    let upstream_floor = accepted + rtt + half;
    let ends = [&client, &server];
    for end in ends {
        let _ = end.set_nodelay(true);
        let _ = end.set_read_timeout(Some(POLL));
        let _ = end.set_write_timeout(Some(WRITE_TIMEOUT));
    }
    let clone = |s: &TcpStream| s.try_clone().map_err(|_| ());
    let (c_read, c_write) = (clone(&client)?, clone(&client)?);
    let (s_read, s_write) = (clone(&server)?, clone(&server)?);
    let activity = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    // Both directions end, then the connection counts as closed.
    let remaining = Arc::new(AtomicUsize::new(2));
    let ended = |remaining: &AtomicUsize, shared: &Shared| {
        if remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
            shared.open.fetch_sub(1, Ordering::SeqCst);
        }
    };
    let mut handles = Vec::new();
    for (from, to, floor, name) in [
        (c_read, s_write, Some(upstream_floor), "latency-up"),
        (s_read, c_write, None, "latency-down"),
    ] {
        let (tx, rx) = mpsc::channel();
        let (shared_r, activity_r) = (Arc::clone(shared), Arc::clone(&activity));
        let reader = thread::Builder::new()
            .name(format!("{name}-read"))
            .stack_size(STACK)
            .spawn(move || read_side(from, &tx, half, floor, &shared_r, &activity_r, epoch));
        let (shared_w, remaining_w) = (Arc::clone(shared), Arc::clone(&remaining));
        let writer = thread::Builder::new()
            .name(format!("{name}-write"))
            .stack_size(STACK)
            .spawn(move || {
                write_side(to, &rx, &shared_w);
                ended(&remaining_w, &shared_w);
            });
        // A thread that could not be started: its direction is over (a reader whose
        // writer is missing stops at its first send; a writer without a reader at
        // the end of its channel).
        if writer.is_err() {
            ended(&remaining, shared);
        }
        handles.extend(reader.into_iter().chain(writer));
    }
    shared
        .threads
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(handles);
    Ok(())
}

/// A chunk and when it may be passed on; `None` is the end of the direction.
type Delayed = (Instant, Option<Vec<u8>>);

/// Reads one side and queues each chunk for `delay` later (never before `floor`).
/// Ends at end of stream, on an error, at stop, or when the connection was idle for
/// [`IDLE`] in both directions.
fn read_side(
    mut from: TcpStream,
    to: &Sender<Delayed>,
    delay: Duration,
    floor: Option<Instant>,
    shared: &Shared,
    activity: &AtomicU64,
    epoch: Instant,
) {
    let mut buf = vec![0u8; CHUNK];
    let due = |now: Instant| match floor {
        Some(floor) => (now + delay).max(floor),
        None => now + delay,
    };
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let now = Instant::now();
                activity.store(
                    now.duration_since(epoch).as_millis() as u64,
                    Ordering::SeqCst,
                );
                if to.send((due(now), Some(buf[..n].to_vec()))).is_err() {
                    return;
                }
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                let last = Duration::from_millis(activity.load(Ordering::SeqCst));
                if epoch.elapsed().saturating_sub(last) > IDLE {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = to.send((due(Instant::now()), None));
}

/// Writes each queued chunk once it is due; at the end of the direction, closes the
/// other side's write half so its reader sees the end too.
fn write_side(mut to: TcpStream, from: &Receiver<Delayed>, shared: &Shared) {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let (due, chunk) = match from.recv_timeout(POLL) {
            Ok(item) => item,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        // Sleep in slices so a stop is seen within POLL.
        loop {
            let now = Instant::now();
            if now >= due || shared.stop.load(Ordering::SeqCst) {
                break;
            }
            thread::sleep((due - now).min(POLL));
        }
        match chunk {
            Some(bytes) => {
                if to.write_all(&bytes).is_err() {
                    break;
                }
            }
            None => break,
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server that answers each chunk as it comes, for at most `limit` time.
    fn echo() -> (SocketAddr, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut buf = [0u8; 1024];
            for _ in 0..100 {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => stream.write_all(&buf[..n]).unwrap(),
                }
            }
        });
        (addr, handle)
    }

    #[test]
    fn an_exchange_costs_a_round_trip_and_a_connection_one_more() {
        let (upstream, server) = echo();
        let rtt = Duration::from_millis(80);
        let proxy = LatencyProxy::start(upstream, rtt).unwrap();
        let started = Instant::now();
        let mut client = TcpStream::connect(proxy.addr()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 5];
        client.write_all(b"hello").unwrap();
        client.read_exact(&mut buf).unwrap();
        let first = started.elapsed();
        assert_eq!(&buf, b"hello");
        let again = Instant::now();
        client.write_all(b"again").unwrap();
        client.read_exact(&mut buf).unwrap();
        let second = again.elapsed();
        assert_eq!(&buf, b"again");
        // Set-up and exchange: two round trips; the next exchange: one.
        assert!(first >= rtt * 2, "{first:?}");
        assert!(second >= rtt && second < rtt * 2, "{second:?}");
        assert_eq!(proxy.connections(), 1);
        drop(client);
        drop(proxy);
        server.join().unwrap();
    }

    #[test]
    fn refuses_to_forward_off_loopback() {
        let err = LatencyProxy::start("192.0.2.1:80".parse().unwrap(), Duration::ZERO).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
