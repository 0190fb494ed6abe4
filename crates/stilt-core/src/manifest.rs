//! What a Tiltfile means, as plain data: the evaluator's only output and the engine's only input.
//!
//! Mirrors Tilt's `TiltfileLoadResult` / `model.Manifest`: evaluation never touches the engine,
//! and the engine never looks at Starlark. Everything here is `Serialize` so that
//! `stilt alpha tiltfile-result` can print it and tests can compare it.

use crate::duration::GoDuration;
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
        }
    }
}

/// What kind of work a resource does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceTarget {
    /// `local_resource(...)`.
    Local(LocalTarget),
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
