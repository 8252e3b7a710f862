//! `%UserProfile%\.wslconfig` read the way WSL reads it: its `[wsl2]` memory,
//! processors and swap are what Docker Desktop's engine (and Ollama in it) can use.
//!
//! WSL is the referee. The reader below is a port of WSL's own parser,
//! `ParseConfigFile` in microsoft/WSL `src/shared/configfile/configfile.cpp`, as
//! `wsl::core::Config::ParseConfigFile` (`src/windows/common/WslCoreConfig.cpp`)
//! calls it for `.wslconfig`: with `CFG_SKIP_INVALID_LINES`, so a line WSL cannot
//! read is skipped with a warning and the rest of the file still counts. Its rules:
//!
//! - **Encoding.** The file is opened with `_wfopen(path, L"rt,ccs=UTF-8")`: a UTF-8
//!   or UTF-16 LE byte-order mark picks that encoding, no BOM means UTF-8, and text
//!   mode turns CRLF into LF (MicrosoftDocs/cpp-docs,
//!   `docs/c-runtime-library/reference/fopen-wfopen.md`, "ccs flag / BOM" table).
//!   UTF-16 BE and UTF-16 without a BOM are not read as such; here they (and bytes
//!   that are not UTF-8) are a usage error naming the line.
//! - **Lines.** Spaces and tabs (only those) before anything are skipped. `#` starts a
//!   comment; `;` does not (a line starting with it is an invalid key name).
//! - **Sections.** `[` then a letter, then letters and digits, then `]`: no spaces,
//!   `-`, `_` or `.` inside. After `]` only spaces, tabs and a `#` comment may follow;
//!   anything else (`[wsl2] ; budget`) makes WSL skip the line *without* changing
//!   the section, and its name buffer is left half-overwritten: the keys that follow
//!   get the old section's length of the new name ([`parse`] reproduces this).
//! - **Keys.** A letter, then letters and digits, matched case-insensitively as
//!   `section.key` (`strcasecmp`); a key before any section has no section part and
//!   is unknown. Then optional spaces, `=`, optional spaces.
//! - **Values.** Up to the end of the line or an unquoted `#`. `"` toggles quoting
//!   and is dropped (`"a # b"` keeps the `#`, quoted spaces are kept); `\\`, `\"`,
//!   `\b`, `\n`, `\t` are escapes, `\` at the end of a line continues the value on
//!   the next one, any other escape (`\m`, `\#`) or an unclosed quote makes WSL skip
//!   the line. Trailing spaces and tabs are trimmed. An empty value is a value.
//! - **Duplicates.** The first occurrence of a setting wins (even when its value is
//!   invalid); later ones are skipped with a warning (`ConfigKey::Parse`). The old
//!   `[experimental]` names of graduated settings are the same setting.
//! - **Unknown keys** are warned about under their full name (`ws12.memory`) and
//!   otherwise ignored; the known ones are `ConfigSetting` in
//!   `src/windows/common/WslCoreConfig.h`.
//!
//! The values: memory and swap through WSL's `ParseMemorySize`
//! (`src/shared/inc/stringshared.h`, see [`memory_size`]), processors through
//! `strtol(value, &end, 0)` (`ConfigKey::ParseImpl(int&)`, see [`integer`]). What
//! they mean is `wsl::core::Config::Initialize` (`WslCoreConfig.cpp`): memory 0 or
//! unset is 50% of the host's RAM, anything else at least 256 MB; processors 0 or
//! less (or unset) is every logical processor; swap unset is 25% of the VM's memory
//! rounded up to a whole GB, and `swap=0` means no swap at all.

use std::path::Path;

use day2_core::{Problem, Record};
use serde_json::json;

use crate::size;
use day2_core::bounded::quoted;

/// Files larger than this (1 MiB) are not a `.wslconfig`: reading stops at the cap.
pub const SIZE_LIMIT: u64 = 1024 * 1024;

/// One `key = value` statement as WSL reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name WSL looks up, `section.key` as written (`wsl2.memory`, `ws12.Memory`).
    pub name: String,
    /// The value after WSL's quote, escape, comment and trimming rules.
    pub value: String,
    /// 1-based line where the key starts.
    pub line: usize,
}

impl Entry {
    /// The key without its section.
    pub fn key(&self) -> &str {
        self.name
            .rsplit_once('.')
            .map_or(&self.name, |(_, key)| key)
    }

    /// The section part of the name, if any.
    pub fn section(&self) -> Option<&str> {
        self.name.rsplit_once('.').map(|(section, _)| section)
    }
}

/// A line WSL skips, with the warning WSL prints for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based line number.
    pub line: usize,
    /// WSL's reason, e.g. `Expected '='` or `Invalid key name`.
    pub reason: String,
    /// The `section.key` read before WSL gave up on the line, if it got that far.
    pub name: Option<String>,
}

