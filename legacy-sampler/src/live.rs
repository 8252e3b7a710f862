//! Live mode: GETs the URLs on a fixed schedule with a pool of workers sharing one
//! keep-alive agent, classifies each answer by a header value, and reports one
//! `sample` record per request and a `summary` with the gate's verdict.
//!
//! Pacing is schedule-based: sample `i` is due at `start + i × interval`, whichever
//! worker takes it. A slow answer delays only the samples no free worker can take in
//! time; they are sent late (and the lateness is reported), and the run still ends on
//! schedule. `-n` and `--for` end the run at whichever comes first, paced or not: at
//! the end of `--for` no sample starts, and the ones asked for but not started are
//! counted as `missed` in the summary (a count, not a record each, so a huge `-n` costs
//! nothing). A sample in flight when `--for` ends is not waited for beyond it: each
//! request is capped by the time left ([`request_within`]), and one cut off by the end
//! is `unfinished`, neither an answer nor a failure of the server. What the run keeps
//! per sample is bounded: latencies go into histograms, distinct header values are
//! listed up to [`MAX_VALUES`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use day2_core::http::{request_within, FailureKind, HttpFailure, HttpOptions, HttpResponse};
use day2_core::progress::Progress;
use day2_core::record::{Record, RecordSink, Verdict};
use day2_core::{Exit, Io};
use serde_json::{json, Value};

use crate::gate::{Gate, Observed};
use crate::payload::{LiveSummary, SummaryReason, UrlCounts};
use crate::stats::{ms, Histogram};
use crate::TOOL;

/// Bodies are read (so connections stay reusable) but never kept beyond this.
const BODY_LIMIT: u64 = 1024 * 1024;

/// Samples taken when neither `-n` nor `--for` is given, as in the guide's loop.
const DEFAULT_COUNT: u64 = 30;

/// Distinct header values counted one by one; answers with further values are counted
/// as `values_unlisted`, so a server inventing values cannot grow the run's memory.
pub const MAX_VALUES: usize = 64;

/// Live mode's settings, validated by `lib.rs` from the URLs, `--header`, `--origin`,
/// `-n`, `--for`, `--every`/`--rate`, `-c`, `--insecure`, `--timeout` and `--samples`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The URLs sampled in turn (at least one).
    pub urls: Vec<String>,
    /// The response header whose value classifies an answer (`X-Status-Path`).
    pub header: String,
    /// The `Origin` sent with each request, if any.
    pub origin: Option<String>,
    /// `-n`: samples asked for.
    pub count: Option<u64>,
    /// `--for`: how long the run samples.
    pub run_for: Option<Duration>,
    /// Time between two samples (`--every`, or one over `--rate`); `None` is unpaced.
    pub interval: Option<Duration>,
    /// Requests in flight at once.
    pub concurrency: usize,
    pub insecure: bool,
    /// Deadline of each request.
    pub timeout: Duration,
    /// Whether each sample is written as a record (`--samples on`).
    pub samples: bool,
}

/// How many samples are asked for, how often, and until when.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// `None` only for an unpaced `--for` run, which samples as much as it can.
    requested: Option<u64>,
    interval: Option<Duration>,
    run_for: Option<Duration>,
}

impl Plan {
    fn new(config: &Config) -> Plan {
        let interval = config.interval;
        let by_time = match (config.run_for, interval) {
            (Some(run_for), Some(interval)) => {
                Some((run_for.as_nanos().div_ceil(interval.as_nanos())) as u64)
            }
            _ => None,
        };
        let requested = match (config.count, config.run_for) {
            (Some(n), _) => Some(by_time.map_or(n, |t| t.min(n))),
            (None, None) => Some(DEFAULT_COUNT),
            (None, Some(_)) => by_time,
        };
        Plan {
            requested,
            interval,
            run_for: config.run_for,
        }
    }
}

