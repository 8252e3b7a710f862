//! The cutover's `remove` step asks nginx's question — which location serves a
//! legacy URI, and what does it answer — and a real nginx is the referee: each
//! configuration below is built from one rule of nginx's location selection
//! (`ngx_http_core_find_location` / `ngx_http_core_find_static_location` in
//! `src/http/ngx_http_core_module.c`, and the `location` documentation), started
//! as it is, asked for each URI, and the tool must name the location that answered
//! and what it answered.
//!
//! Every location says who it is with `add_header X-Loc NAME always;` on the line
//! after its `{`; the upstream is the backend simulator, whose request count tells
//! a proxied answer from nginx's own.

use day2_tests::process::Bin;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use day2_tests::{Backend, BackendConfig};
use serde_json::Value;

/// One configuration: the `http` block's body (placeholders `{listen}`,
/// `{backend}`, `{root}`), other files (relative to the configuration directory),
/// and the requests to compare: (Host, request target).
struct Case {
    name: &'static str,
    http: &'static str,
    files: &'static [(&'static str, &'static str)],
    requests: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        name: "an exact match beats every prefix (the issue's wrong pass: no location /status/)",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location = /status/summary {
        add_header X-Loc exact always;
        proxy_pass http://{backend};
    }
    location / {
        add_header X-Loc spa always;
        try_files $uri /index.html;
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary"), ("", "/status/summary?v=2"), ("", "/status/summary/"), ("", "/status/other")],
    },
    Case {
        name: "only location / proxies: everything reaches the backend",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location / {
        add_header X-Loc root always;
        proxy_pass http://{backend};
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary"), ("", "//status/./summary")],
    },
    Case {
        name: "an if that only sometimes returns 410",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location /status/ {
        add_header X-Loc legacy always;
        if ($arg_x) {
            return 410;
        }
        proxy_pass http://{backend};
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary"), ("", "/status/summary?x=1")],
    },
    Case {
        name: "the longest prefix wins, whatever the order",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location /status/summary {
        add_header X-Loc long always;
        proxy_pass http://{backend};
    }
    location /status/ {
        add_header X-Loc short always;
        return 410;
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary"), ("", "/status/summaryX"), ("", "/status/x"), ("", "/other")],
    },
    Case {
        name: "a regex beats a prefix, and the first regex in file order wins",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location /status/ {
        add_header X-Loc prefix always;
        return 410;
    }
    location ~ ^/status/s {
        add_header X-Loc regex1 always;
        proxy_pass http://{backend};
    }
    location ~ summary$ {
        add_header X-Loc regex2 always;
        return 404;
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary"), ("", "/status/x"), ("", "/foo/summary")],
    },
    Case {
        name: "^~ on the longest prefix stops the regex search",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location ^~ /status/ {
        add_header X-Loc noregex always;
        return 410;
    }
    location ~ summary {
        add_header X-Loc regex always;
        proxy_pass http://{backend};
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary"), ("", "/x/summary")],
    },
    Case {
        name: "^~ counts only when it is the longest prefix",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location ^~ /status/ {
        add_header X-Loc noregex always;
        return 410;
    }
    location /status/summary {
        add_header X-Loc longer always;
        return 404;
    }
    location ~ summary {
        add_header X-Loc regex always;
        proxy_pass http://{backend};
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary"), ("", "/status/x")],
    },
    Case {
        name: "~* ignores case, ~ does not",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location ~ ^/STATUS/ {
        add_header X-Loc sensitive always;
        return 404;
    }
    location ~* ^/STATUS/ {
        add_header X-Loc caseless always;
        proxy_pass http://{backend};
    }
    location / {
        add_header X-Loc spa always;
        try_files $uri /index.html;
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary"), ("", "/STATUS/summary"), ("", "/Status/Summary"), ("", "/x")],
    },
    Case {
        name: "nested locations, their regexes before the outer ones",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location /status/ {
        add_header X-Loc outer always;
        location ~ summary$ {
            add_header X-Loc nested always;
            return 410;
        }
        proxy_pass http://{backend};
    }
    location ~ ^/status/ {
        add_header X-Loc regex always;
        return 404;
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary"), ("", "/status/x")],
    },
    Case {
        name: "includes: a glob at the http level and a file inside a server, relative to the configuration",
        http: r#"
include conf.d/*.conf;
"#,
        files: &[
            (
                "conf.d/app.conf",
                r#"server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    include snippets/legacy.conf;
    location / {
        add_header X-Loc spa always;
        try_files $uri /index.html;
    }
}
"#,
            ),
            (
                "conf.d/snippets/legacy.conf",
                r#"location /status/ {
    add_header X-Loc included always;
    proxy_pass http://{backend};
}
"#,
            ),
            (
                "snippets/legacy.conf",
                r#"location /status/ {
    add_header X-Loc wrong-directory always;
    return 410;
}
"#,
            ),
        ],
        requests: &[("", "/status/summary"), ("", "/x")],
    },
    Case {
        name: "a missing slash before a proxied location is a 301 (auto_redirect)",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location /status/ {
        add_header X-Loc legacy always;
        proxy_pass http://{backend};
    }
}
"#,
        files: &[],
        requests: &[("", "/status"), ("", "/status/")],
    },
    Case {
        name: "rewrite … last searches the locations again",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location /status/ {
        add_header X-Loc legacy always;
        rewrite ^/status/(.*)$ /api/status/$1 last;
    }
    location /api/status/ {
        add_header X-Loc api always;
        proxy_pass http://{backend};
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary")],
    },
    Case {
        name: "error_page 404 =200 is the SPA trap; internal is a 404",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    error_page 404 =200 /index.html;
    location /status/ {
        add_header X-Loc internal always;
        internal;
        proxy_pass http://{backend};
    }
    location /api/ {
        add_header X-Loc api always;
        proxy_pass http://{backend};
    }
}
"#,
        files: &[],
        requests: &[("", "/status/summary"), ("", "/other/summary")],
    },
    Case {
        name: "each server block by server_name; a server's own return comes before locations",
        http: r#"
server {
    add_header X-Loc a-server always;
    listen {listen};
    server_name a.test;
    root {root};
    location /status/ {
        add_header X-Loc a-legacy always;
        proxy_pass http://{backend};
    }
}
server {
    add_header X-Loc b-server always;
    listen {listen};
    server_name b.test;
    root {root};
    location /status/ {
        add_header X-Loc b-legacy always;
        return 410;
    }
}
server {
    add_header X-Loc c-server always;
    listen {listen};
    server_name c.test;
    return 301 https://c.test$request_uri;
    location /status/ {
        add_header X-Loc c-legacy always;
        proxy_pass http://{backend};
    }
}
"#,
        files: &[],
        requests: &[("a.test", "/status/summary"), ("b.test", "/status/summary"), ("c.test", "/status/summary")],
    },
];

/// A real nginx running one configuration, on a free loopback port.
struct Nginx {
    child: Option<Child>,
    dir: tempfile::TempDir,
    addr: SocketAddr,
}

impl Nginx {
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts nginx again on the same files (after a patch).
    fn restart(&mut self) {
        self.stop();
        self.child = Some(spawn(self.dir.path(), self.addr).expect("nginx restarts"));
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

fn fill(text: &str, addr: SocketAddr, backend: SocketAddr, root: &Path) -> String {
    text.replace("{listen}", &addr.to_string())
        .replace("{backend}", &backend.to_string())
        .replace("{root}", &root.display().to_string())
}

/// Runs nginx on `dir/nginx.conf` and waits (bounded) until it listens.
fn spawn(dir: &Path, addr: SocketAddr) -> Result<Child, String> {
    let nginx = day2_tests::require::program("nginx", "nginx-light");
    day2_tests::edge::spawn_nginx(&nginx, dir, &dir.join("nginx.conf"), addr)
        .map_err(|e| e.to_string())
}

fn start(case: &Case, backend: SocketAddr) -> Nginx {
    let dir = tempfile::Builder::new()
        .prefix("day2-cutover-nginx-")
        .tempdir()
        .unwrap();
    let root = dir.path().join("spa");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
    std::fs::write(
        root.join("index.html"),
        "<!doctype html><title>spa</title>\n",
    )
    .unwrap();
    // Bounded: a port taken between probing and nginx's bind is retried.
    let mut last = String::new();
    for _ in 0..5 {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nevents {{ worker_connections 64; }}\nhttp {{\n    access_log off;\n    client_body_temp_path {d}/tmp/client;\n    proxy_temp_path {d}/tmp/proxy;\n    fastcgi_temp_path {d}/tmp/fastcgi;\n    uwsgi_temp_path {d}/tmp/uwsgi;\n    scgi_temp_path {d}/tmp/scgi;\n{}}}\n",
            fill(case.http, addr, backend, &root)
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        for (name, text) in case.files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, fill(text, addr, backend, &root)).unwrap();
        }
        match spawn(dir.path(), addr) {
            Ok(child) => {
                return Nginx {
                    child: Some(child),
                    dir,
                    addr,
                }
            }
            Err(err) if err.contains("Address already in use") => last = err,
            Err(err) => panic!("{}: {err}", case.name),
        }
    }
    panic!("{}: nginx did not start: {last}", case.name);
}

/// What nginx answered: status, `X-Loc`, `Location`.
#[derive(Debug)]
struct Real {
    status: u16,
    location_name: String,
    redirect_to: Option<String>,
    proxied: bool,
}

fn ask(nginx: &Nginx, backend: &Backend, host: &str, target: &str) -> Real {
    let before = backend.request_count();
    let mut stream = TcpStream::connect_timeout(&nginx.addr, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let host = if host.is_empty() { "localhost" } else { host };
    write!(stream, "GET {target} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    Real {
        status,
        location_name: header("X-Loc").unwrap_or_default(),
        redirect_to: header("Location"),
        proxied: backend.request_count() > before,
    }
}

/// The cutover's answers for one legacy URI.
fn tool_answers(conf: &Path, target: &str, repo: &Path) -> Vec<Value> {
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["cutover", "--only", "remove", "--nginx-conf"])
        .arg(conf)
        .args(["--legacy-path", target, "--repo"])
        .arg(repo)
        .output();
    let remove: Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["check"] == "cutover.remove")
        .unwrap_or_else(|| {
            panic!(
                "no cutover.remove: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    remove["data"]["evidence"]["answers"]
        .as_array()
        .unwrap_or_else(|| panic!("no answers: {remove:#}"))
        .clone()
}

/// The `X-Loc` name of the location (or server) at `file:line`: the header is on
/// the line after the block's `{`.
fn x_loc(file: &str, line: u64) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let next = text.lines().nth(line as usize).unwrap_or("");
    next.split_whitespace()
        .skip_while(|w| *w != "X-Loc")
        .nth(1)
        .unwrap_or_else(|| panic!("no X-Loc after {file}:{line}: {next}"))
        .to_owned()
}

fn answered_name(answer: &Value) -> String {
    let place = if answer["answered_by"].is_null() {
        &answer["server"]
    } else {
        &answer["answered_by"]
    };
    x_loc(
        place["file"].as_str().unwrap(),
        place["line"].as_u64().unwrap(),
    )
}

fn agrees(answer: &Value, real: &Real, target: &str) -> bool {
    if answered_name(answer) != real.location_name {
        return false;
    }
    match answer["outcome"].as_str().unwrap() {
        "proxied" => real.proxied,
        "status" | "fallback" => !real.proxied && answer["status"] == real.status,
        "redirect" => {
            let detail = answer["detail"].as_str().unwrap();
            let (_, to) = detail.split_once("redirect to ").unwrap();
            let to = to.replace("$request_uri", target);
            !real.proxied
                && answer["status"] == real.status
                && real.redirect_to.as_deref().is_some_and(|real_to| {
                    real_to == to || (to.starts_with('/') && real_to.ends_with(&to))
                })
        }
        _ => false,
    }
}

#[test]
fn the_tool_names_the_location_and_the_answer_real_nginx_gives() {
    let backend = Backend::start(BackendConfig::default()).expect("backend simulator");
    let repo = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for case in CASES {
        let nginx = start(case, backend.addr());
        let conf: PathBuf = nginx.dir.path().join("nginx.conf");
        for (host, target) in case.requests {
            let real = ask(&nginx, &backend, host, target);
            let answers = tool_answers(&conf, target, repo.path());
            let mine: Vec<&Value> = answers
                .iter()
                .filter(|a| {
                    host.is_empty()
                        || a["server"]["server_name"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|n| n == host)
                })
                .collect();
            assert!(
                mine.iter().any(|a| agrees(a, &real, target)),
                "{}: {host} {target}\nnginx: {real:?}\ntool: {mine:#?}",
                case.name
            );
            if !case.http.contains("if (") {
                assert_eq!(mine.len(), 1, "{}: {target}: {mine:#?}", case.name);
            }
            compared += 1;
        }
    }
    assert!(compared >= 30, "{compared} requests compared");
}

/// The whole `cutover.remove` record of a run.
fn remove_record(extra: &[&str]) -> (Option<i32>, Value, String) {
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["cutover", "--only", "remove"])
        .args(extra)
        .output();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let remove = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["check"] == "cutover.remove")
        .unwrap_or_else(|| panic!("no cutover.remove (exit {:?}): {stderr}", out.status));
    (out.status.code(), remove, stderr)
}

/// Issue 16: three configurations where nginx still proxies `/status/summary` and
/// the step said "not routed" or "answers 410". nginx proxies them; the gate fails.
#[test]
fn the_known_wrong_passes_now_fail_as_nginx_proxies_them() {
    let backend = Backend::start(BackendConfig::default()).expect("backend simulator");
    let repo = tempfile::tempdir().unwrap();
    for case in &CASES[..3] {
        let nginx = start(case, backend.addr());
        let real = ask(&nginx, &backend, "", "/status/summary");
        assert!(real.proxied, "{}: {real:?}", case.name);
        let conf = nginx.dir.path().join("nginx.conf");
        let (code, remove, _) = remove_record(&[
            "--nginx-conf",
            conf.to_str().unwrap(),
            "--repo",
            repo.path().to_str().unwrap(),
        ]);
        assert_eq!(code, Some(1), "{}: {remove:#}", case.name);
        assert_eq!(
            (remove["verdict"].as_str(), remove["reason"].as_str()),
            (Some("fail"), Some("legacy_still_proxied")),
            "{}: {remove:#}",
            case.name
        );
    }
}

/// A legacy path only the access logs show is asked about too: here the summary
/// answers 410, but `/status/health`, which a monitor still requests, is proxied.
#[test]
fn paths_from_the_access_logs_are_asked_about_too() {
    let backend = Backend::start(BackendConfig::default()).expect("backend simulator");
    let case = Case {
        name: "the summary retired, the rest of the prefix still proxied",
        http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location = /status/summary {
        add_header X-Loc exact always;
        return 410;
    }
    location /status/ {
        add_header X-Loc legacy always;
        proxy_pass http://{backend};
    }
}
"#,
        files: &[],
        requests: &[],
    };
    let nginx = start(&case, backend.addr());
    assert!(ask(&nginx, &backend, "", "/status/health?full=1").proxied);
    assert_eq!(ask(&nginx, &backend, "", "/status/summary").status, 410);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::write(
        &log,
        "10.0.0.9 - - [28/Nov/2026:10:00:00 +0000] \"GET /status/health?full=1 HTTP/1.1\" 200 12 \"-\" \"monitor/1\"\n\
         10.0.0.9 - - [28/Nov/2026:10:01:00 +0000] \"GET //status/summary HTTP/1.1\" 410 0 \"-\" \"monitor/1\"\n",
    )
    .unwrap();
    let conf = nginx.dir.path().join("nginx.conf");
    let conf = conf.to_str().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let repo = repo.to_str().unwrap();
    let (code, remove, _) = remove_record(&["--nginx-conf", conf, "--repo", repo]);
    assert_eq!(
        (code, remove["verdict"].as_str()),
        (Some(0), Some("pass")),
        "{remove:#}"
    );
    let (_, remove, _) = remove_record(&[
        "--nginx-conf",
        conf,
        "--repo",
        repo,
        "--access-log",
        log.to_str().unwrap(),
    ]);
    assert_eq!(remove["reason"], "legacy_still_proxied", "{remove:#}");
    assert_eq!(
        remove["data"]["evidence"]["legacy_uris"],
        serde_json::json!(["/status/summary", "/status/health"])
    );
    assert!(
        remove["message"]
            .as_str()
            .unwrap()
            .starts_with("/status/health in the server at"),
        "{remove:#}"
    );
}

/// An empty configuration, one without an http server, and an unreadable one are
/// errors, never a pass; a hostile nesting is a one-line error naming file and line.
#[test]
fn configurations_that_answer_nothing_or_cannot_be_read_never_pass() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().to_str().unwrap();
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "empty.conf",
            "",
            "nginx_conf_invalid",
            "empty.conf:1: no directives",
        ),
        (
            "comments.conf",
            "# all gone\n",
            "nginx_conf_invalid",
            "comments.conf:1: no directives",
        ),
        (
            "upstream.conf",
            "events {}\nhttp {\n    upstream backend { server 127.0.0.1:9; }\n}\n",
            "nginx_conf_invalid",
            "no http server block",
        ),
        (
            "deep.conf",
            "",
            "nginx_conf_invalid",
            "deep.conf:51: blocks nested deeper than 50 levels",
        ),
    ];
    for (name, text, reason, message) in cases {
        let path = dir.path().join(name);
        if *name == "deep.conf" {
            std::fs::write(&path, "a {\n".repeat(21_000)).unwrap();
        } else {
            std::fs::write(&path, text).unwrap();
        }
        let (code, remove, _) =
            remove_record(&["--nginx-conf", path.to_str().unwrap(), "--repo", repo]);
        assert_eq!(code, Some(1), "{name}: {remove:#}");
        assert_eq!(remove["reason"], *reason, "{name}: {remove:#}");
        let said = remove["message"].as_str().unwrap();
        assert!(said.contains(message), "{name}: {said}");
        assert!(!said.contains('\n'), "one line: {said}");
    }
    let missing = dir.path().join("absent.conf");
    let (_, remove, _) =
        remove_record(&["--nginx-conf", missing.to_str().unwrap(), "--repo", repo]);
    assert_eq!(remove["reason"], "input_unreadable", "{remove:#}");
}

fn run_in(dir: &Path, program: &str, args: &[&str]) -> std::process::Output {
    Bin::new(program).args(args).current_dir(dir).output()
}

/// `--write-patch` at the repository root: paths relative to `--repo`, a diff that
/// `git apply --check` and `patch -p1` both take (two legacy blocks a few lines
/// apart used to give overlapping hunks that git refused), and after applying it the
/// real nginx answers 410 where it proxied.
#[test]
fn the_patch_applies_at_the_repository_root_and_nginx_then_answers_410() {
    let backend = Backend::start(BackendConfig::default()).expect("backend simulator");
    let cases = [
        Case {
            name: "two legacy blocks a few lines apart",
            http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location /status/ {
        add_header X-Loc legacy always;
        proxy_pass http://{backend};
    }
    location = /status/summary {
        add_header X-Loc exact always;
        proxy_pass http://{backend};
    }
    location /api/status/ {
        add_header X-Loc api always;
        proxy_pass http://{backend};
    }
}
"#,
            files: &[],
            requests: &[],
        },
        Case {
            name: "a catch-all proxy, and the legacy block in an included file",
            http: r#"
include conf.d/*.conf;
"#,
            files: &[
                (
                    "conf.d/app.conf",
                    r#"server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    include legacy/*.conf;
    location / {
        add_header X-Loc root always;
        proxy_pass http://{backend};
    }
}
"#,
                ),
                (
                    "legacy/summary.conf",
                    r#"location = /status/summary {
    add_header X-Loc exact always;
    proxy_pass http://{backend};
}
"#,
                ),
            ],
            requests: &[],
        },
        Case {
            name: "only a catch-all proxy: a legacy location is added in front",
            http: r#"
server {
    add_header X-Loc server always;
    listen {listen};
    root {root};
    location / {
        add_header X-Loc root always;
        proxy_pass http://{backend};
    }
}
"#,
            files: &[],
            requests: &[],
        },
    ];
    // What answers 410 after the patch: the legacy path always; the rest of the
    // prefix where a location dedicated to it was retired or added.
    let retired: [&[&str]; 3] = [
        &["/status/summary", "/status/x"],
        &["/status/summary"],
        &["/status/summary", "/status/x"],
    ];
    for (case, retired) in cases.iter().zip(retired) {
        let mut nginx = start(case, backend.addr());
        let repo = nginx.dir.path().to_path_buf();
        assert!(
            ask(&nginx, &backend, "", "/status/summary").proxied,
            "{}",
            case.name
        );
        assert!(
            ask(&nginx, &backend, "", "/status/x").proxied,
            "{}",
            case.name
        );
        assert!(run_in(&repo, "git", &["init", "-q", "."]).status.success());
        let patch = repo.join("retire.patch");
        let conf = repo.join("nginx.conf");
        let (_, remove, _) = remove_record(&[
            "--nginx-conf",
            conf.to_str().unwrap(),
            "--repo",
            repo.to_str().unwrap(),
            "--write-patch",
            patch.to_str().unwrap(),
        ]);
        assert_eq!(remove["reason"], "legacy_still_proxied", "{remove:#}");
        let diff = std::fs::read_to_string(&patch).unwrap();
        for header in diff.lines().filter(|l| {
            l.starts_with("diff --git") || l.starts_with("--- ") || l.starts_with("+++ ")
        }) {
            assert!(
                !header.contains(repo.to_str().unwrap()),
                "paths are relative: {header}"
            );
        }
        let git = run_in(&repo, "git", &["apply", "--check", "retire.patch"]);
        assert!(
            git.status.success(),
            "{}: git apply: {}\n{diff}",
            case.name,
            String::from_utf8_lossy(&git.stderr)
        );
        let dry = run_in(&repo, "patch", &["-p1", "--dry-run", "-i", "retire.patch"]);
        assert!(
            dry.status.success(),
            "{}: patch: {}\n{diff}",
            case.name,
            String::from_utf8_lossy(&dry.stdout)
        );
        let applied = run_in(&repo, "git", &["apply", "retire.patch"]);
        assert!(applied.status.success());
        nginx.restart();
        for uri in retired {
            let real = ask(&nginx, &backend, "", uri);
            assert_eq!(
                (real.status, real.proxied),
                (410, false),
                "{}: {uri}\n{diff}",
                case.name
            );
        }
        assert!(
            ask(&nginx, &backend, "", "/api/status/summary").proxied,
            "{}",
            case.name
        );
        let (code, remove, _) = remove_record(&[
            "--nginx-conf",
            conf.to_str().unwrap(),
            "--repo",
            repo.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(0), "{}: {remove:#}", case.name);
    }
}

/// `nginx -T` prints every file of a configuration; given that output, the step
/// reads the same files and reaches the same answers as from the files themselves.
#[test]
fn the_output_of_nginx_t_gives_the_same_answers_as_the_files() {
    let backend = Backend::start(BackendConfig::default()).expect("backend simulator");
    let case = CASES
        .iter()
        .find(|c| c.name.starts_with("includes"))
        .unwrap();
    let nginx = start(case, backend.addr());
    let conf = nginx.dir.path().join("nginx.conf");
    let dump = Bin::new(day2_tests::require::program("nginx", "nginx-light"))
        .arg("-T")
        .arg("-p")
        .arg(nginx.dir.path())
        .arg("-c")
        .arg(&conf)
        .output();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dumped = nginx.dir.path().join("nginx-T.txt");
    std::fs::write(&dumped, &dump.stdout).unwrap();
    let repo = tempfile::tempdir().unwrap();
    for (_, target) in case.requests {
        let shape = |answers: Vec<Value>| -> Vec<(Value, Value, Value)> {
            answers
                .into_iter()
                .map(|a| {
                    (
                        a["answered_by"].clone(),
                        a["outcome"].clone(),
                        a["status"].clone(),
                    )
                })
                .collect()
        };
        let from_files = shape(tool_answers(&conf, target, repo.path()));
        let from_dump = shape(tool_answers(&dumped, target, repo.path()));
        assert_eq!(from_files, from_dump, "{target}");
    }
}

/// A server that sends every request elsewhere before any location (`return 301
/// https://…`) is judged where it sends them; when every server does, nothing
/// answers the URI here, and the step cannot pass.
#[test]
fn a_server_that_redirects_everything_is_judged_where_it_sends_requests() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nginx.conf");
    let redirect =
        "    server {\n        listen 80;\n        return 301 https://$host$request_uri;\n    }\n";
    let tls = "    server {\n        listen 443 ssl;\n        location /status/ {\n            return 410;\n        }\n        location / {\n            proxy_pass http://backend;\n        }\n    }\n";
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let args = [
        "--nginx-conf",
        conf.to_str().unwrap(),
        "--repo",
        repo.to_str().unwrap(),
    ];
    std::fs::write(&conf, format!("http {{\n{redirect}{tls}}}\n")).unwrap();
    let (code, remove, _) = remove_record(&args);
    assert_eq!(
        (code, remove["verdict"].as_str()),
        (Some(0), Some("pass")),
        "{remove:#}"
    );
    std::fs::write(&conf, format!("http {{\n{redirect}}}\n")).unwrap();
    let (code, remove, _) = remove_record(&args);
    assert_eq!(code, Some(1));
    assert_eq!(remove["reason"], "legacy_answer_unknown", "{remove:#}");
}
