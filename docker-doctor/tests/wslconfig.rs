//! `.wslconfig` checks, read as WSL reads the file (microsoft/WSL
//! src/shared/configfile/configfile.cpp): good, missing keys, bad values, below
//! thresholds, lines and keys WSL skips, and encodings WSL cannot read (a
//! line-numbered usage error). Each family case names the WSL rule it checks.
//! No daemon is involved.

mod common;

use std::path::Path;

use common::{doctor, Run};
use day2_core::Verdict;

fn check(path: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "--checks",
        "wslconfig",
        "--wslconfig",
        path.to_str().unwrap(),
    ];
    args.extend(extra);
    doctor(&args, &[])
}

fn file(content: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), content).unwrap();
    file
}

fn outcome(run: &Run, key: &str) -> (Verdict, Option<String>) {
    let record = run.one(&format!("wslconfig.{key}"), None);
    (record.verdict, record.reason.clone())
}

#[test]
fn the_guides_budget_passes() {
    let f = file(b"# WSL budget\r\n[wsl2]\r\nmemory=10GB\r\nprocessors=6\r\nswap=2GB\r\nlocalhostForwarding=true\r\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.records.len(), 3, "{run}");
    for key in ["memory", "processors", "swap"] {
        assert_eq!(outcome(&run, key), (Verdict::Pass, None), "{run}");
    }
    let memory = run.one("wslconfig.memory", None);
    assert_eq!(memory.data["parsed"], 10u64 * 1024 * 1024 * 1024);
    assert_eq!(memory.data["line"], 3);
    assert_eq!(memory.target, f.path().display().to_string());
}

#[test]
fn a_notepad_utf16_file_reads_the_same() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(
        "[wsl2]\r\nmemory=12GB\r\nprocessors=4\r\nswap=1GB\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let f = file(&bytes);
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.one("wslconfig.processors", None).data["parsed"], 4);
}

