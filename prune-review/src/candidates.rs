//! What a plan proposes: classified volumes that may go, and the cache objects
//! (stopped containers, unused networks, dangling or unused images, build cache).
//!
//! Every rule here errs towards keeping: in use (running or stopped), protected,
//! outside the filter, younger than `--older-than` or of unknown age is never a
//! candidate. `apply` re-checks the same rules anyway.

use std::collections::BTreeSet;
use std::time::Duration;

use day2_core::Record;
use serde_json::{json, Value};

use crate::classify::{self, Class, Classified};
use crate::df::DiskUsage;
use crate::engine::{ContainerInfo, ImageInfo, NetworkInfo};
use crate::plan::{Item, Kind, VolumeIdentity};
use crate::{snapshot, CacheArgs, Context, PlanArgs, Stop};

/// Networks the engine creates itself and never lets anyone remove.
pub const PREDEFINED_NETWORKS: [&str; 3] = ["bridge", "host", "none"];

/// Classifies the volumes in scope against every container on the engine, with the
/// sizes of `usage` (none without it: the review shows sizes later).
pub fn classify_now(
    ctx: &Context<'_, '_>,
    usage: Option<&DiskUsage>,
) -> Result<Vec<Classified>, Stop> {
    let volumes = ctx
        .engine
        .volumes(ctx.filter.as_ref())
        .map_err(Stop::Engine)?;
    let containers = ctx.engine.containers(None).map_err(Stop::Engine)?;
    let none = std::collections::BTreeMap::new();
    Ok(classify::classify(
        volumes,
        &containers,
        usage.map_or(&none, |u| &u.volume_sizes),
        &ctx.protection,
    ))
}

/// Seconds since the Unix epoch of an RFC 3339 time, as the engine writes them.
pub fn epoch_of(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// True when the object is old enough for `--older-than` (always without it; never
/// when its age is unknown).
fn old_enough(created: Option<i64>, older_than: Option<Duration>) -> bool {
    match older_than {
        None => true,
        Some(age) => {
            let now = jiff::Timestamp::now().as_second();
            let age = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
            created.is_some_and(|c| now.saturating_sub(c) >= age)
        }
    }
}

fn volume_item(c: &Classified) -> Item {
    Item {
        kind: Kind::Volume,
        id: c.volume.name.clone(),
        name: c.volume.name.clone(),
        created: c
            .volume
            .created_at
            .clone()
            .map_or(Value::Null, Value::String),
        size_bytes: c.usage.size_bytes,
        reason: c.class.as_str().to_owned(),
        identity: Some(VolumeIdentity {
            labels: c.volume.labels.clone(),
            driver: c.volume.driver.clone(),
            options: c.volume.options.clone(),
        }),
    }
}

/// The cache candidates of the engine in scope.
pub struct Caches {
    pub containers: Vec<ContainerInfo>,
    pub networks: Vec<NetworkInfo>,
    pub images: Vec<ImageInfo>,
}

/// True when no container (in any state) refers to the network by name or id.
pub fn network_unused(network: &NetworkInfo, all: &[ContainerInfo]) -> bool {
    !PREDEFINED_NETWORKS.contains(&network.name.as_str())
        && !all.iter().any(|c| {
            c.networks
                .iter()
                .any(|n| *n == network.name || *n == network.id)
        })
}

pub fn image_unused(image: &ImageInfo, all: &[ContainerInfo]) -> bool {
    !all.iter().any(|c| c.image_id == image.id)
}

/// Finds the cache candidates, `older_than` applied.
pub fn find_caches(
    ctx: &Context<'_, '_>,
    args: &CacheArgs,
    older_than: Option<Duration>,
) -> Result<Caches, Stop> {
    let filter = ctx.filter.as_ref();
    let all = ctx.engine.containers(None).map_err(Stop::Engine)?;
    let protected = |names: &[&str], labels: &crate::engine::Labels| {
        ctx.protection.protects(names, labels).is_some()
    };
    let containers = ctx
        .engine
        .containers(filter)
        .map_err(Stop::Engine)?
        .into_iter()
        .filter(|c| {
            !c.is_live()
                && !protected(&[c.name.as_str()], &c.labels)
                && old_enough(Some(c.created), older_than)
        })
        .collect();
    let mut networks = Vec::new();
    for n in ctx.engine.networks(filter).map_err(Stop::Engine)? {
        let keep = !network_unused(&n, &all)
            || protected(&[n.name.as_str()], &n.labels)
            || !old_enough(n.created.as_deref().and_then(epoch_of), older_than);
        // Endpoints are only visible on inspection; a network with any is in use.
        if !keep && ctx.engine.network_endpoints(&n.id).map_err(Stop::Engine)? == Some(0) {
            networks.push(n);
        }
    }
    let images = ctx
        .engine
        .images(filter)
        .map_err(Stop::Engine)?
        .into_iter()
        .filter(|i| {
            let tags: Vec<&str> = i.tags.iter().map(String::as_str).collect();
            (i.is_dangling() || args.unused_images)
                && image_unused(i, &all)
                && !protected(&tags, &i.labels)
                && old_enough(Some(i.created), older_than)
        })
        .collect();
    Ok(Caches {
        containers,
        networks,
        images,
    })
}

impl Caches {
    pub fn items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        for c in &self.containers {
            items.push(Item {
                kind: Kind::Container,
                id: c.id.clone(),
                name: c.name.clone(),
                created: json!(c.created),
                size_bytes: None,
                reason: "stopped".into(),
                identity: None,
            });
        }
        for n in &self.networks {
            items.push(Item {
                kind: Kind::Network,
                id: n.id.clone(),
                name: n.name.clone(),
                created: n.created.clone().map_or(Value::Null, Value::String),
                size_bytes: None,
                reason: "unused".into(),
                identity: None,
            });
        }
        for i in &self.images {
            items.push(Item {
                kind: Kind::Image,
                id: i.id.clone(),
                name: if i.is_dangling() {
                    i.id.clone()
                } else {
                    i.tags.join(",")
                },
                created: json!(i.created),
                size_bytes: u64::try_from(i.size).ok(),
                reason: if i.is_dangling() {
                    "dangling".into()
                } else {
                    "unused".into()
                },
                identity: None,
            });
        }
        items
    }
}

