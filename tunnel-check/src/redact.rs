//! The one place secrets are masked. Every byte this tool writes, records and
//! human messages alike (clap's errors included), goes through a [`RedactingWriter`],
//! and the `redact` mode is the same [`LineRedactor`] applied to stdin.
//!
//! Nets, because any one of them alone misses something:
//! 1. literals: secrets the run has learnt (the tunnel secret it read from a
//!    credentials file, a token from the environment, the `s` of every token
//!    masked so far), masked wherever they appear;
//! 2. shapes: base64 that starts like a secret: `eyJ` (`{"`, a tunnel token, a
//!    credentials JSON, a JWT), `ewog`/`ew0K` (`{` and a line break: pretty
//!    JSON), `LS0tLS1CRUdJT` (`-----BEGIN`: a whole cert.pem), `ZXlK` (a token
//!    encoded once more); a JWT however short its segments (`eyJ….….…`);
//! 3. context: the value after `--token`, after a key ending in `token` or
//!    `secret` (`TUNNEL_TOKEN=`, `"TunnelSecret": "…"`, `apiToken`, `token: …`),
//!    the `"s"` of a decoded token, the password of a URL (`http://user:pass@host`,
//!    as curl and git hide it);
//! 4. lines that carry on a secret: the body of a PEM block (`-----BEGIN ARGO
//!    TUNNEL TOKEN-----` … `-----END …-----`, any label but certificates and
//!    public keys), base64 folded over lines after a masked run that reached the
//!    end of its line or a shell `\`, a YAML block scalar (`token: |`) or a value
//!    on the line after its key or after `--token` (`- --token` then `- eyJ…`);
//!    also behind a collector's or a quote's prefix repeated on every line
//!    (`line_prefix`), other writers' lines in between.
//!
//! What is not masked: placeholders (`${VAR}`, `<TOKEN>`, `*****`), empty values,
//! and an ordinary word after a flag or `key: ` (clap's "unexpected argument
//! '--token' found" keeps its "found"): a secret is never a short lowercase word.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use aho_corasick::AhoCorasick;

pub use crate::secret::Secret;

/// What a masked token is replaced with.
pub const MASK_TOKEN: &str = "[REDACTED:token]";
/// What any other masked secret is replaced with.
pub const MASK_SECRET: &str = "[REDACTED:secret]";

/// Shorter literals are not registered: masking a two-letter "secret" everywhere
/// would shred the output, and nothing that short is a real tunnel secret.
const MIN_LITERAL_LEN: usize = 12;

/// Base64 runs with a secret's start at least this long are masked. `eyJ` and 13
/// more characters decode to `{"` and 10 bytes of JSON: a truncated token or a
/// small JWT header; a real tunnel token is about 180 characters.
const MIN_TOKEN_RUN: usize = 16;

/// The starts of base64 that decodes to a secret's container (see the module doc).
const SECRET_STARTS: [&str; 5] = ["eyJ", "ewog", "ew0K", "LS0tLS1CRUdJT", "ZXlK"];

/// Kinds of trigger, as bits.
const START: u8 = 1;
const KEY: u8 = 2;
const DECODED: u8 = 4;
const URL: u8 = 8;
const PEM: u8 = 16;

/// Anything in a line that may need more than the literal check, with its kind.
/// Lines without any of these (most log lines) are copied as they are. The key
/// words are matched in their usual spellings (`token`, `Token`, `TOKEN`,
/// `secret`, `Secret`, `SECRET`, inside `apiToken`, `TunnelSecret`…): a
/// case-sensitive automaton is several times faster than a case-insensitive one.
const TRIGGER_PATTERNS: [(&str, u8); 13] = [
    ("eyJ", START),
    ("ewog", START),
    ("ew0K", START),
    ("LS0tLS1CRUdJT", START),
    ("ZXlK", START),
    ("oken", KEY),
    ("OKEN", KEY),
    ("ecret", KEY),
    ("ECRET", KEY),
    ("\"s\"", DECODED),
    ("://", URL),
    ("-----BEGIN ", PEM),
    ("-----END", PEM),
];

/// Leftmost-first semantics let aho-corasick use its SIMD (Teddy) searcher.
fn automaton<P: AsRef<[u8]>>(patterns: impl IntoIterator<Item = P>) -> AhoCorasick {
    AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(patterns)
        .expect("fixed patterns")
}

static TRIGGERS: LazyLock<AhoCorasick> =
    LazyLock::new(|| automaton(TRIGGER_PATTERNS.iter().map(|(p, _)| p)));

static STARTS: LazyLock<AhoCorasick> = LazyLock::new(|| automaton(SECRET_STARTS));

/// The kinds of trigger a line holds (0 for most lines).
fn triggers(line: &str) -> u8 {
    let mut kinds = 0;
    for m in TRIGGERS.find_iter(line) {
        kinds |= TRIGGER_PATTERNS[m.pattern().as_usize()].1;
        if kinds == START | KEY | DECODED | URL | PEM {
            break;
        }
    }
    kinds
}

/// The set of secrets a run has learnt. Cloning shares the set, so a secret learnt
/// by a check is masked at once by the writers created earlier.
#[derive(Clone, Default)]
pub struct Redactor {
    literals: Arc<RwLock<Literals>>,
}

/// The learnt secrets, longest first, and an automaton finding any of them, so a
/// line without one (nearly every line) costs one SIMD scan, however many are known.
#[derive(Default)]
struct Literals {
    list: Vec<String>,
    finder: Option<AhoCorasick>,
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
            if !form.is_empty() && !literals.list.contains(&form) {
                literals.list.push(form);
            }
        }
        // Longest first, so a secret that contains another is masked whole.
        literals.list.sort_by_key(|l| std::cmp::Reverse(l.len()));
        // Without an automaton (it cannot be built) every literal is searched.
        literals.finder = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(&literals.list)
            .ok();
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
            next: Carry::Nothing,
            prefix: String::new(),
            fold: String::new(),
            decoded: std::collections::HashSet::new(),
            learnt: false,
            held: None,
        }
    }

    fn mask_literals<'a>(&self, line: Cow<'a, str>) -> Cow<'a, str> {
        let literals = self.literals.read().unwrap_or_else(PoisonError::into_inner);
        match &literals.finder {
            Some(finder) if !finder.is_match(line.as_ref()) => return line,
            None if literals.list.is_empty() => return line,
            _ => {}
        }
        let mut line = line;
        for literal in literals.list.iter() {
            if line.contains(literal.as_str()) {
                line = Cow::Owned(line.replace(literal.as_str(), MASK_SECRET));
            }
        }
        line
    }
}