#[test]
fn missing_keys_are_warnings_naming_wsls_default() {
    let f = file(b"[wsl2]\nmemory=16GB\n\n[experimental]\nsparseVhd=true\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(outcome(&run, "memory"), (Verdict::Pass, None));
    assert_eq!(
        outcome(&run, "processors"),
        (Verdict::Warn, Some("missing_key".into()))
    );
    assert_eq!(
        outcome(&run, "swap"),
        (Verdict::Warn, Some("missing_key".into()))
    );
    let swap = run
        .one("wslconfig.swap", None)
        .message
        .clone()
        .unwrap_or_default();
    assert!(swap.contains("25%"), "{swap}");
}

#[test]
fn bad_values_fail_with_their_line() {
    let f = file(b"[wsl2]\nmemory=lots\nprocessors=four\nswap=2XB\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 1, "{run}");
    for (key, line) in [("memory", 2), ("processors", 3), ("swap", 4)] {
        assert_eq!(
            outcome(&run, key),
            (Verdict::Fail, Some("bad_value".into())),
            "{run}"
        );
        let record = run.one(&format!("wslconfig.{key}"), None);
        assert_eq!(record.data["line"], line);
        let message = record.message.as_deref().unwrap_or_default();
        assert!(message.starts_with(&format!("line {line}:")), "{run}");
        assert!(message.contains("WSL ignores it"), "{run}");
    }
}

#[test]
fn values_under_the_thresholds_fail() {
    let f = file(b"[wsl2]\nmemory=4GB\nprocessors=2\nswap=512MB\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        outcome(&run, "memory"),
        (Verdict::Fail, Some("below_threshold".into()))
    );
    assert_eq!(outcome(&run, "processors"), (Verdict::Pass, None));
    assert_eq!(
        outcome(&run, "swap"),
        (Verdict::Fail, Some("below_threshold".into()))
    );
    // The thresholds are the caller's.
    let lenient = check(
        f.path(),
        &["--wsl-min-memory", "4GB", "--wsl-min-swap", "0"],
    );
    assert_eq!(lenient.code, 0, "{lenient}");
    let strict = check(
        f.path(),
        &[
            "--wsl-min-processors",
            "8",
            "--wsl-min-memory",
            "1GB",
            "--wsl-min-swap",
            "0",
        ],
    );
    assert_eq!(
        outcome(&strict, "processors"),
        (Verdict::Fail, Some("below_threshold".into()))
    );
}

/// `Initialize` in microsoft/WSL src/windows/common/WslCoreConfig.cpp: `swap=0`
/// is no swap at all (and WSL's own test accepts `swap=0GB` without a warning),
/// not a size below some minimum.
#[test]
fn swap_zero_means_no_swap() {
    for value in ["0", "0GB", "0B"] {
        let f = file(format!("[wsl2]\nmemory=8GB\nprocessors=4\nswap={value}\n").as_bytes());
        let run = check(f.path(), &[]);
        assert_eq!(run.code, 1, "{run}");
        assert_eq!(
            outcome(&run, "swap"),
            (Verdict::Fail, Some("no_swap".into())),
            "{run}"
        );
        let swap = run.one("wslconfig.swap", None);
        let message = swap.message.as_deref().unwrap_or_default();
        assert!(message.contains("turns swap off"), "{run}");
        assert!(!message.contains("below"), "{run}");
        assert_eq!(swap.data["effective"], 0);
        // Asked for no minimum, no swap is fine.
        let run = check(f.path(), &["--wsl-min-swap", "0"]);
        assert_eq!(run.code, 0, "{run}");
        assert_eq!(outcome(&run, "swap"), (Verdict::Pass, None), "{run}");
    }
}

/// `Initialize`: memory 0 is 50% of the host's RAM, processors 0 or less is every
/// logical processor, memory below 256 MB is raised to 256 MB.
#[test]
fn zero_memory_and_processors_mean_wsls_default() {
    let f = file(b"[wsl2]\nmemory=0\nprocessors=-1\nswap=2GB\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 0, "{run}");
    for key in ["memory", "processors"] {
        assert_eq!(
            outcome(&run, key),
            (Verdict::Warn, Some("means_default".into())),
            "{run}"
        );
    }
    let memory = run.one("wslconfig.memory", None);
    assert!(memory
        .message
        .as_deref()
        .unwrap_or_default()
        .contains("50%"));
    let f = file(b"[wsl2]\nmemory=100MB\nprocessors=2\nswap=2GB\n");
    let run = check(f.path(), &["--wsl-min-memory", "200MB"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.one("wslconfig.memory", None).data["effective"],
        256u64 << 20
    );
}

/// The corpus case: WSL ends a value at an unquoted `#` (configfile.cpp, value
/// loop, `case '#'`), so memory 8 GB, 4 processors, swap 4 GB are all read.
#[test]
fn corpus_inline_comments() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/wslconfig/inline-comments.wslconfig");
    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let expect = |run: &Run| {
        assert_eq!(run.code, 0, "{run}");
        assert_eq!(run.records.len(), 3, "{run}");
        for (key, parsed) in [
            ("memory", 8u64 << 30),
            ("processors", 4),
            ("swap", 4u64 << 30),
        ] {
            assert_eq!(outcome(run, key), (Verdict::Pass, None), "{run}");
            assert_eq!(
                run.one(&format!("wslconfig.{key}"), None).data["parsed"],
                parsed
            );
        }
    };
    expect(&check(&path, &[]));
    // The same file as Windows PowerShell 5.1 writes it: `Out-File`/`>` default to
    // UTF-16 LE with a BOM and CRLF; `-Encoding UTF8` writes a UTF-8 BOM.
    let crlf = text.replace('\n', "\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(crlf.encode_utf16().flat_map(u16::to_le_bytes));
    expect(&check(file(&utf16).path(), &[]));
    let utf8_bom = [&[0xEF, 0xBB, 0xBF][..], crlf.as_bytes()].concat();
    expect(&check(file(&utf8_bom).path(), &[]));
}

/// configfile.cpp, value loop: `"` toggles quoting and `#` inside quotes is text;
/// only `#` is a comment, so `;` stays in the value (WSL then rejects the size).
#[test]
fn quotes_keep_a_hash_and_a_semicolon_is_text() {
    let f =
        file(b"[wsl2]\nmemory=\"8GB\"   # quoted\nprocessors = 4 ; four\nswap=\"4GB # four\"\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(outcome(&run, "memory"), (Verdict::Pass, None), "{run}");
    let processors = run.one("wslconfig.processors", None);
    assert_eq!(processors.reason.as_deref(), Some("bad_value"), "{run}");
    assert_eq!(processors.data["value"], "4 ; four");
    let swap = run.one("wslconfig.swap", None);
    assert_eq!(swap.reason.as_deref(), Some("bad_value"), "{run}");
    assert_eq!(swap.data["value"], "4GB # four");
}

/// stringshared.h `ParseMemorySize`: a whole number, then nothing or exactly B,
/// K, KB, M, MB, G, GB, T, TB in capitals. Lower case, spaces, decimals and
/// `GiB` are "Invalid memory string" to WSL.
#[test]
fn sizes_follow_wsls_memory_string_syntax() {
    for (value, parsed) in [
        ("8GB", Some(8u64 << 30)),
        ("8G", Some(8u64 << 30)),
        ("8192MB", Some(8u64 << 30)),
        ("8589934592", Some(8u64 << 30)),
        ("8gb", None),
        ("8 GB", None),
        ("8GiB", None),
        ("7.5GB", None),
    ] {
        let f = file(format!("[wsl2]\nmemory={value}\nprocessors=4\nswap=1GB\n").as_bytes());
        let run = check(f.path(), &[]);
        let memory = run.one("wslconfig.memory", None);
        match parsed {
            Some(bytes) => {
                assert_eq!(run.code, 0, "{value}: {run}");
                assert_eq!(memory.data["parsed"], bytes, "{value}");
            }
            None => {
                assert_eq!(run.code, 1, "{value}: {run}");
                assert_eq!(
                    memory.reason.as_deref(),
                    Some("bad_value"),
                    "{value}: {run}"
                );
            }
        }
    }
}

/// configfile.cpp: keys are looked up as `section.key`; under an unknown section
/// WSL warns "Unknown key 'ws12.memory'" and ignores it, so [wsl2] memory is not
/// set although the file tries to set it.
#[test]
fn a_key_under_a_misspelled_section_is_named_with_its_section() {
    let f = file(b"[ws12]\nmemory=16GB\nprocessors=8\nswap=4GB\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 1, "{run}");
    for key in ["memory", "processors", "swap"] {
        let record = run.one(&format!("wslconfig.{key}"), None);
        assert_eq!(record.reason.as_deref(), Some("not_read"), "{run}");
        assert!(
            record
                .message
                .as_deref()
                .unwrap_or_default()
                .contains("[ws12]"),
            "{run}"
        );
        assert_eq!(record.data["name"], format!("ws12.{key}"));
    }
    let lines = run.all("wslconfig.line");
    assert_eq!(lines.len(), 3, "{run}");
    assert_eq!(lines[0].reason.as_deref(), Some("unknown_key"));
    assert_eq!(lines[0].data["name"], "ws12.memory");
    assert_eq!(lines[0].data["line"], 2);
    let message = lines[0].message.as_deref().unwrap_or_default();
    assert!(
        message.contains("\"ws12.memory\"") && message.contains("[wsl2]"),
        "{run}"
    );
}

/// configfile.cpp ParseSection: after `]` only spaces and a `#` comment; `[wsl2] ;
/// budget` is skipped ("Expected ' ' or '\\n'") and no section is in force, so the
/// keys below it are unknown. `[wsl2] # budget` is fine. Section names compare
/// case-insensitively (strcasecmp).
#[test]
fn text_after_a_section_header() {
    let f = file(b"[WSL2] # budget\nMemory=8GB\nPROCESSORS=4\nswap=2GB\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.records.len(), 3, "{run}");
    let f = file(b"[wsl2] ; budget\nmemory=8GB\nprocessors=4\nswap=2GB\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        run.reason("wslconfig.memory", None).as_deref(),
        Some("not_read")
    );
    let lines = run.all("wslconfig.line");
    assert_eq!(lines[0].reason.as_deref(), Some("ignored_line"), "{run}");
    assert_eq!(lines[0].data["line"], 1);
    assert!(lines[0]
        .message
        .as_deref()
        .unwrap_or_default()
        .contains("Expected ' '"));
}

/// ConfigKey::Parse: the first occurrence of a setting wins, even when its value
/// is invalid; later ones get "Duplicated config key" and are ignored.
#[test]
fn the_first_of_duplicate_keys_wins() {
    let f = file(b"[wsl2]\nmemory=4GB\nprocessors=4\nswap=2GB\nMEMORY=16GB\n");
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 1, "{run}");
    let memory = run.one("wslconfig.memory", None);
    assert_eq!(memory.reason.as_deref(), Some("below_threshold"), "{run}");
    assert_eq!(memory.data["line"], 2);
    let duplicate = run.one("wslconfig.line", None);
    assert_eq!(duplicate.reason.as_deref(), Some("duplicate_key"));
    assert_eq!(duplicate.data["line"], 5);
    assert_eq!(duplicate.data["first_line"], 2);
    let f = file(b"[wsl2]\nmemory=lots\nmemory=16GB\nprocessors=4\nswap=2GB\n");
    let run = check(f.path(), &[]);
    assert_eq!(
        run.reason("wslconfig.memory", None).as_deref(),
        Some("bad_value"),
        "{run}"
    );
}

/// configfile.cpp InvalidLine with CFG_SKIP_INVALID_LINES (WslCoreConfig.cpp):
/// WSL warns and skips a line it cannot read, and reads the rest. A skipped line
/// that would have set a budget key makes that key `not_read`.
#[test]
fn lines_wsl_skips_are_warnings_naming_the_line() {
    let f = file(
        b"; my budget\n[wsl2]\nmemory=10GB\nprocessors 6\nswap=2GB\nkernel=C:\\temp\\kernel\n",
    );
    let run = check(f.path(), &[]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(outcome(&run, "memory"), (Verdict::Pass, None), "{run}");
    assert_eq!(outcome(&run, "swap"), (Verdict::Pass, None), "{run}");
    let processors = run.one("wslconfig.processors", None);
    assert_eq!(processors.reason.as_deref(), Some("not_read"), "{run}");
    assert_eq!(processors.data["line"], 4);
    let lines: Vec<(u64, String)> = run
        .all("wslconfig.line")
        .iter()
        .map(|r| (r.data["line"].as_u64().unwrap(), r.reason.clone().unwrap()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (1, "ignored_line".to_owned()),
            (4, "ignored_line".to_owned()),
            (6, "ignored_line".to_owned())
        ],
        "{run}"
    );
}

#[test]
fn encodings_wsl_cannot_read_are_a_usage_error_naming_file_and_line() {
    let text = "[wsl2]\r\nmemory=10GB\r\n";
    let bare_utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut utf16_be = vec![0xFE, 0xFF];
    utf16_be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    for (content, line, says) in [
        (bare_utf16, 1, "byte-order mark"),
        (utf16_be, 1, "UTF-16 BE"),
        (b"[wsl2]\nmemory=10GB\nswap=\xff\n".to_vec(), 3, "not UTF-8"),
    ] {
        let f = file(&content);
        let run = check(f.path(), &[]);
        assert_eq!(run.code, 2, "{run}");
        assert!(
            run.stdout.is_empty(),
            "no records for unreadable input:\n{run}"
        );
        let expected = format!("docker-doctor: {}:{line}: ", f.path().display());
        assert!(run.stderr.starts_with(&expected), "{expected:?} in\n{run}");
        assert!(run.stderr.contains(says), "{run}");
        assert_eq!(run.stderr.lines().count(), 1, "{run}");
    }
}

#[test]
fn a_missing_file_or_missing_path_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = check(&dir.path().join("nope.wslconfig"), &[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("cannot read"), "{run}");
    let run = doctor(&["--checks", "wslconfig"], &[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("--wslconfig PATH"), "{run}");
}
