//! `DockerClient::compose_down`: removes everything of a compose project, found by its
//! `com.docker.compose.project` label, as `docker compose down` does.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::ContainerSummaryStateEnum;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::future::join_all;

use super::error::{ComposeError, http_status};
use super::project::PROJECT_LABEL;
use crate::DockerClient;

/// How `compose_down` goes about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DownOptions {
    /// Also remove the project's named volumes and containers' anonymous volumes.
    pub remove_volumes: bool,
    /// How long containers get to stop before they are killed; `None` lets each container's
    /// own stop timeout (`stop_grace_period`, else 10 s) apply.
    pub stop_timeout: Option<Duration>,
}

/// What `compose_down` removed (names, sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownSummary {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

struct ProjectContainer {
    id: String,
    name: String,
    running: bool,
}

impl DockerClient {
    /// Stops and removes the project's containers (all at once), then its networks and, when
    /// asked, its volumes. Removing nothing is not an error, so a second call succeeds.
    pub async fn compose_down(
        &self,
        project: &str,
        options: &DownOptions,
        mut log: impl FnMut(&str),
    ) -> Result<DownSummary, ComposeError> {
        let docker = self.bollard();
        let failed = |step: String| ComposeError::docker(format!("stop compose project {project:?}: {step}"));
        let filters = HashMap::from([("label", vec![format!("{PROJECT_LABEL}={project}")])]);
        let mut summary = DownSummary::default();

        let containers = docker
            .list_containers(Some(ListContainersOptionsBuilder::default().all(true).filters(&filters).build()))
            .await
            .map_err(failed("listing containers".into()))?;
        let containers: Vec<ProjectContainer> = containers
            .into_iter()
            .filter_map(|c| {
                Some(ProjectContainer {
                    name: c.names?.first()?.trim_start_matches('/').to_string(),
                    running: matches!(
                        c.state,
                        Some(ContainerSummaryStateEnum::RUNNING | ContainerSummaryStateEnum::RESTARTING)
                    ),
                    id: c.id?,
                })
            })
            .collect();

        let mut stop = StopContainerOptionsBuilder::default();
        if let Some(timeout) = options.stop_timeout {
            stop = stop.t(i32::try_from(timeout.as_secs()).unwrap_or(i32::MAX));
        }
        let stop = stop.build();
        let running: Vec<&ProjectContainer> = containers.iter().filter(|c| c.running).collect();
        for c in &running {
            log(&format!("Stopping {}", c.name));
        }
        let stopped = join_all(running.iter().map(|c| docker.stop_container(&c.id, Some(stop.clone())))).await;
        for (c, result) in running.iter().zip(stopped) {
            match result {
                // 304: already stopped; 404: already gone.
                Err(e) if !matches!(http_status(&e), Some(304 | 404)) => {
                    return Err(failed(format!("stopping container {:?}", c.name))(e));
                }
                _ => {}
            }
        }

        let remove = RemoveContainerOptionsBuilder::default().force(true).v(options.remove_volumes).build();
        for c in &containers {
            log(&format!("Removing {}", c.name));
        }
        let removed = join_all(containers.iter().map(|c| docker.remove_container(&c.id, Some(remove.clone())))).await;
        for (c, result) in containers.into_iter().zip(removed) {
            match result {
                Ok(()) => summary.containers.push(c.name),
                Err(e) if matches!(http_status(&e), Some(404 | 409)) => {} // gone, or already being removed
                Err(e) => return Err(failed(format!("removing container {:?}", c.name))(e)),
            }
        }

        let networks = docker
            .list_networks(Some(ListNetworksOptionsBuilder::default().filters(&filters).build()))
            .await
            .map_err(failed("listing networks".into()))?;
        for (id, name) in networks.into_iter().filter_map(|n| Some((n.id?, n.name?))) {
            log(&format!("Removing network {name}"));
            match docker.remove_network(&id).await {
                Ok(()) => summary.networks.push(name),
                Err(e) if http_status(&e) == Some(404) => {}
                Err(e) => return Err(failed(format!("removing network {name:?}"))(e)),
            }
        }

        if options.remove_volumes {
            let volumes = docker
                .list_volumes(Some(ListVolumesOptionsBuilder::default().filters(&filters).build()))
                .await
                .map_err(failed("listing volumes".into()))?;
            for volume in volumes.volumes.unwrap_or_default() {
                let name = volume.name;
                log(&format!("Removing volume {name}"));
                match docker.remove_volume(&name, Some(RemoveVolumeOptionsBuilder::default().build())).await {
                    Ok(()) => summary.volumes.push(name),
                    Err(e) if http_status(&e) == Some(404) => {}
                    Err(e) => return Err(failed(format!("removing volume {name:?}"))(e)),
                }
            }
        }

        summary.containers.sort();
        summary.networks.sort();
        summary.volumes.sort();
        Ok(summary)
    }
}
