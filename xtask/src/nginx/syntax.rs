//! nginx's configuration grammar, read the way nginx reads it.
//!
//! The tokenizer follows `ngx_conf_read_token` in nginx's `src/core/ngx_conf_file.c`
//! (github.com/nginx/nginx): a word ends at whitespace, `;` or `{` (not at `}`); `#`
//! starts a comment only where a word could start; `"…"` and `'…'` quote, and a quoted
//! word must be followed by whitespace, `;`, `{` or `)`; `\` escapes the next
//! character (`\"`, `\'`, `\\`, `\t`, `\r`, `\n` are unescaped, any other pair is
//! kept); `${` inside a word is a variable, not a block.
//!
//! Blocks are read with an explicit stack, never by recursion, and their nesting is
//! bounded by [`MAX_DEPTH`]: a hostile file of 21,000 nested `a {` is a one-line error
//! naming the file and line, not a stack overflow.

use std::fmt;

/// Deepest nesting of blocks accepted (including blocks opened in included files).
/// Real configurations nest about six deep (`http` › `server` › `location` ›
/// `location` › `if` › `limit_except`); nginx itself has no bound but recursion.
pub const MAX_DEPTH: usize = 50;

/// One directive with its arguments and, for block directives, its children.
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    pub children: Vec<Directive>,
    /// Whether it is a block directive (`name args { … }`).
    pub block: bool,
    /// Index of the file it was read from, in [`super::Config::files`].
    pub file: usize,
    /// 1-based line of the directive's name.
    pub line: usize,
    /// 1-based line of the `;` or of the closing `}`.
    pub end_line: usize,
    /// Byte offsets in its file: where the name starts, and just past the `;` or `}`.
    pub span: (usize, usize),
    /// Byte offset of the `{` of a block.
    pub open: Option<usize>,
}

/// A syntax error: the 1-based line and what is wrong, in nginx's words where nginx
/// has them.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// What the tokenizer found next, as `ngx_conf_read_token` returns it.
#[derive(Debug)]
enum Event {
    /// A directive ended by `;` (`block` false) or by `{` (`block` true).
    Directive {
        words: Vec<String>,
        line: usize,
        start: usize,
        end: usize,
        block: bool,
    },
    /// A `}`.
    BlockDone { line: usize, end: usize },
    /// The end of the text.
    End,
}

struct Lexer<'t> {
    text: &'t [u8],
    pos: usize,
    line: usize,
}

fn is_space(ch: u8) -> bool {
    matches!(ch, b' ' | b'\t' | b'\r' | b'\n')
}

