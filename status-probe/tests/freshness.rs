//! `--changelog`: build.sha matched to a release through the tags of a real (temp)
//! git repository and the changelog's headers; "local" and untagged SHAs are never a
//! match.

mod common;

use day2_tests::process::Bin;
use std::path::Path;

use common::*;
use day2_core::record::Verdict;
use day2_tests::Fault;
use serde_json::json;
use status_probe::Freshness;

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Bin::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "tag.gpgsign=false",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

struct Repo {
    dir: tempfile::TempDir,
    /// SHA of the commits tagged 0.2.0 and v0.3.0, one after them, one tagged v1.0.0.
    old: String,
    current: String,
    untagged: String,
    unlisted: String,
}

const CHANGELOG: &str = "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2026-09-01\n- old\n\n## [v0.3.0] - 2026-11-01\n- current\n\n## [v0.1.0] - 2026-08-01\n";

fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    git(path, &["init", "-q"]);
    std::fs::create_dir(path.join("docs")).unwrap();
    std::fs::write(path.join("docs/CHANGELOG.md"), CHANGELOG).unwrap();
    let commit = |tag: Option<&str>| {
        git(path, &["commit", "-q", "--allow-empty", "-m", "c"]);
        if let Some(tag) = tag {
            git(path, &["tag", "-a", tag, "-m", tag]);
        }
        git(path, &["rev-parse", "HEAD"])
    };
    let old = commit(Some("0.2.0"));
    let current = commit(Some("v0.3.0"));
    let untagged = commit(None);
    let unlisted = commit(Some("v1.0.0"));
    Repo {
        dir,
        old,
        current,
        untagged,
        unlisted,
    }
}

use day2_tests::process::typed_payload as typed;

