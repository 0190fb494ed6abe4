//! Builds the [`Session`] snapshot from [`EngineState`] (Tilt's `session/conv.go`).
//!
//! Pure: the same state and holds give the same targets. The dispatcher calls it after every
//! change, hands the result to the verdict, the status API and the reporters.

use super::container_health::ContainerHealth;
use super::engine_state::{EngineState, ResourceState, RuntimePhase, ServePhase, TiltfilePhase, UpdatePhase};
use super::scheduler::Schedule;
use chrono::{DateTime, Utc};
use stilt_core::k8s_pod::{K8sRuntimeStatus, PodReadiness, WAITING_FOR_DEPLOY, newest_pod, runtime_status};
use stilt_core::session::{SESSION_NAME, SessionMetadata, SessionSpec, SessionStatus};
use stilt_core::{CiSettings, GraceStatus, Readiness, ResourceTarget, Session, Target, TargetState, TargetType};

/// Identity of the Session object across snapshots.
#[derive(Debug, Clone)]
pub struct SessionIdentity {
    /// Random per run.
    pub uid: String,
}

/// The targets of the current state at `now` (grace periods depend on it), sorted by name.
pub fn build_targets(state: &EngineState, schedule: &Schedule, now: DateTime<Utc>) -> Vec<Target> {
    let mut targets = vec![tiltfile_target(&state.tiltfile)];
    for (i, r) in state.resources.iter().enumerate() {
        let name = &r.manifest.name;
        let pending_reason =
            || schedule.holds.get(&i).map_or_else(|| "unknown".to_string(), |h| h.as_str().to_string());
        let wants_start = r.manifest.auto_init;
        let local = r.manifest.local();
        if local.is_none_or(|l| l.update_cmd.is_some()) {
            targets.push(resource_target(name, "update", TargetType::Job, r.enabled, || match &r.update {
                UpdatePhase::NotStarted if wants_start => Some(TargetState::Waiting { wait_reason: pending_reason() }),
                UpdatePhase::NotStarted => None,
                UpdatePhase::Running { start } => Some(TargetState::Active {
                    start_time: Some(*start),
                    ready: Readiness::NotReady,
                    last_ready_time: None,
                }),
                UpdatePhase::Done { start, finish, error } => Some(TargetState::Terminated {
                    start_time: Some(*start),
                    finish_time: Some(*finish),
                    error: error.clone().unwrap_or_default(),
                    grace_status: GraceStatus::None,
                }),
            }));
        }
        if local.is_some_and(|l| l.serve_cmd.is_some()) {
            targets.push(resource_target(name, "serve", TargetType::Server, r.enabled, || match &r.serve {
                ServePhase::Exited { start, finish, error } => Some(TargetState::Terminated {
                    start_time: Some(*start),
                    finish_time: Some(*finish),
                    error: error.clone(),
                    grace_status: GraceStatus::None,
                }),
                ServePhase::Running { start, ready, last_ready, .. } => Some(TargetState::Active {
                    start_time: Some(*start),
                    ready: Readiness::from_bool(*ready),
                    last_ready_time: *last_ready,
                }),
                ServePhase::NotStarted if wants_start || r.update != UpdatePhase::NotStarted => {
                    Some(TargetState::Waiting { wait_reason: pending_reason() })
                }
                ServePhase::NotStarted => None,
            }));
        }
        if matches!(r.manifest.target, ResourceTarget::DockerCompose(_)) {
            targets.push(resource_target(name, "runtime", TargetType::Server, r.enabled, || {
                container_state(r, wants_start, pending_reason)
            }));
        }
        if let ResourceTarget::K8s(t) = &r.manifest.target {
            let mode = t.readiness();
            // Tilt drops the runtime target of a pod_readiness='ignore' resource that was
            // deployed and has no pods.
            let omitted = mode == PodReadiness::Ignore
                && r.enabled
                && matches!(&r.runtime, RuntimePhase::K8s { pods, .. } if newest_pod(pods).is_none());
            if !omitted {
                let target_type = if mode == PodReadiness::Succeeded { TargetType::Job } else { TargetType::Server };
                targets.push(resource_target(name, "runtime", target_type, r.enabled, || {
                    k8s_runtime_state(r, mode, &state.ci, now, wants_start, pending_reason)
                }));
            }
        }
    }
    targets.sort_by(|a, b| a.name.cmp(&b.name));
    targets
}

/// Resource `name`'s target `<name>:<suffix>`: `Disabled` unless the resource is enabled,
/// else the state `enabled_state` gives.
fn resource_target(
    name: &str,
    suffix: &str,
    target_type: TargetType,
    enabled: bool,
    enabled_state: impl FnOnce() -> Option<TargetState>,
) -> Target {
    Target {
        name: format!("{name}:{suffix}"),
        target_type,
        resources: vec![name.to_string()],
        state: if enabled { enabled_state() } else { Some(TargetState::Disabled {}) },
    }
}

