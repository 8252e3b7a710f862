//! A credentials-file `config.yml` and the credentials JSON it names: tunnel id,
//! credentials (present, well-formed, matching, not world-readable — the secret is
//! learnt by the redactor before anything is written), and the ingress rules
//! (catch-all last, nothing after it, hostnames, services, duplicates).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use day2_core::{Exit, Io, Record, RecordSink};
use serde::Deserialize;
use serde_json::{json, Value};
use serde_saphyr::Spanned;

use crate::redact::Redactor;
use crate::syntax::{is_uuid, is_valid_hostname, service_problem};
use crate::{yaml, TOKEN_ENV, TOOL};

#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// The cloudflared config.yml.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The credentials JSON on this machine, when `credentials-file` names a path
    /// inside the container. By default the path as written is tried, then a file
    /// of the same name beside config.yml.
    #[arg(long, value_name = "PATH")]
    pub credentials: Option<PathBuf>,

    /// The tunnel runs in token mode (also assumed when TUNNEL_TOKEN or
    /// CLOUDFLARE_TUNNEL_TOKEN is set): the dashboard owns the ingress rules.
    /// A token's value only turns this on; it is never shown.
    // The default is the empty value (not SetTrue's "false", which is non-empty).
    #[arg(long, env = "TUNNEL_TOKEN", hide_env_values = true, value_parser = token_set, action = clap::ArgAction::SetTrue, default_value = "")]
    pub token_mode: bool,
}

/// `TUNNEL_TOKEN` set to anything non-empty means token mode.
fn token_set(value: &str) -> Result<bool, String> {
    Ok(!value.is_empty())
}

#[derive(Debug, Deserialize)]
struct ConfigFile {
    tunnel: Option<String>,
    #[serde(rename = "credentials-file")]
    credentials_file: Option<String>,
    ingress: Option<Vec<Spanned<IngressRule>>>,
}

#[derive(Debug, Deserialize)]
struct IngressRule {
    hostname: Option<String>,
    path: Option<String>,
    service: Option<String>,
}

impl IngressRule {
    fn is_catch_all(&self) -> bool {
        self.hostname
            .as_deref()
            .is_none_or(|h| h.is_empty() || h == "*")
            && self.path.is_none()
    }
}

/// Runs the config checks.
pub fn run(args: &ConfigArgs, io: &mut Io<'_>, redactor: &Redactor) -> Exit {
    let shown = args.file.display().to_string();
    let text = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(err) => {
            io.error(TOOL, format!("config: cannot read {shown}: {err}"));
            return Exit::Usage;
        }
    };
    let config: ConfigFile = match yaml::parse(&text) {
        Ok(config) => config,
        Err(err) => {
            io.error(TOOL, format!("config: {shown}: {err}"));
            return Exit::Usage;
        }
    };
    let token_mode = args.token_mode
        || TOKEN_ENV
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    let mut records = Vec::new();
    if token_mode {
        records.push(
            Record::info("config.mode", &shown, "token_mode")
                .message("token mode: cloudflared ignores the local ingress rules; the dashboard owns them")
                .data(json!({"ingress_rules": config.ingress.as_ref().map_or(0, Vec::len)})),
        );
    }
    records.push(tunnel_record(&shown, config.tunnel.as_deref()));
    if !token_mode {
        records.push(credentials_record(args, &shown, &config, redactor));
    }
    records.extend(ingress_records(&shown, config.ingress.as_deref()));
    let mut sink = RecordSink::new(TOOL, io.stdout);
    for record in records {
        if sink.emit(record).is_err() {
            break;
        }
    }
    sink.exit()
}

fn tunnel_record(file: &str, tunnel: Option<&str>) -> Record {
    let check = "config.tunnel";
    match tunnel {
        None | Some("") => Record::fail(check, file, "tunnel_missing").message("no `tunnel:` id in the config"),
        Some(id) if is_uuid(id) => Record::pass(check, file).data(json!({"tunnel": id})),
        Some(name) => Record::warn(check, file, "tunnel_not_uuid")
            .message("`tunnel:` is a name, not the tunnel UUID; the credentials file is keyed by the UUID")
            .data(json!({"tunnel": name})),
    }
}

/// The candidates for the credentials file, in the order tried.
fn credential_paths(args: &ConfigArgs, configured: &str) -> Vec<PathBuf> {
    if let Some(path) = &args.credentials {
        return vec![path.clone()];
    }
    let mut paths = vec![PathBuf::from(configured)];
    let beside = args
        .file
        .parent()
        .unwrap_or(Path::new("."))
        .join(Path::new(configured).file_name().unwrap_or_default());
    if !paths.contains(&beside) {
        paths.push(beside);
    }
    paths
}

