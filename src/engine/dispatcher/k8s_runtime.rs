//! The dispatcher's Kubernetes side: recording a deploy, starting the pod watch, applying pod
//! sets (Tilt's runtime status, with a log line per change) and following pod logs. Grace
//! periods are the verdict's (`stilt_core::verdict::grace_status`).

use super::{Dispatcher, ExecMsg, Level, LogSource, RuntimePhase};
use crate::exec::k8s_deploy::K8sDeployed;
use chrono::Utc;
use stilt_core::ResourceTarget;
use stilt_core::k8s_pod::{ContainerState, K8sRuntimeStatus, PodReadiness, PodSummary, runtime_status};

/// At most this many container logs are followed per resource (a 50-replica Deployment's
/// logs are not what a CI page needs).
const MAX_LOG_STREAMS_PER_RESOURCE: usize = 10;

/// A Kubernetes resource's runtime status and its newest pod's (name, kubectl status).
type K8sView = (K8sRuntimeStatus, Option<(String, String)>);

impl Dispatcher {
    /// Records a Kubernetes deploy and starts watching the resource's pods.
    pub(super) fn k8s_deployed(&mut self, i: usize, k: K8sDeployed) {
        let now = Utc::now();
        let r = &mut self.state.resources[i];
        let ResourceTarget::K8s(t) = &r.manifest.target else { return };
        let mode = t.readiness();
        r.runtime = RuntimePhase::K8s {
            deployed_at: now,
            job_complete: k.job_complete,
            pods: Vec::new(),
            changed: now,
            last_ready: None,
        };
        self.k8s_status_changed(i, None);
        if k.watches.is_empty() || mode == PodReadiness::Ignore {
            return;
        }
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

    /// Applies a Kubernetes resource's new set of pods.
    pub(super) fn pods_changed(&mut self, i: usize, pods: &[serde_json::Value]) {
        let before = self.k8s_status(i);
        let summaries: Vec<PodSummary> = pods.iter().map(PodSummary::from_json).collect();
        if let RuntimePhase::K8s { pods: current, .. } = &mut self.state.resources[i].runtime {
            if *current == summaries {
                return;
            }
            current.clone_from(&summaries);
        }
        let resource: std::sync::Arc<str> = std::sync::Arc::from(self.state.resources[i].manifest.name.as_str());
        let _ = self.outputs.events.send(crate::event::Event::PodsChanged { resource, pods: summaries });
        self.k8s_status_changed(i, before.as_ref());
        self.follow_pod_logs(i);
    }

    /// Starts following the log of every container of the resource's pods that has started.
    fn follow_pod_logs(&mut self, i: usize) {
        let (Some(cluster), RuntimePhase::K8s { pods, .. }) = (self.clusters.get(&i), &self.state.resources[i].runtime)
        else {
            return;
        };
        let mut started = Vec::new();
        for p in pods.iter().filter(|p| !p.deleting) {
            let several = p.containers.len() + p.init_containers.len() > 1;
            for c in p.all_containers() {
                let running = matches!(c.state, ContainerState::Running | ContainerState::Terminated { .. });
                let key = (i, p.uid.clone(), c.name.clone());
                if running && !self.log_streams.contains_key(&key) {
                    started.push((key, p.namespace.clone(), p.name.clone(), several));
                }
            }
        }
        for ((i, uid, container), namespace, pod, several) in started {
            if self.log_streams.keys().filter(|k| k.0 == i).count() >= MAX_LOG_STREAMS_PER_RESOURCE {
                break;
            }
            let (tx, err_tx) = (self.exec_tx.clone(), self.exec_tx.clone());
            let prefix = if several { format!("[{container}] ") } else { String::new() };
            let follow =
                stilt_k8s::follow_container_log(cluster.clone(), namespace, pod, container.clone(), move |l| {
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
            self.log_streams.insert((i, uid, container), task);
        }
    }

    /// The runtime status of a Kubernetes resource and the newest pod's (name, display status).
    fn k8s_status(&self, i: usize) -> Option<K8sView> {
        let r = &self.state.resources[i];
        let (ResourceTarget::K8s(t), RuntimePhase::K8s { job_complete, pods, .. }) = (&r.manifest.target, &r.runtime)
        else {
            return None;
        };
        let (status, pod) = runtime_status(t.readiness(), true, *job_complete, pods);
        let describe = |p: &PodSummary| {
            if p.unschedulable.is_empty() {
                p.display_status()
            } else {
                format!("{} (unschedulable: {})", p.display_status(), p.unschedulable)
            }
        };
        Some((status, pod.map(|p| (p.name.clone(), describe(p)))))
    }

    /// Logs what changed since `before` and keeps readiness bookkeeping.
    fn k8s_status_changed(&mut self, i: usize, before: Option<&K8sView>) {
        let now = Utc::now();
        let Some(after) = self.k8s_status(i) else { return };
        if before == Some(&after) {
            return;
        }
        let (status, pod) = after.clone();
        let r = &mut self.state.resources[i];
        if let RuntimePhase::K8s { changed, last_ready, .. } = &mut r.runtime {
            if before.map(|b| &b.0) != Some(&status) {
                *changed = now;
            }
            if matches!(status, K8sRuntimeStatus::Ok { .. }) {
                *last_ready = Some(now);
                r.ever_ready = true;
            }
        }
        let pod_changed = before.map(|b| &b.1) != Some(&pod);
        let (level, text) = match (&status, &pod) {
            (K8sRuntimeStatus::Error { message }, _) => (Level::Error, message.clone()),
            (K8sRuntimeStatus::Ok { succeeded: true }, Some((name, _))) => {
                (Level::Info, format!("Pod {name} succeeded"))
            }
            (K8sRuntimeStatus::Ok { .. }, Some((name, s))) => (Level::Info, format!("Pod {name} is ready ({s})")),
            (K8sRuntimeStatus::Ok { succeeded: true }, None) => (Level::Info, "Job complete".to_string()),
            (K8sRuntimeStatus::Pending { .. }, Some((name, s))) if pod_changed => {
                (Level::Info, format!("Pod {name}: {s}"))
            }
            (K8sRuntimeStatus::Pending { reason }, None) => (Level::Info, format!("Waiting: {reason}")),
            (K8sRuntimeStatus::Ok { .. }, None) | (K8sRuntimeStatus::Pending { .. }, Some(_)) => return,
        };
        self.log(i, LogSource::Runtime, level, false, text);
    }
}
