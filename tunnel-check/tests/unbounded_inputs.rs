//! Issue 18 for tunnel-check's file inputs: `/dev/zero` as any input read whole
//! (config, credentials, compose on stdin or `-f`, the project's `.env`) ends at the
//! cap with a one-line usage error naming the file; every file input reads from a
//! FIFO (what `<(…)` gives). Every run is bounded in time.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use day2_tests::inputs::{assert_capped, Fifo};
use day2_tests::process::Run;

const HELLO: &str = "df5ed608-b8b4-4109-89f3-9f2cf199df64";
const SECRET_JSON: &str = r#"{"AccountTag": "0000d4d14e84bd4ae5a6a02e0000ac63", "TunnelSecret": "00+x9bPCmH+MRxIut9EKGMCWN/nTEKcecTOYqEhkzZA=", "TunnelID": "df5ed608-b8b4-4109-89f3-9f2cf199df64"}"#;

/// Runs tunnel-check with `stdin`, killing it (and failing) after `limit`.
fn run_bounded(args: &[&str], stdin: Stdio, env: &[(&str, &str)], limit: Duration) -> Run {
    common::tunnel_check(args)
        .envs(env.iter().copied())
        .stdin_from(stdin)
        .deadline(limit)
        .run()
}

const LIMIT: Duration = Duration::from_secs(60);

fn config_with_credentials(dir: &Path, credentials: &str) -> PathBuf {
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "tunnel: {HELLO}\ncredentials-file: {credentials}\ningress:\n - service: hello_world\n"
        ),
    )
    .unwrap();
    config
}

#[test]
fn dev_zero_as_config_credentials_or_compose_input_is_a_one_line_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_bounded(&["config", "/dev/zero"], Stdio::null(), &[], LIMIT);
    assert_capped(&out, "config /dev/zero");

    let config = config_with_credentials(dir.path(), "/dev/zero");
    let config = config.to_str().unwrap();
    let out = run_bounded(&["config", config], Stdio::null(), &[], LIMIT);
    assert_capped(&out, "credentials file /dev/zero");
    let out = run_bounded(
        &["config", config, "--credentials", "/dev/zero"],
        Stdio::null(),
        &[],
        LIMIT,
    );
    assert_capped(&out, "credentials file /dev/zero");

    let zero = std::fs::File::open("/dev/zero").unwrap();
    let out = run_bounded(&["compose"], Stdio::from(zero), &[], LIMIT);
    assert_capped(&out, "stdin");

    let out = run_bounded(&["compose", "-f", "/dev/zero"], Stdio::null(), &[], LIMIT);
    assert_capped(&out, "compose file /dev/zero");

    // The project's `.env` (beside the first compose file) is read too.
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let compose = project.join("docker-compose.yml");
    std::fs::write(
        &compose,
        "services:\n  cloudflared:\n    image: cloudflare/cloudflared\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/zero", project.join(".env")).unwrap();
    let out = run_bounded(
        &["compose", "-f", compose.to_str().unwrap()],
        Stdio::null(),
        &[],
        LIMIT,
    );
    assert_capped(
        &out,
        &format!("env file {}", project.join(".env").display()),
    );
}

#[test]
fn config_and_credentials_are_read_from_fifos() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("creds.json");
    let writer_creds = Fifo::write(&creds, SECRET_JSON);
    let config_text = format!(
        "tunnel: {HELLO}\ncredentials-file: {}\ningress:\n - service: hello_world\n",
        creds.display()
    );
    let config = dir.path().join("config.yml");
    let writer_config = Fifo::write(&config, &config_text);
    let out = run_bounded(
        &["config", config.to_str().unwrap()],
        Stdio::null(),
        &[],
        LIMIT,
    );
    writer_config.finish();
    writer_creds.finish();
    assert!(out.code == 0 || out.code == 1, "{out}");
    let records: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let creds_record = records
        .iter()
        .find(|r| r["check"] == "config.credentials")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(creds_record["data"]["tunnel_id"], HELLO, "{out}");
    assert_eq!(creds_record["verdict"], "pass", "{out}");
    assert!(!out.stdout.contains("00+x9bPCmH"), "{out}");
}

