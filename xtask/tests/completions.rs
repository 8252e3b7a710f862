//! The completion scripts of `cargo xtask dist`, each run in its own shell: bash by
//! driving the registered function with `COMP_WORDS`/`COMP_CWORD` (after loading
//! bash-completion, as a login shell does), zsh on a pseudo-terminal (`script`) by
//! pressing Tab and reading the edited line back, fish with `complete -C`. For each
//! tool a flag after its subcommand (prune-review, sri-check and tunnel-check are the
//! ones clap-rs/clap#6421 breaks), and `cargo xtask …`.

use day2_tests::process::Bin;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use day2_tests::require;

/// (completion file stem, words typed, the completion expected for the last word).
const CASES: [(&str, &[&str], &str); 8] = [
    (
        "status-probe",
        &["status-probe", "--wait-pa"],
        "--wait-path",
    ),
    (
        "legacy-sampler",
        &["legacy-sampler", "--max-legacy-c"],
        "--max-legacy-count",
    ),
    ("sri-check", &["sri-check", "generate", "--upd"], "--update"),
    ("prune-review", &["prune-review", "apply", "--pl"], "--plan"),
    ("docker-doctor", &["docker-doctor", "--wslc"], "--wslconfig"),
    (
        "tunnel-check",
        &["tunnel-check", "connector", "--contai"],
        "--container",
    ),
    (
        "cargo-xtask",
        &["cargo", "xtask", "dist", "--out"],
        "--out-dir",
    ),
    ("cargo-xtask", &["cargo", "xtask", "start-p"], "start-prod"),
];

/// Runs `cargo xtask dist` into a temporary directory; returns it.
fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["dist", "--out-dir"])
        .arg(dir.path())
        .output();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // It says where it wrote what and how to install it.
    for said in [
        "completion scripts to",
        "man pages to",
        "bash:",
        "zsh:",
        "fish:",
        "man:",
    ] {
        assert!(stderr.contains(said), "{said:?} in\n{stderr}");
    }
    dir
}

fn completions(dir: &Path) -> PathBuf {
    dir.join("completions")
}

/// A shell run, bounded in time.
fn shell(program: &str, args: &[&str], stdin: &str) -> String {
    let out = Bin::new(program)
        .args(args)
        .stdin(stdin)
        .deadline(Duration::from_secs(30))
        .output();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

#[test]
fn bash_completes_a_flag_after_each_subcommand() {
    require::program("bash", "bash");
    let loader = Path::new("/usr/share/bash-completion/bash_completion");
    assert!(
        loader.is_file(),
        "bash-completion is not installed (`cargo xtask setup` installs it); tests do not skip"
    );
    let dir = dist();
    for (file, words, expected) in CASES {
        let script = completions(dir.path()).join(format!("{file}.bash"));
        let words_q: Vec<String> = words.iter().map(|w| quote(w)).collect();
        // The function registered for the command, called as bash calls it.
        let driver = format!(
            "source {loader}\nsource {script}\n\
             spec=$(complete -p {command})\n\
             fn=${{spec#*-F }}; fn=${{fn%% *}}\n\
             COMP_WORDS=({words})\n\
             COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n\
             COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}\n\
             \"$fn\" \"${{COMP_WORDS[0]}}\" \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            loader = loader.display(),
            script = script.display(),
            command = words[0],
            words = words_q.join(" "),
        );
        let out = shell("bash", &["--norc", "--noprofile"], &driver);
        assert!(
            out.lines().any(|l| l.trim() == expected),
            "bash: {words:?} -> {out:?}, expected {expected}"
        );
    }
}

#[test]
fn fish_completes_a_flag_after_each_subcommand() {
    require::program("fish", "fish");
    let dir = dist();
    for (file, words, expected) in CASES {
        let script = completions(dir.path()).join(format!("{file}.fish"));
        let line = words.join(" ");
        let command = format!(
            "source {}; complete -C {}",
            quote(&script.display().to_string()),
            quote(&line)
        );
        let out = shell("fish", &["--no-config", "-c", &command], "");
        assert!(
            out.lines().any(|l| l.split('\t').next() == Some(expected)),
            "fish: {line:?} -> {out:?}, expected {expected}"
        );
    }
}

#[test]
fn zsh_completes_a_flag_after_each_subcommand() {
    require::program("zsh", "zsh");
    require::program("script", "bsdutils");
    let dir = dist();
    for (file, words, expected) in CASES {
        let script = completions(dir.path()).join(format!("_{file}"));
        let edited = dir.path().join(format!("edited-{}", words.join("-")));
        // Tab completes the word in place (one candidate); Ctrl-X Ctrl-P then writes
        // the edited line to a file, so the test waits for a file, not for quiet.
        let setup = format!(
            "autoload -U compinit && compinit -u -D\n\
             source {script}\n\
             dump() {{ print -r -- \"$BUFFER\" > {edited}; }}\n\
             zle -N dump\n\
             bindkey '^X^P' dump\n",
            script = quote(&script.display().to_string()),
            edited = quote(&edited.display().to_string()),
        );
        let typed = format!("{} \t\x18\x10", words.join(" "));
        let typed = typed.replacen(" \t", "\t", 1);
        let mut child = Command::new("script")
            .args(["--quiet", "--command", "zsh -f -i", "/dev/null"])
            .env("TERM", "xterm")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(setup.as_bytes()).unwrap();
        stdin.write_all(typed.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let done = Instant::now() + Duration::from_secs(30);
        let line = loop {
            if let Ok(text) = std::fs::read_to_string(&edited) {
                if text.ends_with('\n') {
                    break text;
                }
            }
            if Instant::now() > done {
                let _ = child.kill();
                let _ = child.wait();
                panic!("zsh: {words:?}: no edited line within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let _ = stdin.write_all(b"\x03exit\n");
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            line.split_whitespace()
                .any(|w| w.trim_end_matches('=') == expected),
            "zsh: {words:?} -> {line:?}, expected {expected}"
        );
    }
}
