//! One evaluation: run the main Tiltfile on a big-stack thread, then turn what it declared
//! into a [`TiltfileResult`] (trigger modes resolved, `resource_deps` checked, enabled set
//! computed).

use crate::context::Ctx;
use crate::loader::{ModuleError, exec_file};
use crate::state::{EnabledOverride, State};
use crate::{EvalOptions, LogLevel};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use stilt_core::{Manifest, TiltfileError, TiltfileResult, TriggerMode};

/// Stack sizes tried for the evaluation thread, largest first (a machine that cannot map the
/// first gets the next). The stack is reserved, not used: only what a deeply nested Tiltfile
/// touches becomes memory. See [`crate::nesting`] and docs/tiltfile-result.md, "Limits".
const STACK_SIZES: [usize; 3] = [4 << 30, 1 << 30, 256 << 20];

/// Stack one level of nesting estimate may need, measured on the worst construct (nested
/// calls/brackets; a `lambda` counts as two levels) with margin: a debug build's frames are
/// several times larger than a release build's.
const STACK_PER_LEVEL: usize = if cfg!(debug_assertions) { 32 << 10 } else { 8 << 10 };

pub(crate) fn evaluate(opts: EvalOptions) -> (Result<TiltfileResult, TiltfileError>, crate::EvalStats) {
    let started = std::time::Instant::now();
    let mut opts = Some(opts);
    let mut spawned = None;
    for stack in STACK_SIZES {
        let (tx, rx) = std::sync::mpsc::channel::<EvalOptions>();
        let thread = std::thread::Builder::new().name("tiltfile".to_string()).stack_size(stack).spawn(move || {
            let opts = rx.recv().ok()?;
            let sub = std::rc::Rc::new(std::cell::Cell::new(std::time::Duration::ZERO));
            let max_nesting = crate::nesting::MAX_NESTING.min(stack / STACK_PER_LEVEL);
            let r = evaluate_here(opts, &sub, max_nesting);
            Some((r, sub.get()))
        });
        match thread {
            Ok(handle) => {
                let _ = tx.send(opts.take().expect("options are sent once"));
                spawned = Some(Ok(handle));
                break;
            }
            Err(e) => spawned = Some(Err(e)),
        }
    }
    let (result, subprocess_time) = match spawned {
        Some(Ok(handle)) => handle.join().ok().flatten().unwrap_or_else(|| {
            (Err(TiltfileError::new("internal error: the Tiltfile evaluator panicked")), std::time::Duration::ZERO)
        }),
        Some(Err(e)) => (
            Err(TiltfileError::new(format!("cannot start the Tiltfile evaluator thread: {e}"))),
            std::time::Duration::ZERO,
        ),
        None => unreachable!("STACK_SIZES is not empty"),
    };
    (result, crate::EvalStats { total: started.elapsed(), subprocess_time })
}

fn evaluate_here(
    opts: EvalOptions,
    sub: &std::rc::Rc<std::cell::Cell<std::time::Duration>>,
    max_nesting: usize,
) -> Result<TiltfileResult, TiltfileError> {
    struct Report<'a>(&'a std::rc::Rc<std::cell::Cell<std::time::Duration>>, Option<Rc<Ctx>>);
    impl Drop for Report<'_> {
        fn drop(&mut self) {
            if let Some(c) = &self.1 {
                self.0.set(c.subprocess_time.get());
            }
        }
    }
    let mut report = Report(sub, None);
    let main = match std::fs::canonicalize(&opts.tiltfile) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TiltfileError::new(format!(
                "No Tiltfile found at paths '{}'. Check out https://docs.tilt.dev/tutorial.html",
                opts.tiltfile.display()
            )));
        }
        Err(e) => {
            return Err(TiltfileError::new(format!("{}: {e}", opts.tiltfile.display())));
        }
    };
    let state = State { env: opts.env, ..State::default() };
    let mut ctx = Ctx::new(main.clone(), opts.args, opts.subcommand, opts.log, opts.on_spawn, state, opts.mode);
    ctx.cancel = opts.cancel;
    ctx.max_nesting = max_nesting;
    let ctx = Rc::new(ctx);
    report.1 = Some(Rc::clone(&ctx));
    if opts.kube_context.is_some() || opts.kube_namespace.is_some() {
        ctx.set_kube_override(opts.kube_context.as_deref(), opts.kube_namespace.as_deref());
    }
    let _current = Ctx::enter(&ctx);
    match exec_file(&ctx, &main) {
        Ok(_) | Err(ModuleError::Exit) => {}
        Err(ModuleError::Located(e)) => return Err(e),
        Err(ModuleError::Plain(msg)) => return Err(TiltfileError::new(msg)),
    }
    finish(&ctx, main)
}

