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

/// The decoded cert.pem of the corpus (`fixtures/corpus/redact/cert-pem.txt`)
/// holds this API token.
const CERT_API_TOKEN: &str = "FAKEapiTOKENfieldTEST0123456789abcdefXYZ";
/// A JWT with short segments (issue 18) and a URL password.
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
const URL_PASSWORD: &str = "pa55-w0rd-url";

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// `base64` as the command line tool writes it: folded at `width` columns.
fn folded(text: &str, width: usize) -> String {
    let encoded = b64(text.as_bytes());
    encoded
        .as_bytes()
        .chunks(width)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Everything a reader could decode from the output: each base64 run, and each
/// run of lines made only of base64 joined (a folded body), decoded from every
/// alignment, standard and URL-safe, and what decodes from that in turn.
fn decodable(output: &str) -> Vec<u8> {
    let mut all = Vec::new();
    let mut layer = output.to_owned();
    for _ in 0..3 {
        let decoded = decode_layer(&layer);
        if decoded.is_empty() {
            break;
        }
        all.extend_from_slice(&decoded);
        layer = String::from_utf8_lossy(&decoded).into_owned();
    }
    all
}

fn decode_layer(output: &str) -> Vec<u8> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    use base64::Engine;
    let lenient = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let engines = [
        GeneralPurpose::new(&base64::alphabet::STANDARD, lenient),
        GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient),
    ];
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || "+/_-".contains(c);
    let mut runs: Vec<String> = output
        .split(|c: char| !is_b64(c))
        .filter(|r| r.len() >= 8)
        .map(str::to_owned)
        .collect();
    let mut block = String::new();
    for line in output.lines().chain([""]) {
        let t = line.trim().trim_matches('"');
        if t.len() >= 4 && t.trim_end_matches('=').chars().all(is_b64) {
            block.push_str(t.trim_end_matches('='));
        } else if !block.is_empty() {
            runs.push(std::mem::take(&mut block));
        }
    }
    let mut decoded = Vec::new();
    for run in runs {
        for skip in 0..4.min(run.len()) {
            let body = &run[skip..];
            let body = &body[..body.len() - body.len() % 4];
            for engine in &engines {
                if let Ok(bytes) = engine.decode(body) {
                    decoded.extend(bytes);
                    decoded.push(b'\n');
                }
            }
        }
    }
    decoded
}

