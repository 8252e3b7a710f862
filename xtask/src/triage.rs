//! `cargo xtask triage`: runs the probes and matches their records against the
//! guide's on-call signatures (missing CORS, warming over budget, model missing, 5xx
//! burst, tunnel dead) and a few more the records make plain. One `triage.<signature>`
//! record per signature found, with its evidence and the guide's remediation.
//!
//! An outage is named as one (`unreachable`: nothing answers; `backend_down`: nginx
//! answers for a backend that does not; `dependency_down`: the model server is down)
//! and never read as the faults it hides: the probes' "could not check" records carry
//! no CORS defect, and a model server that is down says nothing about the model.

use std::time::Duration;

use day2_core::bounded;
use day2_core::record::{Record, RecordSink, Verdict};
use day2_core::{Exit, Io, Problem};
use legacy_sampler::LiveSummary;
use serde_json::{json, Value};
use status_probe::{Answered, CheckReason, CorsDefect, Deps, SummaryReason, SummaryView};
use tunnel_check::edge::EdgeReason;

use crate::tools::{invoke, ToolRun};

#[derive(Debug, clap::Args)]
pub struct TriageArgs {
    /// Base URL of the stack (the nginx edge).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Path the CORS preflight goes to.
    #[arg(long, default_value = "/api/chat", value_name = "PATH")]
    pub chat_path: String,
    /// An origin the chat API must allow (repeatable; default ALLOWED_ORIGINS).
    #[arg(long = "origin", value_name = "ORIGIN")]
    pub origins: Vec<String>,
    /// The warming SLO.
    #[arg(long, default_value = "10m", value_parser = bounded::duration(Duration::ZERO, bounded::MAX_DURATION))]
    pub warming_budget: Duration,
    /// When the stack was started (RFC 3339), so warming is measured from then.
    #[arg(long, value_name = "RFC3339")]
    pub started_at: Option<String>,
    /// Public URL in front of the tunnel: compares origin and edge.
    #[arg(long, value_name = "URL")]
    pub edge: Option<String>,
    /// Requests sampled on each of the summary and the dependency check, for 5xx bursts.
    #[arg(long, default_value_t = 10, value_parser = bounded::count::<u32>(1, 100_000))]
    pub samples: u32,
    /// Share of 5xx answers or transport errors that makes a burst.
    #[arg(long, default_value_t = 0.2, value_parser = bounded::number("a ratio", 0.0, 1.0))]
    pub burst_ratio: f64,
    /// Do not verify TLS certificates (a self-signed edge): passed to every probe, and
    /// recorded in the output. TLS is verified unless this is given.
    #[arg(long)]
    pub insecure: bool,
    /// Requests in flight at once in each probe (status-probe's checks, each sampler's
    /// samples); the probes themselves run at the same time. 1 runs the probes one
    /// after another, each asking one request at a time.
    #[arg(long, default_value_t = 6, value_name = "N", value_parser = bounded::count::<usize>(1, 64).of("a number of requests in flight"))]
    pub concurrency: usize,
}

/// A signature found in the records.
struct Diagnosis {
    signature: &'static str,
    verdict: Verdict,
    message: String,
    evidence: Vec<Value>,
}

/// A short, stable description of a record, as evidence. `origin` is copied as the
/// tool wrote it (a string on status-probe's CORS records and legacy-sampler's
/// summary, an object on tunnel-check's edge record, absent elsewhere): it is shown,
/// never read.
fn cite(record: &Record) -> Value {
    json!({
        "tool": record.tool,
        "check": record.check,
        "target": record.target,
        "verdict": record.verdict,
        "reason": record.reason,
        "origin": record.get("origin"),
    })
}

/// What a status-probe record says of its answer ([`Answered`]): its status and its
/// CORS defects. [`check_payloads`] has decoded every record of the run before
/// [`diagnose`] reads them, so the default stands for nothing here.
fn answered(record: &Record) -> Answered {
    record.payload().unwrap_or_default()
}

/// The names of a record's CORS defects, and its reason.
fn defects(record: &Record) -> Vec<String> {
    let mut found: Vec<String> = answered(record)
        .defects
        .iter()
        .map(|d| d.as_str().to_owned())
        .collect();
    found.extend(record.reason.clone());
    found
}

