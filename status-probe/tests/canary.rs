//! Issue 18, the secret canary for status-probe: a password in the URL's userinfo
//! and a token in its query reach no output (records, the text view, Prometheus on
//! stdout, the --textfile file, stderr), in plain, percent-encoded or base64 form.

use std::process::Command;
use std::time::Duration;

use day2_tests::{Backend, BackendConfig};

/// Runs status-probe, bounded to 60 s: (stdout, stderr).
fn probe(args: &[&str]) -> (String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_status-probe"));
    command
        .args(args)
        .env_remove("ALLOWED_ORIGINS")
        .env_remove("PRIMARY_POLL_INTERVAL_S")
        .env_remove("PRIMARY_POLL_MAX_S");
    let out = day2_tests::process::run_bounded(command, b"", Duration::from_secs(60));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
            let (stdout, stderr) = probe(&[
                "--url",
                url,
                "--chat-path",
                "/chat",
                "--format",
                format,
                "--textfile",
                textfile_arg,
                "ready",
                "summary",
                "cors",
            ]);
            assert!(!stdout.is_empty(), "{format} {url}: {stderr}");
            let written = std::fs::read_to_string(&textfile).expect("textfile");
            for (what, text) in [
                ("stdout", &stdout),
                ("stderr", &stderr),
                ("textfile", &written),
            ] {
                assert_no_canary(CANARY, &format!("{format} {what}"), text);
            }
            // The URL is shown, masked: the canary was in the output's way.
            let shown = format!("{stdout}{written}");
            assert!(shown.contains("[REDACTED]"), "{format}: {shown}");
        }
    }
}

/// The forms of `canary` an output may carry it in: as written, every byte
/// percent-encoded (`%43%41…`, how a URL or a label may escape it), and base64
/// (standard and URL-safe) at each of the three alignments inside a longer value.
fn canary_forms(canary: &str) -> Vec<String> {
    const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut forms = vec![
        canary.to_owned(),
        canary.bytes().map(|b| format!("%{b:02X}")).collect(),
    ];
    for pad in 0..3usize {
        let mut bytes = vec![b'x'; pad];
        bytes.extend_from_slice(canary.as_bytes());
        let mut encoded = String::new();
        for group in bytes.chunks(3).filter(|g| g.len() == 3) {
            let n = (u32::from(group[0]) << 16) | (u32::from(group[1]) << 8) | u32::from(group[2]);
            for shift in [18, 12, 6, 0] {
                encoded.push(STANDARD[((n >> shift) & 63) as usize] as char);
            }
        }
        // Skip the group holding the padding bytes.
        let inner = &encoded[if pad == 0 { 0 } else { 4 }..];
        forms.push(inner.to_owned());
        forms.push(inner.replace('+', "-").replace('/', "_"));
    }
    forms
}

/// Fails when `text` (an output named `what`) holds `canary` in any of its forms.
fn assert_no_canary(canary: &str, what: &str, text: &str) {
    for form in canary_forms(canary) {
        assert!(!text.contains(&form), "{what} leaks {form:?}:\n{text}");
    }
}