/// What a header value says about the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Class {
    Api,
    Legacy,
    Missing,
    /// Any other value, lower-cased.
    Other(String),
}

impl Class {
    fn of(response: &HttpResponse, header: &str) -> Class {
        match response.header(header).map(str::trim) {
            None | Some("") => Class::Missing,
            Some(value) if value.eq_ignore_ascii_case("api") => Class::Api,
            Some(value) if value.eq_ignore_ascii_case("legacy") => Class::Legacy,
            Some(value) => Class::Other(value.to_ascii_lowercase()),
        }
    }

    fn value(&self) -> &str {
        match self {
            Class::Api => "api",
            Class::Legacy => "legacy",
            Class::Missing => "missing",
            Class::Other(value) => value,
        }
    }

    /// The sample record's reason (snake_case, so any other value is `other_value`).
    fn reason(&self) -> &'static str {
        match self {
            Class::Api => "api",
            Class::Legacy => "legacy",
            Class::Missing => "missing",
            Class::Other(_) => "other_value",
        }
    }
}

/// What became of one request.
enum Outcome {
    Answered(u16, Class),
    Failed(HttpFailure),
    /// Still unanswered when the end of `--for` cut it off (before its own
    /// `--timeout`): no evidence either way.
    Unfinished,
}

/// One request's outcome, sent from a worker to the reporting thread.
struct Sample {
    seq: u64,
    url: usize,
    outcome: Outcome,
    latency: Duration,
    /// How long after its due time the request started (paced runs only).
    late: Option<Duration>,
    started: Instant,
    at: jiff::Timestamp,
}

/// What the workers share.
struct Shared<'a> {
    urls: &'a [String],
    header: &'a str,
    origin: Option<&'a str>,
    insecure: bool,
    agent: ureq::Agent,
    /// `--timeout`, the agent's own deadline for a request.
    timeout: Duration,
    plan: Plan,
    /// `--fail-on-legacy`: the worker that sees a legacy answer stops the run itself,
    /// so no further sample starts after it (with `-c 1`, none at all).
    stop_on_legacy: bool,
    start: Instant,
    next: AtomicU64,
    stop: AtomicBool,
}

impl Shared<'_> {
    fn due(&self, seq: u64) -> Option<Instant> {
        let interval = self.plan.interval?;
        let offset = interval.as_nanos().saturating_mul(u128::from(seq));
        Some(self.start + Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX)))
    }

    fn deadline(&self) -> Option<Instant> {
        self.plan.run_for.map(|d| self.start + d)
    }
}

fn worker(shared: &Shared<'_>, events: &mpsc::Sender<Sample>) {
    // Bounded: every pass takes a new sample number, and the plan or the deadline ends
    // the sequence.
    while !shared.stop.load(Ordering::Relaxed) {
        let seq = shared.next.fetch_add(1, Ordering::Relaxed);
        if shared.plan.requested.is_some_and(|n| seq >= n) {
            return;
        }
        let due = shared.due(seq);
        if let Some(due) = due {
            if !sleep_until(due, &shared.stop) {
                return;
            }
        }
        let url = (seq % shared.urls.len() as u64) as usize;
        let started = Instant::now();
        if shared.deadline().is_some_and(|end| started >= end) {
            // The end of --for: this and every later sample are missed (counted in
            // the summary), whatever -n asked.
            return;
        }
        let headers: Vec<(&str, &str)> = shared.origin.map(|o| ("Origin", o)).into_iter().collect();
        // The end of --for caps the request when it comes before the request's own
        // timeout: a sample in flight is not waited for past the end of the run.
        let cut_at_end = shared
            .deadline()
            .map(|end| end.saturating_duration_since(started))
            .filter(|left| *left < shared.timeout);
        let result = request_within(
            &shared.agent,
            "GET",
            &shared.urls[url],
            &headers,
            BODY_LIMIT,
            cut_at_end,
        );
        let (outcome, latency) = match result {
            Ok(response) => (
                Outcome::Answered(response.status, Class::of(&response, shared.header)),
                response.elapsed,
            ),
            Err(failure) if cut_at_end.is_some() && failure.kind == FailureKind::Timeout => {
                (Outcome::Unfinished, failure.elapsed)
            }
            Err(failure) => {
                let elapsed = failure.elapsed;
                (Outcome::Failed(failure), elapsed)
            }
        };
        if shared.stop_on_legacy && matches!(outcome, Outcome::Answered(_, Class::Legacy)) {
            shared.stop.store(true, Ordering::Relaxed);
        }
        let sample = Sample {
            seq,
            url,
            outcome,
            latency,
            late: due.map(|due| started.saturating_duration_since(due)),
            started,
            at: jiff::Timestamp::now(),
        };
        if events.send(sample).is_err() {
            return;
        }
    }
}

