//! Searching a repository for what still reads the legacy path: frontend fallbacks,
//! scripts, monitors and workflows that will break when it answers 410.

use std::path::{Path, PathBuf};

/// One place that still names the legacy path.
#[derive(Debug, Clone, PartialEq)]
pub struct Reader {
    pub path: PathBuf,
    pub line: usize,
    pub text: String,
}

/// Files that hold code or configuration; prose (a changelog saying the path is gone)
/// is not a reader.
const CODE_EXTENSIONS: &[&str] = &[
    "js", "mjs", "cjs", "ts", "tsx", "jsx", "vue", "svelte", "html", "py", "sh", "bash", "ps1",
    "psm1", "yml", "yaml", "json", "toml", "conf", "rs", "go", "rb", "php",
];
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "target",
    "node_modules",
    "vendor",
    "dist",
    "build",
    ".venv",
];
const LARGEST_FILE: u64 = 2 * 1024 * 1024;
/// Bounds the walk of a huge tree.
const MOST_FILES: usize = 200_000;

/// Whether `line` names the legacy prefix other than as part of the api path or as
/// the nginx `location` being retired.
fn reads_legacy(line: &str, legacy_prefix: &str, api_prefix: &str) -> bool {
    if line.trim_start().starts_with("location ") {
        return false;
    }
    let api_tail = api_prefix.strip_suffix(legacy_prefix);
    line.match_indices(legacy_prefix)
        .any(|(at, _)| match api_tail {
            Some(head) => !line[..at].ends_with(head),
            None => true,
        })
}

/// Every line under `root` that reads the legacy path, in path order.
pub fn find_readers(
    root: &Path,
    legacy_prefix: &str,
    api_prefix: &str,
) -> std::io::Result<Vec<Reader>> {
    let mut readers = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            let name = entry.file_name();
            if kind.is_dir() && !SKIPPED_DIRS.iter().any(|s| name == *s) {
                pending.push(path);
            } else if kind.is_file()
                && path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| CODE_EXTENSIONS.contains(&e))
                && entry.metadata()?.len() <= LARGEST_FILE
                && files.len() < MOST_FILES
            {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (index, line) in text.lines().enumerate() {
            if reads_legacy(line, legacy_prefix, api_prefix) {
                let shown: String = line.trim().chars().take(160).collect();
                readers.push(Reader {
                    path: path.strip_prefix(root).unwrap_or(&path).to_path_buf(),
                    line: index + 1,
                    text: shown,
                });
            }
        }
    }
    Ok(readers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_path_and_the_location_itself_are_not_readers() {
        assert!(!reads_legacy(
            "fetch('/api/status/summary')",
            "/status/",
            "/api/status/"
        ));
        assert!(!reads_legacy(
            "    location /status/ {",
            "/status/",
            "/api/status/"
        ));
        assert!(reads_legacy(
            "fetch('/status/summary')",
            "/status/",
            "/api/status/"
        ));
        assert!(reads_legacy(
            "a('/api/status/x') || b('/status/summary')",
            "/status/",
            "/api/status/"
        ));
    }

    #[test]
    fn readers_are_found_in_code_and_not_in_prose_or_vendored_trees() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("web/src")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::write(
            root.join("web/src/status.ts"),
            "const a = '/api/status/summary';\nconst b = '/status/summary';\n",
        )
        .unwrap();
        std::fs::write(root.join("node_modules/x/i.js"), "'/status/summary'\n").unwrap();
        std::fs::write(root.join("CHANGELOG.md"), "- removed /status/summary\n").unwrap();
        let readers = find_readers(root, "/status/", "/api/status/").unwrap();
        assert_eq!(readers.len(), 1, "{readers:?}");
        assert_eq!(
            (readers[0].path.as_path(), readers[0].line),
            (Path::new("web/src/status.ts"), 2)
        );
    }
}
