//! Where the Engine is: `DOCKER_HOST` parsed into an endpoint a client can dial, with
//! the forms Docker itself accepts and a reason for the ones these tools cannot use.
//!
//! The rules follow moby `opts/hosts.go` (`ParseHost`, `parseDockerDaemonHost`,
//! `ParseTCPAddr`): schemes `unix`, `tcp`, `npipe`, `ssh`, `fd`; a bare `tcp://host`
//! gets port 2375 (2376 with TLS); a userinfo is dropped.

use std::fmt;
use std::path::PathBuf;

use day2_core::Problem;

/// The Engine socket when `DOCKER_HOST` is unset or empty, as the docker CLI assumes it.
pub const DEFAULT_UNIX: &str = "unix:///var/run/docker.sock";

/// An Engine address these tools can dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:///path/to/docker.sock`
    Unix(PathBuf),
    /// `tcp://host:port` (plain HTTP; TLS endpoints are refused at parse time).
    Tcp { host: String, port: u16 },
}

impl Endpoint {
    /// `unix` or `tcp`, for record data.
    pub fn kind(&self) -> &'static str {
        match self {
            Endpoint::Unix(_) => "unix",
            Endpoint::Tcp { .. } => "tcp",
        }
    }

    /// The socket path or `host:port`, without the scheme.
    pub fn address(&self) -> String {
        match self {
            Endpoint::Unix(path) => path.display().to_string(),
            Endpoint::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Endpoint::Tcp { host, port } => format!("{host}:{port}"),
        }
    }

    /// The `Host` header a request to this endpoint carries.
    pub fn host_header(&self) -> String {
        match self {
            Endpoint::Tcp { .. } => self.address(),
            // Docker ignores the host of a local socket; the CLI sends this name too.
            Endpoint::Unix(_) => "api.moby.localhost".to_owned(),
        }
    }

    /// The endpoint as a `DOCKER_HOST` URL (`unix:///…`, `tcp://host:port`), without
    /// any userinfo.
    pub fn url(&self) -> String {
        match self {
            Endpoint::Unix(path) => format!("unix://{}", path.display()),
            Endpoint::Tcp { .. } => format!("tcp://{}", self.address()),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}

/// `bad_docker_host`: the value is no endpoint Docker would accept either.
pub const BAD_DOCKER_HOST: &str = "bad_docker_host";
/// `unsupported_endpoint`: valid for Docker, but nothing these tools can dial here.
pub const UNSUPPORTED_ENDPOINT: &str = "unsupported_endpoint";

/// The value as shown in a message: quoted, escaped, credentials masked.
fn shown(value: &str) -> String {
    day2_core::bounded::quoted(&day2_core::redact::mask_url(value))
}

fn bad(value: &str, why: impl fmt::Display) -> Problem {
    Problem::new(
        BAD_DOCKER_HOST,
        format!("DOCKER_HOST {}: {why}", shown(value)),
    )
}

fn unsupported(value: &str, why: impl fmt::Display) -> Problem {
    Problem::new(
        UNSUPPORTED_ENDPOINT,
        format!("DOCKER_HOST {}: {why}", shown(value)),
    )
}

/// Parses a `DOCKER_HOST` value; an empty (or blank) value means the default socket,
/// as it does to the docker CLI. `tls` says whether `DOCKER_TLS_VERIFY` is set, which
/// turns a `tcp://` endpoint into a TLS one that these plain-HTTP clients cannot speak.
///
/// Errors: reason [`BAD_DOCKER_HOST`] (no scheme, unknown scheme, a relative unix
/// path, a tcp path, a bad port, an empty host) or [`UNSUPPORTED_ENDPOINT`] (`npipe`,
/// `ssh`, `fd`, TLS), each with a message naming the value (credentials masked).
pub fn parse(value: &str, tls: bool) -> Result<Endpoint, Problem> {
    let value = value.trim();
    if value.is_empty() {
        return parse(DEFAULT_UNIX, tls);
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        let hint = if value.starts_with('/') {
            format!("; did you mean unix://{value}?")
        } else {
            String::new()
        };
        return Err(bad(
            value,
            format_args!("no scheme (use unix:// or tcp://){hint}"),
        ));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "unix" => {
            if !rest.starts_with('/') {
                return Err(bad(
                    value,
                    "a unix endpoint needs an absolute socket path, e.g. unix:///var/run/docker.sock",
                ));
            }
            Ok(Endpoint::Unix(PathBuf::from(rest)))
        }
        "tcp" => parse_tcp(value, rest, tls),
        // The tools are built for Linux and WSL; Docker Desktop's pipes exist only on
        // the Windows side, where this is the endpoint of the docker.exe CLI.
        "npipe" => Err(unsupported(
            value,
            "a Windows named pipe is a Windows-only endpoint; on Linux and inside WSL use \
             unix:///var/run/docker.sock (Docker Desktop's WSL integration)",
        )),
        "ssh" => Err(unsupported(
            value,
            "goes through the ssh client; run the tool on the remote host against its socket",
        )),
        "fd" => Err(unsupported(
            value,
            "fd:// is a daemon listen address (systemd socket activation), not something a \
             client can dial",
        )),
        other => Err(bad(
            value,
            format_args!(
                "the scheme {} is unknown (use unix:// or tcp://)",
                day2_core::bounded::quoted(other)
            ),
        )),
    }
}

/// Reads `DOCKER_HOST` and `DOCKER_TLS_VERIFY` (non-empty = set) from the
/// environment and parses them with [`parse`]: the one place a tool that takes no
/// `--host` flag learns where the Engine is.
pub fn from_env() -> Result<Endpoint, Problem> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
    parse(&host, tls)
}

