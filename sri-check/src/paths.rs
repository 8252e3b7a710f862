//! Where files are: the site root and the confinement of every entry to it, the
//! mapping between command-line paths and manifest keys, glob expansion, and path
//! lists read from stdin.
//!
//! **Invariant:** nothing outside the root is ever opened. A key is checked
//! lexically (no absolute paths, no `..`), then opened *relative to the root
//! directory, beneath it*: cap-std's `Dir` resolves the path with `openat2(2)` and
//! `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS` (Linux 5.6+), or, where that call is
//! missing, one component at a time without following a link out of the root. The
//! confinement check and the open are the same system call, so a file swapped for a
//! symlink between a check and an open cannot lead outside (issue 18). Symlinks that
//! stay inside the root are followed; one with an absolute target is refused, as
//! `RESOLVE_BENEATH` refuses it, even when the target lies inside the root.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufRead};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::fs::{Dir, MetadataExt as _, OpenOptions, OpenOptionsExt as _};
use day2_core::Problem;
use globset::GlobBuilder;

/// Why an entry was not read.
#[derive(Debug)]
pub enum Refusal {
    /// The key or path leaves the root (absolute, `..`, or a symlink pointing out).
    Escapes(String),
    /// No such file.
    Missing,
    /// A directory, FIFO, socket or device: nothing to hash.
    NotAFile(&'static str),
    /// The name cannot be a manifest key (not UTF-8).
    NonUtf8,
    /// The file exists but could not be opened or inspected.
    Unreadable(io::Error),
}

impl Refusal {
    /// The record reason for this refusal.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Escapes(_) => "escapes_root",
            Refusal::Missing => "missing",
            Refusal::NotAFile(_) => "not_a_file",
            Refusal::NonUtf8 => "non_utf8_name",
            Refusal::Unreadable(_) => "unreadable",
        }
    }

    /// Unreadable files and non-files are errors of the check; the rest are findings.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Refusal::NotAFile(_) | Refusal::Unreadable(_) | Refusal::NonUtf8
        )
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Escapes(why) => format!("refused, not read: {why}"),
            Refusal::Missing => "no such file".to_owned(),
            Refusal::NotAFile(kind) => format!("not a regular file but a {kind}"),
            Refusal::NonUtf8 => "the name is not UTF-8, so it cannot be a manifest key".to_owned(),
            Refusal::Unreadable(e) => format!("cannot read: {e}"),
        }
    }
}

/// The site root: paths as the user wrote them and canonical, and the directory
/// itself, opened once, which every key is opened beneath.
#[derive(Debug, Clone)]
pub struct Root {
    /// Absolute, lexically normalised (symlinks kept), for turning paths into keys.
    pub absolute: PathBuf,
    /// Canonical (symlinks resolved), for messages.
    pub canonical: PathBuf,
    /// The open root directory.
    dir: Arc<Dir>,
}

impl Root {
    /// The root directory. Errors (reason `invalid_root`, a usage error): it does not
    /// exist, is not a directory or cannot be opened.
    pub fn new(dir: &Path) -> Result<Root, Problem> {
        let unusable = |message: String| Problem::new("invalid_root", message);
        let canonical = fs::canonicalize(dir)
            .map_err(|e| unusable(format!("root directory {}: {e}", dir.display())))?;
        if !canonical.is_dir() {
            return Err(unusable(format!(
                "root {} is not a directory",
                dir.display()
            )));
        }
        let opened = Dir::open_ambient_dir(&canonical, cap_std::ambient_authority())
            .map_err(|e| unusable(format!("root directory {}: {e}", dir.display())))?;
        Ok(Root {
            absolute: absolute(dir),
            canonical,
            dir: Arc::new(opened),
        })
    }

