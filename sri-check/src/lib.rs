//! sri-check: verifies and generates the SRI manifest (`sri-manifest.json`) and
//! checks the `integrity` attributes of HTML pages against the files on disk, offline.
//!
//! Subcommands: `verify` (the default, the reference checker's contract), `generate`
//! (the reference generator's bytes, with `--check` for CI) and `html`. Modules:
//! [`sri`] parses SRI strings, [`hash`] reads and hashes files in parallel,
//! [`paths`] confines every entry to the root, [`manifest`] reads and writes the
//! manifest, [`scan`] finds the tags in HTML, and [`verify`], [`generate`], [`html`]
//! are the subcommands.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use day2_core::{bounded, cli, exit::EXIT_CODES_HELP, Exit, Io, Record};

pub mod generate;
pub mod hash;
pub mod html;
pub mod manifest;
pub mod paths;
pub mod scan;
pub mod sri;
pub mod verify;

/// The name stamped on every record this tool writes.
pub const TOOL: &str = "sri-check";

/// The manifest's file name, in the working directory unless `--manifest` says otherwise.
pub const DEFAULT_MANIFEST: &str = "sri-manifest.json";

/// The largest manifest read: 64 MiB (about half a million entries).
pub const MANIFEST_LIMIT: u64 = 64 * day2_core::input::MIB;

/// `--jobs`: from 1 to 1024 files hashed at once.
const JOBS: bounded::CountRange<usize> = bounded::count(1, 1024);

/// Verifies and generates the SRI manifest and checks the integrity attributes of HTML pages.
///
/// Without a subcommand it verifies `sri-manifest.json` in the current directory, as
/// `node scripts/check-integrity.mjs` does: exit 0 clean, 1 on drift or a missing file,
/// 2 when the manifest cannot be read or parsed.
#[derive(Debug, clap::Parser)]
#[command(name = TOOL, version, after_help = EXIT_CODES_HELP, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Recompute every manifest entry and compare it with the file (the default).
    Verify(VerifyArgs),
    /// Write the manifest for the given files, or check that it is up to date.
    Generate(GenerateArgs),
    /// Check the integrity attributes of script and link tags in HTML pages.
    Html(HtmlArgs),
}

/// Options of `verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The manifest to verify.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_MANIFEST)]
    pub manifest: PathBuf,
    /// Directory the manifest's paths are relative to [default: the manifest's directory].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Files hashed at once [default: one per core].
    #[arg(long, short, value_name = "N", value_parser = JOBS)]
    pub jobs: Option<usize>,
}

/// Options of `generate`.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Files or globs (quoted, `**` crosses directories) to list, or `-` to read paths
    /// from stdin. Without any, the manifest's existing entries are re-hashed.
    #[arg(value_name = "PATH")]
    pub paths: Vec<OsString>,
    /// The manifest to write.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_MANIFEST)]
    pub manifest: PathBuf,
    /// Directory the keys are relative to [default: the manifest's directory].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Keep the manifest's entries and add or refresh the given files (implied without PATHs).
    #[arg(long)]
    pub update: bool,
    /// Write nothing; exit 1 if the manifest on disk would change, naming the entries.
    #[arg(long)]
    pub check: bool,
    /// Hash algorithm of the entries written.
    #[arg(long, value_enum, default_value = "sha384")]
    pub algo: AlgoArg,
    /// Paths on stdin are separated by NUL (find -print0, git ls-files -z).
    #[arg(short = '0', long)]
    pub null: bool,
    /// Files hashed at once [default: one per core].
    #[arg(long, short, value_name = "N", value_parser = JOBS)]
    pub jobs: Option<usize>,
}

/// Options of `html`.
#[derive(Debug, Clone, clap::Args)]
pub struct HtmlArgs {
    /// HTML files or globs (e.g. '**/*.html'), or `-` to read paths from stdin.
    #[arg(value_name = "PAGE", required = true)]
    pub pages: Vec<OsString>,
    /// Site root that URLs resolve against (`/js/app.js` is `<root>/js/app.js`)
    /// [default: the manifest's directory if --manifest is given, else the current directory].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Manifest to compare the attributes with [default: <root>/sri-manifest.json if it exists].
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Do not compare with any manifest.
    #[arg(long, conflicts_with = "manifest")]
    pub no_manifest: bool,
    /// Paths on stdin are separated by NUL.
    #[arg(short = '0', long)]
    pub null: bool,
    /// Files hashed at once [default: one per core].
    #[arg(long, short, value_name = "N", value_parser = JOBS)]
    pub jobs: Option<usize>,
}

/// The algorithms `generate` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AlgoArg {
    Sha256,
    Sha384,
    Sha512,
}

impl From<AlgoArg> for sri::Algo {
    fn from(a: AlgoArg) -> sri::Algo {
        match a {
            AlgoArg::Sha256 => sri::Algo::Sha256,
            AlgoArg::Sha384 => sri::Algo::Sha384,
            AlgoArg::Sha512 => sri::Algo::Sha512,
        }
    }
}

/// Runs the tool with the given arguments (the first is the program name).
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> Exit {
    let args: Args = match cli::parse_args(args, io) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    match args.command {
        None => verify::run(&args.verify, io),
        Some(Command::Verify(a)) => verify::run(&a, io),
        Some(Command::Generate(a)) => generate::run(&a, io),
        Some(Command::Html(a)) => html::run(&a, io),
    }
}

/// The root for a manifest: `--root`, else the manifest's own directory.
fn root_dir(root: Option<&Path>, manifest: &Path) -> PathBuf {
    match root {
        Some(dir) => dir.to_path_buf(),
        None => match manifest.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        },
    }
}

/// The record for a file that was refused or could not be read.
fn refusal_record(check: &str, target: &str, refusal: &paths::Refusal) -> Record {
    let reason = refusal.reason();
    let record = if refusal.is_error() {
        Record::error(check, target, reason)
    } else {
        Record::fail(check, target, reason)
    };
    record.message(format!("{target}: {}", refusal.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argument_definitions_are_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn the_root_defaults_to_the_manifests_directory() {
        assert_eq!(
            root_dir(None, Path::new("sri-manifest.json")),
            PathBuf::from(".")
        );
        assert_eq!(
            root_dir(None, Path::new("site/m.json")),
            PathBuf::from("site")
        );
        assert_eq!(
            root_dir(Some(Path::new("r")), Path::new("site/m.json")),
            PathBuf::from("r")
        );
    }
}
