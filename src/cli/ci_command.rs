//! `stilt ci`: wires the pipeline — status API, Tiltfile load, dispatcher, reporters — and
//! turns the outcome into an exit code. Every path, including a busy port, a broken Tiltfile
//! and a signal during load, ends in `RunFinished`, so reports are always written.

use super::ci_config::CiConfig;
use crate::engine::deploy_plan::compose_deploys;
use crate::engine::dispatcher::{Deployments, Dispatcher, Outputs, Shutdown};
use crate::engine::engine_state::{EngineState, TiltfilePhase};
use crate::engine::scheduler::Schedule;
use crate::engine::session_builder::{SessionIdentity, build_session, build_targets};
use crate::error_chain::error_chain;
use crate::event::{Event, Failure, Level, LogLine, LogSource};
use crate::exec::image_build::DockerHandle;
use crate::exec::process_registry::ProcessRegistry;
use crate::report::reporter::{ReporterConfig, ReporterResult, spawn_reporter};
use crate::server::live_view::{DEFAULT_LOG_BYTES, LiveView};
use crate::server::status_server::{self, StatusServer};
use chrono::Utc;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use stilt_core::{ExitCode, FailureClass, GoDuration, TiltfileError};
use stilt_tiltfile::{EvalOptions, LogLevel};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::sync::watch;

fn random_uid() -> String {
    use std::hash::{BuildHasher, RandomState};
    let a = RandomState::new().hash_one(std::process::id());
    let b = RandomState::new().hash_one(Utc::now().timestamp_nanos_opt());
    let hex = format!("{a:016x}{b:016x}");
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

fn global_log(events: &UnboundedSender<Event>, level: Level, text: String) {
    let _ = events.send(Event::Log(LogLine {
        resource: None,
        source: LogSource::Build,
        level,
        header: false,
        text,
        time: Utc::now(),
    }));
}

fn install_signal_handlers(tx: UnboundedSender<Shutdown>) {
    let mut int = signal(SignalKind::interrupt()).expect("failed to install the SIGINT handler");
    let mut term = signal(SignalKind::terminate()).expect("failed to install the SIGTERM handler");
    tokio::spawn(async move {
        loop {
            let s = tokio::select! {
                _ = int.recv() => Shutdown::Interrupt,
                _ = term.recv() => Shutdown::Terminate,
            };
            if tx.send(s).is_err() {
                break;
            }
        }
    });
}

/// Runs `stilt ci` as `cfg` says.
pub async fn run(cfg: CiConfig) -> ExitCode {
    let start_time = cfg.start_time;
    let color = cfg.color;
    let tiltfile = cfg.tiltfile.clone();
    let (shutdown_tx, mut shutdown_rx) = unbounded_channel();
    install_signal_handlers(shutdown_tx);

    let (events, events_rx) = unbounded_channel();
    let live = LiveView::new(DEFAULT_LOG_BYTES);
    let reporter = spawn_reporter(ReporterConfig { live: Some(live.clone()), ..cfg.reporter.clone() }, events_rx);
    let registry = ProcessRegistry::default();
    let identity = SessionIdentity { uid: random_uid() };
    let mut state = EngineState::loading(tiltfile.clone(), cfg.timeout, start_time, Utc::now());
    let first = build_session(
        &state,
        build_targets(&state, &Schedule::default(), Utc::now()),
        &identity,
        0,
        false,
        String::new(),
    );
    let (session_tx, session_rx) = watch::channel(Arc::new(first));
    let outputs = Outputs { events: events.clone(), session: session_tx };
    let env: BTreeMap<String, String> = std::env::vars().collect();

    // The status API first, like Tilt: a busy port fails the run before anything executes.
    let mut server = None;
    let mut status_url = None;
    let mut early_failure = None;
    if let Some(api) = &cfg.status_api {
        match status_server::bind(&api.host, api.port).await {
            Ok(listener) => {
                let shown = if api.host == "localhost" { "127.0.0.1" } else { api.host.as_str() };
                status_url = Some(format!("http://{shown}:{}/apis/tilt.dev/v1alpha1/sessions/Tiltfile", api.port));
                let warn = |msg| global_log(&events, Level::Warn, msg);
                server = Some(StatusServer::start(listener, session_rx, live.clone(), &warn));
            }
            Err(e) => {
                early_failure =
                    Some(Failure { message: error_chain(&e), class: FailureClass::Environment, target: None });
            }
        }
    }
    let _ = events.send(Event::RunStarted { tiltfile: tiltfile.clone(), start_time, status_url });

    let mut dispatcher_env = env.clone();
    let mut deployments = Deployments { docker: DockerHandle::new(cfg.reuse_images), ..Deployments::default() };
    if early_failure.is_none() {
        let load = LoadContext { cfg: &cfg, events: &events, registry: &registry };
        let into = LoadInto { state: &mut state, env: &mut dispatcher_env, deployments: &mut deployments };
        early_failure = load_tiltfile(load, env, into, &mut shutdown_rx).await;
    }

    let dispatcher = Dispatcher::new(state, dispatcher_env, color, outputs, registry, identity, deployments);
    let (outcome, session) = match early_failure {
        Some(failure) => {
            if failure.class == FailureClass::Environment {
                global_log(&events, Level::Error, failure.message.clone());
            }
            dispatcher.abort(failure).await
        }
        None => dispatcher.run(shutdown_rx).await,
    };
    let exit_code = outcome.exit_code;
    let _ = events.send(Event::RunFinished { session, outcome });
    drop(events);
    // A report that could not be written fails a run that had passed (README: exit codes).
    let exit_code = match reporter.await {
        Ok(result) => result.exit_code(exit_code),
        Err(e) => {
            eprintln!("Error: the reporter failed, reports may be missing: {e}");
            ReporterResult { write_errors: vec![e.to_string()] }.exit_code(exit_code)
        }
    };
    if let Some(s) = server {
        s.stop().await;
    }
    exit_code
}

/// What a successful load fills in.
struct LoadInto<'a> {
    state: &'a mut EngineState,
    env: &'a mut BTreeMap<String, String>,
    deployments: &'a mut Deployments,
}

