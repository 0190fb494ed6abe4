//! Kubernetes as data: `k8s_yaml`, `k8s_resource`, `k8s_kind`, `k8s_image_json_path`,
//! `k8s_custom_deploy`, `filter_yaml`, `workload_to_resource_function`, `k8s_context`,
//! `k8s_namespace`, `allow_k8s_contexts`, `port_forward`.
//!
//! Like Tilt, `k8s_yaml` only adds objects to a pool and `k8s_resource` only records options;
//! grouping into resources happens after the Tiltfile ran (`assembly.rs`). Nothing is applied.
//! In `stilt ci`, `k8s_custom_deploy` fails with `stilt does not support k8s_custom_deploy yet`.

use super::add;
use super::local_resource::{label_list, link_list};
use crate::args::{Args, cmd_argv, sequence};
use crate::context::Ctx;
use crate::errors::BResult;
use crate::state::{CustomDeployDecl, K8sObject, K8sResourceOpts};
use crate::values::{Blob, PortForwardValue, TriggerModeValue};
use regex::Regex;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::dict::DictRef;
use starlark::values::tuple::AllocTuple;
use starlark::values::{Value, ValueLike};
use std::collections::BTreeMap;
use stilt_core::manifest::{
    DiscoveryStrategy, ImageBuild, ImageObjectLocator, ImageTarget, K8sCustomDeployTarget, K8sKindInfo, PodReadiness,
    PortForward,
};
use stilt_core::{Cmd, TriggerMode};

pub(crate) fn register(b: &mut GlobalsBuilder) {
    add(b, "k8s_yaml", k8s_yaml);
    add(b, "k8s_resource", k8s_resource);
    add(b, "k8s_kind", k8s_kind);
    add(b, "k8s_image_json_path", k8s_image_json_path);
    add(b, "k8s_custom_deploy", k8s_custom_deploy);
    add(b, "filter_yaml", filter_yaml);
    add(b, "workload_to_resource_function", workload_to_resource_function);
    add(b, "k8s_context", k8s_context);
    add(b, "k8s_namespace", k8s_namespace);
    add(b, "allow_k8s_contexts", allow_k8s_contexts);
    add(b, "port_forward", port_forward);
}

type R<'v> = BResult<Value<'v>>;

/// The objects of a `yaml` argument: a path, a Blob, or a list mixing both.
pub(crate) fn yaml_objects(ctx: &Ctx, v: Value<'_>) -> BResult<Vec<serde_json::Value>> {
    let items = if v.unpack_str().is_some() || v.downcast_ref::<Blob>().is_some() {
        vec![v]
    } else if let Some(items) = sequence(v) {
        items
    } else if v.is_none() {
        Vec::new()
    } else {
        return Err(format!("expected blob | string | list of (string | blob), got {}", v.get_type()).into());
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(path) = item.unpack_str() {
            let path = ctx.abs_path(path);
            ctx.record_read(&path);
            let text = std::fs::read_to_string(&path).map_err(|e| crate::go_compat::io_error("open", &path, &e))?;
            let objs = crate::k8s::parse_yaml(&text)
                .map_err(|e| format!("Error reading yaml from {}: {e}", path.display()))?;
            out.extend(objs);
        } else if let Some(b) = item.downcast_ref::<Blob>() {
            out.extend(crate::k8s::parse_yaml(&b.0).map_err(|e| format!("Error reading yaml from blob: {e}"))?);
        } else {
            return Err(format!("expected blob | string | list of (string | blob), got {}", item.get_type()).into());
        }
    }
    Ok(out)
}

fn k8s_yaml<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let ctx = Ctx::get(eval);
    let a = Args::unpack(name, &["yaml", "allow_duplicates?"], args, eval.heap())?;
    let allow_duplicates = a.bool_or(1, false)?;
    let v = a.get(0).unwrap_or_else(Value::new_none);
    let objs = yaml_objects(ctx, v)?;
    if objs.is_empty() {
        return Err("Empty or Invalid YAML Resource Detected".into());
    }
    let declared_at = ctx.call_site(eval);
    let mut st = ctx.state.borrow_mut();
    if !allow_duplicates {
        for (i, o) in objs.iter().enumerate() {
            let key = object_key(o);
            if st.k8s_objects.iter().any(|e| object_key(&e.obj) == key)
                || objs[..i].iter().any(|p| object_key(p) == key)
            {
                return Err(crate::errors::Failure::Msg(format!(
                    "Duplicate YAML Entity: {} has been detected across one or more resources.  Only one specification per entity can be applied to the cluster; to ensure expected behavior, remove the duplicate specifications.",
                    crate::k8s::potential_names(o, 4).pop().unwrap_or_default()
                )));
            }
        }
    }
    st.k8s_objects.extend(objs.into_iter().map(|obj| K8sObject { obj, declared_at: declared_at.clone() }));
    Ok(Value::new_none())
}

