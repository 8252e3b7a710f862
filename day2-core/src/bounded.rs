//! Numbers from flags and the environment, each with the range it may take: durations,
//! byte sizes, counts, ratios and rates, checked when the arguments are parsed.
//!
//! Every tool reads its numbers through these parsers, so a value out of its range is
//! a usage error (exit 2) that names the flag, or the environment variable it came
//! from, and the allowed range, instead of a panic later (`Duration::from_secs_f64`
//! with `1e300`), an overflow in deadline arithmetic, or a check that silently cannot
//! fail (`NaN` compares false with everything).
//!
//! Each parser is a clap [`TypedValueParser`] (`#[arg(value_parser =
//! bounded::duration(ZERO, DAY))]`); [`DurationRange::check`] and the other `check`
//! methods give the same answer for values read outside clap. Clap runs the parser
//! on default values too, so a default out of its own range fails the tool's
//! `debug_assert` test.

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use clap::parser::ValueSource;

/// One second.
pub const SECOND: Duration = Duration::from_secs(1);
/// One hour.
pub const HOUR: Duration = Duration::from_secs(3600);
/// One day.
pub const DAY: Duration = Duration::from_secs(86_400);
/// The longest deadline, budget or span any tool takes: 30 days. Longer is a typo,
/// and deadlines computed from it (`Instant + d`) could overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 86_400);

/// A value quoted for a person, in JSON's notation (control characters escaped), so
/// messages never carry raw terminal escapes or Rust's debug form.
pub fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The message of a value that is not what `expected` says: `invalid value "1e300"
/// for --timeout: a duration from 0 to 30 days`.
fn invalid(text: &str, name: &str, expected: &str) -> String {
    if name.is_empty() {
        format!("invalid value {}: {expected}", quoted(text))
    } else {
        format!("invalid value {} for {name}: {expected}", quoted(text))
    }
}

/// How the value's source is named: the flag, or the environment variable it came
/// from (with its flag).
fn source_name(arg: Option<&clap::Arg>, source: ValueSource) -> String {
    let Some(arg) = arg else {
        return String::new();
    };
    let flag = match (arg.get_long(), arg.get_short()) {
        (Some(long), _) => format!("--{long}"),
        (None, Some(short)) => format!("-{short}"),
        (None, None) => format!(
            "<{}>",
            arg.get_value_names()
                .and_then(|names| names.first())
                .map_or_else(|| arg.get_id().to_string(), ToString::to_string)
        ),
    };
    match (source, arg.get_env()) {
        (ValueSource::EnvVariable, Some(env)) => {
            format!("{} (the environment's {flag})", env.to_string_lossy())
        }
        (ValueSource::DefaultValue, _) => format!("the default of {flag}"),
        _ => flag,
    }
}

