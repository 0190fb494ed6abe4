//! Flow and modularity: `warn`, `fail`, `exit`, `include`, `load_dynamic`, `module`.
//! (`print` is starlark's, routed to the log by the loader's print handler; `struct` is
//! starlark's.)

use super::add;
use crate::LogLevel;
use crate::args::Args;
use crate::context::Ctx;
use crate::errors::{BResult, ExitSignal, Failure};
use crate::loader::exec_file;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::Value;
use starlark::values::dict::AllocDict;
use starlark::values::structs::AllocStruct;

pub(crate) fn register(b: &mut GlobalsBuilder) {
    add(b, "warn", warn);
    add(b, "fail", fail);
    add(b, "exit", exit);
    add(b, "include", include);
    add(b, "load_dynamic", load_dynamic);
    add(b, "module", module);
}

fn warn<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    let a = Args::unpack(name, &["msg"], args, eval.heap())?;
    Ctx::get(eval).log(LogLevel::Warn, &a.req_str(0)?);
    Ok(Value::new_none())
}

fn fail<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    let a = Args::unpack(name, &["msg"], args, eval.heap())?;
    Err(a.req_str(0)?.into())
}

fn exit<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    let a = Args::unpack(name, &["code?"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    if let Some(code) = a.get(0).filter(|v| !v.is_none()) {
        let text = code.unpack_str().map_or_else(|| code.to_string(), str::to_string);
        ctx.log(LogLevel::Info, &text);
    }
    ctx.exit.set(true);
    Err(Failure::Starlark(starlark::Error::new_other(anyhow::Error::new(ExitSignal))))
}

fn include<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    let a = Args::unpack(name, &["path"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let path = ctx.abs_path(&a.req_str(0)?);
    match exec_file(ctx, &path) {
        Ok(_) => Ok(Value::new_none()),
        Err(e) => Err(Failure::Starlark(e.into_starlark(ctx, Some(name), ""))),
    }
}

fn load_dynamic<'v>(
    name: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> BResult<Value<'v>> {
    let a = Args::unpack(name, &["path"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let arg = a.req_str(0)?;
    let path = match arg.strip_prefix("ext://") {
        Some(ext) => crate::extensions::resolve(ctx, ext).map_err(|e| format!("cannot load {arg}: {e}"))?,
        None => ctx.abs_path(&arg),
    };
    let module = exec_file(ctx, &path).map_err(|e| Failure::Starlark(e.into_starlark(ctx, Some(name), "")))?;
    let heap = eval.heap();
    let mut entries = Vec::new();
    for sym in module.names() {
        let sym = sym.as_str().to_string();
        if sym.starts_with('_') {
            continue;
        }
        if let Ok(Some(v)) = module.get_option(&sym) {
            entries.push((sym, heap.access_owned_frozen_value(&v)));
        }
    }
    entries.sort_by(|x, y| x.0.cmp(&y.0));
    Ok(heap.alloc(AllocDict(entries)))
}

/// `module(name, **kwargs)`: a named record (returned as a struct).
fn module<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    let heap = eval.heap();
    let positional: Vec<Value<'v>> = args.positions(heap)?.collect();
    let mut fields: Vec<(String, Value<'v>)> = Vec::new();
    let mut module_name = None;
    for v in &positional {
        if module_name.is_some() {
            return Err(format!("{name}: got {} positional arguments, want 1", positional.len()).into());
        }
        module_name = Some(*v);
    }
    for (k, v) in args.names_map()? {
        if k.as_str() == "name" && module_name.is_none() {
            module_name = Some(v);
        } else {
            fields.push((k.as_str().to_string(), v));
        }
    }
    if module_name.and_then(Value::unpack_str).is_none() {
        return Err(format!("{name}: missing argument for name").into());
    }
    Ok(heap.alloc(AllocStruct(fields)))
}
