//! `inspect VOLUME`: what is inside a volume, without changing it.
//!
//! A throwaway container of a local image the user names (nothing is pulled) mounts
//! the volume read-only and with `nocopy` (so the engine never copies image content
//! into an empty volume), without network, at a path no image uses; it counts files
//! and runs `du -a -k`. The container is removed afterwards.

use day2_core::Record;
use serde_json::json;

use crate::classify::holders;
use crate::{Context, InspectArgs, Stop};

/// Where the volume is mounted inside the inspection container.
const MOUNT: &str = "/.prune-review-inspect";

/// The file count, then `du -a -k` of the whole tree (in KiB, one entry a line).
fn script() -> String {
    format!("find {MOUNT} -type f | wc -l; du -a -k {MOUNT}")
}

/// What the script printed, read back.
#[derive(Debug, PartialEq)]
pub struct Contents {
    pub file_count: u64,
    pub total_bytes: u64,
    /// The largest entries (files or directories), path relative to the volume root.
    pub largest: Vec<(String, u64)>,
}

pub fn parse_output(text: &str, top: usize) -> Option<Contents> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let file_count = lines.next()?.parse().ok()?;
    let mut total = None;
    let mut entries = Vec::new();
    for line in lines {
        let (kib, path) = line.split_once(char::is_whitespace)?;
        let bytes = kib.parse::<u64>().ok()? * 1024;
        let path = path.trim();
        if path == MOUNT {
            total = Some(bytes);
        } else {
            let rel = path
                .strip_prefix(MOUNT)
                .unwrap_or(path)
                .trim_start_matches('/');
            entries.push((rel.to_owned(), bytes));
        }
    }
    entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    entries.truncate(top);
    Some(Contents {
        file_count,
        total_bytes: total?,
        largest: entries,
    })
}

pub fn inspect(ctx: &mut Context<'_, '_>, args: &InspectArgs) -> Result<(), Stop> {
    let Some(image) = args.image.as_deref().filter(|i| !i.is_empty()) else {
        return Err(Stop::Usage(
            "inspect needs a local image with sh, find and du (e.g. a busybox image): pass --image NAME or set \
             PRUNE_REVIEW_IMAGE; nothing is pulled from a registry"
                .into(),
        ));
    };
    if !ctx.engine.image_exists(image).map_err(Stop::Engine)? {
        return Err(Stop::Usage(format!(
            "image {image:?} is not available locally and nothing is pulled from a registry: \
             name a local image with sh, find and du (docker image ls)"
        )));
    }
    let Some(volume) = ctx.engine.volume(&args.volume).map_err(Stop::Engine)? else {
        ctx.sink.emit(
            Record::error("inspect", &args.volume, "volume_not_found")
                .message(format!("no volume named {}", args.volume)),
        )?;
        return Ok(());
    };
    let held = holders(&volume, &ctx.engine.containers(None).map_err(Stop::Engine)?);
    let started = std::time::Instant::now();
    let script = script();
    let (code, output) = ctx
        .engine
        .run_readonly(image, &volume.name, MOUNT, &["sh", "-c", &script])
        .map_err(Stop::Engine)?;
    let parsed = if code == 0 {
        parse_output(&output, args.top)
    } else {
        None
    };
    let record = match parsed {
        Some(c) => Record::info("inspect", &volume.name, "contents")
            .message(format!("{} file(s), {} bytes", c.file_count, c.total_bytes))
            .data(json!({
                "volume": volume.name,
                "image": image,
                "file_count": c.file_count,
                "total_bytes": c.total_bytes,
                "largest": c.largest.iter().map(|(p, b)| json!({"path": p, "bytes": b})).collect::<Vec<_>>(),
                "holders": held,
                "created_at": volume.created_at,
            })),
        None => {
            let tail: String = output.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
            Record::error("inspect", &volume.name, "inspect_failed")
                .message(format!("the inspection container exited {code}: {tail}"))
                .data(json!({"volume": volume.name, "image": image, "exit_code": code}))
        }
    };
    ctx.sink.emit(record.duration(started.elapsed()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn du_output_is_read_back() {
        let text = format!("3\n4\t{MOUNT}/a/big\n1\t{MOUNT}/small\n8\t{MOUNT}/a\n12\t{MOUNT}\n");
        let c = parse_output(&text, 2).unwrap();
        assert_eq!(c.file_count, 3);
        assert_eq!(c.total_bytes, 12 * 1024);
        assert_eq!(c.largest, vec![("a".into(), 8192), ("a/big".into(), 4096)]);
        assert_eq!(parse_output("sh: find: not found\n", 2), None);
        assert_eq!(parse_output("", 2), None);
    }
}
