//! Resources: the daemon's disk use against a limit, the memory of the stack's
//! running containers (one-shot stats), and what the Ollama container's
//! `OLLAMA_KEEP_ALIVE` means for RAM.
//!
//! Disk use is read from `/system/df` with day2-docker's raw client and model,
//! because bollard 0.21's `df()` only knows the newer shape and silently returns
//! all-`None` fields from daemons that speak the older one (Docker ≤ 28).

use std::time::{Duration, Instant};

use bollard::query_parameters::StatsOptionsBuilder;
use bollard::Docker;
use day2_core::Record;
use futures_util::StreamExt;
use serde_json::json;

use day2_docker::df::{self, Shape};
use day2_docker::engine::bounded;
use day2_docker::Endpoint;

use crate::ladder::{self, ApiVersion};
use crate::size;
use crate::stack::Member;

/// The `resources.disk` record: total use against `limit`.
pub fn disk(endpoint: &Endpoint, api: ApiVersion, limit: u64, timeout: Duration) -> Record {
    let started = Instant::now();
    let path = format!("/v{api}/system/df");
    let ep = endpoint.clone();
    let deadline = started + timeout;
    let get_path = path.clone();
    let fetched = ladder::guarded(deadline, move || {
        df::get(&ladder::RAW, &ep, &get_path, deadline)
    });
    let use_ = match fetched {
        Ok(use_) => use_,
        Err(problem) => {
            return Record::error("resources.disk", &path, &problem.reason)
                .message(problem.message)
                .duration(started.elapsed());
        }
    };
    let total = use_.size_bytes();
    let (images, containers, volumes, build_cache) = (
        use_.images.size_bytes,
        use_.containers.size_bytes,
        use_.volumes.size_bytes,
        use_.build_cache.size_bytes,
    );
    let reclaimable = use_.reclaimable_bytes();
    let data = json!({
        "images_bytes": images,
        "containers_bytes": containers,
        "volumes_bytes": volumes,
        "build_cache_bytes": build_cache,
        "total_bytes": total,
        "reclaimable_bytes": reclaimable,
        "limit_bytes": limit,
        // This tool's record words for the two shapes (the records predate the model).
        "shape": match use_.shape {
            Shape::Old => "legacy",
            Shape::New => "current",
        },
    });
    let summary = format!(
        "Docker uses {} (images {}, containers {}, volumes {}, build cache {}); about {} reclaimable",
        size::human(total),
        size::human(images),
        size::human(containers),
        size::human(volumes),
        size::human(build_cache),
        size::human(reclaimable)
    );
    let record = if total > limit {
        Record::fail("resources.disk", &path, "disk_over_threshold").message(format!(
            "{summary}: over the limit of {}",
            size::human(limit)
        ))
    } else {
        Record::pass("resources.disk", &path).message(summary)
    };
    record.data(data).duration(started.elapsed())
}

/// One `resources.memory` record per running member: usage against its limit.
pub async fn memory(
    docker: &Docker,
    members: &[Member],
    warn_percent: f64,
    timeout: Duration,
) -> Vec<Record> {
    let mut records = Vec::new();
    for member in members.iter().filter(|m| m.running) {
        let started = Instant::now();
        let options = StatsOptionsBuilder::default()
            .stream(false)
            .one_shot(true)
            .build();
        let mut stream = docker.stats(&member.id, Some(options));
        let next = async { stream.next().await.transpose() };
        let stats = bounded(timeout, "read one-shot stats", next).await;
        let record = match stats {
            Ok(Some(stats)) => {
                let mem = stats.memory_stats.unwrap_or_default();
                let counters = mem.stats.unwrap_or_default();
                // What `docker stats` shows: usage minus reclaimable page cache
                // (`inactive_file` on cgroup v2, `total_inactive_file` on v1).
                let cache = counters
                    .get("inactive_file")
                    .or_else(|| counters.get("total_inactive_file"))
                    .copied()
                    .unwrap_or(0);
                let usage = mem.usage.unwrap_or(0).saturating_sub(cache);
                let limit = mem.limit.unwrap_or(0);
                let percent = if limit > 0 {
                    usage as f64 * 100.0 / limit as f64
                } else {
                    0.0
                };
                let data = json!({
                    "service": member.service,
                    "container": member.name,
                    "usage_bytes": usage,
                    "limit_bytes": limit,
                    "percent": (percent * 100.0).round() / 100.0,
                });
                let text = format!(
                    "{} of {} ({percent:.1}%)",
                    size::human(usage),
                    size::human(limit)
                );
                let record = if percent >= warn_percent {
                    Record::warn("resources.memory", &member.name, "memory_high")
                        .message(format!("{text}, at or over {warn_percent}%"))
                } else {
                    Record::pass("resources.memory", &member.name).message(text)
                };
                record.data(data)
            }
            Ok(None) => Record::error("resources.memory", &member.name, "docker_error")
                .message("the stats stream ended without a sample"),
            Err(problem) => Record::error("resources.memory", &member.name, &problem.reason)
                .message(problem.message),
        };
        records.push(record.duration(started.elapsed()));
    }
    records
}

