//! What a person should do about a failed probe, per platform: the remediation
//! lines attached to a failure, and the exact restart commands recovery prints (and
//! runs with `--yes`).
//!
//! Platforms: `linux` (a system daemon under systemd), `rootless` (a per-user
//! daemon at `$XDG_RUNTIME_DIR/docker.sock`), `desktop` (Docker Desktop on Windows
//! with WSL2, seen from a WSL shell). The Desktop text follows the operations
//! guide's "Windows / WSL2 Docker Stability" section.

use std::os::unix::fs::MetadataExt;

use day2_docker::Endpoint;

/// The kind of Docker installation the remediation is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    /// Detect: rootless for a socket under the user's runtime dir, desktop inside
    /// WSL or for a named-pipe DOCKER_HOST, linux otherwise.
    Auto,
    /// A system Docker Engine managed by systemd.
    Linux,
    /// Rootless Docker: a per-user daemon managed by `systemctl --user`.
    Rootless,
    /// Docker Desktop on Windows (WSL2 backend).
    Desktop,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Auto => "auto",
            Platform::Linux => "linux",
            Platform::Rootless => "rootless",
            Platform::Desktop => "desktop",
        }
    }

    /// Resolves `auto` from the endpoint and the machine this runs on.
    pub fn resolve(self, host: &str, endpoint: Option<&Endpoint>) -> Platform {
        if self != Platform::Auto {
            return self;
        }
        if host.trim().to_ascii_lowercase().starts_with("npipe://") {
            return Platform::Desktop;
        }
        if let Some(Endpoint::Unix(path)) = endpoint {
            let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(std::path::PathBuf::from);
            let per_user =
                runtime.is_some_and(|dir| path.starts_with(dir)) || path.starts_with("/run/user/");
            if per_user {
                return Platform::Rootless;
            }
        }
        if in_wsl() {
            return Platform::Desktop;
        }
        Platform::Linux
    }
}

/// WSL exposes its interop hook and names Microsoft in the kernel version.
fn in_wsl() -> bool {
    std::path::Path::new("/proc/sys/fs/binfmt_misc/WSLInterop").exists()
        || std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .is_ok_and(|v| v.to_ascii_lowercase().contains("microsoft"))
}

/// Whether this process runs as root: `/proc/self` belongs to the effective user.
/// Decides whether the Linux restart command needs `sudo`.
pub fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The guide's Docker Desktop recovery, as it is typed into an elevated PowerShell.
const DESKTOP_RESTART: [&str; 4] = [
    "Stop-Service com.docker.service -ErrorAction SilentlyContinue",
    "wsl --shutdown",
    "Start-Sleep -Seconds 2",
    "Start-Service com.docker.service",
];

const PIPE_ERROR: &str =
    "open //./pipe/dockerDesktopLinuxEngine: The system cannot find the file specified.";

/// How to restart the daemon on a platform.
#[derive(Debug, Clone)]
pub struct RestartPlan {
    /// The lines a person types, in order.
    pub commands: Vec<String>,
    /// Where they are typed: `shell` or `elevated PowerShell on Windows`.
    pub shell: &'static str,
    /// What `--yes` runs; `None` when the commands cannot be run from here.
    pub argv: Option<Vec<String>>,
}

/// The restart commands for a platform.
pub fn restart_plan(platform: Platform, root: bool) -> RestartPlan {
    let argv = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
    match platform {
        Platform::Linux | Platform::Auto => {
            let words: &[&str] = if root {
                &["systemctl", "restart", "docker"]
            } else {
                &["sudo", "systemctl", "restart", "docker"]
            };
            RestartPlan {
                commands: vec![words.join(" ")],
                shell: "shell",
                argv: Some(argv(words)),
            }
        }
        Platform::Rootless => {
            let words = ["systemctl", "--user", "restart", "docker"];
            RestartPlan {
                commands: vec![words.join(" ")],
                shell: "shell",
                argv: Some(argv(&words)),
            }
        }
        // `wsl --shutdown` stops every WSL distribution, this shell included, so it
        // is never run from here: a person runs it on the Windows side.
        Platform::Desktop => RestartPlan {
            commands: DESKTOP_RESTART.iter().map(|c| (*c).to_owned()).collect(),
            shell: "elevated PowerShell on Windows",
            argv: None,
        },
    }
}

