//! The changes Tilt makes to a resource's Kubernetes objects before applying them.
//!
//! Before `kubectl apply`, Tilt injects the images it built (and `entrypoint`/`container_args`
//! overrides), switches pull policies so the cluster uses those images, labels everything as
//! managed by Tilt, and stamps each pod template with a hash so stale pods can be told apart
//! (spec §6.1, §7.2). The engine needs the exact same objects to apply and the hashes to watch
//! pods, so this module does it as pure functions over `serde_json::Value`.

use crate::manifest::{ImageTarget, K8sTarget};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;

/// Label Tilt puts on every object it applies.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "tilt";
/// Label with the hash of a pod template, used to drop pods of older templates.
pub const POD_TEMPLATE_HASH_LABEL: &str = "tilt.dev/pod-template-hash";

/// Why a resource's objects could not be prepared for apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    /// An image location names a build that has no built ref.
    #[error("failed to inject image {image}: it has not been built")]
    NotBuilt {
        /// The build's `ref`.
        image: String,
    },
    /// An image location points at an object the resource does not have.
    #[error("failed to inject image at {path}: the resource has no object #{index}")]
    NoObject {
        /// Index into the resource's objects.
        index: usize,
        /// The location's JSONPath.
        path: String,
    },
    /// An image location's JSONPath is unsupported or does not lead to a field of the object.
    #[error("failed to inject image into {object} at {path}: {reason}")]
    Path {
        /// `Kind/name` of the object.
        object: String,
        /// The JSONPath.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// Returns the objects of `target` as they must be applied, with Tilt's mutations (spec §6.1,
/// §7.2):
///
/// - each image location whose `build_ref` is a key of `built` gets the built cluster ref
///   (`127.0.0.1:29500/web:tilt-0123456789abcdef`); when it is a container's `image`, that
///   container gets `imagePullPolicy: IfNotPresent` and the build's `entrypoint` /
///   `container_args` as `command` / `args`; when it is an image volume's `reference`, the
///   volume gets `pullPolicy: IfNotPresent`;
/// - if any image was injected, every container of every pod spec gets
///   `imagePullPolicy: IfNotPresent` and StatefulSets get `podManagementPolicy: Parallel`;
/// - `app.kubernetes.io/managed-by: tilt` on every object's and pod template's labels (not on
///   PersistentVolumeClaims nor StatefulSet `volumeClaimTemplates`); selectors get it only if
///   they already have that key;
/// - last, `tilt.dev/pod-template-hash` on every pod template (see [`pod_template_hashes`]).
///
/// `built` maps a build's `ref` ([`ImageTarget::image_ref`]) to the ref to inject.
pub fn prepare_objects(target: &K8sTarget, built: &BTreeMap<String, String>) -> Result<Vec<Value>, PrepareError> {
    let mut objects = target.objects.clone();
    let mut injected_any = false;
    for loc in &target.image_locations {
        let Some(build_ref) = &loc.build_ref else { continue };
        let injected = built.get(build_ref).ok_or_else(|| PrepareError::NotBuilt { image: build_ref.clone() })?;
        let obj = objects
            .get_mut(loc.object)
            .ok_or_else(|| PrepareError::NoObject { index: loc.object, path: loc.path.to_string() })?;
        let image = target.images.iter().find(|i| &i.image_ref == build_ref);
        inject(obj, &loc.path.tokens(), injected, image).map_err(|reason| PrepareError::Path {
            object: object_ref(obj),
            path: loc.path.to_string(),
            reason,
        })?;
        injected_any = true;
    }
    for obj in &mut objects {
        if injected_any {
            for spec in pod_spec_pointers(obj) {
                if let Some(spec) = obj.pointer_mut(&spec) {
                    set_pull_policies(spec);
                }
            }
            if kind(obj) == "StatefulSet"
                && let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut)
            {
                spec.insert("podManagementPolicy".into(), "Parallel".into());
            }
        }
        add_managed_by(obj);
        add_pod_template_hashes(obj);
    }
    Ok(objects)
}

