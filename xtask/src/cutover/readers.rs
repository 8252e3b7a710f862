//! Searching a repository for what still reads the legacy path, told apart from
//! what implements it.
//!
//! A **reader** requests the legacy URL at the edge: a frontend fetch, a CI workflow,
//! a script, a monitor, a dashboard. It breaks when the path answers 410, so it fails
//! the gate. An **implementer** serves or proxies the path behind the API location
//! and stays after a correct cutover: the backend's own routes
//! (`@router.get("/status/summary")`), nginx configuration (judged by the location
//! check, not here), backend tests, the OpenAPI document. Comments and prose name the
//! path without requesting it and are skipped.
//!
//! The repository is walked the way ripgrep walks it, with its `ignore` crate:
//! `.gitignore`, `.ignore` and git's exclude files are respected (also outside a git
//! checkout), binary files are skipped; hidden files are searched (CI workflows live
//! in `.github/`), the `.git` directory is not.

use std::path::{Path, PathBuf};

use regex::Regex;

/// What a line that names the legacy path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Requests the legacy URL: fails the gate.
    Reader,
    /// Serves or proxies it behind the API: listed as information.
    Implementer,
}

/// One place that names the legacy path.
#[derive(Debug, Clone, PartialEq)]
pub struct Reader {
    pub path: PathBuf,
    pub line: usize,
    /// The line as shown: secrets masked by tunnel-check's redactor, at most 160
    /// characters.
    pub text: String,
    pub role: Role,
    /// What kind of reader or implementer: `frontend`, `ci_workflow`, `script`,
    /// `monitor`, `code`; `backend_route`, `nginx_config`, `backend_test`, `openapi`.
    pub kind: &'static str,
}

/// Largest file searched (ripgrep has no limit; a repository's readers are small).
const LARGEST_FILE: u64 = 2 * 1024 * 1024;
/// Bounds the walk of a huge tree.
const MOST_FILES: usize = 200_000;
/// How much of a file decides whether it is binary (a NUL byte), as ripgrep does.
const BINARY_PEEK: usize = 8 * 1024;
/// Longest quoted line.
const SHOWN_CHARS: usize = 160;

/// Prose, and records of the past (patches, logs): they name the path, they do not
/// request it.
const PROSE_EXTENSIONS: &[&str] = &[
    "md", "markdown", "mdx", "rst", "txt", "adoc", "asciidoc", "org", "textile", "rdoc", "patch",
    "diff", "rej", "orig", "log",
];
const PROSE_NAMES: &[&str] = &[
    "changelog",
    "changes",
    "history",
    "news",
    "license",
    "licence",
    "copying",
    "authors",
    "readme",
    "notice",
];

/// How a file writes comments.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Comments {
    /// `#` at the start of a line or after whitespace (shell, YAML, Python, TOML,
    /// nginx, Dockerfile).
    Hash,
    /// `//` and `/* */` (JavaScript, TypeScript, Rust, Go, Java, C, CSS).
    Slash,
    /// `<!-- -->` (HTML, XML, Vue and Svelte templates).
    Markup,
    /// No comments (JSON) or unknown.
    None,
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn comments(path: &Path, text: &str) -> Comments {
    match extension(path).as_str() {
        "py" | "pyi" | "sh" | "bash" | "zsh" | "ksh" | "fish" | "ps1" | "psm1" | "yml" | "yaml"
        | "toml" | "conf" | "nginx" | "template" | "rb" | "pl" | "r" | "env" | "cfg" | "ini"
        | "properties" | "tf" | "hcl" | "mk" | "dockerfile" => Comments::Hash,
        "js" | "mjs" | "cjs" | "ts" | "mts" | "cts" | "tsx" | "jsx" | "rs" | "go" | "java"
        | "kt" | "kts" | "c" | "h" | "cc" | "cpp" | "hpp" | "cs" | "swift" | "scala" | "dart"
        | "php" | "css" | "scss" | "less" | "jsonc" | "json5" | "groovy" => Comments::Slash,
        "html" | "htm" | "xml" | "svg" | "vue" | "svelte" | "xhtml" => Comments::Markup,
        "json" => Comments::None,
        _ => {
            let name = file_name(path);
            if name.starts_with("dockerfile")
                || name == "makefile"
                || name.starts_with(".env")
                || name == "procfile"
                || text.starts_with("#!")
            {
                Comments::Hash
            } else if name == "jenkinsfile" {
                Comments::Slash
            } else {
                Comments::None
            }
        }
    }
}

