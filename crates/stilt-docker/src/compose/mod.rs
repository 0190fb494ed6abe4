//! Docker Compose services run directly on the Engine API, no `docker compose` binary needed.
//!
//! `ServiceSpec::from_config` reads one service of the merged, interpolated compose config
//! (refusing unknown and unimplemented keys by name); `DockerClient::compose_up` creates and
//! starts its container with compose v2's names and labels, so `docker compose ps` and
//! `docker compose down` see stilt's containers as their own; `compose_status`,
//! `compose_logs` and `compose_events` watch it; `compose_down` removes the whole project.
//!
//! ```text
//! let spec = ServiceSpec::from_config(&project, "web", &config)?;
//! let events = docker.compose_events(&project.name);            // before up: see the start
//! let id = docker.compose_up(&project, &spec, &spec.image_name(), |l| println!("{l}")).await?;
//! let logs = docker.compose_logs(&id);                          // lines, followed
//! docker.compose_down(&project.name, &DownOptions::default(), |l| println!("{l}")).await?;
//! ```

mod build;
mod container_plan;
mod down;
mod duration;
mod env_file;
mod error;
mod events;
mod healthcheck;
mod keys;
mod logs;
mod network;
mod port;
mod project;
mod service_spec;
mod status;
mod up;
mod value;
mod volume;

pub use build::ComposeBuild;
pub use down::{DownOptions, DownSummary};
pub use error::ComposeError;
pub use events::ContainerEvent;
pub use healthcheck::Healthcheck;
pub use network::{Link, NetworkAttachment};
pub use port::PortMapping;
pub use project::{ComposeProject, MANAGED_LABEL, PROJECT_LABEL, SERVICE_LABEL};
pub use service_spec::{Restart, ServiceSpec, Ulimit};
pub use status::{ContainerStatus, Health};
pub use volume::{MountKind, VolumeMount};
