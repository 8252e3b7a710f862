//! Durations in records. Durations from flags and the environment are parsed, with
//! their ranges, by [`crate::bounded`].

use std::time::Duration;

/// Milliseconds as a float, the unit of every `duration_ms` field.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
