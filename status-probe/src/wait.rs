//! `--wait`: poll until the stack is truly ready, looking at the JSON (a first 200 may
//! be nginx's synthetic warming). Every attempt is a record, every change of state a
//! `wait.transition` record with its time; a terminal state ends the wait early with
//! exit 1 instead of burning the deadline; the deadline itself ends it with 124.
//!
//! Only the wait path is polled (the summary by default, not rate-limited on the real
//! edge); the rate-limited `/api/ready` is asked once, after the wait.
//!
//! On a terminal a progress line (day2-core's [`Progress`]) shows what the wait is for,
//! the state the last attempt saw and the time left.

use std::time::{Duration, Instant};

use day2_core::progress::Progress;
use day2_core::{Closed, Exit, Record};
use serde_json::{json, Value};

use crate::output::Output;
use crate::payload::WaitAttempt;
use crate::probe::{is_2xx, Answer, Probe};
use crate::summary::{self, SummaryView, Unreadable};
use crate::warming::Tracker;

/// What the wait polls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Until {
    /// `ready=true` and `llm.path=primary` in the summary JSON.
    Primary,
    /// `ready=true` in the summary JSON, whatever the path.
    Ready,
    /// Any 2xx answer on the wait path (a bare edge check, e.g. `--wait-path /_up`).
    #[value(name = "2xx")]
    AnyOk,
}

/// What the wait polls and how, validated by `lib.rs` from `--until`, `--wait-path`,
/// `--interval`, `--timeout`, `--backoff`, `--max-interval` and `--grace`.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The condition waited for.
    pub until: Until,
    /// Path polled under the base URL (`--wait-path`, else the summary path).
    pub path: String,
    /// The header nginx sets to tell the api and legacy locations apart.
    pub status_header: String,
    /// First time between two polls; grows by `backoff` up to `max_interval`.
    pub interval: Duration,
    /// Deadline of the whole wait; beyond it, exit 124.
    pub timeout: Duration,
    /// Factor applied to the interval after each poll (1 = fixed).
    pub backoff: f64,
    /// Largest interval the backoff grows to.
    pub max_interval: Duration,
    /// How long `llm.path=down` may last before the wait gives up early.
    pub grace: Duration,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Met,
    Terminal,
    TimedOut,
}

/// What one attempt saw.
struct Seen {
    /// snake_case state: a path class, `synthetic_warming`, `not_ready`, `http_503`,
    /// `not_json`, or a transport failure's reason.
    state: String,
    status: Option<u16>,
    view: Option<SummaryView>,
    met: bool,
}

/// One poll, capped by the time `left` before the wait's deadline.
fn observe(plan: &Plan, probe: &Probe, path: &str, left: Duration) -> Seen {
    classify(plan, &probe.send_within("GET", path, &[], left))
}

/// What an answer on the wait path shows.
fn classify(plan: &Plan, answer: &Answer) -> Seen {
    match answer {
        Err(failure) => Seen {
            state: failure.kind.reason().to_owned(),
            status: None,
            view: None,
            met: false,
        },
        Ok(response) => {
            let status = Some(response.status);
            let read = summary::read(response, &plan.status_header);
            let (state, view) = match read {
                Ok(view) => (view.state().to_owned(), Some(view)),
                Err(Unreadable::Status) => (format!("http_{}", response.status), None),
                // A bare edge path (`/_up`) answers HTML: its status is its state.
                Err(Unreadable::NotJson(_)) if plan.until == Until::AnyOk => {
                    (format!("http_{}", response.status), None)
                }
                Err(Unreadable::NotJson(_)) => ("not_json".to_owned(), None),
            };
            let met = match plan.until {
                Until::AnyOk => is_2xx(response.status),
                Until::Ready => view
                    .as_ref()
                    .is_some_and(|v| !v.synthetic && v.ready == Some(true)),
                Until::Primary => view.as_ref().is_some_and(SummaryView::primary_ready),
            };
            Seen {
                state,
                status,
                view,
                met,
            }
        }
    }
}

/// The state of a summary answer and its view, as a wait would report them: the
/// one sample of the warming clock in a run without `--wait`.
pub fn sample(plan: &Plan, answer: &Answer) -> (String, Option<SummaryView>) {
    let seen = classify(plan, answer);
    (seen.state, seen.view)
}

/// The reason of an attempt record: the state, with statuses folded into one name.
fn attempt_reason(state: &str) -> &str {
    if state.starts_with("http_") {
        "unexpected_status"
    } else {
        state
    }
}

