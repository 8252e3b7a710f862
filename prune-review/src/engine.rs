//! The Docker Engine, through bollard, behind a small blocking facade.
//!
//! Everything the rest of the tool knows about Docker objects is in the plain
//! structs here, so classification and planning are pure functions that unit tests
//! can drive. One current-thread tokio runtime serves every call of a run.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptions, DataUsageOptions, ListContainersOptions, ListImagesOptions,
    ListNetworksOptions, ListVolumesOptions, LogsOptions, RemoveContainerOptions,
    RemoveImageOptions, RemoveVolumeOptions, WaitContainerOptions,
};
use bollard::Docker;
use day2_core::Problem;
pub use day2_docker::engine::describe;
use day2_docker::engine::status_of;
use day2_docker::raw::{Client, HUNG};
use day2_docker::Endpoint;
use futures_util::StreamExt;

use crate::df::{self, DiskUsage};

/// The raw client of the older `/system/df` shape: a verbose answer lists every
/// image, container, volume and cache record, so up to 256 MiB are read.
const RAW: Client = Client {
    user_agent: concat!("prune-review/", env!("CARGO_PKG_VERSION")),
    body_limit: 256 * 1024 * 1024,
};
use crate::protect::LabelMatch;

/// How long removing the inspection container may take, even once the run's
/// deadline has passed: it must not be left behind.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The start of the message of an engine call that ran out of time.
const TIMED_OUT: &str = "the Docker Engine did not answer";

/// The reason of an engine call that ran out of the run's time (`--timeout`).
pub const ENGINE_TIMEOUT: &str = "engine_timeout";
/// The reason of an engine call the engine answered with an error, or whose answer
/// could not be read.
pub const ENGINE_ERROR: &str = "engine_error";
/// The reason of a first connection that found no engine to talk to.
pub const ENGINE_UNREACHABLE: &str = "engine_unreachable";

/// Whether an engine problem is a call that ran out of the run's time.
pub fn is_timeout(problem: &Problem) -> bool {
    problem.reason() == ENGINE_TIMEOUT
}

/// An engine failure that is not a timeout: [`ENGINE_ERROR`] with `message`.
fn engine_error(message: impl Into<String>) -> Problem {
    Problem::new(ENGINE_ERROR, message)
}

/// How long a snapshot waits for a concurrent one to finish.
const DF_BUSY_BUDGET: Duration = Duration::from_secs(60);

pub type Labels = BTreeMap<String, String>;

fn labels(map: Option<HashMap<String, String>>) -> Labels {
    map.unwrap_or_default().into_iter().collect()
}

/// A volume as the engine lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeInfo {
    pub name: String,
    /// Exactly as the engine wrote it; the identity check compares this string.
    pub created_at: Option<String>,
    pub labels: Labels,
    pub driver: String,
    /// The driver's options (`type`, `device`, `o` for the local driver).
    pub options: Labels,
    pub mountpoint: String,
}

/// One mount of a container.
#[derive(Debug, Clone, PartialEq)]
pub struct MountInfo {
    /// `volume`, `bind`, `tmpfs`, ...
    pub kind: String,
    pub name: Option<String>,
    pub source: Option<String>,
}

/// A container, running or not, as `/containers/json?all=1` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    /// `running`, `exited`, `created`, `paused`, ...
    pub state: String,
    pub created: i64,
    pub image_id: String,
    pub labels: Labels,
    pub mounts: Vec<MountInfo>,
    pub networks: Vec<String>,
}

impl ContainerInfo {
    /// Running, paused and restarting containers are live; the rest are stopped.
    pub fn is_live(&self) -> bool {
        matches!(
            self.state.as_str(),
            "running" | "paused" | "restarting" | "removing"
        )
    }
}

/// A network as listed (endpoints are only on inspection: [`Engine::network_endpoints`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkInfo {
    pub id: String,
    pub name: String,
    pub created: Option<String>,
    pub driver: String,
    pub labels: Labels,
}

