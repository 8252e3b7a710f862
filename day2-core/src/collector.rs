//! The prefixes log collectors put in front of a program's own lines, recognised one
//! way by every tool that reads logs (tunnel-check for cloudflared's lines,
//! legacy-sampler for nginx's access lines): a line that reaches a tool through
//! `docker compose logs` or `journalctl` is still the program's line.
//!
//! Recognised, nested in any order, outermost first:
//! - timestamps: `docker logs -t` (`2025-01-28T06:13:37.416529581Z `, moby's
//!   `RFC3339NanoFixed`), `docker compose logs -t` (after the compose prefix), glued in
//!   front by appliance log viewers (`2025-01-28T06:13:37.416Z2025-…`), bracketed
//!   (`[2025-01-28 06:13:37]`), `YYYY/MM/DD hh:mm:ss`, and syslog's `Apr 26 13:19:06`;
//! - `docker compose logs`: `NAME  | ` — v2 (docker/compose `cmd/formatter/logs.go`,
//!   `setPrefix`: the name padded to the longest name + 1, then `" | "`; container
//!   names `nginx-1`) and v1 (docker/compose 1.x `compose/cli/log_printer.py`,
//!   `LogPresenter.present`: `name_without_project.ljust(width) + " |"`, then a space;
//!   names `nginx_1`), also coloured: v2 colours `"NAME  | "`, v1 `"NAME  |"`
//!   (`cmd/formatter/colors.go` `ansiColor`: `ESC[36m`, `ESC[36;1m`, … and `ESC[0m`);
//! - `kubectl logs --prefix`: `[pod/NAME/CONTAINER] `;
//! - journald, syslog and `systemctl status` after a timestamp: `HOST IDENT[PID]: `
//!   and `HOST IDENT: ` (RFC 3164's TAG without a pid, as nginx's own `syslog:` output
//!   writes it: nginx/nginx `src/core/ngx_syslog.c`, `ngx_syslog_add_header`, `"%V %V:
//!   "`). A host that is a log level (`INF`, `ERROR`) is not a host: it is the
//!   program's own line after its own timestamp.
//!
//! [`layers`] yields each prefix with the offset of what follows it, so a tool can try
//! its own parser after each one (a timestamp may be the program's own) or take them
//! all. Nothing is copied.

/// At most this many prefixes are taken off one line.
const MAX_LAYERS: usize = 8;

/// One prefix a collector put in front of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer<'a> {
    /// A timestamp, without its brackets.
    Time(&'a str),
    /// `docker compose logs`: the container's name (`nginx-1`, `nginx_1`).
    Compose(&'a str),
    /// `kubectl logs --prefix`: `pod/NAME/CONTAINER`.
    Kubectl(&'a str),
    /// journald or syslog: the program's identifier and its process id, when given.
    Syslog {
        host: &'a str,
        ident: &'a str,
        pid: Option<u32>,
    },
}

impl Layer<'_> {
    /// The kind, for counts: `time`, `compose`, `kubectl`, `syslog`.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Time(_) => "time",
            Layer::Compose(_) => "compose",
            Layer::Kubectl(_) => "kubectl",
            Layer::Syslog { .. } => "syslog",
        }
    }
}

/// The prefixes in front of `line`, outermost first, each with the byte offset in
/// `line` where the rest begins (after the prefix and the space that ends it).
pub fn layers(line: &[u8]) -> Layers<'_> {
    Layers {
        line,
        pos: 0,
        after_time: false,
        taken: 0,
    }
}

/// The iterator of [`layers`].
#[derive(Debug, Clone)]
pub struct Layers<'a> {
    line: &'a [u8],
    pos: usize,
    /// The last prefix was a timestamp: a syslog header may follow.
    after_time: bool,
    taken: usize,
}

