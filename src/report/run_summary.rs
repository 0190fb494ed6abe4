//! One verdict per target, derived from the final session and the run's outcome. JUnit, the
//! JSON report and CI summaries all render this, so they never disagree about what passed.

use crate::event::Outcome;
use crate::exec::image_build::ImageBuildRecord;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use stilt_core::k8s_pod::PodSummary;
use stilt_core::{FailureClass, Manifest, Session, SourceLocation, TargetState, TargetType};

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
    /// Never ran, or was cut short by another target's failure.
    Skipped {
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
            let outcome = classify(t, outcome);
            let declared_at = if t.name == "tiltfile:update" {
                tiltfile_error_at.cloned()
            } else {
                declared.get(resource.as_str()).map(|l| (*l).clone())
            };
            let images = if t.name.ends_with(":update") {
                images.get(&resource).cloned().unwrap_or_default()
            } else {
                Vec::new()
            };
            let pods = if t.name.ends_with(":runtime") {
                pods.get(&resource).map(|ps| ps.iter().map(PodReport::of).collect()).unwrap_or_default()
            } else {
                Vec::new()
            };
            TargetSummary {
                images,
                pods,
                name: t.name.clone(),
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

fn classify(t: &stilt_core::Target, outcome: &Outcome) -> TargetOutcome {
    let failure = outcome.failure.as_ref();
    let is_culprit = failure.and_then(|f| f.target.as_deref()) == Some(t.name.as_str());
    let unfinished = |what: String| match failure {
        Some(f) if f.class == FailureClass::GlobalTimeout => TargetOutcome::Failed {
            class: FailureClass::GlobalTimeout,
            message: format!("{} {what} when the run timed out ({})", t.name, f.message),
        },
        Some(f) if is_culprit => TargetOutcome::Failed { class: f.class, message: f.message.clone() },
        Some(f) if matches!(f.class, FailureClass::Interrupted | FailureClass::Terminated) => {
            TargetOutcome::Skipped { reason: format!("aborted: {}", f.message) }
        }
        Some(f) => TargetOutcome::Skipped {
            reason: match &f.target {
                Some(other) => format!("aborted: run failed on {other}"),
                None => format!("aborted: {}", f.message),
            },
        },
        None => TargetOutcome::Passed,
    };
    match &t.state {
        Some(TargetState::Terminated { error, .. }) if !error.is_empty() => TargetOutcome::Failed {
            class: if is_culprit {
                failure.map_or(FailureClass::of_target(&t.name), |f| f.class)
            } else {
                FailureClass::of_target(&t.name)
            },
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