/// The summary view of a `summary` record ([`SummaryView::of`]); checked like
/// [`answered`].
fn summary_view(record: &Record) -> Option<SummaryView> {
    SummaryView::of(record).ok().flatten()
}

/// Decodes every payload of status-probe's records that [`diagnose`] reads, so that a
/// record of another shape is an error naming it, not a signature missed.
///
/// Errors: a record whose `data` is not the payload its check and reason promise
/// (`unexpected_payload`).
fn check_payloads(probe: &[Record]) -> Result<(), Problem> {
    for record in probe {
        record.payload::<Answered>()?;
        match (record.check.as_str(), record.reason.as_deref()) {
            ("summary", _) => drop(SummaryView::of(record)?),
            ("deps", Some(DEPENDENCY_FAILED)) => drop(record.payload::<Deps>()?),
            _ => {}
        }
    }
    Ok(())
}

/// The reason of status-probe's `summary` record on nginx's synthetic warming body.
const SYNTHETIC_WARMING: &str = SummaryReason::SyntheticWarming.as_str();

/// The reason of status-probe's `deps` record when a dependency is down.
const DEPENDENCY_FAILED: &str = CheckReason::DependencyFailed.as_str();

/// The first record of `check` with `reason`.
fn with_reason<'a>(records: &'a [Record], check: &str, reason: &str) -> Option<&'a Record> {
    records
        .iter()
        .find(|r| r.check == check && r.reason.as_deref() == Some(reason))
}

/// The CORS records with one of `names` among their defects (or as their reason).
fn with_defect<'a>(records: &'a [Record], names: &[CorsDefect]) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| {
            r.check.starts_with("cors.")
                && defects(r)
                    .iter()
                    .any(|d| names.iter().any(|n| n.as_str() == d))
        })
        .collect()
}

/// The guide's signature names `OPTIONS /chat`; the message names the requests that
/// failed instead (a tester followed the guide's words to a preflight that had passed).
const MISSING_CORS: &str = "confirm ALLOWED_ORIGINS, the edge config, and the environment (the guide's \"OPTIONS /chat lacks Access-Control-Allow-Origin\")";
const WARMING: &str = "ready=false, llm.path=warming beyond the budget: check the model pull, provider health, CPU/memory pressure.";
const MODEL_MISSING: &str = "model_present=false: pull the model at startup or bake it into the image; verify the network to the provider.";
const BURST: &str = "5xx burst: provider outage? Is the fallback key/path OK? Rate limit? Retries?";
const TUNNEL_DEAD: &str = "Edge 52x via the tunnel: check the tunnel container's health, its QUIC connections, and origin reachability.";

/// The checks of status-probe that each make one plain request to the stack.
const SINGLE_REQUEST_CHECKS: [&str; 4] = ["ready", "deps", "summary", "legacy"];

/// Statuses nginx answers itself when its upstream does not: bad gateway, gateway
/// timeout.
const GATEWAY_STATUSES: [u16; 2] = [502, 504];

/// A reason in words (`connection_refused` → `connection refused`).
fn words(reason: &str) -> String {
    reason.replace('_', " ")
}

/// The records that show nothing answered at all: every single-request probe check
/// got no answer and the samplers got none either. `None` when anything answered.
fn nothing_answered<'a>(probe: &'a [Record], sampled: &[&Sampler<'a>]) -> Option<Vec<&'a Record>> {
    let asked: Vec<&Record> = probe
        .iter()
        .filter(|r| SINGLE_REQUEST_CHECKS.contains(&r.check.as_str()))
        .collect();
    let no_status = |r: &&Record| r.verdict == Verdict::Error && answered(r).status.is_none();
    if asked.is_empty() || !asked.iter().all(no_status) {
        return None;
    }
    if sampled.iter().any(|s| s.summary.answered > 0) {
        return None;
    }
    Some(
        asked
            .into_iter()
            .chain(sampled.iter().map(|s| s.record))
            .collect(),
    )
}

/// The records that show nginx answering for a backend that does not: the summary
/// is nginx's synthetic body and a proxied check got nginx's 502/504.
fn backend_silent<'a>(probe: &'a [Record], summary: Option<&'a Record>) -> Option<Vec<&'a Record>> {
    let summary = summary.filter(|r| r.reason.as_deref() == Some(SYNTHETIC_WARMING))?;
    let gateway: Vec<&Record> = probe
        .iter()
        .filter(|r| SINGLE_REQUEST_CHECKS.contains(&r.check.as_str()))
        .filter(|r| {
            answered(r)
                .status
                .is_some_and(|s| GATEWAY_STATUSES.contains(&s))
        })
        .collect();
    if gateway.is_empty() {
        return None;
    }
    Some(std::iter::once(summary).chain(gateway).collect())
}

/// One sampler's `summary` record, and its payload.
struct Sampler<'a> {
    record: &'a Record,
    summary: LiveSummary,
}

