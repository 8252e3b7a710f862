//! cloudflared log lines, in both of its formats and behind the prefixes log
//! collectors add, turned into the events the connector check follows.
//!
//! Plain (zerolog's console writer):
//! `2026-11-27T10:00:01Z INF Registered tunnel connection connIndex=0 connection=<uuid> event=0 ip=198.41.200.23 location=ams05 protocol=quic`
//! — an optional timestamp, a level (`DBG INF WRN ERR FTL`), the message, then
//! `key=value` fields whose values are Go-quoted when they contain spaces
//! (`error="…"`, `config="{\"ingress\":…}"`).
//!
//! JSON (`--log-format-output json`): one object per line with `level`, `time`,
//! `message` and the same fields as members.
//!
//! In front of either, what collectors add (day2-core's [`collector`], shared with
//! legacy-sampler's access-log reader):
//! - `docker compose logs`: `cloudflared_1  | ` (v1), `cloudflared-1  | ` (v2);
//! - `kubectl logs --prefix`: `[pod/cloudflared-7d9c/cloudflared] `;
//! - journald, syslog and `systemctl status`: `Apr 26 13:19:06 host cloudflared[978]: `
//!   (also with an ISO timestamp, `journalctl -o short-iso`);
//! - timestamps: docker's `--timestamps`, or glued in front by appliance log
//!   viewers (`2025-01-28T06:13:37.416Z2025-01-28T06:13:37Z INF …`);
//! - ANSI colours (cloudflared colours its console output on a terminal).
//!
//! The messages understood, per cloudflared release, are listed in the README
//! (from `connection/`, `supervisor/` and `cmd/cloudflared/` of cloudflare/cloudflared).

use std::borrow::Cow;

use day2_core::collector::{self, Layer};
use serde_json::Value;

/// One parsed log line. Plain lines are parsed without copying: every part
/// borrows from the line unless it had to be unescaped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry<'a> {
    pub time: Option<Cow<'a, str>>,
    /// Upper-case three-letter level: TRC, DBG, INF, WRN, ERR, FTL, PNC.
    pub level: &'static str,
    pub message: Cow<'a, str>,
    pub fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Who wrote the line, when a collector's prefix says so.
    pub source: Option<Source>,
}

/// The writer a collector's prefix names: a compose container, a pod's
/// container, a syslog identifier with its process id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    /// The process id journald and syslog show (`cloudflared[978]`).
    pub pid: Option<u32>,
}

impl Entry<'_> {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    fn into_owned(self) -> Entry<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        Entry {
            time: self.time.map(own),
            source: self.source,
            level: self.level,
            message: own(self.message),
            fields: self
                .fields
                .into_iter()
                .map(|(k, v)| (own(k), own(v)))
                .collect(),
        }
    }
}

/// How a connection to the edge ended, in cloudflared's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndHow {
    /// `Unregistered tunnel connection` (a graceful unregistration).
    Unregistered,
    /// `Lost connection with the edge` (http2).
    LostConnection,
    /// `Connection terminated` (the supervisor gave up on it for now).
    Terminated,
    /// `Serve tunnel error`, `failed to serve tunnel connection` (quic, 2025.8+).
    ServeError,
    /// `Restarting connection due to reconnect signal`.
    ReconnectSignal,
    /// `Retrying connection in up to …`: the connection is down, a retry is due.
    Retrying,
    /// `Failed to dial a quic connection`, `Unable to establish connection with
    /// Cloudflare edge`, `Register tunnel error from server side`, `Unable to
    /// establish connection.`: an attempt that did not connect.
    ConnectFailed,
}

impl EndHow {
    pub fn name(self) -> &'static str {
        match self {
            EndHow::Unregistered => "unregistered",
            EndHow::LostConnection => "lost_connection",
            EndHow::Terminated => "connection_terminated",
            EndHow::ServeError => "serve_error",
            EndHow::ReconnectSignal => "reconnect_signal",
            EndHow::Retrying => "retrying",
            EndHow::ConnectFailed => "connect_failed",
        }
    }
}

