//! The dispatcher's Kubernetes tasks: the pod watch of a deployed resource and the log streams
//! of its started containers. What a pod set means is the reducer's
//! (`engine::reducer::k8s`); grace periods are the verdict's.

use super::{Dispatcher, ExecMsg, LogSource};
use crate::engine::effect::PodContainer;
use crate::exec::k8s_deploy::K8sDeployed;

/// At most this many container logs are followed per resource (a 50-replica Deployment's
/// logs are not what a CI page needs).
const MAX_LOG_STREAMS_PER_RESOURCE: usize = 10;

impl Dispatcher {
    /// Starts watching the pods of a deployed resource.
    pub(super) fn watch_pods(&mut self, i: usize, k: K8sDeployed) {
        self.clusters.insert(i, k.cluster.clone());
        let (tx, err_tx) = (self.exec_tx.clone(), self.exec_tx.clone());
        let watcher = tokio::spawn(stilt_k8s::watch_pods(
            k.cluster,
            k.watches,
            move |pods| {
                let _ = tx.send(ExecMsg::Pods { resource: i, pods });
            },
            move |error| {
                let error = format!("Pod watch failed (retrying): {error}");
                let _ = err_tx.send(ExecMsg::RuntimeWarning { resource: i, message: error });
            },
        ));
        self.watchers.insert(i, watcher);
    }

    /// Starts following the log of each container not followed yet.
    pub(super) fn follow_logs(&mut self, i: usize, containers: Vec<PodContainer>) {
        let Some(cluster) = self.clusters.get(&i) else { return };
        for c in containers {
            let key = (i, c.uid, c.container);
            if self.log_streams.contains_key(&key) {
                continue;
            }
            if self.log_streams.keys().filter(|k| k.0 == i).count() >= MAX_LOG_STREAMS_PER_RESOURCE {
                break;
            }
            let (tx, err_tx) = (self.exec_tx.clone(), self.exec_tx.clone());
            let prefix = c.prefix;
            let follow =
                stilt_k8s::follow_container_log(cluster.clone(), c.namespace, c.pod, key.2.clone(), move |l| {
                    let _ = tx.send(ExecMsg::Output {
                        resource: i,
                        source: LogSource::Runtime,
                        line: format!("{prefix}{l}"),
                    });
                });
            let task = tokio::spawn(async move {
                if let Err(error) = follow.await {
                    let _ = err_tx.send(ExecMsg::RuntimeWarning { resource: i, message: error });
                }
            });
            self.log_streams.insert(key, task);
        }
    }
}
