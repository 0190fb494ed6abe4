//! `v1alpha1.*`: Tilt API objects (`cmd`, `config_map`, `extension`, `extension_repo`,
//! `file_watch`, `kubernetes_apply`, `kubernetes_discovery`, `ui_button`) and the spec helpers
//! that build their nested fields.
//!
//! Object constructors record an [`ApiObject`] (same name and content twice is fine, different
//! content is an error); `extension_repo` / `extension` also configure `load('ext://...')`.
//! Spec helpers return a typed record whose fields read back as attributes. Parameters follow
//! Tilt's generated unpackers: the Go order, `name, labels, annotations` first for objects,
//! everything optional for helpers. In `stilt ci`, a `cmd` that would start on its own and
//! `kubernetes_apply` fail with `stilt does not support <builtin> yet`; the rest is data.

use super::Ns;
use crate::args::{Args, sequence};
use crate::context::Ctx;
use crate::errors::BResult;
use crate::values::{Blob, SpecValue};
use serde_json::{Map, Value as Json};
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::dict::DictRef;
use starlark::values::{Value, ValueLike};
use std::collections::BTreeMap;
use stilt_core::manifest::ApiObject;

/// How a parameter is typed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum T {
    Str,
    Int,
    Bool,
    StrList,
    /// A dict kept as is (labels, annotations, data, match_labels).
    StrMap,
    /// A nested record: a dict (snake_case keys) or a spec helper's value.
    Rec,
    /// A list of records.
    RecList,
    /// A string or a list of strings (`yaml` takes blobs too).
    Any,
}

