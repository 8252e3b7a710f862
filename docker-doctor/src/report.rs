//! Where records go: JSON lines (the default, through day2-core's sink) or a
//! PASS/FAIL/SKIP checklist for a person at a terminal (`--format text`). Both keep
//! the run's outcome, which recovery may reset once the daemon is back.

use std::io::Write;

use day2_core::{Closed, Exit, Record, RecordSink, Verdict};
use serde_json::Value;

use crate::TOOL;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON record per line.
    Json,
    /// A human checklist: PASS/FAIL/WARN/INFO/SKIP lines with remediation.
    Text,
}

pub struct Report<'a> {
    format: Format,
    out: &'a mut dyn Write,
    outcome: Exit,
    closed: bool,
}

impl<'a> Report<'a> {
    pub fn new(format: Format, out: &'a mut dyn Write) -> Report<'a> {
        Report {
            format,
            out,
            outcome: Exit::Ok,
            closed: false,
        }
    }

    pub fn emit(&mut self, record: Record) -> Result<(), Closed> {
        if self.closed {
            return Err(Closed);
        }
        self.outcome = self.outcome.merge(record.verdict.exit());
        let written = match self.format {
            Format::Json => RecordSink::new(TOOL, &mut *self.out).emit(record),
            Format::Text => {
                // The checklist is for a terminal: credentials in URLs masked as
                // the JSON sink masks them, and text from containers and files
                // (names, health-check output) with its terminal controls escaped.
                let mut record = record;
                day2_core::record::mask_record(&mut record);
                let text = checklist_lines(&record);
                self.out
                    .write_all(text.as_bytes())
                    .and_then(|()| self.out.flush())
                    .map_err(|_| Closed)
            }
        };
        if written.is_err() {
            self.closed = true;
        }
        written
    }

    pub fn emit_all(&mut self, records: impl IntoIterator<Item = Record>) -> Result<(), Closed> {
        records.into_iter().try_for_each(|r| self.emit(r))
    }

    /// The outcome so far, for [`Report::restore`].
    pub fn outcome(&self) -> Exit {
        self.outcome
    }

    /// Forgets what was merged since [`Report::outcome`] returned `saved`: a
    /// successful recovery supersedes the first probe's failure.
    pub fn restore(&mut self, saved: Exit) {
        self.outcome = saved;
    }

    /// The exit code; a reader that went away makes the run a success.
    pub fn exit(&self) -> Exit {
        if self.closed {
            Exit::Ok
        } else {
            self.outcome
        }
    }
}

/// One checklist entry: `PASS probe.ping /_ping (0.4 ms)`, with the message and any
/// remediation or command lines indented below.
fn checklist_lines(record: &Record) -> String {
    let label = match (record.verdict, record.reason.as_deref()) {
        (Verdict::Pass, _) => "PASS",
        (Verdict::Fail | Verdict::Error, _) => "FAIL",
        (Verdict::Warn, _) => "WARN",
        (Verdict::Info, Some("skipped" | "no_project")) => "SKIP",
        (Verdict::Info, _) => "INFO",
    };
    let safe = day2_core::text::escape_controls;
    let mut line = format!("{label} {} {}", record.check, safe(&record.target));
    if let Some(reason) = &record.reason {
        line.push_str(&format!(" [{reason}]"));
    }
    if let Some(ms) = record.duration_ms {
        line.push_str(&format!(" ({ms:.1} ms)"));
    }
    line.push('\n');
    if let Some(message) = &record.message {
        line.push_str(&format!("     {}\n", safe(message)));
    }
    for key in ["remediation", "commands"] {
        if let Some(Value::Array(items)) = record.data.get(key) {
            for item in items.iter().filter_map(Value::as_str) {
                line.push_str(&format!("     > {}\n", safe(item)));
            }
        }
    }
    line
}
