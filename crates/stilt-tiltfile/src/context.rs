//! The per-evaluation context every builtin reaches: options, the collected model, the stack
//! of executing files and the module cache.
//!
//! Builtins get it from `eval.extra` ([`Ctx::get`]); value methods that have no evaluator
//! (`os.environ[...]`, `config.main_path`) use the thread-local set by [`Ctx::enter`]. Each
//! evaluation runs on its own thread, so the thread-local is never shared.

#![expect(
    unsafe_code,
    reason = "starlark's ProvidesStaticType derive emits an unsafe impl; this module has no hand-written unsafe"
)]

use crate::loader::ModuleCache;
use crate::state::State;
use crate::while_rewrite::LineMap;
use crate::{LogLevel, LogSink};
use starlark::codemap::FileSpan;
use starlark::eval::Evaluator;
use starlark::values::ProvidesStaticType;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use stilt_core::{SourceLocation, TiltfileError};

/// Everything one evaluation shares.
#[derive(ProvidesStaticType)]
pub(crate) struct Ctx {
    /// Absolute path of the main Tiltfile.
    pub(crate) main_path: PathBuf,
    /// Tiltfile args (after `--`).
    pub(crate) args: Vec<String>,
    /// `config.tilt_subcommand`.
    pub(crate) subcommand: String,
    log: LogSink,
    /// Told about every `local()` process.
    pub(crate) on_spawn: Option<crate::SpawnHook>,
    /// What the Tiltfile declared so far.
    pub(crate) state: RefCell<State>,
    /// Files whose top level is executing, innermost last (Tilt's "current exec path").
    pub(crate) exec_stack: RefCell<Vec<PathBuf>>,
    /// Executed modules by absolute path.
    pub(crate) modules: RefCell<ModuleCache>,
    /// Line maps of rewritten files (`while`), by file name as given to the parser.
    pub(crate) line_maps: RefCell<HashMap<String, LineMap>>,
    /// The error of a nested module (load/include/load_dynamic), waiting for the outer
    /// module to add its frames.
    pub(crate) pending: RefCell<Option<TiltfileError>>,
    /// The module string of the last successful `load()`, for "name not found" errors.
    pub(crate) last_load: RefCell<String>,
    /// `exit()` was called: stop everything, successfully.
    pub(crate) exit: Cell<bool>,
    /// What the evaluation is for.
    pub(crate) mode: crate::EvalMode,
    /// Extension repos and their resolved checkouts.
    pub(crate) ext: RefCell<crate::extensions::ExtState>,
    /// Time spent waiting for `local()`, helm and kustomize processes.
    pub(crate) subprocess_time: Cell<std::time::Duration>,
    /// The kubeconfig's current context, read on first use.
    kube: std::cell::OnceCell<crate::kubeconfig::KubeContext>,
    /// Set when the caller stopped waiting; the evaluator and slow builtins check it.
    pub(crate) cancel: crate::CancelFlag,
    /// The nesting estimate a file may reach (fits the evaluation thread's stack).
    pub(crate) max_nesting: usize,
    /// Secrets of the `k8s_yaml` objects seen so far (how many), scrubbed from the Tiltfile
    /// log as it is written (the reporter redacts everything again once the load ends).
    secrets: RefCell<(usize, stilt_core::secret_set::SecretSet)>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Ctx>>> = const { RefCell::new(None) };
}

impl Ctx {
    pub(crate) fn new(
        main_path: PathBuf,
        args: Vec<String>,
        subcommand: String,
        log: LogSink,
        on_spawn: Option<crate::SpawnHook>,
        state: State,
        mode: crate::EvalMode,
    ) -> Self {
        Ctx {
            main_path,
            args,
            subcommand,
            log,
            on_spawn,
            state: RefCell::new(state),
            exec_stack: RefCell::new(Vec::new()),
            modules: RefCell::new(ModuleCache::default()),
            line_maps: RefCell::new(HashMap::new()),
            pending: RefCell::new(None),
            last_load: RefCell::new(String::new()),
            exit: Cell::new(false),
            mode,
            ext: RefCell::new(crate::extensions::ExtState::default()),
            subprocess_time: Cell::new(std::time::Duration::ZERO),
            kube: std::cell::OnceCell::new(),
            cancel: crate::CancelFlag::default(),
            max_nesting: crate::nesting::MAX_NESTING,
            secrets: RefCell::new((0, stilt_core::secret_set::SecretSet::default())),
        }
    }

    /// Reads the kubeconfig now, with `--context` / `--namespace` applied.
    pub(crate) fn set_kube_override(&self, context: Option<&str>, namespace: Option<&str>) {
        let k = crate::kubeconfig::kube_config(&self.state.borrow().env, context, namespace);
        let _ = self.kube.set(k);
    }

