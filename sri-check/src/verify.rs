//! `sri-check verify`: recompute every manifest entry and compare. One `entry` record
//! per key, then one `summary` record. Exit codes follow the reference checker:
//! 0 clean, 1 on drift or a missing file (or any other failed entry), 2 when the
//! manifest cannot be read or parsed.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Instant;

use day2_core::{Exit, Io, Problem, Record, RecordSink, Verdict};
use serde_json::json;

use crate::hash::{self, run_ordered};
use crate::paths::Root;
use crate::sri::{Algo, AlgoSet, Metadata};
use crate::{manifest, refusal_record, root_dir, VerifyArgs, TOOL};

/// One manifest entry to check.
struct Job<'a> {
    key: &'a str,
    expected: Result<Metadata, Problem>,
}

pub fn run(args: &VerifyArgs, io: &mut Io<'_>) -> Exit {
    let started = Instant::now();
    let manifest = match manifest::load(&args.manifest) {
        Ok(m) => m,
        Err(message) => {
            io.error(TOOL, message);
            return Exit::Usage;
        }
    };
    let root = match Root::new(&root_dir(args.root.as_deref(), &args.manifest)) {
        Ok(root) => root,
        Err(message) => {
            io.error(TOOL, message);
            return Exit::Usage;
        }
    };
    let jobs: Vec<Job<'_>> = manifest
        .entries
        .iter()
        .map(|(key, value)| Job {
            key,
            expected: manifest::expected(value).map(Metadata::parse),
        })
        .collect();

    let mut sink = RecordSink::new(TOOL, io.stdout);
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut bytes = 0u64;
    let threads = hash::worker_count(args.jobs);
    run_ordered(
        &jobs,
        threads,
        |job, buf| check(job, &root, buf),
        |_, (record, size)| {
            bytes += size;
            let key = record.reason.clone().unwrap_or_else(|| "ok".to_owned());
            *reasons.entry(key).or_default() += 1;
            match sink.emit(record) {
                Ok(()) => ControlFlow::Continue(()),
                Err(_) => ControlFlow::Break(()),
            }
        },
    );
    let elapsed = started.elapsed();
    let target = args.manifest.display().to_string();
    // A manifest without entries checked nothing: that is no clean verification.
    let summary = if jobs.is_empty() {
        Record::error("summary", &target, "no_entries")
            .message(format!("{target} has no entries: nothing was verified"))
    } else {
        Record::info("summary", &target, "summary").message(format!(
            "{}, {} ok, {} hashed",
            day2_core::human::plural(jobs.len() as u64, "entry", "entries"),
            reasons.get("ok").copied().unwrap_or(0),
            day2_core::human::plural(bytes, "byte", "bytes")
        ))
    };
    let summary = summary
        .data(json!({
            "entries": jobs.len(),
            "reasons": reasons,
            "bytes": bytes,
            "root": root.canonical.display().to_string(),
            "threads": threads,
        }))
        .duration(elapsed);
    // A closed stdout is a clean end, and the exit is already decided.
    let _ = sink.emit(summary);
    sink.exit()
}

/// Checks one entry; returns its record and the bytes hashed.
fn check(job: &Job<'_>, root: &Root, buf: &mut [u8]) -> (Record, u64) {
    let started = Instant::now();
    let key = job.key;
    let metadata = match &job.expected {
        Ok(m) => m,
        Err(problem) => {
            let record = problem
                .clone()
                .context(key)
                .into_record_as(Verdict::Fail, "entry", key);
            return (record, 0);
        }
    };
    let Some(algo) = metadata.strongest else {
        let record = Record::fail("entry", key, "invalid_entry")
            .message(format!(
                "{key}: no sha256, sha384 or sha512 hash in the entry"
            ))
            .data(json!({ "ignored": metadata.ignored }));
        return (record, 0);
    };
    let file = match root.open_key(key) {
        Ok(file) => file,
        Err(refusal) => return (refusal_record("entry", key, &refusal), 0),
    };
    let (digests, size) = match hash::hash_reader(file, AlgoSet::of(algo), buf) {
        Ok(done) => done,
        Err(e) => {
            let refusal = crate::paths::Refusal::Unreadable(e);
            return (refusal_record("entry", key, &refusal), 0);
        }
    };
    let actual = digests.sri(algo).unwrap_or_default();
    let data = json!({
        "algo": algo.name(),
        "expected": metadata.expected_texts(),
        "actual": actual,
        "bytes": size,
    });
    let record = match metadata.matches(&digests) {
        Some(true) if algo < Algo::Sha384 => {
            Record::new("entry", key, Verdict::Warn, Some("weak_hash")).message(format!(
                "{key}: matches, but {} is weaker than sha384",
                algo.name()
            ))
        }
        Some(true) => Record::pass("entry", key),
        _ => Record::fail("entry", key, "drift").message(format!(
            "{key}: expected {}, file has {actual}",
            metadata.expected_texts().join(" ")
        )),
    };
    (record.data(data).duration(started.elapsed()), size)
}
