//! `DockerClient::compose_status`: a service container's state and health, from one inspect.

use bollard::models::{ContainerState, HealthStatusEnum};

use super::error::ComposeError;
use crate::DockerClient;

/// A container's state, as `docker inspect` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStatus {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    pub state: String,
    pub running: bool,
    pub exit_code: i64,
    /// The daemon's error for a container that failed to start.
    pub error: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// `None` when the container has no healthcheck.
    pub health: Option<Health>,
    pub restart_count: i64,
}

/// A container's healthcheck results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    pub failing_streak: i64,
    /// The output of the latest probe.
    pub last_output: String,
}

impl DockerClient {
    pub async fn compose_status(&self, container_id: &str) -> Result<ContainerStatus, ComposeError> {
        let inspect = self
            .bollard()
            .inspect_container(container_id, None)
            .await
            .map_err(ComposeError::docker(format!("inspect container {container_id:?}")))?;
        let state = inspect.state.unwrap_or_default();
        Ok(ContainerStatus { restart_count: inspect.restart_count.unwrap_or(0), ..status_of(state) })
    }
}

fn status_of(state: ContainerState) -> ContainerStatus {
    // The daemon's "zero time" for a container that never started or never stopped.
    let time = |t: Option<String>| t.filter(|t| !t.starts_with("0001-01-01"));
    let health = state.health.and_then(|h| {
        let status = h.status.filter(|s| !matches!(s, HealthStatusEnum::EMPTY | HealthStatusEnum::NONE))?;
        let last_output = h.log.unwrap_or_default().pop().and_then(|r| r.output).unwrap_or_default();
        Some(Health {
            status: status.to_string(),
            failing_streak: h.failing_streak.unwrap_or(0),
            last_output: last_output.trim_end().to_string(),
        })
    });
    ContainerStatus {
        state: state.status.map(|s| s.to_string()).unwrap_or_default(),
        running: state.running.unwrap_or(false),
        exit_code: state.exit_code.unwrap_or(0),
        error: state.error.unwrap_or_default(),
        started_at: time(state.started_at),
        finished_at: time(state.finished_at),
        health,
        restart_count: 0,
    }
}
