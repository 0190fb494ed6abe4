//! Builtins Tilt has and stilt does not implement yet. Each one exists, so a Tiltfile that
//! calls it fails at the call with `Error in <name>: stilt does not support <name> yet`
//! instead of an unknown-name error (or, worse, being ignored).

use super::{Ns, add};
use crate::errors::BResult;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::Value;

/// Top-level builtins not implemented yet.
pub(crate) const TOP_LEVEL: &[&str] = &[
    "docker_build",
    "custom_build",
    "default_registry",
    "k8s_yaml",
    "k8s_resource",
    "k8s_kind",
    "k8s_image_json_path",
    "k8s_custom_deploy",
    "filter_yaml",
    "workload_to_resource_function",
    "k8s_context",
    "k8s_namespace",
    "allow_k8s_contexts",
    "port_forward",
    "helm",
    "kustomize",
    "docker_compose",
    "dc_resource",
    "sync",
    "run",
    "fall_back_on",
    "initial_sync",
    "restart_container",
    "local_git_repo",
];

/// `v1alpha1.*` constructors and spec helpers.
const V1ALPHA1: &[&str] = &[
    "v1alpha1.cmd",
    "v1alpha1.config_map",
    "v1alpha1.extension",
    "v1alpha1.extension_repo",
    "v1alpha1.file_watch",
    "v1alpha1.kubernetes_apply",
    "v1alpha1.kubernetes_discovery",
    "v1alpha1.ui_button",
    "v1alpha1.config_map_disable_source",
    "v1alpha1.disable_source",
    "v1alpha1.exec_action",
    "v1alpha1.forward",
    "v1alpha1.http_get_action",
    "v1alpha1.http_header",
    "v1alpha1.handler",
    "v1alpha1.ignore_def",
    "v1alpha1.kubernetes_apply_cmd",
    "v1alpha1.kubernetes_discovery_template_spec",
    "v1alpha1.kubernetes_image_locator",
    "v1alpha1.kubernetes_image_object_descriptor",
    "v1alpha1.kubernetes_watch_ref",
    "v1alpha1.label_selector",
    "v1alpha1.label_selector_requirement",
    "v1alpha1.object_selector",
    "v1alpha1.pod_log_stream_template_spec",
    "v1alpha1.port_forward_template_spec",
    "v1alpha1.probe",
    "v1alpha1.restart_on_spec",
    "v1alpha1.start_on_spec",
    "v1alpha1.tcp_socket_action",
    "v1alpha1.ui_bool_input_spec",
    "v1alpha1.ui_choice_input_spec",
    "v1alpha1.ui_component_location",
    "v1alpha1.ui_hidden_input_spec",
    "v1alpha1.ui_input_spec",
    "v1alpha1.ui_text_input_spec",
];

fn not_supported<'v>(name: &'static str, _: &Arguments<'v, '_>, _: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    Err(format!("stilt does not support {name} yet").into())
}

pub(crate) fn register(b: &mut GlobalsBuilder) {
    for name in TOP_LEVEL {
        add(b, name, not_supported);
    }
    let mut ns = Ns::new(b, "v1alpha1");
    for name in V1ALPHA1 {
        ns.func(name, not_supported);
    }
    let v = ns.build(None);
    b.set("v1alpha1", v);
}
