//! The HTTP client settings every HTTP-speaking tool shares, so that all of them
//! time out, cap bodies, refuse redirects and verify TLS the same way, and classify
//! transport failures with the same reason names.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ureq::tls::TlsConfig;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// How a tool talks HTTP. Defaults are safe: short timeouts, a body cap, no
/// redirects followed, TLS verified.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Deadline for establishing the connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Deadline for the whole exchange, body included.
    pub timeout: Duration,
    /// Largest body read; a larger one is the `body_too_large` error.
    pub body_limit: u64,
    /// Skip TLS certificate verification (the user asked; tools record it).
    pub insecure: bool,
    /// How many redirects to follow; 0 shows them as they are.
    pub max_redirects: u32,
    /// Idle keep-alive connections kept per host (raise it for concurrent sampling).
    pub idle_per_host: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            body_limit: 1024 * 1024,
            insecure: false,
            max_redirects: 0,
            idle_per_host: 8,
        }
    }
}

impl HttpOptions {
    /// A pooled agent with these settings. 4xx/5xx are answers, not errors, so their
    /// headers and bodies stay visible.
    pub fn agent(&self) -> ureq::Agent {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(self.max_redirects)
            .max_redirects_will_error(false)
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.timeout))
            .max_idle_connections_per_host(self.idle_per_host.max(1))
            .max_idle_connections(self.idle_per_host.max(1) * 4)
            .user_agent(concat!("day2/", env!("CARGO_PKG_VERSION")))
            .tls_config(
                TlsConfig::builder()
                    .disable_verification(self.insecure)
                    .build(),
            )
            .build();
        ureq::Agent::with_parts(config, DefaultConnector::default(), LiteralFirst::default())
    }
}

/// ureq's default resolver runs every lookup on a new thread when a deadline is set,
/// even for an IP literal such as `127.0.0.1`: one thread per request, which cost a
/// sampler more than the loopback request itself (2-3x fewer requests a second).
/// Literal hosts are answered on the spot; names still go to the default resolver.
#[derive(Debug, Default)]
struct LiteralFirst(DefaultResolver);

impl Resolver for LiteralFirst {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let literal = uri.authority().and_then(|authority| {
            let host = authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']');
            let port = authority.port_u16().or(match uri.scheme_str() {
                Some("http") => Some(80),
                Some("https") => Some(443),
                _ => None,
            })?;
            Some(SocketAddr::new(host.parse::<IpAddr>().ok()?, port))
        });
        match literal {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => self.0.resolve(uri, config, timeout),
        }
    }
}

/// One HTTP answer, with every header as sent (names lower-cased, duplicates kept in
/// order: two `Access-Control-Allow-Origin` lines are two entries).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl HttpResponse {
    /// Every value of a header, matched case-insensitively.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    /// The body parsed as JSON whatever the Content-Type says.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// Why a request got no answer, as a stable snake_case reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Refused,
    Reset,
    Timeout,
    Dns,
    Tls,
    BodyTooLarge,
    Protocol,
    InvalidUrl,
    Io,
}

impl FailureKind {
    pub fn reason(self) -> &'static str {
        match self {
            FailureKind::Refused => "connection_refused",
            FailureKind::Reset => "connection_reset",
            FailureKind::Timeout => "timeout",
            FailureKind::Dns => "dns_failure",
            FailureKind::Tls => "tls_error",
            FailureKind::BodyTooLarge => "body_too_large",
            FailureKind::Protocol => "protocol_error",
            FailureKind::InvalidUrl => "invalid_url",
            FailureKind::Io => "io_error",
        }
    }
}

/// A request that got no usable answer.
#[derive(Debug, Clone)]
pub struct HttpFailure {
    pub kind: FailureKind,
    pub message: String,
    pub elapsed: Duration,
}

impl std::fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.reason(), self.message)
    }
}

fn classify(err: &ureq::Error) -> FailureKind {
    match err {
        ureq::Error::Timeout(_) => FailureKind::Timeout,
        ureq::Error::HostNotFound => FailureKind::Dns,
        ureq::Error::BodyExceedsLimit(_) => FailureKind::BodyTooLarge,
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => FailureKind::InvalidUrl,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => FailureKind::Tls,
        ureq::Error::Protocol(_) => FailureKind::Protocol,
        ureq::Error::ConnectionFailed => FailureKind::Refused,
        // rustls reports a refused certificate through the stream as an io error.
        ureq::Error::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => {
            FailureKind::Tls
        }
        ureq::Error::Io(e) => match e.kind() {
            io::ErrorKind::ConnectionRefused => FailureKind::Refused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => FailureKind::Reset,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FailureKind::Timeout,
            _ => FailureKind::Io,
        },
        _ => FailureKind::Protocol,
    }
}

