//! Token hygiene in the rendered compose config (`docker compose config`, YAML or
//! JSON, on stdin; or compose run here for `-f` files): is the token rendered at
//! all (the guide's "host env wasn't exported"), does it have a token's shape, is
//! it on the command line (visible in `ps`), and is the tunnel on nginx's network
//! and started after it. Every token found is learnt by the redactor before any
//! record is written.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use day2_core::bounded::{self, DAY};
use day2_core::process::{self, Bounded};
use day2_core::{Exit, Io, Problem, Record, RecordSink};
use serde_json::{json, Map, Value};

use crate::redact::{Redactor, Secret};
use crate::{token, yaml, TOOL};

#[derive(Debug, Clone, clap::Args)]
pub struct ComposeArgs {
    /// Compose files to render with `docker compose config` (falling back to
    /// `docker-compose config`); without any, the rendered config is read from stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The cloudflared service (else the first service whose image is cloudflared).
    #[arg(long, value_name = "NAME", default_value = "cloudflared")]
    pub service: String,

    /// The edge (nginx) service the tunnel must reach. By default it is found:
    /// the service cloudflared's ingress points at (`--url`, TUNNEL_URL, or the
    /// config.yml mounted into it), else one running an nginx image, else one
    /// named `nginx`.
    #[arg(long, value_name = "NAME")]
    pub nginx_service: Option<String>,

    /// Deadline for running compose.
    #[arg(long, value_parser = bounded::duration(Duration::from_millis(1), DAY), default_value = "30s")]
    pub timeout: Duration,
}

/// The cap of each compose input read whole (stdin, a `-f` file, the `.env`):
/// 16 MiB, far above any real compose project.
pub const COMPOSE_LIMIT: u64 = day2_core::input::DEFAULT_LIMIT;

/// The `-f` files and the project's `.env`, read here as streams up to
/// [`COMPOSE_LIMIT`] before compose runs: `/dev/zero` is a usage error, and a FIFO
/// (`<(…)`), read once, is handed to compose on its stdin (`-f -`).
struct Inputs {
    files: Vec<Input>,
    env_file: Option<(PathBuf, String)>,
}

struct Input {
    path: PathBuf,
    text: String,
    /// A regular file compose can open itself; otherwise its text goes on stdin.
    regular: bool,
}

impl Inputs {
    /// Reads every `-f` file and the project's `.env`. Errors: `unreadable_input`,
    /// `usage` (more than one file on stdin).
    fn read(paths: &[PathBuf]) -> Result<Inputs, Problem> {
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
            let text = day2_core::input::read_text(path, "compose file", COMPOSE_LIMIT)?;
            files.push(Input {
                path: path.clone(),
                text,
                regular,
            });
        }
        if files.iter().filter(|f| !f.regular).count() > 1 {
            return Err(Problem::new(
                "usage",
                "more than one -f is a pipe or FIFO: compose reads only one from stdin",
            ));
        }
        // compose reads `.env` from the project directory (the first file's).
        let env_path = paths
            .first()
            .and_then(|f| f.parent())
            .map(|d| d.join(".env"));
        let env_file = match env_path {
            Some(path) if path.exists() && !path.is_dir() => {
                // Only searched for the token: bytes that are not UTF-8 do not matter.
                let bytes = day2_core::input::read_file(&path, "env file", COMPOSE_LIMIT)?;
                Some((path, String::from_utf8_lossy(&bytes).into_owned()))
            }
            _ => None,
        };
        Ok(Inputs { files, env_file })
    }
}

/// What running compose produced.
enum Rendered {
    Config(String, Vec<String>),
    /// Compose refused to render because a required variable (`${VAR:?…}`) is unset.
    MissingVariable(String),
}

