//! Volume classification: a pure function of the volumes, all containers (running
//! or not) and the protection rules.
//!
//! The classes, in the order they are decided (the first that applies wins, so the
//! safer class always takes precedence):
//!
//! 1. `protected`: a protection rule matches (it may be in use too; holders say so);
//! 2. `in_use_running`: mounted by a running (or paused/restarting) container;
//! 3. `in_use_stopped`: mounted only by stopped or created containers, which still
//!    need it to start again (the guide's scripts rightly count them as in use);
//! 4. `compose_project_gone`: carries a compose project label and no container is
//!    left of that project;
//! 5. `orphan_anonymous`: a 64-hex name (or the engine's anonymous label) and no holder;
//! 6. `orphan_named`: everything else without a holder, including volumes of a compose
//!    project that still has containers.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{json, Value};

use crate::df::VolumeUsage;
use crate::engine::{ContainerInfo, VolumeInfo};
use crate::protect::Protection;

pub const COMPOSE_PROJECT: &str = "com.docker.compose.project";
/// Newer engines mark anonymous volumes with this label.
const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Protected,
    InUseRunning,
    InUseStopped,
    ComposeProjectGone,
    OrphanAnonymous,
    OrphanNamed,
}

impl Class {
    pub const ALL: [Class; 6] = [
        Class::Protected,
        Class::InUseRunning,
        Class::InUseStopped,
        Class::ComposeProjectGone,
        Class::OrphanAnonymous,
        Class::OrphanNamed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Protected => "protected",
            Class::InUseRunning => "in_use_running",
            Class::InUseStopped => "in_use_stopped",
            Class::ComposeProjectGone => "compose_project_gone",
            Class::OrphanAnonymous => "orphan_anonymous",
            Class::OrphanNamed => "orphan_named",
        }
    }
}

/// A container that mounts a volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub id: String,
    pub name: String,
    pub state: String,
}

/// One classified volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    pub volume: VolumeInfo,
    pub class: Class,
    pub holders: Vec<Holder>,
    pub protected_by: Option<String>,
    pub usage: VolumeUsage,
}

impl Classified {
    /// The `data` of a `volume` record (the review writes sizes later, in
    /// `volume.size` records, once the engine's `/system/df` has answered).
    pub fn data(&self) -> Value {
        json!({
            "name": self.volume.name,
            "class": self.class,
            "created_at": self.volume.created_at,
            "driver": self.volume.driver,
            "labels": self.volume.labels,
            "holders": self.holders,
            "compose_project": self.volume.labels.get(COMPOSE_PROJECT),
            "protected_by": self.protected_by,
        })
    }
}

