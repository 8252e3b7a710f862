//! cloudflared's ingress validation (`validateIngress`, `validateHostname`,
//! `validateAccessConfiguration` of `ingress/ingress.go`, the IP rules of
//! `ipaccess/access.go`, cloudflare/cloudflared), rule by rule in the same order,
//! with cloudflared's own error text; and the mistakes it accepts (rules that
//! can never match, per `Rule.Matches` of `ingress/rule.go`), as warnings.
//!
//! What cloudflared checks for each rule, in order (it stops at the first error):
//! 1. the service: `unix:PATH` and `unix+tls:PATH` (no check), `http_status:N`
//!    (`strconv.Atoi`, 100–999), `hello_world`/`hello-world`, `socks-proxy` (each
//!    `ipRules` prefix a CIDR, ports 1–65535), `bastion` or `bastionMode: true`
//!    (then any service, even none), else a URL (`net/url.Parse`) with a scheme
//!    and a host and an empty path (`http://a:80/` has the path `/`); http, https,
//!    ws, wss are proxied as HTTP, every other scheme as TCP over websocket;
//! 2. `access`: `required` with `audTag` needs `teamName`;
//! 3. the hostname: no port (`net.SplitHostPort` succeeds), `*` only as the
//!    first character; the last rule is the catch-all (no hostname or `*`, no
//!    path) and no other rule is;
//! 4. `path`: a Go regexp (RE2 syntax).

use super::schema::{OriginRequest, Rule};
use crate::golang;

/// One thing found about a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub reason: &'static str,
    /// cloudflared refuses the config for it (else it is a warning).
    pub refuses: bool,
    pub message: String,
}

/// What cloudflared makes of one rule.
#[derive(Debug, Clone)]
pub struct RuleReport {
    /// How cloudflared serves the rule: `http`, `tcp_over_websocket`, `unix`,
    /// `unix_tls`, `http_status`, `hello_world`, `socks_proxy`, `bastion`.
    pub service_kind: Option<&'static str>,
    pub catch_all: bool,
    /// The punycode form cloudflared also matches, when it differs.
    pub punycode: Option<String>,
    /// Refusals first (in cloudflared's order), then warnings.
    pub findings: Vec<Finding>,
}

impl RuleReport {
    pub fn refusal(&self) -> Option<&Finding> {
        self.findings.iter().find(|f| f.refuses)
    }
}

fn refuse(reason: &'static str, message: impl Into<String>) -> Finding {
    Finding {
        reason,
        refuses: true,
        message: message.into(),
    }
}

fn warn(reason: &'static str, message: impl Into<String>) -> Finding {
    Finding {
        reason,
        refuses: false,
        message: message.into(),
    }
}

/// `isCatchAllRule` of `validateHostname`.
pub fn is_catch_all(rule: &Rule) -> bool {
    (rule.hostname.is_empty() || rule.hostname == "*") && rule.path.is_empty()
}

/// The service check; returns the kind cloudflared serves it as.
fn check_service(
    rule: &Rule,
    defaults: &OriginRequest,
    findings: &mut Vec<Finding>,
) -> Option<&'static str> {
    let service = rule.service.as_str();
    let bastion = rule
        .origin_request
        .bastion_mode
        .or(defaults.bastion_mode)
        .unwrap_or(false);
    if service.starts_with("unix:") {
        return Some("unix");
    }
    if service.starts_with("unix+tls:") {
        return Some("unix_tls");
    }
    if let Some(code) = service.strip_prefix("http_status:") {
        return match golang::atoi(code) {
            Err(e) => {
                findings.push(refuse(
                    "invalid_http_status",
                    format!("invalid HTTP status code: {e}"),
                ));
                None
            }
            Ok(n) if !(100..=999).contains(&n) => {
                findings.push(refuse(
                    "invalid_http_status",
                    format!("invalid HTTP status code: {n}"),
                ));
                None
            }
            Ok(_) => Some("http_status"),
        };
    }
    if service == "hello-world" || service == "hello_world" {
        return Some("hello_world");
    }
    if service == "socks-proxy" {
        for ip_rule in &rule.origin_request.ip_rules {
            if let Err(e) = ip_rule_problem(ip_rule) {
                findings.push(refuse(
                    "invalid_ip_rule",
                    format!("unable to create ip rule for socks-proxy: {e}"),
                ));
                return None;
            }
        }
        return Some("socks_proxy");
    }
    if service == "bastion" || bastion {
        if service != "bastion" && !service.is_empty() {
            findings.push(warn(
                "bastion_overrides_service",
                format!(
                    "bastionMode is on (here or in the top-level originRequest): cloudflared serves this rule as a bastion and ignores service {service}"
                ),
            ));
        }
        return Some("bastion");
    }
    let url = match golang::url_parse(service) {
        Ok(url) => url,
        Err(e) => {
            findings.push(refuse("invalid_service", e));
            return None;
        }
    };
    if url.scheme.is_empty() || url.hostname().is_empty() {
        let reason = if service.is_empty() {
            "service_missing"
        } else {
            "invalid_service"
        };
        findings.push(refuse(
            reason,
            format!(
                "{service} is an invalid address, please make sure it has a scheme and a hostname"
            ),
        ));
        return None;
    }
    if !url.path.is_empty() {
        findings.push(refuse(
            "service_has_path",
            format!("{service} is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path"),
        ));
        return None;
    }
    Some(match url.scheme.as_str() {
        "http" | "https" | "ws" | "wss" => "http",
        _ => "tcp_over_websocket",
    })
}