/// What WSL reads from a file: the statements in order and the skipped lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub entries: Vec<Entry>,
    pub skipped: Vec<Skipped>,
}

/// The minimums the `[wsl2]` values are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub memory: u64,
    pub processors: u64,
    pub swap: u64,
}

/// Reads the file as WSL decodes it (see the module docs), as a stream (a FIFO
/// works) capped at [`SIZE_LIMIT`] by day2-core's reader. The error is one line:
/// `cannot read .wslconfig PATH: …` (reason `unreadable_input`) or `PATH:LINE: …`
/// (reason `invalid_wslconfig`); both are usage errors.
pub fn read(path: &Path) -> Result<String, Problem> {
    let shown = path.display();
    let bytes = day2_core::input::read_file(path, ".wslconfig", SIZE_LIMIT)?;
    decode(&bytes).map_err(|(line, message)| {
        Problem::new("invalid_wslconfig", format!("{shown}:{line}: {message}"))
    })
}

/// Decodes like `_wfopen(…, "rt,ccs=UTF-8")`: the BOM decides between UTF-8 and
/// UTF-16 LE, no BOM is UTF-8, CRLF becomes LF. The error names the 1-based line.
pub fn decode(bytes: &[u8]) -> Result<String, (usize, String)> {
    let text = match bytes {
        [0xFF, 0xFE, rest @ ..] => {
            if rest.len() % 2 != 0 {
                let line = 1 + rest.chunks(2).filter(|c| c == &[b'\n', 0]).count();
                return Err((line, "UTF-16 LE text with an odd number of bytes".into()));
            }
            let units = rest
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            let mut text = String::with_capacity(rest.len() / 2);
            for unit in char::decode_utf16(units) {
                match unit {
                    Ok(c) => text.push(c),
                    Err(_) => {
                        let line = 1 + text.matches('\n').count();
                        return Err((line, "UTF-16 LE text with an unpaired surrogate".into()));
                    }
                }
            }
            text
        }
        [0xFE, 0xFF, ..] => return Err((
            1,
            "UTF-16 BE text: WSL reads .wslconfig only as UTF-8 or UTF-16 LE (save it as UTF-8)"
                .into(),
        )),
        _ => {
            let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            if let Some(at) = body.iter().position(|&b| b == 0) {
                let line = 1 + body[..at].iter().filter(|&&b| b == b'\n').count();
                return Err((
                    line,
                    "NUL bytes: UTF-16 saved without a byte-order mark? WSL reads a file without \
                     one as UTF-8 and would ignore every line (save it as UTF-8)"
                        .into(),
                ));
            }
            match std::str::from_utf8(body) {
                Ok(text) => text.to_owned(),
                Err(e) => {
                    let at = e.valid_up_to();
                    let line = 1 + body[..at].iter().filter(|&&b| b == b'\n').count();
                    return Err((
                        line,
                        "not UTF-8 text: WSL reads a file without a byte-order mark as UTF-8 \
                         (save it as UTF-8)"
                            .into(),
                    ));
                }
            }
        }
    };
    Ok(text.replace("\r\n", "\n"))
}

/// The characters of the file, read one at a time like `fgetwc`, with the line of
/// the reading position.
struct Reader {
    chars: Vec<char>,
    pos: usize,
    /// 1-based line of the next character.
    line: usize,
    /// A read has hit the end (`feof`).
    eof: bool,
}

impl Reader {
    fn getc(&mut self) -> Option<char> {
        let Some(&c) = self.chars.get(self.pos) else {
            self.eof = true;
            return None;
        };
        self.pos += 1;
        if c == '\n' || (c == '\r' && self.chars.get(self.pos) != Some(&'\n')) {
            self.line += 1;
        }
        Some(c)
    }
}

/// `isalpha`/`isalnum` of the C locale: ASCII only.
fn is_alpha(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphabetic())
}

/// The character if it is a letter or digit (`isalnum`), else `None`.
fn alnum(c: Option<char>) -> Option<char> {
    c.filter(char::is_ascii_alphanumeric)
}

/// WSL's `IsHSpace`: a space or a tab, nothing else.
fn is_hspace(c: Option<char>) -> bool {
    matches!(c, Some(' ' | '\t'))
}

/// `std::string::c_str()` of WSL's key buffer: up to the first NUL.
fn c_str(buf: &[char]) -> String {
    buf.iter().take_while(|&&c| c != '\0').collect()
}

