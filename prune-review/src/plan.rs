//! Plan items: what a plan line says and how it is read back.
//!
//! A plan is a file of ordinary day2 records, one deletion candidate per line, so a
//! person can review it, delete lines and keep it. Each line names its object
//! exactly: a volume by name and creation time, a container, network or image by
//! id and creation time. `apply` reads nothing else from the line; everything else
//! in it is for the reviewer.

use std::collections::BTreeMap;

use day2_core::bounded::quoted;
use day2_core::{Problem, Record};
use serde_json::{json, Value};

use crate::TOOL;

/// What kind of object a plan line deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Volume,
    Container,
    Network,
    Image,
    BuildCache,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Volume,
        Kind::Container,
        Kind::Network,
        Kind::Image,
        Kind::BuildCache,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Volume => "volume",
            Kind::Container => "container",
            Kind::Network => "network",
            Kind::Image => "image",
            Kind::BuildCache => "build_cache",
        }
    }

    /// The `check` of this kind's plan lines.
    pub fn check(self) -> String {
        format!("plan.{}", self.as_str())
    }
}

/// One deletion candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: Kind,
    /// Volume name; container/network/image id; `build-cache`.
    pub id: String,
    /// A readable name (container or network name, image tags); the volume name.
    pub name: String,
    /// The creation time exactly as the engine gave it (string or number).
    pub created: Value,
    /// Size when known: a volume's or image's size, a container's writable layer.
    pub size_bytes: Option<u64>,
    /// Why it is a candidate: the volume class, `stopped`, `unused`, `dangling`, ...
    pub reason: String,
    /// A volume's labels, driver and driver options as planned: a volume re-created
    /// under the same name within the same second (the creation time has whole
    /// seconds) is told apart by them. `None` for other kinds.
    pub identity: Option<VolumeIdentity>,
}

/// What a volume is, beyond its name and creation second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeIdentity {
    pub labels: BTreeMap<String, String>,
    pub driver: String,
    pub options: BTreeMap<String, String>,
}

impl VolumeIdentity {
    /// The plan line's fields for it.
    pub fn data(&self) -> Value {
        json!({"labels": self.labels, "driver": self.driver, "options": self.options})
    }

    fn from_data(data: &Value) -> Result<VolumeIdentity, Problem> {
        let map = |key: &str| -> Result<BTreeMap<String, String>, Problem> {
            serde_json::from_value(data.get(key).cloned().unwrap_or(Value::Null)).map_err(|_| {
                invalid(format!(
                    "data.{key} is missing or not an object of strings: without it a volume re-created under the same name cannot be told apart (write the plan again)"
                ))
            })
        };
        Ok(VolumeIdentity {
            labels: map("labels")?,
            driver: data
                .get("driver")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| invalid("data.driver is missing: without it a volume re-created under the same name cannot be told apart (write the plan again)".to_owned()))?,
            options: map("options")?,
        })
    }
}

impl Item {
    /// The plan line for this item; `extra` adds reviewer-facing fields to `data`.
    pub fn record(&self, extra: Value) -> Record {
        let mut data = json!({
            "kind": self.kind.as_str(),
            "id": self.id,
            "name": self.name,
            "created": self.created,
            "size_bytes": self.size_bytes,
        });
        if let (Some(obj), Some(Value::Object(identity))) = (
            data.as_object_mut(),
            self.identity.as_ref().map(VolumeIdentity::data),
        ) {
            obj.extend(identity);
        }
        if let (Some(obj), Value::Object(more)) = (data.as_object_mut(), extra) {
            for (k, v) in more {
                obj.entry(k).or_insert(v);
            }
        }
        let message = match self.size_bytes {
            Some(size) => format!("delete {} {} ({size} bytes)", self.kind.as_str(), self.name),
            None => format!("delete {} {} (size unknown)", self.kind.as_str(), self.name),
        };
        Record::info(&self.kind.check(), &self.id, &self.reason)
            .message(message)
            .data(data)
    }

