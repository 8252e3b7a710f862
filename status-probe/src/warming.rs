//! The warming SLO clock: the time to ready. It starts at the stack's start when
//! `--started-at` gives it, else at the first warming sample, and runs until the first
//! sample that is ready and primary, whatever lies between: a warming followed by
//! `not_ready`, `down`, an unreachable backend or a model-server restart is still
//! on the clock. Inside the budget a clock still running is a `warn`; beyond it, a
//! `fail`. A run that never read a summary measured nothing: an `error`, never a pass.

use std::time::{Duration, Instant};

use day2_core::Record;
use serde_json::json;

use crate::payload::CheckReason;
use crate::summary::{PathClass, SummaryView};

#[derive(Debug)]
pub struct Tracker {
    started_at: Option<jiff::Timestamp>,
    /// When the first warming sample was taken.
    first_warming: Option<(Instant, jiff::Timestamp)>,
    /// Whether any sample was a readable summary.
    answered: bool,
    /// Warming was seen and ready+primary has not followed yet.
    running: bool,
    /// Seconds from the reference to ready+primary, once that came.
    ended_after: Option<f64>,
    /// Every state the samples showed, in order, repeats folded.
    states: Vec<String>,
}

impl Tracker {
    pub fn new(started_at: Option<jiff::Timestamp>) -> Tracker {
        Tracker {
            started_at,
            first_warming: None,
            answered: false,
            running: false,
            ended_after: None,
            states: Vec::new(),
        }
    }

    /// Seconds since the reference: `--started-at`, else the first warming sample.
    fn elapsed(&self) -> f64 {
        match (self.started_at, self.first_warming) {
            (Some(start), _) => jiff::Timestamp::now()
                .duration_since(start)
                .as_secs_f64()
                .max(0.0),
            (None, Some((first, _))) => first.elapsed().as_secs_f64(),
            (None, None) => 0.0,
        }
    }

    /// Takes one sample: the state a wait reports (`warming`, `not_ready`,
    /// `connection_refused`, ...) and the summary when it was readable. A synthetic
    /// warming counts as warming: from outside, the model is not serving either way.
    pub fn observe(&mut self, state: &str, view: Option<&SummaryView>) {
        if self.states.last().map(String::as_str) != Some(state) {
            self.states.push(state.to_owned());
        }
        let Some(view) = view else { return };
        self.answered = true;
        if view.synthetic || view.path_class == PathClass::Warming {
            self.first_warming
                .get_or_insert_with(|| (Instant::now(), jiff::Timestamp::now()));
            if !self.running {
                self.running = true;
                self.ended_after = None;
            }
        } else if view.primary_ready() && self.running {
            self.ended_after = Some(self.elapsed());
            self.running = false;
        }
    }

    /// Time to ready in seconds: still counting while the clock runs, 0 when no
    /// warming was seen; `None` when no sample was a readable summary.
    pub fn warming_seconds(&self) -> Option<f64> {
        if !self.answered {
            None
        } else if self.running {
            Some(self.elapsed())
        } else {
            Some(self.ended_after.unwrap_or(0.0))
        }
    }

    /// The `warming` record against a budget.
    pub fn record(&self, target: String, budget: Duration) -> Record {
        let budget_s = budget.as_secs_f64();
        let path = self.states.join(" → ");
        let base = match self.warming_seconds() {
            None => Record::error("warming", &target, "not_checked").message(format!(
                "no readable summary ({}): warming could not be measured",
                if path.is_empty() { "no sample" } else { &path }
            )),
            Some(seconds) if seconds > budget_s => {
                Record::fail("warming", &target, CheckReason::WarmingOverBudget.as_str()).message(
                    format!(
                        "{} after {seconds:.1}s ({path}), beyond the {budget_s}s budget",
                        if self.running {
                            "still not ready"
                        } else {
                            "ready only"
                        }
                    ),
                )
            }
            Some(seconds) if self.running => {
                Record::warn("warming", &target, "warming_within_budget").message(format!(
                    "not ready for {seconds:.1}s ({path}), inside the {budget_s}s budget"
                ))
            }
            Some(_) => Record::pass("warming", &target),
        };
        let since = self
            .started_at
            .or(self.first_warming.map(|(_, ts)| ts))
            .map(|ts| ts.to_string());
        base.data(json!({
            "warming_seconds": self.warming_seconds(),
            "budget_seconds": budget_s,
            "warming_now": self.running,
            "warming_seen": self.first_warming.is_some(),
            "since": since,
            "states": self.states,
        }))
    }
}