/// Issue 12 and 18: every shape a secret is written in, encoded and decoded, on
/// one line or over several, goes through `redact` without a byte of it
/// recoverable: not as written, not in pieces, not by decoding what is left.
#[test]
fn the_redact_canary_covers_every_shape_encoded_and_decoded() {
    let cert = std::fs::read_to_string(common::fixture("corpus/redact/cert-pem.txt")).unwrap();
    let token_json = format!(
        r#"{{"a":"acc0acc0acc0acc0acc0acc0acc0acc0","t":"6ff42ae2-765d-4adf-8db7-aa8b61168b6a","s":"{TOKEN_SECRET}"}}"#
    );
    let creds_json = format!(
        r#"{{"AccountTag":"0123","TunnelSecret":"{CREDENTIALS_SECRET}","TunnelID":"6ff42ae2-765d-4adf-8db7-aa8b61168b6a"}}"#
    );
    let cert_json = format!(
        r#"{{"zoneID":"zzzz1111zzzz1111zzzz1111zzzz1111","accountID":"acc1acc1acc1acc1acc1acc1acc1acc1","apiToken":"{CERT_API_TOKEN}"}}"#
    );
    let shapes: Vec<(&str, String)> = vec![
        ("cert.pem as cat shows it (corpus)", cert.clone()),
        ("cert.pem in a JSON string", format!("{{\"pem\":{}}}", serde_json::to_string(&cert).unwrap())),
        ("cert.pem base64-encoded, folded at 76", folded(&cert, 76)),
        ("cert.pem decoded", cert_json.clone()),
        ("token on a command line", format!("command: tunnel run --token {TOKEN}")),
        ("token in env", format!("TUNNEL_TOKEN={TOKEN}\r")),
        ("token after --token in a YAML list", format!("    command:\n      - tunnel\n      - run\n      - --token\n      - {TOKEN}")),
        ("token continued on the next line of a YAML list", format!("      - --token={}\n        {}\n      - --no-autoupdate", &TOKEN[..60], &TOKEN[60..])),
        ("token in a YAML block scalar", format!("    environment:\n      TUNNEL_TOKEN: >-\n        {}\n        {}\n    restart: always", &TOKEN[..90], &TOKEN[90..])),
        ("token folded at 76", TOKEN.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\n")),
        ("token base64-encoded again (a Kubernetes secret)", format!("  token: {}", b64(TOKEN.as_bytes()))),
        ("token decoded", token_json.clone()),
        ("token decoded, pretty-printed", serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&token_json).unwrap()).unwrap()),
        ("credentials JSON", creds_json.clone()),
        ("credentials JSON pretty-printed", serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&creds_json).unwrap()).unwrap()),
        ("credentials JSON base64-encoded, folded at 76", folded(&creds_json, 76)),
        ("credentials JSON base64-encoded, one line", format!("credentials.json: {}", b64(creds_json.as_bytes()))),
        ("a JWT with short segments", format!("cookie: CF_Authorization={JWT}; Path=/")),
        ("a URL password", format!("DOCKER_HOST=tcp://admin:{URL_PASSWORD}@10.0.0.5:2376")),
        ("the odd one by --secret-env", format!("the odd one: {ODD_SECRET}")),
    ];
    let plain_secrets = [
        TOKEN,
        TOKEN_SECRET,
        CREDENTIALS_SECRET,
        CERT_API_TOKEN,
        JWT,
        URL_PASSWORD,
        ODD_SECRET,
    ];
    // What decoding must never give back.
    let decoded_secrets = [
        TOKEN_SECRET,
        CREDENTIALS_SECRET,
        CERT_API_TOKEN,
        TOKEN,
        "\"s\":\"ZGF5",
        "ZGF5Mi1j",
    ];
    // The check itself finds them where nothing is masked.
    for (shape, text) in &shapes {
        let decoded = String::from_utf8_lossy(&decodable(text)).into_owned();
        let found = decoded_secrets.iter().any(|s| decoded.contains(&s[..8]))
            || plain_secrets.iter().any(|s| text.contains(&s[..12]));
        assert!(found, "the canary check sees no secret in the raw {shape}");
    }
    for (shape, text) in &shapes {
        assert_redacted_whole(shape, text, &plain_secrets, &decoded_secrets);
    }
}

/// Runs `text` between two plain lines through `redact` (with `MY_ODD` learnt by
/// `--secret-env`) and checks that no 12-character piece of `plain_secrets`
/// survives, that nothing decodable from the output gives back the first 8
/// characters of any of `decoded_secrets`, that the lines around are kept and
/// that something was masked.
fn assert_redacted_whole(
    shape: &str,
    text: &str,
    plain_secrets: &[&str],
    decoded_secrets: &[&str],
) {
    let input = format!("before\n{text}\nafter line\n");
    let out = run_env(
        &["redact", "--secret-env", "MY_ODD"],
        &input,
        &[("MY_ODD", ODD_SECRET)],
    );
    assert_eq!(out.code, 0, "{shape}: {out:#?}");
    let stdout = &out.stdout;
    assert!(
        stdout.starts_with("before\n") && stdout.ends_with("\nafter line\n"),
        "{shape}: {stdout}"
    );
    assert_eq!(
        stdout.lines().count(),
        input.lines().count(),
        "{shape}: lines kept"
    );
    for secret in plain_secrets {
        for window in 0..secret.len().saturating_sub(11) {
            let piece = &secret[window..window + 12];
            assert!(
                !stdout.contains(piece),
                "{shape}: {piece:?} of a secret survived:\n{stdout}"
            );
        }
    }
    let decoded = String::from_utf8_lossy(&decodable(stdout)).into_owned();
    for secret in decoded_secrets {
        let piece = &secret[..secret.len().min(8)];
        assert!(
            !decoded.contains(piece),
            "{shape}: {piece:?} decodes from:\n{stdout}"
        );
        for window in 0..secret.len().saturating_sub(11) {
            let piece = &secret[window..window + 12];
            assert!(
                !decoded.contains(piece),
                "{shape}: {piece:?} of a secret decodes from:\n{stdout}"
            );
        }
    }
    assert!(stdout.contains("[REDACTED"), "{shape}: {stdout}");
}

