//! Deploy freshness: which release is the deployed `build.sha`? The changelog holds
//! no SHAs, so the way goes through git: the tags pointing at the commit
//! (`git tag --points-at`, with `git describe` for the untagged), then the
//! changelog's `## [vX.Y.Z] - date` headers (Keep a Changelog; older ones without the
//! `v`; not always in order). `"local"` and untagged SHAs are reported as such, never
//! as a match.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::process::Command;

use day2_core::Record;
use serde_json::json;

use crate::summary::SummaryView;

/// One `## [X.Y.Z] - date` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// As written between the brackets (`v0.3.0`, `0.2.0`).
    pub name: String,
    pub date: Option<String>,
    /// 1-based line of the header.
    pub line: usize,
    version: Version,
}

/// A semantic version, ordered the semver way (a pre-release sorts before its release).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    core: (u64, u64, u64),
    pre: Option<String>,
}

impl Version {
    /// `v1.2.3`, `1.2.3`, `1.2.3-rc.1`, `1.2.3+build`.
    fn parse(text: &str) -> Option<Version> {
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let text = text.split('+').next().unwrap_or(text);
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) if !pre.is_empty() => (core, Some(pre.to_owned())),
            Some(_) => return None,
            None => (text, None),
        };
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        let version = (parts.next()??, parts.next()??, parts.next()??);
        if parts.next().is_some() {
            return None;
        }
        Some(Version { core: version, pre })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Parses the release headers; a bracketed header that is neither `Unreleased` nor a
/// version is an error naming its line.
pub fn parse_changelog(text: &str, file: &Path) -> Result<Vec<Release>, String> {
    let mut releases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some(rest) = line.strip_prefix("## [") else {
            continue;
        };
        let Some((name, tail)) = rest.split_once(']') else {
            return Err(format!(
                "{}:{}: unclosed '[' in release header",
                file.display(),
                index + 1
            ));
        };
        if name.trim().eq_ignore_ascii_case("unreleased") {
            continue;
        }
        let version = Version::parse(name.trim()).ok_or_else(|| {
            format!(
                "{}:{}: release header [{name}] is not a version (expected e.g. [v1.2.3] or [1.2.3])",
                file.display(),
                index + 1
            )
        })?;
        // `](link) - 2026-01-02` or ` - 2026-01-02`
        let tail = match tail.strip_prefix('(') {
            Some(linked) => linked.split_once(')').map_or("", |(_, after)| after),
            None => tail,
        };
        let date = tail
            .trim()
            .strip_prefix(['-', '–'])
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty());
        releases.push(Release {
            name: name.trim().to_owned(),
            date,
            line: index + 1,
            version,
        });
    }
    Ok(releases)
}

/// The changelog and the repository whose tags name its releases.
#[derive(Debug)]
pub struct Changelog {
    path: PathBuf,
    git_dir: PathBuf,
    releases: Vec<Release>,
}

/// Runs git in the repository; `Ok(None)` when git answers with a non-zero exit.
fn git(dir: &Path, args: &[&str]) -> Result<Option<String>, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    Ok(output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
}

