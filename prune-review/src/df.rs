//! Disk usage from the engine's `/system/df`, in either of its two shapes.
//!
//! Daemons up to Docker 28 answer with the older shape (`LayersSize`, `Images`,
//! `Containers`, `Volumes`, `BuildCache` as arrays); newer ones with `ImageUsage`,
//! `ContainerUsage`, `VolumeUsage`, `BuildCacheUsage` summaries. bollard 0.21 models
//! only the newer one and returns all-`None` fields for the older, silently. So the
//! engine layer asks bollard first and, when everything came back empty, fetches the
//! raw JSON itself ([`fetch_raw`]); [`parse`] reads both shapes from plain JSON.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

/// Which `/system/df` shape the daemon spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// Arrays of objects plus `LayersSize` (Docker ≤ 28, API ≤ 1.51).
    Old,
    /// `*Usage` summaries with `Items` (Docker ≥ 29).
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

/// What `/system/df` says about one volume. `size_bytes` is `None` when the daemon
/// did not compute it (it reports `-1`) or left it out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VolumeUsage {
    pub size_bytes: Option<u64>,
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
    /// The summary written in `disk` records (without the per-volume table).
    pub fn summary(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reclaimable bytes over all four categories.
    pub fn reclaimable_bytes(&self) -> u64 {
        self.images.reclaimable_bytes
            + self.containers.reclaimable_bytes
            + self.volumes.reclaimable_bytes
            + self.build_cache.reclaimable_bytes
    }
}

/// True when a parsed bollard response carries none of the newer shape's fields,
/// which is what bollard makes of an older-shape answer.
pub fn is_empty_new_shape(value: &Value) -> bool {
    [
        "ImageUsage",
        "ContainerUsage",
        "VolumeUsage",
        "BuildCacheUsage",
    ]
    .iter()
    .all(|key| value.get(key).is_none_or(Value::is_null))
}

/// Reads a `/system/df` body of either shape.
pub fn parse(value: &Value) -> Result<DiskUsage, String> {
    let Some(object) = value.as_object() else {
        return Err("the /system/df answer is not a JSON object".into());
    };
    let new_keys = [
        "ImageUsage",
        "ContainerUsage",
        "VolumeUsage",
        "BuildCacheUsage",
    ];
    if new_keys
        .iter()
        .any(|k| object.get(*k).is_some_and(|v| !v.is_null()))
    {
        return Ok(parse_new(value));
    }
    let old_keys = [
        "LayersSize",
        "Images",
        "Containers",
        "Volumes",
        "BuildCache",
    ];
    if old_keys.iter().any(|k| object.contains_key(*k)) {
        return Ok(parse_old(value));
    }
    Err("the /system/df answer has neither the older nor the newer shape".into())
}