/// Runs one compose program; `Ok(None)` when the program is not there at all.
/// Errors: `run_bounded`'s (the program hung, or could not be started).
fn run_compose(
    program: &str,
    pre: &[&str],
    args: &ComposeArgs,
    inputs: &Inputs,
) -> Result<Option<(bool, String, String)>, Problem> {
    let mut command = Command::new(program);
    command.args(pre);
    let mut piped = None;
    for file in &inputs.files {
        if file.regular {
            command.arg("-f").arg(&file.path);
        } else {
            command.arg("-f").arg("-");
            piped = Some(file.text.clone());
        }
    }
    if piped.is_some() {
        // `-f -` puts the project directory at the working directory: keep it the file's.
        if let Some(dir) = inputs.files.first().and_then(|f| f.path.parent()) {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            command.arg("--project-directory").arg(dir);
        }
        // compose v1 reads `.env` from the working directory then: name the project's.
        if let Some((path, _)) = &inputs.env_file {
            if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
                command.arg("--env-file").arg(path);
            }
        }
    }
    command.arg("config");
    // compose may not read all of `-f -` before it fails: run_bounded feeds stdin
    // on a thread while both pipes are drained.
    let input = match piped {
        Some(text) => process::Input::Bytes(text.into_bytes()),
        None => process::Input::Null,
    };
    match Bounded::new(args.timeout).input(input).run(&mut command) {
        Ok(done) => Ok(Some((
            done.status.success(),
            done.stdout_text(),
            done.stderr_text(),
        ))),
        Err(problem) if problem.reason() == process::PROGRAM_NOT_FOUND => Ok(None),
        Err(problem) => Err(problem),
    }
}

/// The variable a "required variable is missing" error names, in compose v1's and
/// v2's wording.
fn missing_variable(stderr: &str) -> Option<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    if let Some(pos) = stderr.find("required variable ") {
        return Some(ident(&stderr[pos + "required variable ".len()..]));
    }
    if stderr.contains("Missing mandatory value") {
        let pos = stderr.find("${")?;
        return Some(ident(&stderr[pos + 2..]));
    }
    None
}

/// Names of variables compose v1 warned were unset ("The X variable is not set").
fn unset_variables(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|line| {
            let rest = line.split("The ").nth(1)?;
            let name = rest.strip_suffix(" variable is not set. Defaulting to a blank string.")?;
            Some(name.trim().to_owned())
        })
        .collect()
}

/// The config compose renders. Errors: `tool_unavailable` (no compose program),
/// `compose_failed` (compose refused, its first stderr line quoted), and
/// [`run_compose`]'s.
fn render(args: &ComposeArgs, inputs: &Inputs) -> Result<Rendered, Problem> {
    let attempts: [(&str, &[&str]); 2] = [("docker", &["compose"]), ("docker-compose", &[])];
    for (program, pre) in attempts {
        let Some((ok, stdout, stderr)) = run_compose(program, pre, args, inputs)? else {
            continue;
        };
        if ok {
            return Ok(Rendered::Config(stdout, unset_variables(&stderr)));
        }
        if let Some(variable) = missing_variable(&stderr) {
            return Ok(Rendered::MissingVariable(variable));
        }
        // Docker 20.10 without the compose plugin: try the v1 program.
        if stderr.contains("is not a docker command")
            || stderr.contains("unknown command")
            || stderr.contains("unknown shorthand flag")
        {
            continue;
        }
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("failed")
            .trim();
        return Err(Problem::new(
            "compose_failed",
            format!(
                "{program}{} config failed: {first}",
                if pre.is_empty() { "" } else { " compose" }
            ),
        ));
    }
    Err(Problem::new(
        "tool_unavailable",
        "neither `docker compose` nor `docker-compose` could be run",
    ))
}

/// Runs the compose checks.
pub fn run(args: &ComposeArgs, io: &mut Io<'_>, redactor: &Redactor) -> Exit {
    let inputs = match Inputs::read(&args.files) {
        Ok(inputs) => inputs,
        Err(err) => {
            io.error(TOOL, format!("compose: {err}"));
            return Exit::Usage;
        }
    };
    let (text, unset, target) = if args.files.is_empty() {
        let text = match day2_core::input::read_capped(io.stdin, "stdin", COMPOSE_LIMIT)
            .and_then(|bytes| day2_core::input::utf8(bytes, "stdin"))
        {
            Ok(text) => text,
            Err(err) => {
                io.error(TOOL, format!("compose: {err}"));
                return Exit::Usage;
            }
        };
        (text, Vec::new(), "stdin".to_owned())
    } else {
        let target = args
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(",");
        match render(args, &inputs) {
            Ok(Rendered::Config(text, unset)) => (text, unset, target),
            Ok(Rendered::MissingVariable(variable)) => {
                let mut sink = RecordSink::new(TOOL, io.stdout);
                let record = Record::fail("compose.token", &format!("{target}#{}", args.service), "token_missing")
                    .message(format!(
                        "compose refuses to render: {variable} is not set in the environment it ran in \
                         (export it in this shell; after `setx`, open a new shell)"
                    ))
                    .data(json!({"variable": variable}));
                let _ = sink.emit(record);
                return sink.exit();
            }
            Err(message) => {
                io.error(TOOL, format!("compose: {message}"));
                return Exit::Usage;
            }
        }
    };
    if text.trim().is_empty() {
        io.error(
            TOOL,
            format!("compose: {target}: no compose config (empty input)"),
        );
        return Exit::Usage;
    }
    let doc: Value = match yaml::parse(&text) {
        Ok(doc) => doc,
        Err(err) => {
            io.error(TOOL, format!("compose: {target}: {err}"));
            return Exit::Usage;
        }
    };
    let Some(services) = doc.get("services").and_then(Value::as_object) else {
        io.error(
            TOOL,
            format!("compose: {target}: no `services:` mapping; is this a compose config?"),
        );
        return Exit::Usage;
    };
    let origin = if args.files.is_empty() {
        Origin::Stdin(text.clone())
    } else {
        Origin::Files(inputs)
    };
    let records = check_services(services, args, &target, &unset, &origin, redactor);
    let mut sink = RecordSink::new(TOOL, io.stdout);
    for record in records {
        if sink.emit(record).is_err() {
            break;
        }
    }
    sink.exit()
}

