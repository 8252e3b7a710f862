//! The Prometheus text format of a run (`--format prometheus`, `--textfile`): the
//! summary's counts per class as `legacy_sampler_responses{mode,value}`, the legacy
//! ratio, the time of the last legacy hit, and whether the gate held. The alerting
//! rules in `examples/prometheus/` read these.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use day2_core::prom::{escape, gauge_family, write_textfile};
use day2_core::record::{read_records, Record, Verdict};
use day2_core::{Exit, Io};
use serde_json::Value;

use crate::TOOL;

/// Copies the records to stdout as they come (JSON format) while keeping the last one
/// (the summary) for the exposition written at the end. Earlier records are dropped
/// as later ones arrive, so a run of a million samples keeps one record, not all.
struct Tee<'a> {
    out: Option<&'a mut dyn Write>,
    copy: Vec<u8>,
}

impl Write for Tee<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Some(out) = self.out.as_mut() {
            out.write_all(bytes)?;
        }
        // Keep from the start of the last line, complete or still being written.
        self.copy.extend_from_slice(bytes);
        let body = self.copy.len().saturating_sub(1);
        if let Some(newline) = self.copy[..body].iter().rposition(|&b| b == b'\n') {
            self.copy.drain(..=newline);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.as_mut().map_or(Ok(()), |out| out.flush())
    }
}

/// Runs `run_mode` (live or log mode, named by `mode` in the exposition) and writes
/// the exposition of its summary to `textfile` (atomically) and, when `to_stdout`,
/// on stdout. A textfile that cannot be written is a usage error (exit 2).
pub fn run(
    mode: &str,
    to_stdout: bool,
    textfile: Option<&Path>,
    io: &mut Io<'_>,
    run_mode: impl FnOnce(&mut Io<'_>) -> Exit,
) -> Exit {
    // The records go on in every format: day2-core's human side reads them (a line
    // per problem on stderr) and keeps them off stdout for the exposition.
    let mut tee = Tee {
        out: Some(&mut *io.stdout),
        copy: Vec::new(),
    };
    let exit = {
        let mut inner = Io {
            stdin: &mut *io.stdin,
            stdout: &mut tee,
            stderr: &mut *io.stderr,
            interactive: io.interactive,
        };
        run_mode(&mut inner)
    };
    let Tee { copy, .. } = tee;
    let records = read_records(&mut copy.as_slice()).unwrap_or_default();
    let Some(summary) = records.iter().rev().find(|r| r.check == "summary") else {
        return exit;
    };
    let exposition = render(summary, mode);
    if let Some(path) = textfile {
        if let Err(err) = write_textfile(path, &exposition) {
            io.error(
                TOOL,
                format!("cannot write the textfile {}: {err}", path.display()),
            );
            return Exit::Usage;
        }
    }
    if to_stdout && io.stdout.write_all(exposition.as_bytes()).is_err() {
        return Exit::Ok;
    }
    exit
}

fn render(summary: &Record, mode: &str) -> String {
    let mode = escape(mode);
    let mut out = String::new();
    gauge_family(
        &mut out,
        "legacy_sampler_responses",
        "Answers (live) or status lines (logs) by the value of the status header.",
    );
    let mut values: Vec<(String, u64)> = summary
        .get("values")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    // api and legacy are always present, so a rule on them never sees an absent series.
    for class in ["api", "legacy"] {
        if !values.iter().any(|(k, _)| k == class) {
            values.push((class.to_owned(), 0));
        }
    }
    values.sort();
    for (value, count) in values {
        let _ = writeln!(
            out,
            "legacy_sampler_responses{{mode=\"{mode}\",value=\"{}\"}} {count}",
            escape(&value)
        );
    }
    if let Some(ratio) = summary.get("legacy_ratio").and_then(Value::as_f64) {
        gauge_family(
            &mut out,
            "legacy_sampler_legacy_ratio",
            "Legacy answers over all status answers.",
        );
        let _ = writeln!(
            out,
            "legacy_sampler_legacy_ratio{{mode=\"{mode}\"}} {ratio}"
        );
    }
    let last = summary
        .get("last_legacy")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    if let Some(last) = last {
        gauge_family(
            &mut out,
            "legacy_sampler_last_legacy_timestamp_seconds",
            "When the last legacy answer or line was seen.",
        );
        let _ = writeln!(
            out,
            "legacy_sampler_last_legacy_timestamp_seconds{{mode=\"{mode}\"}} {}",
            last.as_second()
        );
    }
    gauge_family(
        &mut out,
        "legacy_sampler_gate_ok",
        "1 when the run's gate held (or no gate was asked), 0 when it failed.",
    );
    let ok = !matches!(summary.verdict, Verdict::Fail | Verdict::Error);
    let _ = writeln!(
        out,
        "legacy_sampler_gate_ok{{mode=\"{mode}\"}} {}",
        u8::from(ok)
    );
    out
}
