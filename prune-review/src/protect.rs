//! Protection rules and the label filter, applied by every command.
//!
//! A protected object is never a candidate and never deleted, whatever a plan says.
//! Rules are exact names, globs (`*`, `?`, `[...]`) and labels (`label:KEY` or
//! `label:KEY=VALUE`). The defaults protect the model volume under both names the
//! stack uses; they always apply, `--protect` only adds.

use std::collections::BTreeMap;

use day2_core::Problem;
use globset::{Glob, GlobMatcher};

/// Names protected on every run.
pub const DEFAULT_PROTECTED: [&str; 2] = ["deploy_ollama-data", "ollama-data"];

#[derive(Debug, Clone)]
enum Rule {
    Name(String),
    Glob(String, GlobMatcher),
    Label(LabelMatch),
}

/// `KEY` or `KEY=VALUE` matched against an object's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMatch {
    pub key: String,
    pub value: Option<String>,
}

impl LabelMatch {
    /// `KEY` or `KEY=VALUE`. Error (reason `usage`): no key.
    pub fn parse(text: &str) -> Result<LabelMatch, Problem> {
        let (key, value) = match text.split_once('=') {
            Some((k, v)) => (k, Some(v.to_owned())),
            None => (text, None),
        };
        if key.is_empty() {
            return Err(Problem::new("usage", format!("label {text:?} has no key")));
        }
        Ok(LabelMatch {
            key: key.to_owned(),
            value,
        })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match (labels.get(&self.key), &self.value) {
            (Some(_), None) => true,
            (Some(have), Some(want)) => have == want,
            (None, _) => false,
        }
    }

    /// The form the engine's `label` filter takes.
    pub fn filter_value(&self) -> String {
        match &self.value {
            Some(v) => format!("{}={v}", self.key),
            None => self.key.clone(),
        }
    }
}

/// Parses `--filter label=KEY[=VALUE]`, the only filter there is. Errors (reason
/// `usage`): another filter, a label without a key.
pub fn parse_filter(text: &str) -> Result<LabelMatch, Problem> {
    match text.strip_prefix("label=") {
        Some(rest) => LabelMatch::parse(rest),
        None => Err(Problem::new(
            "usage",
            format!("filter {text:?}: only label=KEY[=VALUE] is supported"),
        )),
    }
}

/// The protection rules of one run.
#[derive(Debug, Clone)]
pub struct Protection {
    rules: Vec<Rule>,
}

impl Protection {
    /// The defaults plus the given `--protect` values. Errors (reason `usage`): an
    /// empty name, a label without a key, a glob that does not compile.
    pub fn new(extra: &[String]) -> Result<Protection, Problem> {
        let mut rules: Vec<Rule> = DEFAULT_PROTECTED
            .iter()
            .map(|n| Rule::Name((*n).to_owned()))
            .collect();
        for text in extra {
            let rule = if let Some(label) = text.strip_prefix("label:") {
                Rule::Label(
                    LabelMatch::parse(label)
                        .map_err(|e| e.context(format_args!("--protect {text:?}")))?,
                )
            } else if text.is_empty() {
                return Err(Problem::new("usage", "--protect: empty name"));
            } else if text.contains(['*', '?', '[']) {
                let glob = Glob::new(text)
                    .map_err(|e| Problem::new("usage", format!("--protect {text:?}: {e}")))?;
                Rule::Glob(text.clone(), glob.compile_matcher())
            } else {
                Rule::Name(text.clone())
            };
            rules.push(rule);
        }
        Ok(Protection { rules })
    }

    /// The rule that protects an object with these names and labels, as text
    /// (`name:X`, `glob:X`, `label:K[=V]`), or `None`.
    pub fn protects(&self, names: &[&str], labels: &BTreeMap<String, String>) -> Option<String> {
        self.rules.iter().find_map(|rule| match rule {
            Rule::Name(n) => names.iter().any(|x| x == n).then(|| format!("name:{n}")),
            Rule::Glob(text, m) => names
                .iter()
                .any(|x| m.is_match(x))
                .then(|| format!("glob:{text}")),
            Rule::Label(l) => l
                .matches(labels)
                .then(|| format!("label:{}", l.filter_value())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_names_globs_and_labels() {
        let p = Protection::new(&[
            "pg-*".into(),
            "label:keep".into(),
            "label:tier=db".into(),
            "exact".into(),
        ])
        .unwrap();
        let none = BTreeMap::new();
        assert_eq!(
            p.protects(&["deploy_ollama-data"], &none).as_deref(),
            Some("name:deploy_ollama-data")
        );
        assert_eq!(
            p.protects(&["ollama-data"], &none).as_deref(),
            Some("name:ollama-data")
        );
        assert_eq!(
            p.protects(&["pg-data"], &none).as_deref(),
            Some("glob:pg-*")
        );
        assert_eq!(p.protects(&["exact"], &none).as_deref(), Some("name:exact"));
        assert_eq!(
            p.protects(&["x"], &labels(&[("keep", "")])).as_deref(),
            Some("label:keep")
        );
        assert_eq!(
            p.protects(&["x"], &labels(&[("tier", "db")])).as_deref(),
            Some("label:tier=db")
        );
        assert_eq!(p.protects(&["x"], &labels(&[("tier", "web")])), None);
        assert_eq!(p.protects(&["exactly", "deploy_ollama-data2"], &none), None);
    }

    #[test]
    fn bad_rules_and_filters_are_named() {
        assert!(Protection::new(&["label:".into()])
            .unwrap_err()
            .message
            .contains("label:"));
        assert!(Protection::new(&["[".into()]).is_err());
        assert!(parse_filter("name=x")
            .unwrap_err()
            .message
            .contains("name=x"));
        assert_eq!(
            parse_filter("label=a=b").unwrap(),
            LabelMatch {
                key: "a".into(),
                value: Some("b".into())
            }
        );
    }
}
