//! Secrets never leave: the redact filter, and a canary token placed in the
//! environment, compose configs, argv, logs and files that must not appear in any
//! output of any mode, errors included.

mod common;

use common::{fixture_str, run_env, Run, CREDENTIALS_SECRET, TOKEN, TOKEN_SECRET};
use day2_tests::fake_edge::closed_url;

/// Environment variables of one run.
type Env<'a> = &'a [(&'a str, &'a str)];

/// A secret without any token shape: only the environment says it is one.
const ODD_SECRET: &str = "odd-shaped-secret-value-77";

fn assert_clean(out: &Run) {
    let all = out.all_output();
    assert!(!all.trim().is_empty(), "the run said nothing: {out:#?}");
    for secret in [
        TOKEN,
        &TOKEN[..40],
        &TOKEN[TOKEN.len() - 40..],
        TOKEN_SECRET,
        CREDENTIALS_SECRET,
        ODD_SECRET,
    ] {
        assert!(!all.contains(secret), "{secret} leaked in {out:#?}");
    }
}

#[test]
fn the_redact_filter_masks_every_form() {
    let input = format!(
        "services:\r\n  cloudflared:\r\n    command:\r\n    - tunnel\r\n    - run\r\n    - --token\r\n    - {TOKEN}\r\n\
         command: tunnel run --token hunter2-not-shaped\n\
         TUNNEL_TOKEN={TOKEN}\n\
         {{\"AccountTag\":\"0123\",\"TunnelSecret\":\"{CREDENTIALS_SECRET}\",\"TunnelID\":\"t\"}}\n\
         2026-11-27T10:00:00Z INF Settings: map[token:{TOKEN}]\n\
         decoded: {{\"a\":\"0123\",\"t\":\"6ff42ae2\",\"s\":\"{TOKEN_SECRET}\"}}\n\
         the odd one: {ODD_SECRET}\n\
         INF Registered tunnel connection connIndex=0 location=ams05 protocol=quic\n\
         no newline at the end"
    );
    let out = run_env(
        &["redact", "--secret-env", "MY_ODD"],
        &input,
        &[("MY_ODD", ODD_SECRET)],
    );
    assert_eq!(out.code, 0, "{out:#?}");
    assert_clean(&out);
    assert!(!out.stdout.contains("hunter2-not-shaped"));
    let lines: Vec<&str> = out.stdout.split('\n').collect();
    assert_eq!(lines[0], "services:\r", "line endings survive");
    assert_eq!(lines[6], "    - [REDACTED:token]\r");
    assert_eq!(lines[8], "TUNNEL_TOKEN=[REDACTED:token]");
    assert_eq!(lines[12], "the odd one: [REDACTED:secret]");
    assert_eq!(
        lines[13],
        "INF Registered tunnel connection connIndex=0 location=ams05 protocol=quic"
    );
    assert_eq!(lines[14], "no newline at the end");
    assert_eq!(out.stdout.matches("[REDACTED").count(), 7, "{}", out.stdout);
}

#[test]
fn a_canary_token_never_appears_in_any_output() {
    let env: &[(&str, &str)] = &[("TUNNEL_TOKEN", TOKEN), ("CLOUDFLARE_TUNNEL_TOKEN", TOKEN)];
    let closed = closed_url().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join(format!("{TOKEN}.yml"));
    std::fs::write(&config, format!("tunnel: {TOKEN}\ncredentials-file: ./{TOKEN}.json\ningress:\n  - hostname: {TOKEN}.example.org\n    service: http://{TOKEN}:80\n")).unwrap();
    std::fs::write(dir.path().join(format!("{TOKEN}.json")), format!("{{\"AccountTag\":\"a\",\"TunnelSecret\":\"{CREDENTIALS_SECRET}\",\"TunnelID\":\"{TOKEN}\"}}")).unwrap();
    let broken = dir.path().join("broken.yml");
    std::fs::write(&broken, format!("tunnel: {TOKEN}\ntunnel: {TOKEN}\n")).unwrap();
    let logs = format!(
        "2026-11-27T10:00:00Z INF Settings: map[token:{TOKEN}]\n\
         2026-11-27T10:00:01Z INF Updated to new configuration config=\"{{\\\"ingress\\\":[{{\\\"hostname\\\":\\\"{TOKEN}.example.org\\\",\\\"service\\\":\\\"http://nginx:80\\\"}}]}}\" version=1\n\
         2026-11-27T10:05:00Z ERR  error=\"Unable to reach the origin service. The service may be down: {TOKEN}\" originService=http://nginx:80\n\
         {{\"level\":\"error\",\"message\":\"Unable to reach the origin service\",\"error\":\"token {TOKEN_SECRET}\",\"time\":\"2026-11-27T10:06:00Z\"}}\n"
    );
    let rendered = std::fs::read_to_string(common::fixture("compose/rendered-argv.yml")).unwrap();
    let odd_env: &[(&str, &str)] = &[("TUNNEL_TOKEN", ODD_SECRET)];
    let edge_url = format!("{closed}/?token={TOKEN}");
    let config_path = config.display().to_string();
    let broken_path = broken.display().to_string();
    let compose_file = fixture_str("compose/docker-compose.cloudflared.yml");

    let cases: Vec<(Vec<&str>, String, Env)> = vec![
        (vec!["--edge", &edge_url, "--origin", &closed, "--path", TOKEN], String::new(), env),
        (vec!["edge", "--edge", &closed, "--metrics", &edge_url], String::new(), env),
        (vec!["connector"], logs.clone(), env),
        (vec!["connector", "--expected-connections", TOKEN], String::new(), env),
        (vec!["connector", "--container", TOKEN, "--timeout", "5s"], String::new(), env),
        (vec!["connector", "--file", TOKEN], String::new(), env),
        (vec!["--bogus", TOKEN], String::new(), env),
        (vec!["config", &config_path], String::new(), env),
        (vec!["config", &config_path, "--credentials", TOKEN], String::new(), env),
        (vec!["config", &broken_path], String::new(), env),
        (vec!["config", TOKEN], String::new(), env),
        (vec!["compose"], rendered.clone(), env),
        (vec!["compose"], format!("services: {TOKEN}: ["), env),
        (vec!["compose", "--service", TOKEN], rendered.clone(), env),
        (vec!["compose", "-f", &compose_file], String::new(), env),
        (vec!["compose", "-f", TOKEN], String::new(), env),
        (vec!["redact"], logs.clone(), env),
        (vec!["config", &config_path], String::new(), odd_env),
        (vec!["connector"], format!("2026-11-27T10:00:00Z ERR  error=\"Unable to reach the origin service: {ODD_SECRET}\"\n"), odd_env),
    ];
    for (args, stdin, env) in cases {
        let out = run_env(&args, &stdin, env);
        assert!([0, 1, 2].contains(&out.code), "{out:#?}");
        assert_clean(&out);
    }
}

#[test]
fn an_unreadable_stdin_exits_2_in_every_reading_mode() {
    for (mode, expected) in [
        (
            "redact",
            "tunnel-check: redact: cannot copy stdin to stdout",
        ),
        ("connector", "tunnel-check: connector: cannot read stdin"),
        ("compose", "tunnel-check: compose: cannot read stdin"),
    ] {
        // A directory opens but cannot be read: every read fails with EISDIR.
        let dir = std::fs::File::open(env!("CARGO_MANIFEST_DIR")).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tunnel-check"))
            .arg(mode)
            .stdin(dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{mode}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with(expected),
            "{mode}: {out:?}"
        );
        assert!(out.stdout.is_empty(), "{mode}: {out:?}");
    }
}
