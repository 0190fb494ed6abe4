//! The engine's state: one record per resource, owned by the dispatcher alone.
//!
//! Executors never touch it; they send messages, and the pure reducer
//! ([`EngineState::apply`], `engine::reducer`) applies them here and says what to do next. The
//! scheduler and the session builder are pure functions of it.
use super::container_health::ContainerHealth;
use crate::exec::image_build::ImageBuildRecord;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;
use stilt_core::k8s_pod::PodSummary;
use stilt_core::{CiSettings, EnvironmentFailure, GoDuration, Manifest, TiltfileError, TiltfileResult};

/// The update (`cmd`) side of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdatePhase {
    /// Not started.
    NotStarted,
    /// `cmd` is running.
    Running {
        /// Start time.
        start: DateTime<Utc>,
    },
    /// `cmd` finished (or there was none and the resource started).
    Done {
        /// Start time.
        start: DateTime<Utc>,
        /// Finish time.
        finish: DateTime<Utc>,
        /// Failure text; `None` on success.
        error: Option<String>,
    },
}

/// The serve (`serve_cmd`) side of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServePhase {
    /// Not started.
    NotStarted,
    /// Running with this pid.
    Running {
        /// Process id, once the process started.
        pid: Option<u32>,
        /// Start time.
        start: DateTime<Utc>,
        /// Ready now.
        ready: bool,
        /// Last time it was ready.
        last_ready: Option<DateTime<Utc>>,
    },
    /// The process exited (always an error in ci).
    Exited {
        /// Start time.
        start: DateTime<Utc>,
        /// Exit time.
        finish: DateTime<Utc>,
        /// Why.
        error: String,
    },
}

/// The runtime side of a docker-compose resource (its container) or a Kubernetes resource
/// (its pods).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimePhase {
    /// Not deployed yet.
    NotStarted,
    /// The container exists.
    Container {
        /// Container name (`project-service-1`).
        name: String,
        /// When the deploy finished.
        start: DateTime<Utc>,
        /// What its last state means; `Failed` is final.
        health: ContainerHealth,
        /// When `health` last changed (the finish time once it failed).
        changed: DateTime<Utc>,
        /// Last time it was seen ready.
        last_ready: Option<DateTime<Utc>>,
    },
    /// The objects of a Kubernetes resource were applied.
    K8s {
        /// When the apply finished (the start time of the runtime target, as in Tilt).
        deployed_at: DateTime<Utc>,
        /// A Job had completed at apply time.
        job_complete: bool,
        /// The resource's pods as last seen.
        pods: Vec<PodSummary>,
        /// When the runtime status last changed.
        changed: DateTime<Utc>,
        /// Last time it was seen ready.
        last_ready: Option<DateTime<Utc>>,
    },
}

/// One resource's live state.
#[derive(Debug, Clone)]
pub struct ResourceState {
    /// What the Tiltfile declared.
    pub manifest: Manifest,
    /// Selected for this run.
    pub enabled: bool,
    /// `cmd` side.
    pub update: UpdatePhase,
    /// `serve_cmd` side.
    pub serve: ServePhase,
    /// Runtime side of a docker-compose resource.
    pub runtime: RuntimePhase,
    /// Images this resource's update built, in build order.
    pub images: Vec<ImageBuildRecord>,
    /// Has ever been ready (or succeeded): unblocks `resource_deps`.
    pub ever_ready: bool,
}

impl ResourceState {
    /// A fresh record.
    pub fn new(manifest: Manifest, enabled: bool) -> Self {
        ResourceState {
            manifest,
            enabled,
            update: UpdatePhase::NotStarted,
            serve: ServePhase::NotStarted,
            runtime: RuntimePhase::NotStarted,
            images: Vec::new(),
            ever_ready: false,
        }
    }

    /// The `cmd` is running.
    pub fn is_updating(&self) -> bool {
        matches!(self.update, UpdatePhase::Running { .. })
    }

    /// A local resource that may not update beside anything else.
    pub fn is_unparallelizable_local(&self) -> bool {
        self.manifest.local().is_some_and(|l| !l.allow_parallel)
    }

    /// Eligible for its first update in ci.
    pub fn wants_initial_update(&self) -> bool {
        self.enabled && self.manifest.auto_init && self.update == UpdatePhase::NotStarted
    }
}

