//! nginx `log_format` strings compiled into a byte matcher.
//!
//! A format is literal text and `$variables`. nginx escapes `"` and control bytes in
//! variable values (as `\x22`), so a value ends where the literal that follows it in
//! the format next occurs; the matcher walks the line once, finding each literal with
//! `memchr`, and hands out slices of the line (no allocation per line).

use memchr::memchr;

/// nginx's default `combined` format.
pub const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// The variables the counter reads; every other variable is skipped over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    RemoteAddr,
    ForwardedFor,
    CfConnectingIp,
    TimeLocal,
    TimeIso8601,
    Msec,
    /// `$request`: `GET /path HTTP/1.1`.
    Request,
    /// `$request_uri` or `$uri`: the path itself.
    Uri,
    Status,
    UserAgent,
    /// `$sent_http_<header>` or `$upstream_http_<header>`.
    StatusHeader,
    Ignored,
}

/// How a line's time is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeKind {
    #[default]
    Local,
    Iso8601,
    Msec,
}

/// The values of one matched line, as slices of it.
#[derive(Debug, Default)]
pub struct Fields<'a> {
    pub remote_addr: &'a [u8],
    pub forwarded_for: &'a [u8],
    pub cf_connecting_ip: &'a [u8],
    pub time: &'a [u8],
    /// The request line (`GET /p HTTP/1.1`) or, with `uri_is_path`, the path.
    pub request: &'a [u8],
    pub status: &'a [u8],
    pub user_agent: &'a [u8],
    pub header: Option<&'a [u8]>,
}

/// A compiled `log_format`.
#[derive(Debug, Clone)]
pub struct LogFormat {
    /// Literal text before the first variable.
    lead: Vec<u8>,
    /// Each variable with the literal text that follows it (empty only at the end).
    parts: Vec<(Field, Vec<u8>)>,
    pub time_kind: TimeKind,
    /// The format logs `$request_uri`/`$uri` rather than `$request`.
    pub uri_is_path: bool,
    /// The variable that carries the classifying header, when the format logs it.
    pub header_variable: Option<String>,
}

