//! The counting core of log mode: reads a stream in large blocks, splits lines with
//! `memchr`, matches each against the format and adds it to a [`Tally`]. Nothing is
//! allocated per line; only legacy lines touch the caller maps, and only a path with
//! `%`, `//`, `/.`, `#` or a log escape goes through the full normaliser.
//!
//! A line is read whole up to [`MAX_LINE`] bytes; a longer one (no real nginx line is
//! near it, but `/dev/zero` or a file of NUL bytes is one endless line) is counted as
//! malformed and overlong and skipped to its end, so memory stays bounded; one without
//! an end after [`MAX_SKIPPED`] bytes ends the read with an error.
//!
//! A tally covers one stretch of one source, so a large plain file can be counted in
//! parallel stretches and the tallies merged.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};

use day2_core::collector;
use memchr::{memchr, memchr_iter};

use super::foreign;
use super::format::{Escape, Fields, LogFormat, PathKind};
use super::time::TimeCache;
use super::uri::{self, Rejected};

/// Read block size: large enough that syscalls and line carry-over cost little, small
/// enough that the block is still in cache when the lines are matched after the
/// kernel's copy.
const BLOCK: usize = 256 * 1024;

/// How many malformed (and foreign) line numbers are kept for the report.
const MALFORMED_SHOWN: usize = 5;

/// The longest line read, in bytes; a longer one is malformed (`overlong`) and skipped.
pub const MAX_LINE: usize = 1024 * 1024;

/// The longest line skipped, in bytes (256 MiB): beyond it the input is no log at all (`/dev/zero`,
/// a disk image) and the read ends with an error rather than skipping forever.
pub const MAX_SKIPPED: u64 = 256 * 1024 * 1024;

/// How many distinct other header values are counted one by one; the rest are counted
/// together, so a log full of made-up values cannot grow the tally without bound.
pub const MAX_OTHER_VALUES: usize = 64;

/// How one line is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Api,
    Legacy,
    /// A status request whose header carries another value (index into `other_values`).
    OtherValue(usize),
    /// Not a status request at all (the SPA, chat, metrics), or one nginx refused.
    NotStatus,
}

/// What the counter is told before it starts.
#[derive(Debug, Clone)]
pub struct Settings {
    pub format: LogFormat,
    pub legacy_prefixes: Vec<Vec<u8>>,
    pub api_prefixes: Vec<Vec<u8>>,
    pub window_s: i64,
    /// nginx's `merge_slashes` (on by default).
    pub merge_slashes: bool,
    /// Legacy lines dated inside `[quiet_start, until]` are counted apart.
    pub quiet_start: i64,
    pub until: i64,
}

/// Per-window counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub lines: u64,
    pub api: u64,
    pub legacy: u64,
    pub other_values: u64,
    pub not_status: u64,
}

impl std::ops::AddAssign for Window {
    fn add_assign(&mut self, other: Window) {
        self.lines += other.lines;
        self.api += other.api;
        self.legacy += other.legacy;
        self.other_values += other.other_values;
        self.not_status += other.not_status;
    }
}

/// A legacy caller (client address or user agent).
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub hits: u64,
    pub last: i64,
}

