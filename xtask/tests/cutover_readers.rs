//! The cutover's `remove` step on a repository: readers of the legacy path (what
//! requests it at the edge) fail the gate; implementers (the backend's routes, the
//! nginx API location, backend tests, the OpenAPI document) are listed and stay;
//! comments, prose and ignored files are not searched; quoted lines are redacted.

use day2_tests::process::Bin;
use std::path::Path;

use serde_json::Value;

/// A configuration that retires the legacy prefix, so only readers decide.
const RETIRED: &str = "http {\n    server {\n        listen 80;\n        location /status/ {\n            return 410;\n        }\n        location /api/status/ {\n            rewrite ^/api/status/(.*)$ /status/$1 break;\n            proxy_pass http://backend;\n        }\n    }\n}\n";

/// A token-shaped canary: it must never appear in any output.
fn canary() -> String {
    format!("eyJhIjoiY2FuYXJ5In0{}", "Q".repeat(48))
}

fn write(root: &Path, name: &str, text: &str) {
    let path = root.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The small repository of the issue: a backend route, an nginx API location and
/// one real consumer, plus what must not count.
fn repository(root: &Path) {
    write(root, "deploy/nginx/default.conf", RETIRED);
    write(
        root,
        "backend/app/routes.py",
        "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get(\"/status/summary\")\nasync def summary():\n    \"\"\"The summary; nginx's /api/status/summary proxies here.\"\"\"\n    return {\"ok\": True}\n",
    );
    write(
        root,
        "backend/tests/test_summary.py",
        "from fastapi.testclient import TestClient\n\n\ndef test_summary(client: TestClient):\n    assert client.get(\"/status/summary\").status_code == 200\n",
    );
    write(
        root,
        "docs/openapi.json",
        "{\n  \"openapi\": \"3.1.0\",\n  \"paths\": {\n    \"/status/summary\": {\"get\": {}}\n  }\n}\n",
    );
    write(
        root,
        "README.md",
        "The legacy `/status/summary` is gone; use `/api/status/summary`.\n",
    );
    write(
        root,
        "web/src/old.js",
        "// fetch('/status/summary') was the old way\n/* and /status/summary\n   here too */\nexport const url = '/api/status/summary';\n",
    );
    write(root, ".gitignore", "generated/\n");
    write(root, "generated/bundle.js", "fetch('/status/summary')\n");
}

fn remove(root: &Path, report: &Path) -> (Option<i32>, Value, String, String) {
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["cutover", "--only", "remove", "--nginx-conf"])
        .arg(root.join("deploy/nginx/default.conf"))
        .arg("--repo")
        .arg(root)
        .arg("--report")
        .arg(report)
        .output();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let record = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["check"] == "cutover.remove")
        .unwrap_or_else(|| panic!("no cutover.remove: {stderr}"));
    (out.status.code(), record, stdout, stderr)
}

fn places(list: &Value) -> Vec<(String, u64, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_owned(),
                r["line"].as_u64().unwrap(),
                r["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn owned(list: &[(&str, u64, &str)]) -> Vec<(String, u64, String)> {
    list.iter()
        .map(|(p, l, k)| ((*p).to_owned(), *l, (*k).to_owned()))
        .collect()
}

/// Issue 16: the implementers must not fail the gate; the one consumer must.
#[test]
fn implementers_stay_and_only_the_consumer_fails_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    repository(&root);
    let report = dir.path().join("report.md");
    let (code, record, _, _) = remove(&root, &report);
    assert_eq!(
        (code, record["verdict"].as_str()),
        (Some(0), Some("pass")),
        "implementers alone pass: {record:#}"
    );
    let evidence = &record["data"]["evidence"];
    assert_eq!(places(&evidence["readers"]), owned(&[]));
    assert_eq!(
        places(&evidence["implementers"]),
        owned(&[
            ("backend/app/routes.py", 6, "backend_route"),
            ("backend/tests/test_summary.py", 5, "backend_test"),
            ("deploy/nginx/default.conf", 4, "nginx_config"),
            ("deploy/nginx/default.conf", 8, "nginx_config"),
            ("docs/openapi.json", 4, "openapi"),
        ])
    );

    // One real consumer, with a token in its URL.
    write(
        &root,
        "web/src/status.js",
        &format!(
            "export async function summary() {{\n  return fetch(`/status/summary?token={}`);\n}}\n",
            canary()
        ),
    );
    let (code, record, stdout, stderr) = remove(&root, &report);
    assert_eq!(code, Some(1));
    assert_eq!(record["reason"], "legacy_readers_remain", "{record:#}");
    let evidence = &record["data"]["evidence"];
    assert_eq!(
        places(&evidence["readers"]),
        owned(&[("web/src/status.js", 2, "frontend")])
    );
    assert!(
        record["message"]
            .as_str()
            .unwrap()
            .contains("1 place(s) still read it: web/src/status.js:2"),
        "{record:#}"
    );
    let quoted = evidence["readers"][0]["text"].as_str().unwrap();
    assert!(quoted.contains("fetch(`/status/summary?token="), "{quoted}");
    let report = std::fs::read_to_string(&report).unwrap();
    for (name, output) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("report", &report),
    ] {
        assert!(!output.contains(&canary()), "the token leaked into {name}");
    }
}

/// Recall: every kind of consumer is still found, in the places they live.
#[test]
fn every_kind_of_consumer_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    repository(&root);
    write(
        &root,
        ".github/workflows/status.yml",
        "jobs:\n  status:\n    runs-on: ubuntu-latest\n    steps:\n      # the legacy check below\n      - run: curl -fsS \"$EDGE/status/summary\"\n",
    );
    write(
        &root,
        "scripts/smoke.sh",
        "#!/usr/bin/env bash\nset -eu\ncurl -fsS \"${BASE:-http://127.0.0.1:8080}/status/summary\" | jq .ok\n",
    );
    write(
        &root,
        "scripts/warm.py",
        "import requests\n\nprint(requests.get(BASE + '/status/summary').json())\n",
    );
    write(
        &root,
        "monitoring/blackbox.yml",
        "modules: {}\ntargets:\n  - https://assistant.example.org/status/summary\n",
    );
    write(
        &root,
        "monitoring/dashboards/status.json",
        "{\"panels\": [{\"targets\": [{\"url\": \"https://assistant.example.org/status/summary\"}]}]}\n",
    );
    write(
        &root,
        "web/index.html",
        "<!doctype html>\n<!-- <script>fetch('/status/summary')</script> -->\n<link rel=\"prefetch\" href=\"/status/summary\">\n",
    );
    let (code, record, _, _) = remove(&root, &dir.path().join("report.md"));
    assert_eq!(code, Some(1));
    assert_eq!(
        places(&record["data"]["evidence"]["readers"]),
        owned(&[
            (".github/workflows/status.yml", 6, "ci_workflow"),
            ("monitoring/blackbox.yml", 3, "monitor"),
            ("monitoring/dashboards/status.json", 1, "monitor"),
            ("scripts/smoke.sh", 3, "script"),
            ("scripts/warm.py", 3, "script"),
            ("web/index.html", 3, "frontend"),
        ])
    );
}
