//! YAML (and JSON, which is YAML) parsed one way for every mode: duplicate keys
//! rejected, YAML 1.1 booleans (`yes`, `on`, `y`) kept as strings, and errors as
//! one line with line and column and no source snippet (the snippet would quote the
//! file, secrets included).
//!
//! JSON is YAML 1.2 but for the characters JSON strings may hold raw and YAML
//! streams may not (`c-printable`: DEL, the C1 controls but NEL, U+FFFE, U+FFFF),
//! which Go's `encoding/json` — `docker compose config --format json` — writes
//! raw. A text that is JSON has them only inside its strings, so they are given to
//! the YAML reader as `\uXXXX` escapes, which mean the same in both.

use std::borrow::Cow;

use day2_core::Problem;
use serde::de::DeserializeOwned;

/// The reason of a document that does not parse (its message reads
/// `line L, column C: what`).
const INVALID_YAML: &str = "invalid_yaml";

/// Parses a YAML document into `T`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, Problem> {
    parse_with(text, serde_saphyr::DuplicateKeyPolicy::Error)
}

fn parse_with<T: DeserializeOwned>(
    text: &str,
    duplicate_keys: serde_saphyr::DuplicateKeyPolicy,
) -> Result<T, Problem> {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = duplicate_keys;
    options.strict_booleans = true;
    options.with_snippet = false;
    serde_saphyr::from_str_with_options(&json_as_yaml(text), options).map_err(|err| {
        let plain = match budget_breach(&err) {
            Some(breach) => budget_in_words(breach),
            None => err.without_snippet().to_string(),
        };
        // The message ends with " at line L, column C"; lead with the place instead.
        let message = match plain.rfind(" at line ") {
            Some(pos) if is_place(&plain[pos + " at line ".len()..]) => plain[..pos].to_owned(),
            _ => plain.clone(),
        };
        // The library's advice to its programmer means nothing to our user.
        let message = match message.find(", set DuplicateKeyPolicy") {
            Some(pos) => message[..pos].to_owned(),
            None => message,
        };
        match err.location() {
            Some(loc) => Problem::new(
                INVALID_YAML,
                format!("line {}, column {}: {message}", loc.line(), loc.column()),
            ),
            None => Problem::new(INVALID_YAML, message),
        }
    })
}

/// The budget breach behind an error, through the wrappers serde-saphyr puts around
/// it (a snippet, an alias's locations).
fn budget_breach(mut err: &serde_saphyr::Error) -> Option<&serde_saphyr::budget::BudgetBreach> {
    loop {
        match err {
            serde_saphyr::Error::Budget { breach, .. } => return Some(breach),
            serde_saphyr::Error::WithSnippet { error, .. }
            | serde_saphyr::Error::AliasError { error, .. } => err = error,
            _ => return None,
        }
    }
}

/// A breach of serde-saphyr's default budget (serde-saphyr 2.2 `src/de/budget.rs`,
/// `Budget::default()`: the limits that keep a hostile document from exhausting the
/// stack or memory) in words. serde-saphyr itself writes Rust debug text here
/// (`budget breached: Depth { depth: 65 }`, `src/de/message_formatters.rs`).
fn budget_in_words(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let budget = serde_saphyr::Budget::default();
    let limit = match breach {
        B::Depth { .. } => format!(
            "mappings and sequences are nested more than {} levels deep",
            budget.max_depth
        ),
        B::Events { .. } => format!("more than {} YAML events", budget.max_events),
        B::Nodes { .. } => format!("more than {} values", budget.max_nodes),
        B::Aliases { .. } => format!("more than {} aliases (`*name`)", budget.max_aliases),
        B::Anchors { .. } => format!("more than {} anchors (`&name`)", budget.max_anchors),
        B::AliasAnchorRatio { aliases, anchors } => {
            format!("{aliases} aliases of only {anchors} anchors (an alias expansion bomb)")
        }
        B::Documents { .. } => format!("more than {} documents (`---`)", budget.max_documents),
        B::MergeKeys { .. } => format!("more than {} merge keys (`<<`)", budget.max_merge_keys),
        B::ScalarBytes { .. } => format!(
            "more than {} MiB of text in values",
            budget.max_total_scalar_bytes >> 20
        ),
        B::InputBytes { .. } => "the input is larger than the YAML reader takes".to_owned(),
        B::SequenceUnbalanced => "a mapping or sequence ends that never began".to_owned(),
        _ => "the document is larger or more complex than the YAML reader takes".to_owned(),
    };
    format!("not read: {limit}")
}

