//! Durations in records. Durations from flags and the environment are parsed, with
//! their ranges, by [`crate::bounded`].

use std::time::Duration;

/// A duration for messages, in humantime's format (`1day` for 24 hours, `1day 12h 30m`, `2h`, `1m 30s`,
/// `500ms`): the same syntax every duration flag accepts, so a message can be pasted
/// back. Whole milliseconds: a finer part is dropped (a person does not read
/// nanoseconds); below one millisecond it reads `0s`.
pub fn words(d: Duration) -> String {
    let millis = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    humantime::format_duration(Duration::from_millis(millis)).to_string()
}

/// Milliseconds as a float, the unit of every `duration_ms` field.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_syntax_the_flags_accept() {
        let cases = [
            ("24h", "1day"),
            ("1h", "1h"),
            ("72h", "3days"),
            ("36h 30m", "1day 12h 30m"),
            ("90m", "1h 30m"),
            ("5m", "5m"),
            ("1s", "1s"),
            ("1500ms", "1s 500ms"),
            ("500ms", "500ms"),
            ("7d", "7days"),
            ("1ms 250us", "1ms"),
            ("0s", "0s"),
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
