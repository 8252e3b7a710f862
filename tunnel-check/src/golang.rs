//! The parts of Go's standard library (and of the two Go modules) whose rules
//! decide what cloudflared accepts in a config: `net/url.Parse`,
//! `net.SplitHostPort`, `time.ParseDuration`, `strconv.Atoi`, `net.ParseCIDR`,
//! `regexp.Compile` (RE2 syntax), and `github.com/google/uuid.Parse`.
//!
//! Each function follows the Go source it names (Go 1.22, the toolchain of
//! cloudflared's releases since 2024) and returns Go's own error text, so a
//! refusal reads as cloudflared would print it. They were checked against the
//! real Go functions on the cases in the tests below.

use std::net::{Ipv4Addr, Ipv6Addr};

/// What `net/url.Parse` keeps of a URL, for the checks cloudflared makes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GoUrl {
    /// Lower-cased, as Go stores it.
    pub scheme: String,
    pub opaque: String,
    /// `host[:port]`, brackets kept for IPv6.
    pub host: String,
    pub path: String,
    pub user: Option<String>,
}

impl GoUrl {
    /// `URL.Hostname()`: the host without port and without IPv6 brackets.
    pub fn hostname(&self) -> &str {
        let mut host = self.host.as_str();
        if let Some(colon) = host.rfind(':') {
            if valid_optional_port(&host[colon..]) {
                host = &host[..colon];
            }
        }
        if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
            host = &host[1..host.len() - 1];
        }
        host
    }

    /// `URL.Port()`.
    #[cfg(test)]
    pub fn port(&self) -> &str {
        match self.host.rfind(':') {
            Some(colon) if valid_optional_port(&self.host[colon..]) => &self.host[colon + 1..],
            _ => "",
        }
    }
}

/// `net/url.Parse` (src/net/url/url.go: `Parse`, `parse`, `getScheme`,
/// `parseAuthority`, `parseHost`, `unescape`). The error is Go's
/// `parse "<url>": <reason>`.
pub fn url_parse(raw: &str) -> Result<GoUrl, String> {
    let (rest, fragment) = match raw.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (raw, None),
    };
    let wrap = |url: &str, e: String| format!("parse {}: {e}", go_quote(url));
    let mut url = parse_no_fragment(rest).map_err(|e| wrap(rest, e))?;
    if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
        unescape(fragment, Mode::Fragment).map_err(|e| wrap(raw, e))?;
    }
    url.scheme = url.scheme.to_ascii_lowercase();
    Ok(url)
}

fn parse_no_fragment(raw: &str) -> Result<GoUrl, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut url = GoUrl::default();
    if raw == "*" {
        url.path = "*".into();
        return Ok(url);
    }
    let (scheme, rest) = get_scheme(raw)?;
    url.scheme = scheme.to_owned();
    let mut rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        &rest[..rest.len() - 1]
    } else {
        rest.split_once('?').map_or(rest, |(r, _)| r)
    };
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_owned();
            return Ok(url);
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_and_path = &rest[2..];
        let (authority, path) = match authority_and_path.find('/') {
            Some(i) => (&authority_and_path[..i], &authority_and_path[i..]),
            None => (authority_and_path, ""),
        };
        let (user, host) = parse_authority(authority)?;
        url.user = user;
        url.host = host;
        rest = path;
    }
    url.path = unescape(rest, Mode::Path)?;
    Ok(url)
}

fn get_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".into());
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str) -> Result<(Option<String>, String), String> {
    let at = authority.rfind('@');
    let host = parse_host(at.map_or(authority, |i| &authority[i + 1..]))?;
    let Some(i) = at else {
        return Ok((None, host));
    };
    let userinfo = &authority[..i];
    let valid = userinfo.bytes().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b':'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'%'
                    | b'@'
            )
    });
    if !valid {
        return Err("net/url: invalid userinfo".into());
    }
    match userinfo.split_once(':') {
        Some((user, password)) => {
            unescape(user, Mode::UserPassword)?;
            unescape(password, Mode::UserPassword)?;
            Ok((Some(user.to_owned()), host))
        }
        None => Ok((Some(unescape(userinfo, Mode::UserPassword)?), host)),
    }
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty() || (port.starts_with(':') && port[1..].bytes().all(|b| b.is_ascii_digit()))
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let colon_port = &host[i + 1..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
        if let Some(zone) = host[..i].find("%25") {
            let host1 = unescape(&host[..zone], Mode::Host)?;
            let host2 = unescape(&host[zone..i], Mode::Zone)?;
            let host3 = unescape(&host[i..], Mode::Host)?;
            return Ok(host1 + &host2 + &host3);
        }
    } else if let Some(i) = host.rfind(':') {
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
    }
    unescape(host, Mode::Host)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

