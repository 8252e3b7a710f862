//! Log mode: counts legacy requests in nginx access logs (plain, rotated, gzip, stdin)
//! per time window, lists the legacy callers, and judges "no legacy hit for N hours"
//! with the coverage the logs really have.
//!
//! Large plain files are counted in parallel stretches split at line boundaries; gzip,
//! stdin, pipes and FIFOs (`--log <(zcat …)`, `/dev/stdin`) are read in one pass and
//! never seeked.

pub mod foreign;
pub mod format;
mod scan;
mod time;
pub mod uri;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use day2_core::record::{Record, RecordSink};
use day2_core::{Exit, Io, Problem};
use flate2::read::MultiGzDecoder;
use serde_json::{json, Value};

use self::format::{LogFormat, COMBINED};
use self::scan::{Caller, Scanner, Settings, Tally, MAX_LINE};
use crate::gate::{rfc3339, Gate, Observed, Quiet};
use crate::payload::{
    Coverage, LegacyClient, LegacyPath, LegacyUserAgent, LogSummary, SummaryReason,
};
use crate::TOOL;

/// Plain files at least this large are split across threads.
const PARALLEL_MIN: u64 = 64 * 1024 * 1024;

/// Window records are written for every window between the first and the last line,
/// empty ones included (a gap in the logs is worth seeing), when the span holds at most
/// this many (hourly windows: 416 days); beyond it only windows with lines are written,
/// so one stray date (a clock reset to 1970, a line dated years ahead) costs one record,
/// not one per empty window between (fuzzing found 73,693 records from four lines).
const MAX_DENSE_WINDOWS: i64 = 10_000;

/// Log mode's settings, validated by `lib.rs` from `--log`, `--log-format`,
/// `--legacy-prefix`, `--api-prefix`, `--merge-slashes`, `--window`, `--top`,
/// `--until` and `--max-malformed-ratio`.
#[derive(Debug)]
pub struct Config {
    /// The logs, in order; `-` is stdin (at most once).
    pub sources: Vec<PathBuf>,
    /// The parsed `--log-format` (nginx's `combined` by default).
    pub format: LogFormat,
    /// Whether `--log-format` was given (the summary says `custom`).
    pub custom_format: bool,
    /// Path prefixes as nginx's locations match them (start with `/`, no `?` or `#`).
    pub legacy_prefixes: Vec<String>,
    pub api_prefixes: Vec<String>,
    pub merge_slashes: bool,
    /// Width of a window record.
    pub window: Duration,
    /// Callers, user agents and paths listed in the summary.
    pub top: usize,
    /// End of the quiet span (default: now).
    pub until: Option<jiff::Timestamp>,
    /// Share of unparsable access lines beyond which the run is an error, 0 to 1.
    pub max_malformed_ratio: f64,
}

/// `--log-format` (or nginx's `combined`) for the status header `header`.
/// Errors (reason `invalid_log_format`, a usage error): the format does not parse;
/// the message says where.
pub fn parse_format(text: Option<&str>, header: &str) -> Result<LogFormat, Problem> {
    LogFormat::parse(text.unwrap_or(COMBINED), header)
        .map_err(|problem| problem.context("invalid --log-format"))
}

fn display(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "stdin".into()
    } else {
        path.display().to_string()
    }
}