/// Sleeps until `due` in short steps so a stop is seen soon; false when stopped.
fn sleep_until(due: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= due {
            return true;
        }
        thread::sleep((due - now).min(Duration::from_millis(100)));
    }
}

/// Counts per URL, for runs over several.
#[derive(Debug, Default)]
struct UrlTally {
    answered: u64,
    failed: u64,
    unfinished: u64,
    values: BTreeMap<String, u64>,
    values_unlisted: u64,
}

/// Everything the summary reports, built up as samples arrive.
#[derive(Debug, Default)]
struct Tally {
    answered: u64,
    failed: u64,
    /// Cut off by the end of `--for` before an answer or its own timeout.
    unfinished: u64,
    missed: u64,
    legacy: u64,
    values: BTreeMap<String, u64>,
    values_unlisted: u64,
    statuses: BTreeMap<u16, u64>,
    errors: BTreeMap<&'static str, u64>,
    latencies_us: Histogram,
    lateness_us: Histogram,
    late: u64,
    first_legacy: Option<jiff::Timestamp>,
    last_legacy: Option<jiff::Timestamp>,
    first_start: Option<Instant>,
    last_start: Option<Instant>,
    by_url: Vec<UrlTally>,
}

impl Tally {
    fn add(&mut self, sample: &Sample, late_threshold: Duration) {
        let per_url = &mut self.by_url[sample.url];
        // A cut-off sample's time says when the run ended, not how fast the server is.
        if !matches!(sample.outcome, Outcome::Unfinished) {
            self.latencies_us.add(sample.latency.as_micros() as u64);
        }
        if let Some(late) = sample.late {
            self.lateness_us.add(late.as_micros() as u64);
            if late > late_threshold {
                self.late += 1;
            }
        }
        self.first_start = Some(
            self.first_start
                .map_or(sample.started, |f| f.min(sample.started)),
        );
        self.last_start = Some(
            self.last_start
                .map_or(sample.started, |l| l.max(sample.started)),
        );
        match &sample.outcome {
            Outcome::Answered(status, class) => {
                self.answered += 1;
                per_url.answered += 1;
                *self.statuses.entry(*status).or_default() += 1;
                count_value(&mut self.values, &mut self.values_unlisted, class.value());
                count_value(
                    &mut per_url.values,
                    &mut per_url.values_unlisted,
                    class.value(),
                );
                if *class == Class::Legacy {
                    self.legacy += 1;
                    self.first_legacy.get_or_insert(sample.at);
                    self.last_legacy = Some(sample.at);
                }
            }
            Outcome::Failed(failure) => {
                self.failed += 1;
                per_url.failed += 1;
                *self.errors.entry(failure.kind.reason()).or_default() += 1;
            }
            Outcome::Unfinished => {
                self.unfinished += 1;
                per_url.unfinished += 1;
            }
        }
    }
}

