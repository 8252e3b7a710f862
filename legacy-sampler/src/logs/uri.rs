//! The URI nginx matches its locations against, recovered from what the access log
//! holds.
//!
//! A location is chosen by the normalised URI (`$uri`), not by the request line: nginx
//! merges slashes, resolves `.` and `..` segments and decodes `%XX` first, so
//! `GET //status/summary` and `GET /%73tatus/summary` reach `location /status/`. This
//! module follows nginx's own code (nginx/nginx, 1.22 and the current tree alike):
//!
//! - `src/http/ngx_http_parse.c`, `ngx_http_parse_request_line`: the method is upper
//!   case letters, `_` and `-`; spaces before the target are skipped; the target is a
//!   path starting with `/` or an absolute URI (`http://host[:port]/path`, whose path
//!   is used; no path is `/`); control bytes in the target are refused (400); `%`,
//!   `//`, `/.` and `#` mark a target for the slow parser below, any other target is
//!   taken up to its `?` as it is.
//! - `ngx_http_parse_complex_uri`, the slow parser, ported state for state in
//!   [`complex_uri`]: slashes merge when `merge_slashes` is on (its default); `/./`
//!   goes; `/../` removes the segment before it, and a `..` above the root is refused
//!   (400); `%XX` is decoded and the decoded byte is read again in the state it came in
//!   (`%2F` is a slash and `%2E%2E` a `..`), except `%25` (`%`), `%23` (`#`) and `%3F`
//!   (`?`), which stay literal characters of the path; `%00` and a bad escape are
//!   refused (400); the path ends at `?` (the query string) or `#`.
//!
//! A refused request reached no location: it is not legacy, whatever its text.

use memchr::memchr;

/// Why nginx answers 400 before choosing a location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Not a request line nginx accepts (bad method, target not a path or URI, text
    /// after the protocol).
    RequestLine,
    /// A control byte in the target.
    ControlByte,
    /// `%` not followed by two hex digits.
    BadEscape,
    /// `%00`.
    Nul,
    /// A `..` segment above the root.
    AboveRoot,
}

/// The target of a request line (`GET /status/summary HTTP/1.1` → `/status/summary`),
/// checked as `ngx_http_parse_request_line` checks the line around it. HTTP/0.9 lines
/// (no protocol) are accepted, as nginx accepts them.
pub fn request_target(line: &[u8]) -> Result<&[u8], Rejected> {
    let method_end = line
        .iter()
        .position(|&b| b == b' ')
        .ok_or(Rejected::RequestLine)?;
    if method_end == 0
        || !line[..method_end]
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b == b'_' || b == b'-')
    {
        return Err(Rejected::RequestLine);
    }
    let rest = &line[method_end..];
    let start = rest
        .iter()
        .position(|&b| b != b' ')
        .ok_or(Rejected::RequestLine)?;
    let rest = &rest[start..];
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let (target, after) = rest.split_at(end);
    let protocol = after.trim_ascii();
    if !(protocol.is_empty() || is_protocol(protocol)) {
        return Err(Rejected::RequestLine);
    }
    Ok(target)
}

