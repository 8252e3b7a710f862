//! `%UserProfile%\.wslconfig`: an INI file whose `[wsl2]` section sets the WSL VM's
//! memory, processors and swap, i.e. what Docker Desktop's engine (and Ollama in
//! it) can use. Parsed as INI for real: sections, `key = value`, `#`/`;` comments,
//! CRLF, a UTF-8 BOM and the UTF-16 that Notepad may save; anything else is a
//! malformed line, named by number.

use std::path::Path;

use day2_core::Record;
use serde_json::json;

use crate::size;

/// One `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub section: String,
    pub key: String,
    pub value: String,
    /// 1-based line number.
    pub line: usize,
}

/// A line that is not INI, or a key given twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// The minimums the `[wsl2]` values are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub memory: u64,
    pub processors: u64,
    pub swap: u64,
}

/// Reads the file as text, whatever encoding Windows editors chose.
pub fn read(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    decode(&bytes).ok_or_else(|| format!("{}: not UTF-8 or UTF-16 text", path.display()))
}

fn decode(bytes: &[u8]) -> Option<String> {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| {
                let pair = [c[0], *c.get(1).unwrap_or(&0)];
                if le {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(true),
        [0xFE, 0xFF, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

/// Parses INI text into its entries. Section and key names compare
/// case-insensitively (as Windows INI readers do) and are stored lower-cased.
pub fn parse(text: &str) -> Result<Vec<Entry>, ParseError> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut section: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        let fail = |message: String| {
            Err(ParseError {
                line: line_no,
                message,
            })
        };
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                return fail(format!("section header {line:?} has no closing ]"));
            };
            let name = name.trim();
            if name.is_empty() || name.contains(['[', ']']) {
                return fail(format!("bad section header {line:?}"));
            }
            section = Some(name.to_ascii_lowercase());
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return fail(format!(
                "{line:?} is neither [section], key=value nor a comment"
            ));
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return fail(format!("bad key {key:?} in {line:?}"));
        }
        let Some(section) = &section else {
            return fail(format!("{key:?} appears before any [section]"));
        };
        let key = key.to_ascii_lowercase();
        if let Some(first) = entries
            .iter()
            .find(|e| &e.section == section && e.key == key)
        {
            return fail(format!(
                "[{section}] {key} is set twice (first on line {})",
                first.line
            ));
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        entries.push(Entry {
            section: section.clone(),
            key,
            value: value.to_owned(),
            line: line_no,
        });
    }
    Ok(entries)
}

/// What WSL does when a key is missing, for the `missing_key` message.
fn default_of(key: &str) -> &'static str {
    match key {
        "memory" => "WSL gives the VM 50% of the host's RAM",
        "processors" => "WSL gives the VM every logical processor",
        _ => "WSL sizes swap at 25% of the host's RAM",
    }
}

/// One record per checked key of `[wsl2]`.
pub fn check(path: &Path, entries: &[Entry], min: Thresholds) -> Vec<Record> {
    let target = path.display().to_string();
    let mut records = Vec::new();
    for key in ["memory", "processors", "swap"] {
        let check = format!("wslconfig.{key}");
        let entry = entries.iter().find(|e| e.section == "wsl2" && e.key == key);
        let Some(entry) = entry else {
            records.push(
                Record::warn(&check, &target, "missing_key")
                    .message(format!("[wsl2] {key} is not set: {}", default_of(key)))
                    .data(json!({"key": key})),
            );
            continue;
        };
        let (value, minimum, shown) = if key == "processors" {
            let parsed = entry.value.parse::<u64>().ok().filter(|n| *n > 0);
            (
                parsed.ok_or("a positive whole number"),
                min.processors,
                min.processors.to_string(),
            )
        } else {
            let minimum = if key == "memory" {
                min.memory
            } else {
                min.swap
            };
            (
                size::parse_size(&entry.value).map_err(|_| "a size such as 8GB"),
                minimum,
                size::human(minimum),
            )
        };
        let data = json!({
            "key": key,
            "value": entry.value,
            "line": entry.line,
            "parsed": value.ok(),
            "minimum": minimum,
        });
        let record = match value {
            Err(expected) => Record::fail(&check, &target, "bad_value").message(format!(
                "line {}: {key}={:?} is not {expected}",
                entry.line, entry.value
            )),
            Ok(n) if n < minimum => {
                Record::fail(&check, &target, "below_threshold").message(format!(
                    "line {}: {key}={} is below the minimum {shown}",
                    entry.line, entry.value
                ))
            }
            Ok(_) => Record::pass(&check, &target),
        };
        records.push(record.data(data));
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_guides_file_with_windows_habits() {
        let text = "\u{feff}# budget\r\n[wsl2]\r\nmemory = 10GB\r\nProcessors=6\r\nswap=2GB\r\nlocalhostForwarding=true\r\n\r\n[experimental]\r\nautoMemoryReclaim=gradual\r\n";
        let decoded = decode(text.as_bytes()).unwrap();
        let entries = parse(&decoded).unwrap();
        assert_eq!(entries.len(), 5);
        assert_eq!(entries[1].key, "processors");
        assert_eq!(entries[1].line, 4);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            "[wsl2]\nmemory=4GB\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        assert_eq!(parse(&decode(&utf16).unwrap()).unwrap()[0].value, "4GB");
    }

    #[test]
    fn malformed_lines_are_named_by_number() {
        assert_eq!(parse("[wsl2]\nmemory 10GB\n").unwrap_err().line, 2);
        assert_eq!(parse("[wsl2\n").unwrap_err().line, 1);
        assert_eq!(parse("memory=1GB\n").unwrap_err().line, 1);
        let twice = parse("[wsl2]\nmemory=1GB\n[WSL2]\nMemory=2GB\n").unwrap_err();
        assert_eq!(twice.line, 4);
        assert!(
            twice.message.contains("first on line 2"),
            "{}",
            twice.message
        );
    }
}
