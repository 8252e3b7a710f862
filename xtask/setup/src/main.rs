//! What `cargo xtask` runs first (the alias in `.cargo/config.toml` points here). It
//! builds with nothing installed, so on a fresh machine:
//!
//! - `setup [demo|test|bench]... [--check]` is done here;
//! - `test [ARGS]` is the set-up for the tests, then `cargo test --workspace ARGS`;
//! - `demo …`, `bench …` and `fuzz …` run their set-up, then the playbook;
//! - anything else goes straight to the playbooks (`cargo run -p xtask -- …`).
//!
//! After its set-up it replaces itself with cargo (exec), so Ctrl-C, the exit code
//! and the terminal belong to the command that was asked for.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use xtask_setup::Purpose;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let first = args.first().and_then(|a| a.to_str()).unwrap_or("");
    let mut err = std::io::stderr();
    match first {
        "setup" => match setup_args(&args[1..]) {
            Some((purposes, check)) => code(xtask_setup::run(&purposes, check, &mut err)),
            // --help and mistakes: the playbooks' clap definition answers.
            None => exec(playbook(&args)),
        },
        "test" => {
            let ready = xtask_setup::run(&[Purpose::Test], false, &mut err);
            if ready != 0 {
                return code(ready);
            }
            exec(xtask_setup::cargo_test(&args[1..]))
        }
        "demo" | "bench" | "fuzz" => {
            let purpose = Purpose::parse(first).unwrap_or(Purpose::Demo);
            if !wants_help(&args) {
                let ready = xtask_setup::run(&[purpose], false, &mut err);
                if ready != 0 {
                    return code(ready);
                }
            }
            exec(playbook(&args))
        }
        _ => exec(playbook(&args)),
    }
}

/// `[demo|test|bench]... [--check]`; `None` for anything else.
fn setup_args(args: &[OsString]) -> Option<(Vec<Purpose>, bool)> {
    let mut purposes = Vec::new();
    let mut check = false;
    for arg in args {
        match arg.to_str()? {
            "--check" => check = true,
            name => purposes.push(Purpose::parse(name)?),
        }
    }
    if purposes.is_empty() {
        purposes.push(Purpose::Test);
    }
    Some((purposes, check))
}

fn wants_help(args: &[OsString]) -> bool {
    args.iter().any(|a| a == "--help" || a == "-h")
}

/// `cargo run --quiet -p xtask -- ARGS` (the playbooks), from any directory.
fn playbook(args: &[OsString]) -> Command {
    let mut command = Command::new(xtask_setup::cargo());
    command
        .args(["run", "--quiet", "--manifest-path"])
        .arg(xtask_setup::workspace_root().join("Cargo.toml"))
        .args(["--package", "xtask", "--"])
        .args(args);
    command
}

fn exec(mut command: Command) -> ExitCode {
    let err = command.exec();
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("xtask: cannot run {command:?}: {err}\n"),
    );
    ExitCode::from(1)
}

fn code(value: i32) -> ExitCode {
    ExitCode::from(u8::try_from(value).unwrap_or(1))
}
