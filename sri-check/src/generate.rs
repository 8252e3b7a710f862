//! `sri-check generate`: hash the given files and write the manifest exactly as the
//! reference generator would, or with `--check` say what would change and exit 1.
//!
//! Records: one `operand` record per glob that matched nothing, one `entry` record
//! per key (new state compared with the manifest on disk), one `manifest` record
//! with the outcome. If any file cannot be hashed, nothing is written: a manifest
//! that silently lost an entry would pass verification. A closed stdout silences the
//! records but does not stop the write.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use day2_core::{Exit, Io, Record, RecordSink};
use serde_json::json;

use crate::hash::{self, run_ordered};
use crate::manifest::{self, Generated};
use crate::paths::{self, Operand, Refusal, Root};
use crate::sri::{Algo, AlgoSet};
use crate::{refusal_record, root_dir, GenerateArgs, TOOL};

pub fn run(args: &GenerateArgs, io: &mut Io<'_>) -> Exit {
    let started = Instant::now();
    let algo = Algo::from(args.algo);
    let root = match Root::new(&root_dir(args.root.as_deref(), &args.manifest)) {
        Ok(root) => root,
        Err(message) => {
            io.error(TOOL, message);
            return Exit::Usage;
        }
    };
    let old_bytes = match day2_core::input::read_file_if_exists(
        &args.manifest,
        "manifest",
        crate::MANIFEST_LIMIT,
    ) {
        Ok(bytes) => bytes,
        Err(message) => {
            io.error(TOOL, message);
            return Exit::Usage;
        }
    };
    // The existing entries: key -> hash string as stored (or None if unusable).
    let old: Option<BTreeMap<String, Option<String>>> = match &old_bytes {
        None => None,
        Some(bytes) => match manifest::parse(bytes) {
            Ok(m) => Some(
                m.entries
                    .iter()
                    .map(|(k, v)| (k.clone(), manifest::expected(v).ok().map(str::to_owned)))
                    .collect(),
            ),
            Err(e) => {
                io.error(
                    TOOL,
                    format!(
                        "{}:{e} (fix or remove it before generating)",
                        args.manifest.display()
                    ),
                );
                return Exit::Usage;
            }
        },
    };
    let update = args.update || args.paths.is_empty();
    if args.paths.is_empty() && old.is_none() {
        io.error(
            TOOL,
            format!(
                "{} does not exist; give the files to list (paths, globs, or - for stdin)",
                args.manifest.display()
            ),
        );
        return Exit::Usage;
    }
    let operands = match paths::expand(&args.paths, io.stdin, args.null) {
        Ok(operands) => operands,
        Err(message) => {
            io.error(TOOL, message);
            return Exit::Usage;
        }
    };

    let own_key = root.key_of(&args.manifest).ok();
    let mut sink = RecordSink::new(TOOL, io.stdout);
    let mut keys: BTreeSet<String> = BTreeSet::new();
    let mut failed = 0usize;
    for operand in operands {
        let record = match operand {
            Operand::NoMatch(pattern) => Record::warn("operand", &pattern, "no_match")
                .message(format!("{pattern}: the glob matched no file")),
            Operand::Path(path) => match root.key_of(&path) {
                // `find . -type f | sri-check generate -` also finds the manifest,
                // whose hash changes with every write of it.
                Ok(key) if Some(&key) == own_key.as_ref() => {
                    Record::info("operand", &path.to_string_lossy(), "manifest_itself")
                        .message("the manifest is not listed in itself")
                }
                Ok(key) => {
                    keys.insert(key);
                    continue;
                }
                Err(refusal) => {
                    failed += 1;
                    refusal_record("entry", &path.to_string_lossy(), &refusal)
                }
            },
        };
        // The manifest is the product here, not the records: a reader that went away
        // (`| head`) silences them but does not stop the write.
        let _ = sink.emit(record);
    }
    if update {
        keys.extend(old.iter().flat_map(|m| m.keys().cloned()));
    }
    let mut keys: Vec<String> = keys.into_iter().collect();
    keys.sort_by(|a, b| manifest::js_cmp(a, b));

    let mut generated: Vec<Generated> = Vec::new();
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut bytes = 0u64;
    let threads = hash::worker_count(args.jobs);
    run_ordered(
        &keys,
        threads,
        |key, buf| hash_key(&root, key, algo, buf),
        |index, result| {
            let key = &keys[index];
            let record = match result {
                Err(refusal) => {
                    failed += 1;
                    refusal_record("entry", key, &refusal)
                }
                Ok((integrity, size)) => {
                    bytes += size;
                    let previous = old.as_ref().and_then(|m| m.get(key));
                    let status = match previous {
                        None => "added",
                        Some(Some(text)) if *text == integrity => "unchanged",
                        Some(_) => "changed",
                    };
                    *counts.entry(status).or_default() += 1;
                    let record = entry_record(key, status, args.check).data(json!({
                        "integrity": integrity,
                        "previous": previous.cloned().flatten(),
                        "bytes": size,
                    }));
                    generated.push(Generated {
                        key: key.clone(),
                        field: manifest::field_for(algo),
                        integrity,
                    });
                    record
                }
            };
            let _ = sink.emit(record);
            ControlFlow::Continue(())
        },
    );
    if !update {
        for (key, previous) in old.iter().flatten() {
            if keys.binary_search_by(|k| manifest::js_cmp(k, key)).is_err() {
                *counts.entry("removed").or_default() += 1;
                let record =
                    entry_record(key, "removed", args.check).data(json!({ "previous": previous }));
                let _ = sink.emit(record);
            }
        }
    }

    let rendered = manifest::render(&generated);
    let same_bytes = old_bytes.as_deref() == Some(rendered.as_bytes());
    let target = args.manifest.display().to_string();
    let data = json!({
        "entries": generated.len(),
        "counts": counts,
        "failed": failed,
        "bytes": bytes,
        "reformatted": !same_bytes && counts.keys().all(|s| *s == "unchanged"),
        "root": root.canonical.display().to_string(),
    });
    let record = if failed > 0 {
        Record::fail("manifest", &target, "not_written").message(format!(
            "{failed} file(s) could not be listed; the manifest was left as it was"
        ))
    } else if generated.is_empty() {
        // An empty manifest verifies nothing: never write one, never pass one.
        Record::error("manifest", &target, "no_entries").message(format!(
            "no file to list, so {target} was left as it was: an empty manifest would check nothing"
        ))
    } else if same_bytes {
        Record::pass("manifest", &target).message("the manifest is up to date")
    } else if args.check {
        Record::fail("manifest", &target, "would_change").message(format!(
            "{target} is out of date; run sri-check generate to rewrite it"
        ))
    } else {
        match write_atomically(&args.manifest, rendered.as_bytes()) {
            Ok(()) => Record::info("manifest", &target, "written")
                .message(format!("wrote {} entries to {target}", generated.len())),
            Err(e) => Record::error("manifest", &target, "write_failed")
                .message(format!("cannot write {target}: {e}")),
        }
    };
    let _ = sink.emit(record.data(data).duration(started.elapsed()));
    sink.exit()
}

/// An `entry` record: a change is a finding under `--check`, news otherwise.
fn entry_record(key: &str, status: &str, check: bool) -> Record {
    match status {
        "unchanged" => Record::pass("entry", key),
        _ if check => {
            Record::fail("entry", key, status).message(format!("{key}: would be {status}"))
        }
        _ => Record::info("entry", key, status),
    }
}

fn hash_key(root: &Root, key: &str, algo: Algo, buf: &mut [u8]) -> Result<(String, u64), Refusal> {
    let file = root.open_key(key)?;
    let (digests, size) =
        hash::hash_reader(file, AlgoSet::of(algo), buf).map_err(Refusal::Unreadable)?;
    Ok((digests.sri(algo).unwrap_or_default(), size))
}

/// Writes through a temporary file in the same directory and renames it over the
/// target, so a reader never sees half a manifest.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
