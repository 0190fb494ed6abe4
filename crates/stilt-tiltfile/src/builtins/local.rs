//! `local(command, quiet=False, command_bat='', echo_off=False, env={}, dir='', stdin=None)`:
//! runs a command while the Tiltfile loads and returns its stdout as a blob.
//!
//! Like Tilt: the command is logged as `local: <cmd>` (unless `echo_off`), its stdout and
//! stderr are streamed to the log as ` → <line>` (unless `quiet`), an empty output logs
//! ` → [no output]`, and a failure is `command "<cmd>" failed.\nerror: exit status N`, with
//! the output appended only when it was not already logged (`quiet=True`).
//!
//! Bounded and stoppable (unlike Tilt): stdout and stderr together may hold at most
//! [`crate::MAX_READ_BYTES`]; past that, or when the evaluation is cancelled (timeout,
//! signal), the command's process group is killed and the call fails. A line longer than
//! 64 KiB is logged in 64 KiB pieces.

use super::add;
use crate::LogLevel;
use crate::args::{Args, cmd_argv};
use crate::context::Ctx;
use crate::errors::BResult;
use crate::go_compat::{io_error, quote};
use crate::values::Blob;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

const PREFIX: &str = " → ";
/// Longest piece of a line forwarded at once (a longer line is split).
const MAX_LINE: usize = 64 * 1024;
/// How often a waiting `local()` checks the cancel flag.
const CANCEL_POLL: std::time::Duration = std::time::Duration::from_millis(50);

pub(crate) fn register(b: &mut GlobalsBuilder) {
    add(b, "local", local);
}

const PARAMS: &[&str] = &["command", "quiet?", "command_bat?", "echo_off?", "env?", "dir?", "stdin?"];

