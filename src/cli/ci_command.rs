//! `stilt ci`: wires the pipeline — status API, Tiltfile load, dispatcher, reporters — and
//! turns the outcome into an exit code. Every path, including a busy port, a broken Tiltfile
//! and a signal during load, ends in `RunFinished`, so reports are always written.

use super::args::CiArgs;
use crate::engine::deploy_plan::compose_deploys;
use crate::engine::dispatcher::{Deployments, Dispatcher, Outputs, Shutdown};
use crate::engine::engine_state::{EngineState, ResourceState, TiltfilePhase};
use crate::engine::scheduler::Schedule;
use crate::engine::session_builder::{SessionIdentity, build_session, build_targets};
use crate::error_chain::error_chain;
use crate::event::{Event, Failure, Level, LogLine, LogSource};
use crate::exec::process_registry::ProcessRegistry;
use crate::report::log_stream::LogFilter;
use crate::report::reporter::{ReporterConfig, ReporterResult, spawn_reporter};
use crate::server::status_server;
use chrono::Utc;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use stilt_core::{CiSettings, ExitCode, FailureClass, GoDuration, TiltfileError};
use stilt_tiltfile::{EvalOptions, LogLevel};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::sync::watch;

/// Tilt's default readiness timeout.
const DEFAULT_READINESS_TIMEOUT_SECS: i64 = 300;

/// Whether to colour the terminal output (TTY, `TERM` not `dumb`, no `NO_COLOR`).
pub fn use_color() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
        && std::env::var_os("NO_COLOR").is_none()
}

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

/// Runs `stilt ci`.
pub async fn run(args: CiArgs) -> ExitCode {
    let start_time = crate::process_start_time();
    let color = use_color();
    let tiltfile: PathBuf = super::absolute_tiltfile(&args.file);
    let (shutdown_tx, mut shutdown_rx) = unbounded_channel();
    install_signal_handlers(shutdown_tx);

    let (events, events_rx) = unbounded_channel();
    let reporter = spawn_reporter(
        ReporterConfig {
            filter: LogFilter { resources: args.log_resource.clone(), source: args.log_source, level: args.log_level },
            color,
            log_dir: args.log_dir.clone(),
            junit: args.junit.clone(),
            report_json: args.report_json.clone(),
            snapshot: args.output_snapshot_on_exit.clone(),
            ci: crate::report::ci_output::CiConfig::from_args(args.ci_output, &args.mask_env),
        },
        events_rx,
    );
    let registry = ProcessRegistry::default();
    let identity = SessionIdentity { uid: random_uid() };
    let mut state = EngineState {
        resources: Vec::new(),
        max_parallel_updates: 3,
        tiltfile: TiltfilePhase::Loading { start: Utc::now() },
        tiltfile_path: tiltfile.clone(),
        ci: CiSettings {
            k8s_grace_period: None,
            timeout: Some(args.timeout),
            readiness_timeout: Some(GoDuration::from_secs(DEFAULT_READINESS_TIMEOUT_SECS)),
        },
        start_time,
        pid: std::process::id(),
        environment_failure: None,
    };
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
    if args.port != 0 {
        match status_server::bind(&args.host, args.port).await {
            Ok(listener) => {
                let shown = if args.host == "localhost" { "127.0.0.1" } else { args.host.as_str() };
                status_url = Some(format!("http://{shown}:{}/apis/tilt.dev/v1alpha1/sessions/Tiltfile", args.port));
                server = Some(status_server::serve(listener, session_rx));
            }
            Err(e) => {
                early_failure =
                    Some(Failure { message: error_chain(&e), class: FailureClass::Environment, target: None });
            }
        }
    }
    let _ = events.send(Event::RunStarted { tiltfile: tiltfile.clone(), start_time, status_url });

    let mut dispatcher_env = env.clone();
    let mut deployments = Deployments::default();
    if early_failure.is_none() {
        let load = LoadContext { args: &args, tiltfile: &tiltfile, events: &events, registry: &registry, start_time };
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
        s.abort();
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
    args: &'a CiArgs,
    tiltfile: &'a PathBuf,
    events: &'a UnboundedSender<Event>,
    registry: &'a ProcessRegistry,
    start_time: chrono::DateTime<Utc>,
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
    let LoadContext { args, tiltfile, events, registry, start_time } = cx;
    let LoadInto { state, env: dispatcher_env, deployments } = into;
    let registry = registry.clone();
    global_log(events, Level::Info, format!("Loading Tiltfile at: {}", tiltfile.display()));
    let log_events = events.clone();
    let opts = EvalOptions {
        tiltfile: tiltfile.clone(),
        args: args.tiltfile_args.clone(),
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
        kube_context: args.context.clone(),
        kube_namespace: args.namespace.clone(),
    };
    let load_start = Instant::now();
    let load_start_time = Utc::now();
    let mut load = tokio::task::spawn_blocking(move || stilt_tiltfile::evaluate(opts));
    let timeout = args.timeout;
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
                deployments.plan(&result, compose, args.context.clone(), args.namespace.clone());
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
            state.tiltfile = TiltfilePhase::Loaded { start: load_start_time, finish };
            let enabled: std::collections::BTreeSet<&str> =
                result.enabled_resources.iter().map(String::as_str).collect();
            state.resources = result
                .manifests
                .iter()
                .map(|m| ResourceState::new(m.clone(), enabled.contains(m.name.as_str())))
                .collect();
            state.max_parallel_updates =
                usize::try_from(result.update_settings.max_parallel_updates.max(1)).unwrap_or(1);
            state.ci = CiSettings {
                k8s_grace_period: result.ci_settings.k8s_grace_period,
                timeout: result.ci_settings.timeout.or(Some(args.timeout)),
                readiness_timeout: result
                    .ci_settings
                    .readiness_timeout
                    .or(Some(GoDuration::from_secs(DEFAULT_READINESS_TIMEOUT_SECS))),
            };
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
