//! UIResource objects: the per-resource status Tilt's CLI (`tilt get uiresources`) and web UI read,
//! derived from the [`Session`] the way Tilt fills them (`internal/hud/webview/convert.go`).
//!
//! Tilt builds these from its engine state; stilt has the Session's targets instead, which carry
//! the same facts: the `:update` target is the resource's build (its `buildHistory` /
//! `currentBuild` / `updateStatus`), the `:serve` / `:runtime` target its runtime
//! (`runtimeStatus`). A resource with no runtime target (a `local_resource` without `serve_cmd`) has
//! runtime `not_applicable`, as in Tilt. The two synthesized conditions (`UpToDate`, `Ready`) follow
//! Tilt's rules exactly.

use crate::k8s_pod::{PodSummary, newest_pod};
use crate::manifest::{Manifest, ResourceTarget, TriggerMode};
use crate::micro_time;
use crate::session::{API_VERSION, Readiness, Session, Target, TargetState, sort_keys};
use crate::target_id::TILTFILE_TARGET;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Pods last seen, by resource (Kubernetes resources only).
pub type Pods = BTreeMap<String, Vec<PodSummary>>;

/// Tilt's name for the Tiltfile's own resource.
pub const TILTFILE_RESOURCE: &str = "(Tiltfile)";

/// What kind of workload a resource runs (Tilt's target spec types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `local_resource`.
    Local,
    /// `k8s_yaml` / `k8s_custom_deploy` workloads.
    K8s,
    /// `docker_compose` services.
    DockerCompose,
}

/// The facts about a resource that come from the Tiltfile, not the Session.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    /// Resource name.
    pub name: String,
    /// Workload kind.
    pub kind: ResourceKind,
    /// Labels, in declaration order.
    pub labels: Vec<String>,
    /// Links (`endpointLinks`).
    pub links: Vec<(String, String)>,
    /// Tilt's trigger-mode number.
    pub trigger_mode: i32,
    /// Image refs the resource builds (`image:<ref>` target specs).
    pub images: Vec<String>,
    /// `resource_deps` (a `waiting-for-dep` hold names those not ready yet).
    pub deps: Vec<String>,
}

impl ResourceInfo {
    /// From a loaded manifest.
    pub fn from_manifest(m: &Manifest) -> Self {
        let kind = match &m.target {
            ResourceTarget::Local(_) => ResourceKind::Local,
            ResourceTarget::K8s(_) | ResourceTarget::K8sCustomDeploy(_) => ResourceKind::K8s,
            ResourceTarget::DockerCompose(_) => ResourceKind::DockerCompose,
        };
        ResourceInfo {
            name: m.name.clone(),
            kind,
            labels: m.labels.clone(),
            links: m.links.iter().map(|l| (l.url.clone(), l.name.clone())).collect(),
            trigger_mode: trigger_mode_number(m.trigger_mode, m.auto_init),
            images: m.image_targets().iter().map(|i| i.image_ref.clone()).collect(),
            deps: m.resource_deps.clone(),
        }
    }
}

/// Tilt's `model.TriggerMode` numbers: Auto 0, ManualWithAutoInit 1, Manual 2, AutoWithManualInit 3.
pub fn trigger_mode_number(mode: TriggerMode, auto_init: bool) -> i32 {
    match (mode, auto_init) {
        (TriggerMode::Auto, true) => 0,
        (TriggerMode::Manual, true) => 1,
        (TriggerMode::Manual, false) => 2,
        (TriggerMode::Auto, false) => 3,
    }
}

/// The log span id of a resource's build log (Tilt's spans for builds start with `build:`).
pub fn build_span_id(resource: &str) -> String {
    format!("build:{resource}")
}

/// The log span id of a resource's runtime log.
pub fn runtime_span_id(resource: &str) -> String {
    format!("runtime:{resource}")
}

/// The log span id of Tiltfile/global logs (Tilt's `tiltfile:<name>:<load count>`).
pub fn tiltfile_span_id() -> String {
    format!("tiltfile:{TILTFILE_RESOURCE}:1")
}

fn time(t: Option<&DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::from(micro_time::format(t)))
}

