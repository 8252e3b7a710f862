//! The changelog gate: `docs/CHANGELOG.md` (Keep a Changelog) has an entry for the
//! legacy removal under `[Unreleased]` or under the release being cut.

use serde_json::json;

use super::{read_input, CutoverArgs, Finding};

/// Where the removal entry was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The section heading, e.g. `[Unreleased]` or `[v1.4.0] - 2026-11-28`.
    pub section: String,
    /// 1-based line of the entry.
    pub line: usize,
    pub text: String,
}

/// Which sections count: `[Unreleased]`, and the release being cut (with or without
/// its leading `v`).
fn section_counts(heading: &str, release: Option<&str>) -> bool {
    let name = heading
        .trim_start_matches('[')
        .split(']')
        .next()
        .unwrap_or("")
        .trim();
    if name.eq_ignore_ascii_case("unreleased") {
        return true;
    }
    match release {
        Some(release) => name.trim_start_matches('v') == release.trim_start_matches('v'),
        None => false,
    }
}

/// Whether a changelog line announces the removal of the legacy path.
fn announces_removal(line: &str, legacy_prefix: &str) -> bool {
    let lower = line.to_lowercase();
    let names_it = lower.contains(&legacy_prefix.to_lowercase()) || lower.contains("legacy");
    let removes = ["remov", "retir", "drop", "delet", "410"]
        .iter()
        .any(|w| lower.contains(w));
    names_it && removes
}

/// Finds the removal entry in the sections that count.
pub fn find_removal_entry(text: &str, legacy_prefix: &str, release: Option<&str>) -> Option<Entry> {
    let mut current: Option<String> = None;
    for (index, line) in text.lines().enumerate() {
        if let Some(heading) = line.strip_prefix("## ") {
            let heading = heading.trim();
            current = section_counts(heading, release).then(|| heading.to_owned());
            continue;
        }
        if let Some(section) = &current {
            if announces_removal(line, legacy_prefix) {
                return Some(Entry {
                    section: section.clone(),
                    line: index + 1,
                    text: line.trim().to_owned(),
                });
            }
        }
    }
    None
}

/// The step: a removal entry under `[Unreleased]` (or the release being cut).
pub(super) fn step(args: &CutoverArgs) -> Finding {
    let text = match read_input(&args.changelog, "changelog") {
        Ok(text) => text,
        Err(finding) => return finding,
    };
    match find_removal_entry(&text, &args.legacy_prefix, args.release.as_deref()) {
        Some(entry) => Finding::pass(
            format!(
                "{}:{} under {}: {}",
                args.changelog.display(),
                entry.line,
                entry.section,
                entry.text
            ),
            json!({"file": args.changelog, "line": entry.line, "section": entry.section, "entry": entry.text}),
        ),
        None => Finding::fail(
            "changelog_entry_missing",
            format!(
                "{} has no entry for the removal of {} under [Unreleased]{}",
                args.changelog.display(),
                args.legacy_prefix,
                args.release
                    .as_deref()
                    .map(|r| format!(" or [{r}]"))
                    .unwrap_or_default()
            ),
            json!({"file": args.changelog}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "# Changelog\n\n## [Unreleased]\n### Removed\n- Legacy `/status/summary` endpoint (answers 410).\n\n## [v1.3.0] - 2026-10-01\n- Remove legacy fallback badge\n\n## [0.2.0] - 2025-01-01\n";

    #[test]
    fn an_unreleased_entry_counts() {
        let entry = find_removal_entry(LOG, "/status/", None).unwrap();
        assert_eq!((entry.section.as_str(), entry.line), ("[Unreleased]", 5));
    }

    #[test]
    fn only_the_release_being_cut_counts_besides_unreleased() {
        let without = LOG.replace("- Legacy `/status/summary` endpoint (answers 410).\n", "");
        assert_eq!(find_removal_entry(&without, "/status/", None), None);
        assert_eq!(
            find_removal_entry(&without, "/status/", Some("1.3.0"))
                .unwrap()
                .line,
            7
        );
        assert_eq!(
            find_removal_entry(&without, "/status/", Some("v0.2.0")),
            None
        );
    }
}
