//! What `stilt down` does to a resource's objects: delete them, last applied first, without
//! waiting for them to go (as `tilt down`); objects already gone are not an error.

use crate::Cluster;
use crate::apply::describe;
use crate::error::K8sError;
use kube::api::{DeleteParams, GroupVersionKind, PropagationPolicy};
use serde_json::Value;
use std::time::Duration;
use tokio::time::timeout;

impl Cluster {
    /// Deletes `objects` (last first), ignoring ones that are already gone; no waiting.
    /// Returns the display names of what was deleted.
    pub async fn delete(&self, objects: &[Value], per_object: Duration) -> Result<Vec<String>, Vec<K8sError>> {
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for obj in objects.iter().rev() {
            match timeout(per_object, self.delete_one(obj)).await {
                Ok(Ok(Some(d))) => deleted.push(d),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => errors.push(e),
                Err(_) => errors.push(K8sError::Object {
                    action: "delete",
                    object: obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string(),
                    message: format!("no answer within {}s", per_object.as_secs()),
                }),
            }
        }
        if errors.is_empty() { Ok(deleted) } else { Err(errors) }
    }

    async fn delete_one(&self, obj: &Value) -> Result<Option<String>, K8sError> {
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        let what = describe(kind, ns, name);
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (api, _) = match self.api_for(&gvk, ns, &what).await {
            Ok(found) => found,
            // The kind is gone (its CRD was deleted first): so are its objects.
            Err(e) if e.is_about_object() => return Ok(None),
            Err(e) => return Err(e),
        };
        let dp = DeleteParams { propagation_policy: Some(PropagationPolicy::Background), ..DeleteParams::default() };
        match api.delete(name, &dp).await {
            Ok(_) => Ok(Some(stilt_core::k8s_objects::object_display_name(obj))),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(e) => Err(self.object_error("delete", &what, e)),
        }
    }
}
