//! The dispatcher: the engine's effect runner and run loop. It owns every task and handle of
//! a run (processes, probers, update jobs, container and pod watchers, pod log streams) and
//! the channels; what a message means is the pure reducer's
//! ([`EngineState::apply`], `engine::reducer`), and whether the run is over is the verdict's.
//! Each turn it starts what the scheduler allows, rebuilds the session, asks the verdict, and
//! waits for messages, a signal or the verdict's `recheck_at`; at the end it tears everything
//! down.
//!
//! It does no blocking I/O: output goes out as [`Event`]s to the reporter task, processes run
//! in executor tasks, and timers come from the verdict's `recheck_at`. The one exception is
//! the fork of a lone command, done here at the end of a turn (see
//! [`launch`](crate::exec::local_process::launch)): it is the critical path of a chain of
//! resources, and it starts before the session is rebuilt.

use super::effect::Effect;
use super::engine_state::EngineState;
use super::scheduler::{Schedule, next_to_start};
use super::session_builder::{SessionIdentity, build_session, build_targets};
use crate::event::{Event, Failure, Level, LogLine, LogSource, Outcome};
use crate::exec::cluster_handle::{ClusterHandle, ClusterTarget};
use crate::exec::container_watch::watch_container;
use crate::exec::exec_msg::ExecMsg;
use crate::exec::image_build::{BuildEnv, DockerHandle, ImageBuildRecord};
use crate::exec::k8s_deploy::K8sDeploy;
use crate::exec::local_process::{Launch, command_env, launch};
use crate::exec::probe::{ProbeJob, spawn_prober};
use crate::exec::process_registry::ProcessRegistry;
use crate::exec::resource_update::{ComposeDeploy, Deploy, UpdateJob, spawn_update};
use chrono::Utc;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use stilt_core::manifest::{DefaultRegistry, ImageTarget};
use stilt_core::{ExitCode, FailureClass, ResourceTarget, Session, Verdict, verdict};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod k8s_runtime;

/// How long processes get between SIGTERM and SIGKILL at teardown.
pub const TEARDOWN_GRACE: Duration = Duration::from_secs(2);

/// A request to stop the run early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// SIGINT.
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Shutdown {
    /// Failure recorded for it.
    pub fn failure(self) -> Failure {
        match self {
            Shutdown::Interrupt => {
                Failure { message: "interrupted by SIGINT".into(), class: FailureClass::Interrupted, target: None }
            }
            Shutdown::Terminate => {
                Failure { message: "terminated by SIGTERM".into(), class: FailureClass::Terminated, target: None }
            }
        }
    }
}

/// Where the dispatcher sends what it learns.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// The event stream for reporters.
    pub events: UnboundedSender<Event>,
    /// The latest session, for the status API.
    pub session: watch::Sender<Arc<Session>>,
}

/// What non-local resources need: the Docker and cluster connections and each compose
/// service's plan.
#[derive(Debug, Clone, Default)]
pub struct Deployments {
    /// The Docker connection, made on first use.
    pub docker: DockerHandle,
    /// The Kubernetes connection, made on first use.
    pub cluster: ClusterHandle,
    /// `default_registry` host, for `custom_build`'s `$EXPECTED_REGISTRY`.
    pub default_registry: Option<String>,
    /// `default_registry(...)` as written.
    pub registry_settings: Option<DefaultRegistry>,
    /// `k8s_upsert_timeout_secs`.
    pub upsert_timeout: Duration,
    /// Validated compose services, by resource index.
    pub compose: HashMap<usize, ComposeDeploy>,
}

impl Deployments {
    /// Fills in what the loaded Tiltfile asks for; `compose` are its validated services.
    pub fn plan(
        &mut self,
        result: &stilt_core::TiltfileResult,
        compose: HashMap<usize, ComposeDeploy>,
        context: Option<String>,
        namespace: Option<String>,
    ) {
        self.compose = compose;
        self.default_registry = result.cluster.default_registry.as_ref().map(|r| r.host.clone());
        self.registry_settings.clone_from(&result.cluster.default_registry);
        self.upsert_timeout = result.update_settings.k8s_upsert_timeout();
        self.cluster = ClusterHandle::new(ClusterTarget { env: result.environment.clone(), context, namespace });
    }
}