    /// Checks a manifest key and opens the file it names beneath the root,
    /// refusing anything that would leave it. The key is never joined to a path
    /// outside the root's directory handle; directories, FIFOs and devices are
    /// recognised from their metadata (itself looked up beneath the root) and never
    /// opened. The file opened is then checked to be the one whose metadata was
    /// read, so a swap between the two is an error, never a read of something else.
    pub fn open_key(&self, key: &str) -> Result<File, Refusal> {
        let relative = checked_key(key)?;
        let meta = self
            .dir
            .metadata(relative)
            .map_err(|e| self.refusal(key, e))?;
        if !meta.is_file() {
            // Opening a FIFO would block, so the type is checked before opening.
            return Err(Refusal::NotAFile(kind_of(meta.is_dir())));
        }
        let mut options = OpenOptions::new();
        // Non-blocking: had the file become a FIFO since, opening it returns at once.
        options
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
        let file = self
            .dir
            .open_with(relative, &options)
            .map_err(|e| self.refusal(key, e))?
            .into_std();
        let opened = file.metadata().map_err(Refusal::Unreadable)?;
        if !opened.is_file() || (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
            return Err(Refusal::Unreadable(io::Error::other(
                "it was replaced while being opened",
            )));
        }
        Ok(file)
    }

    /// The refusal for an error from opening beneath the root. cap-std reports a
    /// path that leads out (`openat2`'s `EXDEV`, or its own walk) as
    /// `PermissionDenied` without an OS error code.
    fn refusal(&self, key: &str, e: io::Error) -> Refusal {
        match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Refusal::Missing,
            io::ErrorKind::PermissionDenied if e.raw_os_error().is_none() => {
                // Where the link leads, for the message only: nothing is opened.
                let to = fs::canonicalize(self.canonical.join(key))
                    .map(|p| format!(" (to {})", p.display()))
                    .unwrap_or_default();
                Refusal::Escapes(format!("a symlink leads outside the root{to}"))
            }
            _ => Refusal::Unreadable(e),
        }
    }

    /// The manifest key of a path given on the command line (relative to the
    /// working directory): its place under the root, with `/` separators.
    pub fn key_of(&self, path: &Path) -> Result<String, Refusal> {
        let abs = absolute(path);
        let Ok(relative) = abs.strip_prefix(&self.absolute) else {
            return Err(Refusal::Escapes(format!(
                "{} is not under the root",
                path.display()
            )));
        };
        let mut parts = Vec::new();
        for component in relative.components() {
            match component.as_os_str().to_str() {
                Some(part) => parts.push(part),
                None => return Err(Refusal::NonUtf8),
            }
        }
        if parts.is_empty() {
            return Err(Refusal::NotAFile("directory"));
        }
        Ok(parts.join("/"))
    }
}

/// Lexical checks on a key before it touches the file system.
fn checked_key(key: &str) -> Result<&Path, Refusal> {
    if key.is_empty() || key.contains('\0') {
        return Err(Refusal::Escapes(
            "an empty or NUL-containing name".to_owned(),
        ));
    }
    if key.starts_with('/') || key.starts_with('\\') || Path::new(key).is_absolute() {
        return Err(Refusal::Escapes("an absolute path".to_owned()));
    }
    for component in Path::new(key).components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                return Err(Refusal::Escapes("a '..' component".to_owned()));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(Refusal::Escapes("an absolute path".to_owned()));
            }
        }
    }
    Ok(Path::new(key))
}

/// A manifest key in the form used for lookups (`./a/b.js` and `a//b.js` are `a/b.js`).
pub fn normalize_key(key: &str) -> String {
    key.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

fn kind_of(is_dir: bool) -> &'static str {
    if is_dir {
        "directory"
    } else {
        "special file"
    }
}

/// The absolute form of a path with `.` and `..` resolved lexically.
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// One operand after expansion: a path to use, or a pattern that matched nothing.
#[derive(Debug)]
pub enum Operand {
    Path(PathBuf),
    NoMatch(String),
}

fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '[', '{'])
}