struct LoadContext<'a> {
    cfg: &'a CiConfig,
    events: &'a UnboundedSender<Event>,
    registry: &'a ProcessRegistry,
}

/// Loads the Tiltfile into `state`. Returns a failure that ends the run before the engine starts
/// (a signal during load); a Tiltfile error is recorded in `state` instead, and the global
/// timeout is left to the verdict.
async fn load_tiltfile(
    cx: LoadContext<'_>,
    env: BTreeMap<String, String>,
    into: LoadInto<'_>,
    shutdown_rx: &mut tokio::sync::mpsc::UnboundedReceiver<Shutdown>,
) -> Option<Failure> {
    let LoadContext { cfg, events, registry } = cx;
    let (tiltfile, start_time) = (&cfg.tiltfile, cfg.start_time);
    let LoadInto { state, env: dispatcher_env, deployments } = into;
    let registry = registry.clone();
    global_log(events, Level::Info, format!("Loading Tiltfile at: {}", tiltfile.display()));
    let log_events = events.clone();
    // Stops the evaluation however this function returns (timeout, signal): issue 16.
    let cancel = stilt_tiltfile::CancelFlag::default();
    let _cancel_on_return = cancel.cancel_on_drop();
    let opts = EvalOptions {
        tiltfile: tiltfile.clone(),
        args: cfg.tiltfile_args.clone(),
        subcommand: "ci".into(),
        env,
        log: Arc::new(move |level, line: &str| {
            let level = match level {
                LogLevel::Info => Level::Info,
                LogLevel::Warn => Level::Warn,
            };
            global_log(&log_events, level, line.to_string());
        }),
        on_spawn: Some(Arc::new(move |pid| registry.add(pid))),
        mode: stilt_tiltfile::EvalMode::Ci,
        kube_context: cfg.context.clone(),
        kube_namespace: cfg.namespace.clone(),
        cancel,
    };
    let load_start = Instant::now();
    let load_start_time = Utc::now();
    let mut load = tokio::task::spawn_blocking(move || stilt_tiltfile::evaluate(opts));
    let timeout = cfg.timeout;
    let deadline = (!timeout.is_disabled()).then(|| {
        let elapsed = (Utc::now() - start_time).to_std().unwrap_or_default();
        timeout.to_std().saturating_sub(elapsed)
    });
    let loaded = tokio::select! {
        res = &mut load => Some(res),
        sig = shutdown_rx.recv() => return sig.map(Shutdown::failure),
        () = async { match deadline { Some(d) => tokio::time::sleep(d).await, None => std::future::pending().await } } => None,
    };
    let finish = Utc::now();
    // Compose files are checked as part of the load: a bad one is a Tiltfile error.
    let loaded = match loaded {
        Some(Ok(Ok(result))) => match compose_deploys(&result.manifests) {
            Ok(compose) => {
                deployments.plan(&result, compose, cfg.context.clone(), cfg.namespace.clone());
                Some(Ok(Ok(result)))
            }
            Err(e) => Some(Ok(Err(e))),
        },
        other => other,
    };
    match loaded {
        Some(Ok(Ok(result))) => {
            let duration = load_start.elapsed();
            global_log(
                events,
                Level::Info,
                format!("Successfully loaded Tiltfile ({})", GoDuration::from_std(duration)),
            );
            state.loaded(&result, cfg.timeout, load_start_time, finish);
            dispatcher_env.clone_from(&result.environment);
            let _ = events.send(Event::TiltfileLoaded { result: Arc::new(result), duration });
        }
        Some(Ok(Err(error))) => {
            let error = Arc::new(error);
            for line in error.to_string().lines() {
                global_log(events, Level::Error, line.to_string());
            }
            state.tiltfile = TiltfilePhase::Failed { start: load_start_time, finish, error: error.clone() };
            let _ = events.send(Event::TiltfileFailed { error });
        }
        Some(Err(join_error)) => {
            let error = Arc::new(TiltfileError::new(format!("Tiltfile evaluation crashed: {join_error}")));
            global_log(events, Level::Error, error.message.clone());
            state.tiltfile = TiltfilePhase::Failed { start: load_start_time, finish, error: error.clone() };
            let _ = events.send(Event::TiltfileFailed { error });
        }
        None => {}
    }
    None
}