#[test]
fn build_sha_is_matched_to_a_release_through_tags_and_the_changelog() {
    let repo = repo();
    let changelog = repo.dir.path().join("docs/CHANGELOG.md");
    let changelog = changelog.to_str().unwrap();
    let stack = stack();
    let url = stack.url();
    let run_for = |sha: &str| {
        let sha = sha.to_owned();
        stack.backend.reconfigure(move |c| c.build_sha = sha);
        probe(&["--url", &url, "summary", "--changelog", changelog])
    };

    let run = run_for(&repo.current);
    let fresh = run.one("freshness");
    assert_eq!(fresh.verdict, Verdict::Pass, "{run:?}");
    let fresh: Freshness = typed(fresh);
    assert_eq!(
        (fresh.release.as_deref(), fresh.release_date),
        (Some("v0.3.0"), Some(Some("2026-11-01".to_owned())))
    );
    assert_eq!(fresh.tags, Some(vec!["v0.3.0".to_owned()]));
    assert_eq!(fresh.latest.as_deref(), Some("v0.3.0"));

    // An abbreviated SHA of an older release: matched, and stale.
    let run = run_for(&repo.old[..10]);
    let stale = run.one("freshness");
    assert_eq!(
        verdict(stale),
        (Verdict::Fail, Some("not_latest_release")),
        "{run:?}"
    );
    assert_eq!(typed::<Freshness>(stale).release.as_deref(), Some("0.2.0"));
    assert_eq!(run.code, 1);

    let run = run_for(&repo.untagged);
    let untagged = run.one("freshness");
    assert_eq!(
        verdict(untagged),
        (Verdict::Warn, Some("untagged_build")),
        "{run:?}"
    );
    let untagged: Freshness = typed(untagged);
    assert!(
        untagged
            .describe
            .flatten()
            .is_some_and(|d| d.starts_with("v0.3.0-1-g")),
        "{run:?}"
    );
    assert_eq!(untagged.release, None);

    let run = run_for(&repo.unlisted);
    assert_eq!(
        verdict(run.one("freshness")),
        (Verdict::Warn, Some("release_not_in_changelog"))
    );

    let run = run_for("local");
    let local = run.one("freshness");
    assert_eq!(verdict(local), (Verdict::Warn, Some("local_build")));
    assert!(local.data.get("release").is_none());

    for unknown in ["0123456789abcdef", "--output=x"] {
        let run = run_for(unknown);
        assert_eq!(
            verdict(run.one("freshness")),
            (Verdict::Warn, Some("unknown_sha")),
            "{run:?}"
        );
    }

    // An empty build.sha is not "local": the record says what was there.
    let run = run_for("");
    let empty = run.one("freshness");
    assert_eq!(
        verdict(empty),
        (Verdict::Warn, Some("build_sha_empty")),
        "{run:?}"
    );
    assert_eq!(empty.data["sha"], "");
    assert!(
        empty
            .message
            .as_deref()
            .unwrap()
            .contains(r#"build.sha is """#),
        "{run:?}"
    );
    let run = run_for("zzz");
    assert!(
        run.one("freshness")
            .message
            .as_deref()
            .unwrap()
            .contains(r#"build.sha "zzz" is not a commit"#),
        "{run:?}"
    );

    // The synthetic body is nginx's, not the backend's: the deployed build could not
    // be read, which is no answer (freshness works without the summary check).
    stack
        .backend
        .inject("/api/status/summary", Fault::Status(500));
    let run = probe(&["--url", &url, "ready", "--changelog", changelog]);
    assert_eq!(
        verdict(run.one("freshness")),
        (Verdict::Error, Some("not_checked")),
        "{run:?}"
    );
    assert!(run.all("summary").is_empty());
    assert_eq!(run.code, 1);
}

/// A repository holding `changelog` as `CHANGELOG.md`, one commit per tag (annotated,
/// as release tools make them); returns it with each tag's commit.
fn tagged(changelog: &str, tags: &[&str]) -> (tempfile::TempDir, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    git(path, &["init", "-q"]);
    std::fs::write(path.join("CHANGELOG.md"), changelog).unwrap();
    let commits = tags
        .iter()
        .map(|tag| {
            git(path, &["commit", "-q", "--allow-empty", "-m", tag]);
            git(path, &["tag", "-a", tag, "-m", tag]);
            (tag.to_string(), git(path, &["rev-parse", "HEAD"]))
        })
        .collect();
    (dir, commits)
}

/// Each changelog with the release deployed and the verdict, the release it names
/// and the newest release, as the tool that wrote the changelog means them.
#[test]
fn changelogs_as_release_tools_write_them_name_the_newest_release() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, Verdict, &'static str, &'static str)],
    );
    let cases: [Case; 4] = [
        // The corpus case: semantic-release's `# [3.1.0](link) (date)` is the newest
        // release; a deploy of the patch 1.3.5 is stale.
        (
            "corpus/changelog/semantic-release-h1.md",
            &["v1.3.4", "v1.3.5", "v3.0.0", "v3.1.0"],
            &[
                ("v1.3.5", Verdict::Fail, "1.3.5", "3.1.0"),
                ("v3.1.0", Verdict::Pass, "3.1.0", "3.1.0"),
            ],
        ),
        // conventional-changelog's angular preset: `#` minor/major, `##` patches,
        // `# 1.0.0 (date)` without a link.
        (
            "changelog/standard-version.md",
            &["v1.0.0", "v2.3.1", "v4.4.0", "v5.0.0"],
            &[
                ("v2.3.1", Verdict::Fail, "2.3.1", "5.0.0"),
                ("v1.0.0", Verdict::Fail, "1.0.0", "5.0.0"),
                ("v5.0.0", Verdict::Pass, "5.0.0", "5.0.0"),
            ],
        ),
        (
            "changelog/keep-a-changelog.md",
            &["v1.1.0", "v1.1.1"],
            &[
                ("v1.1.0", Verdict::Fail, "1.1.0", "1.1.1"),
                ("v1.1.1", Verdict::Pass, "1.1.1", "1.1.1"),
            ],
        ),
        // SemVer precedence: rc.13 is newer than rc.9 and rc.10.
        (
            "changelog/release-candidates.md",
            &["v2.0.0-rc.9", "v2.0.0-rc.10", "v2.0.0-rc.13"],
            &[
                ("v2.0.0-rc.9", Verdict::Fail, "v2.0.0-rc.9", "v2.0.0-rc.13"),
                (
                    "v2.0.0-rc.13",
                    Verdict::Pass,
                    "v2.0.0-rc.13",
                    "v2.0.0-rc.13",
                ),
            ],
        ),
    ];
    let stack = stack();
    let url = stack.url();
    for (file, tags, deploys) in cases {
        let text = std::fs::read_to_string(format!("{fixtures}/{file}")).unwrap();
        let (repo, commits) = tagged(&text, tags);
        let changelog = repo.path().join("CHANGELOG.md");
        for (tag, expected, release, latest) in deploys.iter().copied() {
            let sha = commits.iter().find(|(t, _)| t == tag).unwrap().1.clone();
            stack.backend.reconfigure(move |c| c.build_sha = sha);
            let run = probe(&[
                "--url",
                &url,
                "summary",
                "--changelog",
                changelog.to_str().unwrap(),
            ]);
            let fresh = run.one("freshness");
            assert_eq!(fresh.verdict, expected, "{file} {tag}: {run:?}");
            if expected == Verdict::Fail {
                assert_eq!(fresh.reason.as_deref(), Some("not_latest_release"));
            }
            assert_eq!(
                (&fresh.data["release"], &fresh.data["latest"]),
                (&json!(release), &json!(latest)),
                "{file} {tag}: {run:?}"
            );
        }
    }
}

