//! What the Kubernetes tests need from `scripts/test-env`: its control plane (kube-apiserver,
//! controllers, scheduler, kwok nodes whose pods follow the `stilt.test/fault` label, see
//! docs/test-env.md), reached through `$KUBECONFIG`. They fail loudly, never skip, without it.
//!
//! Every test works in a namespace of its own (deleted when the test ends), and tests that must
//! not see the cluster's advertised registry use a ServiceAccount that may not read ConfigMaps
//! or Nodes — Tilt treats a forbidden lookup as "no registry" — instead of changing the shared
//! cluster.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const NOT_UP: &str = "the Kubernetes test environment is not up: run `scripts/test-env up` and \
                      `eval \"$(scripts/test-env env)\"` (scripts/test runs both)";

/// The admin context of the test cluster (its cluster is named like a kind cluster).
pub fn admin_context() -> String {
    std::env::var("KUBECONFIG").unwrap_or_else(|_| panic!("{NOT_UP} (KUBECONFIG is not set)"));
    std::env::var("STILT_TEST_KUBE_CONTEXT").unwrap_or_else(|_| panic!("{NOT_UP} (STILT_TEST_KUBE_CONTEXT is not set)"))
}

/// The test registry (`127.0.0.1:29500`), which the cluster also advertises (KEP-1755).
pub fn registry() -> String {
    std::env::var("STILT_TEST_REGISTRY").unwrap_or_else(|_| panic!("{NOT_UP} (STILT_TEST_REGISTRY is not set)"))
}

/// `kubectl --context <admin> ARGS`; panics unless it succeeds.
pub fn kubectl(args: &[&str]) -> String {
    let (ok, out, err) = kubectl_result(args);
    assert!(ok, "kubectl {args:?} failed: {err}");
    out
}

/// `kubectl --context <admin> ARGS`: (success, stdout, stderr).
pub fn kubectl_result(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("kubectl")
        .arg("--context")
        .arg(admin_context())
        .args(args)
        .output()
        .expect("kubectl runs (scripts/test-env installs it)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A namespace deleted (without waiting) when dropped.
pub struct Namespace(pub String);

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = kubectl_result(&["delete", "namespace", &self.0, "--wait=false", "--ignore-not-found"]);
    }
}

/// `apiVersion: v1, kind: Namespace` YAML for `name`, to put first in a test's YAML.
pub fn namespace_yaml(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n---\n")
}

const RESTRICTED: &str = r"
apiVersion: v1
kind: ServiceAccount
metadata: {name: stilt-it-restricted, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: stilt-it-restricted}
rules:
- apiGroups: ['', apps, batch]
  resources: [namespaces, pods, pods/log, services, secrets, serviceaccounts, deployments, replicasets,
              statefulsets, daemonsets, jobs, cronjobs]
  verbs: ['*']
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: stilt-it-restricted}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: stilt-it-restricted}
subjects:
- {kind: ServiceAccount, name: stilt-it-restricted, namespace: default}
";

/// A kubeconfig in `dir` whose current context `name` (cluster of the same name, so the name
/// decides the product: `kind-…`, `k3d-…`, anything else is remote) reaches the test cluster
/// as a ServiceAccount that cannot read ConfigMaps or Nodes: no registry is discovered.
pub fn restricted_kubeconfig(dir: &Path, name: &str) -> PathBuf {
    static TOKEN: OnceLock<String> = OnceLock::new();
    let token = TOKEN.get_or_init(|| {
        let file = std::env::temp_dir().join(format!("stilt-it-restricted-{}.yaml", std::process::id()));
        std::fs::write(&file, RESTRICTED).unwrap();
        kubectl(&["apply", "-f", file.to_str().unwrap()]);
        let _ = std::fs::remove_file(&file);
        kubectl(&["create", "token", "stilt-it-restricted", "-n", "default", "--duration=2h"]).trim().to_string()
    });
    let raw = kubectl(&["config", "view", "--raw", "--minify", "--flatten", "-o", "json"]);
    let view: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let cluster = &view["clusters"][0]["cluster"];
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": "restricted", "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "restricted"}}],
        "current-context": name,
    });
    let path = dir.join(format!("kubeconfig-{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    path
}

/// `GET http://<registry>/v2/<repo>/tags/list`: the tags the test registry holds for `repo`.
pub fn registry_tags(repo: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(registry()).expect("the test registry answers");
    write!(s, "GET /v2/{repo}/tags/list HTTP/1.0\r\nHost: {}\r\n\r\n", registry()).unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}
