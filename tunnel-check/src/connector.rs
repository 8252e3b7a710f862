//! The connector (cloudflared) as it describes itself: its logs from stdin, a
//! file or a container (through the Docker API), read as a stream and tallied, and
//! its metrics `/ready`. One record per question: connections, protocol, ingress,
//! origin errors, churn, readiness.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::Duration;

use day2_core::duration::parse_duration;
use day2_core::http::HttpOptions;
use day2_core::{Exit, Io, Record, RecordSink};
use serde_json::{json, Value};

use crate::logs::{self, Event};
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
    #[arg(long, value_name = "N", requires = "container")]
    pub tail: Option<u64>,

    /// cloudflared's metrics address (host:port or URL); its /ready is checked too.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,

    /// Edge connections a healthy connector holds (cloudflared's default is 4).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub expected_connections: u64,

    /// The origin the ingress configuration must point at.
    #[arg(long, value_name = "URL", default_value = "http://nginx:80")]
    pub expected_origin: String,

    /// Reconnects (re-registrations, unregistrations, retries) tolerated before the
    /// churn check warns.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_reconnects: u64,

    /// Deadline for the metrics request and for reading container logs.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub timeout: Duration,
}

#[derive(Debug, Default)]
struct Conn {
    registrations: u64,
    active: bool,
    location: Option<String>,
    ip: Option<String>,
    protocol: Option<String>,
}

/// Everything the connector check keeps from a log stream: counters and the last
/// of each kind, so memory does not grow with the log.
#[derive(Debug, Default)]
pub struct Tally {
    lines: u64,
    recognized: u64,
    levels: BTreeMap<&'static str, u64>,
    conns: BTreeMap<u64, Conn>,
    unindexed_registrations: u64,
    unregistrations: u64,
    retries: u64,
    quic_failures: u64,
    fallbacks: BTreeSet<String>,
    config: Option<(String, Option<String>, Option<String>)>,
    origin_errors: u64,
    failed_requests: u64,
    last_origin_error: Option<(Option<String>, String)>,
    origin_services: BTreeSet<String>,
}

impl Tally {
    /// Takes one log line into account.
    pub fn feed(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        self.lines += 1;
        let Some(entry) = logs::parse(line) else {
            return;
        };
        self.recognized += 1;
        *self.levels.entry(entry.level).or_default() += 1;
        match logs::classify(&entry) {
            Event::Registered {
                conn_index,
                location,
                ip,
                protocol,
            } => match conn_index {
                Some(index) => {
                    let conn = self.conns.entry(index).or_default();
                    conn.registrations += 1;
                    conn.active = true;
                    conn.location = location;
                    conn.ip = ip;
                    conn.protocol = protocol;
                }
                None => self.unindexed_registrations += 1,
            },
            Event::Unregistered { conn_index } => {
                self.unregistrations += 1;
                if let Some(conn) = conn_index.and_then(|i| self.conns.get_mut(&i)) {
                    conn.active = false;
                }
            }
            Event::Config { json, version } => {
                self.config = Some((json, version, entry.time.map(Cow::into_owned)))
            }
            Event::OriginUnreachable {
                error,
                origin_service,
                request_failed,
            } => {
                if request_failed {
                    self.failed_requests += 1;
                } else {
                    self.origin_errors += 1;
                }
                self.last_origin_error = Some((entry.time.map(Cow::into_owned), error));
                self.origin_services.extend(origin_service);
            }
            Event::QuicFailure => self.quic_failures += 1,
            Event::Fallback { protocol } => {
                self.fallbacks.insert(protocol);
            }
            Event::Retry => self.retries += 1,
            Event::Other => {}
        }
    }

    fn registrations(&self) -> u64 {
        self.conns.values().map(|c| c.registrations).sum::<u64>() + self.unindexed_registrations
    }

    fn records(&self, source: &str, args: &ConnectorArgs) -> Vec<Record> {
        if self.recognized == 0 {
            return vec![
                Record::error("connector.connections", source, "no_cloudflared_lines")
                    .message("the input holds no cloudflared log line")
                    .data(json!({"lines": self.lines})),
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
        let active: Vec<&Conn> = self.conns.values().filter(|c| c.active).collect();
        let set = |f: fn(&Conn) -> Option<&String>| -> BTreeSet<&String> {
            self.conns.values().filter_map(f).collect()
        };
        let data = json!({
            "expected": expected,
            "registered_indexes": self.conns.keys().collect::<Vec<_>>(),
            "distinct": self.conns.len(),
            "active": active.len(),
            "locations": set(|c| c.location.as_ref()),
            "ips": set(|c| c.ip.as_ref()),
            "protocols": set(|c| c.protocol.as_ref()),
            "lines": self.lines,
            "recognized": self.recognized,
            "levels": self.levels,
        });
        let n = active.len() as u64;
        let record = if n == 0 {
            Record::fail(check, source, "no_connections")
                .message("no tunnel connection is registered: the edge cannot reach this connector")
        } else if n < expected {
            Record::fail(check, source, "too_few_connections")
                .message(format!("{n} of {expected} edge connections registered"))
        } else {
            Record::pass(check, source).message(format!("{n} edge connections registered"))
        };
        record.data(data)
    }

    fn protocol(&self, source: &str) -> Record {
        let check = "connector.protocol";
        let protocols: BTreeSet<&String> = self
            .conns
            .values()
            .filter(|c| c.active)
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
                .message("no registered connection names a protocol")
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
        // Each failure is logged twice; count the origin lines, or the request lines
        // when a version logs only those.
        let count = if self.origin_errors > 0 {
            self.origin_errors
        } else {
            self.failed_requests
        };
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
        let re_registrations = self.registrations().saturating_sub(self.conns.len() as u64);
        let total = re_registrations + self.unregistrations + self.retries;
        let data = json!({
            "re_registrations": re_registrations,
            "unregistrations": self.unregistrations,
            "retries": self.retries,
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

/// Feeds every line of a reader to the tally.
fn tally_reader(reader: &mut dyn BufRead, tally: &mut Tally) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
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
            let record = Record::error("connector.connections", &target, failure.reason)
                .message(failure.message);
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
