//! What a Tiltfile means, as plain data: the evaluator's only output and the engine's only input.
//!
//! Mirrors Tilt's `TiltfileLoadResult` / `model.Manifest`: evaluation never touches the engine,
//! and the engine never looks at Starlark. Everything here is `Serialize` so that
//! `stilt alpha tiltfile-result` can print it and tests can compare it.

use crate::duration::GoDuration;
pub use crate::json_path::ImagePath;
use crate::location::SourceLocation;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The result of executing a Tiltfile once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TiltfileResult {
    /// Absolute path of the main Tiltfile.
    pub tiltfile_path: PathBuf,
    /// Resources in Tilt's manifest order.
    pub manifests: Vec<Manifest>,
    /// Names of the enabled resources (args / `config.set_enabled_resources` applied), in
    /// manifest order. Resources not listed are disabled.
    pub enabled_resources: Vec<String>,
    /// `ci_settings(...)`: only the keys the Tiltfile set.
    pub ci_settings: CiSettings,
    /// `update_settings(...)`.
    pub update_settings: UpdateSettings,
    /// `secret_settings(disable_scrub=...)`.
    pub disable_secret_scrub: bool,
    /// `version_settings(check_updates, constraint)`.
    pub version_settings: VersionSettings,
    /// `enable_feature` / `disable_feature` calls, by flag name.
    pub features: BTreeMap<String, bool>,
    /// `analytics_settings(enable)`, if called.
    pub analytics_enabled: Option<bool>,
    /// `set_team(team_id)`, if called.
    pub team_id: Option<String>,
    /// The process environment after the Tiltfile ran (`os.putenv`, `os.environ[...] = ...`,
    /// `os.unsetenv` applied). Commands the engine starts inherit exactly this environment.
    pub environment: BTreeMap<String, String>,
    /// Every file the Tiltfile executed or read (for reports; nothing is watched in ci).
    pub watched_paths: Vec<PathBuf>,
    /// Registry, allowed contexts, custom kinds, watch and prune settings.
    #[serde(default)]
    pub cluster: ClusterSettings,
    /// Objects registered with `v1alpha1.*`, in call order.
    #[serde(default)]
    pub api_objects: Vec<ApiObject>,
    /// Extensions loaded with `load('ext://...')`, in load order.
    #[serde(default)]
    pub extensions: Vec<LoadedExtension>,
}

/// `ci_settings(k8s_grace_period, timeout, readiness_timeout)`. In a [`TiltfileResult`] only
/// what the Tiltfile set (it overrides `--timeout`, as in Tilt); in the Session's `spec.ci` the
/// effective values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CiSettings {
    /// Grace for Kubernetes runtime errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k8s_grace_period: Option<GoDuration>,
    /// Whole-run timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
    /// Max time a server target may stay not-ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_timeout: Option<GoDuration>,
}

/// `update_settings(...)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSettings {
    /// At most this many manifests update at once (default 3, min 1).
    pub max_parallel_updates: u32,
    /// Per-object apply timeout in seconds (default 30).
    pub k8s_upsert_timeout_secs: u32,
    /// Image refs whose "unused image" warning is suppressed (`["*"]` = all).
    pub suppress_unused_image_warnings: Vec<String>,
    /// `"true"`, `"false"` or `"auto"`.
    pub k8s_server_side_apply: String,
}

impl Default for UpdateSettings {
    fn default() -> Self {
        UpdateSettings {
            max_parallel_updates: 3,
            k8s_upsert_timeout_secs: 30,
            suppress_unused_image_warnings: Vec::new(),
            k8s_server_side_apply: "auto".to_string(),
        }
    }
}

impl UpdateSettings {
    /// `k8s_upsert_timeout_secs` as the per-object timeout of applies and deletes (at least 1 s).
    pub fn k8s_upsert_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.k8s_upsert_timeout_secs.max(1)))
    }
}

/// `version_settings(check_updates=True, constraint='')`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionSettings {
    /// Whether to check for updates (no effect in ci).
    pub check_updates: bool,
    /// Semver constraint on the Tilt version, as written.
    pub constraint: String,
}

impl Default for VersionSettings {
    fn default() -> Self {
        VersionSettings { check_updates: true, constraint: String::new() }
    }
}

