//! A `config.yml` decoded the way cloudflared decodes it: `yaml.NewDecoder(file)
//! .Decode(&configuration)` of `gopkg.in/yaml.v3` into the structs of
//! `config/configuration.go` (cloudflare/cloudflared), then the same file again
//! with `KnownFields(true)` for the warnings (`ReadConfigFile`).
//!
//! What yaml.v3 refuses, cloudflared refuses ("error parsing YAML in config
//! file"): a key twice in one mapping, or a value of the wrong type for a field
//! (a bare integer for a duration, a list for a string, `"true"` quoted for a
//! bool). Unknown keys inside rules and `originRequest` are only warnings, and
//! the settings at the top level that are not part of `Configuration` (flags such
//! as `credentials-file`, `protocol`) are collected without a type.
//!
//! yaml.v3's rules (decode.go: `scalar`, `mapping`, `mappingStruct`, `terror`):
//! - a string field takes any scalar's text; null leaves it empty;
//! - a bool takes `true`/`false` and the YAML 1.1 words `y yes on n no off` in
//!   their three spellings, quoted or not, but not a quoted `"true"`;
//! - an int takes an int (a float is truncated); a `time.Duration` takes only a
//!   string that `time.ParseDuration` reads (`30s`, `1m`), never a number;
//! - errors read `line N: cannot unmarshal !!int `30` into time.Duration`.

use crate::golang;
use crate::yaml::{Node, Value};

/// Something yaml.v3 says about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub kind: ProblemKind,
    /// yaml.v3's own text, `line N: …`.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A key twice in one mapping: cloudflared refuses the file.
    DuplicateKey,
    /// A value of the wrong type for its field: cloudflared refuses the file.
    Type,
    /// A key no field has (strict mode): cloudflared warns and ignores it.
    UnknownField,
}

impl ProblemKind {
    pub fn reason(self) -> &'static str {
        match self {
            ProblemKind::DuplicateKey => "duplicate_key",
            ProblemKind::Type => "invalid_type",
            ProblemKind::UnknownField => "unknown_field",
        }
    }

    pub fn refuses(self) -> bool {
        !matches!(self, ProblemKind::UnknownField)
    }
}

/// A value and the line it was written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub line: usize,
}

/// `config.AccessConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    pub required: bool,
    pub team_name: String,
    pub aud_tag: Vec<String>,
    pub line: usize,
}

/// `config.IngressIPRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpRule {
    pub prefix: Option<String>,
    pub ports: Vec<i64>,
    pub allow: bool,
    pub line: usize,
}

/// The parts of `config.OriginRequestConfig` that validation looks at (every
/// field is type-checked while decoding).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginRequest {
    pub bastion_mode: Option<bool>,
    pub ip_rules: Vec<IpRule>,
    pub access: Option<Access>,
}

/// `config.UnvalidatedIngressRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    pub line: usize,
    pub hostname: String,
    pub path: String,
    pub service: String,
    pub origin_request: OriginRequest,
}

/// `config.Configuration` plus the top-level settings cloudflared reads as flags.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `tunnel:` (empty when absent or null).
    pub tunnel: Located<String>,
    pub credentials_file: Option<Located<String>>,
    pub origin_request: OriginRequest,
    pub ingress: Vec<Rule>,
    /// The document was empty: cloudflared logs "Configuration file … was empty".
    pub empty: bool,
}

impl<T: Default> Default for Located<T> {
    fn default() -> Self {
        Located {
            value: T::default(),
            line: 0,
        }
    }
}

/// Decodes the tree; every problem yaml.v3 would report is in the list.
pub fn decode(root: &Node) -> (Config, Vec<Problem>) {
    let mut decoder = Decoder::default();
    let mut config = Config::default();
    match &root.value {
        Value::Null => config.empty = true,
        Value::Map(_) => decoder.configuration(root, &mut config),
        _ => decoder.terror(root, "config.configFileSettings"),
    }
    decoder.problems.sort_by_key(|p| p.line);
    (config, decoder.problems)
}

/// yaml.v3's `shortTag` of a node as resolved.
fn tag(node: &Node) -> &'static str {
    match &node.value {
        Value::Null => "!!null",
        Value::Bool(_) => "!!bool",
        Value::Int(_) => "!!int",
        Value::Float(_) => "!!float",
        Value::Str(_) => "!!str",
        Value::Seq(_) => "!!seq",
        Value::Map(_) => "!!map",
    }
}

