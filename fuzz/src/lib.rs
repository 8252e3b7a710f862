//! What every fuzz target shares: running a tool in-process the way its binary runs
//! (`day2_core::cli::main` hands it the process's arguments and streams; here they
//! are buffers), and the promises every tool makes, checked on each run:
//!
//! - it returns (a panic is a crash; libFuzzer's `-timeout` bounds the time and
//!   `-rss_limit_mb` the memory);
//! - stdout is JSON-lines day2 records of that tool, each non-pass with a reason
//!   and an object `data` (ARCHITECTURE.md, "Records");
//! - the exit code is at least as severe as every record (a `fail` or `error` never
//!   exits 0), and a run that exits 0 said what passed (at least one record: an
//!   empty list of answers is no pass, issue 18);
//! - exit 2 comes with a message on stderr, and nothing on stderr acts on a terminal
//!   (escape sequences, a bare CR, bidirectional controls from the input are shown
//!   escaped: `day2_core::text`).
//!
//! A broken promise panics with the reason, which libFuzzer reports as a crash.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use day2_core::record::{read_records, Record, RecordSink, Verdict};
use day2_core::text::escape_controls_keep_lines;
use day2_core::{Exit, Io};

/// A tool's library entry point (`<tool>::run`).
pub type Run = fn(Vec<OsString>, &mut Io<'_>) -> Exit;

/// What a tool run produced.
#[derive(Debug)]
pub struct Outcome {
    pub exit: Exit,
    pub records: Vec<Record>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Outcome {
    /// Whether `needle` occurs in stdout or stderr.
    pub fn shows(&self, needle: &[u8]) -> bool {
        let found =
            |hay: &[u8]| !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle);
        found(&self.stdout) || found(&self.stderr)
    }
}

/// Runs `run` with `args` (the first is the program name, as in `argv`) and `stdin`,
/// and checks the promises of the module docs. `tool` is the name its records carry.
pub fn tool(tool: &str, run: Run, args: Vec<OsString>, stdin: &[u8]) -> Outcome {
    let mut input = stdin;
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let exit = {
        let mut io = Io {
            stdin: &mut input,
            stdout: &mut stdout,
            stderr: &mut stderr,
            interactive: false,
        };
        run(args, &mut io)
    };
    let records = check_stream(tool, &stdout);
    let worst = records
        .iter()
        .map(|r| r.verdict.exit())
        .max()
        .unwrap_or(Exit::Ok);
    assert!(
        exit >= worst,
        "{tool} exits {} although a record says {worst:?}",
        exit.code()
    );
    if exit == Exit::Ok {
        assert!(
            !records.is_empty(),
            "{tool} exits 0 without a record: an empty list of answers is no pass"
        );
    }
    if exit == Exit::Usage {
        assert!(
            !stderr.is_empty(),
            "{tool} exits 2 without a word on stderr"
        );
    }
    let said = String::from_utf8_lossy(&stderr);
    assert!(
        matches!(escape_controls_keep_lines(&said), Cow::Borrowed(_)),
        "{tool} writes a terminal control character on stderr: {said:?}"
    );
    Outcome {
        exit,
        records,
        stdout,
        stderr,
    }
}

/// Reads `stdout` back as records of `tool` and checks each; panics when it is not.
pub fn check_stream(tool: &str, stdout: &[u8]) -> Vec<Record> {
    let records = read_records(&mut &stdout[..]).unwrap_or_else(|err| {
        panic!(
            "{tool}: stdout is not JSON-lines records: {err}\n{}",
            String::from_utf8_lossy(stdout)
        )
    });
    for record in &records {
        assert_eq!(record.tool, tool, "a record of another tool: {record:?}");
        assert!(
            record.verdict == Verdict::Pass || record.reason.is_some(),
            "a {} record without a reason: {record:?}",
            record.verdict.name()
        );
        assert!(record.data.is_object(), "data is not an object: {record:?}");
    }
    records
}

/// An argument vector from strings and paths alike.
pub fn argv(parts: &[&dyn AsRef<OsStr>]) -> Vec<OsString> {
    parts.iter().map(|p| p.as_ref().to_owned()).collect()
}

/// Writes records as the tool's sink does and reads them back with the checks of
/// [`check_stream`], for targets that call a library function rather than `run`.
pub fn emit(tool: &'static str, records: Vec<Record>) -> Vec<Record> {
    let mut out = Vec::new();
    {
        let mut sink = RecordSink::new(tool, &mut out);
        for record in records {
            sink.emit(record).expect("a Vec never closes");
        }
    }
    check_stream(tool, &out)
}

/// A directory of this process for the files a target hands a tool (under
/// `$TMPDIR`, which `cargo xtask fuzz` points at the fuzz build directory and
/// removes after the run).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("day2-fuzz-")
            .tempdir()
            .expect("a scratch directory");
        dir.keep()
    })
}

/// Writes `bytes` to `name` in [`scratch`] and returns its path.
pub fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("scratch directory");
    }
    let mut file = std::fs::File::create(&path).expect("scratch file");
    file.write_all(bytes).expect("scratch file written");
    path
}