/// The build part of a UIResource status, from the `:update` target.
struct BuildView {
    update_status: &'static str,
    history: Vec<Value>,
    current: Option<Value>,
    last_deploy: Option<DateTime<Utc>>,
    waiting: Option<String>,
    disabled: bool,
}

fn build_view(update: Option<&Target>, span: &str) -> BuildView {
    let mut v = BuildView {
        update_status: "pending",
        history: Vec::new(),
        current: None,
        last_deploy: None,
        waiting: None,
        disabled: false,
    };
    let Some(target) = update else {
        v.update_status = "not_applicable";
        return v;
    };
    match &target.state {
        None => {}
        Some(TargetState::Waiting { wait_reason }) => v.waiting = Some(wait_reason.clone()),
        Some(TargetState::Active { start_time, .. }) => {
            v.update_status = "in_progress";
            v.current = Some(json!({"startTime": time(start_time.as_ref()), "spanID": span}));
        }
        Some(TargetState::Terminated { start_time, finish_time, error, .. }) => {
            let mut entry = json!({
                "startTime": time(start_time.as_ref()),
                "finishTime": time(finish_time.as_ref()),
                "spanID": span,
            });
            if error.is_empty() {
                v.update_status = "ok";
                v.last_deploy = *finish_time;
            } else {
                v.update_status = "error";
                entry["error"] = Value::from(error.clone());
            }
            v.history.push(entry);
        }
        Some(TargetState::Disabled {}) => {
            v.update_status = "none";
            v.disabled = true;
        }
    }
    v
}

/// Whether `resource` has been ready (what a `resource_deps` gate waits for): its runtime is
/// ready or done, or, without a runtime, its update finished.
fn resource_ready(session: &Session, resource: &str) -> bool {
    let runtime = find(session, &format!("{resource}:serve")).or_else(|| find(session, &format!("{resource}:runtime")));
    let done_ok = |t: Option<&Target>| matches!(t.and_then(|t| t.state.as_ref()), Some(TargetState::Terminated { error, .. }) if error.is_empty());
    match runtime {
        Some(t) => {
            matches!(
                &t.state,
                Some(
                    TargetState::Active { ready: Readiness::Ready | Readiness::Settling, .. }
                        | TargetState::Active { last_ready_time: Some(_), .. }
                )
            ) || done_ok(Some(t))
        }
        None => done_ok(find(session, &format!("{resource}:update"))),
    }
}

/// Tilt's runtime status from the `:serve` / `:runtime` target.
fn runtime_status(runtime: Option<&Target>) -> &'static str {
    let Some(target) = runtime else { return "not_applicable" };
    match &target.state {
        None | Some(TargetState::Waiting { .. }) => "pending",
        Some(TargetState::Active { ready, .. }) => {
            if ready.is_ready() {
                "ok"
            } else {
                "pending"
            }
        }
        Some(TargetState::Terminated { error, .. }) => {
            if error.is_empty() {
                "ok"
            } else {
                "error"
            }
        }
        Some(TargetState::Disabled {}) => "none",
    }
}

/// Tilt's `UIResourceUpToDateCondition` (reason only when not true).
pub fn up_to_date_condition(update_status: &str, disabled: bool) -> (&'static str, &'static str) {
    if update_status == "ok" || update_status == "not_applicable" {
        return ("True", "");
    }
    let reason = if disabled {
        "Disabled"
    } else if update_status == "error" {
        "UpdateError"
    } else if update_status == "pending" {
        "UpdatePending"
    } else {
        "Unknown"
    };
    ("False", reason)
}

/// Tilt's `UIResourceReadyCondition`.
pub fn ready_condition(update_status: &str, runtime_status: &str, disabled: bool) -> (&'static str, &'static str) {
    if runtime_status == "ok" || (runtime_status == "not_applicable" && update_status == "ok") {
        return ("True", "");
    }
    let reason = if disabled {
        "Disabled"
    } else if runtime_status == "error" {
        "RuntimeError"
    } else if update_status == "error" {
        "UpdateError"
    } else if update_status == "ok" && runtime_status == "pending" {
        "RuntimePending"
    } else if update_status == "pending" {
        "UpdatePending"
    } else {
        "Unknown"
    };
    ("False", reason)
}