fn finish(ctx: &Ctx, main: std::path::PathBuf) -> Result<TiltfileResult, TiltfileError> {
    let mut st = std::mem::take(&mut *ctx.state.borrow_mut());
    let default_mode = st.trigger_mode.as_ref().map_or(TriggerMode::Auto, |(m, _)| *m);
    let assembled = crate::assembly::assemble(ctx, &mut st)?;
    let mut manifests: Vec<Manifest> = assembled
        .manifests
        .into_iter()
        .map(|(mut m, mode)| {
            m.trigger_mode = mode.unwrap_or(default_mode);
            m
        })
        .collect();
    for r in st.resources {
        let mut m = r.manifest;
        if manifests.iter().any(|x| x.name == m.name) {
            return Err(TiltfileError {
                message: format!("Error in local_resource: local_resource named {:?} already exists", m.name),
                location: m.declared_at,
                traceback: Vec::new(),
            });
        }
        m.trigger_mode = r.trigger_mode.unwrap_or(default_mode);
        manifests.push(m);
    }
    let mut enabled_resources = enabled(&manifests, &st.config.enabled, st.config.parse_dir.is_some(), &ctx.args)?;
    if let Some(mut u) = assembled.uncategorized {
        u.trigger_mode = default_mode;
        enabled_resources.push(u.name.clone());
        manifests.push(u);
    }
    sanitize_dependencies(&mut manifests, ctx)?;
    let deploys_to_k8s = manifests.iter().any(|m| {
        matches!(m.target, stilt_core::ResourceTarget::K8s(_) | stilt_core::ResourceTarget::K8sCustomDeploy(_))
    });
    if deploys_to_k8s && let Err(c) = ctx.k8s_context_allowed(&st.env, &st.cluster.allowed_k8s_contexts) {
        return Err(TiltfileError::new(format!(
            "Stop! {c} might be production.\nIf you're sure you want to deploy there, add:\nallow_k8s_contexts('{c}')\nto your Tiltfile. Otherwise, switch k8s contexts and restart Tilt."
        )));
    }
    Ok(TiltfileResult {
        tiltfile_path: main,
        manifests,
        enabled_resources,
        ci_settings: st.ci_settings,
        update_settings: st.update_settings,
        disable_secret_scrub: st.disable_secret_scrub,
        version_settings: st.version_settings,
        features: st.features,
        analytics_enabled: st.analytics_enabled,
        team_id: st.team_id,
        environment: st.env,
        watched_paths: st.watched_paths,
        cluster: st.cluster,
        api_objects: st.api_objects,
        extensions: st.extensions,
    })
}

/// Tilt's `sanitizeDependencies`: self-deps and cycles are errors, unknown deps are warned
/// about and dropped.
fn sanitize_dependencies(manifests: &mut [Manifest], ctx: &Ctx) -> Result<(), TiltfileError> {
    let known: BTreeSet<String> = manifests.iter().map(|m| m.name.clone()).collect();
    for m in manifests.iter_mut() {
        let mut kept = Vec::with_capacity(m.resource_deps.len());
        for d in &m.resource_deps {
            if *d == m.name {
                return Err(TiltfileError {
                    message: format!("resource {} specified a dependency on itself", m.name),
                    location: m.declared_at.clone(),
                    traceback: Vec::new(),
                });
            }
            if known.contains(d) {
                kept.push(d.clone());
            } else {
                ctx.log(
                    LogLevel::Warn,
                    &format!("resource {} specified a dependency on unknown resource {d} - dependency ignored", m.name),
                );
            }
        }
        m.resource_deps = kept;
    }
    if let Some(cycle) = find_cycle(manifests) {
        let first = manifests.iter().find(|m| m.name == cycle[0]);
        return Err(TiltfileError {
            message: format!("cycle detected in resource dependency graph: {}", cycle.join(" -> ")),
            location: first.and_then(|m| m.declared_at.clone()),
            traceback: Vec::new(),
        });
    }
    Ok(())
}