pub fn is_anonymous(volume: &VolumeInfo) -> bool {
    volume.labels.contains_key(ANONYMOUS_LABEL)
        || (volume.name.len() == 64
            && volume
                .name
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

/// The containers that hold a volume: a `volume` mount by name, or a bind mount of
/// the volume's own directory (which pins it just the same).
pub fn holders(volume: &VolumeInfo, containers: &[ContainerInfo]) -> Vec<Holder> {
    containers
        .iter()
        .filter(|c| {
            c.mounts.iter().any(|m| {
                let by_name = m.kind == "volume" && m.name.as_deref() == Some(volume.name.as_str());
                let by_path = !volume.mountpoint.is_empty()
                    && m.source.as_deref().is_some_and(|s| {
                        s == volume.mountpoint
                            || s.strip_prefix(volume.mountpoint.trim_end_matches("/_data"))
                                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                    });
                by_name || by_path
            })
        })
        .map(|c| Holder {
            id: c.id.clone(),
            name: c.name.clone(),
            state: c.state.clone(),
        })
        .collect()
}

/// Decides the class of one volume given its holders.
pub fn class_of(
    volume: &VolumeInfo,
    holders: &[Holder],
    live_projects: &BTreeSet<&str>,
    protection: &Protection,
) -> (Class, Option<String>) {
    if let Some(rule) = protection.protects(&[volume.name.as_str()], &volume.labels) {
        return (Class::Protected, Some(rule));
    }
    let class = if holders.iter().any(|h| {
        matches!(
            h.state.as_str(),
            "running" | "paused" | "restarting" | "removing"
        )
    }) {
        Class::InUseRunning
    } else if !holders.is_empty() {
        Class::InUseStopped
    } else if let Some(project) = volume.labels.get(COMPOSE_PROJECT) {
        if live_projects.contains(project.as_str()) {
            Class::OrphanNamed
        } else {
            Class::ComposeProjectGone
        }
    } else if is_anonymous(volume) {
        Class::OrphanAnonymous
    } else {
        Class::OrphanNamed
    };
    (class, None)
}

/// Compose projects that still have at least one container.
pub fn live_projects(containers: &[ContainerInfo]) -> BTreeSet<&str> {
    containers
        .iter()
        .filter_map(|c| c.labels.get(COMPOSE_PROJECT).map(String::as_str))
        .collect()
}

/// Classifies every volume, sorted by name.
pub fn classify(
    volumes: Vec<VolumeInfo>,
    containers: &[ContainerInfo],
    sizes: &BTreeMap<String, VolumeUsage>,
    protection: &Protection,
) -> Vec<Classified> {
    let projects = live_projects(containers);
    let mut out: Vec<Classified> = volumes
        .into_iter()
        .map(|volume| {
            let holders = holders(&volume, containers);
            let (class, protected_by) = class_of(&volume, &holders, &projects, protection);
            let usage = sizes.get(&volume.name).cloned().unwrap_or_default();
            Classified {
                volume,
                class,
                holders,
                protected_by,
                usage,
            }
        })
        .collect();
    out.sort_by(|a, b| a.volume.name.cmp(&b.volume.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::MountInfo;

    fn vol(name: &str, labels: &[(&str, &str)]) -> VolumeInfo {
        VolumeInfo {
            name: name.into(),
            created_at: Some("2026-11-27T10:00:00Z".into()),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            driver: "local".into(),
            options: Default::default(),
            mountpoint: format!("/var/lib/docker/volumes/{name}/_data"),
        }
    }

    fn ctr(id: &str, state: &str, volumes: &[&str], labels: &[(&str, &str)]) -> ContainerInfo {
        ContainerInfo {
            id: id.into(),
            name: id.into(),
            state: state.into(),
            created: 0,
            image_id: String::new(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            mounts: volumes
                .iter()
                .map(|v| MountInfo {
                    kind: "volume".into(),
                    name: Some((*v).into()),
                    source: None,
                })
                .collect(),
            networks: Vec::new(),
        }
    }

    #[test]
    fn every_class_is_decided() {
        let anon = "a".repeat(64);
        let volumes = vec![
            vol("deploy_ollama-data", &[(COMPOSE_PROJECT, "deploy")]),
            vol("run", &[]),
            vol("stopped", &[]),
            vol("gone_db", &[(COMPOSE_PROJECT, "gone")]),
            vol("live_spare", &[(COMPOSE_PROJECT, "live")]),
            vol(&anon, &[]),
            vol("named", &[]),
            vol("bound", &[]),
        ];
        let mut binder = ctr("c4", "exited", &[], &[]);
        binder.mounts.push(MountInfo {
            kind: "bind".into(),
            name: None,
            source: Some("/var/lib/docker/volumes/bound/_data/sub".into()),
        });
        let containers = vec![
            ctr("c1", "running", &["run", "deploy_ollama-data"], &[]),
            ctr("c2", "exited", &["stopped"], &[]),
            ctr("c3", "created", &[], &[(COMPOSE_PROJECT, "live")]),
            binder,
        ];
        let p = Protection::new(&[]).unwrap();
        let got: BTreeMap<String, Class> = classify(volumes, &containers, &BTreeMap::new(), &p)
            .into_iter()
            .map(|c| (c.volume.name, c.class))
            .collect();
        assert_eq!(got["deploy_ollama-data"], Class::Protected);
        assert_eq!(got["run"], Class::InUseRunning);
        assert_eq!(got["stopped"], Class::InUseStopped);
        assert_eq!(got["gone_db"], Class::ComposeProjectGone);
        assert_eq!(got["live_spare"], Class::OrphanNamed);
        assert_eq!(got[&anon], Class::OrphanAnonymous);
        assert_eq!(got["named"], Class::OrphanNamed);
        assert_eq!(got["bound"], Class::InUseStopped);
    }

    #[test]
    fn anonymous_means_64_lowercase_hex_or_the_label() {
        assert!(is_anonymous(&vol(&"0f".repeat(32), &[])));
        assert!(!is_anonymous(&vol(&"0F".repeat(32), &[])));
        assert!(!is_anonymous(&vol(&"0f".repeat(31), &[])));
        assert!(is_anonymous(&vol("x", &[(ANONYMOUS_LABEL, "")])));
        for class in Class::ALL {
            assert_eq!(serde_json::to_value(class).unwrap(), class.as_str());
        }
    }
}
