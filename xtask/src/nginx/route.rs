//! nginx's question, asked of a configuration: for a request URI reaching a `server`,
//! which `location` is selected, and what does the request get.
//!
//! Location selection follows `ngx_http_core_find_location` and
//! `ngx_http_core_find_static_location` in nginx's
//! `src/http/ngx_http_core_module.c` (github.com/nginx/nginx), as documented for the
//! `location` directive (nginx.org/en/docs/http/ngx_http_core_module.html#location):
//! an exact `=` match ends the search; otherwise the longest matching prefix is
//! remembered (a prefix equal to the URI is taken at once), its nested locations are
//! searched, and unless it is `^~` the regular expressions (`~`, `~*`) are tried in
//! the order of the file, the first match winning (and its nested locations searched
//! in turn); when none matches, the longest prefix is used. A URI one `/` short of a
//! location whose handler is `proxy_pass` (or fastcgi/uwsgi/scgi/memcached/grpc)
//! gets a 301 to the URI with the slash (`auto_redirect`). Named (`@`) locations are
//! reached only by `try_files` and `error_page`.
//!
//! What the request then gets follows the phases of `ngx_http_core_module.c` and the
//! rewrite module (`src/http/modules/ngx_http_rewrite_module.c`): the server's own
//! `rewrite`/`return`/`if` first (server rewrite phase), then location selection,
//! `internal`, the location's rewrite directives in order (`rewrite … last` and a
//! changed URI search the locations again, at most 10 times; `break` stays), the
//! access rules (`deny all`), `try_files` (not inherited, and not applied when an `if`
//! block took over the request — "if is evil"), the content handler (`proxy_pass` and
//! its kin, declared in the location or its `if`), or else static files; and for an
//! error status without a body, `error_page` (inherited as a whole list).
//!
//! Conditions of `if` blocks depend on the request, so both branches are followed
//! unless the condition tests `$uri` itself; every answer says which conditions it
//! depends on. Regular expressions are compiled with the `regex` crate on bytes, in
//! PCRE's non-UTF mode's terms; what it cannot compile (look-around, back-references)
//! makes the answer [`Outcome::Unknown`], never a pass.

use day2_core::Problem;
use regex::bytes::{Regex, RegexBuilder};

use super::{Config, Directive, Server};

/// nginx's `NGX_HTTP_MAX_URI_CHANGES`: internal redirects and rewrites per request.
const MAX_URI_CHANGES: u8 = 10;
/// Most answers (branches of `if`s) followed for one URI.
const MAX_ANSWERS: usize = 64;
/// Most rewrite directives evaluated for one URI, over every branch and every
/// internal redirect: a configuration crafted to branch at each step stays bounded.
const MAX_STEPS: usize = 20_000;

/// The content handlers that hand the request to an upstream, and set
/// `auto_redirect` on a location whose name ends with `/`.
const UPSTREAM_HANDLERS: &[&str] = &[
    "proxy_pass",
    "fastcgi_pass",
    "uwsgi_pass",
    "scgi_pass",
    "memcached_pass",
    "grpc_pass",
];

/// Other content handlers: nginx answers from a module, not from files.
const MODULE_HANDLERS: &[&str] = &[
    "stub_status",
    "empty_gif",
    "js_content",
    "perl",
    "mp4",
    "flv",
    "random_index",
];

/// What a request gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Handed to an upstream: the backend still answers it.
    Proxied { directive: String },
    /// nginx answers this status itself (`return`, a missing static file,
    /// `try_files … =404`, `internal`, `deny all`, a handler module).
    Status { code: u16, by: String },
    /// A redirect to another URL.
    Redirect { code: u16, to: String },
    /// Another page answers in its place (the single-page app's index via
    /// `try_files` or `error_page`).
    Fallback { code: u16, uri: String },
    /// The configuration cannot be evaluated here, and why.
    Unknown { why: String },
}

impl Outcome {
    /// One short phrase for a message.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Proxied { directive } => format!("proxied ({directive})"),
            Outcome::Status { code, by } => format!("{code} ({by})"),
            Outcome::Redirect { code, to } => format!("{code} redirect to {to}"),
            Outcome::Fallback { code, uri } => format!("{code} with {uri} in its place"),
            Outcome::Unknown { why } => format!("cannot tell: {why}"),
        }
    }

    /// `proxied`, `status`, `redirect`, `fallback`, `unknown`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Proxied { .. } => "proxied",
            Outcome::Status { .. } => "status",
            Outcome::Redirect { .. } => "redirect",
            Outcome::Fallback { .. } => "fallback",
            Outcome::Unknown { .. } => "unknown",
        }
    }

    /// The HTTP status the client sees, when there is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Status { code, .. }
            | Outcome::Redirect { code, .. }
            | Outcome::Fallback { code, .. } => Some(*code),
            Outcome::Proxied { .. } | Outcome::Unknown { .. } => None,
        }
    }
}

/// A location, as a person finds it in the files.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationRef {
    /// Its arguments as written: `= /status/summary`, `~* ^/status/`.
    pub name: String,
    pub file: String,
    pub line: usize,
}

/// One way a request for a URI can go.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub outcome: Outcome,
    /// The location selected for the URI; `None`: no location matched, the server's
    /// own configuration applies.
    pub location: Option<LocationRef>,
    /// The location that produced the answer, after internal redirects.
    pub answered_by: Option<LocationRef>,
    /// The `if` conditions this answer depends on (empty: always).
    pub conditions: Vec<String>,
    /// Decided by the server's own rewrite directives, before any location.
    pub server_level: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Exact(String),
    Prefix { name: String, noregex: bool },
    Regex { pattern: String, caseless: bool },
    Named(String),
}