/// The engine's run loop and effect runner.
pub struct Dispatcher {
    state: EngineState,
    schedule: Schedule,
    outputs: Outputs,
    env: BTreeMap<String, String>,
    color: bool,
    registry: ProcessRegistry,
    exec_tx: UnboundedSender<ExecMsg>,
    exec_rx: UnboundedReceiver<ExecMsg>,
    probers: HashMap<usize, JoinHandle<()>>,
    identity: SessionIdentity,
    resource_version: u64,
    last_session: Option<Arc<Session>>,
    /// Processes spawned whose exit has not been reported yet.
    running: usize,
    deployments: Deployments,
    /// Update tasks of non-local resources (aborted at teardown).
    jobs: Vec<JoinHandle<()>>,
    /// Container watchers, by resource index.
    watchers: HashMap<usize, JoinHandle<()>>,
    /// The cluster of each deployed Kubernetes resource (for its pod logs).
    clusters: HashMap<usize, stilt_k8s::Cluster>,
    /// Pod log streams: (resource, pod uid, container) → task.
    log_streams: HashMap<(usize, String, String), JoinHandle<()>>,
    /// Commands to start at the end of this turn (see [`launch`]).
    launches: Vec<Launch>,
}

/// At the end, container logs are taken until none came for this long…
const CONTAINER_LOG_QUIET: Duration = Duration::from_millis(150);
/// …or for at most this long.
const CONTAINER_LOG_SETTLE_MAX: Duration = Duration::from_secs(1);

/// At most this many queued messages are applied before the verdict is judged again.
const MAX_BATCH: usize = 256;

/// How long teardown waits for killed processes' last output.
const DRAIN_AT_TEARDOWN: Duration = Duration::from_millis(500);

impl Dispatcher {
    /// A dispatcher for `state`. `env` is the environment commands inherit.
    pub fn new(
        state: EngineState,
        env: BTreeMap<String, String>,
        color: bool,
        outputs: Outputs,
        registry: ProcessRegistry,
        identity: SessionIdentity,
        deployments: Deployments,
    ) -> Self {
        let (exec_tx, exec_rx) = unbounded_channel();
        Dispatcher {
            state,
            schedule: Schedule::default(),
            outputs,
            env,
            color,
            registry,
            exec_tx,
            exec_rx,
            probers: HashMap::new(),
            identity,
            resource_version: 0,
            last_session: None,
            running: 0,
            deployments,
            jobs: Vec::new(),
            watchers: HashMap::new(),
            clusters: HashMap::new(),
            log_streams: HashMap::new(),
            launches: Vec::new(),
        }
    }

    /// Runs until the verdict is in or a shutdown arrives; tears down; returns the outcome.
    pub async fn run(mut self, mut shutdown: UnboundedReceiver<Shutdown>) -> (Outcome, Arc<Session>) {
        loop {
            self.start_what_we_can();
            let now = Utc::now();
            let targets = build_targets(&self.state, &self.schedule, now);
            // The verdict is the only judge, and names every deadline (grace periods, settling
            // containers, timeouts) as `recheck_at`.
            let v =
                verdict(&targets, &self.state.ci, self.state.start_time, now, self.state.environment_failure.as_ref());
            match v {
                Verdict::Success => return self.finish(targets, None).await,
                Verdict::Failure { error, class, target } => {
                    return self.finish(targets, Some(Failure { message: error, class, target })).await;
                }
                Verdict::Running { recheck_at } => {
                    self.publish(targets, false, String::new());
                    let sleep = recheck_at.map_or(Duration::from_secs(3600), |at| {
                        (at - now).to_std().unwrap_or(Duration::ZERO) + Duration::from_millis(1)
                    });
                    let deadline = tokio::time::Instant::now() + sleep;
                    // Judge again only once something changed: a message that changes no state
                    // (an output line, a build process's start) costs no rebuild of the session,
                    // and messages already queued are applied together. On a machine with few
                    // cores that rebuild competes with the processes just started.
                    loop {
                        self.launch_queued();
                        tokio::select! {
                            msg = self.exec_rx.recv() => {
                                let Some(msg) = msg else { break };
                                let mut changed = self.apply(msg);
                                for _ in 0..MAX_BATCH {
                                    let Ok(msg) = self.exec_rx.try_recv() else { break };
                                    changed |= self.apply(msg);
                                }
                                if changed {
                                    break;
                                }
                            }
                            sig = shutdown.recv() => {
                                if let Some(sig) = sig {
                                    let targets = build_targets(&self.state, &self.schedule, Utc::now());
                                    return self.finish(targets, Some(sig.failure())).await;
                                }
                                break;
                            }
                            () = tokio::time::sleep_until(deadline) => break,
                        }
                    }
                }
            }
        }
    }

