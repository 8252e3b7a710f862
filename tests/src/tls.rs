//! A real nginx (Debian's package) serving HTTPS on loopback with a self-signed
//! certificate made for the test by the real `openssl req -x509`, for the tests of
//! TLS verification and `--insecure`.

use std::io;
use std::net::SocketAddr;
use std::process::Child;

use crate::edge::{free_loopback_port, spawn_nginx};
use crate::process::Bin;
use crate::require;

/// How the self-signed certificate is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfSigned {
    /// As `openssl req -x509` makes it by default: `CA:TRUE`, which rustls refuses
    /// as an end-entity certificate (`CaUsedAsEndEntity`).
    AsCa,
    /// As a server certificate (`basicConstraints=critical,CA:FALSE`), refused only
    /// because no trusted authority signed it (`UnknownIssuer`).
    AsServer,
}

/// A running nginx serving HTTPS. Dropping it stops nginx, also when a test panics.
#[derive(Debug)]
pub struct HttpsNginx {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl HttpsNginx {
    /// Starts nginx on a free loopback port with `locations` (nginx `location`
    /// blocks) in its one `server`, for `127.0.0.1` (CN and subjectAltName) with a
    /// certificate made as `certificate` says, valid one day.
    pub fn start(locations: &str, certificate: SelfSigned) -> io::Result<HttpsNginx> {
        let dir = tempfile::Builder::new().prefix("day2-https-").tempdir()?;
        let d = dir.path();
        let made = Bin::new(require::program("openssl", "openssl"))
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=127.0.0.1"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            .args(match certificate {
                SelfSigned::AsCa => &[][..],
                SelfSigned::AsServer => &["-addext", "basicConstraints=critical,CA:FALSE"][..],
            })
            .arg("-keyout")
            .arg(d.join("key.pem"))
            .arg("-out")
            .arg(d.join("cert.pem"))
            .run();
        if !made.status.success() {
            return Err(io::Error::other(format!(
                "openssl req -x509 made no certificate:\n{made}"
            )));
        }
        let addr = free_loopback_port()?;
        let conf = d.join("nginx.conf");
        let shown = d.display();
        std::fs::write(
            &conf,
            format!(
                "daemon off;\nmaster_process off;\npid {shown}/nginx.pid;\nerror_log {shown}/error.log warn;\n\
                 events {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {shown}/c;\n  \
                 proxy_temp_path {shown}/p;\n  fastcgi_temp_path {shown}/f;\n  uwsgi_temp_path {shown}/u;\n  scgi_temp_path {shown}/s;\n  \
                 server {{\n    listen {addr} ssl;\n    ssl_certificate {shown}/cert.pem;\n    ssl_certificate_key {shown}/key.pem;\n    \
                 {locations}\n  }}\n}}\n"
            ),
        )?;
        let child = spawn_nginx(&require::program("nginx", "nginx-light"), d, &conf, addr)?;
        Ok(HttpsNginx {
            child,
            addr,
            _dir: dir,
        })
    }

    /// `https://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

impl Drop for HttpsNginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fails unless what a run said to a person (the `message` of each of its
/// `records`, and its `stderr`) names the certificate as the reason, in words: no
/// Rust debug text of the TLS failure (rustls's
/// `Other(OtherError(CaUsedAsEndEntity))`, `UnknownIssuer`, an `Option`'s `Some(`).
pub fn assert_certificate_refused_in_words(records: &[serde_json::Value], stderr: &str) {
    let said = records
        .iter()
        .filter_map(|r| r["message"].as_str())
        .chain(std::iter::once(stderr))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(said.contains("certificate"), "{said}");
    for debug in [
        "Other(",
        "OtherError",
        "CaUsedAsEndEntity",
        "Some(",
        "UnknownIssuer",
    ] {
        assert!(
            !said.contains(debug),
            "records and stderr hold debug text {debug:?}:\n{said}"
        );
    }
}