/// `shouldEscape` for the modes `unescape` consults it in (host and zone).
fn host_should_escape(c: u8) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    !matches!(
        c,
        b'!' | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'['
            | b']'
            | b'<'
            | b'>'
            | b'"'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
    )
}

fn unhex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `unescape`: validates `%XX` escapes (and, in a host, the characters allowed
/// there) and decodes them.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let escape = || {
                    let end = (i + 3).min(bytes.len());
                    format!("invalid URL escape {}", go_quote(&s[i..end]))
                };
                let (Some(hi), Some(lo)) = (
                    bytes.get(i + 1).copied().and_then(unhex),
                    bytes.get(i + 2).copied().and_then(unhex),
                ) else {
                    return Err(escape());
                };
                // Per RFC 6874 only %25 may be escaped in a host, except in a zone.
                if mode == Mode::Host && hi < 8 && &s[i..i + 3] != "%25" {
                    return Err(escape());
                }
                if mode == Mode::Zone {
                    let v = hi << 4 | lo;
                    if &s[i..i + 3] != "%25" && v != b' ' && host_should_escape(v) {
                        return Err(escape());
                    }
                }
                out.push(hi << 4 | lo);
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && host_should_escape(c) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote(&s[i..i + 1])
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `net.SplitHostPort` (src/net/ipsock.go): the host and port, or Go's error.
pub fn split_host_port(hostport: &str) -> Result<(&str, &str), String> {
    let err = |why: &str| Err(format!("address {hostport}: {why}"));
    let Some(i) = hostport.rfind(':') else {
        return err("missing port in address");
    };
    let (mut j, mut k) = (0, 0);
    let host;
    if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else {
            return err("missing ']' in address");
        };
        if end + 1 == hostport.len() {
            return err("missing port in address");
        } else if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return err("too many colons in address");
            }
            return err("missing port in address");
        }
        host = &hostport[1..end];
        j = 1;
        k = end + 1;
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return err("too many colons in address");
        }
    }
    if hostport[j..].contains('[') {
        return err("unexpected '[' in address");
    }
    if hostport[k..].contains(']') {
        return err("unexpected ']' in address");
    }
    Ok((host, &hostport[i + 1..]))
}

/// `strconv.Atoi`: an optional sign and decimal digits that fit in an int64.
pub fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let syntax = || format!("strconv.Atoi: parsing {}: invalid syntax", go_quote(s));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", go_quote(s)))
}

/// `time.ParseDuration` (src/time/format.go): `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`
/// with the units ns, us, µs, μs, ms, s, m, h; "0" alone needs no unit.
/// Returns nanoseconds.
pub fn parse_duration(orig: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {}", time_quote(orig));
    let mut s = orig;
    let mut negative = false;
    if let Some(c) = s.chars().next() {
        if c == '-' || c == '+' {
            negative = c == '-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !s.is_empty() {
        let first = s.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_part = "";
        if s.starts_with('.') {
            s = &s[1..];
            let frac_len = s.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &s[..frac_len];
            s = &s[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(s.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                time_quote(orig)
            ));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let nanos: i128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    time_quote(unit),
                    time_quote(orig)
                ))
            }
        };
        // leadingInt overflows past 1<<63; the sum may not pass it either.
        let int_value: i128 = if int_part.len() > 20 {
            return Err(invalid());
        } else {
            int_part.parse().unwrap_or(0)
        };
        if int_value > i64::MAX as i128 {
            return Err(invalid());
        }
        let mut value = int_value * nanos;
        if !frac_part.is_empty() {
            let digits = &frac_part[..frac_part.len().min(30)];
            let scale = 10f64.powi(digits.len() as i32);
            let fraction: f64 = digits.parse::<f64>().unwrap_or(0.0) / scale;
            value += (fraction * nanos as f64) as i128;
        }
        total += value;
        if total > i64::MAX as i128 + i128::from(negative) {
            return Err(invalid());
        }
    }
    Ok(if negative { -total } else { total })
}

