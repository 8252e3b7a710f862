//! Disk usage from the Engine's `/system/df`, one model for both of its shapes.
//!
//! Daemons up to Docker 28 (API ≤ 1.51) answer with the older shape: `LayersSize` and
//! arrays `Images`, `Containers`, `Volumes`, `BuildCache`. Newer ones answer with
//! `ImageUsage`, `ContainerUsage`, `VolumeUsage`, `BuildCacheUsage` summaries.
//! bollard 0.21 models only the newer one and returns all-`None` fields for the
//! older, silently ([`is_empty_new_shape`] recognises that).
//!
//! The older shape is summed as `docker system df` sums it (docker/cli
//! `cli/command/formatter/disk_usage.go`), with one reading for the numbers the
//! daemon did not compute: moby's API (`api/swagger.yaml`, `ImageSummary.Containers`,
//! `SharedSize`, `VolumeUsageData.Size`/`RefCount`) says `-1` "indicates that the value
//! has not been set / calculated". Unknown is neither in use nor unused: an image
//! with `Containers: -1` is not active and not reclaimable (the CLI likewise counts
//! only `Containers != 0` images as used), a volume with `RefCount: -1` is not
//! reclaimable, and a `-1` size adds nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use day2_core::Problem;
use serde::Serialize;
use serde_json::Value;

use crate::host::Endpoint;
use crate::raw::{self, Client};

/// Which `/system/df` shape the daemon spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// Arrays of objects plus `LayersSize` (Docker ≤ 28, API ≤ 1.51).
    Old,
    /// `*Usage` summaries with `Items` (Docker ≥ 29, API ≥ 1.52).
    New,
}

/// Counts and sizes of one kind of object, as `docker system df` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Category {
    pub count: u64,
    pub active: u64,
    pub size_bytes: u64,
    pub reclaimable_bytes: u64,
}

/// What `/system/df` says about one volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VolumeUsage {
    /// `None`: the daemon did not compute it (it reports `-1`) or left it out.
    pub size_bytes: Option<u64>,
    /// As the daemon wrote it (`-1`: not computed); `None` when left out.
    pub ref_count: Option<i64>,
}

/// One disk-usage snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiskUsage {
    pub shape: Shape,
    pub images: Category,
    pub containers: Category,
    pub volumes: Category,
    pub build_cache: Category,
    /// Per-volume usage by volume name (empty when the daemon sent no items).
    #[serde(skip)]
    pub volume_sizes: BTreeMap<String, VolumeUsage>,
}

