//! Readiness probes for `serve_cmd` (`probe()` with `exec_action`, `http_get_action`,
//! `tcp_socket_action`), with Kubernetes' counting rules: not ready until `success_threshold`
//! consecutive successes, not ready again after `failure_threshold` consecutive failures.
//!
//! The prober reports transitions (and changes in the failure reason) to the dispatcher; the
//! dispatcher aborts it when the serve process goes away.

use super::exec_msg::ExecMsg;
use super::local_process::describe_failure;
use super::process_registry::ProcessRegistry;
use nix::sys::signal::Signal;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use stilt_core::{Probe, ProbeAction};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

/// Everything one prober needs.
#[derive(Debug, Clone)]
pub struct ProbeJob {
    /// The probe.
    pub probe: Probe,
    /// Environment for exec probes.
    pub env: BTreeMap<String, String>,
    /// Working directory for exec probes.
    pub dir: PathBuf,
    /// Resource index.
    pub resource: usize,
    /// The serve process.
    pub pid: u32,
}

fn secs(n: i32, min: u64) -> Duration {
    Duration::from_secs(u64::try_from(n).unwrap_or(0).max(min))
}

/// Starts probing in the background.
pub fn spawn_prober(job: ProbeJob, tx: UnboundedSender<ExecMsg>, registry: ProcessRegistry) -> JoinHandle<()> {
    tokio::spawn(async move {
        let p = &job.probe;
        tokio::time::sleep(secs(p.initial_delay_secs, 0)).await;
        let period = secs(p.period_secs, 1);
        let timeout = secs(p.timeout_secs, 1);
        let success_needed = u32::try_from(p.success_threshold.max(1)).unwrap_or(1);
        let failure_needed = u32::try_from(p.failure_threshold.max(1)).unwrap_or(1);
        let (mut ready, mut successes, mut failures) = (false, 0u32, 0u32);
        let mut last_detail: Option<String> = None;
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let result = match tokio::time::timeout(timeout, check(&job, &registry)).await {
                Ok(r) => r,
                Err(_) => Err(format!("probe timed out after {}s", timeout.as_secs())),
            };
            match result {
                Ok(()) => {
                    failures = 0;
                    successes += 1;
                    last_detail = None;
                    if !ready && successes >= success_needed {
                        ready = true;
                        let _ = tx.send(ExecMsg::Probe { resource: job.resource, pid: job.pid, ready, detail: None });
                    }
                }
                Err(detail) => {
                    successes = 0;
                    failures += 1;
                    let flip = ready && failures >= failure_needed;
                    if flip {
                        ready = false;
                    }
                    if flip || last_detail.as_ref() != Some(&detail) {
                        last_detail = Some(detail.clone());
                        let _ = tx.send(ExecMsg::Probe {
                            resource: job.resource,
                            pid: job.pid,
                            ready,
                            detail: Some(detail),
                        });
                    }
                }
            }
        }
    })
}

async fn check(job: &ProbeJob, registry: &ProcessRegistry) -> Result<(), String> {
    match &job.probe.action {
        ProbeAction::Exec { command } => exec_check(command, job, registry).await,
        ProbeAction::TcpSocket { host, port } => {
            let addr = format!("{}:{port}", host_or_localhost(host));
            tokio::net::TcpStream::connect(&addr)
                .await
                .map(|_| ())
                .map_err(|e| format!("tcp connect to {addr} failed: {e}"))
        }
        ProbeAction::HttpGet { host, port, scheme, path } => {
            let scheme = if scheme.is_empty() { "http".to_string() } else { scheme.to_ascii_lowercase() };
            let url = format!("{scheme}://{}:{port}/{}", host_or_localhost(host), path.trim_start_matches('/'));
            let timeout = secs(job.probe.timeout_secs, 1);
            tokio::task::spawn_blocking(move || http_check(&url, timeout))
                .await
                .unwrap_or_else(|e| Err(format!("http probe panicked: {e}")))
        }
    }
}

fn host_or_localhost(host: &str) -> &str {
    if host.is_empty() { "localhost" } else { host }
}

fn http_check(url: &str, timeout: Duration) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into();
    match agent.get(url).call() {
        Ok(resp) => {
            let code = resp.status().as_u16();
            if (200..400).contains(&code) { Ok(()) } else { Err(format!("HTTP GET {url} returned {code}")) }
        }
        Err(e) => Err(format!("HTTP GET {url} failed: {e}")),
    }
}

async fn exec_check(command: &[String], job: &ProbeJob, registry: &ProcessRegistry) -> Result<(), String> {
    let (argv0, args) = command.split_first().ok_or("exec probe has an empty command")?;
    let mut child = tokio::process::Command::new(argv0)
        .args(args)
        .current_dir(&job.dir)
        .env_clear()
        .envs(&job.env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("exec probe {argv0:?} failed to start: {e}"))?;
    let pid = child.id().unwrap_or(0);
    registry.add(pid);
    // If the timeout cancels this future, kill the probe's group rather than leak it.
    let guard = KillGroupOnDrop(pid);
    let status = child.wait().await.map_err(|e| format!("exec probe failed: {e}"))?;
    std::mem::forget(guard);
    match describe_failure(status) {
        None => Ok(()),
        Some(f) => Err(format!("exec probe {} failed: {f}", command.join(" "))),
    }
}

struct KillGroupOnDrop(u32);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        ProcessRegistry::signal(self.0, Signal::SIGKILL);
    }
}
