//! Deploy freshness: which release is the deployed `build.sha`? The changelog holds
//! no SHAs, so the way goes through git: the tags pointing at the commit
//! (`git tag --points-at`, with `git describe` for the untagged), then the
//! changelog's release headings as Keep a Changelog and conventional-changelog write
//! them ([`parse_changelog`]; not always in order). Versions compare by SemVer 2.0
//! precedence (the `semver` crate: `1.0.0-rc.13` is newer than `1.0.0-rc.9`).
//! `"local"`, empty and untagged SHAs are reported as such, never as a match.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::process::Command;

use day2_core::Record;
use semver::Version;

use crate::payload::Freshness;
use crate::summary::SummaryView;
use day2_core::bounded::quoted;
use day2_core::Problem;

/// One release heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// As written (`v0.3.0`, `0.2.0`, `1.0.0-rc.13`).
    pub name: String,
    pub date: Option<String>,
    /// 1-based line of the heading.
    pub line: usize,
    version: Version,
}

/// `v1.2.3`, `1.2.3`, `1.2.3-rc.1`, `1.2.3+build`: SemVer 2.0 with an optional `v`
/// (the `semver` crate decides what a version is).
fn parse_version(text: &str) -> Option<Version> {
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    Version::parse(text).ok()
}

/// Whether a word was meant as a version (`1.2`, `v2.0.0.1`) even if it is not SemVer.
fn looks_like_version(word: &str) -> bool {
    let word = word.strip_prefix(['v', 'V']).unwrap_or(word);
    let mut parts = word.split('.');
    let numeric =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric(parts.next()) && numeric(parts.next())
}

/// The first `YYYY-MM-DD` in a heading's tail.
fn find_date(tail: &str) -> Option<String> {
    let bytes = tail.as_bytes();
    (0..bytes.len().saturating_sub(9)).find_map(|at| {
        let candidate = tail.get(at..at + 10)?;
        let shape = candidate.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
        let bounded = !tail[..at].ends_with(|c: char| c.is_ascii_digit())
            && !tail[at + 10..].starts_with(|c: char| c.is_ascii_digit());
        (shape && bounded).then(|| candidate.to_owned())
    })
}

/// An ATX heading (CommonMark: up to three spaces, 1-6 `#`, then a space or the end
/// of the line): its level and its text without the optional closing `#`s.
fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let level = rest.len() - rest.trim_start_matches('#').len();
    if !(1..=6).contains(&level) {
        return None;
    }
    let text = &rest[level..];
    if !(text.is_empty() || text.starts_with([' ', '\t'])) {
        return None;
    }
    let text = text.trim();
    let text = match text.trim_end_matches('#') {
        stripped if stripped.is_empty() || stripped.ends_with([' ', '\t']) => stripped.trim_end(),
        _ => text,
    };
    Some((level, text))
}

/// Whether a line opens or closes a fenced code block (``` or ~~~), whose lines are
/// not headings.
fn fence(line: &str) -> Option<(char, usize)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = trimmed.len() - trimmed.trim_start_matches(marker).len();
    (run >= 3).then_some((marker, run))
}