/// Parses decoded text the way WSL's `ParseConfigFile` does (a line-for-line port
/// of its state machine; see the module docs for the rules). Never fails: what WSL
/// skips is in [`Parsed::skipped`].
pub fn parse(text: &str) -> Parsed {
    let mut r = Reader {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
        eof: false,
    };
    let mut out = Parsed::default();
    // WSL's `key` buffer: the section name, then `section.key`; `section_len` is the
    // length of the last section header that was read whole.
    let mut key: Vec<char> = Vec::new();
    let mut section_len = 0usize;
    let mut ch: Option<char> = None;
    loop {
        // A comment runs to the next LF (a CR before it is skipped).
        if ch == Some('#') {
            loop {
                ch = r.getc();
                if ch == Some('\r') {
                    ch = r.getc();
                }
                if ch.is_none() || ch == Some('\n') {
                    break;
                }
            }
        }
        if r.eof {
            return out;
        }
        ch = r.getc();
        while is_hspace(ch) {
            ch = r.getc();
        }
        let line = r.line;
        // Why a line is skipped, and the name read so far.
        let skipped: (&str, Option<String>);
        match ch {
            None | Some('\r' | '\n' | '#') => continue,
            Some('[') => {
                ch = r.getc();
                if !is_alpha(ch) {
                    skipped = ("Invalid section name", None);
                } else {
                    key.clear();
                    while let Some(c) = alnum(ch) {
                        key.push(c);
                        ch = r.getc();
                    }
                    if ch != Some(']') {
                        skipped = ("Expected ']'", None);
                    } else {
                        ch = r.getc();
                        while is_hspace(ch) {
                            ch = r.getc();
                        }
                        match ch {
                            // A `#` here is left in `ch` for the comment skip above.
                            None | Some('\n' | '\r' | '#') => {
                                section_len = key.len();
                                continue;
                            }
                            _ => skipped = ("Expected ' ' or '\\n' after ']'", None),
                        }
                    }
                }
            }
            Some(_) if !is_alpha(ch) => skipped = ("Invalid key name", None),
            Some(_) => match key_value(&mut r, &mut ch, &mut key, section_len, line) {
                Ok(entry) => {
                    out.entries.push(entry);
                    continue;
                }
                Err(why) => skipped = (why.0, Some(why.1)),
            },
        }
        // An invalid line: WSL skips to the next LF.
        out.skipped.push(Skipped {
            line,
            reason: skipped.0.to_owned(),
            name: skipped.1,
        });
        while ch.is_some() && ch != Some('\n') {
            ch = r.getc();
        }
    }
}

/// `section.key = value`, the first letter of the key in `ch`. On error, WSL's
/// reason and the name read so far; `ch` is left where WSL's `InvalidLine` starts.
fn key_value(
    r: &mut Reader,
    ch: &mut Option<char>,
    key: &mut Vec<char>,
    section_len: usize,
    line: usize,
) -> Result<Entry, (&'static str, String)> {
    // `key.resize(sectionLength)`: pads with NULs when the buffer was shortened by
    // a section header WSL rejected.
    key.resize(section_len, '\0');
    if !key.is_empty() {
        key.push('.');
    }
    while let Some(c) = alnum(*ch) {
        key.push(c);
        *ch = r.getc();
    }
    while is_hspace(*ch) {
        *ch = r.getc();
    }
    if *ch != Some('=') {
        return Err(("Expected '='", c_str(key)));
    }
    *ch = r.getc();
    while is_hspace(*ch) {
        *ch = r.getc();
    }
    let mut value = String::new();
    let mut trimmed = 0usize;
    let mut in_quote = false;
    while let Some(c) = ch.filter(|c| *c != '\n' && *c != '\r') {
        match c {
            '"' => in_quote = !in_quote,
            '\\' => match r.getc() {
                Some(e @ ('\\' | '"')) => value.push(e),
                Some('b') => value.push('\u{8}'),
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                // A CR is dropped; an escaped LF continues the value on the next line.
                Some('\r' | '\n') => {}
                _ => return Err(("Invalid escaped character", c_str(key))),
            },
            '#' if !in_quote => break,
            c => value.push(c),
        }
        if !is_hspace(Some(c)) {
            trimmed = value.len();
        }
        *ch = r.getc();
    }
    if in_quote {
        return Err(("Expected '\"'", c_str(key)));
    }
    value.truncate(trimmed);
    Ok(Entry {
        name: c_str(key),
        value,
        line,
    })
}