/// A line that only a starting cloudflared process writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartMarker {
    /// `Starting tunnel tunnelID=…`.
    StartingTunnel,
    /// `Version 2025.1.0 (Checksum …)` (`Version 2021.2.1` before 2024).
    Version(String),
    /// `Generated Connector ID: <uuid>`.
    ConnectorId(String),
    /// `Starting metrics server on [::]:2000/metrics`.
    MetricsServer,
    /// `Requesting new quick Tunnel on trycloudflare.com...`.
    QuickTunnel,
}

impl StartMarker {
    /// The kind, to tell a second marker of the same kind (a new process).
    pub fn kind(&self) -> u8 {
        match self {
            StartMarker::StartingTunnel => 0,
            StartMarker::Version(_) => 1,
            StartMarker::ConnectorId(_) => 2,
            StartMarker::MetricsServer => 3,
            StartMarker::QuickTunnel => 4,
        }
    }
}

/// What a line means to the connector check.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `Registered tunnel connection` (2023.4.1+), `Connection <uuid> registered
    /// with protocol: quic` (2022.11.0–2023.4.0), `Connection <uuid> registered`
    /// (2021.1.0–2022.10.x), `Connection established` (h2mux, until 2023.3).
    Registered {
        conn_index: Option<u64>,
        connection_id: Option<String>,
        location: Option<String>,
        ip: Option<String>,
        protocol: Option<String>,
    },
    /// A connection ended, or an attempt for that index failed.
    Ended {
        conn_index: Option<u64>,
        how: EndHow,
        error: Option<String>,
    },
    /// A line a new process writes at start.
    Start(StartMarker),
    /// `Initiating graceful shutdown due to signal …`: the process is stopping.
    ShuttingDown,
    /// `Tunnel server stopped`, `Metrics server stopped`, `no more connections
    /// active and exiting`, a fatal (`FTL`) line: the process is gone.
    Stopped,
    /// The ingress configuration pushed by the dashboard (token mode) as JSON text.
    Config {
        json: String,
        version: Option<String>,
    },
    /// A request the origin could not answer. cloudflared logs each failure
    /// twice: once with the origin service (`ERR  error=… originService=…`) and
    /// once as `Request failed` (quic) or `failed to serve incoming request`
    /// (http2).
    OriginUnreachable {
        error: String,
        origin_service: Option<String>,
        request_failed: bool,
    },
    /// `Failed to dial a quic connection` (also a failed attempt for its index).
    QuicFailure {
        conn_index: Option<u64>,
    },
    Fallback {
        protocol: String,
    },
    /// Anything else cloudflared said, counted by level.
    Other,
}

const LEVELS: [&str; 7] = ["TRC", "DBG", "INF", "WRN", "ERR", "FTL", "PNC"];

fn level_from_json(level: &str) -> &'static str {
    match level.to_ascii_lowercase().as_str() {
        "trace" => "TRC",
        "debug" => "DBG",
        "warn" | "warning" => "WRN",
        "error" => "ERR",
        "fatal" => "FTL",
        "panic" => "PNC",
        _ => "INF",
    }
}

/// Removes ANSI colour sequences (cloudflared colours its console output on a TTY).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses one line of either format; `None` when it is not a cloudflared line.
pub fn parse(line: &str) -> Option<Entry<'_>> {
    if line.contains('\u{1b}') {
        return parse_clean(&strip_ansi(line)).map(Entry::into_owned);
    }
    parse_clean(line)
}

