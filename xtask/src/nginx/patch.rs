//! The patch that retires the legacy path: every location dedicated to the legacy
//! prefix answers `return 410;`, and where a broader location (`location /`, a
//! regex) serves a legacy URI, a `location ^~ PREFIX { return 410; }` is added to the
//! server (`^~` so that no regex location takes the URI back). The patched
//! configuration is evaluated again: a patch that would not retire every legacy URI
//! is not offered.
//!
//! The diff is a unified diff made by the `similar` crate, with `diff --git a/PATH
//! b/PATH` headers whose paths are relative to the repository, so `git apply` and
//! `patch -p1` at the repository root both take it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use day2_core::Problem;

use super::route::{self, Outcome};
use super::{Config, Directive, Server};

/// Where a legacy URI is still answered, after a patch.
pub fn unretired(config: &Config, uris: &[String]) -> Vec<String> {
    let mut left = Vec::new();
    for server in config.servers() {
        for uri in uris {
            for answer in route::answers(config, server, uri) {
                if !retires(&answer) {
                    left.push(format!(
                        "{} in the server at {}: {}",
                        uri,
                        config.place(server.block),
                        answer.outcome.describe()
                    ));
                }
            }
        }
    }
    left
}

/// Whether an answer retires the URI: nginx answers 404 or 410, or the server sends
/// every request elsewhere before any location (its own `return 301 https://…`).
pub fn retires(answer: &route::Answer) -> bool {
    match &answer.outcome {
        Outcome::Status { code, .. } => *code == 404 || *code == 410,
        Outcome::Redirect { .. } => answer.server_level,
        _ => false,
    }
}

/// One replacement in one file: bytes `start..end` become `text`.
#[derive(Debug, Clone)]
struct Edit {
    file: usize,
    start: usize,
    end: usize,
    text: String,
}

/// The whitespace before `at` on its line, when only whitespace precedes it.
fn indent_at(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..at];
    before
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then(|| before.to_owned())
}

fn retired_block(head: &str, indent: &str) -> String {
    format!("{head} {{\n{indent}    return 410;\n{indent}}}")
}

/// Whether a location's own matches all lie under the legacy prefix.
fn dedicated(location: &Directive, prefix: &str) -> bool {
    let bare = prefix.trim_end_matches('/');
    let name = location.args.last().map(String::as_str).unwrap_or("");
    match location.args.first().map(String::as_str) {
        Some("~" | "~*") if location.args.len() == 2 => {
            let literal = name.trim_start_matches('^');
            !bare.is_empty() && literal.starts_with(bare)
        }
        _ => {
            let name = name.trim_start_matches(['=', '^', '~']);
            !bare.is_empty() && (name.starts_with(prefix) || name == bare)
        }
    }
}

/// Whether a location already answers 404/410 before anything else.
fn already_retired(location: &Directive) -> bool {
    for child in &location.children {
        match child.name.as_str() {
            "return" => return matches!(child.args.as_slice(), [c] if c == "404" || c == "410"),
            "if" | "rewrite" | "break" | "set" | "location" => return false,
            _ => {}
        }
    }
    false
}

fn walk_locations<'c>(directives: &'c [Directive], out: &mut Vec<&'c Directive>) {
    for directive in directives {
        if directive.name == "location" && directive.block {
            out.push(directive);
        }
        if directive.block {
            walk_locations(&directive.children, out);
        }
    }
}

fn replace_location(config: &Config, location: &Directive, head: Option<String>) -> Edit {
    let text = &config.files[location.file].text;
    let open = location.open.unwrap_or(location.span.1);
    let head = head.unwrap_or_else(|| text[location.span.0..open].trim_end().to_owned());
    let indent = indent_at(text, location.span.0).unwrap_or_default();
    Edit {
        file: location.file,
        start: location.span.0,
        end: location.span.1,
        text: retired_block(&head, &indent),
    }
}