/// Everything counted over one stretch of input.
#[derive(Debug)]
pub struct Tally {
    /// Every line read, blank ones included (for line numbers).
    pub physical_lines: u64,
    /// Non-blank lines.
    pub lines: u64,
    pub malformed: u64,
    /// (source index, line number) of the first malformed lines.
    pub malformed_at: Vec<(usize, u64)>,
    /// Malformed lines longer than [`MAX_LINE`].
    pub overlong: u64,
    /// Access lines read behind a log collector's prefix (`docker compose logs`,
    /// `docker logs -t`, kubectl, journald: day2-core's [`collector`]).
    pub prefixed: u64,
    /// Lines of nginx's error log or the image's entrypoint (see [`foreign`]).
    pub foreign: u64,
    pub foreign_at: Vec<(usize, u64)>,
    /// Foreign lines per kind: error log, entrypoint.
    pub foreign_kinds: [u64; 2],
    /// Requests nginx refused (400) before choosing a location, by the rules of
    /// [`uri`]; counted as not_status.
    pub rejected: u64,
    pub api: u64,
    pub legacy: u64,
    pub not_status: u64,
    pub other_values: Vec<(Vec<u8>, u64)>,
    /// Status requests with another header value beyond [`MAX_OTHER_VALUES`] distinct ones.
    pub other_values_unlisted: u64,
    pub by_header: u64,
    pub by_path: u64,
    pub statuses: Box<[u64; 1000]>,
    pub legacy_statuses: Box<[u64; 1000]>,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    pub first_legacy: Option<i64>,
    pub last_legacy: Option<i64>,
    pub legacy_in_quiet: u64,
    pub windows: BTreeMap<i64, Window>,
    pub clients: HashMap<Box<[u8]>, Caller>,
    pub agents: HashMap<Box<[u8]>, Caller>,
    /// The paths of legacy requests (without arguments), at most [`MAX_PATHS`].
    pub paths: HashMap<Box<[u8]>, Caller>,
    current_key: i64,
    /// `current_key × window`, or `i64::MAX` when no window is being filled.
    current_start: i64,
    current: Window,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            physical_lines: 0,
            lines: 0,
            malformed: 0,
            malformed_at: Vec::new(),
            overlong: 0,
            prefixed: 0,
            foreign: 0,
            foreign_at: Vec::new(),
            foreign_kinds: [0; 2],
            rejected: 0,
            api: 0,
            legacy: 0,
            not_status: 0,
            other_values: Vec::new(),
            other_values_unlisted: 0,
            by_header: 0,
            by_path: 0,
            statuses: Box::new([0; 1000]),
            legacy_statuses: Box::new([0; 1000]),
            first_ts: None,
            last_ts: None,
            first_legacy: None,
            last_legacy: None,
            legacy_in_quiet: 0,
            windows: BTreeMap::new(),
            clients: HashMap::new(),
            agents: HashMap::new(),
            paths: HashMap::new(),
            current_key: i64::MIN,
            current_start: i64::MAX,
            current: Window::default(),
        }
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    a.max(b)
}

/// Most distinct legacy paths remembered: a log full of cache-busting paths must not
/// grow memory without bound.
pub const MAX_PATHS: usize = 10_000;

fn add_path(map: &mut HashMap<Box<[u8]>, Caller>, key: &[u8], hits: u64, last: i64) {
    if map.len() < MAX_PATHS || map.contains_key(key) {
        add_caller(map, key, hits, last);
    }
}

fn add_caller(map: &mut HashMap<Box<[u8]>, Caller>, key: &[u8], hits: u64, last: i64) {
    match map.get_mut(key) {
        Some(caller) => {
            caller.hits += hits;
            caller.last = caller.last.max(last);
        }
        None => {
            map.insert(key.into(), Caller { hits, last });
        }
    }
}

impl Tally {
    /// Folds the window being filled into the map; call before reading the windows.
    pub fn finish(&mut self) {
        if self.current.lines > 0 {
            *self.windows.entry(self.current_key).or_default() += self.current;
        }
        self.current = Window::default();
        self.current_key = i64::MIN;
        self.current_start = i64::MAX;
    }