/// `TRIGGER_MODE_AUTO` / `TRIGGER_MODE_MANUAL`. In ci both get their initial update.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriggerMode {
    /// Updates run when inputs change.
    #[default]
    Auto,
    /// Updates run only when triggered.
    Manual,
}

/// A `link(url, name)` attached to a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// URL (scheme-less URLs already got `http://`).
    pub url: String,
    /// Display name, may be empty.
    pub name: String,
}

/// One Tilt resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Unique resource name.
    pub name: String,
    /// Resources that must be ready (or have succeeded) before this one first starts.
    pub resource_deps: Vec<String>,
    /// Trigger mode.
    pub trigger_mode: TriggerMode,
    /// `auto_init=False` resources never start in ci.
    pub auto_init: bool,
    /// Labels, in declaration order.
    pub labels: Vec<String>,
    /// Links.
    pub links: Vec<Link>,
    /// Where the resource was declared (the `local_resource(...)` call, for example).
    pub declared_at: Option<SourceLocation>,
    /// What the resource runs.
    pub target: ResourceTarget,
}

impl Manifest {
    /// The local target, if this is a local resource.
    pub fn local(&self) -> Option<&LocalTarget> {
        match &self.target {
            ResourceTarget::Local(l) => Some(l),
            _ => None,
        }
    }

    /// The image builds this resource needs, dependencies first (empty for local resources).
    pub fn image_targets(&self) -> &[ImageTarget] {
        match &self.target {
            ResourceTarget::Local(_) => &[],
            ResourceTarget::K8s(t) => &t.images,
            ResourceTarget::DockerCompose(t) => &t.images,
            ResourceTarget::K8sCustomDeploy(t) => &t.images,
        }
    }
}

/// What kind of work a resource does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceTarget {
    /// `local_resource(...)`.
    Local(LocalTarget),
    /// Kubernetes objects from `k8s_yaml` (a workload and what was grouped with it, a
    /// `k8s_resource(objects=...)` group, or `uncategorized`).
    K8s(K8sTarget),
    /// One service of a `docker_compose(...)` project.
    DockerCompose(DockerComposeTarget),
    /// `k8s_custom_deploy(...)`.
    K8sCustomDeploy(K8sCustomDeployTarget),
}

/// A `local_resource`: a one-shot `cmd`, a long-running `serve_cmd`, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalTarget {
    /// The update command (`cmd`), if non-empty.
    pub update_cmd: Option<Cmd>,
    /// The server command (`serve_cmd`), if non-empty.
    pub serve_cmd: Option<Cmd>,
    /// `deps` (absolute paths); recorded, not watched in ci.
    pub deps: Vec<PathBuf>,
    /// `ignore` patterns; recorded.
    pub ignore: Vec<String>,
    /// `allow_parallel`: may run beside other updates.
    pub allow_parallel: bool,
    /// Readiness probe for `serve_cmd`.
    pub readiness_probe: Option<Probe>,
}

/// A command line with its working directory and extra environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cmd {
    /// argv; a string command is `["sh", "-c", <string>]`.
    pub argv: Vec<String>,
    /// Absolute working directory.
    pub dir: PathBuf,
    /// Extra environment on top of the Tiltfile's environment, in order.
    pub env: Vec<(String, String)>,
}

impl Cmd {
    /// The command as Tilt prints it: the script of a `sh -c` command, else the argv joined
    /// with spaces.
    pub fn display(&self) -> String {
        match self.argv.as_slice() {
            [sh, c, script] if sh == "sh" && c == "-c" => script.clone(),
            argv => argv.join(" "),
        }
    }
}

/// `probe(...)` for `local_resource(readiness_probe=...)`; numbers as in Kubernetes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// Seconds to wait after start before the first check.
    pub initial_delay_secs: i32,
    /// Seconds after which one check counts as failed.
    pub timeout_secs: i32,
    /// Seconds between checks.
    pub period_secs: i32,
    /// Consecutive successes to become ready.
    pub success_threshold: i32,
    /// Consecutive failures to become not-ready.
    pub failure_threshold: i32,
    /// What one check does.
    pub action: ProbeAction,
}

