//! The dispatcher against real processes, with manifests built by hand (no Tiltfile): fail-fast,
//! deps, serial vs parallel, serve exit, each probe kind, timeouts, shutdown, and reaping.

use super::dispatcher::{Dispatcher, Outputs, Shutdown};
use super::engine_state::{EngineState, ResourceState, TiltfilePhase};
use super::session_builder::SessionIdentity;
use crate::event::Outcome;
use crate::exec::process_registry::ProcessRegistry;
use chrono::Utc;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use stilt_core::{
    CiSettings, Cmd, FailureClass, GoDuration, LocalTarget, Manifest, Probe, ProbeAction, Readiness, ResourceTarget,
    Session, TargetState, TriggerMode,
};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

fn sh(script: &str, dir: &Path) -> Cmd {
    Cmd { argv: vec!["sh".into(), "-c".into(), script.into()], dir: dir.to_path_buf(), env: vec![] }
}

struct Res {
    name: &'static str,
    cmd: Option<String>,
    serve: Option<String>,
    deps: Vec<&'static str>,
    parallel: bool,
    probe: Option<ProbeAction>,
}

fn res(name: &'static str) -> Res {
    Res { name, cmd: None, serve: None, deps: vec![], parallel: false, probe: None }
}

impl Res {
    fn cmd(mut self, c: &str) -> Self {
        self.cmd = Some(c.into());
        self
    }
    fn serve(mut self, c: &str) -> Self {
        self.serve = Some(c.into());
        self
    }
    fn deps(mut self, d: &[&'static str]) -> Self {
        self.deps = d.to_vec();
        self
    }
    fn parallel(mut self) -> Self {
        self.parallel = true;
        self
    }
    fn probe(mut self, p: ProbeAction) -> Self {
        self.probe = Some(p);
        self
    }
    fn manifest(&self, dir: &Path) -> Manifest {
        Manifest {
            name: self.name.into(),
            resource_deps: self.deps.iter().map(|s| (*s).to_string()).collect(),
            trigger_mode: TriggerMode::Auto,
            auto_init: true,
            labels: vec![],
            links: vec![],
            declared_at: None,
            target: ResourceTarget::Local(LocalTarget {
                update_cmd: self.cmd.as_deref().map(|c| sh(c, dir)),
                serve_cmd: self.serve.as_deref().map(|c| sh(c, dir)),
                deps: vec![],
                ignore: vec![],
                allow_parallel: self.parallel,
                readiness_probe: self.probe.clone().map(|action| Probe {
                    initial_delay_secs: 0,
                    timeout_secs: 1,
                    period_secs: 1,
                    success_threshold: 1,
                    failure_threshold: 3,
                    action,
                }),
            }),
        }
    }
}

struct Run {
    outcome: Outcome,
    session: Arc<Session>,
}

async fn run_with(
    resources: Vec<Res>,
    dir: &Path,
    timeout: &str,
    readiness: &str,
    shutdown: Option<(UnboundedSender<Shutdown>, tokio::sync::mpsc::UnboundedReceiver<Shutdown>)>,
) -> Run {
    let now = Utc::now();
    let state = EngineState {
        resources: resources.iter().map(|r| ResourceState::new(r.manifest(dir), true)).collect(),
        max_parallel_updates: 3,
        tiltfile: TiltfilePhase::Loaded { start: now, finish: now },
        tiltfile_path: dir.join("Tiltfile"),
        ci: CiSettings {
            k8s_grace_period: None,
            timeout: Some(GoDuration::parse(timeout).unwrap()),
            readiness_timeout: Some(GoDuration::parse(readiness).unwrap()),
        },
        start_time: now,
        pid: std::process::id(),
        environment_failure: None,
    };
    let (events, _events_rx) = unbounded_channel();
    let (session, _rx) = tokio::sync::watch::channel(Arc::new(crate::engine::session_builder::build_session(
        &state,
        vec![],
        &SessionIdentity { uid: "u".into() },
        0,
        false,
        String::new(),
    )));
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let d = Dispatcher::new(
        state,
        env,
        false,
        Outputs { events, session },
        ProcessRegistry::default(),
        SessionIdentity { uid: "u".into() },
        crate::engine::dispatcher::Deployments::default(),
    );
    let (_tx, rx) = shutdown.unwrap_or_else(unbounded_channel);
    let (outcome, session) = d.run(rx).await;
    Run { outcome, session }
}

async fn run(resources: Vec<Res>, dir: &Path) -> Run {
    run_with(resources, dir, "30s", "5m", None).await
}

fn state_of<'a>(run: &'a Run, target: &str) -> Option<&'a TargetState> {
    run.session
        .status
        .targets
        .iter()
        .find(|t| t.name == target)
        .unwrap_or_else(|| panic!("no target {target}"))
        .state
        .as_ref()
}