impl LogFormat {
    /// Compiles a format. `header` is the classifying response header
    /// (`X-Status-Path` → `$sent_http_x_status_path` / `$upstream_http_x_status_path`).
    ///
    /// The text may be given as in nginx.conf, in single-quoted pieces
    /// (`'$remote_addr - …' '"$http_user_agent"'`).
    pub fn parse(format: &str, header: &str) -> Result<LogFormat, String> {
        let text = unquote(format);
        let header = header.to_ascii_lowercase().replace('-', "_");
        let sent = format!("sent_http_{header}");
        let upstream = format!("upstream_http_{header}");
        let bytes = text.as_bytes();
        let mut lead = Vec::new();
        let mut parts: Vec<(Field, Vec<u8>)> = Vec::new();
        let mut time_kind = None;
        let mut path_kind = None;
        let mut header_variable = None;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' {
                match parts.last_mut() {
                    Some((_, literal)) => literal.push(bytes[i]),
                    None => lead.push(bytes[i]),
                }
                i += 1;
                continue;
            }
            let (name, next) = variable_name(&text, i)
                .ok_or_else(|| format!("a `$` without a variable name at byte {i}"))?;
            i = next;
            if let Some((previous, literal)) = parts.last() {
                if literal.is_empty() {
                    return Err(format!(
                        "${name} follows {previous:?} with no text between them, so the two cannot be told apart"
                    ));
                }
            }
            let field = match name {
                "remote_addr" => Field::RemoteAddr,
                "http_x_forwarded_for" => Field::ForwardedFor,
                "http_cf_connecting_ip" => Field::CfConnectingIp,
                "time_local" => Field::TimeLocal,
                "time_iso8601" => Field::TimeIso8601,
                "msec" => Field::Msec,
                "request" => Field::Request,
                "request_uri" | "uri" => Field::Uri,
                "status" => Field::Status,
                "http_user_agent" => Field::UserAgent,
                n if n == sent || n == upstream => Field::StatusHeader,
                _ => Field::Ignored,
            };
            match field {
                Field::TimeLocal | Field::TimeIso8601 | Field::Msec if time_kind.is_none() => {
                    time_kind = Some(match field {
                        Field::TimeLocal => TimeKind::Local,
                        Field::TimeIso8601 => TimeKind::Iso8601,
                        _ => TimeKind::Msec,
                    });
                }
                Field::Request | Field::Uri if path_kind.is_none() => path_kind = Some(field),
                Field::StatusHeader if header_variable.is_none() => {
                    header_variable = Some(name.to_owned());
                }
                _ => {}
            }
            // Only the first time and path variables are read; others are skipped.
            let field = match field {
                Field::TimeLocal | Field::TimeIso8601 | Field::Msec
                    if Some(field) != time_kind.map(time_field) =>
                {
                    Field::Ignored
                }
                Field::Request | Field::Uri if Some(field) != path_kind => Field::Ignored,
                other => other,
            };
            parts.push((field, Vec::new()));
        }
        let time_kind = time_kind.ok_or(
            "the log format has no $time_local, $time_iso8601 or $msec: lines cannot be dated",
        )?;
        let path_kind = path_kind.ok_or(
            "the log format has no $request, $request_uri or $uri: legacy requests cannot be recognised",
        )?;
        Ok(LogFormat {
            lead,
            parts,
            time_kind,
            uri_is_path: path_kind == Field::Uri,
            header_variable,
        })
    }

    /// Matches one line (without its newline); false when it does not fit the format.
    pub fn matches<'a>(&self, line: &'a [u8], out: &mut Fields<'a>) -> bool {
        let Some(mut rest) = strip(line, &self.lead) else {
            return false;
        };
        for (field, literal) in &self.parts {
            let value = if literal.is_empty() {
                std::mem::take(&mut rest)
            } else {
                let Some(at) = locate(rest, literal, fixed_width(*field)) else {
                    return false;
                };
                let value = &rest[..at];
                rest = &rest[at + literal.len()..];
                value
            };
            match field {
                Field::RemoteAddr => out.remote_addr = value,
                Field::ForwardedFor => out.forwarded_for = value,
                Field::CfConnectingIp => out.cf_connecting_ip = value,
                Field::TimeLocal | Field::TimeIso8601 | Field::Msec => out.time = value,
                Field::Request | Field::Uri => out.request = value,
                Field::Status => out.status = value,
                Field::UserAgent => out.user_agent = value,
                Field::StatusHeader => out.header = Some(value),
                Field::Ignored => {}
            }
        }
        rest.is_empty()
    }
}

/// The length every value of a variable has, when it has one (0 otherwise). Only the
/// times: their parser checks every byte, so a wrong cut cannot pass unnoticed.
fn fixed_width(field: Field) -> usize {
    match field {
        Field::TimeLocal => 26,
        Field::TimeIso8601 => 25,
        _ => 0,
    }
}

/// Where a value ends: the first occurrence of `literal` in `rest`. The usual cases are
/// tried before a search: an empty or one-byte value (`-`; exact, since a match at 0
/// is ruled out first) and a time's fixed width.
fn locate(rest: &[u8], literal: &[u8], width: usize) -> Option<usize> {
    let at = |i: usize| {
        rest.len() >= i + literal.len() && literal.iter().zip(&rest[i..]).all(|(a, b)| a == b)
    };
    if at(0) {
        Some(0)
    } else if at(1) {
        Some(1)
    } else if width > 1 && at(width) {
        Some(width)
    } else {
        find(rest, literal)
    }
}

fn time_field(kind: TimeKind) -> Field {
    match kind {
        TimeKind::Local => Field::TimeLocal,
        TimeKind::Iso8601 => Field::TimeIso8601,
        TimeKind::Msec => Field::Msec,
    }
}

/// The name of the variable at `text[at] == '$'` (`$name` or `${name}`) and the index
/// after it.
fn variable_name(text: &str, at: usize) -> Option<(&str, usize)> {
    let bytes = text.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    if bytes.get(at + 1) == Some(&b'{') {
        let end = at + 2 + bytes[at + 2..].iter().position(|&b| b == b'}')?;
        let name = &text[at + 2..end];
        (!name.is_empty() && name.bytes().all(is_name)).then_some((name, end + 1))
    } else {
        let len = bytes[at + 1..].iter().take_while(|&&b| is_name(b)).count();
        (len > 0).then_some((&text[at + 1..at + 1 + len], at + 1 + len))
    }
}