/// Unescapes a word as `ngx_conf_read_token` does when it copies it.
fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && i + 1 < raw.len() {
            let unescaped = match raw[i + 1] {
                c @ (b'"' | b'\'' | b'\\') => Some(c),
                b't' => Some(b'\t'),
                b'r' => Some(b'\r'),
                b'n' => Some(b'\n'),
                _ => None,
            };
            if let Some(c) = unescaped {
                out.push(c);
                i += 2;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl<'t> Lexer<'t> {
    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.line,
            message: message.into(),
        }
    }

    fn next(&mut self) -> Result<Event, SyntaxError> {
        let mut words: Vec<String> = Vec::new();
        let mut first: Option<(usize, usize)> = None;
        let (mut need_space, mut last_space, mut sharp_comment) = (false, true, false);
        let (mut quoted, mut s_quoted, mut d_quoted, mut variable) = (false, false, false, false);
        let mut start = self.pos;
        loop {
            if self.pos >= self.text.len() {
                if !words.is_empty() || !last_space {
                    return Err(self.error("unexpected end of file, expecting \";\" or \"}\""));
                }
                return Ok(Event::End);
            }
            let ch = self.text[self.pos];
            self.pos += 1;
            if ch == b'\n' {
                self.line += 1;
                sharp_comment = false;
            }
            if sharp_comment {
                continue;
            }
            if quoted {
                quoted = false;
                continue;
            }
            if need_space {
                if is_space(ch) {
                    last_space = true;
                    need_space = false;
                    continue;
                }
                match ch {
                    b';' | b'{' => {
                        let (line, start) = first.unwrap_or((self.line, self.pos - 1));
                        return Ok(Event::Directive {
                            words,
                            line,
                            start,
                            end: self.pos,
                            block: ch == b'{',
                        });
                    }
                    b')' => {
                        last_space = true;
                        need_space = false;
                    }
                    other => {
                        return Err(self.error(format!("unexpected \"{}\"", other as char)));
                    }
                }
            }
            if last_space {
                start = self.pos - 1;
                if is_space(ch) {
                    continue;
                }
                if first.is_none() && !matches!(ch, b';' | b'{' | b'}' | b'#') {
                    first = Some((self.line, start));
                }
                match ch {
                    b';' | b'{' => {
                        if words.is_empty() {
                            return Err(self.error(format!("unexpected \"{}\"", ch as char)));
                        }
                        let (line, begin) = first.unwrap_or((self.line, start));
                        return Ok(Event::Directive {
                            words,
                            line,
                            start: begin,
                            end: self.pos,
                            block: ch == b'{',
                        });
                    }
                    b'}' => {
                        if !words.is_empty() {
                            return Err(self.error("unexpected \"}\""));
                        }
                        return Ok(Event::BlockDone {
                            line: self.line,
                            end: self.pos,
                        });
                    }
                    b'#' => {
                        sharp_comment = true;
                        continue;
                    }
                    b'\\' => {
                        quoted = true;
                        last_space = false;
                        continue;
                    }
                    b'"' => {
                        start += 1;
                        d_quoted = true;
                        last_space = false;
                        continue;
                    }
                    b'\'' => {
                        start += 1;
                        s_quoted = true;
                        last_space = false;
                        continue;
                    }
                    b'$' => {
                        variable = true;
                        last_space = false;
                        continue;
                    }
                    _ => last_space = false,
                }
            } else {
                if ch == b'{' && variable {
                    continue;
                }
                variable = false;
                if ch == b'\\' {
                    quoted = true;
                    continue;
                }
                if ch == b'$' {
                    variable = true;
                    continue;
                }
                let mut found = false;
                if d_quoted {
                    if ch == b'"' {
                        d_quoted = false;
                        need_space = true;
                        found = true;
                    }
                } else if s_quoted {
                    if ch == b'\'' {
                        s_quoted = false;
                        need_space = true;
                        found = true;
                    }
                } else if is_space(ch) || ch == b';' || ch == b'{' {
                    last_space = true;
                    found = true;
                }
                if found {
                    words.push(unescape(&self.text[start..self.pos - 1]));
                    if ch == b';' || ch == b'{' {
                        let (line, begin) = first.unwrap_or((self.line, start));
                        return Ok(Event::Directive {
                            words,
                            line,
                            start: begin,
                            end: self.pos,
                            block: ch == b'{',
                        });
                    }
                }
            }
        }
    }
}

/// What the parser calls for an `include`: the directive and the nesting depth the
/// included file starts at, to the directives that take its place.
pub type Include<'a> = dyn FnMut(&Directive, usize) -> Result<Vec<Directive>, IncludeError> + 'a;

