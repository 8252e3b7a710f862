//! The compose mode on rendered configs (YAML from docker-compose v1, JSON from
//! v2) and on compose files rendered by the real docker-compose here.

mod common;

use common::{fixture_str, run, run_env, TOKEN, TOKEN_SECRET, TUNNEL_ID};
use day2_core::Verdict;

fn stdin_of(name: &str) -> String {
    std::fs::read_to_string(common::fixture(&format!("compose/{name}"))).unwrap()
}

fn assert_secret_free(out: &common::Run) {
    let all = out.all_output();
    assert!(
        !all.contains(TOKEN) && !all.contains(TOKEN_SECRET) && !all.contains(&TOKEN[..40]),
        "{out:#?}"
    );
}

#[test]
fn token_rendered_onto_the_command_line() {
    let out = run(&["compose"], &stdin_of("rendered-argv.yml"));
    assert_eq!(out.code, 1, "{out:#?}");
    let token = out.expect("compose.token", Verdict::Pass, None);
    assert_eq!(token.target, "stdin#cloudflared");
    assert_eq!(token.data["place"], "command_line");
    assert_eq!(token.data["shape"]["valid"], true);
    assert_eq!(token.data["shape"]["tunnel_id"], TUNNEL_ID);
    let exposure = out.expect(
        "compose.token_exposure",
        Verdict::Fail,
        Some("token_in_argv"),
    );
    assert_eq!(exposure.data["suggest"], "TUNNEL_TOKEN_FILE");
    assert!(exposure.message.as_deref().unwrap().contains("ps"));
    out.expect("compose.network", Verdict::Pass, None);
    out.expect("compose.depends_on", Verdict::Pass, None);
    assert_secret_free(&out);
}

#[test]
fn token_in_the_environment_of_a_json_config() {
    let out = run(&["compose"], &stdin_of("rendered-env.json"));
    assert_eq!(out.code, 0, "{out:#?}");
    let token = out.expect("compose.token", Verdict::Pass, None);
    assert_eq!(token.data["place"], "environment");
    out.expect(
        "compose.token_exposure",
        Verdict::Warn,
        Some("token_in_environment"),
    );
    let network = out.expect("compose.network", Verdict::Pass, None);
    assert_eq!(network.data["shared"], serde_json::json!(["default"]));
    out.expect("compose.depends_on", Verdict::Pass, None);
    assert_secret_free(&out);
}

#[test]
fn a_json_config_with_characters_yaml_cannot_carry_raw_is_read() {
    // Found by fuzzing (fuzz/, target compose_json): `docker compose config --format
    // json` (Go's encoding/json) writes DEL and C1 controls raw inside strings; the
    // config was refused as unparsable YAML (exit 2).
    let json = stdin_of("rendered-env.json").replace(
        "\"image\": \"nginx:1.27-alpine\",",
        "\"image\": \"nginx:1.27-alpine\", \"labels\": {\"note\": \"a\u{7f}b\u{9b}c\"},",
    );
    assert!(json.contains('\u{7f}'));
    let out = run(&["compose"], &json);
    assert_eq!(out.code, 0, "{out:#?}");
    out.expect("compose.token", Verdict::Pass, None);
    assert_secret_free(&out);
}

#[test]
fn empty_token_other_network_no_dependency() {
    let out = run(&["compose"], &stdin_of("rendered-empty.yml"));
    assert_eq!(out.code, 1);
    out.expect("compose.token", Verdict::Fail, Some("token_empty"));
    out.expect("compose.token_exposure", Verdict::Pass, None);
    let network = out.expect("compose.network", Verdict::Fail, Some("network_not_shared"));
    assert_eq!(
        network.data["tunnel_networks"],
        serde_json::json!(["tunnel"])
    );
    out.expect(
        "compose.depends_on",
        Verdict::Warn,
        Some("no_depends_on_nginx"),
    );
}