fn condition(kind: &str, (status, reason): (&str, &str), at: &Value) -> Value {
    let mut c = json!({"type": kind, "status": status, "lastTransitionTime": at});
    if !reason.is_empty() {
        c["reason"] = Value::from(reason);
    }
    c
}

/// The latest time any of the targets changed, for `lastTransitionTime`.
fn latest_time<'a>(
    targets: impl Iterator<Item = &'a Target>,
    fallback: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let mut latest = fallback;
    for t in targets {
        let times = match &t.state {
            Some(TargetState::Active { start_time, last_ready_time, .. }) => [*start_time, *last_ready_time],
            Some(TargetState::Terminated { start_time, finish_time, .. }) => [*start_time, *finish_time],
            _ => [None, None],
        };
        for x in times.into_iter().flatten() {
            if latest.is_none_or(|l| x > l) {
                latest = Some(x);
            }
        }
    }
    latest
}

fn metadata(session: &Session, name: &str, labels: &[String]) -> Value {
    let mut meta = json!({
        "name": name,
        "uid": format!("{}-{}", session.metadata.uid, name_hash(name)),
        "resourceVersion": session.metadata.resource_version,
        "creationTimestamp": session.metadata.creation_timestamp.as_ref().map(micro_time::format_seconds),
        "annotations": {"tilt.dev/resource": name},
        "ownerReferences": [{
            "apiVersion": API_VERSION,
            "blockOwnerDeletion": true,
            "controller": true,
            "kind": "Tiltfile",
            "name": TILTFILE_RESOURCE,
            "uid": session.metadata.uid,
        }],
    });
    if !labels.is_empty() {
        meta["labels"] =
            labels.iter().map(|l| (l.clone(), Value::from(l.clone()))).collect::<serde_json::Map<_, _>>().into();
    }
    meta
}

/// A short stable hash so each UIResource gets its own uid within a run.
fn name_hash(name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{:08x}", h & 0xffff_ffff)
}

fn find<'a>(session: &'a Session, name: &str) -> Option<&'a Target> {
    session.status.targets.iter().find(|t| t.name == name)
}

/// The `(Tiltfile)` UIResource, from the `tiltfile:update` target (Tilt's `TiltfileResource`).
fn tiltfile_resource(session: &Session) -> Value {
    let target = find(session, TILTFILE_TARGET);
    let span = tiltfile_span_id();
    let b = build_view(target, &span);
    let update_status = if target.is_none() { "pending" } else { b.update_status };
    let at = time(latest_time(target.into_iter(), session.status.start_time).as_ref());
    let mut status = json!({
        "buildHistory": b.history,
        "runtimeStatus": "not_applicable",
        "updateStatus": update_status,
        "disableStatus": {"enabledCount": 0, "disabledCount": 0, "state": "Enabled", "sources": null},
        "lastDeployTime": time(b.last_deploy.as_ref()),
        "pendingBuildSince": Value::Null,
        "conditions": [
            condition("UpToDate", up_to_date_condition(update_status, false), &at),
            condition("Ready", ready_condition(update_status, "not_applicable", false), &at),
        ],
    });
    if let Some(c) = b.current {
        status["pendingBuildSince"] = c["startTime"].clone();
        status["currentBuild"] = c;
    }
    json!({"metadata": metadata(session, TILTFILE_RESOURCE, &[]), "spec": {}, "status": status})
}

/// `k8sResourceInfo` from the newest pod (Tilt's `populateResourceInfoView`).
fn k8s_info(name: &str, pods: Option<&Vec<PodSummary>>) -> Value {
    let Some(pod) = pods.and_then(|p| newest_pod(p)) else {
        return json!({"podCreationTime": null, "podUpdateStartTime": null});
    };
    let mut v = json!({
        "podName": pod.name,
        "podCreationTime": pod.created_at.as_ref().map(micro_time::format_seconds),
        "podUpdateStartTime": null,
        "podStatus": pod.display_status(),
        "spanID": runtime_span_id(name),
    });
    if !pod.message.is_empty() {
        v["podStatusMessage"] = Value::from(pod.message.clone());
    }
    if pod.all_containers_ready() {
        v["allContainersReady"] = Value::from(true);
    }
    let restarts: i32 = pod.containers.iter().map(|c| c.restarts).sum();
    if restarts > 0 {
        v["podRestarts"] = Value::from(restarts);
    }
    v
}