/// One readiness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProbeAction {
    /// `exec_action(command)`: run argv locally; exit 0 = success.
    Exec {
        /// argv.
        command: Vec<String>,
    },
    /// `http_get_action(port, host, scheme, path)`: a status in 200..400 = success.
    HttpGet {
        /// Host (default `localhost`).
        host: String,
        /// Port.
        port: i32,
        /// `http` or `https`.
        scheme: String,
        /// Path (may be empty).
        path: String,
    },
    /// `tcp_socket_action(port, host)`: a TCP connect = success.
    TcpSocket {
        /// Host (default `localhost`).
        host: String,
        /// Port.
        port: i32,
    },
}

// ---------------------------------------------------------------------------------------------
// Images, Kubernetes, docker-compose (evaluated as data by `stilt alpha tiltfile-result`).
// ---------------------------------------------------------------------------------------------

/// An image build declared with `docker_build` or `custom_build`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageTarget {
    /// The ref as the Tiltfile wrote it (Tilt's image selector), e.g. `frontend` or
    /// `gcr.io/proj/app:dev`.
    #[serde(rename = "ref")]
    pub image_ref: String,
    /// The normalized ref (`docker.io/library/frontend`).
    pub normalized_ref: String,
    /// Where the image is pushed (after `default_registry`), without the tag Tilt computes.
    pub local_ref: String,
    /// The ref injected into YAML / used by the cluster (`host_from_cluster` applied).
    pub cluster_ref: String,
    /// Only refs with exactly this tag match (the ref has a tag, or two builds share a name).
    pub match_exact: bool,
    /// `match_in_env_vars=True`.
    pub match_in_env_vars: bool,
    /// How the image is built.
    pub build: ImageBuild,
    /// Refs of other builds this one needs first (Dockerfile `FROM`, `image_deps`).
    pub image_deps: Vec<String>,
    /// `live_update=[...]` steps, in order.
    pub live_update: Vec<LiveUpdateStep>,
    /// `entrypoint=`: overrides the container command where the image is injected.
    pub entrypoint: Option<Vec<String>>,
    /// `container_args=`: overrides the container args where the image is injected.
    pub container_args: Option<Vec<String>>,
    /// Only a live-update target (the image of a `k8s_custom_deploy(live_update=...)`).
    pub live_update_only: bool,
    /// Where the build was declared.
    pub declared_at: Option<SourceLocation>,
}

/// The build of an [`ImageTarget`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ImageBuild {
    /// `docker_build(...)`.
    Docker(DockerBuild),
    /// `custom_build(...)`.
    Custom(CustomBuild),
    /// The placeholder build of a live-update-only target.
    None,
}

/// `docker_build(ref, context, ...)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerBuild {
    /// Absolute build context.
    pub context: PathBuf,
    /// Absolute Dockerfile path (`None` when `dockerfile_contents` was given).
    pub dockerfile: Option<PathBuf>,
    /// The Dockerfile text as read at load time (or `dockerfile_contents`).
    pub dockerfile_contents: String,
    /// `build_args`, in order.
    pub build_args: Vec<(String, String)>,
    /// `target=`.
    pub target: String,
    /// `ssh=`.
    pub ssh: Vec<String>,
    /// `secret=`.
    pub secret: Vec<String>,
    /// `network=`.
    pub network: String,
    /// `extra_tag=`.
    pub extra_tag: Vec<String>,
    /// `cache_from=`.
    pub cache_from: Vec<String>,
    /// `pull=`.
    pub pull: bool,
    /// `platform=` (default `$DOCKER_DEFAULT_PLATFORM`).
    pub platform: String,
    /// `extra_hosts=`.
    pub extra_hosts: Vec<String>,
    /// `only=` (relative to the context).
    pub only: Vec<String>,
    /// `ignore=` patterns.
    pub ignore: Vec<String>,
}

/// `custom_build(ref, command, deps, ...)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomBuild {
    /// The build command (str → `sh -c`), its directory and extra environment.
    pub command: Cmd,
    /// `deps=` (absolute paths).
    pub deps: Vec<PathBuf>,
    /// `tag=`.
    pub tag: String,
    /// `disable_push=`.
    pub disable_push: bool,
    /// `skips_local_docker=`.
    pub skips_local_docker: bool,
    /// `outputs_image_ref_to=` (absolute, empty if not given).
    pub outputs_image_ref_to: String,
    /// `ignore=` patterns.
    pub ignore: Vec<String>,
}

