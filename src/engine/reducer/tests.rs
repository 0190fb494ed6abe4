//! The reducer without processes: messages in, state and effects out.

use super::super::container_health::ContainerHealth;
use super::super::effect::Effect;
use super::super::engine_state::{EngineState, ResourceState, RuntimePhase, ServePhase, TiltfilePhase, UpdatePhase};
use crate::event::{Level, LogSource};
use crate::exec::exec_msg::ExecMsg;
use crate::exec::image_build::UpdateError;
use crate::exec::resource_update::Deployed;
use chrono::{DateTime, TimeDelta, Utc};
use std::path::PathBuf;
use stilt_core::manifest::DockerComposeTarget;
use stilt_core::{CiSettings, Cmd, LocalTarget, Manifest, Probe, ProbeAction, ResourceTarget, TriggerMode};
use stilt_docker::compose::ContainerStatus;

fn t(n: i64) -> DateTime<Utc> {
    "2026-08-08T19:20:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::seconds(n)
}

fn sh(script: &str) -> Cmd {
    Cmd { argv: vec!["sh".into(), "-c".into(), script.into()], dir: PathBuf::from("/w"), env: vec![] }
}

fn manifest(name: &str, target: ResourceTarget) -> Manifest {
    Manifest {
        name: name.into(),
        resource_deps: vec![],
        trigger_mode: TriggerMode::Auto,
        auto_init: true,
        labels: vec![],
        links: vec![],
        declared_at: None,
        target,
    }
}

fn local(cmd: Option<&str>, serve: Option<&str>, probe: bool) -> ResourceTarget {
    ResourceTarget::Local(LocalTarget {
        update_cmd: cmd.map(sh),
        serve_cmd: serve.map(sh),
        deps: vec![],
        ignore: vec![],
        allow_parallel: false,
        readiness_probe: probe.then(|| Probe {
            initial_delay_secs: 0,
            timeout_secs: 1,
            period_secs: 1,
            success_threshold: 1,
            failure_threshold: 3,
            action: ProbeAction::Exec { command: vec!["true".into()] },
        }),
    })
}

fn compose() -> ResourceTarget {
    ResourceTarget::DockerCompose(DockerComposeTarget {
        project_name: "p".into(),
        config_paths: vec![],
        project_path: PathBuf::from("/w"),
        service: "db".into(),
        service_config: serde_json::json!({}),
        image: None,
        published_ports: vec![],
        images: vec![],
    })
}

fn state(manifests: Vec<Manifest>) -> EngineState {
    EngineState {
        resources: manifests.into_iter().map(|m| ResourceState::new(m, true)).collect(),
        max_parallel_updates: 3,
        tiltfile: TiltfilePhase::Loaded { start: t(0), finish: t(0) },
        tiltfile_path: PathBuf::from("/w/Tiltfile"),
        ci: CiSettings::default(),
        start_time: t(0),
        pid: 1,
        environment_failure: None,
    }
}

fn exited(resource: usize, source: LogSource, pid: u32, code: i32) -> ExecMsg {
    let failure = (code != 0).then(|| format!("exit status {code}"));
    ExecMsg::Exited { resource, source, pid, failure, code: Some(code) }
}

/// The texts of the log effects, with their level.
fn logs(fx: &[Effect]) -> Vec<(Level, &str)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Log { level, text, header: false, .. } => Some((*level, text.as_str())),
            _ => None,
        })
        .collect()
}