/// `HTTP/1.1`, `HTTP/2.0`: what nginx accepts after the target.
fn is_protocol(text: &[u8]) -> bool {
    let Some(version) = text.strip_prefix(b"HTTP/") else {
        return false;
    };
    let mut parts = version.splitn(2, |&b| b == b'.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next().unwrap_or_default();
    !major.is_empty()
        && !minor.is_empty()
        && major.iter().chain(minor).all(u8::is_ascii_digit)
        && major[0] != b'0'
}

/// A request target that nginx takes as it is (the fast path): it starts with `/` and
/// its path (before any `?`) has no `%`, `#`, `//`, `/.`, control byte, nor a `\`
/// (which in a log starts an escape to decode first). Returned whole, query string
/// included: callers compare it with location prefixes, which hold no `?`. `None`
/// sends the target to [`normalise`].
pub fn plain_path(target: &[u8]) -> Option<&[u8]> {
    (plain_end(target)? == target.len()).then_some(target)
}

/// Where a plain target (see [`plain_path`]) ends: at its first space or at the end of
/// `bytes`; `None` when it is not plain. One pass, one table look-up a byte: a path is
/// a few dozen bytes, too short for vector searches to pay for their setup.
#[inline(always)]
pub fn plain_end(bytes: &[u8]) -> Option<usize> {
    if bytes.first() != Some(&b'/') {
        return None;
    }
    // At each pass `bytes[slash]` is a `/`: the byte after it may not be `/` or `.`;
    // then ordinary bytes (a `.` inside a segment among them) are skipped up to the
    // next byte that matters.
    let mut slash = 0;
    loop {
        let segment = slash + 1;
        if matches!(bytes.get(segment), Some(b'/' | b'.')) {
            return None;
        }
        let Some(offset) = bytes[segment..]
            .iter()
            .position(|&b| TARGET[usize::from(b)] != OTHER)
        else {
            return Some(bytes.len());
        };
        let at = segment + offset;
        match TARGET[usize::from(bytes[at])] {
            SLASH => slash = at,
            END => return Some(at),
            QUERY => {
                // The query string is never normalised: only its end is looked for.
                let query = &bytes[at..];
                return match query.iter().position(|&b| b <= b' ' || b == 0x7f) {
                    None => Some(bytes.len()),
                    Some(end) if query[end] == b' ' => Some(at + end),
                    Some(_) => None,
                };
            }
            _ => return None,
        }
    }
}

const OTHER: u8 = 0;
const SLASH: u8 = 1;
const END: u8 = 2;
const QUERY: u8 = 3;
const STOP: u8 = 4;

/// What each byte means to [`plain_end`] (`.` is ordinary inside a segment).
static TARGET: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = STOP;
        b += 1;
    }
    table[0x7f] = STOP;
    table[b'%' as usize] = STOP;
    table[b'#' as usize] = STOP;
    table[b'\\' as usize] = STOP;
    table[b'/' as usize] = SLASH;
    table[b' ' as usize] = END;
    table[b'?' as usize] = QUERY;
    table
};

/// The normalised URI of a request target (`/a//b/../%73` → `/a/s`), written into
/// `out`, or why nginx refuses the request.
pub fn normalise(target: &[u8], merge_slashes: bool, out: &mut Vec<u8>) -> Result<(), Rejected> {
    out.clear();
    if target.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(Rejected::ControlByte);
    }
    let path = if target.first() == Some(&b'/') {
        target
    } else {
        absolute_path(target).ok_or(Rejected::RequestLine)?
    };
    if path.is_empty() || path[0] != b'/' {
        // `http://host` or `http://host?x`: nginx's `empty_path_in_uri`.
        out.push(b'/');
        return Ok(());
    }
    match plain_path(path) {
        Some(plain) => {
            let end = memchr(b'?', plain).unwrap_or(plain.len());
            out.extend_from_slice(&plain[..end]);
            Ok(())
        }
        None => complex_uri(path, merge_slashes, out),
    }
}

/// The part of an absolute URI (`http://host:8080/p?q`) from its path on; empty when
/// it has none. `None` when it is not `scheme://…`.
fn absolute_path(target: &[u8]) -> Option<&[u8]> {
    let colon = target.iter().position(|&b| b == b':')?;
    let scheme = &target[..colon];
    if scheme.is_empty()
        || !scheme[0].is_ascii_alphabetic()
        || !scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    let authority = target[colon + 1..].strip_prefix(b"//")?;
    let end = authority
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .unwrap_or(authority.len());
    if end == 0 {
        return None;
    }
    Some(&authority[end..])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Usual,
    Slash,
    Dot,
    DotDot,
    Quoted,
    QuotedSecond,
}

