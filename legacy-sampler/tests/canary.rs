//! Issue 18, the secret canary for legacy-sampler in `--log` mode: a token in a
//! logged request's query and a password in a logged referer reach no output
//! (records, Prometheus, the --textfile file, stderr), in plain, percent-encoded
//! or base64 form.

use day2_tests::canary::assert_absent;
use day2_tests::process::Bin;

const CANARY: &str = "CANARY5e0c2a91";

#[test]
fn logged_tokens_and_passwords_reach_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let lines = [
        format!("10.0.0.7 - - [29/Nov/2026:10:00:00 +0000] \"GET /status/summary?token={CANARY} HTTP/1.1\" 200 42 \"http://ops:{CANARY}@monitor.test/\" \"probe/1.0 (+https://ops:{CANARY}@monitor.test/?token={CANARY})\""),
        format!("10.0.0.8 - - [29/Nov/2026:10:00:01 +0000] \"GET /api/status/summary?access_token={CANARY}&v=1 HTTP/1.1\" 200 42 \"-\" \"curl/8.5.0\""),
        format!("10.0.0.9 - - [29/Nov/2026:10:00:02 +0000] \"GET http://ops:{CANARY}@127.0.0.1/status/summary HTTP/1.1\" 200 42 \"-\" \"curl/8.5.0\""),
    ];
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let textfile = dir.path().join("legacy.prom");
    for format in ["json", "prometheus"] {
        let _ = std::fs::remove_file(&textfile);
        let out = Bin::new(env!("CARGO_BIN_EXE_legacy-sampler"))
            .args(["--log", log.to_str().unwrap(), "--quiet-for", "1h"])
            .args(["--format", format, "--textfile", textfile.to_str().unwrap()])
            .env_remove("FAIL_ON_LEGACY")
            .deadline(std::time::Duration::from_secs(60))
            .run();
        let stdout = out.stdout.clone();
        let stderr = out.stderr.clone();
        let written = std::fs::read_to_string(&textfile).unwrap_or_default();
        assert!(!stdout.is_empty(), "{stderr}");
        for (what, text) in [
            ("stdout", &*stdout),
            ("stderr", &*stderr),
            ("textfile", &*written),
        ] {
            assert_absent(CANARY, &format!("{format} {what}"), text);
        }
    }
}