fn object_key(o: &serde_json::Value) -> (String, String, String, String) {
    (
        crate::k8s::name(o).to_string(),
        crate::k8s::kind(o).to_lowercase(),
        crate::k8s::namespace(o).to_string(),
        crate::k8s::group(o).to_string(),
    )
}

const K8S_RESOURCE_PARAMS: &[&str] = &[
    "workload?",
    "new_name?",
    "port_forwards?",
    "extra_pod_selectors?",
    "trigger_mode?",
    "resource_deps?",
    "objects?",
    "auto_init?",
    "pod_readiness?",
    "links?",
    "labels?",
    "discovery_strategy?",
];

/// A list of strings where each bad element names the parameter, like Tilt's
/// `value.SequenceToStringSlice`.
fn string_seq(a: &Args<'_>, i: usize, fname: &str, what: &str) -> BResult<Vec<String>> {
    let Some(v) = a.get(i).filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    let items = sequence(v).ok_or_else(|| a.type_err(i, "sequence"))?;
    items
        .iter()
        .map(|x| {
            x.unpack_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{fname}: {what}: for parameter 1: got {}, want string", x.get_type()).into())
        })
        .collect()
}

/// An optional string setting with a fixed set of values (`pod_readiness=`,
/// `discovery_strategy=`): `None` when empty or not given; a bad value is the parameter's error
/// with Tilt's message.
fn setting<T: std::str::FromStr<Err = String>>(a: &Args<'_>, i: usize) -> BResult<Option<T>> {
    let s = a.str_or(i, "")?;
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|e: String| a.err(i, &e))
}

fn trigger_mode_arg(a: &Args<'_>, i: usize) -> BResult<Option<TriggerMode>> {
    match a.get(i).filter(|v| !v.is_none()) {
        None => Ok(None),
        Some(v) => Ok(Some(v.downcast_ref::<TriggerModeValue>().ok_or_else(|| a.type_err(i, "TriggerMode"))?.0)),
    }
}

fn k8s_resource<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let ctx = Ctx::get(eval);
    let a = Args::unpack(name, K8S_RESOURCE_PARAMS, args, eval.heap())?;
    let workload = a.str_or(0, "")?;
    let new_name = a.str_or(1, "")?;
    let resource_name = if workload.is_empty() { new_name.clone() } else { workload.clone() };
    let port_forwards =
        port_forwards(a.get(2)).map_err(|e| format!("{name} {}: {e}", crate::go_compat::quote(&resource_name)))?;
    let extra_pod_selectors = pod_selectors(a.get(3))?;
    let trigger_mode = trigger_mode_arg(&a, 4)?;
    let resource_deps = string_seq(&a, 5, name, "resource_deps")?;
    let objects = string_seq(&a, 6, name, "objects")?;
    let auto_init = match a.get(7) {
        None => None,
        Some(_) => Some(a.bool_or(7, true)?),
    };
    let pod_readiness = setting::<PodReadiness>(&a, 8)?;
    let links = link_list(&a, 9)?;
    let labels = label_list(&a, 10)?;
    let discovery_strategy = setting::<DiscoveryStrategy>(&a, 11)?;
    if workload.is_empty() && objects.is_empty() {
        return Err("k8s_resource doesn't specify a workload or any objects. All non-workload resources must specify 1 or more objects".into());
    }
    if workload.is_empty() && new_name.is_empty() {
        return Err("k8s_resource has only non-workload objects but doesn't provide a new_name".into());
    }
    let declared_at = ctx.call_site(eval);
    ctx.state.borrow_mut().k8s_opts.push(K8sResourceOpts {
        workload,
        new_name,
        port_forwards,
        extra_pod_selectors,
        trigger_mode,
        resource_deps,
        objects,
        auto_init,
        pod_readiness,
        links,
        labels,
        discovery_strategy,
        declared_at,
    });
    Ok(Value::new_none())
}

/// `port_forwards=`: an int, a string, a `port_forward()`, or a list of them.
pub(crate) fn port_forwards(v: Option<Value<'_>>) -> Result<Vec<PortForward>, String> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    let items = match sequence(v) {
        Some(items) => items,
        None => vec![v],
    };
    items.iter().map(|x| one_port_forward(*x)).collect()
}

