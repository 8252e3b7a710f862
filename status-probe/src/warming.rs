//! The warming SLO clock. Warming is measured from a reference (the stack's start as
//! given with `--started-at`, else the start of this run, which is the wait's start)
//! until the first `primary` seen after a warming, or until now while it lasts.
//! Inside the budget a current warming is a `warn`; beyond it, a `fail`.

use std::time::{Duration, Instant};

use day2_core::Record;
use serde_json::json;

use crate::summary::{PathClass, SummaryView};

#[derive(Debug)]
pub struct Tracker {
    started_at: Option<jiff::Timestamp>,
    run_start: Instant,
    run_start_ts: jiff::Timestamp,
    seen: bool,
    now: bool,
    ended_after: Option<f64>,
}

impl Tracker {
    pub fn new(started_at: Option<jiff::Timestamp>, run_start: Instant) -> Tracker {
        Tracker {
            started_at,
            run_start,
            run_start_ts: jiff::Timestamp::now(),
            seen: false,
            now: false,
            ended_after: None,
        }
    }

    /// Seconds since the reference.
    fn elapsed(&self) -> f64 {
        match self.started_at {
            Some(start) => {
                let span = jiff::Timestamp::now().duration_since(start);
                span.as_secs_f64().max(0.0)
            }
            None => self.run_start.elapsed().as_secs_f64(),
        }
    }

    /// Takes one observation of the summary (None: unreadable or unreachable, which
    /// changes nothing). A synthetic warming counts as warming: from outside, the
    /// stack is not serving its model either way.
    pub fn observe(&mut self, view: Option<&SummaryView>) {
        let Some(view) = view else { return };
        if view.synthetic || view.path_class == PathClass::Warming {
            self.seen = true;
            self.now = true;
            self.ended_after = None;
        } else {
            if view.primary_ready() && self.now {
                self.ended_after = Some(self.elapsed());
            }
            self.now = false;
        }
    }

    pub fn warming_seconds(&self) -> f64 {
        if self.now {
            self.elapsed()
        } else {
            self.ended_after.unwrap_or(0.0)
        }
    }

    /// The `warming` record against a budget.
    pub fn record(&self, target: String, budget: Duration) -> Record {
        let seconds = self.warming_seconds();
        let base = if seconds > budget.as_secs_f64() {
            Record::fail("warming", &target, "warming_over_budget").message(format!(
                "warming for {seconds:.1}s, beyond the {}s budget",
                budget.as_secs_f64()
            ))
        } else if self.now {
            Record::warn("warming", &target, "warming_within_budget").message(format!(
                "warming for {seconds:.1}s, inside the {}s budget",
                budget.as_secs_f64()
            ))
        } else {
            Record::pass("warming", &target)
        };
        base.data(json!({
            "warming_seconds": seconds,
            "budget_seconds": budget.as_secs_f64(),
            "warming_now": self.now,
            "warming_seen": self.seen,
            "since": self.started_at.unwrap_or(self.run_start_ts).to_string(),
        }))
    }
}