impl<'a> Sampler<'a> {
    /// The last `summary` of a sampler's run; `None` when it wrote none.
    ///
    /// Errors: the summary is not legacy-sampler's live summary (`unexpected_payload`).
    fn of(run: &'a ToolRun) -> Result<Option<Sampler<'a>>, Problem> {
        let Some(record) = run.last("summary") else {
            return Ok(None);
        };
        let summary = record.payload::<LiveSummary>()?;
        Ok(Some(Sampler { record, summary }))
    }
}

/// The samplers' summaries: the status summary's and the dependency check's.
struct Sampled<'a> {
    summary: Option<Sampler<'a>>,
    deps: Option<Sampler<'a>>,
}

/// Answers that were 5xx or failed, and requests made, in one sampler's summary;
/// `except` is a status left out (the dependency check's 503 while it names a
/// failing dependency is its answer, not a server error).
fn server_errors(sampled: &LiveSummary, except: Option<&str>) -> (u64, u64) {
    let errors: u64 = sampled
        .statuses
        .iter()
        .filter(|(code, _)| code.starts_with('5') && Some(code.as_str()) != except)
        .map(|(_, n)| n)
        .sum();
    (errors + sampled.failed, sampled.requested)
}

fn diagnose(
    probe: &[Record],
    sampled: &Sampled<'_>,
    tunnel: &[Record],
    args: &TriageArgs,
) -> Vec<Diagnosis> {
    let samplers: Vec<&Sampler<'_>> = [&sampled.summary, &sampled.deps]
        .into_iter()
        .flatten()
        .collect();
    let mut found = Vec::new();
    if let Some(edge) = tunnel
        .iter()
        .find(|r| r.reason.as_deref() == Some(EdgeReason::TunnelDead.as_str()))
    {
        found.push(Diagnosis {
            signature: "tunnel_dead",
            verdict: Verdict::Fail,
            message: TUNNEL_DEAD.into(),
            evidence: vec![cite(edge)],
        });
    }
    // Nothing answered: that is the finding, and no other signature can be read from
    // records that hold no answer (a burst of failures is not a 5xx burst).
    if let Some(silent) = nothing_answered(probe, &samplers) {
        let mut reasons: Vec<String> = silent
            .iter()
            .filter_map(|r| r.reason.as_deref())
            .filter(|r| *r != "no_responses")
            .map(words)
            .collect();
        reasons.sort();
        reasons.dedup();
        found.insert(
            0,
            Diagnosis {
                signature: "unreachable",
                verdict: Verdict::Fail,
                message: format!(
                    "Nothing answers at {} ({}): is nginx running and published on that address? Check `docker compose ps` and the port mapping.",
                    args.url,
                    reasons.join(", ")
                ),
                evidence: silent.into_iter().map(cite).collect(),
            },
        );
        return found;
    }
    let summary = probe.iter().rev().find(|r| r.check == "summary");
    let view = summary.and_then(summary_view);
    let path = view
        .as_ref()
        .and_then(|v| v.path.clone())
        .unwrap_or_else(|| "unknown".to_owned());
    let backend_down = backend_silent(probe, summary);

    let missing = with_defect(
        probe,
        &[
            CorsDefect::AcaoMissing,
            CorsDefect::Preflight405,
            CorsDefect::PreflightRejected,
        ],
    );
    if !missing.is_empty() {
        let failed: Vec<String> = missing
            .iter()
            .map(|r| format!("{} {}", r.check, r.target))
            .collect();
        found.push(Diagnosis {
            signature: "missing_cors",
            verdict: Verdict::Fail,
            message: format!(
                "Access-Control-Allow-Origin missing or the preflight refused on {}: {MISSING_CORS}.",
                failed.join(", ")
            ),
            evidence: missing.into_iter().map(cite).collect(),
        });
    }
    let duplicated = with_defect(probe, &[CorsDefect::AcaoDuplicated]);
    if !duplicated.is_empty() {
        found.push(Diagnosis {
            signature: "duplicate_cors",
            verdict: Verdict::Fail,
            message: "Two Access-Control-Allow-Origin headers (nginx adds its own on top of the backend's): every browser rejects the answer. Let one layer own CORS.".into(),
            evidence: duplicated.into_iter().map(cite).collect(),
        });
    }
    if let Some(evidence) = &backend_down {
        let statuses: Vec<String> = evidence
            .iter()
            .filter_map(|r| Some(format!("HTTP {} on {}", answered(r).status?, r.check)))
            .collect();
        found.push(Diagnosis {
            signature: "backend_down",
            verdict: Verdict::Fail,
            message: format!(
                "nginx answers but the backend behind it does not ({}, nginx's synthetic warming body on the summary): check the backend container (`docker compose ps backend`, its logs) and its upstream address.",
                statuses.join(", ")
            ),
            evidence: evidence.iter().copied().map(cite).collect(),
        });
    }
    // A backend that does not answer explains the synthetic warming the SLO counts.
    if let Some(warming) = with_reason(probe, "warming", CheckReason::WarmingOverBudget.as_str())
        .filter(|_| backend_down.is_none())
    {
        found.push(Diagnosis {
            signature: "warming_over_budget",
            verdict: Verdict::Fail,
            message: WARMING.into(),
            evidence: vec![cite(warming)],
        });
    }
    let synthetic = summary.is_some_and(|r| r.reason.as_deref() == Some(SYNTHETIC_WARMING));
    // The model's presence is only known while the model server answers (llm.path
    // warming or primary); with it down (down, fallback) the backend cannot list the
    // models, so `model_present=false` says nothing about the model.
    let model_server_up = matches!(path.as_str(), "warming" | "primary");
    let model_server_down = matches!(path.as_str(), "down" | "fallback") && !synthetic;
    if let Some(summary) = summary.filter(|_| {
        view.as_ref()
            .is_some_and(|v| v.model_present == Some(false))
            && !synthetic
            && model_server_up
    }) {
        // Inside the warming budget a missing model is the pull still running.
        let warming_ok =
            path == "warming" && !found.iter().any(|d| d.signature == "warming_over_budget");
        found.push(Diagnosis {
            signature: "model_missing",
            verdict: if warming_ok {
                Verdict::Warn
            } else {
                Verdict::Fail
            },
            message: format!("{MODEL_MISSING} (llm.path={path})"),
            evidence: vec![cite(summary)],
        });
    }
    let deps = with_reason(probe, "deps", DEPENDENCY_FAILED);
    let (summary_errors, summary_requested) = sampled
        .summary
        .as_ref()
        .map_or((0, 0), |s| server_errors(&s.summary, None));
    let (deps_errors, deps_requested) = sampled
        .deps
        .as_ref()
        .map_or((0, 0), |s| server_errors(&s.summary, deps.map(|_| "503")));
    let (sampled_5xx, requested) = (
        summary_errors + deps_errors,
        summary_requested + deps_requested,
    );
    let burst = requested > 0 && sampled_5xx as f64 / requested as f64 >= args.burst_ratio;
    // nginx's 502s for a backend that is not there are the backend_down finding.
    if (burst || synthetic) && backend_down.is_none() {
        let mut evidence: Vec<Value> = if burst {
            samplers.iter().map(|s| cite(s.record)).collect()
        } else {
            Vec::new()
        };
        evidence.extend(summary.filter(|_| synthetic).map(cite));
        found.push(Diagnosis {
            signature: "server_error_burst",
            verdict: Verdict::Fail,
            message: if burst {
                format!(
                    "{BURST} ({sampled_5xx} of {requested} sampled answers were 5xx or failed{}; llm.path={path}, fallback {})",
                    if synthetic { ", and nginx is covering the summary with its synthetic warming body" } else { "" },
                    if path == "fallback" { "in use" } else { "not in use" }
                )
            } else {
                // No 5xx reached the edge: nginx's error_page hides the backend's
                // failures behind its synthetic body; say that, not "5xx burst".
                format!(
                    "the backend is failing behind nginx, which covers the summary with its synthetic warming body, so no 5xx reaches the edge ({sampled_5xx} of {requested} sampled answers were 5xx or failed; llm.path={path}, fallback {}). The guide's 5xx-burst questions apply: provider outage? Is the fallback key/path OK? Rate limit? Retries?",
                    if path == "fallback" { "in use" } else { "not in use" }
                )
            },
            evidence,
        });
    }
    if deps.is_some() || model_server_down {
        let failing: Vec<String> = deps
            .and_then(|d| d.payload::<Deps>().ok())
            .map(|d| d.failing)
            .unwrap_or_default();
        let mut message = if failing.is_empty() {
            "The dependency check reports a failing dependency.".to_owned()
        } else {
            format!("Failing dependencies: {}.", failing.join(", "))
        };
        if model_server_down {
            message.push_str(&format!(
                " The model server is down (llm.path={path}): whether the model is present is unknown until it answers; bring the model server back before pulling anything."
            ));
        }
        let mut evidence: Vec<Value> = deps.map(cite).into_iter().collect();
        evidence.extend(summary.filter(|_| model_server_down).map(cite));
        found.push(Diagnosis {
            signature: "dependency_down",
            verdict: Verdict::Fail,
            message,
            evidence,
        });
    }
    if let Some(legacy) = with_reason(probe, "legacy", CheckReason::LegacySpaFallback.as_str()) {
        found.push(Diagnosis {
            signature: "legacy_spa_fallback",
            verdict: Verdict::Fail,
            message: "The legacy path answers 200 text/html from the single-page app: it was deleted, not retired. Answer it with `return 410;`.".into(),
            evidence: vec![cite(legacy)],
        });
    }
    found
}

