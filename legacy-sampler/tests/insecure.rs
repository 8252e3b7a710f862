//! Issue 18: legacy-sampler's `--insecure` in live mode against a real nginx with a
//! self-signed certificate on loopback. Without it the certificate is refused and
//! said in words; with it the samples are answered and the run says TLS was not
//! verified.

use day2_tests::process::Bin;
use std::time::Duration;

use day2_tests::tls::{assert_certificate_refused_in_words, HttpsNginx, SelfSigned};

fn sampler(args: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let run = Bin::new(env!("CARGO_BIN_EXE_legacy-sampler"))
        .args(args)
        .env_remove("FAIL_ON_LEGACY")
        .deadline(Duration::from_secs(60))
        .run();
    (Some(run.code), run.json_lines(), run.stderr)
}

#[test]
fn a_self_signed_certificate_is_refused_in_words_unless_insecure() {
    let nginx = HttpsNginx::start(
        "location = /api/status/summary { add_header X-Status-Path api always; return 200 '{}'; }",
        SelfSigned::AsCa,
    )
    .expect("https nginx");
    let url = format!("{}/api/status/summary", nginx.url());
    let (code, records, stderr) = sampler(&[&url, "-n", "3"]);
    let summary = records.last().expect("a summary record");
    assert_eq!(summary["check"], "summary", "{records:#?}");
    assert_ne!(code, Some(0), "{records:#?}\n{stderr}");
    assert_eq!(
        summary["data"]["values"],
        serde_json::json!({}),
        "{summary:#}"
    );
    assert_certificate_refused_in_words(&records, &stderr);
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