#[test]
fn token_file_and_credentials_modes() {
    let file = run(&["compose"], &stdin_of("rendered-token-file.yml"));
    assert_eq!(file.code, 0, "{file:#?}");
    assert_eq!(
        file.expect("compose.token", Verdict::Pass, None).data["mode"],
        "token_file"
    );
    file.expect("compose.token_exposure", Verdict::Pass, None);
    file.expect("compose.network", Verdict::Pass, None);

    let creds = run(&["compose"], &stdin_of("rendered-credentials.yml"));
    assert_eq!(creds.code, 0, "{creds:#?}");
    creds.expect("compose.token", Verdict::Info, Some("credentials_mode"));
}

#[test]
fn unrendered_malformed_and_missing_tokens() {
    let raw = run(&["compose"], &stdin_of("docker-compose.cloudflared.yml"));
    raw.expect("compose.token", Verdict::Fail, Some("token_not_rendered"));

    let malformed = "services:\n  tunnel:\n    image: cloudflare/cloudflared:2024.11.1\n    command: tunnel run --token=not-a-real-token-value\n  nginx:\n    image: nginx\n";
    let out = run(&["compose"], malformed);
    let token = out.expect("compose.token", Verdict::Fail, Some("token_malformed"));
    assert_eq!(token.target, "stdin#tunnel", "found by image");
    assert_eq!(token.data["shape"]["problem"], "not_base64");
    assert!(
        !out.all_output().contains("not-a-real-token-value"),
        "{out:#?}"
    );

    let none =
        "services:\n  cloudflared:\n    image: cloudflare/cloudflared\n    command: tunnel run\n";
    let out = run(&["compose"], none);
    out.expect("compose.token", Verdict::Fail, Some("token_missing"));
    out.expect("compose.network", Verdict::Fail, Some("nginx_not_found"));

    let other = run(&["compose"], "services:\n  nginx:\n    image: nginx\n");
    assert_eq!(other.code, 1);
    other.expect("compose.service", Verdict::Fail, Some("service_not_found"));
}

#[test]
fn docker_compose_renders_the_files() {
    let file = fixture_str("compose/docker-compose.cloudflared.yml");
    let exported = run_env(
        &["compose", "-f", &file],
        "",
        &[("CLOUDFLARE_TUNNEL_TOKEN", TOKEN)],
    );
    assert_eq!(exported.code, 1, "{exported:#?}");
    let token = exported.expect("compose.token", Verdict::Pass, None);
    assert_eq!(token.target, format!("{file}#cloudflared"));
    exported.expect(
        "compose.token_exposure",
        Verdict::Fail,
        Some("token_in_argv"),
    );
    assert_secret_free(&exported);

    let unexported = run(&["compose", "-f", &file], "");
    assert_eq!(unexported.code, 1, "{unexported:#?}");
    let record = unexported.expect("compose.token", Verdict::Fail, Some("token_missing"));
    assert_eq!(record.data["variable"], "CLOUDFLARE_TUNNEL_TOKEN");

    let blank = fixture_str("compose/docker-compose.blank-default.yml");
    let out = run(&["compose", "-f", &blank], "");
    let record = out.expect("compose.token", Verdict::Fail, Some("token_empty"));
    assert_eq!(
        record.data["unset_variables"],
        serde_json::json!(["CLOUDFLARE_TUNNEL_TOKEN"])
    );

    let absent = run(&["compose", "-f", "/nonexistent/docker-compose.yml"], "");
    assert_eq!(absent.code, 2, "{absent:#?}");
    assert!(
        absent.stderr.starts_with(
            "tunnel-check: compose: cannot read compose file /nonexistent/docker-compose.yml: "
        ),
        "{absent:#?}"
    );
}

#[test]
fn bad_input_exits_2_naming_the_place() {
    let out = run(&["compose"], "services:\n  a: [\n");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with("tunnel-check: compose: stdin: line "),
        "{out:#?}"
    );
    let empty = run(&["compose"], "");
    assert_eq!(empty.code, 2);
    assert!(empty.stderr.contains("empty input"));
    let no_services = run(&["compose"], "{\"version\": \"3\"}");
    assert_eq!(no_services.code, 2);
    assert!(no_services.stderr.contains("no `services:`"));
}