/// A new location at the top of a server's locations (or at its end).
fn insert_location(config: &Config, server: Server<'_>, head: &str) -> Edit {
    let block = server.block;
    let text = &config.files[block.file].text;
    if let Some(first) = block.children.iter().find(|d| d.name == "location") {
        if first.file == block.file {
            if let Some(indent) = indent_at(text, first.span.0) {
                return Edit {
                    file: block.file,
                    start: first.span.0,
                    end: first.span.0,
                    text: format!("{}\n{indent}", retired_block(head, &indent)),
                };
            }
        }
    }
    let close = block.span.1 - 1;
    match indent_at(text, close) {
        Some(outer) => {
            let line_start = close - outer.len();
            let inner = format!("{outer}    ");
            Edit {
                file: block.file,
                start: line_start,
                end: line_start,
                text: format!("{inner}{}\n", retired_block(head, &inner)),
            }
        }
        None => Edit {
            file: block.file,
            start: close,
            end: close,
            text: format!(" {head} {{ return 410; }} "),
        },
    }
}

/// Applies edits to the configuration's texts; edits inside another edit are dropped.
fn apply(config: &Config, edits: &[Edit]) -> BTreeMap<usize, String> {
    let mut by_file: BTreeMap<usize, Vec<&Edit>> = BTreeMap::new();
    for edit in edits {
        by_file.entry(edit.file).or_default().push(edit);
    }
    let mut out = BTreeMap::new();
    for (file, mut edits) in by_file {
        edits.sort_by_key(|e| (e.start, std::cmp::Reverse(e.end)));
        let mut kept: Vec<&Edit> = Vec::new();
        for edit in edits {
            let inside = kept
                .last()
                .is_some_and(|k| k.end > k.start && edit.start >= k.start && edit.end <= k.end);
            let same = kept
                .iter()
                .any(|k| k.start == edit.start && k.end == edit.end && k.text == edit.text);
            if !inside && !same {
                kept.push(edit);
            }
        }
        let mut text = config.files[file].text.clone();
        for edit in kept.iter().rev() {
            text.replace_range(edit.start..edit.end, &edit.text);
        }
        out.insert(file, text);
    }
    out
}

/// Re-reads the configuration with some files' texts replaced.
pub type Reload<'a> = dyn Fn(&BTreeMap<PathBuf, String>) -> Result<Config, Problem> + 'a;

/// The reason of a patch that cannot be written: the record's `patch_impossible`.
pub const PATCH_IMPOSSIBLE: &str = "patch_impossible";

/// What `--write-patch` produces.
#[derive(Debug, Clone)]
pub struct Patch {
    /// The unified diff.
    pub diff: String,
    /// The files it changes, as named in the diff.
    pub files: Vec<String>,
}

/// The patch retiring `uris` (and every location dedicated to `prefix`) in
/// `config`. `relative` names a file in the diff (relative to the repository) or
/// says why it cannot be patched. `reload` re-reads the configuration with some
/// files' texts replaced, to check the result. Errors: [`PATCH_IMPOSSIBLE`] (no
/// patch retires every URI, or a file comes from an `nginx -T` dump), and what
/// `relative` and `reload` return.
pub fn retire(
    config: &Config,
    uris: &[String],
    prefix: &str,
    relative: &dyn Fn(&super::SourceFile) -> Result<String, Problem>,
    reload: &Reload<'_>,
) -> Result<Option<Patch>, Problem> {
    let mut edits = Vec::new();
    let mut locations = Vec::new();
    walk_locations(&config.directives, &mut locations);
    for location in locations {
        if dedicated(location, prefix) && !already_retired(location) {
            let head = if location.args == [prefix] {
                // Made `^~` so that a regex location cannot take the URIs back.
                Some(format!("location ^~ {prefix}"))
            } else {
                None
            };
            edits.push(replace_location(config, location, head));
        }
    }
    // Where a broader location answers, a prefix location for the legacy path; for
    // a URI outside the prefix (a `/status` the logs show), an exact one.
    for round in 0..2 {
        let texts = apply(config, &edits);
        let patched = reload(&texts_by_path(config, &texts))?;
        let mut added = false;
        for (index, server) in patched.servers().iter().enumerate() {
            let Some(original) = config.servers().get(index).copied() else {
                continue;
            };
            for uri in uris {
                let answers = route::answers(&patched, *server, uri);
                if answers.iter().all(retires) {
                    continue;
                }
                // nginx refuses two locations of one name ("duplicate location").
                let named =
                    |name: &str| {
                        server.block.children.iter().any(|d| {
                            d.name == "location" && d.args.last().is_some_and(|a| a == name)
                        })
                    };
                let head = if round == 0 && uri.starts_with(prefix) && !named(prefix) {
                    format!("location ^~ {prefix}")
                } else if !named(uri) {
                    format!("location = {uri}")
                } else {
                    continue;
                };
                let edit = insert_location(config, original, &head);
                if !edits
                    .iter()
                    .any(|e| e.start == edit.start && e.text == edit.text)
                {
                    edits.push(edit);
                    added = true;
                }
            }
        }
        if !added {
            break;
        }
    }
    let texts = apply(config, &edits);
    if texts.is_empty() {
        return Ok(None);
    }
    let patched = reload(&texts_by_path(config, &texts))?;
    let left = unretired(&patched, uris);
    if !left.is_empty() {
        return Err(Problem::new(
            PATCH_IMPOSSIBLE,
            format!(
                "no patch retires every legacy URI; after one, still: {}",
                left.join("; ")
            ),
        ));
    }
    let mut diff = String::new();
    let mut files = Vec::new();
    for (file, new) in &texts {
        let source = &config.files[*file];
        if !source.on_disk {
            return Err(Problem::new(
                PATCH_IMPOSSIBLE,
                format!(
                    "{} comes from an nginx -T dump: a patch needs the configuration files themselves",
                    source.path.display()
                ),
            ));
        }
        let name = relative(source)?;
        let unified = similar::TextDiff::from_lines(source.text.as_str(), new.as_str())
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{name}"), &format!("b/{name}"))
            .to_string();
        diff.push_str(&format!("diff --git a/{name} b/{name}\n"));
        diff.push_str(&unified);
        files.push(name);
    }
    Ok(Some(Patch { diff, files }))
}