/// QA 2026-11-29 (findings 1–3): the fake token of the QA pass, whose `s` is
/// [`QA_SECRET`]; its `a` and `t` are not secret.
const QA_TOKEN: &str = "eyJhIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYiLCJ0IjoiMGUwZTBlMGUtMTExMS00MjIyLTgzMzMtNDQ0NDQ0NDQ0NDQ0IiwicyI6IlptRnJaUzFtYVdWc1pDMTBaWE4wTFhObFkzSmxkQzB3TVRJek5EVTJOemc1WVdJPSJ9";
const QA_SECRET: &str = "ZmFrZS1maWVsZC10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5YWI=";
/// What [`QA_SECRET`] decodes to.
const QA_SECRET_DECODED: &str = "fake-field-test-secret-0123456789ab";
/// The text a PRIVATE KEY block of the tests carries, base64-encoded in its body.
const KEY_CANARY: &str = "private-key-canary-material-0123456789-never-printed";

/// `text` cut into lines of `width` characters.
fn fold_at(text: &str, width: usize) -> Vec<String> {
    text.as_bytes()
        .chunks(width)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

/// The prefix of line N of a paste.
type LinePrefix = Box<dyn Fn(usize) -> String>;

/// The prefixes collectors and quoting put in front of every line of a paste,
/// by line number (timestamps move on from line to line).
fn line_prefixes() -> Vec<(&'static str, LinePrefix)> {
    vec![
        ("compose v2", Box::new(|_| "cloudflared-1  | ".to_owned())),
        ("compose v1", Box::new(|_| "cloudflared_1  | ".to_owned())),
        (
            "compose -t",
            Box::new(|i| format!("cloudflared-1  | 2026-04-26T13:19:0{i}.123456789Z ")),
        ),
        (
            "journald",
            Box::new(|i| format!("Apr 26 13:19:0{i} host cloudflared[978]: ")),
        ),
        (
            "journald short-iso",
            Box::new(|i| format!("2026-04-26T13:19:0{i}+0000 host cloudflared[978]: ")),
        ),
        (
            "kubectl --prefix",
            Box::new(|_| "[pod/cf-0/cloudflared] ".to_owned()),
        ),
        (
            "docker --timestamps",
            Box::new(|i| format!("2026-04-26T13:19:0{i}.416529581Z ")),
        ),
        ("Markdown quote", Box::new(|_| "> ".to_owned())),
        ("nested Markdown quote", Box::new(|_| "> > ".to_owned())),
        (
            "quoted compose log",
            Box::new(|_| "> cloudflared-1  | ".to_owned()),
        ),
        ("shell comment", Box::new(|_| "# ".to_owned())),
        ("C++ comment", Box::new(|_| "// ".to_owned())),
        ("YAML list item", Box::new(|_| "    - ".to_owned())),
        ("YAML indentation", Box::new(|_| "  ".to_owned())),
        ("no prefix", Box::new(|_| String::new())),
    ]
}

fn prefixed(lines: &[String], prefix: &dyn Fn(usize) -> String) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| format!("{}{line}", prefix(i)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// QA findings 1 and 2, as families: a PEM body of a secret and a token folded
/// over lines, each behind every prefix a collector or a quote puts in front of
/// every line, and a token continued with a shell `\`.
#[test]
fn prefixed_pem_bodies_and_folded_tokens_never_leak() {
    let cert = std::fs::read_to_string(common::fixture("corpus/redact/cert-pem.txt")).unwrap();
    // `tail -n +2`: without the `$ cat` line.
    let cert_lines: Vec<String> = cert.lines().skip(1).map(str::to_owned).collect();
    let mut key_lines = vec!["-----BEGIN PRIVATE KEY-----".to_owned()];
    key_lines.extend(fold_at(&b64(KEY_CANARY.repeat(2).as_bytes()), 64));
    key_lines.push("-----END PRIVATE KEY-----".to_owned());
    let mut encrypted_key = vec![
        "-----BEGIN RSA PRIVATE KEY-----".to_owned(),
        "Proc-Type: 4,ENCRYPTED".to_owned(),
        "DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF".to_owned(),
        String::new(),
    ];
    encrypted_key.extend(fold_at(&b64(KEY_CANARY.as_bytes()), 64));
    encrypted_key.push("-----END RSA PRIVATE KEY-----".to_owned());
    let bodies: Vec<(&str, Vec<String>)> = vec![
        ("cert.pem (corpus)", cert_lines),
        ("PRIVATE KEY", key_lines),
        ("encrypted RSA PRIVATE KEY", encrypted_key),
        ("QA token folded at 60", fold_at(QA_TOKEN, 60)),
        ("token folded at 64", fold_at(TOKEN, 64)),
        ("token folded at 76", fold_at(TOKEN, 76)),
        (
            "token: then the token folded at 60",
            fold_at(&format!("token: {QA_TOKEN}"), 60),
        ),
        (
            "TUNNEL_TOKEN= folded at 50",
            fold_at(&format!("TUNNEL_TOKEN={TOKEN}"), 50),
        ),
    ];
    let plain_secrets = [
        QA_TOKEN,
        QA_SECRET,
        TOKEN,
        TOKEN_SECRET,
        CERT_API_TOKEN,
        KEY_CANARY,
    ];
    let decoded_secrets = [
        QA_SECRET,
        QA_SECRET_DECODED,
        TOKEN_SECRET,
        CERT_API_TOKEN,
        KEY_CANARY,
        "\"s\":\"Zm",
        "\"s\":\"ZGF5",
    ];
    for (body, lines) in &bodies {
        for (kind, prefix) in line_prefixes() {
            let text = prefixed(lines, &*prefix);
            let shape = format!("{body} behind {kind}");
            // The check itself sees the secret where nothing is masked.
            let decoded = String::from_utf8_lossy(&decodable(&text)).into_owned();
            assert!(
                decoded_secrets
                    .iter()
                    .any(|s| decoded.contains(&s[..8.min(s.len())]))
                    || decoded_secrets
                        .iter()
                        .any(|s| (0..s.len().saturating_sub(11))
                            .any(|w| decoded.contains(&s[w..w + 12]))),
                "the canary check sees no secret in the raw {shape}:\n{text}"
            );
            assert_redacted_whole(&shape, &text, &plain_secrets, &decoded_secrets);
        }
    }
}

/// QA finding 2: a token continued on the next line with a shell `\`.
#[test]
fn tokens_continued_with_a_shell_backslash_never_leak() {
    let plain_secrets = [QA_TOKEN, QA_SECRET];
    let decoded_secrets = [QA_SECRET, QA_SECRET_DECODED, "\"s\":\"Zm"];
    let cases = [
        // QA's exact input.
        (
            "docker run --token …\\ then indented",
            format!(
                "docker run cloudflare/cloudflared tunnel run --token {}\\\n  {}",
                &QA_TOKEN[..100],
                &QA_TOKEN[100..]
            ),
        ),
        (
            "the word split at column 0",
            format!("cloudflared tunnel run --token {}\\\n{}", &QA_TOKEN[..70], &QA_TOKEN[70..]),
        ),
        (
            "over three lines, a space before each \\",
            format!(
                "TUNNEL_TOKEN={} \\\n  {} \\\n  {}\n",
                &QA_TOKEN[..40],
                &QA_TOKEN[40..120],
                &QA_TOKEN[120..]
            ),
        ),
        (
            "in a compose log",
            format!(
                "cloudflared-1  | + exec cloudflared tunnel run --token {}\\\ncloudflared-1  |     {}",
                &QA_TOKEN[..90],
                &QA_TOKEN[90..]
            ),
        ),
        (
            "in a Markdown quote",
            format!("> $ cloudflared tunnel run --token {}\\\n> {}", &QA_TOKEN[..120], &QA_TOKEN[120..]),
        ),
    ];
    for (shape, text) in &cases {
        assert_redacted_whole(shape, text, &plain_secrets, &decoded_secrets);
    }
}

/// QA finding 3: a token masked in the input teaches its `s`, so the secret alone
/// on a later line is masked too, as with `TUNNEL_TOKEN` in the environment.
#[test]
fn a_token_seen_in_the_input_teaches_its_secret() {
    let plain_secrets = [QA_TOKEN, QA_SECRET];
    let decoded_secrets = [QA_SECRET_DECODED];
    let folded = fold_at(QA_TOKEN, 60).join("\n");
    let cases = [
        // QA's exact input.
        ("TUNNEL_TOKEN= then the secret", format!("TUNNEL_TOKEN={QA_TOKEN}\nlater: {QA_SECRET}")),
        (
            "a docker inspect dump, then a debug line",
            format!("            \"Env\": [\"TUNNEL_TOKEN={QA_TOKEN}\", \"PATH=/usr/bin\"],\n2026-11-29T18:00:00Z DBG secret={QA_SECRET} dial"),
        ),
        ("a folded token, then the secret", format!("{folded}\nDBG tunnel secret is {QA_SECRET} ok")),
        (
            "a folded token behind a compose prefix, then the secret",
            format!(
                "{}\ncloudflared-1  | s={QA_SECRET}",
                prefixed(&fold_at(QA_TOKEN, 60), &|_| "cloudflared-1  | ".to_owned())
            ),
        ),
        ("the token, then the secret JSON-escaped", format!("--token {QA_TOKEN}\n{{\"msg\":\"{QA_SECRET}\"}}")),
    ];
    for (shape, text) in &cases {
        assert_redacted_whole(shape, text, &plain_secrets, &decoded_secrets);
    }
    // `a` and `t` are not secret: the tunnel's id stays readable.
    let out = run_env(
        &["redact"],
        &format!("--token {QA_TOKEN}\ntunnel 0e0e0e0e-1111-4222-8333-444444444444 account 0123456789abcdef0123456789abcdef\n"),
        &[],
    );
    assert_eq!(
        out.stdout,
        "--token [REDACTED:token]\ntunnel 0e0e0e0e-1111-4222-8333-444444444444 account 0123456789abcdef0123456789abcdef\n",
        "{out:#?}"
    );
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
        let out = common::tunnel_check(&[mode]).stdin_from(dir).run();
        assert_eq!(out.code, 2, "{mode}: {out}");
        assert!(out.stderr.starts_with(expected), "{mode}: {out}");
        assert!(out.stdout.is_empty(), "{mode}: {out}");
    }
}

/// Issue 16: the redactor does not eat ordinary words. clap's usage error about
/// an unknown `--token` keeps its "found"; `run` already fails on any mask in
/// an output whose input held no secret.
#[test]
fn usage_errors_keep_their_words() {
    let out = common::run(&["connector", "--token", "abc"], "");
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr
            .starts_with("error: unexpected argument '--token' found"),
        "{out:#?}"
    );
}

