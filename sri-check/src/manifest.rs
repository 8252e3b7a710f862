//! `sri-manifest.json`: reading it as the reference checker does (hash under
//! `sha384`, `algo` or `integrity`), and writing it byte for byte as the reference
//! generator does with `JSON.stringify(obj, null, 2) + "\n"` over sorted keys.
//!
//! The writer is hand-made rather than serde_json's pretty printer because
//! byte-identity depends on JavaScript's rules, which differ from serde_json's in
//! two places: property order (integer-like keys such as `"10"` always come first,
//! in numeric order, and `.sort()` compares UTF-16 code units, not code points) and
//! exact string escaping.

use std::path::Path;

use day2_core::Problem;
use serde_json::{Map, Value};

use crate::sri::Algo;

/// A manifest that is not JSON, or not an object keyed by path (a usage error).
const INVALID_MANIFEST: &str = "invalid_manifest";
/// An entry without a usable hash (the entry's `fail` record).
const INVALID_ENTRY: &str = "invalid_entry";

/// The fields the reference checker looks at, in its order of preference.
pub const HASH_FIELDS: [&str; 3] = ["sha384", "algo", "integrity"];

/// A parsed manifest: its entries in key order, each still raw.
#[derive(Debug)]
pub struct Manifest {
    pub entries: Map<String, Value>,
}

/// Reads and parses a manifest (a file, a pipe, `/dev/stdin`, up to
/// [`crate::MANIFEST_LIMIT`]); the error is the one-line message for exit 2, naming
/// the file and, for syntax errors, the line and column. Reasons: `unreadable_input`,
/// `invalid_manifest`.
pub fn load(path: &Path) -> Result<Manifest, Problem> {
    let bytes = day2_core::input::read_file(path, "manifest", crate::MANIFEST_LIMIT)?;
    parse(&bytes).map_err(|problem| Problem {
        message: format!("{}:{}", path.display(), problem.message),
        ..problem
    })
}

/// Parses manifest bytes; the error starts with `line:column: `. Nesting deeper
/// than serde_json's recursion limit (128 levels) is such an error
/// ("recursion limit exceeded"), never a stack overflow. Reason: `invalid_manifest`.
pub fn parse(bytes: &[u8]) -> Result<Manifest, Problem> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        // serde_json appends " at line L column C"; we put the position first instead.
        let what = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(what, _)| what);
        Problem::new(
            INVALID_MANIFEST,
            format!("{}:{}: invalid JSON: {what}", e.line(), e.column()),
        )
    })?;
    match value {
        Value::Object(entries) => Ok(Manifest { entries }),
        other => Err(Problem::new(
            INVALID_MANIFEST,
            format!(
                "1:1: the manifest must be a JSON object keyed by path, not {}",
                kind(&other)
            ),
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The SRI string of an entry, taken as the reference checker takes it: the first
/// of `sha384`, `algo`, `integrity` that is set (JavaScript truthiness: a missing
/// field, null, false, 0 and "" fall through to the next). Reason: `invalid_entry`
/// (the entry's record says so).
pub fn expected(entry: &Value) -> Result<&str, Problem> {
    let Value::Object(fields) = entry else {
        return Err(Problem::new(
            INVALID_ENTRY,
            format!(
                "the entry is {}, not an object with a sha384 field",
                kind(entry)
            ),
        ));
    };
    for field in HASH_FIELDS {
        match fields.get(field) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::Number(n)) if n.as_f64() == Some(0.0) => {}
            Some(Value::String(s)) => return Ok(s),
            Some(other) => {
                return Err(Problem::new(
                    INVALID_ENTRY,
                    format!("field {field:?} is {}, not an SRI string", kind(other)),
                ))
            }
        }
    }
    Err(Problem::new(
        INVALID_ENTRY,
        "no hash under sha384, algo or integrity",
    ))
}

/// The field a generated entry stores its hash under: `sha384` as the reference
/// generator writes, `integrity` for other algorithms (which the reader accepts).
pub fn field_for(algo: Algo) -> &'static str {
    match algo {
        Algo::Sha384 => "sha384",
        Algo::Sha256 | Algo::Sha512 => "integrity",
    }
}

/// Whether JavaScript treats a property key as an array index, which puts it
/// before every other key in any object, in numeric order.
fn array_index(key: &str) -> Option<u32> {
    let canonical = key == "0" || (!key.starts_with('0') && !key.is_empty());
    if !canonical || !key.bytes().all(|b| b.is_ascii_digit()) || key.len() > 10 {
        return None;
    }
    // 2^32 - 1 itself is not an index.
    key.parse::<u64>()
        .ok()
        .filter(|&n| n < u64::from(u32::MAX))
        .map(|n| n as u32)
}

/// Compares keys in the order `JSON.stringify` prints them after the reference
/// generator inserted them in `Object.keys(o).sort()` order.
pub fn js_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (array_index(a), array_index(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.encode_utf16().cmp(b.encode_utf16()),
    }
}

/// Appends a string literal escaped as `JSON.stringify` escapes it.
fn push_js_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One generated entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub key: String,
    pub field: &'static str,
    pub integrity: String,
}

/// Renders entries exactly as `JSON.stringify(obj, null, 2) + "\n"`.
pub fn render(entries: &[Generated]) -> String {
    let mut sorted: Vec<&Generated> = entries.iter().collect();
    sorted.sort_by(|a, b| js_cmp(&a.key, &b.key));
    if sorted.is_empty() {
        return "{}\n".to_owned();
    }
    let mut out = String::from("{\n");
    for (i, entry) in sorted.iter().enumerate() {
        out.push_str("  ");
        push_js_string(&mut out, &entry.key);
        out.push_str(": {\n    ");
        push_js_string(&mut out, entry.field);
        out.push_str(": ");
        push_js_string(&mut out, &entry.integrity);
        out.push_str("\n  }");
        out.push_str(if i + 1 < sorted.len() { ",\n" } else { "\n" });
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse(b"{\n  \"a.js\": {\"sha384\": \"x\"},\n}\n").unwrap_err();
        assert_eq!(err.reason(), "invalid_manifest");
        assert!(err.message.starts_with("3:1: invalid JSON: "), "{err}");
        assert!(parse(b"[1]").unwrap_err().message.contains("not an array"));
    }

    #[test]
    fn the_first_truthy_field_wins() {
        let v: Value = serde_json::json!({"sha384": "", "algo": null, "integrity": "sha512-x"});
        assert_eq!(expected(&v).unwrap(), "sha512-x");
        assert!(expected(&serde_json::json!({"sha384": 5})).is_err());
        assert!(expected(&serde_json::json!("sha384-x")).is_err());
        assert!(expected(&serde_json::json!({})).is_err());
    }

    #[test]
    fn order_follows_javascript() {
        let mut keys: Vec<String> = [
            "b",
            "10",
            "a",
            "9",
            "01",
            "\u{1F600}",
            "\u{FF61}",
            "4294967295",
        ]
        .map(String::from)
        .to_vec();
        keys.sort_by(|a, b| js_cmp(a, b));
        assert_eq!(
            keys,
            [
                "9",
                "10",
                "01",
                "4294967295",
                "a",
                "b",
                "\u{1F600}",
                "\u{FF61}"
            ]
        );
    }

    #[test]
    fn strings_escape_like_json_stringify() {
        let mut out = String::new();
        push_js_string(&mut out, "a\"b\\c/d\u{1}\u{7f}\u{2028}é\t");
        assert_eq!(out, "\"a\\\"b\\\\c/d\\u0001\u{7f}\u{2028}é\\t\"");
        assert_eq!(render(&[]), "{}\n");
    }
}
