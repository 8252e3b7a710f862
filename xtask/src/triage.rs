//! `cargo xtask triage`: runs the probes and matches their records against the
//! guide's on-call signatures (missing CORS, warming over budget, model missing, 5xx
//! burst, tunnel dead) and a few more the records make plain. One `triage.<signature>`
//! record per signature found, with its evidence and the guide's remediation.

use std::time::Duration;

use day2_core::duration::parse_duration;
use day2_core::record::{Record, RecordSink, Verdict};
use day2_core::{Exit, Io};
use serde_json::{json, Value};

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
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub warming_budget: Duration,
    /// When the stack was started (RFC 3339), so warming is measured from then.
    #[arg(long, value_name = "RFC3339")]
    pub started_at: Option<String>,
    /// Public URL in front of the tunnel: compares origin and edge.
    #[arg(long, value_name = "URL")]
    pub edge: Option<String>,
    /// Requests sampled on the summary and the dependency check, for 5xx bursts.
    #[arg(long, default_value_t = 10)]
    pub samples: u32,
    /// Share of 5xx answers or transport errors that makes a burst.
    #[arg(long, default_value_t = 0.2)]
    pub burst_ratio: f64,
}

/// A signature found in the records.
struct Diagnosis {
    signature: &'static str,
    verdict: Verdict,
    message: String,
    evidence: Vec<Value>,
}

/// A short, stable description of a record, as evidence.
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

fn defects(record: &Record) -> Vec<String> {
    let mut found: Vec<String> = record
        .get("defects")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    found.extend(record.reason.clone());
    found
}

/// The first record of `check` with `reason`.
fn with_reason<'a>(records: &'a [Record], check: &str, reason: &str) -> Option<&'a Record> {
    records
        .iter()
        .find(|r| r.check == check && r.reason.as_deref() == Some(reason))
}

fn with_defect<'a>(records: &'a [Record], names: &[&str]) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| {
            r.check.starts_with("cors.") && defects(r).iter().any(|d| names.contains(&d.as_str()))
        })
        .collect()
}

const MISSING_CORS: &str = "OPTIONS /chat lacks Access-Control-Allow-Origin: confirm ALLOWED_ORIGINS, the edge config, and the environment.";
const WARMING: &str = "ready=false, llm.path=warming beyond the budget: check the model pull, provider health, CPU/memory pressure.";
const MODEL_MISSING: &str = "model_present=false: pull the model at startup or bake it into the image; verify the network to the provider.";
const BURST: &str = "5xx burst: provider outage? Is the fallback key/path OK? Rate limit? Retries?";
const TUNNEL_DEAD: &str = "Edge 52x via the tunnel: check the tunnel container's health, its QUIC connections, and origin reachability.";

