//! Durations in records. Durations from flags and the environment are parsed, with
//! their ranges, by [`crate::bounded`].

use std::time::Duration;

/// A duration in words for messages: `24 hours`, `1 day 12 hours`, `90 minutes` is
/// `1 hour 30 minutes`, `500 ms`. Whole hours up to two days stay hours, as the guide
/// says "24 hours". (humantime's own format writes `1day`, which is for machines.)
pub fn words(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{} ms", d.as_millis());
    }
    let unit = |n: u64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    let (days, hours) = if secs.is_multiple_of(3600) && secs <= 48 * 3600 {
        (0, secs / 3600)
    } else {
        (secs / 86_400, secs % 86_400 / 3600)
    };
    let parts = [
        (days, "day"),
        (hours, "hour"),
        (secs % 3600 / 60, "minute"),
        (secs % 60, "second"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| unit(*n, name))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Milliseconds as a float, the unit of every `duration_ms` field.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_words_read_as_a_person_says_them() {
        let cases = [
            ("24h", "24 hours"),
            ("1h", "1 hour"),
            ("72h", "3 days"),
            ("36h 30m", "1 day 12 hours 30 minutes"),
            ("90m", "1 hour 30 minutes"),
            ("5m", "5 minutes"),
            ("1s", "1 second"),
            ("500ms", "500 ms"),
            ("7d", "7 days"),
        ];
        for (text, said) in cases {
            assert_eq!(
                words(humantime::parse_duration(text).unwrap()),
                said,
                "{text}"
            );
        }
    }
}
