//! Reading an nginx configuration (a file, or the output of `nginx -T`) well enough
//! to find the legacy `location` block, tell what it does, and write the patch that
//! retires it with `return 410;`.
//!
//! This is a tokenizer for nginx's directive grammar (words, quoted strings, `;`,
//! `{`, `}`, `#` comments), not a text search: a commented-out block or a `proxy_pass`
//! in a neighbouring location must not fool the check.

use std::fmt::Write as _;

/// One directive with its arguments and, for block directives, its children.
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    pub children: Vec<Directive>,
    /// 1-based line of the directive's name.
    pub line: usize,
    /// 1-based line of the `;` or of the closing `}`.
    pub end_line: usize,
}

/// A syntax error with its line.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Semicolon,
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, SyntaxError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            ';' => tokens.push((Token::Semicolon, line)),
            '{' => tokens.push((Token::Open, line)),
            '}' => tokens.push((Token::Close, line)),
            quote @ ('"' | '\'') => {
                let start = line;
                let mut word = String::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                line += usize::from(escaped == '\n');
                                word.push(escaped);
                            }
                        }
                        c if c == quote => {
                            closed = true;
                            break;
                        }
                        other => {
                            line += usize::from(other == '\n');
                            word.push(other);
                        }
                    }
                }
                if !closed {
                    return Err(SyntaxError {
                        line: start,
                        message: "unterminated quoted string".into(),
                    });
                }
                tokens.push((Token::Word(word), start));
            }
            other => {
                let mut word = String::from(other);
                while let Some(&next) = chars.peek() {
                    if next.is_whitespace() || matches!(next, ';' | '{' | '}') {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                tokens.push((Token::Word(word), line));
            }
        }
    }
    Ok(tokens)
}

/// Parses a whole configuration into its top-level directives.
pub fn parse(text: &str) -> Result<Vec<Directive>, SyntaxError> {
    let tokens = tokenize(text)?;
    let mut position = 0;
    let directives = parse_block(&tokens, &mut position, None)?;
    Ok(directives)
}

fn parse_block(
    tokens: &[(Token, usize)],
    position: &mut usize,
    opened_at: Option<usize>,
) -> Result<Vec<Directive>, SyntaxError> {
    let mut directives = Vec::new();
    while *position < tokens.len() {
        let (token, line) = &tokens[*position];
        match token {
            Token::Close => {
                if opened_at.is_none() {
                    return Err(SyntaxError {
                        line: *line,
                        message: "unexpected \"}\"".into(),
                    });
                }
                return Ok(directives);
            }
            Token::Semicolon | Token::Open => {
                return Err(SyntaxError {
                    line: *line,
                    message: "directive without a name".into(),
                });
            }
            Token::Word(name) => {
                let mut directive = Directive {
                    name: name.clone(),
                    args: Vec::new(),
                    children: Vec::new(),
                    line: *line,
                    end_line: *line,
                };
                *position += 1;
                loop {
                    let Some((token, line)) = tokens.get(*position) else {
                        return Err(SyntaxError {
                            line: directive.line,
                            message: format!(
                                "directive \"{}\" is not terminated by \";\"",
                                directive.name
                            ),
                        });
                    };
                    *position += 1;
                    match token {
                        Token::Word(arg) => directive.args.push(arg.clone()),
                        Token::Semicolon => {
                            directive.end_line = *line;
                            break;
                        }
                        Token::Open => {
                            directive.children = parse_block(tokens, position, Some(*line))?;
                            let Some((Token::Close, close_line)) = tokens.get(*position) else {
                                return Err(SyntaxError {
                                    line: *line,
                                    message: "unexpected end of file, expecting \"}\"".into(),
                                });
                            };
                            directive.end_line = *close_line;
                            *position += 1;
                            break;
                        }
                        Token::Close => {
                            return Err(SyntaxError {
                                line: directive.line,
                                message: format!(
                                    "directive \"{}\" is not terminated by \";\" (found \"}}\" on line {line})",
                                    directive.name
                                ),
                            });
                        }
                    }
                }
                directives.push(directive);
            }
        }
    }
    match opened_at {
        Some(line) => Err(SyntaxError {
            line,
            message: "unexpected end of file, expecting \"}\"".into(),
        }),
        None => Ok(directives),
    }
}

/// What the configuration does with the legacy path.
#[derive(Debug, Clone, PartialEq)]
pub enum LegacyHandling {
    /// A location for the legacy prefix still proxies it.
    Proxied { line: usize },
    /// A location answers it with `return 404|410`.
    Retired { status: u16, line: usize },
    /// No location matches the prefix, and a catch-all (`location /` with
    /// `try_files`) will answer 200 with the single-page app.
    SpaFallback { line: usize },
    /// No location matches and nothing catches it: nginx's own 404.
    NotRouted,
    /// A location exists but neither proxies nor returns 404/410.
    Other { line: usize },
}

fn walk<'a>(directives: &'a [Directive], out: &mut Vec<&'a Directive>) {
    for directive in directives {
        out.push(directive);
        walk(&directive.children, out);
    }
}

/// The `location` blocks whose (prefix) argument is the legacy prefix.
fn legacy_locations<'a>(config: &'a [Directive], prefix: &str) -> Vec<&'a Directive> {
    let mut all = Vec::new();
    walk(config, &mut all);
    all.into_iter()
        .filter(|d| d.name == "location")
        .filter(|d| match d.args.as_slice() {
            [path] | [_, path] => {
                path == prefix || path.trim_end_matches('/') == prefix.trim_end_matches('/')
            }
            _ => false,
        })
        .collect()
}

