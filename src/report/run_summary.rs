//! One verdict per target, derived from the final session and the run's outcome. JUnit, the
//! JSON report and CI summaries all render this, so they never disagree about what passed.

use crate::event::Outcome;
use crate::exec::image_build::ImageBuildRecord;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use stilt_core::k8s_pod::PodSummary;
use stilt_core::{FailureClass, Manifest, Session, SourceLocation, TargetId, TargetKind, TargetState, TargetType};

/// How one target ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum TargetOutcome {
    /// Finished, or ready.
    Passed,
    /// Failed, or was still not done when the run timed out.
    Failed {
        /// Failure class.
        class: FailureClass,
        /// One-paragraph reason.
        message: String,
    },
    /// Never ran (not started, disabled, still waiting when the run ended).
    Skipped {
        /// Why.
        reason: String,
    },
    /// Started, then cut short by another target's failure or a signal: it ran, so it is not
    /// `skipped` (JUnit readers count skipped as "not executed"), and it did not fail itself.
    Aborted {
        /// Why.
        reason: String,
    },
}

/// One target's summary.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetSummary {
    /// Target name (`api:update`).
    pub name: String,
    /// What the target is (`None` for a name that is no target's).
    #[serde(skip)]
    pub id: Option<TargetId>,
    /// Resource name (`(Tiltfile)` for the Tiltfile).
    pub resource: String,
    /// `job` or `server`.
    #[serde(rename = "type")]
    pub target_type: TargetType,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: TargetOutcome,
    /// When it started.
    #[serde(skip)]
    pub start: Option<DateTime<Utc>>,
    /// Seconds from start to finish (jobs) or to first ready (servers).
    pub duration_seconds: f64,
    /// Where the resource was declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_at: Option<SourceLocation>,
    /// Images the update built (`<resource>:update` targets only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageBuildRecord>,
    /// The pods of a Kubernetes resource as last seen (`<resource>:runtime` targets only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<PodReport>,
}

impl TargetSummary {
    /// The resource whose log this target's log is: `None` for the Tiltfile's load (the global
    /// log).
    pub fn log_resource(&self) -> Option<&str> {
        if self.id.as_ref().is_some_and(TargetId::is_tiltfile) { None } else { Some(&self.resource) }
    }
}

/// One pod in the reports: what `kubectl get pods` would show, plus why it is not ready.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodReport {
    /// Pod name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// kubectl's STATUS column (`Running`, `CrashLoopBackOff`, `Completed`, …).
    pub status: String,
    /// Ready containers / containers, as kubectl's READY column (`1/1`).
    pub ready: String,
    /// Restarts, summed over the containers.
    pub restarts: i32,
    /// The scheduler's reason when the pod cannot be placed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub unschedulable: String,
}

impl PodReport {
    /// The report of one pod.
    pub fn of(p: &PodSummary) -> PodReport {
        PodReport {
            name: p.name.clone(),
            namespace: p.namespace.clone(),
            status: p.display_status(),
            ready: format!("{}/{}", p.containers.iter().filter(|c| c.ready).count(), p.containers.len()),
            restarts: p.containers.iter().map(|c| c.restarts).sum(),
            unschedulable: p.unschedulable.clone(),
        }
    }

    /// One line for JUnit's system-out.
    pub fn line(&self) -> String {
        let mut l = format!(
            "Pod {}/{}: {} (ready {}, {} restarts)",
            self.namespace, self.name, self.status, self.ready, self.restarts
        );
        if !self.unschedulable.is_empty() {
            l.push_str(&format!(": {}", self.unschedulable));
        }
        l
    }
}