/// An image as `/images/json` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInfo {
    pub id: String,
    pub tags: Vec<String>,
    pub created: i64,
    pub size: i64,
    pub labels: Labels,
}

impl ImageInfo {
    pub fn is_dangling(&self) -> bool {
        self.tags.iter().all(|t| t == "<none>:<none>")
    }
}

/// What a removal call came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Removal {
    Removed,
    /// 404: someone else removed it first.
    Gone,
    /// 409: the engine refused (in use, running, ...), with its message.
    Refused(String),
}

/// A connected engine. Every call ends by the run's deadline (`--timeout`): a
/// stalled engine is an `engine_timeout` error, never a hang. A failed call is a
/// [`Problem`] with the reason [`ENGINE_TIMEOUT`] or [`ENGINE_ERROR`] (connecting:
/// [`ENGINE_UNREACHABLE`]), its message naming the call.
pub struct Engine {
    /// The bollard client and its runtime (one per connection).
    api: day2_docker::Engine,
    docker: Docker,
    /// Where `DOCKER_HOST` points, for the raw `/system/df` request.
    endpoint: Endpoint,
    deadline: Instant,
    timeout: Duration,
    /// Set once `/system/df` has answered in the older shape, so later snapshots of
    /// the same run go straight to the raw request.
    old_df: bool,
}

fn removal(result: Result<(), BollardError>) -> Result<Removal, Problem> {
    match result {
        Ok(()) => Ok(Removal::Removed),
        Err(e) if status_of(&e) == Some(404) => Ok(Removal::Gone),
        Err(e) if status_of(&e) == Some(409) => Ok(Removal::Refused(describe(&e))),
        Err(e) => Err(engine_error(describe(&e))),
    }
}

fn label_filters(filter: Option<&LabelMatch>) -> Option<HashMap<String, Vec<String>>> {
    filter.map(|f| HashMap::from([("label".to_owned(), vec![f.filter_value()])]))
}

impl Engine {
    /// Connects to the Engine at `endpoint` (`--host`/`DOCKER_HOST`, parsed by
    /// `day2_docker::host`) and negotiates the API version. Every call of the run, this one included, ends
    /// within `timeout` from now.
    pub fn connect(endpoint: Endpoint, timeout: Duration) -> Result<Engine, Problem> {
        Engine::connect_until(endpoint, Instant::now() + timeout, timeout)
    }

    /// A second connection of the same run: every call ends by the run's deadline
    /// (`--timeout` from the start of the run), on a runtime of its own, so it can
    /// work on another thread (the review's `/system/df` beside the listing). The
    /// engine answered the first connection, so a failure here is an
    /// [`ENGINE_ERROR`] (or [`ENGINE_TIMEOUT`]), not [`ENGINE_UNREACHABLE`].
    pub fn another(&self) -> Result<Engine, Problem> {
        Engine::connect_until(self.endpoint.clone(), self.deadline, self.timeout).map_err(|p| {
            if p.reason() == ENGINE_UNREACHABLE {
                engine_error(p.message)
            } else {
                p
            }
        })
    }