/// `ipaccess.NewRuleByCIDR` and `Rule.Validate`.
fn ip_rule_problem(rule: &super::schema::IpRule) -> Result<(), String> {
    let prefix = rule.prefix.as_deref().unwrap_or("");
    if prefix.is_empty() {
        return Err("no prefix provided".into());
    }
    if golang::parse_cidr(prefix).is_err() {
        return Err(format!("unable to parse cidr: {prefix}"));
    }
    if let Some(port) = rule.ports.iter().find(|p| !(1..=65535).contains(*p)) {
        return Err(format!(
            "invalid port {port}, needs to be between 1 and 65535"
        ));
    }
    Ok(())
}

/// `validateHostname`.
fn check_hostname(rule: &Rule, index: usize, total: usize, findings: &mut Vec<Finding>) {
    if golang::split_host_port(&rule.hostname).is_ok() {
        findings.push(refuse(
            "hostname_has_port",
            "Hostname cannot contain a port",
        ));
        return;
    }
    if rule.hostname.rfind('*').is_some_and(|i| i > 0) {
        findings.push(refuse(
            "bad_wildcard",
            "Hostname patterns can have at most one wildcard character (\"*\") and it can only be used for subdomains, e.g. \"*.example.com\"",
        ));
        return;
    }
    let catch_all = is_catch_all(rule);
    let last = index + 1 == total;
    if last && !catch_all {
        findings.push(refuse(
            "last_rule_not_catch_all",
            "The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)",
        ));
    } else if !last && catch_all {
        findings.push(refuse(
            "catch_all_not_last",
            format!(
                "Rule #{} is matching the hostname '{}', but this will match every hostname, meaning the rules which follow it will never be triggered.",
                index + 1,
                rule.hostname
            ),
        ));
    }
}

/// The ASCII (punycode) form cloudflared also matches (`idna.Lookup.ToASCII`),
/// when the conversion works and changes the name.
fn punycode(hostname: &str) -> Option<String> {
    let ascii = idna::domain_to_ascii(hostname).ok()?;
    (ascii != hostname).then_some(ascii)
}

