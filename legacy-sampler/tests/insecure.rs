//! Issue 18: legacy-sampler's `--insecure` in live mode against a real nginx with a
//! self-signed certificate on loopback. Without it the certificate is refused and
//! said in words; with it the samples are answered and the run says TLS was not
//! verified.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn sampler(args: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_legacy-sampler"));
    command.args(args).env_remove("FAIL_ON_LEGACY");
    let out = day2_tests::process::run_bounded(command, b"", Duration::from_secs(60));
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
fn a_self_signed_certificate_is_refused_in_words_unless_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, base) = https_nginx(
        dir.path(),
        "location = /api/status/summary { add_header X-Status-Path api always; return 200 '{}'; }",
    );
    let url = format!("{base}/api/status/summary");
    let (code, records, stderr) = sampler(&[&url, "-n", "3"]);
    let summary = records.last().expect("a summary record");
    assert_eq!(summary["check"], "summary", "{records:#?}");
    assert_ne!(code, Some(0), "{records:#?}\n{stderr}");
    assert_eq!(
        summary["data"]["values"],
        serde_json::json!({}),
        "{summary:#}"
    );
    let said: String = records
        .iter()
        .filter_map(|r| r["message"].as_str())
        .chain(std::iter::once(stderr.as_str()))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(said.contains("certificate"), "{said}");
    assert_words("records and stderr", &said);
    assert!(stderr.lines().all(|l| !l.trim().is_empty()), "{stderr}");

    let (code, records, stderr) = sampler(&[&url, "-n", "3", "--insecure"]);
    assert_eq!(code, Some(0), "{records:#?}\n{stderr}");
    let summary = records.last().unwrap();
    assert_eq!(
        summary["data"]["values"],
        serde_json::json!({"api": 3}),
        "{summary:#}"
    );
    assert_eq!(summary["data"]["insecure"], true, "{summary:#}");
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