/// Runs `check` on the value and turns its complaint into clap's usage error, naming
/// the flag or variable.
fn clap_check<T>(
    cmd: &clap::Command,
    arg: Option<&clap::Arg>,
    value: &OsStr,
    source: ValueSource,
    check: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, clap::Error> {
    let name = source_name(arg, source);
    let text = value.to_string_lossy();
    check(&text).map_err(|expected| {
        clap::Error::raw(
            ErrorKind::ValueValidation,
            format!("{}\n", invalid(&text, &name, &expected)),
        )
        .with_cmd(cmd)
    })
}

macro_rules! clap_parser {
    ($ty:ty, $value:ty) => {
        impl TypedValueParser for $ty {
            type Value = $value;

            fn parse_ref(
                &self,
                cmd: &clap::Command,
                arg: Option<&clap::Arg>,
                value: &OsStr,
            ) -> Result<$value, clap::Error> {
                self.parse_ref_(cmd, arg, value, ValueSource::CommandLine)
            }

            fn parse_ref_(
                &self,
                cmd: &clap::Command,
                arg: Option<&clap::Arg>,
                value: &OsStr,
                source: ValueSource,
            ) -> Result<$value, clap::Error> {
                clap_check(cmd, arg, value, source, |text| self.check(text))
            }
        }
    };
}

/// A duration in words for a range: `0`, `500 milliseconds`, `30 days`.
pub fn duration_words(d: Duration) -> String {
    if d.is_zero() {
        return "0".to_owned();
    }
    let nanos = d.as_nanos();
    let units: [(u128, &str); 7] = [
        (86_400_000_000_000, "day"),
        (3_600_000_000_000, "hour"),
        (60_000_000_000, "minute"),
        (1_000_000_000, "second"),
        (1_000_000, "millisecond"),
        (1_000, "microsecond"),
        (1, "nanosecond"),
    ];
    for (size, unit) in units {
        if nanos.is_multiple_of(size) {
            let n = nanos / size;
            return format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        }
    }
    unreachable!("every duration is a whole number of nanoseconds")
}

/// Durations from `min` to `max`, written as `500ms`, `2s`, `10m`, `1h 30m`, `24h`
/// (humantime's syntax), and also as bare seconds (`5`, `0.5`) when
/// [`DurationRange::or_seconds`] says so.
#[derive(Debug, Clone, Copy)]
pub struct DurationRange {
    min: Duration,
    max: Duration,
    bare_seconds: bool,
}

/// A duration from `min` to `max`, both included.
pub const fn duration(min: Duration, max: Duration) -> DurationRange {
    DurationRange {
        min,
        max,
        bare_seconds: false,
    }
}

impl DurationRange {
    /// Also takes a bare number as seconds (`5`, `0.25`), as variables such as
    /// `PRIMARY_POLL_MAX_S` are written.
    pub const fn or_seconds(self) -> DurationRange {
        DurationRange {
            bare_seconds: true,
            ..self
        }
    }

    /// What the range takes, in words: `a duration from 0 to 30 days`.
    pub fn expected(&self) -> String {
        format!(
            "a duration from {} to {} ({})",
            duration_words(self.min),
            duration_words(self.max),
            if self.bare_seconds {
                "seconds, or e.g. 500ms, 2s, 10m, 24h"
            } else {
                "e.g. 500ms, 2s, 10m, 24h"
            }
        )
    }

    /// The duration, or what the range takes.
    pub fn check(&self, text: &str) -> Result<Duration, String> {
        let trimmed = text.trim();
        let parsed = match trimmed.parse::<f64>() {
            Ok(secs) if self.bare_seconds => {
                if secs.is_finite() && secs >= 0.0 {
                    Duration::try_from_secs_f64(secs).ok()
                } else {
                    None
                }
            }
            _ => humantime::parse_duration(trimmed).ok(),
        };
        parsed
            .filter(|d| (self.min..=self.max).contains(d))
            .ok_or_else(|| self.expected())
    }
}

clap_parser!(DurationRange, Duration);

/// Whole numbers from `min` to `max`, read into `T` (`u32`, `u64`, `usize`, …).
#[derive(Debug)]
pub struct CountRange<T> {
    min: u64,
    max: u64,
    noun: &'static str,
    ty: PhantomData<fn() -> T>,
}

impl<T> Clone for CountRange<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for CountRange<T> {}

/// A count (of requests, attempts, entries, threads) from `min` to `max`.
pub const fn count<T>(min: u64, max: u64) -> CountRange<T> {
    CountRange {
        min,
        max,
        noun: "a whole number",
        ty: PhantomData,
    }
}

impl<T> CountRange<T> {
    /// Names what is counted in the error (`a number of requests`).
    pub const fn of(self, noun: &'static str) -> CountRange<T> {
        CountRange { noun, ..self }
    }

    pub fn expected(&self) -> String {
        format!("{} from {} to {}", self.noun, self.min, self.max)
    }
}

impl<T: TryFrom<u64>> CountRange<T> {
    pub fn check(&self, text: &str) -> Result<T, String> {
        text.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (self.min..=self.max).contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| self.expected())
    }
}

impl<T> TypedValueParser for CountRange<T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        self.parse_ref_(cmd, arg, value, ValueSource::CommandLine)
    }

    fn parse_ref_(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
        source: ValueSource,
    ) -> Result<T, clap::Error> {
        clap_check(cmd, arg, value, source, |text| self.check(text))
    }
}

/// Parses a byte size as people write it: a bare number is bytes; units B, K/KB/KiB,
/// M/MB/MiB, G/GB/GiB, T/TB/TiB, case-insensitive, with or without a space, all
/// powers of 1024 (as `.wslconfig` and Docker's own size flags mean them).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{} is not a size (use e.g. 8GB, 512MB)", quoted(text)))?;
    let power = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 1,
        "m" | "mb" | "mib" => 2,
        "g" | "gb" | "gib" => 3,
        "t" | "tb" | "tib" => 4,
        other => {
            return Err(format!(
                "{} has the unknown size unit {} (use B, KB, MB, GB, TB)",
                quoted(text),
                quoted(other)
            ))
        }
    };
    let bytes = value * 1024f64.powi(power);
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("{} is too large", quoted(text)));
    }
    Ok(bytes.round() as u64)
}

/// A size for messages: `10.0 GiB`, `512.0 MiB`, `980 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Byte sizes from `min` to `max` ([`parse_size`]'s syntax).
#[derive(Debug, Clone, Copy)]
pub struct SizeRange {
    min: u64,
    max: u64,
}

