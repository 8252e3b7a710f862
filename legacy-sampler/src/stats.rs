//! Small summaries of measured times (latency, lateness) for the summary record, in
//! bounded memory whatever the number of samples.

use serde_json::{json, Value};

/// Sub-buckets per power of two above 1024 µs: a value is kept to within 1/512
/// (0.2 %) of itself; below 1024 µs every microsecond has its own bucket.
const SUB_BITS: u32 = 9;
const EXACT: u64 = 1 << (SUB_BITS + 1);

/// Microsecond measurements as a log-linear histogram (the layout of HdrHistogram):
/// count, sum, min and max exact; percentiles exact below 1 ms and within 0.2 % above.
/// At most about 28,000 buckets, however many values are added.
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Histogram {
    pub fn add(&mut self, us: u64) {
        let index = bucket(us);
        if index >= self.counts.len() {
            self.counts.resize(index + 1, 0);
        }
        self.counts[index] += 1;
        self.min = if self.count == 0 {
            us
        } else {
            self.min.min(us)
        };
        self.max = self.max.max(us);
        self.count += 1;
        self.sum += u128::from(us);
    }

    /// min, p50, p90, p99, max and mean in milliseconds (nearest-rank percentiles,
    /// each the lowest value of its bucket); `null` when nothing was measured.
    pub fn percentiles_ms(&self) -> Value {
        if self.count == 0 {
            return Value::Null;
        }
        let rank = |p: f64| {
            let rank = (((p / 100.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
            let mut seen = 0;
            for (index, &n) in self.counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return ms(lowest(index).clamp(self.min, self.max));
                }
            }
            ms(self.max)
        };
        json!({
            "min": ms(self.min),
            "p50": rank(50.0),
            "p90": rank(90.0),
            "p99": rank(99.0),
            "max": ms(self.max),
            "mean": (self.sum as f64 / self.count as f64).round() / 1000.0,
        })
    }
}

fn bucket(us: u64) -> usize {
    if us < EXACT {
        return us as usize;
    }
    let shift = 63 - us.leading_zeros() - SUB_BITS;
    let mantissa = us >> shift;
    (EXACT + u64::from(shift - 1) * (EXACT / 2) + (mantissa - EXACT / 2)) as usize
}

fn lowest(index: usize) -> u64 {
    let index = index as u64;
    if index < EXACT {
        return index;
    }
    let above = index - EXACT;
    let shift = above / (EXACT / 2) + 1;
    (above % (EXACT / 2) + EXACT / 2) << shift
}

/// Microseconds as milliseconds with three decimals.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_exact_below_a_millisecond() {
        let mut h = Histogram::default();
        for v in 1..=100 {
            h.add(v * 10);
        }
        let p = h.percentiles_ms();
        assert_eq!(p["p50"], 0.5);
        assert_eq!(p["p99"], 0.99);
        assert_eq!(p["max"], 1.0);
        assert_eq!(p["mean"], 0.505);
        assert_eq!(Histogram::default().percentiles_ms(), Value::Null);
    }

    #[test]
    fn larger_values_stay_within_two_tenths_of_a_percent_in_bounded_memory() {
        let mut h = Histogram::default();
        for v in 1..=100u64 {
            h.add(v * 1000);
        }
        let p = h.percentiles_ms();
        let p50 = p["p50"].as_f64().unwrap();
        assert!((49.9..=50.0).contains(&p50), "{p50}");
        assert_eq!(p["max"], 100.0);
        assert_eq!(p["mean"], 50.5);
        for us in [1023, 1024, 1025, 4095, 65_537, 1 << 40, u64::MAX] {
            let low = lowest(bucket(us));
            assert!(low <= us && us - low <= us / 512, "{us} → {low}");
        }
        h.add(u64::MAX);
        assert!(h.counts.len() < 30_000);
    }
}