    /// Adds a later stretch; its line numbers are shifted by `line_offset`.
    pub fn merge(&mut self, mut other: Tally, line_offset: u64) {
        self.finish();
        other.finish();
        self.physical_lines += other.physical_lines;
        self.lines += other.lines;
        self.malformed += other.malformed;
        for (source, line) in other.malformed_at {
            if self.malformed_at.len() < MALFORMED_SHOWN {
                self.malformed_at.push((source, line + line_offset));
            }
        }
        self.overlong += other.overlong;
        self.prefixed += other.prefixed;
        self.foreign += other.foreign;
        for (source, line) in other.foreign_at {
            if self.foreign_at.len() < MALFORMED_SHOWN {
                self.foreign_at.push((source, line + line_offset));
            }
        }
        for (mine, theirs) in self.foreign_kinds.iter_mut().zip(other.foreign_kinds) {
            *mine += theirs;
        }
        self.rejected += other.rejected;
        self.api += other.api;
        self.legacy += other.legacy;
        self.not_status += other.not_status;
        for (value, n) in other.other_values {
            let listed = self.other_values.len();
            match self.other_values.iter_mut().find(|(v, _)| *v == value) {
                Some((_, count)) => *count += n,
                None if listed < MAX_OTHER_VALUES => self.other_values.push((value, n)),
                None => self.other_values_unlisted += n,
            }
        }
        self.other_values_unlisted += other.other_values_unlisted;
        self.by_header += other.by_header;
        self.by_path += other.by_path;
        for (mine, theirs) in self.statuses.iter_mut().zip(other.statuses.iter()) {
            *mine += theirs;
        }
        for (mine, theirs) in self
            .legacy_statuses
            .iter_mut()
            .zip(other.legacy_statuses.iter())
        {
            *mine += theirs;
        }
        self.first_ts = min_opt(self.first_ts, other.first_ts);
        self.last_ts = max_opt(self.last_ts, other.last_ts);
        self.first_legacy = min_opt(self.first_legacy, other.first_legacy);
        self.last_legacy = max_opt(self.last_legacy, other.last_legacy);
        self.legacy_in_quiet += other.legacy_in_quiet;
        for (key, window) in other.windows {
            *self.windows.entry(key).or_default() += window;
        }
        for (key, caller) in other.clients {
            add_caller(&mut self.clients, &key, caller.hits, caller.last);
        }
        for (key, caller) in other.agents {
            add_caller(&mut self.agents, &key, caller.hits, caller.last);
        }
        for (key, caller) in other.paths {
            add_path(&mut self.paths, &key, caller.hits, caller.last);
        }
    }
}

/// Counts lines of one source into a tally.
pub struct Scanner<'s> {
    settings: &'s Settings,
    source: usize,
    times: TimeCache,
    /// The normalised path of the line being classified (slow path only).
    path: Vec<u8>,
}