fn pf(local_port: u32, container_port: u32, host: &str) -> PortForward {
    PortForward { local_port, container_port, host: host.to_string(), name: String::new(), link_path: String::new() }
}

fn one_port_forward(value: Value<'_>) -> Result<PortForward, String> {
    if let Some(given) = value.downcast_ref::<PortForwardValue>() {
        return Ok(given.0.clone());
    }
    if let Some(number) = value.unpack_i32() {
        return u32::try_from(number).map(|port| pf(port, 0, "")).map_err(|_| format!("invalid port {number}"));
    }
    let Some(text) = value.unpack_str() else {
        return Err(format!("got {}, want int, string or port_forward", value.get_type()));
    };
    let bad = || {
        format!(
            "Expected a port forward of the form 'localPort:containerPort' or 'host:localPort:containerPort', got {text:?}"
        )
    };
    let port = |field: &str| field.parse::<u32>().ok().filter(|num| *num <= 65535);
    let parts: Vec<&str> = text.splitn(3, ':').collect();
    match parts.as_slice() {
        [local] => port(local).map(|lp| pf(lp, 0, "")).ok_or_else(bad),
        [local, container] => match (port(local), port(container)) {
            (Some(lp), Some(cp)) => Ok(pf(lp, cp, "")),
            _ => Err(bad()),
        },
        [host, local, container] => match (port(local), port(container)) {
            (Some(lp), Some(cp)) if !host.is_empty() => Ok(pf(lp, cp, host)),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

/// `extra_pod_selectors=`: a dict or a list of dicts of string to string.
fn pod_selectors(arg: Option<Value<'_>>) -> BResult<Vec<BTreeMap<String, String>>> {
    let Some(arg) = arg.filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    let dicts = if DictRef::from_value(arg).is_some() {
        vec![arg]
    } else if let Some(items) = sequence(arg) {
        items
    } else {
        return Err(format!("pod labels must be a dict or a list; got {}", arg.get_type()).into());
    };
    let mut out = Vec::new();
    for item in dicts {
        let Some(dict) = DictRef::from_value(item) else {
            return Err(format!("pod labels elements must be dicts; got {}", item.get_type()).into());
        };
        let mut labels = BTreeMap::new();
        for (key, val) in dict.iter() {
            let Some(key_s) = key.unpack_str() else {
                return Err(format!("pod label keys must be strings; got '{key}' of type {}", key.get_type()).into());
            };
            let Some(val_s) = val.unpack_str() else {
                return Err(format!("pod label values must be strings; got '{val}' of type {}", val.get_type()).into());
            };
            labels.insert(key_s.to_string(), val_s.to_string());
        }
        if !labels.is_empty() {
            out.push(labels);
        }
    }
    Ok(out)
}

fn compile_ci(pattern: &str) -> BResult<Regex> {
    crate::go_compat::regex_ci(pattern).map_err(|e| format!("error parsing regexp: {e}").into())
}

fn image_json_paths(a: &Args<'_>, i: usize) -> BResult<Vec<String>> {
    let paths = a.str_or_list(i)?;
    for p in &paths {
        stilt_core::json_path::JsonPath::parse(p).map_err(crate::errors::Failure::Msg)?;
    }
    Ok(paths)
}

fn k8s_kind<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let npos = args.positions(eval.heap())?.count();
    if npos > 1 {
        return Err(format!("{name}: got {npos} arguments, want at most 1").into());
    }
    let params = &["kind", "image_json_path?", "api_version?", "image_object?", "pod_readiness?"];
    let a = Args::unpack(name, params, args, eval.heap())?;
    let kind = a.req_str(0)?;
    let api_version = a.str_or(2, "")?;
    compile_ci(&kind)?;
    compile_ci(&api_version)?;
    let paths = image_json_paths(&a, 1)?;
    let image_object = match a.get(3).filter(|v| !v.is_none()) {
        None => None,
        Some(v) => {
            let d = DictRef::from_value(v).ok_or_else(|| a.type_err(3, "dict"))?;
            let get = |k: &str| -> BResult<String> {
                d.get_str(k)
                    .and_then(|x| x.unpack_str().map(str::to_string))
                    .ok_or_else(|| format!("{name}: for parameter image_object: missing required field {k}").into())
            };
            Some(ImageObjectLocator {
                json_path: get("json_path")?,
                repo_field: get("repo_field")?,
                tag_field: get("tag_field")?,
            })
        }
    };
    if !paths.is_empty() && image_object.is_some() {
        return Err("Cannot specify both image_json_path and image_object".into());
    }
    let pod_readiness = setting::<PodReadiness>(&a, 4)?;
    Ctx::get(eval).state.borrow_mut().cluster.k8s_kinds.push(K8sKindInfo {
        kind,
        api_version,
        name: String::new(),
        namespace: String::new(),
        image_json_paths: paths,
        image_object,
        pod_readiness,
        is_workload: true,
    });
    Ok(Value::new_none())
}

fn k8s_image_json_path<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let params = &["paths", "api_version?", "kind?", "name?", "namespace?"];
    let a = Args::unpack(name, params, args, eval.heap())?;
    let paths = image_json_paths(&a, 0)?;
    let (api_version, kind, obj_name, namespace) =
        (a.str_or(1, "")?, a.str_or(2, "")?, a.str_or(3, "")?, a.str_or(4, "")?);
    if kind.is_empty() && obj_name.is_empty() && namespace.is_empty() {
        return Err("at least one of kind, name, or namespace must be specified".into());
    }
    compile_ci(&kind)?;
    compile_ci(&api_version)?;
    Ctx::get(eval).state.borrow_mut().cluster.k8s_kinds.push(K8sKindInfo {
        kind,
        api_version,
        name: obj_name,
        namespace,
        image_json_paths: paths,
        image_object: None,
        pod_readiness: None,
        is_workload: false,
    });
    Ok(Value::new_none())
}

const CUSTOM_DEPLOY_PARAMS: &[&str] = &[
    "name",
    "apply_cmd",
    "delete_cmd",
    "deps",
    "image_selector?",
    "live_update?",
    "apply_dir?",
    "apply_env?",
    "apply_cmd_bat?",
    "delete_dir?",
    "delete_env?",
    "delete_cmd_bat?",
    "container_selector?",
    "image_deps?",
];

fn k8s_custom_deploy<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let ctx = Ctx::get(eval);
    ctx.require_result_mode(name)?;
    let a = Args::unpack(name, CUSTOM_DEPLOY_PARAMS, args, eval.heap())?;
    let res_name = a.req_str(0)?;
    if res_name.is_empty() {
        return Err(format!("{name}: name cannot be empty").into());
    }
    let apply_argv = cmd_argv(&a, 1)?;
    let delete_argv = cmd_argv(&a, 2)?;
    if apply_argv.is_empty() && a.str_or(8, "")?.is_empty() {
        return Err("k8s_custom_deploy: apply_cmd cannot be empty".into());
    }
    if delete_argv.is_empty() && a.str_or(11, "")?.is_empty() {
        return Err("k8s_custom_deploy: delete_cmd cannot be empty".into());
    }
    let deps = match a.get(3) {
        Some(v) if v.unpack_str().is_some() => vec![ctx.abs_path(v.unpack_str().unwrap_or_default())],
        _ => a.str_list(3)?.iter().map(|d| ctx.abs_path(d)).collect(),
    };
    let image_selector = a.str_or(4, "")?;
    let live_update = super::docker::live_update_steps(&a, 5)?;
    let dir = |i: usize| -> BResult<std::path::PathBuf> {
        Ok(match a.str(i)? {
            Some(d) if !d.is_empty() => ctx.abs_path(&d),
            _ => ctx.cwd(),
        })
    };
    let apply_cmd = Cmd { argv: apply_argv, dir: dir(6)?, env: a.str_map(7)? };
    let delete_cmd = Cmd { argv: delete_argv, dir: dir(9)?, env: a.str_map(10)? };
    let container_selector = a.str_or(12, "")?;
    if !live_update.is_empty() && image_selector.is_empty() && container_selector.is_empty() {
        return Err("k8s_custom_deploy: live_update requires image_selector or container_selector".into());
    }
    if !image_selector.is_empty() && !container_selector.is_empty() {
        return Err("k8s_custom_deploy: cannot specify both image_selector and container_selector".into());
    }
    let image_deps = a.str_list(13)?;
    let declared_at = ctx.call_site(eval);
    let live_update_image = (!live_update.is_empty()).then(|| {
        let r = format!("k8s_custom_deploy:{res_name}");
        ImageTarget {
            image_ref: r.clone(),
            normalized_ref: r.clone(),
            local_ref: r.clone(),
            cluster_ref: r,
            match_exact: true,
            match_in_env_vars: false,
            build: ImageBuild::None,
            image_deps: Vec::new(),
            live_update,
            entrypoint: None,
            container_args: None,
            live_update_only: true,
            declared_at: declared_at.clone(),
        }
    });
    let mut st = ctx.state.borrow_mut();
    if st.custom_deploys.iter().any(|c| c.name == res_name) {
        return Err(format!("k8s_resource named {} already exists", crate::go_compat::quote(&res_name)).into());
    }
    st.custom_deploys.push(CustomDeployDecl {
        name: res_name,
        target: K8sCustomDeployTarget {
            apply_cmd,
            delete_cmd,
            deps,
            image_selector,
            container_selector,
            image_deps,
            images: Vec::new(),
            port_forwards: Vec::new(),
            extra_pod_selectors: Vec::new(),
            pod_readiness: PodReadiness::Wait,
        },
        live_update_image,
        declared_at,
    });
    Ok(Value::new_none())
}

