//! cloudflared log lines, in both of its formats, turned into the events the
//! connector check counts.
//!
//! Plain (zerolog's console writer):
//! `2026-11-27T10:00:01Z INF Registered tunnel connection connIndex=0 connection=<uuid> event=0 ip=198.41.200.23 location=ams05 protocol=quic`
//! — an optional timestamp (docker's `--timestamps` may add a second one), a level
//! (`DBG INF WRN ERR FTL`), the message, then `key=value` fields whose values are
//! Go-quoted when they contain spaces (`error="…"`, `config="{\"ingress\":…}"`).
//!
//! JSON (`--log-format-output json`): one object per line with `level`, `time`,
//! `message` and the same fields as members.

use std::borrow::Cow;

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

/// What a line means to the connector check.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Registered {
        conn_index: Option<u64>,
        location: Option<String>,
        ip: Option<String>,
        protocol: Option<String>,
    },
    Unregistered {
        conn_index: Option<u64>,
    },
    /// The ingress configuration pushed by the dashboard (token mode) as JSON text.
    Config {
        json: String,
        version: Option<String>,
    },
    /// cloudflared logs each failed request twice: once with the origin service
    /// (`ERR  error=… originService=…`) and once as `Request failed`.
    OriginUnreachable {
        error: String,
        origin_service: Option<String>,
        request_failed: bool,
    },
    QuicFailure,
    Fallback {
        protocol: String,
    },
    Retry,
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

fn looks_like_time(word: &str) -> bool {
    word.len() >= 10
        && word.as_bytes()[0].is_ascii_digit()
        && word.contains('-')
        && (word.contains('T') || word.contains(':'))
}

/// Parses one line of either format; `None` when it is not a cloudflared line.
pub fn parse(line: &str) -> Option<Entry<'_>> {
    if line.contains('\u{1b}') {
        return parse_clean(&strip_ansi(line)).map(Entry::into_owned);
    }
    parse_clean(line)
}

fn parse_clean(line: &str) -> Option<Entry<'_>> {
    let line = line.trim();
    // Docker's own timestamp may precede a JSON line.
    if let Some(start) = line.find('{') {
        if line[..start].split_whitespace().all(looks_like_time) {
            if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(&line[start..]) {
                return Some(parse_json(object));
            }
        }
    }
    parse_plain(line)
}

fn parse_json(object: serde_json::Map<String, Value>) -> Entry<'static> {
    let mut entry = Entry {
        level: "INF",
        ..Entry::default()
    };
    for (key, value) in object {
        let text = match value {
            Value::String(s) => s,
            Value::Null => continue,
            other => other.to_string(),
        };
        match key.as_str() {
            "level" => entry.level = level_from_json(&text),
            "time" | "ts" => entry.time = Some(Cow::Owned(text)),
            "message" | "msg" => entry.message = Cow::Owned(text),
            _ => entry.fields.push((Cow::Owned(key), Cow::Owned(text))),
        }
    }
    entry
}

fn parse_plain(line: &str) -> Option<Entry<'_>> {
    let mut rest = line;
    let mut time = None;
    // Up to two timestamps (docker's and cloudflared's); the last one is cloudflared's.
    for _ in 0..2 {
        let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
        if looks_like_time(word) {
            time = Some(Cow::Borrowed(word));
            rest = after.trim_start_matches(' ');
        }
    }
    let (level, after) = rest.split_once(' ').unwrap_or((rest, ""));
    let level = LEVELS.iter().find(|l| **l == level)?;
    let body = after.trim_start_matches(' ');
    let first_field = find_field_start(body, 0);
    let mut entry = Entry {
        time,
        level,
        message: Cow::Borrowed(body[..first_field].trim()),
        fields: Vec::new(),
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

/// What a parsed line means.
pub fn classify(entry: &Entry) -> Event {
    let message = entry.message.as_ref();
    let error = entry.field("error").unwrap_or("");
    let conn_index = entry.field("connIndex").and_then(|v| v.parse().ok());
    let owned = |name: &str| entry.field(name).map(str::to_owned);
    if message.starts_with("Registered tunnel connection") {
        Event::Registered {
            conn_index,
            location: owned("location"),
            ip: owned("ip"),
            protocol: owned("protocol"),
        }
    } else if message.starts_with("Unregistered tunnel connection") {
        Event::Unregistered { conn_index }
    } else if message.starts_with("Updated to new configuration") {
        match entry.field("config") {
            Some(json) => Event::Config {
                json: json.to_owned(),
                version: owned("version"),
            },
            None => Event::Other,
        }
    } else if message.contains(ORIGIN_UNREACHABLE) || error.contains(ORIGIN_UNREACHABLE) {
        let text = if error.is_empty() { message } else { error };
        Event::OriginUnreachable {
            error: text.to_owned(),
            origin_service: owned("originService"),
            request_failed: message.starts_with("Request failed"),
        }
    } else if message.starts_with("Switching to fallback protocol") {
        let protocol = message.rsplit(' ').next().unwrap_or("").to_owned();
        Event::Fallback { protocol }
    } else if message.contains("Failed to dial a quic connection")
        || error.contains("failed to dial to edge with quic")
        || message.contains("failed to dial to edge with quic")
    {
        Event::QuicFailure
    } else if message.starts_with("Retrying connection in") {
        Event::Retry
    } else {
        Event::Other
    }
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
                location: Some("ams05".into()),
                ip: Some("198.41.200.23".into()),
                protocol: Some("quic".into()),
            }
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
        assert_eq!(parse(""), None);
    }
}
