//! Kubernetes objects as plain JSON values: parsing YAML the way Tilt does, the identity of an
//! object (name, kind, namespace, group), where images live in it, pod templates, Service
//! selectors and Tilt's apply order. Where the typed kinds keep their pod specs is
//! `stilt_core::k8s_objects` (the deploy step reads the same table); JSONPath is
//! `stilt_core::json_path`.

use serde_json::Value;
use std::collections::BTreeMap;
use stilt_core::json_path::ImagePath;
use stilt_core::k8s_objects::typed_pod_spec_pointer;

/// The namespace Tilt assumes for objects without one.
pub(crate) const DEFAULT_NAMESPACE: &str = "default";

/// Parses a YAML stream into objects. Empty documents are skipped; `kind: List` documents are
/// flattened into their items. Errors read like Kubernetes' decoder.
pub(crate) fn parse_yaml(text: &str) -> Result<Vec<Value>, String> {
    // Kubernetes reads YAML 1.1 (sigs.k8s.io/yaml): `0755` is octal.
    let mut opts = serde_saphyr::Options::default();
    opts.legacy_octal_numbers = true;
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options::<Value>(text, opts)
        .map_err(|e| format!("error converting YAML to JSON: {}", e.to_string().lines().next().unwrap_or_default()))?;
    let mut out = Vec::new();
    for doc in docs {
        push_object(doc, &mut out)?;
    }
    Ok(out)
}

fn push_object(doc: Value, out: &mut Vec<Value>) -> Result<(), String> {
    match doc {
        Value::Null => Ok(()),
        Value::Object(ref m) if m.is_empty() => Ok(()),
        Value::Object(m) => {
            let compact = || serde_json::to_string(&m).unwrap_or_default();
            let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
            if kind.is_empty() {
                return Err(format!("Object 'Kind' is missing in '{}'", compact()));
            }
            if m.get("apiVersion").and_then(Value::as_str).unwrap_or("").is_empty() {
                return Err(format!("Object 'apiVersion' is missing in '{}'", compact()));
            }
            if kind.ends_with("List")
                && let Some(Value::Array(items)) = m.get("items")
            {
                for item in items.clone() {
                    push_object(item, out)?;
                }
                return Ok(());
            }
            let mut m = m;
            // Tilt keeps the spec of what it applies (`SerializeSpecYAML`): no status.
            m.remove("status");
            out.push(Value::Object(m));
            Ok(())
        }
        other => Err(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            match other {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                _ => "bool",
            }
        )),
    }
}

/// Serializes objects as a YAML stream (`---` between documents).
pub(crate) fn to_yaml_stream(objs: &[Value]) -> String {
    objs.iter().map(crate::yaml_emit::to_yaml).collect::<Vec<_>>().join("---\n")
}

