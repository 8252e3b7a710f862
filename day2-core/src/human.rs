//! The human side of every run, one renderer for every tool and playbook: records
//! stay the interface on stdout, and a person gets
//!
//! - on stderr, one line per `fail` and `error` record (and per `warn` unless
//!   `--quiet`): `tool: check target: reason — message`, then one closing line with
//!   the counts and what the exit code means;
//! - with `--format text`, a checklist on stdout instead of the records: grouped by
//!   check, with a verdict column, coloured on a terminal (`--color`, `NO_COLOR`).
//!
//! A tool wraps its run in [`report`], which puts a tap in front of stdout: the tap
//! reads the record lines the tool writes (its own and those it passes on), so no
//! tool changes how it makes records. Anything on stdout that is not a record (the
//! Prometheus exposition, a redacted copy) passes through untouched.
//!
//! The text view follows docker-doctor's first checklist (PASS/FAIL/SKIP lines with
//! the remediation indented below, from `data.remediation` and `data.commands`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};
use serde_json::Value;

use crate::exit::Exit;
use crate::record::{Record, Verdict};
use crate::text::printable;
use crate::Io;

/// `--color`: when the text view is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set (or `TERM=dumb`).
    #[default]
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

/// `--format` of the tools whose only formats are records and the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One JSON record per line (the interface for scripts and other tools).
    #[default]
    Json,
    /// A checklist for a person: grouped by check, with a verdict column.
    Text,
}

/// What goes on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The records, as the tool writes them.
    Records,
    /// The checklist, at the end of the run, instead of the records.
    Text,
    /// No records: the tool writes something else (the Prometheus exposition).
    Hidden,
}

impl From<Format> for View {
    fn from(format: Format) -> View {
        match format {
            Format::Json => View::Records,
            Format::Text => View::Text,
        }
    }
}

/// The flags every tool takes for its human output (flattened into its `Args`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HumanArgs {
    /// Leave warn records out of the lines on stderr (fail and error lines and the
    /// closing line stay).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Colour in the text view: auto (only on a terminal, never with NO_COLOR set),
    /// always or never.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        global = true,
        value_name = "WHEN"
    )]
    pub color: ColorWhen,
}

/// How a run speaks to a person.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub view: View,
    pub quiet: bool,
    pub color: ColorWhen,
}

impl Options {
    pub fn new(view: impl Into<View>, human: &HumanArgs) -> Options {
        Options {
            view: view.into(),
            quiet: human.quiet,
            color: human.color,
        }
    }
}

/// Lines of one check and reason written on stderr before the rest are only counted:
/// a thousand timeouts are a thousand records, not a thousand lines for a person.
pub const MAX_SAME_LINES: u32 = 10;

/// Rows of one check kept for the text view; the rest are counted by verdict.
/// Problem rows (fail, error, warn) are kept before pass and info rows.
pub const MAX_ROWS: usize = 200;

/// Runs `body` with stdout behind the tap: the human lines go to stderr as records
/// pass, the checklist (text view) and the closing line at the end. The exit code is
/// `body`'s.
pub fn report(
    tool: &'static str,
    options: Options,
    io: &mut Io<'_>,
    body: impl FnOnce(&mut Io<'_>) -> Exit,
) -> Exit {
    let stderr: RefCell<&mut dyn Write> = RefCell::new(&mut *io.stderr);
    let mut tap = Tap {
        tool,
        options,
        out: &mut *io.stdout,
        stderr: &stderr,
        partial: Vec::new(),
        counts: Counts::default(),
        closed: false,
        same: HashMap::new(),
        left_out: 0,
        checklist: Checklist::default(),
    };
    let mut shared = SharedStderr(&stderr);
    let exit = {
        let mut inner = Io {
            stdin: &mut *io.stdin,
            stdout: &mut tap,
            stderr: &mut shared,
            interactive: io.interactive,
        };
        body(&mut inner)
    };
    tap.finish(exit);
    exit
}

/// stderr shared by the tool and the tap.
struct SharedStderr<'s, 'o>(&'s RefCell<&'o mut dyn Write>);

impl Write for SharedStderr<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(bytes)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.borrow_mut().write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// Records seen, by verdict.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub pass: u64,
    pub fail: u64,
    pub error: u64,
    pub warn: u64,
    pub info: u64,
}

