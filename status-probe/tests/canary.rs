//! Issue 18, the secret canary for status-probe: a password in the URL's userinfo
//! and a token in its query reach no output (records, the text view, Prometheus on
//! stdout, the --textfile file, stderr), in plain, percent-encoded or base64 form.

mod common;

use common::{canary_argv, probe};
use day2_tests::canary::assert_absent;
use day2_tests::{Backend, BackendConfig};

const CANARY: &str = "CANARY9d41b7e2";

#[test]
fn a_token_query_and_a_password_reach_no_output_in_any_format() {
    let backend = Backend::start(BackendConfig::default()).expect("backend");
    let base = backend.url();
    let with_password = base.replacen("http://", &format!("http://ops:{CANARY}@"), 1);
    let with_query = format!("{}/?token={CANARY}", base.trim_end_matches('/'));
    let dir = tempfile::tempdir().unwrap();
    let textfile = dir.path().join("status.prom");
    let textfile_arg = textfile.to_str().unwrap();
    for url in [&with_password, &with_query] {
        for format in ["text", "json", "prometheus"] {
            let _ = std::fs::remove_file(&textfile);
            let run = probe(&canary_argv(url, format, textfile_arg));
            let (stdout, stderr) = (run.stdout.clone(), run.stderr.clone());
            assert!(!stdout.is_empty(), "{format} {url}: {stderr}");
            let written = std::fs::read_to_string(&textfile).expect("textfile");
            for (what, text) in [
                ("stdout", &stdout),
                ("stderr", &stderr),
                ("textfile", &written),
            ] {
                assert_absent(CANARY, &format!("{format} {what}"), text);
            }
            // The URL is shown, masked: the canary was in the output's way.
            let shown = format!("{stdout}{written}");
            assert!(shown.contains("[REDACTED]"), "{format}: {shown}");
        }
    }
}