/// Remediation lines for a classified probe failure: first what it means, then what
/// to type.
pub fn remediation(reason: &str, platform: Platform, endpoint: &str, step: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut say = |line: String| lines.push(line);
    let restart = restart_plan(platform, running_as_root()).commands;
    let rootless_socket = "export DOCKER_HOST=unix://$XDG_RUNTIME_DIR/docker.sock";
    match (reason, platform) {
        ("no_such_socket", Platform::Desktop) => {
            say(format!(
                "This is the WSL side of Docker Desktop's `{PIPE_ERROR}`: the engine is not up."
            ));
            say(
                "Restart Docker Desktop from an elevated PowerShell (Restart-DockerDesktop):"
                    .into(),
            );
            restart.iter().for_each(|c| say(format!("  {c}")));
            say("If it persists: Docker Desktop > Settings > Resources > WSL integration: enable this distro.".into());
        }
        ("no_such_socket", Platform::Rootless) => {
            say(format!(
                "Nothing listens at {endpoint}: the per-user daemon is stopped."
            ));
            say("systemctl --user start docker".into());
            say(rootless_socket.into());
        }
        ("no_such_socket", _) => {
            say(format!(
                "Nothing listens at {endpoint}: the daemon is stopped or listens elsewhere."
            ));
            say(format!(
                "{} (then: systemctl status docker --no-pager)",
                restart.join("; ")
            ));
            say(format!(
                "Rootless Docker listens per user instead: {rootless_socket}"
            ));
            say("docker context ls  # shows which endpoint the CLI uses".into());
        }
        ("permission_denied", Platform::Rootless) => {
            say(format!(
                "{endpoint} is not this user's: a rootless daemon's socket is per user."
            ));
            say(rootless_socket.into());
        }
        ("permission_denied", _) => {
            say(format!(
                "{endpoint} refuses this user: it is not in the socket's group (docker)."
            ));
            say("sudo usermod -aG docker \"$USER\" && newgrp docker  # or log out and in".into());
            if platform == Platform::Desktop {
                say("With Docker Desktop, enable WSL integration for this distro (Settings > Resources).".into());
            } else {
                say(format!("Or run rootless Docker: {rootless_socket}"));
            }
        }
        ("connection_refused", _) => {
            say(format!(
                "{endpoint} exists but no daemon accepts on it: it died without cleaning up."
            ));
            restart_lines(&mut say, platform, &restart);
        }
        ("hung", _) => {
            say(format!(
                "The daemon accepted the connection but did not answer {step} in time: it is wedged \
                 (`docker version` may still work while `docker ps` hangs)."
            ));
            restart_lines(&mut say, platform, &restart);
        }
        ("http_error", _) => {
            say(format!(
                "The daemon answers {step} with an error: it is up but unhealthy."
            ));
            restart_lines(&mut say, platform, &restart);
        }
        ("api_too_old", _) => {
            say("The Engine API is older than this tool needs: upgrade Docker Engine (or Docker Desktop).".into());
            say("A newer CLI talking to an old engine is not enough: the daemon itself must be upgraded.".into());
        }
        ("garbage_response", _) => {
            say(format!(
                "Something other than the Docker API answers at {endpoint} (a TLS port such as 2376, \
                 a proxy, another service)."
            ));
            say("Point DOCKER_HOST at the daemon, or `unset DOCKER_HOST` to use the default socket.".into());
        }
        ("bad_docker_host", _) | ("unsupported_endpoint", _) => {
            say(format!(
                "DOCKER_HOST={endpoint} is not an endpoint this probe can use."
            ));
            if platform == Platform::Desktop {
                say("Inside WSL, Docker Desktop's engine is unix:///var/run/docker.sock: `unset DOCKER_HOST`.".into());
            } else {
                say("`unset DOCKER_HOST` for the default unix:///var/run/docker.sock, or fix its value.".into());
            }
            say("docker context ls  # shows which endpoint the CLI uses".into());
        }
        _ => {
            say(format!(
                "Connecting to {endpoint} failed in an unexpected way."
            ));
            restart_lines(&mut say, platform, &restart);
        }
    }
    lines
}

fn restart_lines(say: &mut dyn FnMut(String), platform: Platform, restart: &[String]) {
    match platform {
        Platform::Desktop => {
            say(format!(
                "Docker Desktop: `{PIPE_ERROR}` is the Windows face of this."
            ));
            say(
                "Restart Docker Desktop from an elevated PowerShell (Restart-DockerDesktop):"
                    .into(),
            );
            restart.iter().for_each(|c| say(format!("  {c}")));
        }
        Platform::Rootless => {
            restart.iter().for_each(|c| say(c.clone()));
            say("journalctl --user -u docker --since -15min  # why it stopped".into());
        }
        Platform::Linux | Platform::Auto => {
            restart.iter().for_each(|c| say(c.clone()));
            say("journalctl -u docker --since -15min  # why it stopped".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desktop_remediation_quotes_the_pipe_error_and_the_guide_restart() {
        let lines = remediation(
            "no_such_socket",
            Platform::Desktop,
            "unix:///var/run/docker.sock",
            "",
        );
        let text = lines.join("\n");
        assert!(text.contains(PIPE_ERROR), "{text}");
        assert!(text.contains("wsl --shutdown"), "{text}");
        assert!(text.contains("Start-Service com.docker.service"), "{text}");
    }

    #[test]
    fn rootless_points_at_the_per_user_socket() {
        let text = remediation(
            "no_such_socket",
            Platform::Rootless,
            "unix:///run/user/1000/docker.sock",
            "",
        )
        .join("\n");
        assert!(text.contains("$XDG_RUNTIME_DIR/docker.sock"), "{text}");
        assert!(text.contains("systemctl --user start docker"), "{text}");
    }

    #[test]
    fn linux_restart_needs_sudo_only_without_root() {
        assert_eq!(
            restart_plan(Platform::Linux, true).commands,
            ["systemctl restart docker"]
        );
        assert_eq!(
            restart_plan(Platform::Linux, false).commands,
            ["sudo systemctl restart docker"]
        );
        assert!(restart_plan(Platform::Desktop, true).argv.is_none());
    }

    #[test]
    fn auto_detects_a_rootless_socket() {
        let ep = Endpoint::Unix("/run/user/1000/docker.sock".into());
        assert_eq!(
            Platform::Auto.resolve("unix:///run/user/1000/docker.sock", Some(&ep)),
            Platform::Rootless
        );
        assert_eq!(
            Platform::Auto.resolve("npipe:////./pipe/docker_engine", None),
            Platform::Desktop
        );
        assert_eq!(
            Platform::Linux.resolve("npipe:////./pipe/docker_engine", None),
            Platform::Linux
        );
    }
}