    /// Reads a plan line back, naming what is wrong with it.
    pub fn from_record(record: &Record) -> Result<Item, Problem> {
        if record.tool != TOOL {
            return Err(invalid(format!(
                "a record of {}, not of {TOOL}",
                quoted(&record.tool)
            )));
        }
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.check() == record.check)
            .ok_or_else(|| {
                invalid(format!(
                    "check {} is not a plan line (plan.volume, plan.container, ...)",
                    quoted(&record.check)
                ))
            })?;
        let data = &record.data;
        let text = |key: &str| -> Result<String, Problem> {
            data.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| invalid(format!("data.{key} is missing or not a string")))
        };
        if data.get("kind").and_then(Value::as_str) != Some(kind.as_str()) {
            return Err(invalid(format!(
                "data.kind does not say {:?}",
                kind.as_str()
            )));
        }
        let id = text("id")?;
        if id != record.target {
            return Err(invalid(format!(
                "target {} and data.id {} differ",
                quoted(&record.target),
                quoted(&id)
            )));
        }
        let created = data.get("created").cloned().unwrap_or(Value::Null);
        if kind != Kind::BuildCache && !(created.is_string() || created.is_i64()) {
            return Err(invalid(
                "data.created is missing: without it the object cannot be identified".into(),
            ));
        }
        let identity = match kind {
            Kind::Volume => Some(VolumeIdentity::from_data(data)?),
            _ => None,
        };
        Ok(Item {
            kind,
            id,
            name: text("name")?,
            created,
            size_bytes: data.get("size_bytes").and_then(Value::as_u64),
            reason: record.reason.clone().unwrap_or_default(),
            identity,
        })
    }
}

/// Reads a whole plan: every non-blank line must be a plan record (else reason
/// `invalid_plan`, the message naming `source:line`). A line nested
/// deeper than serde_json's recursion limit (128) is such an error, never a stack
/// overflow.
pub fn read(text: &str, source: &str) -> Result<Vec<Item>, Problem> {
    let mut items = Vec::new();
    let mut seen = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(line)
            .map_err(|e| invalid(format!("{source}:{line_no}: not a day2 record: {e}")))?;
        let item = Item::from_record(&record)
            .map_err(|e| e.context(format_args!("{source}:{line_no}")))?;
        // A line kept twice is deleted once.
        if seen.insert((item.kind, item.id.clone()), line_no).is_none() {
            items.push(item);
        }
    }
    Ok(items)
}

/// A plan line that cannot be applied as written: a usage error.
fn invalid(message: String) -> Problem {
    Problem::new("invalid_plan", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(item: &Item) -> String {
        let mut r = item.record(json!({"labels": {"a": "b"}}));
        r.tool = TOOL.into();
        serde_json::to_string(&r).unwrap()
    }

    #[test]
    fn plan_lines_round_trip_and_duplicates_count_once() {
        let item = Item {
            kind: Kind::Volume,
            id: "v1".into(),
            name: "v1".into(),
            created: json!("2026-11-27T10:00:00Z"),
            size_bytes: Some(5),
            reason: "orphan_anonymous".into(),
            identity: Some(VolumeIdentity {
                labels: BTreeMap::from([("a".into(), "b".into())]),
                driver: "local".into(),
                options: BTreeMap::new(),
            }),
        };
        let text = format!("{}\n\n{}\n", line(&item), line(&item));
        assert_eq!(read(&text, "plan").unwrap(), vec![item]);
    }

    #[test]
    fn bad_lines_are_named_with_file_and_line() {
        let err = read("\n{not json\n", "p.jsonl").unwrap_err();
        assert_eq!(err.reason(), "invalid_plan");
        assert!(
            err.message.starts_with("p.jsonl:2: not a day2 record"),
            "{err}"
        );
        let mut item = Item {
            kind: Kind::Network,
            id: "n1".into(),
            name: "net".into(),
            created: Value::Null,
            size_bytes: None,
            reason: "unused".into(),
            identity: None,
        };
        let err = read(&line(&item), "p").unwrap_err();
        assert!(err.message.contains("p:1: data.created"), "{err}");
        item.created = json!("2026-11-27T10:00:00Z");
        let mut r = item.record(json!({}));
        r.tool = "status-probe".into();
        let err = read(&serde_json::to_string(&r).unwrap(), "p").unwrap_err();
        assert!(err.message.contains("status-probe"), "{err}");
        r.tool = TOOL.into();
        r.target = "other".into();
        let err = read(&serde_json::to_string(&r).unwrap(), "p").unwrap_err();
        assert!(err.message.contains("differ"), "{err}");
    }
}
