//! `apply`: deletes what a plan lists and nothing else.
//!
//! Just before each deletion the object is looked up again: it must still exist,
//! with the creation time the plan recorded, carry the `--filter` label if there is
//! one, not be protected, and not be held by any container (running or stopped).
//! Anything else is skipped with a reason record. Removals are never forced, so the
//! engine's own in-use check stays as a last guard. A re-run after an interruption
//! finds the deleted objects gone (`already_gone`) and carries on.

use day2_core::{Io, Problem, Record};
use serde_json::{json, Value};

use crate::candidates::{image_unused, network_unused};
use crate::classify::holders;
use crate::df::DiskUsage;
use crate::engine::{Labels, Removal};
use crate::plan::{self, Item, Kind, VolumeIdentity};
use crate::{snapshot, ApplyArgs, Context, Stop, TOOL};

/// Reads and validates the plan, and settles whether it may be applied at all,
/// before the engine is touched: deleting needs `--yes` or a person answering on
/// the terminal (which the plan cannot be read from). Errors (usage errors):
/// `unreadable_input`, `invalid_plan`, `unconfirmed`.
pub fn read_plan(args: &ApplyArgs, io: &mut Io<'_>) -> Result<Vec<Item>, Problem> {
    let items = read_plan_text(args, io)?;
    if !items.is_empty() && !args.yes && (!io.interactive || plan_on_stdin(args)) {
        return Err(Problem::new("unconfirmed", "refusing to delete without confirmation: run on a terminal with --plan FILE, or pass --yes"));
    }
    Ok(items)
}

fn plan_on_stdin(args: &ApplyArgs) -> bool {
    args.plan.as_deref().is_none_or(|p| p.as_os_str() == "-")
}

/// The largest plan read: 64 MiB (hundreds of thousands of lines). A plan is read
/// as a stream (a file, a FIFO, stdin), so `/dev/zero` ends here, not in memory.
pub const PLAN_LIMIT: u64 = 64 * day2_core::input::MIB;

fn read_plan_text(args: &ApplyArgs, io: &mut Io<'_>) -> Result<Vec<Item>, Problem> {
    use day2_core::input;
    match args.plan.as_deref().filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            let text = input::read_text(path, "--plan", PLAN_LIMIT)?;
            plan::read(&text, &path.display().to_string())
        }
        None => {
            let bytes = input::read_capped(io.stdin, "the plan on stdin", PLAN_LIMIT)?;
            let text = input::utf8(bytes, "the plan on stdin")?;
            plan::read(&text, "stdin")
        }
    }
}

/// The outcome of one item.
enum Outcome {
    Deleted(Option<u64>),
    /// A skip: verdict, reason, message, extra data.
    Skipped(&'static str, &'static str, String, Value),
}

fn skip(reason: &'static str, message: impl Into<String>) -> Outcome {
    let verdict = if reason == "already_gone" {
        "info"
    } else {
        "warn"
    };
    Outcome::Skipped(verdict, reason, message.into(), json!({}))
}