    /// The kubeconfig's current context (read once, with the evaluator's environment).
    pub(crate) fn kube(&self) -> &crate::kubeconfig::KubeContext {
        self.kube.get_or_init(|| crate::kubeconfig::kube_config(&self.state.borrow().env, None, None))
    }

    /// Tilt's `allow_k8s_contexts` rule: no current context, a local dev cluster, or a context
    /// the Tiltfile allowed. `Err(context)` otherwise. `env` is the evaluator's environment.
    pub(crate) fn k8s_context_allowed(
        &self,
        env: &std::collections::BTreeMap<String, String>,
        allowed: &[String],
    ) -> Result<(), String> {
        let k = self.kube.get_or_init(|| crate::kubeconfig::kube_config(env, None, None));
        if k.context.is_empty()
            || stilt_core::ClusterProduct::from_cluster_name(&k.cluster).is_dev_cluster()
            || allowed.contains(&k.context)
        {
            Ok(())
        } else {
            Err(k.context.clone())
        }
    }

    /// Adds time spent in a load-time subprocess.
    pub(crate) fn add_subprocess_time(&self, d: std::time::Duration) {
        self.subprocess_time.set(self.subprocess_time.get() + d);
    }

    /// In `stilt ci`, a builtin whose resources stilt cannot run yet fails the load.
    pub(crate) fn require_result_mode(&self, builtin: &str) -> crate::errors::BResult<()> {
        if self.mode == crate::EvalMode::Ci {
            return Err(format!("stilt does not support {builtin} yet").into());
        }
        Ok(())
    }

    /// Makes `ctx` the current context of this thread until the guard drops.
    pub(crate) fn enter(ctx: &Rc<Ctx>) -> CurrentGuard {
        CURRENT.with(|c| *c.borrow_mut() = Some(Rc::clone(ctx)));
        CurrentGuard(())
    }

    /// Runs `f` with the current context, if an evaluation is running on this thread.
    pub(crate) fn with_current<R>(f: impl FnOnce(&Ctx) -> R) -> Option<R> {
        CURRENT.with(|c| c.borrow().as_ref().map(|ctx| f(ctx)))
    }

    /// The context of a running evaluation.
    ///
    /// # Panics
    /// If the evaluator was not set up by this crate (a bug).
    pub(crate) fn get<'a>(eval: &Evaluator<'_, 'a, '_>) -> &'a Ctx {
        eval.extra.and_then(|e| e.downcast_ref::<Ctx>()).expect("stilt evaluator without context (bug)")
    }

    /// Directory of the file whose top level is executing (Tilt's `os.getcwd()`).
    pub(crate) fn cwd(&self) -> PathBuf {
        let stack = self.exec_stack.borrow();
        let file = stack.last().unwrap_or(&self.main_path);
        file.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
    }

    /// Resolves a path argument against [`Ctx::cwd`].
    pub(crate) fn abs_path(&self, path: &str) -> PathBuf {
        crate::go_compat::abs_path(&self.cwd(), path)
    }

    /// Logs one message (split into lines) to the Tiltfile log.
    pub(crate) fn log(&self, level: LogLevel, msg: &str) {
        let msg = msg.strip_suffix('\n').unwrap_or(msg);
        let mut secrets = self.secrets.borrow_mut();
        if let Ok(st) = self.state.try_borrow()
            && !st.disable_secret_scrub
        {
            let (seen, set) = &mut *secrets;
            for o in st.k8s_objects.iter().skip(*seen) {
                set.add_object(&o.obj);
            }
            *seen = st.k8s_objects.len();
        }
        for line in msg.split('\n') {
            (self.log)(level, &secrets.1.scrub(line));
        }
    }

    /// Remembers a file the Tiltfile read.
    pub(crate) fn record_read(&self, path: &Path) {
        let mut st = self.state.borrow_mut();
        if !st.watched_paths.iter().any(|p| p == path) {
            st.watched_paths.push(path.to_path_buf());
        }
    }

    /// Translates a starlark span (of the possibly rewritten text) to an original position.
    pub(crate) fn location(&self, span: &FileSpan) -> SourceLocation {
        let r = span.resolve_span();
        let (line, col) = (to_u32(r.begin.line) + 1, to_u32(r.begin.column) + 1);
        let (line, col) = match self.line_maps.borrow().get(span.filename()) {
            Some(map) => map.translate(line, col),
            None => (line, col),
        };
        SourceLocation { file: PathBuf::from(span.filename()), line, col }
    }

    /// Where the builtin being executed was called from.
    pub(crate) fn call_site(&self, eval: &Evaluator<'_, '_, '_>) -> Option<SourceLocation> {
        eval.call_stack_top_location().map(|s| self.location(&s))
    }
}

/// The message of a builtin stopped by [`crate::CancelFlag`].
pub(crate) const CANCELLED: &str = "the Tiltfile load was cancelled (timeout or signal)";

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Clears the thread's current context on drop.
pub(crate) struct CurrentGuard(());

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = None);
    }
}