/// The `tilt.dev/pod-template-hash` labels of `objects` (as [`prepare_objects`] returns them), in
/// object order: one per pod template, and one per bare Pod. The engine watches pods with
/// `tilt.dev/pod-template-hash in (...)`.
pub fn pod_template_hashes(objects: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for obj in objects {
        let mut metas: Vec<String> = pod_template_pointers(obj).into_iter().map(|p| format!("{p}/metadata")).collect();
        if kind(obj) == "Pod" {
            metas.push("/metadata".to_string());
        }
        for meta in metas {
            if let Some(h) = obj.pointer(&format!("{meta}/labels")).and_then(|l| l.get(POD_TEMPLATE_HASH_LABEL)) {
                out.extend(h.as_str().map(str::to_string));
            }
        }
    }
    out
}

/// `name:kind` with the kind lower-cased (`web:deployment`), as Tilt lists objects after apply.
pub fn object_display_name(obj: &Value) -> String {
    display_name(name(obj), kind(obj))
}

/// Tilt's `name:kind` display of an object known by its name and kind (`web:deployment`): the one
/// spelling of [`object_display_name`], for callers that hold the parts.
pub fn display_name(name: &str, kind: &str) -> String {
    format!("{name}:{}", kind.to_lowercase())
}

/// `Kind/name`, for error messages.
fn object_ref(obj: &Value) -> String {
    format!("{}/{}", kind(obj), name(obj))
}

fn kind(obj: &Value) -> &str {
    obj.get("kind").and_then(Value::as_str).unwrap_or_default()
}

fn name(obj: &Value) -> &str {
    obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
}

/// The value at the pointer `tokens` below `v`; every step must exist.
fn walk_mut<'a>(mut v: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, String> {
    for t in tokens {
        v = match v {
            Value::Object(m) => m.get_mut(t).ok_or_else(|| format!("no field {t:?}"))?,
            Value::Array(a) => {
                let n: usize = t.parse().map_err(|_| format!("cannot read field {t:?} of a non-object"))?;
                let len = a.len();
                a.get_mut(n).ok_or_else(|| format!("index {n} out of range (length {len})"))?
            }
            _ if t.parse::<usize>().is_ok() => return Err(format!("cannot read index {t} of a non-array")),
            _ => return Err(format!("cannot read field {t:?} of a non-object")),
        };
    }
    Ok(v)
}

