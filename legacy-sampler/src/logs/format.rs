//! nginx `log_format` strings compiled into a byte matcher, and the decoding of the
//! values nginx escaped when it wrote them.
//!
//! A format is literal text and `$variables`. `--log-format` takes it as written in
//! nginx.conf (`[log_format NAME] [escape=default|json|none] 'piece' 'piece' …[;]`),
//! read with the rules of nginx's own configuration tokenizer (nginx/nginx,
//! `src/core/ngx_conf_file.c`, `ngx_conf_read_token`), or as one bare format string.
//!
//! How a value is escaped decides where it can end (nginx/nginx,
//! `src/http/modules/ngx_http_log_module.c`):
//! - `escape=default` writes `"`, `\`, bytes below 0x20 and from 0x7f up as `\xHH`
//!   (`ngx_http_log_escape`) and a value that is not set as `-`;
//! - `escape=json` writes `"` and `\` as `\"` and `\\`, control bytes as `\n`, `\r`,
//!   `\t`, `\b`, `\f` or `\u00HH` (`ngx_escape_json` in `src/core/ngx_string.c`), and
//!   an unset value as nothing;
//! - `escape=none` writes values as they are, and an unset value as nothing.
//!
//! So a value ends where the literal that follows it in the format next occurs
//! (under `escape=json`, a `"` preceded by an odd run of `\` is inside the value;
//! under `escape=none` the last value ends where the line's closing literal begins);
//! the matcher walks the line once, finding each literal with `memchr`, and hands out
//! slices of the line (no allocation per line). [`Escape::decode`] turns a slice back
//! into the bytes the client sent, only for the values that are read.

use std::borrow::Cow;

use day2_core::Problem;
use memchr::memchr;

/// nginx's default `combined` format.
pub const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// The `escape=` parameter of `log_format`: how variable values were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Escape {
    /// `\xHH` for `"`, `\`, bytes below 0x20 and from 0x7f up.
    #[default]
    Default,
    /// JSON string escapes.
    Json,
    /// Nothing escaped.
    None,
}

impl Escape {
    /// The name nginx.conf uses (`escape=NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Escape::Default => "default",
            Escape::Json => "json",
            Escape::None => "none",
        }
    }

    /// The bytes nginx escaped into `value`, decoded; borrowed when nothing was
    /// escaped. A sequence nginx never writes (`\q`, a cut-off `\x4`) is kept as it is.
    pub fn decode(self, value: &[u8]) -> Cow<'_, [u8]> {
        if self == Escape::None || memchr(b'\\', value).is_none() {
            return Cow::Borrowed(value);
        }
        let mut out = Vec::with_capacity(value.len());
        let mut i = 0;
        while i < value.len() {
            let b = value[i];
            if b != b'\\' {
                out.push(b);
                i += 1;
                continue;
            }
            let (bytes, used) = match self {
                Escape::Json => json_escape(&value[i + 1..]),
                _ => default_escape(&value[i + 1..]),
            };
            match bytes {
                Some(bytes) => {
                    out.extend_from_slice(&bytes);
                    i += 1 + used;
                }
                None => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        Cow::Owned(out)
    }
}

/// `xHH` after a backslash (`ngx_http_log_escape` writes upper-case hex).
fn default_escape(rest: &[u8]) -> (Option<Vec<u8>>, usize) {
    match rest {
        [b'x', h, l, ..] => match (hex(*h), hex(*l)) {
            (Some(h), Some(l)) => (Some(vec![h << 4 | l]), 3),
            _ => (None, 0),
        },
        _ => (None, 0),
    }
}