fn filter_yaml<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let params = &["yaml", "labels?", "name?", "namespace?", "kind?", "api_version?"];
    let a = Args::unpack(name, params, args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let labels: BTreeMap<String, String> = a.str_map(1)?.into_iter().collect();
    let re = |i: usize| -> BResult<Regex> { compile_ci(&a.str_or(i, "")?) };
    let (name_re, ns_re, kind_re, api_re) = (re(2)?, re(3)?, re(4)?, re(5)?);
    let objs = yaml_objects(ctx, a.get(0).unwrap_or_else(Value::new_none))?;
    let (mut matching, mut rest) = (Vec::new(), Vec::new());
    for o in objs {
        let sel = api_re.is_match(crate::k8s::api_version(&o))
            && kind_re.is_match(crate::k8s::kind(&o))
            && name_re.is_match(crate::k8s::name(&o))
            && ns_re.is_match(crate::k8s::namespace(&o));
        let obj_labels = crate::k8s::labels(&o);
        let lab = labels.iter().all(|(k, v)| obj_labels.get(k) == Some(v));
        if sel && lab { matching.push(o) } else { rest.push(o) }
    }
    let heap = eval.heap();
    let m = heap.alloc(Blob(crate::k8s::to_yaml_stream(&matching)));
    let r = heap.alloc(Blob(crate::k8s::to_yaml_stream(&rest)));
    Ok(heap.alloc(AllocTuple([m, r])))
}

