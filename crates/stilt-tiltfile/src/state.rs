//! What a Tiltfile declared while it ran, before it is turned into a
//! [`TiltfileResult`](stilt_core::TiltfileResult).

use std::collections::BTreeMap;
use std::path::PathBuf;
use stilt_core::manifest::{
    ApiObject, ClusterSettings, DiscoveryStrategy, ImageTarget, K8sCustomDeployTarget, Link, LoadedExtension,
    PodReadiness, PortForward, VersionSettings,
};
use stilt_core::{CiSettings, Manifest, SourceLocation, TriggerMode, UpdateSettings};

/// The model collected by the builtins. Plain data; ordered containers only.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The evaluator-owned environment (`os.putenv`, `os.environ`), seen by `local()`.
    pub(crate) env: BTreeMap<String, String>,
    /// Declared resources, in declaration order, with their own trigger mode if they set one.
    pub(crate) resources: Vec<DeclaredResource>,
    /// `trigger_mode(...)`: the default for resources that set none, and where it was set.
    pub(crate) trigger_mode: Option<(TriggerMode, Option<SourceLocation>)>,
    pub(crate) ci_settings: CiSettings,
    pub(crate) update_settings: UpdateSettings,
    pub(crate) disable_secret_scrub: bool,
    pub(crate) version_settings: VersionSettings,
    pub(crate) features: BTreeMap<String, bool>,
    pub(crate) analytics_enabled: Option<bool>,
    pub(crate) team_id: Option<String>,
    /// Files executed or read, in first-seen order.
    pub(crate) watched_paths: Vec<PathBuf>,
    pub(crate) config: ConfigState,
    /// `docker_build` / `custom_build` calls, in order.
    pub(crate) images: Vec<ImageDecl>,
    /// Objects from `k8s_yaml`, in order (the pool assembly groups into resources).
    pub(crate) k8s_objects: Vec<K8sObject>,
    /// `k8s_resource` calls, in order (applied after the Tiltfile ran, like Tilt).
    pub(crate) k8s_opts: Vec<K8sResourceOpts>,
    /// `k8s_custom_deploy` resources, in order.
    pub(crate) custom_deploys: Vec<CustomDeployDecl>,
    /// Registry, contexts, kinds, watch and prune settings.
    pub(crate) cluster: ClusterSettings,
    /// `docker_compose` projects (Tilt merges calls with the same project name).
    pub(crate) compose: Vec<ComposeProject>,
    /// `dc_resource` calls, in order.
    pub(crate) dc_opts: Vec<DcResourceOpts>,
    /// `v1alpha1.*` objects, in order.
    pub(crate) api_objects: Vec<ApiObject>,
    /// Extensions loaded, in order.
    pub(crate) extensions: Vec<LoadedExtension>,
    /// `workload_to_resource_function` was called (the file whose module holds the function).
    pub(crate) workload_namer: Option<(PathBuf, Option<SourceLocation>)>,
}

/// One `docker_build` / `custom_build`: the target without its resolved dependencies.
#[derive(Debug, Clone)]
pub(crate) struct ImageDecl {
    pub(crate) target: ImageTarget,
    /// Images named in the Dockerfile (`FROM`, `COPY --from`), or `image_deps`.
    pub(crate) dep_refs: Vec<String>,
}

/// One object from `k8s_yaml`, with where it was declared.
#[derive(Debug, Clone)]
pub(crate) struct K8sObject {
    pub(crate) obj: serde_json::Value,
    pub(crate) declared_at: Option<SourceLocation>,
}

/// One `k8s_resource(...)` call.
#[derive(Debug, Clone, Default)]
pub(crate) struct K8sResourceOpts {
    pub(crate) workload: String,
    pub(crate) new_name: String,
    pub(crate) port_forwards: Vec<PortForward>,
    pub(crate) extra_pod_selectors: Vec<BTreeMap<String, String>>,
    pub(crate) trigger_mode: Option<TriggerMode>,
    pub(crate) resource_deps: Vec<String>,
    pub(crate) objects: Vec<String>,
    pub(crate) auto_init: Option<bool>,
    pub(crate) pod_readiness: Option<PodReadiness>,
    pub(crate) links: Vec<Link>,
    pub(crate) labels: Vec<String>,
    pub(crate) discovery_strategy: Option<DiscoveryStrategy>,
    pub(crate) declared_at: Option<SourceLocation>,
}

/// One `k8s_custom_deploy(...)` call.
#[derive(Debug, Clone)]
pub(crate) struct CustomDeployDecl {
    pub(crate) name: String,
    pub(crate) target: K8sCustomDeployTarget,
    /// The live-update-only image target, if `live_update` was given.
    pub(crate) live_update_image: Option<ImageTarget>,
    pub(crate) declared_at: Option<SourceLocation>,
}

/// A docker-compose project: its files merged in order.
#[derive(Debug, Clone)]
pub(crate) struct ComposeProject {
    pub(crate) name: String,
    pub(crate) project_path: PathBuf,
    pub(crate) config_paths: Vec<PathBuf>,
    /// Services in resource order (dependencies first), with their merged config.
    pub(crate) services: Vec<(String, serde_json::Value)>,
    pub(crate) declared_at: Option<SourceLocation>,
}

/// One `dc_resource(...)` call.
#[derive(Debug, Clone, Default)]
pub(crate) struct DcResourceOpts {
    pub(crate) name: String,
    pub(crate) image: Option<String>,
    pub(crate) trigger_mode: Option<TriggerMode>,
    pub(crate) resource_deps: Vec<String>,
    pub(crate) links: Vec<Link>,
    pub(crate) labels: Vec<String>,
    pub(crate) auto_init: Option<bool>,
    pub(crate) project_name: String,
    pub(crate) new_name: String,
}

/// A resource plus the parts resolved only after the Tiltfile finished.
#[derive(Debug)]
pub(crate) struct DeclaredResource {
    /// The manifest; its `trigger_mode` is replaced by the resolved one at the end.
    pub(crate) manifest: Manifest,
    /// `trigger_mode=` if given.
    pub(crate) trigger_mode: Option<TriggerMode>,
}

/// `config.*` state.
#[derive(Debug, Default)]
pub(crate) struct ConfigState {
    /// Settings by name.
    pub(crate) defs: BTreeMap<String, ConfigDef>,
    /// The setting that collects positional args (`args=True`).
    pub(crate) positional: Option<String>,
    /// Directory `config.parse()` was called from.
    pub(crate) parse_dir: Option<PathBuf>,
    /// `config.set_enabled_resources` / `config.clear_enabled_resources`.
    pub(crate) enabled: EnabledOverride,
}

/// One `config.define_*` setting.
#[derive(Debug, Clone)]
pub(crate) struct ConfigDef {
    pub(crate) kind: ConfigKind,
    pub(crate) usage: String,
}

/// The type of a config setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfigKind {
    String,
    StringList,
    Bool,
    Object,
}

/// What `config.set_enabled_resources` / `clear_enabled_resources` asked for.
#[derive(Debug, Default, Clone)]
pub(crate) enum EnabledOverride {
    /// Neither was called.
    #[default]
    Unset,
    /// `set_enabled_resources(list)` (empty = all).
    Set(Vec<String>),
    /// `clear_enabled_resources()`: none.
    Clear,
}
