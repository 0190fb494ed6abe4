//! Applying a resource's objects: server-side apply, one object after another in the order
//! given (the evaluator already sorted them by Tilt's kind priority, so namespaces and CRDs go
//! before what uses them).
//!
//! Tilt's default is kubectl's client-side three-way merge; stilt uses server-side apply
//! with field manager `tilt` and forced conflicts, which the apiserver merges itself (the
//! outcome for objects stilt owns is the same, without the last-applied annotation and its
//! size limit). When an update is refused because an immutable field changed — a Job's pod
//! template, a Service's clusterIP — the object is deleted and created again, as Tilt does:
//! that is how a changed Job runs again.

use crate::Cluster;
use crate::error::K8sError;
use kube::api::{DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PropagationPolicy};
use serde_json::Value;
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

/// Field manager for server-side apply (the name Tilt uses).
const FIELD_MANAGER: &str = "tilt";

/// How long a kind unknown to the apiserver is looked for again (a CRD applied just before).
const CRD_DISCOVERY_WAIT: Duration = Duration::from_secs(5);

/// How long a delete-and-recreate waits for the old object to go.
const RECREATE_WAIT: Duration = Duration::from_secs(30);

/// An object as the apiserver stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedObject {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// UID.
    pub uid: String,
    /// The object as returned by the apiserver.
    pub object: Value,
}

impl AppliedObject {
    /// Tilt's `name:kind` for the "Objects applied" list.
    pub fn display_name(&self) -> String {
        stilt_core::k8s_objects::display_name(&self.name, &self.kind)
    }

    /// Whether this is a Job whose `Complete` condition is true.
    pub fn is_complete_job(&self) -> bool {
        self.kind == "Job"
            && self.object.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.get("type").and_then(Value::as_str) == Some("Complete")
                        && c.get("status").and_then(Value::as_str) == Some("True")
                })
            })
    }
}

pub(crate) fn describe(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

fn is_immutable_refusal(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 422 && s.message.contains("immutable"))
}

impl Cluster {
    /// Applies `objects` in order, each within `per_object` (Tilt's `k8s_upsert_timeout_secs`).
    pub async fn apply(&self, objects: &[Value], per_object: Duration) -> Result<Vec<AppliedObject>, K8sError> {
        let mut out = Vec::with_capacity(objects.len());
        for obj in objects {
            let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
            let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
            let what = describe(&kind, obj.pointer("/metadata/namespace").and_then(Value::as_str), &name);
            let applied = timeout(per_object, self.apply_one(obj, &what)).await.map_err(|_| K8sError::Object {
                action: "apply",
                object: what.clone(),
                message: format!("no answer within {}s (k8s_upsert_timeout_secs)", per_object.as_secs()),
            })??;
            out.push(applied);
        }
        Ok(out)
    }

    async fn apply_one(&self, obj: &Value, what: &str) -> Result<AppliedObject, K8sError> {
        let dynamic: DynamicObject = serde_json::from_value(obj.clone()).map_err(|e| K8sError::Object {
            action: "apply",
            object: what.to_string(),
            message: format!("not a Kubernetes object: {e}"),
        })?;
        let types = dynamic.types.clone().ok_or_else(|| K8sError::Object {
            action: "apply",
            object: what.to_string(),
            message: "missing apiVersion or kind".into(),
        })?;
        let gvk = GroupVersionKind::try_from(&types).map_err(|e| K8sError::Object {
            action: "apply",
            object: what.to_string(),
            message: e.to_string(),
        })?;
        let name = dynamic.metadata.name.clone().unwrap_or_default();
        let ns = dynamic.metadata.namespace.clone();
        // A kind the apiserver does not serve yet may belong to a CRD applied a moment ago
        // (discovery lags its creation by about a second): ask again for a few seconds.
        let deadline = Instant::now() + CRD_DISCOVERY_WAIT;
        let (api, namespaced) = loop {
            match self.api_for(&gvk, ns.as_deref(), what).await {
                Ok(found) => break found,
                Err(e) if e.is_about_object() && Instant::now() < deadline => sleep(Duration::from_millis(250)).await,
                Err(e) => return Err(e),
            }
        };
        let what = if namespaced {
            describe(&gvk.kind, Some(ns.as_deref().unwrap_or(&self.namespace)), &name)
        } else {
            describe(&gvk.kind, None, &name)
        };
        let mut body = dynamic;
        if namespaced && body.metadata.namespace.is_none() {
            body.metadata.namespace = Some(self.namespace.clone());
        }
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let stored = match api.patch(&name, &params, &Patch::Apply(&body)).await {
            Ok(o) => o,
            Err(e) if is_immutable_refusal(&e) => {
                let dp =
                    DeleteParams { propagation_policy: Some(PropagationPolicy::Background), ..DeleteParams::default() };
                match api.delete(&name, &dp).await {
                    Ok(_) | Err(kube::Error::Api(_)) => {}
                    Err(e) => return Err(self.object_error("delete", &what, e)),
                }
                let deadline = Instant::now() + RECREATE_WAIT;
                loop {
                    match api.get_opt(&name).await {
                        Ok(None) => break,
                        Ok(Some(_)) if Instant::now() < deadline => sleep(Duration::from_millis(100)).await,
                        Ok(Some(_)) => {
                            return Err(K8sError::Object {
                                action: "replace",
                                object: what,
                                message: format!("the old object was not deleted within {}s", RECREATE_WAIT.as_secs()),
                            });
                        }
                        Err(e) => return Err(self.object_error("delete", &what, e)),
                    }
                }
                api.patch(&name, &params, &Patch::Apply(&body))
                    .await
                    .map_err(|e| self.object_error("apply", &what, e))?
            }
            Err(e) => return Err(self.object_error("apply", &what, e)),
        };
        let object = serde_json::to_value(&stored).unwrap_or(Value::Null);
        Ok(AppliedObject {
            api_version: types.api_version,
            kind: types.kind,
            name,
            namespace: stored.metadata.namespace.clone().unwrap_or_default(),
            uid: stored.metadata.uid.clone().unwrap_or_default(),
            object,
        })
    }
}
