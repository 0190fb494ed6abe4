//! `DockerClient::compose_events`: the daemon's container events for one compose project
//! (starts, exits, health changes, OOM kills), so the engine reacts without polling.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use bollard::models::EventMessage;
use bollard::query_parameters::EventsOptionsBuilder;
use futures_util::{Stream, StreamExt, future};

use super::error::ComposeError;
use super::project::{PROJECT_LABEL, SERVICE_LABEL};
use crate::DockerClient;

/// Something that happened to a project's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEvent {
    pub container_id: String,
    /// The compose service (`com.docker.compose.service` label).
    pub service: String,
    /// `start`, `die`, `oom`, `health_status: healthy` or `health_status: unhealthy`.
    pub action: String,
    /// The exit code, for `die`.
    pub exit_code: Option<i64>,
}

impl DockerClient {
    /// Container events of `project` from the moment of this call on, even if the stream is
    /// first polled later (call it before `compose_up` to see the start). The stream lasts
    /// until dropped.
    pub fn compose_events(
        &self,
        project: &str,
    ) -> impl Stream<Item = Result<ContainerEvent, ComposeError>> + Send + 'static {
        let filters = HashMap::from([
            ("type", vec!["container".to_string()]),
            ("label", vec![format!("{PROJECT_LABEL}={project}")]),
        ]);
        // The daemon replays what happened since then: the request is only sent once the
        // stream is polled.
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let since = format!("{}.{:09}", now.as_secs(), now.subsec_nanos());
        let options = EventsOptionsBuilder::default().since(&since).filters(&filters).build();
        let action = format!("watch the events of compose project {project:?}");
        self.bollard().events(Some(options)).filter_map(move |item| {
            future::ready(match item {
                Ok(message) => ContainerEvent::from_message(message).map(Ok),
                Err(e) => Some(Err(ComposeError::docker(action.clone())(e))),
            })
        })
    }
}

impl ContainerEvent {
    /// The event, if it is one of those the engine cares about.
    fn from_message(message: EventMessage) -> Option<Self> {
        let action = message.action?;
        if !matches!(action.as_str(), "start" | "die" | "oom") && !action.starts_with("health_status") {
            return None;
        }
        let actor = message.actor.unwrap_or_default();
        let mut attributes = actor.attributes.unwrap_or_default();
        let exit_code = if action == "die" { attributes.get("exitCode").and_then(|c| c.parse().ok()) } else { None };
        Some(Self {
            container_id: actor.id.unwrap_or_default(),
            service: attributes.remove(SERVICE_LABEL).unwrap_or_default(),
            action,
            exit_code,
        })
    }
}

#[cfg(test)]
mod tests {
    use bollard::models::EventActor;

    use super::*;

    fn message(action: &str, attributes: &[(&str, &str)]) -> EventMessage {
        EventMessage {
            action: Some(action.into()),
            actor: Some(EventActor {
                id: Some("abc".into()),
                attributes: Some(attributes.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()),
            }),
            ..EventMessage::default()
        }
    }

    #[test]
    fn relevant_events_are_kept() {
        let die = ContainerEvent::from_message(message("die", &[(SERVICE_LABEL, "web"), ("exitCode", "3")]));
        assert_eq!(
            die,
            Some(ContainerEvent {
                container_id: "abc".into(),
                service: "web".into(),
                action: "die".into(),
                exit_code: Some(3)
            })
        );
        let health = ContainerEvent::from_message(message("health_status: healthy", &[])).unwrap();
        assert_eq!((health.action.as_str(), health.exit_code), ("health_status: healthy", None));
        assert_eq!(ContainerEvent::from_message(message("exec_create: sh", &[])), None);
        assert_eq!(ContainerEvent::from_message(message("attach", &[])), None);
    }
}
