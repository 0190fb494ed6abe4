//! Executing files: the main Tiltfile and everything it `load()`s, `include()`s or
//! `load_dynamic()`s.
//!
//! Each file is executed at most once per evaluation; the result (its frozen module or its
//! error) is cached by absolute path, and re-entering a file that is still executing is Tilt's
//! `Circular load` error. Every file gets a fresh [`Evaluator`] with the shared context in
//! `extra`, the print handler, a loader for its own `load()` statements and the call-stack
//! limit.

use crate::LogLevel;
use crate::builtins::globals;
use crate::context::Ctx;
use crate::errors::{NestedFailure, convert, plain};
use crate::go_compat;
use crate::while_rewrite;
use starlark::PrintHandler;
use starlark::environment::{FrozenModule, Module};
use starlark::eval::{Evaluator, FileLoader};
use starlark::syntax::{AstModule, Dialect};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use stilt_core::TiltfileError;

/// Maximum Starlark call depth (Go Starlark has none; starlark-rust defaults to 50).
const MAX_CALLSTACK: usize = 1000;

/// Tilt's dialect: top-level `if`/`for`, keyword-only arguments, and `load()` bindings that
/// stay private to the loading file. `while` is handled by [`while_rewrite`].
const DIALECT: Dialect = Dialect {
    enable_top_level_stmt: true,
    enable_keyword_only_arguments: true,
    enable_load_reexport: false,
    ..Dialect::Standard
};

/// Executed files by absolute path.
#[derive(Default)]
pub(crate) struct ModuleCache(HashMap<PathBuf, CacheEntry>);

enum CacheEntry {
    Executing,
    Done(Result<FrozenModule, ModuleError>),
}

/// Why a file could not be executed.
#[derive(Debug, Clone)]
pub(crate) enum ModuleError {
    /// A failure without a position in that file (missing file, circular load); the caller
    /// reports it at its own call site.
    Plain(String),
    /// A failure inside the file, already located.
    Located(TiltfileError),
    /// `exit()` was called: stop quietly.
    Exit,
}

impl ModuleError {
    /// The error to return from the builtin or load statement that executed the file.
    /// `plain_prefix` is put in front of a [`ModuleError::Plain`] message.
    pub(crate) fn into_starlark(self, ctx: &Ctx, builtin: Option<&'static str>, plain_prefix: &str) -> starlark::Error {
        match self {
            ModuleError::Plain(msg) => match builtin {
                Some(name) => crate::errors::Failure::Msg(format!("{plain_prefix}{msg}")).into_starlark(name),
                None => plain(format!("{plain_prefix}{msg}")),
            },
            ModuleError::Located(err) => {
                let msg = err.message.clone();
                *ctx.pending.borrow_mut() = Some(err);
                starlark::Error::new_other(anyhow::Error::new(NestedFailure(msg)))
            }
            ModuleError::Exit => starlark::Error::new_other(anyhow::Error::new(crate::errors::ExitSignal)),
        }
    }
}

/// Executes `path` (absolute) once and returns its module.
/// The cache key is the canonical path (symlinks resolved), so one file reached through two
/// paths still runs once; messages and `__file__` use `path` as written (cleaned), like Tilt.
pub(crate) fn exec_file(ctx: &Ctx, path: &Path) -> Result<FrozenModule, ModuleError> {
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match ctx.modules.borrow().0.get(&key) {
        Some(CacheEntry::Executing) => {
            return Err(ModuleError::Plain(format!("Circular load: {}", path.display())));
        }
        Some(CacheEntry::Done(r)) => return r.clone(),
        None => {}
    }
    ctx.modules.borrow_mut().0.insert(key.clone(), CacheEntry::Executing);
    ctx.exec_stack.borrow_mut().push(path.to_path_buf());
    ctx.record_read(path);
    let result = exec_uncached(ctx, path);
    ctx.exec_stack.borrow_mut().pop();
    ctx.modules.borrow_mut().0.insert(key, CacheEntry::Done(result.clone()));
    result
}

