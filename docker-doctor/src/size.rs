//! Byte sizes as people write them on the command line (`10GB`, `512MB`, `1.5GiB`),
//! powers of 1024, for the size flags. Values inside `.wslconfig` are read with
//! WSL's stricter syntax instead: [`crate::wslconfig::memory_size`].

/// Parses a size; a bare number is bytes. Units: B, K/KB/KiB, M/MB/MiB, G/GB/GiB,
/// T/TB/TiB, case-insensitive, with or without a space.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (use e.g. 8GB, 512MB)"))?;
    let power = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 1,
        "m" | "mb" | "mib" => 2,
        "g" | "gb" | "gib" => 3,
        "t" | "tb" | "tib" => 4,
        other => {
            return Err(format!(
                "{text:?} has the unknown size unit {other:?} (use B, KB, MB, GB, TB)"
            ))
        }
    };
    let bytes = value * 1024f64.powi(power);
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("{text:?} is too large"));
    }
    Ok(bytes.round() as u64)
}

/// A size for messages: `10.0 GiB`, `512.0 MiB`, `980 B`.
pub fn human(bytes: u64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wsl_style_sizes() {
        assert_eq!(parse_size("10GB"), Ok(10 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("512mb"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_size("1.5 GiB"), Ok(1536 * 1024 * 1024));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("10XB")
            .unwrap_err()
            .contains("unknown size unit"));
        assert_eq!(human(10 * 1024 * 1024 * 1024), "10.0 GiB");
        assert_eq!(human(980), "980 B");
    }
}