impl Counts {
    fn add(&mut self, verdict: Verdict) {
        *match verdict {
            Verdict::Pass => &mut self.pass,
            Verdict::Fail => &mut self.fail,
            Verdict::Error => &mut self.error,
            Verdict::Warn => &mut self.warn,
            Verdict::Info => &mut self.info,
        } += 1;
    }

    pub fn total(&self) -> u64 {
        self.pass + self.fail + self.error + self.warn + self.info
    }

    /// `5 pass, 1 fail, 2 warn` (verdicts with no record left out).
    fn list(&self) -> String {
        [
            (self.pass, "pass"),
            (self.fail, "fail"),
            (self.error, "error"),
            (self.warn, "warn"),
            (self.info, "info"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

struct Tap<'s, 'o> {
    tool: &'static str,
    options: Options,
    out: &'o mut dyn Write,
    stderr: &'s RefCell<&'o mut dyn Write>,
    /// The start of a line not yet ended.
    partial: Vec<u8>,
    counts: Counts,
    /// The reader of stdout went away: the run ends quietly.
    closed: bool,
    /// Lines written per `check reason`, for [`MAX_SAME_LINES`].
    same: HashMap<String, u32>,
    left_out: u64,
    checklist: Checklist,
}

impl Write for Tap<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.options.view == View::Records {
            if let Err(err) = self.out.write_all(bytes) {
                self.closed = true;
                return Err(err);
            }
        }
        self.scan(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush().inspect_err(|_| self.closed = true)
    }
}

impl Tap<'_, '_> {
    /// Handles every complete line in `bytes` (after what was left of the last write).
    fn scan(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while let Some(end) = memchr::memchr(b'\n', bytes) {
            let (line, rest) = bytes.split_at(end + 1);
            bytes = rest;
            if self.partial.is_empty() {
                self.line(line)?;
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                self.line(&whole)?;
            }
        }
        self.partial.extend_from_slice(bytes);
        Ok(())
    }

    /// One line of stdout, with its newline.
    fn line(&mut self, line: &[u8]) -> io::Result<()> {
        let is_record = line.starts_with(b"{\"v\":");
        if !is_record {
            if self.options.view != View::Records {
                self.out
                    .write_all(line)
                    .inspect_err(|_| self.closed = true)?;
            }
            return Ok(());
        }
        let Some(verdict) = verdict_of(line) else {
            return Ok(());
        };
        self.counts.add(verdict);
        let spoken = match verdict {
            Verdict::Fail | Verdict::Error => true,
            Verdict::Warn => !self.options.quiet,
            Verdict::Pass | Verdict::Info => false,
        };
        if !spoken && self.options.view != View::Text {
            return Ok(());
        }
        let Ok(record) = serde_json::from_slice::<Record>(line) else {
            return Ok(());
        };
        if spoken {
            self.speak(&record);
        }
        if self.options.view == View::Text {
            self.checklist.add(record);
        }
        Ok(())
    }

    fn speak(&mut self, record: &Record) {
        let key = format!(
            "{} {}",
            record.check,
            record.reason.as_deref().unwrap_or("")
        );
        let seen = self.same.entry(key).or_insert(0);
        *seen += 1;
        if *seen > MAX_SAME_LINES {
            self.left_out += 1;
            return;
        }
        let mut text = problem_line(self.tool, record);
        if *seen == MAX_SAME_LINES {
            text.push_str(" (further lines like this one are only counted)");
        }
        let _ = writeln!(self.stderr.borrow_mut(), "{text}");
    }

    fn finish(mut self, exit: Exit) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            let _ = self.line(&rest);
        }
        if self.closed {
            return;
        }
        if self.options.view == View::Text {
            let color = use_color(self.options.color);
            let text = self.checklist.render(color);
            if self.out.write_all(text.as_bytes()).is_err() {
                return;
            }
        }
        let _ = self.out.flush();
        // A run refused before any check (exit 2) already said why in its one line.
        if exit == Exit::Usage && self.counts.total() == 0 {
            return;
        }
        let text = closing_line(self.tool, &self.counts, self.left_out, exit);
        let _ = writeln!(self.stderr.borrow_mut(), "{text}");
    }
}

/// The verdict of a record line, read without parsing the whole record: the
/// envelope's fields are written in a fixed order and `verdict` comes before `data`,
/// so its first occurrence is the envelope's (the strings before it escape quotes).
fn verdict_of(line: &[u8]) -> Option<Verdict> {
    const KEY: &[u8] = b"\"verdict\":\"";
    let at = memchr::memmem::find(line, KEY)? + KEY.len();
    let rest = &line[at..];
    let end = memchr::memchr(b'"', rest)?;
    match &rest[..end] {
        b"pass" => Some(Verdict::Pass),
        b"fail" => Some(Verdict::Fail),
        b"error" => Some(Verdict::Error),
        b"warn" => Some(Verdict::Warn),
        b"info" => Some(Verdict::Info),
        _ => None,
    }
}

/// `tool: check target: reason — message`, the stderr line of a problem. A warning
/// says so after its reason, and an error says the check could not be made.
pub fn problem_line(tool: &str, record: &Record) -> String {
    let author = if record.tool.is_empty() {
        tool
    } else {
        &record.tool
    };
    let mut line = format!("{author}: {}", printable(&record.check));
    if !record.target.is_empty() {
        line.push(' ');
        line.push_str(&printable(&record.target));
    }
    line.push_str(": ");
    line.push_str(&printable(record.reason.as_deref().unwrap_or("no_reason")));
    match record.verdict {
        Verdict::Warn => line.push_str(" (warning)"),
        Verdict::Error => line.push_str(" (could not check)"),
        _ => {}
    }
    if let Some(message) = record.message.as_deref().filter(|m| !m.is_empty()) {
        line.push_str(" — ");
        line.push_str(&printable(message));
    }
    line
}

/// `tool: 7 records (5 pass, 1 fail, 1 warn); exit 1: at least one check failed`.
pub fn closing_line(tool: &str, counts: &Counts, left_out: u64, exit: Exit) -> String {
    let total = counts.total();
    let mut line = format!("{tool}: {}", plural(total, "record", "records"));
    if total > 0 {
        let _ = write!(line, " ({})", counts.list());
    }
    if left_out > 0 {
        let _ = write!(
            line,
            ", {} only counted",
            plural(left_out, "problem line", "problem lines")
        );
    }
    if exit == Exit::Ok && counts.fail + counts.error > 0 {
        // docker-doctor after a recovery, the demo's expected failures: the records
        // report them, the outcome was decided otherwise.
        let _ = write!(
            line,
            "; exit 0: the run passed (its fail and error records did not decide the outcome)"
        );
    } else {
        let _ = write!(line, "; exit {}: {}", exit.code(), exit.meaning());
    }
    line
}

/// `1 record`, `2 records`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Whether the text view is coloured: `--color`, else a terminal on stdout of the
/// process's own run (not an in-process or test run) without `NO_COLOR`.
fn use_color(when: ColorWhen) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            crate::cli::owns_terminal()
                && anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never
        }
    }
}