/// Parses the release headings of a changelog as the tools that write them do:
///
/// - Keep a Changelog: `## [1.1.1] - 2023-03-05`, `## [Unreleased]` (skipped);
/// - conventional-changelog's angular preset (semantic-release, standard-version):
///   `# [1.1.0](compare-link) (date)` for minor and major releases, `## [1.0.1](…)
///   (date)` for patches, `# 1.0.0 (date)` without a link (its `header.hbs`);
///   older standard-version: `### [1.0.1](…) (date)` for patches;
/// - conventionalcommits and release-please: `## [1.2.3](link) (date)`, changesets:
///   `## 1.2.3`; and headings like `## 3.1.0 - 2025-09-27` or `## Version 2.0.0`.
///
/// With or without `v`, link and date, at any heading level; a version written twice
/// counts once (its first heading). Lines in fenced code blocks are not headings. A
/// bracketed level-1 or level-2 heading that is neither `Unreleased` nor a version,
/// or one whose first word is meant as a version but is not SemVer (`## 1.2`), is an
/// error naming its line: a changelog the tool cannot read must not pass.
pub fn parse_changelog(text: &str, file: &Path) -> Result<Vec<Release>, Problem> {
    let mut releases: Vec<Release> = Vec::new();
    let mut open_fence: Option<(char, usize)> = None;
    for (index, line) in text.lines().enumerate() {
        let at = |what: String| {
            Problem::new(
                "invalid_changelog",
                format!("{}:{}: {what}", file.display(), index + 1),
            )
        };
        if let Some((marker, run)) = fence(line) {
            match open_fence {
                None => open_fence = Some((marker, run)),
                Some((open, len)) if open == marker && run >= len => open_fence = None,
                Some(_) => {}
            }
            continue;
        }
        if open_fence.is_some() {
            continue;
        }
        let Some((level, heading)) = atx_heading(line) else {
            continue;
        };
        // conventional-changelog may put the anchor inside the heading.
        let heading = match heading
            .strip_prefix("<a ")
            .and_then(|h| h.split_once("</a>"))
        {
            Some((_, after)) => after.trim_start(),
            None => heading,
        };
        let (word, tail, bracketed) = if let Some(inner) = heading.strip_prefix('[') {
            let Some((word, tail)) = inner.split_once(']') else {
                if level <= 2 {
                    return Err(at("unclosed '[' in a release heading".into()));
                }
                continue;
            };
            (word.trim(), tail, true)
        } else {
            let mut words = heading.splitn(2, char::is_whitespace);
            let first = words.next().unwrap_or("");
            let rest = words.next().unwrap_or("");
            if first.eq_ignore_ascii_case("version") || first.eq_ignore_ascii_case("release") {
                let mut words = rest.trim_start().splitn(2, char::is_whitespace);
                let word = words.next().unwrap_or("");
                (
                    word.trim_end_matches([':', ',']),
                    words.next().unwrap_or(""),
                    false,
                )
            } else {
                (first.trim_end_matches([':', ',']), rest, false)
            }
        };
        if bracketed && word.eq_ignore_ascii_case("unreleased") {
            continue;
        }
        let Some(version) = parse_version(word) else {
            if level <= 2 && (bracketed || looks_like_version(word)) {
                return Err(at(format!(
                    "release heading {} is not a version (expected SemVer, e.g. [v1.2.3], 1.2.3 or 1.0.0-rc.1)",
                    quoted(word)
                )));
            }
            continue;
        };
        // `](link) (date)`, ` - date`, ` (date)`: the first ISO date after the version.
        let date = find_date(tail);
        match releases
            .iter_mut()
            .find(|r| r.version.cmp_precedence(&version) == Ordering::Equal)
        {
            Some(first) => {
                if first.date.is_none() {
                    first.date = date;
                }
            }
            None => releases.push(Release {
                name: word.to_owned(),
                date,
                line: index + 1,
                version,
            }),
        }
    }
    Ok(releases)
}

/// The largest changelog read: real ones are kilobytes; `/dev/zero` or a runaway
/// pipe must not grow memory without bound.
pub const MAX_CHANGELOG_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a changelog (a file, a pipe, `/dev/stdin`) up to [`MAX_CHANGELOG_BYTES`].
fn read_capped(path: &Path) -> Result<String, Problem> {
    day2_core::input::read_text(path, "changelog", MAX_CHANGELOG_BYTES)
}

/// The changelog and the repository whose tags name its releases.
#[derive(Debug)]
pub struct Changelog {
    path: PathBuf,
    git_dir: PathBuf,
    releases: Vec<Release>,
}