fn exec_uncached(ctx: &Ctx, path: &Path) -> Result<FrozenModule, ModuleError> {
    // Invalid UTF-8 becomes U+FFFD (Go's Starlark keeps the raw bytes; Rust strings cannot).
    let text = match crate::builtins::data::read_bounded(ctx, path) {
        Ok(bytes) => String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(crate::builtins::data::ReadError::Io(e)) => {
            return Err(ModuleError::Plain(format!(
                "error reading file {}: {}",
                path.display(),
                go_compat::io_error("open", path, &e)
            )));
        }
        Err(e) => {
            return Err(ModuleError::Plain(format!("error reading file {}: {}", path.display(), e.message(path))));
        }
    };
    let name = path.to_string_lossy().into_owned();
    let text = crate::detab::detab(&text).unwrap_or(text);
    let source = match while_rewrite::rewrite(&text) {
        Some(rw) => {
            ctx.line_maps.borrow_mut().insert(name.clone(), rw.map);
            rw.source
        }
        None => text,
    };
    if let Err(deep) = crate::nesting::check(&source, ctx.max_nesting) {
        let (line, col) = match ctx.line_maps.borrow().get(&name) {
            Some(map) => map.translate(deep.line, deep.col),
            None => (deep.line, deep.col),
        };
        return Err(ModuleError::Located(TiltfileError {
            message: format!(
                "nested too deeply: more than {} levels of brackets and operators in one statement (stilt's limit; see docs/tiltfile-result.md)",
                ctx.max_nesting
            ),
            location: Some(stilt_core::SourceLocation { file: PathBuf::from(&name), line, col }),
            traceback: Vec::new(),
        }));
    }
    let ast = AstModule::parse(&name, source, &DIALECT).map_err(|e| ModuleError::Located(convert(&e, ctx)))?;
    let is_main = path == ctx.main_path;
    Module::with_temp_heap(|module| {
        let heap = module.heap();
        module.set("__file__", heap.alloc(name.as_str()));
        let display_name = if is_main { "__main__".to_string() } else { go_compat::base(&name) };
        module.set("__name__", heap.alloc(display_name));
        let loader = Loader { ctx };
        let printer = Printer { ctx };
        let mut eval = Evaluator::new(&module);
        eval.set_loader(&loader);
        eval.set_print_handler(&printer);
        eval.extra = Some(ctx);
        eval.set_max_callstack_size(MAX_CALLSTACK).map_err(|e| ModuleError::Plain(e.to_string()))?;
        // Checked by starlark every 1000 loop iterations and calls.
        let cancel = ctx.cancel.clone();
        eval.set_check_cancelled(Box::new(move || cancel.is_cancelled()));
        let result = eval.eval_module(ast, globals());
        drop(eval);
        match result {
            Err(_) if ctx.exit.get() => Err(ModuleError::Exit),
            Err(e) => Err(ModuleError::Located(convert(&e, ctx))),
            Ok(_) => module.freeze().map_err(|e| ModuleError::Plain(format!("{e:?}"))),
        }
    })
}

/// Resolves `load()` statements of one file.
struct Loader<'c> {
    ctx: &'c Ctx,
}

impl FileLoader for Loader<'_> {
    fn load(&self, module: &str) -> starlark::Result<FrozenModule> {
        let prefix = format!("cannot load {module}: ");
        let path = match module.strip_prefix("ext://") {
            Some(name) => crate::extensions::resolve(self.ctx, name).map_err(|e| plain(format!("{prefix}{e}")))?,
            None => self.ctx.abs_path(module),
        };
        match exec_file(self.ctx, &path) {
            Ok(m) => {
                *self.ctx.last_load.borrow_mut() = module.to_string();
                Ok(m)
            }
            Err(e) => Err(e.into_starlark(self.ctx, None, &prefix)),
        }
    }
}

/// Sends `print()` output to the Tiltfile log.
struct Printer<'c> {
    ctx: &'c Ctx,
}

impl PrintHandler for Printer<'_> {
    fn println(&self, text: &str) -> starlark::Result<()> {
        self.ctx.log(LogLevel::Info, text);
        Ok(())
    }
}

/// The module executed from `path`, if it ran successfully.
pub(crate) fn executed_module(ctx: &Ctx, path: &Path) -> Option<FrozenModule> {
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match ctx.modules.borrow().0.get(&key) {
        Some(CacheEntry::Done(Ok(m))) => Some(m.clone()),
        _ => None,
    }
}
