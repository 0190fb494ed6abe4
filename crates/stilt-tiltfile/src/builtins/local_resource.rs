//! `local_resource(...)` and its deprecated alias `test(...)`.
//!
//! Parameters in Go's positional order: `name, cmd, deps, trigger_mode, resource_deps, ignore,
//! auto_init, serve_cmd, cmd_bat, serve_cmd_bat, allow_parallel, links, labels, env,
//! serve_env, readiness_probe, dir, serve_dir`. Tilt's source has no `tags` parameter (an old
//! 2020 version had one; it is gone), so `tags=` is an unexpected keyword, as in Tilt.

use super::add;
use crate::LogLevel;
use crate::args::{Args, cmd_argv, sequence};
use crate::context::Ctx;
use crate::errors::BResult;
use crate::state::DeclaredResource;
use crate::values::{LinkValue, ProbeValue, TriggerModeValue};
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::{Value, ValueLike};
use std::path::PathBuf;
use stilt_core::{Cmd, Link, LocalTarget, Manifest, ResourceTarget};

pub(crate) fn register(b: &mut GlobalsBuilder) {
    add(b, "local_resource", local_resource);
    add(b, "test", local_resource);
}

const PARAMS: &[&str] = &[
    "name",
    "cmd?",
    "deps?",
    "trigger_mode?",
    "resource_deps?",
    "ignore?",
    "auto_init?",
    "serve_cmd?",
    "cmd_bat?",
    "serve_cmd_bat?",
    "allow_parallel?",
    "links?",
    "labels?",
    "env?",
    "serve_env?",
    "readiness_probe?",
    "dir?",
    "serve_dir?",
];

const TEST_DEPRECATION: &str = "test() is deprecated and will be removed in a future release.\nChange this call to use `local_resource(..., allow_parallel=True)`";

