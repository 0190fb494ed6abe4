//! What a docker-compose container's state means for the run (Tilt's
//! `dockercompose.State.RuntimeStatus`, plus health checks).
//!
//! Tilt counts a running container as healthy and ignores `healthcheck:`. stilt waits for a
//! container with a health check to report `healthy` (so `resource_deps` on it mean "ready",
//! like compose's `condition: service_healthy`), and fails the run as soon as Docker declares
//! it `unhealthy` instead of waiting for the readiness timeout. A container that exited 0
//! counts as done, as in Tilt; any other exit fails the run.

use stilt_docker::compose::ContainerStatus;

/// The verdict on one container state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerHealth {
    /// Not running yet (created, restarting without a failure, …): the wait reason.
    Pending(String),
    /// Running, but its health check has not passed yet.
    Starting,
    /// Running and healthy, or exited 0.
    Ready,
    /// Failed: the message for the target.
    Failed(String),
}

/// Classifies `status` of container `name`.
pub fn classify(name: &str, status: &ContainerStatus) -> ContainerHealth {
    if !status.error.is_empty() {
        return ContainerHealth::Failed(format!("container {name} failed: {}", status.error));
    }
    if status.exit_code != 0 && !status.running {
        let mut msg = format!("container {name} exited with code {}", status.exit_code);
        if status.restart_count > 0 {
            msg.push_str(&format!(" (restarted {} times)", status.restart_count));
        }
        return ContainerHealth::Failed(msg);
    }
    if let Some(h) = &status.health
        && h.status == "unhealthy"
    {
        let out = h.last_output.trim();
        let detail = if out.is_empty() { String::new() } else { format!(": {out}") };
        return ContainerHealth::Failed(format!(
            "container {name} is unhealthy after {} failed health checks{detail}",
            h.failing_streak
        ));
    }
    if status.running {
        return match &status.health {
            Some(h) if h.status != "healthy" => ContainerHealth::Starting,
            _ => ContainerHealth::Ready,
        };
    }
    if status.state == "exited" {
        return ContainerHealth::Ready;
    }
    ContainerHealth::Pending(format!("container-{}", status.state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stilt_docker::compose::Health;

    fn status(state: &str, running: bool, exit_code: i64, health: Option<&str>) -> ContainerStatus {
        ContainerStatus {
            state: state.into(),
            running,
            exit_code,
            error: String::new(),
            started_at: None,
            finished_at: None,
            health: health.map(|h| Health { status: h.into(), failing_streak: 3, last_output: "nope\n".into() }),
            restart_count: 0,
        }
    }

    #[test]
    fn running_without_health_check_is_ready() {
        assert_eq!(classify("p-web-1", &status("running", true, 0, None)), ContainerHealth::Ready);
    }

    #[test]
    fn health_check_decides_when_present() {
        assert_eq!(classify("c", &status("running", true, 0, Some("starting"))), ContainerHealth::Starting);
        assert_eq!(classify("c", &status("running", true, 0, Some("healthy"))), ContainerHealth::Ready);
        assert_eq!(
            classify("c", &status("running", true, 0, Some("unhealthy"))),
            ContainerHealth::Failed("container c is unhealthy after 3 failed health checks: nope".into())
        );
    }

    #[test]
    fn exits_zero_is_done_and_non_zero_fails() {
        assert_eq!(classify("c", &status("exited", false, 0, None)), ContainerHealth::Ready);
        assert_eq!(
            classify("c", &status("exited", false, 3, None)),
            ContainerHealth::Failed("container c exited with code 3".into())
        );
        let mut restarting = status("restarting", false, 1, None);
        restarting.restart_count = 2;
        assert_eq!(
            classify("c", &restarting),
            ContainerHealth::Failed("container c exited with code 1 (restarted 2 times)".into())
        );
    }

    #[test]
    fn created_is_pending_and_daemon_errors_fail() {
        assert_eq!(
            classify("c", &status("created", false, 0, None)),
            ContainerHealth::Pending("container-created".into())
        );
        let mut s = status("dead", false, 0, None);
        s.error = "OCI runtime create failed".into();
        assert_eq!(classify("c", &s), ContainerHealth::Failed("container c failed: OCI runtime create failed".into()));
    }
}