/// What a line tells about the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carry {
    Nothing,
    /// The next line's first value is the secret (`--token` or `secret:` at the end).
    Value,
    /// A YAML block scalar of a secret key: lines indented deeper than this.
    Block(usize),
    /// Inside a PEM block that holds a secret, until its `-----END`.
    Pem,
    /// A masked base64 run of this width reached the end of the line: a body
    /// folded at that width may go on (`base64` folds at 76, PEM at 64).
    Base64(usize),
}

/// Redacts a stream line by line, carrying what a line says about the next ones
/// (see [`Carry`]), also behind the prefix a collector or a quote repeats in front
/// of every line (see `line_prefix`), and learning the secret of every token it
/// masks (see `LineRedactor::learn_token`).
pub struct LineRedactor {
    redactor: Redactor,
    next: Carry,
    /// The signature of the prefix of the line that set `next` (see [`line_prefix`]).
    prefix: String,
    /// The base64 of a token folded over lines so far, decoded when the fold ends.
    fold: String,
    /// The token runs already decoded (at most [`MAX_DECODED`]), so a token
    /// repeated on every line is decoded once.
    decoded: std::collections::HashSet<String>,
    /// A secret was learnt from the line being masked.
    learnt: bool,
    /// The prefix of a carry held over another writer's line.
    held: Option<String>,
}

/// Whether a prefix signature names a writer (a compose container, a pod, a
/// syslog identifier), whose lines other writers' lines may come between.
fn is_writer(signature: &str) -> bool {
    ["\u{0}compose:", "\u{0}kubectl:", "\u{0}syslog:"]
        .iter()
        .any(|kind| signature.contains(kind))
}

impl std::fmt::Debug for LineRedactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LineRedactor")
    }
}

/// At most this many distinct tokens are decoded and their secrets learnt from the
/// input: a real log holds a handful, and each secret learnt makes the literal
/// automaton bigger. Later ones are still masked by their shape.
const MAX_DECODED: usize = 256;

/// The longest folded body collected to be decoded (a token is about 180
/// characters, a cert.pem about 400): longer folds are masked, not decoded.
const MAX_FOLD: usize = 16 * 1024;

/// The prefix in front of a line that a collector or a quote repeats in front of
/// every line of a paste, as its length in bytes and a signature that is the same
/// on every line of one writer: the collector prefixes of
/// [`day2_core::collector::layers`] (`name-1  | `, `host cloudflared[978]: `,
/// `[pod/x/c] `, timestamps, whose values change from line to line and are left
/// out of the signature), and, before or after them, quote and comment markers
/// (`> `, `# `, `// `, a YAML or Markdown list item `- `, `* `).
fn line_prefix(line: &str) -> (usize, String) {
    use day2_core::collector::{self, Layer};
    let mut signature = String::new();
    let base = quote_markers(line, 0, &mut signature);
    let mut at = base;
    for (layer, end) in collector::layers(&line.as_bytes()[base..]) {
        match layer {
            Layer::Time(_) => signature.push_str("\u{0}time"),
            Layer::Compose(name) => {
                signature.push_str("\u{0}compose:");
                signature.push_str(name);
            }
            Layer::Kubectl(name) => {
                signature.push_str("\u{0}kubectl:");
                signature.push_str(name);
            }
            Layer::Syslog { host, ident, pid } => {
                signature.push_str(&format!("\u{0}syslog:{host}:{ident}:{pid:?}"));
            }
        }
        at = base + end;
    }
    if at > base {
        at = quote_markers(line, at, &mut signature);
    }
    (at, signature)
}