fn pid_alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"))
}

#[tokio::test]
async fn all_commands_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(vec![res("a").cmd("true"), res("b").cmd("echo hi")], dir.path()).await;
    assert!(r.outcome.failure.is_none(), "{:?}", r.outcome.failure);
    assert_eq!(r.outcome.exit_code.0, 0);
    assert!(r.session.status.done);
    assert!(matches!(state_of(&r, "b:update"), Some(TargetState::Terminated { error, .. }) if error.is_empty()));
}

#[tokio::test]
async fn failing_cmd_fails_fast_and_dependents_never_start() {
    let dir = tempfile::tempdir().unwrap();
    let r =
        run(vec![res("bad").cmd("exit 3"), res("after").cmd("touch ran").deps(&["bad"]).parallel()], dir.path()).await;
    let f = r.outcome.failure.clone().unwrap();
    assert_eq!(f.message, "Command \"exit 3\" failed: exit status 3");
    assert_eq!(f.class, FailureClass::UpdateFailed);
    assert_eq!(f.target.as_deref(), Some("bad:update"));
    assert_eq!(r.outcome.exit_code.0, 1);
    assert!(!dir.path().join("ran").exists());
    assert_eq!(state_of(&r, "after:update"), Some(&TargetState::Waiting { wait_reason: "waiting-for-dep".into() }));
    assert_eq!(r.session.status.error, "Command \"exit 3\" failed: exit status 3");
}

#[tokio::test]
async fn serial_locals_never_overlap_and_parallel_ones_do() {
    let dir = tempfile::tempdir().unwrap();
    let step = |n: &str| format!("echo start-{n} >> log; sleep 0.3; echo end-{n} >> log");
    run(vec![res("a").cmd(&step("a")), res("b").cmd(&step("b")), res("c").cmd(&step("c"))], dir.path()).await;
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
    assert_eq!(log, "start-a\nend-a\nstart-b\nend-b\nstart-c\nend-c\n");

    let dir = tempfile::tempdir().unwrap();
    run(
        vec![
            res("a").cmd(&step("a")).parallel(),
            res("b").cmd(&step("b")).parallel(),
            res("c").cmd(&step("c")).parallel(),
        ],
        dir.path(),
    )
    .await;
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[..3].iter().all(|l| l.starts_with("start-")), "all three start before any ends: {lines:?}");
}

#[tokio::test]
async fn max_parallel_updates_caps_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let step = |n: &str| format!("echo start-{n} >> log; sleep 0.3; echo end-{n} >> log");
    let rs = ["a", "b", "c", "d"].map(|n| res(n).cmd(&step(n)).parallel());
    run(rs.into_iter().collect(), dir.path()).await;
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[..3].iter().all(|l| l.starts_with("start-")), "{lines:?}");
    assert!(lines[3].starts_with("end-"), "the 4th starts only after one ends: {lines:?}");
}

#[tokio::test]
async fn serve_without_probe_is_ready_at_once_and_is_killed_at_exit() {
    let dir = tempfile::tempdir().unwrap();
    // The run succeeds only once the server wrote both pids, so the check below is never vacuous.
    let r = run(
        vec![
            res("srv").serve("echo $$ > pid; sleep 300 & echo $! > child; wait").parallel(),
            res("waiter").cmd("while [ ! -s child ]; do sleep 0.05; done").deps(&["srv"]).parallel(),
        ],
        dir.path(),
    )
    .await;
    assert!(r.outcome.failure.is_none(), "{:?}", r.outcome.failure);
    assert!(matches!(state_of(&r, "srv:serve"), Some(TargetState::Active { ready: Readiness::Ready, .. })));
    for f in ["pid", "child"] {
        let pid: i32 = std::fs::read_to_string(dir.path().join(f)).unwrap().trim().parse().unwrap();
        assert!(!pid_alive(pid), "{f} {pid} survived the run");
    }
}