/// One `live_update=[...]` step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LiveUpdateStep {
    /// `fall_back_on(paths)` (absolute paths).
    FallBackOn {
        /// Paths whose change forces a full rebuild.
        paths: Vec<PathBuf>,
    },
    /// `initial_sync()`.
    InitialSync,
    /// `sync(local_path, remote_path)`.
    Sync {
        /// Absolute local path.
        local_path: PathBuf,
        /// Path in the container.
        remote_path: String,
    },
    /// `run(cmd, trigger, echo_off)`.
    Run {
        /// argv (a string command is `["sh", "-c", cmd]`).
        cmd: Vec<String>,
        /// Absolute trigger paths (empty = always).
        trigger: Vec<PathBuf>,
        /// `echo_off=`.
        echo_off: bool,
    },
    /// `restart_container()`.
    RestartContainer,
}

/// Kubernetes objects deployed by one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct K8sTarget {
    /// The objects, in Tilt's apply order (kind priority, then declaration order), as parsed.
    pub objects: Vec<serde_json::Value>,
    /// Where images are injected at deploy time.
    pub image_locations: Vec<K8sImageLocation>,
    /// Image builds this resource deploys, dependencies first.
    pub images: Vec<ImageTarget>,
    /// `port_forwards=`.
    pub port_forwards: Vec<PortForward>,
    /// `extra_pod_selectors=`: label sets.
    pub extra_pod_selectors: Vec<BTreeMap<String, String>>,
    /// `pod_readiness=`; Tilt's default is `wait` for resources with workloads and `ignore` for
    /// the others.
    pub pod_readiness: PodReadiness,
    /// `discovery_strategy=`, if given (`""` in JSON when not).
    #[serde(with = "empty_is_none")]
    pub discovery_strategy: Option<DiscoveryStrategy>,
}

impl K8sTarget {
    /// What "ready" means for this resource's pods.
    pub fn readiness(&self) -> PodReadiness {
        self.pod_readiness
    }
}

/// `pod_readiness=` of a k8s resource (or kind): what "ready" means for its pods. Serialised as
/// the Tiltfile spells it (`wait`, `ignore`, `succeeded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PodReadiness {
    /// Ready when the newest pod runs with all containers ready (or has succeeded).
    #[default]
    Wait,
    /// Ready once applied; pods are not looked at.
    Ignore,
    /// Ready only when the newest pod has succeeded (Jobs).
    Succeeded,
}

impl PodReadiness {
    /// Parses the Tiltfile value: `wait` or empty, `ignore`, `succeeded`. `None` for anything else.
    pub fn parse(s: &str) -> Option<PodReadiness> {
        if s.is_empty() { Some(PodReadiness::Wait) } else { s.parse().ok() }
    }

    /// The value as the Tiltfile spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PodReadiness::Wait => "wait",
            PodReadiness::Ignore => "ignore",
            PodReadiness::Succeeded => "succeeded",
        }
    }
}

impl std::str::FromStr for PodReadiness {
    /// Tilt's message for a bad `pod_readiness=`.
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "wait" => Ok(PodReadiness::Wait),
            "ignore" => Ok(PodReadiness::Ignore),
            "succeeded" => Ok(PodReadiness::Succeeded),
            _ => Err(format!("Invalid value. Allowed: {{ignore, wait, succeeded}}. Got: {s}")),
        }
    }
}

impl std::fmt::Display for PodReadiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `k8s_resource(discovery_strategy=...)`: how Tilt finds the resource's pods. Serialised as the
/// Tiltfile spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscoveryStrategy {
    /// `default`: pods owned by the resource's objects, plus `extra_pod_selectors`.
    Default,
    /// `selectors-only`: only pods matching `extra_pod_selectors`.
    SelectorsOnly,
}

impl std::str::FromStr for DiscoveryStrategy {
    /// Tilt's message for a bad `discovery_strategy=`.
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "default" => Ok(DiscoveryStrategy::Default),
            "selectors-only" => Ok(DiscoveryStrategy::SelectorsOnly),
            _ => Err(format!("Invalid. Must be one of: \"default\", \"selectors-only\". Actual: {s:?}")),
        }
    }
}

