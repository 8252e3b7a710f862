//! The config mode on YAML fixtures: valid, catch-all missing, rule after the
//! catch-all, bad service, messy rules, duplicate key, credentials missing and
//! malformed, token mode.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use common::{private_copy, run, run_env, CREDENTIALS_SECRET, TUNNEL_ID};
use day2_core::Verdict;

/// A private copy of the config fixtures (credentials mode 600).
fn workdir() -> tempfile::TempDir {
    private_copy("config")
}

fn path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

fn credentials(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join(format!("{TUNNEL_ID}.json"))
}

#[test]
fn a_valid_config_passes_every_check() {
    let dir = workdir();
    let file = path(&dir, "valid.yml");
    let out = run(&["config", &file], "");
    assert_eq!(out.code, 0, "{out:#?}");
    out.expect("config.tunnel", Verdict::Pass, None);
    let creds = out.expect("config.credentials", Verdict::Pass, None);
    assert_eq!(
        creds.data["configured"],
        format!("/etc/cloudflared/{TUNNEL_ID}.json")
    );
    assert_eq!(creds.data["path"], credentials(&dir).display().to_string());
    assert_eq!(creds.data["tunnel_id"], TUNNEL_ID);
    let rules: Vec<_> = out
        .records
        .iter()
        .filter(|r| r.check == "config.ingress.rule")
        .collect();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].target, format!("{file}:5"));
    assert_eq!(rules[1].data["catch_all"], true);
    out.expect("config.ingress", Verdict::Pass, None);
    assert!(!out.all_output().contains(CREDENTIALS_SECRET));

    // --credentials points at the host copy explicitly; world-readable is a warning.
    let loose = dir.path().join("loose.json");
    std::fs::copy(credentials(&dir), &loose).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(
        &[
            "config",
            &file,
            "--credentials",
            &loose.display().to_string(),
        ],
        "",
    );
    assert_eq!(out.code, 0);
    out.expect(
        "config.credentials",
        Verdict::Warn,
        Some("credentials_world_readable"),
    );
}

#[test]
fn ingress_rule_defects() {
    let dir = workdir();
    let missing = run(&["config", &path(&dir, "catch_all_missing.yml")], "");
    assert_eq!(missing.code, 1);
    missing.expect("config.ingress", Verdict::Fail, Some("catch_all_missing"));

    // cloudflared names the catch-all that is not last (ingress.go validateHostname).
    let after = run(&["config", &path(&dir, "rule_after_catch_all.yml")], "");
    let summary = after.expect(
        "config.ingress",
        Verdict::Fail,
        Some("rule_after_catch_all"),
    );
    assert_eq!(summary.data["refused_at"]["line"], 4);
    let catch_all = after
        .records
        .iter()
        .find(|r| r.check == "config.ingress.rule" && r.verdict == Verdict::Fail)
        .unwrap();
    assert_eq!(catch_all.reason.as_deref(), Some("catch_all_not_last"));
    assert_eq!(
        catch_all.target,
        format!("{}:4", path(&dir, "rule_after_catch_all.yml"))
    );
    assert!(catch_all
        .message
        .as_deref()
        .unwrap()
        .contains("Rule #1 is matching the hostname ''"));

    let bad = run(&["config", &path(&dir, "bad_service.yml")], "");
    assert_eq!(bad.code, 1);
    let rule = bad
        .records
        .iter()
        .find(|r| r.check == "config.ingress.rule" && r.verdict == Verdict::Fail)
        .unwrap();
    assert_eq!(rule.reason.as_deref(), Some("invalid_service"));
    assert_eq!(rule.data["service"], "nginx:80");
    bad.expect("config.ingress", Verdict::Fail, Some("invalid_rule"));

    let messy = run(&["config", &path(&dir, "messy_rules.yml")], "");
    messy.expect("config.tunnel", Verdict::Warn, Some("tunnel_not_uuid"));
    let reasons: Vec<Option<&str>> = messy
        .records
        .iter()
        .filter(|r| r.check == "config.ingress.rule")
        .map(|r| r.reason.as_deref())
        .collect();
    assert_eq!(
        reasons,
        vec![
            None,
            None,
            Some("duplicate_hostname"),
            Some("service_missing"),
            None
        ]
    );

    // No credentials-file: cloudflared looks for <tunnel-id>.json (found beside
    // config.yml here); no ingress: it runs and answers 503.
    let bare = run(&["config", &path(&dir, "no_credentials.yml")], "");
    let creds = bare.expect("config.credentials", Verdict::Pass, None);
    assert_eq!(creds.data["configured"], serde_json::Value::Null);
    assert_eq!(creds.target, credentials(&dir).display().to_string());
    bare.expect("config.ingress", Verdict::Warn, Some("ingress_missing"));
    assert_eq!(bare.code, 0, "{bare:#?}");

    // An empty `tunnel:` is no tunnel: token mode.
    std::fs::write(
        dir.path().join("empty_tunnel.yml"),
        "tunnel: ''\ningress:\n  - service: http_status:404\n",
    )
    .unwrap();
    let empty = run(&["config", &path(&dir, "empty_tunnel.yml")], "");
    let mode = empty.expect("config.mode", Verdict::Info, Some("token_mode"));
    assert_eq!(mode.data["because"], "no_tunnel_key");
    assert!(empty
        .records
        .iter()
        .all(|r| r.check != "config.credentials"));
    assert_eq!(empty.code, 0, "{empty:#?}");
}