/// Joins nginx.conf's single-quoted pieces; other text is taken as it is.
fn unquote(format: &str) -> String {
    let trimmed = format.trim();
    if !trimmed.starts_with('\'') {
        return format.to_owned();
    }
    trimmed
        .split('\'')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, piece)| piece)
        .collect()
}

/// The first occurrence of `needle` (non-empty) in `hay`. The rest of the literal
/// (usually one or two bytes) is compared by hand: a libc `memcmp` call per field
/// costs more than the bytes it compares.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, tail) = needle.split_first()?;
    let mut from = 0;
    loop {
        let at = from + memchr(first, &hay[from..])?;
        let after = &hay[at + 1..];
        if after.len() >= tail.len() && tail.iter().zip(after).all(|(a, b)| a == b) {
            return Some(at);
        }
        from = at + 1;
    }
}

/// `line` starts with `prefix`; by hand, since the prefix is usually empty or short.
fn strip<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (line.len() >= prefix.len() && prefix.iter().zip(line).all(|(a, b)| a == b))
        .then(|| &line[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &[u8] = br#"127.0.0.1 - - [28/Nov/2026:00:57:46 +0000] "GET /status/summary HTTP/1.1" 200 512 "-" "curl/8.5.0""#;

    #[test]
    fn combined_lines_yield_their_fields() {
        let format = LogFormat::parse(COMBINED, "X-Status-Path").unwrap();
        let mut f = Fields::default();
        assert!(format.matches(LINE, &mut f));
        assert_eq!(f.remote_addr, b"127.0.0.1");
        assert_eq!(f.time, b"28/Nov/2026:00:57:46 +0000");
        assert_eq!(f.request, b"GET /status/summary HTTP/1.1");
        assert_eq!(f.status, b"200");
        assert_eq!(f.user_agent, b"curl/8.5.0");
        assert_eq!(f.header, None);
        assert!(!format.matches(b"garbage", &mut Fields::default()));
        assert!(!format.matches(&LINE[..LINE.len() - 1], &mut Fields::default()));
    }

    #[test]
    fn a_custom_format_with_the_header_variable_classifies_by_header() {
        let custom = format!(r#"{COMBINED} xsp="$sent_http_x_status_path""#);
        let format = LogFormat::parse(&custom, "X-Status-Path").unwrap();
        assert_eq!(
            format.header_variable.as_deref(),
            Some("sent_http_x_status_path")
        );
        let mut line = LINE.to_vec();
        line.extend_from_slice(br#" xsp="legacy""#);
        let mut f = Fields::default();
        assert!(format.matches(&line, &mut f));
        assert_eq!(f.header, Some(&b"legacy"[..]));
        let quoted = LogFormat::parse("'$remote_addr [$time_local] ' '\"$request\"'", "x").unwrap();
        let mut f = Fields::default();
        assert!(quoted.matches(br#"1.2.3.4 [t] "GET / HTTP/1.1""#, &mut f));
        assert_eq!(f.request, b"GET / HTTP/1.1");
    }

    #[test]
    fn the_shortcuts_find_the_first_occurrence_like_a_search() {
        for rest in [&b"-\" 200"[..], b"\" x", b"ab\" c\" ", b"", b"-", b"--\" "] {
            for literal in [&b"\" "[..], b"\"", b" "] {
                assert_eq!(
                    locate(rest, literal, 0),
                    find(rest, literal),
                    "{rest:?} {literal:?}"
                );
            }
        }
    }

    #[test]
    fn formats_that_cannot_be_matched_are_refused() {
        assert!(
            LogFormat::parse("$remote_addr$status $time_local $request", "x")
                .unwrap_err()
                .contains("no text between")
        );
        assert!(LogFormat::parse("$remote_addr $request", "x")
            .unwrap_err()
            .contains("$time_local"));
        assert!(LogFormat::parse("$remote_addr $time_local", "x")
            .unwrap_err()
            .contains("$request"));
        assert!(LogFormat::parse("$ $time_local $request", "x").is_err());
        assert!(LogFormat::parse("${uri} ${msec}", "x").is_ok());
    }
}