/// An optional setting that Tilt's JSON spells `""` when unset (`Option<T>` ⇄ `""` or the
/// value's own string form).
mod empty_is_none {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[expect(clippy::ref_option, reason = "serde's `with` passes `&Option<T>`")]
    pub(super) fn serialize<T: Serialize, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => v.serialize(s),
            None => s.serialize_str(""),
        }
    }

    pub(super) fn deserialize<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
    where
        T: std::str::FromStr<Err = String>,
        D: Deserializer<'de>,
    {
        let s = String::deserialize(d)?;
        if s.is_empty() { Ok(None) } else { s.parse().map(Some).map_err(D::Error::custom) }
    }
}

/// An image reference found in an object, and the build injected there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct K8sImageLocation {
    /// Index of the object in [`K8sTarget::objects`].
    pub object: usize,
    /// Where the field is: a JSON pointer, shown and serialised as its JSONPath
    /// (`{.spec.template.spec.containers[0].image}`).
    pub path: ImagePath,
    /// The image as written in the YAML.
    pub image: String,
    /// The `ref` of the build injected here, if any.
    pub build_ref: Option<String>,
    /// The ref that replaces it at deploy time (the build's cluster ref plus Tilt's tag).
    pub injected_ref: Option<String>,
}

/// A port forward of a Kubernetes resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortForward {
    /// Local port.
    pub local_port: u32,
    /// Container port (0 = same as local).
    pub container_port: u32,
    /// Bind host (empty = localhost).
    pub host: String,
    /// Link name.
    pub name: String,
    /// Link path.
    pub link_path: String,
}

/// One service of a docker-compose project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerComposeTarget {
    /// Compose project name.
    pub project_name: String,
    /// Compose files (absolute), in order.
    pub config_paths: Vec<PathBuf>,
    /// Project directory.
    pub project_path: PathBuf,
    /// The service name.
    pub service: String,
    /// The merged service definition (files merged in order, variables interpolated).
    pub service_config: serde_json::Value,
    /// Image of the service (`image:` or `dc_resource(image=)`), if any.
    pub image: Option<String>,
    /// Published host ports.
    pub published_ports: Vec<u32>,
    /// Image builds this service uses, dependencies first.
    pub images: Vec<ImageTarget>,
}

/// `k8s_custom_deploy(...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct K8sCustomDeployTarget {
    /// `apply_cmd` (must print the YAML it deployed).
    pub apply_cmd: Cmd,
    /// `delete_cmd`.
    pub delete_cmd: Cmd,
    /// `deps` (absolute).
    pub deps: Vec<PathBuf>,
    /// `image_selector`.
    pub image_selector: String,
    /// `container_selector`.
    pub container_selector: String,
    /// `image_deps`: refs of builds to run first.
    pub image_deps: Vec<String>,
    /// Image builds (the `image_deps`, and a live-update-only target when `live_update` is set).
    pub images: Vec<ImageTarget>,
    /// `port_forwards=` from `k8s_resource`.
    pub port_forwards: Vec<PortForward>,
    /// `extra_pod_selectors=` from `k8s_resource`.
    pub extra_pod_selectors: Vec<BTreeMap<String, String>>,
    /// `pod_readiness=` from `k8s_resource` (`wait` when not given).
    pub pod_readiness: PodReadiness,
}

/// `default_registry(host, host_from_cluster, single_name)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultRegistry {
    /// Where images are pushed.
    pub host: String,
    /// How the cluster reaches it (empty = same as `host`).
    pub host_from_cluster: String,
    /// Every image goes to `host/single_name`, told apart by tag.
    pub single_name: String,
}

/// `k8s_kind(...)` / `k8s_image_json_path(...)`: where images live in other kinds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct K8sKindInfo {
    /// Kind (a case-insensitive regexp).
    pub kind: String,
    /// apiVersion (a case-insensitive regexp, empty = any).
    pub api_version: String,
    /// Object name (exact, empty = any; `k8s_image_json_path` only).
    pub name: String,
    /// Namespace (exact, empty = any; `k8s_image_json_path` only).
    pub namespace: String,
    /// JSONPath strings of image fields.
    pub image_json_paths: Vec<String>,
    /// `image_object={'json_path', 'repo_field', 'tag_field'}`.
    pub image_object: Option<ImageObjectLocator>,
    /// `pod_readiness=` for objects of this kind, if given (`""` in JSON when not).
    #[serde(with = "empty_is_none")]
    pub pod_readiness: Option<PodReadiness>,
    /// Objects of this kind are workloads even without images (`k8s_kind` only).
    pub is_workload: bool,
}

