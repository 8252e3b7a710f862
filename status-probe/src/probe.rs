//! The HTTP side of a run: one pooled agent with the shared day2 settings (timeouts,
//! body cap, no redirects, TLS verified), URLs built from the base URL, and a memo of
//! plain GETs so that checks that need the same answer without an `Origin` (the CORS
//! baseline, the legacy check, freshness) do not ask the stack twice.

use std::collections::HashMap;

use std::time::Duration;

use day2_core::http::{request, request_within, HttpFailure, HttpOptions, HttpResponse};
use day2_core::Record;
use serde_json::json;

use crate::{quoted, Args};

/// The result of one exchange.
pub type Answer = Result<HttpResponse, HttpFailure>;

pub struct Probe {
    agent: ureq::Agent,
    base: String,
    body_limit: u64,
    http_timeout: Duration,
    plain: HashMap<String, Answer>,
}

/// The base URL must be an absolute http(s) URL; anything else is a usage error.
pub fn validate_base_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("--url {} must start with http:// or https://", quoted(url)))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("--url {} has no host", quoted(url)));
    }
    if url.parse::<ureq::http::Uri>().is_err() {
        return Err(format!("--url {} is not a valid URL", quoted(url)));
    }
    Ok(())
}

impl Probe {
    pub fn new(args: &Args) -> Probe {
        let options = HttpOptions {
            connect_timeout: args.connect_timeout,
            timeout: args.http_timeout,
            body_limit: args.max_body,
            insecure: args.insecure,
            max_redirects: args.max_redirects,
            ..HttpOptions::default()
        };
        Probe {
            agent: options.agent(),
            base: args.url.trim_end_matches('/').to_owned(),
            body_limit: args.max_body,
            http_timeout: args.http_timeout,
            plain: HashMap::new(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// One request, always a fresh exchange.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        request(
            &self.agent,
            method,
            &self.url(path),
            headers,
            self.body_limit,
        )
    }

    /// One request that ends within `left` (the time a wait has before its deadline)
    /// or `--http-timeout`, whichever is shorter.
    pub fn send_within(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        left: Duration,
    ) -> Answer {
        request_within(
            &self.agent,
            method,
            &self.url(path),
            headers,
            self.body_limit,
            Some(left.min(self.http_timeout)),
        )
    }

    /// A GET without extra headers, asked once per run and remembered.
    pub fn get_plain(&mut self, path: &str) -> Answer {
        if let Some(answer) = self.plain.get(path) {
            return answer.clone();
        }
        let answer = self.send("GET", path, &[]);
        self.plain.insert(path.to_owned(), answer.clone());
        answer
    }

    /// Remembers an answer obtained elsewhere (the summary check's own GET).
    pub fn remember(&mut self, path: &str, answer: &Answer) {
        self.plain.insert(path.to_owned(), answer.clone());
    }
}

/// The `error` record of a request that got no answer: the reason is the transport
/// failure's (`connection_refused`, `timeout`, `body_too_large`, ...).
pub fn failure_record(check: &str, target: &str, failure: &HttpFailure) -> Record {
    Record::error(check, target, failure.kind.reason())
        .message(failure.to_string())
        .duration(failure.elapsed)
}

/// The `fail` record of an answer whose status the check did not expect.
pub fn status_record(check: &str, target: &str, response: &HttpResponse) -> Record {
    Record::fail(check, target, "unexpected_status")
        .message(format!("answered HTTP {}", response.status))
        .duration(response.elapsed)
        .data(json!({
            "status": response.status,
            "content_type": response.header_values("content-type"),
            "location": response.header("location"),
        }))
}

/// Whether a status is a success.
pub fn is_2xx(status: u16) -> bool {
    (200..300).contains(&status)
}
