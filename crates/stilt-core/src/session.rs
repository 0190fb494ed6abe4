//! The Session object: the live status of a ci run, exactly as `tilt get session -o json`
//! prints it (Tilt's `pkg/apis/core/v1alpha1/session_types.go`).
//!
//! The engine rebuilds a [`Session`] on every state change; the verdict reads it, the status
//! API serves it and the JSON report embeds it. Per-target state is a Rust enum rather than
//! Tilt's "one of four nullable pointers", but it serialises to the same JSON.

use crate::manifest::CiSettings;
use crate::micro_time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Name of the one Session object.
pub const SESSION_NAME: &str = "Tiltfile";

/// `apiVersion` of Tilt's API objects.
pub const API_VERSION: &str = "tilt.dev/v1alpha1";

/// The Session API object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Object metadata.
    pub metadata: SessionMetadata,
    /// Spec.
    pub spec: SessionSpec,
    /// Status.
    pub status: SessionStatus,
}

/// The parts of `metav1.ObjectMeta` Tilt fills for the Session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionMetadata {
    /// Always `Tiltfile`.
    pub name: String,
    /// Creation time (whole seconds).
    #[serde(with = "micro_time::option")]
    pub creation_timestamp: Option<DateTime<Utc>>,
    /// Random per run.
    pub uid: String,
    /// Bumped on every status change.
    pub resource_version: String,
}

/// `spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSpec {
    /// Absolute Tiltfile path.
    pub tiltfile_path: String,
    /// Always `ci` for stilt.
    pub exit_condition: String,
    /// Effective ci settings (`spec.ci`).
    pub ci: CiSettings,
}

/// `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    /// PID of the stilt process.
    pub pid: i64,
    /// Process start time; the global timeout counts from here.
    #[serde(with = "micro_time::option")]
    pub start_time: Option<DateTime<Utc>>,
    /// Targets sorted by name.
    pub targets: Vec<Target>,
    /// The run is over.
    pub done: bool,
    /// Why it failed (only when done with failure).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// `job` targets finish; `server` targets stay up and must become ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetType {
    /// Runs to completion (`:update`, Job runtimes, `tiltfile:update`).
    Job,
    /// Long-running (`:serve`, `:runtime`).
    Server,
}

/// One unit of work the verdict looks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// `<resource>:update`, `<resource>:serve`, `<resource>:runtime` or `tiltfile:update`.
    pub name: String,
    /// Job or server.
    #[serde(rename = "type")]
    pub target_type: TargetType,
    /// Owning resources (`(Tiltfile)` for the Tiltfile target).
    pub resources: Vec<String>,
    /// Current state; `None` serialises as `{}` (inactive).
    #[serde(with = "state_json")]
    pub state: Option<TargetState>,
}

/// Exactly one of Tilt's four target states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum TargetState {
    /// Not started; `wait_reason` is a hold reason or status.
    Waiting {
        /// Why it waits (`waiting-for-dep`, `waiting-for-local`, …).
        wait_reason: String,
    },
    /// Running.
    Active {
        /// When it started.
        #[serde(with = "micro_time::option")]
        start_time: Option<DateTime<Utc>>,
        /// Ready now (Tilt's `ready: bool`).
        #[serde(with = "readiness_json")]
        ready: Readiness,
        /// Last time it was ready.
        #[serde(with = "micro_time::option")]
        last_ready_time: Option<DateTime<Utc>>,
    },
    /// Finished (successfully when `error` is empty).
    Terminated {
        /// When it started.
        #[serde(with = "micro_time::option")]
        start_time: Option<DateTime<Utc>>,
        /// When it finished.
        #[serde(with = "micro_time::option")]
        finish_time: Option<DateTime<Utc>>,
        /// Failure text; empty on success.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        error: String,
        /// Where a failure stands in `k8s_grace_period` (Tilt's `graceStatus` string).
        #[serde(default, skip_serializing_if = "GraceStatus::is_none")]
        grace_status: GraceStatus,
    },
    /// Not enabled in this run.
    Disabled {},
}

/// Where a failed Kubernetes runtime target stands in `ci_settings(k8s_grace_period=)`; the
/// verdict decides it ([`grace_status`](crate::verdict::grace_status)) and reads it. In the
/// Session it is Tilt's `graceStatus` string, absent for [`GraceStatus::None`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraceStatus {
    /// No grace period applies (not a Kubernetes runtime, or no grace period set).
    #[default]
    #[serde(rename = "")]
    None,
    /// Failing within the grace period: retrying, the run goes on until it ends.
    Tolerated,
    /// Still failing after the grace period: the run fails.
    Exceeded,
}

impl GraceStatus {
    /// No grace period applies.
    pub fn is_none(&self) -> bool {
        *self == GraceStatus::None
    }
}

/// Whether an active target is ready. In the Session it is Tilt's `ready: bool`
/// ([`Readiness::Settling`] is `true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Not ready.
    NotReady,
    /// Ready.
    Ready,
    /// Ready, on probation: a docker-compose container that crashes right after it started is
    /// seen running first, so the run succeeds only once it has stayed ready for
    /// [`CONTAINER_STABLE`](crate::verdict::CONTAINER_STABLE) since `last_ready_time`. Counts as
    /// ready for everything else (readiness timeout, reports).
    Settling,
}

impl Readiness {
    /// Ready (settled or not), as Tilt's `ready` says.
    pub fn is_ready(self) -> bool {
        self != Readiness::NotReady
    }

