//! The differential suite: configs from cloudflared's own tests and validation
//! code (cloudflare/cloudflared), each with what cloudflared does with it and
//! why, checked against `tunnel-check config`. cloudflared accepts: no record
//! fails (a warning may say what is still wrong). cloudflared refuses: the named
//! check fails with the named reason, and the message carries cloudflared's own
//! words. The 16 corpus cases (`fixtures/corpus/config/`) are among them; the
//! others are in `fixtures/cloudflared/`, the YAML as the cited test writes it,
//! under a `tunnel:` and `credentials-file:` header with a good credentials file
//! beside it. Every verdict here was also checked against cloudflared's own
//! code (yaml.v3 decoding and `validateIngress` run on the same files).

mod common;

use common::{private_copy, run};
use day2_core::Verdict;

/// What cloudflared does with a config.
enum Expect {
    /// It runs it; nothing fails, and when given, this warning is raised.
    Accept(Option<&'static str>),
    /// It refuses: `check` fails with `reason`, the message containing `says`.
    Refuse {
        check: &'static str,
        reason: &'static str,
        says: &'static str,
    },
}

use Expect::{Accept, Refuse};

const fn refuse(check: &'static str, reason: &'static str, says: &'static str) -> Expect {
    Refuse {
        check,
        reason,
        says,
    }
}

/// (fixture directory, the cloudflared source it comes from, expectation).
const CASES: &[(&str, &str, Expect)] = &[
    // Corpus (../shared/corpus/tunnel-check/config), with the README's answers.
    ("corpus/config/04-wss-service", "ingress/ingress_test.go TestParseIngress \"ws service\"", Accept(None)),
    ("corpus/config/09-last-not-catch-all", "ingress/ingress_test.go \"Last rule isn't catchall\"", refuse("config.ingress", "catch_all_missing", "The last ingress rule must match all URLs")),
    ("corpus/config/12-invalid-regex", "ingress/ingress_test.go \"Invalid regex\"", refuse("config.ingress", "invalid_rule", "Rule #1 has an invalid regex: error parsing regexp: missing argument to repetition operator: `*`")),
    ("corpus/config/15-service-with-path", "ingress/ingress_test.go \"Service can't have a path\"", refuse("config.ingress", "invalid_rule", "ingress rules don't support proxying to a different path")),
    ("corpus/config/18-http-status-404", "ingress/ingress_test.go \"Valid HTTP status\"", Accept(None)),
    ("corpus/config/25-socks-proxy", "ingress/ingress_test.go \"SOCKS services\"", Accept(None)),
    ("corpus/config/29-unix-socket", "ingress/ingress_test.go TestParseUnixSocket", Accept(None)),
    ("corpus/config/40-creds-old-no-tunnelid", "cmd/cloudflared/tunnel/subcommand_context_test.go \"Filepath given leads to old credentials file\"", Accept(None)),
    ("corpus/config/42-service-trailing-slash", "ingress/ingress.go validateIngress (u.Path != \"\")", refuse("config.ingress", "invalid_rule", "http://localhost:8000/ is an invalid address")),
    ("corpus/config/45-http-status-600", "ingress/ingress.go validateIngress (100..999)", Accept(None)),
    ("corpus/config/47-catch-all-empty-path", "ingress/ingress.go validateHostname (isCatchAllRule)", Accept(None)),
    ("corpus/config/49-duplicate-hostname", "ingress/ingress.go FindMatchingRule (first match wins)", Accept(Some("duplicate_hostname"))),
    ("corpus/config/51-duration-as-int", "config/configuration.go CustomDuration, yaml.v3 decode.go (no int into time.Duration)", refuse("config.yaml", "invalid_type", "cannot unmarshal !!int `30` into time.Duration")),
    ("corpus/config/53-duplicate-yaml-key", "yaml.v3 decode.go mapping (uniqueKeys)", refuse("config.yaml", "duplicate_key", "mapping key \"service\" already defined at line 4")),
    ("corpus/config/54-creds-tunnel-mismatch", "cmd/cloudflared/tunnel/subcommand_context.go findCredentials (TunnelID overwritten; the edge refuses the secret)", refuse("config.credentials", "credentials_tunnel_mismatch", "belong to tunnel 11111111-2222-4333-8444-555555555555")),
    ("corpus/config/windows-credentials-path", "cmd/cloudflared/tunnel/credential_finder.go staticPath (the file of that name, beside config.yml here)", Accept(None)),
    // ingress/ingress_test.go TestParseIngress.
    ("cloudflared/empty-file", "ingress/ingress_test.go \"Empty file\" (ParseIngress: ErrNoIngressRules; `tunnel run` answers 503)", Accept(Some("ingress_missing"))),
    ("cloudflared/multiple-rules", "ingress/ingress_test.go \"Multiple rules\"", Accept(None)),
    ("cloudflared/extra-keys", "ingress/ingress_test.go \"Extra keys\"", Accept(None)),
    ("cloudflared/hostname-omitted", "ingress/ingress_test.go \"Hostname can be omitted\"", Accept(None)),
    ("cloudflared/unicode-domain", "ingress/ingress_test.go \"Unicode domain\"", Accept(None)),
    ("cloudflared/invalid-unicode-domain", "ingress/ingress_test.go \"Invalid unicode domain\"", refuse("config.ingress", "catch_all_missing", "The last ingress rule must match all URLs")),
    ("cloudflared/invalid-service", "ingress/ingress_test.go \"Invalid service\"", refuse("config.ingress.rule", "invalid_service", "parse \"https://local host:8000\": invalid character \" \" in host name")),
    ("cloudflared/first-rule-catch-all", "ingress/ingress_test.go \"First rule is catchall\"", refuse("config.ingress", "rule_after_catch_all", "Rule #1 is matching the hostname '', but this will match every hostname")),
    ("cloudflared/catch-all-with-path", "ingress/ingress_test.go \"Catch-all rule can't have a path\"", refuse("config.ingress", "catch_all_missing", "must match all URLs")),
    ("cloudflared/service-without-scheme", "ingress/ingress_test.go \"Service must have a scheme\"", refuse("config.ingress.rule", "invalid_service", "localhost:8000 is an invalid address, please make sure it has a scheme and a hostname")),
    ("cloudflared/wildcard-not-at-start", "ingress/ingress_test.go \"Wildcard not at start\"", refuse("config.ingress.rule", "bad_wildcard", "Hostname patterns can have at most one wildcard character")),
    ("cloudflared/http-status-not-a-number", "ingress/ingress_test.go \"Invalid HTTP status\"", refuse("config.ingress.rule", "invalid_http_status", "invalid HTTP status code: strconv.Atoi: parsing \"asdf\": invalid syntax")),
    ("cloudflared/http-status-out-of-range", "ingress/ingress_test.go \"Invalid HTTP status code\"", refuse("config.ingress.rule", "invalid_http_status", "invalid HTTP status code: 8080")),
    ("cloudflared/hello-world", "ingress/ingress_test.go \"Valid hello world service\"", Accept(None)),
    ("cloudflared/tcp-services", "ingress/ingress_test.go \"TCP services\"", Accept(None)),
    ("cloudflared/ssh-service", "ingress/ingress_test.go \"SSH services\"", Accept(None)),
    ("cloudflared/rdp-service", "ingress/ingress_test.go \"RDP services\"", Accept(None)),
    ("cloudflared/smb-service", "ingress/ingress_test.go \"SMB services\"", Accept(None)),
    ("cloudflared/other-tcp-service", "ingress/ingress_test.go \"Other TCP services\"", Accept(None)),
    ("cloudflared/bastion-mode-without-service", "ingress/ingress_test.go \"URL isn't necessary if using bastion\"", Accept(None)),
    ("cloudflared/bastion-service", "ingress/ingress_test.go \"Bastion service\"", Accept(None)),
    ("cloudflared/hostname-with-port", "ingress/ingress_test.go \"Hostname contains port\"", refuse("config.ingress.rule", "hostname_has_port", "Hostname cannot contain a port")),
    ("cloudflared/unix-tls-socket", "ingress/ingress_test.go TestParseUnixSocketTLS", Accept(None)),
    // ingress/ingress_test.go TestParseAccessConfig (validateAccessConfiguration).
    ("cloudflared/access-team-name-only", "ingress/ingress_test.go TestParseAccessConfig \"Config required with teamName only\"", Accept(None)),
    ("cloudflared/access-not-required", "ingress/ingress_test.go TestParseAccessConfig \"required false\"", Accept(None)),
    ("cloudflared/access-required-empty", "ingress/ingress_test.go TestParseAccessConfig \"required true but empty config\"", Accept(Some("access_incomplete"))),
    ("cloudflared/access-complete", "ingress/ingress_test.go TestParseAccessConfig \"complete config\"", Accept(None)),
    ("cloudflared/access-aud-without-team", "ingress/ingress_test.go TestParseAccessConfig \"required true with audTags but no teamName\"", refuse("config.ingress.rule", "invalid_access", "access.TeamName cannot be blank when access.audTags are present")),
    // ingress/config_test.go and config/configuration_test.go.
    ("cloudflared/origin-request-overrides", "ingress/config_test.go TestOriginRequestConfigOverrides (root bastionMode: True makes rule 1 a bastion)", Accept(Some("bastion_overrides_service"))),
    ("cloudflared/config-file-settings", "config/configuration_test.go TestConfigFileSettings (warp-routing `enabled` is no field: strict warning)", Accept(Some("unknown_field"))),
    // ingress/rule_test.go TestMatches.
    ("cloudflared/wildcard-outside-subdomain", "ingress/rule_test.go \"Just wildcard outside of subdomain in hostname, fail\"", Accept(Some("wildcard_never_matches"))),
    ("cloudflared/wildcard-subdomain-shadows", "ingress/rule_test.go \"Just wildcard hostname, pass\" + ingress.go FindMatchingRule", Accept(Some("rule_unreachable"))),
    // The rules of the code itself: yaml.v3 decode.go, ipaccess/access.go, regexp/syntax.
    ("cloudflared/ingress-not-a-list", "config/configuration.go Ingress []UnvalidatedIngressRule, yaml.v3 decode.go", refuse("config.yaml", "invalid_type", "cannot unmarshal !!map into []config.UnvalidatedIngressRule")),
    ("cloudflared/bool-quoted-true", "yaml.v3 decode.go scalar (a quoted \"true\" is a string)", refuse("config.yaml", "invalid_type", "cannot unmarshal !!str `true` into bool")),
    ("cloudflared/bool-yaml11-yes", "yaml.v3 decode.go scalar (YAML 1.1 yes into a typed bool)", Accept(None)),
    ("cloudflared/duration-string-without-unit", "yaml.v3 decode.go scalar + time.ParseDuration (missing unit)", refuse("config.yaml", "invalid_type", "cannot unmarshal !!str `30` into time.Duration")),
    ("cloudflared/duration-minutes-seconds", "config/configuration.go CustomDuration (time.ParseDuration)", Accept(None)),
    ("cloudflared/port-negative", "config/configuration.go ProxyPort *uint", refuse("config.yaml", "invalid_type", "cannot unmarshal !!int `-1` into uint")),
    ("cloudflared/socks-bad-cidr", "ipaccess/access.go NewRuleByCIDR", refuse("config.ingress.rule", "invalid_ip_rule", "unable to create ip rule for socks-proxy: unable to parse cidr: 1.1.1.0/33")),
    ("cloudflared/socks-port-out-of-range", "ipaccess/access.go Rule.Validate", refuse("config.ingress.rule", "invalid_ip_rule", "invalid port 70000, needs to be between 1 and 65535")),
    ("cloudflared/http-status-99", "ingress/ingress.go validateIngress (statusCode < 100)", refuse("config.ingress.rule", "invalid_http_status", "invalid HTTP status code: 99")),
    ("cloudflared/http-status-signed", "ingress/ingress.go validateIngress (strconv.Atoi takes a sign)", Accept(None)),
    ("cloudflared/star-with-path-last", "ingress/ingress.go validateHostname (\"*\" with a path is no catch-all)", refuse("config.ingress", "catch_all_missing", "must match all URLs")),
    ("cloudflared/path-literal-braces", "regexp/syntax parse.go (a `{` that starts no repeat is a literal)", Accept(None)),
    ("cloudflared/path-perl-lookahead", "regexp/syntax parse.go parsePerlFlags (no lookahead in RE2)", refuse("config.ingress.rule", "invalid_path_regex", "invalid or unsupported Perl syntax: `(?=`")),
    ("cloudflared/unknown-rule-key", "config/configuration.go ReadConfigFile (strict warning) + validateIngress (empty service)", refuse("config.ingress.rule", "service_missing", "is an invalid address, please make sure it has a scheme and a hostname")),
    // Credentials (connection/connection.go Credentials, encoding/json, google/uuid).
    ("cloudflared/creds-new-with-name", "cmd/cloudflared/tunnel/subcommand_context_test.go \"Filepath given leads to new credentials file\"", Accept(None)),
    ("cloudflared/creds-tunnel-id-hex", "github.com/google/uuid Parse (32 hex digits)", Accept(None)),
    ("cloudflared/creds-tunnel-id-empty", "github.com/google/uuid UnmarshalText (invalid UUID length: 0)", refuse("config.credentials", "credentials_malformed", "TunnelID: invalid UUID length: 0")),
    ("cloudflared/creds-invalid-json", "cmd/cloudflared/tunnel/subcommand_context.go readTunnelCredentials (invalidJSONCredentialError)", refuse("config.credentials", "credentials_malformed", "contained invalid JSON")),
    ("cloudflared/creds-cert-pem", "cmd/cloudflared/tunnel/subcommand_context.go readTunnelCredentials (.pem given)", refuse("config.credentials", "credentials_malformed", "The tunnel credentials file should be .json but you gave a .pem")),
];

#[test]
fn cloudflared_accepts_and_refuses_what_tunnel_check_says() {
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
    let mut wrong = Vec::new();
    for (dir, source, expect) in CASES {
        let copy = private_copy(dir);
        let file = copy.path().join("config.yml").display().to_string();
        let out = run(&["config", &file], "");
        let failing: Vec<String> = out
            .records
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
            .map(|r| format!("{} {:?}", r.check, r.reason))
            .collect();
        match expect {
            Accept(warning) => {
                if out.code != 0 || !failing.is_empty() {
                    wrong.push(format!(
                        "{dir} ({source}): cloudflared accepts it, got {failing:?}"
                    ));
                }
                if let Some(reason) = warning {
                    let warned = out.records.iter().any(|r| {
                        r.verdict == Verdict::Warn && r.reason.as_deref() == Some(*reason)
                    });
                    if !warned {
                        wrong.push(format!("{dir}: no {reason} warning in {:#?}", out.records));
                    }
                }
            }
            Refuse {
                check,
                reason,
                says,
            } => {
                let found = out.records.iter().any(|r| {
                    r.check == *check
                        && r.verdict == Verdict::Fail
                        && r.reason.as_deref() == Some(*reason)
                        && r.message.as_deref().unwrap_or("").contains(says)
                });
                if out.code != 1 || !found {
                    wrong.push(format!(
                        "{dir} ({source}): cloudflared refuses it ({check} {reason}: {says}), got {:#?}",
                        out.records
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