/// The code of each line: comments blanked, strings kept (URLs live in strings).
/// Block comments, JavaScript template literals and Python's triple-quoted strings
/// that stand as statements (docstrings, which are prose) span lines.
fn code_lines(text: &str, style: Comments, python: bool) -> Vec<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Code,
        Block,
        Markup,
        Quote(char),
        Template,
        Docstring(char),
        Triple(char),
    }
    let mut state = State::Code;
    let mut out = Vec::new();
    for line in text.lines() {
        let chars: Vec<char> = line.chars().collect();
        let mut code = String::with_capacity(line.len());
        let mut i = 0;
        if let State::Quote(_) = state {
            state = State::Code;
        }
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            let at = |s: &str| chars[i..].iter().take(s.len()).copied().eq(s.chars());
            match state {
                State::Block => {
                    if c == '*' && next == Some('/') {
                        state = State::Code;
                        i += 2;
                    } else {
                        i += 1;
                    }
                    continue;
                }
                State::Markup => {
                    if at("-->") {
                        state = State::Code;
                        i += 3;
                    } else {
                        i += 1;
                    }
                    continue;
                }
                State::Docstring(q) => {
                    if c == q && next == Some(q) && chars.get(i + 2) == Some(&q) {
                        state = State::Code;
                        i += 3;
                    } else {
                        i += 1;
                    }
                    continue;
                }
                State::Triple(q) => {
                    code.push(c);
                    if c == q && next == Some(q) && chars.get(i + 2) == Some(&q) {
                        code.push(q);
                        code.push(q);
                        state = State::Code;
                        i += 3;
                    } else {
                        i += 1;
                    }
                    continue;
                }
                State::Quote(q) => {
                    code.push(c);
                    if c == '\\' {
                        if let Some(n) = next {
                            code.push(n);
                        }
                        i += 2;
                        continue;
                    }
                    if c == q {
                        state = State::Code;
                    }
                    i += 1;
                    continue;
                }
                State::Template => {
                    code.push(c);
                    if c == '\\' {
                        if let Some(n) = next {
                            code.push(n);
                        }
                        i += 2;
                        continue;
                    }
                    if c == '`' {
                        state = State::Code;
                    }
                    i += 1;
                    continue;
                }
                State::Code => {}
            }
            if python && (c == '"' || c == '\'') && next == Some(c) && chars.get(i + 2) == Some(&c)
            {
                let statement = code.trim().is_empty()
                    || code.trim_end().ends_with(['r', 'R', 'u', 'U']) && code.trim().len() == 1;
                if statement {
                    state = State::Docstring(c);
                } else {
                    code.push_str(&c.to_string().repeat(3));
                    state = State::Triple(c);
                }
                i += 3;
                continue;
            }
            match style {
                Comments::Hash if c == '#' && (i == 0 || chars[i - 1].is_whitespace()) => break,
                Comments::Slash if c == '/' && next == Some('/') => break,
                Comments::Slash if c == '/' && next == Some('*') => {
                    state = State::Block;
                    i += 2;
                    continue;
                }
                Comments::Markup if at("<!--") => {
                    state = State::Markup;
                    i += 4;
                    continue;
                }
                _ => {}
            }
            code.push(c);
            match c {
                '"' | '\'' if style != Comments::Markup || c == '"' => state = State::Quote(c),
                '`' if style == Comments::Slash => state = State::Template,
                _ => {}
            }
            i += 1;
        }
        out.push(code);
    }
    out
}

/// Whether `line` names the legacy prefix other than as the tail of the api path.
fn names_legacy(line: &str, legacy_prefix: &str, api_prefix: &str) -> bool {
    let api_head = api_prefix.strip_suffix(legacy_prefix);
    line.match_indices(legacy_prefix)
        .any(|(at, _)| match api_head {
            Some(head) => !line[..at].ends_with(head),
            None => true,
        })
}

