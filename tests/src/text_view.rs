//! Reading the text view (`--format text`, day2-core's `human` module) back in
//! tests: headings are the checks, rows start with the verdict column, and the lines
//! indented below a row are its message and advice.

/// One row of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The check (the heading above the row).
    pub check: String,
    /// The verdict column: PASS, FAIL, ERROR, WARN, INFO or SKIP.
    pub label: String,
    /// The rest of the row: target, reason, duration.
    pub text: String,
    /// The indented lines below: the message, then `> ` advice lines.
    pub below: Vec<String>,
}

const LABELS: [&str; 6] = ["PASS", "FAIL", "ERROR", "WARN", "INFO", "SKIP"];

/// The rows of a checklist; panics on a line that is none of heading, row, or a
/// line below a row, so a test sees a broken layout.
pub fn rows(text: &str) -> Vec<Row> {
    let mut check = None::<String>;
    let mut rows: Vec<Row> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("         ") {
            let row = rows
                .last_mut()
                .unwrap_or_else(|| panic!("{line:?} below no row in\n{text}"));
            row.below.push(rest.to_owned());
        } else if let Some(rest) = line.strip_prefix("  ") {
            if rest.starts_with('…') {
                continue;
            }
            let label = LABELS
                .into_iter()
                .find(|l| rest.starts_with(l))
                .unwrap_or_else(|| panic!("{line:?} is not a row in\n{text}"));
            rows.push(Row {
                check: check
                    .clone()
                    .unwrap_or_else(|| panic!("{line:?} before any heading in\n{text}")),
                label: label.to_owned(),
                text: rest[label.len()..].trim().to_owned(),
                below: Vec::new(),
            });
        } else if !line.starts_with(' ') && !line.is_empty() {
            check = Some(line.to_owned());
        } else {
            panic!("{line:?} is not part of a checklist in\n{text}");
        }
    }
    rows
}

/// Whether `text` has a row of `check` with `label` whose text starts with `starts`.
pub fn has_row(text: &str, check: &str, label: &str, starts: &str) -> bool {
    rows(text)
        .iter()
        .any(|r| r.check == check && r.label == label && r.text.starts_with(starts))
}