/// `net.ParseCIDR`: an IPv4 or IPv6 address and a prefix length that fits it.
pub fn parse_cidr(s: &str) -> Result<(), String> {
    let bad = || Err(format!("invalid CIDR address: {s}"));
    let Some((addr, bits)) = s.split_once('/') else {
        return bad();
    };
    let max = if addr.parse::<Ipv4Addr>().is_ok() {
        32
    } else if addr.parse::<Ipv6Addr>().is_ok() && !addr.contains('%') {
        128
    } else {
        return bad();
    };
    // dtoi: decimal digits only, at most 0xFFFFFF.
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) || bits.len() > 8 {
        return bad();
    }
    match bits.parse::<u32>() {
        Ok(n) if n <= max => Ok(()),
        _ => bad(),
    }
}

/// `github.com/google/uuid.Parse`: the 36-character form, `urn:uuid:` and `{…}`
/// wrapped forms, or 32 hex digits. Returns the canonical lower-case form.
pub fn uuid_parse(s: &str) -> Result<String, String> {
    let hex = |b: &[u8]| -> Option<String> {
        if b.iter().all(u8::is_ascii_hexdigit) {
            Some(String::from_utf8_lossy(b).to_ascii_lowercase())
        } else {
            None
        }
    };
    let format = || "invalid UUID format".to_owned();
    let bytes = s.as_bytes();
    let body: &[u8] = match bytes.len() {
        36 => bytes,
        45 => {
            if !bytes[..9].eq_ignore_ascii_case(b"urn:uuid:") {
                return Err(format!(
                    "invalid urn prefix: {}",
                    go_quote(&String::from_utf8_lossy(&bytes[..9]))
                ));
            }
            &bytes[9..]
        }
        38 => &bytes[1..],
        32 => {
            let h = hex(bytes).ok_or_else(format)?;
            return Ok(format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            ));
        }
        n => return Err(format!("invalid UUID length: {n}")),
    };
    if body[8] != b'-' || body[13] != b'-' || body[18] != b'-' || body[23] != b'-' {
        return Err(format());
    }
    let groups = [
        &body[..8],
        &body[9..13],
        &body[14..18],
        &body[19..23],
        &body[24..36],
    ];
    let parts: Option<Vec<String>> = groups.iter().map(|g| hex(g)).collect();
    Ok(parts.ok_or_else(format)?.join("-"))
}

/// Go's `%q` for the strings these errors quote (printable ASCII kept, the rest escaped).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `quote` of src/time/format.go: bytes of non-ASCII or control characters as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if !c.is_ascii() || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// `regexp.Compile` of Go, as far as acceptance goes: a port of the parser of
/// `src/regexp/syntax/parse.go` (RE2 syntax with Go's `Perl` flags) that keeps
/// only what decides whether a pattern is accepted: the operand stack and its
/// groups, repetition rules (no argument, stacked operators, counts up to 1000
/// also when nested), escapes, classes, POSIX and Unicode class names, flags,
/// named captures (`(?P<n>…)`, and `(?<n>…)` of Go 1.22, cloudflared's
/// toolchain), nesting depth. The error is Go's text:
/// `error parsing regexp: <code>: ` and the offending part in backquotes.
///
/// The Rust `regex` crate reads RE2 syntax with extensions (class set
/// operations, `(?x)`, `\<`, `{` rules), so it would accept patterns
/// cloudflared refuses; it is used here for what it agrees on, the Unicode
/// script tables.
pub fn regexp_check(pattern: &str) -> Result<(), String> {
    Re2Parser::default().parse(pattern)
}

fn re_err(code: &str, expr: &str) -> String {
    format!("error parsing regexp: {code}: `{expr}`")
}

const INVALID_REPEAT_OP: &str = "invalid nested repetition operator";
const MISSING_REPEAT_ARG: &str = "missing argument to repetition operator";
const INVALID_REPEAT_SIZE: &str = "invalid repeat count";
const INVALID_CHAR_RANGE: &str = "invalid character class range";
const INVALID_ESCAPE: &str = "invalid escape sequence";
const INVALID_PERL_OP: &str = "invalid or unsupported Perl syntax";
const INVALID_NAMED_CAPTURE: &str = "invalid named capture";
const MISSING_BRACKET: &str = "missing closing ]";
const MISSING_PAREN: &str = "missing closing )";
const UNEXPECTED_PAREN: &str = "unexpected )";
const TRAILING_BACKSLASH: &str = "trailing backslash at end of expression";
const NESTING_DEPTH: &str = "expression nests too deeply";

/// `maxHeight` of parse.go.
const MAX_NESTING: usize = 1000;

/// Go's `unicode.Categories` keys.
const GO_CATEGORIES: [&str; 36] = [
    "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N",
    "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So",
    "Z", "Zl", "Zp", "Zs",
];