fn local<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    let a = Args::unpack(name, PARAMS, args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let (env, allowed) = {
        let st = ctx.state.borrow();
        (st.env.clone(), st.cluster.allowed_k8s_contexts.clone())
    };
    if let Err(kube_context) = ctx.k8s_context_allowed(&env, &allowed) {
        return Err(format!(
            "Refusing to run '{name}' because {kube_context} might be a production kube context.\nIf you're sure you want to continue add:\nallow_k8s_contexts('{kube_context}')\nbefore this function call in your Tiltfile. Otherwise, switch k8s contexts and restart Tilt."
        )
        .into());
    }
    let command = cmd_argv(&a, 0)?;
    let quiet = a.bool_or(1, false)?;
    let echo_off = a.bool_or(3, false)?;
    let extra_env = a.str_map(4)?;
    let dir = match a.get(5).filter(|v| !v.is_none()) {
        None => ctx.cwd(),
        Some(v) => ctx.abs_path(v.unpack_str().ok_or_else(|| a.type_err(5, "string"))?),
    };
    let stdin = a.stringable(6)?;
    if command.is_empty() {
        return Err("empty cmd".into());
    }
    let display = cmd_display(&command);
    if !echo_off {
        ctx.log(LogLevel::Info, &format!("local: {display}"));
    }
    let mut env = ctx.state.borrow().env.clone();
    env.extend(extra_env);
    let run = RunSpec { argv: &command, dir: &dir, env: &env, stdin: stdin.as_deref(), log_output: !quiet };
    let started = std::time::Instant::now();
    let out = run_command(ctx, &run);
    ctx.add_subprocess_time(started.elapsed());
    match out.error {
        None => {
            if !echo_off && !quiet && out.stdout.is_empty() && out.stderr.is_empty() {
                ctx.log(LogLevel::Info, &format!("{PREFIX}[no output]"));
            }
            Ok(eval.heap().alloc(Blob(String::from_utf8_lossy(&out.stdout).into_owned())))
        }
        Some(err) => {
            let mut msg = format!("command {} failed.\nerror: {err}", quote(&display));
            if quiet && !out.stopped {
                msg.push_str(&format!(
                    "\nstdout:\n{}\nstderr:\n{}\n",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Err(msg.into())
        }
    }
}

/// Tilt's `model.Cmd.String()`: the script of `sh -c X`, else argv with spaced args quoted.
pub(crate) fn cmd_display(argv: &[String]) -> String {
    match argv {
        [sh, c, script] if sh == "sh" && c == "-c" => script.clone(),
        _ => argv.iter().map(|a| if a.contains(' ') { quote(a) } else { a.clone() }).collect::<Vec<_>>().join(" "),
    }
}

pub(crate) struct RunSpec<'a> {
    pub(crate) argv: &'a [String],
    pub(crate) dir: &'a Path,
    pub(crate) env: &'a std::collections::BTreeMap<String, String>,
    pub(crate) stdin: Option<&'a str>,
    pub(crate) log_output: bool,
}

pub(crate) struct RunOutput {
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    /// Go's error text (`exit status 1`), if the command failed.
    pub(crate) error: Option<String>,
    /// Stopped by stilt (output too large, cancelled): the output is not worth quoting.
    pub(crate) stopped: bool,
}

pub(crate) fn run_command(ctx: &Ctx, spec: &RunSpec<'_>) -> RunOutput {
    let fail = |e: String| RunOutput { stdout: Vec::new(), stderr: Vec::new(), error: Some(e), stopped: false };
    if ctx.mode == crate::EvalMode::Sandboxed {
        return fail("processes are disabled in a sandboxed evaluation".to_string());
    }
    if !spec.dir.is_dir() {
        return fail(format!("chdir {}: no such file or directory", spec.dir.display()));
    }
    let mut cmd = Command::new(&spec.argv[0]);
    cmd.args(&spec.argv[1..])
        .current_dir(spec.dir)
        .env_clear()
        .envs(spec.env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if spec.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => {
            if let Some(hook) = &ctx.on_spawn {
                hook(c.id());
            }
            c
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return fail(format!("exec: {}: executable file not found in $PATH", quote(&spec.argv[0])));
        }
        Err(e) => {
            return fail(format!("fork/exec {}", io_error("", &PathBuf::from(&spec.argv[0]), &e).trim_start()));
        }
    };
    if let (Some(input), Some(mut pipe)) = (spec.stdin, child.stdin.take()) {
        let input = input.to_string();
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    // Bounded: at most 64 pieces (4 MiB) wait; a fast command waits for the log.
    let (tx, rx) = mpsc::sync_channel::<(bool, Vec<u8>)>(64);
    let mut readers = Vec::new();
    if let Some(p) = child.stdout.take() {
        readers.push(spawn_reader(p, true, tx.clone()));
    }
    if let Some(p) = child.stderr.take() {
        readers.push(spawn_reader(p, false, tx.clone()));
    }
    drop(tx);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut total: u64 = 0;
    let mut stopped = None;
    loop {
        let (is_out, chunk) = match rx.recv_timeout(CANCEL_POLL) {
            Ok(c) => c,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if ctx.cancel.is_cancelled() {
                    stopped = Some(crate::context::CANCELLED.to_string());
                    break;
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        total += chunk.len() as u64;
        if total > crate::MAX_READ_BYTES {
            stopped = Some(format!(
                "the output is larger than {} MiB, the most local() keeps (stdout and stderr together)",
                crate::MAX_READ_BYTES >> 20
            ));
            break;
        }
        if spec.log_output {
            let text = String::from_utf8_lossy(&chunk);
            ctx.log(LogLevel::Info, &format!("{PREFIX}{}", text.strip_suffix('\n').unwrap_or(&text)));
        }
        if is_out {
            stdout.extend(chunk);
        } else {
            stderr.extend(chunk);
        }
    }
    if stopped.is_some() {
        kill_group(&child);
        drop(rx);
    } else {
        // (A stopped command's readers are left to end on their own: a grandchild that left
        // the group may hold the pipe open.)
        for r in readers {
            let _ = r.join();
        }
    }
    let status = wait(ctx, &mut child, &mut stopped);
    let was_stopped = stopped.is_some();
    let error = match (stopped, status) {
        (Some(why), _) => Some(why),
        (None, Ok(status)) if status.success() => None,
        (None, Ok(status)) => Some(exit_text(status)),
        (None, Err(e)) => Some(e.to_string()),
    };
    RunOutput { stdout, stderr, error, stopped: was_stopped }
}

/// SIGKILLs the command's process group: the command and whatever it started.
fn kill_group(child: &std::process::Child) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX)),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// Waits for the command, still honouring the cancel flag (a command may close its output
/// and keep running).
fn wait(
    ctx: &Ctx,
    child: &mut std::process::Child,
    stopped: &mut Option<String>,
) -> std::io::Result<std::process::ExitStatus> {
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if stopped.is_none() && ctx.cancel.is_cancelled() {
            *stopped = Some(crate::context::CANCELLED.to_string());
            kill_group(child);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(CANCEL_POLL);
    }
}

/// Forwards `pipe` line by line (`is_out` tells stdout from stderr).
fn spawn_reader(
    pipe: impl Read + Send + 'static,
    is_out: bool,
    tx: mpsc::SyncSender<(bool, Vec<u8>)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut r = BufReader::new(pipe).take(u64::MAX);
        loop {
            let mut line = Vec::new();
            r.set_limit(MAX_LINE as u64);
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send((is_out, line)).is_err() {
                        break;
                    }
                }
            }
        }
    })
}

/// Go's `ExitError` text.
fn exit_text(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    let sig = status.signal().unwrap_or(0);
    let name = match sig {
        1 => "hangup",
        2 => "interrupt",
        3 => "quit",
        6 => "aborted",
        9 => "killed",
        11 => "segmentation fault",
        13 => "broken pipe",
        15 => "terminated",
        _ => return format!("signal {sig}"),
    };
    format!("signal: {name}")
}