/// A size in bytes from `min` to `max`.
pub const fn size(min: u64, max: u64) -> SizeRange {
    SizeRange { min, max }
}

impl SizeRange {
    pub fn expected(&self) -> String {
        format!(
            "a size from {} to {} (bytes, or e.g. 512KB, 8GB)",
            human_size(self.min),
            human_size(self.max)
        )
    }

    pub fn check(&self, text: &str) -> Result<u64, String> {
        parse_size(text)
            .ok()
            .filter(|n| (self.min..=self.max).contains(n))
            .ok_or_else(|| self.expected())
    }
}

clap_parser!(SizeRange, u64);

/// Finite numbers from `min` to `max`: ratios, percentages, factors.
#[derive(Debug, Clone, Copy)]
pub struct NumberRange {
    noun: &'static str,
    min: f64,
    max: f64,
}

/// A number such as `a ratio` from `min` to `max`, both included; `NaN` and the
/// infinities are refused.
pub const fn number(noun: &'static str, min: f64, max: f64) -> NumberRange {
    NumberRange { noun, min, max }
}

impl NumberRange {
    pub fn expected(&self) -> String {
        format!("{} from {} to {}", self.noun, self.min, self.max)
    }

    pub fn check(&self, text: &str) -> Result<f64, String> {
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && (self.min..=self.max).contains(n))
            .ok_or_else(|| self.expected())
    }
}

clap_parser!(NumberRange, f64);

/// Rates such as `50`, `50/s`, `600/m`, `3600/h`, from `min` to `max` events a
/// second; the value is the interval between two events.
#[derive(Debug, Clone, Copy)]
pub struct RateRange {
    min: f64,
    max: f64,
}

/// A rate from `min` to `max` per second, read as the interval between events.
pub const fn rate(min_per_second: f64, max_per_second: f64) -> RateRange {
    RateRange {
        min: min_per_second,
        max: max_per_second,
    }
}

impl RateRange {
    pub fn expected(&self) -> String {
        format!(
            "a rate from {}/s to {}/s (e.g. 50, 50/s, 600/m, 3600/h)",
            self.min, self.max
        )
    }

    pub fn check(&self, text: &str) -> Result<Duration, String> {
        let (number, per) = match text.trim().split_once('/') {
            Some((n, unit)) => (n.trim(), unit.trim()),
            None => (text.trim(), "s"),
        };
        let seconds = match per {
            "s" | "sec" | "1s" => 1.0,
            "m" | "min" | "1m" => 60.0,
            "h" | "1h" => 3600.0,
            _ => return Err(self.expected()),
        };
        number
            .parse::<f64>()
            .ok()
            .map(|n| n / seconds)
            .filter(|per_second| {
                per_second.is_finite() && (self.min..=self.max).contains(per_second)
            })
            .and_then(|per_second| Duration::try_from_secs_f64(1.0 / per_second).ok())
            .ok_or_else(|| self.expected())
    }
}