/// Summaries of every target, in session (name) order. `images` are the images built and
/// `pods` the pods last seen, by resource name.
pub fn summarize(
    session: &Session,
    outcome: &Outcome,
    manifests: &[Manifest],
    tiltfile_error_at: Option<&SourceLocation>,
    images: &BTreeMap<String, Vec<ImageBuildRecord>>,
    pods: &BTreeMap<String, Vec<PodSummary>>,
    now: DateTime<Utc>,
) -> Vec<TargetSummary> {
    let declared: BTreeMap<&str, &SourceLocation> =
        manifests.iter().filter_map(|m| m.declared_at.as_ref().map(|l| (m.name.as_str(), l))).collect();
    session
        .status
        .targets
        .iter()
        .map(|t| {
            let resource = t.resources.first().cloned().unwrap_or_default();
            let (start, end) = match &t.state {
                Some(TargetState::Terminated { start_time, finish_time, .. }) => (*start_time, *finish_time),
                Some(TargetState::Active { start_time, ready, last_ready_time }) if ready.is_ready() => {
                    (*start_time, last_ready_time.or(Some(now)))
                }
                Some(TargetState::Active { start_time, .. }) => (*start_time, Some(now)),
                _ => (None, None),
            };
            let duration_seconds = match (start, end) {
                (Some(s), Some(e)) => (e - s).to_std().map_or(0.0, |d| d.as_secs_f64()),
                _ => 0.0,
            };
            let id = TargetId::parse(&t.name);
            let kind = id.as_ref().map(|id| id.kind);
            let outcome = classify(t, id.as_ref(), outcome);
            let declared_at = if id.as_ref().is_some_and(TargetId::is_tiltfile) {
                tiltfile_error_at.cloned()
            } else {
                declared.get(resource.as_str()).map(|l| (*l).clone())
            };
            let images = if kind == Some(TargetKind::Update) {
                images.get(&resource).cloned().unwrap_or_default()
            } else {
                Vec::new()
            };
            let pods = if kind == Some(TargetKind::Runtime) {
                pods.get(&resource).map(|ps| ps.iter().map(PodReport::of).collect()).unwrap_or_default()
            } else {
                Vec::new()
            };
            TargetSummary {
                images,
                pods,
                name: t.name.clone(),
                id,
                resource,
                target_type: t.target_type,
                outcome,
                start,
                duration_seconds,
                declared_at,
            }
        })
        .collect()
}

fn classify(t: &stilt_core::Target, id: Option<&TargetId>, outcome: &Outcome) -> TargetOutcome {
    let failure = outcome.failure.as_ref();
    let own_class = id.map_or(FailureClass::RuntimeError, TargetId::failure_class);
    let is_culprit = failure.and_then(|f| f.target.as_deref()) == Some(t.name.as_str());
    let started = matches!(t.state, Some(TargetState::Active { .. }));
    let unfinished = |what: String| match failure {
        Some(f) if f.class == FailureClass::GlobalTimeout => TargetOutcome::Failed {
            class: FailureClass::GlobalTimeout,
            message: format!("{} {what} when the run timed out ({})", t.name, f.message),
        },
        Some(f) if is_culprit => TargetOutcome::Failed { class: f.class, message: f.message.clone() },
        Some(f) => {
            let reason = match &f.target {
                Some(other) if !matches!(f.class, FailureClass::Interrupted | FailureClass::Terminated) => {
                    format!("aborted: run failed on {other}")
                }
                _ => format!("aborted: {}", f.message),
            };
            if started {
                TargetOutcome::Aborted { reason: format!("{reason} ({} {what} and was stopped)", t.name) }
            } else {
                TargetOutcome::Skipped { reason }
            }
        }
        None => TargetOutcome::Passed,
    };
    match &t.state {
        Some(TargetState::Terminated { error, .. }) if !error.is_empty() => TargetOutcome::Failed {
            class: if is_culprit { failure.map_or(own_class, |f| f.class) } else { own_class },
            message: if is_culprit {
                failure.map_or_else(|| error.clone(), |f| f.message.clone())
            } else {
                error.clone()
            },
        },
        Some(TargetState::Terminated { .. }) => TargetOutcome::Passed,
        Some(TargetState::Active { ready, .. }) if ready.is_ready() => TargetOutcome::Passed,
        Some(TargetState::Active { .. }) => unfinished(if t.target_type == TargetType::Job {
            "was still running".into()
        } else {
            "was not ready".into()
        }),
        Some(TargetState::Waiting { wait_reason }) => unfinished(format!("was still waiting ({wait_reason})")),
        Some(TargetState::Disabled {}) => {
            TargetOutcome::Skipped { reason: "disabled: not selected for this run".into() }
        }
        None => TargetOutcome::Skipped { reason: "not started in ci (auto_init=False)".into() },
    }
}