/// The Tiltfile's own target.
#[derive(Debug, Clone)]
pub enum TiltfilePhase {
    /// Loading now.
    Loading {
        /// Start.
        start: DateTime<Utc>,
    },
    /// Loaded.
    Loaded {
        /// Start.
        start: DateTime<Utc>,
        /// Finish.
        finish: DateTime<Utc>,
    },
    /// Failed to load.
    Failed {
        /// Start.
        start: DateTime<Utc>,
        /// Finish.
        finish: DateTime<Utc>,
        /// The error.
        error: Arc<TiltfileError>,
    },
}

/// Everything the dispatcher owns.
#[derive(Debug, Clone)]
pub struct EngineState {
    /// Resources in manifest order.
    pub resources: Vec<ResourceState>,
    /// `update_settings(max_parallel_updates=)`, at least 1.
    pub max_parallel_updates: usize,
    /// The Tiltfile target.
    pub tiltfile: TiltfilePhase,
    /// Absolute Tiltfile path.
    pub tiltfile_path: PathBuf,
    /// Effective ci settings.
    pub ci: CiSettings,
    /// Process start.
    pub start_time: DateTime<Utc>,
    /// Our pid.
    pub pid: u32,
    /// The machine failed the run (Docker daemon unreachable).
    pub environment_failure: Option<EnvironmentFailure>,
}

/// Tilt's default readiness timeout, in seconds (`ci_settings(readiness_timeout=)` overrides it).
pub const DEFAULT_READINESS_TIMEOUT_SECS: i64 = 300;

/// The ci settings in effect: the Tiltfile's, with `--timeout` and Tilt's readiness default
/// where it set none (`spec.ci` of the Session shows these).
pub fn effective_ci(tiltfile: &CiSettings, cli_timeout: GoDuration) -> CiSettings {
    CiSettings {
        k8s_grace_period: tiltfile.k8s_grace_period,
        timeout: tiltfile.timeout.or(Some(cli_timeout)),
        readiness_timeout: tiltfile.readiness_timeout.or(Some(GoDuration::from_secs(DEFAULT_READINESS_TIMEOUT_SECS))),
    }
}

impl EngineState {
    /// The state of a run whose Tiltfile is being loaded since `start` (no resources yet; the
    /// ci settings are the defaults with `--timeout`).
    pub fn loading(
        tiltfile_path: PathBuf,
        cli_timeout: GoDuration,
        start_time: DateTime<Utc>,
        start: DateTime<Utc>,
    ) -> Self {
        EngineState {
            resources: Vec::new(),
            max_parallel_updates: 3,
            tiltfile: TiltfilePhase::Loading { start },
            tiltfile_path,
            ci: effective_ci(&CiSettings::default(), cli_timeout),
            start_time,
            pid: std::process::id(),
            environment_failure: None,
        }
    }

    /// Records a loaded Tiltfile: its resources (enabled if selected), settings and the load's
    /// times.
    pub fn loaded(
        &mut self,
        result: &TiltfileResult,
        cli_timeout: GoDuration,
        start: DateTime<Utc>,
        finish: DateTime<Utc>,
    ) {
        self.tiltfile = TiltfilePhase::Loaded { start, finish };
        let enabled: std::collections::BTreeSet<&str> = result.enabled_resources.iter().map(String::as_str).collect();
        self.resources =
            result.manifests.iter().map(|m| ResourceState::new(m.clone(), enabled.contains(m.name.as_str()))).collect();
        self.max_parallel_updates = usize::try_from(result.update_settings.max_parallel_updates.max(1)).unwrap_or(1);
        self.ci = effective_ci(&result.ci_settings, cli_timeout);
    }

    /// The record of an image already built in this run, by its Tiltfile ref.
    pub fn built_image(&self, image_ref: &str) -> Option<&ImageBuildRecord> {
        self.resources.iter().flat_map(|r| &r.images).find(|i| i.image == image_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tiltfile_overrides_the_flag_and_the_readiness_default() {
        let cli = GoDuration::from_secs(60);
        let none = effective_ci(&CiSettings::default(), cli);
        assert_eq!(none.timeout, Some(cli));
        assert_eq!(none.readiness_timeout, Some(GoDuration::from_secs(DEFAULT_READINESS_TIMEOUT_SECS)));
        assert_eq!(none.k8s_grace_period, None);
        let set = CiSettings {
            k8s_grace_period: Some(GoDuration::from_secs(5)),
            timeout: Some(GoDuration::from_secs(10)),
            readiness_timeout: Some(GoDuration::from_secs(0)),
        };
        assert_eq!(effective_ci(&set, cli), set);
    }
}
