//! Credentials in URLs, masked wherever a URL is written: records (target, message,
//! data), stderr, Prometheus labels and files.
//!
//! What is masked, and whose rule it follows:
//! - **A userinfo password** (`http://user:pass@host`): the password becomes
//!   `[REDACTED]` and the user name stays, as git's trace2 writes URLs
//!   (git/git `trace2.c`, `redact_arg`: `"%.*s:<REDACTED>%s"`).
//! - **A user name alone** (`https://TOKEN@host`): masked too, because tokens are sent
//!   that way (GitHub's `https://<token>@github.com`); curl drops the user as well as
//!   the password when it stores a URL (curl/curl `src/tool_xattr.c`,
//!   `stripcredentials`, unit test 1621), and git's `transport_anonymize_url`
//!   (`transport.c`) drops the whole userinfo.
//! - **Token-like query and fragment values** (`?token=…`, `#access_token=…`): neither
//!   curl nor git masks query strings (git's `GIT_TRACE_REDACT` masks only the
//!   `Authorization`, `Proxy-Authorization` and `Cookie` headers, http.c
//!   `redact_sensitive_header`), so the keys are the ones the specifications put
//!   secrets in: `access_token` (RFC 6750 §2.3, in the query; RFC 6749 §4.2.2, in the
//!   fragment), `refresh_token`, `id_token`, `client_secret` (RFC 6749 §2.3.1), AWS
//!   SigV4's presigned `X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`,
//!   Azure SAS's `sig`, Google's API `key`, and the common `token`, `password`,
//!   `secret`, `api_key`. See [`is_secret_key`].
//!
//! The scheme must be RFC 3986's (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`), the
//! authority ends at the first `/`, `?` or `#`, and the userinfo is what comes before
//! the last `@` of the authority (an `@` in the path is not a credential: curl's
//! `http://host/@path/`).

use std::borrow::Cow;

/// What a masked credential is replaced with (the form tunnel-check uses too).
pub const MASK: &str = "[REDACTED]";

/// Whether a query or fragment key names a secret. Compared ASCII-case-insensitively
/// with `-` read as `_`, after percent-decoding.
pub fn is_secret_key(key: &str) -> bool {
    // Allocation-free for the common key (no escapes, lower case, no `-`).
    let decoded: Cow<'_, str> = if key.contains('%') {
        Cow::Owned(percent_decode(key))
    } else {
        Cow::Borrowed(key)
    };
    let key: Cow<'_, str> = if decoded.bytes().any(|b| b.is_ascii_uppercase() || b == b'-') {
        Cow::Owned(decoded.to_ascii_lowercase().replace('-', "_"))
    } else {
        decoded
    };
    const EXACT: [&str; 12] = [
        "key",
        "sig",
        "signature",
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "token",
        "auth",
        "apikey",
        "jwt",
    ];
    const SUFFIXES: [&str; 7] = [
        "token",
        "secret",
        "password",
        "_key",
        "apikey",
        "signature",
        "credential",
    ];
    EXACT.contains(&key.as_ref()) || SUFFIXES.iter().any(|s| key.ends_with(s))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_scheme_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// Where a URL in free text ends: at white space, quotes, angle brackets, a
/// backtick, a backslash (an escape in JSON or a shell word) or a control character.
fn ends_url(b: u8) -> bool {
    b.is_ascii_whitespace()
        || b.is_ascii_control()
        || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\')
}

/// Masks the `key=value` pairs of a query or fragment whose key names a secret.
fn mask_pairs(part: &str, out: &mut String) -> bool {
    let mut changed = false;
    for (index, pair) in part.split('&').enumerate() {
        if index > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, value)) if !value.is_empty() && value != MASK && is_secret_key(key) => {
                out.push_str(key);
                out.push('=');
                out.push_str(MASK);
                changed = true;
            }
            _ => out.push_str(pair),
        }
    }
    changed
}

/// Whether a query or fragment holds a pair [`mask_pairs`] would mask.
fn has_secret_pair(part: &str) -> bool {
    part.split('&').any(|pair| {
        pair.split_once('=')
            .is_some_and(|(key, value)| !value.is_empty() && value != MASK && is_secret_key(key))
    })
}