/// `plan`: the candidates as plan lines.
pub fn plan(ctx: &mut Context<'_, '_>, args: &PlanArgs) -> Result<(), Stop> {
    let usage = ctx.engine.disk_usage().map_err(Stop::Engine)?;
    let classified = classify_now(ctx, Some(&usage))?;
    let mut wanted = BTreeSet::from([Class::OrphanAnonymous]);
    if args.include_named {
        wanted.insert(Class::OrphanNamed);
    }
    if args.include_compose {
        wanted.insert(Class::ComposeProjectGone);
    }
    let mut lines: Vec<(Item, Value)> = classified
        .iter()
        .filter(|c| wanted.contains(&c.class))
        .filter(|c| {
            old_enough(
                c.volume.created_at.as_deref().and_then(epoch_of),
                args.older_than,
            )
        })
        // An unknown creation time cannot be re-checked, so it is never planned.
        .filter(|c| c.volume.created_at.is_some())
        .map(|c| (volume_item(c), json!({"class": c.class})))
        .collect();
    if args.caches {
        let caches = find_caches(ctx, &args.cache, args.older_than)?;
        lines.extend(caches.items().into_iter().map(|i| (i, json!({}))));
        if ctx.filter.is_none() && usage.build_cache.reclaimable_bytes > 0 {
            let item = Item {
                kind: Kind::BuildCache,
                id: "build-cache".into(),
                name: "build-cache".into(),
                created: Value::Null,
                size_bytes: Some(usage.build_cache.reclaimable_bytes),
                reason: "reclaimable".into(),
                identity: None,
            };
            lines.push((item, json!({"entries": usage.build_cache.count})));
        }
    }
    let total: u64 = lines.iter().filter_map(|(i, _)| i.size_bytes).sum();
    let _ = writeln!(
        ctx.stderr,
        "{}: {} candidate(s), {total} bytes known",
        crate::TOOL,
        lines.len()
    );
    for (item, extra) in lines {
        ctx.sink.emit(item.record(extra))?;
    }
    Ok(())
}

/// `caches`: what each cache category would free, read-only.
pub fn caches(ctx: &mut Context<'_, '_>, args: &CacheArgs) -> Result<(), Stop> {
    let usage = snapshot(ctx, "now")?;
    let caches = find_caches(ctx, args, None)?;
    let items = caches.items();
    let categories = [
        (
            "containers",
            Kind::Container,
            usage.containers.reclaimable_bytes,
        ),
        ("networks", Kind::Network, 0),
        ("images", Kind::Image, usage.images.reclaimable_bytes),
    ];
    for (name, kind, reclaimable) in categories {
        let ids: Vec<&str> = items
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.name.as_str())
            .collect();
        ctx.sink.emit(
            Record::info("cache", name, "reclaimable")
                .message(format!("{} {name} could go", ids.len()))
                .data(json!({"count": ids.len(), "reclaimable_bytes": reclaimable, "candidates": ids})),
        )?;
    }
    let (reason, message) = if ctx.filter.is_some() {
        (
            "not_scopable",
            "the build cache carries no labels, so a filtered run never touches it",
        )
    } else {
        ("reclaimable", "the build cache is pruned as a whole")
    };
    ctx.sink.emit(
        Record::info("cache", "build_cache", reason)
            .message(message)
            .data(json!({"count": usage.build_cache.count, "reclaimable_bytes": usage.build_cache.reclaimable_bytes})),
    )?;
    Ok(())
}
