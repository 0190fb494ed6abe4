//! Errors inside the evaluator and their conversion to [`TiltfileError`].
//!
//! Builtins fail with a [`Failure`]; the builtin wrapper turns it into a starlark error that
//! carries a [`BuiltinFailure`] (so the message becomes `Error in <builtin>: <msg>`). Errors of
//! nested modules travel as [`NestedFailure`] with the details parked in `Ctx::pending`, so
//! the outer module can prepend its own traceback frames.

use crate::context::Ctx;
use starlark::ErrorKind;
use stilt_core::TiltfileError;

/// Why a builtin failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A Tilt-style message; the wrapper adds `Error in <name>: `.
    Msg(String),
    /// A starlark error raised while the builtin ran (e.g. from a callback); passed through.
    Starlark(starlark::Error),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Msg(s)
    }
}

impl From<&str> for Failure {
    fn from(s: &str) -> Self {
        Failure::Msg(s.to_string())
    }
}

impl From<starlark::Error> for Failure {
    fn from(e: starlark::Error) -> Self {
        Failure::Starlark(e)
    }
}

/// Result of a builtin.
pub(crate) type BResult<T> = Result<T, Failure>;

impl Failure {
    /// The starlark error for a failure of builtin `name`.
    pub(crate) fn into_starlark(self, name: &'static str) -> starlark::Error {
        match self {
            Failure::Msg(msg) => starlark::Error::new_native(anyhow::Error::new(BuiltinFailure { name, msg })),
            Failure::Starlark(e) => e,
        }
    }
}

/// A builtin's own failure.
#[derive(Debug, thiserror::Error)]
#[error("{msg}")]
pub(crate) struct BuiltinFailure {
    pub(crate) name: &'static str,
    pub(crate) msg: String,
}

/// A nested module failed; its error is in `Ctx::pending`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct NestedFailure(pub(crate) String);

/// `exit()` was called.
#[derive(Debug, thiserror::Error)]
#[error("exit")]
pub(crate) struct ExitSignal;

fn anyhow_of(kind: &ErrorKind) -> Option<&anyhow::Error> {
    match kind {
        ErrorKind::Native(e) | ErrorKind::Other(e) | ErrorKind::Value(e) | ErrorKind::Function(e) => Some(e),
        _ => None,
    }
}

/// Converts a starlark error raised while executing a module into Tilt's form.
pub(crate) fn convert(err: &starlark::Error, ctx: &Ctx) -> TiltfileError {
    let frames = &err.call_stack().frames;
    let mut traceback = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        if let Some(loc) = &f.location {
            let within = if i == 0 { "<toplevel>" } else { frames[i - 1].name.as_str() };
            traceback.push(format!("{}: in {within}", ctx.location(loc)));
        }
    }
    let span_loc = err.span().map(|s| ctx.location(s));
    let last_frame_loc = frames.last().and_then(|f| f.location.as_ref()).map(|l| ctx.location(l));
    let at_call = span_loc.is_some() && span_loc == last_frame_loc;
    if let (Some(loc), false) = (&span_loc, at_call) {
        let within = frames.last().map_or("<toplevel>", |f| f.name.as_str());
        traceback.push(format!("{loc}: in {within}"));
    }

    let any = anyhow_of(err.kind());
    if any.is_some_and(|e| e.downcast_ref::<NestedFailure>().is_some())
        && let Some(inner) = ctx.pending.borrow_mut().take()
    {
        // The last outer frame is the load statement / include call itself.
        traceback.extend(inner.traceback);
        return TiltfileError { message: inner.message, location: inner.location, traceback };
    }

    let message = if let Some(bf) = any.and_then(|e| e.downcast_ref::<BuiltinFailure>()) {
        format!("Error in {}: {}", bf.name, bf.msg)
    } else {
        let text = err.without_diagnostic().to_string();
        let text = rewrite_known_messages(&text, ctx);
        match frames.last() {
            Some(f) if at_call => format!("Error in {}: {text}", f.name),
            _ => text,
        }
    };
    TiltfileError { message, location: span_loc, traceback }
}

/// Rewrites a few starlark-rust messages into Tilt's (Go starlark's) wording.
fn rewrite_known_messages(text: &str, ctx: &Ctx) -> String {
    let missing = text.strip_prefix("Module has no symbol `").or_else(|| text.strip_prefix("Module symbol `"));
    if let Some(rest) = missing {
        let name = rest.split('`').next().unwrap_or(rest);
        return format!("load: name {name} not found in module {}", ctx.last_load.borrow());
    }
    text.to_string()
}

/// An error for an unsupported feature reached through a path other than a builtin call.
pub(crate) fn plain(msg: impl Into<String>) -> starlark::Error {
    starlark::Error::new_other(anyhow::anyhow!(msg.into()))
}
