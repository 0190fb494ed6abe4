//! The reducer's Kubernetes side: recording a deploy, applying pod sets (Tilt's runtime
//! status, with a log line per change) and asking for the logs of started containers. The
//! pod watch and the log streams are the dispatcher's tasks; grace periods are the verdict's
//! (`stilt_core::verdict::grace_status`).

use super::{Effects, log};
use crate::engine::effect::{Effect, PodContainer};
use crate::engine::engine_state::{EngineState, RuntimePhase};
use crate::event::{Event, Level, LogSource};
use crate::exec::k8s_deploy::K8sDeployed;
use chrono::{DateTime, Utc};
use stilt_core::ResourceTarget;
use stilt_core::k8s_pod::{ContainerState, K8sRuntimeStatus, PodReadiness, PodSummary, runtime_status};

/// A Kubernetes resource's runtime status and its newest pod's (name, kubectl status).
type K8sView = (K8sRuntimeStatus, Option<(String, String)>);

impl EngineState {
    /// Records a Kubernetes deploy and asks for its pods to be watched.
    pub(super) fn k8s_deployed(&mut self, i: usize, k: K8sDeployed, now: DateTime<Utc>, fx: &mut Effects) {
        let r = &mut self.resources[i];
        let ResourceTarget::K8s(t) = &r.manifest.target else { return };
        let mode = t.readiness();
        r.runtime = RuntimePhase::K8s {
            deployed_at: now,
            job_complete: k.job_complete,
            pods: Vec::new(),
            changed: now,
            last_ready: None,
        };
        self.k8s_status_changed(i, None, now, fx);
        if k.watches.is_empty() || mode == PodReadiness::Ignore {
            return;
        }
        fx.push(Effect::WatchPods { resource: i, deployed: k });
    }

    /// Applies a Kubernetes resource's new set of pods.
    pub(super) fn pods_changed(&mut self, i: usize, summaries: Vec<PodSummary>, now: DateTime<Utc>, fx: &mut Effects) {
        let before = self.k8s_status(i);
        if let RuntimePhase::K8s { pods: current, .. } = &mut self.resources[i].runtime {
            if *current == summaries {
                return;
            }
            current.clone_from(&summaries);
        }
        let resource: std::sync::Arc<str> = std::sync::Arc::from(self.resources[i].manifest.name.as_str());
        fx.push(Effect::Emit(Event::PodsChanged { resource, pods: summaries }));
        self.k8s_status_changed(i, before.as_ref(), now, fx);
        self.follow_pod_logs(i, fx);
    }

    /// Asks for the log of every container of the resource's pods that has started.
    fn follow_pod_logs(&self, i: usize, fx: &mut Effects) {
        let RuntimePhase::K8s { pods, .. } = &self.resources[i].runtime else { return };
        let mut containers = Vec::new();
        for p in pods.iter().filter(|p| !p.deleting) {
            let several = p.containers.len() + p.init_containers.len() > 1;
            for c in p.all_containers() {
                if matches!(c.state, ContainerState::Running | ContainerState::Terminated { .. }) {
                    containers.push(PodContainer {
                        uid: p.uid.clone(),
                        namespace: p.namespace.clone(),
                        pod: p.name.clone(),
                        container: c.name.clone(),
                        prefix: if several { format!("[{}] ", c.name) } else { String::new() },
                    });
                }
            }
        }
        if !containers.is_empty() {
            fx.push(Effect::FollowLogs { resource: i, containers });
        }
    }

    /// The runtime status of a Kubernetes resource and the newest pod's (name, display status).
    fn k8s_status(&self, i: usize) -> Option<K8sView> {
        let r = &self.resources[i];
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
    fn k8s_status_changed(&mut self, i: usize, before: Option<&K8sView>, now: DateTime<Utc>, fx: &mut Effects) {
        let Some(after) = self.k8s_status(i) else { return };
        if before == Some(&after) {
            return;
        }
        let (status, pod) = after;
        let r = &mut self.resources[i];
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
        fx.push(log(i, LogSource::Runtime, level, text));
    }
}