/// One parse-stack frame: a group (or the whole pattern) being read.
#[derive(Debug, Default)]
struct Frame {
    /// The largest nested-repeat product of the alternatives closed so far.
    alternatives: u64,
    /// The weights of the operands of the current concatenation (the product
    /// of the counted repetitions along the deepest path inside each).
    concat: Vec<u64>,
    /// The `(?flags)` in force when the group opened, restored at `)`.
    fold_case: bool,
}

#[derive(Debug, Default)]
struct Re2Parser {
    frames: Vec<Frame>,
    fold_case: bool,
}

impl Re2Parser {
    fn top(&mut self) -> &mut Frame {
        if self.frames.is_empty() {
            self.frames.push(Frame::default());
        }
        let last = self.frames.len() - 1;
        &mut self.frames[last]
    }

    fn operand(&mut self) {
        self.top().concat.push(1);
    }

    fn parse(mut self, whole: &str) -> Result<(), String> {
        self.frames.push(Frame::default());
        let mut t = whole;
        let mut last_repeat: &str = "";
        while !t.is_empty() {
            let mut repeat: &str = "";
            let first = t.as_bytes()[0];
            match first {
                b'(' => {
                    if t.len() >= 2 && t.as_bytes()[1] == b'?' {
                        t = self.perl_flags(t)?;
                    } else {
                        self.open_group();
                        t = &t[1..];
                    }
                    if self.frames.len() > MAX_NESTING {
                        return Err(re_err(NESTING_DEPTH, whole));
                    }
                }
                b'|' => {
                    let frame = self.top();
                    let concat = frame.concat.iter().copied().max().unwrap_or(1);
                    frame.alternatives = frame.alternatives.max(concat);
                    frame.concat.clear();
                    t = &t[1..];
                }
                b')' => {
                    if self.frames.len() < 2 {
                        return Err(re_err(UNEXPECTED_PAREN, whole));
                    }
                    let frame = self.frames.pop().unwrap_or_default();
                    let weight = frame
                        .alternatives
                        .max(frame.concat.iter().copied().max().unwrap_or(1));
                    self.fold_case = frame.fold_case;
                    self.top().concat.push(weight);
                    t = &t[1..];
                }
                b'^' | b'$' | b'.' => {
                    self.operand();
                    t = &t[1..];
                }
                b'[' => {
                    t = parse_class(t)?;
                    self.operand();
                }
                b'*' | b'+' | b'?' => {
                    let before = t;
                    let after = self.repeat(None, before, &t[1..], last_repeat)?;
                    repeat = before;
                    t = after;
                }
                b'{' => {
                    let before = t;
                    match parse_repeat(t) {
                        None => {
                            self.operand();
                            t = &t[1..];
                        }
                        Some((min, max, after)) => {
                            let taken = &before[..before.len() - after.len()];
                            if !(0..=1000).contains(&min) || max > 1000 || (max >= 0 && min > max) {
                                return Err(re_err(INVALID_REPEAT_SIZE, taken));
                            }
                            let after =
                                self.repeat(Some((min, max)), before, after, last_repeat)?;
                            repeat = before;
                            t = after;
                        }
                    }
                }
                b'\\' => {
                    t = self.escape(t)?;
                }
                _ => {
                    let c = t.chars().next().unwrap_or('\0');
                    t = &t[c.len_utf8()..];
                    self.operand();
                }
            }
            last_repeat = repeat;
        }
        if self.frames.len() != 1 {
            return Err(re_err(MISSING_PAREN, whole));
        }
        Ok(())
    }

    fn open_group(&mut self) {
        let fold_case = self.fold_case;
        self.frames.push(Frame {
            fold_case,
            ..Frame::default()
        });
    }