fn texts_by_path(config: &Config, texts: &BTreeMap<usize, String>) -> BTreeMap<PathBuf, String> {
    texts
        .iter()
        .map(|(file, text)| (config.files[*file].path.clone(), text.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::parse_text;

    fn patched(text: &str, uris: &[&str]) -> Result<Option<(String, String)>, Problem> {
        let mut config = parse_text("nginx.conf", text).unwrap();
        config.files[0].on_disk = true;
        let uris: Vec<String> = uris.iter().map(|u| (*u).to_owned()).collect();
        let relative = |_: &super::super::SourceFile| Ok("deploy/nginx.conf".to_owned());
        let reload = |texts: &BTreeMap<PathBuf, String>| {
            let text = texts
                .get(&PathBuf::from("nginx.conf"))
                .map_or(text, String::as_str);
            parse_text("nginx.conf", text)
                .map_err(|e| Problem::new("invalid_config", e.to_string()))
        };
        Ok(retire(&config, &uris, "/status/", &relative, &reload)?
            .map(|p| (p.diff, p.files.join(","))))
    }

    #[test]
    fn a_proxied_legacy_location_is_made_to_answer_410() {
        let text = "server {\n    location /status/ {\n        proxy_pass http://b;\n    }\n    location / {\n        try_files $uri /index.html;\n    }\n}\n";
        let (diff, files) = patched(text, &["/status/summary"]).unwrap().unwrap();
        assert_eq!(files, "deploy/nginx.conf");
        assert!(diff.starts_with("diff --git a/deploy/nginx.conf b/deploy/nginx.conf\n--- a/deploy/nginx.conf\n+++ b/deploy/nginx.conf\n"), "{diff}");
        assert!(
            diff.contains("+    location ^~ /status/ {\n+        return 410;\n"),
            "{diff}"
        );
    }

    #[test]
    fn a_catch_all_proxy_gets_a_legacy_location_in_front() {
        let text = "server {\n    location / {\n        proxy_pass http://b;\n    }\n}\n";
        let (diff, _) = patched(text, &["/status/summary", "/status"])
            .unwrap()
            .unwrap();
        assert!(diff.contains("+    location ^~ /status/ {\n"), "{diff}");
        assert!(diff.contains("+    location = /status {\n"), "{diff}");
    }

    #[test]
    fn nothing_to_do_is_no_patch() {
        let text = "server {\n    location /status/ {\n        return 410;\n    }\n}\n";
        assert!(patched(text, &["/status/summary"]).unwrap().is_none());
    }

    #[test]
    fn a_server_level_if_that_proxies_cannot_be_patched_here() {
        let text = "server {\n    if ($arg_x) { return 200; }\n    location /status/ {\n        proxy_pass http://b;\n    }\n}\n";
        let err = patched(text, &["/status/summary"]).unwrap_err();
        assert_eq!(err.reason(), PATCH_IMPOSSIBLE);
        assert!(err.message.contains("still"), "{err}");
    }
}
