//! The deploy step of a Kubernetes resource: get its built images to the cluster, put their
//! refs into the objects, apply them, and say which pods to watch.
//!
//! How an image reaches the cluster follows Tilt (spec §6.3–6.4): a registry the cluster
//! advertises (KEP-1755) wins over `default_registry`; clusters whose nodes use the local
//! Docker daemon (Docker Desktop, minikube, …) need nothing; kind and k3d without a registry
//! get the image loaded into their nodes (`kind load docker-image`, `k3d image import`);
//! everything else pulls it from the registry the ref names, so it is pushed there through the
//! Engine API.

use super::cluster_handle::ClusterHandle;
use super::dockerfile_refs::BuiltDep;
use super::exec_msg::ExecMsg;
use super::image_build::{BuildEnv, ImageBuildRecord, UpdateError};
use crate::error_chain::error_chain;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use stilt_core::image_ref::{ImageRef, replace_registry};
use stilt_core::k8s_objects::{pod_template_hashes, prepare_objects};
use stilt_core::manifest::{DefaultRegistry, ImageBuild, K8sTarget};
use stilt_core::{ClusterProduct, manifest::ImageTarget};
use stilt_k8s::{AppliedObject, Cluster, LocalRegistry, PodWatch};

/// A Kubernetes resource's deploy.
#[derive(Debug, Clone)]
pub struct K8sDeploy {
    /// The objects and where images go.
    pub target: K8sTarget,
    /// The cluster connection.
    pub cluster: ClusterHandle,
    /// `default_registry(...)`.
    pub default_registry: Option<DefaultRegistry>,
    /// `update_settings(k8s_upsert_timeout_secs=...)`.
    pub upsert_timeout: Duration,
}

/// What the deploy left in the cluster.
#[derive(Debug, Clone)]
pub struct K8sDeployed {
    /// The cluster (for the pod watch).
    pub cluster: Cluster,
    /// Where this resource's pods are found.
    pub watches: Vec<PodWatch>,
    /// A Job among the objects had already completed (its pods may be gone).
    pub job_complete: bool,
}

/// Where one image goes: pushed as `push_ref`, written into the YAML as `cluster_ref`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Destination {
    push_repo: String,
    cluster_repo: String,
}

fn destination(target: &ImageTarget, registry: Option<&LocalRegistry>) -> Destination {
    match registry.and_then(|r| ImageRef::parse(&target.image_ref).ok().map(|i| (r, i))) {
        Some((r, image)) => {
            let from_cluster = if r.host_from_cluster.is_empty() { &r.host } else { &r.host_from_cluster };
            Destination {
                push_repo: replace_registry(&r.host, &image, ""),
                cluster_repo: replace_registry(from_cluster, &image, ""),
            }
        }
        None => Destination { push_repo: target.local_ref.clone(), cluster_repo: target.cluster_ref.clone() },
    }
}

/// Runs the deploy. `built` are the images of this run (this resource's and others');
/// `prebuilt` the records of those another resource built (and maybe pushed already).
pub async fn deploy_k8s(
    env: &BuildEnv,
    d: &K8sDeploy,
    images: &[ImageTarget],
    built: &[BuiltDep],
    prebuilt: &[ImageBuildRecord],
) -> Result<K8sDeployed, UpdateError> {
    let cluster = d.cluster.get().await?;
    let deployed: BTreeSet<&str> = d.target.image_locations.iter().filter_map(|l| l.build_ref.as_deref()).collect();
    let mut injected = BTreeMap::new();
    if !deployed.is_empty() {
        let registry = d.cluster.local_registry(&cluster).await?;
        if let Some(r) = &registry {
            let ignored = d
                .default_registry
                .as_ref()
                .map_or(String::new(), |dr| format!("; default_registry({:?}) is ignored, as in Tilt", dr.host));
            env.log(format!("Cluster advertises registry {} ({}){ignored}", r.host, r.source));
        }
        for target in images.iter().filter(|t| deployed.contains(t.image_ref.as_str())) {
            let Some(b) = built.iter().find(|b| b.selector == target.image_ref) else {
                return Err(UpdateError::update(format!("image {} was not built", target.image_ref)));
            };
            let dest = destination(target, registry.as_ref());
            let tag = ImageRef::parse(&b.built_ref).ok().and_then(|r| r.tag).unwrap_or_else(|| "latest".into());
            let has_registry = registry.is_some() || d.default_registry.is_some();
            let push_ref = format!("{}:{tag}", dest.push_repo);
            if prebuilt
                .iter()
                .any(|r| r.image == target.image_ref && r.pushed_ref.as_deref() == Some(push_ref.as_str()))
            {
                env.log(format!("Image {push_ref} already pushed in this run"));
            } else {
                deliver(env, &cluster, target, &b.built_ref, &dest, (&push_ref, &tag), has_registry).await?;
            }
            injected.insert(target.image_ref.clone(), format!("{}:{tag}", dest.cluster_repo));
        }
    }
    let objects = prepare_objects(&d.target, &injected).map_err(|e| UpdateError::update(error_chain(&e)))?;
    env.log("Applying objects to the cluster".to_string());
    let applied = cluster
        .apply(&objects, d.upsert_timeout)
        .await
        .map_err(|e| UpdateError { message: error_chain(&e), environment: e.is_environment() })?;
    env.log("Objects applied to cluster:".to_string());
    for a in &applied {
        env.log(format!("  → {}", a.display_name()));
    }
    let watches = pod_watches(&d.target, &objects, &applied, &cluster.namespace);
    let job_complete = applied.iter().any(AppliedObject::is_complete_job);
    Ok(K8sDeployed { cluster, watches, job_complete })
}