/// What Ollama makes of an `OLLAMA_KEEP_ALIVE` value.
#[derive(Debug, Clone, PartialEq)]
pub enum KeepAlive {
    /// Unload after this long idle (zero: right after each request).
    For(Duration),
    /// A negative value: never unload.
    Forever,
    /// Unparseable: Ollama falls back to its default of 5 minutes.
    Invalid,
}

/// Ollama reads the value as a Go duration (`5m`, `1h30m`, `-1m`), else as whole
/// seconds (`300`, `-1`); a negative value keeps the model loaded forever.
pub fn keep_alive(value: &str) -> KeepAlive {
    let value = value.trim();
    if let Some(result) = go_duration(value) {
        return result;
    }
    match value.parse::<i64>() {
        Ok(n) if n < 0 => KeepAlive::Forever,
        Ok(n) => KeepAlive::For(Duration::from_secs(n.unsigned_abs())),
        Err(_) => KeepAlive::Invalid,
    }
}

/// Go's `time.ParseDuration` grammar: an optional sign, then number+unit pairs
/// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); a bare `0` is allowed.
fn go_duration(text: &str) -> Option<KeepAlive> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(KeepAlive::For(Duration::ZERO));
    }
    if rest.is_empty() {
        return None;
    }
    let mut seconds = 0f64;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        seconds += number * scale;
        rest = &rest[unit_len..];
    }
    Some(if negative && seconds > 0.0 {
        KeepAlive::Forever
    } else {
        KeepAlive::For(Duration::from_secs_f64(seconds))
    })
}

/// The `resources.keep_alive` record for the Ollama service's containers.
pub fn keep_alive_record(members: &[Member], ollama_service: &str, warn_over: Duration) -> Record {
    let Some(ollama) = members.iter().find(|m| m.service == ollama_service) else {
        return Record::info("resources.keep_alive", ollama_service, "no_ollama_service")
            .message(format!("the project has no {ollama_service:?} service"));
    };
    let value = ollama
        .env
        .iter()
        .find_map(|e| e.strip_prefix("OLLAMA_KEEP_ALIVE="));
    let target = ollama.name.as_str();
    let data = |meaning: &str, seconds: Option<f64>| {
        json!({"service": ollama_service, "container": ollama.name, "value": value,
               "seconds": seconds, "meaning": meaning})
    };
    let Some(value) = value else {
        let meaning =
            "unset: Ollama's default 5m — a model leaves RAM 5 minutes after its last request";
        return Record::info("resources.keep_alive", target, "keep_alive_default")
            .message(meaning)
            .data(data(meaning, Some(300.0)));
    };
    match keep_alive(value) {
        KeepAlive::Forever => {
            let meaning = format!(
                "OLLAMA_KEEP_ALIVE={value}: negative, so a loaded model never leaves RAM; free it with `ollama stop <model>`"
            );
            Record::warn("resources.keep_alive", target, "keep_alive_long")
                .message(meaning.clone())
                .data(data(&meaning, None))
        }
        KeepAlive::Invalid => {
            let meaning = format!(
                "OLLAMA_KEEP_ALIVE={value:?} is not a duration: Ollama ignores it and uses 5m"
            );
            Record::warn("resources.keep_alive", target, "keep_alive_invalid")
                .message(meaning.clone())
                .data(data(&meaning, None))
        }
        KeepAlive::For(d) => {
            let shown = day2_core::duration::words(d);
            let meaning = if d.is_zero() {
                format!("OLLAMA_KEEP_ALIVE={value}: a model is unloaded right after each request (RAM freed, every request reloads it)")
            } else {
                format!("OLLAMA_KEEP_ALIVE={value}: a model stays in RAM for {shown} after its last request")
            };
            let record = if d > warn_over {
                Record::warn("resources.keep_alive", target, "keep_alive_long").message(format!(
                    "{meaning}, longer than {}: RAM stays held between uses",
                    day2_core::duration::words(warn_over)
                ))
            } else {
                Record::info("resources.keep_alive", target, "keep_alive_set")
                    .message(meaning.clone())
            };
            record.data(data(&meaning, Some(d.as_secs_f64())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_follows_ollamas_rules() {
        assert_eq!(keep_alive("5m"), KeepAlive::For(Duration::from_secs(300)));
        assert_eq!(
            keep_alive("1h30m"),
            KeepAlive::For(Duration::from_secs(5400))
        );
        assert_eq!(keep_alive("300"), KeepAlive::For(Duration::from_secs(300)));
        assert_eq!(keep_alive("0"), KeepAlive::For(Duration::ZERO));
        assert_eq!(keep_alive("-1"), KeepAlive::Forever);
        assert_eq!(keep_alive("-1m"), KeepAlive::Forever);
        // Go durations have no days: Ollama falls back to its default.
        assert_eq!(keep_alive("1d"), KeepAlive::Invalid);
        assert_eq!(keep_alive("soon"), KeepAlive::Invalid);
    }
}