/// Patterns that tell an implementer from a reader.
struct Patterns {
    /// A route that serves a path: FastAPI/Flask decorators, Express/Fastify
    /// routes, Go's `HandleFunc`, gin, actix/rocket attributes, axum's `.route(`.
    route: Regex,
    /// The opening of a route whose path is on the next line.
    route_open: Regex,
    /// A test that calls the application in-process.
    test_client: Regex,
    /// An OpenAPI or Swagger document.
    openapi: Regex,
    /// A request that leaves the process (an end-to-end test reading the edge).
    outbound: Regex,
}

impl Patterns {
    fn new() -> Patterns {
        let build = |p: &str| Regex::new(p).expect("built-in pattern");
        Patterns {
            route: build(
                r#"(^\s*@\w+(\.\w+)*\.(get|post|put|patch|delete|head|options|api_route|route|websocket)\s*\()|(\badd_(api_)?route\s*\()|(\badd_url_rule\s*\()|(\b(app|router|server|fastify|routes|blueprint|bp)\.(get|post|put|patch|delete|head|options|all|route)\s*\(\s*['"`])|(\.(HandleFunc|Handle)\s*\()|(\b\w+\.(GET|POST|PUT|PATCH|DELETE|Any)\s*\(\s*")|(#\[(get|post|put|patch|delete|route)\s*\()|(\.route\s*\(\s*")"#,
            ),
            route_open: build(
                r#"(^\s*@\w+(\.\w+)*\.(get|post|put|patch|delete|head|options|api_route|route)\s*\(\s*$)|(\badd_(api_)?route\s*\(\s*$)"#,
            ),
            test_client: build(
                r"\b(TestClient|AsyncClient|test_client|httptest|supertest|request\(app\)|client\.(get|post|put|patch|delete|head|options)\s*\()",
            ),
            openapi: build(r#"(?m)^[\s{]*"?(openapi|swagger)"?\s*:"#),
            outbound: build(
                r"(https?://|\brequests\.|\bhttpx\.(get|post|request|stream)|\burlopen\(|\bcurl\b|\bwget\b|\bfetch\(|\baxios\b)",
            ),
        }
    }
}

/// Whether a path names a test.
fn is_test(path: &Path) -> bool {
    let name = file_name(path);
    let in_tests = path.components().any(|c| {
        matches!(
            c.as_os_str()
                .to_str()
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("tests" | "test" | "__tests__" | "spec" | "specs" | "e2e")
        )
    });
    in_tests
        || name.starts_with("test_")
        || name == "conftest.py"
        || name.contains("_test.")
        || name.contains(".test.")
        || name.contains(".spec.")
}

/// Whether a file is nginx configuration: `.nginx`, or a `.conf`-like file (`.conf`,
/// `.template`, `.inc`, no extension) named for nginx, in an nginx directory, or
/// written in nginx's directives.
fn is_nginx(path: &Path, text: &str) -> bool {
    let ext = extension(path);
    let in_nginx_dir = path.components().any(|c| {
        let part = c.as_os_str().to_string_lossy().to_ascii_lowercase();
        part.contains("nginx") || part.starts_with("sites-") || part == "conf.d"
    });
    let conf_like = matches!(ext.as_str(), "conf" | "template" | "inc" | "");
    let nginx_words = ["location ", "proxy_pass ", "server_name ", "try_files "]
        .iter()
        .any(|w| text.contains(w));
    ext == "nginx"
        || (conf_like
            && (file_name(path).contains("nginx")
                || in_nginx_dir
                || (!ext.is_empty() && nginx_words)))
}

/// A language family, so a backend test goes with backend routes.
fn family(path: &Path) -> &'static str {
    match extension(path).as_str() {
        "py" | "pyi" => "python",
        "js" | "mjs" | "cjs" | "ts" | "mts" | "cts" | "tsx" | "jsx" => "javascript",
        "go" => "go",
        "rs" => "rust",
        "rb" => "ruby",
        "java" | "kt" => "jvm",
        "php" => "php",
        _ => "other",
    }
}

