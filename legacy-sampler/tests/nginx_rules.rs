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
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{logged, sampler, sampler_with, stack, stack_with};
use day2_core::record::Verdict;
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