fn parse_tcp(value: &str, rest: &str, tls: bool) -> Result<Endpoint, Problem> {
    let authority = rest.trim_end_matches('/');
    // A userinfo (`tcp://user:pass@host:2375`) is dropped, as the docker CLI drops it:
    // moby `opts/hosts.go` `ParseTCPAddr` keeps only the parsed URL's host and port.
    // It is never part of what is shown either.
    let authority = match authority.split_once('/') {
        None => authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host),
        Some(_) => authority,
    };
    if authority.is_empty() || authority.contains('/') {
        return Err(bad(value, "a tcp endpoint is tcp://host:port with no path"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        // An IPv6 literal without a port (`[::1]`) ends in `]`, not in a port.
        Some((host, port)) if !port.ends_with(']') => {
            let port = port.parse::<u16>().map_err(|_| {
                bad(
                    value,
                    format_args!("{} is not a TCP port", day2_core::bounded::quoted(port)),
                )
            })?;
            (host, port)
        }
        _ => (authority, if tls { 2376 } else { 2375 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad(value, "the host is empty"));
    }
    if tls {
        return Err(unsupported(
            value,
            "with DOCKER_TLS_VERIFY set this needs TLS client certificates; these tools speak \
             plain HTTP to the Engine only",
        ));
    }
    Ok(Endpoint::Tcp {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    /// moby `opts/hosts.go` `ParseTCPAddr` keeps the URL's host and port only: a
    /// userinfo is dropped (and so never shown).
    #[test]
    fn a_userinfo_is_dropped_as_docker_drops_it() {
        let parsed = parse("tcp://admin:s3cret@127.0.0.1:2375", false).unwrap();
        assert_eq!(parsed, tcp("127.0.0.1", 2375));
        assert!(!parsed.url().contains("s3cret"));
        assert_eq!(
            parse("tcp://token@[::1]:2375", false).unwrap(),
            tcp("::1", 2375)
        );
        let err = parse("tcp://admin:s3cret@127.0.0.1:port", false).unwrap_err();
        assert!(!err.message.contains("s3cret"), "{}", err.message);
    }

    #[test]
    fn accepts_the_forms_docker_accepts() {
        assert_eq!(
            parse("unix:///var/run/docker.sock", false),
            Ok(Endpoint::Unix(PathBuf::from("/var/run/docker.sock")))
        );
        assert_eq!(
            parse("tcp://127.0.0.1:2375", false),
            Ok(tcp("127.0.0.1", 2375))
        );
        assert_eq!(parse("tcp://docker", false), Ok(tcp("docker", 2375)));
        assert_eq!(parse("TCP://[::1]:2375/", false), Ok(tcp("::1", 2375)));
        assert_eq!(tcp("::1", 2375).address(), "[::1]:2375");
        // Empty means unset, as to the docker CLI.
        assert_eq!(parse("  ", false), parse(DEFAULT_UNIX, false));
    }

    #[test]
    fn names_what_is_wrong_in_words() {
        let bad = [
            (
                "/var/run/docker.sock",
                "did you mean unix:///var/run/docker.sock",
            ),
            ("http://x:1", "the scheme \"http\" is unknown"),
            ("tcp://x:port", "\"port\" is not a TCP port"),
            ("tcp://x:1/v1", "no path"),
            ("tcp://:2375", "the host is empty"),
            ("unix://", "absolute socket path"),
            ("unix://run/d.sock", "absolute socket path"),
        ];
        let unsupported = [
            ("ssh://me@box", "ssh client"),
            ("fd://", "listen address"),
            (
                "npipe:////./pipe/dockerDesktopLinuxEngine",
                "Windows-only endpoint",
            ),
        ];
        let tls = [("tcp://x:2376", "TLS client certificates")];
        let groups = [
            (BAD_DOCKER_HOST, false, &bad[..]),
            (UNSUPPORTED_ENDPOINT, false, &unsupported[..]),
            (UNSUPPORTED_ENDPOINT, true, &tls[..]),
        ];
        for (reason, tls, cases) in groups {
            for (value, words) in cases {
                let err = parse(value, tls).unwrap_err();
                assert_eq!(err.reason(), reason, "{value}");
                assert!(err.message.contains(words), "{value}: {}", err.message);
                assert!(err.message.starts_with("DOCKER_HOST \""), "{}", err.message);
            }
        }
    }
}