    fn connect_until(
        endpoint: Endpoint,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Engine, Problem> {
        // bollard's own timeout (whole seconds) is a second guard behind ours.
        let api = day2_docker::Engine::new(&endpoint, None, timeout).map_err(|p| {
            Problem::new(
                ENGINE_UNREACHABLE,
                format!("cannot reach the Docker Engine: {p}"),
            )
        })?;
        let mut engine = Engine {
            docker: api.docker().clone(),
            api,
            endpoint,
            deadline,
            timeout,
            old_df: false,
        };
        let negotiated = engine
            .call(
                "negotiating the API version",
                engine.docker.clone().negotiate_version(),
            )?
            .map_err(|e| {
                Problem::new(
                    ENGINE_UNREACHABLE,
                    format!("the Docker Engine does not answer: {}", describe(&e)),
                )
            })?;
        engine.docker = negotiated;
        Ok(engine)
    }

    /// The time the run has left.
    pub fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Runs one engine call to its end or to the run's deadline, whichever comes
    /// first; `what` names the call in the timeout's message. Errors:
    /// [`ENGINE_TIMEOUT`].
    fn call<F: Future>(&self, what: &str, call: F) -> Result<F::Output, Problem> {
        self.api.within(self.time_left(), call).ok_or_else(|| {
            Problem::new(
                ENGINE_TIMEOUT,
                format!(
                    "{TIMED_OUT} within the run's --timeout of {} ({what})",
                    day2_core::bounded::duration_words(self.timeout)
                ),
            )
        })
    }

    /// Runs one bollard call as [`Engine::call`] does; a failed call is
    /// `{what}: {the Engine's message}` ([`ENGINE_ERROR`]).
    fn ask<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, BollardError>>,
    ) -> Result<T, Problem> {
        self.call(what, call)?
            .map_err(|e| engine_error(format!("{what}: {}", describe(&e))))
    }

    /// The negotiated API version, e.g. `1.41`.
    pub fn api_version(&self) -> String {
        let v = self.docker.client_version();
        format!("{}.{}", v.major_version, v.minor_version)
    }

    /// Every volume, or those carrying the filter's label.
    pub fn volumes(&self, filter: Option<&LabelMatch>) -> Result<Vec<VolumeInfo>, Problem> {
        let options = ListVolumesOptions {
            filters: label_filters(filter),
        };
        let list = self.ask("listing volumes", self.docker.list_volumes(Some(options)))?;
        Ok(list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(volume_info)
            .collect())
    }

    /// One volume, or `None` when it does not exist.
    pub fn volume(&self, name: &str) -> Result<Option<VolumeInfo>, Problem> {
        match self.call("inspecting a volume", self.docker.inspect_volume(name))? {
            Ok(v) => Ok(Some(volume_info(v))),
            Err(e) if status_of(&e) == Some(404) => Ok(None),
            Err(e) => Err(engine_error(format!(
                "inspecting volume {name}: {}",
                describe(&e)
            ))),
        }
    }

    /// Every container, running or not: holders must be computed over all of them,
    /// whatever filter the run has.
    pub fn containers(&self, filter: Option<&LabelMatch>) -> Result<Vec<ContainerInfo>, Problem> {
        let options = ListContainersOptions {
            all: true,
            filters: label_filters(filter),
            ..Default::default()
        };
        let list = self.ask(
            "listing containers",
            self.docker.list_containers(Some(options)),
        )?;
        Ok(list.into_iter().map(container_info).collect())
    }

    pub fn networks(&self, filter: Option<&LabelMatch>) -> Result<Vec<NetworkInfo>, Problem> {
        let options = ListNetworksOptions {
            filters: label_filters(filter),
        };
        let list = self.ask("listing networks", self.docker.list_networks(Some(options)))?;
        Ok(list
            .into_iter()
            .map(|n| NetworkInfo {
                id: n.id.unwrap_or_default(),
                name: n.name.unwrap_or_default(),
                created: n.created,
                driver: n.driver.unwrap_or_default(),
                labels: labels(n.labels),
            })
            .collect())
    }

    /// How many endpoints (attached containers) a network has, or `None` when gone.
    pub fn network_endpoints(&self, id: &str) -> Result<Option<usize>, Problem> {
        match self.call(
            "inspecting a network",
            self.docker.inspect_network(id, None),
        )? {
            Ok(n) => Ok(Some(n.containers.map_or(0, |c| c.len()))),
            Err(e) if status_of(&e) == Some(404) => Ok(None),
            Err(e) => Err(engine_error(format!(
                "inspecting network {id}: {}",
                describe(&e)
            ))),
        }
    }

