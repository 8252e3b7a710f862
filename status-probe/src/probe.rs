//! The HTTP side of a run: one pooled agent with the shared day2 settings (timeouts,
//! body cap, no redirects, TLS verified), URLs built from the base URL, and a memo of
//! plain GETs so that checks that need the same answer without an `Origin` (the CORS
//! baseline, the legacy check, freshness) do not ask the stack twice.
//!
//! Across a real link the cost of a run is its round trips, so the requests a run
//! will make are asked ahead, concurrently ([`Probe::prefetch`]), over at most
//! `--concurrency` keep-alive connections of the agent's pool; the checks then take
//! each answer from there ([`Probe::send`]) in the order they always had, so records
//! come out the same. Each answer is used once, as each request was made once: the
//! prefetch asks exactly what the checks will ask, never more (`/api/ready` is
//! rate-limited on the real edge and asked once). With `--concurrency 1` nothing is
//! asked ahead and the requests go one after another, as they always did.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use day2_core::http::{request, request_within, HttpFailure, HttpOptions, HttpResponse};
use day2_core::progress::Progress;
use day2_core::Record;
use serde_json::json;

use day2_core::bounded::quoted;
use day2_core::Problem;

/// The result of one exchange.
pub type Answer = Result<HttpResponse, HttpFailure>;

/// One request a check makes: method, path under the base URL, extra headers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ask {
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Ask {
    /// A GET without extra headers (what [`Probe::get_plain`] asks).
    pub fn get(path: &str) -> Ask {
        Ask {
            method: "GET",
            path: path.to_owned(),
            headers: Vec::new(),
        }
    }
}

pub struct Probe {
    agent: ureq::Agent,
    base: String,
    body_limit: u64,
    http_timeout: Duration,
    concurrency: usize,
    plain: HashMap<String, Answer>,
    /// Answers asked ahead and not used yet.
    prefetched: HashMap<Ask, Answer>,
}

/// The base URL must be an absolute http(s) URL; anything else is a usage error.
pub fn validate_base_url(url: &str) -> Result<(), Problem> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            Problem::new(
                "usage",
                format!("--url {} must start with http:// or https://", quoted(url)),
            )
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(Problem::new(
            "usage",
            format!("--url {} has no host", quoted(url)),
        ));
    }
    if url.parse::<ureq::http::Uri>().is_err() {
        return Err(Problem::new(
            "usage",
            format!("--url {} is not a valid URL", quoted(url)),
        ));
    }
    Ok(())
}

impl Probe {
    /// A probe of `base_url` (validated by [`validate_base_url`]) with the shared
    /// HTTP settings and `concurrency` requests in flight at most (1: one after
    /// another). The pool keeps at least one idle connection per request in flight.
    pub fn new(base_url: &str, mut http: HttpOptions, concurrency: usize) -> Probe {
        // One idle connection per request in flight, so each worker keeps its own.
        http.idle_per_host = concurrency.max(http.idle_per_host);
        Probe {
            agent: http.agent(),
            base: base_url.trim_end_matches('/').to_owned(),
            body_limit: http.body_limit,
            http_timeout: http.timeout,
            concurrency,
            plain: HashMap::new(),
            prefetched: HashMap::new(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests in flight at once (`--concurrency`); 1 is one after another.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// One exchange on the wire.
    fn exchange(&self, ask: &Ask) -> Answer {
        let headers: Vec<(&str, &str)> = ask
            .headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        request(
            &self.agent,
            ask.method,
            &self.url(&ask.path),
            &headers,
            self.body_limit,
        )
    }

    /// One request: the answer asked ahead for it when there is one (used once),
    /// otherwise a fresh exchange.
    pub fn send(&mut self, ask: &Ask) -> Answer {
        match self.prefetched.remove(ask) {
            Some(answer) => answer,
            None => self.exchange(ask),
        }
    }

    /// The answer asked ahead for `ask`, without using it up.
    pub fn peek(&self, ask: &Ask) -> Option<&Answer> {
        self.prefetched.get(ask).or_else(|| {
            (ask.method == "GET" && ask.headers.is_empty())
                .then(|| self.plain.get(&ask.path))
                .flatten()
        })
    }

    /// Asks `asks` ahead, at most `--concurrency` at once over the agent's keep-alive
    /// pool (std threads, joined before it returns), in their order; each answer
    /// waits for the [`Probe::send`] that wants it. Requests already answered or
    /// already asked ahead are not asked again; with `--concurrency 1` nothing is
    /// asked ahead. A progress line counts the answers on a terminal.
    pub fn prefetch(&mut self, asks: Vec<Ask>) {
        let mut todo: Vec<Ask> = Vec::new();
        for ask in asks {
            if self.peek(&ask).is_none() && !todo.contains(&ask) {
                todo.push(ask);
            }
        }
        if self.concurrency <= 1 || todo.is_empty() {
            return;
        }
        let progress = Progress::count(
            format!("probing {}", day2_core::redact::mask_url(&self.base)),
            Some(todo.len() as u64),
            None,
        );
        let answers: Vec<Mutex<Option<Answer>>> = todo.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let this = &*self;
        std::thread::scope(|scope| {
            for _ in 0..this.concurrency.min(todo.len()) {
                scope.spawn(|| loop {
                    let at = next.fetch_add(1, Ordering::SeqCst);
                    let Some(ask) = todo.get(at) else { break };
                    let answer = this.exchange(ask);
                    if let Ok(mut slot) = answers[at].lock() {
                        *slot = Some(answer);
                    }
                    progress.inc(1);
                });
            }
        });
        for (ask, slot) in todo.into_iter().zip(answers) {
            // A worker that panicked left its slot empty: the check asks again.
            if let Some(answer) = slot.into_inner().ok().flatten() {
                self.prefetched.insert(ask, answer);
            }
        }
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
        let answer = self.send(&Ask::get(path));
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