/// Parses one file's text into its top-level directives. `include` is what the
/// caller does with an `include` directive: it returns the directives to put in its
/// place, and gets the nesting depth the included file starts at.
pub fn parse(
    text: &str,
    file: usize,
    base_depth: usize,
    include: &mut Include<'_>,
) -> Result<Vec<Directive>, IncludeError> {
    let mut lexer = Lexer {
        text: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    // The open blocks, innermost last; the bottom entry collects the file's top level.
    let mut open: Vec<Directive> = vec![Directive {
        name: String::new(),
        args: Vec::new(),
        children: Vec::new(),
        block: true,
        file,
        line: 0,
        end_line: 0,
        span: (0, 0),
        open: None,
    }];
    loop {
        match lexer.next().map_err(IncludeError::Syntax)? {
            Event::End => {
                if open.len() > 1 {
                    let innermost = open.last().map_or(0, |d| d.line);
                    return Err(IncludeError::Syntax(SyntaxError {
                        line: innermost,
                        message: format!(
                            "unexpected end of file, expecting \"}}\" (the block opened on line {innermost} is not closed)"
                        ),
                    }));
                }
                return Ok(open.pop().map(|top| top.children).unwrap_or_default());
            }
            Event::BlockDone { line, end } => {
                if open.len() == 1 {
                    return Err(IncludeError::Syntax(SyntaxError {
                        line,
                        message: "unexpected \"}\"".into(),
                    }));
                }
                let mut block = open.pop().expect("more than one open block");
                block.end_line = line;
                block.span.1 = end;
                open.last_mut()
                    .expect("the file's top level")
                    .children
                    .push(block);
            }
            Event::Directive {
                mut words,
                line,
                start,
                end,
                block,
            } => {
                let name = words.remove(0);
                let mut directive = Directive {
                    name,
                    args: words,
                    children: Vec::new(),
                    block,
                    file,
                    line,
                    end_line: lexer.line,
                    span: (start, end),
                    open: block.then_some(end - 1),
                };
                let depth = base_depth + open.len() - 1;
                if block {
                    if depth >= MAX_DEPTH {
                        return Err(IncludeError::Syntax(SyntaxError {
                            line,
                            message: format!("blocks nested deeper than {MAX_DEPTH} levels"),
                        }));
                    }
                    open.push(directive);
                } else if directive.name == "include" {
                    if directive.args.len() != 1 {
                        return Err(IncludeError::Syntax(SyntaxError {
                            line,
                            message: "invalid number of arguments in \"include\" directive".into(),
                        }));
                    }
                    let included = include(&directive, depth)?;
                    open.last_mut()
                        .expect("the file's top level")
                        .children
                        .extend(included);
                } else {
                    directive.end_line = lexer.line;
                    open.last_mut()
                        .expect("the file's top level")
                        .children
                        .push(directive);
                }
            }
        }
    }
}

/// Why a file (or a file it includes) could not be read into directives.
#[derive(Debug, Clone, PartialEq)]
pub enum IncludeError {
    /// A syntax error in the file being parsed.
    Syntax(SyntaxError),
    /// An error already located in another file (an included one): passed up as is.
    Located {
        file: String,
        line: usize,
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_include(_: &Directive, _: usize) -> Result<Vec<Directive>, IncludeError> {
        panic!("no include expected")
    }

    fn read(text: &str) -> Result<Vec<Directive>, SyntaxError> {
        parse(text, 0, 0, &mut no_include).map_err(|e| match e {
            IncludeError::Syntax(s) => s,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn words_end_where_nginx_ends_them() {
        // `}` does not end a word; `${…}` is a variable; `#` inside a word is a word.
        let config = read("a b}c ${x}y d#e; # comment\n").unwrap();
        assert_eq!(config[0].name, "a");
        assert_eq!(config[0].args, vec!["b}c", "${x}y", "d#e"]);
        let config = read("if ($request_uri ~ \"^/x\") { return 410; }\n").unwrap();
        assert_eq!(config[0].args, vec!["($request_uri", "~", "^/x", ")"]);
        assert_eq!(config[0].children[0].args, vec!["410"]);
    }

    #[test]
    fn quotes_and_escapes_follow_nginx() {
        let config = read("return 200 '{\"ok\":false}';\n").unwrap();
        assert_eq!(config[0].args, vec!["200", "{\"ok\":false}"]);
        let config = read("a \"x\\\"y\" z\\;w;\n").unwrap();
        assert_eq!(config[0].args, vec!["x\"y", "z\\;w"]);
        let err = read("a \"b\"c;\n").unwrap_err();
        assert_eq!(err.message, "unexpected \"c\"");
    }

    #[test]
    fn syntax_errors_name_their_line() {
        let err = read("http {\n  server {\n    listen 80\n  }\n").unwrap_err();
        assert_eq!(
            err.line, 4,
            "nginx sees the `}}` inside a directive: {err:?}"
        );
        let err = read("http {\n  server {\n").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
        let err = read("a \"b;\n").unwrap_err();
        assert!(err.message.starts_with("unexpected end of file"), "{err:?}");
        let err = read("}\n").unwrap_err();
        assert_eq!((err.line, err.message.as_str()), (1, "unexpected \"}\""));
        let err = read("\n;\n").unwrap_err();
        assert_eq!((err.line, err.message.as_str()), (2, "unexpected \";\""));
    }

    #[test]
    fn spans_and_lines_cover_the_block() {
        let text = "server {\n    location /a { return 410; }\n}\n";
        let config = read(text).unwrap();
        let location = &config[0].children[0];
        assert_eq!((location.line, location.end_line), (2, 2));
        assert_eq!(
            &text[location.span.0..location.span.1],
            "location /a { return 410; }"
        );
        assert_eq!(config[0].end_line, 3);
    }

    /// Issue 18: 21,000 nested blocks overflowed the stack of the recursive reader.
    #[test]
    fn deep_nesting_is_an_error_on_its_line_not_a_stack_overflow() {
        let text = "a {\n".repeat(21_000);
        let err = read(&text).unwrap_err();
        assert_eq!(err.line, MAX_DEPTH + 1, "{err:?}");
        assert!(err.message.contains("nested deeper"), "{err:?}");
        let closed = format!("{}{}", "a {\n".repeat(MAX_DEPTH), "}\n".repeat(MAX_DEPTH));
        assert!(read(&closed).is_ok());
    }
}
