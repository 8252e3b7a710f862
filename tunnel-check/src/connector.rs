//! The connector (cloudflared) as it describes itself: its logs from stdin, a
//! file or a container (through the Docker API), read as a stream and tallied, and
//! its metrics `/ready`. One record per question: connections, protocol, ingress,
//! origin errors, churn, readiness.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::Duration;

use day2_core::bounded::{self, DAY};
use day2_core::http::HttpOptions;
use day2_core::{Exit, Io, Record, RecordSink};
use serde_json::{json, Value};

use crate::logs::{self, EndHow, Event, StartMarker};
use crate::syntax::normalize_origin;
use crate::{metrics, TOOL};

mod container;

#[derive(Debug, Clone, clap::Args)]
pub struct ConnectorArgs {
    /// Read the logs from this file instead of stdin.
    #[arg(long, value_name = "PATH", conflicts_with = "container")]
    pub file: Option<PathBuf>,

    /// Read the logs of this container (name or id) through the Docker API
    /// (DOCKER_HOST is honoured).
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,

    /// With --container: only the last N lines ("all" by default).
    #[arg(long, value_name = "N", requires = "container", value_parser = bounded::count::<u64>(1, 100_000_000).of("a number of lines"))]
    pub tail: Option<u64>,

    /// cloudflared's metrics address (host:port or URL); its /ready is checked too.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,

    /// Edge connections a healthy connector holds (cloudflared's default is 4).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = bounded::count::<u64>(1, 100).of("a number of connections"))]
    pub expected_connections: u64,

    /// The origin the ingress configuration must point at.
    #[arg(long, value_name = "URL", default_value = "http://nginx:80")]
    pub expected_origin: String,

    /// Reconnects (re-registrations, unregistrations, retries) tolerated before the
    /// churn check warns.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = bounded::count::<u64>(0, 1_000_000).of("a number of reconnects"))]
    pub max_reconnects: u64,

    /// Deadline for the metrics request and for reading container logs.
    #[arg(long, value_parser = bounded::duration(Duration::from_millis(1), DAY), default_value = "10s")]
    pub timeout: Duration,
}

/// One edge connection (a `connIndex`) of one cloudflared process.
#[derive(Debug, Default, Clone)]
struct Conn {
    registrations: u64,
    /// The line of the last registration.
    registered_line: Option<u64>,
    /// No registration seen, but requests arrived on it from this line on: it
    /// was registered before the log begins.
    inferred_line: Option<u64>,
    active: bool,
    connection_id: Option<String>,
    location: Option<String>,
    ip: Option<String>,
    protocol: Option<String>,
    ended: Option<End>,
}

/// How and where a connection ended.
#[derive(Debug, Clone)]
struct End {
    how: &'static str,
    line: u64,
    error: Option<String>,
}

/// One run of cloudflared, from its start lines to its end.
#[derive(Debug, Default)]
struct Process {
    started_line: Option<u64>,
    /// The kinds of start lines seen (a second one of a kind is a new process).
    markers: u8,
    version: Option<String>,
    connector_id: Option<String>,
    pid: Option<u32>,
    conns: BTreeMap<u64, Conn>,
    /// Registrations, dial failures, ends: the process is past its start.
    activity: bool,
    stopping_line: Option<u64>,
    stopped_line: Option<u64>,
    /// The last line showing a request that reached this connector.
    traffic_line: Option<u64>,
    last_end_line: Option<u64>,
}

impl Process {
    fn is_active(&self, conn: &Conn) -> bool {
        conn.active && self.stopping_line.is_none() && self.stopped_line.is_none()
    }

    fn active(&self) -> Vec<(&u64, &Conn)> {
        self.conns
            .iter()
            .filter(|(_, c)| self.is_active(c))
            .collect()
    }

    /// Ends every connection still up, for the reason given.
    fn end_all(&mut self, how: &'static str, line: u64) -> u64 {
        let mut n = 0;
        for conn in self.conns.values_mut().filter(|c| c.active) {
            conn.active = false;
            conn.ended = Some(End {
                how,
                line,
                error: None,
            });
            n += 1;
        }
        n
    }

    fn to_json(&self) -> Value {
        json!({
            "started_line": self.started_line,
            "version": self.version,
            "connector_id": self.connector_id,
            "pid": self.pid,
            "stopping_line": self.stopping_line,
            "stopped_line": self.stopped_line,
            "traffic_line": self.traffic_line,
        })
    }
}

