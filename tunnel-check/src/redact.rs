//! The one place secrets are masked. Every byte this tool writes, records and
//! human messages alike (clap's errors included), goes through a [`RedactingWriter`],
//! and the `redact` mode is the same [`LineRedactor`] applied to stdin.
//!
//! Three nets, because any one of them alone misses something:
//! 1. literals: secrets the run has learnt (the tunnel secret it read from a
//!    credentials file, a token from the environment), masked wherever they appear;
//! 2. shapes: a run of base64 that starts with `eyJ` (base64 of `{"`) and is long
//!    enough to be a tunnel token or a JWT;
//! 3. context: the value after `--token`, after a key ending in `token` or
//!    `secret` (`TUNNEL_TOKEN=`, `"TunnelSecret": "…"`, `token: …`), and the `"s"`
//!    member of a decoded token, whatever the value looks like.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::{Arc, PoisonError, RwLock};

/// What a masked token is replaced with.
pub const MASK_TOKEN: &str = "[REDACTED:token]";
/// What any other masked secret is replaced with.
pub const MASK_SECRET: &str = "[REDACTED:secret]";

/// Shorter literals are not registered: masking a two-letter "secret" everywhere
/// would shred the output, and nothing that short is a real tunnel secret.
const MIN_LITERAL_LEN: usize = 12;

/// Base64 runs starting with `eyJ` at least this long are masked as tokens. A real
/// tunnel token is about 180 characters; 40 still catches truncated ones.
const MIN_TOKEN_RUN: usize = 40;

/// A secret value held in memory. Its `Debug` never shows the value, so a stray
/// `{:?}` or a panic message that formats it cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the code that has to inspect it (shape checks, hashing).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// The set of secrets a run has learnt. Cloning shares the set, so a secret learnt
/// by a check is masked at once by the writers created earlier.
#[derive(Clone, Default)]
pub struct Redactor {
    literals: Arc<RwLock<Vec<String>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor")
    }
}

impl Redactor {
    /// Registers a secret to be masked wherever it appears, also in its JSON-escaped
    /// form (records are JSON).
    pub fn learn(&self, secret: &str) {
        let secret = secret.trim();
        if secret.chars().count() < MIN_LITERAL_LEN {
            return;
        }
        if let Some(inner) = crate::token::secret_part(secret) {
            self.learn(&inner);
        }
        let mut literals = self
            .literals
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped.trim_matches('"').to_owned();
        for form in [secret.to_owned(), escaped] {
            if !form.is_empty() && !literals.contains(&form) {
                literals.push(form);
            }
        }
        // Longest first, so a secret that contains another is masked whole.
        literals.sort_by_key(|l| std::cmp::Reverse(l.len()));
    }

    /// Registers the value of each named environment variable, when set.
    pub fn learn_env(&self, names: &[&str]) {
        for name in names {
            if let Some(value) = std::env::var_os(name) {
                self.learn(&value.to_string_lossy());
            }
        }
    }

    /// A line redactor sharing this set of literals.
    pub fn line_redactor(&self) -> LineRedactor {
        LineRedactor {
            redactor: self.clone(),
            pending_token: false,
        }
    }

    fn mask_literals<'a>(&self, line: Cow<'a, str>) -> Cow<'a, str> {
        let literals = self.literals.read().unwrap_or_else(PoisonError::into_inner);
        let mut line = line;
        for literal in literals.iter() {
            if line.contains(literal.as_str()) {
                line = Cow::Owned(line.replace(literal.as_str(), MASK_SECRET));
            }
        }
        line
    }
}

/// Redacts a stream line by line. It carries one bit of state between lines: a
/// line that ends in `--token` (a YAML list `- --token`) means the next line's
/// value is the token.
#[derive(Debug)]
pub struct LineRedactor {
    redactor: Redactor,
    pending_token: bool,
}

impl LineRedactor {
    /// Masks every secret in one line (without its line ending).
    pub fn redact<'a>(&mut self, line: &'a str) -> Cow<'a, str> {
        let mut out = self.redactor.mask_literals(Cow::Borrowed(line));
        if self.pending_token {
            self.pending_token = false;
            if let Some(masked) = mask_leading_value(&out) {
                out = Cow::Owned(masked);
            }
        }
        if let Some(masked) = mask_token_runs(&out) {
            out = Cow::Owned(masked);
        }
        if let Some(masked) = mask_after_keys(&out) {
            out = Cow::Owned(masked);
        }
        if ends_with_token_flag(&out) {
            self.pending_token = true;
        }
        out
    }
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-')
}

