//! The record envelope shared by every tool: one JSON object per line on stdout.
//!
//! ```json
//! {"v":1,"tool":"status-probe","check":"summary","target":"http://127.0.0.1:8080/api/status/summary",
//!  "verdict":"fail","reason":"synthetic_warming","ts":"2026-11-28T01:00:00.123Z",
//!  "duration_ms":3.2,"data":{...}}
//! ```
//!
//! The schema is published in `schema/record.schema.json` at the repository root and
//! a test validates real tool output against it.

use std::io::{BufRead, Read, Write};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::exit::Exit;

/// The envelope version written in every record's `v` field.
pub const RECORD_VERSION: u32 = 1;

/// What a record says about its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The check passed.
    Pass,
    /// The check ran and found a defect.
    Fail,
    /// Worth a look, but not a failure (e.g. warming inside its budget).
    Warn,
    /// An observation or a summary; neither passes nor fails anything.
    Info,
    /// The check could not be performed (target unreachable, input unreadable).
    Error,
}

impl Verdict {
    /// The verdict as written in records: `pass`, `fail`, `warn`, `info`, `error`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Warn => "warn",
            Verdict::Info => "info",
            Verdict::Error => "error",
        }
    }

    /// What this verdict contributes to the process exit code.
    pub fn exit(self) -> Exit {
        match self {
            Verdict::Fail | Verdict::Error => Exit::Failed,
            Verdict::Pass | Verdict::Warn | Verdict::Info => Exit::Ok,
        }
    }
}

/// One line of output. Every field but `data` means the same in every tool; `data`
/// is the tool's own payload, documented by the tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Envelope version, [`RECORD_VERSION`].
    pub v: u32,
    /// The tool that wrote the record, e.g. `status-probe`.
    pub tool: String,
    /// Which check or event, e.g. `summary`, `sample`, `volume`.
    pub check: String,
    /// What was looked at: a URL, a path, a volume name.
    pub target: String,
    /// pass / fail / warn / info / error.
    pub verdict: Verdict,
    /// Machine-readable reason in snake_case; present on every verdict but `pass`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// One human sentence, for reports; never a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the record was made, RFC 3339 in UTC.
    pub ts: String,
    /// How long the timed work took, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// The tool's own payload; always an object.
    #[serde(default = "empty_object")]
    pub data: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// The current time as the RFC 3339 UTC string used in `ts` fields.
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Millisecond)
        .unwrap_or(now)
        .to_string()
}

impl Record {
    /// A record with the given verdict. `reason` is required unless the verdict is
    /// `pass`; the tool name is filled in by the [`RecordSink`].
    pub fn new(check: &str, target: &str, verdict: Verdict, reason: Option<&str>) -> Record {
        Record {
            v: RECORD_VERSION,
            tool: String::new(),
            check: check.to_owned(),
            target: target.to_owned(),
            verdict,
            reason: reason.map(str::to_owned),
            message: None,
            ts: now_rfc3339(),
            duration_ms: None,
            data: empty_object(),
        }
    }

    pub fn pass(check: &str, target: &str) -> Record {
        Record::new(check, target, Verdict::Pass, None)
    }

    pub fn fail(check: &str, target: &str, reason: &str) -> Record {
        Record::new(check, target, Verdict::Fail, Some(reason))
    }

    pub fn warn(check: &str, target: &str, reason: &str) -> Record {
        Record::new(check, target, Verdict::Warn, Some(reason))
    }

    pub fn info(check: &str, target: &str, reason: &str) -> Record {
        Record::new(check, target, Verdict::Info, Some(reason))
    }

    pub fn error(check: &str, target: &str, reason: &str) -> Record {
        Record::new(check, target, Verdict::Error, Some(reason))
    }

    /// Sets the tool's payload; anything but an object is wrapped as `{"value": …}`.
    pub fn data(mut self, data: Value) -> Record {
        self.data = match data {
            Value::Object(_) => data,
            other => serde_json::json!({ "value": other }),
        };
        self
    }

    pub fn duration(mut self, elapsed: Duration) -> Record {
        self.duration_ms = Some(crate::duration::millis(elapsed));
        self
    }

    pub fn message(mut self, text: impl Into<String>) -> Record {
        self.message = Some(text.into());
        self
    }