/// legacy-sampler's arguments for one URL.
fn sampler_args<'a>(
    samples: &'a str,
    concurrency: &'a str,
    url: &'a str,
    insecure: bool,
) -> Vec<&'a str> {
    let mut args = vec![
        "--samples",
        "off",
        "--timeout",
        "3s",
        "-n",
        samples,
        "--concurrency",
        concurrency,
        url,
    ];
    if insecure {
        args.push("--insecure");
    }
    args
}

/// Runs the probes: status-probe, a sampler on each of the summary and the dependency
/// check, and tunnel-check with `--edge`. They are independent, so with a
/// concurrency above 1 they run at the same time (one thread each, joined here) and
/// the run takes as long as the slowest; with 1, one after another. Either way the
/// runs come back in this order, so the records do too.
fn probes(args: &TriageArgs) -> [ToolRun; 4] {
    let budget = format!("{}ms", args.warming_budget.as_millis());
    let concurrency = args.concurrency.to_string();
    let mut probe_args = vec![
        "--url",
        args.url.as_str(),
        "--chat-path",
        args.chat_path.as_str(),
        "--warming-budget",
        budget.as_str(),
        "--concurrency",
        concurrency.as_str(),
    ];
    for origin in &args.origins {
        probe_args.extend(["--origin", origin.as_str()]);
    }
    if let Some(started) = &args.started_at {
        probe_args.extend(["--started-at", started.as_str()]);
    }
    if args.insecure {
        probe_args.push("--insecure");
    }
    let probe = || invoke("status-probe", status_probe::run, &probe_args, b"");

    let base = args.url.trim_end_matches('/');
    let (summary_url, deps_url) = (
        format!("{base}/api/status/summary"),
        format!("{base}/ready"),
    );
    // One sampler per URL, so the dependency check's own 503 can be told from a
    // burst of server errors.
    let samples = args.samples.to_string();
    let sample = |url: &str| {
        invoke(
            "legacy-sampler",
            legacy_sampler::run,
            &sampler_args(&samples, &concurrency, url, args.insecure),
            b"",
        )
    };
    let tunnel = || match &args.edge {
        Some(edge) => invoke(
            "tunnel-check",
            tunnel_check::run,
            &[
                &["edge", "--edge", edge, "--origin", &args.url][..],
                if args.insecure {
                    &["--insecure"][..]
                } else {
                    &[][..]
                },
            ]
            .concat(),
            b"",
        ),
        None => ToolRun {
            exit: Exit::Ok,
            records: Vec::new(),
            stderr: String::new(),
        },
    };
    if args.concurrency <= 1 {
        return [probe(), sample(&summary_url), sample(&deps_url), tunnel()];
    }
    std::thread::scope(|scope| {
        let probe = scope.spawn(probe);
        let summary = scope.spawn(|| sample(&summary_url));
        let deps = scope.spawn(|| sample(&deps_url));
        let tunnel = tunnel();
        let joined = |run: std::thread::ScopedJoinHandle<'_, ToolRun>| {
            run.join().unwrap_or_else(|_| ToolRun {
                exit: Exit::Usage,
                records: Vec::new(),
                stderr: "the probe stopped with a panic".to_owned(),
            })
        };
        [joined(probe), joined(summary), joined(deps), tunnel]
    })
}

