//! Issue 18: triage's `--insecure` against a real nginx with a self-signed
//! certificate on loopback, in front of the backend simulator. Without it the
//! certificate is refused and said in words (no Rust debug text); with it the
//! probes are answered and the run says TLS was not verified.

mod common;

use std::time::Duration;

use day2_tests::tls::{assert_certificate_refused_in_words, HttpsNginx, SelfSigned};
use day2_tests::{Backend, BackendConfig};

fn triage(url: &str, extra: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let run = common::xtask(&["triage", "--url", url, "--samples", "3"])
        .args(extra)
        .deadline(Duration::from_secs(120))
        .run();
    (Some(run.code), run.json_lines(), run.stderr)
}

#[test]
fn triage_refuses_a_self_signed_certificate_in_words_unless_insecure() {
    let backend = Backend::start(BackendConfig::default()).expect("backend");
    let nginx = HttpsNginx::start(
        &format!("location / {{ proxy_pass {}; }}", backend.url()),
        SelfSigned::AsCa,
    )
    .expect("https nginx");
    let url = nginx.url();
    let (code, records, stderr) = triage(&url, &[]);
    assert_ne!(code, Some(0), "{records:#?}\n{stderr}");
    assert_certificate_refused_in_words(&records, &stderr);
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
