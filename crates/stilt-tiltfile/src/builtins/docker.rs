//! Image builds as data: `docker_build`, `custom_build`, `default_registry`, and the
//! live-update steps `sync`, `run`, `fall_back_on`, `initial_sync`, `restart_container`.
//!
//! Arguments follow Tilt's Go unpackers (positional order included, see tiltfile-api.md §4).
//! Nothing is built: each call records an [`ImageDecl`]; refs are rewritten for the default
//! registry and dependencies resolved after the Tiltfile ran (`assembly.rs`); the engine
//! builds them.

use super::add;
use crate::args::{Args, cmd_argv, sequence, stringable};
use crate::context::Ctx;
use crate::errors::BResult;
use crate::state::ImageDecl;
use crate::values::{alloc_step, step_of};
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::Value;
use std::path::PathBuf;
use stilt_core::Cmd;
use stilt_core::image_ref::ImageRef;
use stilt_core::manifest::{CustomBuild, DefaultRegistry, DockerBuild, ImageBuild, ImageTarget, LiveUpdateStep};

pub(crate) fn register(b: &mut GlobalsBuilder) {
    add(b, "docker_build", docker_build);
    add(b, "custom_build", custom_build);
    add(b, "default_registry", default_registry);
    add(b, "sync", sync);
    add(b, "run", run);
    add(b, "fall_back_on", fall_back_on);
    add(b, "initial_sync", initial_sync);
    add(b, "restart_container", restart_container);
}

type R<'v> = BResult<Value<'v>>;

const DOCKER_BUILD_PARAMS: &[&str] = &[
    "ref",
    "context",
    "build_args?",
    "dockerfile??",
    "dockerfile_contents?",
    "cache?",
    "live_update?",
    "match_in_env_vars?",
    "ignore?",
    "only?",
    "entrypoint?",
    "container_args?",
    "target?",
    "ssh?",
    "secret?",
    "network?",
    "extra_tag?",
    "cache_from?",
    "pull?",
    "platform?",
    "extra_hosts?",
];

/// Parses argument 1 (`ref`) like Tilt.
fn parse_ref(a: &Args<'_>) -> BResult<(String, ImageRef)> {
    let text = a.get(0).and_then(Value::unpack_str).ok_or_else(|| a.type_err(0, "string"))?.to_string();
    let r = ImageRef::parse(&text)
        .map_err(|e| format!("Argument 1 (ref): can't parse {}: {}", crate::go_compat::quote(&text), e.reason))?;
    Ok((text, r))
}

/// A path argument (str), resolved against the executing file's directory.
fn path_param(a: &Args<'_>, i: usize, ctx: &Ctx, what: &str) -> BResult<PathBuf> {
    let v = a.get(i).ok_or_else(|| a.type_err(i, "string"))?;
    let s =
        v.unpack_str().ok_or_else(|| format!("{what}: for parameter {}: got {}, want string", i + 1, v.get_type()))?;
    Ok(ctx.abs_path(s))
}

/// `live_update=[...]`: a list of step values.
pub(crate) fn live_update_steps(a: &Args<'_>, i: usize) -> BResult<Vec<LiveUpdateStep>> {
    let Some(v) = a.get(i).filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    let items = sequence(v).ok_or_else(|| a.err(i, &format!("got {}, want list", v.get_type())))?;
    let steps = items
        .iter()
        .map(|x| {
            step_of(*x).ok_or_else(|| {
                format!("'steps' must be a list of live update steps - got value '{x}' of type '{}'", x.get_type())
                    .into()
            })
        })
        .collect::<BResult<Vec<_>>>()?;
    validate_step_order(&steps)?;
    Ok(steps)
}

/// Tilt's ordering rules: `initial_sync` first (at most once), `fall_back_on` before `sync`,
/// `sync` before `run`, `restart_container` last.
fn validate_step_order(steps: &[LiveUpdateStep]) -> BResult<()> {
    let rank = |s: &LiveUpdateStep| match s {
        LiveUpdateStep::InitialSync => 0,
        LiveUpdateStep::FallBackOn { .. } => 1,
        LiveUpdateStep::Sync { .. } => 2,
        LiveUpdateStep::Run { .. } => 3,
        LiveUpdateStep::RestartContainer => 4,
    };
    let name = |r: usize| ["initial_sync", "fall_back_on", "sync", "run", "restart_container"][r];
    let mut max = 0;
    for (i, s) in steps.iter().enumerate() {
        let r = rank(s);
        if r == 0 && i > 0 {
            return Err("initial_sync step must be the first step in the list (at most one)".into());
        }
        if r == 4 && i != steps.len() - 1 {
            return Err("restart container is only valid as the last step".into());
        }
        if r < max {
            return Err(format!("all {} steps must precede all {} steps", name(r), name(max)).into());
        }
        max = max.max(r);
    }
    Ok(())
}

