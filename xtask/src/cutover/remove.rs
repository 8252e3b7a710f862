//! Step 3, remove: in the nginx configuration to be deployed, the location nginx
//! selects for each legacy URI answers 404/410 in every server, and nothing in the
//! repository still reads the legacy path; optionally the patch that retires it.

use std::path::{Path, PathBuf};

use day2_core::record::Record;
use day2_core::{Exit, Problem};
use legacy_sampler::LogSummary;
use serde_json::{json, Value};

use super::{invoke_owned, readers, tool_failed, CutoverArgs, Finding};
use xtask::nginx;

/// The legacy URIs nginx is asked about: the legacy path, and every legacy path the
/// access logs show (counted by legacy-sampler), normalised as nginx matches them.
fn legacy_uris(args: &CutoverArgs) -> Result<(Vec<String>, Option<Record>), Finding> {
    let Some(first) = nginx::route::normalize_uri(&args.legacy_path) else {
        return Err(Finding::fail(
            "input_invalid",
            format!(
                "--legacy-path {} is not a path nginx would accept",
                args.legacy_path
            ),
            json!({}),
        ));
    };
    let mut uris = vec![first];
    if args.access_logs.is_empty() {
        return Ok((uris, None));
    }
    let mut sampler_args: Vec<String> = Vec::new();
    for log in &args.access_logs {
        sampler_args.extend(["--log".into(), log.display().to_string()]);
    }
    sampler_args.extend(["--legacy-prefix".into(), args.legacy_prefix.clone()]);
    sampler_args.extend(["--api-prefix".into(), args.api_prefix.clone()]);
    sampler_args.extend(["--top".into(), MOST_LOGGED_URIS.to_string()]);
    if let Some(format) = &args.log_format {
        sampler_args.extend(["--log-format".into(), format.clone()]);
    }
    let run = invoke_owned("legacy-sampler", legacy_sampler::run, &sampler_args);
    let Some(summary) = run.last("summary").cloned() else {
        return Err(tool_failed(run));
    };
    if run.exit == Exit::Usage {
        return Err(tool_failed(run));
    }
    let logged = summary
        .payload::<LogSummary>()
        .map_err(|problem| Finding::from(problem).with_evidence(run))?
        .legacy_paths;
    for entry in logged {
        if let Some(uri) = nginx::route::normalize_uri(&entry.path) {
            if !uris.contains(&uri) {
                uris.push(uri);
            }
        }
    }
    Ok((uris, Some(summary)))
}

/// How many distinct legacy paths of the access logs are checked against nginx.
const MOST_LOGGED_URIS: usize = 200;

fn server_json(config: &nginx::Config, server: nginx::Server<'_>) -> Value {
    json!({
        "file": config.files[server.block.file].path,
        "line": server.block.line,
        "listen": server.listen(),
        "server_name": server.server_names(),
    })
}

fn server_label(config: &nginx::Config, server: nginx::Server<'_>) -> String {
    let mut label = format!("the server at {}", config.place(server.block));
    let names = server.server_names();
    if !names.is_empty() {
        label.push_str(&format!(" ({})", names.join(" ")));
    }
    label
}

fn location_json(location: Option<&nginx::route::LocationRef>) -> Value {
    location.map_or(
        Value::Null,
        |l| json!({"name": l.name, "file": l.file, "line": l.line}),
    )
}

/// One sentence on one answer: URI, server, location, outcome, conditions.
fn answer_sentence(uri: &str, server: &str, answer: &nginx::route::Answer) -> String {
    let location = match &answer.location {
        Some(l) => format!("location {} ({}:{})", l.name, l.file, l.line),
        None if answer.server_level => "the server's own rewrite directives".into(),
        None => "no location (the server's own configuration)".into(),
    };
    let mut sentence = format!(
        "{uri} in {server}: {location} → {}",
        answer.outcome.describe()
    );
    if !answer.conditions.is_empty() {
        sentence.push_str(&format!(", when {}", answer.conditions.join(" and ")));
    }
    sentence
}