/// Classifies how the configuration handles the legacy prefix.
pub fn legacy_handling(config: &[Directive], prefix: &str) -> LegacyHandling {
    let mut all = Vec::new();
    walk(config, &mut all);
    if let Some(location) = legacy_locations(config, prefix).first() {
        let mut inner = Vec::new();
        walk(&location.children, &mut inner);
        if let Some(ret) = inner.iter().find(|d| d.name == "return") {
            if let Some(status) = ret.args.first().and_then(|s| s.parse::<u16>().ok()) {
                if status == 404 || status == 410 {
                    return LegacyHandling::Retired {
                        status,
                        line: location.line,
                    };
                }
            }
        }
        if inner.iter().any(|d| {
            matches!(
                d.name.as_str(),
                "proxy_pass" | "fastcgi_pass" | "uwsgi_pass" | "grpc_pass"
            )
        }) {
            return LegacyHandling::Proxied {
                line: location.line,
            };
        }
        return LegacyHandling::Other {
            line: location.line,
        };
    }
    let catch_all = all.iter().find(|d| {
        d.name == "location" && d.args == ["/"] && {
            let mut inner = Vec::new();
            walk(&d.children, &mut inner);
            inner.iter().any(|c| c.name == "try_files")
        }
    });
    match catch_all {
        Some(location) => LegacyHandling::SpaFallback {
            line: location.line,
        },
        None => LegacyHandling::NotRouted,
    }
}

/// A unified diff that replaces every legacy location block of `text` with one that
/// answers `return 410;`, or `None` when there is no such block.
pub fn retire_patch(
    file_name: &str,
    text: &str,
    config: &[Directive],
    prefix: &str,
) -> Option<String> {
    let blocks = legacy_locations(config, prefix);
    if blocks.is_empty() {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut patch = format!("--- a/{file_name}\n+++ b/{file_name}\n");
    // Each hunk is computed on the original numbering; later hunks shift by the lines
    // earlier ones removed.
    let mut shift: isize = 0;
    for block in blocks {
        let (first, last) = (block.line - 1, block.end_line - 1);
        let indent: String = lines[first]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        let replacement = [
            format!("{indent}location {} {{", block.args.join(" ")),
            format!("{indent}    return 410;"),
            format!("{indent}}}"),
        ];
        let context_before = first.saturating_sub(3);
        let context_after = (last + 3).min(lines.len() - 1);
        let old_len = context_after - context_before + 1;
        let new_len = old_len - (last - first + 1) + replacement.len();
        let new_start = context_before as isize + 1 + shift;
        let _ = writeln!(
            patch,
            "@@ -{},{} +{},{} @@",
            context_before + 1,
            old_len,
            new_start,
            new_len
        );
        for line in &lines[context_before..first] {
            let _ = writeln!(patch, " {line}");
        }
        for line in &lines[first..=last] {
            let _ = writeln!(patch, "-{line}");
        }
        for line in &replacement {
            let _ = writeln!(patch, "+{line}");
        }
        for line in &lines[last + 1..=context_after] {
            let _ = writeln!(patch, " {line}");
        }
        shift += replacement.len() as isize - (last - first + 1) as isize;
    }
    Some(patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVED: &str = "server {\n    listen 80;\n    # location /status/ { return 410; }\n    location /status/ {\n        add_header X-Status-Path legacy always;\n        proxy_pass http://backend;\n    }\n    location / {\n        try_files $uri /index.html;\n    }\n}\n";

    #[test]
    fn a_commented_block_does_not_count_and_the_proxied_one_does() {
        let config = parse(SERVED).unwrap();
        assert_eq!(
            legacy_handling(&config, "/status/"),
            LegacyHandling::Proxied { line: 4 }
        );
    }

    #[test]
    fn a_deleted_block_is_the_spa_fallback_trap() {
        let text = SERVED.replace("    location /status/ {\n        add_header X-Status-Path legacy always;\n        proxy_pass http://backend;\n    }\n", "");
        let config = parse(&text).unwrap();
        assert_eq!(
            legacy_handling(&config, "/status/"),
            LegacyHandling::SpaFallback { line: 4 }
        );
    }

    #[test]
    fn the_patch_retires_the_block_and_the_result_classifies_as_retired() {
        let config = parse(SERVED).unwrap();
        let patch = retire_patch("nginx.conf", SERVED, &config, "/status/").unwrap();
        assert!(
            patch.contains("-        proxy_pass http://backend;\n"),
            "{patch}"
        );
        assert!(patch.contains("+        return 410;\n"), "{patch}");
        let patched = SERVED.replace(
            "    location /status/ {\n        add_header X-Status-Path legacy always;\n        proxy_pass http://backend;\n    }\n",
            "    location /status/ {\n        return 410;\n    }\n",
        );
        assert_eq!(
            legacy_handling(&parse(&patched).unwrap(), "/status/"),
            LegacyHandling::Retired {
                status: 410,
                line: 4
            }
        );
    }

    #[test]
    fn syntax_errors_name_their_line() {
        let err = parse("http {\n  server {\n    listen 80\n  }\n").unwrap_err();
        assert_eq!(err.line, 3, "{err:?}");
        let err = parse("http {\n  server {\n").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
        let err = parse("a \"b;\n").unwrap_err();
        assert_eq!(err.line, 1, "{err:?}");
    }

    #[test]
    fn quoted_words_keep_their_braces() {
        let config = parse("return 200 '{\"ok\":false}';\n").unwrap();
        assert_eq!(config[0].args, vec!["200", "{\"ok\":false}"]);
    }
}