fn int(value: &Value, key: &str) -> i64 {
    value.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// Negative sizes (`-1` = not computed) count as zero in sums.
fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn volume_usage(volume: &Value) -> VolumeUsage {
    let usage = volume.get("UsageData");
    VolumeUsage {
        size_bytes: usage
            .and_then(|u| u.get("Size"))
            .and_then(Value::as_i64)
            .and_then(|n| u64::try_from(n).ok()),
        ref_count: usage
            .and_then(|u| u.get("RefCount"))
            .and_then(Value::as_i64),
    }
}

fn volume_table(volumes: &[Value]) -> BTreeMap<String, VolumeUsage> {
    volumes
        .iter()
        .filter_map(|v| Some((v.get("Name")?.as_str()?.to_owned(), volume_usage(v))))
        .collect()
}

fn parse_old(value: &Value) -> DiskUsage {
    let images = items(value, "Images");
    let mut image_cat = Category {
        count: images.len() as u64,
        size_bytes: non_negative(int(value, "LayersSize")),
        ..Category::default()
    };
    for image in images {
        // The docker CLI's rule: an image with containers is active; an unused
        // image frees what it does not share with others.
        if int(image, "Containers") > 0 {
            image_cat.active += 1;
        } else {
            let own = non_negative(int(image, "Size"))
                .saturating_sub(non_negative(int(image, "SharedSize")));
            image_cat.reclaimable_bytes += own;
        }
    }

    let containers = items(value, "Containers");
    let mut container_cat = Category {
        count: containers.len() as u64,
        ..Category::default()
    };
    for container in containers {
        let size = non_negative(int(container, "SizeRw"));
        container_cat.size_bytes += size;
        if container.get("State").and_then(Value::as_str) == Some("running") {
            container_cat.active += 1;
        } else {
            container_cat.reclaimable_bytes += size;
        }
    }

    let volumes = items(value, "Volumes");
    let table = volume_table(volumes);
    let mut volume_cat = Category {
        count: volumes.len() as u64,
        ..Category::default()
    };
    for usage in table.values() {
        let size = usage.size_bytes.unwrap_or(0);
        volume_cat.size_bytes += size;
        if usage.ref_count.unwrap_or(0) > 0 {
            volume_cat.active += 1;
        } else {
            volume_cat.reclaimable_bytes += size;
        }
    }

    let cache = items(value, "BuildCache");
    let mut cache_cat = Category {
        count: cache.len() as u64,
        ..Category::default()
    };
    for entry in cache {
        let size = non_negative(int(entry, "Size"));
        let shared = entry
            .get("Shared")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !shared {
            cache_cat.size_bytes += size;
        }
        if entry.get("InUse").and_then(Value::as_bool).unwrap_or(false) {
            cache_cat.active += 1;
        } else if !shared {
            cache_cat.reclaimable_bytes += size;
        }
    }

    DiskUsage {
        shape: Shape::Old,
        images: image_cat,
        containers: container_cat,
        volumes: volume_cat,
        build_cache: cache_cat,
        volume_sizes: table,
    }
}

fn summary(value: Option<&Value>) -> Category {
    let Some(v) = value else {
        return Category::default();
    };
    Category {
        count: non_negative(int(v, "TotalCount")),
        active: non_negative(int(v, "ActiveCount")),
        size_bytes: non_negative(int(v, "TotalSize")),
        reclaimable_bytes: non_negative(int(v, "Reclaimable")),
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

/// Where the engine listens, from `DOCKER_HOST` as bollard reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(String),
    Tcp(String),
}

/// The endpoint for the raw fallback request, or why there is none (TLS and SSH
/// hosts are left to bollard alone).
pub fn endpoint(docker_host: Option<&str>) -> Result<Endpoint, String> {
    match docker_host.filter(|h| !h.is_empty()) {
        None => Ok(Endpoint::Unix("/var/run/docker.sock".into())),
        Some(host) => {
            if let Some(path) = host.strip_prefix("unix://") {
                Ok(Endpoint::Unix(path.to_owned()))
            } else if let Some(addr) = host
                .strip_prefix("tcp://")
                .or_else(|| host.strip_prefix("http://"))
            {
                // A userinfo is no part of the address (and never shown).
                let addr = addr.rsplit_once('@').map_or(addr, |(_, host)| host);
                if std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty()) {
                    return Err("DOCKER_TLS_VERIFY is set: the older /system/df shape cannot be read over TLS".into());
                }
                Ok(Endpoint::Tcp(addr.trim_end_matches('/').to_owned()))
            } else {
                Err(format!(
                    "DOCKER_HOST {}: the older /system/df shape can only be read over unix:// or tcp://",
                    day2_core::bounded::quoted(&day2_core::redact::mask_url(host))
                ))
            }
        }
    }
}

/// The largest `/system/df` answer read: 256 MiB (a verbose answer lists every
/// image, container, volume and cache record).
const RAW_LIMIT: u64 = 256 * 1024 * 1024;

/// GETs `path` from the engine over plain HTTP/1.0 (one request per connection, so
/// the daemon closes the stream and sends no chunked encoding) and parses the JSON.
/// The whole exchange ends by `deadline`, and at most [`RAW_LIMIT`] bytes are read.
pub fn fetch_raw(endpoint: &Endpoint, path: &str, deadline: Instant) -> Result<Value, String> {
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: prune-review\r\n\r\n");
    let io = |e: std::io::Error| format!("GET {path}: {e}");
    let left = || {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(format!("{} in time (GET {path})", crate::engine::TIMED_OUT))
        } else {
            Ok(left)
        }
    };
    let response = match endpoint {
        Endpoint::Unix(socket) => {
            let mut stream = std::os::unix::net::UnixStream::connect(socket)
                .map_err(|e| format!("{socket}: {e}"))?;
            stream.set_write_timeout(Some(left()?)).map_err(io)?;
            stream.write_all(request.as_bytes()).map_err(io)?;
            read_until_deadline(&mut stream, path, |s, t| s.set_read_timeout(Some(t)), &left)?
        }
        Endpoint::Tcp(addr) => {
            let target = addr
                .to_socket_addrs()
                .map_err(|e| format!("{addr}: {e}"))?
                .next()
                .ok_or_else(|| format!("{addr}: no address"))?;
            let mut stream = std::net::TcpStream::connect_timeout(&target, left()?)
                .map_err(|e| format!("{addr}: {e}"))?;
            stream.set_write_timeout(Some(left()?)).map_err(io)?;
            stream.write_all(request.as_bytes()).map_err(io)?;
            read_until_deadline(&mut stream, path, |s, t| s.set_read_timeout(Some(t)), &left)?
        }
    };
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: the engine's answer has no HTTP header end"))?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head.split_whitespace().nth(1).unwrap_or("");
    let body = &response[split + 4..];
    if status != "200" {
        let text = String::from_utf8_lossy(body);
        return Err(format!("GET {path}: HTTP {status}: {}", text.trim()));
    }
    serde_json::from_slice(body).map_err(|e| format!("GET {path}: not JSON: {e}"))
}

