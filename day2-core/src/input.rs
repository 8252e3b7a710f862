//! Input files read whole, with a cap on what is read.
//!
//! Every file a tool reads whole (a manifest, a plan, a changelog, a workflow, a
//! configuration) goes through here, so that `/dev/zero` or an endless FIFO given
//! as an input is a one-line usage error once the cap is reached instead of memory
//! growing without bound. Files are opened and read as streams, never seeked or
//! sized first, so pipes, FIFOs (`<(…)`) and `/dev/stdin` work like regular files.

use std::io::Read;
use std::path::Path;

use crate::Problem;

/// The reason of every error here: the input could not be read whole (missing,
/// unreadable, over its cap, or not UTF-8 text).
pub const UNREADABLE_INPUT: &str = "unreadable_input";

fn unreadable(message: String) -> Problem {
    Problem::new(UNREADABLE_INPUT, message)
}

/// One mebibyte.
pub const MIB: u64 = 1024 * 1024;

/// The default cap of an input read whole: 16 MiB, far above any real manifest,
/// plan, changelog or configuration.
pub const DEFAULT_LIMIT: u64 = 16 * MIB;

fn limit_words(limit: u64) -> String {
    if limit.is_multiple_of(MIB) {
        format!("{} MiB", limit / MIB)
    } else if limit.is_multiple_of(1024) {
        format!("{} KiB", limit / 1024)
    } else {
        format!("{limit} bytes")
    }
}

/// Reads everything `reader` gives, up to `limit` bytes. `what` names the input in
/// the error (`changelog /tmp/CHANGELOG.md`, `the plan on stdin`). Errors:
/// [`UNREADABLE_INPUT`].
pub fn read_capped(reader: &mut dyn Read, what: &str, limit: u64) -> Result<Vec<u8>, Problem> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(unreadable(format!(
            "cannot read {what}: larger than {}",
            limit_words(limit)
        )));
    }
    Ok(bytes)
}

/// Opens `path` and reads it up to `limit` bytes. `kind` says what the file is for
/// the error (`changelog`, `plan`); the path follows it.
pub fn read_file(path: &Path, kind: &str, limit: u64) -> Result<Vec<u8>, Problem> {
    let what = format!("{kind} {}", path.display());
    let mut file =
        std::fs::File::open(path).map_err(|e| unreadable(format!("cannot read {what}: {e}")))?;
    read_capped(&mut file, &what, limit)
}

/// [`read_file`], with `None` when the file does not exist (a manifest about to be
/// created).
pub fn read_file_if_exists(
    path: &Path,
    kind: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, Problem> {
    let what = format!("{kind} {}", path.display());
    match std::fs::File::open(path) {
        Ok(mut file) => read_capped(&mut file, &what, limit).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(unreadable(format!("cannot read {what}: {e}"))),
    }
}

/// Bytes as UTF-8 text; the error names the line of the first invalid byte.
pub fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, Problem> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        unreadable(format!(
            "cannot read {what}: not UTF-8 text (line {line}, byte {valid})"
        ))
    })
}

/// [`read_file`] as UTF-8 text.
pub fn read_text(path: &Path, kind: &str, limit: u64) -> Result<String, Problem> {
    let bytes = read_file(path, kind, limit)?;
    utf8(bytes, &format!("{kind} {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_zero_ends_at_the_cap_with_one_line() {
        let err = read_file(Path::new("/dev/zero"), "changelog", MIB).unwrap_err();
        assert_eq!(err.reason(), UNREADABLE_INPUT);
        assert_eq!(
            err.message,
            "cannot read changelog /dev/zero: larger than 1 MiB"
        );
    }

    #[test]
    fn files_pipes_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"one\ntwo\xff\n").unwrap();
        let err = read_text(&path, "plan", MIB).unwrap_err();
        assert!(
            err.message.ends_with("not UTF-8 text (line 2, byte 7)"),
            "{err}"
        );
        std::fs::write(&path, "exactly").unwrap();
        assert_eq!(read_file(&path, "plan", 7).unwrap(), b"exactly");
        assert!(read_file(&path, "plan", 6)
            .unwrap_err()
            .message
            .ends_with("larger than 6 bytes"));
        let err = read_file(&dir.path().join("missing"), "plan", MIB).unwrap_err();
        assert!(
            err.message.starts_with("cannot read plan ") && err.message.contains("No such file"),
            "{err}"
        );
        let mut pipe: &[u8] = b"from a pipe";
        assert_eq!(read_capped(&mut pipe, "stdin", 64).unwrap(), b"from a pipe");
    }

    /// A FIFO (what `<(…)` gives) is read as a stream, without seeking.
    #[test]
    fn a_fifo_is_read_as_a_stream() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, "line 1\nline 2\n").unwrap())
        };
        assert_eq!(
            read_text(&fifo, "workflow", MIB).unwrap(),
            "line 1\nline 2\n"
        );
        writer.join().unwrap();
    }
}
