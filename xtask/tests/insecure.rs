//! Issue 18: triage's `--insecure` against a real nginx with a self-signed
//! certificate on loopback, in front of the backend simulator. Without it the
//! certificate is refused and said in words (no Rust debug text); with it the
//! probes are answered and the run says TLS was not verified.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use day2_tests::{Backend, BackendConfig};

fn triage(url: &str, extra: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(["triage", "--url", url, "--samples", "3"])
        .args(extra);
    let out = day2_tests::process::run_bounded(command, b"", Duration::from_secs(120));
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (
        out.status.code(),
        records,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn triage_refuses_a_self_signed_certificate_in_words_unless_insecure() {
    let backend = Backend::start(BackendConfig::default()).expect("backend");
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, url) = https_nginx(
        dir.path(),
        &format!("location / {{ proxy_pass {}; }}", backend.url()),
    );
    let (code, records, stderr) = triage(&url, &[]);
    assert_ne!(code, Some(0), "{records:#?}\n{stderr}");
    let said: String = records
        .iter()
        .filter_map(|r| r["message"].as_str())
        .chain(std::iter::once(stderr.as_str()))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(said.contains("certificate"), "{said}");
    assert_words("records and stderr", &said);
    let summary = records
        .iter()
        .find(|r| r["tool"] == "status-probe" && r["check"] == "summary")
        .unwrap_or_else(|| panic!("{records:#?}"));
    assert_eq!(summary["reason"], "tls_error", "{summary:#}");
    assert_eq!(records.last().unwrap()["data"]["insecure"], false);

    let (_, records, stderr) = triage(&url, &["--insecure"]);
    let summary = records
        .iter()
        .find(|r| r["tool"] == "status-probe" && r["check"] == "summary")
        .unwrap_or_else(|| panic!("{records:#?}\n{stderr}"));
    assert_eq!(summary["verdict"], "pass", "{summary:#}");
    assert!(
        records.iter().any(|r| r["tool"] == "status-probe"
            && r["check"] == "tls"
            && r["reason"] == "tls_verification_disabled"),
        "{records:#?}"
    );
    assert_eq!(records.last().unwrap()["data"]["insecure"], true);
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real nginx on loopback serving `locations` over HTTPS with a self-signed
/// certificate made as `openssl req -x509` makes it by default (`CA:TRUE`): the
/// equipment of status-probe's `tests/tls.rs`.
fn https_nginx(dir: &Path, locations: &str) -> (Nginx, String) {
    let openssl = day2_tests::require::program("openssl", "openssl");
    let made = Command::new(openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
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
         {locations}\n  }}\n}}\n"
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

/// Rust debug text that must never reach a person.
fn assert_words(what: &str, text: &str) {
    for debug in [
        "Other(",
        "OtherError",
        "CaUsedAsEndEntity",
        "Some(",
        "UnknownIssuer",
    ] {
        assert!(
            !text.contains(debug),
            "{what} holds debug text {debug:?}:\n{text}"
        );
    }
}
