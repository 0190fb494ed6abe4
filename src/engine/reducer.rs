//! The engine's reducer: [`EngineState::apply`] turns one executor message and the time into a
//! new state and the [`Effect`]s it calls for; [`EngineState::start_resource`] does the same
//! for a resource the scheduler lets start.
//!
//! Pure: no tasks, no channels, no clock. The dispatcher owns the tasks and runs the effects;
//! every rule about what a message means (a `cmd` that failed, a serve process that exited, a
//! probe that changed its mind, a container or pod that changed) lives here and is unit tested
//! without processes (`tests` below).

use super::container_health::{ContainerHealth, classify};
use super::effect::Effect;
use super::engine_state::{EngineState, RuntimePhase, ServePhase, UpdatePhase};
use crate::event::{Event, Level, LogSource};
use crate::exec::exec_msg::ExecMsg;
use crate::exec::image_build::{UpdateError, record_push};
use crate::exec::resource_update::Deployed;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use stilt_core::EnvironmentFailure;

mod k8s;

/// Effects in the order they were asked for.
type Effects = Vec<Effect>;

fn log(resource: usize, source: LogSource, level: Level, text: String) -> Effect {
    Effect::Log { resource, source, level, header: false, text }
}

impl EngineState {
    /// Whether `msg` can change what the session or the verdict sees (an output line or a
    /// build process's start cannot: the dispatcher then skips judging again).
    pub fn changes_state(msg: &ExecMsg) -> bool {
        !matches!(msg, ExecMsg::Output { .. } | ExecMsg::Started { source: LogSource::Build, .. })
    }

    /// Applies one executor message at `now`; returns what must happen because of it.
    pub fn apply(&mut self, msg: ExecMsg, now: DateTime<Utc>) -> Effects {
        let mut fx = Vec::new();
        match msg {
            ExecMsg::Started { resource, source: LogSource::Runtime, pid } => {
                self.serve_started(resource, pid, now, &mut fx);
            }
            ExecMsg::Started { .. } => {}
            ExecMsg::Output { resource, source, line } => fx.push(log(resource, source, Level::Info, line)),
            ExecMsg::Exited { resource, source: LogSource::Build, failure, .. } => {
                self.cmd_exited(resource, failure, now, &mut fx);
            }
            ExecMsg::Exited { resource, source: LogSource::Runtime, pid, code, failure } => {
                self.serve_exited(resource, pid, code, failure, now, &mut fx);
            }
            ExecMsg::ImageBuilt { resource, record } => {
                let name: Arc<str> = Arc::from(self.resources[resource].manifest.name.as_str());
                fx.push(Effect::Emit(Event::ImageBuilt { resource: name, record: record.clone() }));
                self.resources[resource].images.push(record);
            }
            ExecMsg::UpdateFinished { resource, result } => self.finish_update(resource, result, now, &mut fx),
            ExecMsg::Container { resource, status } => self.container_changed(resource, &status, now, &mut fx),
            ExecMsg::Pods { resource, pods } => self.pods_changed(resource, pods, now, &mut fx),
            ExecMsg::RuntimeWarning { resource, message } => {
                fx.push(log(resource, LogSource::Runtime, Level::Warn, message));
            }
            ExecMsg::ImagePushed { image, pushed_ref, digest } => {
                record_push(
                    self.resources.iter_mut().flat_map(|r| r.images.iter_mut()),
                    &image,
                    &pushed_ref,
                    digest.as_ref(),
                );
                fx.push(Effect::Emit(Event::ImagePushed { image, pushed_ref, digest }));
            }
            ExecMsg::Probe { resource, pid, ready, detail } => self.probed(resource, pid, ready, detail, now, &mut fx),
        }
        fx
    }