impl DiskUsage {
    /// The snapshot as JSON, without the per-volume table: `shape` (`old`/`new`)
    /// and the four categories.
    pub fn summary(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Bytes over all four categories.
    pub fn size_bytes(&self) -> u64 {
        self.images.size_bytes
            + self.containers.size_bytes
            + self.volumes.size_bytes
            + self.build_cache.size_bytes
    }

    /// Reclaimable bytes over all four categories.
    pub fn reclaimable_bytes(&self) -> u64 {
        self.images.reclaimable_bytes
            + self.containers.reclaimable_bytes
            + self.volumes.reclaimable_bytes
            + self.build_cache.reclaimable_bytes
    }
}

const NEW_KEYS: [&str; 4] = [
    "ImageUsage",
    "ContainerUsage",
    "VolumeUsage",
    "BuildCacheUsage",
];
const OLD_KEYS: [&str; 5] = [
    "LayersSize",
    "Images",
    "Containers",
    "Volumes",
    "BuildCache",
];

/// True when a parsed bollard response carries none of the newer shape's fields,
/// which is what bollard makes of an older-shape answer.
pub fn is_empty_new_shape(value: &Value) -> bool {
    NEW_KEYS
        .iter()
        .all(|key| value.get(key).is_none_or(Value::is_null))
}

/// Reads a `/system/df` body of either shape.
///
/// Errors: `garbage_response` when it is not a JSON object of either shape.
pub fn parse(value: &Value) -> Result<DiskUsage, Problem> {
    let Some(object) = value.as_object() else {
        return Err(Problem::new(
            raw::GARBAGE,
            "the /system/df answer is not a JSON object",
        ));
    };
    if !is_empty_new_shape(value) {
        return Ok(parse_new(value));
    }
    if OLD_KEYS.iter().any(|k| object.contains_key(*k)) {
        return Ok(parse_old(value));
    }
    Err(Problem::new(
        raw::GARBAGE,
        "the /system/df answer has neither the older nor the newer shape",
    ))
}

/// A number the daemon computed: `None` when absent or negative (`-1` = not computed).
fn known(value: &Value, key: &str) -> Option<u64> {
    value
        .get(key)
        .and_then(Value::as_i64)
        .and_then(|n| u64::try_from(n).ok())
}

/// A size for sums: unknown adds nothing.
fn size(value: &Value, key: &str) -> u64 {
    known(value, key).unwrap_or(0)
}

fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn volume_usage(volume: &Value) -> VolumeUsage {
    let usage = volume.get("UsageData").unwrap_or(&Value::Null);
    VolumeUsage {
        size_bytes: known(usage, "Size"),
        ref_count: usage.get("RefCount").and_then(Value::as_i64),
    }
}

fn volume_table(volumes: &[Value]) -> BTreeMap<String, VolumeUsage> {
    volumes
        .iter()
        .filter_map(|v| Some((v.get("Name")?.as_str()?.to_owned(), volume_usage(v))))
        .collect()
}

/// One object's part in its category.
struct Part {
    /// Bytes counted in the category's size.
    size: u64,
    /// Bytes freed by removing it, when it is known to be unused.
    reclaim: u64,
    /// In use (`Some(true)`: active), known unused (`Some(false)`: reclaimable), or
    /// not computed (`None`: neither).
    in_use: Option<bool>,
}

fn category(items: &[Value], part: impl Fn(&Value) -> Part) -> Category {
    let mut sum = Category {
        count: items.len() as u64,
        ..Category::default()
    };
    for part in items.iter().map(part) {
        sum.size_bytes += part.size;
        match part.in_use {
            Some(true) => sum.active += 1,
            Some(false) => sum.reclaimable_bytes += part.reclaim,
            None => {}
        }
    }
    sum
}

fn parse_old(value: &Value) -> DiskUsage {
    // An image with containers is active; one known to have none frees what it does
    // not share with others. The images' size is `LayersSize` (shared layers once).
    let mut images = category(items(value, "Images"), |image| Part {
        size: 0,
        reclaim: size(image, "Size").saturating_sub(size(image, "SharedSize")),
        in_use: known(image, "Containers").map(|n| n > 0),
    });
    images.size_bytes = size(value, "LayersSize");
    let containers = category(items(value, "Containers"), |container| {
        let layer = size(container, "SizeRw");
        Part {
            size: layer,
            reclaim: layer,
            in_use: Some(container.get("State").and_then(Value::as_str) == Some("running")),
        }
    });
    // Mounted is active; known unmounted is reclaimable; -1 or absent is neither.
    let volumes = items(value, "Volumes");
    let volume_cat = category(volumes, |volume| {
        let usage = volume_usage(volume);
        let bytes = usage.size_bytes.unwrap_or(0);
        Part {
            size: bytes,
            reclaim: bytes,
            in_use: usage.ref_count.filter(|n| *n >= 0).map(|n| n > 0),
        }
    });
    // docker/cli sums the build cache without its shared records, and reclaims all
    // of it but what is in use.
    let build_cache = category(items(value, "BuildCache"), |entry| {
        let own = if flag(entry, "Shared") {
            0
        } else {
            size(entry, "Size")
        };
        Part {
            size: own,
            reclaim: own,
            in_use: Some(flag(entry, "InUse")),
        }
    });
    DiskUsage {
        shape: Shape::Old,
        images,
        containers,
        volumes: volume_cat,
        build_cache,
        volume_sizes: volume_table(volumes),
    }
}

fn summary(value: Option<&Value>) -> Category {
    let Some(v) = value else {
        return Category::default();
    };
    Category {
        count: size(v, "TotalCount"),
        active: size(v, "ActiveCount"),
        size_bytes: size(v, "TotalSize"),
        reclaimable_bytes: size(v, "Reclaimable"),
    }
}

fn parse_new(value: &Value) -> DiskUsage {
    let volumes = value.get("VolumeUsage");
    DiskUsage {
        shape: Shape::New,
        images: summary(value.get("ImageUsage")),
        containers: summary(value.get("ContainerUsage")),
        volumes: summary(volumes),
        build_cache: summary(value.get("BuildCacheUsage")),
        volume_sizes: volumes
            .map(|v| volume_table(items(v, "Items")))
            .unwrap_or_default(),
    }
}

/// The pause before asking again while another disk-usage computation runs.
const BUSY_PAUSE: Duration = Duration::from_millis(200);

/// What the Engine answers (HTTP 500) while another `/system/df` is computed.
pub const BUSY: &str = "disk usage operation is already running";

/// GETs `path` (`/vX.Y/system/df`, with `?verbose=1` or not) with the raw client and
/// reads it. The daemon computes one disk usage at a time and answers a second
/// caller (another tool, a person's `docker system df`) with a 500: that is asked
/// again every 200 ms until `deadline`.
///
/// Errors: the raw client's reasons; `docker_error` for another HTTP status (with
/// the Engine's `message`); `garbage_response` for a body that is no disk usage.
pub fn get(
    client: &Client,
    endpoint: &Endpoint,
    path: &str,
    deadline: Instant,
) -> Result<DiskUsage, Problem> {
    let response = loop {
        let response = client.get(endpoint, path, deadline)?;
        let busy =
            response.status() == 500 && String::from_utf8_lossy(response.body()).contains(BUSY);
        if !busy || Instant::now() + BUSY_PAUSE >= deadline {
            break response;
        }
        std::thread::sleep(BUSY_PAUSE);
    };
    if !response.status().is_success() {
        let said = serde_json::from_slice::<Value>(response.body())
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(day2_core::bounded::quoted))
            .unwrap_or_else(|| raw::snippet(response.body()));
        return Err(Problem::new(
            "docker_error",
            format!(
                "{path} answered HTTP {}: {said}",
                response.status().as_u16()
            ),
        ));
    }
    let value: Value = serde_json::from_slice(response.body())
        .map_err(|e| Problem::new(raw::GARBAGE, format!("{path} is not JSON ({e})")))?;
    parse(&value).map_err(|p| p.context(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Recorded from Docker 20.10 (API 1.41), trimmed: the older shape.
    const OLD: &str = include_str!("../tests/fixtures/df-old.json");
    /// The newer shape as API 1.52 documents it.
    const NEW: &str = include_str!("../tests/fixtures/df-new.json");

    #[test]
    fn the_older_shape_is_read_with_sizes_and_unknown_sizes() {
        let value: Value = serde_json::from_str(OLD).unwrap();
        assert!(is_empty_new_shape(&value), "bollard would see nothing here");
        let df = parse(&value).unwrap();
        assert_eq!(df.shape, Shape::Old);
        assert_eq!(df.images.count, 2);
        assert_eq!(df.images.active, 1);
        assert_eq!(df.images.size_bytes, 80_000_000);
        assert_eq!(df.images.reclaimable_bytes, 30_000_000 - 1_000_000);
        assert_eq!(df.containers.count, 2);
        assert_eq!(df.containers.active, 1);
        assert_eq!(df.containers.reclaimable_bytes, 20);
        assert_eq!(df.volumes.count, 3);
        assert_eq!(df.volumes.active, 1);
        assert_eq!(df.volumes.size_bytes, 4096 + 12_000_000_000);
        assert_eq!(df.volumes.reclaimable_bytes, 4096);
        assert_eq!(df.build_cache.count, 2);
        assert_eq!(df.build_cache.reclaimable_bytes, 700);
        assert_eq!(
            df.volume_sizes["deploy_ollama-data"].size_bytes,
            Some(12_000_000_000)
        );
        assert_eq!(df.volume_sizes["deploy_ollama-data"].ref_count, Some(1));
        // -1 means "not computed": unknown, not zero.
        assert_eq!(df.volume_sizes["unsized"].size_bytes, None);
    }

    /// `Containers: -1` is "not calculated" (moby `api/swagger.yaml`): such an image
    /// is neither active nor reclaimable. prune-review's copy counted it reclaimable
    /// (an image in use could be offered as free space), docker-doctor's did not.
    #[test]
    fn an_image_with_an_uncalculated_container_count_is_neither_active_nor_reclaimable() {
        let value = json!({
            "LayersSize": 1000,
            "Images": [
                {"Size": 600, "SharedSize": 100, "Containers": 0},
                {"Size": 400, "SharedSize": 0, "Containers": 1},
                {"Size": 300, "SharedSize": -1, "Containers": -1}
            ],
            "Volumes": [
                {"Name": "a", "UsageData": {"Size": 50, "RefCount": 0}},
                {"Name": "b", "UsageData": {"Size": -1, "RefCount": 1}},
                {"Name": "c", "UsageData": {"Size": 70, "RefCount": -1}}
            ]
        });
        let df = parse(&value).unwrap();
        assert_eq!(df.images.count, 3);
        assert_eq!(df.images.active, 1);
        assert_eq!(df.images.reclaimable_bytes, 500);
        assert_eq!(df.volumes.size_bytes, 120);
        assert_eq!(df.volumes.active, 1);
        assert_eq!(df.volumes.reclaimable_bytes, 50, "RefCount -1 is unknown");
        assert_eq!(df.volume_sizes["c"].ref_count, Some(-1));
    }

    /// docker/cli `disk_usage.go`: the build cache's size leaves out shared records
    /// (docker-doctor's copy added them in).
    #[test]
    fn shared_build_cache_records_are_not_counted_twice() {
        let value = json!({"BuildCache": [
            {"Size": 7, "InUse": false, "Shared": false},
            {"Size": 5, "InUse": false, "Shared": true},
            {"Size": 3, "InUse": true, "Shared": false}
        ]});
        let df = parse(&value).unwrap();
        assert_eq!(df.build_cache.size_bytes, 10);
        assert_eq!(df.build_cache.reclaimable_bytes, 7);
        assert_eq!(df.build_cache.active, 1);
    }

    #[test]
    fn the_newer_shape_is_read_from_its_summaries() {
        let value: Value = serde_json::from_str(NEW).unwrap();
        assert!(!is_empty_new_shape(&value));
        let df = parse(&value).unwrap();
        assert_eq!(df.shape, Shape::New);
        assert_eq!(
            df.volumes,
            Category {
                count: 2,
                active: 1,
                size_bytes: 5000,
                reclaimable_bytes: 1000
            }
        );
        assert_eq!(df.images.reclaimable_bytes, 123);
        assert_eq!(df.build_cache.count, 4);
        assert_eq!(df.volume_sizes["old-cache"].size_bytes, Some(1000));
        assert_eq!(df.volume_sizes["no-usage"].size_bytes, None);
        // Images 123, containers 0, volumes 1000, build cache 50.
        assert_eq!(df.reclaimable_bytes(), 1173);
        // A summary the daemon left null is empty, not a reason to call it old.
        let partial =
            json!({"ImageUsage": {"TotalSize": 9, "Reclaimable": 4}, "ContainerUsage": null});
        let df = parse(&partial).unwrap();
        assert_eq!(
            (df.shape, df.size_bytes(), df.reclaimable_bytes()),
            (Shape::New, 9, 4)
        );
    }

    #[test]
    fn bollard_sees_nothing_in_the_older_shape() {
        // The reason for the raw fallback, pinned: if a bollard upgrade learns the
        // older shape this test says so.
        let parsed: bollard::models::SystemDataUsageResponse = serde_json::from_str(OLD).unwrap();
        let back = serde_json::to_value(&parsed).unwrap();
        assert!(is_empty_new_shape(&back));
        let parsed: bollard::models::SystemDataUsageResponse = serde_json::from_str(NEW).unwrap();
        let back = serde_json::to_value(&parsed).unwrap();
        assert_eq!(parse(&back).unwrap().volumes.count, 2);
    }

    #[test]
    fn neither_shape_is_garbage() {
        for value in [
            json!({"message": "x"}),
            json!([1]),
            json!({"ImageUsage": null}),
        ] {
            assert_eq!(parse(&value).unwrap_err().reason(), raw::GARBAGE, "{value}");
        }
    }
}