pub fn run(
    plan: &Plan,
    probe: &Probe,
    out: &mut Output<'_>,
    clock: &mut Tracker,
) -> Result<Outcome, Closed> {
    let path = plan.path.as_str();
    let target = probe.url(path);
    let until = match plan.until {
        Until::Primary => "primary",
        Until::Ready => "ready",
        Until::AnyOk => "2xx",
    };
    let start = Instant::now();
    let deadline = start + plan.timeout;
    let what = format!("waiting for {until} at {target}");
    let progress = Progress::wait(what.clone(), Some(plan.timeout));
    let mut interval = plan.interval;
    let mut previous: Option<String> = None;
    let mut down_since: Option<Instant> = None;
    let mut attempt = 0u64;
    // Bounded by the deadline: every request is capped by the time left before it,
    // and every pass either ends the loop or sleeps towards it.
    loop {
        attempt += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let seen = observe(plan, probe, path, left);
        let elapsed = start.elapsed();
        clock.observe(&seen.state, seen.view.as_ref());
        out.facts.summary = seen.view.clone().or(out.facts.summary.take());
        let data = WaitAttempt {
            attempt,
            state: seen.state.clone(),
            status: seen.status,
            elapsed_s: elapsed.as_secs_f64(),
            until: until.to_owned(),
        };
        let record = if seen.met {
            Record::pass("wait.attempt", &target)
        } else {
            Record::info("wait.attempt", &target, attempt_reason(&seen.state))
        };
        out.emit(record.with_payload(&data))?;
        if previous.as_deref() != Some(seen.state.as_str()) {
            if let Some(from) = &previous {
                out.emit(
                    Record::info("wait.transition", &target, "state_changed")
                        .message(format!(
                            "{from} → {} after {:.1}s",
                            seen.state,
                            elapsed.as_secs_f64()
                        ))
                        .data(json!({
                            "from": from,
                            "to": seen.state,
                            "at": day2_core::record::now_rfc3339(),
                            "elapsed_s": elapsed.as_secs_f64(),
                        })),
                )?;
            }
            previous = Some(seen.state.clone());
        }
        progress.message(format!("{what}: {} (attempt {attempt})", seen.state));
        if seen.state == "down" {
            down_since.get_or_insert_with(Instant::now);
        } else {
            down_since = None;
        }
        let down_too_long = down_since.is_some_and(|since| since.elapsed() >= plan.grace);
        let finished = if seen.met {
            Some((
                Outcome::Met,
                Record::pass("wait", &target)
                    .message(format!("{until} after {:.1}s", elapsed.as_secs_f64())),
            ))
        } else if let Some(status @ 400..=499) = seen.status {
            Some((
                Outcome::Terminal,
                Record::fail("wait", &target, "terminal_status").message(format!(
                    "HTTP {status} on the wait path will not heal by waiting"
                )),
            ))
        } else if down_too_long {
            Some((
                Outcome::Terminal,
                Record::fail("wait", &target, "terminal_down").message(format!(
                    "llm.path has been down for longer than the {}s grace period",
                    plan.grace.as_secs_f64()
                )),
            ))
        } else {
            None
        };
        if let Some((outcome, record)) = finished {
            let data = closing_data(plan, &seen.state, attempt, elapsed, until);
            let record = record.duration(elapsed).data(data);
            drop(progress);
            return end(out, outcome, record);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        std::thread::sleep(interval.min(left));
        interval = next_interval(interval, plan.backoff, plan.max_interval);
        // No time is left for another request: the deadline ends the wait on what the
        // last attempt saw (an attempt with no time would only report its own timeout).
        if Instant::now() >= deadline {
            let elapsed = start.elapsed();
            let record = Record::fail("wait", &target, "wait_timeout").message(format!(
                "still {} after {:.1}s",
                seen.state,
                elapsed.as_secs_f64()
            ));
            let data = closing_data(plan, &seen.state, attempt, elapsed, until);
            let record = record.duration(elapsed).data(data);
            drop(progress);
            return end(out, Outcome::TimedOut, record);
        }
    }
}

/// The data of the closing `wait` record.
fn closing_data(plan: &Plan, state: &str, attempts: u64, elapsed: Duration, until: &str) -> Value {
    json!({
        "attempts": attempts,
        "elapsed_s": elapsed.as_secs_f64(),
        "state": state,
        "until": until,
        "grace_s": plan.grace.as_secs_f64(),
    })
}

/// Writes the closing `wait` record and ends the wait.
fn end(out: &mut Output<'_>, outcome: Outcome, record: Record) -> Result<Outcome, Closed> {
    out.emit(record)?;
    if outcome == Outcome::TimedOut {
        out.raise(Exit::Timeout);
    }
    Ok(outcome)
}

fn next_interval(interval: Duration, backoff: f64, max: Duration) -> Duration {
    interval.mul_f64(backoff).min(max.max(interval))
}
