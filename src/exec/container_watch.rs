//! Watches one docker-compose container after its deploy: its log lines go to the resource's
//! runtime log, and every change of its state (running, health, exit) goes to the dispatcher,
//! which decides what it means for the run.
//!
//! State comes from the daemon's event stream for the project (start, die, health changes)
//! with an inspect after each event, plus a slow inspect in between in case an event is lost.

use super::exec_msg::ExecMsg;
use crate::error_chain::error_chain;
use crate::event::LogSource;
use futures_util::StreamExt;
use std::time::Duration;
use stilt_docker::DockerClient;
use tokio::sync::mpsc::UnboundedSender;

/// How often the container is inspected when no event arrived.
const POLL: Duration = Duration::from_millis(500);

/// How long a stopped container's remaining log lines are awaited.
const LAST_LINES: Duration = Duration::from_secs(1);

/// Watches `container` of resource `resource` until the task is aborted or the container
/// can no longer be inspected.
pub async fn watch_container(
    docker: DockerClient,
    project: String,
    resource: usize,
    container: String,
    tx: UnboundedSender<ExecMsg>,
) {
    let mut logs = std::pin::pin!(docker.compose_logs(&container));
    let mut events = std::pin::pin!(docker.compose_events(&project));
    let mut logs_open = true;
    let mut events_open = true;
    let mut last = None;
    loop {
        match docker.compose_status(&container).await {
            Ok(status) if last.as_ref() != Some(&status) => {
                if !status.running && logs_open {
                    // The container is done: its last lines explain why, so they go first.
                    let _ = tokio::time::timeout(LAST_LINES, async {
                        while let Some(Ok(line)) = logs.next().await {
                            let _ = tx.send(ExecMsg::Output { resource, source: LogSource::Runtime, line });
                        }
                    })
                    .await;
                    logs_open = false;
                }
                last = Some(status.clone());
                let _ = tx.send(ExecMsg::Container { resource, status: Ok(status) });
            }
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(ExecMsg::Container { resource, status: Err(error_chain(&e)) });
                return;
            }
        }
        // Wait for a reason to look again, forwarding log lines meanwhile.
        let tick = tokio::time::sleep(POLL);
        tokio::pin!(tick);
        loop {
            tokio::select! {
                line = logs.next(), if logs_open => match line {
                    Some(Ok(line)) => {
                        let _ = tx.send(ExecMsg::Output { resource, source: LogSource::Runtime, line });
                    }
                    Some(Err(_)) | None => logs_open = false,
                },
                ev = events.next(), if events_open => match ev {
                    Some(Ok(ev)) if ev.container_id == container => break,
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => events_open = false,
                },
                () = &mut tick => break,
            }
        }
    }
}
