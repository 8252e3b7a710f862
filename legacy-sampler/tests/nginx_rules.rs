//! Log mode against nginx's own rules (issue 13, issue 18): the corpus cases from
//! `shared/corpus/legacy-sampler/` copied unchanged into `tests/fixtures/corpus/`, and
//! further members of each family, made wherever possible by the real nginx of the
//! test equipment:
//!
//! - normalisation: nginx itself is the referee. Each raw request line is sent to the
//!   edge, whose log records the `X-Status-Path` the chosen location set; the sampler,
//!   reading the same line by its path alone, must agree line by line (nginx/nginx
//!   `src/http/ngx_http_parse.c`, `ngx_http_parse_request_line` and
//!   `ngx_http_parse_complex_uri`);
//! - escape formats: user agents and paths that nginx escapes under `escape=default`,
//!   `json` and `none` come out as the client sent them
//!   (`src/http/modules/ngx_http_log_module.c`, `src/core/ngx_string.c`
//!   `ngx_escape_json`);
//! - foreign lines: nginx's real error-log lines and the image's entrypoint lines mixed
//!   into an access log, as `docker logs` shows them (`src/core/ngx_log.c`;
//!   nginxinc/docker-nginx `entrypoint/`);
//! - inputs: pipes, FIFOs, `/dev/stdin`, endless lines; `-n` with `--for`.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{logged, sampler, sampler_with, stack, stack_with};
use day2_tests::edge::COMBINED_LOG_FORMAT;
use day2_tests::{DemoStack, EdgeConfig, Fault};
use serde_json::json;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(name)
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Sends one raw request line (`GET {target} HTTP/1.1`) to nginx, as no HTTP client
/// would write it, and returns the status. Bounded by socket timeouts.
fn raw_get(addr: SocketAddr, target: &[u8], agent: &[u8]) -> u16 {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: ");
    request.extend_from_slice(agent);
    request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    stream.write_all(&request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"))
}

// ---------------------------------------------------------------------------------
// The corpus.

#[test]
fn corpus_normalised_uris_count_by_the_location_nginx_chose() {
    let log = corpus("normalised-uris.log");
    let run = sampler(&["--log", path_str(&log)]);
    assert_eq!(run.code, 0, "{run:#?}");
    // `//status/summary` and `/%73tatus/summary` reached `location /status/`.
    assert_eq!(
        run.data("values"),
        &json!({"api": 1, "legacy": 3, "not_status": 0})
    );
    assert_eq!(run.data("classified_by"), &json!({"header": 0, "path": 4}));
    // A quiet-for gate while they are still requested is a failure, not a wrong pass.
    let run = sampler(&[
        "--log",
        path_str(&log),
        "--quiet-for",
        "1h",
        "--until",
        "2026-11-29T11:50:00Z",
    ]);
    assert_eq!(
        (run.code, run.reason()),
        (1, Some("legacy_in_quiet_window")),
        "{run:#?}"
    );
    assert_eq!(run.data("quiet")["legacy_in_span"], 3);
}

#[test]
fn corpus_escape_json_format_as_written_in_nginx_conf() {
    let format = std::fs::read_to_string(corpus("escape-json.fmt")).unwrap();
    let log = corpus("escape-json.log");
    let run = sampler(&["--log", path_str(&log), "--log-format", &format]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.data("lines"), 2);
    assert_eq!(run.data("malformed")["count"], 0);
    assert_eq!(run.data("legacy"), 1);
    assert_eq!(run.data("escape"), "json");
    // `$uri` is logged, so it is the path read: the one nginx matched.
    assert_eq!(run.data("path_variable"), "uri");
    assert_eq!(
        run.data("legacy_clients")[0]["client"],
        "2001:db8:e43b:d10:953:4116:ecc1:f563"
    );
    // The same format pasted with its directive, name and `;` reads the same.
    let pasted = format!("log_format main {};", format.trim());
    let again = sampler(&["--log", path_str(&log), "--log-format", &pasted]);
    assert_eq!(again.code, 0, "{again:#?}");
    assert_eq!(again.data("values"), run.data("values"));
}

// ---------------------------------------------------------------------------------
// Normalisation: nginx is the referee.

/// Request targets of the normalisation family, each with the rule of
/// `ngx_http_parse_complex_uri` / `ngx_http_parse_request_line` it exercises.
const TARGETS: &[(&[u8], &str)] = &[
    (b"/status/summary", "plain target (fast path)"),
    (b"/api/status/summary", "plain target, the api location"),
    (
        b"//status/summary",
        "sw_slash: merge_slashes drops the second /",
    ),
    (b"/status//summary", "sw_slash inside the path"),
    (b"/%73tatus/summary", "sw_quoted: %73 decodes to s"),
    (
        b"/%2Fstatus/summary",
        "a decoded / is read again in sw_slash and merged",
    ),
    (b"/status%2Fsummary", "a decoded / is a segment boundary"),
    (b"/api/../status/summary", "sw_dot_dot: /api/.. goes"),
    (b"/./status/summary", "sw_dot: /./ goes"),
    (b"/status/./summary", "sw_dot inside the path"),
    (
        b"/api/status/..%2F..%2Fstatus/summary",
        "decoded / ends a .. segment",
    ),
    (
        b"/status/%2e%2e/api/status/summary",
        "%2e%2e is a .. segment",
    ),
    (b"/status/x/../../status/y", "two .. segments"),
    (
        b"/api//status/summary",
        "merged slashes reach the exact api location",
    ),
    (
        b"/status/summary?x=/../..",
        "the query string is not normalised",
    ),
    (
        b"/status/summary#frag",
        "# ends the path (complex_uri done)",
    ),
    (
        b"http://127.0.0.1/status/summary",
        "absolute URI: its path is used",
    ),
    (b"/STATUS/summary", "locations are case-sensitive"),
    (
        b"/status",
        "auto_redirect: 301 from the proxied legacy location",
    ),
    (b"/status?from=old", "auto_redirect with a query string"),
    (b"/statusx/summary", "not the prefix: the SPA"),
    (
        b"/%2573tatus/summary",
        "%25 stays a literal % (not decoded twice)",
    ),
    (b"/../status/summary", ".. above the root: 400, no location"),
    (b"/%2e%2e/status/summary", "decoded .. above the root: 400"),
    (b"/st%00atus/summary", "%00: 400"),
    (b"/status/summary%", "a cut-off escape: 400"),
    (
        b"/status/\xc3\xbc",
        "raw UTF-8, logged as \\xC3\\xBC and decoded",
    ),
];

/// What nginx's chosen location said, from the `xsp="…"` column: `api`, `legacy` or
/// `not_status`.
fn nginx_verdict(line: &str) -> &'static str {
    let value = line
        .rsplit_once(" xsp=\"")
        .map(|(_, rest)| rest.split('"').next().unwrap())
        .unwrap_or_else(|| panic!("no xsp column: {line}"));
    match value {
        "legacy" => "legacy",
        "api" => "api",
        "-" => "not_status",
        other => panic!("unexpected X-Status-Path {other:?} in {line}"),
    }
}

