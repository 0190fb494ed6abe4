//! The one error type of the compose runtime: every message names the compose service (or
//! project, or container) it is about, and daemon and I/O errors are chained as the
//! `#[source]`, never repeated in the message (render with [`stilt_core::error_chain`]).

use std::path::PathBuf;

/// Why reading a compose service or running it failed.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The service's configuration is malformed, or uses a key stilt does not implement.
    #[error("failed to read compose service {service:?}: {reason}")]
    Config { service: String, reason: String },
    /// An `env_file` could not be read.
    #[error("failed to read compose service {service:?}: env_file {path:?}")]
    EnvFile {
        service: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The image to run is not on the daemon (stilt never pulls).
    #[error(
        "failed to start compose service {service:?}: image {image:?} not found locally (stilt never pulls in CI: \
         build it with docker_build or pre-load it)"
    )]
    ImageNotFound { service: String, image: String },
    /// A daemon call failed; `action` says what was being done, e.g.
    /// `start compose service "web": creating network "p_default"`.
    #[error("failed to {action}")]
    Docker {
        action: String,
        #[source]
        source: bollard::errors::Error,
    },
}

impl ComposeError {
    /// A compose service that cannot be read or started is the resource's failure.
    pub fn class(&self) -> stilt_core::FailureClass {
        stilt_core::FailureClass::UpdateFailed
    }

    pub(crate) fn config(service: &str, reason: impl Into<String>) -> Self {
        Self::Config { service: service.to_string(), reason: reason.into() }
    }

    /// A malformed value: `key "ports": <reason>`.
    pub(crate) fn invalid(service: &str, key: &str, reason: impl std::fmt::Display) -> Self {
        Self::config(service, format!("key {key:?}: {reason}"))
    }

    pub(crate) fn docker(action: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> Self {
        let action = action.into();
        move |source| Self::Docker { action, source }
    }
}

/// The HTTP status of a daemon error response.
pub(super) fn http_status(e: &bollard::errors::Error) -> Option<u16> {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}