#[test]
fn a_malformed_changelog_or_a_missing_repository_is_a_usage_error() {
    let repo = repo();
    let bad = repo.dir.path().join("BAD.md");
    std::fs::write(
        &bad,
        "# Changelog\n\n## [v1.0.0] - 2026-01-01\n## [next] - soon\n",
    )
    .unwrap();
    let run = probe(&[
        "--url",
        "http://127.0.0.1:1",
        "--changelog",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("BAD.md:4:"), "{run:?}");

    let elsewhere = tempfile::tempdir().unwrap();
    let changelog = repo.dir.path().join("docs/CHANGELOG.md");
    let run = probe(&[
        "--url",
        "http://127.0.0.1:1",
        "--changelog",
        changelog.to_str().unwrap(),
        "--git-dir",
        elsewhere.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is not a git repository"), "{run:?}");

    let run = probe(&[
        "--url",
        "http://127.0.0.1:1",
        "--changelog",
        "/nonexistent/CHANGELOG.md",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("status-probe: cannot read changelog"),
        "{run:?}"
    );
}

/// The changelog may come from a pipe (`--changelog <(git show main:CHANGELOG.md)`):
/// it is read as a stream, never seeked.
#[test]
fn a_changelog_from_a_fifo_is_read() {
    let repo = repo();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("changelog.fifo");
    Bin::new("mkfifo").arg(&fifo).run().assert_success();
    let writer = {
        let fifo = fifo.clone();
        // Bounded: opening blocks until the probe opens the other end, then one write.
        std::thread::spawn(move || std::fs::write(fifo, CHANGELOG))
    };
    let stack = stack();
    let current = repo.current.clone();
    stack.backend.reconfigure(move |c| c.build_sha = current);
    let run = probe(&[
        "--url",
        &stack.url(),
        "summary",
        "--changelog",
        fifo.to_str().unwrap(),
        "--git-dir",
        repo.dir.path().to_str().unwrap(),
    ]);
    // Bounded: should the probe never have opened the pipe, opening its reading end
    // here releases the writer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !writer.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    if !writer.is_finished() {
        let _ = std::fs::read(&fifo);
    }
    writer.join().unwrap().expect("the fifo was written");
    let fresh = run.one("freshness");
    assert_eq!(fresh.verdict, Verdict::Pass, "{run:?}");
    assert_eq!(fresh.data["release"], "v0.3.0");
}
