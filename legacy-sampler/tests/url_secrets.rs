//! Issue 18: a credential in a sampled URL (userinfo password, token query value)
//! reaches no output: records, Prometheus on stdout, the --textfile file, stderr.
//! The masking is day2-core's (the record sink and the label escaper), so this test
//! is the only legacy-sampler file it needed.

mod common;

use day2_tests::{Backend, BackendConfig};

#[test]
fn url_credentials_never_reach_any_output() {
    const CANARY: &str = "CANARY-0c4e";
    let backend = Backend::start(BackendConfig::default()).expect("backend");
    let url = format!(
        "{}/api/status/summary?token={CANARY}&v=1",
        backend
            .url()
            .replacen("http://", &format!("http://ops:{CANARY}@"), 1)
    );
    let dir = tempfile::tempdir().unwrap();
    let textfile = dir.path().join("legacy.prom");
    let textfile = textfile.to_str().unwrap();
    for format in ["json", "prometheus"] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_legacy-sampler"));
        command
            .args(["-n", "3", "--format", format, "--textfile", textfile, &url])
            .env_remove("FAIL_ON_LEGACY");
        let out =
            day2_tests::process::run_bounded(command, b"", std::time::Duration::from_secs(60));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let written = std::fs::read_to_string(textfile).expect("textfile");
        assert!(!stdout.is_empty(), "{stderr}");
        for (what, text) in [
            ("stdout", &*stdout),
            ("stderr", &*stderr),
            ("textfile", &*written),
        ] {
            assert!(!text.contains(CANARY), "{format} {what} leaks:\n{text}");
        }
        if format == "json" {
            assert!(stdout.contains("ops:[REDACTED]@127.0.0.1"), "{stdout}");
            assert!(stdout.contains("token=[REDACTED]&v=1"), "{stdout}");
        }
    }
}
