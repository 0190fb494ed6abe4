//! The compose runtime against the REAL Docker Engine of `scripts/test-env`: parsing errors,
//! then up / status / logs / events / down of busybox services. Every test uses its own
//! project and takes it down at the end, failed or not. These tests fail (never skip) when the
//! environment is not up.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::pin::pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{FutureExt, Stream, StreamExt};
use serde_json::{Value, json};
use stilt_core::error_chain::error_chain;
use stilt_docker::DockerClient;
use stilt_docker::compose::{
    ComposeError, ComposeProject, ContainerEvent, ContainerStatus, DownOptions, DownSummary, ServiceSpec,
};

mod common;

use common::{base, docker};

/// How long anything in a container may take to happen.
const PATIENCE: Duration = Duration::from_secs(30);

/// A project name no other test (or run) uses.
fn unique_project() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("stilttest{}x{nanos:x}x{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// One test's project: a temporary project directory and a daemon connection.
struct Fixture {
    docker: DockerClient,
    project: ComposeProject,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn spec(&self, service: &str, config: &Value) -> ServiceSpec {
        ServiceSpec::from_config(&self.project, service, config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `compose_up` with `spec.image` (the base image for a build-only spec), returning the
    /// container id and the log lines.
    async fn up(&self, spec: &ServiceSpec) -> (String, Vec<String>) {
        let mut lines = Vec::new();
        let image = spec.image.clone().unwrap_or_else(base);
        let id = self
            .docker
            .compose_up(&self.project, spec, &image, |l| lines.push(l.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{}\n{}", error_chain(&e), lines.join("\n")));
        (id, lines)
    }

    async fn down(&self, options: &DownOptions) -> DownSummary {
        self.docker.compose_down(&self.project.name, options, |_| {}).await.unwrap_or_else(|e| panic!("{e}"))
    }

    async fn status(&self, id: &str) -> ContainerStatus {
        self.docker.compose_status(id).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Polls the container's status until `done` holds.
    async fn wait_status(&self, id: &str, what: &str, done: impl Fn(&ContainerStatus) -> bool) -> ContainerStatus {
        let start = Instant::now();
        loop {
            let status = self.status(id).await;
            if done(&status) {
                return status;
            }
            assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}: {status:#?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Reads the container's logs until a line contains `needle`; returns every line read.
    async fn logs_until(&self, id: &str, needle: &str) -> Vec<String> {
        let mut logs = pin!(self.docker.compose_logs(id));
        let mut lines = Vec::new();
        let found = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = logs.next().await {
                let line = line.unwrap_or_else(|e| panic!("{e}"));
                let hit = line.contains(needle);
                lines.push(line);
                if hit {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(matches!(found, Ok(true)), "no log line contains {needle:?}: {lines:#?}");
        lines
    }

    /// Every log line of a container that has exited.
    async fn all_logs(&self, id: &str) -> Vec<String> {
        let lines = self.docker.compose_logs(id).map(|l| l.unwrap_or_else(|e| panic!("{e}"))).collect();
        tokio::time::timeout(PATIENCE, lines).await.expect("the logs end when the container has exited")
    }
}

/// Runs `test` on a fresh project, then takes the project down (volumes too) whatever happened.
async fn with_project<F: Future<Output = ()>>(test: impl FnOnce(Fixture) -> F) {
    let dir = tempfile::tempdir().unwrap();
    let project = ComposeProject {
        name: unique_project(),
        working_dir: dir.path().to_path_buf(),
        config_files: vec![dir.path().join("compose.yaml")],
    };
    let fixture = Fixture { docker: docker().await, project, dir };
    let (docker, name) = (fixture.docker.clone(), fixture.project.name.clone());
    let outcome = AssertUnwindSafe(test(fixture)).catch_unwind().await;
    let quick = DownOptions { remove_volumes: true, stop_timeout: Some(Duration::ZERO) };
    let down = docker.compose_down(&name, &quick, |_| {}).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    down.unwrap_or_else(|e| panic!("{e}"));
}

/// Waits for the first event `matches` accepts.
async fn next_event(
    events: &mut (impl Stream<Item = Result<ContainerEvent, ComposeError>> + Unpin),
    what: &str,
    matches: impl Fn(&ContainerEvent) -> bool,
) -> ContainerEvent {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(PATIENCE, async {
        while let Some(event) = events.next().await {
            let event = event.unwrap_or_else(|e| panic!("{e}"));
            if matches(&event) {
                return Some(event);
            }
            seen.push(event);
        }
        None
    })
    .await;
    match found {
        Ok(Some(event)) => event,
        _ => panic!("no {what} event; saw {seen:#?}"),
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A shell command that serves `page` over HTTP on port 8080.
fn httpd(page: &str) -> Value {
    json!(["sh", "-c", format!("mkdir -p /www && echo {page} > /www/index.html && exec httpd -f -p 8080 -h /www")])
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn read_error(config: &Value) -> String {
    let project = ComposeProject { name: "p".into(), working_dir: "/proj".into(), config_files: Vec::new() };
    ServiceSpec::from_config(&project, "web", config).unwrap_err().to_string()
}

#[test]
fn unknown_key_is_refused_with_a_suggestion() {
    assert_eq!(
        read_error(&json!({"imgae": "x"})),
        "failed to read compose service \"web\": unknown key \"imgae\" (did you mean \"image\"?)"
    );
    assert_eq!(
        read_error(&json!({"image": "x", "no_such_thing": 1})),
        "failed to read compose service \"web\": unknown key \"no_such_thing\""
    );
    // Extension keys are allowed anywhere compose allows them.
    let project = ComposeProject { name: "p".into(), working_dir: "/proj".into(), config_files: Vec::new() };
    ServiceSpec::from_config(&project, "web", &json!({"image": "x", "x-notes": {"a": 1}})).unwrap();
}

#[test]
fn unsupported_key_is_refused_by_name() {
    assert_eq!(
        read_error(&json!({"image": "x", "secrets": ["token"]})),
        "failed to read compose service \"web\": key \"secrets\" is not supported by stilt yet"
    );
    assert_eq!(
        read_error(&json!({"build": {"context": ".", "ssh": ["default"]}})),
        "failed to read compose service \"web\": key \"build.ssh\" is not supported by stilt yet"
    );
}

#[test]
fn malformed_port_names_service_and_key() {
    let e = read_error(&json!({"image": "x", "ports": ["abc"]}));
    assert!(e.starts_with("failed to read compose service \"web\": key \"ports\": invalid port \"abc\""), "{e}");
    let e = read_error(&json!({"image": "x", "ports": ["8080:80/icmp"]}));
    assert!(e.contains("unknown protocol \"icmp\""), "{e}");
}

#[tokio::test]
async fn up_runs_the_service_and_streams_its_logs() {
    with_project(|f| async move {
        let p = f.project.name.clone();
        let spec = f.spec("web", &json!({"image": base(), "command": "sh -c 'echo hello; sleep 300'"}));
        let (id, lines) = f.up(&spec).await;
        assert_eq!(
            lines,
            [format!("Creating network \"{p}_default\""), format!("Creating {p}-web-1"), format!("Starting {p}-web-1")]
        );
        let status = f.wait_status(&id, "running", |s| s.running).await;
        assert_eq!(status.state, "running");
        assert!(status.started_at.is_some() && status.finished_at.is_none() && status.health.is_none(), "{status:#?}");
        f.logs_until(&id, "hello").await;

        let inspect = f.docker.bollard().inspect_container(&id, None).await.unwrap();
        assert_eq!(inspect.name.as_deref(), Some(format!("/{p}-web-1").as_str()));
        let labels = inspect.config.unwrap().labels.unwrap();
        for (k, v) in [
            ("com.docker.compose.project", p.as_str()),
            ("com.docker.compose.service", "web"),
            ("com.docker.compose.container-number", "1"),
            ("com.docker.compose.oneoff", "False"),
            ("com.docker.compose.project.working_dir", &f.dir.path().display().to_string()),
            ("com.docker.compose.project.config_files", &f.dir.path().join("compose.yaml").display().to_string()),
            ("dev.stilt.managed", "true"),
        ] {
            assert_eq!(labels.get(k).map(String::as_str), Some(v), "label {k}");
        }
        let network = f.docker.bollard().inspect_network(&format!("{p}_default"), None).await.unwrap();
        let labels = network.labels.unwrap();
        assert_eq!(labels.get("com.docker.compose.project"), Some(&p));
        assert_eq!(labels.get("com.docker.compose.network").map(String::as_str), Some("default"));

        // A second up replaces the container.
        let (second, lines) = f.up(&spec).await;
        assert_ne!(second, id);
        assert_eq!(lines, [format!("Recreating {p}-web-1"), format!("Starting {p}-web-1")]);
        f.wait_status(&second, "running", |s| s.running).await;
    })
    .await;
}

#[tokio::test]
async fn tty_output_is_split_into_lines() {
    with_project(|f| async move {
        let spec = f.spec(
            "tty",
            &json!({"image": base(), "tty": true, "command": ["sh", "-c", "echo one; echo two; sleep 300"]}),
        );
        let (id, _) = f.up(&spec).await;
        let lines = f.logs_until(&id, "two").await;
        assert_eq!(lines, ["one", "two"]);
    })
    .await;
}

#[tokio::test]
async fn exit_code_shows_in_status_and_events() {
    with_project(|f| async move {
        let mut events = pin!(f.docker.compose_events(&f.project.name));
        let spec = f.spec("job", &json!({"image": base(), "command": ["sh", "-c", "echo bye; exit 3"]}));
        let (id, _) = f.up(&spec).await;
        let start = next_event(&mut events, "start", |e| e.action == "start").await;
        assert_eq!((start.container_id.as_str(), start.service.as_str()), (id.as_str(), "job"));
        let die = next_event(&mut events, "die", |e| e.action == "die").await;
        assert_eq!((die.container_id.as_str(), die.service.as_str(), die.exit_code), (id.as_str(), "job", Some(3)));
        let status = f.wait_status(&id, "exit", |s| !s.running).await;
        assert_eq!((status.state.as_str(), status.exit_code), ("exited", 3), "{status:#?}");
        assert!(status.finished_at.is_some(), "{status:#?}");
    })
    .await;
}

#[tokio::test]
async fn healthcheck_goes_from_starting_to_healthy() {
    with_project(|f| async move {
        let mut events = pin!(f.docker.compose_events(&f.project.name));
        let spec = f.spec(
            "db",
            &json!({
                "image": base(),
                "command": ["sh", "-c", "sleep 1; touch /tmp/ok; sleep 300"],
                "healthcheck": {"test": ["CMD-SHELL", "test -f /tmp/ok"], "interval": "1s", "start_period": "20s"},
            }),
        );
        let (id, _) = f.up(&spec).await;
        let first = f.status(&id).await.health.expect("a healthcheck");
        assert_eq!(first.status, "starting");
        let healthy = f.wait_status(&id, "healthy", |s| s.health.as_ref().is_some_and(|h| h.status == "healthy")).await;
        assert_eq!(healthy.health.unwrap().failing_streak, 0);
        let event = next_event(&mut events, "healthy", |e| e.action.starts_with("health_status")).await;
        assert_eq!((event.action.as_str(), event.service.as_str()), ("health_status: healthy", "db"));
    })
    .await;
}

#[tokio::test]
async fn failing_healthcheck_turns_unhealthy_with_its_output() {
    with_project(|f| async move {
        let spec = f.spec(
            "db",
            &json!({
                "image": base(),
                "command": ["sleep", "300"],
                "healthcheck": {"test": "echo not-ready-yet; exit 1", "interval": "1s", "retries": 1},
            }),
        );
        let (id, _) = f.up(&spec).await;
        let status =
            f.wait_status(&id, "unhealthy", |s| s.health.as_ref().is_some_and(|h| h.status == "unhealthy")).await;
        let health = status.health.unwrap();
        assert_eq!(health.last_output, "not-ready-yet");
        assert!(health.failing_streak >= 1, "{health:#?}");
    })
    .await;
}

/// The test engine runs with `--iptables=false --userland-proxy=false`: it reserves published
/// ports but forwards nothing, so this checks the binding and the reservation, and that the
/// server answers inside the project network (`services_reach_each_other_…` covers the rest).
#[tokio::test]
async fn published_port_is_bound_on_the_requested_host_address() {
    with_project(|f| async move {
        let port = free_port();
        let spec = f.spec(
            "web",
            &json!({"image": base(), "command": httpd("hello-from-httpd"), "ports": [format!("127.0.0.1:{port}:8080")]}),
        );
        let (id, _) = f.up(&spec).await;
        f.wait_status(&id, "running", |s| s.running).await;
        let inspect = f.docker.bollard().inspect_container(&id, None).await.unwrap();
        let bound = inspect.network_settings.unwrap().ports.unwrap();
        let binding = &bound["8080/tcp"].as_ref().expect("8080/tcp is published")[0];
        assert_eq!((binding.host_ip.as_deref(), binding.host_port.clone()), (Some("127.0.0.1"), Some(port.to_string())));
        let taken = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap_err();
        assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse, "the daemon holds 127.0.0.1:{port}");

        let fetch = f.spec("fetch", &json!({"image": base(), "command": ["wget", "-qO-", "http://web:8080/"]}));
        let (fetch_id, _) = f.up(&fetch).await;
        let status = f.wait_status(&fetch_id, "fetch exit", |s| !s.running).await;
        let logs = f.all_logs(&fetch_id).await;
        assert_eq!((status.exit_code, logs), (0, vec!["hello-from-httpd".to_string()]));
    })
    .await;
}

#[tokio::test]
async fn services_reach_each_other_by_name_and_link_alias() {
    with_project(|f| async move {
        let web = f.spec("web", &json!({"image": base(), "command": httpd("hello-from-web")}));
        // A link needs its target container: web first.
        let (web_id, _) = f.up(&web).await;
        let fetch = "for i in $(seq 1 40); do wget -qO- http://web:8080/ && wget -qO- http://website:8080/ && exit 0; \
                     sleep 0.25; done; exit 1";
        let client =
            f.spec("client", &json!({"image": base(), "command": ["sh", "-c", fetch], "links": ["web:website"]}));
        let other = f.spec("other", &json!({"image": base(), "command": ["sleep", "300"]}));
        let ((client_id, _), (other_id, _)) = tokio::join!(f.up(&client), f.up(&other));
        let status = f.wait_status(&client_id, "client exit", |s| !s.running).await;
        let logs = f.all_logs(&client_id).await;
        assert_eq!(status.exit_code, 0, "{status:#?}\n{logs:#?}");
        assert_eq!(logs.iter().filter(|l| l.contains("hello-from-web")).count(), 2, "{logs:#?}");
        assert!(f.status(&web_id).await.running && f.status(&other_id).await.running);

        let networks = f.docker.bollard().list_networks(None).await.unwrap();
        let default = format!("{}_default", f.project.name);
        assert_eq!(networks.iter().filter(|n| n.name.as_deref() == Some(default.as_str())).count(), 1);
    })
    .await;
}

#[tokio::test]
async fn concurrent_ups_create_the_network_once() {
    with_project(|f| async move {
        let specs: Vec<ServiceSpec> =
            (0..4).map(|i| f.spec(&format!("s{i}"), &json!({"image": base(), "command": ["sleep", "300"]}))).collect();
        let ups = futures_util::future::join_all(specs.iter().map(|s| f.up(s))).await;
        let creations = ups.iter().flat_map(|(_, lines)| lines).filter(|l| l.starts_with("Creating network")).count();
        assert_eq!(creations, 1, "{ups:#?}");
        let summary = f.down(&DownOptions { stop_timeout: Some(Duration::ZERO), ..DownOptions::default() }).await;
        assert_eq!(summary.containers.len(), 4, "{summary:#?}");
        assert_eq!(summary.networks, [format!("{}_default", f.project.name)]);
    })
    .await;
}

#[tokio::test]
async fn named_volume_is_created_and_removed_by_down() {
    with_project(|f| async move {
        let volume = format!("{}_data", f.project.name);
        let spec = f.spec(
            "db",
            &json!({"image": base(), "volumes": ["data:/data"],
                    "command": ["sh", "-c", "echo kept > /data/file; cat /data/file; sleep 300"]}),
        );
        let (id, lines) = f.up(&spec).await;
        assert!(lines.contains(&format!("Creating volume \"{volume}\"")), "{lines:#?}");
        f.logs_until(&id, "kept").await;
        let inspected = f.docker.bollard().inspect_volume(&volume).await.unwrap();
        assert_eq!(inspected.labels.get("com.docker.compose.project"), Some(&f.project.name));
        assert_eq!(inspected.labels.get("com.docker.compose.volume").map(String::as_str), Some("data"));

        // Without remove_volumes the volume stays…
        let quick = DownOptions { stop_timeout: Some(Duration::ZERO), ..DownOptions::default() };
        assert_eq!(f.down(&quick).await.volumes, Vec::<String>::new());
        f.docker.bollard().inspect_volume(&volume).await.unwrap();
        // …with it, it goes.
        let summary = f.down(&DownOptions { remove_volumes: true, ..quick }).await;
        assert_eq!(summary.volumes, std::slice::from_ref(&volume));
        assert!(f.docker.bollard().inspect_volume(&volume).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn bind_mount_is_relative_to_the_project_dir() {
    with_project(|f| async move {
        write(f.dir.path(), "site/hello.txt", "from-the-host\n");
        let spec = f.spec(
            "web",
            &json!({"image": base(), "volumes": ["./site:/site:ro"],
                    "command": ["sh", "-c", "cat /site/hello.txt; touch /site/x || echo read-only; sleep 300"]}),
        );
        let (id, _) = f.up(&spec).await;
        let lines = f.logs_until(&id, "read-only").await;
        assert!(lines.iter().any(|l| l == "from-the-host"), "{lines:#?}");
    })
    .await;
}

#[tokio::test]
async fn environment_overrides_env_file() {
    with_project(|f| async move {
        write(f.dir.path(), "config/app.env", "# settings\nA=from-file\nB=from-file\n");
        let spec = f.spec(
            "app",
            &json!({"image": base(), "env_file": "config/app.env", "environment": {"B": "from-environment"},
                    "command": ["sh", "-c", "echo \"A=$A B=$B\"; sleep 300"]}),
        );
        let (id, _) = f.up(&spec).await;
        f.logs_until(&id, "A=from-file B=from-environment").await;
    })
    .await;
}

#[tokio::test]
async fn down_is_idempotent() {
    with_project(|f| async move {
        let p = f.project.name.clone();
        let spec = f.spec("web", &json!({"image": base(), "command": ["sleep", "300"]}));
        f.up(&spec).await;
        let mut lines = Vec::new();
        let summary = f
            .docker
            .compose_down(&p, &DownOptions { stop_timeout: Some(Duration::ZERO), ..DownOptions::default() }, |l| {
                lines.push(l.to_string());
            })
            .await
            .unwrap();
        assert_eq!(
            summary,
            DownSummary {
                containers: vec![format!("{p}-web-1")],
                networks: vec![format!("{p}_default")],
                volumes: vec![]
            }
        );
        assert_eq!(
            lines,
            [format!("Stopping {p}-web-1"), format!("Removing {p}-web-1"), format!("Removing network {p}_default")]
        );
        assert_eq!(
            f.down(&DownOptions { remove_volumes: true, ..DownOptions::default() }).await,
            DownSummary::default()
        );
    })
    .await;
}

#[tokio::test]
async fn down_respects_the_stop_grace_period() {
    with_project(|f| async move {
        // `sh` as PID 1 ignores SIGTERM: only the kill after the grace period stops it.
        let spec =
            f.spec("web", &json!({"image": base(), "command": ["sh", "-c", "sleep 300"], "stop_grace_period": "1s"}));
        let (id, _) = f.up(&spec).await;
        f.wait_status(&id, "running", |s| s.running).await;
        let start = Instant::now();
        let summary = f.down(&DownOptions::default()).await;
        let took = start.elapsed();
        assert_eq!(summary.containers.len(), 1);
        assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(8), "down took {took:?}");
    })
    .await;
}

#[tokio::test]
async fn missing_image_is_a_clear_error() {
    with_project(|f| async move {
        let spec = f.spec("web", &json!({"image": "stilt-test/never-built:nope"}));
        let err = f.docker.compose_up(&f.project, &spec, "stilt-test/never-built:nope", |_| {}).await.unwrap_err();
        assert!(matches!(err, ComposeError::ImageNotFound { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "failed to start compose service \"web\": image \"stilt-test/never-built:nope\" not found locally \
             (stilt never pulls in CI: build it with docker_build or pre-load it)"
        );
    })
    .await;
}
