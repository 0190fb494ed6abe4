//! Runtime status of a Kubernetes resource, computed from its pods the way Tilt does.
//!
//! `tilt ci` decides whether a k8s resource is ready, still pending or failed by looking at the
//! single most recent pod the resource owns (spec §2.3/§2.4). The engine watches pods and feeds
//! their JSON here; this module turns the apiserver's pod JSON into a [`PodSummary`], renders the
//! kubectl-style status text Tilt shows as the waiting reason and error text, and applies Tilt's
//! rules in [`runtime_status`]. Pure functions only: no I/O, no Kubernetes client.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub use crate::manifest::PodReadiness;

/// The parts of a pod that Tilt's runtime-status rules and kubectl's STATUS column read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(clippy::struct_excessive_bools)] // independent facts read from the pod, not a state machine
pub struct PodSummary {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.creationTimestamp`.
    #[serde(with = "crate::micro_time::option")]
    pub created_at: Option<DateTime<Utc>>,
    /// `status.phase` (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`, or empty).
    pub phase: String,
    /// `metadata.deletionTimestamp` is set.
    pub deleting: bool,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `status.containerStatuses`, in order.
    pub containers: Vec<ContainerSummary>,
    /// `status.initContainerStatuses`, in order.
    pub init_containers: Vec<ContainerSummary>,
    /// `status.reason` (`Evicted`, `NodeLost`, …).
    pub reason: String,
    /// `status.message`.
    pub message: String,
    /// The `Ready` condition is `True`.
    pub conditions_ready: bool,
    /// The `Initialized` condition is `True` (kubectl then shows app containers' state even if
    /// a sidecar init container is still running).
    pub conditions_initialized: bool,
    /// The `PodScheduled` condition has reason `SchedulingGated`.
    pub scheduling_gated: bool,
    /// Why the scheduler could not place the pod (`PodScheduled=False`, reason
    /// `Unschedulable`): its message, else empty. Shown in the log while the pod waits.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unschedulable: String,
}

/// One container status of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSummary {
    /// Container name.
    pub name: String,
    /// `ready`.
    pub ready: bool,
    /// `restartCount`.
    pub restarts: i32,
    /// `state`.
    pub state: ContainerState,
    /// `started` (set by the kubelet once the startup probe passed).
    pub started: bool,
    /// An init container with `restartPolicy: Always` in the pod spec (a native sidecar).
    pub restartable: bool,
}

/// A container's current state (`status.containerStatuses[].state`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "type")]
pub enum ContainerState {
    /// `waiting`.
    Waiting {
        /// `reason` (`ContainerCreating`, `CrashLoopBackOff`, `ErrImagePull`, …).
        reason: String,
        /// `message`.
        message: String,
    },
    /// `running`.
    Running,
    /// `terminated`.
    Terminated {
        /// `exitCode`.
        exit_code: i32,
        /// `reason` (`Completed`, `Error`, `OOMKilled`, …).
        reason: String,
        /// `message`.
        message: String,
    },
    /// No state reported yet.
    #[default]
    Unknown,
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn i32_at(v: &Value, key: &str) -> i32 {
    v.get(key).and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()).unwrap_or_default()
}

fn bool_at(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or_default()
}

impl ContainerState {
    /// Reads a `state` object; the first of `waiting`, `running`, `terminated` present wins.
    pub fn from_json(state: &Value) -> ContainerState {
        if let Some(w) = state.get("waiting").filter(|w| w.is_object()) {
            ContainerState::Waiting {
                reason: str_at(w, "reason").to_string(),
                message: str_at(w, "message").to_string(),
            }
        } else if state.get("running").is_some_and(Value::is_object) {
            ContainerState::Running
        } else if let Some(t) = state.get("terminated").filter(|t| t.is_object()) {
            ContainerState::Terminated {
                exit_code: i32_at(t, "exitCode"),
                reason: str_at(t, "reason").to_string(),
                message: str_at(t, "message").to_string(),
            }
        } else {
            ContainerState::Unknown
        }
    }
}