/// `entrypoint=`: str → `sh -c`, list → argv, unset → `None`.
fn entrypoint(a: &Args<'_>, i: usize) -> BResult<Option<Vec<String>>> {
    let argv = cmd_argv(a, i)?;
    Ok((!argv.is_empty()).then_some(argv))
}

/// `container_args=`: a list of strings, `None` = not set.
fn container_args(a: &Args<'_>, i: usize) -> BResult<Option<Vec<String>>> {
    match a.get(i).filter(|v| !v.is_none()) {
        None => Ok(None),
        Some(_) => Ok(Some(a.str_list(i)?)),
    }
}

fn docker_build<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let ctx = Ctx::get(eval);
    let a = Args::unpack(name, DOCKER_BUILD_PARAMS, args, eval.heap())?;
    let (text, image) = parse_ref(&a)?;
    let context = path_param(&a, 1, ctx, "Argument 2 (context)")?;
    let build_args = a.str_map(2)?;
    let contents_given = a.get(4).filter(|v| !v.is_none());
    if contents_given.is_some() && a.get(3).is_some() {
        return Err("Cannot specify both dockerfile and dockerfile_contents keyword arguments".into());
    }
    let (dockerfile, dockerfile_contents) = if let Some(v) = contents_given {
        (None, stringable(v).ok_or("Argument (dockerfile_contents): must be string or blob.")?)
    } else {
        let path = match a.get(3) {
            Some(_) => path_param(&a, 3, ctx, "Argument 3 (dockerfile)")?,
            None => context.join("Dockerfile"),
        };
        ctx.record_read(&path);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("error reading dockerfile: {}", crate::go_compat::io_error("open", &path, &e)))?;
        (Some(path), text)
    };
    if a.get(5).is_some_and(|v| !v.is_none()) {
        ctx.log(crate::LogLevel::Warn, "docker_build(cache=...) is obsolete, and currently a no-op.\nYou should switch to live_update to optimize your builds.");
    }
    let live_update = live_update_steps(&a, 6)?;
    let match_in_env_vars = a.bool_or(7, false)?;
    let ignore = a.str_or_list(8)?;
    let only = a.str_or_list(9)?;
    if let Some(bad) = only.iter().find(|o| o.contains('*')) {
        return Err(format!("'only' does not support '*' file globs. Must be a real path: {bad}").into());
    }
    let entry = entrypoint(&a, 10)?;
    let cargs = container_args(&a, 11)?;
    let platform = match a.str(19)? {
        Some(p) => p,
        None => ctx.state.borrow().env.get("DOCKER_DEFAULT_PLATFORM").cloned().unwrap_or_default(),
    };
    let build = DockerBuild {
        context,
        dockerfile,
        dockerfile_contents,
        build_args,
        target: a.str_or(12, "")?,
        ssh: a.str_or_list(13)?,
        secret: a.str_or_list(14)?,
        network: a.str_or(15, "")?,
        extra_tag: a.str_or_list(16)?,
        cache_from: a.str_or_list(17)?,
        pull: a.bool_or(18, false)?,
        platform,
        extra_hosts: a.str_or_list(20)?,
        only,
        ignore,
    };
    let dep_refs = crate::dockerfile::find_images(&build.dockerfile_contents, &build.build_args);
    let target = new_target(text, &image, ImageBuild::Docker(build), live_update, match_in_env_vars, entry, cargs);
    register_image(ctx, eval, target, dep_refs)
}

fn new_target(
    text: String,
    image: &ImageRef,
    build: ImageBuild,
    live_update: Vec<LiveUpdateStep>,
    match_in_env_vars: bool,
    entrypoint: Option<Vec<String>>,
    container_args: Option<Vec<String>>,
) -> ImageTarget {
    ImageTarget {
        image_ref: text,
        normalized_ref: image.normalized_string(),
        local_ref: image.familiar_string(),
        cluster_ref: image.familiar_string(),
        match_exact: image.tag.is_some(),
        match_in_env_vars,
        build,
        image_deps: Vec::new(),
        live_update,
        entrypoint,
        container_args,
        live_update_only: false,
        declared_at: None,
    }
}

fn register_image<'v>(
    ctx: &Ctx,
    eval: &Evaluator<'v, '_, '_>,
    mut target: ImageTarget,
    dep_refs: Vec<String>,
) -> R<'v> {
    target.declared_at = ctx.call_site(eval);
    let mut st = ctx.state.borrow_mut();
    if st.images.iter().any(|i| i.target.normalized_ref == target.normalized_ref) {
        return Err(
            format!("Image for ref {} has already been defined", crate::go_compat::quote(&target.image_ref)).into()
        );
    }
    st.images.push(ImageDecl { target, dep_refs });
    Ok(Value::new_none())
}