type P = (&'static str, T);

const META: [P; 2] = [("labels", T::StrMap), ("annotations", T::StrMap)];

const OBJECTS: &[(&str, &str, &[P])] = &[
    (
        "v1alpha1.cmd",
        "Cmd",
        &[
            ("args", T::StrList),
            ("dir", T::Str),
            ("env", T::StrList),
            ("readiness_probe", T::Rec),
            ("restart_on", T::Rec),
            ("start_on", T::Rec),
            ("disable_source", T::Rec),
        ],
    ),
    ("v1alpha1.config_map", "ConfigMap", &[("data", T::StrMap)]),
    ("v1alpha1.extension", "Extension", &[("repo_name", T::Str), ("repo_path", T::Str), ("args", T::StrList)]),
    (
        "v1alpha1.extension_repo",
        "ExtensionRepo",
        &[("url", T::Str), ("ref", T::Str), ("load_host", T::Str), ("git_subpath", T::Str)],
    ),
    (
        "v1alpha1.file_watch",
        "FileWatch",
        &[("watched_paths", T::StrList), ("ignores", T::RecList), ("disable_source", T::Rec)],
    ),
    (
        "v1alpha1.kubernetes_apply",
        "KubernetesApply",
        &[
            ("yaml", T::Any),
            ("image_maps", T::StrList),
            ("image_locators", T::RecList),
            ("timeout", T::Str),
            ("kubernetes_discovery_template_spec", T::Rec),
            ("port_forward_template_spec", T::Rec),
            ("pod_log_stream_template_spec", T::Rec),
            ("discovery_strategy", T::Str),
            ("disable_source", T::Rec),
            ("apply_cmd", T::Rec),
            ("restart_on", T::Rec),
            ("delete_cmd", T::Rec),
            ("cluster", T::Str),
            ("server_side_apply", T::Bool),
        ],
    ),
    (
        "v1alpha1.kubernetes_discovery",
        "KubernetesDiscovery",
        &[
            ("watches", T::RecList),
            ("extra_selectors", T::RecList),
            ("port_forward_template_spec", T::Rec),
            ("pod_log_stream_template_spec", T::Rec),
            ("cluster", T::Str),
        ],
    ),
    (
        "v1alpha1.ui_button",
        "UIButton",
        &[
            ("location", T::Rec),
            ("text", T::Str),
            ("icon_name", T::Str),
            ("icon_svg", T::Str),
            ("disabled", T::Bool),
            ("requires_confirmation", T::Bool),
            ("inputs", T::RecList),
        ],
    ),
];

const HELPERS: &[(&str, &[P])] = &[
    ("v1alpha1.config_map_disable_source", &[("name", T::Str), ("key", T::Str)]),
    ("v1alpha1.disable_source", &[("config_map", T::Rec), ("every_config_map", T::RecList)]),
    ("v1alpha1.exec_action", &[("command", T::StrList)]),
    (
        "v1alpha1.forward",
        &[("local_port", T::Int), ("container_port", T::Int), ("host", T::Str), ("name", T::Str), ("path", T::Str)],
    ),
    (
        "v1alpha1.http_get_action",
        &[("path", T::Str), ("port", T::Int), ("host", T::Str), ("scheme", T::Str), ("http_headers", T::RecList)],
    ),
    ("v1alpha1.http_header", &[("name", T::Str), ("value", T::Str)]),
    ("v1alpha1.handler", &[("exec", T::Rec), ("http_get", T::Rec), ("tcp_socket", T::Rec)]),
    ("v1alpha1.ignore_def", &[("base_path", T::Str), ("patterns", T::StrList)]),
    ("v1alpha1.kubernetes_apply_cmd", &[("args", T::StrList), ("dir", T::Str), ("env", T::StrList)]),
    ("v1alpha1.kubernetes_discovery_template_spec", &[("extra_selectors", T::RecList)]),
    ("v1alpha1.kubernetes_image_locator", &[("object_selector", T::Rec), ("path", T::Str), ("object", T::Rec)]),
    ("v1alpha1.kubernetes_image_object_descriptor", &[("repo_field", T::Str), ("tag_field", T::Str)]),
    ("v1alpha1.kubernetes_watch_ref", &[("uid", T::Str), ("namespace", T::Str), ("name", T::Str)]),
    ("v1alpha1.label_selector", &[("match_labels", T::StrMap), ("match_expressions", T::RecList)]),
    ("v1alpha1.label_selector_requirement", &[("key", T::Str), ("operator", T::Str), ("values", T::StrList)]),
    (
        "v1alpha1.object_selector",
        &[
            ("api_version_regexp", T::Str),
            ("kind_regexp", T::Str),
            ("name_regexp", T::Str),
            ("namespace_regexp", T::Str),
        ],
    ),
    (
        "v1alpha1.pod_log_stream_template_spec",
        &[("since_time", T::Str), ("only_containers", T::StrList), ("ignore_containers", T::StrList)],
    ),
    ("v1alpha1.port_forward_template_spec", &[("forwards", T::RecList)]),
    (
        "v1alpha1.probe",
        &[
            ("handler", T::Rec),
            ("initial_delay_seconds", T::Int),
            ("timeout_seconds", T::Int),
            ("period_seconds", T::Int),
            ("success_threshold", T::Int),
            ("failure_threshold", T::Int),
        ],
    ),
    ("v1alpha1.restart_on_spec", &[("file_watches", T::StrList), ("ui_buttons", T::StrList)]),
    ("v1alpha1.start_on_spec", &[("start_after", T::Str), ("ui_buttons", T::StrList)]),
    ("v1alpha1.tcp_socket_action", &[("port", T::Int), ("host", T::Str)]),
    ("v1alpha1.ui_bool_input_spec", &[("default_value", T::Bool), ("true_string", T::Str), ("false_string", T::Str)]),
    ("v1alpha1.ui_choice_input_spec", &[("choices", T::StrList)]),
    ("v1alpha1.ui_component_location", &[("component_id", T::Str), ("component_type", T::Str)]),
    ("v1alpha1.ui_hidden_input_spec", &[("value", T::Str)]),
    (
        "v1alpha1.ui_input_spec",
        &[
            ("name", T::Str),
            ("label", T::Str),
            ("text", T::Rec),
            ("bool", T::Rec),
            ("hidden", T::Rec),
            ("choice", T::Rec),
        ],
    ),
    ("v1alpha1.ui_text_input_spec", &[("default_value", T::Str), ("placeholder", T::Str)]),
];

/// Unpacker parameter names per builtin, built once.
fn param_list(builtin: &'static str, extra: &[P], object: bool) -> &'static [&'static str] {
    static LISTS: std::sync::OnceLock<std::sync::Mutex<BTreeMap<&'static str, &'static [&'static str]>>> =
        std::sync::OnceLock::new();
    let lists = LISTS.get_or_init(Default::default);
    let mut guard = lists.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    guard.entry(builtin).or_insert_with(|| {
        let mut names: Vec<&'static str> = Vec::new();
        if object {
            names.push("name");
            names.extend(META.iter().map(|p| leak_opt(p.0)));
        }
        names.extend(extra.iter().map(|p| leak_opt(p.0)));
        Box::leak(names.into_boxed_slice())
    })
}

fn leak_opt(name: &'static str) -> &'static str {
    Box::leak(format!("{name}?").into_boxed_str())
}

fn lookup(name: &str) -> Option<(&'static [P], Option<&'static str>, bool)> {
    if let Some((_, kind, ps)) = OBJECTS.iter().find(|(n, _, _)| *n == name) {
        return Some((ps, Some(kind), true));
    }
    HELPERS.iter().find(|(n, _)| *n == name).map(|(_, ps)| (*ps, None, false))
}

pub(crate) fn register(b: &mut GlobalsBuilder) {
    let mut ns = Ns::new(b, "v1alpha1");
    for (name, _, _) in OBJECTS {
        ns.func(name, object);
    }
    for (name, _) in HELPERS {
        ns.func(name, helper);
    }
    let v = ns.build(None);
    b.set("v1alpha1", v);
}

/// Converts a dict (snake_case keys, recursively) or a spec value to JSON.
fn record(v: Value<'_>) -> Result<Json, String> {
    if let Some(s) = v.downcast_ref::<SpecValue>() {
        return Ok(s.json.clone());
    }
    if let Some(d) = DictRef::from_value(v) {
        let mut m = Map::new();
        for (k, x) in d.iter() {
            let k = k.unpack_str().ok_or_else(|| format!("keys must be strings, got {}", k.get_type()))?;
            m.insert(crate::go_compat::snake_to_camel(k), record_field(x)?);
        }
        return Ok(Json::Object(m));
    }
    Err(format!("got {}, want dict", v.get_type()))
}

fn record_field(v: Value<'_>) -> Result<Json, String> {
    if v.downcast_ref::<SpecValue>().is_some() || DictRef::from_value(v).is_some() {
        return record(v);
    }
    if let Some(items) = sequence(v) {
        return items.into_iter().map(record_field).collect::<Result<Vec<_>, _>>().map(Json::Array);
    }
    super::data::from_starlark(v)
}

fn convert(args: &Args<'_>, idx: usize, ty: T) -> BResult<Option<Json>> {
    let Some(value) = args.get(idx).filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let json = match ty {
        T::Str => Json::String(value.unpack_str().ok_or_else(|| args.type_err(idx, "string"))?.to_string()),
        T::Int => Json::from(value.unpack_i32().ok_or_else(|| args.type_err(idx, "int"))?),
        T::Bool => Json::Bool(value.unpack_bool().ok_or_else(|| args.type_err(idx, "bool"))?),
        T::StrList => Json::from(args.str_list(idx)?),
        T::StrMap => {
            let map: BTreeMap<String, String> = args.str_map(idx)?.into_iter().collect();
            serde_json::to_value(map).unwrap_or_default()
        }
        T::Rec => record(value).map_err(|e| args.err(idx, &e))?,
        T::RecList => {
            let items = sequence(value).ok_or_else(|| args.type_err(idx, "list"))?;
            Json::Array(items.into_iter().map(record).collect::<Result<Vec<_>, _>>().map_err(|e| args.err(idx, &e))?)
        }
        T::Any => match value.downcast_ref::<Blob>() {
            Some(blob) => Json::String(blob.0.clone()),
            None => super::data::from_starlark(value).map_err(|e| args.err(idx, &e))?,
        },
    };
    Ok(Some(json))
}

fn spec_of(a: &Args<'_>, params: &[P], offset: usize) -> BResult<Map<String, Json>> {
    let mut spec = Map::new();
    for (j, (pname, t)) in params.iter().enumerate() {
        if let Some(v) = convert(a, j + offset, *t)? {
            spec.insert(crate::go_compat::snake_to_camel(pname), v);
        }
    }
    Ok(spec)
}

fn helper<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    let (params, _, _) = lookup(name).ok_or("unknown v1alpha1 helper")?;
    let a = Args::unpack(name, param_list(name, params, false), args, eval.heap())?;
    let spec = spec_of(&a, params, 0)?;
    Ok(eval.heap().alloc(SpecValue { type_name: name, json: Json::Object(spec) }))
}

fn object<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    let (params, kind, _) = lookup(name).ok_or("unknown v1alpha1 object")?;
    let kind = kind.unwrap_or_default();
    let a = Args::unpack(name, param_list(name, params, true), args, eval.heap())?;
    let obj_name = a.req_str(0)?;
    if obj_name.is_empty() {
        return Err(a.err(0, "name must not be empty"));
    }
    let labels: BTreeMap<String, String> = a.str_map(1)?.into_iter().collect();
    let annotations: BTreeMap<String, String> = a.str_map(2)?.into_iter().collect();
    let spec = spec_of(&a, params, 3)?;
    let ctx = Ctx::get(eval);
    let runs_itself = kind == "KubernetesApply"
        || (kind == "Cmd" && !spec.contains_key("startOn") && !spec.contains_key("restartOn"));
    if runs_itself {
        ctx.require_result_mode(name)?;
    }
    let get = |k: &str| spec.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    match kind {
        "ExtensionRepo" => {
            let url = get("url");
            if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with("file://")) {
                return Err(format!("{name}: URL must start with 'https://' or 'file://': {url}").into());
            }
            ctx.ext.borrow_mut().repos.insert(
                obj_name.clone(),
                crate::extensions::RepoSpec {
                    url,
                    git_ref: get("ref"),
                    load_host: get("loadHost"),
                    git_subpath: get("gitSubpath"),
                    mirror_of_default: false,
                },
            );
        }
        "Extension" => {
            let args = spec
                .get("args")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            ctx.ext.borrow_mut().exts.insert(
                obj_name.clone(),
                crate::extensions::ExtSpec { repo_name: get("repoName"), repo_path: get("repoPath"), args },
            );
        }
        _ => {}
    }
    let obj = ApiObject { kind: kind.to_string(), name: obj_name, labels, annotations, spec: Json::Object(spec) };
    let mut st = ctx.state.borrow_mut();
    match st.api_objects.iter().find(|o| o.kind == obj.kind && o.name == obj.name) {
        Some(existing) if *existing == obj => {}
        Some(_) => {
            return Err(format!(
                "{} {} registered twice with different contents",
                obj.kind,
                crate::go_compat::quote(&obj.name)
            )
            .into());
        }
        None => st.api_objects.push(obj),
    }
    Ok(Value::new_none())
}