impl<'s> Scanner<'s> {
    pub fn new(settings: &'s Settings, source: usize) -> Scanner<'s> {
        Scanner {
            settings,
            source,
            times: TimeCache::default(),
            path: Vec::new(),
        }
    }

    /// Reads `input` to its end. Line numbers in the tally count from 1 at its start.
    pub fn scan(&mut self, input: &mut dyn Read, tally: &mut Tally) -> io::Result<()> {
        let mut buf = vec![0u8; BLOCK];
        let mut filled = 0;
        // Inside a line longer than MAX_LINE (already counted): bytes are dropped
        // until its newline.
        let mut skipping = false;
        let mut skipped: u64 = 0;
        loop {
            let n = match input.read(&mut buf[filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                if filled > 0 && !skipping {
                    self.line(&buf[..filled], tally);
                }
                return Ok(());
            }
            let end = filled + n;
            let mut start = 0;
            for newline in memchr_iter(b'\n', &buf[filled..end]) {
                let at = filled + newline;
                if skipping {
                    skipping = false;
                } else {
                    self.line(&buf[start..at], tally);
                }
                start = at + 1;
            }
            if skipping {
                skipped += (end - filled) as u64;
                if skipped > MAX_SKIPPED {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "line {} is longer than {} MiB: not an access log",
                            tally.physical_lines,
                            MAX_SKIPPED >> 20
                        ),
                    ));
                }
                filled = 0;
                continue;
            }
            buf.copy_within(start..end, 0);
            filled = end - start;
            if filled == buf.len() {
                if buf.len() >= MAX_LINE {
                    self.overlong(tally);
                    skipping = true;
                    skipped = buf.len() as u64;
                    filled = 0;
                } else {
                    // One line longer than the block: give it room, up to the cap.
                    buf.resize((buf.len() * 2).min(MAX_LINE), 0);
                }
            }
        }
    }

    fn overlong(&mut self, tally: &mut Tally) {
        tally.physical_lines += 1;
        tally.lines += 1;
        tally.overlong += 1;
        self.malformed(tally);
    }

    fn malformed(&self, tally: &mut Tally) {
        tally.malformed += 1;
        if tally.malformed_at.len() < MALFORMED_SHOWN {
            tally.malformed_at.push((self.source, tally.physical_lines));
        }
    }

    fn line(&mut self, line: &[u8], tally: &mut Tally) {
        tally.physical_lines += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return;
        }
        tally.lines += 1;
        let settings = self.settings;
        let mut fields = Fields::default();
        let read = if settings.format.matches(line, &mut fields) {
            self.time_and_status(&fields)
        } else {
            None
        };
        let (fields, ts, status) = match read {
            Some((ts, status)) => (fields, ts, status),
            // Only lines that are not access lines as they are pay for this, out of line.
            None => match self.unmatched(line, tally) {
                Some(found) => found,
                None => return,
            },
        };
        tally.first_ts = min_opt(tally.first_ts, Some(ts));
        tally.last_ts = max_opt(tally.last_ts, Some(ts));
        let class = self.classify(&fields, tally);
        if let Some(status) = status {
            tally.statuses[status] += 1;
        }
        // Lines come in time order, so the window rarely changes: a range check
        // spares a division per line.
        if ts < tally.current_start || ts - tally.current_start >= settings.window_s {
            let key = ts.div_euclid(settings.window_s);
            tally.finish();
            tally.current = tally.windows.remove(&key).unwrap_or_default();
            tally.current_key = key;
            tally.current_start = key * settings.window_s;
        }
        let window = &mut tally.current;
        window.lines += 1;
        match class {
            Class::Api => {
                tally.api += 1;
                window.api += 1;
            }
            Class::OtherValue(index) => {
                match tally.other_values.get_mut(index) {
                    Some((_, n)) => *n += 1,
                    None => tally.other_values_unlisted += 1,
                }
                window.other_values += 1;
            }
            Class::NotStatus => {
                tally.not_status += 1;
                window.not_status += 1;
            }
            Class::Legacy => {
                tally.legacy += 1;
                window.legacy += 1;
                self.legacy(&fields, ts, status, tally);
            }
        }
    }

    /// A line that does not match the format as it is: the fields of the access line
    /// behind the prefixes a log collector put in front of it (day2-core's
    /// [`collector`]: `docker compose logs` v1 and v2, `docker logs -t`, kubectl
    /// `--prefix`, journald and syslog), tried after each prefix so that a timestamp
    /// that is the format's own is never taken for one; else the line is counted as
    /// foreign or malformed and `None` returned.
    #[cold]
    #[inline(never)]
    fn unmatched<'l>(
        &mut self,
        line: &'l [u8],
        tally: &mut Tally,
    ) -> Option<(Fields<'l>, i64, Option<usize>)> {
        for (_, rest) in collector::layers(line) {
            let mut fields = Fields::default();
            if self.settings.format.matches(&line[rest..], &mut fields) {
                if let Some((ts, status)) = self.time_and_status(&fields) {
                    tally.prefixed += 1;
                    return Some((fields, ts, status));
                }
            }
        }
        self.not_access(line, tally);
        None
    }

    /// The time and status of a matched line, or `None` when they show the match is
    /// wrong: a first value that took a collector's prefix, a time that does not parse, or (for formats with `$status`) a status that
    /// is not three digits (nginx always writes `%03ui`; a wrong format can "match"
    /// when its last variable swallows the rest of the line).
    #[inline(always)]
    fn time_and_status(&mut self, fields: &Fields<'_>) -> Option<(i64, Option<usize>)> {
        let format = &self.settings.format;
        let ts = self.times.parse(format.time_kind, fields.time)?;
        let status = status_index(fields.status);
        if status.is_none() && format.logs_status {
            return None;
        }
        Some((ts, status))
    }

    /// Counts a line that is no access line: foreign (nginx's error log, the image's
    /// entrypoint, also behind a collector's prefix) or malformed.
    fn not_access(&self, line: &[u8], tally: &mut Tally) {
        let kind = foreign::kind(line)
            .or_else(|| collector::layers(line).find_map(|(_, rest)| foreign::kind(&line[rest..])));
        match kind {
            Some(kind) => {
                tally.foreign += 1;
                tally.foreign_kinds[kind as usize] += 1;
                if tally.foreign_at.len() < MALFORMED_SHOWN {
                    tally.foreign_at.push((self.source, tally.physical_lines));
                }
            }
            None => self.malformed(tally),
        }
    }

    fn classify(&mut self, fields: &Fields<'_>, tally: &mut Tally) -> Class {
        let escape = self.settings.format.escape;
        if let Some(value) = fields.header.filter(|v| !v.is_empty() && *v != b"-") {
            tally.by_header += 1;
            let value = escape.decode(value);
            return if value.eq_ignore_ascii_case(b"legacy") {
                Class::Legacy
            } else if value.eq_ignore_ascii_case(b"api") {
                Class::Api
            } else {
                let lower = value.to_ascii_lowercase();
                match tally.other_values.iter().position(|(v, _)| *v == lower) {
                    Some(index) => Class::OtherValue(index),
                    None if tally.other_values.len() < MAX_OTHER_VALUES => {
                        tally.other_values.push((lower, 0));
                        Class::OtherValue(tally.other_values.len() - 1)
                    }
                    None => Class::OtherValue(usize::MAX),
                }
            };
        }
        // No header logged (or lost, as with an Origin nginx allows): the location the
        // path reached decides.
        let settings = self.settings;
        let class = match self.location_path(fields.request, escape) {
            Ok((path, with_query)) => {
                if has_prefix(path, &settings.legacy_prefixes, with_query) {
                    Class::Legacy
                } else if has_prefix(path, &settings.api_prefixes, with_query) {
                    Class::Api
                } else {
                    return Class::NotStatus;
                }
            }
            Err(_) => {
                tally.rejected += 1;
                return Class::NotStatus;
            }
        };
        tally.by_path += 1;
        class
    }

    /// The path nginx matched its locations against, from the logged path variable:
    /// `$uri` as it is (after the log's escaping), `$request` and `$request_uri`
    /// normalised as nginx does (see [`uri`]). Lines with a plain target take the fast
    /// path: no copy, no decoding, the query string still attached (the `bool`).
    fn location_path<'l>(
        &'l mut self,
        value: &'l [u8],
        escape: Escape,
    ) -> Result<(&'l [u8], bool), Rejected> {
        let kind = self.settings.format.path_kind;
        let plain = match kind {
            PathKind::Request => fast_target(value),
            PathKind::RequestUri => uri::plain_path(value),
            PathKind::Uri => None,
        };
        if let Some(path) = plain {
            return Ok((path, true));
        }
        if kind == PathKind::Uri && (escape == Escape::None || memchr(b'\\', value).is_none()) {
            return Ok((value, false));
        }
        let decoded = escape.decode(value);
        match kind {
            PathKind::Uri => {
                self.path.clear();
                self.path.extend_from_slice(&decoded);
            }
            PathKind::Request => uri::normalise(
                uri::request_target(&decoded)?,
                self.settings.merge_slashes,
                &mut self.path,
            )?,
            PathKind::RequestUri => {
                uri::normalise(&decoded, self.settings.merge_slashes, &mut self.path)?
            }
        }
        Ok((&self.path, false))
    }

    fn legacy(&mut self, fields: &Fields<'_>, ts: i64, status: Option<usize>, tally: &mut Tally) {
        tally.first_legacy = min_opt(tally.first_legacy, Some(ts));
        tally.last_legacy = max_opt(tally.last_legacy, Some(ts));
        if ts >= self.settings.quiet_start && ts <= self.settings.until {
            tally.legacy_in_quiet += 1;
        }
        if let Some(status) = status {
            tally.legacy_statuses[status] += 1;
        }
        let escape = self.settings.format.escape;
        add_caller(&mut tally.clients, &escape.decode(client(fields)), 1, ts);
        add_caller(&mut tally.agents, &escape.decode(fields.user_agent), 1, ts);
        if let Ok((path, _)) = self.location_path(fields.request, escape) {
            let path = path.split(|&b| b == b'?').next().unwrap_or(path);
            add_path(&mut tally.paths, path, 1, ts);
        }
    }
}