/// Masks every base64 run that starts with `eyJ` and is token-long.
fn mask_token_runs(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    if !line.contains("eyJ") {
        return None;
    }
    let mut out = String::with_capacity(line.len());
    let mut last = 0;
    let mut i = 0;
    let mut changed = false;
    while i < bytes.len() {
        if !is_b64(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_b64(bytes[i]) {
            i += 1;
        }
        while i < bytes.len() && bytes[i] == b'=' {
            i += 1;
        }
        // The token may be glued to other base64 characters (a path `dir/eyJ…`), so
        // it starts at the run's first `eyJ`, not at the run's start.
        let Some(offset) = line[start..i].find("eyJ") else {
            continue;
        };
        let start = start + offset;
        if i - start >= MIN_TOKEN_RUN {
            out.push_str(&line[last..start]);
            out.push_str(MASK_TOKEN);
            last = i;
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&line[last..]);
    Some(out)
}

/// Where a value starting at `start` ends, and whether it was quoted (the quotes
/// stay in place, only the value between them is masked).
fn value_span(line: &str, start: usize) -> Option<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut i = start;
    // An escaped quote opens the values of JSON embedded in JSON (`\"s\":\"…\"`).
    let (quote, escaped) = if line[i..].starts_with("\\\"") {
        i += 2;
        (Some(b'"'), true)
    } else if matches!(bytes.get(i), Some(b'"') | Some(b'\'')) {
        i += 1;
        (Some(bytes[start]), false)
    } else {
        (None, false)
    };
    let value_start = i;
    match quote {
        Some(q) => {
            while i < bytes.len() {
                if escaped && line[i..].starts_with("\\\"") {
                    break;
                }
                if !escaped && bytes[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if !escaped && bytes[i] == q {
                    break;
                }
                i += 1;
            }
        }
        None => {
            while i < bytes.len()
                && !bytes[i].is_ascii_whitespace()
                && !matches!(bytes[i], b'"' | b'\'' | b',' | b'}' | b']' | b'\\')
            {
                i += 1;
            }
        }
    }
    let end = i.min(bytes.len());
    if end <= value_start {
        return None;
    }
    let value = &line[value_start..end];
    // A placeholder is not a secret, and keeping it makes a redacted compose file
    // still say where the token would come from.
    if value.starts_with('$') || value.starts_with("[REDACTED") || value == "null" {
        return None;
    }
    Some((value_start, end))
}

/// Masks the first value on a line (after a YAML list dash or quotes).
fn mask_leading_value(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let mut start = line.len() - trimmed.len();
    if trimmed.starts_with("- ") {
        start += 2;
        start += line[start..].len() - line[start..].trim_start().len();
    }
    let (a, b) = value_span(line, start)?;
    Some(format!("{}{}{}", &line[..a], MASK_TOKEN, &line[b..]))
}

/// Whether the line's last word is the `--token` flag, its value on the next line.
fn ends_with_token_flag(line: &str) -> bool {
    let trimmed = line.trim_end().trim_end_matches([',', '"', '\'']);
    trimmed.ends_with("--token") && !trimmed.ends_with("---token")
}

/// Names after which a value is secret. Matched case-insensitively at the end of
/// a key, so `TUNNEL_TOKEN`, `CLOUDFLARE_TUNNEL_TOKEN`, `token` and `TunnelSecret`
/// match and `TUNNEL_TOKEN_FILE` does not.
const SECRET_KEY_ENDINGS: [&str; 2] = ["token", "secret"];

/// Masks the values that follow secret keys and the `--token` flag.
fn mask_after_keys(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    let has_decoded_token =
        lower.contains("\"s\"") && lower.contains("\"t\"") && lower.contains("\"a\"");
    if !SECRET_KEY_ENDINGS.iter().any(|k| lower.contains(k)) && !has_decoded_token {
        return None;
    }
    let bytes = line.as_bytes();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for ending in SECRET_KEY_ENDINGS {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(ending) {
            let key_end = from + pos + ending.len();
            from = key_end;
            // The key must end here: `tokens`, `token_file`, `tokenizer` are not secrets.
            if bytes
                .get(key_end)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                continue;
            }
            let key_start = key_end - ending.len();
            let ident_start = line[..key_start]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .map_or(0, |p| p + 1);
            // `${CLOUDFLARE_TUNNEL_TOKEN:?missing}` names a variable; it holds no value.
            if line[..ident_start].ends_with('{') || line[..ident_start].ends_with('$') {
                continue;
            }
            let flag = ending == "token" && line[..key_start].ends_with("--");
            if let Some(value_start) = after_separator(line, key_end, flag) {
                if let Some(span) = value_span(line, value_start) {
                    spans.push(span);
                }
            }
        }
    }
    if has_decoded_token {
        let mut from = 0;
        while let Some(pos) = line[from..].find("\"s\"") {
            let key_end = from + pos + 3;
            from = key_end;
            if let Some(value_start) = after_separator(line, key_end, false) {
                if let Some(span) = value_span(line, value_start) {
                    spans.push(span);
                }
            }
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(line.len());
    let mut last = 0;
    for (a, b) in spans {
        if a < last {
            continue;
        }
        out.push_str(&line[last..a]);
        out.push_str(MASK_SECRET);
        last = b;
    }
    out.push_str(&line[last..]);
    Some(out)
}

/// The start of the value after a key that ends at `key_end`: past a closing quote
/// (plain or escaped), spaces, and a `=` or `:` separator. A command-line flag also
/// takes its value after a space or an argument boundary (`"--token", "…"`).
fn after_separator(line: &str, key_end: usize, flag: bool) -> Option<usize> {
    let rest = &line[key_end..];
    let mut i = 0;
    let skip_quote = |i: &mut usize| {
        if rest[*i..].starts_with("\\\"") {
            *i += 2;
        } else if rest[*i..].starts_with('"') || rest[*i..].starts_with('\'') {
            *i += 1;
        }
    };
    skip_quote(&mut i);
    let spaces = |i: &mut usize| {
        while rest
            .as_bytes()
            .get(*i)
            .is_some_and(|b| *b == b' ' || *b == b'\t')
        {
            *i += 1;
        }
    };
    spaces(&mut i);
    match rest.as_bytes().get(i) {
        Some(b'=') | Some(b':') => {
            i += 1;
            spaces(&mut i);
        }
        Some(b',') if flag => {
            i += 1;
            spaces(&mut i);
        }
        Some(_) if flag && i > 0 => {}
        _ => return None,
    }
    if i >= rest.len() {
        return None;
    }
    Some(key_end + i)
}

/// A writer that masks secrets line by line before they reach the wrapped writer.
/// Output is held back until its line is complete; [`RedactingWriter::finish`]
/// writes (masked) whatever is left.
pub struct RedactingWriter<'a> {
    inner: &'a mut dyn Write,
    lines: LineRedactor,
    buf: Vec<u8>,
}

impl<'a> RedactingWriter<'a> {
    pub fn new(inner: &'a mut dyn Write, redactor: &Redactor) -> RedactingWriter<'a> {
        RedactingWriter {
            inner,
            lines: redactor.line_redactor(),
            buf: Vec::new(),
        }
    }

    fn write_line(&mut self, line: &[u8], newline: bool) -> io::Result<()> {
        let text = String::from_utf8_lossy(line);
        let masked = self.lines.redact(&text);
        self.inner.write_all(masked.as_bytes())?;
        if newline {
            self.inner.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The wrapped writer, for the `redact` filter only: its output is already masked.
    pub fn inner(&mut self) -> &mut dyn Write {
        &mut *self.inner
    }

    /// Writes the unfinished last line, masked, and flushes.
    pub fn finish(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            self.write_line(&rest, false)?;
        }
        self.inner.flush()
    }
}

impl Write for RedactingWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            let line = line.strip_suffix(b"\n").unwrap_or(&line);
            let line = line.strip_suffix(b"\r").unwrap_or(line).to_vec();
            self.write_line(&line, true)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Only complete lines are ever passed on: half a token is still a token.
        self.inner.flush()
    }
}

/// The `redact` mode: copies `input` to `output` line by line with every secret
/// masked. Returns the number of lines that had something masked.
pub fn filter(
    input: &mut dyn io::BufRead,
    output: &mut dyn Write,
    redactor: &Redactor,
) -> io::Result<u64> {
    let mut lines = redactor.line_redactor();
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut masked_lines = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let (body, ending): (&[u8], &[u8]) = if buf.ends_with(b"\r\n") {
            (&buf[..buf.len() - 2], b"\r\n")
        } else if buf.ends_with(b"\n") {
            (&buf[..buf.len() - 1], b"\n")
        } else {
            (&buf[..], b"")
        };
        let text = String::from_utf8_lossy(body);
        let masked = lines.redact(&text);
        if let Cow::Owned(_) = masked {
            if masked != text {
                masked_lines += 1;
            }
        }
        output.write_all(masked.as_bytes())?;
        output.write_all(ending)?;
    }
    output.flush()?;
    Ok(masked_lines)
}

/// Runs `f` and turns a panic on this thread into an error message instead of the
/// default hook's print, which would show the panic's text unmasked (and a
/// backtrace). The caller writes the message through its [`RedactingWriter`].
/// Panics on other threads still reach the hook that was installed before.
pub fn contain_panics<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync>;
    let ours = std::thread::current().id();
    let previous: Arc<Hook> = Arc::new(std::panic::take_hook());
    let place: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let (chained, seen) = (previous.clone(), place.clone());
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ours {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()));
            *seen.lock().unwrap_or_else(PoisonError::into_inner) = at;
        } else {
            chained(info);
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(Box::new(move |info| previous(info)));
    result.map_err(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        match place.lock().unwrap_or_else(PoisonError::into_inner).take() {
            Some(at) => format!("internal error: {text} (at {at})"),
            None => format!("internal error: {text}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJhIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYiLCJ0IjoiNmZmNDJhZTItNzY1ZC00YWRmLThkYjctYWE4YjYxMTY4YjZhIiwicyI6IlpHRjVNaTFtWVd0bExYTmxZM0psZEMxdWIzUXRjbVZoYkMwd01EQXdNREF3TURBPSJ9";

    fn redact(line: &str) -> String {
        Redactor::default()
            .line_redactor()
            .redact(line)
            .into_owned()
    }

    #[test]
    fn masks_tokens_by_shape_and_context() {
        for line in [
            format!("command: tunnel run --token {TOKEN}"),
            format!("TUNNEL_TOKEN={TOKEN}"),
            format!("{{\"command\":[\"tunnel\",\"run\",\"--token\",\"{TOKEN}\"]}}"),
        ] {
            let out = redact(&line);
            assert!(!out.contains(&TOKEN[..30]), "{out}");
            assert!(out.contains("[REDACTED"), "{out}");
        }
    }

    #[test]
    fn masks_malformed_values_by_context() {
        assert_eq!(
            redact("--token=notbase64butsecret"),
            "--token=[REDACTED:secret]"
        );
        assert_eq!(
            redact("--token hunter2hunter2"),
            "--token [REDACTED:secret]"
        );
        assert_eq!(
            redact("{\"AccountTag\":\"abc\",\"TunnelSecret\":\"c2VjcmV0\"}"),
            "{\"AccountTag\":\"abc\",\"TunnelSecret\":\"[REDACTED:secret]\"}"
        );
        assert_eq!(
            redact("TunnelSecret: c2VjcmV0"),
            "TunnelSecret: [REDACTED:secret]"
        );
        assert_eq!(
            redact("{\"a\":\"acct\",\"t\":\"tid\",\"s\":\"c2VjcmV0\"}"),
            "{\"a\":\"acct\",\"t\":\"tid\",\"s\":\"[REDACTED:secret]\"}"
        );
    }

    #[test]
    fn keeps_what_is_not_secret() {
        for line in [
            "TUNNEL_TOKEN_FILE=/run/secrets/tunnel",
            "command: tunnel run --token ${CLOUDFLARE_TUNNEL_TOKEN:?missing}",
            "tokens=4 secretary=bob",
            "INF Registered tunnel connection connIndex=0 location=ams05 protocol=quic",
            "TUNNEL_TOKEN=",
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn a_token_on_the_line_after_the_flag_is_masked() {
        let r = Redactor::default();
        let mut lines = r.line_redactor();
        assert_eq!(lines.redact("      - --token"), "      - --token");
        assert_eq!(
            lines.redact("      - short-but-secret"),
            "      - [REDACTED:token]"
        );
        assert_eq!(lines.redact("      - other"), "      - other");
    }

    #[test]
    fn learnt_literals_are_masked_anywhere() {
        let r = Redactor::default();
        r.learn("plain-secret-value-123");
        r.learn("short");
        let mut lines = r.line_redactor();
        assert_eq!(
            lines.redact("x plain-secret-value-123 y"),
            "x [REDACTED:secret] y"
        );
        assert_eq!(lines.redact("short"), "short");
        assert!(!format!("{:?}", Secret::new("plain-secret-value-123")).contains("plain"));
    }

    #[test]
    fn a_panic_becomes_a_message_that_the_writer_masks() {
        let err = contain_panics(|| -> u8 { panic!("boom with {TOKEN}") }).unwrap_err();
        assert!(err.starts_with("internal error: boom with eyJ"), "{err}");
        assert!(err.contains("src/redact.rs:"), "{err}");
        let mut out = Vec::new();
        {
            let r = Redactor::default();
            let mut w = RedactingWriter::new(&mut out, &r);
            writeln!(w, "tunnel-check: {err}").unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("tunnel-check: internal error: boom with [REDACTED:token]"),
            "{text}"
        );
        assert_eq!(contain_panics(|| 7), Ok(7));
    }

    #[test]
    fn the_writer_masks_whole_lines_only() {
        let mut out = Vec::new();
        {
            let r = Redactor::default();
            let mut w = RedactingWriter::new(&mut out, &r);
            w.write_all(b"a --token ").unwrap();
            w.flush().unwrap();
            w.write_all(TOKEN.as_bytes()).unwrap();
            w.write_all(b"\ntail").unwrap();
            w.finish().unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "a --token [REDACTED:token]\ntail");
    }
}