    /// A field of `data`, for readers of records.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.data.get(key)
    }

    /// Sets `data` from a tool's typed payload (see [`Record::payload`]).
    ///
    /// Errors: never for the payload types the tools export (plain structs of
    /// strings, numbers and maps with string keys); a type serde_json cannot write
    /// gives `{"value": null}`, which the schema test catches.
    pub fn with_payload<T: Serialize>(self, payload: &T) -> Record {
        let data = serde_json::to_value(payload).unwrap_or(Value::Null);
        self.data(data)
    }

    /// `data` decoded as a tool's typed payload (the `Serialize + Deserialize`
    /// structs each tool exports for the records other code reads), so a renamed
    /// field is a compile error or a decoding error naming the field, never a silent
    /// `None`.
    ///
    /// Errors: `data` does not have the payload's shape; the message names the
    /// record (`tool/check target`) and serde_json's path to the field.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Problem> {
        T::deserialize(&self.data).map_err(|e| {
            crate::Problem::new(
                "unexpected_payload",
                format!(
                    "{}/{} {}: data is not a {}: {e}",
                    self.tool,
                    self.check,
                    self.target,
                    std::any::type_name::<T>()
                ),
            )
        })
    }
}

/// Returned when stdout was closed by the reader (`tool | head -1`): the tool stops
/// producing output and ends successfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Writes records as JSON lines, stamps the tool's own records with its name (records
/// read from another tool keep theirs), and remembers the most severe outcome for the
/// exit code.
pub struct RecordSink<'a> {
    tool: &'static str,
    out: &'a mut dyn Write,
    outcome: Exit,
    closed: bool,
}

impl<'a> RecordSink<'a> {
    pub fn new(tool: &'static str, out: &'a mut dyn Write) -> RecordSink<'a> {
        RecordSink {
            tool,
            out,
            outcome: Exit::Ok,
            closed: false,
        }
    }

    /// Writes one record and flushes it, so a pipeline sees it at once.
    ///
    /// A closed pipe is not an error of the tool: it returns [`Closed`] and the run
    /// should end; [`RecordSink::exit`] then reports success.
    ///
    /// Credentials in any URL of the record (target, message, data) are masked here
    /// ([`crate::redact`]), so no tool can write one by forgetting to.
    pub fn emit(&mut self, mut record: Record) -> Result<(), Closed> {
        if self.closed {
            return Err(Closed);
        }
        mask_record(&mut record);
        // Records passed through from another tool keep their author.
        if record.tool.is_empty() {
            record.tool = self.tool.to_owned();
        }
        self.outcome = self.outcome.merge(record.verdict.exit());
        let mut line = serde_json::to_vec(&record).expect("a record always serializes");
        line.push(b'\n');
        match self.out.write_all(&line).and_then(|()| self.out.flush()) {
            Ok(()) => Ok(()),
            Err(_) => {
                // Any write error on stdout (EPIPE above all) means nobody reads us.
                self.closed = true;
                Err(Closed)
            }
        }
    }

    /// Raises the outcome without a record, e.g. [`Exit::Timeout`] for a wait.
    pub fn raise(&mut self, outcome: Exit) {
        self.outcome = self.outcome.merge(outcome);
    }

    /// The outcome so far. Once the reader has gone away the run counts as a success.
    pub fn exit(&self) -> Exit {
        if self.closed {
            Exit::Ok
        } else {
            self.outcome
        }
    }

    pub fn tool(&self) -> &'static str {
        self.tool
    }
}

/// Masks the credentials of every URL in a record ([`crate::redact::mask_urls`]).
pub fn mask_record(record: &mut Record) {
    use crate::redact::{mask_json, mask_urls};
    use std::borrow::Cow;
    if let Cow::Owned(masked) = mask_urls(&record.target) {
        record.target = masked;
    }
    if let Some(Cow::Owned(masked)) = record.message.as_deref().map(mask_urls) {
        record.message = Some(masked);
    }
    mask_json(&mut record.data);
}

/// The longest line [`read_records`] takes: 16 MiB. A stream without line breaks
/// (`/dev/zero`) is an error at that point, not memory growing without bound.
pub const MAX_RECORD_LINE: usize = 16 * 1024 * 1024;

