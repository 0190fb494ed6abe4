//! `os.*`, `os.path.*`, `sys.*` and `shlex.quote`.
//!
//! The environment is the evaluator's own (`Ctx.state.env`, started from
//! `EvalOptions.env`): `os.putenv`, `os.unsetenv` and `os.environ[...] = ...` change it, later
//! `local()` calls see it, and it becomes `TiltfileResult.environment`. The process
//! environment is never touched. `os.getcwd()` is the directory of the executing file.

use super::Ns;
use crate::args::Args;
use crate::context::Ctx;
use crate::errors::BResult;
use crate::go_compat;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::list::AllocList;
use starlark::values::{Heap, Value};

pub(crate) fn register(b: &mut GlobalsBuilder) {
    let mut path = Ns::new(b, "os.path");
    path.func("os.path.abspath", abspath)
        .func("os.path.relpath", relpath)
        .func("os.path.basename", basename)
        .func("os.path.dirname", dirname)
        .func("os.path.exists", exists)
        .func("os.path.join", join)
        .func("os.path.realpath", realpath);
    let path = path.build(None);
    let environ = b.alloc(super::environ::Environ);
    let name = b.alloc("posix");
    let mut os = Ns::new(b, "os");
    os.func("os.getcwd", getcwd)
        .func("os.getenv", getenv)
        .func("os.putenv", putenv)
        .func("os.unsetenv", unsetenv)
        .value("environ", environ)
        .value("name", name)
        .value("path", path);
    let os = os.build(None);
    b.set("os", os);

    let sys = Ns::new(b, "sys").build(Some((&["argv", "executable"], sys_attr)));
    b.set("sys", sys);

    let mut shlex = Ns::new(b, "shlex");
    shlex.func("shlex.quote", quote);
    let shlex = shlex.build(None);
    b.set("shlex", shlex);
}

type R<'v> = BResult<Value<'v>>;

fn sys_attr<'v>(attr: &str, heap: Heap<'v>) -> Option<Value<'v>> {
    match attr {
        "argv" => Some(heap.alloc(AllocList(std::env::args()))),
        "executable" => {
            Some(heap.alloc(std::env::current_exe().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()))
        }
        _ => None,
    }
}

fn getcwd<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    Args::unpack(name, &[], args, eval.heap())?;
    let cwd = Ctx::get(eval).cwd();
    Ok(eval.heap().alloc(cwd.to_string_lossy().as_ref()))
}

fn getenv<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["key", "default?"], args, eval.heap())?;
    let key = a.req_str(0)?;
    match Ctx::get(eval).state.borrow().env.get(&key) {
        Some(v) => Ok(eval.heap().alloc(v.as_str())),
        None => Ok(a.get(1).unwrap_or_else(Value::new_none)),
    }
}

fn putenv<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    // Tilt unpacks both as `value.Stringable`: a string or anything with an implicit string
    // (a blob, e.g. what `encode_json()` or `read_file()` return).
    let a = Args::unpack(name, &["key", "value"], args, eval.heap())?;
    let (k, v) = (a.req_stringable(0)?, a.req_stringable(1)?);
    Ctx::get(eval).state.borrow_mut().env.insert(k, v);
    Ok(Value::new_none())
}

fn unsetenv<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["key"], args, eval.heap())?;
    let k = a.req_stringable(0)?;
    Ctx::get(eval).state.borrow_mut().env.remove(&k);
    Ok(Value::new_none())
}

fn abspath<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["path"], args, eval.heap())?;
    let p = Ctx::get(eval).abs_path(&a.req_str(0)?);
    Ok(eval.heap().alloc(p.to_string_lossy().as_ref()))
}

fn relpath<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["targpath", "basepath?"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let target = ctx.abs_path(&a.req_str(0)?);
    let base = match a.str(1)? {
        Some(b) => ctx.abs_path(&b),
        None => ctx.cwd(),
    };
    let rel = go_compat::rel(&base.to_string_lossy(), &target.to_string_lossy())?;
    Ok(eval.heap().alloc(rel))
}

fn basename<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["path"], args, eval.heap())?;
    Ok(eval.heap().alloc(go_compat::base(&a.req_str(0)?)))
}

fn dirname<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["path"], args, eval.heap())?;
    Ok(eval.heap().alloc(go_compat::dir(&a.req_str(0)?)))
}

fn exists<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["path"], args, eval.heap())?;
    let p = Ctx::get(eval).abs_path(&a.req_str(0)?);
    Ok(Value::new_bool(std::fs::metadata(p).is_ok()))
}

fn join<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    if let Some((k, _)) = args.names_map()?.into_iter().next() {
        return Err(format!("{name}: unexpected keyword argument {}", k.as_str()).into());
    }
    let parts: Vec<Value<'v>> = args.positions(eval.heap())?.collect();
    if parts.is_empty() {
        return Err(format!("{name}: missing argument for path").into());
    }
    let mut strs = Vec::with_capacity(parts.len());
    for (i, p) in parts.iter().enumerate() {
        let s = p
            .unpack_str()
            .ok_or_else(|| format!("{name}: for parameter {}: got {}, want string", i + 1, p.get_type()))?;
        strs.push(s.to_string());
    }
    Ok(eval.heap().alloc(go_compat::join(&strs)))
}

fn realpath<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["path"], args, eval.heap())?;
    let p = Ctx::get(eval).abs_path(&a.req_str(0)?);
    let real = std::fs::canonicalize(&p).map_err(|e| go_compat::io_error("lstat", &p, &e))?;
    Ok(eval.heap().alloc(real.to_string_lossy().as_ref()))
}

fn quote<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["name"], args, eval.heap())?;
    Ok(eval.heap().alloc(go_compat::shell_quote(&a.req_str(0)?)))
}
