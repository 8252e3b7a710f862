//! Lines that are not access lines but turn up among them: `docker logs nginx` mixes
//! the container's stdout (the access log) with its stderr (nginx's error log and the
//! image's entrypoint scripts). They are counted as foreign, not as lines of a wrong
//! `--log-format`.
//!
//! Recognised by how their writers write them:
//! - nginx's error log: `YYYY/MM/DD HH:MM:SS [level] PID#TID: …` (nginx/nginx
//!   `src/core/ngx_log.c`, `ngx_log_error_core`, with the time of `ngx_cached_err_log_time`
//!   from `src/core/ngx_times.c` and the levels of `err_levels`);
//! - nginx's messages on stderr before its logs are open: `nginx: [level] …`
//!   (`ngx_log_stderr` and `ngx_log_abort` in the same file);
//! - the official image's entrypoint: `/docker-entrypoint.sh: …` and its scripts'
//!   `10-listen-on-ipv6-by-default.sh: info: …` (nginxinc/docker-nginx,
//!   `entrypoint/docker-entrypoint.sh` echoes `"$0: …"`, the scripts in
//!   `entrypoint/*.sh` and `*.envsh` echo `"$ME: …"` with `ME=$(basename $0)`).

/// What kind of foreign line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foreign {
    /// nginx's error log (or its stderr before the logs are open).
    ErrorLog,
    /// The nginx image's entrypoint scripts.
    Entrypoint,
}

impl Foreign {
    /// The key in the summary's `foreign.kinds`.
    pub fn name(self) -> &'static str {
        match self {
            Foreign::ErrorLog => "nginx_error_log",
            Foreign::Entrypoint => "docker_entrypoint",
        }
    }
}

/// nginx's log levels (`err_levels` in `src/core/ngx_log.c`).
const LEVELS: [&[u8]; 8] = [
    b"emerg", b"alert", b"crit", b"error", b"warn", b"notice", b"info", b"debug",
];

/// The kind of a line that did not match the access-log format, if it is a known
/// foreign one.
pub fn kind(line: &[u8]) -> Option<Foreign> {
    if error_log(line) || stderr(line) {
        Some(Foreign::ErrorLog)
    } else if entrypoint(line) {
        Some(Foreign::Entrypoint)
    } else {
        None
    }
}

/// `2026/11/29 11:47:24 [notice] 1#1: …`
fn error_log(line: &[u8]) -> bool {
    const SHAPE: &[u8; 20] = b"dddd/dd/dd dd:dd:dd ";
    line.len() > SHAPE.len()
        && SHAPE.iter().zip(line).all(|(&shape, &b)| match shape {
            b'd' => b.is_ascii_digit(),
            other => b == other,
        })
        && level(&line[SHAPE.len()..])
}

/// `nginx: [emerg] …`
fn stderr(line: &[u8]) -> bool {
    line.strip_prefix(b"nginx: ").is_some_and(level)
}

/// `[level] ` at the start of `rest`.
fn level(rest: &[u8]) -> bool {
    LEVELS.iter().any(|level| {
        rest.len() > level.len() + 2
            && rest[0] == b'['
            && rest[1..].starts_with(level)
            && rest[1 + level.len()..].starts_with(b"] ")
    })
}

/// `/docker-entrypoint.sh: …`, `20-envsubst-on-templates.sh: …`, `15-local-resolvers.envsh: …`
fn entrypoint(line: &[u8]) -> bool {
    let word_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let word = &line[..word_end];
    word.ends_with(b".sh:") || word.ends_with(b".envsh:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_log_and_the_entrypoint_are_recognised_by_their_writers_shapes() {
        for line in [
            "2026/11/29 11:47:24 [notice] 1#1: using the \"epoll\" event method",
            "2026/11/29 11:47:30 [error] 29#29: *1 open() \"/usr/share/nginx/html/favicon.ico\" failed (2: No such file or directory), client: 192.0.2.10, server: localhost, request: \"GET /status/summary HTTP/1.1\"",
            "nginx: [emerg] unknown directive \"lcation\" in /etc/nginx/conf.d/default.conf:12",
        ] {
            assert_eq!(kind(line.as_bytes()), Some(Foreign::ErrorLog), "{line}");
        }
        for line in [
            "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
            "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
            "15-local-resolvers.envsh: info: Local resolvers found",
        ] {
            assert_eq!(kind(line.as_bytes()), Some(Foreign::Entrypoint), "{line}");
        }
        for line in [
            "192.0.2.10 - - [29/Nov/2026:11:47:24 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"x\"",
            "2026/11/29 11:47:24 [verbose] 1#1: not a level nginx has",
            "garbage",
            "",
        ] {
            assert_eq!(kind(line.as_bytes()), None, "{line}");
        }
    }
}
