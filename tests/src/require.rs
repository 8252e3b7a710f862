//! External programs the tests depend on. A missing one fails the test that needs it
//! with a message naming the package to install: tests never skip themselves.

use std::path::PathBuf;
use std::process::Command;

/// The path of a program on `PATH` (or in the sbin directories Debian uses for
/// nginx, or the repository's `target/tools`: the set-up step's one search,
/// `xtask_setup::find_program`), or a panic that names the Debian package providing it.
pub fn program(name: &str, debian_package: &str) -> PathBuf {
    xtask_setup::find_program(name).unwrap_or_else(|| {
        panic!(
            "required program `{name}` not found: install it with `apt-get install {debian_package}` \
             (`cargo xtask setup` does this); tests do not skip when it is missing"
        )
    })
}

/// Checks that the Docker Engine answers, or panics with what to do.
pub fn docker_engine() {
    let output = day2_core::process::Bounded::new(std::time::Duration::from_secs(60))
        .run(Command::new("docker").args(["version", "--format", "{{.Server.APIVersion}}"]));
    match output {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "the Docker Engine does not answer (`docker version` failed: {}); \
             these tests need a running engine and never skip",
            out.stderr_text().trim()
        ),
        Err(problem) => panic!("the docker CLI cannot be run ({problem}); install docker.io"),
    }
}