impl ContainerSummary {
    /// Reads one entry of `containerStatuses` / `initContainerStatuses`.
    pub fn from_json(status: &Value) -> ContainerSummary {
        ContainerSummary {
            name: str_at(status, "name").to_string(),
            ready: bool_at(status, "ready"),
            restarts: i32_at(status, "restartCount"),
            state: status.get("state").map(ContainerState::from_json).unwrap_or_default(),
            started: bool_at(status, "started"),
            restartable: false,
        }
    }

    /// Whether Tilt counts this container as failed: terminated with a non-zero exit code, or
    /// waiting for a reason that does not fix itself.
    pub fn is_error(&self) -> bool {
        match &self.state {
            ContainerState::Terminated { exit_code, .. } => *exit_code != 0,
            ContainerState::Waiting { reason, .. } => ERROR_WAITING_REASONS.contains(&reason.as_str()),
            ContainerState::Running | ContainerState::Unknown => false,
        }
    }

    /// Extra text for an error message: `(exit code N: reason: message)` or ` (message)`.
    fn error_detail(&self) -> String {
        match &self.state {
            ContainerState::Terminated { exit_code, reason, message } => {
                let mut parts = vec![format!("exit code {exit_code}")];
                parts.extend([reason, message].into_iter().filter(|s| !s.is_empty()).map(|s| s.trim().to_string()));
                format!(" ({})", parts.join(": "))
            }
            ContainerState::Waiting { message, .. } if !message.trim().is_empty() => format!(" ({})", message.trim()),
            _ => String::new(),
        }
    }
}

/// Waiting reasons that make a container count as failed. Tilt's list is the first six;
/// `CreateContainerConfigError` (missing ConfigMap/Secret key) and `InvalidImageName` are stilt
/// additions: neither resolves without a new deploy, so waiting for them only burns the timeout.
const ERROR_WAITING_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "RunContainerError",
    "StartError",
    "Error",
    "CreateContainerConfigError",
    "InvalidImageName",
];