/// `docker compose logs` of several services: another writer's lines between the
/// lines of a PEM body or a folded token do not end what the first writer carries.
#[test]
fn other_writers_lines_in_between_do_not_end_a_body() {
    let cert = std::fs::read_to_string(common::fixture("corpus/redact/cert-pem.txt")).unwrap();
    let interleave = |lines: Vec<String>, prefix: &str, other: &str| {
        lines
            .iter()
            .map(|l| format!("{prefix}{l}\n{other}172.18.0.1 - - \"GET / HTTP/1.1\" 200 5"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let cases = [
        (
            "cert.pem between nginx lines",
            interleave(
                cert.lines().skip(1).map(str::to_owned).collect(),
                "cloudflared-1  | ",
                "nginx-1        | ",
            ),
        ),
        (
            "folded token between nginx lines",
            interleave(
                fold_at(QA_TOKEN, 60),
                "cloudflared-1  | ",
                "nginx-1        | ",
            ),
        ),
        (
            "folded token between kubectl lines of another pod",
            interleave(
                fold_at(QA_TOKEN, 64),
                "[pod/cf-0/cloudflared] ",
                "[pod/web-0/nginx] ",
            ),
        ),
        (
            "folded token between journald lines of another program",
            interleave(
                fold_at(QA_TOKEN, 76),
                "Apr 26 13:19:06 host cloudflared[978]: ",
                "Apr 26 13:19:06 host nginx[12]: ",
            ),
        ),
    ];
    let plain_secrets = [QA_TOKEN, QA_SECRET, CERT_API_TOKEN];
    let decoded_secrets = [QA_SECRET, QA_SECRET_DECODED, CERT_API_TOKEN, "\"s\":\"Zm"];
    for (shape, text) in &cases {
        assert_redacted_whole(shape, text, &plain_secrets, &decoded_secrets);
        let out = run_env(&["redact"], text, &[]);
        assert_eq!(
            out.stdout.matches("200 5").count(),
            text.matches("200 5").count(),
            "{shape}: the other writer's lines are kept: {}",
            out.stdout
        );
    }
}