/// A value that compose may render as a string or a list of strings, as words.
fn words(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s
            .split_whitespace()
            .map(|w| w.trim_matches(['"', '\'']).to_owned())
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The service's environment as name → value (`None` for a name without value).
fn environment(service: &Value) -> Vec<(String, Option<String>)> {
    match service.get("environment") {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                };
                (k.clone(), value)
            })
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|item| match item.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (item.to_owned(), None),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Where the token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Argv,
    Environment,
}

impl Place {
    fn name(self) -> &'static str {
        match self {
            Place::Argv => "command_line",
            Place::Environment => "environment",
        }
    }
}

/// The token on the command line (`--token X`, `--token=X`; an empty string when
/// the flag has no value), else in `TUNNEL_TOKEN`.
fn find_token(argv: &[String], env: &[(String, Option<String>)]) -> Option<(Place, String)> {
    for (i, word) in argv.iter().enumerate() {
        if let Some(value) = word.strip_prefix("--token=") {
            return Some((Place::Argv, value.to_owned()));
        }
        if word == "--token" {
            let next = argv
                .get(i + 1)
                .filter(|n| !n.starts_with("--"))
                .cloned()
                .unwrap_or_default();
            return Some((Place::Argv, next));
        }
    }
    env.iter()
        .find(|(k, _)| k == "TUNNEL_TOKEN")
        .map(|(_, v)| (Place::Environment, v.clone().unwrap_or_default()))
}

