//! Messages from executors to the dispatcher.

use super::image_build::{ImageBuildRecord, UpdateError};
use super::resource_update::Deployed;
use crate::event::LogSource;
use stilt_docker::compose::ContainerStatus;

/// What an executor tells the dispatcher. `resource` is the resource's index.
#[derive(Debug)]
pub enum ExecMsg {
    /// A process started.
    Started {
        /// Resource index.
        resource: usize,
        /// Which process.
        source: LogSource,
        /// Its pid (and process-group id).
        pid: u32,
    },
    /// One line of output.
    Output {
        /// Resource index.
        resource: usize,
        /// Build (`cmd`) or runtime (`serve_cmd`).
        source: LogSource,
        /// The line.
        line: String,
    },
    /// A process exited (after its output was drained).
    Exited {
        /// Resource index.
        resource: usize,
        /// Which process.
        source: LogSource,
        /// Its pid.
        pid: u32,
        /// `None` for exit code 0, else Go-style text (`exit status 3`, `signal: killed`).
        failure: Option<String>,
        /// Exit code if it exited normally.
        code: Option<i32>,
    },
    /// A readiness probe changed its mind about a serve process.
    Probe {
        /// Resource index.
        resource: usize,
        /// The serve process it probes.
        pid: u32,
        /// Ready now.
        ready: bool,
        /// Why the last check failed, for the log.
        detail: Option<String>,
    },
    /// An image of a resource's update was built.
    ImageBuilt {
        /// Resource index.
        resource: usize,
        /// What was built.
        record: ImageBuildRecord,
    },
    /// A non-local update (image builds, deploy) finished.
    UpdateFinished {
        /// Resource index.
        resource: usize,
        /// What it left running, or why it failed.
        result: Result<Deployed, UpdateError>,
    },
    /// A compose container changed state (or could no longer be inspected).
    Container {
        /// Resource index.
        resource: usize,
        /// The new state, or why it is unknown.
        status: Result<ContainerStatus, String>,
    },
    /// A built image was pushed to a registry.
    ImagePushed {
        /// The build's ref as the Tiltfile wrote it.
        image: String,
        /// The ref pushed.
        pushed_ref: String,
        /// The manifest digest the registry reported.
        digest: Option<String>,
    },
    /// The pods of a Kubernetes resource changed: all of them now, each read once by
    /// stilt-k8s (`pod_summary`).
    Pods {
        /// Resource index.
        resource: usize,
        /// Every pod the resource's watches see.
        pods: Vec<stilt_core::k8s_pod::PodSummary>,
    },
    /// Something about a resource's runtime the log should say (a pod watch failed and is
    /// retried, a pod log could not be followed).
    RuntimeWarning {
        /// Resource index.
        resource: usize,
        /// What happened.
        message: String,
    },
}