impl<'a> Iterator for Layers<'a> {
    type Item = (Layer<'a>, usize);

    fn next(&mut self) -> Option<(Layer<'a>, usize)> {
        if self.taken == MAX_LAYERS {
            return None;
        }
        let line = self.line;
        let start = skip_ansi(line, skip_spaces(line, self.pos));
        let (layer, end) = time_layer(line, start)
            .or_else(|| kubectl_layer(line, start))
            .or_else(|| compose_layer(line, start))
            .or_else(|| self.after_time.then(|| syslog_layer(line, start)).flatten())?;
        self.after_time = matches!(layer, Layer::Time(_));
        self.taken += 1;
        self.pos = if self.after_time {
            skip_spaces(line, end)
        } else {
            end
        };
        Some((layer, self.pos))
    }
}

/// The text of an ASCII stretch (names and timestamps are ASCII by construction).
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

fn skip_spaces(line: &[u8], mut at: usize) -> usize {
    while line.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

/// Skips ANSI CSI sequences (`ESC [ parameters final-byte`), as colourised collectors
/// write around their prefixes.
fn skip_ansi(line: &[u8], mut at: usize) -> usize {
    while line.get(at) == Some(&0x1b) && line.get(at + 1) == Some(&b'[') {
        let mut i = at + 2;
        while line
            .get(i)
            .is_some_and(|b| matches!(b, b'0'..=b'9' | b';' | b'?'))
        {
            i += 1;
        }
        match line.get(i) {
            Some(0x40..=0x7e) => at = i + 1,
            _ => break,
        }
    }
    at
}

/// A name a collector gives a container, pod or program: letters, digits, `_.-/@`.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/' | b'@')
}

fn name_len(line: &[u8], at: usize) -> usize {
    line.get(at..).map_or(0, |rest| {
        rest.iter().take_while(|b| is_name_byte(**b)).count()
    })
}

/// The length of a timestamp at the start of `s`: ISO 8601 / RFC 3339
/// (`2025-01-28`, then `T` or a space and `06:13:37`, a fraction and a zone),
/// `YYYY/MM/DD hh:mm:ss`, or syslog's `Apr 26 13:19:06`; 0 when there is none.
pub fn timestamp_len(b: &[u8]) -> usize {
    let digits = |from: usize, n: usize| {
        b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
    };
    // hh:mm(:ss(.frac)?)? at `from`; returns the end.
    let clock = |from: usize| -> Option<usize> {
        if !(digits(from, 2) && b.get(from + 2) == Some(&b':') && digits(from + 3, 2)) {
            return None;
        }
        let mut i = from + 5;
        if b.get(i) == Some(&b':') && digits(i + 1, 2) {
            i += 3;
            if matches!(b.get(i), Some(b'.' | b',')) && digits(i + 1, 1) {
                i += 1;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
        }
        Some(i)
    };
    if digits(0, 4)
        && matches!(b.get(4), Some(b'-' | b'/'))
        && digits(5, 2)
        && b.get(7) == b.get(4)
        && digits(8, 2)
    {
        let mut i = 10;
        if matches!(b.get(i), Some(b'T' | b' ')) {
            if let Some(end) = clock(i + 1) {
                i = end;
                match b.get(i) {
                    Some(b'Z') => i += 1,
                    Some(b'+' | b'-') if digits(i + 1, 2) => {
                        i += 3;
                        if b.get(i) == Some(&b':') && digits(i + 1, 2) {
                            i += 3;
                        } else if digits(i, 2) {
                            i += 2;
                        }
                    }
                    _ => {}
                }
            }
        }
        return i;
    }
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    if b.len() >= 15 && b[3] == b' ' && MONTHS.iter().any(|m| b.starts_with(m)) {
        let day_start = if b[4] == b' ' { 5 } else { 4 };
        let mut i = day_start;
        while i < day_start + 2 && b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i > day_start && b.get(i) == Some(&b' ') {
            if let Some(end) = clock(i + 1) {
                return end;
            }
        }
    }
    0
}

/// A timestamp, bare or in brackets.
fn time_layer(line: &[u8], at: usize) -> Option<(Layer<'_>, usize)> {
    let rest = line.get(at..)?;
    if let Some(inner) = rest.strip_prefix(b"[") {
        let len = timestamp_len(inner);
        return (len > 0 && inner.get(len) == Some(&b']'))
            .then(|| (Layer::Time(ascii(&inner[..len])), at + len + 2));
    }
    let len = timestamp_len(rest);
    (len > 0).then(|| (Layer::Time(ascii(&rest[..len])), at + len))
}

/// `[pod/NAME/CONTAINER] `.
fn kubectl_layer(line: &[u8], at: usize) -> Option<(Layer<'_>, usize)> {
    if line.get(at) != Some(&b'[') {
        return None;
    }
    let len = name_len(line, at + 1);
    let inside = &line[at + 1..at + 1 + len];
    (len > 0 && inside.contains(&b'/') && line.get(at + 1 + len..at + 3 + len) == Some(b"] "))
        .then(|| (Layer::Kubectl(ascii(inside)), at + len + 3))
}

/// `NAME  | ` (at least one space, then a bar, then one space), coloured or not.
fn compose_layer(line: &[u8], at: usize) -> Option<(Layer<'_>, usize)> {
    let len = name_len(line, at);
    let spaces = skip_spaces(line, at + len);
    if len == 0 || spaces == at + len || line.get(spaces) != Some(&b'|') {
        return None;
    }
    // v1 resets the colour before the space after the bar, v2 after it.
    let mut end = skip_ansi(line, spaces + 1);
    if line.get(end) == Some(&b' ') {
        end += 1;
    }
    let end = skip_ansi(line, end);
    Some((Layer::Compose(ascii(&line[at..at + len])), end))
}

/// Log levels, which follow a program's own timestamp where a syslog host would stand.
const LEVELS: [&str; 20] = [
    "TRC", "DBG", "INF", "WRN", "ERR", "FTL", "PNC", "TRACE", "DEBUG", "INFO", "NOTICE", "WARN",
    "WARNING", "ERROR", "CRIT", "CRITICAL", "ALERT", "EMERG", "FATAL", "PANIC",
];

/// `HOST IDENT[PID]: ` or `HOST IDENT: ` (after a timestamp).
fn syslog_layer(line: &[u8], at: usize) -> Option<(Layer<'_>, usize)> {
    let host_len = name_len(line, at);
    let host = ascii(&line[at..at + host_len]);
    if host_len == 0
        || line.get(at + host_len) != Some(&b' ')
        || LEVELS.iter().any(|l| l.eq_ignore_ascii_case(host))
    {
        return None;
    }
    let ident_at = at + host_len + 1;
    let ident_len = name_len(line, ident_at);
    if ident_len == 0 {
        return None;
    }
    let ident = ascii(&line[ident_at..ident_at + ident_len]);
    let tail = &line[ident_at + ident_len..];
    let (pid, used) = match tail.first() {
        Some(b'[') => {
            let digits = tail[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 || tail.get(1 + digits..3 + digits) != Some(b"]:") {
                return None;
            }
            (ascii(&tail[1..1 + digits]).parse::<u32>().ok(), digits + 3)
        }
        Some(b':') => (None, 1),
        _ => return None,
    };
    let end = ident_at + ident_len + used;
    (line.get(end) == Some(&b' ')).then(|| (Layer::Syslog { host, ident, pid }, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(line: &str) -> (Vec<Layer<'_>>, &str) {
        let mut rest = 0;
        let found = layers(line.as_bytes())
            .map(|(layer, at)| {
                rest = at;
                layer
            })
            .collect();
        (found, &line[rest..])
    }

    #[test]
    fn compose_v1_and_v2_plain_and_coloured() {
        for (line, name) in [
            // docker/compose cmd/formatter/logs.go: "%-{width}s | ".
            ("nginx-1  | 172.18.0.1 - -", "nginx-1"),
            ("deploy-nginx-1 | 172.18.0.1 - -", "deploy-nginx-1"),
            // compose 1.x log_printer.py: ljust(width) + " |", then " ".
            ("nginx_1  | 172.18.0.1 - -", "nginx_1"),
            // v2 colours "NAME  | " (colors.go ansiColor), v1 "NAME  |".
            ("\u{1b}[36mnginx-1  | \u{1b}[0m172.18.0.1 - -", "nginx-1"),
            ("\u{1b}[36;1mnginx-1  | \u{1b}[0m172.18.0.1 - -", "nginx-1"),
            ("\u{1b}[36mnginx_1  |\u{1b}[0m 172.18.0.1 - -", "nginx_1"),
        ] {
            assert_eq!(
                all(line),
                (vec![Layer::Compose(name)], "172.18.0.1 - -"),
                "{line:?}"
            );
        }
        // `docker compose logs -t`: the timestamp after the prefix.
        assert_eq!(
            all("nginx-1  | 2025-01-28T06:13:37.416529581Z 172.18.0.1 - -"),
            (
                vec![
                    Layer::Compose("nginx-1"),
                    Layer::Time("2025-01-28T06:13:37.416529581Z")
                ],
                "172.18.0.1 - -"
            )
        );
    }

    #[test]
    fn docker_timestamps_kubectl_and_syslog() {
        assert_eq!(
            all("2025-01-28T06:13:37.416529581Z 172.18.0.1 - -"),
            (
                vec![Layer::Time("2025-01-28T06:13:37.416529581Z")],
                "172.18.0.1 - -"
            )
        );
        assert_eq!(
            all("2025-01-28T06:13:37.416Z2025-01-28T06:13:37Z INF x"),
            (
                vec![
                    Layer::Time("2025-01-28T06:13:37.416Z"),
                    Layer::Time("2025-01-28T06:13:37Z")
                ],
                "INF x"
            )
        );
        assert_eq!(
            all("[pod/nginx-5d9c7b8f6-abcde/nginx] 172.18.0.1 - -"),
            (
                vec![Layer::Kubectl("pod/nginx-5d9c7b8f6-abcde/nginx")],
                "172.18.0.1 - -"
            )
        );
        assert_eq!(
            all("Apr  6 13:19:06 host cloudflared[29131]: INF x"),
            (
                vec![
                    Layer::Time("Apr  6 13:19:06"),
                    Layer::Syslog {
                        host: "host",
                        ident: "cloudflared",
                        pid: Some(29131)
                    }
                ],
                "INF x"
            )
        );
        // nginx's own syslog header has no pid (ngx_syslog_add_header).
        assert_eq!(
            all("Nov 28 00:57:46 edge nginx: 172.18.0.1 - -"),
            (
                vec![
                    Layer::Time("Nov 28 00:57:46"),
                    Layer::Syslog {
                        host: "edge",
                        ident: "nginx",
                        pid: None
                    }
                ],
                "172.18.0.1 - -"
            )
        );
        assert_eq!(
            all("[2025-01-28 06:13:37.416] x"),
            (vec![Layer::Time("2025-01-28 06:13:37.416")], "x")
        );
    }

    #[test]
    fn a_programs_own_line_is_not_a_prefix() {
        for line in [
            "172.18.0.1 - - [28/Jan/2025:06:13:37 +0000] \"GET / HTTP/1.1\" 200 5",
            "/docker-entrypoint.sh: Configuration complete; ready for start up",
            "nginx: [warn] the \"user\" directive makes sense only if …",
            "[notice] 1#1: start worker processes",
            "INF Starting tunnel",
            "{\"level\":\"info\"}",
            "",
            "name|no space before the bar",
        ] {
            assert_eq!(all(line), (vec![], line), "{line:?}");
        }
        // A level after a timestamp is the program's line, not a syslog host.
        assert_eq!(
            all("2025-01-28T06:13:37Z INF Tunnel: x"),
            (vec![Layer::Time("2025-01-28T06:13:37Z")], "INF Tunnel: x")
        );
        // A syslog header needs a timestamp before it.
        assert_eq!(all("host nginx: x"), (vec![], "host nginx: x"));
    }

    #[test]
    fn bounded_and_never_out_of_the_line() {
        let many = "a | ".repeat(100) + "x";
        let (found, rest) = all(&many);
        assert_eq!(found.len(), MAX_LAYERS);
        assert!(rest.ends_with('x'));
        for line in [
            "\u{1b}[",
            "\u{1b}[36",
            "[pod/a",
            "[pod/a]",
            "n |",
            "2025-01-28T",
            "Jan 1 ",
        ] {
            let _ = all(line);
        }
    }
}