    /// Ends the run at once with `failure` (used before the engine could start).
    pub async fn abort(self, failure: Failure) -> (Outcome, Arc<Session>) {
        let targets = build_targets(&self.state, &self.schedule, Utc::now());
        self.finish(targets, Some(failure)).await
    }

    fn log(&self, resource: usize, source: LogSource, level: Level, header: bool, text: String) {
        let name: Arc<str> = Arc::from(self.state.resources[resource].manifest.name.as_str());
        let _ = self.outputs.events.send(Event::Log(LogLine {
            resource: Some(name),
            source,
            level,
            header,
            text,
            time: Utc::now(),
        }));
    }

    fn start_what_we_can(&mut self) {
        loop {
            self.schedule = next_to_start(&self.state);
            let Some(i) = self.schedule.start else { break };
            let effects = self.state.start_resource(i, Utc::now());
            self.run_effects(effects);
        }
        // Start the processes before the session is rebuilt and the verdict judged: they run
        // while the dispatcher does its bookkeeping.
        self.launch_queued();
    }

    fn launch_queued(&mut self) {
        if !self.launches.is_empty() {
            launch(std::mem::take(&mut self.launches), &self.exec_tx, &self.registry);
        }
    }

    /// Applies one executor message through the reducer and runs its effects; false if it
    /// changed no state the verdict or the session depends on (it may still have logged).
    fn apply(&mut self, msg: ExecMsg) -> bool {
        let changes_state = EngineState::changes_state(&msg);
        if matches!(msg, ExecMsg::Exited { .. }) {
            self.running = self.running.saturating_sub(1);
        }
        let effects = self.state.apply(msg, Utc::now());
        self.run_effects(effects);
        changes_state
    }