/// A JSON escape after a backslash. nginx writes `\u00HH` only for control bytes;
/// other code points are written as UTF-8 (a lone surrogate as U+FFFD).
fn json_escape(rest: &[u8]) -> (Option<Vec<u8>>, usize) {
    let simple = |b: u8| (Some(vec![b]), 1);
    match rest.first() {
        Some(b'"') => simple(b'"'),
        Some(b'\\') => simple(b'\\'),
        Some(b'/') => simple(b'/'),
        Some(b'n') => simple(b'\n'),
        Some(b'r') => simple(b'\r'),
        Some(b't') => simple(b'\t'),
        Some(b'b') => simple(0x08),
        Some(b'f') => simple(0x0c),
        Some(b'u') if rest.len() >= 5 => {
            let code = rest[1..5]
                .iter()
                .try_fold(0u32, |acc, &b| hex(b).map(|d| acc << 4 | u32::from(d)));
            match code {
                Some(code) if code < 0x80 => (Some(vec![code as u8]), 5),
                Some(code) => {
                    let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                    (Some(c.to_string().into_bytes()), 5)
                }
                None => (None, 0),
            }
        }
        _ => (None, 0),
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

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
    /// `$request_uri`: the target as the client sent it (`/path?args`).
    RequestUri,
    /// `$uri`: the path as nginx normalised it, the one its locations matched.
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

/// Which variable carries the request's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// `$request`: the request line, whose target nginx normalises before choosing a
    /// location.
    Request,
    /// `$request_uri`: the target as sent, to be normalised the same way.
    RequestUri,
    /// `$uri`: already normalised by nginx.
    Uri,
}

impl PathKind {
    /// The variable's name, for the summary.
    pub fn variable(self) -> &'static str {
        match self {
            PathKind::Request => "request",
            PathKind::RequestUri => "request_uri",
            PathKind::Uri => "uri",
        }
    }
}

/// The values of one matched line, as slices of it (still escaped as logged).
#[derive(Debug, Default)]
pub struct Fields<'a> {
    pub remote_addr: &'a [u8],
    pub forwarded_for: &'a [u8],
    pub cf_connecting_ip: &'a [u8],
    pub time: &'a [u8],
    /// The value of the format's [`PathKind`] variable.
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
    /// The variable the path is read from: `$uri` when the format logs it, else the
    /// first of `$request` and `$request_uri`.
    pub path_kind: PathKind,
    pub escape: Escape,
    /// The variable that carries the classifying header, when the format logs it.
    pub header_variable: Option<String>,
    /// The format logs `$status`, which nginx always writes as three digits
    /// (`ngx_http_log_status`, `%03ui`): a line whose status is not is malformed.
    pub logs_status: bool,
    /// The line starts with a variable nginx never writes with a space ([`SPACELESS`]):
    /// a first value holding one is text put in front of the line (a log collector's
    /// `nginx-1  | `, `docker logs -t`'s timestamp), not a match. See [`spaceless_end`].
    spaceless_first: bool,
}

/// Variables whose values never hold a space: addresses and ports, numbers, and
/// nginx's own ISO time (`src/http/ngx_http_variables.c`; `$status` is `%03ui`).
const SPACELESS: [&str; 14] = [
    "remote_addr",
    "remote_port",
    "server_addr",
    "server_port",
    "status",
    "time_iso8601",
    "msec",
    "body_bytes_sent",
    "bytes_sent",
    "request_length",
    "request_time",
    "connection",
    "connection_requests",
    "pid",
];

/// A `log_format` that nginx or the matcher cannot use (a usage error).
fn invalid(message: impl Into<String>) -> Problem {
    Problem::new("invalid_log_format", message)
}

