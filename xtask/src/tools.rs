//! Running a day2 tool in-process and reading its records back: the only way the
//! xtask talks to the tools, so it sees exactly what a user's pipeline sees.

use day2_core::record::{read_records, Record, RecordSink};
use day2_core::{cli, Exit, Io};

/// A tool's `run` entry point.
pub type ToolMain = fn(Vec<std::ffi::OsString>, &mut Io<'_>) -> Exit;

/// What one tool invocation produced.
#[derive(Debug)]
pub struct ToolRun {
    pub exit: Exit,
    pub records: Vec<Record>,
    pub stderr: String,
}

impl ToolRun {
    /// The last record of a check: a tool's summary comes after its details.
    pub fn last(&self, check: &str) -> Option<&Record> {
        self.records.iter().rev().find(|r| r.check == check)
    }

    /// Passes the records on unchanged (they keep their `tool`): the xtask's output
    /// is what a pipe of the tools shows. False once the reader has gone.
    pub fn pass_through(&self, sink: &mut RecordSink<'_>) -> bool {
        self.pass_through_matching(sink, |_| true)
    }

    /// [`ToolRun::pass_through`] for the records `keep` accepts.
    pub fn pass_through_matching(
        &self,
        sink: &mut RecordSink<'_>,
        keep: impl Fn(&Record) -> bool,
    ) -> bool {
        self.records
            .iter()
            .filter(|r| keep(r))
            .all(|record| sink.emit(record.clone()).is_ok())
    }
}

/// Runs `tool` with `args` (without the program name) on `stdin`.
pub fn invoke(name: &str, tool: ToolMain, args: &[&str], stdin: &[u8]) -> ToolRun {
    let mut argv = vec![name];
    argv.extend_from_slice(args);
    let (exit, stdout, stderr) = cli::run_captured(tool, &argv, stdin);
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    match read_records(&mut stdout.as_slice()) {
        Ok(records) => ToolRun {
            exit,
            records,
            stderr,
        },
        // A tool that writes something other than records is a bug in the tool; say
        // so loudly instead of pretending it produced nothing.
        Err(err) => ToolRun {
            exit: Exit::Usage,
            records: Vec::new(),
            stderr: format!("{stderr}{name} wrote a line that is not a record: {err}"),
        },
    }
}
