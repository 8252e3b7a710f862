//! Finding the workspace's tool binaries from a test of another crate.
//! `CARGO_BIN_EXE_<name>` exists only inside the crate that owns a binary, so the
//! cross-tool tests look beside their own executable (`target/<profile>/deps/..`),
//! where `cargo test --workspace` has built every binary before any test runs.

use std::path::PathBuf;

/// The seven binaries of the workspace.
pub const ALL: [&str; 7] = [
    "status-probe",
    "legacy-sampler",
    "sri-check",
    "prune-review",
    "docker-doctor",
    "tunnel-check",
    "xtask",
];

/// The path of a workspace binary, or a panic that says how to build it.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executables live in target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} not found: run the tests with `cargo test --workspace`, which builds every binary",
        path.display()
    );
    path
}