fn parse_clean(line: &str) -> Option<Entry<'_>> {
    let line = line.trim_end();
    // The collector's prefixes, shared with every tool that reads logs: the writer is
    // the innermost one named, the time the last timestamp after it.
    let (mut source, mut time, mut rest) = (None, None, 0);
    for (layer, at) in collector::layers(line.as_bytes()) {
        match layer {
            Layer::Time(t) => time = Some(t),
            Layer::Compose(name) | Layer::Kubectl(name) => {
                source = Some(Source {
                    name: name.to_owned(),
                    pid: None,
                });
                time = None;
            }
            Layer::Syslog { ident, pid, .. } => {
                source = Some(Source {
                    name: ident.to_owned(),
                    pid,
                });
                time = None;
            }
        }
        rest = at;
    }
    let rest = &line[rest..];
    let mut entry = if rest.starts_with('{') {
        match serde_json::from_str::<Value>(rest) {
            Ok(Value::Object(object)) => parse_json(object)?,
            _ => return None,
        }
    } else {
        parse_plain(rest)?
    };
    if entry.time.is_none() {
        entry.time = time.map(Cow::Borrowed);
    }
    entry.source = source;
    Some(entry)
}

/// Whether the JSON object in `line` (from its first `{`) is nested beyond
/// serde_json's recursion limit (128 levels), which [`parse`] cannot tell from a
/// line that is not JSON at all.
pub fn json_too_deep(line: &str) -> bool {
    let Some(start) = line.find('{') else {
        return false;
    };
    matches!(
        serde_json::from_str::<Value>(line[start..].trim_end()),
        Err(e) if e.to_string().starts_with("recursion limit exceeded")
    )
}

/// A JSON line is cloudflared's when it has a `level` (zerolog always writes one).
fn parse_json(object: serde_json::Map<String, Value>) -> Option<Entry<'static>> {
    let mut entry = Entry {
        level: "INF",
        ..Entry::default()
    };
    let mut has_level = false;
    for (key, value) in object {
        let text = match value {
            Value::String(s) => s,
            Value::Null => continue,
            other => other.to_string(),
        };
        match key.as_str() {
            "level" => {
                has_level = true;
                entry.level = level_from_json(&text);
            }
            "time" | "ts" => entry.time = Some(Cow::Owned(text)),
            "message" | "msg" => entry.message = Cow::Owned(text),
            _ => entry.fields.push((Cow::Owned(key), Cow::Owned(text))),
        }
    }
    has_level.then_some(entry)
}

fn parse_plain(line: &str) -> Option<Entry<'_>> {
    let (level, after) = line.split_once(' ').unwrap_or((line, ""));
    let level = LEVELS.iter().find(|l| **l == level)?;
    let body = after.trim_start_matches(' ');
    let first_field = find_field_start(body, 0);
    let mut entry = Entry {
        level,
        message: Cow::Borrowed(body[..first_field].trim()),
        ..Entry::default()
    };
    let mut pos = first_field;
    while pos < body.len() {
        let Some((key, value, next)) = read_field(body, pos) else {
            break;
        };
        entry.fields.push((Cow::Borrowed(key), value));
        pos = find_field_start(body, next);
    }
    Some(entry)
}

/// Whether a `key=` starts at byte `at` (a field key is letters, digits, `_`, `.`, `-`).
fn is_field_at(bytes: &[u8], at: usize) -> bool {
    let mut i = at;
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.' | b'-'))
    {
        i += 1;
    }
    i > at && bytes.get(i) == Some(&b'=')
}

/// The start of the next field at or after `from` (at a word boundary), or the end.
fn find_field_start(body: &str, from: usize) -> usize {
    let bytes = body.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        if (i == 0 || bytes[i - 1] == b' ') && is_field_at(bytes, i) {
            return i;
        }
        // Jump to the next word.
        i = match bytes[i..].iter().position(|b| *b == b' ') {
            Some(p) => i + p + 1,
            None => bytes.len(),
        };
    }
    body.len()
}

/// Reads `key=value` at `at`; a Go-quoted value is unescaped (copied only when it
/// holds an escape).
fn read_field(body: &str, at: usize) -> Option<(&str, Cow<'_, str>, usize)> {
    let eq = at + body[at..].find('=')?;
    let key = &body[at..eq];
    let start = eq + 1;
    if body.as_bytes().get(start) != Some(&b'"') {
        let end = body[start..].find(' ').map_or(body.len(), |p| start + p);
        return Some((key, Cow::Borrowed(&body[start..end]), end));
    }
    let inner = start + 1;
    let bytes = body.as_bytes();
    let mut i = inner;
    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\\' {
        i += 1;
    }
    if bytes.get(i) == Some(&b'"') {
        return Some((key, Cow::Borrowed(&body[inner..i]), i + 1));
    }
    let mut value = body[inner..i].to_owned();
    let mut chars = body[i..].char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => return Some((key, Cow::Owned(value), i + offset + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, other)) => value.push(other),
                None => break,
            },
            other => value.push(other),
        }
    }
    // An unterminated quote: the rest of the line is the value.
    Some((key, Cow::Owned(value), body.len()))
}