impl LogFormat {
    /// Compiles a format. `header` is the classifying response header
    /// (`X-Status-Path` → `$sent_http_x_status_path` / `$upstream_http_x_status_path`).
    ///
    /// The text is the format as written in nginx.conf (see [`conf_format`]) or one
    /// bare format string. Errors name what nginx or the matcher cannot use.
    pub fn parse(format: &str, header: &str) -> Result<LogFormat, Problem> {
        let (escape, text) = conf_format(format)?;
        let header = header.to_ascii_lowercase().replace('-', "_");
        let sent = format!("sent_http_{header}");
        let upstream = format!("upstream_http_{header}");
        let bytes = text.as_bytes();
        let mut lead = Vec::new();
        let mut parts: Vec<(Field, Vec<u8>)> = Vec::new();
        let mut time_kind = None;
        let mut path_kind = None;
        let mut header_variable = None;
        let mut spaceless_first = false;
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
                .ok_or_else(|| invalid(format!("a `$` without a variable name at byte {i}")))?;
            i = next;
            let first = parts.is_empty() && lead.is_empty();
            if let Some((previous, literal)) = parts.last() {
                if literal.is_empty() {
                    return Err(invalid(format!(
                        "${name} follows {previous:?} with no text between them, so the two cannot be told apart"
                    )));
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
                "request_uri" => Field::RequestUri,
                "uri" | "document_uri" => Field::Uri,
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
                // `$uri` wins over the raw forms wherever it stands: it is the path
                // nginx matched its locations against.
                Field::Uri if path_kind != Some(Field::Uri) => path_kind = Some(field),
                Field::Request | Field::RequestUri if path_kind.is_none() => {
                    path_kind = Some(field)
                }
                Field::StatusHeader if header_variable.is_none() => {
                    header_variable = Some(name.to_owned());
                }
                _ => {}
            }
            if first {
                spaceless_first = SPACELESS.contains(&name);
            }
            parts.push((field, Vec::new()));
        }
        let time_kind = time_kind.ok_or_else(|| {
            invalid(
                "the log format has no $time_local, $time_iso8601 or $msec: lines cannot be dated",
            )
        })?;
        let path_kind = path_kind.ok_or_else(|| invalid(
            "the log format has no $request, $request_uri or $uri: legacy requests cannot be recognised",
        ))?;
        // Only the first time variable and the chosen path variable are read; the
        // others are skipped over.
        let mut seen_time = false;
        for (field, _) in &mut parts {
            *field = match *field {
                Field::TimeLocal | Field::TimeIso8601 | Field::Msec => {
                    if seen_time || *field != time_field(time_kind) {
                        Field::Ignored
                    } else {
                        seen_time = true;
                        *field
                    }
                }
                Field::Request | Field::RequestUri | Field::Uri if *field != path_kind => {
                    Field::Ignored
                }
                other => other,
            };
        }
        // A second `$uri` (or the same raw variable twice) is read once, at its first place.
        let mut seen_path = false;
        for (field, _) in &mut parts {
            if *field == path_kind {
                if seen_path {
                    *field = Field::Ignored;
                }
                seen_path = true;
            }
        }
        let logs_status = parts.iter().any(|(f, _)| *f == Field::Status);
        Ok(LogFormat {
            lead,
            parts,
            time_kind,
            path_kind: match path_kind {
                Field::Uri => PathKind::Uri,
                Field::RequestUri => PathKind::RequestUri,
                _ => PathKind::Request,
            },
            escape,
            header_variable,
            logs_status,
            spaceless_first,
        })
    }

    /// Matches one line (without its newline); false when it does not fit the format.
    pub fn matches<'a>(&self, line: &'a [u8], out: &mut Fields<'a>) -> bool {
        // One loop per escaping, so the per-value work has no branch on it.
        match self.escape {
            Escape::Default => self.matches_as::<DEFAULT>(line, out),
            Escape::Json => self.matches_as::<JSON>(line, out),
            Escape::None => self.matches_as::<NONE>(line, out),
        }
    }

    #[inline(always)]
    fn matches_as<'a, const ESCAPE: u8>(&self, line: &'a [u8], out: &mut Fields<'a>) -> bool {
        let Some(mut rest) = strip(line, &self.lead) else {
            return false;
        };
        let (body, last) = match self.parts.split_last() {
            // Under escape=none the format's last literal ends the line: the last
            // value runs up to it, even when it holds the literal itself. Elsewhere a
            // value never holds a `"`, and text after the first occurrence means a
            // wrong format, so the last value is found like the others.
            Some((last, body)) if ESCAPE == NONE && !last.1.is_empty() => (body, Some(last)),
            _ => (&self.parts[..], None),
        };
        let mut body = body;
        if self.spaceless_first {
            if let Some(((field, literal), others)) = body.split_first() {
                let Some(at) = spaceless_end(rest, literal, fixed_width(*field)) else {
                    return false;
                };
                out.set(*field, &rest[..at]);
                rest = &rest[at + literal.len()..];
                body = others;
            }
        }
        for (field, literal) in body {
            let value = if literal.is_empty() {
                std::mem::take(&mut rest)
            } else {
                let found = if ESCAPE == JSON {
                    locate_json(rest, literal, fixed_width(*field))
                } else {
                    locate(rest, literal, fixed_width(*field))
                };
                let Some(at) = found else {
                    return false;
                };
                let value = &rest[..at];
                rest = &rest[at + literal.len()..];
                value
            };
            out.set(*field, value);
        }
        if let Some((field, literal)) = last {
            let Some(value) = rest.strip_suffix(literal.as_slice()) else {
                return false;
            };
            rest = &[];
            out.set(*field, value);
        }
        rest.is_empty()
    }
}