/// Quote and comment markers from `from` (after optional indentation): `>`, `#`,
/// `//`, and `- ` or `* ` (a list item), each with the one space after it; the
/// offset after them. Bounded to 8 markers.
fn quote_markers(line: &str, from: usize, signature: &mut String) -> usize {
    let bytes = line.as_bytes();
    let mut at = from;
    for _ in 0..8 {
        let start = at
            + bytes[at..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
        let len = match &bytes[start..] {
            [b'>' | b'#', ..] => 1,
            [b'/', b'/', ..] => 2,
            [b'-' | b'*', b' ', ..] => 1,
            _ => 0,
        };
        if len == 0 {
            break;
        }
        signature.push_str(&line[start..start + len]);
        at = start + len;
        if bytes.get(at) == Some(&b' ') {
            at += 1;
        }
    }
    at
}

/// The indentation of a line in bytes (spaces and tabs).
fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// A whole line replaced by a mask, its indentation kept.
fn masked_line(line: &str, mask: &str) -> String {
    format!("{}{mask}", &line[..indent_of(line)])
}

/// What a line does with what the line before it carried.
enum Carried {
    /// The line is part of what was carried: masked as this, nothing else to do.
    Done(String),
    /// The line goes through the other nets too (changed, when the carry masked part of it).
    Go(Option<String>),
}

impl LineRedactor {
    /// Masks every secret in one line (without its line ending).
    pub fn redact<'a>(&mut self, line: &'a str) -> Cow<'a, str> {
        let out = self.redactor.mask_literals(Cow::Borrowed(line));
        self.learnt = false;
        let mut out = self.redact_line(out);
        if let Some(prefix) = self.held.take() {
            self.prefix = prefix;
        } else if self.next == Carry::Nothing {
            self.prefix.clear();
        } else {
            self.prefix = line_prefix(&out).1;
        }
        if self.learnt {
            // A secret learnt from this very line: masked wherever else it stands on it.
            out = self.redactor.mask_literals(out);
        }
        out
    }

    fn redact_line<'a>(&mut self, mut out: Cow<'a, str>) -> Cow<'a, str> {
        let carry = std::mem::replace(&mut self.next, Carry::Nothing);
        if carry != Carry::Nothing {
            // Behind the same prefix as the line that started it, the carry goes on
            // after the prefix; otherwise on the whole line.
            let (len, signature) = line_prefix(&out);
            if len > 0
                && signature != self.prefix
                && is_writer(&signature)
                && is_writer(&self.prefix)
            {
                // Another writer's line in between (`docker compose logs` of
                // several services): what was carried waits for its writer's next line.
                let prefix = std::mem::take(&mut self.prefix);
                let out = self.fresh(out);
                if self.next == Carry::Nothing {
                    self.next = carry;
                    self.held = Some(prefix);
                }
                return out;
            }
            let (head, body) = if len > 0 && signature == self.prefix {
                out.split_at(len)
            } else {
                ("", out.as_ref())
            };
            match self.carry_on(carry, body) {
                Carried::Done(masked) => return Cow::Owned(format!("{head}{masked}")),
                Carried::Go(Some(masked)) => out = Cow::Owned(format!("{head}{masked}")),
                Carried::Go(None) => {}
            }
        }
        self.fresh(out)
    }

    /// The nets of a line that no carry took whole.
    fn fresh<'a>(&mut self, mut out: Cow<'a, str>) -> Cow<'a, str> {
        if !matches!(self.next, Carry::Base64(_)) {
            self.end_fold();
        }
        let kinds = triggers(&out);
        if kinds == 0 {
            return out;
        }
        if kinds & PEM != 0 {
            if let Some((masked, pem_open)) = mask_pem(&out) {
                out = Cow::Owned(masked);
                if pem_open {
                    self.next = Carry::Pem;
                }
            }
        }
        let mut at_end = None;
        if kinds & START != 0 {
            let (masked, end, runs) = mask_token_runs(&out);
            at_end = end;
            for (i, &(a, b)) in runs.iter().enumerate() {
                self.learn_token(&out[a..b]);
                if end.is_some() && i + 1 == runs.len() && self.next == Carry::Nothing {
                    self.fold.clear();
                    self.fold.push_str(&out[a..b]);
                }
            }
            if let Some(masked) = masked {
                out = Cow::Owned(masked);
            }
        }
        if kinds & URL != 0 {
            if let Some(masked) = mask_userinfo(&out) {
                out = Cow::Owned(masked);
            }
        }
        let mut keys = Keys {
            masked: None,
            next: Carry::Nothing,
        };
        if kinds & (KEY | DECODED) != 0 {
            keys = mask_after_keys(&out);
            if let Some(masked) = keys.masked.take() {
                out = Cow::Owned(masked);
            }
        }
        if self.next == Carry::Nothing {
            self.next = if let Carry::Block(_) = keys.next {
                // A block scalar's indentation counts after the prefix.
                Carry::Block(indent_of(&out[line_prefix(&out).0..]))
            } else if keys.next != Carry::Nothing {
                keys.next
            } else if kinds & KEY != 0 && ends_with_token_flag(&out) {
                Carry::Value
            } else if let Some(width) = at_end {
                Carry::Base64(width)
            } else {
                Carry::Nothing
            };
        }
        if !matches!(self.next, Carry::Base64(_)) {
            self.fold.clear();
        }
        out
    }

    /// What `carry` (from the line before) makes of `line` (after its prefix).
    fn carry_on(&mut self, carry: Carry, line: &str) -> Carried {
        match carry {
            Carry::Nothing => {}
            Carry::Value => {
                if !is_mapping_key(line) {
                    return Carried::Go(mask_leading_value(line));
                }
            }
            Carry::Block(indent) => {
                if line.trim().is_empty() {
                    self.next = Carry::Block(indent);
                    return Carried::Done(line.to_owned());
                }
                if indent_of(line) > indent {
                    self.next = Carry::Block(indent);
                    return Carried::Done(masked_line(line, MASK_SECRET));
                }
            }
            Carry::Pem => {
                let trimmed = line.trim();
                if let Some(end) = line.find("-----END") {
                    // The body may run up to the END marker on the same line.
                    if line[..end].trim().is_empty() {
                        return Carried::Done(line.to_owned());
                    }
                    return Carried::Done(format!("{MASK_SECRET}{}", &line[end..]));
                }
                // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) belong to the block too.
                let header = trimmed
                    .split_once(": ")
                    .is_some_and(|(k, _)| !k.is_empty() && !k.contains(' '));
                if trimmed.is_empty() || header || is_base64_body(trimmed) {
                    self.next = Carry::Pem;
                    if trimmed.is_empty() {
                        return Carried::Done(line.to_owned());
                    }
                    return Carried::Done(masked_line(line, MASK_SECRET));
                }
            }
            Carry::Base64(width) => {
                if let Some((masked, core, ended)) = mask_continuation(line, width) {
                    if self.fold.len() + core.len() <= MAX_FOLD {
                        self.fold.push_str(core);
                    }
                    if ended {
                        self.end_fold();
                    } else {
                        self.next = Carry::Base64(width);
                    }
                    return Carried::Done(masked);
                }
            }
        }
        Carried::Go(None)
    }

    /// Decodes a folded body that has ended and learns the secret it holds.
    fn end_fold(&mut self) {
        if !self.fold.is_empty() {
            let fold = std::mem::take(&mut self.fold);
            self.learn_token(&fold);
        }
    }

    /// Learns the secret of a token this redactor masked: its `s`, decoded as
    /// cloudflared's `ParseToken` reads a token (`token::secret_part`), so the
    /// secret alone on a later line is masked too. `a` (the account) and `t` (the
    /// tunnel's id) are not secrets and stay readable.
    fn learn_token(&mut self, run: &str) {
        if self.decoded.len() >= MAX_DECODED || self.decoded.contains(run) {
            return;
        }
        self.decoded.insert(run.to_owned());
        if let Some(secret) = crate::token::secret_part(run) {
            self.redactor.learn(&secret);
            self.learnt = true;
        }
    }
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-')
}