#[tokio::test]
async fn serve_exit_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let r =
        run(vec![res("srv").serve("exit 4").probe(ProbeAction::Exec { command: vec!["false".into()] })], dir.path())
            .await;
    let f = r.outcome.failure.clone().unwrap();
    assert_eq!(f.class, FailureClass::ServeExited);
    assert!(
        f.message.starts_with("Process ") && f.message.ends_with("exited with non-zero status (exit status 4)"),
        "{}",
        f.message
    );

    let r = run(vec![res("srv").serve("true").probe(ProbeAction::Exec { command: vec!["false".into()] })], dir.path())
        .await;
    let f = r.outcome.failure.clone().unwrap();
    assert!(f.message.contains("exited with status 0"), "{}", f.message);
}

#[tokio::test]
async fn exec_probe_gates_deps() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        vec![
            res("srv")
                .serve("sleep 0.5; touch ready; sleep 300")
                .probe(ProbeAction::Exec { command: vec!["test".into(), "-f".into(), "ready".into()] }),
            res("client").cmd("test -f ready").deps(&["srv"]).parallel(),
        ],
        dir.path(),
    )
    .await;
    assert!(r.outcome.failure.is_none(), "{:?}", r.outcome.failure);
    assert!(matches!(
        state_of(&r, "srv:serve"),
        Some(TargetState::Active { ready: Readiness::Ready, last_ready_time: Some(_), .. })
    ));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn http_and_tcp_probes() {
    let dir = tempfile::tempdir().unwrap();
    let (p1, p2) = (free_port(), free_port());
    let server = |p: u16| format!("sleep 0.3; exec python3 -m http.server {p} --bind 127.0.0.1");
    let r = run(
        vec![
            res("web").serve(&server(p1)).probe(ProbeAction::HttpGet {
                host: "127.0.0.1".into(),
                port: p1.into(),
                scheme: "http".into(),
                path: "/".into(),
            }),
            res("tcp")
                .serve(&server(p2))
                .probe(ProbeAction::TcpSocket { host: "127.0.0.1".into(), port: p2.into() })
                .parallel(),
        ],
        dir.path(),
    )
    .await;
    assert!(r.outcome.failure.is_none(), "{:?}", r.outcome.failure);
}

#[tokio::test]
async fn readiness_timeout_fails_a_never_ready_server() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_with(
        vec![
            res("srv")
                .serve("sleep 300")
                .probe(ProbeAction::TcpSocket { host: "127.0.0.1".into(), port: free_port().into() }),
        ],
        dir.path(),
        "30s",
        "1s",
        None,
    )
    .await;
    let f = r.outcome.failure.clone().unwrap();
    assert_eq!(f.message, "Readiness timeout after 1s: target srv:serve not ready");
    assert_eq!(f.class, FailureClass::ReadinessTimeout);
    assert_eq!(r.outcome.exit_code.0, 3);
}

#[tokio::test]
async fn global_timeout_lists_what_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_with(vec![res("slow").cmd("sleep 30"), res("next").cmd("true")], dir.path(), "1s", "5m", None).await;
    let f = r.outcome.failure.clone().unwrap();
    assert_eq!(
        f.message,
        "Timeout after 1s: 1 resources waiting (next:update waiting-for-local), 1 resources not ready (slow:update)"
    );
    assert_eq!(f.class, FailureClass::GlobalTimeout);
}

#[tokio::test]
async fn shutdown_kills_running_commands() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = unbounded_channel();
    let tx2 = tx.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let _ = tx2.send(Shutdown::Terminate);
    });
    let r = run_with(vec![res("long").cmd("echo $$ > pid; sleep 300")], dir.path(), "30s", "5m", Some((tx, rx))).await;
    let f = r.outcome.failure.clone().unwrap();
    assert_eq!(f.class, FailureClass::Terminated);
    assert_eq!(r.outcome.exit_code.0, 143);
    let pid: i32 = std::fs::read_to_string(dir.path().join("pid")).unwrap().trim().parse().unwrap();
    assert!(!pid_alive(pid));
}