/// Expands the command-line operands: `-` reads a path list from stdin (one a line,
/// or NUL-separated with `nul`), an existing path is itself, and anything else with
/// glob characters is matched against the files under its literal prefix
/// (`*` stays within a directory, `**` crosses them). Errors (usage errors):
/// `invalid_glob`, `unreadable_input` (the path list on stdin).
pub fn expand(
    operands: &[OsString],
    stdin: &mut dyn BufRead,
    nul: bool,
) -> Result<Vec<Operand>, Problem> {
    let mut out = Vec::new();
    for operand in operands {
        if operand == "-" {
            out.extend(read_list(stdin, nul)?.into_iter().map(Operand::Path));
            continue;
        }
        let path = PathBuf::from(operand);
        match operand.to_str() {
            Some(text) if is_glob(text) && fs::symlink_metadata(&path).is_err() => {
                let matched = glob(text)?;
                if matched.is_empty() {
                    out.push(Operand::NoMatch(text.to_owned()));
                }
                out.extend(matched.into_iter().map(Operand::Path));
            }
            _ => out.push(Operand::Path(path)),
        }
    }
    Ok(out)
}

fn glob(pattern: &str) -> Result<Vec<PathBuf>, Problem> {
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    let matcher = GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| Problem::new("invalid_glob", format!("bad glob {pattern:?}: {e}")))?
        .compile_matcher();
    // Walk only below the part of the pattern that has no glob characters.
    let base: Vec<&str> = pattern
        .split('/')
        .take_while(|part| !is_glob(part))
        .collect();
    let base = if base.is_empty() {
        ".".to_owned()
    } else {
        base.join("/")
    };
    let mut matched = Vec::new();
    for entry in walkdir::WalkDir::new(&base).sort_by_file_name() {
        // Unreadable directories under a glob are skipped, as a shell does.
        let Ok(entry) = entry else { continue };
        if entry.file_type().is_dir() {
            continue;
        }
        let path = entry.path();
        let shown = path.strip_prefix(".").unwrap_or(path);
        if matcher.is_match(shown) {
            matched.push(shown.to_path_buf());
        }
    }
    Ok(matched)
}

/// The most read from a path list on stdin: 64 MiB.
const PATH_LIST_LIMIT: u64 = 64 * day2_core::input::MIB;

/// Reads a list of paths, skipping empty lines. Names are taken as raw bytes on
/// Unix, so non-UTF-8 names from `find` arrive intact (and are refused later with a
/// record, not a crash).
fn read_list(stdin: &mut dyn BufRead, nul: bool) -> Result<Vec<PathBuf>, Problem> {
    let unreadable = |message: String| Problem::new("unreadable_input", message);
    let separator = if nul { b'\0' } else { b'\n' };
    let mut paths = Vec::new();
    // An endless stdin (`yes | sri-check generate -`) stops at the cap.
    let mut stdin = std::io::Read::take(stdin, PATH_LIST_LIMIT + 1);
    loop {
        let mut item = Vec::new();
        let n = stdin
            .read_until(separator, &mut item)
            .map_err(|e| unreadable(format!("reading paths from stdin: {e}")))?;
        if n == 0 {
            break;
        }
        if stdin.limit() == 0 {
            return Err(unreadable(format!(
                "reading paths from stdin: more than {} MiB of paths",
                PATH_LIST_LIMIT / day2_core::input::MIB
            )));
        }
        if item.last() == Some(&separator) {
            item.pop();
        }
        if !nul && item.last() == Some(&b'\r') {
            item.pop();
        }
        if !item.is_empty() {
            paths.push(path_from_bytes(item));
        }
    }
    Ok(paths)
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_before_touching_the_disk() {
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a/..", "\\x"] {
            assert!(
                matches!(checked_key(bad), Err(Refusal::Escapes(_))),
                "{bad}"
            );
        }
        for good in ["a.js", "./a/b.js", "a..b/c.js"] {
            assert!(checked_key(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn keys_normalise_for_lookup() {
        assert_eq!(normalize_key("./a//b.js"), "a/b.js");
    }
}