/// A line of a base64 body (PEM or folded): base64 characters, `=` padding at the end.
fn is_base64_body(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    !body.is_empty() && text.len() - body.len() <= 2 && body.bytes().all(is_b64)
}

/// Whether a line is a YAML mapping entry (`key: value`, `key:`), not a value.
fn is_mapping_key(line: &str) -> bool {
    let t = line.trim_start().trim_start_matches("- ");
    let key_len = t
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'"' | b'\''))
        .count();
    key_len > 0 && (t[key_len..].starts_with(": ") || &t[key_len..] == ":")
}

/// The next line of a body folded at `width`: masked whole (indentation and
/// quotes kept) when it is at least as wide (a YAML plain scalar may go on
/// wider), or a shorter last line that looks like base64 (padding, a digit,
/// `+`, `/`, both cases; a word of prose does not); also the base64 masked, and
/// `ended` when it ends the body. A line that ends in a shell `\` goes on below
/// whatever its width.
fn mask_continuation(line: &str, width: usize) -> Option<(String, &str, bool)> {
    let indent = indent_of(line);
    let body = line[indent..].trim_end();
    let (body, backslash) = match body.strip_suffix('\\') {
        Some(before) => (before.trim_end(), &line[indent + before.trim_end().len()..]),
        None => (body, ""),
    };
    let (open, rest) = match body.as_bytes().first() {
        Some(b'"' | b'\'') => body.split_at(1),
        _ => ("", body),
    };
    let core_len = rest
        .bytes()
        .take_while(|b| is_b64(*b) || *b == b'=')
        .count();
    let core = &rest[..core_len];
    let tail = &rest[core_len..];
    if core.is_empty()
        || !is_base64_body(core)
        || !matches!(tail, "" | "\"" | "'" | "\"," | "'," | ",")
    {
        return None;
    }
    let full = core.len() >= width && !core.ends_with('=');
    let looks_encoded = core.ends_with('=')
        || core
            .bytes()
            .any(|b| b.is_ascii_digit() || b == b'+' || b == b'/')
        || (core.bytes().any(|b| b.is_ascii_uppercase())
            && core.bytes().any(|b| b.is_ascii_lowercase()));
    if !full && !looks_encoded {
        return None;
    }
    let ended = backslash.is_empty() && (!full || !tail.is_empty());
    Some((
        format!("{}{open}{MASK_TOKEN}{tail}{backslash}", &line[..indent]),
        core,
        ended,
    ))
}

/// Whether a PEM label names a secret (everything but certificates and public keys).
fn pem_label_is_secret(label: &str) -> bool {
    !(label.contains("CERTIFICATE") || label.contains("PUBLIC KEY"))
}

/// Masks the body of a PEM block begun on this line: up to its END on the same
/// line (a PEM inside a JSON string, `\n` escaped), else to the end of the line;
/// returns whether the block goes on below.
fn mask_pem(line: &str) -> Option<(String, bool)> {
    let begin = line.find("-----BEGIN ")?;
    let after_begin = &line[begin + 11..];
    let label_end = after_begin.find("-----")?;
    if !pem_label_is_secret(&after_begin[..label_end]) {
        return None;
    }
    let body_start = begin + 11 + label_end + 5;
    let rest = &line[body_start..];
    match rest.find("-----END") {
        Some(end) => {
            let body = &rest[..end];
            // Keep the escaped line breaks around it readable.
            let lead = if body.starts_with("\\n") { "\\n" } else { "" };
            let trail = if body.ends_with("\\n") { "\\n" } else { "" };
            if body
                .trim_matches(|c| c == '\\' || c == 'n' || c == ' ')
                .is_empty()
                && body.len() < 4
            {
                return None;
            }
            Some((
                format!(
                    "{}{lead}{MASK_SECRET}{trail}{}",
                    &line[..body_start],
                    &rest[end..]
                ),
                false,
            ))
        }
        None if rest.trim().is_empty() => Some((line.to_owned(), true)),
        None => Some((format!("{}{MASK_SECRET}", &line[..body_start]), true)),
    }
}

/// Masks every base64 run that starts like a secret (see [`SECRET_STARTS`]) and
/// is long enough, and every JWT; also the width of a masked run that reached the
/// end of the line without padding, or before a shell `\` (a folded body may go
/// on below), and where each masked run other than a JWT stood (to be decoded).
fn mask_token_runs(line: &str) -> (Option<String>, Option<usize>, Vec<(usize, usize)>) {
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut runs = Vec::new();
    let mut last = 0;
    let mut at_end = None;
    for m in STARTS.find_iter(line) {
        let start = m.start();
        if start < last {
            continue;
        }
        // The secret may be glued to other base64 characters (a path `dir/eyJ…`),
        // so it starts at its start, wherever its run starts.
        let mut run_start = start;
        while run_start > last && is_b64(bytes[run_start - 1]) {
            run_start -= 1;
        }
        let mut end = m.end();
        while end < bytes.len() && is_b64(bytes[end]) {
            end += 1;
        }
        let mut jwt = false;
        // A JWT: eyJ… . … (. …), however short each segment.
        if line[start..].starts_with("eyJ") && end - start >= 10 && bytes.get(end) == Some(&b'.') {
            let mut j = end;
            let mut dots = 0;
            while dots < 4 && bytes.get(j) == Some(&b'.') {
                let seg_start = j + 1;
                let mut k = seg_start;
                while k < bytes.len() && is_b64(bytes[k]) {
                    k += 1;
                }
                if dots == 0 && k == seg_start {
                    break;
                }
                dots += 1;
                j = k;
            }
            if dots >= 2 {
                jwt = true;
                end = j;
            }
        }
        let mut padded = end;
        while padded < bytes.len() && bytes[padded] == b'=' {
            padded += 1;
        }
        if jwt || padded - start >= MIN_TOKEN_RUN {
            out.push_str(&line[last..start]);
            out.push_str(MASK_TOKEN);
            last = padded;
            let reaches_end = line[padded..]
                .trim_end_matches(['"', '\'', ' ', '\\'])
                .is_empty();
            at_end = (!jwt && padded == end && reaches_end).then_some(end - run_start);
            if !jwt {
                runs.push((start, padded));
            }
        }
    }
    if last == 0 {
        return (None, None, runs);
    }
    out.push_str(&line[last..]);
    (Some(out), at_end, runs)
}