fn diagnose(
    probe: &[Record],
    sampled: Option<&Record>,
    tunnel: &[Record],
    args: &TriageArgs,
) -> Vec<Diagnosis> {
    let mut found = Vec::new();
    let summary = probe.iter().rev().find(|r| r.check == "summary");
    let path = summary
        .and_then(|r| r.get("path"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();

    let missing = with_defect(
        probe,
        &["acao_missing", "preflight_405", "preflight_rejected"],
    );
    if !missing.is_empty() {
        found.push(Diagnosis {
            signature: "missing_cors",
            verdict: Verdict::Fail,
            message: MISSING_CORS.into(),
            evidence: missing.into_iter().map(cite).collect(),
        });
    }
    let duplicated = with_defect(probe, &["acao_duplicated"]);
    if !duplicated.is_empty() {
        found.push(Diagnosis {
            signature: "duplicate_cors",
            verdict: Verdict::Fail,
            message: "Two Access-Control-Allow-Origin headers (nginx adds its own on top of the backend's): every browser rejects the answer. Let one layer own CORS.".into(),
            evidence: duplicated.into_iter().map(cite).collect(),
        });
    }
    if let Some(warming) = with_reason(probe, "warming", "warming_over_budget") {
        found.push(Diagnosis {
            signature: "warming_over_budget",
            verdict: Verdict::Fail,
            message: WARMING.into(),
            evidence: vec![cite(warming)],
        });
    }
    let synthetic = summary.is_some_and(|r| r.reason.as_deref() == Some("synthetic_warming"));
    if let Some(summary) =
        summary.filter(|r| r.get("model_present") == Some(&json!(false)) && !synthetic)
    {
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
    let sampled_5xx = sampled.map_or(0, |s| {
        let statuses = s.get("statuses").and_then(Value::as_object);
        let server_errors: u64 = statuses
            .map(|m| {
                m.iter()
                    .filter(|(code, _)| code.starts_with('5'))
                    .filter_map(|(_, n)| n.as_u64())
                    .sum()
            })
            .unwrap_or(0);
        let failed = s.get("failed").and_then(Value::as_u64).unwrap_or(0);
        server_errors + failed
    });
    let requested = sampled
        .and_then(|s| s.get("requested"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let burst = requested > 0 && sampled_5xx as f64 / requested as f64 >= args.burst_ratio;
    if burst || synthetic {
        let mut evidence: Vec<Value> = sampled.filter(|_| burst).map(cite).into_iter().collect();
        evidence.extend(summary.filter(|_| synthetic).map(cite));
        found.push(Diagnosis {
            signature: "5xx_burst",
            verdict: Verdict::Fail,
            message: format!(
                "{BURST} ({sampled_5xx} of {requested} sampled answers were 5xx or failed{}; llm.path={path}, fallback {})",
                if synthetic { ", and nginx is covering the summary with its synthetic warming body" } else { "" },
                if path == "fallback" { "in use" } else { "not in use" }
            ),
            evidence,
        });
    }
    if let Some(edge) = tunnel
        .iter()
        .find(|r| r.reason.as_deref() == Some("tunnel_dead"))
    {
        found.push(Diagnosis {
            signature: "tunnel_dead",
            verdict: Verdict::Fail,
            message: TUNNEL_DEAD.into(),
            evidence: vec![cite(edge)],
        });
    }
    if let Some(deps) = with_reason(probe, "deps", "dependency_failed") {
        let failing = deps.get("failing").cloned().unwrap_or(json!([]));
        found.push(Diagnosis {
            signature: "dependency_down",
            verdict: Verdict::Fail,
            message: format!("The dependency check names failing dependencies: {failing}."),
            evidence: vec![cite(deps)],
        });
    }
    if let Some(legacy) = with_reason(probe, "legacy", "legacy_spa_fallback") {
        found.push(Diagnosis {
            signature: "legacy_spa_fallback",
            verdict: Verdict::Fail,
            message: "The legacy path answers 200 text/html from the single-page app: it was deleted, not retired. Answer it with `return 410;`.".into(),
            evidence: vec![cite(legacy)],
        });
    }
    found
}

pub fn run(args: &TriageArgs, io: &mut Io<'_>) -> Exit {
    let budget = format!("{}ms", args.warming_budget.as_millis());
    let mut probe_args = vec![
        "--url",
        args.url.as_str(),
        "--chat-path",
        args.chat_path.as_str(),
        "--warming-budget",
        budget.as_str(),
    ];
    for origin in &args.origins {
        probe_args.extend(["--origin", origin.as_str()]);
    }
    if let Some(started) = &args.started_at {
        probe_args.extend(["--started-at", started.as_str()]);
    }
    let probe = invoke("status-probe", status_probe::run, &probe_args, b"");

    let base = args.url.trim_end_matches('/');
    let (summary_url, deps_url) = (
        format!("{base}/api/status/summary"),
        format!("{base}/ready"),
    );
    let samples = args.samples.to_string();
    let sampled = invoke(
        "legacy-sampler",
        legacy_sampler::run,
        &[
            "--samples",
            "off",
            "--timeout",
            "3s",
            "-n",
            &samples,
            &summary_url,
            &deps_url,
        ],
        b"",
    );
    let tunnel = match &args.edge {
        Some(edge) => invoke(
            "tunnel-check",
            tunnel_check::run,
            &["edge", "--edge", edge, "--origin", &args.url],
            b"",
        ),
        None => ToolRun {
            exit: Exit::Ok,
            records: Vec::new(),
            stderr: String::new(),
        },
    };

    let mut sink = RecordSink::new(crate::TOOL, io.stdout);
    if ![&probe, &sampled, &tunnel]
        .iter()
        .all(|run| run.pass_through(&mut sink))
    {
        return Exit::Ok;
    }
    let sampled_summary = sampled.last("summary");
    let found = diagnose(&probe.records, sampled_summary, &tunnel.records, args);
    // The tools' own verdicts are evidence; triage's outcome is its diagnoses.
    let mut outcome = Exit::Ok;
    for run in [&probe, &sampled, &tunnel] {
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
        args.url,
        found.len()
    );
    for diagnosis in &found {
        let _ = writeln!(
            io.stderr,
            "  {:<20} {}",
            diagnosis.signature, diagnosis.message
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
            .data(json!({ "evidence": d.evidence }))
        })
        .collect();
    if records.is_empty() {
        records.push(
            Record::pass("triage", &args.url).message("no known signature in the probes' records"),
        );
    }
    for record in records {
        if sink.emit(record).is_err() {
            return Exit::Ok;
        }
    }
    outcome
}