/// Counts one source into `total`.
fn scan_source(
    settings: &Settings,
    index: usize,
    path: &Path,
    stdin: &mut dyn BufRead,
    total: &mut Tally,
) -> Result<(), Problem> {
    let fail = |error: io::Error| {
        Problem::new(
            "unreadable_input",
            format!("cannot read {}: {error}", display(path)),
        )
    };
    let mut tally = Tally::default();
    if path.as_os_str() == "-" {
        let gzip = stdin.fill_buf().map_err(fail)?.starts_with(&[0x1f, 0x8b]);
        let mut scanner = Scanner::new(settings, index);
        if gzip {
            scanner.scan(&mut MultiGzDecoder::new(stdin), &mut tally)
        } else {
            scanner.scan(stdin, &mut tally)
        }
        .map_err(fail)?;
        total.merge(tally, 0);
        return Ok(());
    }
    let mut file = File::open(path).map_err(fail)?;
    let metadata = file.metadata().map_err(fail)?;
    // The first bytes are read, not peeked and seeked back: a pipe or FIFO cannot seek.
    let mut magic = [0u8; 2];
    let read = read_up_to(&mut file, &mut magic).map_err(fail)?;
    let gzip = read == 2 && magic == [0x1f, 0x8b];
    let size = metadata.len();
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    if gzip {
        let stream = io::BufReader::new((&magic[..read]).chain(file));
        Scanner::new(settings, index)
            .scan(&mut MultiGzDecoder::new(stream), &mut tally)
            .map_err(fail)?;
        total.merge(tally, 0);
    } else if metadata.is_file() && size >= PARALLEL_MIN && threads > 1 {
        let bounds = stretches(&mut file, size, threads).map_err(fail)?;
        let tallies: Vec<io::Result<Tally>> = thread::scope(|scope| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|pair| {
                    let (start, end) = (pair[0], pair[1]);
                    scope.spawn(move || -> io::Result<Tally> {
                        let mut file = File::open(path)?;
                        file.seek(SeekFrom::Start(start))?;
                        let mut tally = Tally::default();
                        Scanner::new(settings, index)
                            .scan(&mut file.take(end - start), &mut tally)?;
                        Ok(tally)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(io::Error::other("a counting thread panicked")))
                })
                .collect()
        });
        // Stretches merge in order so line numbers continue across them.
        let mut offset = 0;
        for tally in tallies {
            let tally = tally.map_err(fail)?;
            let lines = tally.physical_lines;
            total.merge(tally, offset);
            offset += lines;
        }
    } else {
        Scanner::new(settings, index)
            .scan(&mut (&magic[..read]).chain(file), &mut tally)
            .map_err(fail)?;
        total.merge(tally, 0);
    }
    Ok(())
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Offsets that cut a file into `parts` stretches, each starting at a line start.
fn stretches(file: &mut File, size: u64, parts: usize) -> io::Result<Vec<u64>> {
    let mut bounds = vec![0];
    let mut probe = vec![0u8; 64 * 1024];
    for k in 1..parts as u64 {
        let mut at = (size * k / parts as u64).max(*bounds.last().unwrap_or(&0));
        file.seek(SeekFrom::Start(at))?;
        // Bounded by the file size: every pass reads forward or ends.
        loop {
            let n = file.read(&mut probe)?;
            if n == 0 {
                at = size;
                break;
            }
            if let Some(i) = memchr::memchr(b'\n', &probe[..n]) {
                at += i as u64 + 1;
                break;
            }
            at += n as u64;
        }
        bounds.push(at);
    }
    bounds.push(size);
    bounds.dedup();
    Ok(bounds)
}

