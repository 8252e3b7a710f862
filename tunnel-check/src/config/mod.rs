//! A cloudflared `config.yml` judged the way cloudflared judges it when it loads
//! it (cloudflare/cloudflared: `config/configuration.go` for the YAML,
//! `ingress/ingress.go` and `ingress/rule.go` for the ingress rules,
//! `cmd/cloudflared/tunnel/` for the tunnel id and the credentials file), and
//! the mistakes it accepts as warnings. Where cloudflared refuses the file, the
//! record fails with cloudflared's own reason; what it runs never fails.
//!
//! - [`schema`]: the YAML as `gopkg.in/yaml.v3` decodes it into cloudflared's
//!   structs (duplicate keys and wrong types refuse the file);
//! - [`ingress`]: `validateIngress` rule by rule, and unreachable rules;
//! - [`credentials`]: the credentials file, found and decoded.
//!
//! The credentials' `TunnelSecret` is learnt by the redactor before anything is
//! written.

use std::path::Path;

use day2_core::{Exit, Io, Problem, Record, RecordSink};
use serde_json::{json, Value};

mod credentials;
mod ingress;
pub(crate) mod schema;

use crate::redact::Redactor;
use crate::{golang, yaml, TOKEN_ENV, TOOL};
use schema::Config;

#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// The cloudflared config.yml.
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,

    /// The credentials JSON on this machine, when `credentials-file` names a path
    /// inside the container. By default the path as written is tried, then a file
    /// of the same name beside config.yml.
    #[arg(long, value_name = "PATH")]
    pub credentials: Option<std::path::PathBuf>,

    /// The tunnel runs in token mode (also assumed when TUNNEL_TOKEN or
    /// CLOUDFLARE_TUNNEL_TOKEN is set, or when the file has no `tunnel:`): the
    /// token holds the credentials and the dashboard owns the ingress rules.
    /// A token's value only turns this on; it is never shown.
    // The default is the empty value (not SetTrue's "false", which is non-empty).
    #[arg(long, env = "TUNNEL_TOKEN", hide_env_values = true, value_parser = token_set, action = clap::ArgAction::SetTrue, default_value = "")]
    pub token_mode: bool,
}

/// `TUNNEL_TOKEN` set to anything non-empty means token mode.
fn token_set(value: &str) -> Result<bool, String> {
    Ok(!value.is_empty())
}

/// Runs the config checks.
pub fn run(args: &ConfigArgs, io: &mut Io<'_>, redactor: &Redactor) -> Exit {
    let shown = args.file.display().to_string();
    // Capped and read as a stream: `/dev/zero` or an endless FIFO is a usage error.
    let text = match day2_core::input::read_text(&args.file, "config", CONFIG_LIMIT) {
        Ok(text) => text,
        Err(err) => {
            io.error(TOOL, format!("config: {err}"));
            return Exit::Usage;
        }
    };
    let tree = match yaml::parse_tree(&text) {
        Ok(tree) => tree,
        Err(err) => {
            io.error(TOOL, format!("config: {shown}: {err}"));
            return Exit::Usage;
        }
    };
    let (config, problems) = schema::decode(&tree);
    let mut records = vec![yaml_record(&shown, &problems)];
    let refused = problems.iter().any(|p| p.kind.refuses());

    let tunnel = config.tunnel.value.trim();
    let env_token = TOKEN_ENV
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    let token_mode = args.token_mode || env_token || tunnel.is_empty();
    if token_mode {
        // A credentials file the user names holds a secret whatever the mode: its
        // `TunnelSecret` is masked in everything written, in token mode too, where the
        // file is not otherwise read (fuzzing found the secret, pasted into a service
        // URL of config.yml, echoed in the rule's error). Read once (it may be a FIFO).
        if let Some(text) = args
            .credentials
            .as_ref()
            .and_then(|path| day2_core::input::read_text(path, "credentials", CONFIG_LIMIT).ok())
        {
            learn_secret(&text, redactor);
        }
        // `--token-mode` is also what TUNNEL_TOKEN sets (clap reads the variable):
        // a token in the environment is named as such.
        let why = if env_token {
            "token_environment"
        } else if args.token_mode {
            "--token-mode"
        } else {
            "no_tunnel_key"
        };
        let message = if why == "no_tunnel_key" {
            "no `tunnel:`: this file runs with a token (`tunnel run --token`, TUNNEL_TOKEN); the token carries the credentials and the dashboard's ingress replaces the local one. Without a token cloudflared refuses it: \"cloudflared tunnel run\" requires the ID or name of the tunnel"
        } else {
            "token mode: the token carries the credentials and the dashboard's ingress replaces the local one once received"
        };
        records.push(
            Record::info("config.mode", &shown, "token_mode")
                .message(message)
                .data(json!({"because": why, "ingress_rules": config.ingress.len()})),
        );
    }
    if !tunnel.is_empty() {
        records.push(tunnel_record(&shown, &config));
    }
    if !token_mode {
        match credentials_record(args, &shown, &config, redactor) {
            Ok(record) => records.push(record),
            Err(err) => {
                io.error(TOOL, format!("config: {err}"));
                return Exit::Usage;
            }
        }
    }
    if refused {
        records.push(
            Record::error("config.ingress", &shown, "not_checked")
                .message(
                    "cloudflared stops at the YAML error above before it reads the ingress rules",
                )
                .data(json!({"rules": config.ingress.len()})),
        );
    } else {
        records.extend(ingress_records(&shown, &config, token_mode));
    }
    let mut sink = RecordSink::new(TOOL, io.stdout);
    for record in records {
        if sink.emit(record).is_err() {
            break;
        }
    }
    sink.exit()
}