    /// Starts resource `i` (the scheduler chose it): its `cmd`, else its `serve_cmd`, or the
    /// update of a non-local resource.
    pub fn start_resource(&mut self, i: usize, now: DateTime<Utc>) -> Effects {
        let header = |text: &str| Effect::Log {
            resource: i,
            source: LogSource::Build,
            level: Level::Info,
            header: true,
            text: text.to_string(),
        };
        let mut fx = vec![header(""), header("Initial Build")];
        let Some(local) = self.resources[i].manifest.local() else {
            let images = self.resources[i].manifest.image_targets().to_vec();
            let prebuilt = images.iter().filter_map(|t| self.built_image(&t.image_ref).cloned()).collect();
            fx.push(Effect::StartUpdate { resource: i, images, prebuilt });
            self.resources[i].update = UpdatePhase::Running { start: now };
            return fx;
        };
        if let Some(cmd) = local.update_cmd.clone() {
            fx.push(log(i, LogSource::Build, Level::Info, format!("Running cmd: {}", cmd.display())));
            fx.push(Effect::Launch { resource: i, cmd, source: LogSource::Build });
            self.resources[i].update = UpdatePhase::Running { start: now };
        } else {
            self.resources[i].update = UpdatePhase::Done { start: now, finish: now, error: None };
            self.start_serve(i, now, &mut fx);
        }
        fx
    }

    fn start_serve(&mut self, i: usize, now: DateTime<Utc>, fx: &mut Effects) {
        let r = &mut self.resources[i];
        let Some(cmd) = r.manifest.local().and_then(|l| l.serve_cmd.clone()) else {
            r.ever_ready = true;
            return;
        };
        fx.push(log(i, LogSource::Runtime, Level::Info, format!("Running serve cmd: {}", cmd.display())));
        fx.push(Effect::Launch { resource: i, cmd, source: LogSource::Runtime });
        // Not ready until the process exists; without a probe it is ready from then on.
        r.serve = ServePhase::Running { pid: None, start: now, ready: false, last_ready: None };
    }

    fn serve_started(&mut self, i: usize, pid: u32, now: DateTime<Utc>, fx: &mut Effects) {
        let r = &mut self.resources[i];
        let local = r.manifest.local();
        let probe = local.and_then(|l| l.readiness_probe.clone().zip(l.serve_cmd.clone()));
        let ServePhase::Running { pid: current @ None, ready, last_ready, .. } = &mut r.serve else { return };
        *current = Some(pid);
        if let Some((probe, cmd)) = probe {
            fx.push(Effect::StartProbe { resource: i, pid, probe, cmd });
        } else {
            *ready = true;
            *last_ready = Some(now);
            r.ever_ready = true;
        }
    }

    fn cmd_exited(&mut self, i: usize, failure: Option<String>, now: DateTime<Utc>, fx: &mut Effects) {
        let UpdatePhase::Running { start } = self.resources[i].update else { return };
        let cmd = self.resources[i].manifest.local().and_then(|l| l.update_cmd.as_ref());
        let error =
            failure.map(|f| format!("Command {:?} failed: {f}", cmd.map(stilt_core::Cmd::display).unwrap_or_default()));
        if let Some(e) = &error {
            fx.push(log(i, LogSource::Build, Level::Error, format!("Build Failed: {e}")));
        }
        let ok = error.is_none();
        self.resources[i].update = UpdatePhase::Done { start, finish: now, error };
        if ok {
            self.start_serve(i, now, fx);
        }
    }

    fn serve_exited(
        &mut self,
        i: usize,
        pid: u32,
        code: Option<i32>,
        failure: Option<String>,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) {
        let ServePhase::Running { pid: current, start, .. } = self.resources[i].serve else { return };
        if current.is_some_and(|c| c != pid) {
            return;
        }
        fx.push(Effect::StopProbe { resource: i });
        let error = match (code, failure) {
            (_, Some(f)) if pid == 0 => format!("failed to start serve_cmd: {f}"),
            (Some(0), _) => format!("Process {pid} exited with status 0: serve_cmd must keep running"),
            (_, Some(f)) => format!("Process {pid} exited with non-zero status ({f})"),
            (_, None) => format!("Process {pid} exited"),
        };
        fx.push(log(i, LogSource::Runtime, Level::Error, error.clone()));
        self.resources[i].serve = ServePhase::Exited { start, finish: now, error };
    }