/// The processes seen from one writer (a compose container, a pod, a syslog
/// identifier; or the whole input when no prefix names one).
#[derive(Debug, Default)]
struct Stream {
    current: Process,
    /// Processes before the current one.
    restarts: u64,
    /// The line where the current process replaced the previous one.
    restart_line: Option<u64>,
    /// Connections the last restart ended without a line of their own.
    ended_by_restart: u64,
}

/// Bounded memory of origin failures waiting for their second line.
const PENDING_FAILURES: usize = 64;
/// The writers followed apart (compose containers, pods); more share one stream.
const MAX_STREAMS: usize = 256;
/// The connections followed per process (cloudflared opens 4 by default, at
/// most 16 with `--ha-connections`); higher indexes are not followed.
const MAX_CONNS: usize = 1024;

/// Everything the connector check keeps from a log stream: the state of the
/// latest process of each writer, counters, and the last of each kind, so
/// memory does not grow with the log.
#[derive(Debug, Default)]
pub struct Tally {
    line_no: u64,
    lines: u64,
    recognized: u64,
    levels: BTreeMap<&'static str, u64>,
    streams: BTreeMap<String, Stream>,
    unindexed_registrations: u64,
    re_registrations: u64,
    ends: u64,
    unregistrations: u64,
    retries: u64,
    quic_failures: u64,
    fallbacks: BTreeSet<String>,
    config: Option<(String, Option<String>, Option<String>)>,
    /// Failed requests, each counted once.
    failed_requests: u64,
    /// Origin lines not yet matched by their `Request failed` line.
    pending_failures: VecDeque<(Option<u64>, String)>,
    last_origin_error: Option<(Option<String>, String)>,
    origin_services: BTreeSet<String>,
    /// The first line holding JSON nested beyond serde_json's recursion limit
    /// (128 levels): not a log line anyone wrote, and a usage error (issue 18).
    too_deep: Option<u64>,
}

