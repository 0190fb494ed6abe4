//! Runs one local command: its own process group, stdout and stderr through one pipe (so their
//! order is kept), every line sent to the dispatcher, and an exit message once the process is
//! gone and its output drained.

use super::exec_msg::ExecMsg;
use super::process_registry::ProcessRegistry;
use crate::event::LogSource;
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use stilt_core::Cmd;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc::UnboundedSender;

/// How long to keep reading after the process exited, for output still in the pipe (a
/// backgrounded grandchild may hold the pipe open forever).
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(500);

/// Failed to start a command.
#[derive(Debug, thiserror::Error)]
#[error("failed to start {argv0:?} in {dir}")]
pub struct SpawnError {
    argv0: String,
    dir: String,
    #[source]
    source: std::io::Error,
}

/// The environment a command runs with: the Tiltfile's environment, Tilt's additions unless
/// already set, then the command's own variables.
pub fn command_env(base: &BTreeMap<String, String>, cmd: &Cmd, color: bool) -> BTreeMap<String, String> {
    let mut env = base.clone();
    for (k, v) in [("LINES", "24"), ("COLUMNS", "80"), ("PYTHONUNBUFFERED", "1")] {
        env.entry(k.to_string()).or_insert_with(|| v.to_string());
    }
    if color {
        env.entry("FORCE_COLOR".to_string()).or_insert_with(|| "1".to_string());
    }
    for (k, v) in &cmd.env {
        env.insert(k.clone(), v.clone());
    }
    env
}

/// A command the dispatcher decided to start, queued until the end of its turn.
#[derive(Debug)]
pub struct Launch {
    /// What to run.
    pub cmd: Cmd,
    /// Its whole environment.
    pub env: BTreeMap<String, String>,
    /// The resource it belongs to.
    pub resource: usize,
    /// Which log it writes to.
    pub source: LogSource,
}

/// Starts the commands of one dispatcher turn. A lone command — the next link of a chain of
/// dependent resources — forks on the calling thread: no hand-off to another thread and back,
/// which on a 2-core machine is a tenth of what a `true` takes. Several fork on the blocking
/// pool, so they start at once (forking them one after another here measured slower: see
/// `scripts/bench`).
pub fn launch(launches: Vec<Launch>, tx: &UnboundedSender<ExecMsg>, registry: &ProcessRegistry) {
    let lone = launches.len() == 1;
    for l in launches {
        if lone {
            let started = start(&l.cmd, &l.env, registry);
            tokio::spawn(supervise(async { started }, l.resource, l.source, tx.clone()));
        } else {
            spawn(&l.cmd, l.env, l.resource, l.source, tx.clone(), registry);
        }
    }
}

/// Starts `cmd` without blocking the caller: the fork/exec happens on the blocking pool, so
/// several commands start at once. Then `Started` (with the pid, also the process-group id),
/// every output line, and finally `Exited` arrive as [`ExecMsg`]s tagged with `resource` and
/// `source`. A command that cannot start yields `Exited` with the reason.
pub fn spawn(
    cmd: &Cmd,
    env: BTreeMap<String, String>,
    resource: usize,
    source: LogSource,
    tx: UnboundedSender<ExecMsg>,
    registry: &ProcessRegistry,
) {
    let argv0 = cmd.argv.first().cloned().unwrap_or_default();
    let dir = cmd.dir.display().to_string();
    let cmd = cmd.clone();
    let registry = registry.clone();
    let started = async move {
        match tokio::task::spawn_blocking(move || start(&cmd, &env, &registry)).await {
            Ok(started) => started,
            Err(join) => Err(SpawnError { argv0, dir, source: std::io::Error::other(join) }),
        }
    };
    tokio::spawn(supervise(started, resource, source, tx));
}

/// Follows one process: `Started`, its output lines, then `Exited` once it is gone and its
/// output drained.
async fn supervise(
    started: impl Future<Output = Result<Started, SpawnError>>,
    resource: usize,
    source: LogSource,
    tx: UnboundedSender<ExecMsg>,
) {
    let (mut child, mut pipe, pid) = match started.await {
        Ok(s) => s,
        Err(e) => {
            let failure = Some(crate::error_chain::error_chain(&e));
            let _ = tx.send(ExecMsg::Exited { resource, source, pid: 0, failure, code: None });
            return;
        }
    };
    let _ = tx.send(ExecMsg::Started { resource, source, pid });
    let mut lines = LineSplitter::default();
    let mut buf = vec![0u8; 8192];
    let send = |line: String| {
        let _ = tx.send(ExecMsg::Output { resource, source, line });
    };
    let status: std::io::Result<ExitStatus> = {
        let wait = child.wait();
        tokio::pin!(wait);
        loop {
            tokio::select! {
                status = &mut wait => break status,
                n = pipe.read(&mut buf) => match n {
                    Ok(0) | Err(_) => break wait.await,
                    Ok(n) => lines.push(&buf[..n]).into_iter().for_each(send),
                },
            }
        }
    };
    // Drain what is left, bounded in time.
    let _ = tokio::time::timeout(DRAIN_AFTER_EXIT, async {
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            lines.push(&buf[..n]).into_iter().for_each(send);
        }
    })
    .await;
    if let Some(last) = lines.finish() {
        send(last);
    }
    let (failure, code) = match status {
        Ok(s) => (describe_failure(s), s.code()),
        Err(e) => (Some(format!("failed to wait: {e}")), None),
    };
    let _ = tx.send(ExecMsg::Exited { resource, source, pid, failure, code });
}