/// The reason of a route that cannot be told from the configuration alone (an
/// expression or a variable not evaluated here); its answer is [`Outcome::Unknown`].
pub const NOT_EVALUABLE: &str = "not_evaluable";

fn not_evaluable(message: impl Into<String>) -> Problem {
    Problem::new(NOT_EVALUABLE, message)
}

/// A location's kind from its arguments (`ngx_http_core_location`). The error is
/// nginx's own text for the same location, word for word, so it stays a `String`.
fn kind(location: &Directive) -> Result<Kind, String> {
    match location.args.as_slice() {
        [modifier, name] => match modifier.as_str() {
            "=" => Ok(Kind::Exact(name.clone())),
            "^~" => Ok(Kind::Prefix {
                name: name.clone(),
                noregex: true,
            }),
            "~" => Ok(Kind::Regex {
                pattern: name.clone(),
                caseless: false,
            }),
            "~*" => Ok(Kind::Regex {
                pattern: name.clone(),
                caseless: true,
            }),
            other => Err(format!("invalid location modifier \"{other}\"")),
        },
        [name] => Ok(if let Some(rest) = name.strip_prefix('=') {
            Kind::Exact(rest.into())
        } else if let Some(rest) = name.strip_prefix("^~") {
            Kind::Prefix {
                name: rest.into(),
                noregex: true,
            }
        } else if let Some(rest) = name.strip_prefix("~*") {
            Kind::Regex {
                pattern: rest.into(),
                caseless: true,
            }
        } else if let Some(rest) = name.strip_prefix('~') {
            Kind::Regex {
                pattern: rest.into(),
                caseless: false,
            }
        } else if name.starts_with('@') {
            Kind::Named(name.clone())
        } else {
            Kind::Prefix {
                name: name.clone(),
                noregex: false,
            }
        }),
        _ => Err("invalid number of arguments in \"location\" directive".into()),
    }
}

thread_local! {
    /// Compiled expressions: one configuration is asked about many URIs.
    static COMPILED: std::cell::RefCell<std::collections::HashMap<(String, bool), Result<Regex, Problem>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Most compiled expressions kept.
const MAX_COMPILED: usize = 4096;

/// Compiles an nginx (PCRE) regular expression, or says why it cannot be evaluated
/// ([`NOT_EVALUABLE`]).
pub fn compile(pattern: &str, caseless: bool) -> Result<Regex, Problem> {
    let key = (pattern.to_owned(), caseless);
    if let Some(found) = COMPILED.with(|c| c.borrow().get(&key).cloned()) {
        return found;
    }
    let compiled = compile_uncached(pattern, caseless);
    COMPILED.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= MAX_COMPILED {
            cache.clear();
        }
        cache.insert(key, compiled.clone());
    });
    compiled
}

fn compile_uncached(pattern: &str, caseless: bool) -> Result<Regex, Problem> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .case_insensitive(caseless)
        .size_limit(1 << 20)
        .build()
        .map_err(|err| {
            let first = err.to_string();
            let first = first
                .lines()
                .rfind(|l| l.starts_with("error:"))
                .unwrap_or("not understood")
                .trim_start_matches("error: ")
                .to_owned();
            not_evaluable(format!(
                "the regular expression \"{pattern}\" cannot be evaluated here ({first})"
            ))
        })
}

fn is_location(d: &Directive) -> bool {
    d.name == "location" && d.block
}