/// The settings WSL reads from `.wslconfig`: `ConfigSetting` in microsoft/WSL
/// `src/windows/common/WslCoreConfig.h`. Names in one group are one setting (the
/// `[experimental]` names of graduated features are aliases).
const KNOWN: &[&[&str]] = &[
    &["wsl2.kernel"],
    &["wsl2.kernelCommandLine"],
    &["wsl2.kernelModules"],
    &["wsl2.memory"],
    &["wsl2.processors"],
    &["wsl2.debugConsole"],
    &["wsl2.earlyBootLogging"],
    &["wsl2.swap"],
    &["wsl2.swapFile"],
    &["wsl2.localhostForwarding"],
    &["wsl2.nestedVirtualization"],
    &["wsl2.virtio9p"],
    &["wsl2.virtiofs"],
    &["wsl2.kernelDebugPort"],
    &["wsl2.gpuSupport"],
    &["wsl2.guiApplications"],
    &["wsl2.systemDistro"],
    &["wsl2.telemetry"],
    &["wsl2.vmIdleTimeout"],
    &["wsl2.debugConsoleLogFile"],
    &["wsl2.kernelBootTimeout"],
    &["wsl2.distributionStartTimeout"],
    &["wsl2.virtio"],
    &["wsl2.hostFileSystemAccess"],
    &["wsl2.mountDeviceTimeout"],
    &["wsl2.hardwarePerformanceCounters"],
    &["wsl2.vmSwitch"],
    &["wsl2.macAddress"],
    &["wsl2.dhcp"],
    &["wsl2.dhcpTimeout"],
    &["wsl2.ipv6"],
    &["wsl2.dnsProxy"],
    &["wsl2.safeMode"],
    &["wsl2.defaultVhdSize"],
    &["wsl2.crashDumpFolder"],
    &["wsl2.maxCrashDumpCount"],
    &["general.distributionInstallPath"],
    &["general.instanceIdleTimeout"],
    &["wsl2.loadDefaultKernelModules"],
    &["wsl2.loadKernelModules"],
    &["wsl2.isolateDistroCgroup"],
    &["wsl2.networkingMode", "experimental.networkingMode"],
    &["wsl2.dnsTunneling", "experimental.dnsTunneling"],
    &["wsl2.firewall", "experimental.firewall"],
    &["wsl2.autoProxy", "experimental.autoProxy"],
    &["experimental.autoMemoryReclaim"],
    &["experimental.sparseVhd"],
    &["experimental.bestEffortDnsParsing"],
    &["experimental.dnsTunnelingIpAddress"],
    &["experimental.initialAutoProxyTimeout"],
    &["experimental.ignoredPorts"],
    &["experimental.hostAddressLoopback"],
    &["experimental.setVersionDebug"],
    &["experimental.swiotlb"],
    &["experimental.virtioFsAggregateShares"],
];