const CUSTOM_BUILD_PARAMS: &[&str] = &[
    "ref",
    "command",
    "deps",
    "tag?",
    "disable_push?",
    "skips_local_docker?",
    "live_update?",
    "match_in_env_vars?",
    "ignore?",
    "entrypoint?",
    "container_args?",
    "command_bat_val?",
    "outputs_image_ref_to?",
    "command_bat?",
    "image_deps?",
    "env?",
    "dir?",
];

fn custom_build<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let ctx = Ctx::get(eval);
    let a = Args::unpack(name, CUSTOM_BUILD_PARAMS, args, eval.heap())?;
    let (text, image) = parse_ref(&a)?;
    let command_argv = cmd_argv(&a, 1)?;
    let bat = a.str_or(13, "")?;
    let bat_val = a.str_or(11, "")?;
    if command_argv.is_empty() && bat.is_empty() && bat_val.is_empty() {
        return Err("Argument 2 (command) can't be empty".into());
    }
    let deps: Vec<PathBuf> = match a.get(2) {
        Some(v) if v.unpack_str().is_some() => vec![ctx.abs_path(v.unpack_str().unwrap_or_default())],
        _ => a.str_list(2)?.iter().map(|d| ctx.abs_path(d)).collect(),
    };
    let tag = a.str_or(3, "")?;
    let disable_push = a.bool_or(4, false)?;
    let skips_local_docker = a.bool_or(5, false)?;
    let live_update = live_update_steps(&a, 6)?;
    let match_in_env_vars = a.bool_or(7, false)?;
    let ignore = a.str_or_list(8)?;
    let entry = entrypoint(&a, 9)?;
    let cargs = container_args(&a, 10)?;
    let outputs_image_ref_to = match a.str(12)? {
        Some(p) if !p.is_empty() => ctx.abs_path(&p).to_string_lossy().into_owned(),
        _ => String::new(),
    };
    if !outputs_image_ref_to.is_empty() && !tag.is_empty() {
        return Err("Cannot specify both tag= and outputs_image_ref_to=".into());
    }
    let image_deps = a.str_list(14)?;
    for d in &image_deps {
        ImageRef::parse(d)
            .map_err(|e| format!("image_deps: can't parse {}: {}", crate::go_compat::quote(d), e.reason))?;
    }
    let env = a.str_map(15)?;
    let dir = match a.str(16)? {
        Some(d) if !d.is_empty() => ctx.abs_path(&d),
        _ => ctx.cwd(),
    };
    let build = CustomBuild {
        command: Cmd { argv: command_argv, dir, env },
        deps,
        tag,
        disable_push,
        skips_local_docker,
        outputs_image_ref_to,
        ignore,
    };
    let target = new_target(text, &image, ImageBuild::Custom(build), live_update, match_in_env_vars, entry, cargs);
    register_image(ctx, eval, target, image_deps)
}

fn default_registry<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["host", "host_from_cluster?", "single_name?"], args, eval.heap())?;
    let host = a.req_str(0)?;
    let host_from_cluster = a.str_or(1, "")?;
    let single_name = a.str_or(2, "")?;
    for h in [&host, &host_from_cluster] {
        if !h.is_empty() && ImageRef::parse(&format!("{h}/x")).is_err() {
            return Err(format!("validating defaultRegistry.host: Registry not valid: {h}").into());
        }
    }
    let ctx = Ctx::get(eval);
    let mut st = ctx.state.borrow_mut();
    if st.cluster.default_registry.is_some() {
        return Err("default registry already defined".into());
    }
    st.cluster.default_registry = Some(DefaultRegistry { host, host_from_cluster, single_name });
    Ok(Value::new_none())
}

fn sync<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["local_path", "remote_path"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let local = a.req_str(0)?;
    let remote = a.req_str(1)?;
    let step = LiveUpdateStep::Sync { local_path: ctx.abs_path(&local), remote_path: remote };
    Ok(alloc_step(eval.heap(), step))
}

fn run<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["cmd", "trigger?", "echo_off?"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let cmd = cmd_argv(&a, 0)?;
    if cmd.is_empty() {
        return Err("cmd cannot be empty".into());
    }
    let trigger = a.str_or_list(1)?.iter().map(|t| ctx.abs_path(t)).collect();
    let echo_off = a.bool_or(2, false)?;
    Ok(alloc_step(eval.heap(), LiveUpdateStep::Run { cmd, trigger, echo_off }))
}

fn fall_back_on<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["paths"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let paths = a.str_or_list(0)?.iter().map(|p| ctx.abs_path(p)).collect();
    Ok(alloc_step(eval.heap(), LiveUpdateStep::FallBackOn { paths }))
}

fn initial_sync<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    Args::unpack(name, &[], args, eval.heap())?;
    Ok(alloc_step(eval.heap(), LiveUpdateStep::InitialSync))
}

fn restart_container<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    Args::unpack(name, &[], args, eval.heap())?;
    Ok(alloc_step(eval.heap(), LiveUpdateStep::RestartContainer))
}