/// `k8s_kind(image_object=...)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageObjectLocator {
    /// JSONPath of the object holding the image.
    pub json_path: String,
    /// Field with the repository.
    pub repo_field: String,
    /// Field with the tag.
    pub tag_field: String,
}

/// An API object registered with `v1alpha1.*` (`cmd`, `ui_button`, `extension_repo`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiObject {
    /// Kind (`Cmd`, `UIButton`, `ExtensionRepo`, `Extension`, `ConfigMap`, `FileWatch`,
    /// `KubernetesApply`, `KubernetesDiscovery`).
    pub kind: String,
    /// Object name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// The spec as Tilt's API defines it (camelCase keys).
    pub spec: serde_json::Value,
}

/// An extension that `load('ext://...')` resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadedExtension {
    /// Extension name (`restart_process`, `nested/name`).
    pub name: String,
    /// The extension repo it came from (`default` = tilt-extensions).
    pub repo_name: String,
    /// Path inside the repo.
    pub repo_path: String,
    /// The Tiltfile that was executed.
    pub path: PathBuf,
}

/// Result-level settings that only matter for image builds and clusters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSettings {
    /// `default_registry(...)`.
    pub default_registry: Option<DefaultRegistry>,
    /// `allow_k8s_contexts(...)`, in call order.
    pub allowed_k8s_contexts: Vec<String>,
    /// `k8s_kind` / `k8s_image_json_path` calls, in order.
    pub k8s_kinds: Vec<K8sKindInfo>,
    /// `watch_settings(ignore=...)`.
    pub watch_ignores: Vec<String>,
    /// `docker_prune_settings(...)`: (disable, max_age_mins, num_builds, interval_hrs, keep_recent).
    pub docker_prune: Option<DockerPruneSettings>,
}

/// `docker_prune_settings(...)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerPruneSettings {
    /// `disable=`.
    pub disable: bool,
    /// `max_age_mins=`.
    pub max_age_mins: i32,
    /// `num_builds=`.
    pub num_builds: i32,
    /// `interval_hrs=`.
    pub interval_hrs: i32,
    /// `keep_recent=`.
    pub keep_recent: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The typed settings serialise to the strings `stilt alpha tiltfile-result` always printed
    /// (an unset optional one as `""`), and read back.
    #[test]
    fn typed_settings_keep_their_json_strings() {
        let kind = K8sKindInfo {
            kind: "Thing".into(),
            api_version: String::new(),
            name: String::new(),
            namespace: String::new(),
            image_json_paths: Vec::new(),
            image_object: None,
            pod_readiness: None,
            is_workload: true,
        };
        let v = serde_json::to_value(&kind).unwrap();
        assert_eq!(v["podReadiness"], json!(""));
        assert_eq!(serde_json::from_value::<K8sKindInfo>(v).unwrap(), kind);
        let set = K8sKindInfo { pod_readiness: Some(PodReadiness::Succeeded), ..kind };
        assert_eq!(serde_json::to_value(&set).unwrap()["podReadiness"], json!("succeeded"));
        for (strategy, text) in [
            (None, ""),
            (Some(DiscoveryStrategy::Default), "default"),
            (Some(DiscoveryStrategy::SelectorsOnly), "selectors-only"),
        ] {
            #[derive(Serialize, Deserialize, PartialEq, Debug)]
            struct W(#[serde(with = "empty_is_none")] Option<DiscoveryStrategy>);
            assert_eq!(serde_json::to_value(W(strategy)).unwrap(), json!(text));
            assert_eq!(serde_json::from_value::<W>(json!(text)).unwrap(), W(strategy));
        }
        assert!(serde_json::from_value::<K8sKindInfo>(json!({"podReadiness": "maybe"})).is_err());
        assert_eq!(
            "maybe".parse::<PodReadiness>().unwrap_err(),
            "Invalid value. Allowed: {ignore, wait, succeeded}. Got: maybe"
        );
    }
}
