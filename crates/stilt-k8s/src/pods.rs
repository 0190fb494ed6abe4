//! Watching the pods a resource owns.
//!
//! A resource's pods are found by label: every pod template stilt applies carries
//! `tilt.dev/pod-template-hash` (see `stilt_core::k8s_objects`), so one set-based selector per
//! namespace finds exactly the pods of the templates just applied — pods of an older template
//! (a previous ReplicaSet) carry another hash and are never seen. `extra_pod_selectors` add
//! more watches. Each pod is read into a [`PodSummary`] once, when it changes
//! ([`pod_summary`]); each change delivers the summaries of the whole current set.

use crate::Cluster;
use futures_util::StreamExt;
use futures_util::stream::select_all;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use std::collections::BTreeMap;
use stilt_core::k8s_pod::{ContainerState, ContainerSummary, PodSummary};

/// One pod watch: a namespace (empty = all) and a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodWatch {
    /// Namespace; empty watches every namespace.
    pub namespace: String,
    /// Label selector (`tilt.dev/pod-template-hash in (a,b)`).
    pub selector: String,
}

/// Watches `watches` until the task is dropped; calls `on_change` with every pod seen (each
/// once, by uid) after each change, and `on_error` when a watch fails (it is retried with
/// backoff; the same error again is not reported twice in a row).
pub async fn watch_pods(
    cluster: Cluster,
    watches: Vec<PodWatch>,
    mut on_change: impl FnMut(Vec<PodSummary>) + Send,
    mut on_error: impl FnMut(String) + Send,
) {
    let streams = watches.iter().enumerate().map(|(i, w)| {
        let api: Api<Pod> = if w.namespace.is_empty() {
            Api::all(cluster.client.clone())
        } else {
            Api::namespaced(cluster.client.clone(), &w.namespace)
        };
        watcher::watcher(api, watcher::Config::default().labels(&w.selector))
            .default_backoff()
            .map(move |e| (i, e))
            .boxed()
    });
    let mut events = select_all(streams);
    // (watch, namespace, name) → pod
    let mut pods: BTreeMap<(usize, String, String), PodSummary> = BTreeMap::new();
    let mut last_error = String::new();
    let key = |i: usize, p: &Pod| {
        (i, p.metadata.namespace.clone().unwrap_or_default(), p.metadata.name.clone().unwrap_or_default())
    };
    while let Some((i, event)) = events.next().await {
        let emit = match event {
            Ok(Event::Init) => {
                pods.retain(|k, _| k.0 != i);
                false
            }
            Ok(Event::InitApply(p)) => {
                pods.insert(key(i, &p), pod_summary(&p));
                false
            }
            Ok(Event::InitDone) => {
                last_error.clear();
                true
            }
            Ok(Event::Apply(p)) => {
                pods.insert(key(i, &p), pod_summary(&p));
                true
            }
            Ok(Event::Delete(p)) => {
                pods.remove(&key(i, &p));
                true
            }
            Err(e) => {
                let text = e.to_string();
                if text != last_error {
                    on_error(text.clone());
                    last_error = text;
                }
                false
            }
        };
        if emit {
            let mut seen = std::collections::HashSet::new();
            let all: Vec<PodSummary> = pods.values().filter(|p| seen.insert(p.uid.as_str())).cloned().collect();
            on_change(all);
        }
    }
}