const DEFAULT: u8 = 0;
const JSON: u8 = 1;
const NONE: u8 = 2;

impl<'a> Fields<'a> {
    #[inline(always)]
    fn set(&mut self, field: Field, value: &'a [u8]) {
        match field {
            Field::RemoteAddr => self.remote_addr = value,
            Field::ForwardedFor => self.forwarded_for = value,
            Field::CfConnectingIp => self.cf_connecting_ip = value,
            Field::TimeLocal | Field::TimeIso8601 | Field::Msec => self.time = value,
            Field::Request | Field::RequestUri | Field::Uri => self.request = value,
            Field::Status => self.status = value,
            Field::UserAgent => self.user_agent = value,
            Field::StatusHeader => self.header = Some(value),
            Field::Ignored => {}
        }
    }
}

/// Reads `--log-format` as nginx.conf would: returns the `escape=` parameter and the
/// format, its quoted pieces joined with nothing between them (as
/// `ngx_http_log_compile_format` does).
///
/// The nginx.conf form is recognised when the text starts with `log_format`,
/// `escape=`, a single quote, or a double quote with every piece quoted; a pasted
/// `log_format NAME` prefix and the closing `;` are accepted and ignored. After
/// `escape=NAME` a bare (unquoted) format may follow. Any other text is one bare
/// format string, taken as it is. Errors: an unknown escaping, an unclosed quote,
/// text after the `;`, no format at all.
pub fn conf_format(format: &str) -> Result<(Escape, String), Problem> {
    let trimmed = format.trim();
    let first_word = trimmed.split_ascii_whitespace().next().unwrap_or("");
    let conf_like = first_word == "log_format"
        || first_word.starts_with("escape=")
        || trimmed.starts_with('\'')
        || (trimmed.starts_with('"')
            && conf_words(trimmed).is_ok_and(|w| w.iter().all(|w| w.quoted)));
    if !conf_like {
        return Ok((Escape::Default, format.to_owned()));
    }
    let mut rest = trimmed;
    if first_word == "log_format" {
        rest = rest["log_format".len()..].trim_start();
        let name = rest.split_ascii_whitespace().next().unwrap_or("");
        if name.is_empty() || name.starts_with(['\'', '"']) || name.starts_with("escape=") {
            return Err(invalid(
                "`log_format` must be followed by the format's name",
            ));
        }
        rest = rest[name.len()..].trim_start();
    }
    let mut escape = Escape::Default;
    let first = rest.split_ascii_whitespace().next().unwrap_or("");
    if let Some(name) = first.strip_prefix("escape=") {
        let name = name.trim_end_matches(';');
        escape = match name {
            "default" => Escape::Default,
            "json" => Escape::Json,
            "none" => Escape::None,
            other => {
                return Err(invalid(format!(
                    "unknown log format escaping \"{other}\" (nginx knows default, json and none)"
                )))
            }
        };
        rest = rest[first.len()..].trim_start();
        if !rest.starts_with(['\'', '"']) {
            // A bare format after the escaping: taken as it is.
            let bare = rest.strip_suffix(';').unwrap_or(rest);
            if bare.trim().is_empty() {
                return Err(invalid("no format after the escape= parameter"));
            }
            return Ok((escape, bare.to_owned()));
        }
    }
    let words = conf_words(rest)?;
    if words.is_empty() {
        return Err(invalid("no format given"));
    }
    Ok((escape, words.into_iter().map(|w| w.text).collect()))
}

/// One argument of an nginx.conf directive.
#[derive(Debug)]
struct Word {
    text: String,
    quoted: bool,
}