pub fn run(args: &TriageArgs, io: &mut Io<'_>) -> Exit {
    let [probe, sampled_summary, sampled_deps, tunnel] = probes(args);

    let mut sink = RecordSink::new(crate::TOOL, io.stdout);
    let runs = [&probe, &sampled_summary, &sampled_deps, &tunnel];
    if !runs.iter().all(|run| run.pass_through(&mut sink)) {
        return Exit::Ok;
    }
    if let Err(problem) = check_payloads(&probe.records) {
        io.error(crate::TOOL, problem.to_string());
        return Exit::Usage;
    }
    let sampled = match (Sampler::of(&sampled_summary), Sampler::of(&sampled_deps)) {
        (Ok(summary), Ok(deps)) => Sampled { summary, deps },
        (Err(problem), _) | (_, Err(problem)) => {
            io.error(crate::TOOL, problem.to_string());
            return Exit::Usage;
        }
    };
    let found = diagnose(&probe.records, &sampled, &tunnel.records, args);
    // The tools' own verdicts are evidence; triage's outcome is its diagnoses.
    let mut outcome = Exit::Ok;
    for run in runs {
        if run.exit == Exit::Usage {
            io.error(
                crate::TOOL,
                format!("a probe refused its arguments: {}", run.stderr.trim()),
            );
            return Exit::Usage;
        }
    }
    let _ = writeln!(
        io.stderr,
        "triage of {}: {} signature(s)",
        day2_core::cli::for_stderr(&args.url),
        found.len()
    );
    for diagnosis in &found {
        let _ = writeln!(
            io.stderr,
            "  {:<20} {}",
            diagnosis.signature,
            day2_core::cli::for_stderr(&diagnosis.message)
        );
        outcome = outcome.merge(diagnosis.verdict.exit());
    }
    let mut records: Vec<Record> = found
        .into_iter()
        .map(|d| {
            Record::new(
                &format!("triage.{}", d.signature),
                &args.url,
                d.verdict,
                Some(d.signature),
            )
            .message(d.message)
            .data(json!({ "evidence": d.evidence, "insecure": args.insecure }))
        })
        .collect();
    if records.is_empty() {
        // No signature is a clean bill only if every probe got its answer: checks
        // that could not be made are no evidence of health (issue 18).
        let unchecked: Vec<&Record> = runs
            .iter()
            .flat_map(|run| run.records.iter())
            .filter(|r| r.verdict == Verdict::Error)
            .collect();
        let record = if unchecked.is_empty() {
            Record::pass("triage", &args.url).message("no known signature in the probes' records")
        } else {
            outcome = outcome.merge(Exit::Failed);
            let mut names: Vec<String> = unchecked
                .iter()
                .map(|r| format!("{} {}", r.check, words(r.reason.as_deref().unwrap_or(""))))
                .collect();
            names.dedup();
            Record::error("triage", &args.url, "not_all_checked").message(format!(
                "no known signature, but {} check(s) could not be made ({}): no verdict on what they look at",
                unchecked.len(),
                names.join(", ")
            ))
        };
        records.push(record.data(json!({
            "evidence": unchecked.into_iter().map(cite).collect::<Vec<_>>(),
            "insecure": args.insecure,
        })));
    }
    for record in records {
        if sink.emit(record).is_err() {
            return Exit::Ok;
        }
    }
    outcome
}