/// The step.
pub(super) fn step(args: &CutoverArgs) -> Finding {
    use nginx::route::Outcome;
    let Some(conf_path) = &args.nginx_conf else {
        return Finding::fail(
            "input_missing",
            "no --nginx-conf given: the removal cannot be checked",
            json!({}),
        );
    };
    let config = match nginx::load(conf_path) {
        Ok(config) => config,
        Err(err) if err.unreadable() => {
            return Finding::fail(
                "input_unreadable",
                format!("cannot read the nginx configuration {err}"),
                json!({"path": conf_path}),
            )
        }
        Err(err) => {
            return Finding::fail(
                "nginx_conf_invalid",
                err.to_string(),
                json!({"path": conf_path, "file": err.file, "line": err.line}),
            )
        }
    };
    let (uris, log_summary) = match legacy_uris(args) {
        Ok(found) => found,
        Err(finding) => return finding,
    };
    let mut answers_json = Vec::new();
    // (rank, reason, sentence): the most serious first.
    let mut problems: Vec<(u8, &str, String)> = Vec::new();
    let mut retired: Vec<String> = Vec::new();
    let mut statuses: Vec<u16> = Vec::new();
    for server in config.servers() {
        let label = server_label(&config, server);
        for uri in &uris {
            for answer in nginx::route::answers(&config, server, uri) {
                answers_json.push(json!({
                    "server": server_json(&config, server),
                    "uri": uri,
                    "location": location_json(answer.location.as_ref()),
                    "answered_by": location_json(answer.answered_by.as_ref()),
                    "outcome": answer.outcome.kind(),
                    "status": answer.outcome.status(),
                    "detail": answer.outcome.describe(),
                    "conditions": answer.conditions,
                    "server_level": answer.server_level,
                }));
                // A server that redirects every request before any location (its
                // `return 301 https://…`) is judged where it sends them.
                if answer.server_level && matches!(answer.outcome, Outcome::Redirect { .. }) {
                    continue;
                }
                let sentence = answer_sentence(uri, &label, &answer);
                if nginx::patch::retires(&answer) {
                    statuses.extend(answer.outcome.status());
                    retired.push(sentence);
                    continue;
                }
                let (rank, reason) = match answer.outcome {
                    Outcome::Proxied { .. } => (0, "legacy_still_proxied"),
                    Outcome::Fallback { .. } => (1, "spa_fallback"),
                    Outcome::Status { .. } | Outcome::Redirect { .. } => (2, "legacy_not_retired"),
                    Outcome::Unknown { .. } => (3, "legacy_answer_unknown"),
                };
                problems.push((rank, reason, sentence));
            }
        }
    }
    if retired.is_empty() && problems.is_empty() {
        problems.push((
            3,
            "legacy_answer_unknown",
            format!(
                "every server of {} redirects {} elsewhere before any location: the server that answers it is not in this configuration",
                conf_path.display(),
                uris.join(", ")
            ),
        ));
    }
    problems.sort_by_key(|(rank, _, _)| *rank);
    statuses.sort_unstable();
    statuses.dedup();
    let mut data = json!({
        "nginx_conf": conf_path,
        "legacy_prefix": args.legacy_prefix,
        "legacy_uris": uris,
        "answers": answers_json,
        "legacy_answer": if problems.is_empty() && statuses.len() == 1 { json!(statuses[0]) } else { Value::Null },
    });
    if !config.notes.is_empty() {
        data["notes"] = json!(config.notes);
    }
    let mut evidence: Vec<Record> = log_summary.into_iter().collect();
    if let Some(patch_path) = &args.write_patch {
        match write_patch(args, conf_path, &config, &uris, patch_path) {
            Ok(files) => {
                data["patch"] = if files.is_empty() {
                    Value::Null
                } else {
                    json!(patch_path)
                };
                data["patch_files"] = json!(files);
            }
            Err(problem) => {
                let mut finding = Finding::fail(&problem.reason, problem.message, data);
                finding.evidence.append(&mut evidence);
                return finding;
            }
        }
    }
    let found = match readers::find_readers(&args.repo, &args.legacy_prefix, &args.api_prefix) {
        Ok(found) => found,
        Err(err) => {
            return Finding::fail(
                "repo_unreadable",
                format!("cannot search {}: {err}", args.repo.display()),
                data,
            )
        }
    };
    let (readers, implementers): (Vec<_>, Vec<_>) =
        found.iter().partition(|r| r.role == readers::Role::Reader);
    let listed = |list: &[&readers::Reader]| -> Value {
        list.iter()
            .map(|r| json!({"path": r.path, "line": r.line, "text": r.text, "kind": r.kind}))
            .collect()
    };
    data["readers"] = listed(&readers);
    data["implementers"] = listed(&implementers);
    let implementers_note = if implementers.is_empty() {
        String::new()
    } else {
        format!(
            " ({} place(s) implement or proxy it behind the API and stay: see implementers)",
            implementers.len()
        )
    };
    let mut finding = if let Some((_, reason, _)) = problems.first() {
        let shown: Vec<&str> = problems
            .iter()
            .take(5)
            .map(|(_, _, s)| s.as_str())
            .collect();
        let more = problems.len().saturating_sub(shown.len());
        let mut message = shown.join("; ");
        if more > 0 {
            message.push_str(&format!("; and {more} more (see answers)"));
        }
        if *reason == "legacy_still_proxied" && args.write_patch.is_none() {
            message.push_str("; --write-patch writes the patch that retires it");
        }
        Finding::fail(reason, message, data)
    } else {
        let answered = retired.first().cloned().unwrap_or_default();
        let head = if retired.len() > 1 {
            format!(
                "{answered}; and {} more answer(s) of 404/410",
                retired.len() - 1
            )
        } else {
            answered
        };
        if readers.is_empty() {
            Finding::pass(
                format!(
                    "{head}; no reader of {} remains{implementers_note}",
                    args.legacy_prefix
                ),
                data,
            )
        } else {
            let places: Vec<String> = readers
                .iter()
                .take(10)
                .map(|r| format!("{}:{}", r.path.display(), r.line))
                .collect();
            let more = readers.len().saturating_sub(places.len());
            Finding::fail(
                "legacy_readers_remain",
                format!(
                    "{head}, but {} place(s) still read it: {}{}{implementers_note}",
                    readers.len(),
                    places.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ),
                data,
            )
        }
    };
    finding.evidence.append(&mut evidence);
    finding
}

