//! The config mode on YAML fixtures: valid, catch-all missing, rule after the
//! catch-all, bad service, messy rules, duplicate key, credentials missing and
//! malformed, token mode.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{fixture, run, run_env, CREDENTIALS_SECRET, TUNNEL_ID};
use day2_core::Verdict;

/// A private copy of the config fixtures with the credentials file mode 600, as
/// on a careful deployment (a checkout leaves it world-readable).
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("config"), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
            let mode = if dest.extension().is_some_and(|e| e == "json") {
                0o600
            } else {
                0o644
            };
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
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

    let after = run(&["config", &path(&dir, "rule_after_catch_all.yml")], "");
    after.expect(
        "config.ingress",
        Verdict::Fail,
        Some("rule_after_catch_all"),
    );
    let unreachable = after
        .records
        .iter()
        .find(|r| r.check == "config.ingress.rule" && r.verdict == Verdict::Fail)
        .unwrap();
    assert_eq!(unreachable.reason.as_deref(), Some("rule_after_catch_all"));
    assert_eq!(
        unreachable.target,
        format!("{}:5", path(&dir, "rule_after_catch_all.yml"))
    );

    let bad = run(&["config", &path(&dir, "bad_service.yml")], "");
    assert_eq!(bad.code, 1);
    let rule = bad
        .records
        .iter()
        .find(|r| r.verdict == Verdict::Fail)
        .unwrap();
    assert_eq!(rule.reason.as_deref(), Some("invalid_service"));
    assert_eq!(rule.data["service"], "nginx:80");
    bad.expect("config.ingress", Verdict::Pass, None);

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
            Some("invalid_hostname"),
            None,
            Some("duplicate_hostname"),
            Some("service_missing"),
            None
        ]
    );

    let bare = run(&["config", &path(&dir, "no_credentials.yml")], "");
    bare.expect(
        "config.credentials",
        Verdict::Fail,
        Some("credentials_file_unset"),
    );
    bare.expect("config.ingress", Verdict::Fail, Some("ingress_missing"));

    std::fs::write(
        dir.path().join("empty_tunnel.yml"),
        "tunnel: ''\ningress:\n  - service: http_status:404\n",
    )
    .unwrap();
    let empty = run(&["config", &path(&dir, "empty_tunnel.yml")], "");
    empty.expect("config.tunnel", Verdict::Fail, Some("tunnel_missing"));
}

#[test]
fn a_duplicate_key_names_its_line() {
    let dir = workdir();
    let file = path(&dir, "duplicate_key.yml");
    let out = run(&["config", &file], "");
    assert_eq!(out.code, 2);
    assert!(out.records.is_empty());
    assert_eq!(
        out.stderr.trim(),
        format!("tunnel-check: config: {file}: line 6, column 5: duplicate mapping key: service")
    );
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