/// The message (or error) says the origin could not be reached.
const ORIGIN_UNREACHABLE: &str = "Unable to reach the origin service";

/// `Connection <uuid> registered[ with protocol: quic]` of 2021.1.0–2023.4.0.
fn old_registration(message: &str) -> Option<(String, Option<String>)> {
    let rest = message.strip_prefix("Connection ")?;
    let (id, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix("registered")?;
    let protocol = rest
        .strip_prefix(" with protocol: ")
        .map(|p| p.trim().to_owned());
    if !(rest.is_empty() || protocol.is_some()) {
        return None;
    }
    Some((id.to_owned(), protocol))
}

/// What a parsed line means.
pub fn classify(entry: &Entry) -> Event {
    let message = entry.message.as_ref();
    let error = entry.field("error");
    let conn_index = entry.field("connIndex").and_then(|v| v.parse().ok());
    let owned = |name: &str| entry.field(name).map(str::to_owned);
    let ended = |how| Event::Ended {
        conn_index,
        how,
        error: error.map(str::to_owned),
    };
    if message.starts_with("Registered tunnel connection") {
        return Event::Registered {
            conn_index,
            connection_id: owned("connection"),
            location: owned("location"),
            ip: owned("ip"),
            protocol: owned("protocol"),
        };
    }
    if let Some((id, protocol)) = old_registration(message) {
        return Event::Registered {
            conn_index,
            connection_id: Some(id),
            location: owned("location"),
            ip: owned("ip"),
            protocol: protocol.or_else(|| owned("protocol")),
        };
    }
    if message == "Connection established" {
        return Event::Registered {
            conn_index,
            connection_id: None,
            location: owned("location"),
            ip: owned("ip"),
            protocol: Some("h2mux".to_owned()),
        };
    }
    let error_text = error.unwrap_or("");
    if message.contains(ORIGIN_UNREACHABLE) || error_text.contains(ORIGIN_UNREACHABLE) {
        let text = if error_text.is_empty() {
            message
        } else {
            error_text
        };
        return Event::OriginUnreachable {
            error: text.to_owned(),
            origin_service: owned("originService"),
            request_failed: message.starts_with("Request failed")
                || message.starts_with("failed to serve incoming request"),
        };
    }
    let how = if message.starts_with("Unregistered tunnel connection") {
        Some(EndHow::Unregistered)
    } else if message.starts_with("Lost connection with the edge") {
        Some(EndHow::LostConnection)
    } else if message.starts_with("Connection terminated") {
        Some(EndHow::Terminated)
    } else if message.starts_with("Serve tunnel error")
        || message.starts_with("failed to serve tunnel connection")
    {
        Some(EndHow::ServeError)
    } else if message.starts_with("Restarting connection due to reconnect signal") {
        Some(EndHow::ReconnectSignal)
    } else if message.starts_with("Retrying connection in") {
        Some(EndHow::Retrying)
    } else if message.starts_with("Unable to establish connection")
        || message.starts_with("Register tunnel error from server side")
    {
        Some(EndHow::ConnectFailed)
    } else {
        None
    };
    if let Some(how) = how {
        return ended(how);
    }
    if message.contains("Failed to dial a quic connection")
        || error_text.contains("failed to dial to edge with quic")
        || message.contains("failed to dial to edge with quic")
    {
        return Event::QuicFailure { conn_index };
    }
    if let Some(protocol) = message.strip_prefix("Switching to fallback protocol ") {
        return Event::Fallback {
            protocol: protocol.trim().to_owned(),
        };
    }
    if message.starts_with("Updated to new configuration") {
        if let Some(json) = entry.field("config") {
            return Event::Config {
                json: json.to_owned(),
                version: owned("version"),
            };
        }
        return Event::Other;
    }
    if message.starts_with("Starting tunnel") {
        return Event::Start(StartMarker::StartingTunnel);
    }
    if let Some(rest) = message.strip_prefix("Version ") {
        let version = rest.split_whitespace().next().unwrap_or("").to_owned();
        if version.starts_with(|c: char| c.is_ascii_digit()) || version == "DEV" {
            return Event::Start(StartMarker::Version(version));
        }
    }
    if let Some(id) = message.strip_prefix("Generated Connector ID: ") {
        return Event::Start(StartMarker::ConnectorId(id.trim().to_owned()));
    }
    if message.starts_with("Starting metrics server on") {
        return Event::Start(StartMarker::MetricsServer);
    }
    if message.starts_with("Requesting new quick Tunnel on") {
        return Event::Start(StartMarker::QuickTunnel);
    }
    if message.starts_with("Initiating graceful shutdown") {
        return Event::ShuttingDown;
    }
    if message.starts_with("Tunnel server stopped")
        || message.starts_with("Metrics server stopped")
        || message.starts_with("no more connections active and exiting")
        || entry.level == "FTL"
    {
        return Event::Stopped;
    }
    Event::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_registration_line() {
        let e = parse("2026-11-27T10:00:01Z INF Registered tunnel connection connIndex=2 connection=4f1c2a9e-5b7d-4c3e-9a1f-2b3c4d5e6f70 event=0 ip=198.41.200.23 location=ams05 protocol=quic").unwrap();
        assert_eq!(e.level, "INF");
        assert_eq!(e.time.as_deref(), Some("2026-11-27T10:00:01Z"));
        assert_eq!(e.message, "Registered tunnel connection");
        assert_eq!(
            classify(&e),
            Event::Registered {
                conn_index: Some(2),
                connection_id: Some("4f1c2a9e-5b7d-4c3e-9a1f-2b3c4d5e6f70".into()),
                location: Some("ams05".into()),
                ip: Some("198.41.200.23".into()),
                protocol: Some("quic".into()),
            }
        );
    }

    /// connection/observer.go and connection/rpc.go, control.go of the releases named.
    #[test]
    fn older_registration_forms() {
        let e = parse("2021-03-01T10:00:01Z INF Connection 2d5b0f8a-0000-4000-8000-000000000001 registered connIndex=1 location=LHR").unwrap();
        assert_eq!(
            classify(&e),
            Event::Registered {
                conn_index: Some(1),
                connection_id: Some("2d5b0f8a-0000-4000-8000-000000000001".into()),
                location: Some("LHR".into()),
                ip: None,
                protocol: None,
            }
        );
        let e = parse("2023-01-10T10:00:01Z INF Connection 2d5b0f8a-0000-4000-8000-000000000002 registered with protocol: quic connIndex=2 ip=198.41.192.7 location=AMS").unwrap();
        assert!(
            matches!(classify(&e), Event::Registered { conn_index: Some(2), protocol: Some(p), .. } if p == "quic")
        );
        let e = parse("2022-01-10T10:00:01Z INF Connection established connIndex=3 location=FRA")
            .unwrap();
        assert!(
            matches!(classify(&e), Event::Registered { conn_index: Some(3), protocol: Some(p), .. } if p == "h2mux")
        );
        let e = parse("2021-03-01T10:00:01Z INF Connection 2d5b registered elsewhere").unwrap();
        assert_eq!(classify(&e), Event::Other);
    }

    #[test]
    fn every_way_a_connection_ends() {
        for (line, how) in [
            ("INF Unregistered tunnel connection connIndex=0 event=0 ip=198.41.200.23", EndHow::Unregistered),
            ("INF Lost connection with the edge connIndex=1", EndHow::LostConnection),
            ("WRN Connection terminated error=\"connection with edge closed\" connIndex=2", EndHow::Terminated),
            ("WRN Serve tunnel error error=\"timeout: no recent network activity\" connIndex=3 event=0 ip=198.41.200.113", EndHow::ServeError),
            ("ERR failed to serve tunnel connection error=\"accept stream listener encountered a failure\" connIndex=0 event=0 ip=198.41.192.77", EndHow::ServeError),
            ("INF Retrying connection in up to 2s connIndex=1 event=0 ip=198.41.192.77", EndHow::Retrying),
            ("INF Restarting connection due to reconnect signal in 5s connIndex=0 ip=198.41.192.77", EndHow::ReconnectSignal),
            ("ERR Unable to establish connection with Cloudflare edge error=\"DialContext error: dial tcp 198.41.192.7:7844: i/o timeout\" connIndex=0", EndHow::ConnectFailed),
            ("ERR Register tunnel error from server side error=\"Unauthorized: Invalid tunnel secret\" connIndex=0", EndHow::ConnectFailed),
        ] {
            let e = parse(line).unwrap();
            match classify(&e) {
                Event::Ended { how: got, conn_index, .. } => {
                    assert_eq!(got, how, "{line}");
                    assert!(conn_index.is_some(), "{line}");
                }
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn process_lines() {
        let kinds: Vec<Event> = [
            "INF Starting tunnel tunnelID=00000000-1111-4222-8333-444444444444",
            "INF Version 2025.1.0 (Checksum 00)",
            "INF Version 2021.2.1",
            "INF Generated Connector ID: ffffffff-0000-4000-8000-000000000001",
            "INF Starting metrics server on [::]:36500/metrics",
            "INF Requesting new quick Tunnel on trycloudflare.com...",
            "INF Initiating graceful shutdown due to signal terminated ...",
            "INF Tunnel server stopped",
            "ERR no more connections active and exiting",
            "FTL Couldn't start tunnel error=\"x\"",
            "INF Version of the config is 3",
        ]
        .iter()
        .map(|l| classify(&parse(l).unwrap()))
        .collect();
        assert_eq!(
            kinds,
            [
                Event::Start(StartMarker::StartingTunnel),
                Event::Start(StartMarker::Version("2025.1.0".into())),
                Event::Start(StartMarker::Version("2021.2.1".into())),
                Event::Start(StartMarker::ConnectorId(
                    "ffffffff-0000-4000-8000-000000000001".into()
                )),
                Event::Start(StartMarker::MetricsServer),
                Event::Start(StartMarker::QuickTunnel),
                Event::ShuttingDown,
                Event::Stopped,
                Event::Stopped,
                Event::Stopped,
                Event::Other,
            ]
        );
    }

    #[test]
    fn quoted_fields_are_unescaped() {
        let e = parse(r#"2026-11-27T10:00:02Z INF Updated to new configuration config="{\"ingress\":[{\"hostname\":\"a.example.org\",\"service\":\"http://nginx:80\"},{\"service\":\"http_status:404\"}]}" version=3"#).unwrap();
        match classify(&e) {
            Event::Config { json, version } => {
                assert!(
                    json.starts_with(r#"{"ingress":[{"hostname":"a.example.org""#),
                    "{json}"
                );
                assert_eq!(version.as_deref(), Some("3"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_error_with_an_empty_message() {
        let e = parse(r#"2026-11-27T10:05:00Z ERR  error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 172.18.0.4:80: connect: connection refused" cfRay=8c1f2e3d4c5b6a79-AMS event=1 ingressRule=0 originService=http://nginx:80"#).unwrap();
        assert_eq!(e.message, "");
        assert!(
            matches!(classify(&e), Event::OriginUnreachable { origin_service: Some(s), .. } if s == "http://nginx:80")
        );
    }

    #[test]
    fn json_lines_and_noise() {
        let e = parse(r#"{"level":"info","connIndex":1,"ip":"198.41.192.7","location":"fra08","protocol":"http2","time":"2026-11-27T10:00:01Z","message":"Registered tunnel connection"}"#).unwrap();
        assert!(matches!(
            classify(&e),
            Event::Registered {
                conn_index: Some(1),
                ..
            }
        ));
        assert_eq!(
            parse("\u{1b}[90m2026-11-27T10:00:01Z\u{1b}[0m \u{1b}[32mINF\u{1b}[0m Starting tunnel")
                .unwrap()
                .message,
            "Starting tunnel"
        );
        assert_eq!(parse("some other program's output"), None);
        assert_eq!(parse(r#"{"remote_addr":"10.0.0.1","status":200}"#), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn collector_prefixes() {
        type Expected<'a> = Option<(&'a str, Option<u32>)>;
        let cases: [(&str, Expected); 12] = [
            ("cloudflared-1  | 2025-01-28T06:13:37Z INF Starting tunnel", Some(("cloudflared-1", None))),
            ("cloudflared_1  | 2025-01-28T06:13:37Z INF Starting tunnel", Some(("cloudflared_1", None))),
            ("deploy-cloudflared-1 | INF Starting tunnel", Some(("deploy-cloudflared-1", None))),
            ("[pod/cloudflared-5d9c7b8f6-abcde/cloudflared] 2025-01-28T06:13:37Z INF Starting tunnel", Some(("pod/cloudflared-5d9c7b8f6-abcde/cloudflared", None))),
            ("Apr 26 13:19:06 host.example.com cloudflared[978]: 2022-04-26T13:19:06Z INF Starting tunnel", Some(("cloudflared", Some(978)))),
            ("Apr  6 13:19:06 host cloudflared[29131]: 2022-04-26T13:19:06Z INF Starting tunnel", Some(("cloudflared", Some(29131)))),
            ("2022-04-26T13:19:06+0000 host cloudflared[978]: 2022-04-26T13:19:06Z INF Starting tunnel", Some(("cloudflared", Some(978)))),
            ("2025-01-28T06:13:37.416529581Z2025-01-28T06:13:37Z INF Starting tunnel", None),
            ("2025-01-28T06:13:37.416529581Z 2025-01-28T06:13:37Z INF Starting tunnel", None),
            ("[2025-01-28 06:13:37.416] 2025-01-28T06:13:37Z INF Starting tunnel", None),
            ("\u{1b}[36mcloudflared-1  |\u{1b}[0m 2025-01-28T06:13:37.416529581Z 2025-01-28T06:13:37Z INF Starting tunnel", Some(("cloudflared-1", None))),
            ("Apr 26 13:19:06.123456 host cloudflared[978]: 2025-01-28T06:13:37Z INF Starting tunnel", Some(("cloudflared", Some(978)))),
        ];
        for (line, source) in cases {
            let e = parse(line).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(e.message, "Starting tunnel", "{line}");
            assert_eq!(
                e.source.as_ref().map(|s| (s.name.as_str(), s.pid)),
                source,
                "{line}"
            );
            let year = ["2022-04-26T13:19:06Z", "2025-01-28T06:13:37Z"]
                .into_iter()
                .find(|t| line.contains(t));
            assert_eq!(e.time.as_deref(), year, "cloudflared's own time: {line}");
        }
        // A systemd line in a journal is not cloudflared's.
        assert_eq!(
            parse("Apr 26 13:19:06 host.example.com systemd[1]: Stopping cloudflared..."),
            None
        );
        // A JSON line behind a compose prefix.
        let e = parse(r#"cloudflared-1  | {"level":"warn","message":"Lost connection with the edge","connIndex":1}"#).unwrap();
        assert!(matches!(
            classify(&e),
            Event::Ended {
                how: EndHow::LostConnection,
                conn_index: Some(1),
                ..
            }
        ));
        // ANSI colours inside a journald line.
        let e = parse("Apr 26 13:19:06 host cloudflared[1]: \u{1b}[90m2022-04-26T13:19:06Z\u{1b}[0m \u{1b}[32mINF\u{1b}[0m Tunnel server stopped").unwrap();
        assert_eq!(classify(&e), Event::Stopped);
    }
}