fn yaml_record(file: &str, problems: &[schema::Problem]) -> Record {
    let check = "config.yaml";
    let listed: Vec<Value> = problems
        .iter()
        .map(|p| json!({"line": p.line, "reason": p.kind.reason(), "message": p.message}))
        .collect();
    let first = problems
        .iter()
        .find(|p| p.kind.refuses())
        .or(problems.first());
    match first {
        None => Record::pass(check, file),
        Some(p) => {
            let target = format!("{file}:{}", p.line);
            let record = if p.kind.refuses() {
                let all: Vec<&str> = problems
                    .iter()
                    .filter(|p| p.kind.refuses())
                    .map(|p| p.message.as_str())
                    .collect();
                Record::fail(check, &target, p.kind.reason()).message(format!(
                    "cloudflared refuses the file: yaml: unmarshal errors: {}",
                    all.join("; ")
                ))
            } else {
                Record::warn(check, &target, p.kind.reason()).message(format!(
                    "cloudflared ignores what it does not know (its strict parse warns): {}",
                    p.message
                ))
            };
            record.data(json!({"problems": listed}))
        }
    }
}

fn tunnel_record(file: &str, config: &Config) -> Record {
    let check = "config.tunnel";
    let target = format!("{file}:{}", config.tunnel.line);
    let written = config.tunnel.value.trim();
    match golang::uuid_parse(written) {
        Ok(id) => Record::pass(check, &target).data(json!({"tunnel": id, "written": written})),
        Err(_) => Record::warn(check, &target, "tunnel_not_uuid")
            .message("`tunnel:` is a name, not the tunnel UUID: cloudflared looks it up through the API, which needs the origin certificate (cert.pem); the credentials file is found by the UUID")
            .data(json!({"tunnel": written})),
    }
}

/// Teaches the redactor the `TunnelSecret` of a credentials file's text (the key in any
/// case, as Go's `encoding/json` matches it), when the text is a JSON object.
fn learn_secret(text: &str, redactor: &Redactor) {
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) {
        for (key, value) in &object {
            if key.eq_ignore_ascii_case("TunnelSecret") {
                if let Some(secret) = value.as_str() {
                    redactor.learn(secret);
                }
            }
        }
    }
}

/// The cap of `config.yml` and of the credentials file read whole: 16 MiB, far above
/// any real one (cloudflared's are a few KiB).
pub const CONFIG_LIMIT: u64 = day2_core::input::DEFAULT_LIMIT;