fn auto_redirect(location: &Directive, name: &str) -> bool {
    name.ends_with('/')
        && location
            .children
            .iter()
            .any(|c| UPSTREAM_HANDLERS.contains(&c.name.as_str()))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Found {
    /// An exact or regex match (`NGX_OK`).
    Ok,
    /// The 301 to the URI with a slash (`NGX_DONE`).
    Redirect,
    /// A prefix match (`NGX_AGAIN`).
    Prefix,
    /// Nothing matched (`NGX_DECLINED`).
    None,
}

/// `ngx_http_core_find_location` on the locations among `children`; `chain` is the
/// request's `loc_conf`: the selected location and the ones it is nested in.
fn find_location<'c>(
    children: &'c [Directive],
    uri: &str,
    chain: &mut Vec<&'c Directive>,
) -> Result<Found, Problem> {
    let base = chain.len();
    let mut statics: Vec<(&'c Directive, Kind)> = Vec::new();
    let mut regexes: Vec<&'c Directive> = Vec::new();
    for location in children.iter().filter(|d| is_location(d)) {
        match kind(location).map_err(not_evaluable)? {
            Kind::Regex { .. } => regexes.push(location),
            Kind::Named(_) => {}
            k => statics.push((location, k)),
        }
    }
    // ngx_http_core_find_static_location: exact, then a prefix equal to the URI, then
    // the auto redirect, then the longest prefix.
    if let Some((location, _)) = statics
        .iter()
        .find(|(_, k)| matches!(k, Kind::Exact(name) if name == uri))
    {
        chain.push(location);
        return Ok(Found::Ok);
    }
    let longest = statics
        .iter()
        .filter_map(|(location, k)| match k {
            Kind::Prefix { name, noregex } if uri.starts_with(name.as_str()) => {
                Some((*location, name.len(), *noregex))
            }
            _ => None,
        })
        .max_by_key(|(_, len, _)| *len);
    let prefix_is_uri = longest.is_some_and(|(_, len, _)| len == uri.len());
    if !prefix_is_uri {
        let slashed = format!("{uri}/");
        if let Some((location, _)) = statics.iter().find(|(location, k)| match k {
            Kind::Exact(name) | Kind::Prefix { name, .. } => {
                *name == slashed && auto_redirect(location, name)
            }
            _ => false,
        }) {
            chain.push(location);
            return Ok(Found::Redirect);
        }
    }
    let mut found = Found::None;
    let mut noregex = false;
    if let Some((location, _, no_regex)) = longest {
        chain.push(location);
        noregex = no_regex;
        found = find_location(&location.children, uri, chain)?;
        if matches!(found, Found::Ok | Found::Redirect) {
            return Ok(found);
        }
        found = Found::Prefix;
    }
    if !noregex {
        for location in regexes {
            let Kind::Regex { pattern, caseless } = kind(location).map_err(not_evaluable)? else {
                continue;
            };
            let regex = compile(&pattern, caseless)?;
            if regex.is_match(uri.as_bytes()) {
                chain.truncate(base);
                chain.push(location);
                find_location(&location.children, uri, chain)?;
                return Ok(Found::Ok);
            }
        }
    }
    Ok(found)
}

/// How a list of rewrite directives ended.
#[derive(Debug, Clone)]
enum End {
    Answer(Outcome),
    /// `rewrite … last`, or the end of the list with the URI changed: search the
    /// locations again.
    Again,
    /// `break`, `rewrite … break`, or the end of the list with the URI unchanged.
    Stay,
}

/// One path through the request's processing.
#[derive(Debug, Clone)]
struct Walk<'c> {
    uri: String,
    internal: bool,
    changes_left: u8,
    conditions: Vec<String>,
    /// The first location selected (set once).
    selected: Option<Option<&'c Directive>>,
    /// Set after `error_page` was used: `recursive_error_pages` is off by default.
    error_page_used: bool,
    /// A static file is expected to exist (the target of `try_files` or `error_page`).
    expect_file: bool,
    /// The `if` block that took over the request, if any.
    if_block: Option<&'c Directive>,
    /// Set by `error_page` with a page: the status the client gets from it.
    error_status: Option<ErrorStatus>,
}

/// The status of an error page's answer (`error_page CODE [=[NEW]] PAGE`).
#[derive(Debug, Clone, Copy)]
enum ErrorStatus {
    /// No `=`: the original status, with the page's body.
    Keep(u16),
    /// `=NEW`.
    Set(u16),
    /// `=` alone: whatever the page answers.
    Page,
}

/// Evaluates requests against one server.
pub struct Router<'c> {
    config: &'c Config,
    server: Server<'c>,
    /// Rewrite directives evaluated so far, against [`MAX_STEPS`].
    steps: std::cell::Cell<usize>,
}

/// Every way a request for `uri` (normalised, without arguments) can go in `server`.
pub fn answers<'c>(config: &'c Config, server: Server<'c>, uri: &str) -> Vec<Answer> {
    let router = Router {
        config,
        server,
        steps: std::cell::Cell::new(0),
    };
    let walk = Walk {
        uri: uri.to_owned(),
        internal: false,
        changes_left: MAX_URI_CHANGES + 1,
        conditions: Vec::new(),
        selected: None,
        error_page_used: false,
        expect_file: false,
        if_block: None,
        error_status: None,
    };
    let mut out = Vec::new();
    router.server_phase(walk, &mut out);
    if out.len() > MAX_ANSWERS {
        out.truncate(MAX_ANSWERS);
        out.push(Answer {
            outcome: Outcome::Unknown {
                why: format!("more than {MAX_ANSWERS} branches of if blocks"),
            },
            location: None,
            answered_by: None,
            conditions: Vec::new(),
            server_level: false,
        });
    }
    out
}

impl<'c> Router<'c> {
    fn location_ref(&self, location: &Directive) -> LocationRef {
        LocationRef {
            name: location.args.join(" "),
            file: self.config.files[location.file].path.display().to_string(),
            line: location.line,
        }
    }