/// Whether a request could ever carry this name: DNS labels (after IDNA) of
/// letters, digits, `-` and `_`, at least two labels (a tunnel hostname lives in
/// a zone). cloudflared does not check this; the edge routes only such names.
fn routable(hostname: &str) -> bool {
    let name = hostname.strip_prefix("*.").unwrap_or(hostname);
    let Ok(ascii) = idna::domain_to_ascii(name) else {
        return false;
    };
    let labels: Vec<&str> = ascii.split('.').collect();
    ascii.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Whether every request rule `later` matches is matched by `earlier` first
/// (`matchHost` of ingress.go: equal, or `*.suffix`; then the path regexp).
fn shadows(earlier: &Rule, later: &Rule) -> bool {
    let host_covered = if earlier.hostname.is_empty()
        || earlier.hostname == "*"
        || earlier.hostname == later.hostname
    {
        true
    } else if let Some(suffix) = earlier.hostname.strip_prefix('*') {
        earlier.hostname.starts_with("*.")
            && !later.hostname.is_empty()
            && later.hostname != "*"
            && later.hostname.ends_with(suffix)
    } else {
        false
    };
    host_covered && (earlier.path.is_empty() || earlier.path == later.path)
}

/// Validates every rule as cloudflared does, plus the warnings.
pub fn validate(rules: &[Rule], defaults: &OriginRequest) -> Vec<RuleReport> {
    let total = rules.len();
    let mut reports = Vec::with_capacity(total);
    for (index, rule) in rules.iter().enumerate() {
        let mut findings = Vec::new();
        let service_kind = check_service(rule, defaults, &mut findings);
        if findings.iter().all(|f| !f.refuses) {
            if let Some(access) = &rule.origin_request.access {
                if access.required && access.team_name.is_empty() && !access.aud_tag.is_empty() {
                    findings.push(refuse(
                        "invalid_access",
                        "access.TeamName cannot be blank when access.audTags are present",
                    ));
                } else if access.required && access.team_name.is_empty() {
                    findings.push(warn(
                        "access_incomplete",
                        "access.required without teamName: cloudflared accepts it, but cannot verify any Access token",
                    ));
                }
            }
        }
        if findings.iter().all(|f| !f.refuses) {
            check_hostname(rule, index, total, &mut findings);
        }
        if findings.iter().all(|f| !f.refuses) && !rule.path.is_empty() {
            if let Err(e) = golang::regexp_check(&rule.path) {
                findings.push(refuse(
                    "invalid_path_regex",
                    format!("Rule #{} has an invalid regex: {e}", index + 1),
                ));
            }
        }
        let catch_all = is_catch_all(rule);
        let host = rule.hostname.as_str();
        // The warnings are for what cloudflared runs.
        let refused = findings.iter().any(|f| f.refuses);
        if !refused && !catch_all && !host.is_empty() && host != "*" {
            if host.starts_with('*') && !host.starts_with("*.") {
                findings.push(warn(
                    "wildcard_never_matches",
                    format!("{host} never matches: a wildcard only works as `*.` before a domain (`*.{}`)", &host[1..]),
                ));
            } else if !routable(host) {
                findings.push(warn(
                    "invalid_hostname",
                    format!("{host:?} is not a DNS name the edge can route to this tunnel; cloudflared accepts it but no request will carry it"),
                ));
            }
        }
        if !refused && !catch_all {
            if let Some((first, earlier)) = rules[..index]
                .iter()
                .enumerate()
                .find(|(_, earlier)| !is_catch_all(earlier) && shadows(earlier, rule))
            {
                let (reason, why) = if earlier.hostname == rule.hostname {
                    (
                        "duplicate_hostname",
                        format!("{} is already routed", display_host(&rule.hostname)),
                    )
                } else {
                    (
                        "rule_unreachable",
                        format!(
                            "{} already matches {}",
                            display_host(&earlier.hostname),
                            display_host(&rule.hostname)
                        ),
                    )
                };
                findings.push(warn(
                    reason,
                    format!(
                        "this rule is never used: {why} by rule #{} (line {}), and cloudflared takes the first rule that matches",
                        first + 1,
                        earlier.line
                    ),
                ));
            }
        }
        findings.sort_by_key(|f| !f.refuses);
        reports.push(RuleReport {
            service_kind,
            catch_all,
            punycode: if catch_all { None } else { punycode(host) },
            findings,
        });
    }
    reports
}

fn display_host(host: &str) -> String {
    if host.is_empty() {
        "every hostname".into()
    } else {
        host.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(hostname: &str, path: &str, service: &str) -> Rule {
        Rule {
            line: 1,
            hostname: hostname.into(),
            path: path.into(),
            service: service.into(),
            ..Rule::default()
        }
    }

    fn reasons(rules: &[Rule]) -> Vec<Vec<&'static str>> {
        validate(rules, &OriginRequest::default())
            .into_iter()
            .map(|r| r.findings.iter().map(|f| f.reason).collect())
            .collect()
    }

    #[test]
    fn services_as_cloudflared_reads_them() {
        let kinds: Vec<Option<&str>> = [
            "http://nginx:80",
            "wss://localhost:8000",
            "tcp://127.0.0.1",
            "rdp://localhost:3389",
            "ftp://127.0.0.1",
            "unix:/tmp/echo.sock",
            "unix+tls:/tmp/echo.sock",
            "http_status:404",
            "http_status:600",
            "hello_world",
            "hello-world",
            "bastion",
            "socks-proxy",
        ]
        .iter()
        .map(|s| validate(&[rule("", "", s)], &OriginRequest::default())[0].service_kind)
        .collect();
        assert_eq!(
            kinds,
            [
                Some("http"),
                Some("http"),
                Some("tcp_over_websocket"),
                Some("tcp_over_websocket"),
                Some("tcp_over_websocket"),
                Some("unix"),
                Some("unix_tls"),
                Some("http_status"),
                Some("http_status"),
                Some("hello_world"),
                Some("hello_world"),
                Some("bastion"),
                Some("socks_proxy"),
            ]
        );
        for (service, reason) in [
            ("http_status:asdf", "invalid_http_status"),
            ("http_status:8080", "invalid_http_status"),
            ("http_status:99", "invalid_http_status"),
            ("localhost:8000", "invalid_service"),
            ("https://local host:8000", "invalid_service"),
            ("https://localhost:8000/static/", "service_has_path"),
            ("http://localhost:8000/", "service_has_path"),
            ("", "service_missing"),
        ] {
            assert_eq!(reasons(&[rule("", "", service)]), [[reason]], "{service}");
        }
    }

    #[test]
    fn hostnames_catch_alls_and_paths() {
        let ok = "http://a:80";
        assert_eq!(
            reasons(&[rule("test.example.com:443", "", ok), rule("*", "", ok)]),
            [vec!["hostname_has_port"], vec![]]
        );
        assert_eq!(
            reasons(&[rule("test.*.example.com", "", ok)]),
            [["bad_wildcard"]]
        );
        assert_eq!(
            reasons(&[rule("example.com", "", ok)]),
            [["last_rule_not_catch_all"]]
        );
        assert_eq!(
            reasons(&[rule("", "", ok), rule("example.com", "", ok)]),
            [["catch_all_not_last"], ["last_rule_not_catch_all"]]
        );
        assert_eq!(
            reasons(&[rule("", "/subpath1/(.*)/subpath2", ok)]),
            [["last_rule_not_catch_all"]]
        );
        assert_eq!(
            reasons(&[rule("example.com", "*/subpath2", ok), rule("", "", ok)]),
            [vec!["invalid_path_regex"], vec![]]
        );
        assert_eq!(
            reasons(&[
                rule("a.example.com", "", ok),
                rule("a.example.com", "", ok),
                rule("*example.com", "", ok),
                rule("*.example.com", "", ok),
                rule("b.example.com", "/x", ok),
                rule("localhost", "", ok),
                rule("", "", ok)
            ]),
            [
                vec![],
                vec!["duplicate_hostname"],
                vec!["wildcard_never_matches"],
                vec![],
                vec!["rule_unreachable"],
                vec!["invalid_hostname"],
                vec![],
            ]
        );
        let unicode = validate(
            &[rule("môô.cloudflare.com", "", ok), rule("", "", ok)],
            &OriginRequest::default(),
        );
        assert_eq!(
            unicode[0].punycode.as_deref(),
            Some("xn--m-xgaa.cloudflare.com")
        );
        assert!(unicode[0].findings.is_empty());
    }

    #[test]
    fn bastion_mode_and_access() {
        let defaults = OriginRequest {
            bastion_mode: Some(true),
            ..OriginRequest::default()
        };
        let report = validate(&[rule("", "", "https://localhost:8000")], &defaults);
        assert_eq!(report[0].service_kind, Some("bastion"));
        assert_eq!(report[0].findings[0].reason, "bastion_overrides_service");
        let mut r = rule("", "", "");
        r.origin_request.bastion_mode = Some(true);
        assert_eq!(validate(&[r], &OriginRequest::default())[0].findings, []);
        let mut r = rule("", "", "http://a");
        r.origin_request.access = Some(super::super::schema::Access {
            required: true,
            aud_tag: vec!["a".into()],
            ..Default::default()
        });
        assert_eq!(reasons(&[r]), [["invalid_access"]]);
    }
}
