//! The compose project a service belongs to, and the names and labels `docker compose` v2
//! gives its resources, so containers stilt creates look like compose's own.

use std::path::{Component, Path, PathBuf};

/// `com.docker.compose.project`: on every container, network and volume of a project.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";
/// `com.docker.compose.service`: the service a container runs.
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
/// `dev.stilt.managed=true`: on every container stilt creates.
pub const MANAGED_LABEL: &str = "dev.stilt.managed";
pub(super) const NETWORK_LABEL: &str = "com.docker.compose.network";
pub(super) const VOLUME_LABEL: &str = "com.docker.compose.volume";
pub(super) const CONTAINER_NUMBER_LABEL: &str = "com.docker.compose.container-number";
pub(super) const ONEOFF_LABEL: &str = "com.docker.compose.oneoff";
pub(super) const WORKING_DIR_LABEL: &str = "com.docker.compose.project.working_dir";
pub(super) const CONFIG_FILES_LABEL: &str = "com.docker.compose.project.config_files";

/// A compose project, as the Tiltfile's `docker_compose()` resolved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeProject {
    /// The project name (lowercase): the prefix of every container, network and volume.
    pub name: String,
    /// The project directory (absolute): relative paths in the compose files resolve against it.
    pub working_dir: PathBuf,
    pub config_files: Vec<PathBuf>,
}

impl ComposeProject {
    /// A project-scoped network or volume name: `<project>_<name>`.
    pub fn scoped(&self, name: &str) -> String {
        format!("{}_{name}", self.name)
    }

    /// The container a service runs in, unless it sets `container_name`: `<project>-<service>-1`.
    pub fn default_container_name(&self, service: &str) -> String {
        format!("{}-{service}-1", self.name)
    }
}

/// `path` made absolute against `base` and lexically normalised (`.` and `..` resolved).
pub(super) fn resolve_path(base: &Path, path: impl AsRef<Path>) -> PathBuf {
    let mut out = PathBuf::new();
    for component in base.join(path).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