/// What kind of reader a file is, from where it lives.
fn reader_kind(path: &Path) -> &'static str {
    let text = path.to_string_lossy().to_ascii_lowercase();
    let ext = extension(path);
    if text.contains(".github/workflows/")
        || text.contains(".gitlab-ci")
        || text.contains(".circleci/")
        || text.contains("azure-pipelines")
        || file_name(path) == "jenkinsfile"
    {
        "ci_workflow"
    } else if [
        "monitor",
        "grafana",
        "prometheus",
        "alert",
        "uptime",
        "dashboard",
        "blackbox",
    ]
    .iter()
    .any(|m| text.contains(m))
    {
        "monitor"
    } else if matches!(ext.as_str(), "sh" | "bash" | "zsh" | "ps1" | "psm1")
        || text.starts_with("scripts/")
        || text.contains("/scripts/")
    {
        "script"
    } else if matches!(
        ext.as_str(),
        "js" | "mjs" | "cjs" | "ts" | "tsx" | "jsx" | "vue" | "svelte" | "html" | "htm"
    ) {
        "frontend"
    } else {
        "code"
    }
}

fn is_prose(path: &Path) -> bool {
    let name = file_name(path);
    PROSE_EXTENSIONS.contains(&extension(path).as_str())
        || PROSE_NAMES
            .iter()
            .any(|p| name == *p || name.starts_with(&format!("{p}.")))
}

/// The files under `root` that are searched, in path order: what ripgrep would
/// search (ignore files respected), minus prose and files over [`LARGEST_FILE`].
fn files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !root.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "not a directory",
        ));
    }
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .max_filesize(Some(LARGEST_FILE))
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = entry.map_err(|err| std::io::Error::other(err.to_string()))?;
        if entry.file_type().is_some_and(|t| t.is_file()) && !is_prose(entry.path()) {
            if files.len() >= MOST_FILES {
                return Err(std::io::Error::other(format!(
                    "more than {MOST_FILES} files: give --repo the directory of the project"
                )));
            }
            files.push(entry.into_path());
        }
    }
    files.sort();
    Ok(files)
}

/// A file found by the walk, read with the walk's size cap (day2-core's capped
/// reader): a file that grew past it since the walk, or one whose size says nothing
/// (a `/proc`-like file), is an error, not an endless read. Unreadable is an error
/// too: a reader could hide there.
fn read_source(path: &Path) -> std::io::Result<Vec<u8>> {
    day2_core::input::read_file(path, "file", LARGEST_FILE).map_err(std::io::Error::other)
}