fn local_resource<'v>(
    fname: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> BResult<Value<'v>> {
    let ctx = Ctx::get(eval);
    let is_test = fname == "test";
    if is_test {
        ctx.log(LogLevel::Warn, TEST_DEPRECATION);
    }
    let a = Args::unpack(fname, PARAMS, args, eval.heap())?;
    let name = a.req_str(0)?;
    let deps: Vec<PathBuf> = a.str_or_list(2)?.iter().map(|d| ctx.abs_path(d)).collect();
    let trigger_mode = match a.get(3).filter(|v| !v.is_none()) {
        None => None,
        Some(v) => Some(v.downcast_ref::<TriggerModeValue>().ok_or_else(|| a.type_err(3, "TriggerMode"))?.0),
    };
    let resource_deps = match a.get(4).filter(|v| !v.is_none()) {
        None => Vec::new(),
        Some(v) => {
            let items = sequence(v).ok_or_else(|| a.type_err(4, "sequence"))?;
            items
                .iter()
                .map(|x| {
                    x.unpack_str().map(str::to_string).ok_or_else(|| {
                        format!("{fname}: resource_deps: for parameter 1: got {}, want string", x.get_type())
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let ignore = ignore_list(&a, 5)?;
    let auto_init = a.bool_or(6, true)?;
    let allow_parallel = a.bool_or(10, is_test)?;
    let links = link_list(&a, 11)?;
    let labels = label_list(&a, 12)?;
    let env = a.str_map(13)?;
    let serve_env = a.str_map(14)?;
    let probe = match a.get(15).filter(|v| !v.is_none()) {
        None => None,
        Some(v) => Some(v.downcast_ref::<ProbeValue>().ok_or_else(|| a.type_err(15, "probe"))?.0.clone()),
    };
    let update_argv = cmd_argv(&a, 1)?;
    let serve_argv = cmd_argv(&a, 7)?;
    let dir = cmd_dir(&a, 16, ctx)?;
    let serve_dir = cmd_dir(&a, 17, ctx)?;

    check_commands(&a, update_argv.is_empty(), serve_argv.is_empty())?;
    let probe = match probe {
        Some(_) if serve_argv.is_empty() => {
            ctx.log(
                LogLevel::Warn,
                &format!("Ignoring readiness probe for local resource {name:?} (no serve_cmd was defined)"),
            );
            None
        }
        p => p,
    };
    let declared_at = ctx.call_site(eval);
    let mut st = ctx.state.borrow_mut();
    if st.resources.iter().any(|r| r.manifest.name == name) {
        return Err(format!("local_resource named {name:?} already exists").into());
    }
    let update_empty = update_argv.is_empty();
    let mk = |argv: Vec<String>, dir: PathBuf, env: Vec<(String, String)>| {
        (!argv.is_empty()).then_some(Cmd { argv, dir, env })
    };
    let target = LocalTarget {
        update_cmd: mk(update_argv, dir, env),
        serve_cmd: mk(serve_argv, serve_dir, serve_env),
        deps,
        ignore,
        allow_parallel: allow_parallel || update_empty,
        readiness_probe: probe,
    };
    st.resources.push(DeclaredResource {
        manifest: Manifest {
            name,
            resource_deps,
            trigger_mode: stilt_core::TriggerMode::Auto,
            auto_init,
            labels,
            links,
            declared_at,
            target: ResourceTarget::Local(target),
        },
        trigger_mode,
    });
    Ok(Value::new_none())
}

/// Tilt's checks of the `cmd`/`serve_cmd`/`dir`/`serve_dir` combination.
fn check_commands(a: &Args<'_>, update_empty: bool, serve_empty: bool) -> BResult<()> {
    if a.get(16).is_some() && update_empty {
        if !serve_empty {
            return Err(
                "local_resource: 'dir' only affects 'cmd', not 'serve_cmd'. Did you mean to use 'serve_dir' instead?"
                    .into(),
            );
        }
        return Err("local_resource: 'dir' specified but 'cmd' is empty".into());
    }
    if a.get(17).is_some() && serve_empty {
        return Err("local_resource: 'serve_dir' specified but 'serve_cmd' is empty".into());
    }
    if update_empty && serve_empty {
        return Err("local_resource must have a cmd and/or a serve_cmd, but both were empty".into());
    }
    Ok(())
}

/// `dir=`/`serve_dir=`: the executing file's directory unless a (relative) path is given.
fn cmd_dir(a: &Args<'_>, i: usize, ctx: &Ctx) -> BResult<PathBuf> {
    match a.get(i).filter(|v| !v.is_none()) {
        None => Ok(ctx.cwd()),
        Some(v) => match v.unpack_str() {
            Some("") => Ok(ctx.cwd()),
            Some(s) => Ok(ctx.abs_path(s)),
            None => Err(a.type_err(i, "string")),
        },
    }
}

fn ignore_list(a: &Args<'_>, i: usize) -> BResult<Vec<String>> {
    let Some(v) = a.get(i).filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    let items = if v.unpack_str().is_some() { vec![v] } else { sequence(v).unwrap_or_else(|| vec![v]) };
    items
        .iter()
        .map(|x| {
            x.unpack_str()
                .map(str::to_string)
                .ok_or_else(|| format!("ignore must be a string or list of strings; got {}", x.get_type()).into())
        })
        .collect()
}

/// `links=`: a URL string, a `link()`, or a list of them.
pub(crate) fn link_list(a: &Args<'_>, i: usize) -> BResult<Vec<Link>> {
    let Some(v) = a.get(i).filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    let items = if v.unpack_str().is_some() || v.downcast_ref::<LinkValue>().is_some() {
        vec![v]
    } else {
        sequence(v).ok_or_else(|| {
            a.err(i, &format!("Want a string, a link, or a sequence of these; found {}", v.get_type()))
        })?
    };
    items
        .iter()
        .map(|x| {
            if let Some(s) = x.unpack_str() {
                return super::links::parse_link(s, "").map_err(Into::into);
            }
            x.downcast_ref::<LinkValue>().map(|l| l.0.clone()).ok_or_else(|| {
                a.err(i, &format!("Want a string, a link, or a sequence of these; found {}", x.get_type()))
            })
        })
        .collect()
}

/// `labels=`: a string or a list of strings, each a valid Kubernetes label name.
pub(crate) fn label_list(a: &Args<'_>, i: usize) -> BResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for l in a.str_or_list(i)? {
        if let Err(why) = validate_label(&l) {
            return Err(a.err(i, &format!("Invalid label {l:?}: {why}")));
        }
        if !out.contains(&l) {
            out.push(l);
        }
    }
    Ok(out)
}

/// Kubernetes `IsQualifiedName`: `[prefix/]name`.
fn validate_label(label: &str) -> Result<(), String> {
    let name = match label.rsplit_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty() || prefix.len() > 253 {
                return Err("prefix part must be non-empty and at most 253 characters".to_string());
            }
            name
        }
        None => label,
    };
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    if name.is_empty() {
        return Err("name part must be non-empty".to_string());
    }
    if name.len() > 63 {
        return Err("name part must be no more than 63 characters".to_string());
    }
    let edges_ok =
        name.starts_with(|c: char| c.is_ascii_alphanumeric()) && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !edges_ok || !name.chars().all(ok_char) {
        return Err("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".to_string());
    }
    Ok(())
}