/// One row of the checklist.
#[derive(Debug)]
struct Row {
    label: Label,
    target: String,
    reason: Option<String>,
    message: Option<String>,
    duration_ms: Option<f64>,
    /// Remediation or commands, one per line.
    advice: Vec<String>,
}

/// The verdict column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Pass,
    Fail,
    Error,
    Warn,
    Info,
    Skip,
}

impl Label {
    fn of(record: &Record) -> Label {
        match record.verdict {
            Verdict::Pass => Label::Pass,
            Verdict::Fail => Label::Fail,
            Verdict::Error => Label::Error,
            Verdict::Warn => Label::Warn,
            Verdict::Info if skipped(record) => Label::Skip,
            Verdict::Info => Label::Info,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Label::Pass => "PASS",
            Label::Fail => "FAIL",
            Label::Error => "ERROR",
            Label::Warn => "WARN",
            Label::Info => "INFO",
            Label::Skip => "SKIP",
        }
    }

    fn style(self) -> Style {
        match self {
            Label::Pass => AnsiColor::Green.on_default(),
            Label::Fail => AnsiColor::Red.on_default().effects(Effects::BOLD),
            Label::Error => AnsiColor::Magenta.on_default().effects(Effects::BOLD),
            Label::Warn => AnsiColor::Yellow.on_default(),
            Label::Info | Label::Skip => Style::new().effects(Effects::DIMMED),
        }
    }