/// Whether a `build.sha` can be handed to git: hex only, so it can never be an option.
fn plausible_sha(sha: &str) -> bool {
    (4..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Changelog {
    /// Reads and parses the changelog and checks the repository, before any request.
    pub fn load(path: &Path, git_dir: PathBuf) -> Result<Changelog, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read changelog {}: {e}", path.display()))?;
        let releases = parse_changelog(&text, path)?;
        if git(&git_dir, &["rev-parse", "--git-dir"])?.is_none() {
            return Err(format!(
                "{} is not a git repository (--git-dir)",
                git_dir.display()
            ));
        }
        Ok(Changelog {
            path: path.to_path_buf(),
            git_dir,
            releases,
        })
    }

    fn latest(&self) -> Option<&Release> {
        self.releases
            .iter()
            .max_by(|a, b| a.version.cmp(&b.version))
    }

    /// The `freshness` record for the summary this run saw.
    pub fn check(&self, target: &str, view: Option<&SummaryView>) -> Record {
        let latest = self.latest();
        let mut data = json!({
            "changelog": self.path.display().to_string(),
            "latest": latest.map(|r| &r.name),
            "latest_date": latest.and_then(|r| r.date.as_ref()),
        });
        let mut set = |key: &str, value: serde_json::Value| {
            if let Some(map) = data.as_object_mut() {
                map.insert(key.to_owned(), value);
            }
        };
        let Some(sha) = view.and_then(|v| v.build_sha.clone()) else {
            return Record::warn("freshness", target, "build_sha_missing")
                .message("the summary carries no build.sha")
                .data(data);
        };
        set("sha", json!(sha));
        if sha == "local" || sha.is_empty() {
            return Record::warn("freshness", target, "local_build")
                .message("build.sha is \"local\": the image was built without a SHA, the build is unknown")
                .data(data);
        }
        let commit = if plausible_sha(&sha) {
            git(
                &self.git_dir,
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{sha}^{{commit}}"),
                ],
            )
        } else {
            Ok(None)
        };
        let commit = match commit {
            Ok(Some(commit)) => commit,
            Ok(None) | Err(_) => {
                return Record::warn("freshness", target, "unknown_sha")
                    .message(format!(
                        "{sha} is not a commit of {}",
                        self.git_dir.display()
                    ))
                    .data(data);
            }
        };
        set("commit", json!(commit));
        let tags: Vec<String> = git(&self.git_dir, &["tag", "--points-at", &commit])
            .ok()
            .flatten()
            .map(|out| out.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        let describe = git(&self.git_dir, &["describe", "--tags", &commit])
            .ok()
            .flatten();
        set("tags", json!(tags));
        set("describe", json!(describe));
        if tags.is_empty() {
            return Record::warn("freshness", target, "untagged_build")
                .message(format!(
                    "{sha} carries no release tag (describe: {})",
                    describe.as_deref().unwrap_or("no tag before it")
                ))
                .data(data);
        }
        let matched = tags.iter().find_map(|tag| {
            let version = Version::parse(tag)?;
            self.releases.iter().find(|r| r.version == version)
        });
        let Some(release) = matched else {
            return Record::warn("freshness", target, "release_not_in_changelog")
                .message(format!("tags {} have no changelog entry", tags.join(", ")))
                .data(data);
        };
        set("release", json!(release.name));
        set("release_date", json!(release.date));
        set("release_line", json!(release.line));
        match latest {
            Some(newest) if newest.version > release.version => {
                Record::fail("freshness", target, "not_latest_release")
                    .message(format!(
                        "deployed {} but the changelog's newest release is {}",
                        release.name, newest.name
                    ))
                    .data(data)
            }
            _ => Record::pass("freshness", target).data(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_with_and_without_v_out_of_order_are_parsed_and_ordered() {
        let text = "# Changelog\n## [Unreleased]\n## [0.2.0] - 2026-01-01\n## [v0.10.0] - 2026-03-01\n## [v0.3.0-rc.1]\n## [v0.3.0](https://x/y) - 2026-02-01\n";
        let releases = parse_changelog(text, Path::new("CHANGELOG.md")).unwrap();
        let names: Vec<&str> = releases.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["0.2.0", "v0.10.0", "v0.3.0-rc.1", "v0.3.0"]);
        assert_eq!(releases[3].date.as_deref(), Some("2026-02-01"));
        assert_eq!(releases[2].date, None);
        let latest = releases
            .iter()
            .max_by(|a, b| a.version.cmp(&b.version))
            .unwrap();
        assert_eq!(latest.name, "v0.10.0");
        assert!(releases[2].version < releases[3].version);
    }

    #[test]
    fn a_header_that_is_not_a_version_names_its_line() {
        let err = parse_changelog("## [v1.0.0]\n\n## [next]\n", Path::new("C.md")).unwrap_err();
        assert!(err.starts_with("C.md:3:"), "{err}");
    }

    #[test]
    fn only_hex_shas_reach_git() {
        assert!(plausible_sha("0a1b2c3d"));
        assert!(!plausible_sha("--output=/tmp/x"));
        assert!(!plausible_sha("local"));
    }
}
