//! The update of a resource that is not local: its image builds in dependency order, then its
//! deploy (a docker-compose service's container, or Kubernetes objects). One task per update; it reports each built
//! image as it lands and the whole update's result at the end.
//!
//! Images another resource already built in this run are reused, not rebuilt: the dispatcher
//! passes them in as `prebuilt`, and holds a resource while an image it needs is being built.

use super::dockerfile_refs::BuiltDep;
use super::exec_msg::ExecMsg;
use super::image_build::{BuildEnv, ImageBuildRecord, UpdateError, build_compose_image, build_image};
use super::k8s_deploy::{K8sDeploy, K8sDeployed, deploy_k8s};
use crate::error_chain::error_chain;
use stilt_core::manifest::ImageTarget;
use stilt_docker::BuildRequest;
use stilt_docker::compose::{ComposeProject, ServiceSpec};
use tokio::task::JoinHandle;

/// A docker-compose service to (re)create once its images are built.
#[derive(Debug, Clone)]
pub struct ComposeDeploy {
    /// Its project.
    pub project: ComposeProject,
    /// The validated service definition.
    pub spec: ServiceSpec,
}

/// What the update deploys after building.
#[derive(Debug, Clone)]
pub enum Deploy {
    /// Nothing: the images are the update.
    None,
    /// A docker-compose service.
    Compose(Box<ComposeDeploy>),
    /// Kubernetes objects.
    K8s(Box<K8sDeploy>),
}

/// One resource's update.
#[derive(Debug, Clone)]
pub struct UpdateJob {
    /// Where output and results go.
    pub env: BuildEnv,
    /// The resource's image builds, dependencies first.
    pub images: Vec<ImageTarget>,
    /// Images already built in this run (by this or another resource).
    pub prebuilt: Vec<ImageBuildRecord>,
    /// The deploy.
    pub deploy: Deploy,
}

/// What a successful update leaves running.
#[derive(Debug, Clone, Default)]
pub struct Deployed {
    /// The container of a compose service: (id, name).
    pub container: Option<(String, String)>,
    /// The objects of a Kubernetes resource.
    pub k8s: Option<Box<K8sDeployed>>,
}

/// Runs `job` in its own task; the dispatcher hears `ImageBuilt` per image, then `UpdateFinished`.
pub fn spawn_update(job: UpdateJob) -> JoinHandle<()> {
    tokio::spawn(async move {
        let result = run(&job).await;
        let _ = job.env.tx.send(ExecMsg::UpdateFinished { resource: job.env.resource, result });
    })
}

async fn run(job: &UpdateJob) -> Result<Deployed, UpdateError> {
    let env = &job.env;
    let mut built: Vec<BuiltDep> =
        job.prebuilt.iter().map(|r| BuiltDep { selector: r.image.clone(), built_ref: r.built_ref.clone() }).collect();
    for target in job.images.iter().filter(|t| !t.live_update_only) {
        if let Some(b) = built.iter().find(|b| b.selector == target.image_ref) {
            env.log(format!("Image {} already built in this run: {}", target.image_ref, b.built_ref));
            continue;
        }
        let record = build_image(env, target, &built).await?;
        built.push(BuiltDep { selector: record.image.clone(), built_ref: record.built_ref.clone() });
        let _ = env.tx.send(ExecMsg::ImageBuilt { resource: env.resource, record });
    }
    match &job.deploy {
        Deploy::None => Ok(Deployed::default()),
        Deploy::K8s(d) => {
            let deployed = deploy_k8s(env, d, &job.images, &built, &job.prebuilt).await?;
            Ok(Deployed { k8s: Some(Box::new(deployed)), ..Deployed::default() })
        }
        Deploy::Compose(c) => {
            // The service runs the image its `docker_build` made (the last target: deps come
            // first), else builds its own `build:` section, else runs `image:` as it is.
            let image = match (job.images.last().filter(|t| !t.live_update_only), &c.spec.build) {
                (Some(t), _) => built.iter().find(|b| b.selector == t.image_ref).map(|b| b.built_ref.clone()),
                (None, Some(b)) => {
                    let name = c.spec.image_name();
                    let req = BuildRequest {
                        image_ref: name.clone(),
                        context: b.context.clone(),
                        dockerfile: b.dockerfile.clone(),
                        build_args: b.args.clone(),
                        target: b.target.clone(),
                        ..BuildRequest::default()
                    };
                    let record = build_compose_image(env, &name, req).await?;
                    let r = record.built_ref.clone();
                    let _ = env.tx.send(ExecMsg::ImageBuilt { resource: env.resource, record });
                    Some(r)
                }
                (None, None) => None,
            }
            .unwrap_or_else(|| c.spec.image_name());
            let docker = env.docker.get().await?;
            let id = docker
                .compose_up(&c.project, &c.spec, &image, |line| env.log(line))
                .await
                .map_err(|e| UpdateError::update(error_chain(&e)))?;
            Ok(Deployed { container: Some((id, c.spec.container_name.clone())), ..Deployed::default() })
        }
    }
}