/// Masks the password of URLs (`scheme://user:password@host`), and a user name
/// that is itself a token (`https://ghp_…@github.com`), as curl and git do.
fn mask_userinfo(line: &str) -> Option<String> {
    let mut out = String::new();
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = line[from..].find("://") {
        let authority_start = from + pos + 3;
        from = authority_start;
        let authority_len = line[authority_start..]
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '\\')
            })
            .unwrap_or(line.len() - authority_start);
        let authority = &line[authority_start..authority_start + authority_len];
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let userinfo = &authority[..at];
        let (span_start, span) = match userinfo.split_once(':') {
            Some((user, password)) => (authority_start + user.len() + 1, password),
            None => (authority_start, userinfo),
        };
        let password = userinfo.contains(':');
        if span.is_empty()
            || is_placeholder(span)
            || (!password && (span.len() < 16 || is_ordinary_word(span)))
        {
            continue;
        }
        out.push_str(&line[last..span_start]);
        out.push_str(MASK_SECRET);
        last = span_start + span.len();
    }
    if last == 0 {
        return None;
    }
    out.push_str(&line[last..]);
    Some(out)
}

/// Not a secret but the name of where one is: `${VAR}`, `$VAR`, `<TOKEN>`,
/// cloudflared's own `*****`, an earlier mask, `null`.
fn is_placeholder(value: &str) -> bool {
    value.starts_with('$')
        || value.starts_with("[REDACTED")
        || value == "null"
        || (value.starts_with('<') && value.ends_with('>'))
        || value.bytes().all(|b| b == b'*')
}

/// A short word of prose (`found`, `Found`, `flag`): never a secret.
fn is_ordinary_word(value: &str) -> bool {
    let word = value.trim_end_matches(['.', ',', ';', '!', '?']);
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && word.len() <= 12
        && chars.all(|c| c.is_ascii_lowercase())
}

/// Where a value starting at `start` ends, and whether it was quoted (the quotes
/// stay in place, only the value between them is masked).
fn value_span(line: &str, start: usize) -> Option<(usize, usize, bool)> {
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
                // Bytes, not `&line[i..]`: `i` walks bytes and may stand inside a
                // wide character (a panic found by fuzzing); the ASCII bytes compared
                // never occur inside one, so every stop is a character boundary.
                if escaped && bytes[i..].starts_with(b"\\\"") {
                    break;
                }
                // A bare quote inside an escaped-quoted value ends the string that
                // holds it (the record's own JSON): the value ends there too, or
                // masking would eat the rest of the record (found by fuzzing).
                if escaped && bytes[i] == b'"' {
                    break;
                }
                if !escaped && bytes[i] == b'\\' {
                    // The backslash and the whole character it escapes.
                    i += 1 + line[i + 1..].chars().next().map_or(0, char::len_utf8);
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
    if is_placeholder(value) {
        return None;
    }
    Some((value_start, end, quote.is_some()))
}

/// Masks the first value on a line (after a YAML list dash or quotes).
fn mask_leading_value(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let mut start = line.len() - trimmed.len();
    if trimmed.starts_with("- ") {
        start += 2;
        start += line[start..].len() - line[start..].trim_start().len();
    }
    let (a, b, _) = value_span(line, start)?;
    Some(format!("{}{}{}", &line[..a], MASK_TOKEN, &line[b..]))
}

/// Whether the line's last word is the `--token` flag, its value on the next
/// line: bare (`- --token`) or a quoted argument of its own (`"--token",` in a
/// JSON array), not a quote in a sentence (`use '-- --token'`).
fn ends_with_token_flag(line: &str) -> bool {
    let trimmed = line.trim_end().trim_end_matches(',');
    match trimmed.chars().last() {
        Some(q @ ('"' | '\'')) => {
            let inner = &trimmed[..trimmed.len() - 1];
            inner
                .rfind(q)
                .is_some_and(|open| &inner[open + 1..] == "--token")
        }
        _ => {
            trimmed.ends_with("--token")
                && trimmed[..trimmed.len() - 7]
                    .chars()
                    .last()
                    .is_none_or(char::is_whitespace)
        }
    }
}

/// Names after which a value is secret. Matched case-insensitively at the end of
/// a key, so `TUNNEL_TOKEN`, `CLOUDFLARE_TUNNEL_TOKEN`, `token`, `apiToken` and
/// `TunnelSecret` match and `TUNNEL_TOKEN_FILE` does not.
const SECRET_KEY_ENDINGS: [&str; 2] = ["token", "secret"];

/// What [`mask_after_keys`] did, and what it means for the next line.
struct Keys {
    masked: Option<String>,
    next: Carry,
}

/// Masks the values that follow secret keys and the `--token` flag; a key whose
/// value is on the next line(s) (`token:` at the end, `token: |`) says so.
fn mask_after_keys(line: &str) -> Keys {
    let mut keys = Keys {
        masked: None,
        next: Carry::Nothing,
    };
    let bytes = line.as_bytes();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for ending in SECRET_KEY_ENDINGS {
        let mut from = 0;
        while from < bytes.len() {
            // Case-insensitive: look for the first letter in either case.
            let Some(pos) = find_ascii_ci(&bytes[from..], ending.as_bytes()) else {
                break;
            };
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
            // After the character that ends the identifier, whatever its width
            // (`+ 1` cut a Cyrillic letter in two: a panic found by fuzzing).
            let ident_start = line[..key_start]
                .char_indices()
                .rev()
                .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .map_or(0, |(p, c)| p + c.len_utf8());
            // `${CLOUDFLARE_TUNNEL_TOKEN:?missing}` names a variable; it holds no value.
            if line[..ident_start].ends_with('{') || line[..ident_start].ends_with('$') {
                continue;
            }
            let flag = ending == "token" && line[..key_start].ends_with("--");
            // A flag in quotes (`'--token'`) is a word in a sentence unless its
            // value is quoted or after `,` or `=` too.
            let quoted_flag = flag
                && matches!(
                    line[..key_start - 2].bytes().last(),
                    Some(b'\'' | b'"' | b'`')
                );
            match after_separator(line, key_end, flag) {
                Separated::Value(value_start, separator) => {
                    let Some((a, b, quoted)) = value_span(line, value_start) else {
                        continue;
                    };
                    let value = &line[a..b];
                    let prose = !quoted
                        && matches!(separator, b' ' | b':')
                        && (is_ordinary_word(value) || (quoted_flag && separator == b' '));
                    if prose {
                        continue;
                    }
                    // `token: |` starts a YAML block scalar on the next lines.
                    if !quoted
                        && separator == b':'
                        && value.starts_with(['|', '>'])
                        && value[1..]
                            .bytes()
                            .all(|c| c == b'-' || c == b'+' || c.is_ascii_digit())
                        && line[b..].trim().is_empty()
                    {
                        keys.next = Carry::Block(indent_of(line));
                        continue;
                    }
                    spans.push((a, b));
                }
                Separated::EndOfLine if !flag => keys.next = Carry::Value,
                _ => {}
            }
        }
    }
    // The `s` of a decoded token: beside its `a` and `t`, or alone on its line
    // (pretty-printed) when its value is a secret's base64 (32 bytes: 44 characters).
    if line.contains("\"s\"") {
        let token_line = line.contains("\"t\"") && line.contains("\"a\"");
        let mut from = 0;
        while let Some(pos) = line[from..].find("\"s\"") {
            let key_end = from + pos + 3;
            from = key_end;
            if let Separated::Value(value_start, _) = after_separator(line, key_end, false) {
                if let Some((a, b, _)) = value_span(line, value_start) {
                    if token_line || (b - a >= 40 && is_base64_body(&line[a..b])) {
                        spans.push((a, b));
                    }
                }
            }
        }
    }
    if spans.is_empty() {
        return keys;
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
    keys.masked = Some(out);
    keys
}

/// The first position of `needle` (lower-case ASCII) in `hay`, ignoring ASCII case.
fn find_ascii_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let at = memchr::memchr2(
            first,
            first.to_ascii_uppercase(),
            &hay[i..=hay.len() - needle.len()],
        )?;
        let pos = i + at;
        if hay[pos..pos + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(pos);
        }
        i = pos + 1;
    }
    None
}