    /// `parser.repeat`: `*`, `+`, `?` (counts `None`) or `{min,max}`.
    fn repeat<'a>(
        &mut self,
        counts: Option<(i64, i64)>,
        before: &'a str,
        after: &'a str,
        last_repeat: &'a str,
    ) -> Result<&'a str, String> {
        let after = after.strip_prefix('?').unwrap_or(after);
        if !last_repeat.is_empty() {
            return Err(re_err(
                INVALID_REPEAT_OP,
                &last_repeat[..last_repeat.len() - after.len()],
            ));
        }
        let taken = &before[..before.len() - after.len()];
        let Some(weight) = self.top().concat.last_mut() else {
            return Err(re_err(MISSING_REPEAT_ARG, taken));
        };
        if let Some((min, max)) = counts {
            // repeatIsValid(re, 1000): the counts along any path multiply to at
            // most 1000; a `{0}` ends the path.
            let m = if max < 0 { min } else { max } as u64;
            let product = if m == 0 { 1 } else { m.saturating_mul(*weight) };
            if (min >= 2 || max >= 2) && product > 1000 {
                return Err(re_err(INVALID_REPEAT_SIZE, taken));
            }
            *weight = product;
        }
        Ok(after)
    }

    /// `parsePerlFlags`: named captures, non-capturing groups and flags.
    fn perl_flags<'a>(&mut self, s: &'a str) -> Result<&'a str, String> {
        let b = s.as_bytes();
        let starts_with_p = s.len() > 4 && b[2] == b'P' && b[3] == b'<';
        let starts_with_name = s.len() > 3 && b[2] == b'<';
        if starts_with_p || starts_with_name {
            let name_start = if starts_with_p { 4 } else { 3 };
            let Some(end) = s.find('>') else {
                return Err(re_err(INVALID_NAMED_CAPTURE, s));
            };
            let name = &s[name_start..end];
            if name.is_empty() || !name.bytes().all(|c| c == b'_' || c.is_ascii_alphanumeric()) {
                return Err(re_err(INVALID_NAMED_CAPTURE, &s[..end + 1]));
            }
            self.open_group();
            return Ok(&s[end + 1..]);
        }
        let mut t = &s[2..];
        let mut fold_case = self.fold_case;
        let mut negative = false;
        let mut saw_flag = false;
        while let Some(c) = t.chars().next() {
            t = &t[c.len_utf8()..];
            match c {
                'i' => {
                    fold_case = !negative;
                    saw_flag = true;
                }
                'm' | 's' | 'U' => saw_flag = true,
                '-' => {
                    if negative {
                        break;
                    }
                    negative = true;
                    saw_flag = false;
                }
                ':' | ')' => {
                    if negative && !saw_flag {
                        break;
                    }
                    if c == ':' {
                        self.open_group();
                    }
                    self.fold_case = fold_case;
                    return Ok(t);
                }
                _ => break,
            }
        }
        Err(re_err(INVALID_PERL_OP, &s[..s.len() - t.len()]))
    }

    /// A `\` outside a class: assertions, `\Q…\E`, Unicode and Perl classes,
    /// or a single escaped character.
    fn escape<'a>(&mut self, t: &'a str) -> Result<&'a str, String> {
        if t.len() >= 2 {
            match t.as_bytes()[1] {
                b'A' | b'b' | b'B' | b'z' => {
                    self.operand();
                    return Ok(&t[2..]);
                }
                b'C' => return Err(re_err(INVALID_ESCAPE, &t[..2])),
                b'Q' => {
                    let rest = &t[2..];
                    let (literal, after) = rest.split_once("\\E").unwrap_or((rest, ""));
                    for _ in literal.chars() {
                        self.operand();
                    }
                    return Ok(after);
                }
                _ => {}
            }
        }
        if let Some(rest) = unicode_class(t)? {
            self.operand();
            return Ok(rest);
        }
        if let Some(rest) = perl_class(t) {
            self.operand();
            return Ok(rest);
        }
        let (_, rest) = parse_escape(t)?;
        self.operand();
        Ok(rest)
    }
}

/// `parseRepeat` and `parseInt`: `{n}`, `{n,}`, `{n,m}` without leading zeros;
/// `None` when `s` is not one (then `{` is a literal). Numbers past 1e8 are -1.
fn parse_repeat(s: &str) -> Option<(i64, i64, &str)> {
    let s = s.strip_prefix('{')?;
    let (min, s) = parse_int(s)?;
    let (max, s) = if let Some(rest) = s.strip_prefix(',') {
        if rest.starts_with('}') {
            (-1, rest)
        } else {
            let (max, rest) = parse_int(rest)?;
            (max, rest)
        }
    } else {
        (min, s)
    };
    let rest = s.strip_prefix('}')?;
    let min = if max == -2 { -1 } else { min };
    Some((min, if max == -2 { -1 } else { max }, rest))
}

