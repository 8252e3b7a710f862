//! Text from inputs made safe to show a person on a terminal.
//!
//! A crafted file name, log line, manifest key or server answer can carry terminal
//! control sequences: `ESC [ 2 J` clears the screen, `ESC ] 8 ;;` writes a link, a
//! bare CR lets a line overwrite what was printed before it, and the Unicode
//! bidirectional controls reorder what is shown ("Trojan Source", CVE-2021-42574).
//! Everything written to stderr for a person goes through [`escape_controls`]
//! ([`crate::Io::error`] does it), so such text shows as harmless escapes
//! (`\u001b[2J`) instead of acting on the terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether a character acts on a terminal instead of showing: the C0 controls
/// (tab excepted), DEL, the C1 controls (U+0080–U+009F: 0x9B is a one-byte CSI on
/// some terminals), and the bidirectional embeddings, overrides and isolates.
fn acts_on_terminal(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The text with every character that acts on a terminal escaped in JSON's notation
/// (`\n`, `\r`, `\u001b`, `\u202e`); everything else, tabs included, unchanged.
/// Borrowed when there is nothing to escape.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if acts_on_terminal(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape_controls`] on each line, keeping the line breaks: for text that is
/// several lines on purpose (clap's usage errors) but whose lines may quote input.
pub fn escape_controls_keep_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && acts_on_terminal(c)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(escape_controls).collect();
    Cow::Owned(lines.join("\n"))
}

/// `text` made fit for a person's terminal, as everything the renderer shows (stderr
/// lines, the checklist, progress): credentials in URLs masked
/// ([`crate::redact::mask_urls`]) and control characters (terminal escapes, newlines,
/// bidi controls) shown escaped ([`escape_controls`]), so a value a
/// server sent can neither leak a password nor move the cursor or forge a line.
/// Borrowed when there is nothing to change; [`crate::cli::for_stderr`] is the same.
pub fn printable(text: &str) -> Cow<'_, str> {
    match crate::redact::mask_urls(text) {
        Cow::Borrowed(text) => escape_controls(text),
        Cow::Owned(masked) => Cow::Owned(escape_controls(&masked).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_escaped_and_plain_text_is_kept() {
        assert!(matches!(
            escape_controls("plain text, tabs\tok"),
            Cow::Borrowed(_)
        ));
        assert_eq!(escape_controls("a\u{1b}[2Jb"), "a\\u001b[2Jb");
        assert_eq!(escape_controls("ok\rEVIL"), "ok\\rEVIL");
        assert_eq!(escape_controls("two\nlines"), "two\\nlines");
        assert_eq!(escape_controls("\u{9b}31m"), "\\u009b31m");
        assert_eq!(escape_controls("\u{7f}"), "\\u007f");
        assert_eq!(escape_controls("abc\u{202e}fed"), "abc\\u202efed");
        assert_eq!(escape_controls("é ü 日本"), "é ü 日本");
    }

    #[test]
    fn line_breaks_can_be_kept() {
        assert_eq!(
            escape_controls_keep_lines("error: bad \u{1b}]8;;x\u{7}\n\nusage\n"),
            "error: bad \\u001b]8;;x\\u0007\n\nusage\n"
        );
        assert!(matches!(
            escape_controls_keep_lines("a\nb\n"),
            Cow::Borrowed(_)
        ));
    }
}
