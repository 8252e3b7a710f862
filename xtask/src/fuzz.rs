//! `cargo xtask fuzz [TARGET] [--time 60s]`: the fuzz targets of `fuzz/` (cargo-fuzz,
//! libFuzzer on the nightly toolchain), one after the other, each seeded from the
//! test fixtures its parser reads (the corpus cases of `../shared/corpus` among them,
//! copied into the crates' `tests/fixtures`) and from `fuzz/seeds/TARGET/`.
//!
//! libFuzzer's output of a target goes to `fuzz/logs/TARGET.log`; stdout gets one
//! `fuzz` record per target (executions, time, corpus size, the crash file if any)
//! and stderr one line. A crash (a panic, a broken promise, a timeout, memory past
//! the limit) is a failed check: exit 1, with the input saved in
//! `fuzz/artifacts/TARGET/` and libFuzzer's report printed.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use day2_core::bounded::{self, DAY, SECOND};
use day2_core::record::{Record, RecordSink};
use day2_core::{Exit, Io, Problem};
use serde_json::json;

use crate::TOOL;

/// Each target and the files that seed it (globs relative to the repository; every
/// target also takes `fuzz/seeds/TARGET/*`). The names are the `[[bin]]`s of
/// `fuzz/Cargo.toml`.
pub const TARGETS: &[(&str, &[&str])] = &[
    ("sri_manifest", &[]),
    ("sri_integrity", &[]),
    ("sri_html", &["sri-check/tests/fixtures/corpus/*/*.html"]),
    (
        "access_log_combined",
        &["legacy-sampler/tests/fixtures/corpus/normalised-uris.log"],
    ),
    ("access_log_default", &[]),
    (
        "access_log_json",
        &["legacy-sampler/tests/fixtures/corpus/escape-json.log"],
    ),
    ("access_log_none", &[]),
    ("log_format", &[]),
    ("nginx_conf", &[]),
    (
        "cloudflared_log",
        &[
            "tunnel-check/tests/fixtures/logs/*.log",
            "tunnel-check/tests/fixtures/logs/families/*.log",
            "tunnel-check/tests/fixtures/corpus/connector/*.log",
        ],
    ),
    (
        "cloudflared_log_json",
        &[
            "tunnel-check/tests/fixtures/logs/healthy_json.log",
            "tunnel-check/tests/fixtures/logs/families/json-*.log",
        ],
    ),
    (
        "cloudflared_config",
        &[
            "tunnel-check/tests/fixtures/config/*.yml",
            "tunnel-check/tests/fixtures/config/*/config.yml",
            "tunnel-check/tests/fixtures/cloudflared/*/config.yml",
            "tunnel-check/tests/fixtures/corpus/config/*/config.yml",
        ],
    ),
    (
        "cloudflared_credentials",
        &[
            "tunnel-check/tests/fixtures/config/*.json",
            "tunnel-check/tests/fixtures/config/*/*.json",
            "tunnel-check/tests/fixtures/cloudflared/*/*.json",
            "tunnel-check/tests/fixtures/corpus/config/*/*.json",
        ],
    ),
    (
        "compose_yaml",
        &[
            "tunnel-check/tests/fixtures/compose/*.yml",
            "tunnel-check/tests/fixtures/corpus/compose/*/*.yml",
            "xtask/tests/fixtures/start-prod/docker-compose.yml",
        ],
    ),
    (
        "compose_json",
        &["tunnel-check/tests/fixtures/compose/*.json"],
    ),
    (
        "wslconfig_utf8",
        &["docker-doctor/tests/fixtures/corpus/wslconfig/*.wslconfig"],
    ),
    ("wslconfig_utf16", &[]),
    (
        "status_summary",
        &["xtask/tests/fixtures/start-prod/backend/summaries/*.json"],
    ),
    ("status_ready", &[]),
    (
        "changelog",
        &[
            "status-probe/tests/fixtures/changelog/*.md",
            "status-probe/tests/fixtures/corpus/changelog/*.md",
        ],
    ),
    ("prune_plan", &[]),
    ("record_stream", &[]),
];