/// What the engine needs of a pod, read from the typed object (the same facts
/// `PodSummary::from_json` reads from the apiserver's JSON).
pub fn pod_summary(pod: &Pod) -> PodSummary {
    let meta = &pod.metadata;
    let status = pod.status.as_ref();
    let str_of = |s: Option<&String>| s.cloned().unwrap_or_default();
    let statuses = |list: Option<&Vec<ContainerStatus>>| -> Vec<ContainerSummary> {
        list.map(|l| l.iter().map(container_summary).collect()).unwrap_or_default()
    };
    let restartable_inits: Vec<&str> = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .map(|l| l.iter().filter(|c| c.restart_policy.as_deref() == Some("Always")).map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    let mut init_containers = statuses(status.and_then(|s| s.init_container_statuses.as_ref()));
    for c in &mut init_containers {
        c.restartable = restartable_inits.contains(&c.name.as_str());
    }
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or_default();
    let condition_true = |ty: &str| conditions.iter().any(|c| c.type_ == ty && c.status == "True");
    PodSummary {
        name: str_of(meta.name.as_ref()),
        namespace: str_of(meta.namespace.as_ref()),
        uid: str_of(meta.uid.as_ref()),
        created_at: meta.creation_timestamp.as_ref().and_then(|t| {
            chrono::DateTime::from_timestamp(t.0.as_second(), u32::try_from(t.0.subsec_nanosecond()).unwrap_or(0))
        }),
        phase: str_of(status.and_then(|s| s.phase.as_ref())),
        deleting: meta.deletion_timestamp.is_some(),
        labels: meta.labels.clone().unwrap_or_default(),
        containers: statuses(status.and_then(|s| s.container_statuses.as_ref())),
        init_containers,
        reason: str_of(status.and_then(|s| s.reason.as_ref())),
        message: str_of(status.and_then(|s| s.message.as_ref())),
        conditions_ready: condition_true("Ready"),
        conditions_initialized: condition_true("Initialized"),
        scheduling_gated: conditions
            .iter()
            .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated")),
        unschedulable: conditions
            .iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False" && c.reason.as_deref() == Some("Unschedulable"))
            .map(|c| c.message.as_deref().unwrap_or_default().trim().to_string())
            .unwrap_or_default(),
    }
}

fn container_summary(c: &ContainerStatus) -> ContainerSummary {
    let state = c.state.as_ref().map_or(ContainerState::Unknown, |s| {
        if let Some(w) = &s.waiting {
            ContainerState::Waiting {
                reason: w.reason.clone().unwrap_or_default(),
                message: w.message.clone().unwrap_or_default(),
            }
        } else if s.running.is_some() {
            ContainerState::Running
        } else if let Some(t) = &s.terminated {
            ContainerState::Terminated {
                exit_code: t.exit_code,
                reason: t.reason.clone().unwrap_or_default(),
                message: t.message.clone().unwrap_or_default(),
            }
        } else {
            ContainerState::Unknown
        }
    });
    ContainerSummary {
        name: c.name.clone(),
        ready: c.ready,
        restarts: c.restart_count,
        state,
        started: c.started.unwrap_or_default(),
        restartable: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The typed reading and the JSON reading of the same pods agree.
    #[test]
    fn pod_summary_reads_what_from_json_reads() {
        let pods = [
            json!({
                "metadata": {"name": "web-1", "namespace": "ns", "uid": "u1",
                    "creationTimestamp": "2024-05-01T10:00:00Z", "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web"}],
                    "initContainers": [{"name": "proxy", "restartPolicy": "Always"}, {"name": "migrate"}]},
                "status": {"phase": "Running",
                    "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                    "initContainerStatuses": [
                        {"name": "proxy", "image": "p", "imageID": "", "ready": true, "restartCount": 0,
                            "started": true, "state": {"running": {"startedAt": "2024-05-01T10:00:01Z"}}},
                        {"name": "migrate", "image": "m", "imageID": "", "ready": false, "restartCount": 0,
                            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                    "containerStatuses": [{"name": "web", "image": "w", "imageID": "", "ready": true,
                        "restartCount": 2, "started": true, "state": {"running": {}}}]}
            }),
            json!({
                "metadata": {"name": "web-2", "namespace": "ns", "uid": "u2",
                    "deletionTimestamp": "2024-05-01T10:01:00Z"},
                "spec": {"containers": [{"name": "web"}]},
                "status": {"phase": "Pending", "reason": "Evicted", "message": "low memory",
                    "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                        "message": " 0/1 nodes are available "}],
                    "containerStatuses": [{"name": "web", "image": "w", "imageID": "", "ready": false,
                        "restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff",
                            "message": "back-off"}}}]}
            }),
            json!({
                "metadata": {"name": "web-3", "uid": "u3"},
                "spec": {"containers": [{"name": "web"}]},
                "status": {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
                    "containerStatuses": [{"name": "web", "image": "w", "imageID": "", "ready": false,
                        "restartCount": 0, "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                            "message": "killed"}}}]}
            }),
        ];
        for json in pods {
            let typed: Pod = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(pod_summary(&typed), PodSummary::from_json(&json), "{json}");
        }
    }
}
