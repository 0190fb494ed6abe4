//! Error types. Every message names the image and, for builds, the failing Dockerfile step.

use std::fmt;
use std::path::PathBuf;

/// The daemon could not be reached (or did not answer `/version`).
#[derive(Debug, thiserror::Error)]
#[error("failed to connect to the Docker daemon at {host}: {source}")]
pub struct ConnectError {
    pub host: String,
    #[source]
    pub source: bollard::errors::Error,
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
    #[error("failed to build image {image:?}: reading the build context: {source}")]
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
    #[error("failed to build image {image:?}: {source}")]
    Docker {
        image: String,
        #[source]
        source: bollard::errors::Error,
    },
}

/// A push the registry (or the daemon) refused.
#[derive(Debug, thiserror::Error)]
#[error("failed to push image {reference:?}: {message}")]
pub struct PushError {
    pub reference: String,
    pub message: String,
}

/// Any other daemon call.
#[derive(Debug, thiserror::Error)]
#[error("failed to {action}: {source}")]
pub struct DockerError {
    pub action: String,
    #[source]
    pub source: bollard::errors::Error,
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
}