/// The longest one input may take, in seconds (libFuzzer's `-timeout`): every
/// parser promises bounded time, and the sanitizer makes code a few times slower.
const INPUT_TIMEOUT_S: u64 = 10;

/// Memory one run may hold (libFuzzer's `-rss_limit_mb`, which also caps one
/// allocation): per-input state is bounded.
const RSS_LIMIT_MB: u64 = 2048;

/// Time a run may take beyond `--time` (start-up, reading the corpus, the final
/// merge) before it is stopped as hung.
const GRACE: Duration = Duration::from_secs(300);

/// Run the fuzz targets of fuzz/ (cargo-fuzz, nightly), one at a time.
#[derive(Debug, clap::Args)]
pub struct FuzzArgs {
    /// The target to run [default: every target, one after the other].
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
    /// How long each target runs (e.g. 20s, 10m).
    #[arg(long, value_parser = bounded::duration(SECOND, DAY), default_value = "60s", value_name = "DURATION")]
    pub time: Duration,
    /// cargo-fuzz's sanitizer (address, leak, memory, thread, none). `none` builds
    /// faster and runs faster, for a smoke run: the code is safe Rust, so what is
    /// found without AddressSanitizer is what matters most (panics, hangs, memory).
    #[arg(long, default_value = "address", value_name = "NAME")]
    pub sanitizer: String,
    /// Build without optimizations (cargo-fuzz's `--dev`): a few minutes instead of
    /// a quarter of an hour from scratch, for CI's smoke run, at a fraction of the
    /// executions per second.
    #[arg(long)]
    pub dev: bool,
    /// List the targets and exit.
    #[arg(long)]
    pub list: bool,
    /// Further libFuzzer flags (after `--`), e.g. `-- -max_len=65536`.
    #[arg(last = true, value_name = "FLAGS")]
    pub libfuzzer: Vec<String>,
}

/// The repository root.
fn root() -> PathBuf {
    xtask_setup::workspace_root()
}

/// A stable name for a seed: its content's hash, so the same seed is copied once.
fn seed_name(bytes: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    format!("seed-{:016x}", hasher.finish())
}