/// The setting (index into [`KNOWN`]) a name means, matched like `strcasecmp`.
fn setting_of(name: &str) -> Option<usize> {
    KNOWN
        .iter()
        .position(|names| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
}

/// The bytes WSL's value parsers see: `value += static_cast<char>(ch)` keeps the
/// low byte of each character.
fn wsl_bytes(value: &str) -> Vec<u8> {
    value.chars().map(|c| c as u32 as u8).collect()
}

/// C's `isspace` in the C locale, which `strtoull`/`strtol` skip first.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// C's `strtoull(text, &end, 10)`: the value (wrapped for a `-`, `u64::MAX` on
/// overflow) and where the number ended (0 when there was none).
fn strtoull(text: &[u8]) -> (u64, usize) {
    let mut i = text.iter().take_while(|&&b| c_space(b)).count();
    let negative = text.get(i) == Some(&b'-');
    if matches!(text.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let start = i;
    let mut value = 0u64;
    let mut overflow = false;
    while let Some(d) = text.get(i).filter(|b| b.is_ascii_digit()) {
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    match (overflow, negative) {
        (true, _) => (u64::MAX, i),
        (false, true) => (value.wrapping_neg(), i),
        (false, false) => (value, i),
    }
}

/// WSL's `ParseMemorySize` (microsoft/WSL `src/shared/inc/stringshared.h`), which
/// reads `memory`, `swap` and the other sizes of `.wslconfig`: a decimal whole
/// number (C `strtoull`: leading C whitespace and a sign allowed, `0` only as the
/// single digit `0`), then nothing (bytes) or exactly one of `B`, `K`, `KB`, `M`,
/// `MB`, `G`, `GB`, `T`, `TB` — upper case, no space, powers of 1024. The product
/// wraps around 2^64 as WSL's does. `None` when WSL rejects the string (it then
/// warns "Invalid memory string" and keeps the default).
pub fn memory_size(value: &str) -> Option<u64> {
    let bytes = wsl_bytes(value);
    let (number, end) = strtoull(&bytes);
    if number == 0 && (bytes.first() != Some(&b'0') || end != 1) {
        return None;
    }
    let rest = &bytes[end..];
    if rest.is_empty() {
        return Some(number);
    }
    if rest.len() > 2 {
        return None;
    }
    [
        (&b"B"[..], 1u64),
        (b"KB", 1 << 10),
        (b"MB", 1 << 20),
        (b"GB", 1 << 30),
        (b"TB", 1 << 40),
    ]
    .into_iter()
    .find(|(suffix, _)| rest == &suffix[..1] || rest == *suffix)
    .map(|(_, factor)| number.wrapping_mul(factor))
}

/// WSL's integer values (`ConfigKey::ParseImpl(…, int&)` in `configfile.cpp`):
/// `strtol(value, &end, 0)` with Windows' 32-bit `long` — decimal, `0x` hex or
/// leading-`0` octal, saturating at the `int` range — and nothing may follow.
pub fn integer(value: &str) -> Option<i32> {
    let bytes = wsl_bytes(value);
    let mut i = bytes.iter().take_while(|&&b| c_space(b)).count();
    let negative = bytes.get(i) == Some(&b'-');
    if matches!(bytes.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let hex_digit = |b: Option<&u8>| b.is_some_and(u8::is_ascii_hexdigit);
    let radix = if bytes.get(i) == Some(&b'0')
        && matches!(bytes.get(i + 1), Some(b'x' | b'X'))
        && hex_digit(bytes.get(i + 2))
    {
        i += 2;
        16
    } else if bytes.get(i) == Some(&b'0') {
        8
    } else {
        10
    };
    let start = i;
    let mut magnitude = 0i64;
    while let Some(d) = bytes.get(i).and_then(|&b| (b as char).to_digit(radix)) {
        magnitude = (magnitude * i64::from(radix) + i64::from(d)).min(1 << 32);
        i += 1;
    }
    if bytes.is_empty() || i == start || i != bytes.len() {
        return None;
    }
    let signed = if negative { -magnitude } else { magnitude };
    Some(signed.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// What WSL does when a budget key is unset, for messages.
fn default_of(key: &str) -> &'static str {
    match key {
        "memory" => "WSL gives the VM 50% of the host's RAM",
        "processors" => "WSL gives the VM every logical processor",
        _ => "WSL sizes swap at 25% of the VM's memory, rounded up to a whole GB",
    }
}

/// The smallest memory WSL gives a VM when `memory` is set (`Initialize`).
const MEMORY_FLOOR: u64 = 256 * 1024 * 1024;

/// One record per checked key of `[wsl2]` (memory, processors, swap), then one
/// `wslconfig.line` warning per line or key WSL skips or ignores, in file order.
pub fn check(path: &Path, parsed: &Parsed, min: Thresholds) -> Vec<Record> {
    let target = path.display().to_string();
    // Which statement WSL applies for each setting: the first (ConfigKey::Parse).
    let mut applied: Vec<Option<&Entry>> = vec![None; KNOWN.len()];
    let mut notes: Vec<(usize, Record)> = Vec::new();
    let mut unknown: Vec<&Entry> = Vec::new();
    for entry in &parsed.entries {
        let Some(setting) = setting_of(&entry.name) else {
            unknown.push(entry);
            let mut message = format!(
                "line {}: WSL does not know the key {} and ignores it",
                entry.line,
                quoted(&entry.name)
            );
            if let Some(known) = KNOWN.iter().flat_map(|names| names.iter()).find(|n| {
                n.rsplit_once('.')
                    .is_some_and(|(_, k)| k.eq_ignore_ascii_case(entry.key()))
            }) {
                let section = known.split_once('.').map_or("", |(s, _)| s);
                match entry.section() {
                    Some(written) => message.push_str(&format!(
                        " (WSL reads {} under [{section}], not [{written}])",
                        entry.key()
                    )),
                    None => message.push_str(&format!(
                        " (it comes before any [section]; WSL reads it under [{section}])"
                    )),
                }
            }
            notes.push((
                entry.line,
                Record::warn("wslconfig.line", &target, "unknown_key")
                    .message(message)
                    .data(json!({"line": entry.line, "name": entry.name})),
            ));
            continue;
        };
        match applied[setting] {
            None => applied[setting] = Some(entry),
            Some(first) => notes.push((
                entry.line,
                Record::warn("wslconfig.line", &target, "duplicate_key")
                    .message(format!(
                        "line {}: {} is already set on line {}; WSL keeps the first and ignores this one",
                        entry.line, entry.name, first.line
                    ))
                    .data(json!({"line": entry.line, "name": entry.name, "first_line": first.line})),
            )),
        }
    }
    for skipped in &parsed.skipped {
        notes.push((
            skipped.line,
            Record::warn("wslconfig.line", &target, "ignored_line")
                .message(format!(
                    "line {}: WSL skips this line ({})",
                    skipped.line, skipped.reason
                ))
                .data(json!({"line": skipped.line, "name": skipped.name, "wsl_reason": skipped.reason})),
        ));
    }
    notes.sort_by_key(|(line, _)| *line);

    let mut records = Vec::new();
    for key in ["memory", "processors", "swap"] {
        let check = format!("wslconfig.{key}");
        let name = format!("wsl2.{key}");
        let entry = setting_of(&name).and_then(|s| applied[s]);
        let Some(entry) = entry else {
            records.push(unset(&check, &target, key, &unknown, &parsed.skipped));
            continue;
        };
        records.push(budget(&check, &target, key, entry, min));
    }
    records.extend(notes.into_iter().map(|(_, r)| r));
    records
}

/// The record of a budget key WSL does not set: `missing_key` (warn), or
/// `not_read` (fail) when the file tries to set it where WSL does not read it.
fn unset(check: &str, target: &str, key: &str, unknown: &[&Entry], skipped: &[Skipped]) -> Record {
    let stray = unknown.iter().find(|e| e.key().eq_ignore_ascii_case(key));
    let stray_line = skipped.iter().find(|s| {
        s.name.as_deref().is_some_and(|n| {
            n.rsplit('.')
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case(key))
        })
    });
    match (stray, stray_line) {
        (Some(entry), _) => {
            let place = match entry.section() {
                Some(section) => format!("under [{section}], which is not [wsl2]"),
                None => "before any [section]".to_owned(),
            };
            Record::fail(check, target, "not_read")
                .message(format!(
                    "line {}: {key}={} is {place}, so WSL does not read it: {}",
                    entry.line,
                    quoted(&entry.value),
                    default_of(key)
                ))
                .data(json!({"key": key, "value": entry.value, "line": entry.line, "name": entry.name}))
        }
        (None, Some(line)) => Record::fail(check, target, "not_read")
            .message(format!(
                "line {}: WSL skips the line that sets {key} ({}): {}",
                line.line,
                line.reason,
                default_of(key)
            ))
            .data(json!({"key": key, "line": line.line, "name": line.name})),
        (None, None) => Record::warn(check, target, "missing_key")
            .message(format!("[wsl2] {key} is not set: {}", default_of(key)))
            .data(json!({"key": key})),
    }
}

/// The record of a budget key WSL reads, judged by what WSL makes of its value.
fn budget(check: &str, target: &str, key: &str, entry: &Entry, min: Thresholds) -> Record {
    let line = entry.line;
    let value = &entry.value;
    let is_size = key != "processors";
    // (parsed, effective) where effective is what the VM gets, None when that is
    // WSL's host-dependent default.
    let read: Option<(i128, Option<u64>)> = if is_size {
        memory_size(value).map(|n| {
            let effective = match key {
                "memory" if n == 0 => None,
                "memory" => Some(n.max(MEMORY_FLOOR)),
                // UINT64_MAX is WSL's "unset" for swap.
                _ if n == u64::MAX => None,
                _ => Some(n),
            };
            (i128::from(n), effective)
        })
    } else {
        integer(value).map(|n| (i128::from(n), u64::try_from(n).ok().filter(|&n| n > 0)))
    };
    let minimum = match key {
        "memory" => min.memory,
        "processors" => min.processors,
        _ => min.swap,
    };
    let shown = |n: u64| {
        if is_size {
            size::human(n)
        } else {
            n.to_string()
        }
    };
    let data = json!({
        "key": key,
        "value": value,
        "line": line,
        "parsed": read.map(|(n, _)| if n < 0 { json!(n as i64) } else { json!(n as u64) }),
        "effective": read.and_then(|(_, e)| e),
        "minimum": minimum,
    });
    let unset_mark = key == "swap" && memory_size(value) == Some(u64::MAX);
    // Quoted in JSON's notation: a value's control characters are escaped.
    let value = &quoted(value);
    let record = match read {
        None => {
            let expected = if is_size {
                "a size WSL reads: a whole number, then nothing (bytes) or B, K, KB, M, MB, G, GB, T, TB in capitals with no space, e.g. 8GB"
            } else {
                "a whole number WSL reads (decimal, 0x hex or 0-prefixed octal)"
            };
            Record::fail(check, target, "bad_value").message(format!(
                "line {line}: {key}={value} is not {expected}; WSL ignores it: {}",
                default_of(key)
            ))
        }
        Some((_, None)) if unset_mark => {
            Record::warn(check, target, "means_default").message(format!(
                "line {line}: swap={value} is {}, WSL's mark for unset: {}",
                u64::MAX,
                default_of(key)
            ))
        }
        Some((n, None)) => Record::warn(check, target, "means_default").message(format!(
            "line {line}: {key}={value} is {n}, which WSL reads as unset: {}",
            default_of(key)
        )),
        Some((_, Some(0))) => {
            // Only swap gets here: memory 0 is the default, processors 0 too.
            if minimum == 0 {
                Record::pass(check, target)
            } else {
                Record::fail(check, target, "no_swap").message(format!(
                    "line {line}: swap={value} turns swap off (the minimum asked for is {})",
                    shown(minimum)
                ))
            }
        }
        Some((n, Some(effective))) if effective < minimum => {
            let raised = if key == "memory" && effective != n as u64 {
                format!(", which WSL raises to {},", size::human(effective))
            } else {
                String::new()
            };
            Record::fail(check, target, "below_threshold").message(format!(
                "line {line}: {key}={value}{raised} is below the minimum {}",
                shown(minimum)
            ))
        }
        Some(_) => Record::pass(check, target),
    };
    record.data(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<(String, String, usize)> {
        parse(text)
            .entries
            .into_iter()
            .map(|e| (e.name, e.value, e.line))
            .collect()
    }

    fn one(name: &str, value: &str, line: usize) -> Vec<(String, String, usize)> {
        vec![(name.to_owned(), value.to_owned(), line)]
    }

    fn skipped(text: &str) -> Vec<(usize, String)> {
        parse(text)
            .skipped
            .into_iter()
            .map(|s| (s.line, s.reason))
            .collect()
    }

    #[test]
    fn decodes_the_encodings_wsl_opens_with_ccs_utf8() {
        let text = "[wsl2]\r\nmemory=4GB\r\n";
        assert_eq!(decode(text.as_bytes()).unwrap(), "[wsl2]\nmemory=4GB\n");
        let bom: Vec<u8> = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
        assert_eq!(decode(&bom).unwrap(), "[wsl2]\nmemory=4GB\n");
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&utf16).unwrap(), "[wsl2]\nmemory=4GB\n");
        // No BOM: UTF-16 is not recognised by WSL.
        let bare: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&bare).unwrap_err().0, 1);
        let mut big = vec![0xFE, 0xFF];
        big.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert!(decode(&big).unwrap_err().1.contains("UTF-16 BE"));
        assert_eq!(decode(b"[wsl2]\nmemory=\xff\n").unwrap_err().0, 2);
        assert_eq!(decode(&[0xFF, 0xFE, b'[']).unwrap_err().0, 1);
    }

    /// configfile.cpp, value loop: `case '#': if (!inQuote) { trailingComment… }`
    /// and "Track the length without trailing space".
    #[test]
    fn values_end_at_an_unquoted_hash_and_are_trimmed() {
        assert_eq!(
            entries("[wsl2]\nmemory=8GB  # Allocate 8 GB\n"),
            one("wsl2.memory", "8GB", 2)
        );
        assert_eq!(
            entries("[wsl2]\nkernelCommandLine = \"a # b\" # c\n"),
            one("wsl2.kernelCommandLine", "a # b", 2)
        );
        assert_eq!(
            entries("[wsl2]\nx=\" keep \"\t\n"),
            one("wsl2.x", " keep ", 2)
        );
        assert_eq!(entries("[wsl2]\nx=a\"b c\"d\n"), one("wsl2.x", "ab cd", 2));
        assert_eq!(
            entries("[wsl2]\n\t memory \t=\t \n"),
            one("wsl2.memory", "", 2)
        );
    }

    /// configfile.cpp: only `#` starts a comment; `;` is not a letter, so a line
    /// starting with it is "Invalid key name", and inside a value it is text.
    #[test]
    fn a_semicolon_is_not_a_comment() {
        assert_eq!(
            skipped("; budget\n[wsl2]\n"),
            vec![(1, "Invalid key name".into())]
        );
        assert_eq!(
            entries("[wsl2]\nmemory=8GB ; budget\n"),
            one("wsl2.memory", "8GB ; budget", 2)
        );
    }

    /// configfile.cpp, escapes: `\\ \" \b \n \t`, backslash-newline continues,
    /// anything else skips the line.
    #[test]
    fn escapes_and_line_continuation() {
        assert_eq!(
            entries("[wsl2]\nmemory=8\\\nGB\nswap=1GB\n"),
            vec![
                ("wsl2.memory".into(), "8GB".into(), 2),
                ("wsl2.swap".into(), "1GB".into(), 4)
            ]
        );
        assert_eq!(
            entries("[wsl2]\nkernel=C:\\\\k\\\"x\\\"\\tz\n"),
            one("wsl2.kernel", "C:\\k\"x\"\tz", 2)
        );
        // WSL's own test: `a=a\m` is "Invalid escaped character: 'm'".
        let parsed = parse("[wsl2]\nkernel=C:\\Users\\me\nmemory=4GB\n");
        assert_eq!(parsed.skipped[0].line, 2);
        assert_eq!(parsed.skipped[0].name.as_deref(), Some("wsl2.kernel"));
        assert_eq!(
            parsed.entries,
            vec![Entry {
                name: "wsl2.memory".into(),
                value: "4GB".into(),
                line: 3
            }]
        );
        assert_eq!(
            skipped("[wsl2]\nmemory=\"8GB\n"),
            vec![(2, "Expected '\"'".into())]
        );
    }

    /// configfile.cpp ParseSection and ParseKeyValue, with WSL's own warnings
    /// (test/windows/UnitTests.cpp, `Warnings`): `[=b` "Invalid section name",
    /// `[sectionNotComplete` "Expected ']'", `NoEqual` "Expected '='".
    #[test]
    fn invalid_lines_are_skipped_like_wsl_does() {
        assert_eq!(skipped("[=b\n"), vec![(1, "Invalid section name".into())]);
        assert_eq!(
            skipped("[sectionNotComplete\n"),
            vec![(1, "Expected ']'".into())]
        );
        assert_eq!(
            skipped("[wsl2]\nNoEqual\n"),
            vec![(2, "Expected '='".into())]
        );
        assert_eq!(
            skipped("[ wsl2 ]\n"),
            vec![(1, "Invalid section name".into())]
        );
        assert_eq!(skipped("[wsl-2]\n"), vec![(1, "Expected ']'".into())]);
        assert_eq!(
            skipped("[wsl2]\nkernel_path=x\n"),
            vec![(2, "Expected '='".into())]
        );
        assert_eq!(
            skipped("[wsl2]\n2memory=x\n"),
            vec![(2, "Invalid key name".into())]
        );
        // WSL's own test: "\r\n\r\n[foo]\r\na=b" warns on line 5... of its own
        // counting; after text mode's CRLF→LF it is the fourth line.
        let parsed = parse(&decode(b"\r\n\r\n[foo]\r\na=b").unwrap());
        assert_eq!(
            parsed.entries,
            vec![Entry {
                name: "foo.a".into(),
                value: "b".into(),
                line: 4
            }]
        );
    }

    /// ParseSection: after `]`, spaces then end of line or `#`; anything else skips
    /// the line and keeps the old section length over the new name's buffer.
    #[test]
    fn text_after_a_section_header() {
        assert_eq!(
            entries("[wsl2] # budget\nmemory=8GB\n"),
            one("wsl2.memory", "8GB", 2)
        );
        // First header rejected: no section, so `memory` is an unknown key.
        let parsed = parse("[wsl2] ; budget\nmemory=8GB\n");
        assert_eq!(parsed.skipped[0].reason, "Expected ' ' or '\\n' after ']'");
        assert_eq!(
            parsed.entries,
            vec![Entry {
                name: "memory".into(),
                value: "8GB".into(),
                line: 2
            }]
        );
        // A later rejected header: the key keeps the old length of the new name.
        assert_eq!(
            entries("[experimental]\n[wsl2] x\nmemory=8GB\n"),
            one("wsl2", "8GB", 3)
        );
        assert_eq!(
            entries("[wsl2]\n[experimental]]\nmemory=8GB\n"),
            one("expe.memory", "8GB", 3)
        );
    }

    /// stringshared.h ParseMemorySize, and WSL's own tests: `swap=0GB` is read,
    /// `swap=0foo`, `swap=/` and `memory=` are "Invalid memory string".
    #[test]
    fn memory_sizes_as_wsl_parses_them() {
        const G: u64 = 1 << 30;
        for (text, bytes) in [
            ("8GB", Some(8 * G)),
            ("8G", Some(8 * G)),
            ("4096MB", Some(4096 << 20)),
            ("8589934592", Some(8 * G)),
            ("512K", Some(512 << 10)),
            ("1TB", Some(1 << 40)),
            ("100B", Some(100)),
            ("0", Some(0)),
            ("0GB", Some(0)),
            ("+8GB", Some(8 * G)),
            (" 8GB", Some(8 * G)),
            ("8gb", None),
            ("8Gb", None),
            ("8 GB", None),
            ("8GiB", None),
            ("1.5GB", None),
            ("8GB ", None),
            ("0foo", None),
            ("/", None),
            ("", None),
            ("00", None),
            (" 0", None),
            ("GB", None),
            ("16777216TB", Some(0)),
            ("99999999999999999999", Some(u64::MAX)),
        ] {
            assert_eq!(memory_size(text), bytes, "{text:?}");
        }
    }

    /// configfile.cpp ParseImpl(int&): strtol(value, &end, 0), whole value.
    #[test]
    fn integers_as_wsl_parses_them() {
        for (text, n) in [
            ("4", Some(4)),
            ("0x10", Some(16)),
            ("010", Some(8)),
            ("0", Some(0)),
            ("-2", Some(-2)),
            ("99999999999", Some(i32::MAX)),
            ("", None),
            ("4 cores", None),
            ("08", None),
            ("0x", None),
            ("four", None),
        ] {
            assert_eq!(integer(text), n, "{text:?}");
        }
    }
}
