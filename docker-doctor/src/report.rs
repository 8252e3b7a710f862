//! Where records go: JSON lines through day2-core's sink, keeping the run's outcome,
//! which recovery may reset once the daemon is back. The text checklist of
//! `--format text` is day2-core's shared one ([`day2_core::human`]), which started
//! here.

use std::io::Write;

use day2_core::{Closed, Exit, Record, RecordSink};

use crate::TOOL;

/// The output format: records, or the shared checklist.
pub use day2_core::human::Format;

pub struct Report<'a> {
    out: &'a mut dyn Write,
    outcome: Exit,
    closed: bool,
}

impl<'a> Report<'a> {
    pub fn new(out: &'a mut dyn Write) -> Report<'a> {
        Report {
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
        let written = RecordSink::new(TOOL, &mut *self.out).emit(record);
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