impl Tally {
    /// Takes one log line into account.
    pub fn feed(&mut self, line: &str) {
        self.line_no += 1;
        if line.trim().is_empty() {
            return;
        }
        self.lines += 1;
        let Some(entry) = logs::parse(line) else {
            if self.too_deep.is_none() && logs::json_too_deep(line) {
                self.too_deep = Some(self.line_no);
            }
            return;
        };
        self.recognized += 1;
        *self.levels.entry(entry.level).or_default() += 1;
        let line_no = self.line_no;
        let source = entry.source.clone().unwrap_or_default();
        // Memory stays bounded whatever the input: writers and connections are capped.
        let name = if self.streams.len() >= MAX_STREAMS && !self.streams.contains_key(&source.name)
        {
            "(more writers)".to_owned()
        } else {
            source.name.clone()
        };
        let stream = self.streams.entry(name).or_default();
        // journald and syslog name the process: another pid is another process.
        if let (Some(pid), Some(old)) = (source.pid, stream.current.pid) {
            if pid != old {
                restart(stream, line_no);
            }
        }
        if stream.current.pid.is_none() {
            stream.current.pid = source.pid;
        }
        let event = logs::classify(&entry);
        let conn_index = entry.field("connIndex").and_then(|v| v.parse::<u64>().ok());
        // A request with a ray id reached this connector through the edge.
        let traffic =
            entry.field("cfRay").is_some() || matches!(event, Event::OriginUnreachable { .. });
        let process = &mut stream.current;
        if traffic && process.stopped_line.is_none() {
            process.traffic_line = Some(line_no);
            if let Some(index) = conn_index
                .filter(|i| process.conns.len() < MAX_CONNS || process.conns.contains_key(i))
            {
                let conn = process.conns.entry(index).or_default();
                if conn.registrations == 0 && conn.ended.is_none() && !conn.active {
                    conn.active = true;
                    conn.inferred_line = Some(line_no);
                }
            }
        }
        match event {
            Event::Registered {
                conn_index,
                connection_id,
                location,
                ip,
                protocol,
            } => {
                process.activity = true;
                match conn_index
                    .filter(|i| process.conns.len() < MAX_CONNS || process.conns.contains_key(i))
                {
                    Some(index) => {
                        let conn = process.conns.entry(index).or_default();
                        if conn.registrations > 0 {
                            self.re_registrations += 1;
                        }
                        conn.registrations += 1;
                        conn.registered_line = Some(line_no);
                        conn.active = true;
                        conn.ended = None;
                        conn.connection_id = connection_id;
                        conn.location = location;
                        conn.ip = ip;
                        conn.protocol = protocol;
                    }
                    None => self.unindexed_registrations += 1,
                }
            }
            Event::Ended {
                conn_index,
                how,
                error,
            } => {
                process.activity = true;
                match how {
                    EndHow::Retrying => self.retries += 1,
                    EndHow::Unregistered => self.unregistrations += 1,
                    _ => {}
                }
                if let Some(conn) = conn_index.and_then(|i| process.conns.get_mut(&i)) {
                    if conn.active {
                        conn.active = false;
                        conn.ended = Some(End {
                            how: how.name(),
                            line: line_no,
                            error,
                        });
                        self.ends += 1;
                        process.last_end_line = Some(line_no);
                    }
                }
            }
            Event::QuicFailure { conn_index } => {
                process.activity = true;
                self.quic_failures += 1;
                if let Some(conn) = conn_index.and_then(|i| process.conns.get_mut(&i)) {
                    if conn.active {
                        conn.active = false;
                        conn.ended = Some(End {
                            how: EndHow::ConnectFailed.name(),
                            line: line_no,
                            error: entry.field("error").map(str::to_owned),
                        });
                        self.ends += 1;
                        process.last_end_line = Some(line_no);
                    }
                }
            }
            Event::Start(marker) => {
                let bit = 1u8 << marker.kind();
                let other_connector = matches!(&marker, StartMarker::ConnectorId(id)
                    if process.connector_id.as_ref().is_some_and(|old| old != id));
                if process.activity
                    || process.markers & bit != 0
                    || process.stopped_line.is_some()
                    || process.stopping_line.is_some()
                    || other_connector
                {
                    restart(stream, line_no);
                }
                let process = &mut stream.current;
                process.markers |= bit;
                process.started_line.get_or_insert(line_no);
                match marker {
                    StartMarker::Version(v) => process.version = Some(v),
                    StartMarker::ConnectorId(id) => process.connector_id = Some(id),
                    _ => {}
                }
            }
            Event::ShuttingDown => {
                process.stopping_line.get_or_insert(line_no);
            }
            Event::Stopped => {
                process.stopping_line.get_or_insert(line_no);
                process.stopped_line.get_or_insert(line_no);
            }
            Event::Config { json, version } => {
                self.config = Some((json, version, entry.time.map(Cow::into_owned)))
            }
            Event::OriginUnreachable {
                error,
                origin_service,
                request_failed,
            } => {
                let conn_index = entry.field("connIndex").and_then(|v| v.parse().ok());
                // Its other line: the same error (and connection) not counted yet.
                let paired = self.pending_failures.iter().position(|(index, text)| {
                    *text == error
                        && (index.is_none() || conn_index.is_none() || *index == conn_index)
                });
                match paired {
                    Some(at) => {
                        self.pending_failures.remove(at);
                    }
                    None => {
                        self.failed_requests += 1;
                        if self.pending_failures.len() == PENDING_FAILURES {
                            self.pending_failures.pop_front();
                        }
                        self.pending_failures.push_back((conn_index, error.clone()));
                    }
                }
                let _ = request_failed;
                self.last_origin_error = Some((entry.time.map(Cow::into_owned), error));
                self.origin_services.extend(origin_service);
            }
            Event::Fallback { protocol } => {
                self.fallbacks.insert(protocol);
            }
            Event::Other => {}
        }
    }

    fn restarts(&self) -> u64 {
        self.streams.values().map(|s| s.restarts).sum()
    }

    fn records(&self, source: &str, args: &ConnectorArgs) -> Vec<Record> {
        if self.recognized == 0 {
            return vec![
                Record::error("connector.connections", source, "no_cloudflared_lines")
                    .message(format!(
                        "none of the {} lines is a cloudflared log line",
                        self.lines
                    ))
                    .data(
                        json!({"lines": self.lines, "recognized": 0, "unrecognized": self.lines}),
                    ),
            ];
        }
        vec![
            self.connections(source, args.expected_connections),
            self.protocol(source),
            self.ingress(source, &args.expected_origin),
            self.origin_errors(source),
            self.churn(source, args.max_reconnects),
        ]
    }

