//! The current kubeconfig context, for `k8s_context()`, `k8s_namespace()` and the
//! `allow_k8s_contexts` safety rule. Read from `$KUBECONFIG` (the first file naming a current
//! context) or `~/.kube/config`; no cluster is contacted.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What the current context says.
#[derive(Debug, Clone, Default)]
pub(crate) struct KubeContext {
    /// Context name (empty: no kubeconfig or no current context).
    pub(crate) context: String,
    /// Namespace of the context (empty = default).
    pub(crate) namespace: String,
    /// Name of the cluster the context points at.
    pub(crate) cluster: String,
}

fn files(env: &BTreeMap<String, String>) -> Vec<PathBuf> {
    match env.get("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => list.split(':').filter(|p| !p.is_empty()).map(PathBuf::from).collect(),
        None => env.get("HOME").map(|h| vec![PathBuf::from(h).join(".kube/config")]).unwrap_or_default(),
    }
}

/// Reads the current context (or `context_override`, from `--context`) from the kubeconfig
/// files `env` points at; `namespace_override` (`--namespace`) replaces the context's.
pub(crate) fn kube_config(
    env: &BTreeMap<String, String>,
    context_override: Option<&str>,
    namespace_override: Option<&str>,
) -> KubeContext {
    let docs: Vec<Value> = files(env)
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .filter_map(|t| serde_saphyr::from_str::<Value>(&t).ok())
        .collect();
    let Some(current) = context_override.filter(|c| !c.is_empty()).or_else(|| {
        docs.iter().find_map(|d| d.get("current-context").and_then(Value::as_str).filter(|s| !s.is_empty()))
    }) else {
        return KubeContext::default();
    };
    let ctx = docs.iter().find_map(|d| {
        d.get("contexts")?.as_array()?.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(current)).cloned()
    });
    let field = |k: &str| {
        ctx.as_ref().and_then(|c| c.pointer(&format!("/context/{k}"))).and_then(Value::as_str).unwrap_or("").to_string()
    };
    let namespace = namespace_override.filter(|n| !n.is_empty()).map_or_else(|| field("namespace"), str::to_string);
    KubeContext { context: current.to_string(), namespace, cluster: field("cluster") }
}