/// One resource's UIResource.
fn resource(session: &Session, info: &ResourceInfo, pods: &Pods) -> Value {
    let name = info.name.as_str();
    let update = find(session, &format!("{name}:update"));
    let runtime = find(session, &format!("{name}:serve")).or_else(|| find(session, &format!("{name}:runtime")));
    let span = build_span_id(name);
    let mut b = build_view(update, &span);
    // Tilt records starting a resource that has only a runtime (a `serve_cmd`) as a build.
    if update.is_none()
        && let Some(Target {
            state: Some(TargetState::Active { start_time, .. } | TargetState::Terminated { start_time, .. }),
            ..
        }) = runtime
    {
        b.history.push(
            json!({"startTime": time(start_time.as_ref()), "finishTime": time(start_time.as_ref()), "spanID": span}),
        );
        b.last_deploy = *start_time;
    }
    let disabled = b.disabled || matches!(runtime.and_then(|t| t.state.as_ref()), Some(TargetState::Disabled {}));
    let (update_status, runtime_status) =
        if disabled { ("none", "none") } else { (b.update_status, runtime_status(runtime)) };
    let at = time(latest_time(update.into_iter().chain(runtime), session.status.start_time).as_ref());
    let mut specs = Vec::new();
    for image in &info.images {
        specs.push(json!({"id": format!("image:{image}"), "type": "image"}));
    }
    let (spec_id, spec_type) = match info.kind {
        ResourceKind::Local => (format!("local:{name}"), "local"),
        ResourceKind::K8s => (format!("k8s:{name}"), "k8s"),
        ResourceKind::DockerCompose => (format!("dockercompose:{name}"), "docker-compose"),
    };
    specs.push(json!({"id": spec_id, "type": spec_type}));
    let config_map = format!("{name}-disable");
    let mut status = json!({
        "lastDeployTime": time(b.last_deploy.as_ref()),
        "pendingBuildSince": Value::Null,
        "runtimeStatus": runtime_status,
        "updateStatus": update_status,
        "specs": specs,
        "disableStatus": {
            "enabledCount": i32::from(!disabled),
            "disabledCount": i32::from(disabled),
            "state": if disabled { "Disabled" } else { "Enabled" },
            "sources": [{"configMap": {"name": config_map, "key": "isDisabled"}}],
        },
        "conditions": [
            condition("UpToDate", up_to_date_condition(update_status, disabled), &at),
            condition("Ready", ready_condition(update_status, runtime_status, disabled), &at),
        ],
    });
    let obj = status.as_object_mut().expect("object");
    if info.trigger_mode != 0 {
        obj.insert("triggerMode".into(), Value::from(info.trigger_mode));
    }
    if !b.history.is_empty() {
        obj.insert("buildHistory".into(), Value::from(b.history));
    }
    if let Some(c) = b.current {
        obj.insert("currentBuild".into(), c);
    }
    if let Some(reason) = b.waiting.filter(|_| !disabled) {
        let mut waiting = json!({"reason": reason});
        let on: Vec<Value> = info
            .deps
            .iter()
            .filter(|d| reason == "waiting-for-dep" && !resource_ready(session, d))
            .map(|d| json!({"group": "tilt.dev", "apiVersion": "v1alpha1", "kind": "UIResource", "name": d}))
            .collect();
        if !on.is_empty() {
            waiting["on"] = Value::from(on);
        }
        obj.insert("waiting".into(), waiting);
    }
    if !info.links.is_empty() {
        let links: Vec<Value> = info
            .links
            .iter()
            .map(|(url, n)| if n.is_empty() { json!({"url": url}) } else { json!({"url": url, "name": n}) })
            .collect();
        obj.insert("endpointLinks".into(), Value::from(links));
    }
    match info.kind {
        ResourceKind::Local => obj.insert("localResourceInfo".into(), json!({})),
        ResourceKind::K8s => obj.insert("k8sResourceInfo".into(), k8s_info(name, pods.get(name))),
        ResourceKind::DockerCompose => obj.insert("composeResourceInfo".into(), json!({})),
    };
    json!({"metadata": metadata(session, name, &info.labels), "spec": {}, "status": status})
}