#[test]
fn a_duplicate_key_is_cloudflared_refusing_the_file() {
    let dir = workdir();
    let file = path(&dir, "duplicate_key.yml");
    let out = run(&["config", &file], "");
    assert_eq!(out.code, 1);
    let record = out.expect("config.yaml", Verdict::Fail, Some("duplicate_key"));
    assert_eq!(record.target, format!("{file}:6"));
    assert_eq!(
        record.message.as_deref(),
        Some("cloudflared refuses the file: yaml: unmarshal errors: line 6: mapping key \"service\" already defined at line 5")
    );
    out.expect("config.ingress", Verdict::Error, Some("not_checked"));
    // YAML that does not parse at all is unreadable input.
    std::fs::write(dir.path().join("broken.yml"), "tunnel: [\n").unwrap();
    let broken = run(&["config", &path(&dir, "broken.yml")], "");
    assert_eq!(broken.code, 2);
    assert!(
        broken.stderr.contains("broken.yml: line 1, column"),
        "{broken:#?}"
    );
    let absent = run(&["config", &path(&dir, "absent.yml")], "");
    assert_eq!(absent.code, 2);
    assert!(absent.stderr.contains("cannot read"), "{absent:#?}");
}

#[test]
fn credentials_missing_or_malformed() {
    let dir = workdir();
    let missing = run(&["config", &path(&dir, "credentials_missing.yml")], "");
    assert_eq!(missing.code, 1);
    let record = missing.expect(
        "config.credentials",
        Verdict::Fail,
        Some("credentials_missing"),
    );
    assert_eq!(record.data["tried"].as_array().unwrap().len(), 2);

    let truncated = run(
        &["config", &path(&dir, "malformed_credentials/config.yml")],
        "",
    );
    let record = truncated.expect(
        "config.credentials",
        Verdict::Fail,
        Some("credentials_malformed"),
    );
    assert_eq!(record.data["problem"], "not_json");
    assert!(
        !truncated.all_output().contains(CREDENTIALS_SECRET),
        "{truncated:#?}"
    );

    let file = path(&dir, "valid.yml");
    let cases = [
        (
            r#"{"AccountTag":"0123","TunnelID":"6ff42ae2-765d-4adf-8db7-aa8b61168b6a"}"#,
            "missing_keys",
        ),
        (r#"["not","an","object"]"#, "not_json_object"),
        (
            r#"{"AccountTag":"0123","TunnelID":"6ff42ae2-765d-4adf-8db7-aa8b61168b6a","TunnelSecret":"short-secret-not-b64!"}"#,
            "secret_not_base64",
        ),
        (
            &format!(
                r#"{{"AccountTag":"0123","TunnelID":"tunnel-one","TunnelSecret":"{CREDENTIALS_SECRET}"}}"#
            ),
            "tunnel_id_not_uuid",
        ),
    ];
    for (json, problem) in cases {
        std::fs::write(credentials(&dir), json).unwrap();
        let out = run(&["config", &file], "");
        let record = out.expect(
            "config.credentials",
            Verdict::Fail,
            Some("credentials_malformed"),
        );
        assert_eq!(record.data["problem"], problem, "{out:#?}");
        assert!(
            !out.all_output().contains("short-secret-not-b64!"),
            "{out:#?}"
        );
        assert!(!out.all_output().contains(CREDENTIALS_SECRET), "{out:#?}");
    }
    std::fs::write(
        credentials(&dir),
        format!(r#"{{"AccountTag":"0123","TunnelID":"00000000-0000-4000-8000-000000000000","TunnelSecret":"{CREDENTIALS_SECRET}"}}"#),
    )
    .unwrap();
    let other = run(&["config", &file], "");
    other.expect(
        "config.credentials",
        Verdict::Fail,
        Some("credentials_tunnel_mismatch"),
    );
}

#[test]
fn token_mode_is_noticed() {
    let dir = workdir();
    let file = path(&dir, "valid.yml");
    let flag = run(&["config", &file, "--token-mode"], "");
    assert_eq!(flag.code, 0, "{flag:#?}");
    let record = flag.expect("config.mode", Verdict::Info, Some("token_mode"));
    assert_eq!(record.data["ingress_rules"], 2);
    assert!(flag.records.iter().all(|r| r.check != "config.credentials"));
    let env = run_env(&["config", &file], "", &[("TUNNEL_TOKEN", common::TOKEN)]);
    env.expect("config.mode", Verdict::Info, Some("token_mode"));
}

/// Issue 18: YAML nested beyond serde-saphyr's depth budget (64, `Budget::default()`
/// in serde-saphyr 2.2 `src/de/budget.rs`) is unreadable input said in words, one
/// line naming the file and line: serde-saphyr's own text is Rust debug text
/// (`budget breached: Depth { depth: 65 }`).
#[test]
fn yaml_nested_beyond_the_depth_budget_is_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    // 2,000 nested block mappings, and 2,000 nested block sequences.
    let mappings: String = (0..2000)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    let sequences: String = (0..2000)
        .map(|i| format!("{}-\n", "  ".repeat(i)))
        .collect();
    for (name, text) in [("mappings.yml", &mappings), ("sequences.yml", &sequences)] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let file = file.display().to_string();
        let out = run(&["config", &file], "");
        let compose = run(&["compose"], text);
        for (out, source) in [(&out, file.as_str()), (&compose, "stdin")] {
            assert_eq!(out.code, 2, "{out:#?}");
            assert!(out.stdout.is_empty(), "{out:#?}");
            assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
            let expected = format!(
                "{source}: line 65, column 129: not read: mappings and sequences are nested more than 64 levels deep"
            );
            assert!(out.stderr.contains(&expected), "{name}: {out:#?}");
            assert!(!out.stderr.contains("Depth {"), "{out:#?}");
        }
    }
}

