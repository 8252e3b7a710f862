//! TLS is verified unless --insecure, and --insecure is recorded: a real nginx serving
//! the summary over HTTPS with a self-signed certificate made for the test.

mod common;

use common::*;
use day2_core::record::Verdict;
use day2_tests::tls::{HttpsNginx, SelfSigned};

const SUMMARY: &str = r#"{"ok":true,"ready":true,"llm":{"path":"primary","primary_model_present":true},"primary":{"model_present":true},"build":{"sha":"local"}}"#;

/// nginx serving the summary over HTTPS with a self-signed certificate.
fn https_summary(certificate: SelfSigned) -> HttpsNginx {
    HttpsNginx::start(
        &format!(
            "location = /api/status/summary {{ default_type application/json; return 200 '{SUMMARY}'; }}"
        ),
        certificate,
    )
    .expect("https nginx")
}

#[test]
fn a_self_signed_certificate_is_refused_unless_insecure_is_asked_for() {
    let nginx = https_summary(SelfSigned::AsCa);
    let url = nginx.url();
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
    let nginx = https_summary(SelfSigned::AsServer);
    let url = nginx.url();
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
