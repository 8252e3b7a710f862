//! Running the xtask under test: through day2-tests' one runner (a deadline on
//! every run, stdin fed while the output is read, the whole run shown when an
//! assertion fails), and the argv the tests share.

#![allow(dead_code)] // each test binary uses a different part of this module

use day2_tests::process::Bin;

/// `xtask ARGS`, to be run with [`Bin::run`].
pub fn xtask(args: &[&str]) -> Bin {
    Bin::new(env!("CARGO_BIN_EXE_xtask")).args(args)
}

/// The argv of the cutover's remove step alone, on the nginx configuration `conf`
/// and the repository `repo`.
pub fn remove_argv<'a>(conf: &'a str, repo: &'a str) -> Vec<&'a str> {
    vec![
        "cutover",
        "--only",
        "remove",
        "--nginx-conf",
        conf,
        "--repo",
        repo,
    ]
}
