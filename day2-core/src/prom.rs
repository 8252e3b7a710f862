//! What every tool that exports Prometheus metrics must do the same way: family
//! headers, label escaping, and node_exporter's textfile written atomically.

use std::io::{self, Write as _};
use std::path::Path;

/// Writes the `# HELP` and `# TYPE … gauge` lines of a metric family.
pub fn gauge_family(out: &mut String, name: &str, help: &str) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// Escapes a label value (backslash, double quote, newline) for the text format,
/// after masking the credentials of any URL in it ([`crate::redact::mask_urls`]):
/// targets are URLs, and labels end up in files and dashboards.
pub fn escape(value: &str) -> String {
    crate::redact::mask_urls(value)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes the file atomically: a hidden temp file beside it (node_exporter reads only
/// `*.prom`), flushed to disk, then renamed over the target, so the collector never
/// reads half a file.
pub fn write_textfile(path: &Path, text: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("the path names no file"))?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn the_textfile_is_replaced_whole_and_no_temp_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.prom");
        write_textfile(&path, "a 1\n").unwrap();
        write_textfile(&path, "a 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a 2\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_textfile(&dir.path().join("missing/m.prom"), "a 1\n").is_err());
    }
}