/// Runs log mode.
pub fn run(config: &Config, gate: &Gate, io: &mut Io<'_>) -> Exit {
    let started = Instant::now();
    let until = config
        .until
        .unwrap_or_else(jiff::Timestamp::now)
        .as_second();
    let quiet_start = gate
        .quiet_for
        .map_or(i64::MAX, |span| until.saturating_sub(span.as_secs() as i64));
    let window_s = config.window.as_secs() as i64;
    let settings = Settings {
        format: config.format.clone(),
        legacy_prefixes: config
            .legacy_prefixes
            .iter()
            .map(|p| p.as_bytes().to_vec())
            .collect(),
        api_prefixes: config
            .api_prefixes
            .iter()
            .map(|p| p.as_bytes().to_vec())
            .collect(),
        window_s,
        merge_slashes: config.merge_slashes,
        quiet_start,
        until,
    };
    let mut tally = Tally::default();
    for (index, path) in config.sources.iter().enumerate() {
        if let Err(problem) = scan_source(&settings, index, path, &mut *io.stdin, &mut tally) {
            io.error(TOOL, problem);
            return Exit::Usage;
        }
    }
    tally.finish();
    let sources: Vec<String> = config.sources.iter().map(|p| display(p)).collect();
    let target = sources.join(" ");
    let at = |list: &[(usize, u64)]| -> Vec<String> {
        list.iter()
            .map(|(source, line)| format!("{}:{line}", sources[*source]))
            .collect()
    };
    let malformed_at = at(&tally.malformed_at);
    let foreign_at = at(&tally.foreign_at);
    let foreign = json!({
        "count": tally.foreign,
        "first": foreign_at,
        "kinds": {
            foreign::Foreign::ErrorLog.name(): tally.foreign_kinds[0],
            foreign::Foreign::Entrypoint.name(): tally.foreign_kinds[1],
        },
    });
    if tally.foreign > 0 {
        io.error(
            TOOL,
            format!(
                "{} lines are not access lines (nginx's error log or the image's entrypoint, as `docker logs` mixes them in) and were left out; first: {}",
                tally.foreign,
                foreign_at.join(", ")
            ),
        );
    }
    if tally.overlong > 0 {
        io.error(
            TOOL,
            format!(
                "{} lines are longer than {} MiB and were skipped as malformed (not an access log?)",
                tally.overlong,
                MAX_LINE >> 20
            ),
        );
    }
    // Foreign lines are not the format's fault: the share is of the other lines.
    let access_lines = tally.lines - tally.foreign;
    if access_lines > 0 && tally.malformed as f64 / access_lines as f64 > config.max_malformed_ratio
    {
        let message = format!(
            "{} of {} lines do not match the log format (first: {}); is --log-format right?",
            tally.malformed,
            access_lines,
            malformed_at.join(", ")
        );
        io.error(TOOL, &message);
        let _ = RecordSink::new(TOOL, io.stdout).emit(
            Record::error("summary", &target, SummaryReason::TooManyMalformed.as_str())
                .message(message)
                .data(json!({
                    "lines": tally.lines,
                    "malformed": {"count": tally.malformed, "first": malformed_at, "overlong": tally.overlong},
                    "prefixed": tally.prefixed,
                    "foreign": foreign,
                    "max_malformed_ratio": config.max_malformed_ratio,
                }))
                .duration(started.elapsed()),
        );
        return Exit::Usage;
    }
    let mut sink = RecordSink::new(TOOL, io.stdout);
    if emit_windows(&mut sink, &target, &tally, window_s).is_err() {
        return sink.exit();
    }
    let quiet = gate.quiet_for.map(|_| Quiet {
        start: quiet_start,
        until,
        first_line: tally.first_ts,
        last_line: tally.last_ts,
        legacy_in_span: tally.legacy_in_quiet,
    });
    let status_lines =
        tally.api + tally.legacy + tally.other_values.iter().map(|(_, n)| n).sum::<u64>();
    let ratio = (status_lines > 0).then(|| tally.legacy as f64 / status_lines as f64);
    let outcome = gate.judge(&Observed {
        legacy: tally.legacy,
        ratio,
        quiet,
    });
    // Logs without one access line are no evidence: a gate that did not fail on
    // them has not passed either (issue 18: never a pass without an answer).
    let problem = (access_lines == 0 && outcome.failed().is_none()).then(|| {
        (
            SummaryReason::NoAccessLines,
            format!(
                "the logs hold no access line ({} line(s) read): nothing was counted",
                tally.lines
            ),
        )
    });
    let (verdict, reason, message) = outcome.verdict(problem);
    let mut values = BTreeMap::new();
    values.insert("api".to_owned(), tally.api);
    values.insert("legacy".to_owned(), tally.legacy);
    values.insert("not_status".to_owned(), tally.not_status);
    for (value, n) in &tally.other_values {
        values.insert(String::from_utf8_lossy(value).into_owned(), *n);
    }
    let path_variable = settings.format.path_kind.variable();
    let payload = LogSummary {
        sources,
        format: if config.custom_format {
            "custom"
        } else {
            "combined"
        }
        .to_owned(),
        escape: settings.format.escape.name().to_owned(),
        header_variable: settings.format.header_variable.clone(),
        path_variable: json!(path_variable),
        merge_slashes: settings.merge_slashes,
        lines: tally.lines,
        malformed: json!({"count": tally.malformed, "first": malformed_at, "overlong": tally.overlong}),
        prefixed: tally.prefixed,
        foreign,
        rejected: tally.rejected,
        values,
        other_values_unlisted: tally.other_values_unlisted,
        classified_by: json!({"header": tally.by_header, "path": tally.by_path}),
        statuses: statuses(&tally.statuses),
        legacy: tally.legacy,
        legacy_ratio: ratio,
        legacy_statuses: statuses(&tally.legacy_statuses),
        first_legacy: tally.first_legacy.map(rfc3339),
        last_legacy: tally.last_legacy.map(rfc3339),
        coverage: Coverage {
            first: tally.first_ts.map(rfc3339),
            last: tally.last_ts.map(rfc3339),
            span_s: tally.first_ts.zip(tally.last_ts).map(|(f, l)| l - f),
        },
        window_s,
        windows: tally.windows.len() as u64,
        windows_with_legacy: tally.windows.values().filter(|w| w.legacy > 0).count() as u64,
        legacy_clients: top(&tally.clients, config.top, |client, hits, last| {
            LegacyClient { client, hits, last }
        }),
        legacy_user_agents: top(&tally.agents, config.top, |user_agent, hits, last| {
            LegacyUserAgent {
                user_agent,
                hits,
                last,
            }
        }),
        legacy_paths: top(&tally.paths, config.top, |path, hits, last| LegacyPath {
            path,
            hits,
            last,
        }),
        quiet: quiet.map_or(Value::Null, |q| {
            json!({
                "for_s": until - q.start,
                "start": rfc3339(q.start),
                "until": rfc3339(until),
                "legacy_in_span": q.legacy_in_span,
            })
        }),
        gate: outcome.to_json(),
    };
    let _ = sink.emit(
        Record::new(
            "summary",
            &target,
            verdict,
            reason.map(SummaryReason::as_str),
        )
        .message(message)
        .with_payload(&payload)
        .duration(started.elapsed()),
    );
    sink.exit()
}