/// The credentials record; `Err` (reason `unreadable_input`, a usage error) when the
/// file cannot be read to its end within [`CONFIG_LIMIT`] (`/dev/zero`, an endless
/// FIFO).
fn credentials_record(
    args: &ConfigArgs,
    file: &str,
    config: &Config,
    redactor: &Redactor,
) -> Result<Record, Problem> {
    let check = "config.credentials";
    let configured = config
        .credentials_file
        .as_ref()
        .map(|c| c.value.trim())
        .filter(|c| !c.is_empty());
    let tunnel_id = golang::uuid_parse(config.tunnel.value.trim()).ok();
    let tried = match &args.credentials {
        Some(path) => vec![path.clone()],
        None => credentials::candidates(&args.file, configured, tunnel_id.as_deref()),
    };
    // A FIFO or `/dev/stdin` is a file here too; a directory is not.
    let Some(path) = tried.iter().find(|p| p.exists() && !p.is_dir()) else {
        let message = match configured {
            Some(path) => format!(
                "Tunnel credentials file '{path}' doesn't exist or is not a file (give the host copy with --credentials)"
            ),
            None if tunnel_id.is_none() => "no `credentials-file:` and `tunnel:` is a name: cloudflared finds the file through the API's tunnel id (give it with --credentials)".to_owned(),
            None => "tunnel credentials file not found: no `credentials-file:`, and no <tunnel-id>.json beside config.yml nor in cloudflared's default directories".to_owned(),
        };
        return Ok(Record::fail(check, file, "credentials_missing")
            .message(message)
            .data(json!({"configured": configured, "tried": tried})));
    };
    let target = path.display().to_string();
    let mut data = json!({"configured": configured, "path": target});
    // Opened (a missing or forbidden file is the record's failure), then read as a
    // stream up to the cap: a FIFO works, `/dev/zero` is a usage error.
    let unreadable = |detail: String, mut data: Value| {
        data["problem"] = json!("unreadable");
        data["detail"] = json!(detail);
        Record::fail(check, &target, "credentials_malformed")
            .message(format!("couldn't read tunnel credentials from {target}"))
            .data(data)
    };
    let mut opened = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) => return Ok(unreadable(err.to_string(), data)),
    };
    let what = format!("credentials file {target}");
    let bytes = day2_core::input::read_capped(&mut opened, &what, CONFIG_LIMIT)?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => return Ok(unreadable(err.to_string(), data)),
    };
    // The secret is masked from here on, whatever follows.
    learn_secret(&text, redactor);
    let malformed = |m: credentials::Malformed, mut data: Value| {
        data["problem"] = json!(m.problem);
        Record::fail(check, &target, "credentials_malformed")
            .message(m.message)
            .data(data)
    };
    let creds = match credentials::decode(&text, path) {
        Ok(creds) => creds,
        Err(m) => return Ok(malformed(m, data)),
    };
    redactor.learn(&creds.secret);
    data["tunnel_id"] = json!(creds.tunnel_id);
    data["generation"] = json!(if creds.tunnel_id.is_some() {
        "with_tunnel_id"
    } else {
        "before_tunnel_id"
    });
    if let Some(written) = &creds.tunnel_id_written {
        data["tunnel_id_written"] = json!(written);
    }
    if let Some(m) = credentials::refused_by_edge(&creds) {
        return Ok(malformed(m, data));
    }
    if let (Some(tunnel), Some(theirs)) = (&tunnel_id, &creds.tunnel_id) {
        if tunnel != theirs {
            return Ok(Record::fail(check, &target, "credentials_tunnel_mismatch")
                .message(format!(
                    "the credentials belong to tunnel {theirs}, not to `tunnel:` {tunnel}: cloudflared sends them for {tunnel} and the edge refuses them"
                ))
                .data(data));
        }
    }
    if world_readable(path) {
        return Ok(Record::warn(check, &target, "credentials_world_readable")
            .message("the credentials file is readable by every user; chmod 600 it")
            .data(data));
    }
    let record = Record::pass(check, &target);
    if creds.tunnel_id.is_none() {
        return Ok(record
            .message("a credentials file from before TunnelID existed: cloudflared takes the id from `tunnel:`")
            .data(data));
    }
    Ok(record.data(data))
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

/// The reason of the summary record for cloudflared's first refusal.
fn summary_reason(rule_reason: &str) -> &'static str {
    match rule_reason {
        "last_rule_not_catch_all" => "catch_all_missing",
        "catch_all_not_last" => "rule_after_catch_all",
        _ => "invalid_rule",
    }
}

fn ingress_records(file: &str, config: &Config, token_mode: bool) -> Vec<Record> {
    let check = "config.ingress";
    let rules = &config.ingress;
    if rules.is_empty() {
        return vec![if token_mode {
            Record::info(check, file, "no_local_ingress")
                .message("no local ingress rules: the dashboard's configuration applies")
        } else {
            Record::warn(check, file, "ingress_missing").message(
                "no ingress rules: cloudflared runs but answers 503 to every request (unless --url or --hello-world is given)",
            )
        }
        .data(json!({"rules": 0}))];
    }
    let reports = ingress::validate(rules, &config.origin_request);
    let mut records = Vec::with_capacity(rules.len() + 1);
    for (index, (rule, report)) in rules.iter().zip(&reports).enumerate() {
        let target = format!("{file}:{}", rule.line);
        let data = json!({
            "index": index,
            "line": rule.line,
            "hostname": rule.hostname,
            "punycode": report.punycode,
            "path": rule.path,
            "service": rule.service,
            "service_kind": report.service_kind,
            "catch_all": report.catch_all,
            "problems": report.findings.iter().map(|f| json!({"reason": f.reason, "refused": f.refuses, "message": f.message})).collect::<Vec<_>>(),
        });
        let record = match report.findings.first() {
            Some(f) if f.refuses => Record::fail("config.ingress.rule", &target, f.reason)
                .message(format!("cloudflared refuses it: {}", f.message)),
            Some(f) => {
                Record::warn("config.ingress.rule", &target, f.reason).message(f.message.clone())
            }
            None => Record::pass("config.ingress.rule", &target),
        };
        records.push(record.data(data));
    }
    let catch_all = reports.iter().position(|r| r.catch_all);
    let first = reports
        .iter()
        .enumerate()
        .find_map(|(i, r)| r.refusal().map(|f| (i, f)));
    let mut summary = json!({"rules": rules.len(), "catch_all_index": catch_all});
    records.push(match first {
        None => Record::pass(check, file).data(summary),
        Some((index, finding)) => {
            summary["refused_at"] =
                json!({"index": index, "line": rules[index].line, "reason": finding.reason});
            Record::fail(check, file, summary_reason(finding.reason))
                .message(format!(
                    "cloudflared refuses to start with these rules: {}",
                    finding.message
                ))
                .data(summary)
        }
    });
    records
}