    /// Carries out what the reducer asked for; every task started is owned here.
    fn run_effects(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Log { resource, source, level, header, text } => {
                    self.log(resource, source, level, header, text);
                }
                Effect::Emit(event) => {
                    let _ = self.outputs.events.send(event);
                }
                Effect::Launch { resource, cmd, source } => {
                    let env = command_env(&self.env, &cmd, self.color);
                    self.launches.push(Launch { cmd, env, resource, source });
                    self.running += 1;
                }
                Effect::StartProbe { resource, pid, probe, cmd } => {
                    let job =
                        ProbeJob { probe, env: command_env(&self.env, &cmd, self.color), dir: cmd.dir, resource, pid };
                    let handle = spawn_prober(job, self.exec_tx.clone(), self.registry.clone());
                    self.probers.insert(resource, handle);
                }
                Effect::StopProbe { resource } => {
                    if let Some(h) = self.probers.remove(&resource) {
                        h.abort();
                    }
                }
                Effect::StartUpdate { resource, images, prebuilt } => self.start_update_job(resource, images, prebuilt),
                Effect::WatchContainer { resource, id } => self.watch_container(resource, id),
                Effect::WatchPods { resource, deployed } => self.watch_pods(resource, deployed),
                Effect::FollowLogs { resource, containers } => self.follow_logs(resource, containers),
            }
        }
    }

    /// Starts the image builds and deploy of a non-local resource.
    fn start_update_job(&mut self, i: usize, images: Vec<ImageTarget>, prebuilt: Vec<ImageBuildRecord>) {
        let deploy = match (self.deployments.compose.get(&i), &self.state.resources[i].manifest.target) {
            (Some(c), _) => Deploy::Compose(Box::new(c.clone())),
            (None, ResourceTarget::K8s(t)) => Deploy::K8s(Box::new(K8sDeploy {
                target: t.clone(),
                cluster: self.deployments.cluster.clone(),
                default_registry: self.deployments.registry_settings.clone(),
                upsert_timeout: self.deployments.upsert_timeout,
            })),
            (None, _) => Deploy::None,
        };
        let env = BuildEnv {
            docker: self.deployments.docker.clone(),
            env: self.env.clone(),
            color: self.color,
            registry: self.registry.clone(),
            default_registry: self.deployments.default_registry.clone(),
            tx: self.exec_tx.clone(),
            resource: i,
        };
        self.jobs.push(spawn_update(UpdateJob { env, images, prebuilt, deploy }));
    }

    /// Starts watching a deployed compose container.
    fn watch_container(&mut self, i: usize, id: String) {
        let project = self.deployments.compose.get(&i).map(|c| c.project.name.clone()).unwrap_or_default();
        let docker = self.deployments.docker.clone();
        let tx = self.exec_tx.clone();
        let watcher = tokio::spawn(async move {
            if let Ok(d) = docker.get().await {
                watch_container(d, project, i, id, tx).await;
            }
        });
        self.watchers.insert(i, watcher);
    }

    fn publish(&mut self, targets: Vec<stilt_core::Target>, done: bool, error: String) -> Arc<Session> {
        let unchanged = self.last_session.as_ref().is_some_and(|s| {
            s.status.targets == targets
                && s.status.done == done
                && s.status.error == error
                && s.spec.ci == self.state.ci
        });
        if unchanged {
            return self.last_session.clone().expect("checked");
        }
        self.resource_version += 1;
        let session = Arc::new(build_session(&self.state, targets, &self.identity, self.resource_version, done, error));
        self.last_session = Some(session.clone());
        let _ = self.outputs.session.send(session.clone());
        let _ = self.outputs.events.send(Event::SessionChanged(session.clone()));
        session
    }

    /// Containers keep running after the run; their first lines often arrive just after they
    /// turned ready. Log what comes until the output goes quiet (bounded), so the log shows it.
    async fn settle_container_logs(&mut self) {
        let deadline = tokio::time::Instant::now() + CONTAINER_LOG_SETTLE_MAX;
        loop {
            let quiet = tokio::time::Instant::now() + CONTAINER_LOG_QUIET;
            match tokio::time::timeout_at(quiet.min(deadline), self.exec_rx.recv()).await {
                Ok(Some(msg)) => self.apply_late(msg),
                Ok(None) | Err(_) => break,
            }
        }
    }

    /// A message arriving once the verdict is in: output is still logged and exits counted;
    /// nothing else changes the finished run.
    fn apply_late(&mut self, msg: ExecMsg) {
        match msg {
            ExecMsg::Output { resource, source, line } => self.log(resource, source, Level::Info, false, line),
            ExecMsg::Exited { .. } => self.running = self.running.saturating_sub(1),
            _ => {}
        }
    }

    async fn finish(mut self, targets: Vec<stilt_core::Target>, failure: Option<Failure>) -> (Outcome, Arc<Session>) {
        let error = failure.as_ref().map(|f| f.message.clone()).unwrap_or_default();
        let session = self.publish(targets, true, error);
        if !self.watchers.is_empty() {
            self.settle_container_logs().await;
        }
        for (_, h) in self.probers.drain().chain(self.watchers.drain()) {
            h.abort();
        }
        for (_, h) in self.log_streams.drain() {
            h.abort();
        }
        for h in self.jobs.drain(..) {
            h.abort();
        }
        self.registry.terminate_all(TEARDOWN_GRACE).await;
        // Keep what the killed processes printed last: log their remaining output.
        let deadline = tokio::time::Instant::now() + DRAIN_AT_TEARDOWN;
        while self.running > 0 {
            match tokio::time::timeout_at(deadline, self.exec_rx.recv()).await {
                Ok(Some(msg)) => self.apply_late(msg),
                Ok(None) | Err(_) => break,
            }
        }
        let exit_code = failure.as_ref().map_or(ExitCode::SUCCESS, |f| f.class.exit_code());
        (Outcome { failure, exit_code }, session)
    }
}