/// What follows a key.
enum Separated {
    /// The value starts here, after this separator (`=`, `:`, `,` or a space).
    Value(usize, u8),
    /// A separator and then nothing: the value is on the next line.
    EndOfLine,
    /// Not a key with a value.
    None,
}

/// The start of the value after a key that ends at `key_end`: past a closing quote
/// (plain or escaped), spaces, and a `=` or `:` separator. A command-line flag also
/// takes its value after a space or an argument boundary (`"--token", "…"`).
fn after_separator(line: &str, key_end: usize, flag: bool) -> Separated {
    let rest = &line[key_end..];
    let mut i = 0;
    if rest[i..].starts_with("\\\"") {
        i += 2;
    } else if rest[i..].starts_with('"') || rest[i..].starts_with('\'') {
        i += 1;
    }
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
    let separator = match rest.as_bytes().get(i) {
        Some(&c @ (b'=' | b':')) => {
            i += 1;
            spaces(&mut i);
            c
        }
        Some(b',') if flag => {
            i += 1;
            spaces(&mut i);
            b','
        }
        Some(_) if flag && i > 0 => b' ',
        None if i > 0 || rest.is_empty() => return Separated::None,
        _ => return Separated::None,
    };
    if i >= rest.len() {
        return if matches!(separator, b':' | b'=') {
            Separated::EndOfLine
        } else {
            Separated::None
        };
    }
    Separated::Value(key_end + i, separator)
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
        let mut masked = self.lines.redact(&text);
        // A JSON line (a record) must stay JSON: masking its text can cut through
        // the string escapes that hold a secret (`\"--token\", \"eyJ…` with no closing
        // quote; fuzzing found two such shapes). Then each string value is masked
        // whole, as text, and the line written again as JSON.
        if masked != text {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
                if serde_json::from_str::<serde_json::Value>(&masked).is_err() {
                    let redactor = self.lines.redactor.clone();
                    masked = Cow::Owned(mask_json_strings(value, &redactor).to_string());
                }
            }
        }
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