/// `ngx_http_parse_complex_uri` (nginx/nginx `src/http/ngx_http_parse.c`), state for
/// state, for a path that starts with `/`. The Windows-only `\` handling is left out,
/// as on the Linux builds this tool meets.
pub fn complex_uri(path: &[u8], merge_slashes: bool, out: &mut Vec<u8>) -> Result<(), Rejected> {
    out.clear();
    let mut state = State::Usual;
    let mut quoted_state = State::Usual;
    let mut decoded = 0u8;
    let mut bytes = path.iter().copied();
    // A decoded `%XX` is read again in the state the `%` came in.
    let mut again: Option<u8> = None;
    while let Some(ch) = again.take().or_else(|| bytes.next()) {
        match state {
            State::Usual => match ch {
                b'/' => {
                    state = State::Slash;
                    out.push(ch);
                }
                b'%' => {
                    quoted_state = state;
                    state = State::Quoted;
                }
                b'?' | b'#' => return Ok(()),
                _ => out.push(ch),
            },
            State::Slash => match ch {
                b'/' => {
                    if !merge_slashes {
                        out.push(ch);
                    }
                }
                b'.' => {
                    state = State::Dot;
                    out.push(ch);
                }
                b'%' => {
                    quoted_state = state;
                    state = State::Quoted;
                }
                b'?' | b'#' => return Ok(()),
                _ => {
                    state = State::Usual;
                    out.push(ch);
                }
            },
            State::Dot => match ch {
                b'/' => {
                    state = State::Slash;
                    out.pop();
                }
                b'.' => {
                    state = State::DotDot;
                    out.push(ch);
                }
                b'%' => {
                    quoted_state = state;
                    state = State::Quoted;
                }
                b'?' | b'#' => {
                    out.pop();
                    return Ok(());
                }
                _ => {
                    state = State::Usual;
                    out.push(ch);
                }
            },
            State::DotDot => match ch {
                b'/' | b'?' | b'#' => {
                    up_one(out)?;
                    if ch != b'/' {
                        return Ok(());
                    }
                    state = State::Slash;
                }
                b'%' => {
                    quoted_state = state;
                    state = State::Quoted;
                }
                _ => {
                    state = State::Usual;
                    out.push(ch);
                }
            },
            State::Quoted => {
                decoded = hex(ch).ok_or(Rejected::BadEscape)?;
                state = State::QuotedSecond;
            }
            State::QuotedSecond => {
                let ch = decoded << 4 | hex(ch).ok_or(Rejected::BadEscape)?;
                match ch {
                    0 => return Err(Rejected::Nul),
                    b'%' | b'#' | b'?' => {
                        state = State::Usual;
                        out.push(ch);
                    }
                    _ => {
                        state = quoted_state;
                        again = Some(ch);
                    }
                }
            }
        }
    }
    match state {
        State::Quoted | State::QuotedSecond => Err(Rejected::BadEscape),
        State::Dot => {
            out.pop();
            Ok(())
        }
        State::DotDot => up_one(out),
        _ => Ok(()),
    }
}

