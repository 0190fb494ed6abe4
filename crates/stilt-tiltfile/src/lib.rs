//! The Tiltfile evaluator: executes a Tiltfile with the `starlark` crate in Tilt's dialect and
//! returns plain data ([`TiltfileResult`]) or a Tilt-style [`TiltfileError`].
//!
//! **Why a crate of its own:** `starlark` is the largest dependency of stilt; keeping it here
//! means edits elsewhere never recompile it, and the engine never sees a Starlark value.
//!
//! **Where to start:** [`evaluate`] (this file) → `eval.rs` (thread, final assembly:
//! trigger modes, `resource_deps` checks, enabled set) → `loader.rs` (executing files:
//! `load`/`include`/`load_dynamic`, cache, cycles, dialect) → `builtins/` (one file per area;
//! `builtins/mod.rs` explains how a builtin is written) → `assembly.rs` (after the Tiltfile
//! ran: Kubernetes workloads grouped into resources, `k8s_resource` applied, image builds
//! matched and ordered, docker-compose services). Errors: `errors.rs`; Go-compatible details
//! (paths, quoting, durations, regexps): `go_compat.rs`; `while` support: `while_rewrite.rs`;
//! tabs: `detab.rs`; `ext://`: `extensions.rs`; Kubernetes objects: `k8s/`; image refs:
//! `stilt_core::image_ref`; Dockerfile `FROM`s: `dockerfile.rs`; kubeconfig: `kubeconfig.rs`.
//!
//! **Modes** ([`EvalMode`]): `stilt alpha tiltfile-result` evaluates every builtin as data;
//! `stilt ci` fails the load at builtins whose resources it cannot run yet (Kubernetes
//! deploys) with `stilt does not support <builtin> yet`.
//!
//! **Dialect:** top-level `if`/`for`/`while`, `set`, recursion, global reassignment, keyword-only
//! args; names bound by `load()` stay in the loading file. Relative paths resolve against the
//! directory of the file whose top level is executing (Tilt's rule).
//!
//! **Errors** have Tilt's messages (`Error in <builtin>: <msg>` for builtin failures, the
//! Starlark message otherwise), the innermost Tiltfile position as `location` (1-based line
//! and column of the original file, even after the `while` rewrite) and `path:line:col: in
//! <fn>` traceback frames, outermost first.

mod args;
mod assembly;
mod builtins;
mod context;
mod detab;
mod dockerfile;
mod errors;
mod eval;
mod extensions;
mod go_compat;
mod k8s;
mod kubeconfig;
mod loader;
mod nesting;
mod state;
mod values;
mod while_rewrite;
mod yaml_emit;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use stilt_core::{TiltfileError, TiltfileResult};

/// Severity of a Tiltfile log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `print()`, `local()` echo and output.
    Info,
    /// `warn()` and Tilt's own warnings.
    Warn,
}

/// Receives the Tiltfile log, one call per line (no trailing newline).
pub type LogSink = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// Told the pid of every process `local()` starts. Each runs in its own process group (pgid =
/// pid), so the caller can kill it and its children if the run is interrupted mid-load.
pub type SpawnHook = Arc<dyn Fn(u32) + Send + Sync>;

/// Stops a running evaluation: once [`CancelFlag::cancel`] is called, the evaluator fails at
/// its next check (Starlark checks every 1000 loop iterations or calls; `local()` every 50 ms,
/// killing its process group; `read_file` between 1 MiB chunks). Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<std::sync::atomic::AtomicBool>);

impl CancelFlag {
    /// Asks the evaluation to stop.
    pub fn cancel(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether [`CancelFlag::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A guard that cancels the evaluation when dropped (for a caller that stops waiting).
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Cancels its flag when dropped; see [`CancelFlag::cancel_on_drop`].
#[derive(Debug)]
pub struct CancelOnDrop(CancelFlag);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Largest output `read_file` (and the `read_*` family) reads and `local()` collects (stdout
/// and stderr together): past it the builtin fails with a clear error instead of exhausting
/// memory (`read_file('/dev/zero')`).
pub const MAX_READ_BYTES: u64 = 256 << 20;

/// What the evaluation is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EvalMode {
    /// `stilt ci`: builtins whose resources stilt cannot run yet (`k8s_custom_deploy`,
    /// `v1alpha1.kubernetes_apply`, self-starting `v1alpha1.cmd`) fail the load with `stilt
    /// does not support <builtin> yet`.
    #[default]
    Ci,
    /// `stilt alpha tiltfile-result`: every builtin is evaluated as data; nothing is built or
    /// deployed.
    ResultOnly,
    /// [`EvalMode::ResultOnly`] that starts no process: `local()`, `helm()`, `kustomize()`
    /// and extension fetches fail. For fuzzing untrusted (mutated) Tiltfiles.
    Sandboxed,
}

/// Environment variable pointing the default extension repo (`ext://NAME`) at a local
/// directory or a `file://` / `https://` URL, instead of
/// `https://github.com/tilt-dev/tilt-extensions`.
pub const EXTENSIONS_REPO_ENV: &str = "STILT_EXTENSIONS_REPO";

/// What to evaluate, and how.
#[derive(Clone)]
pub struct EvalOptions {
    /// Absolute path of the main Tiltfile.
    pub tiltfile: PathBuf,
    /// Tiltfile args (after `--`).
    pub args: Vec<String>,
    /// `config.tilt_subcommand` (`"ci"`).
    pub subcommand: String,
    /// The starting environment; `os.putenv` & co. change a copy of it.
    pub env: BTreeMap<String, String>,
    /// The Tiltfile log: `print`, `warn`, `local()` echo and output.
    pub log: LogSink,
    /// Called with the pid of each `local()` process.
    pub on_spawn: Option<SpawnHook>,
    /// What the evaluation is for.
    pub mode: EvalMode,
    /// `--context`: the kubeconfig context `k8s_context()` and `allow_k8s_contexts` see
    /// (default: the kubeconfig's current context).
    pub kube_context: Option<String>,
    /// `--namespace`: what `k8s_namespace()` returns (default: the context's namespace).
    pub kube_namespace: Option<String>,
    /// Cancels the evaluation (the caller stopped waiting: timeout or signal).
    pub cancel: CancelFlag,
}

/// Evaluates a Tiltfile. Blocking: runs on its own thread with a 64 MiB stack and returns
/// when the Tiltfile finished (or `exit()` was called).
pub fn evaluate(opts: EvalOptions) -> Result<TiltfileResult, TiltfileError> {
    eval::evaluate(opts).0
}

/// Timing of one evaluation.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvalStats {
    /// Wall time of the whole evaluation.
    pub total: std::time::Duration,
    /// Part of it spent waiting for `local()`, `helm` and `kustomize` processes.
    pub subprocess_time: std::time::Duration,
}

/// [`evaluate`], also returning how long it took and how much of that was subprocesses.
pub fn evaluate_with_stats(opts: EvalOptions) -> (Result<TiltfileResult, TiltfileError>, EvalStats) {
    eval::evaluate(opts)
}