fn workload_to_resource_function<'v>(
    name: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> R<'v> {
    let a = Args::unpack(name, &["func"], args, eval.heap())?;
    let f = a.get(0).unwrap_or_else(Value::new_none);
    if f.get_type() != "function" && f.get_type() != "builtin_function_or_method" {
        return Err(a.type_err(0, "callable"));
    }
    let ctx = Ctx::get(eval);
    eval.module().set(crate::assembly::WORKLOAD_NAMER_GLOBAL, f);
    let file = ctx.exec_stack.borrow().last().cloned().unwrap_or_else(|| ctx.main_path.clone());
    let at = ctx.call_site(eval);
    ctx.state.borrow_mut().workload_namer = Some((file, at));
    Ok(Value::new_none())
}

fn k8s_context<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    Args::unpack(name, &[], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    Ok(eval.heap().alloc(ctx.kube().context.as_str()))
}

fn k8s_namespace<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    Args::unpack(name, &[], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let ns = &ctx.kube().namespace;
    Ok(eval.heap().alloc(if ns.is_empty() { "default" } else { ns.as_str() }))
}

fn allow_k8s_contexts<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["contexts"], args, eval.heap())?;
    let contexts = a.str_or_list(0)?;
    let ctx = Ctx::get(eval);
    let mut st = ctx.state.borrow_mut();
    for c in contexts {
        if !st.cluster.allowed_k8s_contexts.contains(&c) {
            st.cluster.allowed_k8s_contexts.push(c);
        }
    }
    Ok(Value::new_none())
}

fn port_forward<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let params = &["local_port", "container_port?", "name?", "link_path?", "host?"];
    let a = Args::unpack(name, params, args, eval.heap())?;
    let port = |i: usize| -> BResult<u32> {
        let n = a.int(i)?.unwrap_or(0);
        u32::try_from(n).map_err(|_| a.err(i, &format!("invalid port {n}")))
    };
    let p = PortForward {
        local_port: port(0)?,
        container_port: port(1)?,
        name: a.str_or(2, "")?,
        link_path: a.str_or(3, "")?,
        host: a.str_or(4, "")?,
    };
    Ok(eval.heap().alloc(PortForwardValue(p)))
}