/// A compose list written either as a map (long syntax) or as a list of names.
fn names(service: &Value, key: &str) -> Vec<String> {
    match service.get(key) {
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// A service without `networks` is on the project's default network.
fn networks(service: &Value) -> Vec<String> {
    if service.get("networks").is_none() {
        return vec!["default".to_owned()];
    }
    names(service, "networks")
}

fn depends_on(service: &Value) -> Vec<String> {
    names(service, "depends_on")
}

/// Where the compose config came from: what the token's origin is judged on.
enum Origin {
    /// The text read from stdin (as written, or rendered by compose).
    Stdin(String),
    /// The files given with `-f` (and the project's `.env`), rendered here.
    Files(Inputs),
}

fn check_services(
    services: &Map<String, Value>,
    args: &ComposeArgs,
    source: &str,
    unset: &[String],
    origin: &Origin,
    redactor: &Redactor,
) -> Vec<Record> {
    let found = services.get_key_value(&args.service).or_else(|| {
        services.iter().find(|(_, s)| {
            s.get("image")
                .and_then(Value::as_str)
                .is_some_and(|i| i.contains("cloudflared"))
        })
    });
    let Some((name, service)) = found else {
        return vec![Record::fail("compose.service", source, "service_not_found")
            .message(format!(
                "no service {:?} and no service running a cloudflared image",
                args.service
            ))
            .data(json!({"services": services.keys().collect::<Vec<_>>()}))];
    };
    let target = format!("{source}#{name}");
    let mut argv = words(service.get("entrypoint"));
    argv.extend(words(service.get("command")));
    let env = environment(service);
    let found_token = find_token(&argv, &env);
    if let Some((_, value)) = &found_token {
        redactor.learn(value);
    }
    let token_file = argv
        .iter()
        .any(|w| w == "--token-file" || w.starts_with("--token-file="))
        || env
            .iter()
            .any(|(k, v)| k == "TUNNEL_TOKEN_FILE" && v.as_deref().is_some_and(|v| !v.is_empty()));
    let project_dir = match origin {
        Origin::Files(inputs) => inputs
            .files
            .first()
            .and_then(|f| f.path.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        Origin::Stdin(_) => PathBuf::from("."),
    };
    // A config.yml at cloudflared's default path runs it in credentials mode too.
    let credentials = argv.iter().any(|w| {
        ["--config", "--credentials-file", "--cred-file"]
            .iter()
            .any(|f| w == f || w.starts_with(&format!("{f}=")))
    }) || DEFAULT_CONFIGS
        .iter()
        .any(|c| host_path(service, c, &project_dir).is_some());
    let mut records = vec![token_record(
        &target,
        found_token.as_ref(),
        token_file,
        credentials,
        unset,
    )];
    records.push(exposure_record(&target, found_token.as_ref()));
    records.push(committed_record(&target, found_token.as_ref(), origin));
    let edge = find_edge(services, name, service, &argv, &env, args, &project_dir);
    records.push(network_record(&target, services, service, edge.as_ref()));
    let deps = depends_on(service);
    let record = match &edge {
        None => Record::warn("compose.depends_on", &target, "no_depends_on_nginx")
            .message("no edge service found, so no dependency on it either"),
        Some(edge) if deps.contains(&edge.name) => Record::pass("compose.depends_on", &target),
        Some(edge) => {
            Record::warn("compose.depends_on", &target, "no_depends_on_nginx").message(format!(
                "the tunnel does not depend on {}: it may start and serve 502 before nginx is up",
                edge.name
            ))
        }
    };
    records.push(
        record.data(json!({"depends_on": deps, "edge_service": edge.as_ref().map(|e| &e.name)})),
    );
    records
}

/// The service the tunnel must reach, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    name: String,
    /// `flag`, `ingress` (cloudflared's origin), `image` (runs nginx), `name`.
    found_by: &'static str,
    /// The origin URL that points at it, when found by the ingress.
    origin: Option<String>,
}

/// Whether an image is nginx: the repository's last component starts with
/// `nginx` (`nginx:alpine`, `nginxinc/nginx-unprivileged`, `bitnami/nginx`).
fn is_nginx_image(image: &str) -> bool {
    let without_tag = image.split('@').next().unwrap_or(image);
    let repository = match without_tag.rfind(':') {
        Some(colon) if !without_tag[colon..].contains('/') => &without_tag[..colon],
        _ => without_tag,
    };
    repository
        .rsplit('/')
        .next()
        .is_some_and(|last| last.starts_with("nginx"))
}

/// The names a service answers to on its networks: its key, its
/// `container_name`, its network aliases.
fn service_names(name: &str, service: &Value) -> Vec<String> {
    let mut names = vec![name.to_owned()];
    if let Some(container) = service.get("container_name").and_then(Value::as_str) {
        names.push(container.to_owned());
    }
    if let Some(Value::Object(networks)) = service.get("networks") {
        for network in networks.values() {
            if let Some(Value::Array(aliases)) = network.get("aliases") {
                names.extend(aliases.iter().filter_map(Value::as_str).map(str::to_owned));
            }
        }
    }
    names
}

/// The value of `--flag X` or `--flag=X` in an argv.
fn flag_value(argv: &[String], flag: &str) -> Option<String> {
    let with_eq = format!("{flag}=");
    argv.iter().enumerate().find_map(|(i, w)| {
        if let Some(v) = w.strip_prefix(&with_eq) {
            Some(v.to_owned())
        } else if w == flag {
            argv.get(i + 1).cloned()
        } else {
            None
        }
    })
}

/// The host directory a container path of the service comes from (its bind
/// mounts, short `src:dst[:mode]` or long syntax); relative sources are taken
/// from the project directory.
fn host_path(service: &Value, container_path: &str, project_dir: &Path) -> Option<PathBuf> {
    let Some(Value::Array(volumes)) = service.get("volumes") else {
        return None;
    };
    for volume in volumes {
        let (source, target) = match volume {
            Value::String(short) => {
                let mut parts = short.splitn(3, ':');
                let source = parts.next()?;
                let Some(target) = parts.next() else {
                    continue;
                };
                (source.to_owned(), target.to_owned())
            }
            Value::Object(long) => (
                long.get("source")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                long.get("target")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            ),
            _ => continue,
        };
        if source.is_empty() || !(source.starts_with('.') || source.starts_with('/')) {
            continue; // a named volume: not on this disk as a path
        }
        let rest = if container_path == target {
            ""
        } else if let Some(rest) =
            container_path.strip_prefix(&format!("{}/", target.trim_end_matches('/')))
        {
            rest
        } else {
            continue;
        };
        let source = Path::new(&source);
        let base = if source.is_absolute() {
            source.to_path_buf()
        } else {
            project_dir.join(source)
        };
        return Some(if rest.is_empty() {
            base
        } else {
            base.join(rest)
        });
    }
    None
}

/// Where cloudflared looks for its config without `--config`, in the official
/// image (`config/configuration.go` DefaultConfigSearchDirectories; the image's
/// user is `nonroot`).
const DEFAULT_CONFIGS: [&str; 3] = [
    "/home/nonroot/.cloudflared/config.yml",
    "/etc/cloudflared/config.yml",
    "/usr/local/etc/cloudflared/config.yml",
];

/// The origin services of cloudflared's ingress as the compose file sets it:
/// `--url`, TUNNEL_URL, or the rules of the config.yml mounted into it
/// (`--config`, else cloudflared's default `/etc/cloudflared/config.yml` and
/// `~/.cloudflared/config.yml` of the image's `nonroot` user).
fn ingress_origins(
    service: &Value,
    argv: &[String],
    env: &[(String, Option<String>)],
    project_dir: &Path,
) -> Vec<String> {
    if let Some(url) = flag_value(argv, "--url").or_else(|| {
        env.iter()
            .find(|(k, _)| k == "TUNNEL_URL")
            .and_then(|(_, v)| v.clone())
    }) {
        return vec![url];
    }
    let configs = match flag_value(argv, "--config") {
        Some(path) => vec![path],
        None => DEFAULT_CONFIGS.iter().map(|c| (*c).to_owned()).collect(),
    };
    for config in configs {
        let Some(path) = host_path(service, &config, project_dir) else {
            continue;
        };
        // Capped: a mounted `/dev/zero` is no config and ends the look here.
        let Ok(text) = day2_core::input::read_text(&path, "config", COMPOSE_LIMIT) else {
            continue;
        };
        let Ok(tree) = yaml::parse_tree(&text) else {
            continue;
        };
        let (config, _) = crate::config::schema::decode(&tree);
        return config.ingress.into_iter().map(|r| r.service).collect();
    }
    Vec::new()
}

/// Finds the edge service: `--nginx-service`, else the service cloudflared's
/// ingress points at, else one running nginx, else one named `nginx`.
fn find_edge(
    services: &Map<String, Value>,
    tunnel_name: &str,
    tunnel: &Value,
    argv: &[String],
    env: &[(String, Option<String>)],
    args: &ComposeArgs,
    project_dir: &Path,
) -> Option<Edge> {
    if let Some(name) = &args.nginx_service {
        return services.contains_key(name).then(|| Edge {
            name: name.clone(),
            found_by: "flag",
            origin: None,
        });
    }
    for origin in ingress_origins(tunnel, argv, env, project_dir) {
        let Ok(url) = crate::golang::url_parse(&origin) else {
            continue;
        };
        let host = url.hostname().to_owned();
        if let Some((name, _)) = services
            .iter()
            .filter(|(n, _)| n.as_str() != tunnel_name)
            .find(|(n, s)| service_names(n, s).contains(&host))
        {
            return Some(Edge {
                name: name.clone(),
                found_by: "ingress",
                origin: Some(origin),
            });
        }
    }
    let by_image = services.iter().find(|(_, s)| {
        s.get("image")
            .and_then(Value::as_str)
            .is_some_and(is_nginx_image)
    });
    if let Some((name, _)) = by_image {
        return Some(Edge {
            name: name.clone(),
            found_by: "image",
            origin: None,
        });
    }
    services.get_key_value("nginx").map(|(name, _)| Edge {
        name: name.clone(),
        found_by: "name",
        origin: None,
    })
}

/// Whether a compose text is a file as written rather than compose's rendering:
/// rendering turns `build: ./dir` into a mapping, `ports: ["80:80"]` into
/// mappings and relative bind sources into absolute paths (v1 and v2 alike).
fn looks_unrendered(services: &Map<String, Value>) -> bool {
    services.values().any(|s| {
        matches!(s.get("build"), Some(Value::String(_)))
            || matches!(s.get("ports"), Some(Value::Array(p)) if p.iter().any(Value::is_string))
            || matches!(s.get("volumes"), Some(Value::Array(v)) if v.iter().any(|v| v.as_str().is_some_and(|v| v.starts_with('.'))))
    })
}

/// The first line of `text` holding `needle` (1-based).
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

fn committed_record(target: &str, found: Option<&(Place, String)>, origin: &Origin) -> Record {
    let check = "compose.token_committed";
    let token = match found {
        Some((_, value)) if value.trim().len() >= 12 && !value.contains('$') => value.trim(),
        _ => return Record::pass(check, target).data(json!({"source": "none"})),
    };
    let committed = |file: &str, line: usize| {
        Record::fail(check, target, "token_in_compose_file")
            .message(format!(
                "the token is written in {file} (line {line}): it is committed with the repository, and whoever has a copy can run this tunnel; rotate it and pass it as ${{VARIABLE}} from the environment or an untracked .env, or mount it as a file (TUNNEL_TOKEN_FILE)"
            ))
            .data(json!({"source": "literal", "file": file, "line": line}))
    };
    match origin {
        Origin::Files(inputs) => {
            for file in &inputs.files {
                if let Some(line) = line_of(&file.text, token) {
                    return committed(&file.path.display().to_string(), line);
                }
            }
            let env_file = inputs
                .env_file
                .as_ref()
                .filter(|(_, text)| text.contains(token))
                .map(|(path, _)| path);
            match env_file {
                Some(path) => Record::warn(check, target, "token_in_env_file")
                    .message(format!(
                        "the token comes from {}: keep that file out of the repository (.gitignore) or use TUNNEL_TOKEN_FILE",
                        path.display()
                    ))
                    .data(json!({"source": "env_file", "file": path.display().to_string()})),
                None => Record::pass(check, target)
                    .message("the token is not written in the compose files; it comes from the environment")
                    .data(json!({"source": "environment"})),
            }
        }
        Origin::Stdin(text) => {
            let unrendered = yaml::parse::<Value>(text)
                .ok()
                .and_then(|doc| {
                    doc.get("services")
                        .and_then(Value::as_object)
                        .map(looks_unrendered)
                })
                .unwrap_or(false);
            match line_of(text, token) {
                Some(line) if unrendered => committed("the compose file on stdin", line),
                _ => Record::info(check, target, "token_source_unknown")
                    .message("a rendered config does not say whether the token was written in the file or came from a variable; give the files with -f to know")
                    .data(json!({"source": "unknown"})),
            }
        }
    }
}

fn token_record(
    target: &str,
    found: Option<&(Place, String)>,
    token_file: bool,
    credentials: bool,
    unset: &[String],
) -> Record {
    let check = "compose.token";
    let Some((place, value)) = found else {
        return if token_file {
            Record::pass(check, target)
                .message("the token comes from a file")
                .data(json!({"mode": "token_file"}))
        } else if credentials {
            Record::info(check, target, "credentials_mode")
                .message("no token; the tunnel runs from a config.yml and credentials file (check it with `tunnel-check config`)")
                .data(json!({"mode": "credentials_file"}))
        } else {
            Record::fail(check, target, "token_missing")
                .message("no token on the command line or in TUNNEL_TOKEN, no token file and no config: cloudflared cannot start")
                .data(json!({"mode": "none"}))
        };
    };
    let mut data = json!({"mode": "token", "place": place.name(), "unset_variables": unset});
    if value.trim().is_empty() {
        return Record::fail(check, target, "token_empty")
            .message("the token rendered empty: the variable was not exported in the shell compose ran in (after `setx`, open a new shell)")
            .data(data);
    }
    if value.contains("${") || value.starts_with('$') {
        return Record::fail(check, target, "token_not_rendered")
            .message("the token is still a ${VARIABLE}: give the rendered config (`docker compose config`), not the compose file")
            .data(data);
    }
    let shape = token::inspect(&Secret::new(value.clone()));
    data["shape"] = shape.to_json();
    match shape.problem {
        None => Record::pass(check, target).data(data),
        Some(problem) => Record::fail(check, target, "token_malformed")
            .message(format!(
                "the token is not a tunnel token ({}): base64 of JSON with a, t, s",
                problem.name()
            ))
            .data(data),
    }
}

fn exposure_record(target: &str, found: Option<&(Place, String)>) -> Record {
    let check = "compose.token_exposure";
    match found {
        Some((Place::Argv, value)) if !value.trim().is_empty() => Record::fail(check, target, "token_in_argv")
            .message("the token is on the command line: `ps` and `docker inspect` show it; use TUNNEL_TOKEN_FILE (or --token-file) with a mounted secret")
            .data(json!({"place": "command_line", "suggest": "TUNNEL_TOKEN_FILE"})),
        Some((Place::Environment, value)) if !value.trim().is_empty() => {
            Record::warn(check, target, "token_in_environment")
                .message("the token is in the environment: `docker compose config` and `docker inspect` print it; TUNNEL_TOKEN_FILE keeps it out of both")
                .data(json!({"place": "environment", "suggest": "TUNNEL_TOKEN_FILE"}))
        }
        _ => Record::pass(check, target).data(json!({"place": null})),
    }
}

fn network_record(
    target: &str,
    services: &Map<String, Value>,
    tunnel: &Value,
    edge: Option<&Edge>,
) -> Record {
    let check = "compose.network";
    let Some((edge, nginx)) = edge.and_then(|e| services.get(&e.name).map(|s| (e, s))) else {
        return Record::fail(check, target, "nginx_not_found").message(
            "no edge service: none that cloudflared's ingress points at, none running an nginx image, none named nginx (name it with --nginx-service)",
        );
    };
    let nginx_name = edge.name.as_str();
    let mode = tunnel.get("network_mode").and_then(Value::as_str);
    let nginx_mode = nginx.get("network_mode").and_then(Value::as_str);
    let tunnel_nets = networks(tunnel);
    let nginx_nets = networks(nginx);
    let shared: Vec<&String> = tunnel_nets
        .iter()
        .filter(|n| nginx_nets.contains(n))
        .collect();
    let data = json!({
        "edge_service": nginx_name,
        "edge_found_by": edge.found_by,
        "edge_origin": edge.origin,
        "tunnel_networks": tunnel_nets,
        "nginx_networks": nginx_nets,
        "shared": shared,
        "network_mode": mode,
    });
    let same_namespace = mode == Some(&format!("service:{nginx_name}"))
        || (mode == Some("host") && nginx_mode == Some("host"));
    let isolated = mode.is_some() || nginx_mode.is_some();
    if same_namespace || (!isolated && !shared.is_empty()) {
        Record::pass(check, target).data(data)
    } else {
        Record::fail(check, target, "network_not_shared")
            .message(format!("the tunnel and {nginx_name} share no network: http://{nginx_name}:80 will not resolve"))
            .data(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_errors_name_the_missing_variable() {
        let v1 = "ERROR: Missing mandatory value for \"command\" option interpolating tunnel run --token ${CLOUDFLARE_TUNNEL_TOKEN:?missing} in service \"cloudflared\": missing";
        assert_eq!(
            missing_variable(v1).as_deref(),
            Some("CLOUDFLARE_TUNNEL_TOKEN")
        );
        let v2 = "error while interpolating services.cloudflared.command: required variable CLOUDFLARE_TUNNEL_TOKEN is missing a value: missing";
        assert_eq!(
            missing_variable(v2).as_deref(),
            Some("CLOUDFLARE_TUNNEL_TOKEN")
        );
        assert_eq!(
            unset_variables("WARNING: The CLOUDFLARE_TUNNEL_TOKEN variable is not set. Defaulting to a blank string."),
            vec!["CLOUDFLARE_TUNNEL_TOKEN"]
        );
    }

    #[test]
    fn tokens_are_found_in_argv_and_env() {
        let argv: Vec<String> = ["tunnel", "run", "--token"].map(String::from).to_vec();
        assert_eq!(find_token(&argv, &[]), Some((Place::Argv, String::new())));
        let argv: Vec<String> = ["tunnel", "--token=abc", "run"].map(String::from).to_vec();
        assert_eq!(find_token(&argv, &[]), Some((Place::Argv, "abc".into())));
        let env = vec![("TUNNEL_TOKEN".to_owned(), None)];
        assert_eq!(
            find_token(&[], &env),
            Some((Place::Environment, String::new()))
        );
    }
}