/// The caller's address: behind the tunnel `$remote_addr` is cloudflared, so a logged
/// `CF-Connecting-IP` or the first `X-Forwarded-For` hop wins when present.
fn client<'a>(fields: &Fields<'a>) -> &'a [u8] {
    let present = |v: &'a [u8]| (!v.is_empty() && v != b"-").then_some(v);
    present(fields.cf_connecting_ip)
        .or_else(|| {
            present(fields.forwarded_for).map(|v| {
                let first = v.split(|&b| b == b',').next().unwrap_or(v);
                first.trim_ascii()
            })
        })
        .unwrap_or(fields.remote_addr)
}

/// The target of the usual request line (`GET /status/summary?x=1 HTTP/1.1`: an upper
/// case method, one space, the target, one space, a common protocol); `None` sends
/// any other line to [`uri::request_target`], which knows nginx's rules in full.
fn fast_target(request: &[u8]) -> Option<&[u8]> {
    let space = request.iter().position(|&b| !b.is_ascii_uppercase())?;
    if space == 0 || request[space] != b' ' {
        return None;
    }
    let rest = &request[space + 1..];
    let end = uri::plain_end(rest)?;
    // One word compare: `matches!` on byte strings may become `memcmp` calls.
    let common = <[u8; 8]>::try_from(rest.get(end + 1..)?)
        .is_ok_and(|p| matches!(&p, b"HTTP/1.1" | b"HTTP/1.0" | b"HTTP/2.0" | b"HTTP/3.0"));
    common.then_some(&rest[..end])
}