/// Whether YAML 1.2 forbids a character raw in a stream (not `c-printable`). The
/// C0 controls are left out: JSON forbids them raw too.
fn not_printable(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

/// The text with the characters YAML cannot carry raw escaped, when it is JSON
/// (see the module docs); otherwise as it is, for the YAML reader to refuse.
fn json_as_yaml(text: &str) -> Cow<'_, str> {
    if !text.chars().any(not_printable)
        || serde_json::from_str::<serde::de::IgnoredAny>(text).is_err()
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if not_printable(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Parses a YAML document into a [`Node`] tree that keeps what a typed decoder
/// needs to judge it the way Go's `gopkg.in/yaml.v3` does: the line of every node
/// and key, whether a scalar was plain or quoted (`30` is an int, `"30"` a
/// string), and every mapping entry, duplicates included (yaml.v3 reports them
/// itself, with both lines). An empty document is `Null`.
pub fn parse_tree(text: &str) -> Result<Node, Problem> {
    let node: Option<serde_saphyr::Spanned<Value>> =
        parse_with(text, serde_saphyr::DuplicateKeyPolicy::PassThrough)?;
    Ok(node.map_or(
        Node {
            value: Value::Null,
            line: 1,
        },
        |s| Node {
            line: (s.referenced.line() as usize).max(1),
            value: s.value,
        },
    ))
}

/// One YAML node and the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: usize,
}

/// A YAML value after YAML 1.2 core-schema resolution of plain scalars; quoted
/// scalars are always `Str`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order, duplicates kept.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar's text as yaml.v3 gives it to a string field (`None` for null,
    /// sequences and mappings).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Str(s) => Some(s.clone()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// The value of `key` in a mapping (the first, when repeated).
    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

fn spanned(s: serde_saphyr::Spanned<Value>) -> Node {
    Node {
        value: s.value,
        line: s.referenced.line() as usize,
    }
}

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<serde_saphyr::Spanned<Value>>()? {
            items.push(spanned(item));
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<serde_saphyr::Spanned<Value>>()? {
            let value = map.next_value::<serde_saphyr::Spanned<Value>>()?;
            entries.push((spanned(key), spanned(value)));
        }
        Ok(Value::Map(entries))
    }
}

/// Whether `text` is exactly `L, column C`.
fn is_place(text: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    text.split_once(", column ")
        .is_some_and(|(line, column)| digits(line) && digits(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_rejected_with_their_line() {
        let err = parse::<serde_json::Value>("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.reason(), "invalid_yaml");
        assert_eq!(err.message, "line 3, column 1: duplicate mapping key: a");
    }

    #[test]
    fn a_message_with_places_inside_is_kept_whole() {
        #[derive(Debug, serde::Deserialize)]
        struct Doc {
            _a: String,
            _b: Vec<String>,
        }
        let err = parse::<Doc>("_a: &x s\n_b: *x\n").unwrap_err();
        assert!(err.message.starts_with("line 2, column 5: "), "{err}");
        assert!(err.message.ends_with(')'), "{err}");
    }

    #[test]
    fn the_tree_keeps_lines_styles_and_duplicates() {
        let tree =
            parse_tree("a: 30\nb: \"30\"\nc:\n  - x\n  - yes\nd: 1\nd: 2\ne:\nf: True\n").unwrap();
        let Value::Map(entries) = &tree.value else {
            panic!("{tree:?}")
        };
        let keys: Vec<(String, usize)> = entries
            .iter()
            .map(|(k, _)| (k.scalar_text().unwrap(), k.line))
            .collect();
        assert_eq!(
            keys,
            [
                ("a", 1),
                ("b", 2),
                ("c", 3),
                ("d", 6),
                ("d", 7),
                ("e", 8),
                ("f", 9)
            ]
            .map(|(k, l)| (k.to_owned(), l))
        );
        assert_eq!(tree.get("a").unwrap().value, Value::Int(30));
        assert_eq!(tree.get("b").unwrap().value, Value::Str("30".into()));
        let Value::Seq(items) = &tree.get("c").unwrap().value else {
            panic!()
        };
        assert_eq!(items[1].value, Value::Str("yes".into()));
        assert_eq!(items[1].line, 5);
        assert_eq!(tree.get("e").unwrap().value, Value::Null);
        assert_eq!(tree.get("f").unwrap().value, Value::Bool(true));
        assert_eq!(parse_tree("").unwrap().value, Value::Null);
        assert_eq!(parse_tree("# only a comment\n").unwrap().value, Value::Null);
    }

    #[test]
    fn json_strings_keep_what_yaml_cannot_carry_raw() {
        // Found by fuzzing (fuzz/, target compose_json): Go's encoding/json writes
        // DEL and the C1 controls raw, and the YAML reader refused the whole config.
        let json = "{\"labels\": {\"a\": \"x\u{7f}y\u{85}z\u{9b}\u{ffff}\"}, \"n\": [1, 2.5]}";
        let value: serde_json::Value = parse(json).unwrap();
        assert_eq!(
            value,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
        assert_eq!(value["labels"]["a"], "x\u{7f}y\u{85}z\u{9b}\u{ffff}");
        // Duplicate keys are still refused, and YAML that is not JSON is not touched.
        assert!(parse::<serde_json::Value>("{\"a\": \"\u{7f}\", \"a\": 1}").is_err());
        assert!(parse::<serde_json::Value>("a: x\u{7f}y\n").is_err());
    }

    #[test]
    fn yaml_1_1_booleans_stay_strings() {
        let v: serde_json::Value = parse("service: y\nflag: true\n").unwrap();
        assert_eq!(v["service"], "y");
        assert_eq!(v["flag"], true);
    }
}