/// The value as `terror` shows it: up to 10 characters, else 7 and `...`.
fn shown(node: &Node) -> String {
    let text = match &node.value {
        Value::Seq(_) | Value::Map(_) => return String::new(),
        Value::Null => String::new(),
        _ => node.scalar_text().unwrap_or_default(),
    };
    if text.len() > 10 {
        let cut = (0..=7)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        format!(" `{}...`", &text[..cut])
    } else {
        format!(" `{text}`")
    }
}

type Entries = [(Node, Node)];

#[derive(Default)]
struct Decoder {
    problems: Vec<Problem>,
}

impl Decoder {
    fn terror(&mut self, node: &Node, into: &str) {
        self.problems.push(Problem {
            line: node.line,
            kind: ProblemKind::Type,
            message: format!(
                "line {}: cannot unmarshal {}{} into {into}",
                node.line,
                tag(node),
                shown(node)
            ),
        });
    }

    /// The entries of a mapping, after yaml.v3's duplicate check (a mapping with
    /// a repeated key is not decoded further); `None` for null or after an error.
    fn mapping<'a>(&mut self, node: &'a Node, into: &str) -> Option<&'a Entries> {
        let entries = match &node.value {
            Value::Map(entries) => entries,
            Value::Null => return None,
            _ => {
                self.terror(node, into);
                return None;
            }
        };
        let before = self.problems.len();
        self.duplicate_keys(entries);
        (self.problems.len() == before).then_some(entries.as_slice())
    }

    /// yaml.v3's check of one mapping level: `mapping key "k" already defined`.
    fn duplicate_keys(&mut self, entries: &Entries) {
        for (i, (first, _)) in entries.iter().enumerate() {
            for (later, _) in &entries[i + 1..] {
                if later.value == first.value {
                    let key = first.scalar_text().unwrap_or_default();
                    self.problems.push(Problem {
                        line: later.line,
                        kind: ProblemKind::DuplicateKey,
                        message: format!(
                            "line {}: mapping key {} already defined at line {}",
                            later.line,
                            golang::go_quote(&key),
                            first.line
                        ),
                    });
                }
            }
        }
    }

    /// A value decoded into an untyped setting: every mapping in it is checked.
    fn untyped(&mut self, node: &Node) {
        match &node.value {
            Value::Map(entries) => {
                self.duplicate_keys(entries);
                for (_, value) in entries {
                    self.untyped(value);
                }
            }
            Value::Seq(items) => items.iter().for_each(|i| self.untyped(i)),
            _ => {}
        }
    }

    fn unknown(&mut self, key: &Node, into: &str) {
        self.problems.push(Problem {
            line: key.line,
            kind: ProblemKind::UnknownField,
            message: format!(
                "line {}: field {} not found in type {into}",
                key.line,
                key.scalar_text().unwrap_or_default()
            ),
        });
    }

    fn string(&mut self, node: &Node) -> String {
        match &node.value {
            Value::Seq(_) | Value::Map(_) => {
                self.terror(node, "string");
                String::new()
            }
            _ => node.scalar_text().unwrap_or_default(),
        }
    }

    fn bool(&mut self, node: &Node) -> Option<bool> {
        match &node.value {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            Value::Str(s) => match s.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
                _ => {
                    self.terror(node, "bool");
                    None
                }
            },
            _ => {
                self.terror(node, "bool");
                None
            }
        }
    }

    /// An `int` (`signed`) or `uint`/`uint64` field.
    fn int(&mut self, node: &Node, into: &str, signed: bool) -> Option<i64> {
        let ok = match &node.value {
            Value::Null => return None,
            Value::Int(i) => {
                if signed {
                    i64::try_from(*i).ok()
                } else {
                    u64::try_from(*i).ok().map(|u| u as i64)
                }
            }
            Value::Float(f) if f.is_finite() => Some(*f as i64),
            _ => None,
        };
        if ok.is_none() {
            self.terror(node, into);
        }
        ok
    }

    fn duration(&mut self, node: &Node) {
        match &node.value {
            Value::Null => {}
            Value::Str(s) if golang::parse_duration(s).is_ok() => {}
            _ => self.terror(node, "time.Duration"),
        }
    }

    fn string_list(&mut self, node: &Node, into: &str) -> Vec<String> {
        match &node.value {
            Value::Null => Vec::new(),
            Value::Seq(items) => items.iter().map(|i| self.string(i)).collect(),
            _ => {
                self.terror(node, into);
                Vec::new()
            }
        }
    }

    fn configuration(&mut self, root: &Node, config: &mut Config) {
        let Some(entries) = self.mapping(root, "config.configFileSettings") else {
            return;
        };
        for (key, value) in entries {
            match key.scalar_text().as_deref() {
                Some("tunnel") => {
                    config.tunnel = Located {
                        value: self.string(value),
                        line: key.line,
                    }
                }
                Some("ingress") => config.ingress = self.ingress(value),
                Some("originRequest") => config.origin_request = self.origin_request(value),
                Some("warp-routing") => self.warp_routing(value),
                Some("credentials-file") => {
                    // A flag read through altsrc: `expected string found int`.
                    match &value.value {
                        Value::Str(s) => {
                            config.credentials_file = Some(Located {
                                value: s.clone(),
                                line: key.line,
                            })
                        }
                        Value::Null => {}
                        other => self.problems.push(Problem {
                            line: value.line,
                            kind: ProblemKind::Type,
                            message: format!(
                                "line {}: expected string found {} for credentials-file",
                                value.line,
                                match other {
                                    Value::Bool(_) => "bool",
                                    Value::Int(_) => "int",
                                    Value::Float(_) => "float64",
                                    Value::Seq(_) => "[]interface {}",
                                    _ => "map[string]interface {}",
                                }
                            ),
                        }),
                    }
                }
                // Other settings land in the untyped `Settings` map.
                _ => self.untyped(value),
            }
        }
    }

    fn ingress(&mut self, node: &Node) -> Vec<Rule> {
        let items = match &node.value {
            Value::Null => return Vec::new(),
            Value::Seq(items) => items,
            _ => {
                self.terror(node, "[]config.UnvalidatedIngressRule");
                return Vec::new();
            }
        };
        items.iter().map(|item| self.rule(item)).collect()
    }

    fn rule(&mut self, node: &Node) -> Rule {
        let mut rule = Rule {
            line: node.line,
            ..Rule::default()
        };
        let into = "config.UnvalidatedIngressRule";
        let Some(entries) = self.mapping(node, into) else {
            return rule;
        };
        for (key, value) in entries {
            match key.scalar_text().as_deref() {
                Some("hostname") => rule.hostname = self.string(value),
                Some("path") => rule.path = self.string(value),
                Some("service") => rule.service = self.string(value),
                Some("originRequest") => rule.origin_request = self.origin_request(value),
                _ => self.unknown(key, into),
            }
        }
        rule
    }

    fn origin_request(&mut self, node: &Node) -> OriginRequest {
        let mut out = OriginRequest::default();
        let into = "config.OriginRequestConfig";
        let Some(entries) = self.mapping(node, into) else {
            return out;
        };
        for (key, value) in entries {
            match key.scalar_text().as_deref() {
                Some("connectTimeout" | "tlsTimeout" | "tcpKeepAlive" | "keepAliveTimeout") => {
                    self.duration(value)
                }
                Some(
                    "noHappyEyeballs"
                    | "matchSNItoHost"
                    | "noTLSVerify"
                    | "disableChunkedEncoding"
                    | "http2Origin",
                ) => {
                    self.bool(value);
                }
                Some("bastionMode") => out.bastion_mode = self.bool(value),
                Some("keepAliveConnections") => {
                    self.int(value, "int", true);
                }
                Some("proxyPort") => {
                    self.int(value, "uint", false);
                }
                Some(
                    "httpHostHeader" | "originServerName" | "caPool" | "proxyAddress" | "proxyType",
                ) => {
                    self.string(value);
                }
                Some("ipRules") => out.ip_rules = self.ip_rules(value),
                Some("access") => out.access = self.access(value),
                _ => self.unknown(key, into),
            }
        }
        out
    }

    fn ip_rules(&mut self, node: &Node) -> Vec<IpRule> {
        let items = match &node.value {
            Value::Null => return Vec::new(),
            Value::Seq(items) => items,
            _ => {
                self.terror(node, "[]config.IngressIPRule");
                return Vec::new();
            }
        };
        let into = "config.IngressIPRule";
        let mut rules = Vec::new();
        for item in items {
            let mut rule = IpRule {
                line: item.line,
                ..IpRule::default()
            };
            if let Some(entries) = self.mapping(item, into) {
                for (key, value) in entries {
                    match key.scalar_text().as_deref() {
                        Some("prefix") => {
                            rule.prefix = (value.value != Value::Null).then(|| self.string(value))
                        }
                        Some("ports") => {
                            rule.ports = match &value.value {
                                Value::Null => Vec::new(),
                                Value::Seq(ports) => ports
                                    .iter()
                                    .filter_map(|p| self.int(p, "int", true))
                                    .collect(),
                                _ => {
                                    self.terror(value, "[]int");
                                    Vec::new()
                                }
                            }
                        }
                        Some("allow") => rule.allow = self.bool(value).unwrap_or(false),
                        _ => self.unknown(key, into),
                    }
                }
            }
            rules.push(rule);
        }
        rules
    }

    fn access(&mut self, node: &Node) -> Option<Access> {
        let into = "config.AccessConfig";
        let entries = self.mapping(node, into)?;
        let mut access = Access {
            line: node.line,
            ..Access::default()
        };
        for (key, value) in entries {
            match key.scalar_text().as_deref() {
                Some("required") => access.required = self.bool(value).unwrap_or(false),
                Some("teamName") => access.team_name = self.string(value),
                Some("audTag") => access.aud_tag = self.string_list(value, "[]string"),
                Some("environment") => {
                    self.string(value);
                }
                _ => self.unknown(key, into),
            }
        }
        Some(access)
    }

    fn warp_routing(&mut self, node: &Node) {
        let into = "config.WarpRoutingConfig";
        let Some(entries) = self.mapping(node, into) else {
            return;
        };
        for (key, value) in entries {
            match key.scalar_text().as_deref() {
                Some("connectTimeout" | "tcpKeepAlive") => self.duration(value),
                Some("maxActiveFlows") => {
                    self.int(value, "uint64", false);
                }
                _ => self.unknown(key, into),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_tree;

    fn problems(yaml: &str) -> Vec<String> {
        decode(&parse_tree(yaml).unwrap())
            .1
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    /// The messages are yaml.v3's, checked with gopkg.in/yaml.v3 on the same text.
    #[test]
    fn type_errors_read_as_yaml_v3_writes_them() {
        assert_eq!(
            problems("originRequest:\n  connectTimeout: 30\ningress:\n - service: http://localhost:8000\n"),
            ["line 2: cannot unmarshal !!int `30` into time.Duration"]
        );
        assert_eq!(
            problems("ingress:\n - service: http://a\n   originRequest:\n     noTLSVerify: \"true\"\n     keepAliveConnections: \"10\"\n     tlsTimeout: 10s\n     connectTimeout: \"forever and ever\"\n"),
            [
                "line 4: cannot unmarshal !!str `true` into bool",
                "line 5: cannot unmarshal !!str `10` into int",
                "line 7: cannot unmarshal !!str `forever...` into time.Duration",
            ]
        );
        assert_eq!(
            problems("ingress:\n - service: http://a\n   service: http://b\n"),
            ["line 3: mapping key \"service\" already defined at line 2"]
        );
        assert_eq!(
            problems("ingress:\n  service: http://a\n"),
            ["line 2: cannot unmarshal !!map into []config.UnvalidatedIngressRule"]
        );
        assert_eq!(
            problems("ingress:\n - hostname: [a, b]\n   service: http://a\n   originRequest:\n     noTLSVerify: yes\n     bastionMode: On\n"),
            ["line 2: cannot unmarshal !!seq into string"]
        );
        assert_eq!(
            problems("ingress:\n - service: http://a\n   Service: http://b\n"),
            ["line 3: field Service not found in type config.UnvalidatedIngressRule"]
        );
        assert!(problems("retries: 5\ngrace-period: 30s\ntag: [a]\n").is_empty());
        assert_eq!(
            problems("- a\n"),
            ["line 1: cannot unmarshal !!seq into config.configFileSettings"]
        );
    }

    #[test]
    fn what_validation_needs_is_kept() {
        let (config, problems) = decode(&parse_tree(
            "tunnel: 6ff42ae2-765d-4adf-8db7-aa8b61168b6a\ncredentials-file: /x.json\noriginRequest:\n  bastionMode: true\ningress:\n - hostname: socks.foo.com\n   service: socks-proxy\n   originRequest:\n     ipRules:\n       - prefix: 1.1.1.0/24\n         ports: [80, 443]\n         allow: true\n     access:\n       required: true\n       audTag: [x]\n - service: http_status:404\n",
        ).unwrap());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(config.tunnel.value, "6ff42ae2-765d-4adf-8db7-aa8b61168b6a");
        assert_eq!(config.credentials_file.unwrap().value, "/x.json");
        assert_eq!(config.origin_request.bastion_mode, Some(true));
        assert_eq!(config.ingress.len(), 2);
        let rule = &config.ingress[0];
        assert_eq!((rule.line, rule.service.as_str()), (6, "socks-proxy"));
        assert_eq!(rule.origin_request.ip_rules[0].ports, [80, 443]);
        assert_eq!(
            rule.origin_request.ip_rules[0].prefix.as_deref(),
            Some("1.1.1.0/24")
        );
        let access = rule.origin_request.access.as_ref().unwrap();
        assert!(access.required && access.team_name.is_empty());
        assert_eq!(access.aud_tag, ["x"]);
        assert!(decode(&parse_tree("").unwrap()).0.empty);
    }
}
