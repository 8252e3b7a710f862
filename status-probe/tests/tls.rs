//! TLS is verified unless --insecure, and --insecure is recorded: a real nginx serving
//! the summary over HTTPS with a self-signed certificate made for the test.

mod common;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use day2_core::record::Verdict;

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const SUMMARY: &str = r#"{"ok":true,"ready":true,"llm":{"path":"primary","primary_model_present":true},"primary":{"model_present":true},"build":{"sha":"local"}}"#;

/// nginx serving the summary over HTTPS with a self-signed certificate; `as_ca`:
/// made the way `openssl req -x509` makes it by default (`CA:TRUE`), else as a
/// server certificate (`CA:FALSE`).
fn https_summary(dir: &std::path::Path, as_ca: bool) -> (Nginx, String) {
    let openssl = day2_tests::require::program("openssl", "openssl");
    let made = Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(if as_ca {
            &[][..]
        } else {
            &["-addext", "basicConstraints=critical,CA:FALSE"][..]
        })
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(made.success(), "openssl made no certificate");
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/c;\n  \
         proxy_temp_path {d}/p;\n  fastcgi_temp_path {d}/f;\n  uwsgi_temp_path {d}/u;\n  scgi_temp_path {d}/s;\n  \
         server {{\n    listen {addr} ssl;\n    ssl_certificate {d}/cert.pem;\n    ssl_certificate_key {d}/key.pem;\n    \
         location = /api/status/summary {{ default_type application/json; return 200 '{SUMMARY}'; }}\n  }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new(day2_tests::require::program("nginx", "nginx-light"))
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    let nginx = Nginx(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not listen on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
    (nginx, format!("https://{addr}"))
}

#[test]
fn a_self_signed_certificate_is_refused_unless_insecure_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, url) = https_summary(dir.path(), true);
    let run = probe(&["--url", &url, "summary"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        verdict(run.one("summary")),
        (Verdict::Error, Some("tls_error")),
        "{run:?}"
    );
    assert_eq!(
        run.one("summary").message.as_deref(),
        Some("tls_error: the server presented a CA certificate as its own certificate (a self-signed certificate made as a CA)"),
        "{run:?}"
    );
    assert!(run.all("tls").is_empty());

    let run = probe(&["--url", &url, "summary", "--insecure"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.one("summary").verdict, Verdict::Pass, "{run:?}");
    assert_eq!(
        verdict(run.one("tls")),
        (Verdict::Info, Some("tls_verification_disabled"))
    );
    // The metrics say so too, whatever the format on stdout.
    for (args, verified) in [(&["--insecure"][..], "1"), (&[][..], "0")] {
        let mut all = vec!["--url", &url, "summary", "--format", "prometheus"];
        all.extend_from_slice(args);
        let run = probe(&all);
        day2_tests::process::promtool_check_metrics(&run.stdout);
        assert!(
            run.stdout.contains(&format!(
                "status_tls_verification_disabled{{service=\"backend\"}} {verified}\n"
            )),
            "{run:?}"
        );
    }
}

/// TLS failures are said in words, never as rustls's debug text
/// (`invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))`).
#[test]
fn certificate_failures_are_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, url) = https_summary(dir.path(), false);
    let run = probe(&["--url", &url, "summary"]);
    let summary = run.one("summary");
    assert_eq!(
        verdict(summary),
        (Verdict::Error, Some("tls_error")),
        "{run:?}"
    );
    assert_eq!(
        summary.message.as_deref(),
        Some("tls_error: the server's certificate is not signed by an authority this machine trusts (self-signed, or a private CA)"),
        "{run:?}"
    );
    // A TLS client on a plain-HTTP port.
    let stack = stack();
    let plain = stack.url().replace("http://", "https://");
    let run = probe(&["--url", &plain, "summary"]);
    let summary = run.one("summary");
    assert_eq!(
        verdict(summary),
        (Verdict::Error, Some("tls_error")),
        "{run:?}"
    );
    assert_eq!(
        summary.message.as_deref(),
        Some("tls_error: the server did not speak TLS as expected (is this an http:// port?)"),
        "{run:?}"
    );
}