/// Runs legacy-sampler's log mode over `log` on stdin, with `format` as
/// `--log-format` (`None`: nginx's `combined`). The gates are all on, so the run
/// goes through the quiet-window and ratio judgements as well as the counting;
/// malformed lines are tolerated so a mostly-garbled log still reaches them.
pub fn access_log(format: Option<&str>, log: &[u8]) -> Outcome {
    let mut args: Vec<String> = [
        "legacy-sampler",
        "--log",
        "-",
        "--until",
        "2026-11-29T12:00:00Z",
        "--quiet-for",
        "24h",
        "--max-legacy-ratio",
        "0.5",
        "--max-malformed-ratio",
        "1",
    ]
    .map(String::from)
    .to_vec();
    if let Some(format) = format {
        // `=`: a format starting with `-` is still the option's value.
        args.push(format!("--log-format={format}"));
    }
    let args = args.into_iter().map(OsString::from).collect();
    tool(legacy_sampler::TOOL, legacy_sampler::run, args, log)
}

/// A tunnel token of cloudflared's shape (base64 of `{"a":…,"t":…,"s":…}`), planted in
/// the seeds of tunnel-check's targets: wherever the fuzzer moves it, it is a token,
/// and tokens never appear in any output.
pub const CANARY_TOKEN: &str = "eyJhIjoiMDAwMGQ0ZDE0ZTg0YmQ0YWU1YTZhMDJlMDAwMGFjNjMiLCJ0IjoiZGY1ZWQ2MDgtYjhiNC00MTA5LTg5ZjMtOWYyY2YxOTlkZjY0IiwicyI6IlpHRjVNaTFtZFhwNkxXTmhibUZ5ZVMxMGRXNXVaV3d0YzJWamNtVjBJU0U9In0=";

/// The canary token's secret (`s`), also the `TunnelSecret` of the credentials seeds.
pub const CANARY_SECRET: &str = "ZGF5Mi1mdXp6LWNhbmFyeS10dW5uZWwtc2VjcmV0ISE=";

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Runs `tunnel-check ARGS` with `stdin`; `files` are the contents of the files the
/// arguments name. Besides the promises of every tool: when the input holds the
/// canary token, it appears in neither stdout nor stderr; nor does its secret, when
/// the whole input (a config and its credentials, a compose config) holds the token
/// or the secret as a credential — a stream (`connector`) cannot know that a bare
/// base64 string is a secret. And a panic the tool caught (`internal error`) is a
/// panic.
pub fn tunnel_check(args: &[&dyn AsRef<OsStr>], stdin: &[u8], files: &[&[u8]]) -> Outcome {
    let mut all = vec![OsString::from("tunnel-check")];
    all.extend(argv(args));
    let stream = all.get(1).is_some_and(|a| a == "connector");
    let run = tool(tunnel_check::TOOL, tunnel_check::run, all, stdin);
    // tunnel-check turns a panic into this message (and exit 1), so that the panic's
    // text goes through its redactor: for the fuzzer it is a panic all the same.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("internal error"), "{stderr}");
    let given = |needle: &str| contains(stdin, needle) || files.iter().any(|f| contains(f, needle));
    let mut forbidden = Vec::new();
    if given(CANARY_TOKEN) {
        forbidden.push(CANARY_TOKEN);
    }
    if !stream && given(CANARY_SECRET) && (given(CANARY_TOKEN) || !files.is_empty()) {
        forbidden.push(CANARY_SECRET);
    }
    for canary in forbidden {
        assert!(
            !run.shows(canary.as_bytes()),
            "the canary {canary} is shown:\n{}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    }
    run
}

/// A small site in [`scratch`] for sri-check: `app.js`, `css/site.css` and
/// `sri-manifest.json` listing both with their right hashes. Returns its root.
pub fn sri_site() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        use sri_check::sri::{Algo, AlgoSet};
        let files: [(&str, &[u8]); 2] = [
            ("site/app.js", b"console.log('day2');\n"),
            ("site/css/site.css", b"body { margin: 0 }\n"),
        ];
        let mut manifest = serde_json::Map::new();
        for (name, bytes) in files {
            file(name, bytes);
            let mut all = AlgoSet::of(Algo::Sha384);
            all.insert(Algo::Sha256);
            let (digests, _) =
                sri_check::hash::hash_reader(bytes, all, &mut [0; 4096]).expect("hashed");
            let key = name.trim_start_matches("site/");
            manifest.insert(
                key.into(),
                serde_json::json!({"sha384": digests.sri(Algo::Sha384)}),
            );
        }
        file(
            "site/sri-manifest.json",
            serde_json::to_string_pretty(&manifest).unwrap().as_bytes(),
        );
        scratch().join("site")
    })
}

/// Parses decoded `.wslconfig` text as WSL does and checks it as docker-doctor does:
/// every line named is a line of the text, and the records are valid.
pub fn check_wslconfig(text: &str) -> docker_doctor::wslconfig::Parsed {
    use docker_doctor::wslconfig::{self, Thresholds};
    // WSL's reader counts a lone CR as a line end too.
    let lines = 1 + text.matches(['\n', '\r']).count();
    let parsed = wslconfig::parse(text);
    for entry in &parsed.entries {
        assert!(
            (1..=lines).contains(&entry.line),
            "{entry:?} of {lines} lines"
        );
    }
    for skipped in &parsed.skipped {
        assert!(
            (1..=lines).contains(&skipped.line),
            "{skipped:?} of {lines} lines"
        );
    }
    let min = Thresholds {
        memory: 8 << 30,
        processors: 4,
        swap: 1 << 30,
    };
    let records = wslconfig::check(Path::new("/home/me/.wslconfig"), &parsed, min);
    emit(docker_doctor::TOOL, records);
    parsed
}