/// The corpus case (../shared/corpus/tunnel-check/compose/nginx-by-image): the
/// edge is the service running `nginx:alpine`, whatever its name, and the token
/// written in `command:` is committed with the file, besides being visible in
/// `ps`. Rendered by the real docker-compose from a copy of the directory (with
/// the `build:` directory its repository has).
#[test]
fn corpus_nginx_by_image_and_a_committed_token() {
    let dir = common::private_copy("corpus/compose/nginx-by-image");
    std::fs::create_dir(dir.path().join("flask_api")).unwrap();
    let file = dir.path().join("docker-compose.yml").display().to_string();
    let out = run(&["compose", "-f", &file], "");
    assert_eq!(out.code, 1, "{out:#?}");
    out.expect("compose.token", Verdict::Pass, None);
    out.expect(
        "compose.token_exposure",
        Verdict::Fail,
        Some("token_in_argv"),
    );
    let committed = out.expect(
        "compose.token_committed",
        Verdict::Fail,
        Some("token_in_compose_file"),
    );
    assert_eq!(committed.data["file"], file);
    assert_eq!(committed.data["line"], 27);
    assert!(committed.message.as_deref().unwrap().contains("committed"));
    let network = out.expect("compose.network", Verdict::Pass, None);
    assert_eq!(network.data["edge_service"], "app_nginx");
    assert_eq!(network.data["edge_found_by"], "image");
    let deps = out.expect(
        "compose.depends_on",
        Verdict::Warn,
        Some("no_depends_on_nginx"),
    );
    assert_eq!(deps.data["edge_service"], "app_nginx");
    assert_secret_free(&out);

    // The same file as written, on stdin: still the file, still committed.
    let text = std::fs::read_to_string(&file).unwrap();
    let raw = run(&["compose"], &text);
    raw.expect(
        "compose.token_committed",
        Verdict::Fail,
        Some("token_in_compose_file"),
    );
    // compose's rendering on stdin cannot say where the token came from.
    let rendered = run(&["compose"], &stdin_of("rendered-argv.yml"));
    rendered.expect(
        "compose.token_committed",
        Verdict::Info,
        Some("token_source_unknown"),
    );
}

/// A token from the environment is not committed (the variable is in the file).
#[test]
fn a_token_from_a_variable_is_not_committed() {
    let file = fixture_str("compose/docker-compose.cloudflared.yml");
    let out = run_env(
        &["compose", "-f", &file],
        "",
        &[("CLOUDFLARE_TUNNEL_TOKEN", TOKEN)],
    );
    let committed = out.expect("compose.token_committed", Verdict::Pass, None);
    assert_eq!(committed.data["source"], "environment");
    assert_secret_free(&out);
}