fn launches(fx: &[Effect]) -> Vec<(&str, LogSource)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Launch { cmd, source, .. } => Some((cmd.argv[2].as_str(), *source)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_local_resource_runs_its_cmd_then_its_serve_cmd() {
    let mut s = state(vec![manifest("api", local(Some("make"), Some("serve"), false))]);
    let fx = s.start_resource(0, t(1));
    assert_eq!(launches(&fx), [("make", LogSource::Build)]);
    assert_eq!(logs(&fx), [(Level::Info, "Running cmd: make")]);
    assert_eq!(s.resources[0].update, UpdatePhase::Running { start: t(1) });

    let fx = s.apply(exited(0, LogSource::Build, 10, 0), t(2));
    assert_eq!(s.resources[0].update, UpdatePhase::Done { start: t(1), finish: t(2), error: None });
    assert_eq!(launches(&fx), [("serve", LogSource::Runtime)]);
    assert!(matches!(s.resources[0].serve, ServePhase::Running { pid: None, ready: false, .. }));

    // Without a probe the serve process is ready once it exists.
    let fx = s.apply(ExecMsg::Started { resource: 0, source: LogSource::Runtime, pid: 11 }, t(3));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(matches!(s.resources[0].serve, ServePhase::Running { pid: Some(11), ready: true, .. }));
    assert!(s.resources[0].ever_ready);
}

#[test]
fn a_failing_cmd_is_an_update_error_and_starts_nothing() {
    let mut s = state(vec![manifest("api", local(Some("make"), Some("serve"), false))]);
    s.start_resource(0, t(1));
    let fx = s.apply(exited(0, LogSource::Build, 10, 3), t(2));
    let error = "Command \"make\" failed: exit status 3";
    assert_eq!(s.resources[0].update, UpdatePhase::Done { start: t(1), finish: t(2), error: Some(error.into()) });
    assert_eq!(logs(&fx), [(Level::Error, "Build Failed: Command \"make\" failed: exit status 3")]);
    assert!(launches(&fx).is_empty());
    assert_eq!(s.resources[0].serve, ServePhase::NotStarted);
}

#[test]
fn a_probed_serve_process_starts_a_prober_and_is_ready_when_it_says_so() {
    let mut s = state(vec![manifest("api", local(None, Some("serve"), true))]);
    s.start_resource(0, t(1));
    let fx = s.apply(ExecMsg::Started { resource: 0, source: LogSource::Runtime, pid: 11 }, t(2));
    assert!(matches!(fx.as_slice(), [Effect::StartProbe { resource: 0, pid: 11, .. }]), "{fx:?}");
    assert!(matches!(s.resources[0].serve, ServePhase::Running { ready: false, .. }));

    let fx = s.apply(ExecMsg::Probe { resource: 0, pid: 11, ready: false, detail: Some("refused".into()) }, t(3));
    assert_eq!(logs(&fx), [(Level::Info, "Readiness probe failed: refused")]);
    let fx = s.apply(ExecMsg::Probe { resource: 0, pid: 11, ready: true, detail: None }, t(4));
    assert_eq!(logs(&fx), [(Level::Info, "Readiness probe succeeded")]);
    assert!(
        matches!(s.resources[0].serve, ServePhase::Running { ready: true, last_ready: Some(at), .. } if at == t(4))
    );
    // A probe of another (older) process changes nothing.
    let fx = s.apply(ExecMsg::Probe { resource: 0, pid: 99, ready: false, detail: None }, t(5));
    assert!(fx.is_empty());
    assert!(matches!(s.resources[0].serve, ServePhase::Running { ready: true, .. }));
}

#[test]
fn a_serve_process_that_exits_fails_and_stops_its_prober() {
    let mut s = state(vec![manifest("api", local(None, Some("serve"), true))]);
    s.start_resource(0, t(1));
    s.apply(ExecMsg::Started { resource: 0, source: LogSource::Runtime, pid: 11 }, t(2));
    let fx = s.apply(exited(0, LogSource::Runtime, 11, 0), t(3));
    assert!(matches!(fx[0], Effect::StopProbe { resource: 0 }), "{fx:?}");
    let error = "Process 11 exited with status 0: serve_cmd must keep running";
    assert_eq!(logs(&fx), [(Level::Error, error)]);
    assert_eq!(s.resources[0].serve, ServePhase::Exited { start: t(1), finish: t(3), error: error.into() });
}

#[test]
fn output_is_logged_and_changes_no_state() {
    let mut s = state(vec![manifest("api", local(Some("make"), None, false))]);
    let msg = ExecMsg::Output { resource: 0, source: LogSource::Build, line: "hello".into() };
    assert!(!EngineState::changes_state(&msg));
    let fx = s.apply(msg, t(1));
    assert_eq!(logs(&fx), [(Level::Info, "hello")]);
    assert_eq!(s.resources[0].update, UpdatePhase::NotStarted);
}

#[test]
fn a_compose_service_is_updated_then_its_container_watched() {
    let mut s = state(vec![manifest("db", compose())]);
    let fx = s.start_resource(0, t(1));
    assert!(matches!(fx.last(), Some(Effect::StartUpdate { resource: 0, .. })), "{fx:?}");
    let deployed = Deployed { container: Some(("c1".into(), "p-db-1".into())), k8s: None };
    let fx = s.apply(ExecMsg::UpdateFinished { resource: 0, result: Ok(deployed) }, t(2));
    assert!(matches!(fx.as_slice(), [Effect::WatchContainer { resource: 0, id }] if id == "c1"), "{fx:?}");

    let running = ContainerStatus {
        state: "running".into(),
        running: true,
        exit_code: 0,
        error: String::new(),
        started_at: None,
        finished_at: None,
        health: None,
        restart_count: 0,
    };
    let fx = s.apply(ExecMsg::Container { resource: 0, status: Ok(running.clone()) }, t(3));
    assert_eq!(logs(&fx), [(Level::Info, "Container p-db-1 is ready")]);
    assert!(matches!(
        &s.resources[0].runtime,
        RuntimePhase::Container { health: ContainerHealth::Ready, last_ready: Some(at), .. } if *at == t(3)
    ));
    // Then it dies: failed, and failed stays.
    let dead = ContainerStatus { state: "exited".into(), running: false, exit_code: 2, ..running.clone() };
    let fx = s.apply(ExecMsg::Container { resource: 0, status: Ok(dead) }, t(4));
    assert_eq!(logs(&fx), [(Level::Error, "container p-db-1 exited with code 2")]);
    s.apply(ExecMsg::Container { resource: 0, status: Ok(running) }, t(5));
    assert!(matches!(
        &s.resources[0].runtime,
        RuntimePhase::Container { health: ContainerHealth::Failed(_), changed, .. } if *changed == t(4)
    ));
}

#[test]
fn an_environment_failure_of_an_update_is_recorded_once() {
    let mut s = state(vec![manifest("db", compose()), manifest("web", compose())]);
    s.start_resource(0, t(1));
    s.start_resource(1, t(1));
    let refused = || UpdateError { message: "docker refused".into(), environment: true };
    s.apply(ExecMsg::UpdateFinished { resource: 1, result: Err(refused()) }, t(2));
    s.apply(ExecMsg::UpdateFinished { resource: 0, result: Err(refused()) }, t(3));
    let env = s.environment_failure.as_ref().unwrap();
    assert_eq!(env.target.as_deref(), Some("web:update"));
    assert!(matches!(&s.resources[0].update, UpdatePhase::Done { error: Some(e), .. } if e == "docker refused"));
}
