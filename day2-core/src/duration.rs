//! Durations on the command line ("500ms", "2s", "10m", "24h"), parsed one way by
//! every tool.

use std::time::Duration;

/// A clap value parser for human durations such as `2s`, `10m` or `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("invalid duration {text:?} ({e}); use e.g. 500ms, 2s, 10m, 24h"))
}

/// Milliseconds as a float, the unit of every `duration_ms` field.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_the_guide_uses() {
        assert_eq!(parse_duration("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        let err = parse_duration("ten minutes").unwrap_err();
        assert!(err.contains("ten minutes"), "{err}");
    }
}