    pub fn images(&self, filter: Option<&LabelMatch>) -> Result<Vec<ImageInfo>, Problem> {
        let options = ListImagesOptions {
            filters: label_filters(filter),
            ..Default::default()
        };
        let list = self.ask("listing images", self.docker.list_images(Some(options)))?;
        Ok(list
            .into_iter()
            .map(|i| ImageInfo {
                id: i.id,
                tags: i.repo_tags,
                created: i.created,
                size: i.size,
                labels: i.labels.into_iter().collect(),
            })
            .collect())
    }

    /// True when a local image by this name or id exists.
    pub fn image_exists(&self, name: &str) -> Result<bool, Problem> {
        match self.call("inspecting an image", self.docker.inspect_image(name))? {
            Ok(_) => Ok(true),
            Err(e) if status_of(&e) == Some(404) => Ok(false),
            Err(e) => Err(engine_error(format!(
                "inspecting image {name}: {}",
                describe(&e)
            ))),
        }
    }

    /// A disk-usage snapshot, through bollard and, for the older shape, the raw
    /// request bollard cannot read.
    ///
    /// The engine computes one `/system/df` at a time and answers any concurrent
    /// one with a 500 ("a disk usage operation is already running"); that is
    /// retried with a growing pause, for at most [`DF_BUSY_BUDGET`].
    pub fn disk_usage(&mut self) -> Result<DiskUsage, Problem> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            match self.disk_usage_once() {
                Err(e)
                    if e.message.contains(df::BUSY)
                        && started.elapsed() < DF_BUSY_BUDGET
                        && self.time_left() > pause =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                other => return other,
            }
        }
    }

    fn disk_usage_once(&mut self) -> Result<DiskUsage, Problem> {
        if !self.old_df {
            let options = DataUsageOptions {
                _type: None,
                verbose: true,
            };
            let typed = self.ask("GET /system/df", self.docker.df(Some(options)))?;
            let value = serde_json::to_value(&typed).map_err(|e| engine_error(e.to_string()))?;
            if !df::is_empty_new_shape(&value) {
                return df::parse(&value).map_err(|p| engine_error(p.message));
            }
            self.old_df = true;
        }
        let path = format!("/v{}/system/df", self.api_version());
        df::get(&RAW, &self.endpoint, &path, self.deadline).map_err(|p| {
            if p.reason() == HUNG {
                Problem::new(
                    ENGINE_TIMEOUT,
                    format!("{TIMED_OUT} in time (GET {path}): {p}"),
                )
            } else {
                engine_error(format!("GET {path}: {p}"))
            }
        })
    }

    pub fn remove_volume(&self, name: &str) -> Result<Removal, Problem> {
        // Never forced: the engine's own in-use check stays as the last guard.
        let options = RemoveVolumeOptions { force: false };
        removal(self.call(
            "removing a volume",
            self.docker.remove_volume(name, Some(options)),
        )?)
    }

    pub fn remove_container(&self, id: &str) -> Result<Removal, Problem> {
        // Not forced (a running container is refused) and without `v`: its
        // anonymous volumes become orphans to review, not silent deletions.
        let options = RemoveContainerOptions {
            v: false,
            force: false,
            link: false,
        };
        removal(self.call(
            "removing a container",
            self.docker.remove_container(id, Some(options)),
        )?)
    }

    pub fn remove_network(&self, id: &str) -> Result<Removal, Problem> {
        removal(self.call("removing a network", self.docker.remove_network(id))?)
    }

    pub fn remove_image(&self, name: &str) -> Result<Removal, Problem> {
        let options = RemoveImageOptions {
            force: false,
            noprune: false,
            platforms: None,
        };
        removal(
            self.call(
                "removing an image",
                self.docker.remove_image(name, Some(options), None),
            )?
            .map(|_| ()),
        )
    }

    /// Prunes the whole build cache (the API cannot target single records).
    pub fn prune_build_cache(&self) -> Result<u64, Problem> {
        let out = self.ask(
            "POST /build/prune",
            self.docker
                .prune_build(None::<bollard::query_parameters::PruneBuildOptions>),
        )?;
        Ok(out
            .space_reclaimed
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0))
    }

    /// Runs `cmd` in a new container of `image` with `volume` mounted read-only (and
    /// `nocopy`) at `mount` and no network, and returns its exit code and combined
    /// output. The container is removed afterwards whatever happens.
    pub fn run_readonly(
        &self,
        image: &str,
        volume: &str,
        mount: &str,
        cmd: &[&str],
    ) -> Result<(i64, String), Problem> {
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            cmd: Some(cmd.iter().map(|s| (*s).to_owned()).collect()),
            entrypoint: Some(Vec::new()),
            labels: Some(HashMap::from([(
                "org.day2.prune-review.inspect".to_owned(),
                volume.to_owned(),
            )])),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                binds: Some(vec![format!("{volume}:{mount}:ro,nocopy")]),
                network_mode: Some("none".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = self.ask(
            "creating the inspection container",
            self.docker
                .create_container(None::<CreateContainerOptions>, body),
        )?;
        let id = created.id;
        let result = self
            .call("running the inspection container", async {
                self.docker
                    .start_container(
                        &id,
                        None::<bollard::query_parameters::StartContainerOptions>,
                    )
                    .await
                    .map_err(|e| {
                        engine_error(format!(
                            "starting the inspection container: {}",
                            describe(&e)
                        ))
                    })?;
                let mut wait = self
                    .docker
                    .wait_container(&id, None::<WaitContainerOptions>);
                let mut code = 0;
                while let Some(item) = wait.next().await {
                    match item {
                        Ok(r) => code = r.status_code,
                        // bollard reports a non-zero exit as an error carrying the code.
                        Err(BollardError::DockerContainerWaitError { code: c, .. }) => code = c,
                        Err(e) => {
                            return Err(engine_error(format!(
                                "waiting for the inspection container: {}",
                                describe(&e)
                            )))
                        }
                    }
                }
                let options = LogsOptions {
                    stdout: true,
                    stderr: true,
                    ..Default::default()
                };
                let mut logs = self.docker.logs(&id, Some(options));
                let mut text = String::new();
                while let Some(chunk) = logs.next().await {
                    let chunk = chunk.map_err(|e| {
                        engine_error(format!("reading the inspection output: {}", describe(&e)))
                    })?;
                    text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
                }
                Ok((code, text))
            })
            .and_then(|inner| inner);
        let remove = RemoveContainerOptions {
            v: false,
            force: true,
            link: false,
        };
        let _ = self.api.within(
            CLEANUP_TIMEOUT,
            self.docker.remove_container(&id, Some(remove)),
        );
        result
    }
}

fn volume_info(v: bollard::models::Volume) -> VolumeInfo {
    VolumeInfo {
        name: v.name,
        created_at: v.created_at,
        labels: v.labels.into_iter().collect(),
        driver: v.driver,
        options: v.options.into_iter().collect(),
        mountpoint: v.mountpoint,
    }
}

fn container_info(c: bollard::models::ContainerSummary) -> ContainerInfo {
    let name = c
        .names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_owned())
        .unwrap_or_default();
    ContainerInfo {
        id: c.id.unwrap_or_default(),
        name,
        state: c.state.map(|s| s.to_string()).unwrap_or_default(),
        created: c.created.unwrap_or(0),
        image_id: c.image_id.unwrap_or_default(),
        labels: labels(c.labels),
        mounts: c
            .mounts
            .unwrap_or_default()
            .into_iter()
            .map(|m| MountInfo {
                kind: m.typ.map(|t| t.to_string()).unwrap_or_default(),
                name: m.name,
                source: m.source,
            })
            .collect(),
        networks: c
            .network_settings
            .and_then(|n| n.networks)
            .map(|n| n.into_keys().collect())
            .unwrap_or_default(),
    }
}
