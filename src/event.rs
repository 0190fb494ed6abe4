//! The one stream from the engine to every reporter.
//!
//! The dispatcher emits [`Event`]s in order over a channel; the log stream, the per-resource log
//! files, the JUnit and JSON reports each fold the same stream (nextest's reporter split). The
//! status API reads the latest [`Session`] from a watch channel instead, because it only ever
//! needs the current snapshot.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use stilt_core::{FailureClass, Session, TiltfileError, TiltfileResult};

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Ordinary output.
    Info,
    /// Printed with `WARNING: `.
    Warn,
    /// Printed with `ERROR: `.
    Error,
}

/// Which side of a resource a line came from (`--log-source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSource {
    /// Update/build output (`cmd`, image builds, apply).
    Build,
    /// Runtime output (`serve_cmd`, pods).
    Runtime,
}

/// One line of log. `resource` is `None` for the Tiltfile and global lines.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Owning resource, `None` for Tiltfile/global.
    pub resource: Option<Arc<str>>,
    /// Build or runtime.
    pub source: LogSource,
    /// Severity.
    pub level: Level,
    /// A header line (`Initial Build`) that survives `--log-level` filtering.
    pub header: bool,
    /// The text, without trailing newline.
    pub text: String,
    /// When it was produced.
    pub time: DateTime<Utc>,
}

/// How the run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `None` on success.
    pub failure: Option<Failure>,
    /// Process exit code.
    pub exit_code: stilt_core::ExitCode,
}

/// Why the run failed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Message printed as `Error: <message>`.
    pub message: String,
    /// Class (exit code, JUnit type).
    pub class: FailureClass,
    /// The failing target, if one.
    pub target: Option<String>,
}

/// Everything reporters hear about, in order.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run started (before the Tiltfile loads).
    RunStarted {
        /// Absolute Tiltfile path.
        tiltfile: std::path::PathBuf,
        /// Process start.
        start_time: DateTime<Utc>,
        /// Status API URL, if serving.
        status_url: Option<String>,
    },
    /// The Tiltfile loaded.
    TiltfileLoaded {
        /// The result.
        result: Arc<TiltfileResult>,
        /// Wall time of the load.
        duration: Duration,
    },
    /// The Tiltfile failed to load.
    TiltfileFailed {
        /// The error.
        error: Arc<TiltfileError>,
    },
    /// A log line.
    Log(LogLine),
    /// A resource's update built an image.
    ImageBuilt {
        /// The resource.
        resource: Arc<str>,
        /// What was built.
        record: crate::exec::image_build::ImageBuildRecord,
    },
    /// A built image was pushed to a registry (every record of that image gets the digest).
    ImagePushed {
        /// The build's ref as the Tiltfile wrote it.
        image: String,
        /// The ref pushed.
        pushed_ref: String,
        /// The registry's manifest digest.
        digest: Option<String>,
    },
    /// The pods of a Kubernetes resource changed (all of them now).
    PodsChanged {
        /// The resource.
        resource: Arc<str>,
        /// Its pods.
        pods: Vec<stilt_core::k8s_pod::PodSummary>,
    },
    /// The session snapshot changed.
    SessionChanged(Arc<Session>),
    /// The run is over; the session is final. Reporters write their files now.
    RunFinished {
        /// Final session.
        session: Arc<Session>,
        /// Outcome.
        outcome: Outcome,
    },
}
