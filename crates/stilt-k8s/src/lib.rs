//! stilt's Kubernetes executor: everything that talks to an apiserver.
//!
//! The engine hands it plain data — objects as JSON, already mutated by
//! `stilt_core::k8s_objects` — and gets plain data back (applied objects, pod summaries), so
//! the kube and k8s-openapi types stay inside this crate and the pure rules (which pod counts,
//! when a resource is ready) stay testable without a cluster.
//!
//! - [`Cluster`]: the connection made from the kubeconfig, with the context's product;
//! - [`LocalRegistry`]: the cluster's advertised registry (KEP-1755), which wins over
//!   `default_registry` as in Tilt;
//! - [`Cluster::apply`]: server-side apply in Tilt's order, recreating objects whose immutable
//!   fields changed (how a changed Job runs again);
//! - [`watch_pods`]: the pods a resource owns, read once per change into `stilt_core::k8s_pod::PodSummary`s;
//! - [`follow_container_log`]: a container's log, line by line;
//! - [`Cluster::delete`]: what `stilt down` does;
//! - [`K8sError`]: every failure, with kube's error as the `#[source]` ([`KubeCause`]) and
//!   `class()` telling the environment's failures (exit 4) from the resource's (exit 1).

mod apply;
mod cluster;
mod delete;
mod error;
mod pod_logs;
mod pods;
mod registry;

pub use apply::AppliedObject;
pub use cluster::Cluster;
pub use error::{K8sError, KubeCause};
pub use pod_logs::follow_container_log;
pub use pods::{PodWatch, pod_summary, watch_pods};
pub use registry::LocalRegistry;