/// Writes the patch retiring the legacy URIs; the files it changes, named relative to
/// the repository (`--repo`).
///
/// Errors: `repo_unreadable`, `patch_impossible` (the configuration cannot be
/// patched), `patch_holds_secret` (the diff would quote a credential: not written),
/// `patch_unwritable`.
fn write_patch(
    args: &CutoverArgs,
    conf_path: &Path,
    config: &nginx::Config,
    uris: &[String],
    patch_path: &Path,
) -> Result<Vec<String>, Problem> {
    let repo = std::fs::canonicalize(&args.repo).map_err(|err| {
        Problem::new(
            "repo_unreadable",
            format!("cannot resolve --repo {}: {err}", args.repo.display()),
        )
    })?;
    let impossible = |message: String| Problem::new(nginx::patch::PATCH_IMPOSSIBLE, message);
    let relative = |file: &nginx::SourceFile| -> Result<String, Problem> {
        let absolute = std::fs::canonicalize(&file.path)
            .map_err(|err| impossible(format!("cannot resolve {}: {err}", file.path.display())))?;
        let inside = absolute.strip_prefix(&repo).map_err(|_| {
            impossible(format!(
                "{} is outside the repository {}: give --repo the repository that holds it",
                file.path.display(),
                args.repo.display()
            ))
        })?;
        Ok(inside
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"))
    };
    let reload = |texts: &std::collections::BTreeMap<PathBuf, String>| {
        nginx::load_with(conf_path, texts)
            .map_err(|err| impossible(format!("the patched configuration: {err}")))
    };
    let patch = nginx::patch::retire(config, uris, &args.legacy_prefix, &relative, &reload)?;
    let Some(patch) = patch else {
        return Ok(Vec::new());
    };
    // The diff quotes configuration lines; masked, it would not apply, so a patch
    // quoting a credential is not written at all (issue 18: no secret in any file).
    if let Some(place) = secret_in_diff(&patch.diff) {
        return Err(Problem::new(
            "patch_holds_secret",
            format!(
                "the patch would quote a credential ({place}: a URL with a password or a token, or a token): not written; move the secret out of the configuration (an include or an environment file kept out of the repository) or retire the location by hand"
            ),
        ));
    }
    std::fs::write(patch_path, &patch.diff).map_err(|err| {
        Problem::new(
            "patch_unwritable",
            format!("cannot write {}: {err}", patch_path.display()),
        )
    })?;
    Ok(patch.files)
}

/// Where a unified diff quotes a line the redactors would mask (a URL's password
/// or token, [`day2_core::redact::mask_urls`]; a token's shape, tunnel-check's
/// redactor): `FILE line N` of the file as it is, or `None`.
fn secret_in_diff(diff: &str) -> Option<String> {
    let redactor = tunnel_check::redact::Redactor::default();
    let mut lines = redactor.line_redactor();
    let (mut file, mut line) = (String::new(), 0usize);
    for text in diff.lines() {
        if let Some(name) = text.strip_prefix("--- a/") {
            file = name.to_owned();
            continue;
        }
        if text.starts_with("+++ ") || text.starts_with("diff ") || text.starts_with("--- ") {
            continue;
        }
        if let Some(hunk) = text.strip_prefix("@@ -") {
            // `@@ -START,COUNT +…`: the next old line is START.
            line = hunk
                .split([',', ' '])
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            continue;
        }
        let masked = matches!(
            day2_core::redact::mask_urls(text),
            std::borrow::Cow::Owned(_)
        ) || matches!(lines.redact(text), std::borrow::Cow::Owned(_));
        if masked {
            return Some(format!("{file} line {line}"));
        }
        if !text.starts_with('+') {
            line += 1;
        }
    }
    None
}