    fn is_problem(self) -> bool {
        matches!(self, Label::Fail | Label::Error | Label::Warn)
    }
}

/// An info record about a check that was not made: `reason: skipped`, or a message
/// that starts by saying so.
fn skipped(record: &Record) -> bool {
    record.reason.as_deref() == Some("skipped")
        || record
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("skipped") || m.starts_with("not run"))
}

#[derive(Debug, Default)]
struct Group {
    check: String,
    rows: Vec<Row>,
    /// Rows not kept ([`MAX_ROWS`]), by verdict.
    omitted: Counts,
}

/// The text view: records grouped by check, in the order checks first appear.
#[derive(Debug, Default)]
struct Checklist {
    groups: Vec<Group>,
    index: HashMap<String, usize>,
}

impl Checklist {
    fn add(&mut self, record: Record) {
        let at = *self.index.entry(record.check.clone()).or_insert_with(|| {
            self.groups.push(Group {
                check: record.check.clone(),
                ..Group::default()
            });
            self.groups.len() - 1
        });
        let group = &mut self.groups[at];
        let label = Label::of(&record);
        if group.rows.len() >= MAX_ROWS {
            // Keep problems: a pass or info row makes room for a problem.
            let Some(quiet) = group.rows.iter().rposition(|r| !r.label.is_problem()) else {
                group.omitted.add(record.verdict);
                return;
            };
            if !label.is_problem() {
                group.omitted.add(record.verdict);
                return;
            }
            let dropped = group.rows.remove(quiet);
            group.omitted.add(match dropped.label {
                Label::Pass => Verdict::Pass,
                _ => Verdict::Info,
            });
        }
        let mut advice = Vec::new();
        for key in ["remediation", "commands"] {
            if let Some(Value::Array(items)) = record.data.get(key) {
                advice.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
            }
        }
        group.rows.push(Row {
            label,
            target: record.target,
            reason: record.reason,
            message: record.message,
            duration_ms: record.duration_ms,
            advice,
        });
    }