/// Resources named by the Session's targets when the Tiltfile's facts are not known (yet).
fn infos_from_targets(session: &Session) -> Vec<ResourceInfo> {
    let mut names: Vec<&str> = Vec::new();
    for t in &session.status.targets {
        if t.name == TILTFILE_TARGET {
            continue;
        }
        if let Some(r) = t.resources.first()
            && !names.contains(&r.as_str())
        {
            names.push(r);
        }
    }
    names
        .into_iter()
        .map(|n| ResourceInfo {
            name: n.to_string(),
            kind: if find(session, &format!("{n}:runtime")).is_some() {
                ResourceKind::K8s
            } else {
                ResourceKind::Local
            },
            labels: Vec::new(),
            links: Vec::new(),
            trigger_mode: 0,
            images: Vec::new(),
            deps: Vec::new(),
        })
        .collect()
}

/// Every UIResource of the run: `(Tiltfile)` first, then the resources in Tiltfile order (Tilt's
/// `sortUIResources`), each with `status.order` counting from 1. `resources` empty means the
/// Tiltfile has not loaded: names come from the Session's targets.
pub fn ui_resources(session: &Session, resources: &[ResourceInfo], pods: &Pods) -> Vec<Value> {
    let fallback;
    let infos = if resources.is_empty() {
        fallback = infos_from_targets(session);
        &fallback
    } else {
        resources
    };
    let mut out = vec![tiltfile_resource(session)];
    out.extend(infos.iter().map(|i| resource(session, i, pods)));
    out.into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            r["status"]["order"] = Value::from(i + 1);
            r["apiVersion"] = Value::from(API_VERSION);
            r["kind"] = Value::from("UIResource");
            sort_keys(r)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::CiSettings;
    use crate::session::{SessionMetadata, SessionSpec, SessionStatus, TargetType};

    #[expect(clippy::unnecessary_wraps, reason = "the Session's time fields are Options")]
    fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(s.parse().unwrap())
    }

    fn target(name: &str, resource: &str, state: Option<TargetState>) -> Target {
        Target {
            name: name.into(),
            target_type: if name.ends_with(":update") { TargetType::Job } else { TargetType::Server },
            resources: vec![resource.into()],
            state,
        }
    }

    fn session(targets: Vec<Target>) -> Session {
        Session {
            metadata: SessionMetadata {
                name: "Tiltfile".into(),
                creation_timestamp: at("2026-01-02T03:04:05Z"),
                uid: "u".into(),
                resource_version: "7".into(),
            },
            spec: SessionSpec {
                tiltfile_path: "/p/Tiltfile".into(),
                exit_condition: "ci".into(),
                ci: CiSettings::default(),
            },
            status: SessionStatus {
                pid: 1,
                start_time: at("2026-01-02T03:04:05Z"),
                targets,
                done: false,
                error: String::new(),
            },
        }
    }

    fn info(name: &str, kind: ResourceKind) -> ResourceInfo {
        ResourceInfo {
            name: name.into(),
            kind,
            labels: vec![],
            links: vec![],
            trigger_mode: 0,
            images: vec![],
            deps: vec![],
        }
    }

    #[expect(clippy::unnecessary_wraps, reason = "a target's state is an Option")]
    fn ok(start: &str, finish: &str) -> Option<TargetState> {
        Some(TargetState::Terminated {
            start_time: at(start),
            finish_time: at(finish),
            error: String::new(),
            grace_status: crate::session::GraceStatus::None,
        })
    }

    fn conditions(r: &Value) -> Vec<(String, String, String)> {
        r["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["type"].as_str().unwrap().to_string(),
                    c["status"].as_str().unwrap().to_string(),
                    c["reason"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn finished_job_and_ready_server_are_ok_and_ready() {
        let s = session(vec![
            target("build:update", "build", ok("2026-01-02T03:04:06Z", "2026-01-02T03:04:07.5Z")),
            target(
                "web:serve",
                "web",
                Some(TargetState::Active {
                    start_time: at("2026-01-02T03:04:08Z"),
                    ready: Readiness::Ready,
                    last_ready_time: at("2026-01-02T03:04:09Z"),
                }),
            ),
            target("tiltfile:update", "(Tiltfile)", ok("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.2Z")),
        ]);
        let mut build = info("build", ResourceKind::Local);
        build.labels = vec!["backend".into()];
        let rs = ui_resources(&s, &[build, info("web", ResourceKind::Local)], &Pods::new());
        let names: Vec<&str> = rs.iter().map(|r| r["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["(Tiltfile)", "build", "web"]);
        assert_eq!(rs[0]["status"]["updateStatus"], "ok");
        assert_eq!(rs[0]["status"]["runtimeStatus"], "not_applicable");
        assert_eq!(rs[0]["status"]["lastDeployTime"], "2026-01-02T03:04:05.200000Z");
        let b = &rs[1];
        assert_eq!(b["kind"], "UIResource");
        assert_eq!(b["status"]["order"], 2);
        assert_eq!(b["status"]["updateStatus"], "ok");
        assert_eq!(b["status"]["runtimeStatus"], "not_applicable");
        assert_eq!(b["metadata"]["labels"]["backend"], "backend");
        assert_eq!(b["status"]["buildHistory"][0]["finishTime"], "2026-01-02T03:04:07.500000Z");
        assert_eq!(b["status"]["buildHistory"][0]["spanID"], "build:build");
        assert_eq!(b["status"]["specs"][0]["type"], "local");
        assert_eq!(
            conditions(b),
            [("UpToDate".into(), "True".into(), String::new()), ("Ready".into(), "True".into(), String::new())]
        );
        let w = &rs[2];
        assert_eq!(w["status"]["updateStatus"], "not_applicable");
        assert_eq!(w["status"]["runtimeStatus"], "ok");
        // Starting the serve_cmd is recorded as a build, as Tilt does.
        assert_eq!(w["status"]["buildHistory"][0]["startTime"], "2026-01-02T03:04:08.000000Z");
        assert_eq!(w["status"]["lastDeployTime"], "2026-01-02T03:04:08.000000Z");
        assert_eq!(w["status"]["conditions"][1]["lastTransitionTime"], "2026-01-02T03:04:09.000000Z");
    }

    #[test]
    fn waiting_failed_running_and_disabled_follow_tilts_rules() {
        let s = session(vec![
            target("after:update", "after", Some(TargetState::Waiting { wait_reason: "waiting-for-dep".into() })),
            target(
                "bad:update",
                "bad",
                Some(TargetState::Terminated {
                    start_time: at("2026-01-02T03:04:06Z"),
                    finish_time: at("2026-01-02T03:04:07Z"),
                    error: "exit status 1".into(),
                    grace_status: crate::session::GraceStatus::None,
                }),
            ),
            target("app:update", "app", ok("2026-01-02T03:04:06Z", "2026-01-02T03:04:07Z")),
            target(
                "app:runtime",
                "app",
                Some(TargetState::Active {
                    start_time: at("2026-01-02T03:04:08Z"),
                    ready: Readiness::NotReady,
                    last_ready_time: None,
                }),
            ),
            target(
                "run:update",
                "run",
                Some(TargetState::Active {
                    start_time: at("2026-01-02T03:04:06Z"),
                    ready: Readiness::NotReady,
                    last_ready_time: None,
                }),
            ),
            target("off:update", "off", Some(TargetState::Disabled {})),
            target("tiltfile:update", "(Tiltfile)", ok("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.2Z")),
        ]);
        let mut app = info("app", ResourceKind::K8s);
        app.images = vec!["registry/app".into()];
        let mut after = info("after", ResourceKind::Local);
        after.deps = vec!["bad".into(), "app".into()];
        let pod = crate::k8s_pod::PodSummary::from_json(&serde_json::json!({
            "metadata": {"name": "app-7d4-x", "namespace": "ns", "uid": "1", "creationTimestamp": "2026-01-02T03:04:08Z"},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "c", "ready": false, "restartCount": 2, "state": {"running": {}}}
            ]},
        }));
        let pods = Pods::from([("app".to_string(), vec![pod])]);
        let rs = ui_resources(
            &s,
            &[
                after,
                info("bad", ResourceKind::Local),
                app,
                info("run", ResourceKind::Local),
                info("off", ResourceKind::Local),
            ],
            &pods,
        );
        let after = &rs[1];
        assert_eq!(after["status"]["updateStatus"], "pending");
        assert_eq!(after["status"]["waiting"]["reason"], "waiting-for-dep");
        let on: Vec<&str> =
            after["status"]["waiting"]["on"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
        assert_eq!(on, ["bad", "app"], "neither the failed nor the unready dep counts as ready");
        assert_eq!(after["metadata"]["annotations"]["tilt.dev/resource"], "after");
        assert_eq!(after["metadata"]["ownerReferences"][0]["uid"], "u");
        let k8s = &rs[3]["status"]["k8sResourceInfo"];
        assert_eq!(k8s["podName"], "app-7d4-x");
        assert_eq!(k8s["podStatus"], "Running");
        assert_eq!(k8s["podRestarts"], 2);
        assert_eq!(k8s["podCreationTime"], "2026-01-02T03:04:08Z");
        assert!(k8s.get("allContainersReady").is_none(), "{k8s}");
        assert_eq!(conditions(after)[0], ("UpToDate".into(), "False".into(), "UpdatePending".into()));
        let bad = &rs[2];
        assert_eq!(bad["status"]["updateStatus"], "error");
        assert_eq!(bad["status"]["buildHistory"][0]["error"], "exit status 1");
        assert_eq!(conditions(bad)[1], ("Ready".into(), "False".into(), "UpdateError".into()));
        let app = &rs[3];
        assert_eq!(app["status"]["runtimeStatus"], "pending");
        assert_eq!(conditions(app)[1], ("Ready".into(), "False".into(), "RuntimePending".into()));
        assert_eq!(app["status"]["specs"][0]["id"], "image:registry/app");
        assert_eq!(app["status"]["specs"][1]["id"], "k8s:app");
        assert!(app["status"]["k8sResourceInfo"].is_object());
        let run = &rs[4];
        assert_eq!(run["status"]["updateStatus"], "in_progress");
        assert_eq!(run["status"]["currentBuild"]["startTime"], "2026-01-02T03:04:06.000000Z");
        let off = &rs[5];
        assert_eq!(off["status"]["updateStatus"], "none");
        assert_eq!(off["status"]["runtimeStatus"], "none");
        assert_eq!(off["status"]["disableStatus"]["state"], "Disabled");
        assert_eq!(conditions(off)[0], ("UpToDate".into(), "False".into(), "Disabled".into()));
    }

    #[test]
    fn before_the_tiltfile_loads_names_come_from_targets() {
        let s = session(vec![
            target("a:update", "a", None),
            target("k:runtime", "k", None),
            target(
                "tiltfile:update",
                "(Tiltfile)",
                Some(TargetState::Active {
                    start_time: at("2026-01-02T03:04:05Z"),
                    ready: Readiness::NotReady,
                    last_ready_time: None,
                }),
            ),
        ]);
        let rs = ui_resources(&s, &[], &Pods::new());
        let names: Vec<&str> = rs.iter().map(|r| r["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["(Tiltfile)", "a", "k"]);
        assert_eq!(rs[0]["status"]["updateStatus"], "in_progress");
        assert_eq!(rs[0]["status"]["pendingBuildSince"], "2026-01-02T03:04:05.000000Z");
        assert_eq!(rs[2]["status"]["specs"][0]["type"], "k8s");
    }

    #[test]
    fn trigger_modes_number_like_tilt() {
        assert_eq!(trigger_mode_number(TriggerMode::Auto, true), 0);
        assert_eq!(trigger_mode_number(TriggerMode::Manual, true), 1);
        assert_eq!(trigger_mode_number(TriggerMode::Manual, false), 2);
        assert_eq!(trigger_mode_number(TriggerMode::Auto, false), 3);
    }
}
