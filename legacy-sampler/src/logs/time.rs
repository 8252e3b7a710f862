//! Log line times to epoch seconds, by hand and cached per minute: every line of a
//! log carries one, and a general date parser per line would dominate the scan.

use super::format::TimeKind;

/// Remembers the last minute parsed (its text and offset), since consecutive lines
/// almost always share it; only the seconds are read anew.
#[derive(Debug, Default)]
pub struct TimeCache {
    /// The minute's text and zone, zero-padded; a fixed size so that building and
    /// comparing it compiles to a few loads instead of `memcmp` calls.
    key: [u8; 24],
    minute: Option<i64>,
}

impl TimeCache {
    /// Epoch seconds of a time written as `kind`; `None` when it is not a valid time.
    pub fn parse(&mut self, kind: TimeKind, text: &[u8]) -> Option<i64> {
        match kind {
            TimeKind::Local => self.local(text),
            TimeKind::Iso8601 => self.iso8601(text),
            TimeKind::Msec => msec(text),
        }
    }

    /// `28/Nov/2026:00:57:46 +0000` ($time_local).
    fn local(&mut self, t: &[u8]) -> Option<i64> {
        if t.len() != 26 || t[2] != b'/' || t[6] != b'/' || t[11] != b':' || t[20] != b' ' {
            return None;
        }
        let second = two(&t[18..20]).filter(|&s| s < 61)?;
        if t[17] != b':' {
            return None;
        }
        let mut key = [0u8; 24];
        key[..17].copy_from_slice(&t[..17]);
        key[17..22].copy_from_slice(&t[21..26]);
        let minute = self.cached(key, || {
            let day = two(&t[0..2])?;
            let month = month(&t[3..6])?;
            let year = four(&t[7..11])?;
            let offset = offset(t[21], &t[22..24], &t[24..26])?;
            minute_epoch(year, month, day, &t[12..14], &t[15..17], offset)
        })?;
        Some(minute + second)
    }

    /// `2026-11-28T00:57:46+00:00` or `…Z` ($time_iso8601).
    fn iso8601(&mut self, t: &[u8]) -> Option<i64> {
        if t.len() < 20 || t[4] != b'-' || t[7] != b'-' || t[10] != b'T' || t[16] != b':' {
            return None;
        }
        let second = two(&t[17..19]).filter(|&s| s < 61)?;
        let zone = &t[19..];
        let mut key = [0u8; 24];
        key[..16].copy_from_slice(&t[..16]);
        match zone {
            [z] => key[16] = *z,
            [a, b, c, d, e, f] => key[16..22].copy_from_slice(&[*a, *b, *c, *d, *e, *f]),
            _ => return None,
        }
        let minute = self.cached(key, || {
            let offset = match zone {
                b"Z" => 0,
                [sign, h1, h2, b':', m1, m2] => offset(*sign, &[*h1, *h2], &[*m1, *m2])?,
                _ => return None,
            };
            let year = four(&t[0..4])?;
            let month = two(&t[5..7])?;
            let day = two(&t[8..10])?;
            minute_epoch(year, month, day, &t[11..13], &t[14..16], offset)
        })?;
        Some(minute + second)
    }

    fn cached(&mut self, key: [u8; 24], compute: impl FnOnce() -> Option<i64>) -> Option<i64> {
        if let Some(minute) = self.minute.filter(|_| same(&key, &self.key)) {
            return Some(minute);
        }
        let minute = compute()?;
        self.key = key;
        self.minute = Some(minute);
        Some(minute)
    }
}

/// Equality as three word compares (an array `==` may become a `memcmp` call).
fn same(a: &[u8; 24], b: &[u8; 24]) -> bool {
    a.chunks_exact(8)
        .zip(b.chunks_exact(8))
        .all(|(x, y)| word(x) == word(y))
}

fn word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    u64::from_ne_bytes(word)
}

/// `1764291466.123` ($msec).
fn msec(t: &[u8]) -> Option<i64> {
    let whole = t.split(|&b| b == b'.').next()?;
    if whole.is_empty() || whole.len() > 12 {
        return None;
    }
    whole.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

fn digit(b: u8) -> Option<i64> {
    b.is_ascii_digit().then(|| i64::from(b - b'0'))
}

fn two(t: &[u8]) -> Option<i64> {
    Some(digit(t[0])? * 10 + digit(t[1])?)
}

fn four(t: &[u8]) -> Option<i64> {
    Some(two(&t[0..2])? * 100 + two(&t[2..4])?)
}

fn month(t: &[u8]) -> Option<i64> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    MONTHS
        .iter()
        .position(|m| m[..] == *t)
        .map(|i| i as i64 + 1)
}

/// `+0100` → 3600 seconds east of UTC.
fn offset(sign: u8, hours: &[u8], minutes: &[u8]) -> Option<i64> {
    let magnitude = two(hours)? * 3600 + two(minutes)? * 60;
    match sign {
        b'+' => Some(magnitude),
        b'-' => Some(-magnitude),
        _ => None,
    }
}

fn minute_epoch(
    year: i64,
    month: i64,
    day: i64,
    hour: &[u8],
    minute: &[u8],
    offset: i64,
) -> Option<i64> {
    let (hour, minute) = (two(hour)?, two(minute)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(rfc3339: &str) -> i64 {
        rfc3339.parse::<jiff::Timestamp>().unwrap().as_second()
    }

    #[test]
    fn local_times_match_a_real_date_library() {
        let mut cache = TimeCache::default();
        let cases = [
            ("28/Nov/2026:00:57:46 +0000", "2026-11-28T00:57:46Z"),
            ("28/Nov/2026:00:57:47 +0000", "2026-11-28T00:57:47Z"),
            ("29/Feb/2024:23:59:59 +0100", "2024-02-29T22:59:59Z"),
            ("01/Jan/1970:00:00:00 -0530", "1970-01-01T05:30:00Z"),
            ("31/Dec/2099:12:00:00 +0000", "2099-12-31T12:00:00Z"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                cache.parse(TimeKind::Local, text.as_bytes()),
                Some(reference(expected)),
                "{text}"
            );
        }
        for bad in [
            "28/Foo/2026:00:57:46 +0000",
            "28/Nov/2026:25:57:46 +0000",
            "28/Nov/2026:00:57:46 +00",
            "28-Nov-2026 00:57:46 +0000",
        ] {
            assert_eq!(cache.parse(TimeKind::Local, bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn iso_and_msec_times() {
        let mut cache = TimeCache::default();
        assert_eq!(
            cache.parse(TimeKind::Iso8601, b"2026-11-28T00:57:46+02:00"),
            Some(reference("2026-11-27T22:57:46Z"))
        );
        assert_eq!(
            cache.parse(TimeKind::Iso8601, b"2026-11-28T00:57:46Z"),
            Some(reference("2026-11-28T00:57:46Z"))
        );
        assert_eq!(
            cache.parse(TimeKind::Msec, b"1764291466.123"),
            Some(1_764_291_466)
        );
        assert_eq!(cache.parse(TimeKind::Msec, b"-"), None);
    }
}