/// `out` ends in `/..`: drop it and the segment before it, keeping that segment's `/`
/// (nginx's `u -= 4` and its walk back to the previous slash).
fn up_one(out: &mut Vec<u8>) -> Result<(), Rejected> {
    let Some(from) = out.len().checked_sub(4) else {
        return Err(Rejected::AboveRoot);
    };
    let slash = out[..=from]
        .iter()
        .rposition(|&b| b == b'/')
        .ok_or(Rejected::AboveRoot)?;
    out.truncate(slash + 1);
    Ok(())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        _ => match b | 0x20 {
            c @ b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(target: &str) -> Result<String, Rejected> {
        let mut out = Vec::new();
        normalise(target.as_bytes(), true, &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn merged_slashes_and_dot_segments_follow_ngx_http_parse_complex_uri() {
        // sw_slash: a second '/' is dropped while merge_slashes is on.
        assert_eq!(uri("//status/summary").unwrap(), "/status/summary");
        assert_eq!(uri("/status///summary").unwrap(), "/status/summary");
        // sw_dot: "/./" goes, a trailing "/." too.
        assert_eq!(uri("/./status/./summary").unwrap(), "/status/summary");
        assert_eq!(uri("/status/.").unwrap(), "/status/");
        // sw_dot_dot: "/x/../" goes back one segment, also at the end.
        assert_eq!(uri("/api/../status/summary").unwrap(), "/status/summary");
        assert_eq!(uri("/status/summary/..").unwrap(), "/status/");
        assert_eq!(uri("/a/b/../../status/x").unwrap(), "/status/x");
        // A ".." above the root is a 400.
        assert_eq!(uri("/../status/summary"), Err(Rejected::AboveRoot));
        assert_eq!(uri("/a/../../status/"), Err(Rejected::AboveRoot));
        // "..." and "..x" are names, not dot segments.
        assert_eq!(uri("/.../status").unwrap(), "/.../status");
        assert_eq!(uri("/..x/status").unwrap(), "/..x/status");
        let mut out = Vec::new();
        normalise(b"//status/summary", false, &mut out).unwrap();
        assert_eq!(out, b"//status/summary");
    }

    #[test]
    fn escapes_are_decoded_and_read_again_as_ngx_http_parse_complex_uri_does() {
        assert_eq!(uri("/%73tatus/summary").unwrap(), "/status/summary");
        assert_eq!(uri("/%2Fstatus/summary").unwrap(), "/status/summary");
        assert_eq!(uri("/api/%2e%2e/status/").unwrap(), "/status/");
        assert_eq!(uri("/x%2f..%2fstatus/").unwrap(), "/status/");
        // %25, %23 and %3F stay literal characters of the path.
        assert_eq!(uri("/%2573tatus/").unwrap(), "/%73tatus/");
        assert_eq!(uri("/status%3F/x").unwrap(), "/status?/x");
        assert_eq!(uri("/status%23/x").unwrap(), "/status#/x");
        assert_eq!(uri("/st%00atus/"), Err(Rejected::Nul));
        assert_eq!(uri("/st%zzatus/"), Err(Rejected::BadEscape));
        assert_eq!(uri("/status%2"), Err(Rejected::BadEscape));
    }

    #[test]
    fn the_query_string_and_fragment_are_not_part_of_the_path() {
        assert_eq!(uri("/status/summary?x=//..").unwrap(), "/status/summary");
        assert_eq!(uri("//status?/status/").unwrap(), "/status");
        assert_eq!(uri("/status/..?x").unwrap(), "/");
        assert_eq!(uri("/status/.#frag").unwrap(), "/status/");
        assert_eq!(uri("/status/x%3f/..?y").unwrap(), "/status/");
        assert_eq!(plain_path(b"/status/x?a=b"), Some(&b"/status/x?a=b"[..]));
        assert_eq!(
            plain_path(b"/status/x?a=//%"),
            Some(&b"/status/x?a=//%"[..])
        );
        assert_eq!(plain_path(b"/status/x?a=\x01"), None);
        assert_eq!(plain_path(b"/status/.x"), None);
        assert_eq!(plain_path(b"/status/x.y/z"), Some(&b"/status/x.y/z"[..]));
        assert_eq!(plain_end(b"/status/x?y HTTP/1.1"), Some(11));
        assert_eq!(uri("/status/x?a=%00//").unwrap(), "/status/x");
    }

    #[test]
    fn request_lines_and_absolute_targets_follow_ngx_http_parse_request_line() {
        assert_eq!(
            request_target(b"GET /status/summary HTTP/1.1"),
            Ok(&b"/status/summary"[..])
        );
        assert_eq!(request_target(b"GET  /x  HTTP/1.0"), Ok(&b"/x"[..]));
        assert_eq!(request_target(b"GET /x"), Ok(&b"/x"[..]));
        assert_eq!(
            request_target(b"get /x HTTP/1.1"),
            Err(Rejected::RequestLine)
        );
        assert_eq!(
            request_target(b"GET /a b HTTP/1.1"),
            Err(Rejected::RequestLine)
        );
        assert_eq!(
            request_target(b"\\x16\\x03\\x01"),
            Err(Rejected::RequestLine)
        );
        assert_eq!(
            uri("http://example.org/status/summary").unwrap(),
            "/status/summary"
        );
        assert_eq!(
            uri("http://example.org:8080//status/x").unwrap(),
            "/status/x"
        );
        assert_eq!(uri("http://example.org?status/").unwrap(), "/");
        assert_eq!(uri("status/summary"), Err(Rejected::RequestLine));
        assert_eq!(uri("/status/\x01x"), Err(Rejected::ControlByte));
    }

    /// xorshift64*: a fixed, dependency-free stream of test inputs.
    fn random(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    #[test]
    fn random_targets_never_panic_and_normalise_to_clean_paths() {
        const ALPHABET: &[u8] = b"//..%%2e5fF03?#as\\x\x01 ";
        let mut state = 0x9E37_79B9_7F4A_7C15;
        let mut out = Vec::new();
        let mut ok = 0;
        for _ in 0..100_000 {
            let len = (random(&mut state) % 24) as usize;
            let mut target = vec![b'/'];
            target.extend(
                (0..len).map(|_| ALPHABET[(random(&mut state) % ALPHABET.len() as u64) as usize]),
            );
            let _ = request_target(&target);
            if normalise(&target, true, &mut out).is_ok() {
                ok += 1;
                let text = String::from_utf8_lossy(&out);
                assert!(out.starts_with(b"/"), "{target:?} → {text}");
                for bad in ["//", "/./", "/../"] {
                    assert!(!text.contains(bad), "{target:?} → {text}");
                }
                assert!(
                    !text.ends_with("/.") && !text.ends_with("/.."),
                    "{target:?} → {text}"
                );
            }
        }
        // Both outcomes were exercised.
        assert!((10_000..90_000).contains(&ok), "{ok}");
    }
}