    fn connections(&self, source: &str, expected: u64) -> Record {
        let check = "connector.connections";
        let mut connections = Vec::new();
        let mut active_list: Vec<(&str, u64, &Conn)> = Vec::new();
        let mut sources = Vec::new();
        for (name, stream) in &self.streams {
            let process = &stream.current;
            for (index, conn) in &process.conns {
                let active = process.is_active(conn);
                let ended = match (&conn.ended, active) {
                    (Some(end), _) => {
                        Some(json!({"how": end.how, "line": end.line, "error": end.error}))
                    }
                    (None, false) => Some(json!({
                        "how": if process.stopped_line.is_some() { "process_stopped" } else { "shutdown" },
                        "line": process.stopping_line,
                        "error": null,
                    })),
                    (None, true) => None,
                };
                connections.push(json!({
                    "source": (!name.is_empty()).then_some(name),
                    "conn_index": index,
                    "state": if active { "active" } else { "ended" },
                    "registered_line": conn.registered_line,
                    "inferred_from_line": conn.inferred_line,
                    "connection_id": conn.connection_id,
                    "location": conn.location,
                    "ip": conn.ip,
                    "protocol": conn.protocol,
                    "ended": ended,
                }));
                if active {
                    active_list.push((name, *index, conn));
                }
            }
            sources.push(json!({
                "name": (!name.is_empty()).then_some(name),
                "restarts": stream.restarts,
                "restart_line": stream.restart_line,
                "ended_by_restart": stream.ended_by_restart,
                "process": process.to_json(),
            }));
        }
        let set = |f: fn(&Conn) -> Option<&String>| -> BTreeSet<&String> {
            active_list.iter().filter_map(|(_, _, c)| f(c)).collect()
        };
        let registered: BTreeSet<u64> = self
            .streams
            .values()
            .flat_map(|s| s.current.conns.keys().copied())
            .collect();
        let n = active_list.len() as u64;
        let data = json!({
            "expected": expected,
            "active": n,
            "active_indexes": active_list.iter().map(|(_, i, _)| *i).collect::<Vec<_>>(),
            "registered_indexes": registered,
            "distinct": registered.len(),
            "locations": set(|c| c.location.as_ref()),
            "ips": set(|c| c.ip.as_ref()),
            "protocols": set(|c| c.protocol.as_ref()),
            "connections": connections,
            "sources": sources,
            "restarts": self.restarts(),
            "lines": self.lines,
            "recognized": self.recognized,
            "unrecognized": self.lines - self.recognized,
            "levels": self.levels,
        });
        let counted = format!("{} of {} lines recognised", self.recognized, self.lines);
        // Requests on connections whose registration the log does not show, or
        // requests after the last connection ended: the log starts too late to
        // count the connections.
        let inferred = active_list.iter().any(|(_, _, c)| c.registrations == 0);
        let unseen = n == 0
            && self.streams.values().any(|s| {
                let p = &s.current;
                p.stopped_line.is_none()
                    && p.traffic_line
                        .is_some_and(|t| p.last_end_line.is_none_or(|e| t > e))
            });
        let record = if n >= expected {
            Record::pass(check, source).message(format!("{n} edge connections active; {counted}"))
        } else if inferred || unseen {
            let line = self
                .streams
                .values()
                .filter_map(|s| s.current.traffic_line)
                .max()
                .unwrap_or(0);
            Record::error(check, source, "registrations_not_in_log").message(format!(
                "requests reach this connector (line {line}), but the log does not show its registrations, so the connections cannot be counted: read a longer log (--tail) or its /ready (--metrics); {counted}"
            ))
        } else if n == 0 {
            Record::fail(check, source, "no_connections").message(format!(
                "no edge connection is active at the end of the log: {}; the edge cannot reach this connector ({counted})",
                self.why_none()
            ))
        } else {
            let restarted = self
                .streams
                .values()
                .filter_map(|s| s.restart_line)
                .max()
                .map(|line| format!("; cloudflared restarted at line {line}"))
                .unwrap_or_default();
            Record::fail(check, source, "too_few_connections").message(format!(
                "{n} of {expected} edge connections active at the end of the log{}{restarted}; {counted}",
                self.ended_summary()
            ))
        };
        record.data(data)
    }

