//! Where the daemon is: `DOCKER_HOST` (or `--host`) parsed into an endpoint the
//! probe can dial, with the forms Docker itself accepts and a precise reason for the
//! ones it cannot use.

use std::fmt;
use std::path::PathBuf;

/// The daemon socket when `DOCKER_HOST` is unset, as the docker CLI assumes it.
pub const DEFAULT_UNIX: &str = "unix:///var/run/docker.sock";

/// A daemon address the probe can dial.
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

    /// The socket path, address or pipe name without the scheme.
    pub fn address(&self) -> String {
        match self {
            Endpoint::Unix(path) => path.display().to_string(),
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
}

/// Why a `DOCKER_HOST` value cannot be probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    /// `bad_docker_host` (not a valid endpoint) or `unsupported_endpoint` (valid for
    /// Docker, but not something this probe can dial here).
    pub reason: &'static str,
    pub message: String,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn bad(message: String) -> EndpointError {
    EndpointError {
        reason: "bad_docker_host",
        message,
    }
}

fn unsupported(message: String) -> EndpointError {
    EndpointError {
        reason: "unsupported_endpoint",
        message,
    }
}

/// Parses a `DOCKER_HOST` value. `tls` says whether `DOCKER_TLS_VERIFY` is set, which
/// turns a `tcp://` endpoint into a TLS one that this plain-HTTP probe cannot speak.
pub fn parse(value: &str, tls: bool) -> Result<Endpoint, EndpointError> {
    let value = value.trim();
    let Some((scheme, rest)) = value.split_once("://") else {
        let hint = if value.starts_with('/') {
            format!("; did you mean unix://{value}?")
        } else {
            String::new()
        };
        return Err(bad(format!(
            "DOCKER_HOST={value:?} has no scheme (use unix:// or tcp://){hint}"
        )));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "unix" => {
            if rest.is_empty() || !rest.starts_with('/') {
                return Err(bad(format!(
                    "DOCKER_HOST={value:?}: a unix endpoint needs an absolute socket path, \
                     e.g. unix:///var/run/docker.sock"
                )));
            }
            Ok(Endpoint::Unix(PathBuf::from(rest)))
        }
        "tcp" => parse_tcp(value, rest, tls),
        "npipe" => {
            // The tool is built for Linux and WSL; Docker Desktop's pipes exist only
            // on the Windows side, where this is the endpoint of the docker.exe CLI.
            Err(unsupported(format!(
                "DOCKER_HOST={value:?} is a Windows named pipe, a Windows-only endpoint; on Linux \
                 and inside WSL use unix:///var/run/docker.sock (Docker Desktop's WSL integration)"
            )))
        }
        "ssh" => Err(unsupported(format!(
            "DOCKER_HOST={value:?} goes through the ssh client; probe the remote host's socket there"
        ))),
        "fd" => Err(unsupported(format!(
            "DOCKER_HOST={value:?}: fd:// is a daemon listen address (systemd socket activation), \
             not something a client can dial"
        ))),
        other => Err(bad(format!(
            "DOCKER_HOST={value:?} has the unknown scheme {other:?} (use unix:// or tcp://)"
        ))),
    }
}

fn parse_tcp(value: &str, rest: &str, tls: bool) -> Result<Endpoint, EndpointError> {
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
        return Err(bad(format!(
            "DOCKER_HOST={value:?}: a tcp endpoint is tcp://host:port with no path"
        )));
    }
    let (host, port) = match authority.rsplit_once(':') {
        // An IPv6 literal without a port (`[::1]`) ends in `]`, not in a port.
        Some((host, port)) if !port.ends_with(']') => {
            let port = port
                .parse::<u16>()
                .map_err(|_| bad(format!("DOCKER_HOST={value:?}: {port:?} is not a TCP port")))?;
            (host, port)
        }
        _ => (authority, if tls { 2376 } else { 2375 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad(format!("DOCKER_HOST={value:?}: the host is empty")));
    }
    if tls {
        return Err(unsupported(format!(
            "DOCKER_HOST={value:?} with DOCKER_TLS_VERIFY set needs TLS client certificates; \
             this probe speaks plain HTTP only"
        )));
    }
    Ok(Endpoint::Tcp {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// moby `opts/hosts.go` `ParseTCPAddr` keeps the URL's host and port only: a
    /// userinfo is dropped (and so never shown).
    #[test]
    fn a_userinfo_is_dropped_as_docker_drops_it() {
        assert_eq!(
            parse("tcp://admin:s3cret@127.0.0.1:2375", false).unwrap(),
            Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port: 2375
            }
        );
        assert_eq!(
            parse("tcp://token@[::1]:2375", false).unwrap(),
            Endpoint::Tcp {
                host: "::1".into(),
                port: 2375
            }
        );
    }

    #[test]
    fn accepts_the_forms_docker_accepts() {
        assert_eq!(
            parse("unix:///var/run/docker.sock", false),
            Ok(Endpoint::Unix(PathBuf::from("/var/run/docker.sock")))
        );
        assert_eq!(
            parse("tcp://127.0.0.1:2375", false),
            Ok(Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port: 2375
            })
        );
        assert_eq!(
            parse("tcp://docker", false),
            Ok(Endpoint::Tcp {
                host: "docker".into(),
                port: 2375
            })
        );
        assert_eq!(
            parse("tcp://[::1]:2375/", false),
            Ok(Endpoint::Tcp {
                host: "::1".into(),
                port: 2375
            })
        );
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(
            parse("/var/run/docker.sock", false).unwrap_err().reason,
            "bad_docker_host"
        );
        assert!(parse("/var/run/docker.sock", false)
            .unwrap_err()
            .message
            .contains("did you mean unix:///var/run/docker.sock"));
        assert_eq!(
            parse("http://x:1", false).unwrap_err().reason,
            "bad_docker_host"
        );
        assert_eq!(
            parse("tcp://x:port", false).unwrap_err().reason,
            "bad_docker_host"
        );
        assert_eq!(
            parse("unix://", false).unwrap_err().reason,
            "bad_docker_host"
        );
        assert_eq!(
            parse("ssh://me@box", false).unwrap_err().reason,
            "unsupported_endpoint"
        );
        assert_eq!(
            parse("tcp://x:2376", true).unwrap_err().reason,
            "unsupported_endpoint"
        );
        let err = parse("npipe:////./pipe/dockerDesktopLinuxEngine", false).unwrap_err();
        assert_eq!(err.reason, "unsupported_endpoint");
        assert!(
            err.message.contains("Windows-only endpoint"),
            "{}",
            err.message
        );
    }
}