fn parse_int(s: &str) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    if b.first().is_none_or(|c| !c.is_ascii_digit()) {
        return None;
    }
    if b.len() >= 2 && b[0] == b'0' && b[1].is_ascii_digit() {
        return None;
    }
    let len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut n: i64 = 0;
    for c in &b[..len] {
        if n >= 100_000_000 {
            // Too big: parseRepeat reports it through min = -1 (or max < 0).
            n = -2;
            break;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some((n, &s[len..]))
}

/// `parseEscape`: one escaped character; returns it and the rest.
fn parse_escape(s: &str) -> Result<(char, &str), String> {
    let t = &s[1..];
    let Some(c) = t.chars().next() else {
        return Err(re_err(TRAILING_BACKSLASH, ""));
    };
    let mut t = &t[c.len_utf8()..];
    let invalid = |rest: &str| Err(re_err(INVALID_ESCAPE, &s[..s.len() - rest.len()]));
    match c {
        '1'..='7' if !t.starts_with(|d: char| ('0'..='7').contains(&d)) => invalid(t),
        '0'..='7' => {
            let mut value = c as u32 - '0' as u32;
            for _ in 1..3 {
                match t.chars().next() {
                    Some(d @ '0'..='7') => {
                        value = value * 8 + (d as u32 - '0' as u32);
                        t = &t[1..];
                    }
                    _ => break,
                }
            }
            Ok((char::from_u32(value).unwrap_or('\0'), t))
        }
        'x' => {
            let Some(c) = t.chars().next() else {
                return invalid(t);
            };
            t = &t[c.len_utf8()..];
            if c == '{' {
                let mut value: u32 = 0;
                let mut digits = 0;
                loop {
                    let Some(c) = t.chars().next() else {
                        return invalid(t);
                    };
                    t = &t[c.len_utf8()..];
                    if c == '}' {
                        break;
                    }
                    let Some(v) = c.to_digit(16) else {
                        return invalid(t);
                    };
                    value = value * 16 + v;
                    if value > 0x10FFFF {
                        return invalid(t);
                    }
                    digits += 1;
                }
                if digits == 0 {
                    return invalid(t);
                }
                return Ok((char::from_u32(value).unwrap_or('\u{FFFD}'), t));
            }
            let Some(c2) = t.chars().next() else {
                return invalid(t);
            };
            t = &t[c2.len_utf8()..];
            match (c.to_digit(16), c2.to_digit(16)) {
                (Some(x), Some(y)) => Ok((char::from_u32(x * 16 + y).unwrap_or('\0'), t)),
                _ => invalid(t),
            }
        }
        'a' => Ok(('\u{7}', t)),
        'f' => Ok(('\u{c}', t)),
        'n' => Ok(('\n', t)),
        'r' => Ok(('\r', t)),
        't' => Ok(('\t', t)),
        'v' => Ok(('\u{b}', t)),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok((c, t)),
        _ => invalid(t),
    }
}

/// `parsePerlClassEscape`: `\d \D \s \S \w \W`.
fn perl_class(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    (b.len() >= 2 && b[0] == b'\\' && b"dDsSwW".contains(&b[1])).then(|| &s[2..])
}

/// Whether Go's `unicodeTable` knows the name: `Any`, a general category, or a
/// script (Go 1.22's Unicode 15.0 names, spelled exactly).
fn unicode_table(name: &str) -> bool {
    if name == "Any" || GO_CATEGORIES.contains(&name) {
        return true;
    }
    // Script names are Title_Case words; the regex crate's Unicode tables know
    // the same scripts (it matches names loosely, so the spelling is checked here).
    let title_case = !name.is_empty()
        && name.split('_').all(|w| {
            w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && w.chars().all(|c| c.is_ascii_alphanumeric())
        });
    title_case && regex::Regex::new(&format!(r"\p{{Script={name}}}")).is_ok()
}

/// `parseUnicodeClass`: `\pL`, `\p{Greek}`, `\P{^Han}`; `Ok(None)` when `s`
/// does not start one.
fn unicode_class(s: &str) -> Result<Option<&str>, String> {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b'\\' || (b[1] != b'p' && b[1] != b'P') {
        return Ok(None);
    }
    let t = &s[2..];
    let Some(c) = t.chars().next() else {
        // nextRune of "" in Go yields an error rune only for invalid UTF-8; an
        // empty rest reads as a one-letter name that is not a table.
        return Err(re_err(INVALID_CHAR_RANGE, s));
    };
    let (seq, mut name, rest) = if c != '{' {
        let len = 2 + c.len_utf8();
        (&s[..len], &s[2..len], &s[len..])
    } else {
        let Some(end) = s.find('}') else {
            return Err(re_err(INVALID_CHAR_RANGE, s));
        };
        (&s[..end + 1], &s[3..end], &s[end + 1..])
    };
    if let Some(stripped) = name.strip_prefix('^') {
        name = stripped;
    }
    if !unicode_table(name) {
        return Err(re_err(INVALID_CHAR_RANGE, seq));
    }
    Ok(Some(rest))
}

/// POSIX class names of `posixGroup`, each also with `^`.
const POSIX_CLASSES: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// `parseClass`: a bracketed class at the start of `s`; returns the rest.
fn parse_class(s: &str) -> Result<&str, String> {
    let mut t = &s[1..];
    if t.starts_with('^') {
        t = &t[1..];
    }
    let mut first = true;
    while t.is_empty() || !t.starts_with(']') || first {
        first = false;
        if t.len() > 2 && t.starts_with("[:") {
            if let Some(i) = t[2..].find(":]") {
                let name = &t[..i + 4];
                let inner = &t[2..i + 2];
                let bare = inner.strip_prefix('^').unwrap_or(inner);
                if !POSIX_CLASSES.contains(&bare) {
                    return Err(re_err(INVALID_CHAR_RANGE, name));
                }
                t = &t[i + 4..];
                continue;
            }
        }
        if let Some(rest) = unicode_class(t)? {
            t = rest;
            continue;
        }
        if let Some(rest) = perl_class(t) {
            t = rest;
            continue;
        }
        let range_start = t;
        let (lo, rest) = class_char(t, s)?;
        t = rest;
        if t.len() >= 2 && t.starts_with('-') && !t[1..].starts_with(']') {
            let (hi, rest) = class_char(&t[1..], s)?;
            t = rest;
            if hi < lo {
                return Err(re_err(
                    INVALID_CHAR_RANGE,
                    &range_start[..range_start.len() - t.len()],
                ));
            }
        }
    }
    Ok(&t[1..])
}

/// `parseClassChar`.
fn class_char<'a>(s: &'a str, whole_class: &str) -> Result<(char, &'a str), String> {
    let Some(c) = s.chars().next() else {
        return Err(re_err(MISSING_BRACKET, whole_class));
    };
    if c == '\\' {
        return parse_escape(s);
    }
    Ok((c, &s[c.len_utf8()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checked against Go 1.19 `net/url.Parse` (the rules are unchanged since).
    #[test]
    fn url_parse_follows_go() {
        let u = url_parse("https://localhost:8000").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.hostname(), u.port(), u.path.as_str()),
            ("https", "localhost", "8000", "")
        );
        assert_eq!(url_parse("http://localhost:8000/").unwrap().path, "/");
        assert_eq!(url_parse("http://localhost:8000?x=1").unwrap().path, "");
        assert_eq!(url_parse("http://[::1]:80").unwrap().hostname(), "::1");
        let opaque = url_parse("localhost:8000").unwrap();
        assert_eq!(
            (
                opaque.scheme.as_str(),
                opaque.hostname(),
                opaque.opaque.as_str()
            ),
            ("localhost", "", "8000")
        );
        assert_eq!(
            url_parse("https://local host:8000").unwrap_err(),
            r#"parse "https://local host:8000": invalid character " " in host name"#
        );
        assert_eq!(
            url_parse("http://nginx:80a").unwrap_err(),
            r#"parse "http://nginx:80a": invalid port ":80a" after host"#
        );
        assert_eq!(
            url_parse(":80").unwrap_err(),
            r#"parse ":80": missing protocol scheme"#
        );
        assert_eq!(
            url_parse("http://a/%zz").unwrap_err(),
            r#"parse "http://a/%zz": invalid URL escape "%zz""#
        );
        assert_eq!(url_parse("HTTP://Nginx").unwrap().scheme, "http");
        assert_eq!(url_parse("nginx").unwrap().path, "nginx");
        assert_eq!(
            url_parse("tcp://127.0.0.1").unwrap().hostname(),
            "127.0.0.1"
        );
    }

    #[test]
    fn split_host_port_follows_go() {
        assert_eq!(
            split_host_port("example.com:443"),
            Ok(("example.com", "443"))
        );
        assert_eq!(split_host_port("example.com:"), Ok(("example.com", "")));
        assert!(split_host_port("example.com").is_err());
        assert!(split_host_port("a:b:c").is_err());
        assert_eq!(split_host_port("[::1]:80"), Ok(("::1", "80")));
        assert_eq!(
            split_host_port("https://a.example.com"),
            Ok(("https", "//a.example.com"))
        );
    }

    #[test]
    fn durations_follow_go() {
        assert_eq!(parse_duration("30s"), Ok(30_000_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("300ms"), Ok(300_000_000));
        assert_eq!(
            parse_duration("30").unwrap_err(),
            r#"time: missing unit in duration "30""#
        );
        assert_eq!(
            parse_duration("30 s").unwrap_err(),
            r#"time: unknown unit " s" in duration "30 s""#
        );
        assert_eq!(
            parse_duration("").unwrap_err(),
            r#"time: invalid duration """#
        );
        assert_eq!(
            parse_duration("1d").unwrap_err(),
            r#"time: unknown unit "d" in duration "1d""#
        );
        assert!(parse_duration("9999999999999h").is_err());
    }

    #[test]
    fn uuids_follow_google_uuid() {
        let id = "6ff42ae2-765d-4adf-8db7-aa8b61168b6a";
        assert_eq!(uuid_parse(id).unwrap(), id);
        assert_eq!(uuid_parse("6FF42AE2765D4ADF8DB7AA8B61168B6A").unwrap(), id);
        assert_eq!(uuid_parse(&format!("{{{id}}}")).unwrap(), id);
        assert_eq!(uuid_parse(&format!("URN:uuid:{id}")).unwrap(), id);
        assert_eq!(
            uuid_parse("my-tunnel").unwrap_err(),
            "invalid UUID length: 9"
        );
        assert_eq!(
            uuid_parse("6ff42ae2-765d-4adf-8db7-aa8b61168b6z").unwrap_err(),
            "invalid UUID format"
        );
    }

    #[test]
    fn atoi_and_cidr_follow_go() {
        assert_eq!(atoi("404"), Ok(404));
        assert_eq!(atoi("+404"), Ok(404));
        assert_eq!(
            atoi("asdf").unwrap_err(),
            r#"strconv.Atoi: parsing "asdf": invalid syntax"#
        );
        assert!(atoi(" 404").is_err());
        assert!(parse_cidr("1.1.1.0/24").is_ok());
        assert!(parse_cidr("fc00::/7").is_ok());
        assert!(parse_cidr("1.1.1.0/33").is_err());
        assert!(parse_cidr("1.1.1.0").is_err());
        assert!(parse_cidr("01.1.1.0/24").is_err());
    }

    /// Each pattern with Go's verdict and error (Go 1.19 `regexp.Compile`; Go
    /// 1.22 added `(?<name>…)`, accepted here as cloudflared's toolchain does).
    #[test]
    fn regexps_follow_re2() {
        for ok in [
            "/subpath1/(.*)/subpath2",
            "/api/{id}",
            "^/status$",
            "/a{2}",
            "/a{,2}",
            "[]a]",
            "[a-]",
            "[[]",
            "[a&&b]",
            "[a~~b]",
            "(?i)/API",
            "(?P<x>a)",
            "(?<x>a)",
            "\\/x",
            "a{1000}",
            "^*",
            "a*?",
            "[[:alpha:]]",
            "x{",
            "\\pL",
            "\\p{Greek}",
            "\\x{41}",
            "\\Q*\\E",
            "(?)",
            "[\\d-z]",
            "\\0",
            "\\123",
            "a{001}",
            "(a{10}){100}",
            "",
        ] {
            assert_eq!(regexp_check(ok), Ok(()), "{ok}");
        }
        for (bad, err) in [
            ("*/subpath2", "missing argument to repetition operator: `*`"),
            ("a**", "invalid nested repetition operator: `**`"),
            ("a{2}*", "invalid nested repetition operator: `{2}*`"),
            ("a{1001}", "invalid repeat count: `{1001}`"),
            ("(a{10}){101}", "invalid repeat count: `{101}`"),
            ("(?x)a", "invalid or unsupported Perl syntax: `(?x`"),
            ("(?=a)", "invalid or unsupported Perl syntax: `(?=`"),
            ("(a", "missing closing ): `(a`"),
            ("a)", "unexpected ): `a)`"),
            ("[a", "missing closing ]: `[a`"),
            ("[z-a]", "invalid character class range: `z-a`"),
            ("[a--b]", "invalid character class range: `a--`"),
            ("\\Z", "invalid escape sequence: `\\Z`"),
            ("\\8", "invalid escape sequence: `\\8`"),
            ("\\p{Foo}", "invalid character class range: `\\p{Foo}`"),
            ("[[:foo:]]", "invalid character class range: `[:foo:]`"),
        ] {
            assert_eq!(
                regexp_check(bad),
                Err(format!("error parsing regexp: {err}")),
                "{bad}"
            );
        }
    }
}
