//! `DockerClient::compose_up`: runs one service the way `docker compose up` does: project
//! networks and volumes first (created once, however many services start at the same time),
//! then a fresh container with compose's name and labels.

use std::collections::HashMap;

use bollard::errors::Error as BollardError;
use bollard::models::{NetworkConnectRequest, NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use tokio::sync::Mutex;

use super::container_plan::ContainerPlan;
use super::error::{ComposeError, http_status};
use super::network::NetworkAttachment;
use super::project::{ComposeProject, NETWORK_LABEL, PROJECT_LABEL, VOLUME_LABEL};
use super::service_spec::ServiceSpec;
use super::volume::VolumeMount;
use crate::DockerClient;

/// Held while checking for and creating a network: daemons before API 1.44 happily create
/// two networks with the same name when asked at the same time.
static NETWORK_CREATION: Mutex<()> = Mutex::const_new(());

impl DockerClient {
    /// Creates (replacing any previous one) and starts `spec`'s container from `image` (the
    /// ref the engine built or `spec.image_name()`; it must exist locally, stilt never pulls),
    /// creating the project's networks and named volumes first. Progress goes to `log`.
    /// Returns the container id.
    pub async fn compose_up(
        &self,
        project: &ComposeProject,
        spec: &ServiceSpec,
        image: &str,
        mut log: impl FnMut(&str),
    ) -> Result<String, ComposeError> {
        let docker = self.bollard();
        let service = &spec.name;
        let failed = |step: String| ComposeError::docker(format!("start compose service {service:?}: {step}"));
        let not_found = || ComposeError::ImageNotFound { service: service.clone(), image: image.to_string() };

        match docker.inspect_image(image).await {
            Ok(_) => {}
            Err(e) if http_status(&e) == Some(404) => return Err(not_found()),
            Err(e) => return Err(failed(format!("inspecting image {image:?}"))(e)),
        }
        for network in &spec.networks {
            self.ensure_network(project, network, &mut log)
                .await
                .map_err(failed(format!("creating network {:?}", network.docker_name)))?;
        }
        for volume in spec.volumes.iter().filter_map(VolumeMount::named_volume) {
            self.ensure_volume(project, volume, &mut log)
                .await
                .map_err(failed(format!("creating volume {volume:?}")))?;
        }

        let name = &spec.container_name;
        let remove = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
        match docker.remove_container(name, Some(remove)).await {
            Ok(()) => log(&format!("Recreating {name}")),
            Err(e) if http_status(&e) == Some(404) => log(&format!("Creating {name}")),
            Err(e) => return Err(failed(format!("removing the previous container {name:?}"))(e)),
        }
        let plan = ContainerPlan::new(project, spec, image);
        let options = CreateContainerOptionsBuilder::default().name(name).build();
        let id = match docker.create_container(Some(options), plan.body).await {
            Ok(created) => created.id,
            Err(e) if http_status(&e) == Some(404) => return Err(not_found()),
            Err(e) => return Err(failed(format!("creating container {name:?}"))(e)),
        };
        for (network, endpoint) in plan.extra_networks {
            let request = NetworkConnectRequest { container: id.clone(), endpoint_config: Some(endpoint) };
            docker
                .connect_network(&network, request)
                .await
                .map_err(failed(format!("connecting {name:?} to network {network:?}")))?;
        }
        log(&format!("Starting {name}"));
        docker.start_container(&id, None).await.map_err(failed(format!("starting container {name:?}")))?;
        Ok(id)
    }

    async fn ensure_network(
        &self,
        project: &ComposeProject,
        network: &NetworkAttachment,
        log: &mut impl FnMut(&str),
    ) -> Result<(), BollardError> {
        let docker = self.bollard();
        let _one_at_a_time = NETWORK_CREATION.lock().await;
        match docker.inspect_network(&network.docker_name, None).await {
            Ok(_) => return Ok(()),
            Err(e) if http_status(&e) == Some(404) => {}
            Err(e) => return Err(e),
        }
        log(&format!("Creating network {:?}", network.docker_name));
        let request = NetworkCreateRequest {
            name: network.docker_name.clone(),
            driver: Some("bridge".into()),
            labels: Some(HashMap::from([
                (PROJECT_LABEL.to_string(), project.name.clone()),
                (NETWORK_LABEL.to_string(), network.name.clone()),
            ])),
            ..NetworkCreateRequest::default()
        };
        match docker.create_network(request).await {
            Err(e) if http_status(&e) != Some(409) => Err(e),
            _ => Ok(()),
        }
    }

    /// Creates a project volume unless it exists (creating an existing volume is a no-op for
    /// the daemon, so concurrent calls are fine).
    async fn ensure_volume(
        &self,
        project: &ComposeProject,
        name: &str,
        log: &mut impl FnMut(&str),
    ) -> Result<(), BollardError> {
        let docker = self.bollard();
        match docker.inspect_volume(name).await {
            Ok(_) => return Ok(()),
            Err(e) if http_status(&e) == Some(404) => {}
            Err(e) => return Err(e),
        }
        log(&format!("Creating volume {name:?}"));
        let short = name.strip_prefix(&format!("{}_", project.name)).unwrap_or(name);
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(HashMap::from([
                (PROJECT_LABEL.to_string(), project.name.clone()),
                (VOLUME_LABEL.to_string(), short.to_string()),
            ])),
            ..VolumeCreateRequest::default()
        };
        docker.create_volume(request).await.map(drop)
    }
}
