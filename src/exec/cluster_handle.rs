//! One Kubernetes connection for the whole run, made the first time a resource deploys (a
//! Tiltfile without Kubernetes resources never reads the kubeconfig), and the cluster's
//! advertised registry, looked up once beside it.

use super::image_build::UpdateError;
use crate::error_chain::error_chain;
use std::collections::BTreeMap;
use std::sync::Arc;
use stilt_k8s::{Cluster, LocalRegistry};
use tokio::sync::OnceCell;

/// Where to connect: the engine's environment (for `$KUBECONFIG`), `--context`, `--namespace`.
#[derive(Debug, Clone, Default)]
pub struct ClusterTarget {
    /// The environment the kubeconfig is found from.
    pub env: BTreeMap<String, String>,
    /// `--context`.
    pub context: Option<String>,
    /// `--namespace`.
    pub namespace: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    target: ClusterTarget,
    cluster: OnceCell<Cluster>,
    registry: OnceCell<Option<LocalRegistry>>,
}

/// The lazily made connection; clones share it.
#[derive(Debug, Clone, Default)]
pub struct ClusterHandle(Arc<Inner>);

impl ClusterHandle {
    /// A handle that connects to `target` on first use.
    pub fn new(target: ClusterTarget) -> Self {
        ClusterHandle(Arc::new(Inner { target, ..Inner::default() }))
    }

    /// The connected cluster. A missing kubeconfig or an unreachable apiserver is an
    /// environment failure (exit 4).
    pub async fn get(&self) -> Result<Cluster, UpdateError> {
        let t = &self.0.target;
        self.0
            .cluster
            .get_or_try_init(|| Cluster::connect(&t.env, t.context.as_deref(), t.namespace.as_deref()))
            .await
            .cloned()
            .map_err(|e| UpdateError { message: error_chain(&e), environment: e.is_environment() })
    }

    /// The registry the cluster advertises (KEP-1755), looked up once.
    pub async fn local_registry(&self, cluster: &Cluster) -> Result<Option<LocalRegistry>, UpdateError> {
        self.0
            .registry
            .get_or_try_init(|| cluster.local_registry())
            .await
            .cloned()
            .map_err(|e| UpdateError { message: error_chain(&e), environment: e.is_environment() })
    }
}