    /// Why no connection is active, from the latest process of each writer.
    fn why_none(&self) -> String {
        let mut parts = Vec::new();
        for stream in self.streams.values() {
            let p = &stream.current;
            if let Some(line) = p.stopped_line {
                parts.push(format!("cloudflared stopped at line {line}"));
            } else if let Some(line) = p.stopping_line {
                parts.push(format!("cloudflared is shutting down (line {line})"));
            } else if p.conns.is_empty() {
                match stream.restart_line {
                    Some(line) => parts.push(format!(
                        "cloudflared restarted at line {line} and the new process has registered no connection{}",
                        if stream.ended_by_restart > 0 {
                            format!(" (the restart ended {} of the previous process)", stream.ended_by_restart)
                        } else {
                            String::new()
                        }
                    )),
                    None => parts.push("no connection was registered".to_owned()),
                }
            } else {
                parts.push(format!("every connection ended{}", self.ended_summary()));
            }
        }
        parts.join("; ")
    }

    /// ` (connIndex 1 lost_connection at line 6, …)` for the ended connections.
    fn ended_summary(&self) -> String {
        let ended: Vec<String> = self
            .streams
            .values()
            .flat_map(|s| s.current.conns.iter())
            .filter_map(|(i, c)| {
                c.ended
                    .as_ref()
                    .map(|e| format!("connIndex {i} {} at line {}", e.how, e.line))
            })
            .take(8)
            .collect();
        if ended.is_empty() {
            String::new()
        } else {
            format!(" ({})", ended.join(", "))
        }
    }

    fn protocol(&self, source: &str) -> Record {
        let check = "connector.protocol";
        let protocols: BTreeSet<&String> = self
            .streams
            .values()
            .flat_map(|s| s.current.active().into_iter().map(|(_, c)| c))
            .filter_map(|c| c.protocol.as_ref())
            .collect();
        let data = json!({
            "protocols": protocols,
            "quic_failures": self.quic_failures,
            "fallbacks": self.fallbacks,
        });
        let http2 = protocols.iter().any(|p| p.as_str() == "http2") || !self.fallbacks.is_empty();
        let record = if protocols.is_empty() {
            Record::info(check, source, "no_registration")
                .message("no active connection names a protocol")
        } else if http2 && (self.quic_failures > 0 || !self.fallbacks.is_empty()) {
            Record::warn(check, source, "http2_fallback").message(
                "QUIC to the edge failed and the connector fell back to HTTP/2 (UDP 7844 blocked or throttled?)",
            )
        } else {
            Record::pass(check, source)
        };
        record.data(data)
    }

    fn ingress(&self, source: &str, expected_origin: &str) -> Record {
        let check = "connector.ingress";
        let Some((text, version, time)) = &self.config else {
            return Record::info(check, source, "no_config_seen")
                .message("no remotely managed configuration in the logs (credentials-file mode uses the local config.yml)")
                .data(json!({"expected_origin": expected_origin}));
        };
        let rules: Vec<Value> = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("ingress").and_then(Value::as_array).cloned())
            .unwrap_or_default()
            .iter()
            .map(|r| json!({"hostname": r.get("hostname"), "service": r.get("service")}))
            .collect();
        let data = json!({
            "version": version,
            "time": time,
            "rules": rules,
            "expected_origin": expected_origin,
        });
        if rules.is_empty() {
            return Record::warn(check, source, "config_unparsed")
                .message("the received configuration has no readable ingress rules")
                .data(data);
        }
        let wanted = normalize_origin(expected_origin);
        let points = rules
            .iter()
            .filter_map(|r| r["service"].as_str())
            .any(|s| normalize_origin(s) == wanted);
        let record = if points {
            Record::pass(check, source)
        } else {
            Record::fail(check, source, "origin_mismatch").message(format!(
                "no ingress rule sends traffic to {expected_origin}"
            ))
        };
        record.data(data)
    }

    fn origin_errors(&self, source: &str) -> Record {
        let check = "connector.origin_errors";
        let (last_time, last_error) = match &self.last_origin_error {
            Some((time, error)) => (time.clone(), Some(error.clone())),
            None => (None, None),
        };
        // Each failure is logged twice (its origin line and its request line);
        // the pair is counted once.
        let count = self.failed_requests;
        let data = json!({
            "count": count,
            "last_time": last_time,
            "last_error": last_error,
            "origin_services": self.origin_services,
        });
        let record = if count > 0 {
            Record::fail(check, source, "origin_unreachable").message(format!(
                "the connector could not reach the origin {count} time(s); users get 502 from the edge"
            ))
        } else {
            Record::pass(check, source)
        };
        record.data(data)
    }

    fn churn(&self, source: &str, max: u64) -> Record {
        let check = "connector.churn";
        let restarts = self.restarts();
        let total = self.re_registrations + self.ends + self.retries + restarts;
        let data = json!({
            "re_registrations": self.re_registrations,
            "ends": self.ends,
            "unregistrations": self.unregistrations,
            "retries": self.retries,
            "restarts": restarts,
            "total": total,
            "max": max,
        });
        let record = if total > max {
            Record::warn(check, source, "reconnect_churn")
                .message(format!("{total} reconnect event(s) in the logs"))
        } else {
            Record::pass(check, source)
        };
        record.data(data)
    }
}

