//! Step 1, observe: zero legacy hits for the required span, from access logs
//! (legacy-sampler's log mode) or, without logs, a bounded live sample that says
//! what it cannot measure.

use day2_core::Exit;
use legacy_sampler::{LiveSummary, LogSummary};
use serde_json::json;

use super::{invoke_owned, tool_failed, CutoverArgs, Finding};
use crate::tools::invoke;

/// The step.
pub(super) fn step(args: &CutoverArgs) -> Finding {
    if args.access_logs.is_empty() {
        return observe_live(args);
    }
    let span = humantime::format_duration(args.quiet_for).to_string();
    let mut sampler_args: Vec<String> = Vec::new();
    for log in &args.access_logs {
        sampler_args.extend(["--log".into(), log.display().to_string()]);
    }
    sampler_args.extend(["--quiet-for".into(), span.replace(' ', "")]);
    sampler_args.extend(["--legacy-prefix".into(), args.legacy_prefix.clone()]);
    sampler_args.extend(["--api-prefix".into(), args.api_prefix.clone()]);
    if let Some(format) = &args.log_format {
        sampler_args.extend(["--log-format".into(), format.clone()]);
    }
    let run = invoke_owned("legacy-sampler", legacy_sampler::run, &sampler_args);
    let Some(summary) = run.last("summary") else {
        return tool_failed(run);
    };
    if run.exit == Exit::Usage {
        return tool_failed(run);
    }
    let message = summary.message.clone().unwrap_or_default();
    let reason = summary
        .reason
        .clone()
        .unwrap_or_else(|| "observe_failed".into());
    let summary = match summary.payload::<LogSummary>() {
        Ok(summary) => summary,
        Err(problem) => return Finding::from(problem).with_evidence(run),
    };
    // The callers of the legacy path are the external monitors the guide asks to find.
    let data = json!({
        "legacy": summary.legacy,
        "last_legacy": summary.last_legacy,
        "coverage": summary.coverage,
        "monitors_still_reading_legacy": {
            "clients": summary.legacy_clients,
            "user_agents": summary.legacy_user_agents,
        },
    });
    let finding = match run.exit {
        Exit::Ok => Finding::pass(format!("no legacy hit in the last {span}: {message}"), data),
        _ => Finding::fail(&reason, message, data),
    };
    finding.with_evidence(run)
}

/// Without access logs only a live sample is possible; it shows what the clients'
/// URL serves now, not who else reads the legacy path, and the step says so.
fn observe_live(args: &CutoverArgs) -> Finding {
    let samples = args.live_samples.to_string();
    let url = args.summary_url();
    let run = invoke(
        "legacy-sampler",
        legacy_sampler::run,
        &["--samples", "off", "-n", &samples, &url],
        b"",
    );
    let Some(summary) = run.last("summary") else {
        return tool_failed(run);
    };
    if run.exit == Exit::Usage {
        return tool_failed(run);
    }
    let summary = match summary.payload::<LiveSummary>() {
        Ok(summary) => summary,
        Err(problem) => return Finding::from(problem).with_evidence(run),
    };
    let legacy = summary.legacy;
    let limits = format!(
        "a live sample of {samples} requests to {url}: it shows what that URL serves now, not who else reads {}, and it does not measure the last {} (give --access-log for that)",
        args.legacy_prefix,
        day2_core::duration::words(args.quiet_for)
    );
    let data = json!({ "limits": limits, "values": summary.values, "legacy": legacy });
    let finding = match run.exit {
        Exit::Ok if legacy == 0 => Finding::warn(
            "live_sample_only",
            format!("0 legacy answers; {limits}"),
            data,
        ),
        _ => Finding::fail(
            "legacy_seen",
            format!("{legacy} legacy answer(s); {limits}"),
            data,
        ),
    };
    finding.with_evidence(run)
}