/// The edge is what cloudflared's ingress points at: `--url`, TUNNEL_URL, or the
/// config.yml mounted into the container (cloudflared's default path), matched
/// to a service's name, container_name or network alias; `--nginx-service`
/// still decides when given.
#[test]
fn the_edge_is_where_the_ingress_points() {
    let by_url = "services:\n  tunnel:\n    image: cloudflare/cloudflared\n    command: tunnel --url http://web:8080 run --token-file /run/secrets/t\n  web:\n    image: caddy:2\n  nginx:\n    image: nginx:1.27\n";
    let out = run(&["compose"], by_url);
    let network = out.expect("compose.network", Verdict::Pass, None);
    assert_eq!(network.data["edge_service"], "web");
    assert_eq!(network.data["edge_found_by"], "ingress");
    assert_eq!(network.data["edge_origin"], "http://web:8080");

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cloudflared")).unwrap();
    std::fs::write(
        dir.path().join("cloudflared/config.yml"),
        "tunnel: 6ff42ae2-765d-4adf-8db7-aa8b61168b6a\ncredentials-file: /etc/cloudflared/6ff42ae2-765d-4adf-8db7-aa8b61168b6a.json\ningress:\n  - hostname: assistant.example.org\n    service: http://app_front:80\n  - service: http_status:404\n",
    )
    .unwrap();
    let by_config = format!(
        "services:\n  cloudflared:\n    image: cloudflare/cloudflared\n    command: tunnel run\n    volumes:\n      - {}/cloudflared:/etc/cloudflared:ro\n    networks: [edge]\n    depends_on: [front]\n  front:\n    image: ghcr.io/example/frontend:1\n    container_name: app_front\n    networks: [edge]\n  nginx:\n    image: nginx\n",
        dir.path().display()
    );
    let out = run(&["compose"], &by_config);
    assert_eq!(out.code, 0, "{out:#?}");
    let network = out.expect("compose.network", Verdict::Pass, None);
    assert_eq!(network.data["edge_service"], "front");
    assert_eq!(network.data["edge_found_by"], "ingress");
    out.expect("compose.depends_on", Verdict::Pass, None);

    let forced = run(&["compose", "--nginx-service", "nginx"], &by_config);
    let network = forced.expect("compose.network", Verdict::Fail, Some("network_not_shared"));
    assert_eq!(network.data["edge_found_by"], "flag");
    forced.expect(
        "compose.depends_on",
        Verdict::Warn,
        Some("no_depends_on_nginx"),
    );
}

/// Found by fuzzing (`compose_yaml`): a service name holding `"--token", "eyJ…` with no
/// closing quote. The redactor masked the value in the record's JSON from its escaped
/// quote to the end of the line, eating the record's own closing quotes and braces:
/// stdout was no longer JSON lines. The value ends at the bare quote that ends the
/// record's string.
#[test]
fn a_token_value_without_its_closing_quote_leaves_the_record_whole() {
    let input = std::fs::read_to_string(common::fixture(
        "fuzz/token_quote_unclosed_in_service_name.yml",
    ))
    .unwrap();
    let out = run(&["compose"], &input);
    assert_eq!(out.code, 1, "{out:#?}");
    assert_eq!(out.stdout.lines().count(), out.records.len(), "{out:#?}");
    let record = &out.records[0];
    assert_eq!(record.check, "compose.service");
    let services = record.data["services"].as_array().unwrap();
    let name = services[0].as_str().unwrap();
    assert!(name.ends_with("\"--token\", \"[REDACTED:secret]"), "{name}");
}

/// Found by fuzzing (`compose_json`): service names `-autoupd"--token"` and a next one
/// holding a CR and `>` runs. Masked as text, the record's line took the next string as
/// the flag's value and cut through its escapes: stdout was no longer JSON. A record
/// whose masked text is not JSON is masked string by string instead.
#[test]
fn masking_never_breaks_a_record_whatever_its_strings_hold() {
    let input =
        std::fs::read_to_string(common::fixture("fuzz/token_value_across_escapes.json")).unwrap();
    let out = run(&["compose"], &input);
    assert_eq!(out.code, 1, "{out:#?}");
    assert_eq!(out.stdout.lines().count(), out.records.len(), "{out:#?}");
    assert_eq!(out.records[0].check, "compose.service");
}

/// Found by fuzzing (`compose_yaml`): a two-byte letter (`Х`) right before a `token`
/// key in a service name, and one (`ƈ`) inside a quoted value after `--token`; the
/// redactor cut each in two and panicked.
#[test]
fn a_wide_letter_before_a_token_key_is_no_panic() {
    for fixture in [
        "fuzz/wide_letter_before_token_key.yml",
        "fuzz/wide_letter_inside_quoted_value.yml",
    ] {
        let input = std::fs::read_to_string(common::fixture(fixture)).unwrap();
        let out = run(&["compose"], &input);
        assert_eq!(out.code, 1, "{fixture}: {out:#?}");
        assert!(
            !out.stderr.contains("internal error"),
            "{fixture}: {out:#?}"
        );
        assert_eq!(out.stdout.lines().count(), out.records.len(), "{out:#?}");
    }
}