/// A started process: the child, the read end of its output pipe, its pid.
type Started = (tokio::process::Child, tokio::net::unix::pipe::Receiver, u32);

/// The blocking part: fork/exec in a new process group, stdout and stderr into one pipe.
fn start(cmd: &Cmd, env: &BTreeMap<String, String>, registry: &ProcessRegistry) -> Result<Started, SpawnError> {
    let err = |source| SpawnError {
        argv0: cmd.argv.first().cloned().unwrap_or_default(),
        dir: cmd.dir.display().to_string(),
        source,
    };
    let (argv0, args) = cmd.argv.split_first().ok_or_else(|| err(std::io::Error::other("empty command")))?;
    let (reader, writer) = std::io::pipe().map_err(err)?;
    let mut command = tokio::process::Command::new(resolve_program(argv0, env));
    command
        .arg0(argv0)
        .args(args)
        .current_dir(&cmd.dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(writer.try_clone().map_err(err)?)
        .stderr(writer)
        .process_group(0)
        .kill_on_drop(false);
    let child = command.spawn().map_err(err)?;
    // Close our copies of the write end, or the pipe never reports EOF.
    drop(command);
    let pid = child.id().expect("a just-spawned child has a pid");
    registry.add(pid);
    let fd: std::os::fd::OwnedFd = reader.into();
    let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(fd).map_err(err)?;
    Ok((child, pipe, pid))
}

/// The program to exec: a name without `/` is looked up in the command's own `PATH` (as
/// `execvp` in the child would). Passing std an explicit path lets it use `posix_spawn` (no
/// page-table copy) instead of `fork`, which it must do for a bare name when the child's `PATH`
/// may differ from ours — about a millisecond per command.
pub fn resolve_program(argv0: &str, env: &BTreeMap<String, String>) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    if argv0.contains('/') {
        return argv0.into();
    }
    let path = env.get("PATH").map_or("/usr/local/bin:/usr/bin:/bin", String::as_str);
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = std::path::Path::new(dir).join(argv0);
        if std::fs::metadata(&candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0) {
            return candidate;
        }
    }
    // Not found: keep the name, so spawning fails with "not found" as before.
    argv0.into()
}

/// `None` for success, else Go's `ExitError` text.
pub fn describe_failure(status: ExitStatus) -> Option<String> {
    if status.success() {
        return None;
    }
    if let Some(code) = status.code() {
        return Some(format!("exit status {code}"));
    }
    let sig = status.signal().unwrap_or(0);
    let name = match sig {
        9 => "killed".to_string(),
        15 => "terminated".to_string(),
        2 => "interrupt".to_string(),
        6 => "aborted".to_string(),
        11 => "segmentation fault".to_string(),
        n => format!("signal {n}"),
    };
    Some(format!("signal: {name}"))
}

/// Splits a byte stream into lines: `\n` ends a line, a trailing `\r` is dropped, invalid UTF-8
/// is replaced.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Feeds bytes, returns complete lines.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                if self.pending.last() == Some(&b'\r') {
                    self.pending.pop();
                }
                out.push(String::from_utf8_lossy(&self.pending).into_owned());
                self.pending.clear();
            } else {
                self.pending.push(b);
            }
        }
        out
    }

    /// The incomplete last line, if any.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let s = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_programs_on_the_commands_own_path() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("mytool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let env = BTreeMap::from([("PATH".to_string(), format!("/nonexistent:{}", dir.path().display()))]);
        assert_eq!(resolve_program("mytool", &env), tool);
        assert_eq!(resolve_program("./rel/tool", &env), std::path::PathBuf::from("./rel/tool"));
        assert_eq!(resolve_program("no-such-tool", &env), std::path::PathBuf::from("no-such-tool"));
        let plain = std::fs::File::create(dir.path().join("notexec")).unwrap();
        drop(plain);
        assert_eq!(resolve_program("notexec", &env), std::path::PathBuf::from("notexec"), "not executable");
    }

    #[test]
    fn splits_lines_across_chunks() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"ab"), Vec::<String>::new());
        assert_eq!(s.push(b"c\r\nd\n\ne"), vec!["abc", "d", ""]);
        assert_eq!(s.finish().as_deref(), Some("e"));
        assert_eq!(s.finish(), None);
    }

    #[tokio::test]
    async fn runs_a_command_and_reports_output_in_order_and_exit() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let reg = ProcessRegistry::default();
        let cmd = Cmd {
            argv: vec!["sh".into(), "-c".into(), "echo one; echo two >&2; echo \"$FOO\"; exit 3".into()],
            dir: std::env::temp_dir(),
            env: vec![("FOO".into(), "bar".into())],
        };
        let env = command_env(&BTreeMap::from([("PATH".into(), std::env::var("PATH").unwrap())]), &cmd, false);
        spawn(&cmd, env, 7, LogSource::Build, tx, &reg);
        let mut lines = vec![];
        loop {
            match rx.recv().await.unwrap() {
                ExecMsg::Output { line, resource, .. } => {
                    assert_eq!(resource, 7);
                    lines.push(line);
                }
                ExecMsg::Exited { failure, code, .. } => {
                    assert_eq!(failure.as_deref(), Some("exit status 3"));
                    assert_eq!(code, Some(3));
                    break;
                }
                ExecMsg::Started { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(lines, vec!["one", "two", "bar"]);
    }
}