/// Adds one answer to a per-value count, listing at most [`MAX_VALUES`] values.
fn count_value(values: &mut BTreeMap<String, u64>, unlisted: &mut u64, value: &str) {
    let listed = values.len();
    match values.get_mut(value) {
        Some(n) => *n += 1,
        None if listed < MAX_VALUES => {
            values.insert(value.to_owned(), 1);
        }
        None => *unlisted += 1,
    }
}

fn sample_record(shared: &Shared<'_>, sample: &Sample, fail_on_legacy: bool) -> Record {
    let url = &shared.urls[sample.url];
    let timing = json!({
        "seq": sample.seq,
        "latency_ms": ms(sample.latency.as_micros() as u64),
        "late_ms": sample.late.map(|l| ms(l.as_micros() as u64)),
    });
    let (record, data) = match &sample.outcome {
        Outcome::Answered(status, class) => {
            let verdict = if fail_on_legacy && *class == Class::Legacy {
                Verdict::Fail
            } else {
                Verdict::Info
            };
            (
                Record::new("sample", url, verdict, Some(class.reason())),
                json!({"value": class.value(), "status": status}),
            )
        }
        Outcome::Failed(failure) => (
            Record::warn("sample", url, failure.kind.reason()).message(failure.to_string()),
            json!({"value": Value::Null, "error": failure.kind.reason()}),
        ),
        Outcome::Unfinished => (
            Record::info("sample", url, "unfinished").message(format!(
                "no answer yet when --for ended, {} ms after the request started: cut off, counted neither as an answer nor as a failure",
                sample.latency.as_millis()
            )),
            json!({"value": Value::Null}),
        ),
    };
    record.data(merge(timing, data)).duration(sample.latency)
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// Runs live mode.
pub fn run(config: &Config, gate: &Gate, io: &mut Io<'_>) -> Exit {
    let urls = &config.urls;
    let options = HttpOptions {
        connect_timeout: config.timeout.min(Duration::from_secs(3)),
        timeout: config.timeout,
        body_limit: BODY_LIMIT,
        idle_per_host: config.concurrency.max(8),
        insecure: config.insecure,
        ..HttpOptions::default()
    };
    let plan = Plan::new(config);
    let shared = Shared {
        urls,
        header: &config.header,
        origin: config.origin.as_deref(),
        insecure: config.insecure,
        agent: options.agent(),
        timeout: config.timeout,
        plan,
        stop_on_legacy: gate.fail_on_legacy,
        start: Instant::now(),
        next: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    };
    let late_threshold = plan
        .interval
        .map_or(Duration::ZERO, |i| (i / 10).max(Duration::from_millis(1)));
    let mut tally = Tally {
        by_url: urls.iter().map(|_| UrlTally::default()).collect(),
        ..Tally::default()
    };
    let mut sink = RecordSink::new(TOOL, io.stdout);
    // On a terminal: samples taken of those asked for, legacy answers so far, time left
    // (with --samples off this line is all a person sees until the summary).
    let what = match urls.len() {
        1 => format!("sampling {} of {}", config.header, urls[0]),
        n => format!("sampling {} of {n} URLs", config.header),
    };
    let progress = Progress::count(what.clone(), plan.requested, plan.run_for);
    thread::scope(|scope| {
        let (sender, events) = mpsc::channel();
        let workers = plan
            .requested
            .map_or(config.concurrency, |n| config.concurrency.min(n as usize));
        for _ in 0..workers {
            let sender = sender.clone();
            let shared = &shared;
            scope.spawn(move || worker(shared, &sender));
        }
        drop(sender);
        // Ends when every worker has finished and dropped its sender.
        for sample in events {
            let legacy_before = tally.legacy;
            tally.add(&sample, late_threshold);
            progress.inc(1);
            if tally.legacy != legacy_before {
                progress.message(format!("{what}: {} legacy", tally.legacy));
            }
            if config.samples
                && sink
                    .emit(sample_record(&shared, &sample, gate.fail_on_legacy))
                    .is_err()
            {
                shared.stop.store(true, Ordering::Relaxed);
            }
        }
    });
    drop(progress);
    let elapsed = shared.start.elapsed();
    let stopped_by_gate = gate.fail_on_legacy && tally.legacy > 0;
    // Asked for but never started: stopped by the gate (skipped) or by the end of
    // --for (missed).
    if !stopped_by_gate {
        let sent = tally.answered + tally.failed + tally.unfinished;
        tally.missed = plan.requested.map_or(0, |n| n.saturating_sub(sent));
    }
    let summary = summary_record(&shared, gate, tally, elapsed, stopped_by_gate);
    let _ = sink.emit(summary);
    sink.exit()
}

fn summary_record(
    shared: &Shared<'_>,
    gate: &Gate,
    tally: Tally,
    elapsed: Duration,
    stopped_by_gate: bool,
) -> Record {
    let plan = shared.plan;
    let sent = tally.answered + tally.failed + tally.unfinished;
    let requested = plan.requested.unwrap_or(sent + tally.missed);
    let skipped = requested.saturating_sub(sent + tally.missed);
    let ratio = (tally.answered > 0).then(|| tally.legacy as f64 / tally.answered as f64);
    let outcome = gate.judge(&Observed {
        legacy: tally.legacy,
        ratio,
        quiet: None,
    });
    let problem = (tally.answered == 0).then(|| {
        (
            SummaryReason::NoResponses,
            format!(
                "none of the {requested} samples got an answer ({} failed, {} unfinished at the end of --for, {} missed)",
                tally.failed, tally.unfinished, tally.missed
            ),
        )
    });
    let (verdict, reason, message) = outcome.verdict(problem);
    let achieved = match (tally.first_start, tally.last_start) {
        (Some(first), Some(last)) if sent > 1 && last > first => {
            Some((sent - 1) as f64 / (last - first).as_secs_f64())
        }
        _ => None,
    };
    let by_url: BTreeMap<String, UrlCounts> = shared
        .urls
        .iter()
        .zip(&tally.by_url)
        .map(|(url, t)| {
            (
                url.clone(),
                UrlCounts {
                    answered: t.answered,
                    failed: t.failed,
                    unfinished: t.unfinished,
                    values: t.values.clone(),
                    values_unlisted: t.values_unlisted,
                },
            )
        })
        .collect();
    let statuses: BTreeMap<String, u64> = tally
        .statuses
        .iter()
        .map(|(status, n)| (status.to_string(), *n))
        .collect();
    let payload = LiveSummary {
        header: shared.header.to_owned(),
        origin: shared.origin.map(str::to_owned),
        insecure: shared.insecure,
        requested,
        sent,
        answered: tally.answered,
        failed: tally.failed,
        unfinished: tally.unfinished,
        missed: tally.missed,
        skipped,
        stopped_by_gate,
        values: tally.values,
        values_unlisted: tally.values_unlisted,
        statuses,
        errors: tally
            .errors
            .iter()
            .map(|(reason, n)| ((*reason).to_owned(), *n))
            .collect(),
        legacy: tally.legacy,
        legacy_ratio: ratio,
        first_legacy: tally.first_legacy.map(|t| t.to_string()),
        last_legacy: tally.last_legacy.map(|t| t.to_string()),
        latency_ms: tally.latencies_us.percentiles_ms(),
        schedule: json!({
            "interval_ms": plan.interval.map(|i| i.as_secs_f64() * 1000.0),
            "target_rate": plan.interval.map(|i| 1.0 / i.as_secs_f64()),
            "achieved_rate": achieved,
            "lateness_ms": tally.lateness_us.percentiles_ms(),
            "late": tally.late,
        }),
        by_url,
        gate: outcome.to_json(),
    };
    let target = shared.urls.join(" ");
    Record::new(
        "summary",
        &target,
        verdict,
        reason.map(SummaryReason::as_str),
    )
    .message(message)
    .with_payload(&payload)
    .duration(elapsed)
}