/// Splits directive arguments as `ngx_conf_read_token` does: whitespace separates
/// them; `'…'` and `"…"` quote (a quote must be followed by whitespace or `;`); `\"`,
/// `\'` and `\\` stand for the character, `\t`, `\r` and `\n` for the control
/// character, any other `\x` stays as it is; `#` at the start of an argument comments
/// out the rest of the line; `;` ends the directive (only whitespace may follow).
fn conf_words(text: &str) -> Result<Vec<Word>, Problem> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i].is_ascii_whitespace() {
            i += 1;
        }
        let Some(&c) = chars.get(i) else {
            return Ok(words);
        };
        match c {
            ';' => {
                let after: String = chars[i + 1..].iter().collect();
                if !after.trim().is_empty() {
                    return Err(invalid(format!(
                        "text after the `;` that ends log_format: {:?}",
                        after.trim()
                    )));
                }
                return Ok(words);
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '{' | '}' => return Err(invalid(format!("unexpected \"{c}\" (quote the format)"))),
            _ => {}
        }
        let quote = matches!(c, '\'' | '"').then_some(c);
        if quote.is_some() {
            i += 1;
        }
        let mut raw = String::new();
        loop {
            let Some(&c) = chars.get(i) else {
                if let Some(q) = quote {
                    return Err(invalid(format!(
                        "a {q}-quoted piece of the format is not closed"
                    )));
                }
                break;
            };
            if c == '\\' && i + 1 < chars.len() {
                raw.push(c);
                raw.push(chars[i + 1]);
                i += 2;
                continue;
            }
            match quote {
                Some(q) if c == q => {
                    i += 1;
                    if chars
                        .get(i)
                        .is_some_and(|n| !n.is_ascii_whitespace() && *n != ';')
                    {
                        return Err(invalid(format!(
                            "unexpected {:?} after a quoted piece of the format (nginx needs a space)",
                            chars[i]
                        )));
                    }
                    break;
                }
                None if c.is_ascii_whitespace() || c == ';' => break,
                // `${name}` is a variable, not a block (ngx_conf_read_token's `variable`).
                None if (c == '{' && !raw.ends_with('$')) || c == '}' && !raw.contains("${") => {
                    return Err(invalid(format!("unexpected \"{c}\" (quote the format)")))
                }
                _ => {
                    raw.push(c);
                    i += 1;
                }
            }
        }
        words.push(Word {
            text: unescape_conf(&raw),
            quoted: quote.is_some(),
        });
    }
}