/// The seed files of a target: its fixtures and `fuzz/seeds/TARGET/*`.
pub fn seeds(root: &Path, target: &str, fixtures: &[&str]) -> Vec<PathBuf> {
    let own = format!("fuzz/seeds/{target}/*");
    let mut files = Vec::new();
    for pattern in fixtures.iter().copied().chain([own.as_str()]) {
        let full = root.join(pattern);
        if let Ok(paths) = glob::glob(&full.to_string_lossy()) {
            files.extend(paths.filter_map(Result::ok).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

/// Copies the seeds into the target's corpus directory (cargo-fuzz's default,
/// `fuzz/corpus/TARGET`); returns how many files the corpus holds.
fn seed_corpus(root: &Path, target: &str, fixtures: &[&str]) -> std::io::Result<usize> {
    let corpus = root.join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    for seed in seeds(root, target, fixtures) {
        let bytes = std::fs::read(&seed)?;
        let path = corpus.join(seed_name(&bytes));
        if !path.exists() {
            std::fs::write(path, bytes)?;
        }
    }
    Ok(std::fs::read_dir(&corpus)?.count())
}

/// The `cargo +nightly fuzz …` command, run at the repository root, without the
/// variables `cargo run` set for this process (`CARGO_PKG_NAME`, …): build scripts
/// that watch them (ring's) would rebuild whenever it is started otherwise.
fn cargo_fuzz(root: &Path) -> Command {
    let mut command = Command::new("cargo");
    command
        .current_dir(root)
        .args(["+nightly", "fuzz"])
        .stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo_run = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || matches!(
                name.as_ref(),
                "CARGO"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "OUT_DIR"
                    | "RUSTUP_TOOLCHAIN"
            );
        if set_by_cargo_run {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// What libFuzzer's final statistics and report say.
#[derive(Debug, Default, PartialEq)]
pub struct Stats {
    pub executions: Option<u64>,
    pub exec_per_s: Option<u64>,
    pub peak_rss_mb: Option<u64>,
    /// The file the crashing input was written to.
    pub crash: Option<String>,
    /// libFuzzer's one-line diagnosis (`ERROR: libFuzzer: deadly signal`, `timeout`).
    pub error: Option<String>,
}

/// Reads libFuzzer's output: `-print_final_stats=1` lines (`stat::name: value`),
/// `Test unit written to PATH` and the first `==PID== ERROR:` line of a crash
/// (libFuzzer's or a sanitizer's).
pub fn parse_stats(log: &str) -> Stats {
    let mut stats = Stats::default();
    for line in log.lines() {
        let line = line.trim();
        if let Some((name, value)) = line
            .strip_prefix("stat::")
            .and_then(|rest| rest.split_once(':'))
        {
            let value = value.trim().parse::<u64>().ok();
            match name {
                "number_of_executed_units" => stats.executions = value,
                "average_exec_per_sec" => stats.exec_per_s = value,
                "peak_rss_mb" => stats.peak_rss_mb = value,
                _ => {}
            }
        } else if let Some(at) = line.find("Test unit written to ") {
            let path = &line[at + "Test unit written to ".len()..];
            stats.crash = Some(path.trim().to_owned());
        } else if let Some(at) = line.find("ERROR: ").filter(|_| line.starts_with("==")) {
            // `==PID== ERROR: libFuzzer: deadly signal`, `==PID==ERROR: LeakSanitizer: …`
            stats.error.get_or_insert_with(|| line[at + 7..].to_owned());
        }
    }
    stats
}

/// Runs one target for `time`, libFuzzer's output into `log`. `Err` when it could
/// not be run at all.
fn run_target(
    root: &Path,
    args: &FuzzArgs,
    target: &str,
    log: &Path,
) -> Result<(bool, Stats, Duration), Problem> {
    // Built before the clock starts (a no-op unless a source changed since the
    // build of every target at the start).
    build(root, Some(target), args)?;
    let scratch = root.join("fuzz/target/scratch").join(target);
    let io_error = |what: &Path, e: std::io::Error| {
        Problem::new("io_error", format!("{}: {e}", what.display()))
    };
    std::fs::create_dir_all(&scratch).map_err(|e| io_error(&scratch, e))?;
    let file = std::fs::File::create(log).map_err(|e| io_error(log, e))?;
    let copy = file.try_clone().map_err(|e| io_error(log, e))?;
    let mut command = cargo_fuzz(root);
    command
        .args(["run", target, "--sanitizer", &args.sanitizer])
        .args(args.dev.then_some("--dev"))
        .arg("--")
        .arg(format!("-max_total_time={}", args.time.as_secs().max(1)))
        .arg(format!("-timeout={INPUT_TIMEOUT_S}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg("-print_final_stats=1")
        .args(&args.libfuzzer)
        // The files a target hands a tool go here, and go when the run ends.
        .env("TMPDIR", &scratch)
        .env("LSAN_OPTIONS", lsan_options(root))
        .stdout(copy)
        .stderr(file);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| Problem::new("tool_unavailable", format!("cannot run cargo fuzz: {e}")))?;
    let deadline = started + args.time + GRACE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&scratch);
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut stats = parse_stats(&text);
    let ok = match status {
        Some(status) => status.success(),
        None => {
            stats.error = Some(format!(
                "still running {} s after --time ended: stopped",
                GRACE.as_secs()
            ));
            false
        }
    };
    Ok((ok, stats, elapsed))
}

/// LeakSanitizer's options with `fuzz/lsan.supp` (false positives, each explained
/// there), after any the user set.
fn lsan_options(root: &Path) -> String {
    let suppressions = format!("suppressions={}", root.join("fuzz/lsan.supp").display());
    match std::env::var("LSAN_OPTIONS") {
        Ok(options) if !options.is_empty() => format!("{options}:{suppressions}"),
        _ => suppressions,
    }
}

/// `cargo fuzz build [TARGET]` with the sanitizer and profile asked for. Errors:
/// `build_failed`, `tool_unavailable` (no cargo-fuzz or nightly).
fn build(root: &Path, target: Option<&str>, args: &FuzzArgs) -> Result<(), Problem> {
    let mut command = cargo_fuzz(root);
    command.args(["build", "--sanitizer", &args.sanitizer]);
    command.args(args.dev.then_some("--dev"));
    command.args(target);
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(Problem::new(
            "build_failed",
            format!("cargo fuzz build failed ({status})"),
        )),
        Err(err) => Err(Problem::new(
            "tool_unavailable",
            format!("cannot run cargo +nightly fuzz: {err}"),
        )),
    }
}

/// The last lines of libFuzzer's output, for the person reading stderr.
fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub fn run(args: &FuzzArgs, io: &mut Io<'_>) -> Exit {
    let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    if args.list {
        let mut out = String::new();
        for name in &names {
            out.push_str(name);
            out.push('\n');
        }
        let _ = std::io::Write::write_all(io.stdout, out.as_bytes());
        return Exit::Ok;
    }
    let selected: Vec<&(&str, &[&str])> = match &args.target {
        Some(target) => match TARGETS.iter().find(|(name, _)| name == target) {
            Some(found) => vec![found],
            None => {
                io.error(
                    TOOL,
                    format!(
                        "no fuzz target {target:?}; the targets: {}",
                        names.join(" ")
                    ),
                );
                return Exit::Usage;
            }
        },
        None => TARGETS.iter().collect(),
    };
    if let Err(message) = xtask_setup::check(&[xtask_setup::Purpose::Fuzz]) {
        io.error(TOOL, message);
        return Exit::Usage;
    }
    let root = root();
    // One build for all first: a target that does not compile stops the run here.
    if let Err(message) = build(&root, args.target.as_deref(), args) {
        io.error(TOOL, message);
        return Exit::Usage;
    }
    let logs = root.join("fuzz/logs");
    if let Err(err) = std::fs::create_dir_all(&logs) {
        io.error(TOOL, format!("cannot create {}: {err}", logs.display()));
        return Exit::Usage;
    }
    let mut sink = RecordSink::new(TOOL, io.stdout);
    let mut outcome = Exit::Ok;
    for (index, (target, fixtures)) in selected.iter().enumerate() {
        let corpus = match seed_corpus(&root, target, fixtures) {
            Ok(count) => count,
            Err(err) => {
                let _ = writeln_err(io.stderr, &format!("cannot seed {target}: {err}"));
                outcome = outcome.merge(Exit::Usage);
                continue;
            }
        };
        if io.interactive {
            let _ = writeln_err(
                io.stderr,
                &format!(
                    "fuzzing {target} ({}/{}) for {} s…",
                    index + 1,
                    selected.len(),
                    args.time.as_secs()
                ),
            );
        }
        let log = logs.join(format!("{target}.log"));
        let (ok, stats, elapsed) = match run_target(&root, args, target, &log) {
            Ok(result) => result,
            Err(message) => {
                let _ = writeln_err(io.stderr, &format!("{target}: {message}"));
                outcome = outcome.merge(Exit::Usage);
                continue;
            }
        };
        let data = json!({
            "executions": stats.executions,
            "exec_per_s": stats.exec_per_s,
            "seconds": elapsed.as_secs(),
            "corpus_at_start": corpus,
            "peak_rss_mb": stats.peak_rss_mb,
            "crash": stats.crash,
            "log": log,
        });
        let record = if ok {
            let _ = writeln_err(
                io.stderr,
                &format!(
                    "{target}: no crash in {} executions ({} s)",
                    stats.executions.unwrap_or(0),
                    elapsed.as_secs()
                ),
            );
            Record::pass("fuzz", target)
        } else {
            let what = stats
                .error
                .clone()
                .unwrap_or_else(|| "cargo fuzz failed".into());
            let _ = writeln_err(
                io.stderr,
                &format!(
                    "{target}: {what}; input: {}; report ({}):\n{}",
                    stats.crash.as_deref().unwrap_or("none"),
                    log.display(),
                    tail(&log, 40)
                ),
            );
            Record::fail("fuzz", target, "crash").message(what)
        };
        if sink.emit(record.duration(elapsed).data(data)).is_err() {
            return sink.exit();
        }
    }
    outcome.merge(sink.exit())
}

fn writeln_err(out: &mut dyn std::io::Write, line: &str) -> std::io::Result<()> {
    writeln!(out, "{TOOL}: {line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_every_target_of_the_fuzz_crate() {
        let root = root();
        let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
        let bins: Vec<&str> = manifest
            .split("[[bin]]")
            .skip(1)
            .filter_map(|section| {
                let line = section.lines().find(|l| l.starts_with("name = "))?;
                Some(line.trim_start_matches("name = ").trim_matches('"'))
            })
            .collect();
        let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
        assert_eq!(bins, names);
        for (name, fixtures) in TARGETS {
            assert!(
                root.join(format!("fuzz/fuzz_targets/{name}.rs")).is_file(),
                "{name}"
            );
            // Every pattern finds its fixtures, and every target starts with seeds.
            for pattern in *fixtures {
                assert!(
                    !seeds(&root, "-", &[pattern]).is_empty(),
                    "{name}: {pattern} matches nothing"
                );
            }
            assert!(!seeds(&root, name, fixtures).is_empty(), "{name}: no seeds");
        }
    }

    #[test]
    fn libfuzzer_statistics_and_crashes_are_read() {
        let finished = "#1048576\tDONE   cov: 1779 ft: 6870 corp: 693/87Kb lim: 4096 exec/s: 17476 rss: 402Mb\n\
            Done 1048576 runs in 60 second(s)\n\
            stat::number_of_executed_units: 1048576\n\
            stat::average_exec_per_sec:     17476\n\
            stat::new_units_added:          81\n\
            stat::slowest_unit_time_sec:    0\n\
            stat::peak_rss_mb:              402\n";
        assert_eq!(
            parse_stats(finished),
            Stats {
                executions: Some(1_048_576),
                exec_per_s: Some(17476),
                peak_rss_mb: Some(402),
                crash: None,
                error: None,
            }
        );
        let crashed = "thread '<unnamed>' panicked at fuzz_targets/x.rs:9:5:\n\
            ==8712== ERROR: libFuzzer: deadly signal\n\
            MS: 2 ChangeByte-InsertRepeatedBytes-; base unit: 0000\n\
            artifact_prefix='/r/fuzz/artifacts/x/'; Test unit written to /r/fuzz/artifacts/x/crash-5a1b\n\
            stat::number_of_executed_units: 977\n";
        let stats = parse_stats(crashed);
        assert_eq!(
            stats.crash.as_deref(),
            Some("/r/fuzz/artifacts/x/crash-5a1b")
        );
        assert_eq!(stats.error.as_deref(), Some("libFuzzer: deadly signal"));
        assert_eq!(stats.executions, Some(977));
        let leaked = "==5054==ERROR: LeakSanitizer: detected memory leaks\n\
            Direct leak of 32 byte(s) in 1 object(s) allocated from:\n\
            artifact_prefix='/r/fuzz/artifacts/y/'; Test unit written to /r/fuzz/artifacts/y/leak-36a8\n";
        let stats = parse_stats(leaked);
        assert_eq!(
            stats.error.as_deref(),
            Some("LeakSanitizer: detected memory leaks")
        );
        assert_eq!(
            stats.crash.as_deref(),
            Some("/r/fuzz/artifacts/y/leak-36a8")
        );
    }
}