impl PodSummary {
    /// Reads a pod as the apiserver returns it. Tolerant: missing or mistyped fields read as
    /// defaults.
    pub fn from_json(pod: &Value) -> PodSummary {
        let null = Value::Null;
        let meta = pod.get("metadata").unwrap_or(&null);
        let status = pod.get("status").unwrap_or(&null);
        let created_at = meta
            .get("creationTimestamp")
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        let labels = meta
            .get("labels")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default();
        let statuses = |key: &str| -> Vec<ContainerSummary> {
            status
                .get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().map(ContainerSummary::from_json).collect())
                .unwrap_or_default()
        };
        let restartable_inits: Vec<&str> = pod
            .pointer("/spec/initContainers")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter(|c| str_at(c, "restartPolicy") == "Always").map(|c| str_at(c, "name")).collect())
            .unwrap_or_default();
        let mut init_containers = statuses("initContainerStatuses");
        for c in &mut init_containers {
            c.restartable = restartable_inits.contains(&c.name.as_str());
        }
        let conditions = status.get("conditions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let condition_true =
            |ty: &str| conditions.iter().any(|c| str_at(c, "type") == ty && str_at(c, "status") == "True");
        PodSummary {
            name: str_at(meta, "name").to_string(),
            namespace: str_at(meta, "namespace").to_string(),
            uid: str_at(meta, "uid").to_string(),
            created_at,
            phase: str_at(status, "phase").to_string(),
            deleting: meta.get("deletionTimestamp").is_some_and(|v| !v.is_null()),
            labels,
            containers: statuses("containerStatuses"),
            init_containers,
            reason: str_at(status, "reason").to_string(),
            message: str_at(status, "message").to_string(),
            conditions_ready: condition_true("Ready"),
            conditions_initialized: condition_true("Initialized"),
            scheduling_gated: conditions
                .iter()
                .any(|c| str_at(c, "type") == "PodScheduled" && str_at(c, "reason") == "SchedulingGated"),
            unschedulable: conditions
                .iter()
                .find(|c| {
                    str_at(c, "type") == "PodScheduled"
                        && str_at(c, "status") == "False"
                        && str_at(c, "reason") == "Unschedulable"
                })
                .map(|c| str_at(c, "message").trim().to_string())
                .unwrap_or_default(),
        }
    }

    /// kubectl's STATUS column for this pod (`Running`, `ContainerCreating`, `Init:0/2`,
    /// `Init:CrashLoopBackOff`, `CrashLoopBackOff`, `Completed`, `Error`, `Terminating`, …),
    /// computed as kubectl's `printPod` does. Tilt shows it as the waiting reason and in
    /// container error messages.
    pub fn display_status(&self) -> String {
        let mut reason = if self.reason.is_empty() { self.phase.clone() } else { self.reason.clone() };
        if self.scheduling_gated {
            reason = "SchedulingGated".to_string();
        }

        let mut initializing = false;
        let total_init = self.init_containers.len();
        for (i, c) in self.init_containers.iter().enumerate() {
            match &c.state {
                ContainerState::Terminated { exit_code: 0, .. } => continue,
                _ if c.restartable && c.started => continue,
                ContainerState::Terminated { exit_code, reason: r, .. } => {
                    reason = if r.is_empty() { format!("Init:ExitCode:{exit_code}") } else { format!("Init:{r}") };
                }
                ContainerState::Waiting { reason: r, .. } if !r.is_empty() && r != "PodInitializing" => {
                    reason = format!("Init:{r}");
                }
                _ => reason = format!("Init:{i}/{total_init}"),
            }
            initializing = true;
            break;
        }

        if !initializing || self.conditions_initialized {
            let mut has_running = false;
            for c in self.containers.iter().rev() {
                match &c.state {
                    ContainerState::Waiting { reason: r, .. } | ContainerState::Terminated { reason: r, .. }
                        if !r.is_empty() =>
                    {
                        reason.clone_from(r);
                    }
                    ContainerState::Terminated { exit_code, .. } => reason = format!("ExitCode:{exit_code}"),
                    ContainerState::Running if c.ready => has_running = true,
                    _ => {}
                }
            }
            // Some container still runs: the pod is not completed.
            if reason == "Completed" && has_running {
                reason = if self.conditions_ready { "Running" } else { "NotReady" }.to_string();
            }
        }

        if self.deleting && self.reason == "NodeLost" {
            reason = "Unknown".to_string();
        } else if self.deleting && self.phase != "Succeeded" && self.phase != "Failed" {
            reason = "Terminating".to_string();
        }
        reason
    }

    /// All (non-init) containers report ready; false for a pod without container statuses.
    pub fn all_containers_ready(&self) -> bool {
        !self.containers.is_empty() && self.containers.iter().all(|c| c.ready)
    }

    /// Init containers, then app containers.
    pub fn all_containers(&self) -> impl Iterator<Item = &ContainerSummary> {
        self.init_containers.iter().chain(&self.containers)
    }
}

/// Runtime status of a k8s resource (Tilt's `RuntimeStatus` plus the text the Session shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum K8sRuntimeStatus {
    /// Not ready yet; `reason` is the Session's `waitReason` (`waiting-for-pod`, the pod's
    /// kubectl status, …).
    Pending {
        /// Why it is waiting.
        reason: String,
    },
    /// Ready.
    Ok {
        /// The pod (or Job) ran to completion: the Session shows `terminated` without error
        /// instead of `active`.
        succeeded: bool,
    },
    /// Failed; `message` is the Session target's error text.
    Error {
        /// The error text.
        message: String,
    },
}

/// Wait reason before the first successful deploy.
pub const WAITING_FOR_DEPLOY: &str = "waiting-for-deploy";
/// Wait reason when deployed but no pod is seen yet.
pub const WAITING_FOR_POD: &str = "waiting-for-pod";

/// The pod Tilt looks at: the newest by `created_at` among pods not being deleted (a tie goes
/// to the larger name; a pod without a creation time is the oldest).
pub fn newest_pod(pods: &[PodSummary]) -> Option<&PodSummary> {
    pods.iter().filter(|p| !p.deleting).max_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)))
}