/// A line of a JSON-lines stream that is not a record.
#[derive(Debug)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Reads records from a JSON-lines stream, skipping blank lines. Stops at the first
/// line that is not a record, naming it: not JSON, not a record, nested deeper than
/// serde_json's recursion limit (128), or longer than [`MAX_RECORD_LINE`].
pub fn read_records(input: &mut dyn BufRead) -> Result<Vec<Record>, LineError> {
    let mut records = Vec::new();
    let mut buf = Vec::new();
    for line_no in 1.. {
        buf.clear();
        let read = input
            .take(MAX_RECORD_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| LineError {
                line: line_no,
                message: e.to_string(),
            })?;
        if read == 0 {
            break;
        }
        if buf.len() > MAX_RECORD_LINE {
            return Err(LineError {
                line: line_no,
                message: format!("longer than {} MiB", MAX_RECORD_LINE / (1024 * 1024)),
            });
        }
        let line = std::str::from_utf8(&buf).map_err(|e| LineError {
            line: line_no,
            message: format!("not UTF-8 text: {e}"),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str::<Record>(line).map_err(|e| LineError {
            line: line_no,
            message: format!("not a day2 record: {e}"),
        })?;
        records.push(record);
    }
    Ok(records)
}

/// Writes a plain line of text to a human-facing writer, ignoring a closed stream.
pub fn say(out: &mut dyn Write, text: &str) {
    let _ = writeln!(out, "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Entry {
        path: String,
        bytes: u64,
    }

    #[test]
    fn a_typed_payload_round_trips_and_a_wrong_shape_names_the_field() {
        let entry = Entry {
            path: "a.js".into(),
            bytes: 3,
        };
        let record = Record::pass("entry", "a.js").with_payload(&entry);
        assert_eq!(record.data, serde_json::json!({"path": "a.js", "bytes": 3}));
        assert_eq!(record.payload::<Entry>().unwrap(), entry);
        let wrong = Record::pass("entry", "a.js").data(serde_json::json!({"path": 1}));
        let problem = wrong.payload::<Entry>().unwrap_err();
        assert_eq!(problem.reason(), "unexpected_payload");
        assert!(problem.message.contains("entry a.js"), "{problem}");
        assert!(problem.message.contains("invalid type"), "{problem}");
    }

    #[test]
    fn records_round_trip_and_carry_the_tool_name() {
        let mut buf = Vec::new();
        let mut sink = RecordSink::new("sri-check", &mut buf);
        sink.emit(Record::fail("entry", "a.js", "drift").data(serde_json::json!({"n": 1})))
            .unwrap();
        sink.emit(Record::pass("entry", "b.js")).unwrap();
        assert_eq!(sink.exit(), Exit::Failed);
        let records = read_records(&mut buf.as_slice()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].tool, "sri-check");
        assert_eq!(records[0].reason.as_deref(), Some("drift"));
        assert_eq!(records[0].data["n"], 1);
        assert!(records[1].reason.is_none());
    }

    #[test]
    fn a_closed_reader_ends_the_run_as_a_success() {
        struct Gone;
        impl Write for Gone {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from(io::ErrorKind::BrokenPipe))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut gone = Gone;
        let mut sink = RecordSink::new("t", &mut gone);
        assert_eq!(sink.emit(Record::fail("c", "x", "r")), Err(Closed));
        assert_eq!(sink.emit(Record::pass("c", "x")), Err(Closed));
        assert_eq!(sink.exit(), Exit::Ok);
    }

    #[test]
    fn a_line_that_is_not_a_record_is_named() {
        let input = "\n{\"v\":1}\n";
        let err = read_records(&mut input.as_bytes()).unwrap_err();
        assert_eq!(err.line, 2);
    }

    /// serde_json's recursion limit (128 levels) bounds every record line: a line
    /// nested 100,000 deep is a named error, not a stack overflow.
    #[test]
    fn deep_nesting_is_an_error_naming_the_line() {
        let deep = format!(
            "{{\"v\":1,\"tool\":\"t\",\"check\":\"c\",\"target\":\"x\",\"verdict\":\"info\",\"ts\":\"t\",\"data\":{{\"a\":{}{}}}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let input = format!("\n{deep}\n");
        let err = read_records(&mut input.as_bytes()).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("recursion limit exceeded"), "{err}");
    }

    /// A stream without line breaks (`/dev/zero`) ends at the line cap instead of
    /// growing without bound.
    #[test]
    fn an_endless_line_is_an_error_at_the_cap() {
        let mut zero = std::fs::File::open("/dev/zero")
            .map(io::BufReader::new)
            .unwrap();
        let err = read_records(&mut zero).unwrap_err();
        assert_eq!((err.line, err.message.as_str()), (1, "longer than 16 MiB"));
    }

    /// Credentials in any URL of a record are masked as it is written.
    #[test]
    fn the_sink_masks_url_credentials_everywhere() {
        let mut buf = Vec::new();
        let mut sink = RecordSink::new("t", &mut buf);
        sink.emit(
            Record::fail("c", "http://u:CANARY@h/x", "r")
                .message("GET http://h/?token=CANARY failed")
                .data(serde_json::json!({"url": "tcp://a:CANARY@h:2375", "n": 1})),
        )
        .unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(!text.contains("CANARY"), "{text}");
        assert!(text.contains("http://u:[REDACTED]@h/x"), "{text}");
    }

    #[test]
    fn verdict_names_are_the_serialized_ones() {
        for verdict in [
            Verdict::Pass,
            Verdict::Fail,
            Verdict::Warn,
            Verdict::Info,
            Verdict::Error,
        ] {
            assert_eq!(serde_json::to_value(verdict).unwrap(), verdict.name());
        }
    }

    #[test]
    fn non_object_data_is_wrapped() {
        let r = Record::info("c", "t", "observed").data(serde_json::json!(3));
        assert_eq!(r.data, serde_json::json!({"value": 3}));
    }
}