/// The first dependency cycle found walking resources in declaration order, as
/// `[a, b, …, a]`.
fn find_cycle(manifests: &[Manifest]) -> Option<Vec<String>> {
    let deps: BTreeMap<&str, &[String]> =
        manifests.iter().map(|m| (m.name.as_str(), m.resource_deps.as_slice())).collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for m in manifests {
        let mut stack: Vec<(&str, usize)> = vec![(m.name.as_str(), 0)];
        let mut on_stack: Vec<&str> = vec![m.name.as_str()];
        while let Some((node, next)) = stack.last_mut() {
            let node_deps = deps.get(node).copied().unwrap_or(&[]);
            if *next >= node_deps.len() {
                done.insert(node);
                stack.pop();
                on_stack.pop();
                continue;
            }
            let dep = node_deps[*next].as_str();
            *next += 1;
            if let Some(i) = on_stack.iter().position(|n| *n == dep) {
                let mut cycle: Vec<String> = on_stack[i..].iter().map(|s| (*s).to_string()).collect();
                cycle.push(dep.to_string());
                return Some(cycle);
            }
            if !done.contains(dep) {
                stack.push((dep, 0));
                on_stack.push(dep);
            }
        }
    }
    None
}

/// The enabled set (tilt-ci-semantics §2.2).
fn enabled(
    manifests: &[Manifest],
    over: &EnabledOverride,
    parse_called: bool,
    args: &[String],
) -> Result<Vec<String>, TiltfileError> {
    let all = || manifests.iter().map(|m| m.name.clone()).collect();
    match over {
        EnabledOverride::Clear => Ok(Vec::new()),
        EnabledOverride::Set(list) if list.is_empty() => Ok(all()),
        EnabledOverride::Set(list) => select(manifests, list),
        EnabledOverride::Unset if !args.is_empty() && !parse_called => select(manifests, args),
        EnabledOverride::Unset => Ok(all()),
    }
}

/// The requested resources plus their transitive `resource_deps`, in manifest order.
fn select(manifests: &[Manifest], requested: &[String]) -> Result<Vec<String>, TiltfileError> {
    let by_name: BTreeMap<&str, &Manifest> = manifests.iter().map(|m| (m.name.as_str(), m)).collect();
    let unknown: Vec<&String> = requested.iter().filter(|r| !by_name.contains_key(r.as_str())).collect();
    if !unknown.is_empty() {
        let quoted = |v: &mut dyn Iterator<Item = &str>| v.map(crate::go_compat::quote).collect::<Vec<_>>().join(", ");
        let existing =
            quoted(&mut manifests.iter().map(|m| m.name.as_str()).filter(|n| !requested.iter().any(|r| r == n)));
        return Err(TiltfileError::new(format!(
            "You specified some resources that could not be found: {}\nIs this a typo? Existing resources in Tiltfile: {existing}",
            quoted(&mut unknown.iter().map(|s| s.as_str()))
        )));
    }
    let mut chosen: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = requested.iter().map(String::as_str).collect();
    while let Some(n) = todo.pop() {
        if chosen.insert(n)
            && let Some(m) = by_name.get(n)
        {
            todo.extend(m.resource_deps.iter().map(String::as_str));
        }
    }
    Ok(manifests.iter().filter(|m| chosen.contains(m.name.as_str())).map(|m| m.name.clone()).collect())
}
