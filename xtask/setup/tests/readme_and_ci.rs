//! CI proves the README: the README's two opening commands are `cargo xtask demo` and
//! `cargo xtask test`, and `.ci/run` runs the same set-up step and then exactly that
//! test command, keeping the formatting and lint gates (the fuzz crate's formatting
//! too), and last the fuzz targets' smoke run.

use xtask_setup::workspace_root;

fn read(name: &str) -> String {
    std::fs::read_to_string(workspace_root().join(name)).expect(name)
}

/// The commands (first word on each line) of the README's first `sh` block.
fn readme_commands() -> Vec<String> {
    let readme = read("README.md");
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a ```sh block in the README");
    block
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_readme_opens_with_the_demo_and_the_test_command() {
    assert_eq!(readme_commands(), ["cargo xtask demo", "cargo xtask test"]);
}

#[test]
fn ci_runs_the_setup_step_the_gates_and_the_readme_test_command() {
    let run = read(".ci/run");
    let commands: Vec<&str> = run
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("cargo "))
        .collect();
    assert_eq!(
        commands,
        [
            "cargo xtask setup test",
            "cargo fmt --all -- --check",
            "cargo fmt --manifest-path fuzz/Cargo.toml -- --check",
            "cargo clippy --workspace --all-targets --quiet -- -D warnings",
            "cargo xtask test",
            "cargo xtask fuzz --time 20s --dev --sanitizer none",
        ]
    );
    assert!(
        !run.contains("apt-get"),
        "installing is the set-up step's job"
    );
    // `cargo xtask` starts at the set-up crate, which builds with nothing installed.
    let config = read(".cargo/config.toml");
    assert!(
        config.contains("xtask = \"run --quiet --package xtask-setup --\""),
        "{config}"
    );
    let manifest = read("xtask/setup/Cargo.toml");
    assert!(!manifest.contains("[dependencies]"), "{manifest}");
}
