//! Issue 18, the secret canary for the xtask: a password in a URL's userinfo and a
//! token in its query, met in the cutover's access logs (observe), HTML pages
//! (integrity), nginx configuration (remove, `--write-patch`), and in
//! `start-prod`'s `--url` and DOCKER_HOST, reach no output: stdout, stderr, the
//! report, the patch file; in plain, percent-encoded or base64 form.

mod common;

use std::time::Duration;

use day2_tests::canary::assert_absent;

const CANARY: &str = "CANARY3b7e90d4";

fn xtask(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = common::xtask(args)
        .envs(env.iter().copied())
        .deadline(Duration::from_secs(120))
        .run();
    (Some(out.code), out.stdout, out.stderr)
}

#[test]
fn cutover_observe_and_integrity_show_no_logged_or_linked_credential() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let lines = [
        format!("10.0.0.7 - - [29/Nov/2026:10:00:00 +0000] \"GET /status/summary?token={CANARY} HTTP/1.1\" 200 42 \"http://ops:{CANARY}@monitor.test/\" \"probe/1.0 (+https://ops:{CANARY}@monitor.test/?token={CANARY})\""),
        format!("10.0.0.8 - - [29/Nov/2026:10:00:01 +0000] \"GET /api/status/summary?access_token={CANARY}&v=1 HTTP/1.1\" 200 42 \"-\" \"curl/8.5.0\""),
    ];
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let page = dir.path().join("index.html");
    std::fs::write(
        &page,
        format!(
            "<script src=\"https://user:{CANARY}@cdn.example/app.js\" integrity=\"sha384-x\" crossorigin></script>\n\
             <link rel=\"stylesheet\" href=\"https://cdn.example/site.css?v=1&token={CANARY}\">\n"
        ),
    )
    .unwrap();
    let manifest = dir.path().join("sri-manifest.json");
    std::fs::write(&manifest, "{}\n").unwrap();
    let report = dir.path().join("cutover.md");
    for only in ["observe", "integrity"] {
        let _ = std::fs::remove_file(&report);
        let (code, stdout, stderr) = xtask(
            &[
                "cutover",
                "--only",
                only,
                "--access-log",
                log.to_str().unwrap(),
                "--quiet-for",
                "1h",
                "--html",
                page.to_str().unwrap(),
                "--manifest",
                manifest.to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ],
            &[],
        );
        assert!(code.is_some(), "{only}: {stderr}");
        assert!(
            stdout.contains(&format!("\"check\":\"cutover.{only}\"")),
            "{only}: {stdout}{stderr}"
        );
        let written = std::fs::read_to_string(&report).expect("report");
        for (what, text) in [
            ("stdout", &stdout),
            ("stderr", &stderr),
            ("report", &written),
        ] {
            assert_absent(CANARY, &format!("{only} {what}"), text);
        }
    }
}

/// The patch quotes configuration lines; one holding a credential is not written
/// (masked, the patch would not apply): the gate says where, and nothing leaks.
#[test]
fn write_patch_never_writes_a_credential_from_the_configuration() {
    let repo = tempfile::tempdir().unwrap();
    let conf = repo.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "events {{}}\nhttp {{\n  server {{\n    listen 8080;\n    # monitor: https://ops:{CANARY}@monitor.test/?token={CANARY}\n    location /status/ {{\n        proxy_set_header X-Upstream \"https://ops:{CANARY}@auth.test/\";\n        proxy_pass http://127.0.0.1:8000;\n    }}\n    location /api/status/ {{\n        proxy_pass http://127.0.0.1:8000;\n    }}\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let patch = repo.path().join("retire.patch");
    let report = repo.path().join("cutover.md");
    let remove = |extra: &[&str]| {
        let mut args = common::remove_argv(conf.to_str().unwrap(), repo.path().to_str().unwrap());
        args.extend(["--write-patch", patch.to_str().unwrap()]);
        args.extend_from_slice(extra);
        xtask(&args, &[])
    };
    let (_, stdout, stderr) = remove(&["--report", report.to_str().unwrap()]);
    assert!(
        stdout.contains("\"check\":\"cutover.remove\""),
        "{stdout}{stderr}"
    );
    let written = std::fs::read_to_string(&report).expect("report");
    let patched = std::fs::read_to_string(&patch).unwrap_or_default();
    for (what, text) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("report", &written),
        ("patch", &patched),
    ] {
        assert_absent(CANARY, what, text);
    }
    assert!(stdout.contains("patch_holds_secret"), "{stdout}");

    // Without the credential the same configuration gets its patch.
    std::fs::write(
        &conf,
        std::fs::read_to_string(&conf)
            .unwrap()
            .replace(&format!("ops:{CANARY}@"), "")
            .replace(&format!("?token={CANARY}"), ""),
    )
    .unwrap();
    let (_, stdout, stderr) = remove(&[]);
    let patched = std::fs::read_to_string(&patch).unwrap_or_default();
    assert!(patched.contains("return 410;"), "{stdout}{stderr}");
}

#[test]
fn start_prod_shows_no_credential_from_url_or_docker_host() {
    let dir = tempfile::tempdir().unwrap();
    let compose = dir.path().join("docker-compose.yml");
    std::fs::write(&compose, "services: {}\n").unwrap();
    let compose = compose.to_str().unwrap();
    let url = format!("http://user:{CANARY}@127.0.0.1:1/?token={CANARY}");
    let docker_host = format!("tcp://u:{CANARY}@127.0.0.1:1");
    type Case<'a> = (&'a [&'a str], Vec<(&'a str, &'a str)>);
    let cases: [Case; 2] = [
        // The engine answers; compose brings nothing up; the edge never answers.
        (
            &[
                "--url",
                &url,
                "--timeout",
                "2s",
                "--interval",
                "200ms",
                "-p",
                "day2canary",
            ],
            vec![],
        ),
        // No engine at DOCKER_HOST: the bring-up stops there.
        (
            &["--url", &url, "--timeout", "2s"],
            vec![("DOCKER_HOST", docker_host.as_str())],
        ),
    ];
    for (args, env) in cases {
        let mut all = vec!["start-prod", "-f", compose];
        all.extend_from_slice(args);
        let (code, stdout, stderr) = xtask(&all, &env);
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        assert!(!stdout.is_empty(), "{stderr}");
        for (what, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert_absent(CANARY, what, text);
        }
    }
}