fn is_index(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// Sets the image at the pointer `tokens` and the container / image-volume extras around it.
fn inject(obj: &mut Value, tokens: &[String], injected: &str, image: Option<&ImageTarget>) -> Result<(), String> {
    let (last, parent_path) = tokens.split_last().ok_or_else(|| "empty JSON pointer".to_string())?;
    let parent = walk_mut(obj, parent_path)?;
    match &mut *parent {
        Value::Object(m) => {
            if m.get(last).is_some_and(Value::is_object) {
                return Err("the image is an object (split repository/tag fields are not supported)".to_string());
            }
            m.insert(last.clone(), injected.into());
        }
        Value::Array(a) if last.parse::<usize>().is_ok_and(|n| n < a.len()) => {
            a[last.parse::<usize>().expect("checked above")] = injected.into();
            return Ok(());
        }
        _ => return Err("the path does not lead to a field".to_string()),
    }
    let n = parent_path.len();
    let container_list = n >= 2
        && is_index(&parent_path[n - 1])
        && matches!(parent_path[n - 2].as_str(), "containers" | "initContainers");
    let image_volume = n >= 3
        && last == "reference"
        && parent_path[n - 1] == "image"
        && is_index(&parent_path[n - 2])
        && parent_path[n - 3] == "volumes";
    let Some(m) = parent.as_object_mut() else { return Ok(()) };
    if container_list && last == "image" {
        m.insert("imagePullPolicy".into(), "IfNotPresent".into());
        if let Some(img) = image {
            if let Some(cmd) = &img.entrypoint {
                m.insert("command".into(), cmd.clone().into());
            }
            if let Some(args) = &img.container_args {
                m.insert("args".into(), args.clone().into());
            }
        }
    } else if image_volume {
        m.insert("pullPolicy".into(), "IfNotPresent".into());
    }
    Ok(())
}

/// Where the pod spec of a kind Tilt decodes into a typed object lives (`/spec` of a Pod,
/// `/spec/template/spec` of a Deployment, …), by API group and kind; `None` for other kinds.
/// The one table of pod-spec locations: stilt-tiltfile finds container images with it, and
/// the deploy step finds the pod templates it labels.
pub fn typed_pod_spec_pointer(obj: &Value) -> Option<&'static str> {
    let group =
        obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default().rsplit_once('/').map_or("", |(g, _)| g);
    match (group, kind(obj)) {
        ("", "Pod") => Some("/spec"),
        ("", "PodTemplate") => Some("/template/spec"),
        ("", "ReplicationController")
        | ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => Some("/spec/template/spec"),
        ("batch", "CronJob") => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// JSON pointers of the pod templates (`PodTemplateSpec`) of an object: those of the typed
/// kinds ([`typed_pod_spec_pointer`]: `spec.template` of the built-in workloads,
/// `spec.jobTemplate.spec.template` of a CronJob, `template` of a PodTemplate), and
/// `spec.template` of any other kind whose `spec.template.spec.containers` exists.
fn pod_template_pointers(obj: &Value) -> Vec<String> {
    let ptr = match typed_pod_spec_pointer(obj) {
        Some("/spec") => return Vec::new(),
        Some(spec) => spec.strip_suffix("/spec").unwrap_or(spec),
        None if obj.pointer("/spec/template/spec/containers").is_some() => "/spec/template",
        None => return Vec::new(),
    };
    if obj.pointer(ptr).is_some_and(Value::is_object) { vec![ptr.to_string()] } else { Vec::new() }
}

/// JSON pointers of the pod specs of an object: its templates' `spec`, or a Pod's `spec`.
fn pod_spec_pointers(obj: &Value) -> Vec<String> {
    if kind(obj) == "Pod" {
        return vec!["/spec".to_string()];
    }
    pod_template_pointers(obj).into_iter().map(|p| format!("{p}/spec")).collect()
}

/// `imagePullPolicy: IfNotPresent` on every container and init container of a pod spec.
fn set_pull_policies(spec: &mut Value) {
    for list in ["initContainers", "containers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                c.insert("imagePullPolicy".into(), "IfNotPresent".into());
            }
        }
    }
}

/// The `labels` map of the object (`ObjectMeta`) at `meta_ptr`, created if missing. `None` if
/// something on the way is not an object.
fn labels_mut<'a>(obj: &'a mut Value, owner_ptr: &str) -> Option<&'a mut Map<String, Value>> {
    let owner = obj.pointer_mut(owner_ptr)?.as_object_mut()?;
    let meta = owner.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if meta.is_null() {
        *meta = Value::Object(Map::new());
    }
    let labels = meta.as_object_mut()?.entry("labels").or_insert_with(|| Value::Object(Map::new()));
    if labels.is_null() {
        *labels = Value::Object(Map::new());
    }
    labels.as_object_mut()
}

/// Adds `app.kubernetes.io/managed-by: tilt` to the object's, its pod templates' and a
/// CronJob's job template's labels (every `ObjectMeta` Tilt's reflection finds, minus
/// PersistentVolumeClaims and `volumeClaimTemplates`), and to selectors that already have the key.
fn add_managed_by(obj: &mut Value) {
    if kind(obj) == "PersistentVolumeClaim" {
        return;
    }
    let mut owners = vec![String::new()];
    if kind(obj) == "CronJob" && obj.pointer("/spec/jobTemplate").is_some_and(Value::is_object) {
        owners.push("/spec/jobTemplate".to_string());
    }
    owners.extend(pod_template_pointers(obj));
    for owner in owners {
        if let Some(labels) = labels_mut(obj, &owner) {
            labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
        }
    }
    let selector = if kind(obj) == "Service" { "/spec/selector" } else { "/spec/selector/matchLabels" };
    if let Some(sel) = obj.pointer_mut(selector).and_then(Value::as_object_mut)
        && sel.contains_key(MANAGED_BY_LABEL)
    {
        sel.insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
    }
}