/// Runs git in the repository; `Ok(None)` when git answers with a non-zero exit.
fn git(dir: &Path, args: &[&str]) -> Result<Option<String>, Problem> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| Problem::new("git_unavailable", format!("cannot run git: {e}")))?;
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
    pub fn load(path: &Path, git_dir: PathBuf) -> Result<Changelog, Problem> {
        let text = read_capped(path)?;
        let releases = parse_changelog(&text, path)?;
        if git(&git_dir, &["rev-parse", "--git-dir"])?.is_none() {
            return Err(Problem::new(
                "usage",
                format!("{} is not a git repository (--git-dir)", git_dir.display()),
            ));
        }
        Ok(Changelog {
            path: path.to_path_buf(),
            git_dir,
            releases,
        })
    }

    /// The newest release by SemVer precedence.
    fn latest(&self) -> Option<&Release> {
        self.releases
            .iter()
            .max_by(|a, b| a.version.cmp_precedence(&b.version))
    }

    /// The `freshness` record for the summary this run saw.
    pub fn check(&self, target: &str, view: Option<&SummaryView>) -> Record {
        let latest = self.latest();
        let mut data = Freshness {
            changelog: self.path.display().to_string(),
            latest: latest.map(|r| r.name.clone()),
            latest_date: latest.and_then(|r| r.date.clone()),
            sha: None,
            commit: None,
            tags: None,
            describe: None,
            release: None,
            release_date: None,
            release_line: None,
        };
        // No summary from the backend itself: nothing was asked successfully.
        let view = match view {
            None => {
                return Record::error("freshness", target, "not_checked")
                    .message("no readable summary: the deployed build could not be read")
                    .with_payload(&data)
            }
            Some(view) if view.synthetic => {
                return Record::error("freshness", target, "not_checked")
                    .message("nginx answered its synthetic warming body (the backend did not answer): the deployed build could not be read")
                    .with_payload(&data)
            }
            Some(view) => view,
        };
        let Some(sha) = view.build_sha.clone() else {
            return Record::warn("freshness", target, "build_sha_missing")
                .message("the summary carries no build.sha")
                .with_payload(&data);
        };
        data.sha = Some(sha.clone());
        if sha == "local" {
            return Record::warn("freshness", target, "local_build")
                .message("build.sha is \"local\": the image was built without a SHA, so the build is unknown")
                .with_payload(&data);
        }
        if sha.trim().is_empty() {
            return Record::warn("freshness", target, "build_sha_empty")
                .message(format!(
                    "build.sha is {} (empty): the image was built without a SHA, so the build is unknown",
                    quoted(&sha)
                ))
                .with_payload(&data);
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
                        "build.sha {} is not a commit of {}",
                        quoted(&sha),
                        self.git_dir.display()
                    ))
                    .with_payload(&data);
            }
        };
        data.commit = Some(commit.clone());
        let tags: Vec<String> = git(&self.git_dir, &["tag", "--points-at", &commit])
            .ok()
            .flatten()
            .map(|out| out.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        let describe = git(&self.git_dir, &["describe", "--tags", &commit])
            .ok()
            .flatten();
        data.tags = Some(tags.clone());
        data.describe = Some(describe.clone());
        if tags.is_empty() {
            return Record::warn("freshness", target, "untagged_build")
                .message(format!(
                    "{sha} carries no release tag (describe: {})",
                    describe.as_deref().unwrap_or("no tag before it")
                ))
                .with_payload(&data);
        }
        let matched = tags.iter().find_map(|tag| {
            let version = parse_version(tag)?;
            self.releases
                .iter()
                .find(|r| r.version.cmp_precedence(&version) == Ordering::Equal)
        });
        let Some(release) = matched else {
            return Record::warn("freshness", target, "release_not_in_changelog")
                .message(format!("tags {} have no changelog entry", tags.join(", ")))
                .with_payload(&data);
        };
        data.release = Some(release.name.clone());
        data.release_date = Some(release.date.clone());
        data.release_line = Some(release.line);
        match latest {
            Some(newest)
                if newest.version.cmp_precedence(&release.version) == Ordering::Greater =>
            {
                Record::fail("freshness", target, "not_latest_release")
                    .message(format!(
                        "deployed {} but the changelog's newest release is {}",
                        release.name, newest.name
                    ))
                    .with_payload(&data)
            }
            _ => Record::pass("freshness", target).with_payload(&data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Release> {
        parse_changelog(text, Path::new("CHANGELOG.md")).unwrap()
    }

    fn newest(releases: &[Release]) -> &str {
        &releases
            .iter()
            .max_by(|a, b| a.version.cmp_precedence(&b.version))
            .unwrap()
            .name
    }

    #[test]
    fn headers_with_and_without_v_out_of_order_are_parsed_and_ordered() {
        let text = "# Changelog\n## [Unreleased]\n## [0.2.0] - 2026-01-01\n## [v0.10.0] - 2026-03-01\n## [v0.3.0-rc.1]\n## [v0.3.0](https://x/y) - 2026-02-01\n";
        let releases = parse(text);
        let names: Vec<&str> = releases.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["0.2.0", "v0.10.0", "v0.3.0-rc.1", "v0.3.0"]);
        assert_eq!(releases[3].date.as_deref(), Some("2026-02-01"));
        assert_eq!(releases[2].date, None);
        assert_eq!(newest(&releases), "v0.10.0");
        assert!(releases[2].version < releases[3].version);
    }

    /// SemVer 2.0 §11: numeric pre-release identifiers compare numerically, and a
    /// pre-release has lower precedence than its release.
    #[test]
    fn release_candidates_compare_by_semver_precedence() {
        let releases = parse("## [1.0.0-rc.9]\n## [1.0.0-rc.13]\n## [1.0.0-beta.11]\n");
        assert_eq!(newest(&releases), "1.0.0-rc.13");
        let releases = parse("## [1.0.0-rc.13]\n## [1.0.0]\n## [1.0.0-alpha]\n");
        assert_eq!(newest(&releases), "1.0.0");
        // Build metadata does not change precedence: the same release written twice.
        let releases = parse("## [1.0.0+20130313144700]\n## [1.0.0]\n");
        assert_eq!(releases.len(), 1);
    }

    #[test]
    fn headings_at_any_level_with_or_without_brackets_link_and_date() {
        let text = "# [3.1.0](https://x/compare/v3.0.0...v3.1.0) (2025-09-27)\n\
                    ## [3.0.1](https://x/compare/v3.0.0...v3.0.1) (2025-09-20)\n\
                    ### [2.9.1](https://x) (2025-01-02)\n\
                    # 1.0.0 (2016-04-04)\n\
                    ## v0.9.0\n\
                    ## 0.8.0 - 2015-01-01\n\
                    ## Version 0.7.0 (2014-01-01)\n\
                    ## <a name=\"0.6.0\"></a>0.6.0 \"Codename\" (2013-01-01)\n\
                    ### Features\n### Bug Fixes\n";
        let releases = parse(text);
        let found: Vec<(&str, Option<&str>)> = releases
            .iter()
            .map(|r| (r.name.as_str(), r.date.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("3.1.0", Some("2025-09-27")),
                ("3.0.1", Some("2025-09-20")),
                ("2.9.1", Some("2025-01-02")),
                ("1.0.0", Some("2016-04-04")),
                ("v0.9.0", None),
                ("0.8.0", Some("2015-01-01")),
                ("0.7.0", Some("2014-01-01")),
                ("0.6.0", Some("2013-01-01")),
            ]
        );
    }

    #[test]
    fn code_blocks_and_non_headings_are_not_releases() {
        let text = "## [1.0.0]\n```sh\n# 9.9.9 is not a heading here\n```\n#9.0.0 no space\n    # 8.0.0 indented code\n";
        let names: Vec<String> = parse(text).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["1.0.0"]);
    }

    #[test]
    fn a_header_that_is_not_a_version_names_its_line() {
        let err = parse_changelog("## [v1.0.0]\n\n## [next]\n", Path::new("C.md")).unwrap_err();
        assert_eq!(err.reason(), "invalid_changelog");
        assert!(err.message.starts_with("C.md:3:"), "{err}");
        assert!(err.message.contains("\"next\""), "{err}");
        let err =
            parse_changelog("# Changelog\n## 1.2 - 2020-01-01\n", Path::new("C.md")).unwrap_err();
        assert!(err.message.starts_with("C.md:2:"), "{err}");
        // Deeper headings that are not versions are sections, not errors.
        assert!(parse("## [1.0.0]\n### [Bug Fixes]\n### 2.0 notes\n").len() == 1);
    }

    #[test]
    fn only_hex_shas_reach_git() {
        assert!(plausible_sha("0a1b2c3d"));
        assert!(!plausible_sha("--output=/tmp/x"));
        assert!(!plausible_sha("local"));
    }
}