pub(crate) fn kind(o: &Value) -> &str {
    o.get("kind").and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn api_version(o: &Value) -> &str {
    o.get("apiVersion").and_then(Value::as_str).unwrap_or("")
}

/// The API group (`""` for the core group).
pub(crate) fn group(o: &Value) -> &str {
    api_version(o).rsplit_once('/').map_or("", |(g, _)| g)
}

pub(crate) fn name(o: &Value) -> &str {
    o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
}

/// The namespace as written (may be empty).
pub(crate) fn raw_namespace(o: &Value) -> &str {
    o.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("")
}

/// The namespace, `default` when empty (Tilt's `K8sEntity.Namespace()`).
pub(crate) fn namespace(o: &Value) -> &str {
    let ns = raw_namespace(o);
    if ns.is_empty() { DEFAULT_NAMESPACE } else { ns }
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default()
}

pub(crate) fn labels(o: &Value) -> BTreeMap<String, String> {
    string_map(o.pointer("/metadata/labels"))
}

/// `name:Kind:namespace`, as Tilt lists objects in errors.
pub(crate) fn full_name(o: &Value) -> String {
    format!("{}:{}:{}", name(o), kind(o), namespace(o))
}

/// The names an object can go by, shortest first: `name`, `name:kind`, `name:kind:ns`,
/// `name:kind:ns:group` (lower-cased; the core group is `core`).
pub(crate) fn potential_names(o: &Value, min_components: usize) -> Vec<String> {
    let g = group(o);
    let g = if g.is_empty() { "core" } else { g };
    let comps = [name(o), kind(o), namespace(o), g];
    (min_components.max(1) - 1..comps.len()).map(|i| comps[..=i].join(":").to_lowercase()).collect()
}

/// Pod templates (`PodTemplateSpec`s) of an object of a typed kind, as JSON pointers to them.
pub(crate) fn pod_template_paths(o: &Value) -> Vec<String> {
    typed_pod_spec_pointer(o)
        .and_then(|p| p.strip_suffix("/spec"))
        .filter(|p| p.ends_with("/template") && o.pointer(p).is_some())
        .map(str::to_string)
        .into_iter()
        .collect()
}

/// Labels of each pod template.
pub(crate) fn pod_template_labels(o: &Value) -> Vec<BTreeMap<String, String>> {
    pod_template_paths(o).iter().map(|p| string_map(o.pointer(&format!("{p}/metadata/labels")))).collect()
}

/// Whether `o` is a Service whose non-empty selector is a subset of `labels`.
pub(crate) fn selector_matches(o: &Value, labels: &BTreeMap<String, String>) -> bool {
    if kind(o) != "Service" || !group(o).is_empty() {
        return false;
    }
    let sel = string_map(o.pointer("/spec/selector"));
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// One image field of an object.
#[derive(Debug, Clone)]
pub(crate) struct ImageField {
    /// Where the field is (`/spec/template/spec/containers/0/image`).
    pub(crate) path: ImagePath,
    /// The image text.
    pub(crate) image: String,
    /// Found in an env var value (`match_in_env_vars`).
    pub(crate) in_env: bool,
}

/// Image fields of the containers of a typed object (containers, initContainers, image
/// volumes), plus env var values when `env_images` is set.
pub(crate) fn container_images(o: &Value, with_env: bool) -> Vec<ImageField> {
    let mut out = Vec::new();
    if let Some(spec) = typed_pod_spec_pointer(o)
        && let Some(pod) = o.pointer(spec)
    {
        for list in ["initContainers", "containers"] {
            let Some(Value::Array(cs)) = pod.get(list) else { continue };
            for (i, c) in cs.iter().enumerate() {
                if let Some(img) = c.get("image").and_then(Value::as_str) {
                    out.push(ImageField {
                        path: ImagePath::from_pointer(format!("{spec}/{list}/{i}/image")),
                        image: img.to_string(),
                        in_env: false,
                    });
                }
                if with_env && let Some(Value::Array(env)) = c.get("env") {
                    for (j, e) in env.iter().enumerate() {
                        if let Some(v) = e.get("value").and_then(Value::as_str) {
                            out.push(ImageField {
                                path: ImagePath::from_pointer(format!("{spec}/{list}/{i}/env/{j}/value")),
                                image: v.to_string(),
                                in_env: true,
                            });
                        }
                    }
                }
            }
        }
        if let Some(Value::Array(vols)) = pod.get("volumes") {
            for (i, v) in vols.iter().enumerate() {
                if let Some(r) = v.pointer("/image/reference").and_then(Value::as_str) {
                    out.push(ImageField {
                        path: ImagePath::from_pointer(format!("{spec}/volumes/{i}/image/reference")),
                        image: r.to_string(),
                        in_env: false,
                    });
                }
            }
        }
    }
    out
}

/// Tilt's apply order: kinds by priority, then everything else in its original order.
const KIND_ORDER: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "MutatingWebhookConfiguration",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "PriorityClass",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Sort key of an object for [`KIND_ORDER`] (stable sort keeps declaration order).
pub(crate) fn kind_rank(o: &Value) -> usize {
    KIND_ORDER.iter().position(|k| *k == kind(o)).unwrap_or(KIND_ORDER.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_streams_and_lists() {
        let objs = parse_yaml("---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n---\n\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b, namespace: x}\n").unwrap();
        assert_eq!(objs.len(), 2);
        assert_eq!(full_name(&objs[1]), "b:Deployment:x");
        assert_eq!(
            potential_names(&objs[0], 1),
            vec!["a", "a:configmap", "a:configmap:default", "a:configmap:default:core"]
        );
        assert_eq!(parse_yaml("foo: bar\n").unwrap_err(), "Object 'Kind' is missing in '{\"foo\":\"bar\"}'");
    }
}
