//! CHANGELOG.md (untrusted Markdown from the repository), read by status-probe's
//! freshness check (`freshness::parse_changelog`: Keep a Changelog,
//! conventional-changelog, semantic-release, changesets headings). Promises: a
//! changelog the reader cannot read is a one-line error naming file and line, never
//! a panic; every release it finds is on a heading line that names it, once.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = Path::new("CHANGELOG.md");
    match status_probe::freshness::parse_changelog(&text, file) {
        Ok(releases) => {
            let lines: Vec<&str> = text.lines().collect();
            let mut names = std::collections::BTreeSet::new();
            for release in &releases {
                let line = lines
                    .get(release.line.wrapping_sub(1))
                    .unwrap_or_else(|| panic!("{release:?} is past the last line"));
                assert!(line.contains(&release.name), "{release:?} on {line:?}");
                assert!(names.insert(release.name.clone()), "{release:?} twice");
            }
        }
        Err(problem) => {
            assert!(problem.message.starts_with("CHANGELOG.md:"), "{problem}");
        }
    }
});