fn emit_windows(
    sink: &mut RecordSink<'_>,
    target: &str,
    tally: &Tally,
    window_s: i64,
) -> Result<(), day2_core::record::Closed> {
    let (Some(&first), Some(&last)) = (tally.windows.keys().next(), tally.windows.keys().last())
    else {
        return Ok(());
    };
    let keys: Vec<i64> = if last - first < MAX_DENSE_WINDOWS {
        (first..=last).collect()
    } else {
        tally.windows.keys().copied().collect()
    };
    for key in keys {
        let w = tally.windows.get(&key).copied().unwrap_or_default();
        let reason = if w.legacy > 0 {
            "legacy_seen"
        } else {
            "no_legacy"
        };
        let start = key * window_s;
        sink.emit(Record::info("window", target, reason).data(json!({
            "start": rfc3339(start),
            "end": rfc3339(start + window_s),
            "lines": w.lines,
            "api": w.api,
            "legacy": w.legacy,
            "other_values": w.other_values,
            "not_status": w.not_status,
        })))?;
    }
    Ok(())
}

fn statuses(counts: &[u64; 1000]) -> BTreeMap<String, u64> {
    counts
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(status, &n)| (format!("{status:03}"), n))
        .collect()
}

/// The `n` busiest callers, most hits first (ties: most recent first, then by name),
/// each made by `entry(name, hits, last)`.
fn top<T>(
    callers: &std::collections::HashMap<Box<[u8]>, Caller>,
    n: usize,
    entry: impl Fn(String, u64, String) -> T,
) -> Vec<T> {
    let mut list: Vec<(&Box<[u8]>, &Caller)> = callers.iter().collect();
    list.sort_by(|a, b| {
        b.1.hits
            .cmp(&a.1.hits)
            .then(b.1.last.cmp(&a.1.last))
            .then(a.0.cmp(b.0))
    });
    list.into_iter()
        .take(n)
        .map(|(name, caller)| {
            entry(
                String::from_utf8_lossy(name).into_owned(),
                caller.hits,
                rfc3339(caller.last),
            )
        })
        .collect()
}