/// Whether nginx's prefix location `p` takes `path`: the path starts with it, or (for
/// a prefix ending in `/`) is the prefix without that slash, which nginx answers from
/// the same location with a 301 to the slashed form when the location proxies
/// (`auto_redirect`, set by `proxy_pass` and the other `*_pass` directives; nginx/nginx
/// `src/http/ngx_http_core_module.c`, `ngx_http_core_find_static_location`). The edge's
/// legacy location proxies, so `/status` is a legacy request. `with_query`: the path is
/// a raw target whose `?…` is still attached.
#[inline(always)]
fn has_prefix(path: &[u8], prefixes: &[Vec<u8>], with_query: bool) -> bool {
    // By hand, as with the format's literals: a prefix is shorter than a `memcmp` call.
    #[inline(always)]
    fn starts(path: &[u8], p: &[u8]) -> bool {
        path.len() >= p.len() && p.iter().zip(path).all(|(a, b)| a == b)
    }
    for p in prefixes {
        if starts(path, p) {
            return true;
        }
        if let Some((b'/', bare)) = p.split_last() {
            // The byte after the bare prefix is looked at first: it rarely fits.
            let fits = match path.get(bare.len()) {
                None => path.len() == bare.len(),
                Some(b'?') => with_query,
                Some(_) => false,
            };
            if fits && !bare.is_empty() && starts(path, bare) {
                return true;
            }
        }
    }
    false
}