/// The sampler's class of one line, read by its path alone (`--header` names a
/// header the format does not log).
fn sampler_verdict(dir: &Path, line: &str, format: &str) -> (&'static str, u64) {
    let file = dir.join("one.log");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let run = sampler(&[
        "--log",
        path_str(&file),
        "--log-format",
        format,
        "--header",
        "X-Not-Logged",
    ]);
    assert_eq!(run.code, 0, "{line}: {run:#?}");
    assert_eq!(run.data("malformed")["count"], 0, "{line}");
    let values = run.data("values");
    let class = ["api", "legacy", "not_status"]
        .into_iter()
        .find(|class| values[class] == 1)
        .unwrap_or_else(|| panic!("{line}: {values}"));
    (class, run.data("rejected").as_u64().unwrap())
}

#[test]
fn normalised_targets_are_classified_as_the_real_nginx_routes_them() {
    let format = format!(r#"{COMBINED_LOG_FORMAT} xsp="$sent_http_x_status_path" uri="$uri""#);
    let stack = stack_with(EdgeConfig {
        log_format: Some(format.clone()),
        ..EdgeConfig::default()
    });
    let mut statuses = Vec::new();
    for (target, _) in TARGETS {
        statuses.push(raw_get(stack.edge.addr(), target, b"referee/1"));
    }
    let log = std::fs::read_to_string(logged(&stack, TARGETS.len())).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let dir = tempfile::tempdir().unwrap();
    // From `$request` (the format with `$uri` renamed away) and from `$uri`.
    let by_request = format.replace("$uri", "$not_the_uri");
    let mut legacy = 0;
    for (((target, rule), line), status) in TARGETS.iter().zip(&lines).zip(&statuses) {
        let expected = nginx_verdict(line);
        let shown = String::from_utf8_lossy(target);
        let (class, rejected) = sampler_verdict(dir.path(), line, &by_request);
        assert_eq!(class, expected, "$request {shown} ({rule}): {line}");
        assert_eq!(rejected == 1, *status == 400, "{shown} ({rule}): {line}");
        let (class, _) = sampler_verdict(dir.path(), line, &format);
        assert_eq!(class, expected, "$uri {shown} ({rule}): {line}");
        legacy += u64::from(expected == "legacy");
    }
    // The family is not vacuous: most members reach the legacy location, four are 400s.
    assert!(legacy >= 16, "{legacy} legacy lines:\n{log}");
    assert_eq!(statuses.iter().filter(|&&s| s == 400).count(), 4, "{log}");
}

// ---------------------------------------------------------------------------------
// Escape formats: what the client sent comes out, whatever the escaping.

/// A user agent with what every escaping treats specially: `"` and `\`, a tab (a
/// control byte), UTF-8 (bytes from 0x80), and text that imitates the JSON format's
/// next field.
const AGENT: &[u8] = b"mon \"x\" \\ \t\xc3\xbc\",\"xff\":\"6.6.6.6";

/// Sends a legacy request with [`AGENT`], a plain api request and a legacy request
/// whose raw UTF-8 path nginx escapes in the log, and returns the log.
fn escaped_traffic(stack: &DemoStack) -> PathBuf {
    let addr = stack.edge.addr();
    assert_eq!(raw_get(addr, b"/status/summary", AGENT), 200);
    assert_eq!(raw_get(addr, b"/api/status/summary", b"curl/8"), 200);
    assert_eq!(raw_get(addr, b"/status/\xc3\xbc", b"curl/8"), 404);
    logged(stack, 3)
}

fn assert_agent_and_counts(run: &common::Run, escape: &str) {
    assert_eq!(run.code, 0, "{escape}: {run:#?}");
    assert_eq!(run.data("escape"), escape);
    assert_eq!(run.data("malformed")["count"], 0, "{escape}: {run:#?}");
    assert_eq!(
        run.data("values"),
        &json!({"api": 1, "legacy": 2, "not_status": 0}),
        "{escape}"
    );
    let agents = run.data("legacy_user_agents").as_array().unwrap();
    let ours = agents
        .iter()
        .find(|a| a["user_agent"] != "curl/8")
        .unwrap_or_else(|| panic!("{escape}: {agents:?}"));
    assert_eq!(
        ours["user_agent"].as_str().unwrap().as_bytes(),
        AGENT,
        "{escape}"
    );
}

#[test]
fn escape_default_values_are_decoded_from_hex() {
    // ngx_http_log_escape writes `"` `\` and bytes < 0x20, >= 0x7f as \xHH.
    let stack = stack();
    let log = escaped_traffic(&stack);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(r#"mon \x22x\x22 \x5C \x09\xC3\xBC\x22"#),
        "{text}"
    );
    let run = sampler(&["--log", path_str(&log)]);
    assert_agent_and_counts(&run, "default");
}

#[test]
fn escape_json_values_are_decoded_from_json_escapes() {
    // ngx_escape_json: \" \\ \t; UTF-8 as it is; the imitated field stays inside.
    let body = r#"{"time":"$time_iso8601","request":"$request","status":"$status","ua":"$http_user_agent","xff":"$http_x_forwarded_for"}"#;
    let stack = stack_with(EdgeConfig {
        log_format: Some(format!("escape=json {body}")),
        ..EdgeConfig::default()
    });
    let log = escaped_traffic(&stack);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(r#""ua":"mon \"x\" \\ \tü\",\"xff\":\"6.6.6.6","xff":"""#),
        "{text}"
    );
    // As pasted from nginx.conf, in two pieces.
    let (head, tail) = body.split_at(body.find(r#""ua""#).unwrap());
    let pasted = format!("log_format json_log escape=json\n    '{head}'\n    '{tail}';");
    let run = sampler(&["--log", path_str(&log), "--log-format", &pasted]);
    assert_agent_and_counts(&run, "json");
}

#[test]
fn escape_none_values_are_taken_as_written() {
    // escape=none writes values as they are; the user agent ends where the line's
    // closing quote begins.
    let format = r#"$remote_addr [$time_local] "$request" $status "$http_user_agent""#;
    let stack = stack_with(EdgeConfig {
        log_format: Some(format!("escape=none {format}")),
        ..EdgeConfig::default()
    });
    let log = escaped_traffic(&stack);
    let text = std::fs::read(&log).unwrap();
    assert!(
        text.windows(AGENT.len()).any(|w| w == AGENT),
        "{}",
        String::from_utf8_lossy(&text)
    );
    let run = sampler(&[
        "--log",
        path_str(&log),
        "--log-format",
        &format!("escape=none '{format}'"),
    ]);
    assert_agent_and_counts(&run, "none");
}

// ---------------------------------------------------------------------------------
// Foreign lines: `docker logs nginx` mixes stderr into the access log.

/// The official image's entrypoint, as `docker logs` shows it (nginxinc/docker-nginx:
/// `entrypoint/docker-entrypoint.sh` echoes `"$0: …"`, its scripts `"$ME: …"`).
const ENTRYPOINT: &str = "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration
/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/
/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh
10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf
10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf
/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh
/docker-entrypoint.sh: Configuration complete; ready for start up
";

/// nginx's startup notices (`ngx_log_error_core` in `src/core/ngx_log.c`: the cached
/// error-log time, ` [notice] `, `PID#TID: `), as the image logs them at `notice`.
const NOTICES: &str = "2026/11/29 11:47:20 [notice] 1#1: using the \"epoll\" event method
2026/11/29 11:47:20 [notice] 1#1: nginx/1.27.3
2026/11/29 11:47:20 [notice] 1#1: start worker processes
nginx: [warn] the \"user\" directive makes sense only if the master process runs with super-user privileges
";

/// A `docker logs`-like stream: the entrypoint, nginx's notices, then the access log of
/// a real nginx with the real error-log lines it wrote for requests whose upstream
/// reset the connection, each after the access line it belongs to.
fn docker_logs(stack: &DemoStack) -> (String, usize) {
    stack.backend.inject("/status/reset", Fault::Reset);
    let addr = stack.edge.addr();
    assert_eq!(raw_get(addr, b"/api/status/summary", b"curl/8"), 200);
    assert_eq!(raw_get(addr, b"/status/summary", b"old-monitor/1"), 200);
    assert_eq!(raw_get(addr, b"/status/reset", b"old-monitor/1"), 502);
    assert_eq!(raw_get(addr, b"/status/reset", b"old-monitor/1"), 502);
    // nginx passes the raw target on: the backend does not know it (404).
    assert_eq!(raw_get(addr, b"//status/summary", b"old-monitor/1"), 404);
    let access = std::fs::read_to_string(logged(stack, 5)).unwrap();
    let errors_path = stack.edge.access_log().with_file_name("error.log");
    // Bounded wait for nginx's error lines (written at once, read back here).
    let deadline = Instant::now() + Duration::from_secs(5);
    let errors = loop {
        let text = std::fs::read_to_string(&errors_path).unwrap_or_default();
        let errors: Vec<String> = text
            .lines()
            .filter(|l| l.contains("[error]"))
            .map(str::to_owned)
            .collect();
        if errors.len() >= 2 || Instant::now() > deadline {
            break errors;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(errors.len() >= 2, "nginx wrote no error lines: {errors:?}");
    let mut stream = format!("{ENTRYPOINT}{NOTICES}");
    let mut errors = errors.iter();
    for line in access.lines() {
        stream.push_str(line);
        stream.push('\n');
        if line.contains(" 502 ") {
            stream.push_str(errors.next().unwrap());
            stream.push('\n');
        }
    }
    let foreign = ENTRYPOINT.lines().count() + NOTICES.lines().count() + 2;
    (stream, foreign)
}

#[test]
fn foreign_lines_are_counted_apart_and_never_fatal() {
    let stack = stack();
    let (stream, foreign) = docker_logs(&stack);
    // Foreign lines outnumber the access lines (13 to 5): still not the format's fault.
    let run = sampler_with(&["--log", "-"], &[], stream.as_bytes());
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.data("lines"), 5 + foreign);
    assert_eq!(run.data("malformed")["count"], 0);
    assert_eq!(run.data("foreign")["count"], foreign);
    assert_eq!(
        run.data("foreign")["kinds"],
        json!({"nginx_error_log": 6, "docker_entrypoint": 7})
    );
    assert_eq!(run.data("foreign")["first"][0], "stdin:1");
    assert_eq!(
        run.data("values"),
        &json!({"api": 1, "legacy": 4, "not_status": 0})
    );
    assert!(run.stderr.contains("not access lines"), "{}", run.stderr);
    assert!(!run.stderr.contains("--log-format"), "{}", run.stderr);
    // The error-log lines quote the request (`request: "GET /status/reset …"`): they
    // are not counted as requests.
    assert_eq!(
        run.data("legacy_statuses"),
        &json!({"200": 1, "404": 1, "502": 2})
    );

    // When the access lines do not match either, the format is blamed (exit 2).
    let wrong = r#"$remote_addr [$time_local] "$request" $status"#;
    let run = sampler_with(
        &["--log", "-", "--log-format", wrong],
        &[],
        stream.as_bytes(),
    );
    assert_eq!(
        (run.code, run.reason()),
        (2, Some("too_many_malformed")),
        "{run:#?}"
    );
    assert_eq!(run.data("malformed")["count"], 5);
    assert_eq!(run.data("foreign")["count"], foreign);
    assert!(run.stderr.contains("--log-format"), "{}", run.stderr);
}

#[test]
fn foreign_lines_alone_cannot_pass_a_gate() {
    let stream = format!("{ENTRYPOINT}{NOTICES}");
    let run = sampler_with(
        &[
            "--log",
            "-",
            "--quiet-for",
            "24h",
            "--until",
            "2026-11-29T12:00:00Z",
        ],
        &[],
        stream.as_bytes(),
    );
    assert_eq!(
        (run.code, run.reason()),
        (1, Some("insufficient_coverage")),
        "{run:#?}"
    );
    assert_eq!(run.data("foreign")["count"], 11);
}

// ---------------------------------------------------------------------------------
// Collector prefixes: the same real nginx lines as `docker compose logs nginx`,
// `docker logs -t`, `kubectl logs --prefix` and journald show them. The prefixes are
// day2-core's `collector` (the one tunnel-check reads cloudflared's lines with).

/// docker's `RFC3339NanoFixed` timestamp (moby `daemon/logger/jsonfilelog`, `docker
/// logs -t`; compose v2 writes the same after its prefix).
const DOCKER_TIME: &str = "2001-02-03T04:05:06.123456789Z";

/// How a collector writes one line of the nginx container.
type Collector = Box<dyn Fn(&str) -> String>;

/// Each collector's way of writing one line of the nginx container, from its source.
fn collectors() -> Vec<(&'static str, Collector)> {
    vec![
        // docker/compose `cmd/formatter/logs.go`: `fmt.Sprintf("%-"+width+"s | ", name)`,
        // width = the longest name + 1; container names `service-N`.
        ("compose v2", Box::new(|l| format!("nginx-1  | {l}"))),
        (
            "compose v2, one service",
            Box::new(|l| format!("nginx-1 | {l}")),
        ),
        // `cmd/formatter/colors.go`: the whole prefix coloured (`ESC[36m` … `ESC[0m`).
        (
            "compose v2 coloured",
            Box::new(|l| format!("\u{1b}[36;1mnginx-1  | \u{1b}[0m{l}")),
        ),
        // `docker compose logs -t`: `"%s%s %s\n", prefix, timestamp, line`.
        (
            "compose v2 -t",
            Box::new(|l| format!("nginx-1  | {DOCKER_TIME} {l}")),
        ),
        // compose 1.x `compose/cli/log_printer.py`: `name.ljust(width) + " |"`, a
        // space, the line; names `service_N`; colour around `NAME  |`.
        ("compose v1", Box::new(|l| format!("nginx_1     | {l}"))),
        (
            "compose v1 coloured",
            Box::new(|l| format!("\u{1b}[36mnginx_1  |\u{1b}[0m {l}")),
        ),
        ("docker logs -t", Box::new(|l| format!("{DOCKER_TIME} {l}"))),
        (
            "kubectl logs --prefix",
            Box::new(|l| format!("[pod/nginx-7d9c5b8f6-abcde/nginx] {l}")),
        ),
        (
            "journald",
            Box::new(|l| format!("Nov 29 11:47:20 edge nginx[1]: {l}")),
        ),
        // nginx's own `access_log syslog:` header (`src/core/ngx_syslog.c`,
        // `ngx_syslog_add_header`): no pid.
        (
            "nginx syslog",
            Box::new(|l| format!("Nov 29 11:47:20 edge nginx: {l}")),
        ),
    ]
}

/// issue: `docker compose logs nginx` and `docker logs -t` made every line malformed
/// (exit 2, the format blamed). Behind each collector's prefix the real nginx's lines
/// count exactly as without it: access lines, error-log and entrypoint lines alike.
#[test]
fn access_lines_behind_collector_prefixes_count_as_without_them() {
    let stack = stack();
    let (stream, foreign) = docker_logs(&stack);
    let plain = sampler_with(&["--log", "-"], &[], stream.as_bytes());
    assert_eq!(plain.code, 0, "{plain:#?}");
    assert_eq!(plain.data("prefixed"), 0);
    for (name, prefix) in collectors() {
        let prefixed: String = stream.lines().map(|l| prefix(l) + "\n").collect();
        let run = sampler_with(&["--log", "-"], &[], prefixed.as_bytes());
        assert_eq!(run.code, 0, "{name}: {run:#?}");
        assert_eq!(run.data("malformed")["count"], 0, "{name}: {run:#?}");
        assert_eq!(run.data("prefixed"), 5, "{name}");
        assert_eq!(run.data("foreign")["count"], foreign, "{name}");
        assert_eq!(
            run.data("foreign")["kinds"],
            plain.data("foreign")["kinds"],
            "{name}"
        );
        for key in [
            "values",
            "legacy_statuses",
            "legacy_clients",
            "legacy_paths",
            "coverage",
        ] {
            assert_eq!(run.data(key), plain.data(key), "{name}: {key}");
        }
    }
}

/// A format that starts with the time: `docker logs -t` puts docker's timestamp in
/// front of nginx's own `$time_iso8601`; only docker's is taken off (each prefix is
/// tried in turn), and a line whose own time is all there is stays as it is.
#[test]
fn a_formats_own_leading_time_is_not_taken_for_a_prefix() {
    let format = r#"$time_iso8601 $remote_addr "$request" $status "$http_user_agent""#;
    let stack = stack_with(EdgeConfig {
        log_format: Some(format.to_owned()),
        ..EdgeConfig::default()
    });
    let addr = stack.edge.addr();
    assert_eq!(raw_get(addr, b"/status/summary", b"old-monitor/1"), 200);
    assert_eq!(raw_get(addr, b"/api/status/summary", b"curl/8"), 200);
    let text = std::fs::read_to_string(logged(&stack, 2)).unwrap();
    assert!(text.starts_with(|c: char| c.is_ascii_digit()), "{text}");
    let timed: String = text
        .lines()
        .map(|l| format!("{DOCKER_TIME} {l}\n"))
        .collect();
    for (input, prefixed) in [(&text, 0), (&timed, 2)] {
        let run = sampler_with(
            &["--log", "-", "--log-format", format],
            &[],
            input.as_bytes(),
        );
        assert_eq!(run.code, 0, "{run:#?}");
        assert_eq!(run.data("malformed")["count"], 0, "{run:#?}");
        assert_eq!(run.data("prefixed"), prefixed);
        assert_eq!(
            run.data("values"),
            &json!({"api": 1, "legacy": 1, "not_status": 0})
        );
        // Dated by nginx's own time, not docker's (2001-02-03).
        let first = run.data("coverage")["first"].as_str().unwrap().to_owned();
        assert!(!first.starts_with("2001-02-03"), "{first}");
    }
}

/// Lines of other services in `docker compose logs` (without a service named) are
/// not access lines: still malformed, and the format is blamed only past the ratio.
#[test]
fn other_services_behind_a_compose_prefix_stay_malformed() {
    let stack = stack();
    assert_eq!(raw_get(stack.edge.addr(), b"/status/summary", b"m/1"), 200);
    let access = std::fs::read_to_string(logged(&stack, 1)).unwrap();
    let mixed = format!(
        "backend-1  | INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)\nnginx-1    | {access}"
    );
    let run = sampler_with(&["--log", "-"], &[], mixed.as_bytes());
    assert_eq!(
        (run.code, run.reason()),
        (2, Some("too_many_malformed")),
        "{run:#?}"
    );
    assert_eq!(run.data("malformed")["count"], 1);
    assert_eq!(run.data("malformed")["first"], json!(["stdin:1"]));
}

// ---------------------------------------------------------------------------------
// Inputs: pipes, FIFOs, /dev/stdin, endless lines.

#[test]
fn pipes_fifos_and_dev_stdin_are_read_without_seeking() {
    let log = corpus("normalised-uris.log");
    let expected = json!({"api": 1, "legacy": 3, "not_status": 0});
    // Process substitution: a pipe under /dev/fd ("Illegal seek" before).
    let run = common::sampler_in_bash(
        &format!(r#""$SAMPLER" --log <(cat '{}')"#, log.display()),
        b"",
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.data("values"), &expected);
    // Gzip through a pipe.
    let run = common::sampler_in_bash(
        &format!(r#""$SAMPLER" --log <(gzip -c '{}')"#, log.display()),
        b"",
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.data("values"), &expected);
    // /dev/stdin by name.
    let text = std::fs::read(&log).unwrap();
    let run = common::sampler_in_bash(r#""$SAMPLER" --log /dev/stdin"#, &text);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.data("values"), &expected);
    // A named FIFO, written by another process.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("access.fifo");
    let script = format!(
        r#"mkfifo '{fifo}' && (cat '{log}' > '{fifo}' &) && "$SAMPLER" --log '{fifo}'"#,
        fifo = fifo.display(),
        log = log.display()
    );
    let run = common::sampler_in_bash(&script, b"");
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.data("values"), &expected);
}

#[test]
fn an_endless_line_is_skipped_in_bounded_memory() {
    // 200 MB of NUL bytes without a newline, under a 120 MB address-space limit: the
    // line is cut at 1 MiB, counted as overlong, and reading goes on.
    let script = r#"ulimit -v 120000; { head -c 200000000 /dev/zero; printf '\n'; cat; } | "$SAMPLER" --log - --max-malformed-ratio 0.5"#;
    let text = std::fs::read(corpus("normalised-uris.log")).unwrap();
    let run = common::sampler_in_bash(script, &text);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        run.data("malformed"),
        &json!({"count": 1, "first": ["stdin:1"], "overlong": 1})
    );
    assert_eq!(run.data("legacy"), 3);
    assert!(run.stderr.contains("longer than 1 MiB"), "{}", run.stderr);
}

#[test]
fn an_input_with_no_end_of_line_ends_with_a_usage_error() {
    // /dev/zero has no newline and no end: after 256 MiB of one line the input is no log,
    // said in one line (found by a new user: the run went on forever, silent).
    let run = common::sampler(&["--log", "/dev/zero"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("cannot read /dev/zero: line 1 is longer than 256 MiB: not an access log"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

// ---------------------------------------------------------------------------------
// -n and --for: whichever comes first.

#[test]
fn a_huge_count_ends_with_for_unpaced() {
    let stack = stack();
    let url = format!("{}/api/status/summary", stack.url());
    let run = sampler(&[&url, "-n", "1000000", "--for", "1s", "--samples", "off"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.elapsed < Duration::from_secs(4), "{:?}", run.elapsed);
    let sent = run.data("sent").as_u64().unwrap();
    assert!(sent > 0);
    assert_eq!(run.data("requested"), 1_000_000);
    assert_eq!(run.data("missed").as_u64().unwrap(), 1_000_000 - sent);
    assert_eq!(
        run.records.len(),
        1,
        "a count, not a record per missed sample"
    );
}