/// A transport failure in words. ureq's own text is kept except for TLS, where
/// rustls names certificate problems with Rust debug text
/// (`invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))`).
fn describe(err: &ureq::Error) -> String {
    let tls = match err {
        ureq::Error::Rustls(tls) => Some(tls),
        ureq::Error::Io(e) => e.get_ref().and_then(|inner| inner.downcast_ref()),
        _ => None,
    };
    match tls {
        Some(tls) => tls_in_words(tls),
        None => err.to_string(),
    }
}

/// What a TLS failure means for the person reading it. The certificate errors are
/// rustls's `CertificateError` and the webpki errors it wraps (rustls
/// `src/webpki/mod.rs`, `pki_error`).
pub fn tls_in_words(err: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let text = match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => "the server's certificate is not signed by an authority this machine trusts (self-signed, or a private CA)",
            C::BadSignature => "the server's certificate has a signature that does not verify",
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired",
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (is this machine's clock right?)"
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's certificate is not valid for the host name in the URL"
            }
            C::Revoked => "the server's certificate has been revoked",
            C::BadEncoding => "the server's certificate could not be decoded",
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "the server's certificate is not meant for a TLS server"
            }
            C::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
                Some(webpki::Error::CaUsedAsEndEntity) => {
                    "the server presented a CA certificate as its own certificate (a self-signed certificate made as a CA)"
                }
                Some(webpki::Error::EndEntityUsedAsCa) => {
                    "the server's certificate chain uses a server certificate as an authority"
                }
                _ => "the server's certificate was refused",
            },
            _ => "the server's certificate was refused",
        },
        rustls::Error::NoCertificatesPresented => "the server sent no certificate",
        rustls::Error::AlertReceived(_) => "the server ended the TLS handshake with an alert",
        rustls::Error::PeerIncompatible(_) => {
            "the server's TLS settings are incompatible with this client's (protocol versions or cipher suites)"
        }
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. }
        | rustls::Error::PeerMisbehaved(_) => {
            "the server did not speak TLS as expected (is this an http:// port?)"
        }
        _ => "the TLS handshake failed",
    };
    text.to_owned()
}

/// Sends one request and reads the whole answer (up to `body_limit`).
pub fn request(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body_limit: u64,
) -> Result<HttpResponse, HttpFailure> {
    request_within(agent, method, url, headers, body_limit, None)
}

/// [`request`] whose whole exchange (connect, headers, body) ends within `within`
/// when it is given, instead of the agent's own timeout: a caller with a deadline of
/// its own (a wait) caps each request by the time it has left.
pub fn request_within(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body_limit: u64,
    within: Option<Duration>,
) -> Result<HttpResponse, HttpFailure> {
    let started = Instant::now();
    let fail = |err: ureq::Error| HttpFailure {
        kind: classify(&err),
        message: describe(&err),
        elapsed: started.elapsed(),
    };
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(()).map_err(|e| HttpFailure {
        kind: FailureKind::InvalidUrl,
        message: e.to_string(),
        elapsed: started.elapsed(),
    })?;
    let request = match within {
        Some(limit) => agent
            .configure_request(request)
            .timeout_global(Some(limit))
            .build(),
        None => request,
    };
    let mut response = agent.run(request).map_err(fail)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = if method.eq_ignore_ascii_case("HEAD") {
        Vec::new()
    } else {
        response
            .body_mut()
            .with_config()
            .limit(body_limit)
            .read_to_vec()
            .map_err(fail)?
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{CertificateError, Error, OtherError};

    /// Every certificate failure is said in words, none in rustls's debug text.
    #[test]
    fn tls_failures_are_said_in_words() {
        let cases = [
            (
                Error::InvalidCertificate(CertificateError::Expired),
                "the server's certificate has expired",
            ),
            (
                Error::InvalidCertificate(CertificateError::UnknownIssuer),
                "the server's certificate is not signed by an authority this machine trusts (self-signed, or a private CA)",
            ),
            (
                Error::InvalidCertificate(CertificateError::NotValidForName),
                "the server's certificate is not valid for the host name in the URL",
            ),
            (
                Error::InvalidCertificate(CertificateError::Other(OtherError(
                    std::sync::Arc::new(webpki::Error::CaUsedAsEndEntity),
                ))),
                "the server presented a CA certificate as its own certificate (a self-signed certificate made as a CA)",
            ),
            (
                Error::InvalidCertificate(CertificateError::Other(OtherError(
                    std::sync::Arc::new(webpki::Error::MaximumPathDepthExceeded),
                ))),
                "the server's certificate was refused",
            ),
            (
                Error::NoCertificatesPresented,
                "the server sent no certificate",
            ),
        ];
        for (error, words) in cases {
            assert_eq!(tls_in_words(&error), words);
        }
        // What rustls itself says, and the reason for the words.
        let debug = Error::InvalidCertificate(CertificateError::Other(OtherError(
            std::sync::Arc::new(webpki::Error::CaUsedAsEndEntity),
        )))
        .to_string();
        assert!(debug.contains("CaUsedAsEndEntity"), "{debug}");
    }
}