fn status_index(text: &[u8]) -> Option<usize> {
    match text {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(usize::from(a - b'0') * 100 + usize::from(b - b'0') * 10 + usize::from(c - b'0'))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::format::COMBINED;

    fn settings() -> Settings {
        Settings {
            format: LogFormat::parse(COMBINED, "X-Status-Path").unwrap(),
            legacy_prefixes: vec![b"/status/".to_vec()],
            api_prefixes: vec![b"/api/status/".to_vec()],
            window_s: 3600,
            merge_slashes: true,
            quiet_start: 0,
            until: i64::MAX,
        }
    }

    fn line(ts: &str, path: &str, addr: &str) -> String {
        format!("{addr} - - [{ts}] \"GET {path} HTTP/1.1\" 200 5 \"-\" \"mon/1\"\n")
    }

    #[test]
    fn legacy_paths_are_counted_without_their_arguments_and_bounded() {
        let settings = settings();
        let mut text = String::new();
        for path in [
            "/status/summary?x=1",
            "/status/summary",
            "/status/health",
            "/api/status/summary",
        ] {
            text.push_str(&line("28/Nov/2026:00:57:46 +0000", path, "10.0.0.1"));
        }
        let mut tally = Tally::default();
        Scanner::new(&settings, 0)
            .scan(&mut text.as_bytes(), &mut tally)
            .unwrap();
        assert_eq!(tally.paths.len(), 2);
        assert_eq!(tally.paths[&b"/status/summary"[..]].hits, 2);
        assert_eq!(tally.paths[&b"/status/health"[..]].hits, 1);
        let mut full = HashMap::new();
        for i in 0..MAX_PATHS + 5 {
            add_path(&mut full, format!("/status/{i}").as_bytes(), 1, 0);
        }
        assert_eq!(full.len(), MAX_PATHS);
    }

    #[test]
    fn lines_split_across_blocks_and_stretches_merge_to_the_same_counts() {
        let settings = settings();
        let mut text = String::new();
        for i in 0..50 {
            let path = if i % 5 == 0 {
                "/status/summary"
            } else {
                "/api/status/summary"
            };
            text.push_str(&line("28/Nov/2026:00:57:46 +0000", path, "10.0.0.1"));
        }
        text.push_str("not a log line\n\n");
        text.push_str(&line("28/Nov/2026:02:00:00 +0000", "/", "10.0.0.2"));
        let mut whole = Tally::default();
        Scanner::new(&settings, 0)
            .scan(&mut text.as_bytes(), &mut whole)
            .unwrap();
        whole.finish();
        assert_eq!((whole.api, whole.legacy, whole.not_status), (40, 10, 1));
        assert_eq!((whole.lines, whole.malformed), (52, 1));
        assert_eq!(whole.malformed_at, vec![(0, 51)]);
        assert_eq!(whole.windows.len(), 2);
        assert_eq!(whole.clients[&b"10.0.0.1"[..]].hits, 10);

        let cut = text.find("not a log").unwrap();
        let (a, b) = text.split_at(cut);
        let mut first = Tally::default();
        Scanner::new(&settings, 0)
            .scan(&mut a.as_bytes(), &mut first)
            .unwrap();
        let mut second = Tally::default();
        Scanner::new(&settings, 0)
            .scan(&mut b.as_bytes(), &mut second)
            .unwrap();
        let offset = first.physical_lines;
        first.merge(second, offset);
        assert_eq!((first.api, first.legacy, first.malformed), (40, 10, 1));
        assert_eq!(first.malformed_at, whole.malformed_at);
        assert_eq!(first.windows, whole.windows);
    }

    #[test]
    fn the_client_is_the_first_forwarded_hop_when_logged() {
        let fields = Fields {
            remote_addr: b"172.18.0.5",
            forwarded_for: b"203.0.113.9, 172.18.0.5",
            ..Fields::default()
        };
        assert_eq!(client(&fields), b"203.0.113.9");
        assert_eq!(
            fast_target(b"GET /status/x HTTP/1.1"),
            Some(&b"/status/x"[..])
        );
        assert_eq!(fast_target(b"\\x16\\x03"), None);
        assert_eq!(status_index(b"410"), Some(410));
        assert_eq!(status_index(b"-"), None);
    }
}
