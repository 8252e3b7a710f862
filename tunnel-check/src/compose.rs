//! Token hygiene in the rendered compose config (`docker compose config`, YAML or
//! JSON, on stdin; or compose run here for `-f` files): is the token rendered at
//! all (the guide's "host env wasn't exported"), does it have a token's shape, is
//! it on the command line (visible in `ps`), and is the tunnel on nginx's network
//! and started after it. Every token found is learnt by the redactor before any
//! record is written.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use day2_core::duration::parse_duration;
use day2_core::{Exit, Io, Record, RecordSink};
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

    /// The nginx service the tunnel must reach.
    #[arg(long, value_name = "NAME", default_value = "nginx")]
    pub nginx_service: String,

    /// Deadline for running compose.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub timeout: Duration,
}

/// What running compose produced.
enum Rendered {
    Config(String, Vec<String>),
    /// Compose refused to render because a required variable (`${VAR:?…}`) is unset.
    MissingVariable(String),
}

/// Runs one compose program; `Ok(None)` when the program is not there at all.
fn run_compose(
    program: &str,
    pre: &[&str],
    args: &ComposeArgs,
) -> Result<Option<(bool, String, String)>, String> {
    let mut command = Command::new(program);
    command.args(pre);
    for file in &args.files {
        command.arg("-f").arg(file);
    }
    command
        .arg("config")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("cannot run {program}: {err}")),
    };
    // Both pipes are drained on threads so a chatty compose cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + args.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program} config did not finish within {:?}",
                    args.timeout
                ));
            }
            Err(e) => return Err(format!("cannot wait for {program}: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(Some((status.success(), stdout, stderr)))
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

fn render(args: &ComposeArgs) -> Result<Rendered, String> {
    let attempts: [(&str, &[&str]); 2] = [("docker", &["compose"]), ("docker-compose", &[])];
    let mut last_error = "neither `docker compose` nor `docker-compose` could be run".to_owned();
    for (program, pre) in attempts {
        let Some((ok, stdout, stderr)) = run_compose(program, pre, args)? else {
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
        last_error = format!(
            "{program}{} config failed: {first}",
            if pre.is_empty() { "" } else { " compose" }
        );
        return Err(last_error);
    }
    Err(last_error)
}

/// Runs the compose checks.
pub fn run(args: &ComposeArgs, io: &mut Io<'_>, redactor: &Redactor) -> Exit {
    let (text, unset, target) = if args.files.is_empty() {
        let mut text = String::new();
        if let Err(err) = io.stdin.read_to_string(&mut text) {
            io.error(TOOL, format!("compose: cannot read stdin: {err}"));
            return Exit::Usage;
        }
        (text, Vec::new(), "stdin".to_owned())
    } else {
        let target = args
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(",");
        match render(args) {
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
    let records = check_services(services, args, &target, &unset, redactor);
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

fn check_services(
    services: &Map<String, Value>,
    args: &ComposeArgs,
    source: &str,
    unset: &[String],
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
    let credentials = argv.iter().any(|w| {
        ["--config", "--credentials-file", "--cred-file"]
            .iter()
            .any(|f| w == f || w.starts_with(&format!("{f}=")))
    });
    let mut records = vec![token_record(
        &target,
        found_token.as_ref(),
        token_file,
        credentials,
        unset,
    )];
    records.push(exposure_record(&target, found_token.as_ref()));
    records.push(network_record(
        &target,
        services,
        service,
        &args.nginx_service,
    ));
    let deps = depends_on(service);
    records.push(if deps.contains(&args.nginx_service) {
        Record::pass("compose.depends_on", &target).data(json!({"depends_on": deps}))
    } else {
        Record::warn("compose.depends_on", &target, "no_depends_on_nginx")
            .message(format!(
                "the tunnel does not depend on {}: it may start and serve 502 before nginx is up",
                args.nginx_service
            ))
            .data(json!({"depends_on": deps}))
    });
    records
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
    nginx_name: &str,
) -> Record {
    let check = "compose.network";
    let Some(nginx) = services.get(nginx_name) else {
        return Record::fail(check, target, "nginx_not_found").message(format!(
            "no service {nginx_name:?}: the tunnel's origin is not in this config"
        ));
    };
    let mode = tunnel.get("network_mode").and_then(Value::as_str);
    let nginx_mode = nginx.get("network_mode").and_then(Value::as_str);
    let tunnel_nets = networks(tunnel);
    let nginx_nets = networks(nginx);
    let shared: Vec<&String> = tunnel_nets
        .iter()
        .filter(|n| nginx_nets.contains(n))
        .collect();
    let data = json!({
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