/// Gets one built image to the cluster; `push_ref` is `<push repo>:<tag>`.
async fn deliver(
    env: &BuildEnv,
    cluster: &Cluster,
    target: &ImageTarget,
    built_ref: &str,
    dest: &Destination,
    (push_ref, tag): (&str, &str),
    has_registry: bool,
) -> Result<(), UpdateError> {
    if let ImageBuild::Custom(c) = &target.build
        && (c.disable_push || c.skips_local_docker)
    {
        env.log(format!("Not pushing {built_ref}: custom_build(disable_push/skips_local_docker)"));
        return Ok(());
    }
    if cluster.product.shares_docker_daemon() && !has_registry {
        env.log(format!(
            "Not pushing {built_ref}: the {} cluster runs images from the local Docker daemon",
            cluster.product.as_str()
        ));
        return Ok(());
    }
    if !has_registry && dest.push_repo == dest.cluster_repo {
        let name = &cluster.cluster_name;
        match cluster.product {
            ClusterProduct::Kind => {
                let name = name.strip_prefix("kind-").unwrap_or(name);
                return load_into_nodes(
                    env,
                    "kind",
                    &["load", "docker-image", built_ref, "--name", name],
                    built_ref,
                    name,
                )
                .await;
            }
            ClusterProduct::K3d => {
                let name = name.strip_prefix("k3d-").unwrap_or(name);
                return load_into_nodes(env, "k3d", &["image", "import", built_ref, "-c", name], built_ref, name).await;
            }
            _ => {}
        }
    }
    let docker = env.docker.get().await?;
    if push_ref != built_ref {
        docker.tag(built_ref, &dest.push_repo, tag).await.map_err(|e| {
            UpdateError::update(format!("failed to tag {built_ref} as {push_ref}: {}", error_chain(&e)))
        })?;
    }
    env.log(format!("Pushing {push_ref}"));
    let pushed = docker.push(push_ref, |line| env.log(line)).await.map_err(|e| {
        UpdateError::update(format!(
            "failed to push {push_ref} (is the registry running and accepting pushes?): {}",
            error_chain(&e)
        ))
    })?;
    if let Some(digest) = &pushed.digest {
        env.log(format!("Pushed {push_ref} ({digest})"));
    }
    let _ = env.tx.send(ExecMsg::ImagePushed {
        image: target.image_ref.clone(),
        pushed_ref: push_ref.to_string(),
        digest: pushed.digest,
    });
    Ok(())
}

/// Loads an image into the nodes of a kind or k3d cluster with its CLI (`tool args…`).
async fn load_into_nodes(
    env: &BuildEnv,
    tool: &str,
    args: &[&str],
    built_ref: &str,
    cluster: &str,
) -> Result<(), UpdateError> {
    env.log(format!("Loading {built_ref} into {tool} cluster {cluster}: {tool} {}", args.join(" ")));
    let out = tokio::process::Command::new(tool).args(args).env_clear().envs(&env.env).output().await.map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            format!("the `{tool}` CLI is not on PATH")
        } else {
            format!("failed to run {tool}: {e}")
        };
        UpdateError {
            message: format!(
                "failed to load {built_ref} into {tool} cluster {cluster:?}: {why}. Install {tool}, or let the \
                 cluster advertise a registry (ConfigMap kube-public/local-registry-hosting), or set \
                 default_registry() in the Tiltfile"
            ),
            environment: true,
        }
    })?;
    for line in String::from_utf8_lossy(&out.stdout).lines().chain(String::from_utf8_lossy(&out.stderr).lines()) {
        env.log(line.to_string());
    }
    if !out.status.success() {
        return Err(UpdateError::update(format!(
            "failed to load {built_ref} into {tool} cluster {cluster:?}: `{tool} {}` {}",
            args.join(" "),
            out.status
        )));
    }
    Ok(())
}

/// The label selectors that find this resource's pods, per namespace.
fn pod_watches(
    target: &K8sTarget,
    objects: &[serde_json::Value],
    applied: &[AppliedObject],
    default_ns: &str,
) -> Vec<PodWatch> {
    let hashes = pod_template_hashes(objects);
    let mut watches = Vec::new();
    if !hashes.is_empty() {
        let namespaces: BTreeSet<&str> =
            applied.iter().filter(|a| !a.namespace.is_empty()).map(|a| a.namespace.as_str()).collect();
        let namespaces = if namespaces.is_empty() { BTreeSet::from([default_ns]) } else { namespaces };
        let selector = format!("tilt.dev/pod-template-hash in ({})", hashes.join(","));
        watches.extend(
            namespaces.into_iter().map(|ns| PodWatch { namespace: ns.to_string(), selector: selector.clone() }),
        );
    }
    for labels in &target.extra_pod_selectors {
        let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        watches.push(PodWatch { namespace: String::new(), selector: selector.join(",") });
    }
    watches
}