/// The backslash sequences nginx's tokenizer replaces in an argument.
fn unescape_conf(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(n @ ('"' | '\'' | '\\')) => {
                out.push(n);
                chars.next();
            }
            Some('t') => {
                out.push('\t');
                chars.next();
            }
            Some('r') => {
                out.push('\r');
                chars.next();
            }
            Some('n') => {
                out.push('\n');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
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
#[inline(always)]
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

/// Where a first value that nginx never writes with a space ends: at the first space
/// of the line when the literal after it starts with one (one `memchr`, no search
/// beyond it), else at the literal, with no space before it. A collector's prefix in
/// front of the line (`nginx-1  | `, a timestamp) therefore never matches: it would
/// be swallowed into the value.
#[inline(always)]
fn spaceless_end(rest: &[u8], literal: &[u8], width: usize) -> Option<usize> {
    match literal.first() {
        Some(b' ') => {
            let at = memchr(b' ', rest)?;
            strip(&rest[at..], literal).map(|_| at)
        }
        Some(_) => {
            let at = locate(rest, literal, width)?;
            memchr(b' ', &rest[..at]).is_none().then_some(at)
        }
        None => memchr(b' ', rest).is_none().then_some(rest.len()),
    }
}

/// [`locate`] under `escape=json`: a match that starts with a `"` preceded by an odd
/// run of backslashes is an escaped quote inside the value, not the literal.
fn locate_json(rest: &[u8], literal: &[u8], width: usize) -> Option<usize> {
    let escaped = |at: usize| {
        literal[0] == b'"' && rest[..at].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
    };
    let mut from = 0;
    loop {
        let at = from + locate(&rest[from..], literal, if from == 0 { width } else { 0 })?;
        if !escaped(at) {
            return Some(at);
        }
        from = at + 1;
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
                .message
                .contains("no text between")
        );
        assert!(LogFormat::parse("$remote_addr $request", "x")
            .unwrap_err()
            .message
            .contains("$time_local"));
        assert!(LogFormat::parse("$remote_addr $time_local", "x")
            .unwrap_err()
            .message
            .contains("$request"));
        assert!(LogFormat::parse("$ $time_local $request", "x").is_err());
        assert!(LogFormat::parse("${uri} ${msec}", "x").is_ok());
    }

    #[test]
    fn the_format_as_written_in_nginx_conf_follows_ngx_conf_read_token() {
        // Several quoted pieces are joined with nothing between them
        // (ngx_http_log_compile_format walks every argument).
        let (escape, text) =
            conf_format("'$remote_addr [$time_local] '\n  '\"$request\"'").unwrap();
        assert_eq!(
            (escape, text.as_str()),
            (Escape::Default, "$remote_addr [$time_local] \"$request\"")
        );
        // The pasted directive: name and `;` are dropped, comments skipped.
        let (escape, text) = conf_format(
            "log_format main escape=json '{\"t\":\"$msec\",'  # time\n '\"r\":\"$request\"}';",
        )
        .unwrap();
        assert_eq!(escape, Escape::Json);
        assert_eq!(text, "{\"t\":\"$msec\",\"r\":\"$request\"}");
        // Double quotes with the escapes the tokenizer replaces: \" \\ \t; others stay.
        let (_, text) = conf_format(r#""$remote_addr\t\"$request\" \d" "$time_local""#).unwrap();
        assert_eq!(text, "$remote_addr\t\"$request\" \\d$time_local");
        assert_eq!(
            conf_format("escape=none $msec $request").unwrap(),
            (Escape::None, "$msec $request".into())
        );
        // A bare format is taken as it is, quotes and all.
        let bare = r#"$remote_addr "$request" [$time_local]"#;
        assert_eq!(conf_format(bare).unwrap(), (Escape::Default, bare.into()));
        let bare = r#""$request" $status [$time_local]"#;
        assert_eq!(conf_format(bare).unwrap(), (Escape::Default, bare.into()));
        // What nginx refuses is refused with the reason.
        assert!(conf_format("escape=xml '$msec $request'")
            .unwrap_err()
            .message
            .contains("unknown log format escaping"));
        assert!(conf_format("'$msec $request")
            .unwrap_err()
            .message
            .contains("not closed"));
        assert!(conf_format("'$msec $request'x")
            .unwrap_err()
            .message
            .contains("nginx needs a space"));
        assert!(conf_format("'$msec $request'; '$status'")
            .unwrap_err()
            .message
            .contains("after the `;`"));
        assert!(conf_format("log_format 'x $msec'")
            .unwrap_err()
            .message
            .contains("name"));
        assert!(conf_format("log_format main;")
            .unwrap_err()
            .message
            .contains("no format"));
    }

    #[test]
    fn values_are_decoded_per_the_escaping_nginx_wrote_them_with() {
        // ngx_http_log_escape: `"`, `\`, < 0x20 and >= 0x7f as \xHH.
        let default = Escape::Default.decode(br#"Mon \x22x\x22 \x5C \xC3\xBC\x09"#);
        assert_eq!(&default[..], "Mon \"x\" \\ \u{fc}\t".as_bytes());
        assert!(matches!(Escape::Default.decode(b"plain"), Cow::Borrowed(_)));
        assert_eq!(&Escape::Default.decode(br"\x4")[..], br"\x4");
        // ngx_escape_json: \" \\ \n \r \t \b \f and \u00HH; UTF-8 as it is.
        let json = Escape::Json.decode(br#"a\"b\\c\n\u001Fd \u00fc \/"#);
        assert_eq!(&json[..], b"a\"b\\c\n\x1fd \xc3\xbc /");
        assert_eq!(&Escape::None.decode(br"\x22")[..], br"\x22");
    }

    #[test]
    fn under_escape_json_an_escaped_quote_does_not_end_a_value() {
        let format = LogFormat::parse(
            r#"escape=json '{"t":"$time_iso8601","r":"$request","ua":"$http_user_agent","xff":"$http_x_forwarded_for"}'"#,
            "x",
        )
        .unwrap();
        let line = br#"{"t":"2026-11-29T11:47:24+00:00","r":"GET /status/ HTTP/1.1","ua":"x\",\"xff\":\"6.6.6.6\\","xff":"192.0.2.1"}"#;
        let mut f = Fields::default();
        assert!(format.matches(line, &mut f));
        assert_eq!(f.user_agent, br#"x\",\"xff\":\"6.6.6.6\\"#);
        assert_eq!(f.forwarded_for, b"192.0.2.1");
        // Under escape=none the closing literal still ends the last value.
        let none =
            LogFormat::parse(r#"escape=none '$msec "$request" "$http_user_agent"'"#, "x").unwrap();
        let mut f = Fields::default();
        assert!(none.matches(br#"1.0 "GET / HTTP/1.1" "a "quoted" agent""#, &mut f));
        assert_eq!(f.user_agent, br#"a "quoted" agent"#);
    }

    #[test]
    fn uri_wins_over_the_request_line_wherever_it_stands() {
        let f = LogFormat::parse(r#"$time_local "$request" $uri"#, "x").unwrap();
        assert_eq!(f.path_kind, PathKind::Uri);
        let f = LogFormat::parse(r#"$time_local $request_uri "$request""#, "x").unwrap();
        assert_eq!(f.path_kind, PathKind::RequestUri);
        let f = LogFormat::parse(r#"$time_local "$request""#, "x").unwrap();
        assert_eq!(f.path_kind, PathKind::Request);
    }

    /// A format that starts with `$remote_addr` would "match" a line with a
    /// collector's prefix, the prefix swallowed into the address: nginx never writes
    /// an address with a space, so such a first value is no match.
    #[test]
    fn a_spaceless_first_variable_does_not_swallow_a_prefix() {
        let line = br#"172.18.0.1 - - [29/Nov/2026:11:47:20 +0000] "GET /status/x HTTP/1.1" 200 5 "-" "m/1""#;
        let combined = LogFormat::parse(COMBINED, "x").unwrap();
        let mut fields = Fields::default();
        assert!(combined.matches(line, &mut fields));
        assert_eq!(fields.remote_addr, b"172.18.0.1");
        for prefix in [&b"nginx-1  | "[..], b"2026-11-29T11:47:20.123456789Z "] {
            let prefixed = [prefix, &line[..]].concat();
            assert!(!combined.matches(&prefixed, &mut Fields::default()));
        }
        // Also when the text after the first value does not start with a space.
        let piped = LogFormat::parse(r#"$remote_addr|$time_local|"$request""#, "x").unwrap();
        let line = br#"10.0.0.1|29/Nov/2026:11:47:20 +0000|"GET / HTTP/1.1""#;
        assert!(piped.matches(line, &mut Fields::default()));
        let prefixed = [&b"nginx-1  | "[..], &line[..]].concat();
        assert!(!piped.matches(&prefixed, &mut Fields::default()));
        // A first variable that may hold spaces keeps its value as logged.
        let forwarded =
            LogFormat::parse(r#"$http_x_forwarded_for [$time_local] "$request""#, "x").unwrap();
        let mut fields = Fields::default();
        assert!(forwarded.matches(
            br#"203.0.113.9, 172.18.0.5 [29/Nov/2026:11:47:20 +0000] "GET / HTTP/1.1""#,
            &mut fields
        ));
        assert_eq!(fields.forwarded_for, b"203.0.113.9, 172.18.0.5");
    }

    #[test]
    fn random_lines_and_formats_never_panic() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        const LINE: &[u8] = b"\"\\x2u0{}[] :-/$a";
        const PIECES: &[&str] = &[
            "'",
            "\"",
            " ",
            " ",
            "\\",
            "$",
            "{",
            "}",
            "#",
            ";",
            "\n",
            "escape=json ",
            "log_format m ",
            "$msec",
            "$request",
            "$uri",
            "$status",
            "[",
            "] ",
            "-",
        ];
        let formats = [
            LogFormat::parse(COMBINED, "x").unwrap(),
            LogFormat::parse(
                r#"escape=json '{"t":"$msec","r":"$request","u":"$http_user_agent"}'"#,
                "x",
            )
            .unwrap(),
            LogFormat::parse(r#"escape=none '$msec "$request" "$http_user_agent"'"#, "x").unwrap(),
        ];
        let mut parsed = 0;
        for _ in 0..50_000 {
            let len = (next() % 40) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| LINE[(next() % LINE.len() as u64) as usize])
                .collect();
            for format in &formats {
                let _ = format.matches(&line, &mut Fields::default());
            }
            for escape in [Escape::Default, Escape::Json, Escape::None] {
                assert!(escape.decode(&line).len() <= line.len() + 3 * line.len());
            }
            let text: String = (0..len / 4)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            parsed += usize::from(LogFormat::parse(&text, "x").is_ok());
        }
        assert!(parsed > 0);
    }
}