/// Tilt's runtime status of a k8s resource (spec §2.4), and the pod it was computed from
/// (the [`newest_pod`], or `None` before the first successful deploy).
///
/// `deployed`: the resource has been applied successfully at least once. `job_complete`: the
/// last apply returned a Job whose `Complete` condition is `True` (its pods may be gone).
/// `pods`: the resource's pods, already filtered to the current pod-template hashes.
pub fn runtime_status(
    mode: PodReadiness,
    deployed: bool,
    job_complete: bool,
    pods: &[PodSummary],
) -> (K8sRuntimeStatus, Option<&PodSummary>) {
    if !deployed {
        return (K8sRuntimeStatus::Pending { reason: WAITING_FOR_DEPLOY.to_string() }, None);
    }
    let pod = newest_pod(pods);
    if mode == PodReadiness::Ignore {
        return (K8sRuntimeStatus::Ok { succeeded: false }, pod);
    }
    if job_complete {
        return (K8sRuntimeStatus::Ok { succeeded: true }, pod);
    }
    let Some(p) = pod else {
        return (K8sRuntimeStatus::Pending { reason: WAITING_FOR_POD.to_string() }, None);
    };
    let status = match p.phase.as_str() {
        "Running" => {
            if p.all_containers_ready() && mode != PodReadiness::Succeeded {
                K8sRuntimeStatus::Ok { succeeded: false }
            } else {
                K8sRuntimeStatus::Pending { reason: p.display_status() }
            }
        }
        "Succeeded" => K8sRuntimeStatus::Ok { succeeded: true },
        "Failed" => {
            let errors: Vec<&str> = [p.message.trim(), p.reason.trim()].into_iter().filter(|s| !s.is_empty()).collect();
            let mut message = if errors.is_empty() { format!("Pod {:?} failed", p.name) } else { errors.join("; ") };
            // Better than Tilt: say which container ended it, and how.
            if let Some(c) = p.all_containers().find(|c| c.is_error()) {
                message.push_str(&format!(": container {}{}", c.name, c.error_detail()));
            }
            K8sRuntimeStatus::Error { message }
        }
        _ => match p.all_containers().find(|c| c.is_error()) {
            Some(c) => K8sRuntimeStatus::Error {
                message: format!(
                    "Pod {} in error state due to container {}: {}{}",
                    p.name,
                    c.name,
                    p.display_status(),
                    c.error_detail()
                ),
            },
            None => K8sRuntimeStatus::Pending { reason: p.display_status() },
        },
    };
    (status, Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A pod as `kubectl get pod -o json` shows it, with the given status.
    fn pod(name: &str, created: &str, status: Value) -> Value {
        let mut v = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": format!("uid-{name}"),
                "creationTimestamp": created,
                "generateName": "web-7d9f8b6c5-",
                "labels": {"app": "web", "pod-template-hash": "7d9f8b6c5",
                    "tilt.dev/pod-template-hash": "0123456789abcdef0123"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f8b6c5",
                    "uid": "rs-uid", "controller": true}]
            },
            "spec": {
                "containers": [{"name": "web", "image": "127.0.0.1:29500/web:tilt-0123456789abcdef",
                    "imagePullPolicy": "IfNotPresent"}],
                "restartPolicy": "Always"
            },
        });
        v["status"] = status;
        v
    }

    fn summary(status: Value) -> PodSummary {
        PodSummary::from_json(&pod("web-7d9f8b6c5-abcde", "2024-05-01T10:00:00Z", status))
    }

    fn running_ready() -> Value {
        json!({
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": "2024-05-01T10:00:00Z"},
                {"type": "Ready", "status": "True", "lastTransitionTime": "2024-05-01T10:00:05Z"},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2024-05-01T10:00:05Z"},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-05-01T10:00:00Z"}
            ],
            "hostIP": "172.18.0.2",
            "podIP": "10.244.0.12",
            "startTime": "2024-05-01T10:00:00Z",
            "containerStatuses": [{
                "name": "web",
                "state": {"running": {"startedAt": "2024-05-01T10:00:03Z"}},
                "lastState": {},
                "ready": true,
                "restartCount": 0,
                "image": "127.0.0.1:29500/web:tilt-0123456789abcdef",
                "imageID": "127.0.0.1:29500/web@sha256:abc",
                "containerID": "containerd://abc",
                "started": true
            }],
            "qosClass": "BestEffort"
        })
    }

    fn crash_loop_running_phase() -> Value {
        json!({
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                    "message": "containers with unready status: [web]"},
                {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady"},
                {"type": "PodScheduled", "status": "True"}
            ],
            "containerStatuses": [{
                "name": "web",
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                    "message": "back-off 40s restarting failed container=web pod=web-7d9f8b6c5-abcde_default(uid)"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2024-05-01T10:00:03Z",
                    "finishedAt": "2024-05-01T10:00:04Z"}},
                "ready": false,
                "restartCount": 3,
                "started": false
            }]
        })
    }

    fn image_pull_backoff() -> Value {
        json!({
            "phase": "Pending",
            "conditions": [
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
                {"type": "PodScheduled", "status": "True"}
            ],
            "containerStatuses": [{
                "name": "web",
                "state": {"waiting": {"reason": "ImagePullBackOff",
                    "message": "Back-off pulling image \"nope:latest\""}},
                "lastState": {},
                "ready": false,
                "restartCount": 0,
                "image": "nope:latest",
                "imageID": "",
                "started": false
            }]
        })
    }

    #[test]
    fn unschedulable_pods_say_why() {
        let p = summary(json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
            "reason": "Unschedulable", "message": "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "}]}));
        assert_eq!(p.unschedulable, "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.");
        assert_eq!(p.display_status(), "Pending");
        assert!(summary(image_pull_backoff()).unschedulable.is_empty());
    }

    #[test]
    fn from_json_reads_metadata_and_container_states() {
        let p = summary(running_ready());
        assert_eq!(p.name, "web-7d9f8b6c5-abcde");
        assert_eq!(p.namespace, "default");
        assert_eq!(p.uid, "uid-web-7d9f8b6c5-abcde");
        assert_eq!(p.created_at.unwrap().to_rfc3339(), "2024-05-01T10:00:00+00:00");
        assert_eq!(p.phase, "Running");
        assert!(!p.deleting);
        assert_eq!(p.labels["app"], "web");
        assert!(p.conditions_ready);
        assert!(p.conditions_initialized);
        assert_eq!(p.containers.len(), 1);
        assert_eq!(p.containers[0].state, ContainerState::Running);
        assert!(p.containers[0].ready);

        let p = summary(crash_loop_running_phase());
        assert!(!p.conditions_ready);
        assert_eq!(p.containers[0].restarts, 3);
        assert!(
            matches!(&p.containers[0].state, ContainerState::Waiting { reason, .. } if reason == "CrashLoopBackOff")
        );
    }

    #[test]
    fn from_json_tolerates_missing_fields() {
        let p = PodSummary::from_json(&json!({}));
        assert_eq!(p, PodSummary::default());
        let p = PodSummary::from_json(
            &json!({"metadata": {"name": "x", "creationTimestamp": "garbage", "labels": {"a": 1}},
            "status": {"containerStatuses": [{"name": "c", "state": {}}]}}),
        );
        assert_eq!(p.name, "x");
        assert_eq!(p.created_at, None);
        assert!(p.labels.is_empty());
        assert_eq!(p.containers[0].state, ContainerState::Unknown);
        assert_eq!(p.display_status(), "");
    }

    #[test]
    fn from_json_marks_deleting_and_sidecars() {
        let mut v = pod("p", "2024-05-01T10:00:00Z", running_ready());
        v["metadata"]["deletionTimestamp"] = json!("2024-05-01T10:05:00Z");
        v["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox"}, {"name": "proxy",
            "image": "envoy", "restartPolicy": "Always"}]);
        v["status"]["initContainerStatuses"] = json!([
            {"name": "init", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}, "ready": true,
                "restartCount": 0},
            {"name": "proxy", "state": {"running": {"startedAt": "2024-05-01T10:00:02Z"}}, "ready": true,
                "restartCount": 0, "started": true}
        ]);
        let p = PodSummary::from_json(&v);
        assert!(p.deleting);
        assert!(!p.init_containers[0].restartable);
        assert!(p.init_containers[1].restartable);
        assert!(p.init_containers[1].started);
        assert_eq!(p.display_status(), "Terminating");
        let p = PodSummary { deleting: false, ..p };
        assert_eq!(p.display_status(), "Running");
    }

    #[test]
    fn display_status_of_common_pods() {
        let terminated = |phase: &str, name: &str, restarts: u32, state: Value| {
            json!({"phase": phase, "containerStatuses": [{"name": name, "ready": false, "restartCount": restarts,
                "state": {"terminated": state}}]})
        };
        let cases = [
            (running_ready(), "Running"),
            (crash_loop_running_phase(), "CrashLoopBackOff"),
            (image_pull_backoff(), "ImagePullBackOff"),
            // Just scheduled, no container statuses yet.
            (
                json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                    "reason": "Unschedulable"}]}),
                "Pending",
            ),
            (
                json!({"phase": "Pending", "containerStatuses": [{"name": "web", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
                "ContainerCreating",
            ),
            // Job pod ran to completion.
            (terminated("Succeeded", "job", 0, json!({"exitCode": 0, "reason": "Completed"})), "Completed"),
            (terminated("Failed", "job", 0, json!({"exitCode": 2, "reason": "Error"})), "Error"),
            (terminated("Running", "web", 1, json!({"exitCode": 137, "reason": "OOMKilled"})), "OOMKilled"),
            (terminated("Running", "web", 1, json!({"exitCode": 3})), "ExitCode:3"),
            // Evicted: the pod's reason wins over the phase.
            (
                json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."}),
                "Evicted",
            ),
            (
                json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                    "reason": "SchedulingGated"}]}),
                "SchedulingGated",
            ),
        ];
        for (status, want) in cases {
            assert_eq!(summary(status.clone()).display_status(), want, "{status}");
        }
    }

    #[test]
    fn display_status_with_init_containers() {
        let init = |states: Value| {
            let mut s = json!({"phase": "Pending", "containerStatuses": [{"name": "web", "ready": false,
                "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}]});
            s["initContainerStatuses"] = states;
            summary(s).display_status()
        };
        let waiting_init = json!({"name": "b", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "PodInitializing"}}});
        let done = json!({"name": "a", "ready": true, "restartCount": 0, "state": {"terminated": {"exitCode": 0,
            "reason": "Completed"}}});
        let running = json!({"name": "a", "ready": false, "restartCount": 0,
            "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}}});
        assert_eq!(init(json!([running, waiting_init])), "Init:0/2");
        assert_eq!(init(json!([done, running])), "Init:1/2");
        assert_eq!(
            init(json!([done, {"name": "b", "ready": false, "restartCount": 2,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}}])),
            "Init:CrashLoopBackOff"
        );
        assert_eq!(
            init(json!([{"name": "a", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 1,
                    "reason": "Error"}}}, waiting_init])),
            "Init:Error"
        );
        assert_eq!(
            init(json!([{"name": "a", "ready": false, "restartCount": 0,
                    "state": {"terminated": {"exitCode": 7}}}, waiting_init])),
            "Init:ExitCode:7"
        );
        // All init containers done: the app container's state shows.
        assert_eq!(init(json!([done])), "PodInitializing");
    }

    #[test]
    fn display_status_completed_with_running_container_is_running_or_not_ready() {
        let two = |ready_cond: &str| {
            summary(json!({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": ready_cond}],
                "containerStatuses": [
                    {"name": "a", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0,
                        "reason": "Completed"}}},
                    {"name": "b", "ready": true, "restartCount": 0, "state": {"running": {}}}
                ]
            }))
            .display_status()
        };
        assert_eq!(two("True"), "Running");
        assert_eq!(two("False"), "NotReady");
    }

    #[test]
    fn display_status_node_lost_and_terminal_deleting() {
        let mut p = summary(json!({"phase": "Running", "reason": "NodeLost"}));
        p.deleting = true;
        assert_eq!(p.display_status(), "Unknown");
        let mut p = summary(json!({"phase": "Succeeded", "containerStatuses": [{"name": "job", "ready": false,
            "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}));
        p.deleting = true;
        assert_eq!(p.display_status(), "Completed");
    }

    #[test]
    fn pod_readiness_parse() {
        assert_eq!(PodReadiness::parse(""), Some(PodReadiness::Wait));
        assert_eq!(PodReadiness::parse("wait"), Some(PodReadiness::Wait));
        assert_eq!(PodReadiness::parse("ignore"), Some(PodReadiness::Ignore));
        assert_eq!(PodReadiness::parse("succeeded"), Some(PodReadiness::Succeeded));
        assert_eq!(PodReadiness::parse("Wait"), None);
    }

    #[test]
    fn newest_pod_skips_deleting_and_breaks_ties_by_name() {
        let mk = |name: &str, created: &str| PodSummary::from_json(&pod(name, created, running_ready()));
        let old = mk("web-a", "2024-05-01T10:00:00Z");
        let new = mk("web-b", "2024-05-01T10:01:00Z");
        let mut newer_deleting = mk("web-c", "2024-05-01T10:02:00Z");
        newer_deleting.deleting = true;
        let pods = vec![new.clone(), old.clone(), newer_deleting];
        assert_eq!(newest_pod(&pods).unwrap().name, "web-b");
        let tie = vec![mk("web-z", "2024-05-01T10:00:00Z"), mk("web-y", "2024-05-01T10:00:00Z")];
        assert_eq!(newest_pod(&tie).unwrap().name, "web-z");
        let mut no_time = old.clone();
        no_time.created_at = None;
        no_time.name = "zzz".into();
        assert_eq!(newest_pod(&[no_time, old]).unwrap().name, "web-a");
        assert_eq!(newest_pod(&[]), None);
    }

    fn status_of(mode: PodReadiness, status: Value) -> K8sRuntimeStatus {
        runtime_status(mode, true, false, &[summary(status)]).0
    }

    #[test]
    fn runtime_status_before_deploy_and_without_pods() {
        let pods = [summary(running_ready())];
        let (s, p) = runtime_status(PodReadiness::Wait, false, false, &pods);
        assert_eq!(s, K8sRuntimeStatus::Pending { reason: "waiting-for-deploy".into() });
        assert!(p.is_none());
        let (s, p) = runtime_status(PodReadiness::Wait, true, false, &[]);
        assert_eq!(s, K8sRuntimeStatus::Pending { reason: "waiting-for-pod".into() });
        assert!(p.is_none());
        let mut deleting = summary(running_ready());
        deleting.deleting = true;
        let (s, _) = runtime_status(PodReadiness::Wait, true, false, &[deleting]);
        assert_eq!(s, K8sRuntimeStatus::Pending { reason: "waiting-for-pod".into() });
    }

    #[test]
    fn runtime_status_ignore_and_job_complete() {
        let crashing = [summary(image_pull_backoff())];
        assert_eq!(runtime_status(PodReadiness::Ignore, true, false, &[]).0, K8sRuntimeStatus::Ok { succeeded: false });
        assert_eq!(
            runtime_status(PodReadiness::Ignore, true, false, &crashing).0,
            K8sRuntimeStatus::Ok { succeeded: false }
        );
        assert_eq!(
            runtime_status(PodReadiness::Succeeded, true, true, &[]).0,
            K8sRuntimeStatus::Ok { succeeded: true }
        );
    }

    #[test]
    fn runtime_status_running_pods() {
        assert_eq!(status_of(PodReadiness::Wait, running_ready()), K8sRuntimeStatus::Ok { succeeded: false });
        // A Job's running pod is not done.
        assert_eq!(
            status_of(PodReadiness::Succeeded, running_ready()),
            K8sRuntimeStatus::Pending { reason: "Running".into() }
        );
        // Crash-looping app container in a Running pod is only "not ready" (Tilt's rule).
        assert_eq!(
            status_of(PodReadiness::Wait, crash_loop_running_phase()),
            K8sRuntimeStatus::Pending { reason: "CrashLoopBackOff".into() }
        );
        // Running without container statuses is not ready.
        assert_eq!(
            status_of(PodReadiness::Wait, json!({"phase": "Running"})),
            K8sRuntimeStatus::Pending { reason: "Running".into() }
        );
    }

    #[test]
    fn runtime_status_terminal_phases() {
        let done = json!({"phase": "Succeeded", "containerStatuses": [{"name": "job", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]});
        assert_eq!(status_of(PodReadiness::Succeeded, done.clone()), K8sRuntimeStatus::Ok { succeeded: true });
        assert_eq!(status_of(PodReadiness::Wait, done), K8sRuntimeStatus::Ok { succeeded: true });
        let failed = json!({"phase": "Failed", "containerStatuses": [{"name": "job", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]});
        assert_eq!(
            status_of(PodReadiness::Succeeded, failed),
            K8sRuntimeStatus::Error {
                message: "Pod \"web-7d9f8b6c5-abcde\" failed: container job (exit code 1: Error)".into()
            }
        );
        let evicted =
            json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."});
        assert_eq!(
            status_of(PodReadiness::Wait, evicted),
            K8sRuntimeStatus::Error { message: "The node was low on resource: memory.; Evicted".into() }
        );
    }

    #[test]
    fn runtime_status_container_errors_in_pending_pods() {
        assert_eq!(
            status_of(PodReadiness::Wait, image_pull_backoff()),
            K8sRuntimeStatus::Error {
                message: "Pod web-7d9f8b6c5-abcde in error state due to container web: ImagePullBackOff \
                          (Back-off pulling image \"nope:latest\")"
                    .into()
            }
        );
        let init_failed = json!({
            "phase": "Pending",
            "initContainerStatuses": [{"name": "migrate", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 3, "reason": "Error", "message": "db down\n"}}}],
            "containerStatuses": [{"name": "web", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}]
        });
        assert_eq!(
            status_of(PodReadiness::Wait, init_failed),
            K8sRuntimeStatus::Error {
                message: "Pod web-7d9f8b6c5-abcde in error state due to container migrate: Init:Error \
                          (exit code 3: Error: db down)"
                    .into()
            }
        );
        // stilt additions.
        let config_err = json!({"phase": "Pending", "containerStatuses": [{"name": "web", "ready": false,
            "restartCount": 0,
            "state": {"waiting": {"reason": "CreateContainerConfigError",
                "message": "configmap \"cfg\" not found"}}}]});
        assert_eq!(
            status_of(PodReadiness::Wait, config_err),
            K8sRuntimeStatus::Error {
                message: "Pod web-7d9f8b6c5-abcde in error state due to container web: CreateContainerConfigError \
                          (configmap \"cfg\" not found)"
                    .into()
            }
        );
        // Waiting without an error reason is pending with kubectl's status.
        let creating = json!({"phase": "Pending", "containerStatuses": [{"name": "web", "ready": false,
            "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}}]});
        assert_eq!(
            status_of(PodReadiness::Wait, creating),
            K8sRuntimeStatus::Pending { reason: "ContainerCreating".into() }
        );
        // No detail when the waiting message is empty.
        let pull = json!({"phase": "Pending", "containerStatuses": [{"name": "web", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ErrImagePull"}}}]});
        assert_eq!(
            status_of(PodReadiness::Wait, pull),
            K8sRuntimeStatus::Error {
                message: "Pod web-7d9f8b6c5-abcde in error state due to container web: ErrImagePull".into()
            }
        );
    }

    #[test]
    fn runtime_status_uses_only_newest_pod() {
        let old_bad = PodSummary::from_json(&pod("web-a", "2024-05-01T10:00:00Z", image_pull_backoff()));
        let new_ok = PodSummary::from_json(&pod("web-b", "2024-05-01T10:01:00Z", running_ready()));
        let pods = [old_bad, new_ok];
        let (s, p) = runtime_status(PodReadiness::Wait, true, false, &pods);
        assert_eq!(s, K8sRuntimeStatus::Ok { succeeded: false });
        assert_eq!(p.unwrap().name, "web-b");
    }

    #[test]
    fn pod_summary_round_trips_through_serde() {
        let p = summary(crash_loop_running_phase());
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["createdAt"], "2024-05-01T10:00:00.000000Z");
        assert_eq!(v["containers"][0]["state"]["type"], "waiting");
        let back: PodSummary = serde_json::from_value(v).unwrap();
        assert_eq!(back, p);
    }
}
