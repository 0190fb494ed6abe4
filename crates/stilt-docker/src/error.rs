//! The errors of the Docker boundary. Every message names the image and, for builds, the
//! failing Dockerfile step; a daemon or I/O cause is the `#[source]`, never also part of the
//! message (render with [`stilt_core::error_chain`]). Each error knows its [`FailureClass`]: an
//! unusable daemon is the environment's failure (exit 4), a build the daemon refused is the
//! resource's (exit 1).

use std::fmt;
use std::path::PathBuf;
use stilt_core::FailureClass;

/// The daemon could not be reached (or did not answer `/version`).
#[derive(Debug, thiserror::Error)]
#[error("failed to connect to the Docker daemon at {host}")]
pub struct ConnectError {
    pub host: String,
    #[source]
    pub source: bollard::errors::Error,
}

impl ConnectError {
    /// No daemon is the environment's failure.
    pub fn class(&self) -> FailureClass {
        FailureClass::Environment
    }
}

/// A Dockerfile step, as the classic builder announces it: `Step 3/5 : RUN false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub index: u32,
    pub total: u32,
    /// The instruction as printed, e.g. `RUN false`.
    pub instruction: String,
}

impl Step {
    /// Parses `Step 3/5 : RUN false`.
    pub fn parse(line: &str) -> Option<Self> {
        let rest = line.trim_start().strip_prefix("Step ")?;
        let (nums, instruction) = rest.split_once(" : ")?;
        let (index, total) = nums.split_once('/')?;
        Some(Self {
            index: index.parse().ok()?,
            total: total.parse().ok()?,
            instruction: instruction.trim().to_string(),
        })
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {}/{} {:?}", self.index, self.total, self.instruction)
    }
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A parameter stilt (or the chosen builder) cannot honour.
    #[error("failed to build image {image:?}: {reason}")]
    InvalidRequest { image: String, reason: String },
    #[error("failed to build image {image:?}: build context {path:?} does not exist or is not a directory")]
    ContextNotFound { image: String, path: PathBuf },
    #[error("failed to build image {image:?}: Dockerfile {path:?} not found")]
    DockerfileNotFound { image: String, path: PathBuf },
    /// Reading the context (or sending it) failed.
    #[error("failed to build image {image:?}: reading the build context")]
    Context {
        image: String,
        #[source]
        source: std::io::Error,
    },
    /// The daemon reported a build error; `step` is the last `Step N/M` it announced.
    #[error("failed to build image {image:?}: {}{message}", step.as_ref().map(|s| format!("{s}: ")).unwrap_or_default())]
    Failed { image: String, step: Option<Step>, message: String },
    #[error("failed to build image {image:?}: the daemon reported no image id")]
    NoImageId { image: String },
    /// A daemon call after the build (tagging) failed.
    #[error("failed to build image {image:?}")]
    Docker {
        image: String,
        #[source]
        source: bollard::errors::Error,
    },
}

impl BuildError {
    /// A failed build is the resource's failure (the daemon answered; the build did not work).
    pub fn class(&self) -> FailureClass {
        FailureClass::UpdateFailed
    }
}

/// A push the registry (or the daemon) refused; `message` is the daemon's words.
#[derive(Debug, thiserror::Error)]
#[error("failed to push image {reference:?}: {message}")]
pub struct PushError {
    pub reference: String,
    pub message: String,
}

impl PushError {
    /// A refused push is the resource's failure.
    pub fn class(&self) -> FailureClass {
        FailureClass::UpdateFailed
    }
}

/// Any other daemon call.
#[derive(Debug, thiserror::Error)]
#[error("failed to {action}")]
pub struct DockerError {
    pub action: String,
    #[source]
    pub source: bollard::errors::Error,
}

impl DockerError {
    /// A daemon call that failed outside a build is the environment's failure.
    pub fn class(&self) -> FailureClass {
        FailureClass::Environment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_build_names_the_step() {
        let e = BuildError::Failed {
            image: "x".into(),
            step: Step::parse("Step 3/5 : RUN false"),
            message: "The command '/bin/sh -c false' returned a non-zero code: 1".into(),
        };
        assert_eq!(
            e.to_string(),
            "failed to build image \"x\": step 3/5 \"RUN false\": The command '/bin/sh -c false' returned a non-zero code: 1"
        );
        assert_eq!(Step::parse(" ---> abc"), None);
    }

    /// The cause is the source, said once by the chain.
    #[test]
    fn causes_are_sources_not_message_text() {
        let e = BuildError::Context { image: "x".into(), source: std::io::Error::other("disk gone") };
        assert_eq!(e.to_string(), "failed to build image \"x\": reading the build context");
        assert_eq!(
            stilt_core::error_chain::error_chain(&e),
            "failed to build image \"x\": reading the build context: disk gone"
        );
        assert_eq!(e.class(), FailureClass::UpdateFailed);
    }
}
