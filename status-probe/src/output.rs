//! Where records go: JSON lines on stdout through the shared [`RecordSink`] (which
//! also keeps the exit code), and a copy of each kept for the Prometheus exposition,
//! together with the facts the metrics need beyond the records.

use std::io::Write;

use day2_core::{Closed, Exit, Record, RecordSink};

use crate::summary::SummaryView;
use crate::TOOL;

/// The format written on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON record per line.
    Json,
    /// The Prometheus text exposition format, written at the end of the run.
    Prometheus,
    /// A checklist for a person: grouped by check, with a verdict column.
    Text,
}

impl From<Format> for day2_core::human::View {
    fn from(format: Format) -> day2_core::human::View {
        match format {
            Format::Json => day2_core::human::View::Records,
            Format::Prometheus => day2_core::human::View::Hidden,
            Format::Text => day2_core::human::View::Text,
        }
    }
}

/// Facts of the run that the metrics report as gauges.
#[derive(Debug, Default)]
pub struct Facts {
    /// The last readable summary.
    pub summary: Option<SummaryView>,
    /// Time to ready as measured by the SLO clock; `None` when no summary was read.
    pub warming_seconds: Option<f64>,
    /// `--insecure`: TLS certificates were not verified.
    pub insecure: bool,
}

pub struct Output<'a> {
    sink: RecordSink<'a>,
    records: Vec<Record>,
    pub facts: Facts,
}

impl<'a> Output<'a> {
    pub fn new(stdout: &'a mut dyn Write) -> Output<'a> {
        Output {
            sink: RecordSink::new(TOOL, stdout),
            records: Vec::new(),
            facts: Facts::default(),
        }
    }

    pub fn emit(&mut self, record: Record) -> Result<(), Closed> {
        self.records.push(record.clone());
        self.sink.emit(record)
    }

    pub fn raise(&mut self, exit: Exit) {
        self.sink.raise(exit);
    }

    pub fn exit(&self) -> Exit {
        self.sink.exit()
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }
}