/// A compose file from a FIFO goes to docker-compose on its stdin (`-f -`, the
/// project directory kept the file's), and the `.env` beside it is read from a FIFO
/// too: the token found there is named as coming from it.
#[test]
fn compose_file_and_env_file_are_read_from_fifos() {
    let dir = tempfile::tempdir().unwrap();
    let compose = dir.path().join("docker-compose.yml");
    let token = common::TOKEN;
    let writer = Fifo::write(
        &compose,
        "services:\n  cloudflared:\n    image: cloudflare/cloudflared\n    command: tunnel run\n    environment:\n      TUNNEL_TOKEN: ${CF_TOKEN}\n",
    );
    // compose v1 reads a regular `.env` itself; the FIFO one is read by the tool.
    std::fs::write(dir.path().join(".env"), format!("CF_TOKEN={token}\n")).unwrap();
    let out = run_bounded(
        &["compose", "-f", compose.to_str().unwrap()],
        Stdio::null(),
        &[],
        LIMIT,
    );
    writer.finish();
    assert!(!out.stderr.contains("cannot"), "{out}");
    let records: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let token_record = records
        .iter()
        .find(|r| r["check"] == "compose.token")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(token_record["verdict"], "pass", "{out}");
    let committed = records
        .iter()
        .find(|r| r["check"] == "compose.token_committed")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(committed["reason"], "token_in_env_file", "{out}");
    assert!(!out.stdout.contains(token), "{out}");

    // The `.env` itself a FIFO: compose v1 skips what is not a regular file, so the
    // value comes from the environment here; the tool reads the FIFO once and
    // finds the token written in it.
    let dir = tempfile::tempdir().unwrap();
    let compose = dir.path().join("docker-compose.yml");
    std::fs::write(
        &compose,
        "services:\n  cloudflared:\n    image: cloudflare/cloudflared\n    command: tunnel run\n    environment:\n      TUNNEL_TOKEN: ${CF_TOKEN}\n",
    )
    .unwrap();
    let env = dir.path().join(".env");
    let writer = Fifo::write(&env, &format!("OTHER=1\nCF_TOKEN={token}\n"));
    let out = run_bounded(
        &["compose", "-f", compose.to_str().unwrap()],
        Stdio::null(),
        &[("CF_TOKEN", token)],
        LIMIT,
    );
    writer.finish();
    let records: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let committed = records
        .iter()
        .find(|r| r["check"] == "compose.token_committed")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(committed["reason"], "token_in_env_file", "{out}");
    assert!(
        !out.stdout.contains(token) && !out.stderr.contains(token),
        "{out}"
    );
}

/// Issue 18, depth: JSON nested 100,000 levels deep in each JSON input (the
/// credentials file, a cloudflared `--output json` log, a compose config in JSON)
/// ends in one line naming the file and the line, never a stack overflow.
#[test]
fn json_nested_without_bound_is_one_line_naming_file_and_line() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let dir = tempfile::tempdir().unwrap();

    // Credentials: the record names the file and the line.
    let creds = dir.path().join("creds.json");
    std::fs::write(
        &creds,
        format!("{{\"AccountTag\": \"a\",\n\"TunnelSecret\": {deep}}}\n"),
    )
    .unwrap();
    let config = config_with_credentials(dir.path(), creds.to_str().unwrap());
    std::fs::set_permissions(&creds, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = run_bounded(
        &["config", config.to_str().unwrap()],
        Stdio::null(),
        &[],
        LIMIT,
    );
    assert!(out.code == 1 || out.code == 2, "{out}");
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains(&creds.display().to_string()), "{out}");
    assert!(said.contains("line 2"), "{out}");
    assert!(!said.contains("\n\n"), "{out}");

    // A cloudflared JSON log on stdin (connector mode), the deep line third.
    let log = format!(
        "{{\"level\":\"info\",\"time\":\"2026-11-27T10:00:00Z\",\"message\":\"Starting tunnel\"}}\n\
         {{\"level\":\"info\",\"time\":\"2026-11-27T10:00:01Z\",\"message\":\"Registered tunnel connection\"}}\n\
         {{\"level\":\"error\",\"x\":{deep}}}\n"
    );
    let out = run_connector(&log);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(matches!(out.code, 0..=2), "{out}");
    assert!(said.contains("line 3"), "{out}");
    assert!(
        said.contains("nest") || said.contains("recursion") || said.contains("deep"),
        "{out}"
    );

    // A compose config in JSON, on stdin and as a file.
    let compose = format!("{{\"services\":\n{deep}}}\n");
    let out = run_stdin(&["compose"], &compose);
    assert_eq!(out.code, 2, "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(
        out.stderr.contains("stdin") && out.stderr.contains("line 2"),
        "{out}"
    );
}

fn run_stdin(args: &[&str], stdin: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("stdin");
    std::fs::write(&input, stdin).unwrap();
    let file = std::fs::File::open(&input).unwrap();
    run_bounded(args, Stdio::from(file), &[], LIMIT)
}

fn run_connector(log: &str) -> Run {
    run_stdin(&["connector"], log)
}

/// The streaming modes hold one line at a time: an endless line (`/dev/zero`) is
/// an error naming the input once it passes 16 MiB, not memory growing.
#[test]
fn an_endless_line_in_a_streamed_input_is_a_one_line_usage_error() {
    for (args, expected) in [
        (
            &["connector", "--file", "/dev/zero"][..],
            "tunnel-check: connector: cannot read /dev/zero: line 1 is longer than 16 MiB",
        ),
        (
            &["connector"][..],
            "tunnel-check: connector: cannot read stdin: line 1 is longer than 16 MiB",
        ),
        (
            &["redact"][..],
            "tunnel-check: redact: cannot copy stdin to stdout: a line is longer than 16 MiB",
        ),
    ] {
        let zero = std::fs::File::open("/dev/zero").unwrap();
        let out = run_bounded(args, Stdio::from(zero), &[], LIMIT);
        assert_eq!(out.code, 2, "{args:?}: {out}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {out}");
        assert!(out.stderr.starts_with(expected), "{args:?}: {out}");
    }
}
