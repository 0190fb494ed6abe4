//! What the engine's reducer ([`EngineState::apply`](super::engine_state::EngineState::apply))
//! asks the world to do. The reducer only changes state and returns these; the dispatcher (the
//! effect runner) carries them out and owns every task and handle they create. That split is
//! what lets the rules be tested without processes, clusters or a Docker daemon.

use crate::event::{Event, Level, LogSource};
use crate::exec::image_build::ImageBuildRecord;
use crate::exec::k8s_deploy::K8sDeployed;
use stilt_core::manifest::ImageTarget;
use stilt_core::{Cmd, Probe};

/// One thing to do, in the order the reducer returned it.
#[derive(Debug)]
pub enum Effect {
    /// A line for the resource's log.
    Log {
        /// Resource index.
        resource: usize,
        /// Build or runtime log.
        source: LogSource,
        /// Level.
        level: Level,
        /// A header line (`Initial Build`).
        header: bool,
        /// The text.
        text: String,
    },
    /// An event for the reporters (image built or pushed, pods changed).
    Emit(Event),
    /// Start a command (forked at the end of the turn, see
    /// [`launch`](crate::exec::local_process::launch)).
    Launch {
        /// Resource index.
        resource: usize,
        /// What to run.
        cmd: Cmd,
        /// `Build` for `cmd`, `Runtime` for `serve_cmd`.
        source: LogSource,
    },
    /// Start probing a serve process.
    StartProbe {
        /// Resource index.
        resource: usize,
        /// The serve process.
        pid: u32,
        /// The probe.
        probe: Probe,
        /// The serve command (its environment and directory are the probe's).
        cmd: Cmd,
    },
    /// Stop the resource's prober (its serve process exited).
    StopProbe {
        /// Resource index.
        resource: usize,
    },
    /// Start a non-local update: image builds in dependency order, then the resource's compose
    /// or Kubernetes deploy.
    StartUpdate {
        /// Resource index.
        resource: usize,
        /// The images to build.
        images: Vec<ImageTarget>,
        /// Images already built in this run (shared with another resource).
        prebuilt: Vec<ImageBuildRecord>,
    },
    /// Watch a deployed compose container's state.
    WatchContainer {
        /// Resource index.
        resource: usize,
        /// Container id.
        id: String,
    },
    /// Watch the pods of a deployed Kubernetes resource.
    WatchPods {
        /// Resource index.
        resource: usize,
        /// The cluster and where the pods are found.
        deployed: K8sDeployed,
    },
    /// Follow the logs of these started containers (those already followed are skipped).
    FollowLogs {
        /// Resource index.
        resource: usize,
        /// Every started container of the resource's pods.
        containers: Vec<PodContainer>,
    },
}

/// One container of a pod whose log can be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodContainer {
    /// Pod uid (a restarted pod's container is a new stream).
    pub uid: String,
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// Prefix for its lines (`[container] ` when the pod has several).
    pub prefix: String,
}