clap_parser!(RateRange, Duration);

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Args {
        #[arg(long, env = "DAY2_TEST_BOUNDED_WAIT", default_value = "5", value_parser = duration(Duration::ZERO, MAX_DURATION).or_seconds())]
        wait: Duration,
        #[arg(long, default_value = "2s", value_parser = duration(Duration::from_millis(1), HOUR))]
        timeout: Duration,
        #[arg(short = 'n', default_value_t = 30, value_parser = count::<u32>(1, 1_000_000).of("a number of requests"))]
        count: u32,
        #[arg(long, default_value = "1MiB", value_parser = size(1, 1 << 30))]
        max_body: u64,
        #[arg(long, default_value_t = 0.2, value_parser = number("a ratio", 0.0, 1.0))]
        ratio: f64,
        #[arg(long, value_parser = rate(0.001, 1e6))]
        rate: Option<Duration>,
    }

    fn parse(args: &[&str]) -> Result<Args, String> {
        let mut argv = vec!["t"];
        argv.extend_from_slice(args);
        Args::try_parse_from(argv).map_err(|e| e.render().to_string())
    }

    #[test]
    fn the_definitions_and_defaults_are_in_range() {
        use clap::CommandFactory;
        Args::command().debug_assert();
        let args = parse(&[]).unwrap();
        assert_eq!(args.wait, Duration::from_secs(5));
        assert_eq!(args.max_body, 1 << 20);
        assert_eq!(args.count, 30);
    }

    /// The values of issue 18 that panicked or passed: huge, non-finite, negative.
    #[test]
    fn values_out_of_range_are_usage_errors_naming_flag_and_range() {
        let cases: [(&[&str], &str, &str); 12] = [
            (&["--wait", "1e300"], "--wait", "from 0 to 30 days"),
            (
                &["--wait", "18446744073709551616"],
                "--wait",
                "from 0 to 30 days",
            ),
            (&["--wait", "NaN"], "--wait", "from 0 to 30 days"),
            (&["--wait=-1"], "--wait", "from 0 to 30 days"),
            (
                &["--timeout", "0s"],
                "--timeout",
                "from 1 millisecond to 1 hour",
            ),
            (&["--timeout", "100000000000h"], "--timeout", "to 1 hour"),
            (&["-n", "0"], "-n", "a number of requests from 1 to 1000000"),
            (&["-n", "99999999999999999999"], "-n", "from 1 to 1000000"),
            (
                &["--max-body", "2GiB"],
                "--max-body",
                "a size from 1 B to 1.0 GiB",
            ),
            (&["--ratio", "NaN"], "--ratio", "a ratio from 0 to 1"),
            (&["--ratio", "inf"], "--ratio", "a ratio from 0 to 1"),
            (
                &["--rate", "1e300"],
                "--rate",
                "a rate from 0.001/s to 1000000/s",
            ),
        ];
        for (args, flag, range) in cases {
            let err = parse(args).unwrap_err();
            assert!(
                err.contains(&format!("for {flag}:")) && err.contains(range),
                "{args:?}: {err}"
            );
            assert_eq!(
                err.lines()
                    .next()
                    .map(|l| l.starts_with("error: invalid value")),
                Some(true),
                "{err}"
            );
        }
    }

    #[test]
    fn a_value_from_the_environment_names_the_variable() {
        #[derive(Debug, Parser)]
        struct FromEnv {
            #[arg(long, env = "DAY2_TEST_BOUNDED_POLL_S", default_value = "5", value_parser = duration(Duration::ZERO, MAX_DURATION).or_seconds())]
            poll: Duration,
        }
        // A name no other test reads, so setting it cannot disturb them.
        std::env::set_var("DAY2_TEST_BOUNDED_POLL_S", "1e300");
        let err = FromEnv::try_parse_from(["t"])
            .unwrap_err()
            .render()
            .to_string();
        assert!(
            err.contains("for DAY2_TEST_BOUNDED_POLL_S (the environment's --poll): a duration from 0 to 30 days"),
            "{err}"
        );
        let err = FromEnv::try_parse_from(["t", "--poll", "1e300"])
            .unwrap_err()
            .render()
            .to_string();
        assert!(
            err.contains("for --poll: a duration from 0 to 30 days"),
            "{err}"
        );
    }

    #[test]
    fn values_in_range_parse_as_written() {
        let args = parse(&[
            "--wait",
            "0.5",
            "--timeout",
            "1h",
            "-n",
            "1000000",
            "--max-body",
            "512 KB",
            "--ratio",
            "1",
            "--rate",
            "600/m",
        ])
        .unwrap();
        assert_eq!(args.wait, Duration::from_millis(500));
        assert_eq!(args.timeout, HOUR);
        assert_eq!(args.count, 1_000_000);
        assert_eq!(args.max_body, 512 * 1024);
        assert_eq!(args.ratio, 1.0);
        assert_eq!(args.rate, Some(Duration::from_millis(100)));
        // Bare seconds only where the range says so.
        assert!(parse(&["--timeout", "5"]).is_err());
    }

    #[test]
    fn control_characters_in_a_value_are_escaped() {
        let err = parse(&["--timeout", "\u{1b}[2J5s"]).unwrap_err();
        assert!(!err.contains('\u{1b}'), "{err}");
        assert!(err.contains("\\u001b[2J5s"), "{err}");
    }

    #[test]
    fn ranges_are_said_in_words() {
        assert_eq!(duration_words(Duration::ZERO), "0");
        assert_eq!(duration_words(MAX_DURATION), "30 days");
        assert_eq!(
            duration_words(Duration::from_millis(1500)),
            "1500 milliseconds"
        );
        assert_eq!(duration_words(Duration::from_secs(90)), "90 seconds");
        assert_eq!(duration_words(HOUR), "1 hour");
    }

    #[test]
    fn sizes_read_as_docker_and_wsl_write_them() {
        assert_eq!(parse_size("10GB"), Ok(10 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("512mb"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_size("1.5 GiB"), Ok(1536 * 1024 * 1024));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("10XB")
            .unwrap_err()
            .contains("unknown size unit"));
        assert!(parse_size("1e30").is_err());
        assert_eq!(human_size(10 * 1024 * 1024 * 1024), "10.0 GiB");
        assert_eq!(human_size(980), "980 B");
    }
}
