//! Docker test equipment. There is no image registry, so the test image is built
//! locally from Debian's `busybox-static`; every object a test creates carries its
//! scope's unique label, and dropping the scope removes exactly those objects.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::require;

/// Label key every test-created Docker object carries.
pub const SCOPE_LABEL: &str = "org.day2.test.scope";

/// The tag of the locally built test image: busybox only, `sleep`, `sh`, `du` and
/// friends available, entrypoint-free.
pub const TEST_IMAGE: &str = "day2-test-busybox:1";

/// Runs the docker CLI and returns its output, panicking with the command line and
/// stderr when it fails.
pub fn docker(args: &[&str]) -> Output {
    let out = Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker {args:?}: {e}"));
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    out
}

/// Runs the docker CLI and returns its trimmed stdout.
pub fn docker_stdout(args: &[&str]) -> String {
    String::from_utf8_lossy(&docker(args).stdout)
        .trim()
        .to_owned()
}

/// Builds the test image once per process (and once per machine: an existing image
/// is reused) and returns its tag.
pub fn test_image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        require::docker_engine();
        let exists = Command::new("docker")
            .args(["image", "inspect", TEST_IMAGE])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if exists {
            return;
        }
        let busybox = Path::new("/bin/busybox");
        assert!(
            busybox.is_file(),
            "/bin/busybox not found: install it with `apt-get install busybox-static` (`cargo xtask setup` does this)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::copy(busybox, dir.path().join("busybox")).expect("copy busybox");
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
             ENV PATH=/bin\nCMD [\"sh\"]\n",
        )
        .expect("write Dockerfile");
        let context = dir.path().to_str().expect("utf-8 temp path");
        docker(&["build", "-q", "-t", TEST_IMAGE, context]);
    });
    TEST_IMAGE
}

/// A unique label value for one test's Docker objects. Dropping it removes every
/// container, volume and network that carries it, and nothing else.
#[derive(Debug)]
pub struct TestScope {
    pub id: String,
}

impl TestScope {
    /// A new scope; `name` makes leftovers recognisable (`day2t-<name>-<unique>`).
    pub fn new(name: &str) -> TestScope {
        require::docker_engine();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_nanos();
        TestScope {
            id: format!("day2t-{name}-{}-{nanos:x}", std::process::id()),
        }
    }

    /// `key=value` of the scope label, for `--label` and `--filter label=`.
    pub fn label(&self) -> String {
        format!("{SCOPE_LABEL}={}", self.id)
    }

    /// A name for an object of this scope, unique on the engine.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.id)
    }

    /// Creates a named volume carrying the scope label (and any extra labels).
    pub fn volume(&self, suffix: &str, extra_labels: &[&str]) -> String {
        let name = self.name(suffix);
        let label = self.label();
        let mut args = vec!["volume", "create", "--label", label.as_str()];
        for extra in extra_labels {
            args.extend(["--label", extra]);
        }
        args.push(&name);
        docker(&args);
        name
    }

    /// Every object id of a kind (`container`, `volume`, `network`) in this scope.
    pub fn objects(&self, kind: &str) -> Vec<String> {
        let filter = format!("label={}", self.label());
        let args: Vec<&str> = match kind {
            "container" => vec!["ps", "-aq", "--filter", &filter],
            "volume" => vec!["volume", "ls", "-q", "--filter", &filter],
            "network" => vec!["network", "ls", "-q", "--filter", &filter],
            other => panic!("unknown docker object kind {other}"),
        };
        docker_stdout(&args).lines().map(str::to_owned).collect()
    }
}

impl Drop for TestScope {
    fn drop(&mut self) {
        // Best effort and label-scoped: a cleanup failure must not hide the test's
        // own failure, and nothing outside the scope is ever touched.
        for kind in ["container", "volume", "network"] {
            let ids = std::panic::catch_unwind(|| self.objects(kind)).unwrap_or_default();
            if ids.is_empty() {
                continue;
            }
            let mut args: Vec<&str> = match kind {
                "container" => vec!["rm", "-f", "-v"],
                "volume" => vec!["volume", "rm", "-f"],
                _ => vec!["network", "rm"],
            };
            args.extend(ids.iter().map(String::as_str));
            let _ = Command::new("docker").args(&args).output();
        }
    }
}