/// Every line under `root` that names the legacy path in code, told apart into
/// readers and implementers, in path order. An unreadable directory is an error: a
/// reader could hide there.
pub fn find_readers(
    root: &Path,
    legacy_prefix: &str,
    api_prefix: &str,
) -> std::io::Result<Vec<Reader>> {
    let patterns = Patterns::new();
    let redactor = tunnel_check::redact::Redactor::default();
    redactor.learn_env(&tunnel_check::TOKEN_ENV);
    let mut found: Vec<(Reader, bool)> = Vec::new();
    let mut route_families: Vec<&'static str> = Vec::new();
    for path in files(root)? {
        let bytes = read_source(&path)?;
        if bytes[..bytes.len().min(BINARY_PEEK)].contains(&0) {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        if !text.contains(legacy_prefix) {
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let style = comments(&relative, &text);
        let python = family(&relative) == "python";
        let code = code_lines(&text, style, python);
        let head: String = text.chars().take(4096).collect();
        let openapi = matches!(extension(&relative).as_str(), "json" | "yaml" | "yml")
            && patterns.openapi.is_match(&head);
        let nginx = is_nginx(&relative, &text);
        let test = is_test(&relative);
        let test_client = test && patterns.test_client.is_match(&text);
        let raw: Vec<&str> = text.lines().collect();
        let mut previous_code = "";
        for (index, line) in code.iter().enumerate() {
            if !names_legacy(line, legacy_prefix, api_prefix) {
                if !line.trim().is_empty() {
                    previous_code = line;
                }
                continue;
            }
            let route =
                patterns.route.is_match(line) || patterns.route_open.is_match(previous_code);
            let (role, kind) = if openapi {
                (Role::Implementer, "openapi")
            } else if nginx {
                (Role::Implementer, "nginx_config")
            } else if route {
                (Role::Implementer, "backend_route")
            } else if test_client && !patterns.outbound.is_match(line) {
                (Role::Implementer, "backend_test")
            } else {
                (Role::Reader, reader_kind(&relative))
            };
            if route && !route_families.contains(&family(&relative)) {
                route_families.push(family(&relative));
            }
            // The previous line goes through the redactor first: it may end in
            // `--token`, whose value is on this line.
            let mut lines = redactor.line_redactor();
            if index > 0 {
                lines.redact(raw[index - 1]);
            }
            let shown = lines.redact(raw[index].trim()).into_owned();
            let shown: String = shown.chars().take(SHOWN_CHARS).collect();
            found.push((
                Reader {
                    path: relative.clone(),
                    line: index + 1,
                    text: shown,
                    role,
                    kind,
                },
                test && !patterns.outbound.is_match(line),
            ));
            previous_code = line;
        }
    }
    // A test in the language of a backend route tests the backend.
    for (reader, test) in &mut found {
        if *test
            && reader.role == Role::Reader
            && route_families.contains(&family(&reader.path))
            && family(&reader.path) != "other"
        {
            reader.role = Role::Implementer;
            reader.kind = "backend_test";
        }
    }
    Ok(found.into_iter().map(|(r, _)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, name: &str, text: &str) {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn roles(root: &Path) -> Vec<(String, usize, Role, &'static str)> {
        find_readers(root, "/status/", "/api/status/")
            .unwrap()
            .into_iter()
            .map(|r| (r.path.display().to_string(), r.line, r.role, r.kind))
            .collect()
    }

    /// The walk skips files over its cap by their size; what is read is capped too.
    #[test]
    fn a_file_read_by_the_walk_is_capped() {
        let err = read_source(Path::new("/dev/zero")).unwrap_err().to_string();
        assert_eq!(err, "cannot read file /dev/zero: larger than 2 MiB");
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "app.py", "x = '/status/summary'\n");
        assert_eq!(
            read_source(&dir.path().join("app.py")).unwrap(),
            b"x = '/status/summary'\n"
        );
        let err = read_source(&dir.path().join("absent.py"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot read file "), "{err}");
    }

    #[test]
    fn the_api_path_is_not_the_legacy_path() {
        assert!(!names_legacy(
            "fetch('/api/status/summary')",
            "/status/",
            "/api/status/"
        ));
        assert!(names_legacy(
            "fetch('/status/summary')",
            "/status/",
            "/api/status/"
        ));
        assert!(names_legacy(
            "a('/api/status/x') || b('/status/summary')",
            "/status/",
            "/api/status/"
        ));
    }

    #[test]
    fn nginx_configuration_is_told_by_name_place_and_directives() {
        let directives = "location /status/ { proxy_pass http://b; }\n";
        assert!(is_nginx(Path::new("deploy/nginx.conf"), ""));
        assert!(is_nginx(
            Path::new("nginx/templates/default.conf.template"),
            ""
        ));
        assert!(is_nginx(Path::new("etc/sites-enabled/app"), ""));
        assert!(is_nginx(Path::new("legacy/summary.conf"), directives));
        assert!(!is_nginx(
            Path::new("xtask/tests/cutover_nginx.rs"),
            directives
        ));
        assert!(!is_nginx(
            Path::new("supervisor/app.conf"),
            "[program:app]\n"
        ));
    }

    #[test]
    fn comments_are_blanked_and_strings_kept() {
        let js = code_lines(
            "// fetch('/status/summary')\nconst u = 'http://h/status/summary'; // old\n/* a\n/status/ */ x\n`a\n/status/b`\n",
            Comments::Slash,
            false,
        );
        assert_eq!(js[0], "");
        assert_eq!(js[1], "const u = 'http://h/status/summary'; ");
        assert_eq!(js[3], " x");
        assert_eq!(js[5], "/status/b`");
        let sh = code_lines(
            "# curl /status/summary\ncurl \"$U/status/summary\" # note\nurl=http://x/#/status/\n",
            Comments::Hash,
            false,
        );
        assert_eq!(sh[0], "");
        assert_eq!(sh[1], "curl \"$U/status/summary\" ");
        assert_eq!(
            sh[2], "url=http://x/#/status/",
            "# inside a word is no comment"
        );
        let py = code_lines(
            "def f():\n    \"\"\"Replaces /status/summary.\n    /status/ too\"\"\"\n    s = \"\"\"/status/x\"\"\"\n",
            Comments::Hash,
            true,
        );
        assert_eq!(py[1].trim(), "");
        assert_eq!(py[2].trim(), "");
        assert!(py[3].contains("/status/x"));
        let html = code_lines(
            "<!-- <a href=\"/status/\"> -->\n<a href=/status/x>\n",
            Comments::Markup,
            false,
        );
        assert_eq!(html[0], "");
        assert!(html[1].contains("/status/x"));
    }

    #[test]
    fn readers_and_implementers_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "backend/app/routes.py",
            "from fastapi import APIRouter\nrouter = APIRouter()\n\n@router.get(\"/status/summary\")\ndef summary():\n    \"\"\"Also /status/summary.\"\"\"\n    return {}\n\n@router.get(\n    \"/status/llm\",\n)\ndef llm():\n    return {}\n",
        );
        write(
            root,
            "backend/tests/test_status.py",
            "def test_summary(client):\n    assert client.get(\"/status/summary\").status_code == 200\n",
        );
        write(
            root,
            "nginx/conf.d/app.conf",
            "location /api/status/ {\n    rewrite ^/api/status/(.*)$ /status/$1 break;\n    proxy_pass http://backend/status/;\n}\n",
        );
        write(
            root,
            "docs/openapi.json",
            "{\"openapi\": \"3.1.0\", \"paths\": {\"/status/summary\": {}}}\n",
        );
        write(
            root,
            "web/src/status.ts",
            "// was '/status/summary'\nexport const url = '/status/summary';\n",
        );
        write(
            root,
            ".github/workflows/ci.yml",
            "jobs:\n  s:\n    steps:\n      - run: curl -f \"$EDGE/status/summary\" # legacy\n",
        );
        write(
            root,
            "scripts/check.sh",
            "#!/bin/sh\n# /status/summary\ncurl http://127.0.0.1/status/summary\n",
        );
        write(
            root,
            "monitoring/blackbox.yml",
            "targets: [\"https://x/status/summary\"]\n",
        );
        write(
            root,
            "tests/e2e/test_edge.py",
            "import requests\n\ndef test_edge():\n    requests.get(EDGE + \"/status/summary\")\n",
        );
        write(root, "CHANGELOG.md", "- removed /status/summary\n");
        write(root, "node_modules/x/i.js", "'/status/summary'\n");
        write(root, ".gitignore", "node_modules/\n");
        let found = roles(root);
        let expect = [
            (".github/workflows/ci.yml", 4, Role::Reader, "ci_workflow"),
            (
                "backend/app/routes.py",
                4,
                Role::Implementer,
                "backend_route",
            ),
            (
                "backend/app/routes.py",
                10,
                Role::Implementer,
                "backend_route",
            ),
            (
                "backend/tests/test_status.py",
                2,
                Role::Implementer,
                "backend_test",
            ),
            ("docs/openapi.json", 1, Role::Implementer, "openapi"),
            ("monitoring/blackbox.yml", 1, Role::Reader, "monitor"),
            (
                "nginx/conf.d/app.conf",
                2,
                Role::Implementer,
                "nginx_config",
            ),
            (
                "nginx/conf.d/app.conf",
                3,
                Role::Implementer,
                "nginx_config",
            ),
            ("scripts/check.sh", 3, Role::Reader, "script"),
            ("tests/e2e/test_edge.py", 4, Role::Reader, "code"),
            ("web/src/status.ts", 2, Role::Reader, "frontend"),
        ];
        let found: Vec<(&str, usize, Role, &str)> = found
            .iter()
            .map(|(p, l, r, k)| (p.as_str(), *l, *r, *k))
            .collect();
        assert_eq!(found, expect);
    }

    #[test]
    fn quoted_lines_are_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let token = format!("eyJ{}", "a".repeat(60));
        write(
            dir.path(),
            "scripts/probe.sh",
            &format!("curl -H 'Authorization: Bearer {token}' https://x/status/summary\nTUNNEL_TOKEN=abcdefghijklmnopqrstu curl https://x/status/summary\n"),
        );
        let found = find_readers(dir.path(), "/status/", "/api/status/").unwrap();
        assert_eq!(found.len(), 2);
        for reader in &found {
            assert!(!reader.text.contains(&token), "{}", reader.text);
            assert!(
                !reader.text.contains("abcdefghijklmnopqrstu"),
                "{}",
                reader.text
            );
            assert!(reader.text.contains("REDACTED"), "{}", reader.text);
        }
    }
}
