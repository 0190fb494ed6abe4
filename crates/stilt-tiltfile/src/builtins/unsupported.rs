//! Builtins Tilt has and stilt does not implement yet. Each one exists, so a Tiltfile that
//! calls it fails at the call with `Error in <name>: stilt does not support <name> yet`
//! instead of an unknown-name error (or, worse, being ignored). Every builtin of
//! tiltfile-api.md is implemented now, so the list is empty; builtins whose *execution*
//! `stilt ci` lacks fail through `Ctx::require_result_mode` instead.

use super::add;
use crate::errors::BResult;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::Value;

/// Top-level builtins not implemented yet.
pub(crate) const TOP_LEVEL: &[&str] = &[];

fn not_supported<'v>(name: &'static str, _: &Arguments<'v, '_>, _: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    Err(format!("stilt does not support {name} yet").into())
}

pub(crate) fn register(b: &mut GlobalsBuilder) {
    for name in TOP_LEVEL {
        add(b, name, not_supported);
    }
}