    fn probed(
        &mut self,
        i: usize,
        pid: u32,
        ready: bool,
        detail: Option<String>,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) {
        let r = &mut self.resources[i];
        let ServePhase::Running { pid: current, ready: was_ready, last_ready, .. } = &mut r.serve else { return };
        if *current != Some(pid) {
            return;
        }
        let changed = *was_ready != ready;
        *was_ready = ready;
        if ready {
            *last_ready = Some(now);
            r.ever_ready = true;
        }
        if let Some(d) = detail {
            fx.push(log(i, LogSource::Runtime, Level::Info, format!("Readiness probe failed: {d}")));
        } else if changed {
            fx.push(log(i, LogSource::Runtime, Level::Info, "Readiness probe succeeded".into()));
        }
    }

    /// Applies the end of a non-local update.
    fn finish_update(&mut self, i: usize, result: Result<Deployed, UpdateError>, now: DateTime<Utc>, fx: &mut Effects) {
        let UpdatePhase::Running { start } = self.resources[i].update else { return };
        let deployed = match result {
            Ok(d) => d,
            Err(e) => {
                fx.push(log(i, LogSource::Build, Level::Error, format!("Build Failed: {}", e.message)));
                if e.environment && self.environment_failure.is_none() {
                    let target = format!("{}:update", self.resources[i].manifest.name);
                    self.environment_failure =
                        Some(EnvironmentFailure { error: e.message.clone(), target: Some(target) });
                }
                self.resources[i].update = UpdatePhase::Done { start, finish: now, error: Some(e.message) };
                return;
            }
        };
        self.resources[i].update = UpdatePhase::Done { start, finish: now, error: None };
        match deployed {
            Deployed { k8s: Some(k), .. } => self.k8s_deployed(i, *k, now, fx),
            Deployed { container: Some((id, name)), .. } => {
                self.resources[i].runtime = RuntimePhase::Container {
                    name,
                    start: now,
                    health: ContainerHealth::Pending("container-created".into()),
                    changed: now,
                    last_ready: None,
                };
                fx.push(Effect::WatchContainer { resource: i, id });
            }
            Deployed { container: None, k8s: None } => self.resources[i].ever_ready = true,
        }
    }

    /// Applies a compose container's new state.
    fn container_changed(
        &mut self,
        i: usize,
        status: &Result<stilt_docker::compose::ContainerStatus, String>,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) {
        let r = &mut self.resources[i];
        let RuntimePhase::Container { name, health: current, changed, last_ready, .. } = &mut r.runtime else {
            return;
        };
        if matches!(current, ContainerHealth::Failed(_)) {
            return;
        }
        let health = match status {
            Ok(s) => classify(name, s),
            Err(e) => ContainerHealth::Failed(format!("container {name} could not be inspected: {e}")),
        };
        let message = match (&*current, &health) {
            (_, ContainerHealth::Failed(e)) => Some((Level::Error, e.clone())),
            (ContainerHealth::Pending(_), ContainerHealth::Starting) => {
                Some((Level::Info, format!("Container {name} is running; waiting for its health check")))
            }
            (c, ContainerHealth::Ready) if *c != ContainerHealth::Ready => {
                Some((Level::Info, format!("Container {name} is ready")))
            }
            _ => None,
        };
        if health == ContainerHealth::Ready {
            *last_ready = Some(now);
            r.ever_ready = true;
        }
        if *current != health {
            *changed = now;
            *current = health;
        }
        if let Some((level, m)) = message {
            fx.push(log(i, LogSource::Runtime, level, m));
        }
    }
}

#[cfg(test)]
mod tests;