/// Every string of `value` (object keys kept) masked as text: the lines of each
/// string through one fresh line redactor, so a PEM body or a folded token inside
/// one string is followed across its lines.
fn mask_json_strings(value: serde_json::Value, redactor: &Redactor) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            let mut lines = redactor.line_redactor();
            let masked: Vec<String> = text
                .split('\n')
                .map(|line| lines.redact(line).into_owned())
                .collect();
            Value::String(masked.join("\n"))
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| mask_json_strings(item, redactor))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, item)| (key, mask_json_strings(item, redactor)))
                .collect(),
        ),
        other => other,
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
/// masked. Reads and writes in blocks of [`FILTER_BLOCK`] bytes; memory is
/// bounded by the block and the longest line, at most [`MAX_LINE`] bytes: a longer
/// one (`/dev/zero`, a binary stream) is an error, since half a line cut off could
/// hold half a token. Line endings (`\n`, `\r\n`,
/// none at the end) are kept. Returns the number of lines that had something
/// masked.
pub fn filter(
    input: &mut dyn io::BufRead,
    output: &mut dyn Write,
    redactor: &Redactor,
) -> io::Result<u64> {
    let mut lines = redactor.line_redactor();
    let mut buf: Vec<u8> = Vec::with_capacity(2 * FILTER_BLOCK);
    let mut out: Vec<u8> = Vec::with_capacity(2 * FILTER_BLOCK);
    let mut masked_lines = 0;
    loop {
        let filled = buf.len();
        buf.resize(filled + FILTER_BLOCK, 0);
        let n = loop {
            match input.read(&mut buf[filled..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        buf.truncate(filled + n);
        let mut start = 0;
        // The bytes before `filled` hold no line break: only new ones are searched,
        // so a long line costs its length once, not once per block.
        let mut from = filled;
        while let Some(pos) = memchr::memchr(b'\n', &buf[from..]) {
            let end = from + pos + 1;
            masked_lines += filter_line(&buf[start..end], &mut lines, &mut out);
            start = end;
            from = end;
        }
        if n == 0 {
            if start < buf.len() {
                masked_lines += filter_line(&buf[start..], &mut lines, &mut out);
            }
            break;
        }
        buf.drain(..start);
        if buf.len() > MAX_LINE {
            output.write_all(&out)?;
            output.flush()?;
            return Err(io::Error::other(format!(
                "a line is longer than {} MiB (no line break): not text",
                MAX_LINE >> 20
            )));
        }
        if out.len() >= FILTER_BLOCK {
            output.write_all(&out)?;
            out.clear();
        }
    }
    output.write_all(&out)?;
    output.flush()?;
    Ok(masked_lines)
}

/// The longest line read from a stream (`redact`, `connector`): 16 MiB, far above
/// any log line, so an endless line is an error rather than memory growing.
pub const MAX_LINE: usize = day2_core::input::DEFAULT_LIMIT as usize;

/// The block size of [`filter`]'s reads and writes.
const FILTER_BLOCK: usize = 128 * 1024;

/// Masks one line (with its ending) into `out`; 1 when something was masked.
fn filter_line(line: &[u8], lines: &mut LineRedactor, out: &mut Vec<u8>) -> u64 {
    let (body, ending): (&[u8], &[u8]) = if line.ends_with(b"\r\n") {
        (&line[..line.len() - 2], b"\r\n")
    } else if line.ends_with(b"\n") {
        (&line[..line.len() - 1], b"\n")
    } else {
        (line, b"")
    };
    let text = match std::str::from_utf8(body) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(body),
    };
    let masked = lines.redact(&text);
    let changed = u64::from(matches!(masked, Cow::Owned(_)) && masked != text);
    out.extend_from_slice(masked.as_bytes());
    out.extend_from_slice(ending);
    changed
}

/// Runs `f` and turns a panic on this thread into an error message instead of the
/// default hook's print, which would show the panic's text unmasked (and a
/// backtrace). The caller writes the message through its [`RedactingWriter`].
/// Panics on other threads still reach the hook that was installed before, and that
/// very hook is installed again afterwards: not a wrapper around it, which would
/// make the chain of hooks (and the stack a later panic walks) one longer with
/// every in-process run.
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
    // Dropping our hook drops its handle on the previous one (a panic running the
    // hook holds the lock `take_hook` waits for), so the Arc is ours alone again.
    drop(std::panic::take_hook());
    match Arc::try_unwrap(previous) {
        Ok(previous) => std::panic::set_hook(previous),
        Err(shared) => std::panic::set_hook(Box::new(move |info| shared(info))),
    }
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

    fn redact_all(text: &str) -> String {
        let mut lines = Redactor::default().line_redactor();
        text.lines()
            .map(|l| lines.redact(l).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn pem_blocks_of_secrets() {
        let text = "-----BEGIN ARGO TUNNEL TOKEN-----\neyJ6b25lSUQiOiIwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZiIsImFj\nY291bnRJRCI6ImZlZGNiYTk4NzY1NDMyMTBmZWRjYmE5ODc2NTQzMjEwIiwiYXBp\nIn0=\n-----END ARGO TUNNEL TOKEN-----\n-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\nafter";
        assert_eq!(
            redact_all(text),
            "-----BEGIN ARGO TUNNEL TOKEN-----\n[REDACTED:secret]\n[REDACTED:secret]\n[REDACTED:secret]\n-----END ARGO TUNNEL TOKEN-----\n-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n[REDACTED:secret]\n\n[REDACTED:secret]\n-----END PRIVATE KEY-----\nafter"
        );
        // In a JSON string, the line breaks escaped.
        assert_eq!(
            redact(
                r#"{"cert":"-----BEGIN ARGO TUNNEL TOKEN-----\nY291bnRJRCI6ImZlZGNi\nIn0=\n-----END ARGO TUNNEL TOKEN-----\n"}"#
            ),
            r#"{"cert":"-----BEGIN ARGO TUNNEL TOKEN-----\n[REDACTED:secret]\n-----END ARGO TUNNEL TOKEN-----\n"}"#
        );
        // A block without its END stops at the first line that is no body.
        assert_eq!(
            redact_all("-----BEGIN ARGO TUNNEL TOKEN-----\nY291bnRJRCI6ImZlZGNi\n$ ls -l"),
            "-----BEGIN ARGO TUNNEL TOKEN-----\n[REDACTED:secret]\n$ ls -l"
        );
    }

    #[test]
    fn base64_folded_over_lines() {
        // `base64 credentials.json` folds at 76 columns.
        let folded = "eyJBY2NvdW50VGFnIjoiMDAwMGQ0ZDE0ZTg0YmQ0YWU1YTZhMDJlMDAwMGFjNjMiLCJUdW5uZWxT\nZWNyZXQiOiIwMCt4OWJQQ21IK01SeEl1dDlFS0dNQ1dOL25URUtjZWNUT1lxRWhrelpBPSIsIlR1\nbm5lbElEIjoiZGY1ZWQ2MDgtYjhiNC00MTA5LTg5ZjMtOWYyY2YxOTlkZjY0In0=\n$ next command";
        assert_eq!(
            redact_all(folded),
            "[REDACTED:token]\n[REDACTED:token]\n[REDACTED:token]\n$ next command"
        );
        // `base64 cert.pem`: the PEM itself encoded.
        assert_eq!(
            redact_all("  cert.pem: |\n    LS0tLS1CRUdJTiBBUkdPIFRVTk5FTCBUT0tFTi0tLS0tCmV5SjZiMjVs\n    U1VRaU9pSXdNVEl6TkRVMk56ZzVZV0pqWkdWbU1ERXlNelEyT0RsaFlt\n    Tm==\n  other: value"),
            "  cert.pem: |\n    [REDACTED:token]\n    [REDACTED:token]\n    [REDACTED:token]\n  other: value"
        );
        // A token folded inside a YAML list item (a plain scalar going on).
        assert_eq!(
            redact_all("      - --token=eyJhIjoiMDEyMzQ1Njc4OWFiY2Rl\n        ZjAxMjM0NTY3ODlhYmNkZWYiLCJ0IjoiNmZmNDJhZTItNzY1ZC00YWRm\n      - --no-autoupdate"),
            "      - --token=[REDACTED:token]\n        [REDACTED:token]\n      - --no-autoupdate"
        );
        // After a token at the end of a line, prose is prose.
        assert_eq!(
            redact_all(&format!("TUNNEL_TOKEN={TOKEN}\ntail\ndone")),
            "TUNNEL_TOKEN=[REDACTED:token]\ntail\ndone"
        );
    }

    #[test]
    fn values_on_the_following_lines() {
        assert_eq!(
            redact_all("{\n  \"AccountTag\": \"0123\",\n  \"TunnelSecret\":\n    \"c2VjcmV0LXNlY3JldC1zZWNyZXQ=\",\n  \"TunnelID\": \"x\"\n}"),
            "{\n  \"AccountTag\": \"0123\",\n  \"TunnelSecret\":\n    \"[REDACTED:token]\",\n  \"TunnelID\": \"x\"\n}"
        );
        assert_eq!(
            redact_all("environment:\n  TUNNEL_TOKEN: >-\n    hunter2hunter2\n    hunter3hunter3\n  OTHER: 1"),
            "environment:\n  TUNNEL_TOKEN: >-\n    [REDACTED:secret]\n    [REDACTED:secret]\n  OTHER: 1"
        );
        // A key without a value followed by a mapping is a parent, not a secret.
        assert_eq!(
            redact_all("secrets:\n  tunnel_token:\n    file: ./token.txt"),
            "secrets:\n  tunnel_token:\n    file: ./token.txt"
        );
        assert_eq!(
            redact_all("command: [\"tunnel\", \"run\", \"--token\",\n  \"hunter2-not-shaped\"]"),
            "command: [\"tunnel\", \"run\", \"--token\",\n  \"[REDACTED:token]\"]"
        );
    }

    /// Issue 16: clap's usage errors keep their words.
    #[test]
    fn ordinary_words_stay() {
        for line in [
            "error: unexpected argument '--token' found",
            "  tip: to pass '--token' as a value, use '-- --token'",
            "error: a value is required for '--token <TOKEN>' but none was supplied",
            "the --token flag is deprecated",
            "INF Settings: map[no-autoupdate:true token:*****]",
            "Provided Tunnel token is not valid.",
            "token: found",
            "ssh://git@github.com/cloudflare/cloudflared",
            "http://nginx:80 https://user@example.org/",
        ] {
            assert_eq!(
                redact_all(&format!("{line}\nnext line here")),
                format!("{line}\nnext line here")
            );
        }
    }

    #[test]
    fn line_prefixes_and_their_signatures() {
        fn sig(line: &str) -> (&str, String) {
            let (len, signature) = line_prefix(line);
            (&line[len..], signature)
        }
        assert_eq!(sig("cloudflared-1  | body").0, "body");
        assert_eq!(sig("> > body").0, "body");
        assert_eq!(sig("> cloudflared-1  | # body").0, "body");
        assert_eq!(sig("    - body").0, "body");
        assert_eq!(sig("// body"), ("body", "//".to_owned()));
        assert_eq!(sig("plain body"), ("plain body", String::new()));
        assert_eq!(sig("-----BEGIN X-----").0, "-----BEGIN X-----");
        assert_eq!(sig("  indented").0, "  indented");
        // Timestamps move on; the writer does not.
        assert_eq!(
            sig("Apr 26 13:19:06 host cloudflared[978]: a").1,
            sig("Apr 26 13:19:07 host cloudflared[978]: b").1
        );
        assert_ne!(sig("cloudflared-1  | a").1, sig("nginx-1  | a").1);
        assert!(is_writer(&sig("[pod/a/b] x").1) && !is_writer(&sig("> x").1));
    }

    /// Issue 18: JWTs with short segments, URL passwords.
    #[test]
    fn jwts_and_url_passwords() {
        assert_eq!(
            redact("Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. done"),
            "Authorization: Bearer [REDACTED:token] done"
        );
        assert_eq!(
            redact("cf_authorization=eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2ln;"),
            "cf_authorization=[REDACTED:token];"
        );
        assert_eq!(
            redact("DOCKER_HOST=tcp://admin:s3cr3t@10.0.0.5:2376 and http://u:p@h/x?y"),
            "DOCKER_HOST=tcp://admin:[REDACTED:secret]@10.0.0.5:2376 and http://u:[REDACTED:secret]@h/x?y"
        );
        assert_eq!(
            redact("git clone https://ghp_0123456789abcdefABCDEF@github.com/o/r"),
            "git clone https://[REDACTED:secret]@github.com/o/r"
        );
        assert_eq!(
            redact("GET /?token=abc123def456ghi"),
            "GET /?token=[REDACTED:secret]"
        );
    }
}