/// Reads a stream to its end, each read bounded by the time left, the whole by
/// [`RAW_LIMIT`].
fn read_until_deadline<S: Read>(
    stream: &mut S,
    path: &str,
    set_timeout: impl Fn(&S, Duration) -> std::io::Result<()>,
    left: &dyn Fn() -> Result<Duration, String>,
) -> Result<Vec<u8>, String> {
    let mut response = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        set_timeout(stream, left()?).map_err(|e| format!("GET {path}: {e}"))?;
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(response),
            Ok(n) => {
                response.extend_from_slice(&chunk[..n]);
                if response.len() as u64 > RAW_LIMIT {
                    return Err(format!(
                        "GET {path}: the engine's answer is larger than {} MiB",
                        RAW_LIMIT / (1024 * 1024)
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                left()?;
            }
            Err(e) => return Err(format!("GET {path}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn bollard_sees_nothing_in_the_older_shape() {
        // The reason for the fallback, pinned: if a bollard upgrade learns the older
        // shape this test says so.
        let parsed: bollard::models::SystemDataUsageResponse = serde_json::from_str(OLD).unwrap();
        let back = serde_json::to_value(&parsed).unwrap();
        assert!(is_empty_new_shape(&back));
        let parsed: bollard::models::SystemDataUsageResponse = serde_json::from_str(NEW).unwrap();
        let back = serde_json::to_value(&parsed).unwrap();
        assert_eq!(parse(&back).unwrap().volumes.count, 2);
    }

    #[test]
    fn neither_shape_is_an_error() {
        assert!(parse(&serde_json::json!({"message": "x"})).is_err());
        assert!(parse(&serde_json::json!([1])).is_err());
    }

    #[test]
    fn docker_host_forms() {
        assert_eq!(
            endpoint(None).unwrap(),
            Endpoint::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(
            endpoint(Some("unix:///tmp/d.sock")).unwrap(),
            Endpoint::Unix("/tmp/d.sock".into())
        );
        assert_eq!(
            endpoint(Some("tcp://127.0.0.1:2375")).unwrap(),
            Endpoint::Tcp("127.0.0.1:2375".into())
        );
        assert!(endpoint(Some("ssh://me@host")).is_err());
    }
}