/// First 20 hex characters (10 bytes) of the SHA-1 of `v`'s JSON.
fn hash_json(v: &Value) -> String {
    let bytes = serde_json::to_vec(v).expect("a serde_json::Value always serializes");
    let mut hex = String::with_capacity(20);
    for b in &Sha1::digest(&bytes)[..10] {
        hex.push(char::from_digit(u32::from(b >> 4), 16).expect("a nibble is a hex digit"));
        hex.push(char::from_digit(u32::from(b & 0xf), 16).expect("a nibble is a hex digit"));
    }
    hex
}

/// Sets `tilt.dev/pod-template-hash` on each pod template: the hash of the template without that
/// label. Bare Pods get it too (the hash of their `spec`) — a stilt addition, so that every pod a
/// resource owns can be found with one label selector.
fn add_pod_template_hashes(obj: &mut Value) {
    for ptr in pod_template_pointers(obj) {
        if let Some(labels) = obj.pointer_mut(&format!("{ptr}/metadata/labels")).and_then(Value::as_object_mut) {
            labels.remove(POD_TEMPLATE_HASH_LABEL);
        }
        let Some(template) = obj.pointer(&ptr) else { continue };
        let hash = hash_json(template);
        if let Some(labels) = labels_mut(obj, &ptr) {
            labels.insert(POD_TEMPLATE_HASH_LABEL.into(), hash.into());
        }
    }
    if kind(obj) == "Pod" {
        let hash = hash_json(obj.get("spec").unwrap_or(&Value::Null));
        if let Some(labels) = labels_mut(obj, "") {
            labels.insert(POD_TEMPLATE_HASH_LABEL.into(), hash.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_path::ImagePath;
    use crate::manifest::{ImageBuild, K8sImageLocation};
    use serde_json::json;

    const WEB_REF: &str = "127.0.0.1:29500/web-img:tilt-0123456789abcdef";

    fn image(r: &str) -> ImageTarget {
        ImageTarget {
            image_ref: r.to_string(),
            normalized_ref: format!("docker.io/library/{r}"),
            local_ref: format!("127.0.0.1:29500/{r}"),
            cluster_ref: format!("127.0.0.1:29500/{r}"),
            match_exact: false,
            match_in_env_vars: false,
            build: ImageBuild::None,
            image_deps: Vec::new(),
            live_update: Vec::new(),
            entrypoint: None,
            container_args: None,
            live_update_only: false,
            declared_at: None,
        }
    }

    fn loc(object: usize, path: &str, build_ref: Option<&str>) -> K8sImageLocation {
        K8sImageLocation {
            object,
            path: ImagePath::parse(path).unwrap(),
            image: "web-img".to_string(),
            build_ref: build_ref.map(str::to_string),
            injected_ref: None,
        }
    }

    fn target(objects: Vec<Value>, image_locations: Vec<K8sImageLocation>, images: Vec<ImageTarget>) -> K8sTarget {
        K8sTarget {
            objects,
            image_locations,
            images,
            port_forwards: Vec::new(),
            extra_pod_selectors: Vec::new(),
            pod_readiness: crate::manifest::PodReadiness::Wait,
            discovery_strategy: None,
        }
    }

    fn built() -> BTreeMap<String, String> {
        BTreeMap::from([("web-img".to_string(), WEB_REF.to_string())])
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "initContainers": [{"name": "migrate", "image": "busybox:1.36", "command": ["sh", "-c",
                            "true"]}],
                        "containers": [
                            {"name": "web", "image": "web-img", "imagePullPolicy": "Always",
                                "ports": [{"containerPort": 8080}]},
                            {"name": "sidecar", "image": "nginx:1.25"}
                        ]
                    }
                }
            }
        })
    }

    fn service() -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    }

    #[test]
    fn injects_image_pull_policy_labels_and_hash_into_a_deployment() {
        let t = target(
            vec![service(), deployment()],
            vec![
                loc(1, "{.spec.template.spec.initContainers[0].image}", None),
                loc(1, "{.spec.template.spec.containers[0].image}", Some("web-img")),
            ],
            vec![image("web-img")],
        );
        let out = prepare_objects(&t, &built()).unwrap();
        let svc = &out[0];
        assert_eq!(svc["metadata"]["labels"][MANAGED_BY_LABEL], "tilt");
        assert_eq!(svc["spec"]["selector"], json!({"app": "web"}), "selectors are left alone");
        let d = &out[1];
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["containers"][0]["image"], WEB_REF);
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(pod["containers"][1]["image"], "nginx:1.25");
        assert_eq!(pod["containers"][1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(pod["initContainers"][0]["image"], "busybox:1.36");
        assert_eq!(pod["initContainers"][0]["imagePullPolicy"], "IfNotPresent");
        assert!(pod["containers"][0].get("command").is_none());
        assert_eq!(d["metadata"]["labels"], json!({"app": "web", MANAGED_BY_LABEL: "tilt"}));
        assert_eq!(d["spec"]["selector"]["matchLabels"], json!({"app": "web"}));
        let labels = &d["spec"]["template"]["metadata"]["labels"];
        assert_eq!(labels["app"], "web");
        assert_eq!(labels[MANAGED_BY_LABEL], "tilt");
        let hash = labels[POD_TEMPLATE_HASH_LABEL].as_str().unwrap();
        assert_eq!(hash.len(), 20);
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        // The hash is over the final template without the hash label.
        let mut template = d["spec"]["template"].clone();
        template["metadata"]["labels"].as_object_mut().unwrap().remove(POD_TEMPLATE_HASH_LABEL);
        assert_eq!(hash, hash_json(&template));
        assert_eq!(pod_template_hashes(&out), vec![hash.to_string()]);
        // The input is untouched.
        assert_eq!(t.objects[1], deployment());
    }

    #[test]
    fn hash_is_stable_and_changes_with_the_image() {
        let t = target(
            vec![deployment()],
            vec![loc(0, "{.spec.template.spec.containers[0].image}", Some("web-img"))],
            vec![image("web-img")],
        );
        let a = prepare_objects(&t, &built()).unwrap();
        let b = prepare_objects(&t, &built()).unwrap();
        assert_eq!(a, b);
        // Preparing already-prepared objects gives the same hash (the old label is not hashed).
        let again = prepare_objects(&target(a.clone(), Vec::new(), Vec::new()), &BTreeMap::new()).unwrap();
        assert_eq!(pod_template_hashes(&again), pod_template_hashes(&a));
        let other =
            BTreeMap::from([("web-img".to_string(), "127.0.0.1:29500/web-img:tilt-fedcba9876543210".to_string())]);
        let c = prepare_objects(&t, &other).unwrap();
        assert_ne!(pod_template_hashes(&a), pod_template_hashes(&c));
    }

    #[test]
    fn without_built_images_pull_policies_are_kept() {
        let t = target(vec![deployment()], vec![loc(0, "{.spec.template.spec.containers[1].image}", None)], Vec::new());
        let out = prepare_objects(&t, &BTreeMap::new()).unwrap();
        let pod = &out[0]["spec"]["template"]["spec"];
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");
        assert!(pod["containers"][1].get("imagePullPolicy").is_none());
        assert_eq!(out[0]["spec"]["template"]["metadata"]["labels"][MANAGED_BY_LABEL], "tilt");
        assert_eq!(pod_template_hashes(&out).len(), 1);
    }

    #[test]
    fn entrypoint_and_container_args_override_command_and_args() {
        let mut img = image("web-img");
        img.entrypoint = Some(vec!["/app/server".into(), "--dev".into()]);
        img.container_args = Some(vec![]);
        let mut d = deployment();
        d["spec"]["template"]["spec"]["containers"][0]["command"] = json!(["/bin/old"]);
        d["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["--old"]);
        let t = target(vec![d], vec![loc(0, "{.spec.template.spec.containers[0].image}", Some("web-img"))], vec![img]);
        let out = prepare_objects(&t, &built()).unwrap();
        let c = &out[0]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["command"], json!(["/app/server", "--dev"]));
        assert_eq!(c["args"], json!([]));
        // Only args.
        let mut img = image("web-img");
        img.container_args = Some(vec!["--port".into(), "9000".into()]);
        let t = target(
            vec![deployment()],
            vec![loc(0, "{.spec.template.spec.containers[0].image}", Some("web-img"))],
            vec![img],
        );
        let out = prepare_objects(&t, &built()).unwrap();
        let c = &out[0]["spec"]["template"]["spec"]["containers"][0];
        assert!(c.get("command").is_none());
        assert_eq!(c["args"], json!(["--port", "9000"]));
    }

    #[test]
    fn cronjob_init_container_and_job_template_labels() {
        let cj = json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "nightly"},
            "spec": {
                "schedule": "0 3 * * *",
                "jobTemplate": {"spec": {"template": {"spec": {
                    "restartPolicy": "Never",
                    "initContainers": [{"name": "a", "image": "busybox"}, {"name": "b", "image": "web-img"}],
                    "containers": [{"name": "main", "image": "busybox"}]
                }}}}
            }
        });
        let t = target(
            vec![cj],
            vec![loc(0, "{.spec.jobTemplate.spec.template.spec.initContainers[1].image}", Some("web-img"))],
            vec![image("web-img")],
        );
        let out = prepare_objects(&t, &built()).unwrap();
        let o = &out[0];
        let pod = &o["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(pod["initContainers"][1]["image"], WEB_REF);
        assert_eq!(pod["initContainers"][0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(o["metadata"]["labels"][MANAGED_BY_LABEL], "tilt");
        assert_eq!(o["spec"]["jobTemplate"]["metadata"]["labels"][MANAGED_BY_LABEL], "tilt");
        let tl = &o["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"];
        assert_eq!(tl[MANAGED_BY_LABEL], "tilt");
        assert_eq!(pod_template_hashes(&out), vec![tl[POD_TEMPLATE_HASH_LABEL].as_str().unwrap().to_string()]);
        assert!(o["spec"]["jobTemplate"]["metadata"]["labels"].get(POD_TEMPLATE_HASH_LABEL).is_none());
        assert_eq!(object_display_name(o), "nightly:cronjob");
    }

    #[test]
    fn statefulset_parallel_and_volume_claim_templates_untouched() {
        let sts = json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "serviceName": "db",
                "podManagementPolicy": "OrderedReady",
                "selector": {"matchLabels": {"app": "db", MANAGED_BY_LABEL: "helm"}},
                "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db",
                    "image": "web-img"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]
            }
        });
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "cache"},
            "spec": {"accessModes": ["ReadWriteOnce"]}});
        let t = target(
            vec![pvc.clone(), sts],
            vec![loc(1, "{.spec.template.spec.containers[0].image}", Some("web-img"))],
            vec![image("web-img")],
        );
        let out = prepare_objects(&t, &built()).unwrap();
        assert_eq!(out[0], pvc);
        let s = &out[1];
        assert_eq!(s["spec"]["podManagementPolicy"], "Parallel");
        assert_eq!(s["spec"]["volumeClaimTemplates"][0]["metadata"], json!({"name": "data"}));
        // A selector that already has the key follows the label.
        assert_eq!(s["spec"]["selector"]["matchLabels"][MANAGED_BY_LABEL], "tilt");
        assert_eq!(s["spec"]["template"]["metadata"]["labels"][MANAGED_BY_LABEL], "tilt");
    }

    #[test]
    fn statefulset_without_built_images_keeps_its_policy() {
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"template": {"spec": {"containers": [{"name": "db", "image": "postgres:16"}]}}}});
        let out = prepare_objects(&target(vec![sts], Vec::new(), Vec::new()), &BTreeMap::new()).unwrap();
        assert!(out[0]["spec"].get("podManagementPolicy").is_none());
        // The template had no metadata: it is created.
        assert_eq!(out[0]["spec"]["template"]["metadata"]["labels"][MANAGED_BY_LABEL], "tilt");
    }

    #[test]
    fn bare_pod_gets_hash_of_its_spec() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "once", "labels": null},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "web-img"}]}});
        let t = target(vec![pod], vec![loc(0, "{.spec.containers[0].image}", Some("web-img"))], vec![image("web-img")]);
        let out = prepare_objects(&t, &built()).unwrap();
        let p = &out[0];
        assert_eq!(p["spec"]["containers"][0]["image"], WEB_REF);
        assert_eq!(p["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(p["metadata"]["labels"][MANAGED_BY_LABEL], "tilt");
        assert_eq!(p["metadata"]["labels"][POD_TEMPLATE_HASH_LABEL], hash_json(&p["spec"]));
        assert_eq!(pod_template_hashes(&out), vec![hash_json(&p["spec"])]);
        assert_eq!(object_display_name(p), "once:pod");
    }

    #[test]
    fn crd_json_path_and_unknown_kind_with_template() {
        let cr = json!({"apiVersion": "example.com/v1", "kind": "UselessMachine", "metadata": {"name": "m"},
            "spec": {"image": "web-img", "replicas": 1}});
        let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"},
            "spec": {"template": {"metadata": {"labels": {"app": "r"}}, "spec": {"containers": [{"name": "r",
                "image": "web-img"}]}}}});
        let t = target(
            vec![cr, rollout],
            vec![
                loc(0, "{.spec.image}", Some("web-img")),
                loc(1, "{.spec.template.spec.containers[0].image}", Some("web-img")),
            ],
            vec![image("web-img")],
        );
        let out = prepare_objects(&t, &built()).unwrap();
        assert_eq!(out[0]["spec"], json!({"image": WEB_REF, "replicas": 1}), "no pull policy outside containers");
        assert_eq!(out[0]["metadata"]["labels"], json!({MANAGED_BY_LABEL: "tilt"}));
        let rl = &out[1]["spec"]["template"]["metadata"]["labels"];
        assert_eq!(rl[MANAGED_BY_LABEL], "tilt");
        assert_eq!(pod_template_hashes(&out), vec![rl[POD_TEMPLATE_HASH_LABEL].as_str().unwrap().to_string()]);
        assert_eq!(object_display_name(&out[1]), "r:rollout");
    }

    #[test]
    fn image_volume_gets_pull_policy() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "c", "image": "busybox"}],
            "volumes": [{"name": "data", "image": {"reference": "web-img", "pullPolicy": "Always"}}]}});
        let t = target(
            vec![pod],
            vec![loc(0, "{.spec.volumes[0].image.reference}", Some("web-img"))],
            vec![image("web-img")],
        );
        let out = prepare_objects(&t, &built()).unwrap();
        assert_eq!(out[0]["spec"]["volumes"][0]["image"], json!({"reference": WEB_REF, "pullPolicy": "IfNotPresent"}));
    }

    #[test]
    fn errors_name_the_object_and_path() {
        let t = target(
            vec![deployment()],
            vec![loc(0, "{.spec.template.spec.containers[0].image}", Some("api"))],
            Vec::new(),
        );
        let err = prepare_objects(&t, &built()).unwrap_err();
        assert_eq!(err, PrepareError::NotBuilt { image: "api".into() });
        assert_eq!(err.to_string(), "failed to inject image api: it has not been built");

        let bad = |path: &str| {
            prepare_objects(&target(vec![deployment()], vec![loc(0, path, Some("web-img"))], Vec::new()), &built())
                .unwrap_err()
                .to_string()
        };
        // A wildcard, an empty field or an empty path is no location: ImagePath refuses it
        // when it is read (json_path tests), so it never reaches the deploy.
        assert!(ImagePath::parse("{.spec.template.spec.containers[*].image}").is_err());
        assert_eq!(
            bad("{.spec.template.spec.containers[5].image}"),
            "failed to inject image into Deployment/web at {.spec.template.spec.containers[5].image}: \
             index 5 out of range (length 2)"
        );
        assert_eq!(
            bad("{.spec.nope.image}"),
            "failed to inject image into Deployment/web at {.spec.nope.image}: no field \"nope\""
        );
        assert!(ImagePath::parse("{..image}").is_err());
        assert!(ImagePath::parse("{}").is_err());
        assert!(bad("{.spec.template}").contains("split repository/tag"));

        let t = target(vec![deployment()], vec![loc(3, "{.spec.image}", Some("web-img"))], Vec::new());
        assert_eq!(
            prepare_objects(&t, &built()).unwrap_err().to_string(),
            "failed to inject image at {.spec.image}: the resource has no object #3"
        );
    }

    #[test]
    fn display_names() {
        assert_eq!(object_display_name(&deployment()), "web:deployment");
        assert_eq!(object_display_name(&service()), "web:service");
        assert_eq!(object_display_name(&json!({})), ":");
    }
}