    fn render(&self, color: bool) -> String {
        let paint = |style: Style, text: &str| -> String {
            if color {
                format!("{style}{text}{style:#}")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        if self.groups.is_empty() {
            out.push_str("(no records)\n");
        }
        for group in &self.groups {
            let heading = Style::new().effects(Effects::BOLD);
            let _ = writeln!(out, "{}", paint(heading, &printable(&group.check)));
            let width = group
                .rows
                .iter()
                .map(|r| printable(&r.target).chars().count())
                .max()
                .unwrap_or(0)
                .min(56);
            for row in &group.rows {
                let label = row.label.text();
                let mut line = format!(
                    "  {}{}",
                    paint(row.label.style(), label),
                    " ".repeat(7 - label.len())
                );
                let target = printable(&row.target);
                line.push_str(&target);
                let mut tail = String::new();
                if let Some(reason) = &row.reason {
                    tail.push_str(&printable(reason));
                }
                if let Some(ms) = row.duration_ms {
                    if !tail.is_empty() {
                        tail.push_str("  ");
                    }
                    let _ = write!(tail, "{ms:.1} ms");
                }
                if !tail.is_empty() {
                    let pad = width.saturating_sub(target.chars().count()) + 2;
                    line.push_str(&" ".repeat(pad));
                    line.push_str(&tail);
                }
                out.push_str(line.trim_end());
                out.push('\n');
                if let Some(message) = row.message.as_deref().filter(|m| !m.is_empty()) {
                    let _ = writeln!(out, "         {}", printable(message));
                }
                for advice in &row.advice {
                    let _ = writeln!(out, "         > {}", printable(advice));
                }
            }
            if group.omitted.total() > 0 {
                let _ = writeln!(
                    out,
                    "  … {} more ({})",
                    group.omitted.total(),
                    group.omitted.list()
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordSink;
    use serde_json::json;

    fn run(options: Options, records: Vec<Record>, exit: Exit) -> (String, String) {
        let (mut stdin, mut stdout, mut stderr) = (&b""[..], Vec::new(), Vec::new());
        let mut io = Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
            interactive: false,
        };
        report("tool", options, &mut io, |io| {
            let mut sink = RecordSink::new("tool", io.stdout);
            for r in records {
                sink.emit(r).unwrap();
            }
            exit
        });
        (
            String::from_utf8(stdout).unwrap(),
            String::from_utf8(stderr).unwrap(),
        )
    }

    fn options(view: View, quiet: bool) -> Options {
        Options {
            view,
            quiet,
            color: ColorWhen::Never,
        }
    }

    fn sample() -> Vec<Record> {
        vec![
            Record::pass("ready", "http://x/api/ready"),
            Record::fail("cors", "http://x/chat", "duplicate_allow_origin")
                .message("two Access-Control-Allow-Origin headers"),
            Record::warn("summary", "http://x/s", "warming"),
            Record::error("deps", "http://x/ready", "connection_refused")
                .data(json!({"remediation": ["start the backend"]})),
            Record::info("summary", "http://x/s", "skipped"),
        ]
    }

    #[test]
    fn problems_get_a_line_each_and_the_run_a_closing_line() {
        let (stdout, stderr) = run(options(View::Records, false), sample(), Exit::Failed);
        assert_eq!(stdout.lines().count(), 5, "records unchanged:\n{stdout}");
        assert!(stdout.lines().all(|l| l.starts_with("{\"v\":1,")));
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines,
            [
                "tool: cors http://x/chat: duplicate_allow_origin — two Access-Control-Allow-Origin headers",
                "tool: summary http://x/s: warming (warning)",
                "tool: deps http://x/ready: connection_refused (could not check)",
                "tool: 5 records (1 pass, 1 fail, 1 error, 1 warn, 1 info); exit 1: at least one check failed",
            ]
        );
    }

    #[test]
    fn quiet_leaves_warnings_out() {
        let (_, stderr) = run(options(View::Records, true), sample(), Exit::Failed);
        assert!(!stderr.contains("(warning)"), "{stderr}");
        assert!(stderr.contains("duplicate_allow_origin"), "{stderr}");
    }

    #[test]
    fn the_text_view_groups_by_check_with_a_verdict_column() {
        let (stdout, stderr) = run(options(View::Text, false), sample(), Exit::Failed);
        assert!(!stdout.contains("{\"v\""), "{stdout}");
        assert_eq!(
            stdout,
            "ready\n  PASS   http://x/api/ready\n\
             cors\n  FAIL   http://x/chat  duplicate_allow_origin\n         two Access-Control-Allow-Origin headers\n\
             summary\n  WARN   http://x/s  warming\n  SKIP   http://x/s  skipped\n\
             deps\n  ERROR  http://x/ready  connection_refused\n         > start the backend\n"
        );
        assert!(stderr.ends_with("exit 1: at least one check failed\n"));
    }

    #[test]
    fn colour_only_when_asked_or_on_a_terminal() {
        let mut opts = options(View::Text, false);
        opts.color = ColorWhen::Always;
        let (stdout, _) = run(opts, sample(), Exit::Failed);
        assert!(
            stdout.contains("\u{1b}[31m") || stdout.contains("\u{1b}[1m\u{1b}[31m"),
            "{stdout:?}"
        );
        // Auto in a test run: not the process's own terminal.
        opts.color = ColorWhen::Auto;
        let (stdout, _) = run(opts, sample(), Exit::Failed);
        assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    }

    #[test]
    fn a_flood_of_the_same_problem_is_counted_not_printed() {
        let records = (0..25)
            .map(|i| Record::warn("sample", &format!("u{i}"), "timeout"))
            .collect();
        let (_, stderr) = run(options(View::Records, false), records, Exit::Ok);
        assert_eq!(
            stderr.lines().count(),
            MAX_SAME_LINES as usize + 1,
            "{stderr}"
        );
        assert!(stderr.ends_with(
            "tool: 25 records (25 warn), 15 problem lines only counted; exit 0: every check passed\n"
        ), "{stderr}");
    }

    #[test]
    fn hostile_text_cannot_move_the_cursor() {
        let record = Record::fail("c", "t\u{1b}[2J", "r").message("line\nforged: yes");
        let line = problem_line("tool", &record);
        assert!(!line.contains('\u{1b}') && !line.contains('\n'), "{line:?}");
    }

    /// Records a tool passes on (not made by its own sink) reach a person masked and
    /// escaped too: stderr lines, the checklist and the progress text share
    /// [`printable`] with `cli::for_stderr` (issue 18's invariant).
    #[test]
    fn what_a_person_sees_is_masked_and_escaped() {
        const CANARY: &str = "CANARY-77e1";
        // A JSON line as another tool wrote it: the escapes are JSON's.
        let line = r#"{"v":1,"tool":"other","check":"c","target":"http://u:CANARY@h/\u001b[2J","verdict":"fail","reason":"r","message":"see https://h/?access_token=CANARY \u202eevil","ts":"t","data":{"remediation":["curl http://admin:CANARY@h/"]}}"#
            .replace("CANARY", CANARY)
            + "\n";
        for view in [View::Records, View::Text] {
            let (mut stdin, mut stdout, mut stderr) = (&b""[..], Vec::new(), Vec::new());
            let mut io = Io {
                stdin: &mut stdin,
                stdout: &mut stdout,
                stderr: &mut stderr,
                interactive: false,
            };
            report("tool", options(view, false), &mut io, |io| {
                let _ = io.stdout.write_all(line.as_bytes());
                Exit::Failed
            });
            let stderr = String::from_utf8(stderr).unwrap();
            assert!(!stderr.contains(CANARY), "{view:?}: {stderr}");
            assert!(!stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'));
            assert!(stderr.contains("\\u001b[2J") && stderr.contains("[REDACTED]"));
            if view == View::Text {
                let text = String::from_utf8(stdout).unwrap();
                assert!(!text.contains(CANARY), "{text}");
                assert!(
                    !text.contains('\u{1b}') && !text.contains('\u{202e}'),
                    "{text:?}"
                );
                assert!(text.contains("\\u202e"), "{text}");
            }
        }
        assert!(!printable(&format!("wait for http://u:{CANARY}@h")).contains(CANARY));
    }

    #[test]
    fn other_lines_pass_through_and_a_refused_run_has_no_closing_line() {
        let (mut stdin, mut stdout, mut stderr) = (&b""[..], Vec::new(), Vec::new());
        let mut io = Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
            interactive: false,
        };
        let exit = report("tool", options(View::Hidden, false), &mut io, |io| {
            let _ = RecordSink::new("tool", &mut *io.stdout).emit(Record::pass("c", "t"));
            let _ = io.stdout.write_all(b"# TYPE x gauge\nx 1");
            Exit::Ok
        });
        assert_eq!(exit, Exit::Ok);
        assert_eq!(String::from_utf8(stdout).unwrap(), "# TYPE x gauge\nx 1");
        assert!(String::from_utf8(stderr)
            .unwrap()
            .contains("1 record (1 pass)"));

        let (_, stderr) = run(options(View::Records, false), vec![], Exit::Usage);
        assert_eq!(stderr, "");
    }

    #[test]
    fn the_verdict_is_the_envelopes_not_a_payloads() {
        let line = br#"{"v":1,"tool":"x","check":"c","target":"\"verdict\":\"fail\"","verdict":"pass","ts":"t","data":{"verdict":"fail"}}"#;
        assert_eq!(verdict_of(line), Some(Verdict::Pass));
    }
}