fn credentials_record(
    args: &ConfigArgs,
    file: &str,
    config: &ConfigFile,
    redactor: &Redactor,
) -> Record {
    let check = "config.credentials";
    let Some(configured) = config.credentials_file.as_deref().filter(|p| !p.is_empty()) else {
        return Record::fail(check, file, "credentials_file_unset").message(
            "neither `credentials-file:` nor a token, so cloudflared cannot authenticate the tunnel",
        );
    };
    let tried = credential_paths(args, configured);
    let Some(path) = tried.iter().find(|p| p.is_file()) else {
        return Record::fail(check, file, "credentials_missing")
            .message(format!("the credentials file {configured} is not there (use --credentials for the host path)"))
            .data(json!({"configured": configured, "tried": tried}));
    };
    let target = path.display().to_string();
    let mut data = json!({"configured": configured, "path": target});
    let malformed = |problem: &str, data: &mut Value| {
        data["problem"] = json!(problem);
        Record::fail(check, &target, "credentials_malformed")
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            data["detail"] = json!(err.to_string());
            return malformed("unreadable", &mut data)
                .message("the credentials file cannot be read")
                .data(data);
        }
    };
    // Parsed as a plain value: serde_json's syntax errors name a position, never the
    // text, and typed errors (which quote values) cannot happen.
    let object = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(object)) => object,
        Ok(_) => {
            return malformed("not_json_object", &mut data)
                .message("the credentials file is JSON but not an object")
                .data(data)
        }
        Err(err) => {
            data["detail"] = json!(format!("line {}, column {}", err.line(), err.column()));
            return malformed("not_json", &mut data)
                .message(format!(
                    "the credentials file is not JSON (line {}, column {})",
                    err.line(),
                    err.column()
                ))
                .data(data);
        }
    };
    let secret = object
        .get("TunnelSecret")
        .and_then(Value::as_str)
        .unwrap_or("");
    redactor.learn(secret);
    let missing: Vec<&str> = ["AccountTag", "TunnelID", "TunnelSecret"]
        .into_iter()
        .filter(|key| {
            object
                .get(*key)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .collect();
    let tunnel_id = object.get("TunnelID").and_then(Value::as_str).unwrap_or("");
    data["tunnel_id"] = json!(tunnel_id);
    if !missing.is_empty() {
        data["missing_keys"] = json!(missing);
        return malformed("missing_keys", &mut data)
            .message(format!("the credentials file lacks {}", missing.join(", ")))
            .data(data);
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(secret.trim());
    if !decoded.is_ok_and(|bytes| bytes.len() >= 32) {
        return malformed("secret_not_base64", &mut data)
            .message("TunnelSecret is not the base64 of a 32-byte secret")
            .data(data);
    }
    if !is_uuid(tunnel_id) {
        return malformed("tunnel_id_not_uuid", &mut data)
            .message("TunnelID is not a UUID")
            .data(data);
    }
    if let Some(tunnel) = config.tunnel.as_deref().filter(|t| is_uuid(t)) {
        if !tunnel.eq_ignore_ascii_case(tunnel_id) {
            return Record::fail(check, &target, "credentials_tunnel_mismatch")
                .message("the credentials belong to another tunnel than `tunnel:`")
                .data(data);
        }
    }
    if world_readable(path) {
        return Record::warn(check, &target, "credentials_world_readable")
            .message("the credentials file is readable by every user; chmod 600 it")
            .data(data);
    }
    Record::pass(check, &target).data(data)
}

#[cfg(unix)]
fn world_readable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
}

#[cfg(not(unix))]
fn world_readable(_: &Path) -> bool {
    false
}

fn ingress_records(file: &str, rules: Option<&[Spanned<IngressRule>]>) -> Vec<Record> {
    let check = "config.ingress";
    let Some(rules) = rules.filter(|r| !r.is_empty()) else {
        return vec![Record::fail(check, file, "ingress_missing")
            .message("no `ingress:` rules; cloudflared has nothing to route")];
    };
    let first_catch_all = rules.iter().position(|r| r.value.is_catch_all());
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut records = Vec::new();
    for (index, spanned) in rules.iter().enumerate() {
        let rule = &spanned.value;
        let line = spanned.referenced.line();
        let target = format!("{file}:{line}");
        let mut problems: Vec<(&str, String)> = Vec::new();
        if first_catch_all.is_some_and(|c| index > c) {
            problems.push((
                "rule_after_catch_all",
                "this rule follows the catch-all and is never reached".into(),
            ));
        }
        if let Some(host) = rule
            .hostname
            .as_deref()
            .filter(|h| !h.is_empty() && *h != "*")
        {
            if !is_valid_hostname(host) {
                problems.push(("invalid_hostname", format!("{host:?} is not a hostname")));
            }
            let key = (
                host.to_ascii_lowercase(),
                rule.path.clone().unwrap_or_default(),
            );
            if let Some(first) = seen.get(&key) {
                problems.push((
                    "duplicate_hostname",
                    format!("{host} is already routed by rule {first}"),
                ));
            } else {
                seen.insert(key, index);
            }
        }
        match rule.service.as_deref() {
            None | Some("") => problems.push(("service_missing", "the rule has no service".into())),
            Some(service) => {
                if let Some(why) = service_problem(service) {
                    problems.push(("invalid_service", why));
                }
            }
        }
        let data = json!({
            "index": index,
            "line": line,
            "hostname": rule.hostname,
            "path": rule.path,
            "service": rule.service,
            "catch_all": rule.is_catch_all(),
            "problems": problems.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        });
        let record = match problems.first() {
            Some((reason, message)) => {
                Record::fail("config.ingress.rule", &target, reason).message(message.clone())
            }
            None => Record::pass("config.ingress.rule", &target),
        };
        records.push(record.data(data));
    }
    let last = rules.len() - 1;
    let summary = json!({"rules": rules.len(), "catch_all_index": first_catch_all});
    records.push(match first_catch_all {
        None => Record::fail(check, file, "catch_all_missing")
            .message("the last ingress rule must be a catch-all without hostname (e.g. service: http_status:404)"),
        Some(index) if index < last => Record::fail(check, file, "rule_after_catch_all")
            .message(format!("{} rule(s) after the catch-all are never reached", last - index)),
        Some(_) => Record::pass(check, file),
    }
    .data(summary));
    records
}