/// Masks one URL whose scheme ends at `scheme_end` (the index of `://`); `None`
/// when there is nothing to mask (checked before anything is allocated: every
/// record of a sampler has a URL target).
fn mask_one(url: &str, scheme_end: usize) -> Option<String> {
    {
        let rest = &url[scheme_end + 3..];
        let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let userinfo = rest[..authority_len].rfind('@').map(|at| &rest[..at]);
        let user_secret = userinfo.is_some_and(|u| match u.split_once(':') {
            Some((_, password)) => !password.is_empty() && password != MASK,
            None => !u.is_empty() && u != MASK,
        });
        let after = &rest[authority_len..];
        let (before_fragment, fragment) = match after.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (after, None),
        };
        let query = before_fragment.split_once('?').map(|(_, q)| q);
        if !user_secret
            && !query.is_some_and(has_secret_pair)
            && !fragment.is_some_and(has_secret_pair)
        {
            return None;
        }
    }
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let mut out = String::with_capacity(url.len() + MASK.len());
    out.push_str(&url[..rest_start]);
    let mut changed = false;
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.split_once(':') {
                Some((user, password)) if !password.is_empty() && password != MASK => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(MASK);
                    changed = true;
                }
                Some(_) => out.push_str(userinfo),
                None if !userinfo.is_empty() && userinfo != MASK => {
                    out.push_str(MASK);
                    changed = true;
                }
                None => out.push_str(userinfo),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let after = &rest[authority_len..];
    let (before_fragment, fragment) = match after.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (after, None),
    };
    match before_fragment.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            changed |= mask_pairs(query, &mut out);
        }
        None => out.push_str(before_fragment),
    }
    if let Some(fragment) = fragment {
        out.push('#');
        changed |= mask_pairs(fragment, &mut out);
    }
    changed.then_some(out)
}

/// A URL with its credentials masked (see the module docs for what counts). Text
/// that is not a `scheme://` URL is returned as it is.
pub fn mask_url(url: &str) -> Cow<'_, str> {
    match url.find("://") {
        Some(end)
            if end > 0
                && url.as_bytes()[0].is_ascii_alphabetic()
                && url.as_bytes()[..end].iter().all(|&b| is_scheme_char(b)) =>
        {
            match mask_one(url, end) {
                Some(masked) => Cow::Owned(masked),
                None => Cow::Borrowed(url),
            }
        }
        _ => Cow::Borrowed(url),
    }
}