/// The `<name>:runtime` state of a docker-compose resource.
fn container_state(r: &ResourceState, wants_start: bool, pending_reason: impl Fn() -> String) -> Option<TargetState> {
    match &r.runtime {
        RuntimePhase::Container { start, health, changed, last_ready, .. } => Some(match health {
            ContainerHealth::Failed(error) => TargetState::Terminated {
                start_time: Some(*start),
                finish_time: Some(*changed),
                error: error.clone(),
                grace_status: GraceStatus::None,
            },
            ContainerHealth::Pending(reason) => TargetState::Waiting { wait_reason: reason.clone() },
            // A ready container settles before the run may succeed (the verdict's rule).
            ContainerHealth::Starting | ContainerHealth::Ready => TargetState::Active {
                start_time: Some(*start),
                ready: if *health == ContainerHealth::Ready { Readiness::Settling } else { Readiness::NotReady },
                last_ready_time: *last_ready,
            },
        }),
        RuntimePhase::NotStarted | RuntimePhase::K8s { .. } => not_deployed_state(r, wants_start, pending_reason),
    }
}

/// A runtime target before its deploy: held (or absent if it never starts on its own) until
/// the update starts, then waiting for the deploy.
fn not_deployed_state(
    r: &ResourceState,
    wants_start: bool,
    pending_reason: impl Fn() -> String,
) -> Option<TargetState> {
    match r.update {
        UpdatePhase::NotStarted if !wants_start => None,
        UpdatePhase::NotStarted => Some(TargetState::Waiting { wait_reason: pending_reason() }),
        _ => Some(TargetState::Waiting { wait_reason: WAITING_FOR_DEPLOY.into() }),
    }
}

/// The `<name>:runtime` state of a Kubernetes resource (Tilt's `conv.go` for k8s runtime
/// targets); the outer `None` drops the target.
fn k8s_runtime_state(
    r: &ResourceState,
    mode: PodReadiness,
    ci: &CiSettings,
    now: DateTime<Utc>,
    wants_start: bool,
    pending_reason: impl Fn() -> String,
) -> Option<TargetState> {
    let RuntimePhase::K8s { deployed_at, job_complete, pods, changed, last_ready, .. } = &r.runtime else {
        return not_deployed_state(r, wants_start, pending_reason);
    };
    let (status, pod) = runtime_status(mode, true, *job_complete, pods);
    Some(match status {
        K8sRuntimeStatus::Ok { succeeded: true } => TargetState::Terminated {
            start_time: Some(*deployed_at),
            finish_time: None,
            error: String::new(),
            grace_status: GraceStatus::None,
        },
        K8sRuntimeStatus::Ok { succeeded: false } => TargetState::Active {
            start_time: Some(*deployed_at),
            ready: Readiness::Ready,
            last_ready_time: *last_ready,
        },
        K8sRuntimeStatus::Error { message } => TargetState::Terminated {
            start_time: Some(*deployed_at),
            finish_time: Some(*changed),
            error: message,
            grace_status: stilt_core::verdict::grace_status(ci, *deployed_at, now),
        },
        K8sRuntimeStatus::Pending { .. } if pod.is_some_and(|p| p.phase == "Running") => TargetState::Active {
            start_time: Some(*deployed_at),
            ready: Readiness::NotReady,
            last_ready_time: *last_ready,
        },
        K8sRuntimeStatus::Pending { reason } => TargetState::Waiting { wait_reason: reason },
    })
}

fn tiltfile_target(phase: &TiltfilePhase) -> Target {
    let state = match phase {
        TiltfilePhase::Loading { start } => {
            TargetState::Active { start_time: Some(*start), ready: Readiness::NotReady, last_ready_time: None }
        }
        TiltfilePhase::Loaded { start, finish } => TargetState::Terminated {
            start_time: Some(*start),
            finish_time: Some(*finish),
            error: String::new(),
            grace_status: GraceStatus::None,
        },
        TiltfilePhase::Failed { start, finish, error } => TargetState::Terminated {
            start_time: Some(*start),
            finish_time: Some(*finish),
            error: error.to_string(),
            grace_status: GraceStatus::None,
        },
    };
    Target {
        name: stilt_core::TILTFILE_TARGET.into(),
        target_type: TargetType::Job,
        resources: vec!["(Tiltfile)".into()],
        state: Some(state),
    }
}

/// The whole Session object.
pub fn build_session(
    state: &EngineState,
    targets: Vec<Target>,
    identity: &SessionIdentity,
    resource_version: u64,
    done: bool,
    error: String,
) -> Session {
    Session {
        metadata: SessionMetadata {
            name: SESSION_NAME.into(),
            creation_timestamp: Some(state.start_time),
            uid: identity.uid.clone(),
            resource_version: resource_version.to_string(),
        },
        spec: SessionSpec {
            tiltfile_path: state.tiltfile_path.display().to_string(),
            exit_condition: "ci".into(),
            ci: state.ci.clone(),
        },
        status: SessionStatus { pid: i64::from(state.pid), start_time: Some(state.start_time), targets, done, error },
    }
}
