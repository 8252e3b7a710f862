//! Progress under a real terminal: a pseudo-terminal made by `script` (util-linux, in Debian's bsdutils), the
//! screen read back through a terminal emulator (the `vt100` crate). The progress
//! line is drawn while a wait lasts, and no record line shares a screen line with it:
//! every write to the terminal first clears the progress line (day2-core's
//! `progress::Suspended`).

use std::time::Duration;

use day2_tests::bins::bin;
use day2_tests::process::Bin;
use day2_tests::{Backend, BackendConfig};

/// Columns and rows of the pseudo-terminal, and of the emulator reading it: the same,
/// so what the progress drawer counts as a line is what the emulator shows as one.
const COLS: u16 = 1000;
const ROWS: u16 = 1000;

/// Runs `argv` under `script` with stdout and stderr on the pseudo-terminal; returns
/// everything the terminal received.
fn under_a_terminal(argv: &[String]) -> Vec<u8> {
    day2_tests::require::program("script", "bsdutils");
    let quoted: Vec<String> = argv
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let inner = format!("stty cols {COLS} rows {ROWS}; exec {}", quoted.join(" "));
    let done = Bin::new("script")
        .args(["--quiet", "--return", "--command", &inner, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .run();
    done.assert_success();
    done.raw_stdout
}

/// The screen's lines after all of `bytes`, as a terminal shows them.
fn screen(bytes: &[u8]) -> Vec<String> {
    let mut parser = vt100::Parser::new(ROWS, COLS, 0);
    parser.process(bytes);
    parser
        .screen()
        .contents()
        .lines()
        .map(|l| l.trim_end().to_owned())
        .collect()
}

#[test]
fn a_wait_on_a_terminal_shows_progress_that_never_shares_a_line_with_records() {
    let backend = Backend::start(BackendConfig {
        warm_after: Duration::from_millis(3000),
        ..BackendConfig::default()
    })
    .expect("backend");
    let argv: Vec<String> = [
        bin("status-probe").display().to_string(),
        "--url".into(),
        backend.url(),
        "--wait".into(),
        "--interval".into(),
        "200ms".into(),
        "--backoff".into(),
        "1".into(),
        "--timeout".into(),
        "30s".into(),
        "summary".into(),
    ]
    .into();
    let raw = under_a_terminal(&argv);
    let text = String::from_utf8_lossy(&raw);
    // The progress line was drawn (after its first second), saying what it waits for.
    assert!(
        text.contains("waiting for primary at "),
        "no progress was drawn:\n{text}"
    );
    let lines = screen(&raw);
    let records: Vec<&String> = lines.iter().filter(|l| l.contains("{\"v\":1")).collect();
    assert!(
        records.len() >= 5,
        "a wait of several attempts:\n{lines:#?}"
    );
    for line in &records {
        assert!(
            line.starts_with("{\"v\":1") && line.ends_with('}'),
            "a record shares its line:\n{line:?}"
        );
        serde_json::from_str::<day2_core::Record>(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    }
    // The progress line is gone at the end: nothing on screen but records and the
    // closing line.
    assert!(
        !lines.iter().any(|l| l.contains("waiting for")),
        "progress left on screen:\n{lines:#?}"
    );
    let closing = lines.iter().rev().find(|l| !l.is_empty()).unwrap();
    assert!(
        closing.starts_with("status-probe: ") && closing.ends_with("exit 0: every check passed"),
        "{closing:?}"
    );
}