/// Free text with the credentials of every URL in it masked: messages, error text,
/// labels. A URL runs from its scheme to the first white space, quote, angle
/// bracket, backtick, backslash or control character.
pub fn mask_urls(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut search = 0;
    let mut changed = false;
    while let Some(found) = text[search..].find("://") {
        let sep = search + found;
        let mut start = sep;
        while start > copied && is_scheme_char(bytes[start - 1]) {
            start -= 1;
        }
        // The scheme starts with a letter: skip leading digits and signs.
        while start < sep && !bytes[start].is_ascii_alphabetic() {
            start += 1;
        }
        let end = text[sep..]
            .bytes()
            .position(ends_url)
            .map_or(text.len(), |p| sep + p);
        if start < sep {
            if let Some(masked) = mask_one(&text[start..end], sep - start) {
                out.push_str(&text[copied..start]);
                out.push_str(&masked);
                copied = end;
                changed = true;
            }
        }
        search = end.max(sep + 3);
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// [`mask_urls`] on every string of a JSON value, object keys included; `true` when
/// something was masked.
pub fn mask_json(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => match mask_urls(s) {
            Cow::Owned(masked) => {
                *s = masked;
                true
            }
            Cow::Borrowed(_) => false,
        },
        Value::Array(items) => items.iter_mut().fold(false, |c, v| mask_json(v) | c),
        Value::Object(map) => {
            let mut changed = false;
            if map.keys().any(|k| k.contains("://")) {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    changed |= mask_json(&mut v);
                    let key = match mask_urls(&key) {
                        Cow::Owned(masked) => {
                            changed = true;
                            masked
                        }
                        Cow::Borrowed(_) => key,
                    };
                    map.insert(key, v);
                }
            } else {
                for v in map.values_mut() {
                    changed |= mask_json(v);
                }
            }
            changed
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_userinfo_password_is_masked_and_the_user_kept_as_git_does() {
        // git's t0210/t0211 trace2 redaction case, with our mask.
        assert_eq!(
            mask_url("https://user:pwd@example.com/"),
            "https://user:[REDACTED]@example.com/"
        );
        assert_eq!(
            mask_url("tcp://u:CANARY@127.0.0.1:2375"),
            "tcp://u:[REDACTED]@127.0.0.1:2375"
        );
        // An empty password is no secret.
        assert_eq!(mask_url("http://emptypw:@host/"), "http://emptypw:@host/");
    }

    /// curl's unit test 1621 cases (src/tool_xattr.c): every userinfo form, and an
    /// `@` in the path that is not one.
    #[test]
    fn curls_userinfo_cases() {
        let cases = [
            ("https://foo@example.com", "https://[REDACTED]@example.com"),
            (
                "https://foo@localhost:45",
                "https://[REDACTED]@localhost:45",
            ),
            (
                "https://user:pass@localhost:45",
                "https://user:[REDACTED]@localhost:45",
            ),
            (
                "http://daniel:password@localhost",
                "http://daniel:[REDACTED]@localhost",
            ),
            ("http://daniel@localhost", "http://[REDACTED]@localhost"),
            ("http://localhost/", "http://localhost/"),
            ("http://host/@path/", "http://host/@path/"),
            ("http://:emptyuser@host/", "http://:[REDACTED]@host/"),
            ("http://odd%40user@host/", "http://[REDACTED]@host/"),
            ("http://odder%3auser@host/", "http://[REDACTED]@host/"),
        ];
        for (url, masked) in cases {
            assert_eq!(mask_url(url), masked, "{url}");
        }
    }

    #[test]
    fn token_like_query_and_fragment_values_are_masked() {
        let cases = [
            (
                "http://h/p?token=abc&x=1",
                "http://h/p?token=[REDACTED]&x=1",
            ),
            (
                "http://h/?a=1&access_token=abc",
                "http://h/?a=1&access_token=[REDACTED]",
            ),
            (
                "https://h/cb#access_token=abc&state=s",
                "https://h/cb#access_token=[REDACTED]&state=s",
            ),
            (
                "https://b.blob/c?sv=2020&sig=abc%3D&se=x",
                "https://b.blob/c?sv=2020&sig=[REDACTED]&se=x",
            ),
            (
                "https://s3/k?X-Amz-Credential=AK&X-Amz-Signature=ff",
                "https://s3/k?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]",
            ),
            (
                "https://api/v1?key=AIza&q=x",
                "https://api/v1?key=[REDACTED]&q=x",
            ),
            ("http://h/?PASSWORD=x", "http://h/?PASSWORD=[REDACTED]"),
            (
                "http://h/?client_secret=x",
                "http://h/?client_secret=[REDACTED]",
            ),
            ("http://h/?%74oken=x", "http://h/?%74oken=[REDACTED]"),
            (
                "http://h/?monkey=banana&token=",
                "http://h/?monkey=banana&token=",
            ),
        ];
        for (url, masked) in cases {
            assert_eq!(mask_url(url), masked, "{url}");
        }
    }

    #[test]
    fn urls_in_free_text_are_masked_and_other_text_kept() {
        assert_eq!(
            mask_urls("GET http://u:p@h:1/x?token=t failed: refused (tcp://a:b@c)"),
            "GET http://u:[REDACTED]@h:1/x?token=[REDACTED] failed: refused (tcp://a:[REDACTED]@c)"
        );
        assert!(matches!(mask_urls("no url here: a@b"), Cow::Borrowed(_)));
        assert!(matches!(
            mask_urls("http://127.0.0.1:8080/api"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(mask_urls("odd ://x@y"), Cow::Borrowed(_)));
        // Masking twice changes nothing more.
        let once = mask_urls("http://u:p@h/?sig=s").into_owned();
        assert_eq!(mask_urls(&once), once);
        // A URL inside a JSON-escaped string ends at the backslash.
        assert_eq!(
            mask_urls(r#"{"m":"see \"http://u:p@h/\""}"#),
            r#"{"m":"see \"http://u:[REDACTED]@h/\""}"#
        );
    }

    #[test]
    fn json_values_are_masked_everywhere() {
        let mut v = serde_json::json!({
            "url": "http://u:p@h/",
            "list": ["x", "https://h/?token=t"],
            "http://a:b@h/": 1,
            "n": 3,
        });
        assert!(mask_json(&mut v));
        let text = v.to_string();
        assert!(
            !text.contains(":p@") && !text.contains("token=t") && !text.contains(":b@"),
            "{text}"
        );
        assert!(!mask_json(&mut v));
    }
}