/// A new process replaces the stream's current one at `line`: every connection
/// of the old one ends, logged or not.
fn restart(stream: &mut Stream, line: u64) {
    let old = &mut stream.current;
    let how = if old.stopped_line.is_some() {
        "process_stopped"
    } else if old.stopping_line.is_some() {
        "shutdown"
    } else {
        "process_restart"
    };
    let ended = old.end_all(how, line);
    stream.restarts += 1;
    stream.restart_line = Some(line);
    stream.ended_by_restart = if how == "process_restart" { ended } else { 0 };
    stream.current = Process::default();
}

/// Feeds every line of a reader to the tally. A line longer than
/// [`crate::redact::MAX_LINE`] (`/dev/zero`, a binary file) is an error, not memory.
fn tally_reader(reader: &mut dyn BufRead, tally: &mut Tally) -> std::io::Result<()> {
    let limit = crate::redact::MAX_LINE;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if std::io::Read::take(&mut *reader, limit as u64 + 1).read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        if buf.len() > limit {
            return Err(std::io::Error::other(format!(
                "line {} is longer than {} MiB: not a log",
                tally.line_no + 1,
                limit >> 20
            )));
        }
        tally.feed(&String::from_utf8_lossy(&buf));
    }
}

/// Runs the connector checks.
pub fn run(args: &ConnectorArgs, io: &mut Io<'_>) -> Exit {
    let mut tally = Tally::default();
    let source = if let Some(name) = &args.container {
        let target = format!("container:{name}");
        if let Err(failure) = container::tally_logs(name, args.tail, args.timeout, &mut tally) {
            let mut sink = RecordSink::new(TOOL, io.stdout);
            let record = failure.into_record("connector.connections", &target);
            let _ = sink.emit(record);
            return sink.exit();
        }
        target
    } else if let Some(path) = &args.file {
        let shown = path.display().to_string();
        let read = File::open(path).and_then(|f| tally_reader(&mut BufReader::new(f), &mut tally));
        if let Err(err) = read {
            io.error(TOOL, format!("connector: cannot read {shown}: {err}"));
            return Exit::Usage;
        }
        shown
    } else {
        if let Err(err) = tally_reader(io.stdin, &mut tally) {
            io.error(TOOL, format!("connector: cannot read stdin: {err}"));
            return Exit::Usage;
        }
        "stdin".to_owned()
    };
    if let Some(line) = tally.too_deep {
        io.error(
            TOOL,
            format!("connector: {source} line {line}: JSON nested more than 128 levels deep, not a cloudflared log line"),
        );
        return Exit::Usage;
    }
    let mut sink = RecordSink::new(TOOL, io.stdout);
    for record in tally.records(&source, args) {
        if sink.emit(record).is_err() {
            return sink.exit();
        }
    }
    if let Some(addr) = &args.metrics {
        let options = HttpOptions {
            timeout: args.timeout,
            connect_timeout: args.timeout.min(Duration::from_secs(3)),
            ..HttpOptions::default()
        };
        if sink
            .emit(metrics::check(&options, addr, args.expected_connections))
            .is_err()
        {
            return sink.exit();
        }
    }
    sink.exit()
}