    fn push(
        &self,
        walk: &Walk<'c>,
        chain: &[&'c Directive],
        outcome: Outcome,
        server_level: bool,
        out: &mut Vec<Answer>,
    ) {
        if out.len() > MAX_ANSWERS {
            return;
        }
        let outcome = match (walk.error_status, outcome) {
            (_, unknown @ Outcome::Unknown { .. }) => unknown,
            (Some(ErrorStatus::Keep(code)), outcome) => Outcome::Status {
                code,
                by: format!("error_page, its page {}", outcome.describe()),
            },
            (Some(ErrorStatus::Set(code)), _) if code == 404 || code == 410 => Outcome::Status {
                code,
                by: format!("error_page ={code} {}", walk.uri),
            },
            (Some(ErrorStatus::Set(code)), _) => Outcome::Fallback {
                code,
                uri: walk.uri.clone(),
            },
            (_, outcome) => outcome,
        };
        out.push(Answer {
            outcome,
            location: walk
                .selected
                .flatten()
                .or(chain.last().copied())
                .map(|l| self.location_ref(l)),
            answered_by: chain.last().map(|l| self.location_ref(l)),
            conditions: walk.conditions.clone(),
            server_level,
        });
    }

    /// NGX_HTTP_SERVER_REWRITE_PHASE, then location selection.
    fn server_phase(&self, walk: Walk<'c>, out: &mut Vec<Answer>) {
        if out.len() > MAX_ANSWERS {
            return;
        }
        for (walk, end) in self.script(&self.server.block.children, walk) {
            match end {
                End::Answer(outcome) => self.push(&walk, &[], outcome, true, out),
                // A server-level `if` does not switch the configuration.
                End::Again | End::Stay => self.find_config(
                    Walk {
                        if_block: None,
                        ..walk
                    },
                    out,
                ),
            }
        }
    }

    /// NGX_HTTP_FIND_CONFIG_PHASE and what follows it.
    fn find_config(&self, mut walk: Walk<'c>, out: &mut Vec<Answer>) {
        let mut chain = Vec::new();
        let found = match find_location(&self.server.block.children, &walk.uri, &mut chain) {
            Ok(found) => found,
            Err(why) => {
                let why = why.message;
                return self.push(&walk, &chain, Outcome::Unknown { why }, false, out);
            }
        };
        if walk.selected.is_none() {
            walk.selected = Some(chain.last().copied());
        }
        walk.if_block = None;
        if found == Found::Redirect {
            let to = format!("{}/", walk.uri);
            return self.push(
                &walk,
                &chain,
                Outcome::Redirect { code: 301, to },
                false,
                out,
            );
        }
        // `internal` is inherited by nested locations (ngx_http_core_merge_loc_conf).
        if !walk.internal
            && chain
                .iter()
                .any(|l| l.children.iter().any(|c| c.name == "internal"))
        {
            let outcome = Outcome::Status {
                code: 404,
                by: "internal location".into(),
            };
            return self.finish(walk, &chain, outcome, true, out);
        }
        self.location_phase(walk, chain, out);
    }

    /// NGX_HTTP_REWRITE_PHASE (skipped when no location matched), then the rest.
    fn location_phase(&self, walk: Walk<'c>, chain: Vec<&'c Directive>, out: &mut Vec<Answer>) {
        let Some(location) = chain.last() else {
            return self.content(walk, &chain, out);
        };
        for (mut walk, end) in self.script(&location.children, walk) {
            match end {
                End::Answer(outcome) => {
                    let error_page = matches!(outcome, Outcome::Status { ref by, .. } if !by.contains("with a body"));
                    self.finish(walk, &chain, outcome, error_page, out);
                }
                End::Again => {
                    // NGX_HTTP_POST_REWRITE_PHASE.
                    walk.changes_left -= 1;
                    if walk.changes_left == 0 {
                        let outcome = Outcome::Status {
                            code: 500,
                            by: "rewrite or internal redirection cycle".into(),
                        };
                        self.push(&walk, &chain, outcome, false, out);
                    } else {
                        self.find_config(walk, out);
                    }
                }
                End::Stay => self.content(walk, &chain, out),
            }
        }
    }

    /// The configuration levels from the innermost out: the `if` block that took
    /// over, the location and those it is nested in, the server, `http`.
    fn levels(&self, walk: &Walk<'c>, chain: &[&'c Directive]) -> Vec<&'c Directive> {
        let mut levels: Vec<&'c Directive> = walk.if_block.into_iter().collect();
        levels.extend(chain.iter().rev());
        levels.push(self.server.block);
        levels.extend(self.server.http);
        levels
    }

    /// NGX_HTTP_ACCESS_PHASE, NGX_HTTP_TRY_FILES_PHASE, NGX_HTTP_CONTENT_PHASE.
    fn content(&self, walk: Walk<'c>, chain: &[&'c Directive], out: &mut Vec<Answer>) {
        let levels = self.levels(&walk, chain);
        // Access rules are inherited as a list from the nearest level that has any.
        if let Some(level) = levels.iter().find(|l| {
            l.children
                .iter()
                .any(|c| c.name == "allow" || c.name == "deny")
        }) {
            let first = level
                .children
                .iter()
                .find(|c| c.name == "allow" || c.name == "deny");
            if first.is_some_and(|d| d.name == "deny" && d.args == ["all"]) {
                let outcome = Outcome::Status {
                    code: 403,
                    by: "deny all".into(),
                };
                return self.finish(walk, chain, outcome, true, out);
            }
        }
        // try_files is the location's own (its module merges nothing), and an `if`
        // that took over has none.
        let own = match (walk.if_block, chain.last()) {
            (Some(_), _) => None,
            (None, Some(location)) => Some(*location),
            (None, None) => Some(self.server.block),
        };
        if let Some(try_files) = own.and_then(|b| b.children.iter().find(|c| c.name == "try_files"))
        {
            let last = try_files.args.last().cloned().unwrap_or_default();
            // At the target of an internal redirect (the SPA's index) the file is
            // taken to exist: `$uri` finds it.
            let files = &try_files.args[..try_files.args.len().saturating_sub(1)];
            if walk.expect_file && files.iter().any(|f| f.contains("$uri") || *f == walk.uri) {
                let outcome = Outcome::Fallback {
                    code: 200,
                    uri: walk.uri.clone(),
                };
                return self.push(&walk, chain, outcome, false, out);
            }
            if let Some(code) = last.strip_prefix('=') {
                return match code.parse::<u16>() {
                    Ok(code) => {
                        let outcome = Outcome::Status {
                            code,
                            by: format!("try_files … ={code}"),
                        };
                        self.finish(walk, chain, outcome, true, out)
                    }
                    Err(_) => self.push(
                        &walk,
                        chain,
                        Outcome::Unknown {
                            why: format!("try_files ends in \"{last}\""),
                        },
                        false,
                        out,
                    ),
                };
            }
            // Earlier arguments name files; the legacy path is no file, so the last
            // argument, an internal redirect, decides.
            return self.internal_redirect(walk, chain, &last, out);
        }
        let handler = walk
            .if_block
            .into_iter()
            .chain(chain.last().copied())
            .flat_map(|b| b.children.iter())
            .find(|c| UPSTREAM_HANDLERS.contains(&c.name.as_str()));
        if let Some(handler) = handler {
            let directive = format!(
                "{} {} at {}",
                handler.name,
                handler.args.join(" "),
                self.config.place(handler)
            );
            return self.push(&walk, chain, Outcome::Proxied { directive }, false, out);
        }
        if let Some(module) = chain
            .last()
            .into_iter()
            .flat_map(|b| b.children.iter())
            .find(|c| MODULE_HANDLERS.contains(&c.name.as_str()))
        {
            let outcome = Outcome::Status {
                code: 200,
                by: format!("{} at {}", module.name, self.config.place(module)),
            };
            return self.push(&walk, chain, outcome, false, out);
        }
        if walk.expect_file {
            let outcome = Outcome::Fallback {
                code: 200,
                uri: walk.uri.clone(),
            };
            return self.push(&walk, chain, outcome, false, out);
        }
        let outcome = Outcome::Status {
            code: 404,
            by: "static files: no such file under the root".into(),
        };
        self.finish(walk, chain, outcome, true, out)
    }

    /// To a named location (`@name`) or an internal redirect to a URI (arguments
    /// dropped), as `try_files` and `error_page` do.
    fn internal_redirect(
        &self,
        mut walk: Walk<'c>,
        chain: &[&'c Directive],
        target: &str,
        out: &mut Vec<Answer>,
    ) {
        walk.changes_left -= 1;
        if walk.changes_left == 0 {
            let outcome = Outcome::Status {
                code: 500,
                by: "rewrite or internal redirection cycle".into(),
            };
            return self.push(&walk, chain, outcome, false, out);
        }
        walk.internal = true;
        walk.expect_file = true;
        walk.if_block = None;
        if target.starts_with('@') {
            let named = self.server.block.children.iter().find(|d| {
                is_location(d) && matches!(kind(d), Ok(Kind::Named(ref n)) if n == target)
            });
            return match named {
                Some(named) => self.location_phase(walk, vec![named], out),
                None => self.push(
                    &walk,
                    chain,
                    Outcome::Unknown {
                        why: format!("no location {target} in this server"),
                    },
                    false,
                    out,
                ),
            };
        }
        let uri = match substitute(target, &walk.uri, &[]) {
            Ok(uri) => uri,
            Err(why) => {
                let why = why.message;
                return self.push(&walk, chain, Outcome::Unknown { why }, false, out);
            }
        };
        walk.uri = uri.split('?').next().unwrap_or("").to_owned();
        self.server_phase(walk, out)
    }

    /// A status nginx itself answers: through `error_page` when `error_page` applies
    /// (an error status without a body, and no error page used yet).
    fn finish(
        &self,
        walk: Walk<'c>,
        chain: &[&'c Directive],
        outcome: Outcome,
        error_page: bool,
        out: &mut Vec<Answer>,
    ) {
        let code = match &outcome {
            Outcome::Status { code, .. } if error_page && *code >= 400 && !walk.error_page_used => {
                *code
            }
            _ => return self.push(&walk, chain, outcome, false, out),
        };
        // ngx_http_core_merge_loc_conf: a level with error_page replaces the whole list.
        let levels = self.levels(&walk, chain);
        let page = levels
            .iter()
            .find(|l| l.children.iter().any(|c| c.name == "error_page"))
            .and_then(|l| {
                l.children.iter().find(|c| {
                    c.name == "error_page"
                        && c.args.len() >= 2
                        && c.args[..c.args.len() - 1]
                            .iter()
                            .any(|a| a.parse::<u16>() == Ok(code))
                })
            });
        let Some(page) = page else {
            return self.push(&walk, chain, outcome, false, out);
        };
        let target = page.args.last().cloned().unwrap_or_default();
        let overwrite = page
            .args
            .iter()
            .find_map(|a| a.strip_prefix('='))
            .map(|n| n.parse::<u16>().ok());
        let mut walk = walk;
        walk.error_page_used = true;
        if target.starts_with("http://") || target.starts_with("https://") {
            let code = match overwrite {
                Some(Some(n @ (301 | 302 | 303 | 307 | 308))) => n,
                _ => 302,
            };
            return self.push(
                &walk,
                chain,
                Outcome::Redirect { code, to: target },
                false,
                out,
            );
        }
        walk.error_status = Some(match overwrite {
            None => ErrorStatus::Keep(code),
            Some(Some(new)) => ErrorStatus::Set(new),
            Some(None) => ErrorStatus::Page,
        });
        self.internal_redirect(walk, chain, &target, out)
    }

    /// Runs a list of rewrite-module directives; each `if` whose condition depends on
    /// the request splits the walk in two.
    fn script(&self, statements: &'c [Directive], walk: Walk<'c>) -> Vec<(Walk<'c>, End)> {
        struct State<'c> {
            walk: Walk<'c>,
            stack: Vec<(&'c [Directive], usize)>,
            uri_changed: bool,
        }
        let mut pending = vec![State {
            walk,
            stack: vec![(statements, 0)],
            uri_changed: false,
        }];
        let mut ended = Vec::new();
        while let Some(mut state) = pending.pop() {
            if ended.len() + pending.len() > MAX_ANSWERS || self.steps.get() > MAX_STEPS {
                let why = format!(
                    "more than {MAX_ANSWERS} branches of if blocks or {MAX_STEPS} rewrite steps"
                );
                ended.push((state.walk, End::Answer(Outcome::Unknown { why })));
                break;
            }
            let end = loop {
                let Some((list, index)) = state.stack.last_mut() else {
                    break if state.uri_changed {
                        End::Again
                    } else {
                        End::Stay
                    };
                };
                let Some(directive) = list.get(*index) else {
                    state.stack.pop();
                    continue;
                };
                *index += 1;
                self.steps.set(self.steps.get() + 1);
                match directive.name.as_str() {
                    "return" => break End::Answer(self.return_outcome(directive)),
                    "break" => break End::Stay,
                    "rewrite" => match self.rewrite(directive, &state.walk.uri) {
                        Rewrite::NoMatch => {}
                        Rewrite::Answer(outcome) => break End::Answer(outcome),
                        Rewrite::Uri { uri, flag } => {
                            state.walk.uri = uri;
                            match flag.as_deref() {
                                Some("last") => break End::Again,
                                Some("break") => break End::Stay,
                                _ => state.uri_changed = true,
                            }
                        }
                    },
                    "if" if directive.block => {
                        let text = format!(
                            "if {} at {}",
                            directive.args.join(" "),
                            self.config.place(directive)
                        );
                        match condition(&directive.args, &state.walk.uri) {
                            Some(true) => {
                                state.walk.if_block = Some(directive);
                                state.stack.push((&directive.children, 0));
                            }
                            Some(false) => {}
                            None => {
                                let mut taken = Walk {
                                    if_block: Some(directive),
                                    ..state.walk.clone()
                                };
                                taken.conditions.push(format!("{text} is true"));
                                let mut stack = state.stack.clone();
                                stack.push((&directive.children, 0));
                                pending.push(State {
                                    walk: taken,
                                    stack,
                                    uri_changed: state.uri_changed,
                                });
                                state.walk.conditions.push(format!("{text} is false"));
                            }
                        }
                    }
                    _ => {}
                }
            };
            ended.push((state.walk, end));
        }
        ended
    }

    /// `return` (ngx_http_rewrite_return, ngx_http_script_return_code).
    fn return_outcome(&self, directive: &Directive) -> Outcome {
        let at = self.config.place(directive);
        match directive.args.as_slice() {
            [code] if code.parse::<u16>().is_ok() => Outcome::Status {
                code: code.parse().unwrap_or(0),
                by: format!("return {code} at {at}"),
            },
            [code, target] if matches!(code.as_str(), "301" | "302" | "303" | "307" | "308") => {
                Outcome::Redirect {
                    code: code.parse().unwrap_or(302),
                    to: target.clone(),
                }
            }
            [code, _] if code.parse::<u16>().is_ok() => Outcome::Status {
                code: code.parse().unwrap_or(0),
                by: format!("return {code} with a body at {at}"),
            },
            [url] => Outcome::Redirect {
                code: 302,
                to: url.clone(),
            },
            _ => Outcome::Unknown {
                why: format!("invalid return at {at}"),
            },
        }
    }

    /// `rewrite regex replacement [flag]` (ngx_http_rewrite).
    fn rewrite(&self, directive: &Directive, uri: &str) -> Rewrite {
        let at = self.config.place(directive);
        let (pattern, replacement, flag) = match directive.args.as_slice() {
            [p, r] => (p, r, None),
            [p, r, f] => (p, r, Some(f.clone())),
            _ => {
                return Rewrite::Answer(Outcome::Unknown {
                    why: format!("invalid rewrite at {at}"),
                })
            }
        };
        let regex = match compile(pattern, false) {
            Ok(regex) => regex,
            Err(why) => {
                return Rewrite::Answer(Outcome::Unknown {
                    why: format!("{why} (rewrite at {at})"),
                })
            }
        };
        let Some(captures) = regex.captures(uri.as_bytes()) else {
            return Rewrite::NoMatch;
        };
        let groups: Vec<String> = captures
            .iter()
            .map(|m| {
                m.map_or(String::new(), |m| {
                    String::from_utf8_lossy(m.as_bytes()).into_owned()
                })
            })
            .collect();
        let to_url = ["http://", "https://", "$scheme"]
            .iter()
            .any(|p| replacement.starts_with(p));
        let redirect = match flag.as_deref() {
            Some("permanent") => Some(301),
            Some("redirect") => Some(302),
            _ if to_url => Some(302),
            _ => None,
        };
        let substituted = substitute(replacement, uri, &groups);
        if let Some(code) = redirect {
            let to = substituted.unwrap_or_else(|_| replacement.clone());
            return Rewrite::Answer(Outcome::Redirect { code, to });
        }
        match substituted {
            Ok(new) => Rewrite::Uri {
                uri: new.split('?').next().unwrap_or("").to_owned(),
                flag,
            },
            Err(why) => Rewrite::Answer(Outcome::Unknown {
                why: format!("{why} (rewrite at {at})"),
            }),
        }
    }
}

enum Rewrite {
    NoMatch,
    Answer(Outcome),
    Uri { uri: String, flag: Option<String> },
}

/// Replaces `$1`…`$9`, `$uri` and `$document_uri` in a rewrite replacement or a
/// `try_files` URI; any other variable makes the result unknown here
/// ([`NOT_EVALUABLE`]).
fn substitute(template: &str, uri: &str, groups: &[String]) -> Result<String, Problem> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, tail) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (&braced[..end], &braced[end + 1..]),
                None => {
                    return Err(not_evaluable(format!(
                        "unterminated variable in \"{template}\""
                    )))
                }
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                // `$1abc` is capture 1 followed by text: captures are one digit.
                let end = if after.starts_with(|c: char| c.is_ascii_digit()) {
                    1
                } else {
                    end
                };
                (&after[..end], &after[end..])
            }
        };
        if let Ok(n) = name.parse::<usize>() {
            out.push_str(groups.get(n).map_or("", String::as_str));
        } else if name == "uri" || name == "document_uri" {
            out.push_str(uri);
        } else {
            return Err(not_evaluable(format!(
                "\"{template}\" depends on ${name}, which is not known here"
            )));
        }
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