/// Asks on the terminal; anything but y/yes declines.
fn confirm(ctx: &mut Context<'_, '_>, items: &[Item]) -> bool {
    let _ = writeln!(
        ctx.stderr,
        "{TOOL}: the plan deletes {} object(s):",
        items.len()
    );
    for item in items {
        let size = item
            .size_bytes
            .map_or("size unknown".to_owned(), |s| format!("{s} bytes"));
        // Names come from the plan file: shown with terminal controls escaped.
        let _ = writeln!(
            ctx.stderr,
            "  {} {} ({size})",
            item.kind.as_str(),
            day2_core::cli::for_stderr(&item.name)
        );
    }
    let _ = write!(ctx.stderr, "Delete them? Each is re-checked first. [y/N] ");
    let _ = ctx.stderr.flush();
    let mut answer = String::new();
    let _ = ctx.stdin.read_line(&mut answer);
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

pub fn apply(ctx: &mut Context<'_, '_>, args: &ApplyArgs, items: Vec<Item>) -> Result<(), Stop> {
    // `read_plan` has already refused a run that could not be confirmed.
    if !items.is_empty() && !args.yes && !confirm(ctx, &items) {
        ctx.sink.emit(
            Record::info("apply.summary", "plan", "declined")
                .message("nothing deleted: the confirmation was declined")
                .data(json!({"planned": items.len(), "deleted": 0})),
        )?;
        return Ok(());
    }
    let before = snapshot(ctx, "before")?;
    let mut deleted = 0usize;
    let mut skipped = 0usize;
    let mut bytes = 0u64;
    let mut unknown = 0usize;
    // Containers first: a stopped container planned for deletion may be what the
    // engine would otherwise report as holding a network or image.
    let mut ordered = items;
    ordered.sort_by_key(|i| match i.kind {
        Kind::Container => 0,
        Kind::Volume => 1,
        Kind::Network => 2,
        Kind::Image => 3,
        Kind::BuildCache => 4,
    });
    for item in &ordered {
        let outcome = match item.kind {
            Kind::Volume => volume(ctx, item, &before),
            Kind::Container => container(ctx, item),
            Kind::Network => network(ctx, item),
            Kind::Image => image(ctx, item),
            Kind::BuildCache => build_cache(ctx),
        };
        let record = match outcome {
            Ok(Outcome::Deleted(size)) => {
                deleted += 1;
                match size {
                    Some(s) => bytes += s,
                    None => unknown += 1,
                }
                Record::pass("delete", &item.id)
                    .message(format!("deleted {} {}", item.kind.as_str(), item.name))
                    .data(json!({"kind": item.kind.as_str(), "name": item.name, "created": item.created, "bytes": size}))
            }
            Ok(Outcome::Skipped(verdict, reason, message, extra)) => {
                skipped += 1;
                let record = match verdict {
                    "info" => Record::info("delete", &item.id, reason),
                    _ => Record::warn("delete", &item.id, reason),
                };
                let mut data =
                    json!({"kind": item.kind.as_str(), "name": item.name, "created": item.created});
                if let (Some(obj), Value::Object(more)) = (data.as_object_mut(), extra) {
                    obj.extend(more);
                }
                record.message(message).data(data)
            }
            Err(e) => {
                skipped += 1;
                let timed_out = crate::engine::is_timeout(&e);
                let record = Record::error("delete", &item.id, "delete_failed")
                    .message(e.message.clone())
                    .data(json!({"kind": item.kind.as_str(), "name": item.name, "created": item.created}));
                if timed_out {
                    // The run's time is up: the rest is not attempted.
                    ctx.sink.emit(record)?;
                    return Err(Stop::Engine(e));
                }
                record
            }
        };
        ctx.sink.emit(record)?;
    }
    let after = snapshot(ctx, "after")?;
    let category = |d: &DiskUsage| {
        json!({
            "images": d.images.reclaimable_bytes,
            "containers": d.containers.reclaimable_bytes,
            "volumes": d.volumes.reclaimable_bytes,
            "build_cache": d.build_cache.reclaimable_bytes,
        })
    };
    ctx.sink.emit(
        Record::info("apply.summary", "plan", "done")
            .message(format!(
                "{deleted} deleted, {skipped} skipped, {bytes} bytes reclaimed"
            ))
            .data(json!({
                "planned": ordered.len(),
                "deleted": deleted,
                "skipped": skipped,
                "bytes_reclaimed": bytes,
                "unknown_size_count": unknown,
                "reclaimable_before": category(&before),
                "reclaimable_after": category(&after),
            })),
    )?;
    Ok(())
}

/// The checks every kind shares: same creation time, inside the filter, not
/// protected. `None` means all passed.
fn common_checks(
    ctx: &Context<'_, '_>,
    item: &Item,
    created: Value,
    names: &[&str],
    labels: &Labels,
) -> Option<Outcome> {
    if !same_created(&item.created, &created) {
        return Some(skip(
            "created_at_changed",
            format!(
                "{} was created at {created} now, not {}: a different object by the same name",
                item.name, item.created
            ),
        ));
    }
    if let Some(filter) = &ctx.filter {
        if !filter.matches(labels) {
            return Some(skip(
                "outside_filter",
                format!(
                    "{} does not carry the label {}",
                    item.name,
                    filter.filter_value()
                ),
            ));
        }
    }
    if let Some(rule) = ctx.protection.protects(names, labels) {
        return Some(Outcome::Skipped(
            "warn",
            "protected",
            format!("{} is protected ({rule})", item.name),
            json!({"protected_by": rule}),
        ));
    }
    None
}

/// Creation times match when equal as written, or as instants (the engine may
/// render the same time with another offset or precision).
fn same_created(planned: &Value, now: &Value) -> bool {
    if planned == now {
        return true;
    }
    match (
        planned.as_str().and_then(epoch_of_nanos),
        now.as_str().and_then(epoch_of_nanos),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn epoch_of_nanos(text: &str) -> Option<i128> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_nanosecond())
}

fn removed(result: Result<Removal, Problem>, size: Option<u64>) -> Result<Outcome, Problem> {
    Ok(match result? {
        Removal::Removed => Outcome::Deleted(size),
        Removal::Gone => skip("already_gone", "removed by someone else just now"),
        Removal::Refused(why) => skip("engine_refused", format!("the engine refused: {why}")),
    })
}

fn volume(ctx: &Context<'_, '_>, item: &Item, before: &DiskUsage) -> Result<Outcome, Problem> {
    let Some(vol) = ctx.engine.volume(&item.id)? else {
        return Ok(skip(
            "already_gone",
            format!("volume {} no longer exists", item.id),
        ));
    };
    let created = vol.created_at.clone().map_or(Value::Null, Value::String);
    if let Some(out) = common_checks(ctx, item, created, &[vol.name.as_str()], &vol.labels) {
        return Ok(out);
    }
    // The creation time has whole seconds: a volume re-created under the same name
    // within the same second is told apart by its labels, driver and options.
    let now = VolumeIdentity {
        labels: vol.labels.clone(),
        driver: vol.driver.clone(),
        options: vol.options.clone(),
    };
    if let Some(planned) = item.identity.as_ref().filter(|planned| **planned != now) {
        let changed: Vec<&str> = [
            ("labels", planned.labels != now.labels),
            ("driver", planned.driver != now.driver),
            ("options", planned.options != now.options),
        ]
        .into_iter()
        .filter_map(|(what, differs)| differs.then_some(what))
        .collect();
        return Ok(Outcome::Skipped(
            "warn",
            "identity_changed",
            format!(
                "volume {} has other {} than the plan recorded: a different volume by the same name",
                vol.name,
                changed.join(", ")
            ),
            json!({"changed": changed, "now": now.data()}),
        ));
    }
    let containers = ctx.engine.containers(None)?;
    let held = holders(&vol, &containers);
    if !held.is_empty() {
        return Ok(Outcome::Skipped(
            "warn",
            "in_use",
            format!(
                "volume {} is mounted by {} container(s)",
                vol.name,
                held.len()
            ),
            json!({"holders": held}),
        ));
    }
    let size = before
        .volume_sizes
        .get(&vol.name)
        .and_then(|u| u.size_bytes)
        .or(item.size_bytes);
    removed(ctx.engine.remove_volume(&vol.name), size)
}

fn container(ctx: &Context<'_, '_>, item: &Item) -> Result<Outcome, Problem> {
    let all = ctx.engine.containers(None)?;
    let Some(c) = all.iter().find(|c| c.id == item.id) else {
        return Ok(skip(
            "already_gone",
            format!("container {} no longer exists", item.name),
        ));
    };
    if let Some(out) = common_checks(ctx, item, json!(c.created), &[c.name.as_str()], &c.labels) {
        return Ok(out);
    }
    if c.is_live() {
        return Ok(skip(
            "in_use",
            format!("container {} is {}", c.name, c.state),
        ));
    }
    removed(ctx.engine.remove_container(&c.id), None)
}

fn network(ctx: &Context<'_, '_>, item: &Item) -> Result<Outcome, Problem> {
    let Some(n) = ctx
        .engine
        .networks(None)?
        .into_iter()
        .find(|n| n.id == item.id)
    else {
        return Ok(skip(
            "already_gone",
            format!("network {} no longer exists", item.name),
        ));
    };
    let created = n.created.clone().map_or(Value::Null, Value::String);
    if let Some(out) = common_checks(ctx, item, created, &[n.name.as_str()], &n.labels) {
        return Ok(out);
    }
    let all = ctx.engine.containers(None)?;
    if !network_unused(&n, &all) || ctx.engine.network_endpoints(&n.id)?.unwrap_or(0) > 0 {
        return Ok(skip("in_use", format!("network {} has containers", n.name)));
    }
    removed(ctx.engine.remove_network(&n.id), None)
}

fn image(ctx: &Context<'_, '_>, item: &Item) -> Result<Outcome, Problem> {
    let Some(i) = ctx
        .engine
        .images(None)?
        .into_iter()
        .find(|i| i.id == item.id)
    else {
        return Ok(skip(
            "already_gone",
            format!("image {} no longer exists", item.name),
        ));
    };
    let tags: Vec<&str> = i.tags.iter().map(String::as_str).collect();
    if let Some(out) = common_checks(ctx, item, json!(i.created), &tags, &i.labels) {
        return Ok(out);
    }
    if !image_unused(&i, &ctx.engine.containers(None)?) {
        return Ok(skip(
            "in_use",
            format!("image {} is used by a container", item.name),
        ));
    }
    removed(ctx.engine.remove_image(&i.id), u64::try_from(i.size).ok())
}

fn build_cache(ctx: &Context<'_, '_>) -> Result<Outcome, Problem> {
    if let Some(filter) = &ctx.filter {
        return Ok(skip(
            "outside_filter",
            format!(
                "the build cache carries no labels, so --filter {} excludes it",
                filter.filter_value()
            ),
        ));
    }
    ctx.engine
        .prune_build_cache()
        .map(|n| Outcome::Deleted(Some(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_times_compare_as_instants() {
        assert!(same_created(
            &json!("2026-11-27T10:00:00Z"),
            &json!("2026-11-27T10:00:00Z")
        ));
        assert!(same_created(
            &json!("2026-11-27T10:00:00Z"),
            &json!("2026-11-27T11:00:00+01:00")
        ));
        assert!(!same_created(
            &json!("2026-11-27T10:00:00Z"),
            &json!("2026-11-27T10:00:01Z")
        ));
        assert!(same_created(&json!(17), &json!(17)));
        assert!(!same_created(&json!(17), &json!(18)));
        assert!(!same_created(&json!("x"), &json!("y")));
        assert_eq!(
            crate::candidates::epoch_of("1970-01-01T00:01:00Z"),
            Some(60)
        );
    }
}