    /// `Ready` or `NotReady`.
    pub fn from_bool(ready: bool) -> Self {
        if ready { Readiness::Ready } else { Readiness::NotReady }
    }
}

/// Serialises [`Readiness`] as Tilt's `ready: bool`.
mod readiness_json {
    use super::Readiness;
    use serde::{Deserialize, Deserializer, Serializer};

    #[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's `serialize_with` passes `&T`")]
    pub(super) fn serialize<S: Serializer>(v: &Readiness, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(v.is_ready())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Readiness, D::Error> {
        bool::deserialize(d).map(Readiness::from_bool)
    }
}

/// Serialises `Option<TargetState>` with `None` as `{}` (Tilt's empty `TargetState`).
mod state_json {
    use super::TargetState;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[expect(clippy::ref_option, reason = "serde's `serialize_with` passes `&Option<T>`")]
    pub(super) fn serialize<S: Serializer>(v: &Option<TargetState>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(state) => state.serialize(s),
            None => serde_json::Map::new().serialize(s),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TargetState>, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        if v.as_object().is_some_and(serde_json::Map::is_empty) {
            return Ok(None);
        }
        TargetState::deserialize(v).map(Some).map_err(serde::de::Error::custom)
    }
}

impl TargetState {
    /// Terminated with a non-empty error.
    pub fn is_failed(&self) -> bool {
        matches!(self, TargetState::Terminated { error, .. } if !error.is_empty())
    }
}

impl Session {
    /// The object as `tilt get session -o json` prints it: `apiVersion`, `kind`, owner reference
    /// and annotation added, keys sorted alphabetically.
    pub fn to_api_json(&self) -> Value {
        let mut v = serde_json::to_value(self).expect("Session always serialises");
        let obj = v.as_object_mut().expect("object");
        obj.insert("apiVersion".into(), Value::from(API_VERSION));
        obj.insert("kind".into(), Value::from("Session"));
        let meta = obj.get_mut("metadata").and_then(Value::as_object_mut).expect("metadata");
        meta.insert("annotations".into(), serde_json::json!({"tilt.dev/resource": "(Tiltfile)"}));
        meta.insert(
            "ownerReferences".into(),
            serde_json::json!([{
                "apiVersion": API_VERSION,
                "blockOwnerDeletion": true,
                "controller": true,
                "kind": "Tiltfile",
                "name": "(Tiltfile)",
                "uid": self.metadata.uid,
            }]),
        );
        if let Some(ts) = &self.metadata.creation_timestamp {
            meta.insert("creationTimestamp".into(), Value::from(micro_time::format_seconds(ts)));
        }
        sort_keys(v)
    }

    /// A `{"apiVersion":"v1","kind":"List","items":[…]}` wrapper, as `tilt get sessions` prints.
    pub fn list_json(&self) -> Value {
        sort_keys(serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": [self.to_api_json()],
            "metadata": {"resourceVersion": ""},
        }))
    }
}

/// Rebuilds every JSON object with its keys in byte order, whatever map type serde_json uses.
pub fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort_keys(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_states_serialise_like_tilt() {
        let t = |state| Target {
            name: "a:update".into(),
            target_type: TargetType::Job,
            resources: vec!["a".into()],
            state,
        };
        let start = "2026-08-08T19:20:00.512345Z".parse().unwrap();
        let j = |s| serde_json::to_value(t(s)).unwrap()["state"].clone();
        assert_eq!(j(None), serde_json::json!({}));
        assert_eq!(j(Some(TargetState::Disabled {})), serde_json::json!({"disabled": {}}));
        assert_eq!(
            j(Some(TargetState::Waiting { wait_reason: "waiting-for-dep".into() })),
            serde_json::json!({"waiting": {"waitReason": "waiting-for-dep"}})
        );
        assert_eq!(
            j(Some(TargetState::Active { start_time: Some(start), ready: Readiness::NotReady, last_ready_time: None })),
            serde_json::json!({"active": {"startTime": "2026-08-08T19:20:00.512345Z", "ready": false, "lastReadyTime": null}})
        );
        assert_eq!(
            j(Some(TargetState::Terminated {
                start_time: Some(start),
                finish_time: None,
                error: String::new(),
                grace_status: GraceStatus::None
            })),
            serde_json::json!({"terminated": {"startTime": "2026-08-08T19:20:00.512345Z", "finishTime": null}})
        );
        assert_eq!(
            j(Some(TargetState::Terminated {
                start_time: None,
                finish_time: None,
                error: "crash".into(),
                grace_status: GraceStatus::Tolerated
            })),
            serde_json::json!({"terminated": {"startTime": null, "finishTime": null, "error": "crash", "graceStatus": "Tolerated"}})
        );
        assert_eq!(
            j(Some(TargetState::Active { start_time: None, ready: Readiness::Settling, last_ready_time: None }))["active"]
                ["ready"],
            serde_json::json!(true)
        );
        let back: Target = serde_json::from_value(serde_json::to_value(t(None)).unwrap()).unwrap();
        assert_eq!(back.state, None);
        let exceeded = TargetState::Terminated {
            start_time: None,
            finish_time: None,
            error: "crash".into(),
            grace_status: GraceStatus::Exceeded,
        };
        let back: Target = serde_json::from_value(serde_json::to_value(t(Some(exceeded.clone()))).unwrap()).unwrap();
        assert_eq!(back.state, Some(exceeded));
    }
}