/// An `if` condition (ngx_http_rewrite_if_condition): `Some` when it can be decided
/// from the URI alone (`$uri`/`$document_uri` compared or matched), `None` when it
/// depends on the request.
fn condition(args: &[String], uri: &str) -> Option<bool> {
    let mut words: Vec<String> = args.to_vec();
    if let Some(first) = words.first_mut() {
        *first = first.strip_prefix('(').unwrap_or(first).to_owned();
    }
    if let Some(last) = words.last_mut() {
        *last = last.strip_suffix(')').unwrap_or(last).to_owned();
    }
    words.retain(|w| !w.is_empty());
    let [variable, operator, value] = words.as_slice() else {
        return None;
    };
    if variable != "$uri" && variable != "$document_uri" {
        return None;
    }
    match operator.as_str() {
        "=" => Some(uri == value),
        "!=" => Some(uri != value),
        "~" | "~*" | "!~" | "!~*" => {
            let regex = compile(value, operator.ends_with('*')).ok()?;
            let matched = regex.is_match(uri.as_bytes());
            Some(if operator.starts_with('!') {
                !matched
            } else {
                matched
            })
        }
        _ => None,
    }
}

/// The URI nginx matches locations against, from a request target: the arguments
/// dropped, `%XX` decoded, `//` merged and `.`/`..` segments resolved, as
/// `ngx_http_parse_complex_uri` does (`src/http/ngx_http_parse.c`, with
/// `merge_slashes on`). `None` for a target nginx rejects (400): one that does not
/// start with `/` or climbs above the root.
pub fn normalize_uri(target: &str) -> Option<String> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // A `%` without two hex digits is a 400 in nginx.
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            match u8::from_str_radix(hex, 16) {
                Ok(b) => {
                    decoded.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => return None,
            }
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    let text = String::from_utf8_lossy(&decoded).into_owned();
    let mut segments: Vec<&str> = Vec::new();
    let trailing = text.ends_with('/') || text.ends_with("/.") || text.ends_with("/..");
    for segment in text.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            other => segments.push(other),
        }
    }
    let mut uri = format!("/{}", segments.join("/"));
    if trailing && uri != "/" {
        uri.push('/');
    }
    Some(uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::parse_text;

    fn answer_of(text: &str, uri: &str) -> Vec<Answer> {
        let config = parse_text("nginx.conf", text).unwrap();
        let servers = config.servers();
        answers(&config, servers[0], uri)
    }

    fn one(text: &str, uri: &str) -> (Option<usize>, Outcome) {
        let all = answer_of(text, uri);
        assert_eq!(all.len(), 1, "{all:#?}");
        (
            all[0].answered_by.as_ref().map(|l| l.line),
            all[0].outcome.clone(),
        )
    }

    #[test]
    fn exact_beats_prefix_and_regex() {
        let text = "server {\nlocation = /status/summary { return 410; }\nlocation /status/ { proxy_pass http://b; }\nlocation ~ summary { return 403; }\n}\n";
        assert_eq!(one(text, "/status/summary").0, Some(2));
        assert_eq!(one(text, "/status/x").0, Some(3));
        assert_eq!(
            one(text, "/status/x/summary").0,
            Some(4),
            "regex beats prefix"
        );
    }

    #[test]
    fn caret_tilde_stops_the_regex_search_and_regexes_go_in_file_order() {
        let text = "server {\nlocation ^~ /status/ { return 410; }\nlocation ~ ^/status/ { proxy_pass http://b; }\nlocation ~ /s { return 403; }\nlocation ~ /x { return 404; }\n}\n";
        assert_eq!(one(text, "/status/summary").0, Some(2));
        assert_eq!(one(text, "/sx").0, Some(4), "first regex in file order");
    }

    #[test]
    fn only_the_longest_prefix_counts_for_caret_tilde() {
        // `^~ /status/` is not the longest prefix of /status/summary: regexes run.
        let text = "server {\nlocation ^~ /status/ { return 410; }\nlocation /status/summary { return 404; }\nlocation ~ summary { proxy_pass http://b; }\n}\n";
        assert_eq!(one(text, "/status/summary").0, Some(4));
    }

    #[test]
    fn nested_locations_and_their_regexes_come_first() {
        let text = "server {\nlocation /status/ {\n  location ~ summary$ { return 410; }\n  proxy_pass http://b;\n}\nlocation ~ ^/status { proxy_pass http://b; }\n}\n";
        assert_eq!(one(text, "/status/summary").0, Some(3));
    }

    #[test]
    fn a_missing_slash_redirects_to_a_proxied_location() {
        let text = "server {\nlocation /status/ { proxy_pass http://b; }\n}\n";
        assert_eq!(
            one(text, "/status").1,
            Outcome::Redirect {
                code: 301,
                to: "/status/".into()
            }
        );
    }

    #[test]
    fn if_branches_that_sometimes_return_give_two_answers() {
        let text = "server {\nlocation /status/ {\n  if ($arg_x) { return 410; }\n  proxy_pass http://b;\n}\n}\n";
        let all = answer_of(text, "/status/summary");
        let kinds: Vec<&str> = all.iter().map(|a| a.outcome.kind()).collect();
        assert_eq!(kinds.len(), 2, "{all:#?}");
        assert!(kinds.contains(&"proxied") && kinds.contains(&"status"));
        assert!(all.iter().all(|a| a.conditions.len() == 1));
    }

    #[test]
    fn try_files_falls_back_to_the_spa_and_error_page_can_too() {
        let text = "server {\nlocation / { try_files $uri /index.html; }\n}\n";
        assert!(matches!(
            one(text, "/status/summary").1,
            Outcome::Fallback { code: 200, .. }
        ));
        let text = "server {\nerror_page 404 =200 /index.html;\nlocation /x/ { }\n}\n";
        assert!(matches!(
            one(text, "/status/summary").1,
            Outcome::Fallback { code: 200, .. }
        ));
        let text = "server {\nerror_page 404 /404.html;\n}\n";
        assert!(matches!(
            one(text, "/status/summary").1,
            Outcome::Status { code: 404, .. }
        ));
    }

    #[test]
    fn rewrite_last_searches_again_and_a_cycle_is_a_500() {
        let text = "server {\nlocation /status/ { rewrite ^/status/(.*)$ /api/status/$1 last; }\nlocation /api/status/ { proxy_pass http://b; }\n}\n";
        let all = answer_of(text, "/status/summary");
        assert_eq!(all[0].location.as_ref().unwrap().line, 2);
        assert_eq!(all[0].answered_by.as_ref().unwrap().line, 3);
        assert_eq!(all[0].outcome.kind(), "proxied");
        let text = "server {\nlocation / { rewrite ^(.*)$ $1 last; }\n}\n";
        assert!(matches!(
            one(text, "/x").1,
            Outcome::Status { code: 500, .. }
        ));
    }

    #[test]
    fn an_unsupported_regex_is_unknown_not_a_pass() {
        let text = "server {\nlocation ~ ^/(?!api) { proxy_pass http://b; }\n}\n";
        assert!(matches!(
            one(text, "/status/summary").1,
            Outcome::Unknown { .. }
        ));
    }

    #[test]
    fn branching_and_redirect_loops_stay_bounded() {
        let ifs = "if ($arg_a) { set $x 1; }\n".repeat(12);
        let text = format!("server {{\nlocation / {{\n{ifs}rewrite ^/(.*)$ /$1 last;\n}}\n}}\n");
        let started = std::time::Instant::now();
        let all = answer_of(&text, "/status/summary");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(all.len() <= MAX_ANSWERS + 1, "{}", all.len());
        assert!(
            all.iter().any(|a| a.outcome.kind() == "unknown"),
            "{all:#?}"
        );
    }

    /// Mutated configurations (a small deterministic generator, no new crate): the
    /// reader and the evaluation end with an answer or an error, never a panic.
    #[test]
    fn mutated_configurations_never_panic() {
        let seed = "http {\n server {\n  listen 80;\n  if ($x) { return 200; }\n  location = /status/summary { return 410; }\n  location ^~ /status/ { try_files $uri @b; }\n  location ~* \"^/s(.*)\" { rewrite ^/s(.*)$ /$1 last; }\n  location @b { proxy_pass http://b; }\n  error_page 404 =200 /index.html;\n }\n}\n";
        let alphabet = b"{};\"'\\$#\n ~^=/@()*?.sablocationiftry_files";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3_000 {
            let mut bytes = seed.as_bytes().to_vec();
            for _ in 0..(next() % 6 + 1) {
                let at = (next() as usize) % (bytes.len() + 1);
                match next() % 3 {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(config) = parse_text("fuzz.conf", &text) {
                for server in config.servers() {
                    for uri in ["/status/summary", "/status", "/x"] {
                        let _ = answers(&config, server, uri);
                    }
                }
            }
        }
    }

    /// Forms common in nginx configurations that PCRE accepts.
    #[test]
    fn common_pcre_forms_compile() {
        for pattern in [
            r"^\/status\/",
            r"\.(?:js|css)$",
            r"^/api/(?<rest>.*)$",
            r"^/(status|health)/?$",
            r"\d+\.\d+",
        ] {
            assert!(compile(pattern, false).is_ok(), "{pattern}");
        }
        assert!(compile(r"^/(?!api)", false).is_err());
        assert!(compile(r"(a)\1", false).is_err());
    }

    #[test]
    fn uris_are_normalised_as_nginx_does() {
        assert_eq!(
            normalize_uri("//status/./summary?x=1").as_deref(),
            Some("/status/summary")
        );
        assert_eq!(
            normalize_uri("/%73tatus/summary").as_deref(),
            Some("/status/summary")
        );
        assert_eq!(normalize_uri("/a/../status/").as_deref(), Some("/status/"));
        assert_eq!(normalize_uri("/../x"), None);
        assert_eq!(normalize_uri("x"), None);
    }
}