/// Found by fuzzing (`cloudflared_config`): a config without `tunnel:` (token mode, so
/// the credentials are not checked) whose service URL holds the TunnelSecret of the
/// credentials file named with --credentials. The rule's error quoted the URL, secret
/// and all; the secret of a file the user names is masked whatever the mode.
#[test]
fn the_secret_of_named_credentials_is_masked_in_token_mode_too() {
    // The fuzz target's credentials, whose secret the input (unchanged) holds.
    const SECRET: &str = "ZGF5Mi1mdXp6LWNhbmFyeS10dW5uZWwtc2VjcmV0ISE=";
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials.json");
    std::fs::write(
        &creds,
        format!(r#"{{"AccountTag": "0000d4d14e84bd4ae5a6a02e0000ac63", "TunnelSecret": "{SECRET}", "TunnelID": "df5ed608-b8b4-4109-89f3-9f2cf199df64"}}"#),
    )
    .unwrap();
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = common::fixture("fuzz/secret_in_service_token_mode.yml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains(SECRET), "the fixture holds the secret");
    let out = run(
        &[
            "config",
            config.to_str().unwrap(),
            "--credentials",
            creds.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.code, 1, "{out:#?}");
    out.expect("config.mode", Verdict::Info, Some("token_mode"));
    out.expect("config.ingress", Verdict::Fail, Some("invalid_rule"));
    assert!(
        !out.stdout.contains(SECRET) && !out.stderr.contains(SECRET),
        "{out:#?}"
    );
}
