//! Finding `<script>` and `<link>` start tags in HTML with a WHATWG tokenizer
//! (html5gum), keeping every attribute exactly as written, duplicates included.
//!
//! Why the tokenizer and not a tree builder: the HTML spec drops a repeated
//! attribute while tokenizing (`integrity="sha384-…" integrity=""` keeps the first),
//! and DOM-building parsers (html5ever, scraper) follow it, so the duplicate the
//! browser silently ignores would be invisible to us. html5gum leaves that step to
//! its emitter; its `CallbackEmitter` reports each attribute name and value as it is
//! tokenized, so we see them all, in order. The tokenizer switches to the raw-text
//! states after `<script>`, `<style>`, `<textarea>`, `<noscript>` and the like, so
//! tags inside script text, comments and CDATA-like content are not mistaken for
//! real ones.

use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
use html5gum::{Span, Tokenizer};

/// A `<script>` or `<link>` start tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// `script` or `link` (the tokenizer lower-cases names).
    pub name: String,
    /// 1-based line of the `<`.
    pub line: usize,
    /// Every attribute in source order, duplicates kept; a bare attribute has "".
    pub attrs: Vec<(String, String)>,
}

impl Tag {
    /// The first value of an attribute, which is the one a browser uses.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of an attribute, in source order.
    pub fn attr_all(&self, name: &str) -> Vec<&str> {
        self.attrs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// All `<script>` and `<link>` start tags of a page.
pub fn scan(html: &[u8]) -> Vec<Tag> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(
            html.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let line_of = move |offset: usize| line_starts.partition_point(|&start| start <= offset);
    let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    let mut current: Option<Tag> = None;
    let mut emitter = CallbackEmitter::new(
        move |event: CallbackEvent<'_>, span: Span<usize>| -> Option<Tag> {
            match event {
                CallbackEvent::OpenStartTag { name } => {
                    current = (name == b"script" || name == b"link").then(|| Tag {
                        name: lossy(name),
                        line: line_of(span.start),
                        attrs: Vec::new(),
                    });
                }
                CallbackEvent::AttributeName { name } => {
                    if let Some(tag) = &mut current {
                        tag.attrs.push((lossy(name), String::new()));
                    }
                }
                CallbackEvent::AttributeValue { value } => {
                    if let Some((_, v)) = current.as_mut().and_then(|tag| tag.attrs.last_mut()) {
                        *v = lossy(value);
                    }
                }
                CallbackEvent::CloseStartTag { .. } => return current.take(),
                CallbackEvent::EndTag { .. } => current = None,
                _ => {}
            }
            None
        },
    );
    emitter.naively_switch_states(true);
    Tokenizer::new_with_emitter(html, emitter)
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_survive_and_lines_count() {
        let html = b"<!doctype html>\n<html><head>\n<SCRIPT SRC='/a.js' integrity=\"sha384-x\" integrity=\"\" defer></script>\n\
<!-- <script src=commented.js></script> -->\n<script>var s = '<script src=inline.js></script>';</script>\n\
<link rel=stylesheet href=\"b&amp;c.css\">\n";
        let tags = scan(html);
        // The inline script is a tag without src; nothing inside it or the comment counts.
        assert_eq!(tags.len(), 3, "{tags:?}");
        assert!(tags[1].attrs.is_empty());
        assert_eq!(tags[0].name, "script");
        assert_eq!(tags[0].line, 3);
        assert_eq!(tags[0].attr("src"), Some("/a.js"));
        assert_eq!(tags[0].attr_all("integrity"), vec!["sha384-x", ""]);
        assert_eq!(tags[0].attr("defer"), Some(""));
        assert_eq!(tags[2].line, 6);
        assert_eq!(tags[2].attr("href"), Some("b&c.css"));
    }
}
