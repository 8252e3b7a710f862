//! Small summaries of measured times (latency, lateness) for the summary record.

use serde_json::{json, Value};

/// min, p50, p90, p99, max and mean in milliseconds of microsecond measurements
/// (nearest-rank percentiles); `null` when nothing was measured.
pub fn percentiles_ms(values_us: &mut [u64]) -> Value {
    if values_us.is_empty() {
        return Value::Null;
    }
    values_us.sort_unstable();
    let n = values_us.len();
    let rank = |p: f64| {
        let index = ((p / 100.0) * n as f64).ceil() as usize;
        ms(values_us[index.clamp(1, n) - 1])
    };
    let sum: u128 = values_us.iter().map(|&v| u128::from(v)).sum();
    json!({
        "min": ms(values_us[0]),
        "p50": rank(50.0),
        "p90": rank(90.0),
        "p99": rank(99.0),
        "max": ms(values_us[n - 1]),
        "mean": (sum as f64 / n as f64).round() / 1000.0,
    })
}

/// Microseconds as milliseconds with three decimals.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut values: Vec<u64> = (1..=100).map(|v| v * 1000).collect();
        let p = percentiles_ms(&mut values);
        assert_eq!(p["p50"], 50.0);
        assert_eq!(p["p99"], 99.0);
        assert_eq!(p["max"], 100.0);
        assert_eq!(p["mean"], 50.5);
        assert_eq!(percentiles_ms(&mut []), Value::Null);
    }
}
